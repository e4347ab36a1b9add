//! Persisted queries: Apollo APQ over GET and POST, and the allow-list mode.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::both_engines;
use crate::helpers::{newsdesk_with, temp_file, Engine, TestApp, TestDb};

const QUERY: &str = "{ site { name } }";

fn hash(query: &str) -> String {
    Sha256::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn extension(query: &str) -> String {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash(query) } }).to_string()
}

async fn get(
    app: &TestApp,
    params: &[(&str, &str)],
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(params)
        .send()
        .await
        .expect("get");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.json().await.expect("json"))
}

async fn post(app: &TestApp, body: Value) -> (reqwest::StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&body)
        .send()
        .await
        .expect("post");
    (response.status(), response.json().await.expect("json"))
}

both_engines!(apq_learns_a_query_and_serves_it_by_hash_over_get);
async fn apq_learns_a_query_and_serves_it_by_hash_over_get(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    app.import_seed();
    let ext = extension(QUERY);
    let (status, _, unknown) = get(&app, &[("extensions", &ext)]).await;
    assert_eq!(status, 200);
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(
        unknown["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );

    let ext_value: Value = serde_json::from_str(&ext).expect("json");
    let (status, learnt) = post(&app, json!({ "query": QUERY, "extensions": ext_value })).await;
    assert_eq!(status, 200);
    let name = learnt["data"]["site"]["name"].clone();
    assert!(name.is_string(), "{learnt}");

    let (status, headers, by_hash) = get(&app, &[("extensions", &ext)]).await;
    assert_eq!(status, 200);
    assert_eq!(by_hash["data"]["site"]["name"], name);
    assert!(headers["cache-control"]
        .to_str()
        .expect("cc")
        .starts_with("public"));
    let (_, again, _) = get(&app, &[("extensions", &ext)]).await;
    assert_eq!(
        again["x-cache"], "hit",
        "a persisted GET is served from the cache"
    );

    let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash("{ x }") } });
    let (status, mismatch) = post(&app, json!({ "query": QUERY, "extensions": wrong })).await;
    assert_eq!(status, 400);
    assert_eq!(
        mismatch["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_HASH_MISMATCH"
    );
}

both_engines!(only_registered_operations_run_in_persisted_only_mode);
async fn only_registered_operations_run_in_persisted_only_mode(engine: Engine) {
    let manifest = json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{ "id": hash(QUERY), "name": "Site", "type": "query", "body": QUERY }]
    });
    let (_dir, path) = temp_file("manifest.json", manifest.to_string().as_bytes());
    let path = path.to_str().expect("path").to_string();
    let Some(app) = TestApp::spawn_with(
        engine,
        &[
            ("NEWSDESK_PERSISTED_ONLY", "1"),
            ("NEWSDESK_PERSISTED_QUERIES", &path),
        ],
    )
    .await
    else {
        return;
    };
    app.import_seed();
    let (status, _, registered) = get(&app, &[("extensions", &extension(QUERY))]).await;
    assert_eq!(status, 200);
    assert!(
        registered["data"]["site"]["name"].is_string(),
        "{registered}"
    );
    let (status, full_text) = post(&app, json!({ "query": QUERY })).await;
    assert_eq!(status, 200, "the registered text itself runs: {full_text}");

    let other = "{ sections { name } }";
    let (status, refused) = post(&app, json!({ "query": other })).await;
    assert_eq!(status, 403);
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_ALLOWED"
    );
    let other_ext: Value = serde_json::from_str(&extension(other)).expect("json");
    let (status, not_learnt) = post(&app, json!({ "query": other, "extensions": other_ext })).await;
    assert_eq!(
        status, 403,
        "APQ must not register new operations: {not_learnt}"
    );
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("OK")
}

fn with_hash(query: &str) -> Value {
    json!({ "query": query, "extensions": serde_json::from_str::<Value>(&extension(query)).expect("json") })
}

