//! The worker: delivers due outbox messages and runs the deal sweeps. It runs inside
//! `serve` (unless `worker.enabled = false`) and alone as `techex worker`; any number may
//! run against one PostgreSQL database.

use std::time::{Duration, Instant};

use crate::notify::worker::deliver_batch;
use crate::state::AppState;

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
        let until_sweep = last_sweep
            .map(|t| sweep_every.saturating_sub(t.elapsed()))
            .unwrap_or_default();
        tokio::select! {
            _ = state.outbox_wake.notified() => {}
            _ = tokio::time::sleep(poll.min(until_sweep.max(Duration::from_millis(10)))) => {}
        }
    }
}
