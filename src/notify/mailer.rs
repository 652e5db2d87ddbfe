//! Delivery of one outbox row through lettre: SMTP (production), `.eml` files (the
//! embedded default) or memory (in-process tests).

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::outbox::OutboxRow;
use crate::config::{EmailSettings, EmailTransportKind, SmtpSecurity};

/// Why a delivery failed, which decides what happens next.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Will not work however often it is tried (a malformed address, a 5xx answer).
    #[error("permanent: {0}")]
    Permanent(String),
    /// May work later (server down, timeout, a 4xx answer).
    #[error("transient: {0}")]
    Transient(String),
}

/// A message the memory transport kept.
#[derive(Debug, Clone)]
pub struct Kept {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

#[derive(Clone)]
pub enum Mailer {
    /// An SMTP relay, and the most one message may take.
    Smtp(AsyncSmtpTransport<Tokio1Executor>, Duration),
    File(AsyncFileTransport<Tokio1Executor>),
    /// Every message kept, in delivery order; a watch channel, so that a test can await
    /// the next delivery instead of polling.
    Memory(Arc<watch::Sender<Vec<Kept>>>),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Smtp(..) => "Mailer::Smtp",
            Self::File(_) => "Mailer::File",
            Self::Memory(_) => "Mailer::Memory",
        })
    }
}

impl Mailer {
    /// The transport the configuration names. Nothing is connected yet: an SMTP server
    /// that is down only delays delivery.
    pub fn from_settings(s: &EmailSettings) -> anyhow::Result<Self> {
        Ok(match s.transport {
            EmailTransportKind::File => {
                std::fs::create_dir_all(&s.file_dir).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot create the mail folder {}: {e}",
                        s.file_dir.display()
                    )
                })?;
                Self::File(AsyncFileTransport::<Tokio1Executor>::new(&s.file_dir))
            }
            EmailTransportKind::Memory => Self::Memory(Arc::new(watch::Sender::new(Vec::new()))),
            EmailTransportKind::Smtp => {
                let smtp = &s.smtp;
                let builder = match smtp.security {
                    SmtpSecurity::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
                    }
                    SmtpSecurity::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?
                    }
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
                };
                let mut builder = builder
                    .port(smtp.port)
                    .timeout(Some(Duration::from_secs(smtp.timeout_seconds.max(1))));
                if !smtp.username.is_empty() {
                    builder = builder.credentials(Credentials::new(
                        smtp.username.clone(),
                        smtp.password.expose().to_owned(),
                    ));
                }
                let transport: AsyncSmtpTransport<Tokio1Executor> = builder.build();
                Self::Smtp(
                    transport,
                    Duration::from_secs(smtp.message_deadline_seconds.max(1)),
                )
            }
        })
    }

    /// What the memory transport kept (empty for the others).
    pub fn kept(&self) -> Vec<Kept> {
        match self {
            Self::Memory(m) => m.borrow().clone(),
            _ => Vec::new(),
        }
    }

    /// The memory transport's messages as a watch: `changed()` resolves when another
    /// arrives. `None` for the other transports.
    pub fn watch_kept(&self) -> Option<watch::Receiver<Vec<Kept>>> {
        match self {
            Self::Memory(m) => Some(m.subscribe()),
            _ => None,
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Self::Smtp(t, deadline) => match tokio::time::timeout(*deadline, t.send(message)).await
            {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
                Err(_) => Err(SendError::Transient(format!(
                    "the SMTP server did not finish within {} s",
                    deadline.as_secs()
                ))),
            },
            Self::File(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Transient(e.to_string())),
            Self::Memory(m) => {
                let to = message
                    .envelope()
                    .to()
                    .iter()
                    .map(|a| a.to_string())
                    .collect();
                let raw = message.formatted();
                m.send_modify(|kept| kept.push(Kept { to, raw }));
                Ok(())
            }
        }
    }
}

/// The `Message-ID` of a row: derived from its dedup key, so a message delivered again
/// after a crash carries the same id and receiving systems can drop the copy.
pub fn message_id(row: &OutboxRow) -> String {
    let digest = hex::encode(&Sha256::digest(row.dedup_key.as_bytes())[..16]);
    format!("<{digest}@techex.hanoi.vn>")
}

/// Builds the email of an outbox row. A malformed address is a permanent failure.
pub fn build(from: &str, row: &OutboxRow) -> Result<Message, SendError> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| SendError::Permanent(format!("email.from `{from}`: {e}")))?;
    let address = row
        .to_address
        .parse()
        .map_err(|e| SendError::Permanent(format!("recipient `{}`: {e}", row.to_address)))?;
    let to = Mailbox::new(row.to_name.clone(), address);
    let builder = Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(message_id(row)));
    let result = if row.body_html.is_empty() {
        builder.singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(row.body_text.clone()),
        )
    } else {
        builder.multipart(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            row.body_html.clone(),
        ))
    };
    result.map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
}
