//! The `newsdesk` command line. Every command fails with a non-zero exit code
//! and one line naming the problem.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use std::time::Duration;

use crate::auth::passwords;
use crate::config::Config;
use crate::db::{partners, users};
use crate::domain::Role;
use crate::error::AppError;
use diesel::connection::SimpleConnection;

use crate::db::{migrations, AnyConnection, Database};
use crate::import::{ImportStatus, Importer, ListFill};
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
    /// Each file is written in a savepoint of its own (pages are committed in
    /// batches): a bad file writes nothing and is reported as `FILE:LINE: problem`;
    /// the other files are still imported. Importing
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
    /// Print the OpenAPI document of the REST routes; `openapi.json` is this output.
    Openapi,
    /// Rebuild the search index of every article (after a dictionary change).
    Reindex,
    /// Manage staff and claimant accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage syndication partners' API keys.
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Tools for development and measurement.
    #[command(subcommand)]
    Dev(DevCommand),
    /// Mint an access token for service use; prints it alone on the last line.
    ///
    /// The account must exist, be enabled and hold the role. Needs NEWSDESK_JWT_SECRET.
    Token {
        /// The account (`sub` claim).
        #[arg(long)]
        sub: String,
        /// Its role (case-insensitive).
        #[arg(long)]
        role: String,
        /// Lifetime: `900`, `900s`, `15m` or `1h`; at most NEWSDESK_JWT_MAX_LIFETIME_SECS.
        #[arg(long, default_value = "1h")]
        ttl: String,
    },
}

#[derive(Debug, Subcommand)]
enum DevCommand {
    /// Fill an empty database with a generated, deterministic newsroom.
    ///
    /// Bylines of 1-3 people, bodies of 1-3 KB of Chinese text, publish times
    /// spread over three years; every 97th article is a draft. The same
    /// options give the same data on either engine.
    Seed {
        #[arg(long, default_value_t = 1000)]
        articles: usize,
        #[arg(long, default_value_t = 40)]
        sections: usize,
        #[arg(long, default_value_t = 500)]
        contributors: usize,
        /// Seed of the generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
enum PartnerCommand {
    /// Make a key for a syndication partner; prints it once, alone on the last line.
    Add {
        /// The partner's name.
        name: String,
        /// Requests a minute this key may make.
        #[arg(long, default_value_t = 600)]
        requests_per_minute: i32,
    },
    /// Revoke a partner's key; it fails from the next request on.
    Revoke {
        /// The partner's name.
        name: String,
    },
    /// Requests per partner and day.
    Usage,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input (first line).
    Add {
        /// Login name.
        #[arg(long)]
        username: String,
        /// reporter, editor, legal, admin, claimant or partner (case-insensitive).
        #[arg(long)]
        role: String,
    },
    /// Disable an account; its tokens stop working at once.
    Disable {
        /// Login name.
        username: String,
    },
    /// Change an account's role; tokens with the old role stop working at once.
    SetRole {
        /// Login name.
        username: String,
        /// The new role (case-insensitive).
        role: String,
    },
}

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Schema => {
            print!("{}", graphql::sdl());
            return ExitCode::SUCCESS;
        }
        Command::Openapi => {
            print!("{}", crate::http::openapi::openapi());
            return ExitCode::SUCCESS;
        }
        _ => {}
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
    // Held until the command ends: dropping it sends the last spans.
    let _traces = match telemetry::init(config.log_format, config.traces.as_ref()) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("newsdesk: OTEL_EXPORTER_OTLP_ENDPOINT: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Serve => serve(config),
        Command::Migrate => migrate(&config),
        Command::Import { json, files } => import(&config, json, &files),
        Command::Schema | Command::Openapi => Ok(ExitCode::SUCCESS),
        Command::User(cmd) => user(&config, cmd),
        Command::Partner(cmd) => partner(&config, cmd),
        Command::Reindex => reindex(&config),
        Command::Dev(DevCommand::Seed {
            articles,
            sections,
            contributors,
            seed,
        }) => dev_seed(
            &config,
            crate::seed::SeedOptions {
                articles,
                sections,
                contributors,
                seed,
            },
        ),
        Command::Token { sub, role, ttl } => token(&config, &sub, &role, &ttl),
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
        if let Some(metrics) = app.metrics_url() {
            tracing::info!(url = %metrics, "metrics are served apart");
        }
        println!("newsdesk serving on {}", app.url());
        crate::memory::keep_giving_back(crate::memory::GIVE_BACK_EVERY);
        app.run_until_stopped()
            .await
            .map_err(|e| format!("server failed: {e}"))?;
        Ok(ExitCode::SUCCESS)
    })
}

fn open_database(config: &Config) -> Result<Database, String> {
    Ok(crate::startup::open_database(
        config.database_url.clone(),
        &config.pool,
    ))
}

