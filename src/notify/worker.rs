//! The worker: delivers due outbox messages and runs the deal sweeps. It runs inside
//! `serve` (unless `worker.enabled = false`) and alone as `techex worker`; any number may
//! run against one PostgreSQL database.

use std::time::{Duration, Instant};

use rand::Rng;

use super::mailer::{self, Mailer, SendError};
use super::outbox::{self, OutboxRow};
use crate::config::OutboxSettings;
use crate::db;
use crate::http::error::ApiError;
use crate::state::AppState;

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
    state: &AppState,
    mailer: &Mailer,
    row: OutboxRow,
) -> Result<Outcome, ApiError> {
    let cfg = state.settings.email.outbox.clone();
    let result = match mailer::build(&state.settings.email.from, &row) {
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
    state
        .db
        .run(move |conn| {
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
pub async fn deliver_batch(state: &AppState, mailer: &Mailer) -> Result<usize, ApiError> {
    let cfg = state.settings.email.outbox.clone();
    let rows = state
        .db
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
    let sends = rows.into_iter().map(|row| deliver_one(state, mailer, row));
    for result in futures_util::future::join_all(sends).await {
        result?;
    }
    Ok(n)
}

/// Runs until the process ends: deliveries whenever woken or every poll interval, deal
/// sweeps every sweep interval.
pub async fn run(state: AppState) {
    let mailer = state.mailer.clone();
    let poll = Duration::from_millis(state.settings.email.outbox.poll_interval_ms.max(10));
    let sweep_every = Duration::from_millis(state.settings.deals.sweep_interval_ms.max(10));
    let batch = usize::try_from(state.settings.email.outbox.batch_size).unwrap_or(1);
    let mut last_sweep: Option<Instant> = None;
    tracing::info!(?mailer, "worker started");
    loop {
        if last_sweep.is_none_or(|t| t.elapsed() >= sweep_every) {
            if let Err(e) = crate::deals::sweep(&state).await {
                tracing::warn!(error = %e, "deal sweep failed");
            }
            last_sweep = Some(Instant::now());
        }
        let claimed = match deliver_batch(&state, &mailer).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "outbox pass failed");
                0
            }
        };
        if claimed >= batch {
            continue;
        }
        let until_sweep = last_sweep
            .map(|t| sweep_every.saturating_sub(t.elapsed()))
            .unwrap_or_default();
        tokio::select! {
            _ = state.outbox_wake.notified() => {}
            _ = tokio::time::sleep(poll.min(until_sweep.max(Duration::from_millis(10)))) => {}
        }
    }
}
