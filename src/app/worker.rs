//! The worker: delivers due outbox messages and runs the deal sweeps. It runs inside
//! `serve` (unless `worker.enabled = false`) and alone as `techex worker`; any number may
//! run against one PostgreSQL database.

use std::time::Duration;

use crate::notify::worker::deliver_batch;
use crate::state::AppState;

/// Runs until the process ends: deliveries whenever woken or every poll interval, and,
/// beside them, deal sweeps every sweep interval (a slow mail server never holds up the
/// reminders and expiries).
pub async fn run(state: AppState) {
    tracing::info!(mailer = ?state.mailer, "worker started");
    tokio::join!(deliveries(state.clone()), sweeps(state));
}

async fn sweeps(state: AppState) {
    let every = Duration::from_millis(state.settings.deals.sweep_interval_ms.max(10));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = crate::deals::sweep(&state).await {
            tracing::warn!(error = %e, "deal sweep failed");
        }
    }
}

async fn deliveries(state: AppState) {
    let mailer = state.mailer.clone();
    let poll = Duration::from_millis(state.settings.email.outbox.poll_interval_ms.max(10));
    let batch = usize::try_from(state.settings.email.outbox.batch_size).unwrap_or(1);
    loop {
        let claimed = match deliver_batch(&state.db, &state.settings, &mailer).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "outbox pass failed");
                0
            }
        };
        if claimed >= batch {
            continue;
        }
        tokio::select! {
            _ = state.outbox_wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}
