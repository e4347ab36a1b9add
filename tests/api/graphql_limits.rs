//! Abusive documents are rejected with their codes before any resolver runs.

use diesel::RunQueryDsl;
use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::{Engine, TestApp, NO_POLLING};

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
    let Some(app) = TestApp::spawn_with(engine, &NO_POLLING).await else {
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
    // Twice each: the second time the parsed document is the one kept.
    for (query, expected) in cases.iter().chain(cases.iter()) {
        let body = app.graphql(query).await;
        assert_eq!(
            code(&body),
            *expected,
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

/// POST, and GET /graphql?query=… when the document fits in a URL: the
/// same rejection on both transports.
async fn both_transports(app: &TestApp, query: &str) -> (Value, Value) {
    let post = app.graphql(query).await;
    if query.len() > 4_000 {
        return (post.clone(), post);
    }
    let get: Value = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", query)])
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    (post, get)
}

both_engines!(fragment_tricks_and_repetition_are_rejected_on_every_transport_t_gql_2_3_7_9_14);
async fn fragment_tricks_and_repetition_are_rejected_on_every_transport_t_gql_2_3_7_9_14(
    engine: Engine,
) {
    let Some(app) = TestApp::spawn_with(engine, &NO_POLLING).await else {
        return;
    };
    // T-GQL-2: a fragment used shallow once and deep again, and a fragment
    // whose body is deep; the depth counted is the real one.
    let deep_inner = deep_query(3);
    let inner = &deep_inner[2..deep_inner.len() - 2];
    let fragment_bypass =
        "{ articles(first: 1) { nodes { section { ...s articles(first: 1) { nodes { section { \
         articles(first: 1) { nodes { section { ...s } } } } } } } } } } \
         fragment s on Section { slug articles(first: 1) { nodes { section { slug } } } }"
            .to_string();
    let fragment_on_section = format!(
        "{{ articles(first: 1) {{ nodes {{ section {{ ...s }} }} }} }} fragment s on Section {{ {inner} }}"
    );
    // T-GQL-3: fragments that spread each other, and a chain of 7,500.
    let circular = "{ ...a } fragment a on Query { ...b } fragment b on Query { ...a }";
    let chain: String = (0..7_500)
        .map(|i| format!("fragment f{i} on Query {{ ...f{} }} ", i + 1))
        .collect::<String>()
        + "fragment f7500 on Query { site { name } }";
    let long_chain = format!("{{ ...f0 }} {chain}");
    // T-GQL-7: one field ten thousand times (caught by size before parsing).
    let duplicated = format!("{{ site {{ {} }} }}", "name ".repeat(10_000));
    // T-GQL-9: 4,999 levels of nesting, just under the size limit: the
    // parser's recursion limit stops it.
    let nested = format!("{}{}", "{a".repeat(4_999), "}".repeat(4_999));
    let cases: [(&str, &str, &[&str]); 6] = [
        (
            "T-GQL-2 fragment reused deeper",
            &fragment_bypass,
            &["QUERY_TOO_DEEP"],
        ),
        (
            "T-GQL-2 deep fragment body",
            &fragment_on_section,
            &["QUERY_TOO_DEEP"],
        ),
        (
            "T-GQL-3 circular fragments",
            circular,
            &["QUERY_TOO_DEEP", "GRAPHQL_VALIDATION_FAILED"],
        ),
        (
            "T-GQL-3 7,500-fragment chain",
            &long_chain,
            &["PAYLOAD_TOO_LARGE"],
        ),
        (
            "T-GQL-7 field duplication",
            &duplicated,
            &["QUERY_TOO_LONG"],
        ),
        (
            "T-GQL-9 parser recursion",
            &nested,
            &["QUERY_TOO_DEEP", "GRAPHQL_PARSE_FAILED"],
        ),
    ];
    let before = app.statements().await;
    for (name, query, expected) in cases {
        let started = std::time::Instant::now();
        let (post, get) = both_transports(&app, query).await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{name} was slow"
        );
        for (transport, body) in [("POST", &post), ("GET", &get)] {
            assert!(
                body["errors"].as_array().is_some_and(|e| !e.is_empty()),
                "{name} over {transport} was accepted: {body}"
            );
            assert_eq!(body["data"], Value::Null, "{name} over {transport}");
            let shown = body.to_string();
            assert!(
                expected.contains(&code(body)),
                "{name} over {transport}: {}",
                &shown[..shown.len().min(400)]
            );
        }
        assert_eq!(code(&post), code(&get), "{name}: transports disagree");
    }
    assert_eq!(
        app.statements().await,
        before,
        "a rejected document reached the database"
    );
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("alive");
    assert_eq!(health.status(), 200);
}

both_engines!(a_request_past_its_budget_is_aborted_with_timeout_t_gql_12);
async fn a_request_past_its_budget_is_aborted_with_timeout_t_gql_12(engine: Engine) {
    let Some(app) = TestApp::spawn_with(engine, &[("NEWSDESK_EXECUTION_TIMEOUT_MS", "1")]).await
    else {
        return;
    };
    app.import_seed();
    let query = r#"{ search(query: "临沂", first: 50) { edges { node { snippet article { title paragraphs } } } }
                    articles(first: 50) { edges { node { title paragraphs byline { name } } } } }"#;

    let body = app.graphql(query).await;

    assert_eq!(body["data"], Value::Null, "{body}");
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| *c == "TIMEOUT"),
        "{body}"
    );
    // The server itself is unharmed.
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    if engine == Engine::Postgres {
        // No statement of the aborted request is left running in the database.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        let running: i64 = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()",
        )
        .get_result::<Count>(&mut conn)
        .map(|c| c.n)
        .expect("pg_stat_activity");
        assert_eq!(running, 0);
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// T-FZ-5: the probes of graphql-cop (v1.13), sent to a server with the
/// production defaults; each must find nothing. GET queries are answered on
/// purpose (CDNs cache them); graphql-cop's "GET-based CSRF" concern is met
/// by refusing everything but queries over GET.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_cop_probes_find_nothing_t_fz_5() {
    let app = TestApp::spawn(Engine::Sqlite).await.expect("app");
    let post_raw = |content_type: &'static str, body: String| {
        app.client
            .post(format!("{}/graphql", app.address))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let get = |query: &str| {
        app.client
            .get(format!("{}/graphql", app.address))
            .query(&[("query", query)])
            .send()
    };
    let aliases: String = (0..101).map(|i| format!("a{i}: __typename ")).collect();
    let fields = "__typename ".repeat(500);
    let circular = "query { __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }";

    // Alias overloading, field duplication, directive overloading.
    let alias_body = app.graphql(&format!("query {{ {aliases} }}")).await;
    assert_eq!(code(&alias_body), "TOO_MANY_ALIASES", "{alias_body}");
    let duplicated = app.graphql(&format!("query {{ {fields} }}")).await;
    assert_eq!(
        code(&duplicated),
        "TOO_MANY_REPEATED_FIELDS",
        "{duplicated}"
    );
    let directives = app
        .graphql("query { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }")
        .await;
    assert!(directives["data"].is_null(), "{directives}");
    // Batching.
    let batch = post_raw(
        "application/json",
        r#"[{"query":"query { __typename }"},{"query":"query { __typename }"}]"#.into(),
    )
    .await
    .expect("batch");
    assert_eq!(batch.status(), 400);
    // Introspection, and the circular introspection query.
    for query in ["query { __schema { types { name } } }", circular] {
        let body = app.graphql(query).await;
        assert_eq!(code(&body), "INTROSPECTION_DISABLED", "{body}");
    }
    // No GraphQL IDE, no tracing, no suggestions, no detailed errors.
    let ide = app
        .client
        .get(format!("{}/graphql", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .expect("ide");
    let ide_text = ide.text().await.expect("text");
    assert!(
        !ide_text.to_lowercase().contains("graphiql"),
        "an IDE is served"
    );
    let traced = app.graphql("query { __typename }").await;
    assert!(traced.get("extensions").is_none(), "{traced}");
    let typo = app.graphql("query { sectoins { name } }").await;
    assert!(!typo.to_string().contains("Did you mean"), "{typo}");
    let broken = app.graphql("query { site { name(wrong: 1) } }").await;
    let text = broken.to_string().to_lowercase();
    assert!(
        !text.contains("backtrace") && !text.contains(".rs:") && !text.contains("panicked"),
        "{broken}"
    );
    // CSRF: mutations over GET and form-encoded POSTs never run.
    let get_mutation = get(r#"mutation { login(username: "a", password: "b") { token } }"#)
        .await
        .expect("get mutation");
    assert_eq!(get_mutation.status(), 405);
    let form = post_raw(
        "application/x-www-form-urlencoded",
        "query=mutation%20%7B%20__typename%20%7D".into(),
    )
    .await
    .expect("form post");
    assert_eq!(form.status(), 415);
    // GET queries are supported by design, and answered.
    let get_query = get("query { __typename }").await.expect("get query");
    assert_eq!(get_query.status(), 200);
}

both_engines!(a_token_that_does_not_verify_gets_the_anonymous_body_limit_t_wf_3);
async fn a_token_that_does_not_verify_gets_the_anonymous_body_limit_t_wf_3(engine: Engine) {
    let Some(room) = crate::helpers::Newsroom::open(engine).await else {
        return;
    };
    let url = format!("{}/graphql", room.app.address);
    // 200 KB: over the anonymous 64 KiB, under the editorial 1 MiB.
    let body = format!(
        "{{\"query\":\"{{ site {{ name }} }}\",\"x\":\"{}\"}}",
        "a".repeat(200_000)
    );
    let send = |authorization: String| {
        room.app
            .client
            .post(&url)
            .header("content-type", "application/json")
            .header("authorization", authorization)
            .body(body.clone())
            .send()
    };

    let junk = send("Bearer not-a-token".into()).await.expect("post");
    let not_bearer = send("Basic YWRtaW46YWRtaW4=".into()).await.expect("post");
    let valid = send(format!("Bearer {}", room.token("editor")))
        .await
        .expect("post");

    assert_eq!(junk.status(), 413);
    assert_eq!(code(&junk.json().await.expect("json")), "PAYLOAD_TOO_LARGE");
    assert_eq!(not_bearer.status(), 413);
    assert_eq!(
        valid.status(),
        200,
        "a verified token earns the larger limit"
    );
}

both_engines!(a_document_validated_before_still_checks_each_request_s_variables);
/// A kept document that passed strict validation runs without it when its
/// variables are plainly of their declared types; every other request is
/// answered exactly as before the document was validated: wrong types,
/// numbers beyond `Int`, lists for single values, and a cost that only the
/// variables make too high.
async fn a_document_validated_before_still_checks_each_request_s_variables(engine: Engine) {
    // Cold, so that every request runs.
    let cold = [("NEWSDESK_RESPONSE_CACHE_MB", "0")];
    let Some(app) = TestApp::spawn_with(engine, &cold).await else {
        return;
    };
    app.import_seed();
    let query = "query($n: Int!, $m: Int) { articles(first: $n) { nodes { related(first: $m) { title } } } }";
    let bad = [
        json!({ "n": "3" }),
        json!({ "n": 1.5 }),
        json!({ "n": 4_000_000_000_i64 }),
        json!({ "n": [1] }),
        json!({ "n": 1, "m": true }),
        json!({ "n": 100, "m": 100 }),
    ];
    let mut before = Vec::new();
    for variables in &bad {
        let (_, body) = app.graphql_with(query, variables.clone(), &[]).await;
        assert!(body["errors"].is_array(), "{variables}: {body}");
        before.push(body);
    }
    assert_eq!(
        code(&before[0]),
        "GRAPHQL_VALIDATION_FAILED",
        "{}",
        before[0]
    );
    assert_eq!(code(&before[5]), "QUERY_TOO_COMPLEX", "{}", before[5]);
    for round in 0..2 {
        let (_, good) = app
            .graphql_with(query, json!({ "n": 2, "m": 1 }), &[])
            .await;
        assert!(good.get("errors").is_none(), "round {round}: {good}");
        let nodes = good["data"]["articles"]["nodes"].as_array();
        assert!(
            nodes.is_some_and(|n| !n.is_empty()),
            "round {round}: {good}"
        );
        for (variables, expected) in bad.iter().zip(&before) {
            let (_, body) = app.graphql_with(query, variables.clone(), &[]).await;
            assert_eq!(&body, expected, "round {round}, {variables}");
        }
    }
}

both_engines!(a_request_that_left_arguments_unchecked_does_not_vouch_for_its_document);
/// Strict validation checks no argument that names a variable the request
/// left out, and none in an operation it did not run: such a request may
/// pass with a document that is invalid, and the next request, with every
/// variable given, must still be refused.
async fn a_request_that_left_arguments_unchecked_does_not_vouch_for_its_document(engine: Engine) {
    let cold = [("NEWSDESK_RESPONSE_CACHE_MB", "0")];
    let Some(app) = TestApp::spawn_with(engine, &cold).await else {
        return;
    };
    let left_out =
        "query($s: String) { articles(first: 1, filter: {section: $s, bogus: 1}) { totalCount } }";
    let two = "query A { site { name } } query B($s: String!) { articles(first: 1, filter: {section: $s, bogus: 1}) { totalCount } }";
    for round in 0..2 {
        app.graphql_with(left_out, json!({}), &[]).await;
        let (_, refused) = app.graphql_with(left_out, json!({ "s": "x" }), &[]).await;
        assert_eq!(
            code(&refused),
            "GRAPHQL_VALIDATION_FAILED",
            "round {round}: {refused}"
        );
        let a = app.graphql_operation(two, json!({}), "A").await;
        assert!(a.get("errors").is_none(), "round {round}: {a}");
        let b = app.graphql_operation(two, json!({ "s": "x" }), "B").await;
        assert_eq!(code(&b), "GRAPHQL_VALIDATION_FAILED", "round {round}: {b}");
    }
}
