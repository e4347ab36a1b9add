//! T-DUR-7: SQLite has one writer at a time; many concurrent writers queue
//! in the server instead of surfacing "database is locked" to clients.

use std::time::{Duration, Instant};

use crate::helpers::Engine;
use crate::helpers::Newsroom;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_sqlite_writers_never_see_a_locked_database_t_dur_7() {
    let Some(room) = Newsroom::open(Engine::Sqlite).await else {
        return;
    };
    let token = room.token("editor");
    let until = Instant::now() + Duration::from_secs(8);
    let writers = (0..16).map(|w| {
        let room = &room;
        let token = token.clone();
        async move {
            let mut latencies = Vec::new();
            let mut refused = Vec::new();
            let mut n = 0;
            while Instant::now() < until {
                n += 1;
                let asked = Instant::now();
                let body = room
                    .as_user(
                        Some(&token),
                        &format!(
                            r#"mutation {{ createArticle(input: {{title: "并发写{w}-{n}", section: "lin-yi", paragraphs: ["正文。"]}}) {{ databaseId }} }}"#
                        ),
                    )
                    .await;
                latencies.push(asked.elapsed());
                if !body["errors"].is_null() {
                    refused.push(body.to_string());
                }
            }
            (latencies, refused)
        }
    });
    let results = futures_util::future::join_all(writers).await;

    let refused: Vec<&String> = results.iter().flat_map(|(_, r)| r).collect();
    assert!(
        refused.is_empty(),
        "writes refused: {:?}",
        &refused[..refused.len().min(3)]
    );
    let mut latencies: Vec<Duration> = results.into_iter().flat_map(|(l, _)| l).collect();
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    assert!(latencies.len() > 16, "too few writes to say anything");
    eprintln!(
        "{} writes by 16 writers in 8 s: p50 {:?}, p99 {:?}, max {:?}",
        latencies.len(),
        p(0.5),
        p(0.99),
        p(1.0)
    );
}
