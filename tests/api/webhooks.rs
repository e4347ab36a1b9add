//! Webhooks: signed deliveries to a receiver on 127.0.0.1, retries, restarts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both_engines;
use crate::helpers::receiver::{Hit, Receiver};
use crate::helpers::{Engine, TestApp};
use crate::helpers::{Newsroom, SECRET};

const HOOK_SECRET: &str = "receiver-secret-0123456789";

fn register(url: &str) -> String {
    format!(
        r#"mutation {{ registerWebhook(url: "{url}", events: ["article.published", "takedown.forwarded"], secret: "{HOOK_SECRET}") {{ databaseId }} }}"#
    )
}

fn signature_ok(hit: &Hit) -> bool {
    let header = hit
        .headers
        .get("x-newsdesk-signature")
        .cloned()
        .unwrap_or_default();
    let timestamp: i64 = header
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    header == newsdesk::webhooks::sign(HOOK_SECRET, timestamp, &hit.body)
        && (chrono::Utc::now().timestamp() - timestamp).abs() < 300
}

both_engines!(events_arrive_signed_and_a_failing_receiver_gets_them_on_the_third_try);
async fn events_arrive_signed_and_a_failing_receiver_gets_them_on_the_third_try(engine: Engine) {
    let Some(room) = hook_room(engine, &[]).await else {
        return;
    };
    let receiver = Receiver::start(2).await;
    let registered = room
        .as_user(Some(&room.token("admin")), &register(&receiver.url))
        .await;
    assert!(
        registered["data"]["registerWebhook"]["databaseId"].is_i64(),
        "{registered}"
    );
    let id = room.draft("reporter-a", "推送稿件").await;

    room.as_user(
        Some(&room.token("editor")),
        &format!(r#"mutation {{ publishArticle(id: "{id}") {{ status }} }}"#),
    )
    .await;
    let hits = receiver
        .wait_for(
            |h| h.iter().any(|x| x.status == 200),
            Duration::from_secs(20),
        )
        .await;

    assert_eq!(
        hits.iter().map(|h| h.status).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    assert!(hits.iter().all(signature_ok), "a signature does not verify");
    assert!(
        hits.iter().all(|h| h.body == hits[0].body),
        "retries changed the event"
    );
    let event: Value = serde_json::from_str(&hits[0].body).expect("JSON event");
    assert_eq!(event["event"], "article.published");
    assert_eq!(event["article"]["id"], id);
    assert_eq!(
        hits[0].headers.get("x-newsdesk-event").map(String::as_str),
        Some("article.published")
    );
    let log = room
        .as_user(
            Some(&room.token("admin")),
            "{ webhookDeliveries { nodes { attempt statusCode delivered } } }",
        )
        .await;
    assert_eq!(
        log["data"]["webhookDeliveries"]["nodes"],
        json!([
            { "attempt": 3, "statusCode": 200, "delivered": true },
            { "attempt": 2, "statusCode": 500, "delivered": false },
            { "attempt": 1, "statusCode": 500, "delivered": false }
        ])
    );
}

#[tokio::test]
async fn webhook_targets_are_checked_and_registration_is_for_admins() {
    let Some(room) = Newsroom::open(Engine::Sqlite).await else {
        return;
    };

    let loopback = room
        .as_user(
            Some(&room.token("admin")),
            &register("http://127.0.0.1:9/hook"),
        )
        .await;
    let metadata = room
        .as_user(
            Some(&room.token("admin")),
            &register("http://169.254.169.254/latest"),
        )
        .await;
    let editor = room
        .as_user(
            Some(&room.token("editor")),
            &register("https://partner.example.com/hook"),
        )
        .await;

    assert_eq!(
        loopback["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{loopback}"
    );
    assert_eq!(
        metadata["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    assert_eq!(editor["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

both_engines!(special_purpose_targets_are_refused_at_registration_t_ssrf_1);
/// T-SSRF-1, T-WF-5: webhook targets in the special-purpose blocks of the
/// IANA registries, and IPv6 forms that carry an internal IPv4 address,
/// are refused at registration and nothing is stored; a public IPv4
/// address behind the NAT64 prefix is judged by that address and accepted.
async fn special_purpose_targets_are_refused_at_registration_t_ssrf_1(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let admin = room.token("admin");
    let hooks = |room: &Newsroom| {
        use diesel::prelude::*;
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        newsdesk::db::schema::webhooks::table
            .count()
            .get_result::<i64>(&mut *conn)
            .expect("count")
    };
    let before = hooks(&room);

    let mut accepted = Vec::new();
    for host in [
        "198.18.0.1",
        "198.19.255.1",
        "[64:ff9b::7f00:1]",
        "[64:ff9b::a00:1]",
        "[2002:7f00:1::1]",
        "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
        "[fec0::1]",
        "[::7f00:1]",
        "[::ffff:0:0]",
        "[::ffff:7f00:1]",
        "192.0.0.170",
        "192.88.99.1",
        "[3fff::1]",
        "[100::1]",
    ] {
        let body = room
            .as_user(Some(&admin), &register(&format!("http://{host}/hook")))
            .await;
        if body["errors"][0]["extensions"]["code"] != "BAD_USER_INPUT" {
            accepted.push(format!("{host}: {body}"));
        }
    }
    let after_refusals = hooks(&room);
    let nat64_public = room
        .as_user(Some(&admin), &register("http://[64:ff9b::808:808]/hook"))
        .await;

    assert!(accepted.is_empty(), "accepted: {accepted:#?}");
    assert_eq!(after_refusals, before, "a refused target was stored");
    assert!(
        nat64_public["data"]["registerWebhook"]["databaseId"].is_number(),
        "{nat64_public}"
    );
}

#[tokio::test]
async fn a_restart_between_attempts_loses_no_event() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    // This in-process server registers the hook but never delivers: the
    // separate processes below do, and the first is killed mid-way.
    let Some(app) = TestApp::spawn_with(
        Engine::Sqlite,
        &[
            ("NEWSDESK_JWT_SECRET", SECRET),
            ("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "1"),
            ("NEWSDESK_WEBHOOK_POLL_MS", "3600000"),
        ],
    )
    .await
    else {
        return;
    };
    let room = Newsroom::adopt(app);
    let receiver = Receiver::start(1).await;
    let registered = room
        .as_user(Some(&room.token("admin")), &register(&receiver.url))
        .await;
    assert!(
        registered["data"]["registerWebhook"]["databaseId"].is_i64(),
        "{registered}"
    );
    let id = room.draft("reporter-a", "重啟不丟").await;
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_newsdesk"))
            .arg("serve")
            .env("DATABASE_URL", &room.app.db.url)
            .env("NEWSDESK_BIND", "127.0.0.1:0")
            .env("NEWSDESK_JWT_SECRET", SECRET)
            .env("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "1")
            .env("NEWSDESK_WEBHOOK_POLL_MS", "100")
            // A process killed mid-delivery holds its event for this plus 10 s.
            .env("NEWSDESK_WEBHOOK_TIMEOUT_MS", "2000")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("line");
        child
    };
    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        let actor = newsdesk::db::audit::Actor {
            user_id: None,
            role: "editor".into(),
            request_id: None,
            idempotency: None,
        };
        database
            .transact_on(&mut conn, &actor, |tx| {
                newsdesk::db::article_writes::change(
                    tx,
                    id,
                    None,
                    "article.publish",
                    |_| Ok(()),
                    |_, _, _, status| {
                        status.status = newsdesk::domain::ArticleStatus::Published;
                        status.published_at = Some(newsdesk::db::now());
                        Ok(())
                    },
                )
            })
            .expect("publish");
    }

    // The first process makes the first (failing) attempt and is killed.
    let mut server = start();
    let first = receiver
        .wait_for(|h| !h.is_empty(), Duration::from_secs(10))
        .await;
    let _ = server.kill();
    let _ = server.wait();
    let mut restarted = start();
    let hits = receiver
        .wait_for(
            |h| h.iter().any(|x| x.status == 200),
            Duration::from_secs(30),
        )
        .await;
    let _ = restarted.kill();
    let _ = restarted.wait();

    assert!(!first.is_empty());
    assert_eq!(
        hits.iter().filter(|h| h.status == 200).count(),
        1,
        "{hits:?}"
    );
    assert!(hits.iter().all(|h| h.body == hits[0].body));
}

both_engines!(every_public_change_sends_its_cache_keys_to_the_purge_hook);
async fn every_public_change_sends_its_cache_keys_to_the_purge_hook(engine: Engine) {
    let receiver = Receiver::start(0).await;
    let Some(app) = TestApp::spawn_with(
        engine,
        &[
            ("NEWSDESK_JWT_SECRET", SECRET),
            ("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "1"),
            ("NEWSDESK_WEBHOOK_POLL_MS", "100"),
            ("NEWSDESK_PURGE_URL", &receiver.url),
            ("NEWSDESK_PURGE_SECRET", HOOK_SECRET),
        ],
    )
    .await
    else {
        return;
    };
    let room = Newsroom::adopt(app);
    let id = room.draft("reporter-a", "清緩存").await;
    assert!(receiver.hits().is_empty(), "a draft touched public caches");

    let started = Instant::now();
    room.as_user(
        Some(&room.token("editor")),
        &format!(r#"mutation {{ publishArticle(id: "{id}") {{ status }} }}"#),
    )
    .await;
    let hits = receiver
        .wait_for(|h| !h.is_empty(), Duration::from_secs(5))
        .await;
    let waited = started.elapsed();

    assert_eq!(hits.len(), 1, "{hits:?}");
    let purge: Value = serde_json::from_str(&hits[0].body).expect("JSON");
    assert_eq!(purge["event"], "purge");
    assert!(purge["keys"]
        .as_array()
        .is_some_and(|k| k.contains(&json!(format!("article-{id}")))));
    assert!(waited < Duration::from_secs(1), "purge after {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirecting_receiver_is_not_followed_t_ssrf_4() {
    let Some(room) = hook_room(Engine::Sqlite, &[]).await else {
        return;
    };
    // Where the redirect points: an "internal" service that must see nothing.
    let internal = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let internal_addr = internal.local_addr().expect("addr");
    let reached = Arc::new(Mutex::new(0usize));
    let count = reached.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = internal.accept().await {
            *count.lock().expect("lock") += 1;
        }
    });
    // The registered receiver answers every delivery with a redirect there.
    let redirector = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook_url = format!("http://{}/hook", redirector.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = redirector.accept().await {
            let mut buf = [0u8; 8192];
            let _ = socket.read(&mut buf).await;
            let answer = format!(
                "HTTP/1.1 302 Found\r\nLocation: http://{internal_addr}/admin\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    let (log, _) = first_attempt(&room, &hook_url, "跳转稿件").await;

    assert_eq!(
        log["data"]["webhookDeliveries"]["nodes"][0],
        json!({ "attempt": 1, "statusCode": 302, "delivered": false }),
        "{log}"
    );
    assert_eq!(
        *reached.lock().expect("lock"),
        0,
        "the redirect was followed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_trickles_its_answer_is_cut_off_t_ssrf_6() {
    let Some(room) = hook_room(Engine::Sqlite, &[("NEWSDESK_WEBHOOK_TIMEOUT_MS", "1000")]).await
    else {
        return;
    };
    // Answers one byte a second, promising ten gigabytes: it would hold a
    // delivery for hours.
    let tarpit = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook_url = format!("http://{}/hook", tarpit.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = tarpit.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = socket.read(&mut buf).await;
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n" {
                    if socket.write_all(&[*byte]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
        }
    });
    let (log, took) = first_attempt(&room, &hook_url, "慢速接收").await;

    assert_eq!(
        log["data"]["webhookDeliveries"]["nodes"][0],
        json!({ "attempt": 1, "statusCode": null, "delivered": false }),
        "{log}"
    );
    assert!(took < Duration::from_secs(4), "the attempt took {took:?}");
}

/// A newsroom whose webhooks may target loopback receivers, polled every
/// 100 ms, with `extra` settings.
async fn hook_room(engine: Engine, extra: &[(&str, &str)]) -> Option<Newsroom> {
    let mut vars = vec![
        ("NEWSDESK_WEBHOOK_ALLOW_PRIVATE", "1"),
        ("NEWSDESK_WEBHOOK_POLL_MS", "100"),
    ];
    vars.extend_from_slice(extra);
    Newsroom::open_with(engine, &vars).await
}

/// Registers `hook_url`, publishes an article titled `title`, and waits (8 s
/// at most) for the first delivery attempt; returns the delivery log and how
/// long after the publication it showed.
async fn first_attempt(room: &Newsroom, hook_url: &str, title: &str) -> (Value, Duration) {
    let admin = room.token("admin");
    let registered = room.as_user(Some(&admin), &register(hook_url)).await;
    assert!(
        registered["data"]["registerWebhook"]["databaseId"].is_i64(),
        "{registered}"
    );
    let id = room.draft("reporter-a", title).await;
    room.as_user(
        Some(&room.token("editor")),
        &format!(r#"mutation {{ publishArticle(id: "{id}") {{ status }} }}"#),
    )
    .await;
    let published = Instant::now();
    loop {
        let log = room
            .as_user(
                Some(&admin),
                "{ webhookDeliveries { nodes { attempt statusCode delivered } } }",
            )
            .await;
        let attempted = log["data"]["webhookDeliveries"]["nodes"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
        if attempted || published.elapsed() > Duration::from_secs(8) {
            return (log, published.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
