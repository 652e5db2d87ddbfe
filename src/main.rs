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
    Serve,
    /// Apply pending database migrations (needed on PostgreSQL; SQLite migrates itself).
    Migrate,
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

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = Application::build(settings)?;
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
