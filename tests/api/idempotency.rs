//! `Idempotency-Key` on mutations (T-DUR-5, T-TD-4): a retried write creates
//! nothing twice, a key cannot be reused for another request, and a write
//! whose reply was lost is reported as applied.

use diesel::prelude::*;
use newsdesk::db::schema::{articles, idempotency_keys};
use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::Engine;
use crate::helpers::Newsroom;

struct Reply {
    status: u16,
    replayed: bool,
    retry_after: Option<String>,
    body: Value,
}

async fn send(room: &Newsroom, token: &str, key: Option<&str>, query: &str) -> Reply {
    let mut request = room
        .app
        .client
        .post(format!("{}/graphql", room.app.address))
        .bearer_auth(token)
        .json(&json!({ "query": query }));
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.expect("request sent");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let replayed = header("idempotent-replayed").as_deref() == Some("true");
    let retry_after = header("retry-after");
    Reply {
        status: response.status().as_u16(),
        replayed,
        retry_after,
        body: response.json().await.expect("JSON body"),
    }
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("OK")
}

fn create(title: &str) -> String {
    format!(
        r#"mutation {{ createArticle(input: {{title: "{title}", section: "lin-yi", paragraphs: ["正文。"]}}) {{ databaseId title }} }}"#
    )
}

fn articles_titled(room: &Newsroom, title: &str) -> i64 {
    let database = room.app.db.database();
    let mut conn = database.get().expect("connection");
    articles::table
        .filter(articles::title.eq(title))
        .count()
        .get_result(&mut conn)
        .expect("count")
}

both_engines!(a_retried_create_creates_one_article_t_dur_5);
async fn a_retried_create_creates_one_article_t_dur_5(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let token = room.token("editor");

    let first = send(&room, &token, Some("create-1"), &create("一次")).await;
    let retry = send(&room, &token, Some("create-1"), &create("一次")).await;

    assert_eq!(
        (first.status, code(&first.body)),
        (200, "OK"),
        "{}",
        first.body
    );
    assert!(!first.replayed);
    assert_eq!(retry.status, 200);
    assert!(
        retry.replayed,
        "the retry was executed again: {}",
        retry.body
    );
    assert_eq!(retry.body, first.body, "a replay answers the first reply");
    assert_eq!(articles_titled(&room, "一次"), 1);

    // Without a key the same request twice is two articles: the key is what
    // made the difference above.
    send(&room, &token, None, &create("两次")).await;
    send(&room, &token, None, &create("两次")).await;
    assert_eq!(articles_titled(&room, "两次"), 2);

    // Another request under a used key is refused and writes nothing.
    let before = room.app.db.row_counts();
    let reused = send(&room, &token, Some("create-1"), &create("别的")).await;
    assert_eq!(reused.status, 422, "{}", reused.body);
    assert_eq!(code(&reused.body), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(room.app.db.row_counts(), before);

    // Keys belong to an account: the same key from someone else is theirs.
    let other = send(
        &room,
        &room.token("admin"),
        Some("create-1"),
        &create("别的"),
    )
    .await;
    assert_eq!(
        (other.status, code(&other.body)),
        (200, "OK"),
        "{}",
        other.body
    );
    assert!(!other.replayed);
}

both_engines!(concurrent_retries_write_once_t_dur_5);
async fn concurrent_retries_write_once_t_dur_5(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let token = room.token("editor");
    let query = create("并发");

    let replies =
        futures_util::future::join_all((0..8).map(|_| send(&room, &token, Some("burst"), &query)))
            .await;

    let executed = replies
        .iter()
        .filter(|r| r.status == 200 && !r.replayed)
        .count();
    assert_eq!(executed, 1, "exactly one of the 8 ran");
    for reply in &replies {
        let in_use = reply.status == 409 && code(&reply.body) == "IDEMPOTENCY_KEY_IN_USE";
        let answered = reply.status == 200 && code(&reply.body) == "OK";
        assert!(in_use || answered, "{} {}", reply.status, reply.body);
        if in_use {
            assert_eq!(reply.retry_after.as_deref(), Some("1"));
        }
    }
    assert_eq!(articles_titled(&room, "并发"), 1);
}

both_engines!(a_failed_write_leaves_its_key_free_t_dur_5);
async fn a_failed_write_leaves_its_key_free_t_dur_5(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let token = room.token("editor");
    let id = room.draft("editor", "旧题").await;
    let stale = format!(
        r#"mutation {{ updateArticle(id: "{id}", expectedRevision: 7, input: {{title: "新题"}}) {{ revision }} }}"#
    );

    let failed = send(&room, &token, Some("update-1"), &stale).await;
    let again = send(&room, &token, Some("update-1"), &stale).await;

    assert_eq!(code(&failed.body), "CONFLICT", "{}", failed.body);
    // Nothing was written, so nothing was kept: the retry ran again.
    assert!(!again.replayed);
    assert_eq!(code(&again.body), "CONFLICT");
    let database = room.app.db.database();
    let mut conn = database.get().expect("connection");
    let keys: i64 = idempotency_keys::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(keys, 0);
}

both_engines!(a_write_whose_reply_was_lost_is_reported_applied_t_dur_5);
async fn a_write_whose_reply_was_lost_is_reported_applied_t_dur_5(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let token = room.token("editor");
    let query = create("失联");
    // What a process killed between its commit and its reply leaves behind.
    let database = room.app.db.database();
    let mut conn = database.get().expect("connection");
    let editor: i32 = newsdesk::db::schema::users::table
        .filter(newsdesk::db::schema::users::username.eq("editor"))
        .select(newsdesk::db::schema::users::id)
        .first(&mut conn)
        .expect("editor");
    let hash = newsdesk::http::idempotency::request_hash(&async_graphql::Request::new(&query));
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::actor_user_id.eq(editor),
            idempotency_keys::key.eq("lost"),
            idempotency_keys::request_hash.eq(&hash),
            idempotency_keys::claim.eq("a-request-that-died"),
            idempotency_keys::created_at.eq(newsdesk::db::now()),
        ))
        .execute(&mut conn)
        .expect("claimed key");

    // Just claimed: the first request may still be running elsewhere.
    let early = send(&room, &token, Some("lost"), &query).await;
    assert_eq!(early.status, 409, "{}", early.body);
    assert_eq!(code(&early.body), "IDEMPOTENCY_KEY_IN_USE");
    assert_eq!(early.retry_after.as_deref(), Some("1"));

    // Past the request budget the first request is over: it was applied.
    diesel::update(idempotency_keys::table)
        .set(idempotency_keys::created_at.eq(newsdesk::db::now() - chrono::Duration::hours(1)))
        .execute(&mut conn)
        .expect("aged key");
    let late = send(&room, &token, Some("lost"), &query).await;
    assert_eq!(late.status, 200);
    assert!(late.replayed);
    assert_eq!(code(&late.body), "IDEMPOTENT_REPLY_LOST", "{}", late.body);
    assert_eq!(
        articles_titled(&room, "失联"),
        0,
        "nothing ran a second time"
    );
}

both_engines!(an_unusable_key_is_refused_before_anything_runs);
async fn an_unusable_key_is_refused_before_anything_runs(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let token = room.token("editor");
    let before = room.app.db.row_counts();
    for key in ["", &"k".repeat(256), "with space"] {
        let reply = send(&room, &token, Some(key), &create("坏键")).await;
        assert_eq!(reply.status, 400, "{key:?}: {}", reply.body);
        assert_eq!(code(&reply.body), "BAD_USER_INPUT");
    }
    assert_eq!(room.app.db.row_counts(), before);
}
