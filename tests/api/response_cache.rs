//! The in-process response cache: repeated public reads are served from it,
//! credentials bypass it, and the request that commits an edit or an
//! unpublication has made every cached copy unservable when it answers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::Engine;
use crate::helpers::Newsroom;

const BY_ID: &str = "query($id: ID!) { article(id: $id) { title } }";

async fn read(room: &Newsroom, id: i32) -> (Option<String>, Value) {
    let (headers, body) = room
        .app
        .graphql_with(BY_ID, json!({ "id": id.to_string() }), &[])
        .await;
    let hit = headers
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (hit, body)
}

async fn rest(room: &Newsroom, path: &str, auth: Option<&str>) -> reqwest::Response {
    let mut request = room.app.client.get(format!("{}{path}", room.app.address));
    if let Some(token) = auth {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("get")
}

both_engines!(cached_reads_never_outlive_the_write_that_changes_them);
async fn cached_reads_never_outlive_the_write_that_changes_them(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let id = room.app.import_seed().article_id.expect("imported");
    let editor = room.token("editor");

    let (first, body) = read(&room, id).await;
    assert_eq!(first, None, "a first read is computed");
    let title = body["data"]["article"]["title"].clone();
    let (second, again) = read(&room, id).await;
    assert_eq!(second.as_deref(), Some("hit"));
    assert_eq!(again, body, "the cached bytes are the computed ones");
    let path = format!("/v1/articles/{id}");
    assert!(rest(&room, &path, None)
        .await
        .headers()
        .get("x-cache")
        .is_none());
    let cached = rest(&room, &path, None).await;
    assert_eq!(cached.headers()["x-cache"], "hit");
    let etag = cached.headers()["etag"].clone();
    let not_modified = room
        .app
        .client
        .get(format!("{}{path}", room.app.address))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("get");
    assert_eq!(not_modified.status(), 304, "the stored ETag validates");
    let with_token = rest(&room, &path, Some(&editor)).await;
    assert!(
        with_token.headers().get("x-cache").is_none(),
        "a request with credentials came from the shared cache"
    );

    // An edit: the next read after the mutation answers shows it.
    let edited = room
        .as_user(
            Some(&editor),
            &format!(
                r#"mutation {{ updateArticle(id: "{id}", expectedRevision: 1, input: {{title: "更正後的標題"}}) {{ title }} }}"#
            ),
        )
        .await;
    assert!(edited.get("errors").is_none(), "{edited}");
    let (_, after_edit) = read(&room, id).await;
    assert_eq!(after_edit["data"]["article"]["title"], "更正後的標題");
    assert_ne!(after_edit["data"]["article"]["title"], title);

    // Readers hammer the article while an editor takes it down: no read that
    // starts after the mutation answered may still see it.
    let room = Arc::new(room);
    let done = Arc::new(AtomicBool::new(false));
    let unpublished = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (room, done, unpublished) = (room.clone(), done.clone(), unpublished.clone());
        readers.push(tokio::spawn(async move {
            let mut late_sightings = 0;
            let mut reads = 0;
            while !done.load(Ordering::SeqCst) {
                let after = unpublished.load(Ordering::SeqCst);
                let (_, body) = read(&room, id).await;
                reads += 1;
                if after && !body["data"]["article"].is_null() {
                    late_sightings += 1;
                }
                let response = rest(&room, &format!("/v1/articles/{id}"), None).await;
                if after && response.status() == 200 {
                    late_sightings += 1;
                }
            }
            (reads, late_sightings)
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let gone = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ unpublishArticle(id: "{id}") {{ status }} }}"#),
        )
        .await;
    assert!(gone.get("errors").is_none(), "{gone}");
    unpublished.store(true, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    done.store(true, Ordering::SeqCst);
    let mut total = 0;
    for reader in readers {
        let (reads, late) = reader.await.expect("reader");
        total += reads;
        assert_eq!(late, 0, "a cached copy outlived the unpublication");
    }
    assert!(total > 20, "the readers barely ran ({total} reads)");
    let feed = rest(&room, "/feeds/all.json", None).await;
    let feed: Value = feed.json().await.expect("feed");
    assert!(
        !feed.to_string().contains("更正後的標題"),
        "the feed still lists the unpublished article"
    );
}

both_engines!(the_cache_can_be_switched_off);
async fn the_cache_can_be_switched_off(engine: Engine) {
    let Some(app) =
        crate::helpers::TestApp::spawn_with(engine, &[("NEWSDESK_RESPONSE_CACHE_MB", "0")]).await
    else {
        return;
    };
    let id = app.import_seed().article_id.expect("imported");
    for _ in 0..2 {
        let (headers, _) = app
            .graphql_with(BY_ID, json!({ "id": id.to_string() }), &[])
            .await;
        assert!(headers.get("x-cache").is_none());
    }
}
