//! Start-up: bind and build the server, start the indexer and the worker (the top layer).

pub mod health;
pub mod middleware;
pub mod openapi;
pub mod server;
pub mod worker;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use anyhow::Context;

use crate::config::Settings;
pub use crate::state::AppState;

/// A bound, ready-to-run server.
pub struct Application {
    addr: SocketAddr,
    server: actix_web::dev::Server,
    state: AppState,
    /// The worker running inside the server, and how to tell it to stop.
    worker: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    )>,
}

impl Application {
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::start(AppState::prepare(settings)?)
    }

    /// Opens the search index, starts its indexer, binds and builds the server.
    pub fn start(mut state: AppState) -> anyhow::Result<Self> {
        let index = crate::search::open(&mut state)?;
        index.set_result_cache(state.settings.search.result_cache_entries);
        index.spawn_indexer(Duration::from_millis(
            state.settings.search.refresh_interval_ms,
        ));
        let (stop_worker, stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = state.settings.worker.enabled.then(|| {
            tokio::spawn(worker::run_until(state.clone(), async {
                let _ = stopped.await;
            }))
        });
        let addr = format!(
            "{}:{}",
            state.settings.server.host, state.settings.server.port
        );
        let listener =
            TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
        let addr = listener.local_addr()?;
        let server = server::server(state.clone(), listener)?;
        Ok(Self {
            addr,
            server,
            state,
            worker: worker.map(|w| (stop_worker, w)),
        })
    }

    /// Stops the server from elsewhere.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests, then lets the worker
    /// finish the messages it is sending.
    pub async fn run(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some((stop, worker)) = self.worker {
            let _ = stop.send(());
            if let Err(e) = worker.await {
                tracing::warn!(error = %e, "the worker ended abnormally");
            }
        }
        served
    }
}
