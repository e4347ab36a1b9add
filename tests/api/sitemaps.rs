//! What crawlers read: robots.txt, the sitemap index, pages of article
//! URLs, the sections and the Google News sitemap, each checked with
//! `xmllint --schema` against the sitemaps.org schemas and Google's news
//! schema kept in `tests/xsd`. Only public articles appear, and a withdrawal, an
//! unpublication or a deletion takes a URL out at once, cached or not.

use std::process::Command;

use serde_json::Value;

use crate::both_engines;
use crate::fixtures::file_takedown;
use crate::helpers::{piped, Engine, Newsroom};
use crate::legal_holds::{decide, Step};
use crate::takedowns::published;

const BASE: &str = "https://news.example.test";

async fn get(room: &Newsroom, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let response = room
        .app
        .client
        .get(format!("{}{path}", room.app.address))
        .send()
        .await
        .expect("get");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.expect("text"), headers)
}

/// `xmllint` on `xml`: well formed, and valid against `schema` when given.
fn xmllint(xml: &str, schema: Option<&str>) -> Result<(), String> {
    let mut command = Command::new("xmllint");
    command.arg("--noout");
    if let Some(schema) = schema {
        command.arg("--schema").arg(schema);
    }
    let output = piped(command.arg("-"), xml.as_bytes());
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).to_string())
    }
}

const SITEMAP_XSD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/xsd/sitemap.xsd");
const INDEX_XSD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/xsd/siteindex.xsd");
const NEWS_XSD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/xsd/news-sitemap.xsd");

fn url_of(id: i32, slug: &str) -> String {
    format!("<loc>{BASE}/a/{id}-{slug}</loc>")
}

both_engines!(sitemaps_list_the_public_articles_only_and_follow_a_withdrawal_at_once);
async fn sitemaps_list_the_public_articles_only_and_follow_a_withdrawal_at_once(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let editor = room.token("editor");
    let older = published(&room, "三天前的稿件", "older-story", 3);
    let newest = published(&room, "今天的稿件", "newest-story", 0);
    let pulled = published(&room, "撤下的稿件", "pulled-story", 1);
    let draft = room.draft("reporter-a", "還是草稿").await;
    let future = room.draft("reporter-a", "明年的稿件").await;
    for (id, mutation) in [
        (
            future,
            r#"publishArticle(id: "{id}", at: "2099-01-01T08:00:00+08:00") { status }"#,
        ),
        (pulled, r#"unpublishArticle(id: "{id}") { status }"#),
    ] {
        let done: Value = room
            .as_user(
                Some(&editor),
                &format!(
                    "mutation {{ {} }}",
                    mutation.replace("{id}", &id.to_string())
                ),
            )
            .await;
        assert!(done["errors"].is_null(), "{done}");
    }

    let (status, robots, _) = get(&room, "/robots.txt").await;
    assert_eq!(status, 200);
    assert!(
        robots.contains(&format!("Sitemap: {BASE}/sitemap.xml")),
        "{robots}"
    );
    assert!(
        robots.contains(&format!("Sitemap: {BASE}/sitemaps/news.xml")),
        "{robots}"
    );
    assert!(!robots.contains("Disallow: /\n"), "{robots}");

    let (status, index, headers) = get(&room, "/sitemap.xml").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("application/xml"));
    xmllint(&index, Some(INDEX_XSD)).unwrap_or_else(|e| panic!("{e}\n{index}"));
    for sitemap in ["articles-1.xml", "sections.xml", "news.xml"] {
        assert!(
            index.contains(&format!("<loc>{BASE}/sitemaps/{sitemap}</loc>")),
            "{index}"
        );
    }
    assert!(!index.contains("articles-2.xml"), "{index}");

    // Twice: the second answer comes from the response cache.
    for _ in 0..2 {
        let (status, page, _) = get(&room, "/sitemaps/articles-1.xml").await;
        assert_eq!(status, 200);
        xmllint(&page, Some(SITEMAP_XSD)).unwrap_or_else(|e| panic!("{e}\n{page}"));
        assert!(page.contains(&url_of(older, "older-story")), "{page}");
        assert!(page.contains(&url_of(newest, "newest-story")), "{page}");
        for hidden in [draft, future, pulled] {
            assert!(
                !page.contains(&format!("{BASE}/a/{hidden}-")),
                "{hidden} listed: {page}"
            );
        }
        assert!(page.contains("+08:00</lastmod>"), "{page}");
    }
    let (_, sections, _) = get(&room, "/sitemaps/sections.xml").await;
    xmllint(&sections, Some(SITEMAP_XSD)).unwrap_or_else(|e| panic!("{e}\n{sections}"));
    assert!(
        sections.contains(&format!("<loc>{BASE}/s/lin-yi</loc>")),
        "{sections}"
    );

    let (_, news, _) = get(&room, "/sitemaps/news.xml").await;
    xmllint(&news, Some(NEWS_XSD)).unwrap_or_else(|e| panic!("{e}\n{news}"));
    assert!(news.contains(&url_of(newest, "newest-story")), "{news}");
    assert!(
        !news.contains(&url_of(older, "older-story")),
        "older than 48 hours: {news}"
    );
    assert!(
        news.contains("<news:title>今天的稿件</news:title>"),
        "{news}"
    );
    assert!(news.contains("<news:language>zh-"), "{news}");

    // Withdrawn by a takedown: gone from every sitemap in the next answer.
    let request = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        file_takedown(&mut conn, &[newest])
    };
    decide(&room, request, Step::Accept).await;
    let (_, page, _) = get(&room, "/sitemaps/articles-1.xml").await;
    assert!(!page.contains(&url_of(newest, "newest-story")), "{page}");
    assert!(page.contains(&url_of(older, "older-story")), "{page}");
    let (_, news, _) = get(&room, "/sitemaps/news.xml").await;
    assert!(!news.contains(&url_of(newest, "newest-story")), "{news}");
    // The schema wants at least one URL; Google reads an empty set as "no
    // news now", so it stays an empty, well-formed urlset.
    xmllint(&news, None).expect("an empty news sitemap is well formed");
    let (_, index, _) = get(&room, "/sitemap.xml").await;
    xmllint(&index, Some(INDEX_XSD)).unwrap_or_else(|e| panic!("{e}\n{index}"));

    // Deleted: gone as well; with nothing public left the page is gone.
    let deleted: Value = room
        .as_user(
            Some(&room.token("admin")),
            &format!(r#"mutation {{ deleteArticle(id: "{older}") {{ status }} }}"#),
        )
        .await;
    assert!(deleted["errors"].is_null(), "{deleted}");
    let (status, page, _) = get(&room, "/sitemaps/articles-1.xml").await;
    assert_eq!(status, 404, "{page}");
    let (_, index, _) = get(&room, "/sitemap.xml").await;
    assert!(!index.contains("articles-1.xml"), "{index}");
}

