//! How `/metrics` is exported: OpenMetrics for scrapers that prefer it
//! (checked by the Prometheus client's reference parser), an address of
//! its own (`NEWSDESK_METRICS_BIND`), off (`NEWSDESK_METRICS=0`); and the
//! figures read from the parts that keep them (pool, statements, response
//! cache, deliveries, the scheduler's backlog) moving with real work.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::both_engines;
use crate::helpers::receiver::Receiver;
use crate::helpers::{piped, venv_program, Engine, Newsroom, TestApp};

const OPENMETRICS: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

async fn get(url: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("get");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, kind, response.text().await.expect("text"))
}

/// A sample's value: the line starting with `series` (name and labels).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// The families the reference OpenMetrics parser reads from `text`.
fn parsed(text: &str) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/openmetrics_check.py"
    );
    let output = piped(
        Command::new(venv_program("python")).arg(script),
        text.as_bytes(),
    );
    assert!(
        output.status.success(),
        "the OpenMetrics parser refused the text: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

both_engines!(openmetrics_is_served_to_scrapers_that_prefer_it_and_parses);
async fn openmetrics_is_served_to_scrapers_that_prefer_it_and_parses(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    app.import_seed();
    for _ in 0..2 {
        let _ = app
            .client
            .get(format!("{}/v1/articles?first=2", app.address))
            .send()
            .await
            .expect("get");
    }
    let _ = app
        .graphql("{ articles(first: 2) { nodes { title } } }")
        .await;
    let url = format!("{}/metrics", app.address);
    let (status, kind, text) = get(&url, Some(OPENMETRICS)).await;
    assert_eq!(status, 200);
    assert!(
        kind.starts_with("application/openmetrics-text; version=1.0.0"),
        "{kind}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
    let families = parsed(&text);
    for (name, kind) in [
        ("newsdesk_http_requests", "counter"),
        ("newsdesk_http_request_duration_seconds", "histogram"),
        ("newsdesk_sql_statements", "counter"),
        ("newsdesk_db_pool_acquire_seconds", "histogram"),
        ("newsdesk_db_statement_duration_seconds", "histogram"),
        ("newsdesk_db_pool_waiting", "gauge"),
        ("newsdesk_response_cache_lookups", "counter"),
        ("newsdesk_webhook_delivery_attempts", "counter"),
        ("newsdesk_build", "info"),
        ("newsdesk_live_connections", "gauge"),
        ("newsdesk_live_subscriptions", "gauge"),
        ("newsdesk_login_throttled", "counter"),
        ("newsdesk_scheduler_lag_seconds", "gauge"),
        ("newsdesk_search_index_lag_entries", "gauge"),
    ] {
        assert_eq!(families[name]["type"], kind, "{name}: {families}");
        assert!(
            families[name]["samples"].as_u64() > Some(0),
            "{name}: {families}"
        );
    }
    // The same registry in the Prometheus text format otherwise.
    let (_, kind, plain) = get(&url, Some("text/plain")).await;
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    assert!(!plain.contains("# EOF"));
    assert!(plain.contains("# TYPE newsdesk_http_requests_total counter"));
    let (_, kind, _) = get(&url, None).await;
    assert!(kind.starts_with("text/plain"), "{kind}");
}

both_engines!(the_pool_statements_and_cache_figures_move_with_real_work);
async fn the_pool_statements_and_cache_figures_move_with_real_work(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let editor = room.token("editor");
    let publish = |id: i32| format!(r#"mutation {{ publishArticle(id: "{id}") {{ status }} }}"#);
    let first = room.draft("reporter-a", "第一篇").await;
    let published = room.as_user(Some(&editor), &publish(first)).await;
    assert_eq!(
        published["data"]["publishArticle"]["status"], "PUBLISHED",
        "{published}"
    );
    let app = &room.app;
    let url = format!("{}/metrics", app.address);
    let (_, _, before) = get(&url, None).await;
    let query = "{ articles(first: 3) { nodes { title section { name } } } }";
    for _ in 0..3 {
        let body = app.graphql(query).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let (_, _, after) = get(&url, None).await;
    let grew = |series: &str| {
        let was = value(&before, series).unwrap_or(0.0);
        let now = value(&after, series).unwrap_or_else(|| panic!("no {series} in\n{after}"));
        assert!(now > was, "{series}: {was} → {now}");
    };
    grew(r#"newsdesk_db_pool_acquire_seconds_count{pool="primary"}"#);
    grew(r#"newsdesk_db_statement_duration_seconds_count{pool="primary"}"#);
    grew("newsdesk_sql_statements_total");
    // The first of three identical queries missed; the next two hit.
    grew(r#"newsdesk_response_cache_lookups_total{result="hit"}"#);
    grew(r#"newsdesk_response_cache_lookups_total{result="miss"}"#);
    // Every statement is timed: the histogram counts what the counter does.
    let counted = value(&after, "newsdesk_sql_statements_total").expect("statements");
    let timed = value(
        &after,
        r#"newsdesk_db_statement_duration_seconds_count{pool="primary"}"#,
    )
    .expect("timed");
    // Background jobs may have a statement running at the scrape.
    assert!(
        counted >= timed && counted - timed <= 4.0,
        "{counted} vs {timed}\n{after}"
    );
    assert_eq!(
        value(&after, r#"newsdesk_db_pool_waiting{pool="primary"}"#),
        Some(0.0)
    );

    // A publication makes a cached answer stale.
    let id = room.draft("reporter-a", "指標稿件").await;
    let published = room.as_user(Some(&editor), &publish(id)).await;
    assert_eq!(
        published["data"]["publishArticle"]["status"], "PUBLISHED",
        "{published}"
    );
    let _ = room.app.graphql(query).await;
    let (_, _, last) = get(&url, None).await;
    let stale = value(
        &last,
        r#"newsdesk_response_cache_lookups_total{result="stale"}"#,
    )
    .unwrap_or(0.0)
        + value(
            &last,
            r#"newsdesk_response_cache_lookups_total{result="miss"}"#,
        )
        .unwrap_or(0.0);
    let before_stale = value(
        &after,
        r#"newsdesk_response_cache_lookups_total{result="stale"}"#,
    )
    .unwrap_or(0.0)
        + value(
            &after,
            r#"newsdesk_response_cache_lookups_total{result="miss"}"#,
        )
        .unwrap_or(0.0);
    assert!(stale > before_stale, "{last}");
    assert!(
        value(&last, "newsdesk_cache_tag_clock_advances_total")
            > value(&after, "newsdesk_cache_tag_clock_advances_total"),
        "{last}"
    );
}

both_engines!(deliveries_and_the_scheduler_backlog_are_counted);
async fn deliveries_and_the_scheduler_backlog_are_counted(engine: Engine) {
    let Some(room) = Newsroom::open_with(
        engine,
        &[
            ("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "1"),
            ("NEWSDESK_WEBHOOK_POLL_MS", "100"),
            // The scheduler waits an hour: a due article stays due.
            ("NEWSDESK_SCHEDULER_POLL_MS", "3600000"),
        ],
    )
    .await
    else {
        return;
    };
    let ok = Receiver::start(0).await;
    let failing = Receiver::start(usize::MAX).await;
    for hook in [&ok.url, &failing.url] {
        let registered = room
            .as_user(
                Some(&room.token("admin")),
                &format!(
                    r#"mutation {{ registerWebhook(url: "{hook}", events: ["article.published"], secret: "s3cret-0123456789abcdef") {{ databaseId }} }}"#
                ),
            )
            .await;
        assert!(
            registered["data"]["registerWebhook"]["databaseId"].is_number(),
            "{registered}"
        );
    }
    let url = format!("{}/metrics", room.app.address);
    let (_, _, before) = get(&url, None).await;
    assert_eq!(
        value(&before, "newsdesk_scheduler_lag_seconds"),
        Some(0.0),
        "{before}"
    );
    let editor = room.token("editor");
    let now_id = room.draft("reporter-a", "即時稿件").await;
    let published = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ publishArticle(id: "{now_id}") {{ status }} }}"#),
        )
        .await;
    assert_eq!(
        published["data"]["publishArticle"]["status"], "PUBLISHED",
        "{published}"
    );
    let later_id = room.draft("reporter-a", "定時稿件").await;
    let at = (chrono::Utc::now() + chrono::Duration::milliseconds(500)).to_rfc3339();
    let scheduled = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ publishArticle(id: "{later_id}", at: "{at}") {{ status }} }}"#),
        )
        .await;
    assert_eq!(
        scheduled["data"]["publishArticle"]["status"], "SCHEDULED",
        "{scheduled}"
    );
    ok.wait_for(|h| !h.is_empty(), Duration::from_secs(20))
        .await;
    failing
        .wait_for(|h| !h.is_empty(), Duration::from_secs(20))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, _, after) = get(&url, None).await;
    assert!(
        value(
            &after,
            r#"newsdesk_webhook_delivery_attempts_total{class="2xx"}"#
        ) >= Some(1.0),
        "{after}"
    );
    assert!(
        value(
            &after,
            r#"newsdesk_webhook_delivery_attempts_total{class="5xx"}"#
        ) >= Some(1.0),
        "{after}"
    );
    assert_eq!(
        value(
            &after,
            r#"newsdesk_webhook_delivery_attempts_total{class="error"}"#
        ),
        Some(0.0)
    );
    let lag = value(&after, "newsdesk_scheduler_lag_seconds").expect("lag");
    assert!(lag > 0.5, "a due article waits, the lag shows it: {lag}");
}

#[tokio::test]
async fn metrics_can_have_an_address_of_their_own_or_be_off() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = free.local_addr().expect("addr").port();
    drop(free);
    let bind = format!("127.0.0.1:{port}");
    let Some(apart) =
        TestApp::spawn_with(Engine::Sqlite, &[("NEWSDESK_METRICS_BIND", &bind)]).await
    else {
        return;
    };
    let (status, _, _) = get(&format!("{}/metrics", apart.address), None).await;
    assert_eq!(status, 404, "the API's address keeps /metrics private");
    let _ = apart
        .graphql("{ articles(first: 1) { nodes { title } } }")
        .await;
    let (status, _, text) = get(&format!("http://{bind}/metrics"), None).await;
    assert_eq!(status, 200);
    assert!(
        value(
            &text,
            r#"newsdesk_http_requests_total{method="POST",route="/graphql",status="200"}"#
        ) >= Some(1.0),
        "{text}"
    );
    let (status, _, _) = get(
        &format!("http://{bind}/graphql?query=%7B__typename%7D"),
        None,
    )
    .await;
    assert_eq!(status, 404, "the metrics address serves nothing else");

    let Some(off) = TestApp::spawn_with(Engine::Sqlite, &[("NEWSDESK_METRICS", "0")]).await else {
        return;
    };
    let body = off
        .graphql("{ articles(first: 1) { nodes { title } } }")
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let (status, _, _) = get(&format!("{}/metrics", off.address), None).await;
    assert_eq!(status, 404);
}
