//! Group J of SECURITY.md: the database goes away and comes back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::both_engines;
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
async fn and_2_database_down_answers_503_fast_and_service_recovers_by_itself_t_av_1() {
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
async fn a_postgresql_that_may_lose_commits_is_refused_at_start_t_dur_4() {
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

/// A relay to PostgreSQL that holds every chunk, both ways, for the delay in
/// milliseconds it is set to: a slow network or an overloaded database.
async fn slow_relay(delay_ms: Arc<std::sync::atomic::AtomicU64>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn pump(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        delay_ms: Arc<std::sync::atomic::AtomicU64>,
    ) {
        let mut buf = vec![0u8; 16_384];
        while let Ok(n) = from.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let delay = delay_ms.load(std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(delay)).await;
            if to.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect("127.0.0.1:5432").await else {
                continue;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(pump(client_read, server_write, delay_ms.clone()));
            tokio::spawn(pump(server_read, client_write, delay_ms.clone()));
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_database_gets_answers_within_the_budget_and_no_pile_up_t_av_5() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let Some(db) = TestDb::new(Engine::Postgres) else {
        return;
    };
    crate::helpers::migrate(&db);
    let delay = Arc::new(AtomicU64::new(0));
    let port = slow_relay(delay.clone()).await;
    let address = TestApp::start(
        &through(&db.url, port),
        &[
            ("NEWSDESK_MIGRATE_ON_START", "0"),
            ("NEWSDESK_RESPONSE_CACHE_MB", "0"),
            ("NEWSDESK_EXECUTION_TIMEOUT_MS", "1500"),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    assert_eq!(site_name(&client, &address, 0).await.0, 200);

    // Every round trip to the database now takes at least 400 ms.
    delay.store(200, Ordering::Relaxed);
    let started = Instant::now();
    let answers = futures_util::future::join_all((1..=40).map(|n| {
        let client = client.clone();
        let address = address.clone();
        async move {
            let asked = Instant::now();
            let (status, _, body) = site_name(&client, &address, n).await;
            (status, body, asked.elapsed())
        }
    }))
    .await;

    for (status, body, took) in &answers {
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("OK");
        assert!(
            matches!(
                (status, code),
                (200, "OK" | "TIMEOUT") | (503, "SERVICE_UNAVAILABLE")
            ),
            "{status} {body}"
        );
        // The budget (1.5 s), plus a pool checkout (2 s) at most.
        assert!(*took < Duration::from_secs(5), "an answer took {took:?}");
    }
    eprintln!(
        "40 requests against a slow database answered in {:?}: {} ok, {} timed out, {} unavailable",
        started.elapsed(),
        answers
            .iter()
            .filter(|(s, b, _)| *s == 200 && b["errors"].is_null())
            .count(),
        answers
            .iter()
            .filter(|(_, b, _)| b["errors"][0]["extensions"]["code"] == "TIMEOUT")
            .count(),
        answers.iter().filter(|(s, _, _)| *s == 503).count(),
    );

    // The database is fast again: service returns without a restart.
    delay.store(0, Ordering::Relaxed);
    let back = Instant::now();
    let mut n = 100;
    while site_name(&client, &address, n).await.0 != 200 {
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "the pool did not recover from the slow spell"
        );
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Routes with the bugs T-AV-6 needs: a handler that panics, and one that
/// panics inside an open write transaction, after inserting a section.
fn faulty_routes(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::{web, HttpResponse};
    use newsdesk::db::sections::{self, NewSection};
    use newsdesk::domain::SectionKind;
    use newsdesk::error::AppError;

    async fn panic_in_handler() -> HttpResponse {
        panic!("a bug in a handler")
    }

    async fn panic_in_transaction(
        state: web::Data<newsdesk::http::AppState>,
    ) -> Result<HttpResponse, AppError> {
        use diesel::Connection;
        state
            .db
            .write(|conn| {
                conn.transaction::<(), AppError, _>(|conn| {
                    let probe = NewSection {
                        name: "恐慌",
                        parent_id: None,
                        kind: SectionKind::Topic,
                        position: 99,
                        in_navigation: false,
                    };
                    sections::create_with_slug(conn, &probe, "panic-probe")?;
                    panic!("a bug inside a write transaction")
                })
            })
            .await?;
        Ok(HttpResponse::Ok().finish())
    }

    cfg.route("/test/panic", web::get().to(panic_in_handler))
        .route(
            "/test/panic-in-transaction",
            web::post().to(panic_in_transaction),
        )
        // A middleware that panics while making its future, not in it.
        .service(
            web::scope("/test/panic-early")
                .wrap_fn(|request, service| {
                    use actix_web::dev::Service;
                    if request.path().ends_with("early") {
                        panic!("a bug before any future")
                    }
                    service.call(request)
                })
                .route("", web::get().to(HttpResponse::Ok)),
        );
}

/// T-AV-6: a panic answers its own request with a 500 and the usual error
/// body, concurrent requests are unaffected, and the workers keep serving;
/// a panic inside a write transaction leaves nothing written and no
/// connection stuck in that transaction for the next request.
async fn a_panic_costs_only_its_own_request_t_av_6(engine: Engine) {
    let app = TestApp::spawn_with_routes(
        engine,
        &[("NEWSDESK_JWT_SECRET", crate::helpers::SECRET)],
        faulty_routes,
    )
    .await;
    let Some(app) = app else { return };
    let room = crate::helpers::Newsroom::adopt(app);
    let app = &room.app;

    let panics = (0..12).map(|n| async move {
        let path = if n % 2 == 0 { "panic" } else { "panic-early" };
        let response = app
            .client
            .get(format!("{}/test/{path}", app.address))
            .send()
            .await
            .expect("an answer, not a dropped connection");
        let request_id = response.headers().get("x-request-id").is_some();
        (
            response.status().as_u16(),
            request_id,
            response.json::<Value>().await.expect("JSON"),
        )
    });
    let reads = (0..24).map(|_| app.graphql("{ sections { slug } }"));
    let (panicked, read) = tokio::join!(
        futures_util::future::join_all(panics),
        futures_util::future::join_all(reads)
    );
    for (status, request_id, body) in &panicked {
        assert_eq!(*status, 500, "{body}");
        assert_eq!(body["error"]["code"], "INTERNAL", "{body}");
        assert!(
            !body.to_string().contains("a bug"),
            "the panic leaked: {body}"
        );
        assert!(request_id, "no x-request-id on the panic's answer");
    }
    for body in &read {
        assert_eq!(body["data"]["sections"][0]["slug"], "lin-yi", "{body}");
    }

    // More transaction panics than the pool has connections.
    for _ in 0..10 {
        let response = app
            .client
            .post(format!("{}/test/panic-in-transaction", app.address))
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), 500);
    }
    // Every later write commits, promptly, and the probe never did.
    let started = Instant::now();
    for n in 0..10 {
        room.draft("reporter-a", &format!("恐慌之後 {n}")).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "writes after the panics took {:?}",
        started.elapsed()
    );
    let counts = app.db.row_counts();
    assert_eq!(counts["articles"], 10, "{counts:?}");
    assert_eq!(
        counts["sections"], 1,
        "the panicking transaction's section was kept"
    );

    // The workers all still serve.
    let after = (0..24).map(|_| app.graphql("{ sections { slug } }"));
    for body in futures_util::future::join_all(after).await {
        assert_eq!(body["data"]["sections"][0]["slug"], "lin-yi", "{body}");
    }
}

both_engines!(a_panic_costs_only_its_own_request_t_av_6);
