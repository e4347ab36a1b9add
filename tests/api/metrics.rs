//! `GET /metrics`: request metrics by route template, method and status,
//! with label values that stay bounded whatever clients send, in a text
//! `promtool check metrics` accepts.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

use crate::both_engines;
use crate::helpers::{piped, Engine, TestApp};

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

/// The server's `/metrics` text.
async fn scrape(client: &reqwest::Client, address: &str) -> String {
    client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
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
    // The same query twice: the second is answered from the response cache.
    for _ in 0..2 {
        app.graphql("{ site { name } }").await;
    }
    for _ in 0..2 {
        client
            .get(format!("{}/v1/sections", app.address))
            .send()
            .await
            .expect("sections");
    }
    let text = scrape(client, &app.address).await;
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
    assert!(
        sample(
            &text,
            "newsdesk_graphql_operations_total{operation=\"anonymous\",outcome=\"cached\",type=\"query\"}"
        ) >= 1.0,
        "{text}"
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
        41.0, // the 40 named operations and the first of the repeated query
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

    let checked = piped(
        Command::new("promtool").args(["check", "metrics"]),
        text.as_bytes(),
    );
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
    let text = scrape(&app.client, &app.address).await;
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

/// A child process stopped when the test ends, passed or not.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real Prometheus (Debian's package) scraping a running server; asked
/// through its HTTP API for the request rate and a latency quantile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_server_and_computes_rates_and_quantiles() {
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let folder = tempfile::tempdir().expect("folder");
    let target = app.address.trim_start_matches("http://").to_string();
    let config = folder.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: newsdesk\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .expect("config");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("address")
        .port();
    let _prometheus = Stopped(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                folder.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus runs (Debian's prometheus package: make monitoring-deps)"),
    );
    let api = format!("http://127.0.0.1:{port}/api/v1/query");
    let ask = |query: &'static str| {
        let (client, api) = (app.client.clone(), api.clone());
        async move {
            let answer: serde_json::Value = client
                .get(&api)
                .query(&[("query", query)])
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            answer["data"]["result"][0]["value"][1]
                .as_str()?
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
        }
    };
    // Traffic while Prometheus scrapes, until both answers are there.
    let started = std::time::Instant::now();
    let (rate, p99) = loop {
        for _ in 0..20 {
            app.client
                .get(format!("{}/v1/sections", app.address))
                .send()
                .await
                .expect("get");
        }
        let rate =
            ask(r#"sum(rate(newsdesk_http_requests_total{route="/v1/sections"}[5s]))"#).await;
        let p99 = ask(
            r#"histogram_quantile(0.99, sum by (le) (rate(newsdesk_http_request_duration_seconds_bucket{route="/v1/sections"}[5s])))"#,
        )
        .await;
        if let (Some(rate), Some(p99)) = (rate, p99) {
            break (rate, p99);
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "Prometheus never computed the rate ({rate:?}) and p99 ({p99:?})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(rate > 1.0, "requests per second: {rate}");
    assert!(p99 <= 10.0, "p99 within the buckets: {p99}");
}

/// Metric names in a text of PromQL: `newsdesk_…`, a histogram's series
/// read as its family.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("newsdesk_") {
        let word: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + word.len()..];
        let family = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| word.strip_suffix(s))
            .unwrap_or(&word);
        names.insert(family.to_string());
    }
    names
}

#[tokio::test]
async fn the_dashboard_and_alert_rules_use_only_metrics_the_server_exports() {
    let Some(app) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/monitoring");
    let rules = docs.join("alerts.yml");
    let checked = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .expect("promtool runs (make monitoring-deps)");
    assert!(
        checked.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(docs.join("dashboard.json")).expect("dashboard"),
    )
    .expect("the dashboard is JSON");
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_string))
        .collect();
    assert!(exprs.len() >= 10, "{exprs:?}");
    // A labelled family is exported once it has a sample.
    app.graphql("{ site { name } }").await;
    app.graphql("{ nothing }").await;
    let text = scrape(&app.client, &app.address).await;
    let exported: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect();
    let mut named = metric_names(&std::fs::read_to_string(&rules).expect("rules"));
    named.extend(exprs.iter().flat_map(|e| metric_names(e)));
    let unknown: Vec<&String> = named.difference(&exported).collect();
    assert!(unknown.is_empty(), "not exported: {unknown:?}");
    assert!(named.len() >= 12, "{named:?}");
}

both_engines!(logins_and_refused_tokens_are_counted_without_names);
async fn logins_and_refused_tokens_are_counted_without_names(engine: Engine) {
    let Some(room) = crate::helpers::Newsroom::open(engine).await else {
        return;
    };
    for n in 0..5 {
        room.as_user(
            None,
            &format!(r#"mutation {{ login(username: "nobody-{n}", password: "wrong password {n}") {{ token }} }}"#),
        )
        .await;
    }
    for n in 0..20 {
        room.as_user(Some(&format!("junk.token.{n}")), "{ site { name } }")
            .await;
    }
    room.as_user(Some(&room.token("editor")), "{ me { username } }")
        .await;
    // One account tried six times: the sixth is throttled.
    for n in 0..6 {
        room.as_user(
            None,
            &format!(r#"mutation {{ login(username: "editor", password: "wrong password {n}") {{ token }} }}"#),
        )
        .await;
    }
    let text = scrape(&room.app.client, &room.app.address).await;
    assert_eq!(
        sample(&text, "newsdesk_logins_total{outcome=\"BAD_USER_INPUT\"}"),
        10.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "newsdesk_login_throttled_total "),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "newsdesk_logins_total{outcome=\"TOO_MANY_REQUESTS\"}"
        ),
        1.0,
        "{text}"
    );
    let labels = label_values(&text);
    assert!(labels["reason"].len() <= 3, "{:?}", labels["reason"]);
    let refused: f64 = text
        .lines()
        .filter(|l| l.starts_with("newsdesk_token_refusals_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(refused >= 20.0, "{text}");
    for secret in ["nobody-", "junk.token", "wrong password", "editor"] {
        assert!(!text.contains(secret), "{secret} reached the metrics");
    }
}