/// A connection to DATABASE_URL with every migration applied, for the
/// commands that work on the data.
fn migrated_connection(
    config: &Config,
) -> Result<diesel::r2d2::PooledConnection<crate::db::pool::ConnectionManager>, String> {
    let db = open_database(config)?;
    let mut conn = db
        .get()
        .map_err(|_| "DATABASE_URL: cannot connect to the database".to_string())?;
    migrations::run_pending(&mut conn).map_err(|e| format!("migrations: {e}"))?;
    Ok(conn)
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

/// Shortest password `user add` accepts.
const MIN_PASSWORD_CHARS: usize = 10;

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse_loose(value).map_err(|_| {
        format!("role: {value:?} is not one of reporter, editor, legal, admin, claimant, partner")
    })
}

fn user(config: &Config, cmd: UserCommand) -> Result<ExitCode, String> {
    let mut conn = migrated_connection(config)?;
    let shown = |e: AppError| match e {
        AppError::NotFound => "no such user".to_string(),
        AppError::Internal(d) => d,
        other => other.to_string(),
    };
    match cmd {
        UserCommand::Add { username, role } => {
            let role = parse_role(&role)?;
            let name = username.trim();
            if name.is_empty() || name.chars().count() > 64 {
                return Err("username: must be 1-64 characters".into());
            }
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| format!("password: cannot read standard input: {e}"))?;
            let password = password.trim_end_matches(['\n', '\r']);
            if password.chars().count() < MIN_PASSWORD_CHARS {
                return Err(format!(
                    "password: must be at least {MIN_PASSWORD_CHARS} characters (read from standard input)"
                ));
            }
            let hash = passwords::hash(password).map_err(shown)?;
            users::create(&mut conn, name, role, Some(&hash)).map_err(shown)?;
            println!("created {} {name}", role.as_str());
        }
        UserCommand::Disable { username } => {
            users::disable(&mut conn, &username).map_err(shown)?;
            println!("disabled {username}");
        }
        UserCommand::SetRole { username, role } => {
            let role = parse_role(&role)?;
            users::set_role(&mut conn, &username, role).map_err(shown)?;
            println!("{username} is now {}", role.as_str());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn partner(config: &Config, cmd: PartnerCommand) -> Result<ExitCode, String> {
    let mut conn = migrated_connection(config)?;
    let shown = |e: AppError| match e {
        AppError::NotFound => "no such partner (or already revoked)".to_string(),
        AppError::Internal(d) => d,
        other => other.to_string(),
    };
    match cmd {
        PartnerCommand::Add {
            name,
            requests_per_minute,
        } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 64 {
                return Err("name: must be 1-64 characters".into());
            }
            if requests_per_minute < 1 {
                return Err("requests-per-minute: must be at least 1".into());
            }
            let key = partners::add(&mut conn, name, requests_per_minute).map_err(shown)?;
            println!("partner {name} added; its key is shown this once:");
            println!("{key}");
        }
        PartnerCommand::Revoke { name } => {
            partners::revoke(&mut conn, &name).map_err(shown)?;
            println!("revoked {name}");
        }
        PartnerCommand::Usage => {
            for (name, day, requests) in partners::usage(&mut conn).map_err(shown)? {
                println!("{day}\t{name}\t{requests}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn dev_seed(config: &Config, options: crate::seed::SeedOptions) -> Result<ExitCode, String> {
    let mut conn = migrated_connection(config)?;
    relax_sync_for_bulk_import(&mut conn)?;
    let started = std::time::Instant::now();
    let total = options.articles;
    let report = crate::seed::seed(&mut conn, &options, |done| {
        eprint!(
            "\rseeded {done}/{total} articles ({}%)",
            done * 100 / total.max(1)
        );
    })
    .map_err(|e| match e {
        AppError::Internal(d) => d,
        other => other.to_string(),
    })?;
    eprintln!();
    println!(
        "seeded {} articles, {} sections, {} contributors in {:.1} s",
        report.articles,
        report.sections,
        report.contributors,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn reindex(config: &Config) -> Result<ExitCode, String> {
    use diesel::prelude::*;
    let mut conn = migrated_connection(config)?;
    let ids: Vec<i32> = crate::db::schema::articles::table
        .select(crate::db::schema::articles::id)
        .order(crate::db::schema::articles::id)
        .load(&mut *conn)
        .map_err(|e| e.to_string())?;
    let added = crate::search::dictionary::load_site_words(&mut conn).map_err(|e| e.to_string())?;
    eprintln!("dictionary: {added} site words added");
    let total = ids.len();
    for (done, chunk) in ids.chunks(200).enumerate() {
        conn.transaction::<_, AppError, _>(|conn| {
            for id in chunk {
                crate::search::index_article(conn, *id)?;
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        let indexed = ((done + 1) * 200).min(total);
        eprint!(
            "\rreindexed {indexed}/{total} articles ({}%)",
            indexed * 100 / total.max(1)
        );
    }
    eprintln!();
    println!("reindexed {total} articles");
    rebuild_search_index(config, &mut conn)?;
    Ok(ExitCode::SUCCESS)
}

/// Rebuilds the search index folder from the terms just written. A folder
/// a running server holds is left to it: it applies the same changes from
/// the search log.
fn rebuild_search_index(
    config: &Config,
    conn: &mut crate::db::AnyConnection,
) -> Result<(), String> {
    let Some(folder) = config.search_dir.as_deref() else {
        return Ok(());
    };
    let index = match crate::search::SearchIndex::open(Some(folder)) {
        Ok(index) => index,
        Err(error) => {
            println!("search index not rebuilt ({error}); a server using it applies the changes from the search log");
            return Ok(());
        }
    };
    let started = std::time::Instant::now();
    let done = index
        .rebuild(conn, |done, total| {
            eprint!(
                "\rsearch index: {done}/{total} articles ({}%)",
                done * 100 / total.max(1)
            );
        })
        .map_err(|e| e.to_string())?;
    eprintln!();
    println!(
        "search index rebuilt in {}: {done} articles in {:.1} s",
        folder.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Reads `900`, `900s`, `15m` or `2h`.
fn parse_ttl(value: &str) -> Result<Duration, String> {
    let v = value.trim();
    let (number, unit) = match v.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&v[..i], &v[i..]),
        None => (v, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("ttl: cannot read {value:?}"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("ttl: unknown unit in {value:?}; use s, m or h")),
    };
    if seconds == 0 {
        return Err("ttl: must be longer than 0".into());
    }
    Ok(Duration::from_secs(seconds))
}

fn token(config: &Config, sub: &str, role: &str, ttl: &str) -> Result<ExitCode, String> {
    let role = parse_role(role)?;
    let ttl = parse_ttl(ttl)?;
    let keys = config
        .tokens
        .as_ref()
        .ok_or("NEWSDESK_JWT_SECRET: not set, so newsdesk cannot sign tokens")?;
    let mut conn = migrated_connection(config)?;
    let user = users::by_username(&mut conn, sub)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("sub: no account named {sub:?}"))?;
    if user.disabled {
        return Err(format!("sub: the account {sub:?} is disabled"));
    }
    if user.role != role.as_str() {
        return Err(format!(
            "role: {sub:?} is {}, not {}",
            user.role,
            role.as_str()
        ));
    }
    let (token, _) = keys.mint(sub, role, ttl)?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

fn report(outcome: &crate::import::FileOutcome) {
    for warning in &outcome.warnings {
        eprintln!("{}:{warning}", outcome.file);
    }
    match (&outcome.status, &outcome.error) {
        (ImportStatus::Failed, Some(error)) => eprintln!("{}:{error}", outcome.file),
        (ImportStatus::Imported, _) => {
            println!(
                "{}: imported as article {}",
                outcome.file,
                outcome.article_id.unwrap_or_default()
            );
            if outcome.home_list == Some(ListFill::KeptEditorList) {
                println!(
                    "{}: recommendation list home kept: an editor set it, so the page's 新聞推薦 were not applied",
                    outcome.file
                );
            }
        }
        _ => println!(
            "{}: already imported as article {}, unchanged",
            outcome.file,
            outcome.article_id.unwrap_or_default()
        ),
    }
}

/// Pages committed together at most (each in its own savepoint).
const IMPORT_BATCH: usize = 64;

fn import(config: &Config, json: bool, files: &[PathBuf]) -> Result<ExitCode, String> {
    let mut conn = migrated_connection(config)?;
    relax_sync_for_bulk_import(&mut conn)?;
    crate::search::dictionary::load_site_words(&mut conn).map_err(|e| e.to_string())?;
    let converter = ScriptConverter::new().map_err(|e| format!("script converter: {e}"))?;
    let importer = Importer::new(&config.owned_sources, &converter);
    let mut outcomes = Vec::with_capacity(files.len());
    // Two stages: one thread reads, cleans and parses the next pages while
    // this one writes, in file order.
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(32);
        let importer = &importer;
        scope.spawn(move || {
            for path in files {
                if tx.send(importer.prepare(path)).is_err() {
                    break;
                }
            }
        });
        // Whatever the parser has ready, up to a batch, is committed together.
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < IMPORT_BATCH {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            for outcome in importer.store_batch(&mut conn, batch) {
                if !json {
                    report(&outcome);
                }
                outcomes.push(outcome);
            }
        }
    });
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
    let home_kept = outcomes
        .iter()
        .any(|o| o.home_list == Some(ListFill::KeptEditorList));
    if json {
        let summary = serde_json::json!({
            "imported": imported,
            "unchanged": unchanged,
            "failed": failed.len(),
            "home_list_kept": home_kept,
            "files": outcomes,
        });
        println!("{summary:#}");
    } else {
        if failed.is_empty() {
            println!("imported {imported}, unchanged {unchanged}, failed 0");
        } else {
            println!(
                "imported {imported}, unchanged {unchanged}, failed {}: {}",
                failed.len(),
                failed.join(", ")
            );
        }
        if home_kept {
            println!(
                "recommendation list home kept: an editor set it, and an import fills a list \
                 only while an import wrote it last"
            );
        }
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
