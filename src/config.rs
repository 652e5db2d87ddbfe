//! Layered configuration: compiled-in defaults, `config/` files, an explicit file, then
//! `TECHEX__SECTION__KEY` environment variables. Passed around as a value, never a global.

use std::fmt;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

/// The defaults, identical to `config/default.toml`, compiled in so the binary runs anywhere.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// A configuration value that must never appear in logs, errors or `Debug` output.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that needs it (a connection, a login).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub search: SearchSettings,
    pub imports: ImportSettings,
    pub email: EmailSettings,
    pub auth: AuthSettings,
    pub deals: DealSettings,
    pub worker: WorkerSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub body_limit_bytes: usize,
    pub head_timeout_ms: u64,
    pub body_timeout_ms: u64,
    pub public_url: String,
    pub trust_forwarded_for: bool,
    pub trusted_proxies: Vec<String>,
    pub cors_origins: Vec<String>,
    pub server_timing: bool,
    pub metrics: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// May carry a password: use [`crate::db::DbTarget::redacted`] to show it.
    pub url: Secret,
    pub pool_size: u32,
    pub connection_timeout_seconds: u64,
    pub auto_migrate: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SearchSettings {
    pub index_dir: PathBuf,
    pub refresh_interval_ms: u64,
    pub result_cache_entries: usize,
    pub ready_max_lag: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ImportSettings {
    pub max_body_bytes: usize,
    pub body_timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransportKind {
    File,
    Smtp,
    /// Kept in the process (tests of the worker itself).
    Memory,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: Secret,
    pub timeout_seconds: u64,
    pub message_deadline_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OutboxSettings {
    pub poll_interval_ms: u64,
    pub batch_size: i64,
    pub max_attempts: i32,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    pub lease_seconds: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DealSettings {
    pub request_ttl_seconds: i64,
    pub reminder_before_seconds: i64,
    pub sweep_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkerSettings {
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EmailSettings {
    pub transport: EmailTransportKind,
    pub file_dir: PathBuf,
    pub from: String,
    pub smtp: SmtpSettings,
    pub outbox: OutboxSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ThrottleSettings {
    pub window_seconds: i64,
    pub max_failures_per_pair: i32,
    pub lockout_seconds: i64,
    pub max_failures_per_account: i32,
    pub max_failures_per_address: i32,
    pub max_delay_seconds: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub token_ttl_hours: i64,
    pub min_password_length: usize,
    pub verify_email_ttl_hours: i64,
    pub reset_ttl_minutes: i64,
    pub argon2: Argon2Settings,
    pub throttle: ThrottleSettings,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub filter: String,
    pub format: LogFormat,
}

impl Settings {
    /// Loads every layer: defaults, `config/default.toml`, `config/{TECHEX_ENV}.toml`, the
    /// explicit file (which must exist), then the environment.
    pub fn load(explicit: Option<&Path>) -> Result<Self, config::ConfigError> {
        let env_name = std::env::var("TECHEX_ENV").unwrap_or_else(|_| "development".into());
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .add_source(File::with_name("config/default").required(false))
            .add_source(File::with_name(&format!("config/{env_name}")).required(false));
        if let Some(path) = explicit {
            builder = builder.add_source(File::from(path).required(true));
        }
        builder
            .add_source(
                Environment::with_prefix("TECHEX")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()?
            .try_deserialize::<Settings>()?
            .validated()
    }

    /// Only the compiled-in defaults: what tests start from before their overrides.
    pub fn defaults() -> Result<Self, config::ConfigError> {
        Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .build()?
            .try_deserialize::<Settings>()?
            .validated()
    }

    fn validated(self) -> Result<Self, config::ConfigError> {
        let bad = |key: &str, why: &str| config::ConfigError::Message(format!("{key}: {why}"));
        if self.database.pool_size == 0 {
            return Err(bad("database.pool_size", "must be at least 1"));
        }
        if self.server.body_limit_bytes < 1024 {
            return Err(bad("server.body_limit_bytes", "must be at least 1024"));
        }
        if self.auth.min_password_length < 8 {
            return Err(bad("auth.min_password_length", "must be at least 8"));
        }
        if self.auth.token_ttl_hours <= 0 {
            return Err(bad("auth.token_ttl_hours", "must be positive"));
        }
        let t = &self.auth.throttle;
        if t.window_seconds <= 0
            || t.lockout_seconds <= 0
            || t.max_failures_per_account <= 0
            || t.max_failures_per_address <= 0
        {
            return Err(bad("auth.throttle", "every value must be positive"));
        }
        if argon2::Params::new(
            self.auth.argon2.memory_kib,
            self.auth.argon2.iterations,
            self.auth.argon2.parallelism,
            None,
        )
        .is_err()
        {
            return Err(bad("auth.argon2", "parameters out of Argon2's range"));
        }
        if self.auth.verify_email_ttl_hours <= 0 || self.auth.reset_ttl_minutes <= 0 {
            return Err(bad(
                "auth.verify_email_ttl_hours / auth.reset_ttl_minutes",
                "must be positive",
            ));
        }
        let o = &self.email.outbox;
        if o.batch_size <= 0 || o.max_attempts <= 0 || o.lease_seconds <= 0 {
            return Err(bad(
                "email.outbox",
                "batch_size, max_attempts and lease_seconds must be positive",
            ));
        }
        if o.backoff_base_ms == 0 || o.backoff_max_ms < o.backoff_base_ms {
            return Err(bad(
                "email.outbox",
                "backoff_base_ms must be positive and at most backoff_max_ms",
            ));
        }
        if self.email.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(bad(
                "email.from",
                "is not an email address with an optional name",
            ));
        }
        let d = &self.deals;
        if d.request_ttl_seconds <= 0
            || d.reminder_before_seconds < 0
            || d.reminder_before_seconds >= d.request_ttl_seconds
        {
            return Err(bad(
                "deals",
                "request_ttl_seconds must be positive and reminder_before_seconds below it",
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_match_the_issue() {
        let s = Settings::defaults().unwrap();
        assert_eq!(s.server.host, "127.0.0.1");
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.server.body_limit_bytes, 1024 * 1024);
        assert_eq!(s.database.url.expose(), "data/techex.db");
        assert_eq!(s.search.index_dir, PathBuf::from("search-index"));
        assert_eq!(s.email.transport, EmailTransportKind::File);
        assert_eq!(s.email.file_dir, PathBuf::from("data/mail"));
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let mut settings = Settings::defaults().unwrap();
        settings.email.smtp.password = Secret::new("hunter2-very-secret");
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
