//! The search index: every match counted and reachable by cursor, changes
//! made on one node (or past every server) found on another at its next
//! search, withdrawals gone everywhere, an index that was stopped catching
//! up from the search log, and an index folder from another database
//! rebuilt rather than trusted.

use std::collections::BTreeSet;

use diesel::Connection;
use serde_json::{json, Value};

use crate::both_engines;
use crate::fixtures::{section, withdraw, ArticleBuilder};
use crate::helpers::{migrate, Engine, Newsroom, TestApp, TestDb};
use newsdesk::db::AnyConnection;
use newsdesk::search::{parse, SearchIndex};

/// Articles titled `title` in a new section, indexed as every write does
/// (terms written and the change logged, in one transaction).
fn articles(conn: &mut AnyConnection, title: &str, count: usize) -> Vec<i32> {
    conn.transaction::<_, newsdesk::error::AppError, _>(|conn| {
        let s = section(
            conn,
            &format!("版面{}", uuid::Uuid::new_v4().simple()),
            None,
        );
        let mut ids = Vec::with_capacity(count);
        for n in 0..count {
            let id = ArticleBuilder::new(s, &format!("{title}第{n}篇")).insert(conn);
            newsdesk::search::index_article(conn, id)?;
            ids.push(id);
        }
        Ok(ids)
    })
    .expect("articles")
}

async fn search(address: &str, query: &str, after: Option<&str>) -> Value {
    let body = json!({
        "query": "query($q: String!, $after: String) { search(query: $q, first: 100, after: $after) { totalCount edges { cursor node { article { databaseId } } } pageInfo { hasNextPage endCursor } } }",
        "variables": { "q": query, "after": after },
    });
    let answer: Value = reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .json(&body)
        .send()
        .await
        .expect("search sent")
        .json()
        .await
        .expect("search answered");
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["search"].clone()
}

/// Every hit of `query`, following the cursors, and the count it gave.
async fn every_hit(address: &str, query: &str) -> (BTreeSet<i64>, u64) {
    let mut hits = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let page = search(address, query, after.as_deref()).await;
        for edge in page["edges"].as_array().expect("edges") {
            hits.insert(edge["node"]["article"]["databaseId"].as_i64().expect("id"));
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false) {
            return (hits, page["totalCount"].as_u64().unwrap_or(0));
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
}

/// Searches `address` until `done` holds of the hits, for at most a
/// second; returns the last answer.
async fn within_a_second(
    address: &str,
    query: &str,
    done: impl Fn(&BTreeSet<i64>) -> bool,
) -> (BTreeSet<i64>, u64) {
    let started = std::time::Instant::now();
    loop {
        let answer = every_hit(address, query).await;
        if done(&answer.0) || started.elapsed() > std::time::Duration::from_secs(1) {
            return answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

both_engines!(every_match_is_counted_and_reachable_past_a_thousand);
async fn every_match_is_counted_and_reachable_past_a_thousand(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let ids = {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        articles(&mut conn, "港口吞吐量", 1_050)
    };
    let (hits, total) = every_hit(&app.address, "港口").await;
    assert_eq!(total, 1_050, "totalCount counts every match");
    let expected: BTreeSet<i64> = ids.iter().map(|id| i64::from(*id)).collect();
    assert_eq!(hits, expected, "every match, the oldest too, by cursor");
}

both_engines!(a_publication_on_one_node_is_found_on_another_and_a_withdrawal_gone_from_both);
async fn a_publication_on_one_node_is_found_on_another_and_a_withdrawal_gone_from_both(
    engine: Engine,
) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let other = TestApp::start(&room.app.db.url, &[]).await;
    let editor = room.token("editor");
    let created = room
        .as_user(
            Some(&editor),
            r#"mutation { createArticle(input: {title: "港珠澳大橋車流創新高", section: "lin-yi",
               paragraphs: ["大橋今日車流創新高。"]}) { databaseId } }"#,
        )
        .await;
    let id = created["data"]["createArticle"]["databaseId"]
        .as_i64()
        .unwrap_or_else(|| panic!("not created: {created}"));
    assert!(
        every_hit(&other, "港珠澳").await.0.is_empty(),
        "a draft is not found"
    );
    let published = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ publishArticle(id: "{id}") {{ status }} }}"#),
        )
        .await;
    assert!(published["errors"].is_null(), "{published}");

    // The node that wrote finds it at once.
    assert_eq!(
        every_hit(&room.app.address, "港珠澳").await,
        (BTreeSet::from([id]), 1)
    );
    // The other had the empty answer in its response cache: on PostgreSQL
    // the write's NOTIFY drops it at once, on SQLite its index's next round
    // (200 ms) does.
    let started = std::time::Instant::now();
    let found = within_a_second(&other, "港珠澳", |hits| hits.contains(&id)).await;
    eprintln!(
        "published on one node, found on the other after {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(found, (BTreeSet::from([id]), 1));
    assert_eq!(
        every_hit(&room.app.address, "港珠澳").await.0,
        BTreeSet::from([id])
    );

    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        withdraw(&database, &mut conn, id as i32);
    }
    // Withdrawn past both servers (as the legal desk's own tools may): gone
    // from both within a second, cached answers included.
    for node in [&room.app.address, &other] {
        let started = std::time::Instant::now();
        let gone = within_a_second(node, "港珠澳", BTreeSet::is_empty).await;
        eprintln!(
            "withdrawn, gone from {node} after {} ms",
            started.elapsed().as_millis()
        );
        assert_eq!(gone, (BTreeSet::new(), 0));
    }
}

