//! SECURITY.md E and F: cache headers on every GET, unkeyed inputs, and
//! scalar abuse.

use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::{Engine, TestApp};

const PUBLIC_GETS: &[&str] = &[
    "/v1/articles",
    "/v1/articles/1",
    "/v1/sections",
    "/v1/site",
    "/v1/recommendations/home",
    "/v1/removed",
    "/v1/search?q=%E6%89%B6%E8%B4%AB",
    "/feeds/all.rss",
    "/feeds/all.atom",
    "/feeds/all.json",
    "/v1/ninjs/feed",
    "/graphql?query=%7Bsite%7Bname%7D%7D",
];

both_engines!(every_get_says_how_to_cache_and_unkeyed_headers_change_nothing_t_cache_3_4);
async fn every_get_says_how_to_cache_and_unkeyed_headers_change_nothing_t_cache_3_4(
    engine: Engine,
) {
    let Some(app) = TestApp::spawn_with(engine, &[("NEWSDESK_RESPONSE_CACHE_MB", "0")]).await
    else {
        return;
    };
    app.import_seed();
    for path in PUBLIC_GETS
        .iter()
        .chain(&["/healthz", "/readyz", "/metrics", "/nowhere"])
    {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("get");
        assert!(
            response.headers().contains_key("cache-control"),
            "T-CACHE-4: {path} has no Cache-Control"
        );
    }
    for path in PUBLIC_GETS {
        let plain = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("get");
        let plain_cc = plain.headers()["cache-control"].clone();
        let plain_body = plain.bytes().await.expect("body");
        let separator = if path.contains('?') { '&' } else { '?' };
        let poisoned = app
            .client
            .get(format!("{}{path}{separator}preview=1", app.address))
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-proto", "http")
            .header("x-original-url", "/admin")
            .header("x-preview", "1")
            .header("host", "evil.example")
            .send()
            .await
            .expect("get");
        assert_eq!(
            poisoned.headers()["cache-control"],
            plain_cc,
            "T-CACHE-3: {path}"
        );
        let body = poisoned.bytes().await.expect("body");
        assert!(
            !String::from_utf8_lossy(&body).contains("evil.example"),
            "T-CACHE-3: {path} reflects a request header"
        );
        assert_eq!(
            body, plain_body,
            "T-CACHE-3: {path} changed with unkeyed inputs"
        );
    }
}

