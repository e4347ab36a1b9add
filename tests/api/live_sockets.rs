//! The subscription WebSocket's edges, driven frame by frame by the `ws`
//! package (what `graphql-ws` runs on in Node, `tests/js/ws_frames.mjs`):
//! each way of breaking the protocol closes the socket with its code and
//! the node keeps serving; the limits on operations, idle sockets, silent
//! clients and origins; and SIGTERM closing every live connection with
//! "going away" before the node exits.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{migrate, Engine, TestApp, TestDb};

const PROTOCOL: &str = "graphql-transport-ws";

fn init() -> Value {
    json!({"json": {"type": "connection_init"}})
}

fn ack() -> Value {
    json!({"until": "connection_ack"})
}

fn subscribe(id: &str) -> Value {
    json!({"json": {"type": "subscribe", "id": id, "payload": {
        "query": "subscription { articlePublished { databaseId } }"
    }}})
}

/// What a socket went through: each line `ws_frames.mjs` printed.
struct Conversation(Vec<Value>);

impl Conversation {
    fn close(&self) -> Option<(u64, String)> {
        self.0.iter().find_map(|line| {
            let code = line.get("close")?.as_u64()?;
            Some((code, line["reason"].as_str().unwrap_or("").to_string()))
        })
    }

    fn messages(&self) -> Vec<Value> {
        self.0
            .iter()
            .filter_map(|line| line.get("message")?.as_str())
            .filter_map(|text| serde_json::from_str(text).ok())
            .collect()
    }

    fn has(&self, key: &str) -> bool {
        self.0.iter().any(|line| line.get(key).is_some())
    }
}

/// Opens a socket to `base`'s `/graphql`, plays `steps`, and returns what
/// happened within `seconds`.
async fn converse(
    base: &str,
    protocol: &str,
    steps: Vec<Value>,
    seconds: u64,
    origin: Option<&str>,
) -> Conversation {
    let url = format!("{}/graphql", base.replacen("http", "ws", 1));
    let mut args = vec![
        url,
        protocol.to_string(),
        Value::Array(steps).to_string(),
        seconds.to_string(),
    ];
    args.extend(origin.map(String::from));
    let output = tokio::task::spawn_blocking(move || node_client(&args).output())
        .await
        .expect("joins")
        .expect("node runs");
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    Conversation(lines)
}

