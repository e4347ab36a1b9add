//! Test harness: every test gets its own database (a temporary SQLite file, or
//! a fresh PostgreSQL database that is dropped afterwards) and, when it needs
//! one, a real server on a random port spoken to over HTTP.

mod newsroom;
pub mod receiver;

pub use newsroom::{keys, Newsroom, SECRET};

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use newsdesk::config::Config;
use newsdesk::db::pool::PoolOptions;
use newsdesk::db::{Database, DatabaseUrl};
use newsdesk::import::{FileOutcome, Importer};
use newsdesk::startup::Application;
use newsdesk::text::script::ScriptConverter;
use serde_json::{json, Value};

/// The engines every storage test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs one async test body on both engines: `both_engines!(name);` next to
/// `async fn name(engine: Engine)` makes the tests `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_engines {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Engine::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Engine::Postgres).await
            }
        }
    };
}

pub const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/seed/000_a15393c2ad8b6a45.txt"
);

/// The server tests create their databases on. Loopback needs no TLS, and
/// TLS connections still open in worker threads when the test process exits
/// race OpenSSL's exit-time cleanup.
fn pg_admin_url() -> String {
    std::env::var("DATABASE_URL_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into())
}

fn skip_pg() -> bool {
    std::env::var("NEWSDESK_SKIP_PG").is_ok_and(|v| v == "1")
}

/// A database of its own for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    /// A fresh, empty database; `None` when PostgreSQL is skipped on purpose.
    pub fn new(engine: Engine) -> Option<TestDb> {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("newsdesk.db").display());
                Some(TestDb {
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                })
            }
            Engine::Postgres => {
                if skip_pg() {
                    eprintln!("NEWSDESK_SKIP_PG=1: PostgreSQL test SKIPPED");
                    return None;
                }
                let admin = pg_admin_url();
                let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is unreachable at DATABASE_URL_PG ({e}); start it or set NEWSDESK_SKIP_PG=1"
                    )
                });
                let name = format!("newsdesk_test_{}", uuid::Uuid::new_v4().simple());
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let (without_query, query) = admin.split_once('?').unwrap_or((&admin, ""));
                let base = without_query
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(without_query);
                let query = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{query}")
                };
                Some(TestDb {
                    url: format!("{base}/{name}{query}"),
                    _dir: None,
                    pg_name: Some(name),
                })
            }
        }
    }

    /// A pool on this database, for arranging data and checking what was
    /// written; its writes keep the search index in step, as the server's do.
    pub fn database(&self) -> Database {
        newsdesk::startup::open_database(
            DatabaseUrl::parse(&self.url).expect("test url"),
            &PoolOptions {
                max_size: 2,
                acquire_timeout: std::time::Duration::from_secs(5),
                statement_timeout: None,
                allow_unsafe_durability: false,
                sqlite_synchronous: Default::default(),
            },
        )
    }

    /// Row counts of every table, to prove that a rejected write wrote nothing.
    pub fn row_counts(&self) -> HashMap<&'static str, i64> {
        use diesel::prelude::*;
        use newsdesk::db::schema::*;
        let db = self.database();
        let mut conn = db.get().expect("connection");
        let conn = &mut *conn;
        let mut counts = HashMap::new();
        macro_rules! count {
            ($($t:ident),+) => {$(
                counts.insert(stringify!($t), $t::table.count().get_result::<i64>(conn).unwrap_or(-1));
            )+};
        }
        count!(
            site_settings,
            sections,
            sources,
            contributors,
            users,
            articles,
            article_slug_history,
            article_credits,
            article_revisions,
            copyright_notices,
            recommendation_lists,
            recommendation_items,
            audit_events,
            idempotency_keys,
            media,
            media_holds
        );
        counts
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            if let Ok(mut conn) = PgConnection::establish(&pg_admin_url()) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// A running server on its own database.
/// The background jobs (scheduled publishing, webhook delivery) poll the
/// database every second by default; tests that count SQL statements push
/// them an hour away so that only the request under test is counted.
pub const NO_POLLING: [(&str, &str); 2] = [
    ("NEWSDESK_SCHEDULER_POLL_MS", "3600000"),
    ("NEWSDESK_WEBHOOK_POLL_MS", "3600000"),
];

pub struct TestApp {
    pub address: String,
    pub db: TestDb,
    pub client: reqwest::Client,
}

impl TestApp {
    /// Starts the server with default settings.
    pub async fn spawn(engine: Engine) -> Option<TestApp> {
        Self::spawn_with(engine, &[]).await
    }

    /// Starts the server with extra environment settings.
    pub async fn spawn_with(engine: Engine, vars: &[(&str, &str)]) -> Option<TestApp> {
        Self::spawn_with_routes(engine, vars, |_| {}).await
    }

    /// Starts the server with routes of the test's own beside the service's.
    pub async fn spawn_with_routes(
        engine: Engine,
        vars: &[(&str, &str)],
        routes: fn(&mut actix_web::web::ServiceConfig),
    ) -> Option<TestApp> {
        let db = TestDb::new(engine)?;
        let address = Self::start_with_routes(&db.url, vars, routes).await;
        Some(TestApp {
            address,
            db,
            client: reqwest::Client::new(),
        })
    }

    /// Starts a server on `database_url`; returns its base URL.
    pub async fn start(database_url: &str, vars: &[(&str, &str)]) -> String {
        Self::start_with_routes(database_url, vars, |_| {}).await
    }

