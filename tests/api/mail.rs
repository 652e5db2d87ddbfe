//! Email as a test reads it: [`Mail`], one decoded message, and [`Inbox`], the messages the
//! server delivered through its in-process memory transport (`email.transport = "memory"`).
//! The SMTP sink (`crate::sink`) is for the tests of SMTP delivery itself.

use std::time::Duration;

use techex::notify::mailer::Kept;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::helpers::TestApp;

/// One received message, decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
    pub language: String,
}

impl Mail {
    /// Decodes a message as it went over the wire.
    pub fn parse(raw: &[u8]) -> Self {
        let m = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("a parsable message");
        let subject = m.subject().unwrap_or_default().to_owned();
        Mail {
            to: m
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_lowercase(),
            text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
            message_id: m.message_id().unwrap_or_default().to_owned(),
            language: if subject.starts_with("[Techex Hà Nội]") {
                "vi".into()
            } else {
                "en".into()
            },
            subject,
        }
    }

    /// The first link in the plain text that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        let start = self.text.find(prefix)?;
        let rest = &self.text[start..];
        let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }

    /// The `token` query parameter of the first link starting with `prefix`.
    pub fn token(&self, prefix: &str) -> Option<String> {
        let link = self.link(prefix)?;
        let url = url::Url::parse(&link).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    }
}

/// Settings that keep mail in the server's memory, with links to a known public address.
pub fn memory_mail(s: &mut techex::config::Settings) {
    s.email.transport = techex::config::EmailTransportKind::Memory;
    s.server.public_url = "https://techex.test".into();
}

/// What a server with the memory transport delivered (its background worker delivers, as
/// in production).
pub struct Inbox {
    kept: watch::Receiver<Vec<Kept>>,
}

impl Inbox {
    pub fn of(app: &TestApp) -> Self {
        Self {
            kept: app
                .state
                .mailer
                .watch_kept()
                .expect("the server uses the memory mail transport (mail::memory_mail)"),
        }
    }

    /// Every message delivered so far, in delivery order.
    pub fn messages(&self) -> Vec<Mail> {
        let kept = self.kept.borrow().clone();
        kept.iter().map(|k| Mail::parse(&k.raw)).collect()
    }

    /// Messages to `address`.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        let address = address.to_lowercase();
        self.messages()
            .into_iter()
            .filter(|m| m.to == address)
            .collect()
    }

    /// Awaits deliveries (with a deadline) until `found` answers something.
    async fn wait<T>(&self, what: &str, found: impl Fn(&Self) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut kept = self.kept.clone();
        loop {
            kept.borrow_and_update();
            if let Some(t) = found(self) {
                return t;
            }
            let arrived = tokio::time::timeout_at(deadline, kept.changed()).await;
            assert!(
                matches!(arrived, Ok(Ok(()))),
                "{what}; delivered: {:?}",
                self.messages()
                    .iter()
                    .map(|m| format!("{}: {}", m.to, m.subject))
                    .collect::<Vec<_>>()
            );
        }
    }

    /// Waits for a message to `address` whose subject contains `needle`.
    pub async fn wait_subject(&self, address: &str, needle: &str) -> Mail {
        self.wait(&format!("no message to {address} about {needle:?}"), |i| {
            i.to(address)
                .into_iter()
                .find(|m| m.subject.contains(needle))
        })
        .await
    }

    /// Waits for a message to `address` whose text contains `needle`.
    pub async fn wait_text(&self, address: &str, needle: &str) -> Mail {
        self.wait(&format!("no message to {address} saying {needle:?}"), |i| {
            i.to(address).into_iter().find(|m| m.text.contains(needle))
        })
        .await
    }
}
