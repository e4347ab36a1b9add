//! Logins under concurrency: the per-account throttle counts an attempt
//! before its password is checked (T-WF-2), and password checks run a
//! bounded number at once (T-WF-3).

use std::collections::HashMap;

use newsdesk::db::users;
use newsdesk::domain::Role;
use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::Newsroom;
use crate::helpers::{Engine, TestApp};

const PASSWORD: &str = "correct horse battery";

/// Redis on this machine; the tests that need it fail loudly without it.
const REDIS: &str = "redis://127.0.0.1:6379/0";

fn add_writer(room: &Newsroom) {
    let database = room.app.db.database();
    let mut conn = database.get().expect("connection");
    let hash = newsdesk::auth::passwords::hash(PASSWORD).expect("hash");
    users::create(&mut conn, "writer", Role::Reporter, Some(&hash)).expect("user");
}

/// One `login` on the server at `base`: its HTTP status, `Retry-After` and body.
async fn login(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> (u16, Option<String>, Value) {
    let query =
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
    let response = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": { "u": username, "p": password } }))
        .send()
        .await
        .expect("login sent");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (
        status,
        retry_after,
        response.json().await.expect("JSON body"),
    )
}

fn code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("OK")
        .to_string()
}

/// How many answers carried each code.
fn tally(answers: &[(u16, Option<String>, Value)]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for (_, _, body) in answers {
        *counts.entry(code(body)).or_default() += 1;
    }
    counts
}

both_engines!(concurrent_wrong_passwords_get_at_most_five_checks_t_wf_2);
async fn concurrent_wrong_passwords_get_at_most_five_checks_t_wf_2(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    add_writer(&room);
    let app = &room.app;

    let guesses = (0..40).map(|i| {
        let password = format!("wrong guess {i}");
        async move { login(&app.client, &app.address, "writer", &password).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let right_after = login(&app.client, &app.address, "writer", PASSWORD).await;

    let counts = tally(&answers);
    let checked = counts.get("BAD_USER_INPUT").copied().unwrap_or(0);
    assert!((1..=5).contains(&checked), "{counts:?}");
    assert_eq!(
        counts.get("TOO_MANY_REQUESTS").copied().unwrap_or(0),
        40 - checked,
        "{counts:?}"
    );
    assert_eq!(
        code(&right_after.2),
        "TOO_MANY_REQUESTS",
        "{:?}",
        right_after.2
    );
    assert_eq!(right_after.0, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_sharing_redis_share_one_login_throttle_t_wf_2() {
    let prefix = format!("newsdesk-test-{}", uuid::Uuid::new_v4().simple());
    let vars = [
        ("NEWSDESK_REDIS_URL", REDIS),
        ("NEWSDESK_REDIS_PREFIX", prefix.as_str()),
    ];
    let room = Newsroom::open_with(Engine::Sqlite, &vars)
        .await
        .expect("node A");
    add_writer(&room);
    let app = &room.app;
    let mut b_vars = vec![("NEWSDESK_JWT_SECRET", crate::helpers::SECRET)];
    b_vars.extend_from_slice(&vars);
    let node_b = TestApp::start(&app.db.url, &b_vars).await;

    let guesses = (0..40).map(|i| {
        let node = if i % 2 == 0 { &app.address } else { &node_b };
        let password = format!("wrong guess {i}");
        async move { login(&app.client, node, "writer", &password).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let on_a = login(&app.client, &app.address, "writer", PASSWORD).await;
    let on_b = login(&app.client, &node_b, "writer", PASSWORD).await;

    let counts = tally(&answers);
    let checked = counts.get("BAD_USER_INPUT").copied().unwrap_or(0);
    assert!(
        (1..=5).contains(&checked),
        "two nodes checked more than one limit: {counts:?}"
    );
    assert_eq!(code(&on_a.2), "TOO_MANY_REQUESTS", "{:?}", on_a.2);
    assert_eq!(code(&on_b.2), "TOO_MANY_REQUESTS", "{:?}", on_b.2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_password_forgets_the_attempts_before_it() {
    let room = Newsroom::open(Engine::Sqlite).await.expect("app");
    add_writer(&room);
    let app = &room.app;

    let mut codes = Vec::new();
    for password in ["wrong 1", "wrong 2", "wrong 3", "wrong 4", PASSWORD] {
        codes.push(code(
            &login(&app.client, &app.address, "writer", password).await.2,
        ));
    }
    for password in [
        "wrong 5", "wrong 6", "wrong 7", "wrong 8", "wrong 9", PASSWORD,
    ] {
        codes.push(code(
            &login(&app.client, &app.address, "writer", password).await.2,
        ));
    }

    let bad = "BAD_USER_INPUT";
    assert_eq!(
        codes,
        [
            bad,
            bad,
            bad,
            bad,
            "OK",
            bad,
            bad,
            bad,
            bad,
            bad,
            "TOO_MANY_REQUESTS"
        ]
    );
}

both_engines!(password_checks_past_the_workers_are_turned_away_t_wf_3);
async fn password_checks_past_the_workers_are_turned_away_t_wf_3(engine: Engine) {
    let Some(room) = Newsroom::open_with(
        engine,
        &[
            ("NEWSDESK_PASSWORD_WORKERS", "1"),
            ("NEWSDESK_PASSWORD_WAIT_MS", "0"),
        ],
    )
    .await
    else {
        return;
    };
    let app = &room.app;

    // Unknown accounts, each its own name: no per-account limit applies.
    let logins = (0..30).map(|i| {
        let name = format!("nobody-{i}");
        async move { login(&app.client, &app.address, &name, "whatever it is").await }
    });
    let answers = futures_util::future::join_all(logins).await;
    let afterwards = login(&app.client, &app.address, "nobody-else", "whatever").await;

    let counts = tally(&answers);
    assert_eq!(
        counts.values().sum::<usize>(),
        counts.get("BAD_USER_INPUT").copied().unwrap_or(0)
            + counts.get("TOO_MANY_REQUESTS").copied().unwrap_or(0),
        "{counts:?}"
    );
    assert!(counts.contains_key("BAD_USER_INPUT"), "{counts:?}");
    assert!(
        counts.contains_key("TOO_MANY_REQUESTS"),
        "30 logins at once all got a check from one worker: {counts:?}"
    );
    for (status, retry_after, body) in &answers {
        if code(body) == "TOO_MANY_REQUESTS" {
            assert_eq!(*status, 429);
            assert_eq!(retry_after.as_deref(), Some("1"));
        }
    }
    assert_eq!(
        code(&afterwards.2),
        "BAD_USER_INPUT",
        "the worker is free again"
    );
}
