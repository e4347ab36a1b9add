//! Relay pagination over 250 generated articles.

use std::collections::HashSet;

use chrono::Duration;
use serde_json::{json, Value};

use crate::both_engines;
use crate::fixtures::{section, ArticleBuilder};
use crate::helpers::{Engine, TestApp};

const QUERY: &str = r#"query($first: Int, $after: String, $last: Int, $before: String) {
  articles(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { databaseId publishedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

fn ids(page: &Value) -> Vec<i64> {
    page["data"]["articles"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["databaseId"].as_i64())
        .collect()
}

both_engines!(pages_walk_forwards_and_backwards_without_gaps);
async fn pages_walk_forwards_and_backwards_without_gaps(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let expected: Vec<i64> = {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        let s = section(&mut conn, "證券", None);
        let base = newsdesk::db::now() - Duration::days(30);
        let mut made = Vec::new();
        for i in 0..250 {
            // Every fifth article shares its time with the one before, so the
            // id must break ties.
            let at = base + Duration::minutes((i - i % 5 / 4) as i64);
            let id = ArticleBuilder::new(s, &format!("稿件{i}"))
                .published_at(at)
                .insert(&mut conn);
            made.push((at, id as i64));
        }
        made.sort_by(|a, b| b.cmp(a));
        made.into_iter().map(|(_, id)| id).collect()
    };

    let mut forward = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = app
            .graphql_with(QUERY, json!({ "first": 40, "after": after }), &[])
            .await
            .1;
        assert!(page.get("errors").is_none(), "{page}");
        assert_eq!(page["data"]["articles"]["totalCount"], 250);
        forward.extend(ids(&page));
        pages += 1;
        let info = &page["data"]["articles"]["pageInfo"];
        if !info["hasNextPage"].as_bool().expect("hasNextPage") {
            break;
        }
        after = info["endCursor"].as_str().map(String::from);
        assert!(pages < 20, "pagination does not end");
    }
    assert_eq!(pages, 7);
    assert_eq!(forward, expected);

    let mut backward: Vec<i64> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = app
            .graphql_with(QUERY, json!({ "last": 33, "before": before }), &[])
            .await
            .1;
        assert!(page.get("errors").is_none(), "{page}");
        let mut chunk = ids(&page);
        chunk.extend(backward);
        backward = chunk;
        let info = &page["data"]["articles"]["pageInfo"];
        if !info["hasPreviousPage"].as_bool().expect("hasPreviousPage") {
            break;
        }
        before = info["startCursor"].as_str().map(String::from);
    }
    assert_eq!(backward, expected);
    let unique: HashSet<i64> = forward.iter().copied().collect();
    assert_eq!(unique.len(), 250);
}

both_engines!(page_sizes_are_capped);
async fn page_sizes_are_capped(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };

    for (args, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "first": -1 }), "first"),
        (json!({ "first": 2147483647 }), "first"),
        (json!({ "last": 101 }), "last"),
    ] {
        let page = app.graphql_with(QUERY, args.clone(), &[]).await.1;
        assert_eq!(
            page["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{args}: {page}"
        );
        assert!(
            page["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(field)),
            "{page}"
        );
    }
    let garbage = app
        .graphql_with(QUERY, json!({ "first": 5, "after": "not a cursor" }), &[])
        .await
        .1;
    assert_eq!(garbage["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}
