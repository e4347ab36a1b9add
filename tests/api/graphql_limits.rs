//! Abusive documents are rejected with their codes before any resolver runs.

use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::{Engine, TestApp};

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// `articles{nodes{section{articles{nodes{section{…}}}}}}` nested `levels` times.
fn deep_query(levels: usize) -> String {
    let mut q = String::from("slug");
    for _ in 0..levels {
        q = format!("articles(first: 1) {{ nodes {{ section {{ {q} }} }} }}");
    }
    format!("{{ {q} }}")
}

both_engines!(oversized_documents_are_rejected_before_execution);
async fn oversized_documents_are_rejected_before_execution(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let aliases: String = (0..16).map(|i| format!("a{i}: site {{ name }} ")).collect();
    let directives = format!("{{ site {{ name {} }} }}", "@include(if: true) ".repeat(6));
    let long = format!("{{ site {{ name }} }}{}", " ".repeat(15_001));
    let complex = "{ articles(first: 100) { nodes { related(first: 100) { title } } } }";
    let cases: Vec<(String, &str)> = vec![
        (deep_query(4), "QUERY_TOO_DEEP"),
        (deep_query(50), "QUERY_TOO_DEEP"),
        (complex.to_string(), "QUERY_TOO_COMPLEX"),
        (format!("{{ {aliases} }}"), "TOO_MANY_ALIASES"),
        (directives, "TOO_MANY_DIRECTIVES"),
        (long, "QUERY_TOO_LONG"),
        ("{ site { name ".to_string(), "GRAPHQL_PARSE_FAILED"),
        (
            "{ articel { id } }".to_string(),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ];
    let before = app.statements().await;
    for (query, expected) in cases {
        let body = app.graphql(&query).await;
        assert_eq!(
            code(&body),
            expected,
            "{}: {body}",
            &query[..query.len().min(80)]
        );
        assert_eq!(body["data"], Value::Null);
    }
    assert_eq!(
        app.statements().await,
        before,
        "a rejected document reached the database"
    );

    let fifteen: String = (0..15).map(|i| format!("a{i}: site {{ name }} ")).collect();
    let accepted = app.graphql(&format!("{{ {fifteen} }}")).await;
    assert!(accepted.get("errors").is_none(), "{accepted}");
}

both_engines!(http_level_abuse_is_refused);
async fn http_level_abuse_is_refused(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let url = format!("{}/graphql", app.address);

    let huge = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"query\":\"{{ site {{ name }} }}\",\"x\":\"{}\"}}",
            "a".repeat(70_000)
        ))
        .send()
        .await
        .expect("post");
    let batch = app
        .client
        .post(&url)
        .json(&json!([{ "query": "{ site { name } }" }, { "query": "{ site { name } }" }]))
        .send()
        .await
        .expect("post");
    let form = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("query=%7B+site+%7B+name+%7D+%7D")
        .send()
        .await
        .expect("post");
    let mutation_over_get = app
        .client
        .get(&url)
        .query(&[("query", "mutation { anything }")])
        .send()
        .await
        .expect("get");
    let query_over_get = app
        .client
        .get(&url)
        .query(&[("query", "{ site { name } }")])
        .send()
        .await
        .expect("get");

    assert_eq!(huge.status(), 413);
    assert_eq!(batch.status(), 400);
    assert_eq!(
        code(&batch.json().await.expect("json")),
        "BATCH_NOT_SUPPORTED"
    );
    assert_eq!(form.status(), 415);
    assert_eq!(mutation_over_get.status(), 405);
    assert_eq!(mutation_over_get.headers()["allow"], "POST");
    assert_eq!(query_over_get.status(), 200);
    assert_eq!(
        query_over_get.headers()["cache-control"],
        "public, max-age=60"
    );
}

both_engines!(introspection_and_suggestions_are_off_by_default);
async fn introspection_and_suggestions_are_off_by_default(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };

    let schema = app.graphql("{ __schema { types { name } } }").await;
    let typo = app.graphql("{ artcles { nodes { id } } }").await;

    assert!(!schema.to_string().contains("\"Article\""), "{schema}");
    assert_eq!(code(&schema), "INTROSPECTION_DISABLED");
    assert!(!typo.to_string().contains("Did you mean"), "{typo}");
}

#[tokio::test]
async fn introspection_and_graphiql_can_be_turned_on() {
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[("NEWSDESK_INTROSPECTION", "1"), ("NEWSDESK_GRAPHIQL", "1")],
    )
    .await
    else {
        return;
    };

    let schema = app
        .graphql("{ __type(name: \"Article\") { fields { name } } }")
        .await;
    let page = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .expect("graphiql");

    assert!(schema.to_string().contains("copyrightNotice"), "{schema}");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("graphiql"));
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[("NEWSDESK_CORS_ORIGINS", "https://www.example.test")],
    )
    .await
    else {
        return;
    };
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };

    let allowed = preflight("https://www.example.test")
        .await
        .expect("preflight");
    let refused = preflight("https://evil.example").await.expect("preflight");

    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://www.example.test"
    );
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}
