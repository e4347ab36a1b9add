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

/// Follows `after` through a staff list page by page; returns the nodes
/// (as JSON text), their cursors, the pages' sizes and the last totalCount.
async fn walk(
    room: &crate::helpers::Newsroom,
    who: &str,
    field: &str,
    args: &str,
    selection: &str,
) -> (Vec<String>, Vec<String>, Vec<usize>, i64) {
    let token = room.token(who);
    let mut seen = Vec::new();
    let mut cursors = Vec::new();
    let mut sizes = Vec::new();
    let mut total;
    let mut after = Value::Null;
    loop {
        let query = format!(
            r#"query($after: String) {{ {field}({args} first: 3, after: $after) {{
                totalCount
                edges {{ cursor node {{ {selection} }} }}
                nodes {{ {selection} }}
                pageInfo {{ hasNextPage hasPreviousPage endCursor }} }} }}"#
        );
        let headers = [("authorization", format!("Bearer {token}"))];
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (_, body) = room
            .app
            .graphql_with(&query, json!({ "after": after }), &headers)
            .await;
        let page = &body["data"][field];
        let edges = page["edges"].as_array().unwrap_or_else(|| panic!("{body}"));
        let nodes: Vec<String> = edges.iter().map(|e| e["node"].to_string()).collect();
        let alone: Vec<String> = page["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(nodes, alone, "edges and nodes disagree");
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        if let Some(last) = edges.last() {
            assert_eq!(page["pageInfo"]["endCursor"], last["cursor"]);
        }
        total = page["totalCount"].as_i64().expect("totalCount");
        sizes.push(nodes.len());
        seen.extend(nodes);
        cursors.extend(edges.iter().map(|e| e["cursor"].to_string()));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        assert!(sizes.len() < 20, "the pages never end");
    }
    (seen, cursors, sizes, total)
}

both_engines!(staff_lists_page_to_the_end_without_duplicates_or_gaps);
async fn staff_lists_page_to_the_end_without_duplicates_or_gaps(engine: Engine) {
    use newsdesk::db::{audit, webhooks};
    // Arrange: 7 audit events of a kind of their own, 7 takedown requests
    // and 7 webhook delivery attempts.
    let Some(room) = crate::helpers::Newsroom::open(engine).await else {
        return;
    };
    let database = room.app.db.database();
    let mut conn = database.get().expect("connection");
    let actor = audit::Actor {
        user_id: None,
        role: "system".into(),
        request_id: None,
        idempotency: None,
    };
    for i in 0..7 {
        audit::record_action(
            &mut conn,
            &actor,
            "paging.test",
            "paging",
            Some(i),
            json!({}),
        )
        .expect("event");
    }
    let sec = section(&mut conn, "分頁", None);
    let article = ArticleBuilder::new(sec, "被投訴的稿件").insert(&mut conn);
    for _ in 0..7 {
        crate::fixtures::file_takedown(&mut conn, &[article]);
    }
    diesel::Connection::transaction::<_, newsdesk::error::AppError, _>(&mut *conn, |conn| {
        webhooks::register(
            conn,
            "https://hooks.example.test/in",
            &["*".into()],
            "s3cret",
        )?;
        for i in 0..7 {
            webhooks::enqueue(conn, "paging.test", &json!({ "i": i }))?;
        }
        let now = newsdesk::db::now();
        for (outbox, _) in webhooks::claim_due(conn, now, Duration::minutes(5), 100)? {
            // Failed, and not due again while the test runs.
            let later = now + Duration::days(1);
            webhooks::record_attempt(conn, &outbox, Some(500), None, false, later)?;
        }
        Ok(())
    })
    .expect("deliveries");
    drop(conn);

    for (who, field, args, selection) in [
        (
            "admin",
            "auditEvents",
            r#"filter: {targetType: "paging"},"#,
            "targetId",
        ),
        ("legal", "takedownRequests", "", "id"),
        ("admin", "webhookDeliveries", "", "event attempt createdAt"),
    ] {
        // Act
        let (seen, cursors, sizes, total) = walk(&room, who, field, args, selection).await;
        let query = format!("{{ {field}({args} first: 100) {{ nodes {{ {selection} }} }} }}");
        let whole = room.as_user(Some(&room.token(who)), &query).await;
        let everything: Vec<String> = whole["data"][field]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{whole}"))
            .iter()
            .map(|n| n.to_string())
            .collect();

        // Assert: three pages of 3, 3 and 1, the whole list once, in order.
        assert_eq!(sizes, vec![3, 3, 1], "{field}");
        assert_eq!(
            seen, everything,
            "{field}: pages differ from the whole list"
        );
        assert_eq!(seen.len(), 7, "{field}");
        assert_eq!(total, 7, "{field}");
        let distinct: HashSet<&String> = cursors.iter().collect();
        assert_eq!(distinct.len(), 7, "{field}: an item came twice");
    }
}

both_engines!(a_foreign_or_garbled_cursor_is_bad_user_input);
async fn a_foreign_or_garbled_cursor_is_bad_user_input(engine: Engine) {
    let Some(room) = crate::helpers::Newsroom::open(engine).await else {
        return;
    };
    let admin = room.token("admin");
    let legal = room.token("legal");
    let article_cursor = newsdesk::graphql::encode_cursor(newsdesk::db::articles::Position {
        published_at: newsdesk::db::now(),
        id: 1,
    });
    let audit_cursor = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("AuditEvent:5")
    };

    for (token, field, cursor) in [
        (&admin, "auditEvents", "%%%not-base64".to_string()),
        (&admin, "auditEvents", "5".to_string()),
        (&admin, "auditEvents", article_cursor.clone()),
        (&legal, "takedownRequests", audit_cursor.clone()),
        (&legal, "takedownRequests", "TD-3".to_string()),
        (&admin, "webhookDeliveries", audit_cursor.clone()),
        (&admin, "webhookDeliveries", article_cursor.clone()),
    ] {
        let body = room
            .as_user(
                Some(token),
                &format!(r#"{{ {field}(after: "{cursor}") {{ totalCount }} }}"#),
            )
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{field}(after: {cursor:?}): {body}"
        );
    }
}
