//! The worker: delivers due outbox messages and runs the deal sweeps. It runs inside
//! `serve` (unless `worker.enabled = false`) and alone as `techex worker`; any number may
//! run against one PostgreSQL database.

use std::time::Duration;

use tokio::sync::watch;

use crate::notify::worker::deliver_batch;
use crate::state::AppState;

/// Runs until the process ends: deliveries whenever woken or every poll interval, and,
/// beside them, deal sweeps every sweep interval (a slow mail server never holds up the
/// reminders and expiries).
pub async fn run(state: AppState) {
    run_until(state, std::future::pending()).await;
}

/// `run` until `stop` resolves; then nothing more is claimed, the messages being sent
/// finish (each bounded by `email.smtp.message_deadline_seconds`) and are recorded, so a
/// deploy neither drops a message mid-send nor leaves it leased until the lease expires.
pub async fn run_until(state: AppState, stop: impl std::future::Future<Output = ()>) {
    tracing::info!(mailer = ?state.mailer, "worker started");
    let (tx, rx) = watch::channel(false);
    let work = async {
        tokio::join!(
            deliveries(state.clone(), rx.clone()),
            sweeps(state.clone(), rx)
        );
    };
    tokio::pin!(work);
    tokio::select! {
        _ = &mut work => {}
        _ = stop => {
            tracing::info!("worker stopping: finishing the messages in hand");
            let _ = tx.send(true);
            work.await;
            tracing::info!("worker stopped");
        }
    }
}

async fn sweeps(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_millis(state.settings.deals.sweep_interval_ms.max(10));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        if let Err(e) = crate::deals::sweep(&state).await {
            tracing::warn!(error = %e, "deal sweep failed");
        }
    }
}

async fn deliveries(state: AppState, mut stop: watch::Receiver<bool>) {
    let mailer = state.mailer.clone();
    let poll = Duration::from_millis(state.settings.email.outbox.poll_interval_ms.max(10));
    let batch = usize::try_from(state.settings.email.outbox.batch_size).unwrap_or(1);
    while !*stop.borrow() {
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
            _ = stop.changed() => {}
        }
    }
}