both_engines!(a_malformed_path_or_query_gets_the_json_error_of_its_route);
/// Every REST and feed route answers a path parameter or query string that
/// does not parse with the JSON error body its other errors use, not
/// actix's plain text: a malformed id is a 404 `NOT_FOUND` like a missing
/// one, a malformed query a 400 `BAD_USER_INPUT`; unknown routes under
/// `/v1` and `/feeds` are JSON 404s too.
async fn a_malformed_path_or_query_gets_the_json_error_of_its_route(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let cases = [
        ("/v1/ninjs/articles/abc", 404, "NOT_FOUND"),
        ("/v1/ninjs/articles/99999999999", 404, "NOT_FOUND"),
        ("/v1/ninjs/articles/-1", 404, "NOT_FOUND"),
        ("/v1/ninjs/articles/%FF", 404, "NOT_FOUND"),
        ("/v1/articles/%FF", 404, "NOT_FOUND"),
        ("/v1/articles/abc", 404, "NOT_FOUND"),
        ("/v1/recommendations/home/extra", 404, "NOT_FOUND"),
        ("/feeds/%FF", 404, "NOT_FOUND"),
        ("/feeds/abc", 404, "NOT_FOUND"),
        ("/v1/ninjs/articles/abc/extra", 404, "NOT_FOUND"),
        ("/v1/nowhere/abc", 404, "NOT_FOUND"),
        ("/feeds/a/b", 404, "NOT_FOUND"),
        ("/v1/articles?limit=abc", 400, "BAD_USER_INPUT"),
        ("/v1/removed?limit=abc", 400, "BAD_USER_INPUT"),
        ("/v1/search?q=x&offset=abc", 400, "BAD_USER_INPUT"),
        ("/v1/search", 400, "BAD_USER_INPUT"),
    ];
    let mut wrong = Vec::new();
    for (path, status, code) in cases {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("get");
        let got = response.status().as_u16();
        let json = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let text = response.text().await.expect("body");
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if got != status || !json || body["error"]["code"] != code {
            wrong.push(format!("{path}: {got} {text}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

both_engines!(abusive_scalars_get_clean_errors_t_inj_4);
async fn abusive_scalars_get_clean_errors_t_inj_4(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    app.import_seed();
    let list = "query($n: Int) { articles(first: $n) { totalCount } }";
    let mut nested = json!("x");
    for _ in 0..200 {
        nested = json!([nested]);
    }
    for (name, variables) in [
        ("Int overflow", json!({ "n": 2_147_483_648_i64 })),
        ("negative", json!({ "n": -1 })),
        ("float", json!({ "n": 1.5 })),
        ("string", json!({ "n": "20" })),
        ("nested arrays", json!({ "n": nested })),
    ] {
        let (_, body) = app.graphql_with(list, variables, &[]).await;
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("none");
        assert!(
            matches!(
                code,
                "BAD_USER_INPUT" | "GRAPHQL_VALIDATION_FAILED" | "BAD_REQUEST"
            ),
            "{name}: {body}"
        );
    }
    // The same overflow written into the document rather than a variable.
    let body = app
        .graphql("{ articles(first: 2147483648) { totalCount } }")
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "literal Int overflow: {body}"
    );
    // Invalid UTF-8 and duplicate keys in the body itself.
    for raw in [
        b"{\"query\": \"{ site { name } }\", \"variables\": {\"a\": \"\xff\xfe\"}}".to_vec(),
        br#"{"query": "{ site { name } }", "query": "{ sections { name } }"}"#.to_vec(),
        br#"{"query": "query($s: String) { search(query: $s) { totalCount } }", "variables": {"s": "\u0000\u2028"}}"#.to_vec(),
    ] {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .expect("post");
        assert!(response.status().as_u16() < 500, "{}", response.status());
        let body: Value = response.json().await.expect("json");
        assert!(body.is_object(), "{body}");
    }
}

both_engines!(responses_to_credentials_are_never_shared_t_cache_1_2);
async fn responses_to_credentials_are_never_shared_t_cache_1_2(engine: Engine) {
    let Some(room) = crate::helpers::Newsroom::open(engine).await else {
        return;
    };
    room.app.import_seed();
    let token = room.token("editor");
    // A public field next to an editor-only one, over GET and POST.
    let mixed = "{ site { name } articles(first: 1) { nodes { title revisions { revision } } } }";
    let get = |auth: Option<String>| {
        let mut request = room
            .app
            .client
            .get(format!("{}/graphql", room.app.address))
            .query(&[("query", mixed)]);
        if let Some(t) = auth {
            request = request.bearer_auth(t);
        }
        request.send()
    };
    let anonymous = get(None).await.expect("get");
    assert!(anonymous.headers()["cache-control"]
        .to_str()
        .expect("cc")
        .starts_with("public"));
    for response in [
        get(Some(token.clone())).await.expect("get"),
        room.app
            .client
            .post(format!("{}/graphql", room.app.address))
            .bearer_auth(&token)
            .json(&json!({ "query": mixed }))
            .send()
            .await
            .expect("post"),
        room.app
            .client
            .get(format!("{}/v1/articles", room.app.address))
            .bearer_auth(&token)
            .send()
            .await
            .expect("rest"),
    ] {
        let cc = response.headers()["cache-control"]
            .to_str()
            .expect("cc")
            .to_string();
        assert!(
            !cc.contains("public") && !cc.contains("s-maxage") && !cc.contains("must-revalidate"),
            "T-CACHE-1: a response to credentials is shareable: {cc}"
        );
        assert!(response.headers().get("surrogate-key").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_t_http_1() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn(Engine::Sqlite).await.expect("app");
    let host = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&host)
        .await
        .expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .expect("start");
    let started = std::time::Instant::now();
    let mut closed = false;
    for _ in 0..12 {
        // One header byte a second: the request never completes.
        if stream.write_all(b"X").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        match tokio::time::timeout(std::time::Duration::from_secs(1), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(_)) => {
                // A 408 answer before closing is fine too.
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    assert!(closed, "a slow-header client held its connection");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "cut off only after {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_is_cut_off_t_http_2() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(Engine::Sqlite, &[("NEWSDESK_BODY_TIMEOUT_MS", "1000")])
        .await
        .expect("app");
    let host = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&host)
        .await
        .expect("connect");
    stream
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: news\r\nContent-Type: application/json\r\n\
              Content-Length: 60000\r\n\r\n",
        )
        .await
        .expect("head");
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    for _ in 0..20 {
        // Ten bytes a second: 60,000 would take well over an hour.
        if stream.write_all(b"          ").await.is_err() {
            break;
        }
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(std::time::Duration::from_millis(500), stream.read(&mut buf))
            .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "no 408 for a trickling body: {answer:?}"
    );
    assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "cut off only after {:?}",
        started.elapsed()
    );
}

both_engines!(a_database_error_reaches_the_client_sanitised_t_leak_4);
async fn a_database_error_reaches_the_client_sanitised_t_leak_4(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    app.import_seed();
    // Break the search log under the running server: every search reads
    // its end first, and now fails inside the database.
    {
        use diesel::connection::SimpleConnection;
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        conn.batch_execute("DROP TABLE search_log").expect("drop");
    }

    let body = app
        .graphql(r#"{ search(query: "临沂") { nodes { snippet } } }"#)
        .await;
    let rest = app
        .client
        .get(format!("{}/v1/search?q=%E4%B8%B4%E6%B2%82", app.address))
        .send()
        .await
        .expect("rest search");
    let rest_status = rest.status();
    let rest_body = rest.text().await.expect("text");

    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INTERNAL",
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "internal error", "{body}");
    assert_eq!(rest_status, 500, "{rest_body}");
    let everything = format!("{body} {rest_body}").to_ascii_lowercase();
    for leak in [
        "article_fts",
        "article_search",
        "search_log",
        "no such table",
        "does not exist",
        "select",
        "sqlite",
        "postgres",
        "diesel",
        ".rs:",
    ] {
        assert!(
            !everything.contains(leak),
            "{leak:?} reached the client: {everything}"
        );
    }
    // The server itself carries on.
    let site = app.graphql("{ site { name } }").await;
    assert!(site["data"]["site"]["name"].is_string(), "{site}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_connections_neither_blocks_nor_lingers_t_http_3() {
    use tokio::io::AsyncReadExt;
    let app = TestApp::spawn(Engine::Sqlite).await.expect("app");
    let host = app.address.trim_start_matches("http://").to_string();
    let mut idle = Vec::with_capacity(2000);
    for _ in 0..2000 {
        idle.push(
            tokio::net::TcpStream::connect(&host)
                .await
                .expect("idle connection"),
        );
    }

    // The server keeps answering everyone else meanwhile.
    let control = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
        .expect("client");
    for _ in 0..20 {
        let answer = control
            .get(format!("{}/healthz", app.address))
            .send()
            .await
            .expect("a control request went unanswered behind 2,000 idle connections");
        assert_eq!(answer.status(), 200);
    }

    // A connection that never sends a request is closed (actix's 5 s
    // request-head timeout), so idle sockets cannot pile up.
    let mut closed = 0;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(12);
    for stream in idle.iter_mut() {
        let mut buf = [0u8; 256];
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => break,
        }
    }
    assert_eq!(closed, 2000, "idle connections left open by the server");
}
