//! Several API nodes on one PostgreSQL: a change committed through one node
//! makes the others' cached copies unservable (LISTEN/NOTIFY), and a node
//! that stops hearing the others forgets what it cached.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use serde_json::Value;

use crate::helpers::{Engine, TestApp};
use crate::helpers::{Newsroom, SECRET};

/// A second node on the room's database, with a long cache lifetime so that
/// only an invalidation can explain a fresh answer; returned once it listens
/// (it forgets its cache when it starts listening).
pub(crate) async fn second_node(room: &Newsroom) -> String {
    let node = TestApp::start(
        &room.app.db.url,
        &[
            ("NEWSDESK_JWT_SECRET", SECRET),
            ("NEWSDESK_CACHE_MAX_AGE", "600"),
        ],
    )
    .await;
    let started = Instant::now();
    while metric(&room.app.client, &node, "newsdesk_peer_listener_up").await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "node B never listened"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    node
}

async fn get(client: &reqwest::Client, url: &str) -> (Option<String>, Value) {
    let response = client.get(url).send().await.expect("get");
    let hit = response
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (hit, response.json().await.expect("json"))
}

/// Node A with the sample article, and node B with that article in its
/// cache.
struct Warm {
    room: Newsroom,
    node_b: String,
    /// The article on node B.
    url: String,
    id: i32,
    /// Node B's cached answer.
    body: Value,
}

impl Warm {
    async fn start() -> Option<Warm> {
        let room = Newsroom::open(Engine::Postgres).await?;
        let id = room.app.import_seed().article_id.expect("imported");
        let node_b = second_node(&room).await;
        let url = format!("{node_b}/v1/articles/{id}");
        get(&room.app.client, &url).await;
        let (hit, body) = get(&room.app.client, &url).await;
        assert_eq!(hit.as_deref(), Some("hit"), "node B serves from its cache");
        Some(Warm {
            room,
            node_b,
            url,
            id,
            body,
        })
    }
}

