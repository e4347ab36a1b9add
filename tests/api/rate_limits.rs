//! Rate limits: per client address (H. T-HTTP-4), per account for mutations.

use serde_json::json;

use crate::helpers::{Engine, TestApp};
use crate::helpers::{Newsroom, SECRET};

async fn statuses(app: &TestApp, n: usize, forwarded_for: impl Fn(usize) -> String) -> Vec<u16> {
    let mut out = Vec::new();
    for i in 0..n {
        let response = app
            .client
            .get(format!("{}/v1/sections", app.address))
            .header("x-forwarded-for", forwarded_for(i))
            .send()
            .await
            .expect("get");
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
            let body: serde_json::Value = response.json().await.expect("json");
            assert_eq!(body["error"]["code"], "TOO_MANY_REQUESTS");
            out.push(429);
        } else {
            out.push(response.status().as_u16());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoofed_forwarded_for_does_not_escape_the_limit_t_http_4() {
    let app = TestApp::spawn_with(Engine::Sqlite, &[("NEWSDESK_RATE_LIMIT_PER_MINUTE", "5")])
        .await
        .expect("app");
    let seen = statuses(&app, 8, |i| format!("198.51.100.{i}")).await;
    assert_eq!(seen, [200, 200, 200, 200, 200, 429, 429, 429]);
    let probe = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("healthz");
    assert_eq!(probe.status(), 200, "probes are never limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget() {
    let app = TestApp::spawn_with(
        Engine::Sqlite,
        &[
            ("NEWSDESK_RATE_LIMIT_PER_MINUTE", "3"),
            ("NEWSDESK_TRUSTED_PROXIES", "127.0.0.1/32"),
        ],
    )
    .await
    .expect("app");
    let first = statuses(&app, 4, |_| "203.0.113.1".into()).await;
    assert_eq!(first, [200, 200, 200, 429]);
    // A client cannot pick another bucket by prepending addresses: the
    // right-most one our proxy did not add is the client.
    let spoofed = statuses(&app, 1, |_| "192.0.2.99, 203.0.113.1".into()).await;
    assert_eq!(spoofed, [429]);
    let other = statuses(&app, 3, |_| "203.0.113.2".into()).await;
    assert_eq!(other, [200, 200, 200]);
}

/// Statuses of `n` requests from one client behind the proxy, each with the
/// header lines `lines(i)` in that order.
async fn statuses_with_lines(
    app: &TestApp,
    n: usize,
    lines: impl Fn(usize) -> Vec<(&'static str, String)>,
) -> Vec<u16> {
    let mut out = Vec::new();
    for i in 0..n {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in lines(i) {
            headers.append(name, value.parse().expect("header value"));
        }
        let response = app
            .client
            .get(format!("{}/v1/sections", app.address))
            .headers(headers)
            .send()
            .await
            .expect("get");
        out.push(response.status().as_u16());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_line_before_the_proxy_line_does_not_pick_the_bucket_t_http_4() {
    let app = TestApp::spawn_with(
        Engine::Sqlite,
        &[
            ("NEWSDESK_RATE_LIMIT_PER_MINUTE", "3"),
            ("NEWSDESK_TRUSTED_PROXIES", "127.0.0.1/32"),
        ],
    )
    .await
    .expect("app");

    // The client sends its own X-Forwarded-For line, a new address each
    // time; the proxy appends a second line with the address it saw.
    let two_lines = statuses_with_lines(&app, 5, |i| {
        vec![
            ("x-forwarded-for", format!("192.0.2.{i}")),
            ("x-forwarded-for", "203.0.113.5".into()),
        ]
    })
    .await;
    // RFC 7239: the same, with the client's element and the proxy's.
    let forwarded = statuses_with_lines(&app, 5, |i| {
        vec![
            ("forwarded", format!("for=192.0.2.{i}")),
            (
                "forwarded",
                r#"for="[2001:db8::7]:4711";proto=https"#.into(),
            ),
        ]
    })
    .await;
    // The proxy writes X-Forwarded-For; the client adds Forwarded naming
    // someone else: it still counts against its own address.
    let other_header = statuses_with_lines(&app, 2, |i| {
        vec![
            ("x-forwarded-for", "203.0.113.5".into()),
            ("forwarded", format!("for=192.0.2.{}", 100 + i)),
        ]
    })
    .await;

    assert_eq!(two_lines, [200, 200, 200, 429, 429]);
    assert_eq!(forwarded, [200, 200, 200, 429, 429]);
    assert_eq!(other_header, [429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_are_limited_per_account() {
    let app = TestApp::spawn_with(
        Engine::Sqlite,
        &[
            ("NEWSDESK_JWT_SECRET", SECRET),
            ("NEWSDESK_MUTATIONS_PER_MINUTE", "2"),
        ],
    )
    .await
    .expect("app");
    let room = Newsroom::adopt(app);
    let token = room.token("reporter-a");
    let create = r#"mutation { createArticle(input: {title: "限流", section: "lin-yi", paragraphs: ["正文。"]}) { databaseId } }"#;
    let mut codes = Vec::new();
    for _ in 0..3 {
        let (_, body) = room
            .app
            .graphql_with(
                create,
                json!({}),
                &[("authorization", &format!("Bearer {token}"))],
            )
            .await;
        codes.push(
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("OK")
                .to_string(),
        );
    }
    assert_eq!(codes, ["OK", "OK", "TOO_MANY_REQUESTS"]);
    // Another account is not affected; reads are not mutations.
    let (_, other) = room
        .app
        .graphql_with(
            create,
            json!({}),
            &[(
                "authorization",
                &format!("Bearer {}", room.token("reporter-b")),
            )],
        )
        .await;
    assert!(other.get("errors").is_none(), "{other}");
}

/// Redis on this machine; the tests that need it fail loudly without it.
const REDIS: &str = "redis://127.0.0.1:6379/0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_sharing_redis_share_one_limit() {
    // Each test run counts under its own prefix, so parallel runs do not meet.
    let prefix = format!("newsdesk-test-{}", uuid::Uuid::new_v4().simple());
    let vars = [
        ("NEWSDESK_RATE_LIMIT_PER_MINUTE", "10"),
        ("NEWSDESK_REDIS_URL", REDIS),
        ("NEWSDESK_REDIS_PREFIX", prefix.as_str()),
    ];
    let a = TestApp::spawn_with(Engine::Sqlite, &vars)
        .await
        .expect("node A");
    let b = TestApp::spawn_with(Engine::Sqlite, &vars)
        .await
        .expect("node B");
    // The counts are per minute: start with enough of the minute left.
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() % 60)
        .unwrap_or_default();
    if second > 50 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - second)).await;
    }

    let from_a = statuses(&a, 6, |_| "203.0.113.9".into()).await;
    let from_b = statuses(&b, 6, |_| "203.0.113.9".into()).await;

    assert_eq!(from_a, [200; 6], "node A is under the shared limit");
    assert_eq!(
        from_b,
        [200, 200, 200, 200, 429, 429],
        "node B counts node A's requests too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_stops_the_start_with_its_variable_named() {
    let db = crate::helpers::TestDb::new(Engine::Sqlite).expect("db");
    let map = std::collections::HashMap::from([
        ("DATABASE_URL".to_string(), db.url.clone()),
        ("NEWSDESK_BIND".to_string(), "127.0.0.1:0".to_string()),
        (
            "NEWSDESK_REDIS_URL".to_string(),
            "redis://127.0.0.1:1/0".to_string(),
        ),
    ]);
    let config = newsdesk::config::Config::from_lookup(|k| map.get(k).cloned()).expect("config");
    let error = newsdesk::startup::Application::build(config)
        .await
        .err()
        .expect("refused to start");
    assert!(
        error
            .to_string()
            .starts_with("NEWSDESK_REDIS_URL: cannot reach Redis"),
        "{error}"
    );
}