fn node_client(args: &[String]) -> Command {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    assert!(
        dir.join("node_modules/ws").is_dir(),
        "tests/js/node_modules is missing ws: run `make js-deps`"
    );
    let mut command = Command::new("node");
    command
        .arg(dir.join("ws_frames.mjs"))
        .args(args)
        .current_dir(&dir);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_protocol_breach_closes_the_socket_with_its_code_and_the_node_keeps_serving() {
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[
            ("NEWSDESK_LIVE_INIT_SECONDS", "1"),
            ("NEWSDESK_MAX_BODY_BYTES", "8192"),
        ],
    )
    .await
    else {
        return;
    };
    let base = &app.address;
    let cases: Vec<(&str, Vec<Value>, u64)> = vec![
        ("nothing sent", vec![], 4408),
        (
            "an operation before connection_init",
            vec![subscribe("1")],
            4401,
        ),
        ("text that is not JSON", vec![json!("{not json")], 4400),
        (
            "an unknown message type",
            vec![json!({"json": {"type": "launch"}})],
            4400,
        ),
        (
            "a subscribe without a query",
            vec![
                init(),
                ack(),
                json!({"json": {"type": "subscribe", "id": "1", "payload": {}}}),
            ],
            4400,
        ),
        (
            "a subscribe without a payload",
            vec![
                init(),
                ack(),
                json!({"json": {"type": "subscribe", "id": "1"}}),
            ],
            4400,
        ),
        (
            "a binary frame",
            vec![init(), ack(), json!({"binary": "{}"})],
            4400,
        ),
        (
            "a second connection_init",
            vec![init(), ack(), init()],
            4429,
        ),
        (
            "an id already running",
            vec![init(), ack(), subscribe("1"), subscribe("1")],
            4409,
        ),
        (
            "a message over the body limit",
            vec![init(), ack(), json!({"bytes": 9000})],
            1009,
        ),
    ];
    for (case, steps, code) in cases {
        let started = Instant::now();
        let seen = converse(base, PROTOCOL, steps, 8, None).await;
        let (closed, reason) = seen
            .close()
            .unwrap_or_else(|| panic!("{case}: {:?}", seen.0));
        assert_eq!(closed, code, "{case}: {reason}");
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{case}: closed after {:?}",
            started.elapsed()
        );
    }
    let health = app
        .client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let fine = converse(
        base,
        PROTOCOL,
        vec![init(), ack(), subscribe("1"), json!({"exit": true})],
        8,
        None,
    )
    .await;
    assert!(fine.has("exit") && fine.close().is_none(), "{:?}", fine.0);
    let none = converse(base, "-", vec![], 5, None).await;
    assert!(
        none.0.iter().any(|l| l["refused"] == 400
            && l["body"]
                .as_str()
                .unwrap_or("")
                .contains("graphql-transport-ws")),
        "no subprotocol: {:?}",
        none.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_operation_over_the_limit_is_refused_and_the_socket_stays_open() {
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[("NEWSDESK_LIVE_SUBSCRIPTIONS_PER_CONNECTION", "2")],
    )
    .await
    else {
        return;
    };
    let steps = vec![
        init(),
        ack(),
        subscribe("1"),
        subscribe("2"),
        subscribe("3"),
        json!({"until": "TOO_MANY_SUBSCRIPTIONS"}),
        json!({"json": {"type": "complete", "id": "1"}}),
        subscribe("3"),
        json!({"json": {"type": "ping"}}),
        json!({"until": "pong"}),
        json!({"exit": true}),
    ];
    let seen = converse(&app.address, PROTOCOL, steps, 10, None).await;
    assert!(seen.has("exit") && seen.close().is_none(), "{:?}", seen.0);
    let errors: Vec<Value> = seen
        .messages()
        .into_iter()
        .filter(|m| m["type"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "only the third, once: {errors:?}");
    assert_eq!(errors[0]["id"], "3");
    assert_eq!(
        errors[0]["payload"][0]["extensions"]["code"],
        "TOO_MANY_SUBSCRIPTIONS"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_socket_and_a_silent_client_are_closed_and_a_listening_one_is_not() {
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[
            ("NEWSDESK_LIVE_IDLE_SECONDS", "1"),
            ("NEWSDESK_LIVE_HEARTBEAT_SECONDS", "1"),
        ],
    )
    .await
    else {
        return;
    };
    let base = &app.address;
    let (idle, listening, silent) = tokio::join!(
        converse(base, PROTOCOL, vec![init(), ack()], 8, None),
        converse(
            base,
            PROTOCOL,
            vec![
                init(),
                ack(),
                subscribe("1"),
                json!({"wait": 4000}),
                json!({"exit": true})
            ],
            8,
            None
        ),
        converse(
            base,
            PROTOCOL,
            vec![json!({"silent": true}), init(), ack(), subscribe("1")],
            10,
            None
        ),
    );
    let (code, reason) = idle.close().unwrap_or_else(|| panic!("{:?}", idle.0));
    assert_eq!(
        (code, reason.as_str()),
        (1000, "idle: no operation is running")
    );
    assert!(
        listening.has("exit") && listening.close().is_none(),
        "{:?}",
        listening.0
    );
    assert!(
        listening.has("ping"),
        "a listening client is pinged: {:?}",
        listening.0
    );
    let (code, reason) = silent.close().unwrap_or_else(|| panic!("{:?}", silent.0));
    assert_eq!((code, reason.as_str()), (1001, "no answer to pings"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_another_site_cannot_open_a_socket_unless_it_is_listed() {
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[("NEWSDESK_CORS_ORIGINS", "https://app.example.test")],
    )
    .await
    else {
        return;
    };
    let base = &app.address;
    let open = vec![init(), ack(), json!({"exit": true})];
    let foreign = converse(
        base,
        PROTOCOL,
        open.clone(),
        5,
        Some("https://evil.example.test"),
    )
    .await;
    let refused = foreign
        .0
        .iter()
        .find(|l| l.get("refused").is_some())
        .unwrap_or_else(|| panic!("{:?}", foreign.0));
    assert_eq!(refused["refused"], 403);
    let body: Value =
        serde_json::from_str(refused["body"].as_str().unwrap_or("")).expect("JSON body");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN_ORIGIN");
    for origin in ["https://app.example.test", base.as_str()] {
        let seen = converse(base, PROTOCOL, open.clone(), 5, Some(origin)).await;
        assert!(seen.has("exit"), "{origin}: {:?}", seen.0);
    }
}

/// Starts `newsdesk serve` on a migrated SQLite database; returns the
/// process and its address.
fn serve(db: &TestDb) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsdesk"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("NEWSDESK_BIND", "127.0.0.1:0")
        .env("NEWSDESK_RATE_LIMIT_PER_MINUTE", "0")
        .env(
            "NEWSDESK_SEARCH_DIR",
            std::env::temp_dir().join(format!("nd-sigterm-{}", std::process::id())),
        )
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("newsdesk serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("newsdesk serving on ").map(String::from))
        .expect("the server says where it serves");
    std::thread::spawn(move || lines.for_each(drop));
    (child, address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_every_live_connection_with_going_away_and_the_node_exits() {
    let Some(db) = TestDb::new(Engine::Sqlite) else {
        return;
    };
    migrate(&db);
    let (mut server, base) = serve(&db);
    let socket = {
        let base = base.clone();
        tokio::spawn(async move {
            converse(
                &base,
                PROTOCOL,
                vec![init(), ack(), subscribe("1")],
                20,
                None,
            )
            .await
        })
    };
    let stream = reqwest::Client::new()
        .get(format!("{base}/v1/stream"))
        .send()
        .await
        .expect("stream opens");
    assert_eq!(stream.status(), 200);
    let stream_ended = tokio::spawn(async move {
        let mut stream = stream;
        while let Ok(Some(_)) = stream.chunk().await {}
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stopped = Instant::now();
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill runs");
    let seen = socket.await.expect("joins");
    assert_eq!(
        seen.close(),
        Some((1001, "the server is going away".to_string())),
        "{:?}",
        seen.0
    );
    tokio::time::timeout(Duration::from_secs(10), stream_ended)
        .await
        .expect("the event stream ends")
        .expect("joins");
    let status = tokio::task::spawn_blocking(move || server.wait())
        .await
        .expect("joins")
        .expect("waits");
    assert!(status.success(), "exits cleanly: {status}");
    assert!(
        stopped.elapsed() < Duration::from_secs(10),
        "stopped after {:?}",
        stopped.elapsed()
    );
}