/// Reads until `done` holds; returns how long that took.
async fn wait_for(
    client: &reqwest::Client,
    url: &str,
    done: impl Fn(&Value) -> bool,
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done(&get(client, url).await.1) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

async fn metric(client: &reqwest::Client, node: &str, name: &str) -> u64 {
    let text = client
        .get(format!("{node}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_on_one_node_reaches_another_nodes_cache_within_a_second() {
    let Some(warm) = Warm::start().await else {
        return;
    };
    let (room, node_b, url, id, before) =
        (&warm.room, &warm.node_b, &warm.url, warm.id, &warm.body);
    let client = &room.app.client;
    let old_title = before["title"].as_str().expect("title").to_string();

    let edited = room
        .as_user(
            Some(&room.token("editor")),
            &format!(
                r#"mutation {{ updateArticle(id: "{id}", expectedRevision: 1, input: {{title: "另一节点的更正"}}) {{ title }} }}"#
            ),
        )
        .await;
    assert_eq!(
        edited["data"]["updateArticle"]["title"], "另一节点的更正",
        "{edited}"
    );

    let delay = wait_for(
        client,
        url,
        |body| body["title"] == "另一节点的更正",
        Duration::from_secs(1),
    )
    .await;
    assert!(
        delay.is_some(),
        "node B still serves {old_title:?} a second after the edit"
    );
    assert!(metric(client, node_b, "newsdesk_invalidations_received_total").await >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_stops_hearing_the_others_forgets_its_cache_and_listens_again() {
    let Some(warm) = Warm::start().await else {
        return;
    };
    let (room, node_b, url) = (&warm.room, &warm.node_b, &warm.url);
    let client = &room.app.client;
    assert_eq!(metric(client, node_b, "newsdesk_peer_listener_up").await, 1);

    // Cut every listening connection of this database (both nodes').
    let database = room.app.db.database();
    let mut conn = database.get().expect("connection");
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN %'",
    )
    .execute(&mut conn)
    .expect("terminate listeners");

    let started = Instant::now();
    while metric(client, node_b, "newsdesk_peer_listener_lost_total").await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the lost connection went unnoticed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        get(client, url).await.0,
        None,
        "a node that may have missed changes served from its cache"
    );
    let started = Instant::now();
    while metric(client, node_b, "newsdesk_peer_listener_up").await == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the listener did not come back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_articles_go_live_once_however_many_nodes_run_the_job() {
    let Some(room) =
        Newsroom::open_with(Engine::Postgres, &[("NEWSDESK_SCHEDULER_POLL_MS", "20")]).await
    else {
        return;
    };
    let database = room.app.db.database();
    {
        let mut conn = database.get().expect("connection");
        newsdesk::db::webhooks::register(
            &mut conn,
            "http://127.0.0.1:9/hook",
            &["article.published".to_string()],
            "secret",
        )
        .expect("webhook");
    }
    for _ in 0..2 {
        TestApp::start(
            &room.app.db.url,
            &[
                ("NEWSDESK_JWT_SECRET", SECRET),
                ("NEWSDESK_SCHEDULER_POLL_MS", "20"),
            ],
        )
        .await;
    }
    let editor = room.token("editor");
    let mut drafts = Vec::new();
    for n in 0..8 {
        drafts.push(room.draft("editor", &format!("定时稿{n}")).await);
    }
    // Far enough ahead that all eight are scheduled before it comes.
    let at = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let mut ids = Vec::new();
    for id in drafts {
        let body = room
            .as_user(
                Some(&editor),
                &format!(r#"mutation {{ publishArticle(id: "{id}", at: "{at}") {{ status }} }}"#),
            )
            .await;
        assert_eq!(
            body["data"]["publishArticle"]["status"], "SCHEDULED",
            "{body}"
        );
        ids.push(id);
    }

    tokio::time::sleep(Duration::from_millis(3500)).await;

    let mut conn = database.get().expect("connection");
    for id in ids {
        let row: (String, i64, i64) = diesel::sql_query(format!(
            "SELECT a.status, \
               (SELECT count(*) FROM audit_events e WHERE e.target_id = a.id \
                  AND e.actor_role = 'scheduler') AS audits, \
               (SELECT count(*) FROM webhook_outbox o WHERE o.event = 'article.published' \
                  AND o.payload LIKE '%\"id\":{id},%') AS events \
             FROM articles a WHERE a.id = {id}"
        ))
        .get_result::<Scheduled>(&mut conn)
        .map(|r| (r.status, r.audits, r.events))
        .expect("article");
        assert_eq!(row, ("published".to_string(), 1, 1), "article {id}");
    }
}

#[derive(diesel::QueryableByName)]
struct Scheduled {
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    audits: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    events: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_reads_use_the_read_url_and_credentials_use_the_primary() {
    let Some(db) = crate::helpers::TestDb::new(Engine::Postgres) else {
        return;
    };
    // The primary named as its own replica: always current.
    let node = TestApp::start(
        &db.url,
        &[
            ("DATABASE_READ_URL", db.url.as_str()),
            ("NEWSDESK_JWT_SECRET", SECRET),
            ("NEWSDESK_RESPONSE_CACHE_MB", "0"),
        ],
    )
    .await;
    let room = Newsroom::adopt(TestApp {
        address: node.clone(),
        db,
        client: reqwest::Client::new(),
    });
    let id = room.app.import_seed().article_id.expect("imported");
    let client = &room.app.client;
    let reads = || metric(client, &node, "newsdesk_replica_reads_total");
    let query = format!(r#"{{ article(id: "{id}") {{ title }} }}"#);
    // A first request also fills the site's snapshots, each read from a
    // replica chosen when that read begins.
    let first_before = reads().await;
    room.as_user(None, &query).await;
    assert!(reads().await > first_before + 1, "snapshots chose anew");
    let before = reads().await;

    let body = room.as_user(None, &query).await;
    assert!(body["data"]["article"]["title"].is_string(), "{body}");
    assert_eq!(
        reads().await,
        before + 1,
        "a GraphQL request picks its reader once"
    );
    let rest = client
        .get(format!("{node}/v1/articles/{id}"))
        .send()
        .await
        .expect("rest");
    assert_eq!(rest.status(), 200);
    let after = reads().await;
    assert!(after > before + 1, "the REST read used the replica");

    let editor = room.token("editor");
    room.as_user(
        Some(&editor),
        &format!(r#"{{ article(id: "{id}") {{ title }} }}"#),
    )
    .await;
    assert_eq!(reads().await, after, "a request with credentials did not");
}
