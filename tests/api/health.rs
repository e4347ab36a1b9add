//! Probes and the request id.

use std::time::{Duration, Instant};

use crate::both_engines;
use crate::helpers::{Engine, TestApp};

both_engines!(probes_answer_when_the_database_is_up);
async fn probes_answer_when_the_database_is_up(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };

    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("healthz");
    let ready = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .expect("readyz");

    assert_eq!(health.status(), 200);
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readyz_fails_fast_when_the_database_is_gone() {
    // Nothing listens on port 1: every connection attempt is refused.
    let address = TestApp::start(
        "postgres://postgres@127.0.0.1:1/none",
        &[("NEWSDESK_MIGRATE_ON_START", "0")],
    )
    .await;
    let client = reqwest::Client::new();

    let started = Instant::now();
    let ready = client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .expect("readyz");
    let elapsed = started.elapsed();
    let health = client
        .get(format!("{address}/healthz"))
        .send()
        .await
        .expect("healthz");

    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    assert_eq!(
        health.status(),
        200,
        "liveness must not depend on the database"
    );
}

both_engines!(request_ids_are_echoed_or_made);
async fn request_ids_are_echoed_or_made(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };

    let given = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("healthz");
    let made = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("healthz");
    let hostile = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "a b\tc")
        .send()
        .await
        .expect("healthz");

    assert_eq!(given.headers()["x-request-id"], "abc-123");
    assert_eq!(made.headers()["x-request-id"].len(), 36);
    assert_ne!(hostile.headers()["x-request-id"], "a b\tc");
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsdesk"))
        .arg("serve")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/n.db", dir.path().display()),
        )
        .env("NEWSDESK_BIND", "127.0.0.1:0")
        .env("NEWSDESK_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a line");
    let url = first.trim().rsplit(' ').next().expect("url").to_string();
    let health = reqwest::get(format!("{url}/healthz"))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still running after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    assert!(status.success(), "exit status {status:?}");
}
