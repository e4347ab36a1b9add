//! The `/v1` JSON routes.

use std::collections::HashSet;

use chrono::Duration;
use serde_json::Value;

use crate::both_engines;
use crate::fixtures::ArticleBuilder;
use crate::helpers::{Engine, TestApp};

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("get");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

both_engines!(rest_routes_serve_the_sample_site);
async fn rest_routes_serve_the_sample_site(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let id = app.import_seed().article_id.expect("imported");

    let (_, site) = get(&app, "/v1/site").await;
    let (_, hans_site) = get(&app, "/v1/site?script=hans").await;
    let (_, sections) = get(&app, "/v1/sections").await;
    let (_, recs) = get(&app, "/v1/recommendations/home").await;
    let (status, article) = get(&app, &format!("/v1/articles/{id}")).await;
    let (missing_status, missing) = get(&app, "/v1/articles/99999").await;
    let (bad_status, bad) = get(&app, "/v1/articles?limit=101").await;
    let (unknown_status, _) = get(&app, "/v1/articles?section=nowhere").await;

    assert_eq!(site["icpFiling"], "魯ICP備09023866-44號");
    assert_eq!(site["complaintPhone"], "0531-85196503");
    assert_eq!(hans_site["name"], "山东财经网");
    assert_eq!(sections.as_array().map(Vec::len), Some(14));
    assert_eq!(sections[0]["name"], "經濟導報");
    assert_eq!(recs.as_array().map(Vec::len), Some(8));
    assert_eq!(
        recs[0]["headline"],
        "這些地區間鐵路旅行時間大幅壓縮!回家更快了!"
    );
    assert_eq!(status, 200);
    assert_eq!(
        article["title"],
        "臨沂山青社會工作服務中心累計服務群眾20余萬人次"
    );
    assert_eq!(article["section"], "lin-yi");
    assert_eq!(article["authors"], serde_json::json!(["劉慎平", "劉玉"]));
    assert_eq!(article["editor"], "付建");
    assert_eq!(article["publishedAt"], "2023-03-21T17:13:59+08:00");
    assert_eq!(article["paragraphs"].as_array().map(Vec::len), Some(4));
    assert_eq!(article["copyrightNotice"]["kind"], "ORIGINAL");
    assert_eq!(missing_status, 404);
    assert_eq!(missing["error"]["code"], "NOT_FOUND");
    assert_eq!(bad_status, 400);
    assert_eq!(bad["error"]["code"], "BAD_USER_INPUT");
    assert_eq!(unknown_status, 404);
}

both_engines!(rest_lists_page_by_cursor_without_gaps);
async fn rest_lists_page_by_cursor_without_gaps(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        let s = crate::fixtures::section(&mut conn, "金融", None);
        let base = newsdesk::db::now() - Duration::days(3);
        for i in 0..45 {
            ArticleBuilder::new(s, &format!("第{i}條"))
                .published_at(base + Duration::minutes(i / 2))
                .insert(&mut conn);
        }
        ArticleBuilder::new(s, "草稿")
            .status("draft")
            .insert(&mut conn);
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/articles?section=jin-rong&limit=20&cursor={c}"),
            None => "/v1/articles?section=jin-rong&limit=20".into(),
        };
        let (status, page) = get(&app, &path).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|i| i["id"].as_i64()),
        );
        pages += 1;
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10);
    }

    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 45);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 45);
}
