//! The `techex` command: the server and its operator tools.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use techex::accounts::model::Role;
use techex::app::{AppState, Application};
use techex::config::Settings;
use techex::db::Db;

#[derive(Debug, Parser)]
#[command(
    name = "techex",
    version,
    about = "Hanoi Technology Exchange (Sàn giao dịch công nghệ Hà Nội)"
)]
struct Cli {
    /// Extra configuration file, applied over config/default.toml and config/{TECHEX_ENV}.toml.
    #[arg(long, global = true, env = "TECHEX_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API (SQLite under data/ and email files under data/mail/ by default).
    Serve {
        /// Load the demo data set (and demo accounts) into an empty database first.
        #[arg(long)]
        demo: bool,
    },
    /// Import a JSON Lines file in the interchange format; imported listings are published.
    Import {
        /// The file to read (`-` for standard input).
        file: PathBuf,
    },
    /// Export published listings as JSON Lines (open data: no private contact details).
    Export {
        /// all, organization, technology, need or expert.
        #[arg(long, default_value = "all")]
        kind: String,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Apply pending database migrations (needed on PostgreSQL; SQLite migrates itself).
    Migrate,
    /// Copy the embedded SQLite database to FILE while the exchange runs (a consistent,
    /// checked snapshot; restore by putting it in place of the database with the exchange
    /// stopped). For PostgreSQL use pg_dump (see the README).
    Backup {
        /// The new file to write (never overwritten).
        file: PathBuf,
    },
    /// Rebuild this process's search index from the database (stop `serve` on this
    /// index folder first; `serve` also rebuilds by itself when the index format changes).
    Reindex,
    /// Run only the worker: email delivery from the outbox, deal reminders and expiry
    /// (beside `serve` processes started with worker.enabled = false, or on their own).
    Worker,
    /// Show the email outbox: pending, sent and dead counts, and the dead messages.
    Outbox {
        /// Put dead messages back in the queue: all of them, or the one with this id.
        #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "all")]
        retry_dead: Option<String>,
        /// How many dead messages to list.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Operator tools for accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an account with a platform role (or give an existing account that role).
    Create {
        #[arg(long)]
        email: String,
        /// The password (or set TECHEX_ADMIN_PASSWORD to keep it out of the process list).
        #[arg(long, env = "TECHEX_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Display name; defaults to the part of the email before the @.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Moderator,
}

async fn import_file(
    state: &AppState,
    file: &std::path::Path,
) -> anyhow::Result<techex::imports::ImportReport> {
    use std::io::BufReader;
    let (reader, size): (Box<dyn std::io::BufRead + Send>, u64) = if file.as_os_str() == "-" {
        (Box::new(BufReader::new(std::io::stdin())), 0)
    } else {
        let f =
            std::fs::File::open(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(BufReader::with_capacity(1 << 20, f)), size)
    };
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let db = state.db.clone();
    let progress = bar.clone();
    let report = tokio::task::spawn_blocking(move || {
        techex::imports::import(&db, reader, None, &|bytes| progress.set_position(bytes))
    })
    .await?
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    Ok(report)
}

fn print_report(r: &techex::imports::ImportReport) {
    println!(
        "{} lines: {} created, {} updated, {} unchanged, {} rejected",
        r.lines, r.created, r.updated, r.unchanged, r.rejected
    );
    for (kind, c) in &r.by_kind {
        println!(
            "  {kind}: {} created, {} updated, {} unchanged",
            c.created, c.updated, c.unchanged
        );
    }
    for e in &r.errors {
        let field = e
            .field
            .as_deref()
            .map(|f| format!(" {f}:"))
            .unwrap_or_default();
        let id = e
            .external_id
            .as_deref()
            .map(|x| format!(" ({x})"))
            .unwrap_or_default();
        println!("  line {}{id}:{field} {}", e.line, e.message);
    }
    if r.errors_truncated {
        println!("  … and more rejected lines");
    }
}

async fn outbox_command(
    state: &AppState,
    retry_dead: Option<String>,
    limit: i64,
) -> anyhow::Result<()> {
    use techex::notify::outbox;
    let id = match retry_dead.as_deref() {
        None => None,
        Some("all") => Some(None),
        Some(raw) => Some(Some(raw.parse::<i64>().map_err(|_| {
            anyhow::anyhow!("--retry-dead takes a message id (or nothing, for all)")
        })?)),
    };
    let report = state
        .db
        .run(move |conn| {
            let retried = match id {
                Some(which) => Some(outbox::retry_dead(conn, which, techex::db::now())?),
                None => None,
            };
            let counts = outbox::counts(conn)?;
            let dead = outbox::list(conn, outbox::OutboxStatus::Dead, limit)?;
            Ok((retried, counts, dead))
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (retried, counts, dead) = report;
    if let Some(n) = retried {
        println!("requeued {n} dead message(s)");
    }
    println!(
        "pending {}\nsent {}\ndead {}",
        counts.pending, counts.sent, counts.dead
    );
    for row in dead {
        println!(
            "dead #{} {} to {} after {} attempt(s): {}",
            row.id,
            row.template,
            row.to_address,
            row.attempts,
            row.last_error.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("techex: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    techex::telemetry::init(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("techex: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("techex: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT or SIGTERM (what a terminal, systemd or an orchestrator sends).
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// Commands that work on an existing exchange (`outbox`, `export`, `reindex`, `worker`)
/// refuse a SQLite file that is not there, rather than create and migrate an empty one
/// and report zeros from it: run in the wrong folder, they say where they looked.
fn existing(settings: &Settings) -> anyhow::Result<()> {
    let url = settings.database.url.expose();
    if let techex::db::DbTarget::Sqlite(path) = techex::db::DbTarget::parse(url)? {
        if !path.exists() {
            anyhow::bail!(
                "there is no database at {} (database.url = {}, from {}): run this where the \
                 exchange runs, or set TECHEX__DATABASE__URL",
                path.display(),
                url,
                std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|_| "this folder".into()),
            );
        }
    }
    Ok(())
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    if matches!(
        command,
        Command::Outbox { .. }
            | Command::Export { .. }
            | Command::Reindex
            | Command::Worker
            | Command::Backup { .. }
    ) {
        existing(&settings)?;
    }
    match command {
        Command::Serve { demo } => {
            let state = AppState::prepare(settings)?;
            if demo {
                match techex::demo::load_if_empty(&state)
                    .await
                    .map_err(|e| anyhow::anyhow!("demo data: {e}"))?
                {
                    Some(r) => tracing::info!(
                        created = r.created,
                        rejected = r.rejected,
                        accounts = ?techex::demo::ACCOUNTS.map(|a| a.0),
                        password = techex::demo::PASSWORD,
                        "demo data loaded"
                    ),
                    None => tracing::info!("database already has listings: demo data not loaded"),
                }
            }
            let app = Application::start(state)?;
            let s = &app.state().settings;
            tracing::info!(
                address = %app.addr(),
                database = %app.state().db.target().redacted(),
                index_dir = %s.search.index_dir.display(),
                email = ?s.email.transport,
                "techex listening"
            );
            app.run().await?;
            Ok(())
        }
        Command::Import { file } => {
            let state = AppState::prepare(settings)?;
            let report = import_file(&state, &file).await?;
            print_report(&report);
            Ok(())
        }
        Command::Export { kind, output } => {
            let state = AppState::prepare(settings)?;
            let kinds = techex::imports::ExportKind::parse_selection(Some(&kind))
                .map_err(anyhow::Error::msg)?;
            let db = state.db.clone();
            let records = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
                let mut out: Box<dyn std::io::Write> = match &output {
                    Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
                    None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
                };
                let n = techex::imports::export_to(&db, &kinds, &mut out)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                out.flush()?;
                Ok(n)
            })
            .await??;
            eprintln!("exported {records} records");
            Ok(())
        }
        Command::Reindex => {
            let mut state = AppState::prepare(settings)?;
            let index = techex::search::open(&mut state)?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} listings ({per_sec})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let progress = bar.clone();
            let started = std::time::Instant::now();
            let n = tokio::task::spawn_blocking(move || {
                index.rebuild(&|done, total| {
                    progress.set_length(total);
                    progress.set_position(done);
                })
            })
            .await??;
            bar.finish_and_clear();
            println!(
                "indexed {n} published listings in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Worker => {
            let state = AppState::prepare(settings)?;
            tracing::info!(
                database = %state.db.target().redacted(),
                email = ?state.settings.email.transport,
                "techex worker running"
            );
            techex::app::worker::run_until(state, shutdown_signal()).await;
            Ok(())
        }
        Command::Outbox { retry_dead, limit } => {
            let state = AppState::prepare(settings)?;
            outbox_command(&state, retry_dead, limit).await
        }
        Command::Backup { file } => {
            match techex::db::DbTarget::parse(settings.database.url.expose())? {
                techex::db::DbTarget::Sqlite(path) => {
                    let bytes =
                        techex::db::backup_sqlite(&path, &file).map_err(|e| anyhow::anyhow!(e))?;
                    println!(
                        "backed up {} to {} ({bytes} bytes, integrity ok)",
                        path.display(),
                        file.display()
                    );
                    Ok(())
                }
                techex::db::DbTarget::Postgres(_) => anyhow::bail!(
                    "techex backup copies the embedded SQLite database; for PostgreSQL use \
                     pg_dump (README, \"Backups\")"
                ),
            }
        }
        Command::Migrate => {
            let db = Db::open(
                settings.database.url.expose(),
                settings.database.pool_size,
                std::time::Duration::from_secs(settings.database.connection_timeout_seconds),
            )?;
            let applied = db.migrate()?;
            if applied.is_empty() {
                println!("{}: up to date", db.target().redacted());
            } else {
                println!("{}: applied {}", db.target().redacted(), applied.join(", "));
            }
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    password,
                    role,
                    name,
                },
        } => {
            let state = AppState::prepare(settings)?;
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Moderator => Role::Moderator,
            };
            let (user, created) = techex::accounts::service::create_privileged(
                &state,
                &email,
                &password,
                role,
                name.as_deref(),
            )
            .await
            .map_err(|e| {
                let p = e.to_problem();
                let fields: Vec<String> = p
                    .errors
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect();
                if fields.is_empty() {
                    anyhow::anyhow!("{}", p.detail)
                } else {
                    anyhow::anyhow!("{}", fields.join("; "))
                }
            })?;
            let verb = if created {
                "created"
            } else {
                "updated (password unchanged)"
            };
            println!(
                "account {} <{}> {verb} with role {}",
                user.id,
                user.email,
                role.as_str()
            );
            Ok(())
        }
    }
}
