//! Traces over OTLP: a real newsdesk process exports to a receiver built
//! from the OpenTelemetry protobuf definitions (`tests/support/otlp_receiver.py`);
//! the caller's `traceparent` is continued, the span tree of one request
//! holds the GraphQL operation, the database calls and their statements
//! (without the values bound), and a webhook delivery carries the trace of
//! the change it announces. Log lines name the request and trace ids.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::receiver::Receiver;
use crate::helpers::{venv_program, Engine, Newsroom, SECRET};

/// The caller's trace: trace id, and the id of its span that calls us.
const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN: &str = "b7ad6b7169203331";
const PUBLISH_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
/// A caller that decided not to record its trace (flags 00).
const UNSAMPLED_TRACE: &str = "5a1d6f2e8c0b4f7e9d3c2b1a09876543";

/// A process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The OTLP receiver: its base URL and the spans it has printed.
struct Collector {
    url: String,
    spans: Arc<Mutex<Vec<Value>>>,
    _process: Killed,
}

impl Collector {
    fn start() -> Collector {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/otlp_receiver.py"
        );
        let mut child = Command::new(venv_program("python"))
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("otlp receiver");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().expect("a line").expect("listening line");
        let port = first.trim().strip_prefix("listening ").expect("port");
        let spans: Arc<Mutex<Vec<Value>>> = Arc::default();
        let seen = spans.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(span) = serde_json::from_str(&line) {
                    seen.lock().expect("lock").push(span);
                }
            }
        });
        Collector {
            url: format!("http://127.0.0.1:{port}"),
            spans,
            _process: Killed(child),
        }
    }

    /// The spans of `trace`, once `enough` says they have all come.
    async fn trace(&self, trace: &str, enough: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let spans: Vec<Value> = self
                .spans
                .lock()
                .expect("lock")
                .iter()
                .filter(|s| s["trace_id"] == trace)
                .cloned()
                .collect();
            if enough(&spans) || started.elapsed() > Duration::from_secs(20) {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A `newsdesk serve` process: its address, and the file its JSON log
/// lines go to.
struct Served {
    base: String,
    logs: tempfile::NamedTempFile,
    _process: Killed,
    _media: tempfile::TempDir,
}

/// `newsdesk serve` on the newsroom's database, exporting to `collector`
/// when given.
fn serve(room: &Newsroom, collector: Option<&Collector>) -> Served {
    let logs = tempfile::NamedTempFile::new().expect("log file");
    let media = tempfile::tempdir().expect("media dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_newsdesk"));
    command
        .arg("serve")
        .env("DATABASE_URL", &room.app.db.url)
        .env("NEWSDESK_BIND", "127.0.0.1:0")
        .env("NEWSDESK_JWT_SECRET", SECRET)
        .env("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "1")
        .env("NEWSDESK_WEBHOOK_POLL_MS", "100")
        .env("NEWSDESK_MEDIA_DIR", media.path())
        .env("NEWSDESK_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(logs.reopen().expect("log file")));
    if let Some(collector) = collector {
        command
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url)
            .env("OTEL_BSP_SCHEDULE_DELAY", "100");
    }
    let mut child = command.spawn().expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("address line");
    let base = line.trim().rsplit(' ').next().expect("address").to_string();
    Served {
        base,
        logs,
        _process: Killed(child),
        _media: media,
    }
}

async fn post(base: &str, headers: &[(&str, &str)], body: Value) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("post");
    response.json().await.expect("json")
}

fn attribute<'a>(span: &'a Value, name: &str) -> &'a Value {
    &span["attributes"][name]
}

