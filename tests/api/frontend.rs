//! The front-end contract (issue #17): what browsers, Apollo, GraphiQL and
//! GraphQL Code Generator need from the server. Some checks run the real
//! client libraries (graphql-js, graphql-http, codegen) from `tests/js`,
//! installed by `make test` (`make js-deps`).

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::{Engine, TestApp, NO_POLLING};

const ORIGIN: &str = "https://www.example.test";
const APOLLO_ACCEPT: &str = "application/graphql-response+json,application/json;q=0.9";

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// Runs `node tests/js/{script} {args}`; its stdout, or a panic with both streams.
pub(crate) fn node(script: &str, args: &[&str]) -> String {
    let dir = js_dir();
    assert!(
        dir.join("node_modules").is_dir(),
        "tests/js/node_modules is missing: run `make js-deps` (npm ci in tests/js)"
    );
    let output = Command::new("node")
        .arg(dir.join(script))
        .args(args)
        .current_dir(&dir)
        .output()
        .expect("node runs (Node 20 or later on PATH)");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "node {script} failed\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

async fn introspecting(engine: Engine) -> Option<TestApp> {
    let mut vars = NO_POLLING.to_vec();
    vars.push(("NEWSDESK_INTROSPECTION", "1"));
    TestApp::spawn_with(engine, &vars).await
}

fn vary(headers: &HeaderMap) -> Vec<String> {
    let lines: Vec<_> = headers.get_all("vary").iter().collect();
    assert_eq!(lines.len(), 1, "one Vary header, got {lines:?}");
    lines[0]
        .to_str()
        .expect("text")
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .collect()
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

// 1. Introspection

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_js_standard_introspection_queries_run_when_introspection_is_on() {
    let Some(app) = introspecting(Engine::Sqlite).await else {
        return;
    };

    let out = node("introspection.mjs", &[&app.address]);

    assert!(out.contains("everything: "), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_at_depth_is_refused_even_beside_introspection() {
    let Some(app) = introspecting(Engine::Sqlite).await else {
        return;
    };
    let deep_data = "{ __schema { description } articles { edges { node { section { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } } } } }";
    let schema_only = "{ __schema { types { fields { args { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } }";

    let mixed = app.graphql(deep_data).await;
    let allowed = app.graphql(schema_only).await;

    assert_eq!(code(&mixed), "QUERY_TOO_DEEP", "{mixed}");
    assert!(allowed["errors"].is_null(), "{allowed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_nested_beyond_what_graphql_js_sends_stays_bounded() {
    let Some(app) = introspecting(Engine::Sqlite).await else {
        return;
    };
    let of_types = (0..30).fold("name".to_string(), |inner, _| {
        format!("ofType {{ {inner} }}")
    });
    let chain = format!("{{ __type(name: \"Article\") {{ {of_types} }} }}");
    // Depth 11: only the exemption could let it through, and it does not
    // apply to lists nested in lists nested in lists.
    let circular = "{ __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }";

    let chained = app.graphql(&chain).await;
    let multiplied = app.graphql(circular).await;

    assert_eq!(code(&chained), "QUERY_TOO_DEEP", "{chained}");
    assert_eq!(code(&multiplied), "QUERY_TOO_DEEP", "{multiplied}");
}

// 2. GraphiQL

/// The `src`/`href` values of an HTML page.
fn linked(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for piece in html.split(attribute).skip(1) {
            found.push(piece.split('"').next().unwrap_or("").to_string());
        }
    }
    found
}

/// Hosts a bundle may name in text without ever loading from them: XML
/// namespaces, JSON Schema ids and links in messages and licences.
const REFERENCE_ONLY_HOSTS: [&str; 11] = [
    "www.w3.org",
    "json-schema.org",
    "github.com",
    "code.visualstudio.com",
    "react.dev",
    "yarnpkg.com",
    "prettier.io",
    "microsoft.com",
    "en.wikipedia.org",
    "commonmark.org",
    "go.microsoft.com",
];

fn external_hosts(text: &str) -> Vec<String> {
    let mut hosts = Vec::new();
    for scheme in ["http://", "https://", "ws://", "wss://"] {
        for piece in text.split(scheme).skip(1) {
            let host: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                .collect();
            if !host.is_empty() && !hosts.contains(&host) {
                hosts.push(host);
            }
        }
    }
    hosts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_page_and_assets_come_from_the_server_alone() {
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[("NEWSDESK_GRAPHIQL", "1"), ("NEWSDESK_INTROSPECTION", "1")],
    )
    .await
    else {
        return;
    };
    let page = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    let html = page.text().await.expect("html");
    let links = linked(&html);

    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(
        !csp.contains("http"),
        "no other origin in the policy: {csp}"
    );
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert!(external_hosts(&html).is_empty(), "{html}");
    assert_eq!(links.len(), 2, "{html}");
    let mut fetched = links.clone();
    let script = links.iter().find(|l| l.ends_with(".js")).expect("script");
    let folder = script.rsplit_once('/').expect("folder").0.to_string();
    for worker in ["editor.worker.js", "json.worker.js", "graphql.worker.js"] {
        fetched.push(format!("{folder}/{worker}"));
    }
    for link in fetched {
        assert!(link.starts_with('/'), "same origin: {link}");
        let asset = app
            .client
            .get(format!("{}{link}", app.address))
            .send()
            .await
            .expect("asset");
        assert_eq!(asset.status(), 200, "{link}");
        assert_eq!(
            asset.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let text = asset.text().await.expect("text");
        assert!(text.len() > 10_000, "{link} is the bundle");
        if link.ends_with(".css") {
            // Fonts and icons travel inside the stylesheet.
            assert!(!text.contains("@import"), "{link}");
            for url in text.split("url(").skip(1) {
                let url = url.trim_start_matches(['"', '\'']);
                assert!(
                    url.starts_with("data:"),
                    "{link}: url({})",
                    &url[..40.min(url.len())]
                );
            }
        }
        for host in external_hosts(&text) {
            assert!(
                REFERENCE_ONLY_HOSTS.contains(&host.as_str()),
                "{link} names {host}: loaded from there? (the CSP would block it)"
            );
        }
    }
    let stale = app
        .client
        .get(format!(
            "{}/graphiql/0000000000000000/graphiql.js",
            app.address
        ))
        .send()
        .await
        .expect("stale");
    assert_eq!(stale.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_assets_are_absent_when_graphiql_is_off() {
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[("NEWSDESK_GRAPHIQL", "1"), ("NEWSDESK_INTROSPECTION", "1")],
    )
    .await
    else {
        return;
    };
    let Some(off) = TestApp::spawn(Engine::Sqlite).await else {
        return;
    };
    let html = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let script = linked(&html)
        .into_iter()
        .find(|l| l.ends_with(".js"))
        .expect("script");

    let answer = off
        .client
        .get(format!("{}{script}", off.address))
        .send()
        .await
        .expect("asset");

    assert_eq!(answer.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_the_server_may_call_it_without_being_listed() {
    let Some(app) = TestApp::spawn_with(Engine::Sqlite, &[("NEWSDESK_CORS_ORIGINS", ORIGIN)]).await
    else {
        return;
    };
    let own = app.address.clone();

    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("origin", &own)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("post");

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        own.as_str()
    );
}

/// Chromium runs unless `NEWSDESK_SKIP_BROWSER=1` (said loudly).
pub fn browser_skipped() -> bool {
    let skip = std::env::var("NEWSDESK_SKIP_BROWSER").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("NEWSDESK_SKIP_BROWSER=1: Chromium test SKIPPED");
    }
    skip
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_offline_in_chromium_and_its_docs_show_the_schema() {
    if browser_skipped() {
        return;
    }
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[("NEWSDESK_GRAPHIQL", "1"), ("NEWSDESK_INTROSPECTION", "1")],
    )
    .await
    else {
        return;
    };

    let out = node("browser.mjs", &["graphiql", &app.address]);

    assert!(out.contains("QueryRoot.article shown"), "{out}");
}

// 3. CORS

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_on_an_allowed_origin_calls_like_apollo_and_reads_the_429() {
    if browser_skipped() {
        return;
    }
    let origin = "http://app.example.test";
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[
            ("NEWSDESK_CORS_ORIGINS", origin),
            ("NEWSDESK_RATE_LIMIT_PER_MINUTE", "3"),
        ],
    )
    .await
    else {
        return;
    };

    let out = node("browser.mjs", &["cross-origin", &app.address, origin]);

    assert!(out.contains("\"code\": \"TOO_MANY_REQUESTS\""), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_allow_what_documented_clients_send() {
    let Some(app) = TestApp::spawn_with(Engine::Sqlite, &[("NEWSDESK_CORS_ORIGINS", ORIGIN)]).await
    else {
        return;
    };
    let sent = [
        "content-type,apollographql-client-name,apollographql-client-version",
        "apollo-require-preflight,content-type",
        "idempotency-key,authorization,content-type",
        "if-none-match,x-api-key",
        "accept,x-request-id,traceparent,last-event-id,accept-language",
    ];

    for headers in sent {
        let preflight = app
            .client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
            .header("origin", ORIGIN)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", headers)
            .send()
            .await
            .expect("preflight");

        assert_eq!(preflight.status(), 200, "{headers}");
        assert_eq!(preflight.headers()["access-control-allow-origin"], ORIGIN);
    }
    let answer = app
        .client
        .get(format!("{}/v1/site", app.address))
        .header("origin", ORIGIN)
        .send()
        .await
        .expect("get");
    let exposed = answer.headers()["access-control-expose-headers"]
        .to_str()
        .expect("text")
        .to_ascii_lowercase();
    for header in [
        "etag",
        "retry-after",
        "content-language",
        "x-request-id",
        "last-modified",
    ] {
        assert!(exposed.contains(header), "{header} not exposed: {exposed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_browser_reads_the_429() {
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[
            ("NEWSDESK_CORS_ORIGINS", ORIGIN),
            ("NEWSDESK_RATE_LIMIT_PER_MINUTE", "1"),
        ],
    )
    .await
    else {
        return;
    };
    let request = || {
        app.client
            .post(format!("{}/graphql", app.address))
            .header("origin", ORIGIN)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
    };

    let first = request().await.expect("first");
    let second = request().await.expect("second");

    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 429);
    assert_eq!(second.headers()["access-control-allow-origin"], ORIGIN);
    assert!(second.headers().contains_key("retry-after"));
    let body: Value = second.json().await.expect("json");
    assert_eq!(code(&body), "TOO_MANY_REQUESTS", "{body}");
}

fn failing_routes(cfg: &mut actix_web::web::ServiceConfig) {
    async fn panics() -> actix_web::HttpResponse {
        panic!("a bug in a handler")
    }
    cfg.route("/test/fails", actix_web::web::get().to(panics));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_large_and_server_errors_carry_cors_headers() {
    let Some(app) = TestApp::spawn_with_routes(
        Engine::Sqlite,
        &[("NEWSDESK_CORS_ORIGINS", ORIGIN)],
        failing_routes,
    )
    .await
    else {
        return;
    };
    let padding = "x".repeat(100 * 1024);

    let too_large = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("origin", ORIGIN)
        .json(&json!({ "query": format!("{{ __typename }} # {padding}") }))
        .send()
        .await
        .expect("large");
    let broken = app
        .client
        .get(format!("{}/test/fails", app.address))
        .header("origin", ORIGIN)
        .send()
        .await
        .expect("broken");

    assert_eq!(too_large.status(), 413);
    assert_eq!(too_large.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(broken.status(), 500);
    assert_eq!(broken.headers()["access-control-allow-origin"], ORIGIN);
}

// 4. Vary

both_engines!(every_negotiated_answer_names_all_it_varies_on_in_one_vary);
async fn every_negotiated_answer_names_all_it_varies_on_in_one_vary(engine: Engine) {
    let Some(app) = TestApp::spawn_with(engine, &[("NEWSDESK_CORS_ORIGINS", ORIGIN)]).await else {
        return;
    };
    app.import_seed();
    let get = |path: String, encoding: &'static str| {
        app.client
            .get(format!("{}{path}", app.address))
            .header("accept-encoding", encoding)
            .header("origin", ORIGIN)
            .send()
    };
    let graphql = format!("/graphql?query={}", "%7B%20site%20%7B%20name%20%7D%20%7D");

    let compressed = get(graphql.clone(), "br").await.expect("graphql");
    let plain = get(graphql, "identity").await.expect("graphql");
    assert_eq!(compressed.headers()["content-encoding"], "br");
    for response in [&compressed, &plain] {
        let names = vary(response.headers());
        for name in [
            "accept-encoding",
            "accept-language",
            "accept",
            "authorization",
            "origin",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} missing: {names:?}");
        }
    }
    let rest = get("/v1/articles".into(), "gzip").await.expect("rest");
    assert_eq!(rest.status(), 200);
    assert!(vary(rest.headers()).contains(&"accept-encoding".to_string()));
    for format in ["rss", "atom", "json"] {
        let feed = get(format!("/feeds/all.{format}"), "br")
            .await
            .expect("feed");
        assert_eq!(feed.status(), 200, "{format}");
        let names = vary(feed.headers());
        for name in ["accept-encoding", "authorization", "x-api-key"] {
            assert!(
                names.iter().any(|n| n == name),
                "{format}: {name} missing: {names:?}"
            );
        }
    }
}

// 5. GraphQL over HTTP

both_engines!(apollo_gets_the_graphql_response_media_type_and_its_status_codes);
async fn apollo_gets_the_graphql_response_media_type_and_its_status_codes(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let post = |query: &'static str, accept: &'static str| {
        app.client
            .post(format!("{}/graphql", app.address))
            .header("accept", accept)
            .json(&json!({ "query": query }))
            .send()
    };

    let ok = post("{ __typename }", APOLLO_ACCEPT).await.expect("ok");
    let parse = post("{ a }}", APOLLO_ACCEPT).await.expect("parse");
    let invalid = post("{ noSuchField }", APOLLO_ACCEPT)
        .await
        .expect("invalid");
    let legacy = post("{ a }}", "application/json").await.expect("legacy");
    let refused = post("{ __typename }", "text/csv").await.expect("refused");

    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers()["content-type"],
        "application/graphql-response+json; charset=utf-8"
    );
    assert_eq!(parse.status(), 400);
    let parse: Value = parse.json().await.expect("json");
    assert!(parse.get("data").is_none(), "{parse}");
    assert_eq!(
        parse["errors"][0]["message"],
        "Syntax error at line 1, column 6: expected the end of the document or executable definition, found \"}\""
    );
    assert_eq!(invalid.status(), 400);
    assert_eq!(legacy.status(), 200);
    assert_eq!(
        legacy.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let legacy: Value = legacy.json().await.expect("json");
    assert_eq!(code(&legacy), "GRAPHQL_PARSE_FAILED");
    assert!(!legacy["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains('\n'));
    assert_eq!(refused.status(), 406);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_http_server_audits_find_no_must_failure() {
    // The audits probe with `__type` queries: they test the transport, so
    // they run where introspection is on.
    let Some(app) = introspecting(Engine::Sqlite).await else {
        return;
    };
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/graphql.md"))
            .expect("docs/graphql.md");

    let out = node("audit.mjs", &[&app.address]);

    let report: Value = serde_json::from_str(&out).expect("audit JSON");
    assert!(report["audits"].as_u64().unwrap_or(0) > 40, "{report}");
    for warning in report["warnings"].as_array().expect("warnings") {
        let id = warning["id"].as_str().unwrap_or("");
        assert!(
            readme.contains(&format!("`{id}`")),
            "SHOULD warning {id} ({}) is not explained in docs/graphql.md",
            warning["name"]
        );
    }
}

// 6. Codegen

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_code_generator_types_the_readme_operations() {
    let Some(app) = introspecting(Engine::Sqlite).await else {
        return;
    };
    let out = tempfile::tempdir().expect("temp");
    let file = out.path().join("types.ts");

    node("codegen.mjs", &[&app.address, file.to_str().expect("path")]);

    let types = std::fs::read_to_string(&file).expect("generated types");
    assert!(types.contains("export type ArticlePageQuery = "), "{types}");
    assert!(types.contains("export type SectionPageQueryVariables = "));
    assert!(types.contains("publishedAt: string"));
}
