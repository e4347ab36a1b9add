//! Group J of SECURITY.md: the database goes away and comes back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::helpers::{Engine, TestApp, TestDb};

/// A loopback TCP relay to PostgreSQL that the test can cut and restore,
/// standing in for the database server going down and coming back.
struct Relay {
    port: u16,
    cut: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind relay");
        let port = listener.local_addr().expect("addr").port();
        let cut = Arc::new(Notify::new());
        let stop = cut.clone();
        let task = tokio::spawn(async move {
            let mut open = Vec::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((mut client, _)) = accepted else { continue };
                        open.push(tokio::spawn(async move {
                            if let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await {
                                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            }
                        }));
                    }
                    _ = stop.notified() => {
                        for connection in open {
                            connection.abort();
                        }
                        return;
                    }
                }
            }
        });
        Relay { port, cut, task }
    }

    /// Drops the listener and every relayed connection.
    async fn cut(self) -> u16 {
        self.cut.notify_one();
        let _ = self.task.await;
        self.port
    }
}

fn through(url: &str, port: u16) -> String {
    url.replacen("127.0.0.1:5432", &format!("127.0.0.1:{port}"), 1)
}

async fn site_name(
    client: &reqwest::Client,
    address: &str,
    n: usize,
) -> (u16, Option<String>, Value) {
    // A new variable each time, so the response cache cannot answer.
    let response = client
        .post(format!("{address}/graphql"))
        .json(&json!({ "query": "query($n: Int) { site { name } articles(first: $n) { totalCount } }", "variables": { "n": n % 50 + 1 } }))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (status, retry, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t_av_1_and_2_database_down_answers_503_fast_and_service_recovers_by_itself() {
    let Some(db) = TestDb::new(Engine::Postgres) else {
        return;
    };
    crate::helpers::migrate(&db);
    let relay = Relay::start(0).await;
    let address = TestApp::start(
        &through(&db.url, relay.port),
        &[
            ("NEWSDESK_MIGRATE_ON_START", "0"),
            ("NEWSDESK_RESPONSE_CACHE_MB", "0"),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let (status, _, body) = site_name(&client, &address, 0).await;
    assert_eq!(status, 200, "{body}");

    let port = relay.cut().await;
    for n in 1..4 {
        let started = Instant::now();
        let (status, retry, body) = site_name(&client, &address, n).await;
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
        assert_eq!(status, 503, "{body}");
        assert!(retry.is_some(), "no Retry-After");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
            "{body}"
        );
        let rest = client
            .get(format!("{address}/v1/articles?limit={n}"))
            .send()
            .await
            .expect("rest");
        assert_eq!(rest.status(), 503);
        assert!(rest.headers().contains_key("retry-after"));
    }
    let live = client
        .get(format!("{address}/livez"))
        .send()
        .await
        .expect("livez");
    assert_eq!(
        live.status(),
        200,
        "liveness must not depend on the database"
    );
    let ready = client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);

    let _relay = Relay::start(port).await;
    let back = Instant::now();
    let mut n = 100;
    loop {
        n += 1;
        let (status, _, _) = site_name(&client, &address, n).await;
        if status == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(5),
            "no recovery within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    eprintln!(
        "recovered {:?} after the database came back",
        back.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t_dur_4_a_postgresql_that_may_lose_commits_is_refused_at_start() {
    let Some(db) = TestDb::new(Engine::Postgres) else {
        return;
    };
    let name = db
        .url
        .rsplit('/')
        .next()
        .and_then(|tail| tail.split('?').next())
        .expect("database name")
        .to_string();
    {
        use diesel::connection::SimpleConnection;
        let database = db.database();
        let mut conn = database.get().expect("connection");
        conn.batch_execute(&format!(
            "ALTER DATABASE {name} SET synchronous_commit = off"
        ))
        .expect("alter");
    }
    let start = |vars: Vec<(&'static str, String)>| {
        let mut map: std::collections::HashMap<String, String> = std::collections::HashMap::from([
            ("DATABASE_URL".to_string(), db.url.clone()),
            ("NEWSDESK_BIND".to_string(), "127.0.0.1:0".to_string()),
        ]);
        for (k, v) in vars {
            map.insert(k.to_string(), v);
        }
        let config =
            newsdesk::config::Config::from_lookup(|k| map.get(k).cloned()).expect("config");
        newsdesk::startup::Application::build(config)
    };

    let refused = start(vec![]).await.err().expect("refused to start");
    let started = start(vec![("NEWSDESK_ALLOW_UNSAFE_DURABILITY", "1".into())]).await;

    let message = refused.to_string();
    assert!(message.contains("synchronous_commit=off"), "{message}");
    assert!(
        message.contains("NEWSDESK_ALLOW_UNSAFE_DURABILITY"),
        "{message}"
    );
    assert!(started.is_ok(), "the override did not start it");
}