both_engines!(a_request_s_span_tree_continues_the_caller_s_trace_and_reaches_the_webhook);
async fn a_request_s_span_tree_continues_the_caller_s_trace_and_reaches_the_webhook(
    engine: Engine,
) {
    // This server only sets the newsroom up; the process below serves.
    let Some(room) = Newsroom::open_with(
        engine,
        &[
            ("NEWSDESK_WEBHOOK_POLL_MS", "3600000"),
            ("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "1"),
        ],
    )
    .await
    else {
        return;
    };
    let hook = Receiver::start(0).await;
    let registered = room
        .as_user(
            Some(&room.token("admin")),
            &format!(
                r#"mutation {{ registerWebhook(url: "{}", events: ["article.published"], secret: "s3cret-0123456789abcdef") {{ databaseId }} }}"#,
                hook.url
            ),
        )
        .await;
    assert!(
        registered["data"]["registerWebhook"]["databaseId"].is_number(),
        "{registered}"
    );
    let id = room.draft("reporter-a", "追蹤稿件").await;
    let collector = Collector::start();
    let served = serve(&room, Some(&collector));
    let (base, logs) = (&served.base, &served.logs);

    // A caller that does not record its trace: nothing of it is exported.
    let unsampled = post(
        base,
        &[(
            "traceparent",
            &format!("00-{UNSAMPLED_TRACE}-{CALLER_SPAN}-00"),
        )],
        json!({ "query": "{ articles(first: 3) { nodes { title } } }" }),
    )
    .await;
    assert!(unsampled["errors"].is_null(), "{unsampled}");

    // A reader's query, called from a traced front end.
    let slug_secret = "no-such-slug-7f3a9c";
    let caller = format!("00-{TRACE}-{CALLER_SPAN}-01");
    let read = post(
        base,
        &[("traceparent", &caller), ("x-request-id", "req-trace-1")],
        json!({
            "query": "query FrontPage($slug: String!) { article(slug: $slug) { title } articles(first: 3) { nodes { title section { name } } } }",
            "operationName": "FrontPage",
            "variables": { "slug": slug_secret },
        }),
    )
    .await;
    assert!(read["errors"].is_null(), "{read}");

    let spans = collector
        .trace(TRACE, |spans| {
            spans.iter().any(|s| s["name"] == "POST /graphql")
                && spans.iter().any(|s| s["name"] == "SELECT")
        })
        .await;
    let root = spans
        .iter()
        .find(|s| s["name"] == "POST /graphql")
        .unwrap_or_else(|| panic!("no server span: {spans:#?}"));
    // Spans leave in the order they end: the unsampled request's would be here.
    let leaked = collector.trace(UNSAMPLED_TRACE, |_| true).await;
    assert!(
        leaked.is_empty(),
        "an unsampled trace was exported: {leaked:#?}"
    );
    assert_eq!(root["parent_span_id"], CALLER_SPAN, "{root}");
    assert_eq!(root["kind"], 2, "a server span: {root}");
    assert_eq!(root["service"], "newsdesk");
    assert_eq!(attribute(root, "graphql.operation.name"), "FrontPage");
    assert_eq!(attribute(root, "graphql.operation.type"), "query");
    assert_eq!(attribute(root, "http.route"), "/graphql");
    assert_eq!(attribute(root, "request.id"), "req-trace-1");
    // One tree: every span but the root hangs from a span of the trace.
    let ids: HashSet<&str> = spans.iter().filter_map(|s| s["span_id"].as_str()).collect();
    for span in &spans {
        if span["span_id"] != root["span_id"] {
            let parent = span["parent_span_id"].as_str().unwrap_or_default();
            assert!(ids.contains(parent), "an orphan span: {span}");
        }
    }
    let by_id: HashMap<&str, &Value> = spans
        .iter()
        .filter_map(|s| Some((s["span_id"].as_str()?, s)))
        .collect();
    let ancestors = |span: &Value| -> Vec<String> {
        let mut names = Vec::new();
        let mut at = span["parent_span_id"].as_str();
        while let Some(parent) = at.and_then(|p| by_id.get(p)) {
            names.push(parent["name"].as_str().unwrap_or_default().to_string());
            at = parent["parent_span_id"].as_str();
        }
        names
    };
    let operation = spans
        .iter()
        .find(|s| s["name"] == "query FrontPage")
        .unwrap_or_else(|| panic!("no operation span: {spans:#?}"));
    assert_eq!(operation["parent_span_id"], root["span_id"]);
    for field in ["QueryRoot.article", "QueryRoot.articles"] {
        let span = spans
            .iter()
            .find(|s| s["name"] == field)
            .unwrap_or_else(|| panic!("no span for {field}: {spans:#?}"));
        assert_eq!(span["parent_span_id"], operation["span_id"], "{span}");
    }
    let lookup = spans
        .iter()
        .find(|s| s["name"] == "response cache lookup")
        .unwrap_or_else(|| panic!("no cache lookup span: {spans:#?}"));
    assert_eq!(lookup["parent_span_id"], root["span_id"]);
    let statements: Vec<&Value> = spans.iter().filter(|s| s["name"] == "SELECT").collect();
    assert!(!statements.is_empty());
    for statement in &statements {
        let text = attribute(statement, "db.query.text")
            .as_str()
            .unwrap_or_default();
        assert!(
            text.to_ascii_uppercase().starts_with("SELECT"),
            "{statement}"
        );
        assert!(
            !text.contains(slug_secret),
            "a bound value in a span: {text}"
        );
        assert!(!text.contains("binds"), "{text}");
        let path = ancestors(statement);
        assert_eq!(
            path.first().map(String::as_str),
            Some("db.read"),
            "{path:?}"
        );
        assert!(path.iter().any(|n| n.starts_with("QueryRoot.")), "{path:?}");
    }
    assert!(
        statements
            .iter()
            .any(|s| ancestors(s).contains(&"QueryRoot.article".to_string())),
        "the article's statements are under its field"
    );
    let db = spans
        .iter()
        .find(|s| s["name"] == "db.read")
        .expect("db span");
    let system = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgresql",
    };
    assert_eq!(attribute(db, "db.system.name"), system);

    // An editor publishes from a traced tool: the delivery continues it.
    let publisher = format!("00-{PUBLISH_TRACE}-00f067aa0ba902b7-01");
    let published = post(
        base,
        &[
            ("traceparent", &publisher),
            ("authorization", &format!("Bearer {}", room.token("editor"))),
        ],
        json!({ "query": format!(r#"mutation Publish {{ publishArticle(id: "{id}") {{ status }} }}"#) }),
    )
    .await;
    assert_eq!(
        published["data"]["publishArticle"]["status"], "PUBLISHED",
        "{published}"
    );
    let hits = hook
        .wait_for(|h| !h.is_empty(), Duration::from_secs(20))
        .await;
    let sent = hits
        .first()
        .and_then(|h| h.headers.get("traceparent"))
        .unwrap_or_else(|| panic!("no traceparent on the delivery: {hits:?}"));
    let parts: Vec<&str> = sent.split('-').collect();
    assert_eq!(parts.len(), 4, "{sent}");
    assert_eq!(
        parts[1], PUBLISH_TRACE,
        "the delivery is not in the change's trace"
    );
    let spans = collector
        .trace(PUBLISH_TRACE, |spans| {
            spans.iter().any(|s| s["name"] == "POST webhook")
                && spans.iter().any(|s| s["name"] == "POST /graphql")
        })
        .await;
    let delivery = spans
        .iter()
        .find(|s| s["name"] == "POST webhook")
        .unwrap_or_else(|| panic!("no delivery span: {spans:#?}"));
    assert_eq!(delivery["kind"], 3, "a client span: {delivery}");
    assert_eq!(
        parts[2], delivery["span_id"],
        "the header names the delivery span"
    );
    assert_eq!(attribute(delivery, "http.response.status_code"), 200);
    let ids: HashSet<&str> = spans.iter().filter_map(|s| s["span_id"].as_str()).collect();
    assert!(
        ids.contains(delivery["parent_span_id"].as_str().unwrap_or_default()),
        "the delivery hangs from the change's spans: {spans:#?}"
    );
    let writes = spans.iter().filter(|s| s["name"] == "db.write").count();
    assert!(writes > 0, "{spans:#?}");

    // Every line logged for the read names its request and its trace.
    let text = std::fs::read_to_string(logs.path()).expect("logs");
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|l: &Value| l.to_string().contains("req-trace-1"))
        .collect();
    assert!(!lines.is_empty(), "{text}");
    for line in &lines {
        let span = &line["span"];
        assert_eq!(span["request.id"], "req-trace-1", "{line}");
        assert_eq!(span["trace.id"], TRACE, "{line}");
    }
}

/// Without an exporter nothing is sent and nothing is propagated, but the
/// caller's trace id still ties the log lines together; a malformed
/// `traceparent` is ignored.
#[tokio::test]
async fn without_an_exporter_the_caller_s_trace_id_still_reaches_the_logs() {
    let Some(room) = Newsroom::open(Engine::Sqlite).await else {
        return;
    };
    let served = serve(&room, None);
    let (base, logs) = (&served.base, &served.logs);
    let caller = format!("00-{TRACE}-{CALLER_SPAN}-01");
    for (id, traceparent) in [("req-a", caller.as_str()), ("req-b", "00-zz-<script>-01")] {
        let read = post(
            base,
            &[("traceparent", traceparent), ("x-request-id", id)],
            json!({ "query": "{ articles(first: 1) { nodes { title } } }" }),
        )
        .await;
        assert!(read["errors"].is_null(), "{read}");
    }
    let started = Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(logs.path()).expect("logs");
        if text.contains("req-b") || started.elapsed() > Duration::from_secs(10) {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let of = |id: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|l| l["span"]["request.id"] == id)
            .collect()
    };
    assert!(!of("req-a").is_empty(), "{text}");
    assert!(
        of("req-a").iter().all(|l| l["span"]["trace.id"] == TRACE),
        "{text}"
    );
    assert!(!of("req-b").is_empty(), "{text}");
    assert!(
        of("req-b").iter().all(|l| l["span"]["trace.id"].is_null()),
        "{text}"
    );
}

/// A collector the server cannot use is refused at start with one line.
#[test]
fn an_unusable_collector_setting_stops_the_start_with_one_line() {
    for (name, value, named) in [
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "grpc",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "not a url",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        ("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER"),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_newsdesk"));
        command
            .arg("migrate")
            .env("DATABASE_URL", "sqlite::memory:")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
            .env(name, value);
        let output = command.output().expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}={value}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(named), "{stderr}");
    }
}
