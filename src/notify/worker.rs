//! Delivery of due outbox messages, for the worker (`app::worker`, which also runs the
//! deal sweeps): claims a batch under a lease, sends each, records the outcome.

use rand::Rng;

use super::mailer::{self, Mailer, SendError};
use super::outbox::{self, OutboxRow};
use crate::config::OutboxSettings;
use crate::config::Settings;
use crate::db;
use crate::db::Db;
use crate::http::error::ApiError;

/// When the `attempts`-th failed attempt is retried: exponential from the base, capped,
/// with up to 10 % jitter so that workers do not retry in lockstep.
pub fn backoff(cfg: &OutboxSettings, attempts: i32) -> chrono::Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let ms = cfg
        .backoff_base_ms
        .saturating_mul(1u64 << exp)
        .min(cfg.backoff_max_ms);
    let jitter = rand::thread_rng().gen_range(0..=ms / 10);
    chrono::Duration::milliseconds(i64::try_from(ms + jitter).unwrap_or(i64::MAX / 2))
}

/// What happened to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Retry,
    Dead,
}

async fn deliver_one(
    db: &Db,
    settings: &Settings,
    mailer: &Mailer,
    row: OutboxRow,
) -> Result<Outcome, ApiError> {
    let cfg = settings.email.outbox.clone();
    let result = match mailer::build(&settings.email.from, &row) {
        Ok(message) => mailer.send(message).await,
        Err(e) => Err(e),
    };
    let attempts = row.attempts + 1;
    let (outcome, error, retry_at) = match result {
        Ok(()) => (Outcome::Sent, None, None),
        Err(SendError::Permanent(e)) => (Outcome::Dead, Some(e), None),
        Err(SendError::Transient(e)) if attempts >= cfg.max_attempts => {
            (Outcome::Dead, Some(e), None)
        }
        Err(SendError::Transient(e)) => (
            Outcome::Retry,
            Some(e),
            Some(db::now() + backoff(&cfg, attempts)),
        ),
    };
    match outcome {
        Outcome::Sent => tracing::info!(
            outbox_id = row.id, template = %row.template, attempts, "email sent"
        ),
        Outcome::Retry => tracing::warn!(
            outbox_id = row.id, template = %row.template, attempts,
            error = error.as_deref().unwrap_or_default(), "email delivery failed; will retry"
        ),
        Outcome::Dead => tracing::error!(
            outbox_id = row.id, template = %row.template, attempts,
            error = error.as_deref().unwrap_or_default(), "email delivery failed for good"
        ),
    }
    db.run(move |conn| {
        match &error {
            None => outbox::mark_sent(conn, &row, db::now())?,
            Some(e) => outbox::mark_failed(conn, &row, e, retry_at)?,
        };
        Ok(())
    })
    .await?;
    Ok(outcome)
}

/// Claims one batch of due messages and delivers them; answers how many were claimed.
pub async fn deliver_batch(
    db: &Db,
    settings: &Settings,
    mailer: &Mailer,
) -> Result<usize, ApiError> {
    let cfg = settings.email.outbox.clone();
    let rows = db
        .run(move |conn| {
            Ok(outbox::claim(
                conn,
                db::now(),
                chrono::Duration::seconds(cfg.lease_seconds),
                cfg.batch_size,
            )?)
        })
        .await?;
    let n = rows.len();
    let sends = rows
        .into_iter()
        .map(|row| deliver_one(db, settings, mailer, row));
    for result in futures_util::future::join_all(sends).await {
        result?;
    }
    Ok(n)
}
