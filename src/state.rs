//! What every request handler and background task shares: the bottom of the
//! application's layers (it knows the database, the index, the mailer and the settings,
//! and nothing that serves requests).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::config::Settings;
use crate::db::Db;
use crate::notify::mailer::Mailer;
use crate::password::Hasher;

/// What every request handler and background task shares.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub hasher: Arc<Hasher>,
    /// The search index (a `search::SearchIndex`); opened by the server (command-line
    /// tools that only touch the database leave it closed, so they can run beside a
    /// server). Held opaque so that this bottom layer knows nothing of the engine:
    /// `search::open` opens it, `search::index` and `search::opened` hand it out typed.
    pub search: Option<Arc<dyn std::any::Any + Send + Sync>>,
    /// Delivers email (see `email.transport`).
    pub mailer: Mailer,
    /// Wakes this process's worker when a change queued email.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Prometheus metrics, served at `/metrics` when `server.metrics` is on.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// Opens the database (migrating SQLite always, PostgreSQL when `auto_migrate` is on),
    /// creates the data folders and prepares the password hasher.
    pub fn prepare(settings: Settings) -> anyhow::Result<Self> {
        let db = Db::open(
            settings.database.url.expose(),
            settings.database.pool_size,
            Duration::from_secs(settings.database.connection_timeout_seconds),
        )?;
        if !db.target().is_postgres() || settings.database.auto_migrate {
            let applied = db.migrate()?;
            if !applied.is_empty() {
                tracing::info!(?applied, database = %db.target().redacted(), "migrations applied");
            }
        } else if db.has_pending_migrations()? {
            anyhow::bail!(
                "the PostgreSQL database {} has pending migrations: run `techex migrate` \
                 (or set database.auto_migrate = true)",
                db.target().redacted()
            );
        }
        std::fs::create_dir_all(&settings.search.index_dir).with_context(|| {
            format!(
                "cannot create the index folder {}",
                settings.search.index_dir.display()
            )
        })?;
        // Creates the mail folder for the file transport.
        let mailer = Mailer::from_settings(&settings.email).context("email transport")?;
        let hasher = Hasher::new(&settings.auth.argon2).map_err(anyhow::Error::msg)?;
        Ok(Self {
            settings: Arc::new(settings),
            db,
            hasher: Arc::new(hasher),
            search: None,
            mailer,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            metrics: Arc::new(crate::metrics::Metrics::new()),
        })
    }

    /// Tells this process's worker that email was queued (after the commit).
    pub fn wake_outbox(&self) {
        self.outbox_wake.notify_one();
    }
}
