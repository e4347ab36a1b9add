//! Rate limits: per client address (H. T-HTTP-4), per account for mutations.

use serde_json::json;

use crate::editorial::{Newsroom, SECRET};
use crate::helpers::{Engine, TestApp};

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
async fn t_http_4_a_spoofed_forwarded_for_does_not_escape_the_limit() {
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