    async fn start_with_routes(
        database_url: &str,
        vars: &[(&str, &str)],
        routes: fn(&mut actix_web::web::ServiceConfig),
    ) -> String {
        let mut map: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".into(), database_url.to_string()),
            ("NEWSDESK_BIND".into(), "127.0.0.1:0".into()),
            // Tests send bursts from one address; the rate-limit tests set their own.
            ("NEWSDESK_RATE_LIMIT_PER_MINUTE".into(), "0".into()),
            ("NEWSDESK_MUTATIONS_PER_MINUTE".into(), "0".into()),
            // Debug builds on a loaded machine are slow; the budget test sets its own.
            ("NEWSDESK_EXECUTION_TIMEOUT_MS".into(), "60000".into()),
            (
                "NEWSDESK_PUBLIC_BASE_URL".into(),
                "https://news.example.test".into(),
            ),
        ]);
        for (k, v) in vars {
            map.insert(k.to_string(), v.to_string());
        }
        // Each server its own search index folder, as each node has, gone
        // when the server stops (unless the test names one).
        let search_dir = tempfile::tempdir().expect("search index folder");
        map.entry("NEWSDESK_SEARCH_DIR".into())
            .or_insert_with(|| search_dir.path().display().to_string());
        // Pictures in the temporary folder, one folder per database, so
        // that two nodes of one database share them, as a site's nodes do.
        let media_dir = std::env::temp_dir().join("newsdesk-test-media").join(
            database_url
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>(),
        );
        map.entry("NEWSDESK_MEDIA_DIR".into())
            .or_insert_with(|| media_dir.display().to_string());
        let config = Config::from_lookup(|k| map.get(k).cloned()).expect("test config");
        let app = Application::build_with_routes(config, routes)
            .await
            .expect("server starts");
        let address = app.url();
        tokio::spawn(async move {
            let _search_dir = search_dir;
            app.run_until_stopped().await
        });
        address
    }

    /// Imports the sample page through the importer library.
    pub fn import_seed(&self) -> FileOutcome {
        import_file(&self.db, Path::new(SEED))
    }

    /// POSTs a GraphQL query; returns the JSON body.
    pub async fn graphql(&self, query: &str) -> Value {
        self.graphql_with(query, json!({}), &[]).await.1
    }

    /// POSTs one operation, by name, of a document that holds several.
    pub async fn graphql_operation(&self, query: &str, variables: Value, name: &str) -> Value {
        let body = json!({ "query": query, "variables": variables, "operationName": name });
        let response = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&body)
            .send()
            .await
            .expect("request sent");
        response.json::<Value>().await.expect("JSON body")
    }

    /// POSTs a GraphQL query with variables and headers; returns the response and its body.
    pub async fn graphql_with(
        &self,
        query: &str,
        variables: Value,
        headers: &[(&str, &str)],
    ) -> (reqwest::header::HeaderMap, Value) {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("request sent");
        let headers = response.headers().clone();
        let body = response.json::<Value>().await.expect("JSON body");
        (headers, body)
    }

    /// SQL statements the server has sent so far.
    pub async fn statements(&self) -> u64 {
        let text = self
            .client
            .get(format!("{}/metrics", self.address))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body");
        text.lines()
            .find_map(|l| l.strip_prefix("newsdesk_sql_statements_total "))
            .and_then(|v| v.trim().parse().ok())
            .expect("statement counter in /metrics")
    }
}

/// Imports one file into `db` through the library, as `newsdesk import` does.
pub fn import_file(db: &TestDb, path: &Path) -> FileOutcome {
    let database = db.database();
    let mut conn = database.get().expect("connection");
    newsdesk::db::migrations::run_pending(&mut conn).expect("migrations");
    let converter = ScriptConverter::new().expect("converter");
    let owned: Vec<String> = newsdesk::config::DEFAULT_OWNED_SOURCES
        .split(',')
        .map(String::from)
        .collect();
    Importer::new(&owned, &converter).import_file(&mut conn, path)
}

/// Runs the `newsdesk` binary with `DATABASE_URL` set.
pub fn newsdesk(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_newsdesk"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("RUST_LOG")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run newsdesk")
}

/// Writes `contents` into a file of its own under a fresh temporary folder.
pub fn temp_file(name: &str, contents: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write temp file");
    (dir, path)
}

/// Makes sure migrations ran (the server does it at start; CLI-only tests need it too).
pub fn migrate(db: &TestDb) {
    let database = db.database();
    let mut conn = database.get().expect("connection");
    newsdesk::db::migrations::run_pending(&mut conn).expect("migrations");
}

/// Runs the `newsdesk` binary with `DATABASE_URL` and extra variables set.
pub fn newsdesk_with(database_url: &str, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_newsdesk"));
    cmd.args(args)
        .env("DATABASE_URL", database_url)
        .env("NEWSDESK_BIND", "127.0.0.1:0")
        .env_remove("RUST_LOG")
        .current_dir(std::env::temp_dir());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run newsdesk")
}

/// A program of the tests' Python virtualenv (`make py-deps` fills it;
/// `NEWSDESK_VENV` names another).
pub fn venv_program(name: &str) -> PathBuf {
    let venv = std::env::var("NEWSDESK_VENV").map_or_else(
        |_| {
            let home = std::env::var("HOME").unwrap_or_default();
            Path::new(&home).join(".cache/newsdesk/venv")
        },
        PathBuf::from,
    );
    let program = venv.join("bin").join(name);
    assert!(
        program.exists(),
        "{program:?} is missing: run `make py-deps`"
    );
    program
}

/// Runs `command` with `input` on its standard input; returns its status
/// and what it wrote.
pub fn piped(command: &mut Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} does not start: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    child.wait_with_output().expect("output")
}

/// Asserts that a GraphQL answer is a `BAD_USER_INPUT` naming `field`.
pub fn assert_bad_input(answer: &Value, field: &str) {
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{answer}"
    );
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(field)),
        "{field} not named: {answer}"
    );
}