/// An index stopped at any moment (its last commit is what it has) takes
/// up the search log where it left off when it opens again.
#[test]
fn an_index_opened_again_catches_up_from_the_search_log() {
    let db = TestDb::new(Engine::Sqlite).expect("database");
    migrate(&db);
    let folder = tempfile::tempdir().expect("folder");
    let database = db.database();
    let mut conn = database.get().expect("connection");
    let before = articles(&mut conn, "碼頭擴建", 3);
    {
        let index = SearchIndex::open(Some(folder.path())).expect("index");
        assert!(
            !index.resume(&mut conn).expect("resume"),
            "a new folder has nothing to resume"
        );
        index.rebuild(&mut conn, |_, _| {}).expect("rebuild");
        assert_eq!(index.documents(), 3);
    }
    // While no index runs: one more article, and one withdrawn.
    let after = articles(&mut conn, "碼頭擴建", 1);
    withdraw(&database, &mut conn, before[0]);

    let index = SearchIndex::open(Some(folder.path())).expect("index");
    assert!(
        index.resume(&mut conn).expect("resume"),
        "built from this database"
    );
    index.catch_up(&mut conn).expect("catch up");
    let hits = first_ten(&index, "碼頭");
    let found: BTreeSet<i32> = hits.page.iter().map(|(id, _)| *id).collect();
    assert_eq!(found, BTreeSet::from([before[1], before[2], after[0]]));
    assert_eq!(hits.total, 3);
}

/// An index stopped for longer than the search log keeps entries has
/// missed what the log forgot: it is rebuilt, not taken up.
#[test]
fn an_index_older_than_what_the_search_log_keeps_is_rebuilt_not_resumed() {
    let db = TestDb::new(Engine::Sqlite).expect("database");
    migrate(&db);
    let folder = tempfile::tempdir().expect("folder");
    let database = db.database();
    let mut conn = database.get().expect("connection");
    articles(&mut conn, "港口吞吐", 2);
    {
        let index = SearchIndex::open(Some(folder.path())).expect("index");
        index.rebuild(&mut conn, |_, _| {}).expect("rebuild");
    }
    // While no index runs: two more articles, then the log forgets all but
    // its newest entry.
    let missed = articles(&mut conn, "港口吞吐", 2);
    let later = newsdesk::db::now() + chrono::TimeDelta::seconds(1);
    let (_, forgotten) =
        newsdesk::jobs::log_pruning::forget_before(&mut conn, later).expect("forget");
    assert!(forgotten >= 1, "{forgotten}");

    let index = SearchIndex::open(Some(folder.path())).expect("index");
    assert!(
        !index.resume(&mut conn).expect("resume"),
        "an index from before the forgotten entries is not taken up"
    );
    index.rebuild(&mut conn, |_, _| {}).expect("rebuild");
    let hits = first_ten(&index, "港口");
    assert_eq!(hits.total, 4);
    let found: BTreeSet<i32> = hits.page.iter().map(|(id, _)| *id).collect();
    assert!(missed.iter().all(|id| found.contains(id)), "{found:?}");
}

#[test]
fn an_index_folder_from_another_database_is_rebuilt_not_trusted() {
    let folder = tempfile::tempdir().expect("folder");
    let first = TestDb::new(Engine::Sqlite).expect("database");
    let second = TestDb::new(Engine::Sqlite).expect("database");
    migrate(&first);
    migrate(&second);
    let (first_db, second_db) = (first.database(), second.database());
    let mut first_conn = first_db.get().expect("connection");
    let mut second_conn = second_db.get().expect("connection");
    articles(&mut first_conn, "舊庫文章", 2);
    {
        let index = SearchIndex::open(Some(folder.path())).expect("index");
        index.rebuild(&mut first_conn, |_, _| {}).expect("rebuild");
    }
    let index = SearchIndex::open(Some(folder.path())).expect("index");
    assert!(
        !index.resume(&mut second_conn).expect("resume"),
        "another database's index is not taken up"
    );
    assert!(!index.is_complete());
    index.rebuild(&mut second_conn, |_, _| {}).expect("rebuild");
    let hits = first_ten(&index, "舊庫");
    assert_eq!(hits.total, 0, "nothing of the other database remains");
}

