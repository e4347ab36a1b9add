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

both_engines!(a_section_page_merges_its_subsections_and_due_scheduled_articles_in_order);
async fn a_section_page_merges_its_subsections_and_due_scheduled_articles_in_order(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let expected: Vec<i64> = {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        let parent = section(&mut conn, "山東", None);
        let children = [
            section(&mut conn, "臨沂", Some(parent)),
            section(&mut conn, "濟南", Some(parent)),
        ];
        let elsewhere = section(&mut conn, "證券", None);
        let base = newsdesk::db::now() - Duration::days(3);
        let mut made = Vec::new();
        for i in 0..45i64 {
            let home = match i % 4 {
                0 => parent,
                1 => children[0],
                2 => children[1],
                _ => elsewhere,
            };
            // Scheduled articles whose time has come are public too; future ones are not.
            let status = if i % 7 == 0 { "scheduled" } else { "published" };
            let at = base + Duration::minutes(i * 13 % 97);
            let id = ArticleBuilder::new(home, &format!("稿件{i}"))
                .status(status)
                .published_at(at)
                .insert(&mut conn);
            if home != elsewhere {
                made.push((at, id as i64));
            }
        }
        ArticleBuilder::new(children[0], "明日稿件")
            .status("scheduled")
            .in_the_future()
            .insert(&mut conn);
        made.sort_by(|a, b| b.cmp(a));
        made.into_iter().map(|(_, id)| id).collect()
    };
    let page_query = r#"query($after: String) { articles(filter: {section: "shan-dong"}, first: 7, after: $after) {
        edges { node { databaseId } } pageInfo { hasNextPage endCursor } } }"#;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .graphql_with(page_query, json!({ "after": after }), &[])
            .await
            .1;
        let edges = page["data"]["articles"]["edges"]
            .as_array()
            .expect("edges")
            .clone();
        seen.extend(
            edges
                .iter()
                .filter_map(|e| e["node"]["databaseId"].as_i64()),
        );
        if page["data"]["articles"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["data"]["articles"]["pageInfo"]["endCursor"]
            .as_str()
            .map(String::from);
    }
    assert_eq!(seen, expected);
}
