//! `GET /metrics`: request metrics by route template, method and status,
//! with label values that stay bounded whatever clients send, in a text
//! `promtool check metrics` accepts.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

use crate::both_engines;
use crate::helpers::{Engine, TestApp};

/// Every label value of every sample, by label name.
fn label_values(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((_, rest)) = line.split_once('{') else {
            continue;
        };
        let Some((inside, _)) = rest.rsplit_once('}') else {
            continue;
        };
        for pair in inside.split("\",") {
            if let Some((name, value)) = pair.split_once("=\"") {
                labels
                    .entry(name.to_string())
                    .or_default()
                    .insert(value.trim_end_matches('"').to_string());
            }
        }
    }
    labels
}

fn sample(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {prefix} in\n{text}"))
}

both_engines!(request_metrics_have_bounded_labels_and_pass_promtool);
async fn request_metrics_have_bounded_labels_and_pass_promtool(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let client = &app.client;
    // Input that would grow a careless label set: ids, slugs, paths,
    // methods and queries, each different.
    for n in 0..40 {
        for path in [
            format!("/v1/articles/{n}"),
            format!("/v1/articles/slug-{n}"),
            format!("/no/such/path/{n}"),
            format!("/v1/search?q=word{n}"),
        ] {
            client
                .get(format!("{}{path}", app.address))
                .send()
                .await
                .expect("get");
        }
        client
            .request(
                reqwest::Method::from_bytes(format!("X{n}").as_bytes()).expect("method"),
                format!("{}/healthz", app.address),
            )
            .send()
            .await
            .expect("odd method");
        app.graphql(&format!("query Named{n} {{ q{n}: site {{ name }} }}"))
            .await;
        app.graphql(&format!("{{ nothing{n} }}")).await;
    }
    for _ in 0..2 {
        client
            .get(format!("{}/v1/sections", app.address))
            .send()
            .await
            .expect("sections");
    }
    let text = client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let labels = label_values(&text);
    let routes = &labels["route"];
    assert!(routes.len() <= 8, "routes grew with input: {routes:?}");
    for route in routes {
        assert!(
            !route
                .replace("/v1/", "/")
                .chars()
                .any(|c| c.is_ascii_digit())
                && !route.contains("slug-"),
            "an id or slug became a label: {route}"
        );
    }
    assert!(
        routes.contains("/v1/articles/{key}") && routes.contains("unmatched"),
        "{routes:?}"
    );
    assert!(labels["method"].len() <= 8, "{:?}", labels["method"]);
    assert!(labels["method"].contains("OTHER"), "{:?}", labels["method"]);
    for (name, values) in &labels {
        assert!(
            values.len() <= 30,
            "label {name} has {} values: {values:?}",
            values.len()
        );
    }
    // 40 of each, counted under the template.
    let article_404s = text
        .lines()
        .filter(|l| {
            l.starts_with("newsdesk_http_requests_total{")
                && l.contains("route=\"/v1/articles/{key}\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>();
    assert_eq!(article_404s, 80.0, "{text}");
    assert!(
        sample(
            &text,
            "newsdesk_http_request_duration_seconds_count{method=\"POST\",route=\"/graphql\"}"
        ) >= 40.0
    );
    assert_eq!(
        sample(&text, "newsdesk_http_requests_in_flight"),
        1.0,
        "the scrape itself"
    );
    // The node's state: the pool, the response cache (the sections list
    // is cached once asked for), the outbox.
    assert!(sample(&text, "newsdesk_db_pool_max_connections ") >= 1.0);
    assert!(sample(&text, "newsdesk_db_pool_connections{state=\"idle\"}") >= 0.0);
    assert!(
        sample(&text, "newsdesk_response_cache_entries ") >= 1.0,
        "{text}"
    );
    assert!(sample(&text, "newsdesk_response_cache_bytes ") > 0.0);
    assert_eq!(sample(&text, "newsdesk_webhook_outbox_pending "), 0.0);
    assert_eq!(
        sample(&text, "newsdesk_webhook_outbox_oldest_pending_seconds "),
        0.0
    );
    // Operation names are the client's: they never become labels.
    assert_eq!(
        labels["operation"],
        BTreeSet::from(["anonymous".to_string()])
    );
    assert_eq!(
        sample(
            &text,
            "newsdesk_graphql_operations_total{operation=\"anonymous\",outcome=\"ok\",type=\"query\"}"
        ),
        40.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            "newsdesk_graphql_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"}"
        ) >= 40.0,
        "{text}"
    );
    let engine_label = format!(
        "engine=\"{}\"",
        if engine == Engine::Postgres {
            "postgres"
        } else {
            "sqlite"
        }
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("newsdesk_build_info{") && l.contains(&engine_label)),
        "{text}"
    );

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (Debian's prometheus package: make monitoring-deps)");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let checked = promtool.wait_with_output().expect("promtool");
    assert!(
        checked.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

both_engines!(the_outbox_gauges_show_events_waiting_for_a_dead_endpoint);
async fn the_outbox_gauges_show_events_waiting_for_a_dead_endpoint(engine: Engine) {
    // The delivery worker polls rarely here, so events wait in the outbox.
    let Some(app) = TestApp::spawn_with(engine, &[("NEWSDESK_WEBHOOK_POLL_MS", "600000")]).await
    else {
        return;
    };
    {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        newsdesk::db::webhooks::register(
            &mut conn,
            "http://127.0.0.1:9/hook",
            &["article.published".to_string()],
            "a webhook secret of some length",
        )
        .expect("hook");
        for n in 0..3 {
            newsdesk::db::webhooks::enqueue(
                &mut conn,
                "article.published",
                &serde_json::json!({ "n": n }),
            )
            .expect("event");
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert_eq!(
        sample(&text, "newsdesk_webhook_outbox_pending "),
        3.0,
        "{text}"
    );
    assert!(
        sample(&text, "newsdesk_webhook_outbox_oldest_pending_seconds ") >= 1.0,
        "{text}"
    );
}