both_engines!(a_query_of_ten_thousand_characters_or_a_thousand_words_is_refused_by_its_limit);
async fn a_query_of_ten_thousand_characters_or_a_thousand_words_is_refused_by_its_limit(
    engine: Engine,
) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    for (query, limit) in [
        ("港".repeat(10_000), "at most 200 characters"),
        ("港口 ".repeat(60), "at most 32 words"),
    ] {
        let started = std::time::Instant::now();
        let (_, body) = app
            .graphql_with(
                "query($q: String!) { search(query: $q) { totalCount } }",
                json!({ "q": query }),
                &[],
            )
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(limit), "{message}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));

        // A URL carries a thousand characters of it (past the limit too).
        let in_url: String = query.chars().take(1_000).collect();
        let rest = app
            .client
            .get(format!("{}/v1/search", app.address))
            .query(&[("q", in_url.as_str())])
            .send()
            .await
            .expect("rest search");
        assert_eq!(rest.status(), 400);
        let rest: Value = rest.json().await.expect("json error");
        assert!(
            rest.to_string().contains(limit),
            "the REST error names the limit: {rest}"
        );
    }
}

both_engines!(suggestions_go_on_from_what_a_reader_typed_in_either_script);
async fn suggestions_go_on_from_what_a_reader_typed_in_either_script(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let (bridge, port, ipo, withdrawn) = {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        let bridge = articles(&mut conn, "港珠澳大橋車流創新高", 1)[0];
        let port = articles(&mut conn, "港口吞吐量再創新高", 1)[0];
        let ipo = articles(&mut conn, "鷹眼IPO觀察", 1)[0];
        let withdrawn = articles(&mut conn, "港珠澳機密草稿", 1)[0];
        withdraw(&database, &mut conn, withdrawn);
        (bridge, port, ipo, withdrawn)
    };
    let suggest = |prefix: &str| {
        let query =
            "query($p: String!) { suggest(prefix: $p, first: 10) { text article { databaseId } } }";
        let variables = json!({ "p": prefix });
        async { app.graphql_with(query, variables, &[]).await.1 }
    };
    let ids = |answer: &Value| -> BTreeSet<i64> {
        answer["data"]["suggest"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["article"]["databaseId"].as_i64())
                    .collect()
            })
            .unwrap_or_default()
    };
    let id = |n: i32| i64::from(n);

    // Simplified typing finds the traditional title, its text as asked.
    let answer = suggest("港珠澳大").await;
    assert_eq!(ids(&answer), BTreeSet::from([id(bridge)]), "{answer}");
    assert!(answer["data"]["suggest"][0]["text"].as_str().is_some());
    // One character goes on to every title with a word it starts.
    assert_eq!(
        ids(&suggest("港").await),
        BTreeSet::from([id(bridge), id(port)])
    );
    // Suggestions are read without their bodies; one asked for is read then.
    let answer = app
        .graphql("{ suggest(prefix: \"港珠澳大\", first: 1, script: ORIGINAL) { article { paragraphs } } }")
        .await;
    assert_eq!(
        answer["data"]["suggest"][0]["article"]["paragraphs"],
        json!(["港珠澳大橋車流創新高第0篇的正文。"]),
        "{answer}"
    );
    // Latin letters are the beginning of a word.
    assert_eq!(ids(&suggest("ip").await), BTreeSet::from([id(ipo)]));
    // Nothing typed, nothing suggested; a withdrawn article never.
    assert!(ids(&suggest("").await).is_empty());
    assert!(!ids(&suggest("港珠澳").await).contains(&id(withdrawn)));
    // Too long a prefix is the caller's mistake, named.
    let refused = suggest(&"港".repeat(51)).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    let rest: Value = app
        .client
        .get(format!("{}/v1/suggest", app.address))
        .query(&[("q", "港珠澳"), ("script", "hant")])
        .send()
        .await
        .expect("rest")
        .json()
        .await
        .expect("json");
    assert_eq!(rest["items"][0]["id"], id(bridge), "{rest}");
    assert_eq!(
        rest["items"][0]["title"], "港珠澳大橋車流創新高第0篇",
        "{rest}"
    );
    assert!(rest["items"][0]["url"]
        .as_str()
        .is_some_and(|u| u.contains("/a/")));
    let bad = app
        .client
        .get(format!("{}/v1/suggest?q=%E6%B8%AF&limit=0", app.address))
        .send()
        .await
        .expect("rest");
    assert_eq!(bad.status(), 400);
}

/// The first ten hits of `text` in `index`, best first, over the whole site.
fn first_ten(index: &SearchIndex, text: &str) -> newsdesk::search::Hits {
    let query = parse(text).expect("query");
    let request = newsdesk::search::Request {
        query: &query,
        scope: &newsdesk::search::Scope::everything(),
        order: newsdesk::search::Order::Relevance,
        now: newsdesk::db::now(),
        offset: 0,
        size: 10,
        facets_offset: None,
    };
    index.search(&request).expect("search")
}