#[tokio::test]
async fn sitemap_names_that_are_not_pages_are_not_found_and_pages_come_gzipped() {
    let Some(room) = Newsroom::open(Engine::Sqlite).await else {
        return;
    };
    let _ = published(&room, "一篇稿件", "one-story", 1);
    for path in [
        "/sitemaps/articles-0.xml",
        "/sitemaps/articles-01.xml",
        "/sitemaps/articles-2.xml",
        "/sitemaps/articles--1.xml",
        "/sitemaps/articles-99999999999.xml",
        "/sitemaps/articles-1.xml.gz",
        "/sitemaps/other.xml",
    ] {
        let (status, body, _) = get(&room, path).await;
        assert_eq!(status, 404, "{path}: {body}");
        let error: Value = serde_json::from_str(&body).expect("a JSON error body");
        assert_eq!(error["error"]["code"], "NOT_FOUND", "{path}: {body}");
    }
    let response = room
        .app
        .client
        .get(format!("{}/sitemaps/articles-1.xml", room.app.address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("get");
    assert_eq!(response.headers()["content-encoding"], "gzip");
}

/// A withdrawal through one node takes the URL out of the sitemaps another
/// node has cached (the nodes share PostgreSQL and hear each other's
/// changes; the delay is printed, and bounded loosely so that a loaded
/// machine does not fail it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_on_one_node_leaves_the_other_nodes_cached_sitemaps() {
    let Some(room) = Newsroom::open(Engine::Postgres).await else {
        return;
    };
    let kept = published(&room, "留下的稿件", "kept-story", 0);
    let pulled = published(&room, "撤下的稿件", "pulled-story", 0);
    let node_b = crate::nodes::second_node(&room).await;
    let client = &room.app.client;
    let read = |path: &'static str| {
        let url = format!("{node_b}{path}");
        async move {
            let response = client.get(&url).send().await.expect("get");
            let hit = response
                .headers()
                .get("x-cache")
                .and_then(|v| v.to_str().ok())
                .map(String::from);
            (hit, response.text().await.expect("text"))
        }
    };
    for path in ["/sitemaps/articles-1.xml", "/sitemaps/news.xml"] {
        read(path).await;
        let (hit, page) = read(path).await;
        assert_eq!(hit.as_deref(), Some("hit"), "node B caches {path}");
        assert!(page.contains(&url_of(pulled, "pulled-story")), "{page}");
    }

    let request = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        file_takedown(&mut conn, &[pulled])
    };
    decide(&room, request, Step::Accept).await;

    let started = std::time::Instant::now();
    for path in ["/sitemaps/articles-1.xml", "/sitemaps/news.xml"] {
        loop {
            let (_, page) = read(path).await;
            if !page.contains(&url_of(pulled, "pulled-story")) {
                assert!(page.contains(&url_of(kept, "kept-story")), "{page}");
                break;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "node B still lists the withdrawn article in {path}: {page}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    println!(
        "withdrawal reached node B's sitemaps in {:?}",
        started.elapsed()
    );
}