/// `articles{nodes{section{…}}}` nested `levels` times (3 levels each).
fn deep_query(levels: usize) -> String {
    let mut q = String::from("slug");
    for _ in 0..levels {
        q = format!("articles(first: 1) {{ nodes {{ section {{ {q} }} }} }}");
    }
    format!("{{ {q} }}")
}

both_engines!(a_refused_query_is_not_learnt_by_its_hash_t_wf_3);
async fn a_refused_query_is_not_learnt_by_its_hash_t_wf_3(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    app.import_seed();
    let cases = [
        (
            format!("{{ site {{ name {} }} }}", " ".repeat(15_001)),
            "QUERY_TOO_LONG",
        ),
        (deep_query(4), "QUERY_TOO_DEEP"),
        (
            "{ articles(first: 100) { nodes { related(first: 100) { title } } } }".into(),
            "QUERY_TOO_COMPLEX",
        ),
        ("{ articel { id } }".into(), "GRAPHQL_VALIDATION_FAILED"),
        ("{ site { name".into(), "GRAPHQL_PARSE_FAILED"),
    ];
    for (query, expected) in &cases {
        let (_, sent) = post(&app, with_hash(query)).await;
        assert_eq!(code(&sent), *expected, "{sent}");

        let (_, _, by_get) = get(&app, &[("extensions", &extension(query))]).await;
        let ext: Value = serde_json::from_str(&extension(query)).expect("json");
        let (_, by_post) = post(&app, json!({ "extensions": ext })).await;

        assert_eq!(
            code(&by_get),
            "PERSISTED_QUERY_NOT_FOUND",
            "{expected}: {by_get}"
        );
        assert_eq!(
            code(&by_post),
            "PERSISTED_QUERY_NOT_FOUND",
            "{expected}: {by_post}"
        );
    }
    // The same path still learns a query that passes every check.
    let (_, ok) = post(&app, with_hash(QUERY)).await;
    assert_eq!(code(&ok), "OK", "{ok}");
    let (_, _, by_hash) = get(&app, &[("extensions", &extension(QUERY))]).await;
    assert!(by_hash["data"]["site"]["name"].is_string(), "{by_hash}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_registrations_are_limited_per_client_t_wf_3() {
    let app = TestApp::spawn_with(
        Engine::Sqlite,
        &[("NEWSDESK_APQ_REGISTRATIONS_PER_MINUTE", "3")],
    )
    .await
    .expect("app");
    app.import_seed();
    let queries: Vec<String> = (0..4)
        .map(|i| format!("{{ a{i}: site {{ name }} }}"))
        .collect();

    let mut answers = Vec::new();
    for query in &queries {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .json(&with_hash(query))
            .send()
            .await
            .expect("post");
        let status = response.status().as_u16();
        let retry_after = response.headers().contains_key("retry-after");
        let body: Value = response.json().await.expect("json");
        answers.push((status, code(&body).to_string(), retry_after));
    }
    let (_, _, fourth) = get(&app, &[("extensions", &extension(&queries[3]))]).await;
    let (_, _, first) = get(&app, &[("extensions", &extension(&queries[0]))]).await;
    let (status, plain) = post(&app, json!({ "query": queries[3] })).await;

    let ok = (200, "OK".to_string(), false);
    assert_eq!(
        answers,
        [
            ok.clone(),
            ok.clone(),
            ok,
            (429, "TOO_MANY_REQUESTS".to_string(), true)
        ]
    );
    assert_eq!(code(&fourth), "PERSISTED_QUERY_NOT_FOUND", "{fourth}");
    assert!(
        first["data"]["a0"]["name"].is_string(),
        "learnt ones still run: {first}"
    );
    assert_eq!((status.as_u16(), code(&plain)), (200, "OK"), "{plain}");
}

#[test]
fn persisted_only_without_a_manifest_is_refused_at_start() {
    let db = TestDb::new(Engine::Sqlite).expect("sqlite");
    let out = newsdesk_with(&db.url, &["serve"], &[("NEWSDESK_PERSISTED_ONLY", "1")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("NEWSDESK_PERSISTED_QUERIES"), "{stderr}");
}
