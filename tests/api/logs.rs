//! T-LOG-1: with every log level on, nothing a caller must keep secret
//! reaches the logs — not a password, a token, a partner key, a webhook
//! secret or the server's own signing secret.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::SECRET;
use crate::helpers::{migrate, Engine, TestDb};

const PASSWORD: &str = "correct-horse-battery-staple-42";
const WEBHOOK_SECRET: &str = "whsec-never-in-a-log-0123456789";

async fn post(client: &reqwest::Client, base: &str, token: Option<&str>, query: &str) -> Value {
    let mut request = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secrets_reach_the_logs_even_at_trace_level_t_log_1() {
    let db = TestDb::new(Engine::Sqlite).expect("db");
    migrate(&db);
    let partner_key = {
        let database = db.database();
        let mut conn = database.get().expect("connection");
        let hash = newsdesk::auth::passwords::hash(PASSWORD).expect("hash");
        newsdesk::db::users::create(
            &mut conn,
            "chief",
            newsdesk::domain::Role::Admin,
            Some(&hash),
        )
        .expect("user");
        newsdesk::db::partners::add(&mut conn, "portal", 600).expect("partner")
    };
    let logs = tempfile::NamedTempFile::new().expect("log file");
    let mut server = Command::new(env!("CARGO_BIN_EXE_newsdesk"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("NEWSDESK_BIND", "127.0.0.1:0")
        .env("NEWSDESK_JWT_SECRET", SECRET)
        .env("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "1")
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(logs.reopen().expect("log file")))
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("address line");
    let base = line.trim().rsplit(' ').next().expect("address").to_string();
    let client = reqwest::Client::new();

    let login = post(
        &client,
        &base,
        None,
        &format!(r#"mutation {{ login(username: "chief", password: "{PASSWORD}") {{ token }} }}"#),
    )
    .await;
    let token = login["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login failed: {login}"))
        .to_string();
    let wrong = post(
        &client,
        &base,
        None,
        r#"mutation { login(username: "chief", password: "not-the-password-9") { token } }"#,
    )
    .await;
    assert!(wrong["errors"].is_array(), "{wrong}");
    let me = post(&client, &base, Some(&token), "{ me { username } }").await;
    assert_eq!(me["data"]["me"]["username"], "chief", "{me}");
    let hook = post(
        &client,
        &base,
        Some(&token),
        &format!(
            r#"mutation {{ registerWebhook(url: "http://127.0.0.1:9/hook", events: ["*"], secret: "{WEBHOOK_SECRET}") {{ databaseId }} }}"#
        ),
    )
    .await;
    assert!(
        hook["data"]["registerWebhook"]["databaseId"].is_i64(),
        "{hook}"
    );
    let feed = client
        .get(format!("{base}/v1/articles"))
        .header("x-api-key", &partner_key)
        .send()
        .await
        .expect("partner request");
    assert_eq!(feed.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = server.kill();
    let _ = server.wait();

    let written = std::fs::read_to_string(logs.path()).expect("logs");
    assert!(
        written.lines().count() > 10,
        "trace logging was not on: {written}"
    );
    for (what, secret) in [
        ("the password", PASSWORD),
        ("a wrong password", "not-the-password-9"),
        ("the token", token.as_str()),
        ("the partner key", partner_key.as_str()),
        ("the webhook secret", WEBHOOK_SECRET),
        ("the signing secret", SECRET),
    ] {
        assert!(!written.contains(secret), "{what} is in the logs");
    }
    assert!(
        !written.to_ascii_lowercase().contains("bearer "),
        "an Authorization header is in the logs"
    );
}
