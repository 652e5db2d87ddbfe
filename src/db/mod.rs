//! SQLite and PostgreSQL behind one connection type.
//!
//! Queries are written once against [`DbConn`] (diesel's `MultiConnection`). What the common
//! subset cannot express (`RETURNING`, upserts, row locks, `BEGIN IMMEDIATE`) goes through
//! [`per_backend!`], the one visible place where backend-specific code lives.

pub mod schema;
pub mod text_enum;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{
    AnsiTransactionManager, Instrumentation, InstrumentationEvent, SimpleConnection,
    TransactionManager,
};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// What the database layer reports to its callers when it cannot run their work (their
/// own errors pass through unchanged).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection could be had")]
    Unavailable(#[source] r2d2::PoolError),
    #[error("the database task did not finish")]
    Task(#[source] tokio::task::JoinError),
}

/// One connection to whichever backend the configuration names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs `$body` with `$c` bound to the inner connection of either backend; the body is
/// type-checked once per backend, so it may use features only the concrete backends have.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which backend a `database.url` names.
#[derive(Clone, PartialEq, Eq)]
pub enum DbTarget {
    Sqlite(PathBuf),
    Postgres(String),
}

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("database.url: {0}")]
    BadUrl(String),
    #[error("cannot create the folder for the SQLite database {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
    #[error("migrations failed on {target}: {message}")]
    Migrate { target: String, message: String },
}

impl DbTarget {
    /// `postgres://…` / `postgresql://…` is PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a
    /// plain path is SQLite. Anything else with a scheme is refused rather than guessed.
    pub fn parse(url: &str) -> Result<Self, DbSetupError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(DbSetupError::BadUrl("is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = if let Some(rest) = url.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            rest
        } else if let Some((scheme, _)) = url.split_once("://") {
            return Err(DbSetupError::BadUrl(format!(
                "unsupported scheme `{scheme}`: use postgres://… or a SQLite file path"
            )));
        } else {
            url
        };
        if path.is_empty() || path == ":memory:" {
            return Err(DbSetupError::BadUrl(
                "SQLite needs a file path (an in-memory database cannot be shared by the pool)"
                    .into(),
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Printable form: the PostgreSQL password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite:{}", path.display()),
            Self::Postgres(raw) => match url::Url::parse(raw) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    u.to_string()
                }
                Err(_) => "postgres://(unparsable url)".into(),
            },
        }
    }

    fn connect(&self) -> Result<DbConn, diesel::ConnectionError> {
        match self {
            Self::Postgres(url) => {
                let mut conn = diesel::PgConnection::establish(url)?;
                conn.set_instrumentation(CountQueries);
                Ok(DbConn::Postgres(conn))
            }
            Self::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                conn.set_instrumentation(CountQueries);
                // Every pooled connection: integrity, concurrency and a wait instead of
                // an immediate "database is locked".
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

impl std::fmt::Debug for DbTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

thread_local! {
    /// Statements started on this thread's connections.
    static QUERIES: Cell<u64> = const { Cell::new(0) };
}

/// Counts the statements every connection runs, per thread: `Db::run_as` reads the count
/// around a piece of work (which runs on one blocking thread with one connection).
struct CountQueries;

impl Instrumentation for CountQueries {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            QUERIES.with(|q| q.set(q.get() + 1));
        }
    }
}

/// The database work done for one request: statements and the time spent in the work
/// that ran them. Filled by every `Db::run_as` awaited inside `DbUsage::measure`.
#[derive(Debug, Default)]
pub struct DbUsage {
    queries: AtomicU64,
    micros: AtomicU64,
}

tokio::task_local! {
    static USAGE: Arc<DbUsage>;
}

impl DbUsage {
    /// Runs `fut` (a request's handling), counting the database work it awaits.
    pub async fn measure<F: std::future::Future>(self: Arc<Self>, fut: F) -> F::Output {
        USAGE.scope(self, fut).await
    }

    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    pub fn millis(&self) -> f64 {
        self.micros.load(Ordering::Relaxed) as f64 / 1000.0
    }
}

/// r2d2 manager that opens the backend chosen from the URL, so a bad URL fails fast with
/// the backend's own message instead of the derive's try-each-backend guess.
#[derive(Debug, Clone)]
pub struct ConnManager {
    target: DbTarget,
}

impl ManageConnection for ConnManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        self.target.connect().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

pub type Pool = r2d2::Pool<ConnManager>;
pub type PooledConn = r2d2::PooledConnection<ConnManager>;

/// The pool plus what was learnt while opening it.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    target: DbTarget,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("target", &self.target).finish()
    }
}

