//! The `newsdesk` command line. Every command fails with a non-zero exit code
//! and one line naming the problem.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use diesel::connection::SimpleConnection;

use crate::db::{migrations, AnyConnection, Database};
use crate::import::{ImportStatus, Importer};
use crate::startup::Application;
use crate::text::script::ScriptConverter;
use crate::{graphql, telemetry};

/// A headless GraphQL/JSON content API for news sites.
///
/// Configuration comes from the environment (and a `.env` file in the current
/// folder); see `.env.example` for every variable.
#[derive(Debug, Parser)]
#[command(name = "newsdesk", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (GraphQL, health probes) on NEWSDESK_BIND.
    ///
    /// Applies pending migrations first unless NEWSDESK_MIGRATE_ON_START=0.
    /// SIGTERM drains in-flight requests before exiting.
    Serve,
    /// Apply pending database migrations to DATABASE_URL and exit.
    Migrate,
    /// Import legacy article pages (the old CMS's text export).
    ///
    /// Each file is one transaction: a bad file writes nothing and is reported
    /// as `FILE:LINE: problem`; the other files are still imported. Importing
    /// the same page again changes nothing. Exits 1 when any file failed.
    Import {
        /// Print a JSON summary (per file: status, article id, warnings, error).
        #[arg(long)]
        json: bool,
        /// Page files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
}

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Schema = cli.command {
        print!("{}", graphql::sdl());
        return ExitCode::SUCCESS;
    }
    // A missing .env is normal; a broken one is worth a line.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("newsdesk: .env: {e}");
            return ExitCode::from(2);
        }
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("newsdesk: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let result = match cli.command {
        Command::Serve => serve(config),
        Command::Migrate => migrate(&config),
        Command::Import { json, files } => import(&config, json, &files),
        Command::Schema => Ok(ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|message| {
        eprintln!("newsdesk: {message}");
        ExitCode::FAILURE
    })
}

fn serve(config: Config) -> Result<ExitCode, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let app = Application::build(config)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(url = %app.url(), "newsdesk is serving");
        println!("newsdesk serving on {}", app.url());
        app.run_until_stopped()
            .await
            .map_err(|e| format!("server failed: {e}"))?;
        Ok(ExitCode::SUCCESS)
    })
}

fn open_database(config: &Config) -> Result<Database, String> {
    Ok(Database::new(config.database_url.clone(), &config.pool))
}

fn migrate(config: &Config) -> Result<ExitCode, String> {
    let db = open_database(config)?;
    let mut conn = db
        .get()
        .map_err(|_| "DATABASE_URL: cannot connect to the database".to_string())?;
    let applied = migrations::run_pending(&mut conn).map_err(|e| match e {
        crate::error::AppError::Internal(d) => d,
        other => other.to_string(),
    })?;
    if applied.is_empty() {
        println!("database is up to date");
    } else {
        println!(
            "applied {} migration(s): {}",
            applied.len(),
            applied.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A bulk import on SQLite commits once per page; with `synchronous=FULL`
/// every commit waits for the disk. NORMAL (still crash-safe in WAL mode) lets
/// a power cut lose the last pages, which importing again restores, since
/// importing is idempotent.
fn relax_sync_for_bulk_import(conn: &mut AnyConnection) -> Result<(), String> {
    if let AnyConnection::Sqlite(_) = conn {
        conn.batch_execute("PRAGMA synchronous = NORMAL")
            .map_err(|e| format!("DATABASE_URL: {e}"))?;
    }
    Ok(())
}

fn import(config: &Config, json: bool, files: &[PathBuf]) -> Result<ExitCode, String> {
    let db = open_database(config)?;
    let mut conn = db
        .get()
        .map_err(|_| "DATABASE_URL: cannot connect to the database".to_string())?;
    migrations::run_pending(&mut conn).map_err(|e| format!("migrations: {e}"))?;
    relax_sync_for_bulk_import(&mut conn)?;
    let converter = ScriptConverter::new().map_err(|e| format!("script converter: {e}"))?;
    let importer = Importer {
        owned_sources: &config.owned_sources,
        converter: &converter,
    };
    let mut outcomes = Vec::with_capacity(files.len());
    for path in files {
        let outcome = importer.import_file(&mut conn, path);
        if !json {
            for warning in &outcome.warnings {
                eprintln!("{}:{warning}", outcome.file);
            }
            match (&outcome.status, &outcome.error) {
                (ImportStatus::Failed, Some(error)) => eprintln!("{}:{error}", outcome.file),
                (ImportStatus::Imported, _) => println!(
                    "{}: imported as article {}",
                    outcome.file,
                    outcome.article_id.unwrap_or_default()
                ),
                _ => println!(
                    "{}: already imported as article {}, unchanged",
                    outcome.file,
                    outcome.article_id.unwrap_or_default()
                ),
            }
        }
        outcomes.push(outcome);
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.status == ImportStatus::Failed)
        .map(|o| o.file.as_str())
        .collect();
    let imported = outcomes
        .iter()
        .filter(|o| o.status == ImportStatus::Imported)
        .count();
    let unchanged = outcomes
        .iter()
        .filter(|o| o.status == ImportStatus::Unchanged)
        .count();
    if json {
        let summary = serde_json::json!({
            "imported": imported,
            "unchanged": unchanged,
            "failed": failed.len(),
            "files": outcomes,
        });
        println!("{summary:#}");
    } else if failed.is_empty() {
        println!("imported {imported}, unchanged {unchanged}, failed 0");
    } else {
        println!(
            "imported {imported}, unchanged {unchanged}, failed {}: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