impl Db {
    /// Opens the pool. One connection is made up front so that a wrong URL, host or
    /// password is reported at once with the real cause.
    pub fn open(
        url: &str,
        pool_size: u32,
        connection_timeout: Duration,
    ) -> Result<Self, DbSetupError> {
        let target = DbTarget::parse(url)?;
        if let DbTarget::Sqlite(path) = &target {
            ensure_parent(path)?;
        }
        let manager = ConnManager {
            target: target.clone(),
        };
        let first = manager.connect().map_err(|e| DbSetupError::Connect {
            target: target.redacted(),
            message: e.to_string(),
        })?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(0))
            .connection_timeout(connection_timeout)
            .build_unchecked(manager);
        drop(first);
        Ok(Self { pool, target })
    }

    pub fn target(&self) -> &DbTarget {
        &self.target
    }

    /// A pooled connection for synchronous callers (command-line tools, workers).
    pub fn conn(&self) -> Result<PooledConn, DbError> {
        self.pool.get().map_err(DbError::Unavailable)
    }

    /// Runs blocking database work on the blocking thread pool, never on an async thread.
    /// The work's error type is the caller's, provided it can say that the database was
    /// out of reach. (`Db::run`, in `http::error`, is this with the API's error.)
    pub async fn run_as<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        // What the work logs stays in the caller's span (a request's id, say).
        let span = tracing::Span::current();
        let usage = USAGE.try_with(Arc::clone).ok();
        tokio::task::spawn_blocking(move || {
            let _in = span.enter();
            let mut conn = pool.get().map_err(DbError::Unavailable)?;
            let (before, started) = (QUERIES.with(Cell::get), Instant::now());
            let out = work(&mut conn);
            if let Some(usage) = usage {
                let ran = QUERIES.with(Cell::get) - before;
                usage.queries.fetch_add(ran, Ordering::Relaxed);
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                usage.micros.fetch_add(micros, Ordering::Relaxed);
            }
            out
        })
        .await
        .map_err(DbError::Task)?
    }

    /// Applies pending migrations; on PostgreSQL under an advisory lock, so several nodes
    /// starting together migrate once.
    pub fn migrate(&self) -> Result<Vec<String>, DbSetupError> {
        let mut conn = self.pool.get().map_err(|e| DbSetupError::Connect {
            target: self.target.redacted(),
            message: e.to_string(),
        })?;
        run_migrations(&mut conn).map_err(|message| DbSetupError::Migrate {
            target: self.target.redacted(),
            message,
        })
    }
}

impl Db {
    /// True when migrations exist that the database has not applied.
    pub fn has_pending_migrations(&self) -> Result<bool, DbSetupError> {
        let mut conn = self.pool.get().map_err(|e| DbSetupError::Connect {
            target: self.target.redacted(),
            message: e.to_string(),
        })?;
        let result = match &mut *conn {
            DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
            DbConn::Postgres(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        };
        result.map_err(|e| DbSetupError::Migrate {
            target: self.target.redacted(),
            message: e.to_string(),
        })
    }
}

fn ensure_parent(path: &Path) -> Result<(), DbSetupError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|source| DbSetupError::Folder {
                path: parent.to_path_buf(),
                source,
            })
        }
        _ => Ok(()),
    }
}

const MIGRATION_LOCK_KEY: i64 = 0x7465_6368_6578; // "techex"

/// Runs pending migrations on one connection and names the versions applied.
pub fn run_migrations(conn: &mut DbConn) -> Result<Vec<String>, String> {
    let versions = match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|v| v.to_string())
            .collect(),
        DbConn::Postgres(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(c)
                .map_err(|e| e.to_string())?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.into_iter().map(|v| v.to_string()).collect::<Vec<_>>())
                .map_err(|e| e.to_string());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(c)
                .map_err(|e| e.to_string())?;
            result?
        }
    };
    Ok(versions)
}

/// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock
/// up front: a deferred transaction that reads and then writes can fail with "database is
/// locked" without waiting, whatever the busy timeout. Nested calls become savepoints.
pub fn write_tx<T, E, F>(conn: &mut DbConn, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let outermost = matches!(
        <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth(),
        Ok(None)
    );
    match conn {
        DbConn::Sqlite(c) if outermost => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        _ => <DbConn as Connection>::TransactionManager::begin_transaction(conn)?,
    }
    match work(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            <DbConn as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Writes a consistent copy of the SQLite database at `source` to `to` while the exchange
/// keeps running (`VACUUM INTO`: one read transaction, so the copy is a single moment,
/// compacted, in one file), then checks the copy's integrity. Refuses to overwrite `to`. Answers the copy's size in bytes.
pub fn backup_sqlite(source: &Path, to: &Path) -> Result<u64, String> {
    use diesel::sql_types::Text;
    if to.exists() {
        return Err(format!(
            "{} exists already: choose a new file",
            to.display()
        ));
    }
    if let Some(folder) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !folder.is_dir() {
            return Err(format!("there is no folder {}", folder.display()));
        }
    }
    let source_url = source.to_string_lossy().into_owned();
    let mut conn = SqliteConnection::establish(&source_url)
        .map_err(|e| format!("cannot open {}: {e}", source.display()))?;
    // The exchange keeps writing meanwhile: wait for its locks rather than fail.
    diesel::sql_query("PRAGMA busy_timeout = 10000")
        .execute(&mut conn)
        .map_err(|e| format!("cannot prepare {}: {e}", source.display()))?;
    let target = to.to_string_lossy().into_owned();
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(&target)
        .execute(&mut conn)
        .map_err(|e| format!("backup to {} failed: {e}", to.display()))?;
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = Text)]
        integrity_check: String,
    }
    let mut copy = SqliteConnection::establish(&target)
        .map_err(|e| format!("cannot open the copy {}: {e}", to.display()))?;
    let checks: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut copy)
        .map_err(|e| format!("cannot check the copy {}: {e}", to.display()))?;
    if checks.len() != 1 || checks[0].integrity_check != "ok" {
        let found: Vec<&str> = checks.iter().map(|c| c.integrity_check.as_str()).collect();
        return Err(format!(
            "the copy {} is damaged: {}",
            to.display(),
            found.join("; ")
        ));
    }
    std::fs::metadata(to)
        .map(|m| m.len())
        .map_err(|e| format!("cannot read the copy {}: {e}", to.display()))
}

/// Timestamps are stored in UTC at microsecond precision, the finest both backends keep.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

/// A stored timestamp (UTC, without zone) as the API shows it.
pub fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_naive_utc_and_offset(t, chrono::Utc)
}

/// True when the error is a unique-constraint violation.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_schemes_choose_the_backend() {
        assert_eq!(
            DbTarget::parse("data/x.db").unwrap(),
            DbTarget::Sqlite("data/x.db".into())
        );
        assert_eq!(
            DbTarget::parse("sqlite:///tmp/x.db").unwrap(),
            DbTarget::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            DbTarget::parse("sqlite:rel.db").unwrap(),
            DbTarget::Sqlite("rel.db".into())
        );
        assert!(DbTarget::parse("postgres://u:p@h/db")
            .unwrap()
            .is_postgres());
        assert!(DbTarget::parse("postgresql://h/db").unwrap().is_postgres());
        assert!(DbTarget::parse("mysql://h/db").is_err());
        assert!(DbTarget::parse("  ").is_err());
        assert!(DbTarget::parse(":memory:").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        let t = DbTarget::parse("postgres://techex:s3cr3t@db.local:5432/techex").unwrap();
        let shown = t.redacted();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("techex:***@db.local:5432/techex"), "{shown}");
        assert!(!format!("{t:?}").contains("s3cr3t"));
    }
}
