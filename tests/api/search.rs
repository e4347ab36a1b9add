//! Chinese full-text search on both engines.

use serde_json::{json, Value};

use crate::both_engines;
use crate::fixtures::{section, ArticleBuilder};
use crate::helpers::{Engine, TestApp};

async fn ids(app: &TestApp, query: &str) -> Vec<i64> {
    let body = app
        .graphql_with(
            "query($q: String!) { search(query: $q, first: 100) { totalCount nodes { article { databaseId } } } }",
            json!({ "q": query }),
            &[],
        )
        .await
        .1;
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"]["search"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["article"]["databaseId"].as_i64())
        .collect()
}

both_engines!(chinese_search_finds_words_in_either_script);
async fn chinese_search_finds_words_in_either_script(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let sample = app.import_seed().article_id.expect("imported") as i64;
    let (ipo, simplified, hidden) = {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        let s = section(&mut conn, "證券市場", None);
        let mut add = |title: &str, body: &str| {
            let id = ArticleBuilder::new(s, title).insert(&mut conn);
            use diesel::prelude::*;
            use newsdesk::db::schema::articles;
            diesel::update(articles::table.find(id))
                .set(articles::body.eq(json!([body]).to_string()))
                .execute(&mut *conn)
                .expect("body");
            newsdesk::search::index_article(&mut conn, id).expect("index");
            id as i64
        };
        let ipo = add("鷹眼IPO觀察：91家公司排隊", "港交所和納斯達克成熱門選擇。");
        let simplified = add("扶贫工作新进展", "各地扶贫项目稳步推进。");
        let hidden = add("扶貧機密草稿", "扶貧。");
        crate::fixtures::withdraw(&database, &mut conn, hidden as i32);
        (ipo, simplified, hidden)
    };

    let poverty_hans = ids(&app, "扶贫").await;
    let poverty_hant = ids(&app, "扶貧").await;
    assert_eq!(poverty_hans, poverty_hant);
    assert!(poverty_hans.contains(&sample) && poverty_hans.contains(&simplified));
    assert!(
        !poverty_hans.contains(&hidden),
        "a withdrawn article was found"
    );
    assert_eq!(poverty_hans[0], simplified, "the title match ranks first");
    for q in [
        "社工",
        "臨沂",
        "临沂",
        "劉慎平",
        "刘慎平",
        "山青",
        "\"社會工作\"",
    ] {
        assert_eq!(ids(&app, q).await, vec![sample], "{q}");
    }
    assert_eq!(ids(&app, "IPO").await, vec![ipo]);
    assert_eq!(ids(&app, "ipo 納斯達克").await, vec![ipo]);
    assert_eq!(
        ids(&app, "扶贫 -禁毒").await,
        vec![simplified],
        "the exclusion did not exclude"
    );
    assert!(ids(&app, "沒有這個詞語").await.is_empty());
    for hostile in [
        "' OR 1=1--",
        "*",
        "(",
        ":",
        "\"",
        "NEAR(扶贫",
        "\"; DROP TABLE articles;--",
        "扶贫 AND -",
    ] {
        let body = app
            .graphql_with(
                "query($q: String!) { search(query: $q) { totalCount } }",
                json!({ "q": hostile }),
                &[],
            )
            .await
            .1;
        let code = body["errors"][0]["extensions"]["code"].as_str();
        assert!(
            code.is_none() || code == Some("BAD_USER_INPUT"),
            "{hostile}: {body}"
        );
    }
    let empty = app
        .graphql(r#"{ search(query: "  ") { totalCount } }"#)
        .await;
    assert_eq!(empty["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    let snippet = app
        .graphql(r#"{ search(query: "扶贫", first: 1, script: HANS) { edges { cursor node { snippet score } } pageInfo { hasNextPage } } }"#)
        .await;
    let edge = &snippet["data"]["search"]["edges"][0];
    assert!(
        edge["node"]["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("<em>扶贫</em>")),
        "{snippet}"
    );
    assert_eq!(snippet["data"]["search"]["pageInfo"]["hasNextPage"], true);
    let cursor = edge["cursor"].as_str().expect("cursor");
    let next = app
        .graphql(&format!(r#"{{ search(query: "扶贫", first: 5, after: "{cursor}") {{ nodes {{ article {{ databaseId }} }} }} }}"#))
        .await;
    assert_eq!(
        next["data"]["search"]["nodes"],
        json!([{ "article": { "databaseId": sample } }]),
        "{next}"
    );
    let _: Value = next;

    let rest: Value = app
        .client
        .get(format!("{}/v1/search", app.address))
        .query(&[("q", "扶貧"), ("script", "hans")])
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(rest["total"], 2, "{rest}");
    assert_eq!(rest["items"][0]["id"], simplified);
    assert_eq!(
        rest["items"][1]["title"],
        "临沂山青社会工作服务中心累计服务群众20余万人次"
    );
    let bad = app
        .client
        .get(format!("{}/v1/search?q=%20", app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(bad.status(), 400);
}

both_engines!(related_articles_share_terms_and_pinned_ones_come_first);
async fn related_articles_share_terms_and_pinned_ones_come_first(engine: Engine) {
    let Some(room) = crate::helpers::Newsroom::open(engine).await else {
        return;
    };
    let (a, b, c, d) = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        let lin_yi = newsdesk::db::sections::by_slug(&mut conn, "lin-yi")
            .expect("q")
            .expect("s")
            .id;
        let other = section(&mut conn, "證券市場", None);
        let mut add = |s: i32, title: &str| {
            let id = ArticleBuilder::new(s, title).insert(&mut conn);
            newsdesk::search::index_article(&mut conn, id).expect("index");
            id
        };
        let a = add(lin_yi, "沂蒙扶贫项目启动");
        let b = add(other, "扶贫项目资金到位");
        let c = add(lin_yi, "港股收盘点评");
        let d = add(other, "外汇市场周报");
        (a, b, c, d)
    };
    let related =
        |id: i32| format!(r#"{{ article(id: "{id}") {{ related(first: 3) {{ databaseId }} }} }}"#);
    let ids = |v: &Value| -> Vec<i64> {
        v["data"]["article"]["related"]
            .as_array()
            .expect("related")
            .iter()
            .filter_map(|r| r["databaseId"].as_i64())
            .collect()
    };

    let computed = room.app.graphql(&related(a)).await;
    let pinned = room
        .as_user(
            Some(&room.token("editor")),
            &format!(
                r#"mutation {{ setRelatedArticles(id: "{a}", related: ["{d}"]) {{ databaseId }} }}"#
            ),
        )
        .await;
    let after = room.app.graphql(&related(a)).await;
    let reporter = room
        .as_user(
            Some(&room.token("reporter-a")),
            &format!(
                r#"mutation {{ setRelatedArticles(id: "{a}", related: ["{c}"]) {{ databaseId }} }}"#
            ),
        )
        .await;

    let computed = ids(&computed);
    assert_eq!(
        computed[0], b as i64,
        "the article sharing 扶贫 项目 should lead: {computed:?}"
    );
    assert!(!computed.contains(&(a as i64)));
    assert!(
        computed.contains(&(c as i64)),
        "the section's newest fill in: {computed:?}"
    );
    assert!(pinned.get("errors").is_none(), "{pinned}");
    assert_eq!(ids(&after)[..2], [d as i64, b as i64]);
    assert_eq!(reporter["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

both_engines!(imported_terms_equal_what_reindex_writes);
async fn imported_terms_equal_what_reindex_writes(engine: Engine) {
    use diesel::prelude::*;
    use newsdesk::db::schema::article_search;
    let Some(db) = crate::helpers::TestDb::new(engine) else {
        return;
    };
    let id = crate::helpers::import_file(&db, std::path::Path::new(crate::helpers::SEED))
        .article_id
        .expect("imported");
    let database = db.database();
    let mut conn = database.get().expect("connection");
    let imported: (String, String) = article_search::table
        .find(id)
        .select((article_search::title_terms, article_search::body_terms))
        .first(&mut *conn)
        .expect("terms");
    newsdesk::search::index_article(&mut conn, id).expect("reindex");
    let reindexed: (String, String) = article_search::table
        .find(id)
        .select((article_search::title_terms, article_search::body_terms))
        .first(&mut *conn)
        .expect("terms");
    assert_eq!(imported, reindexed);
    assert!(imported.1.contains("刘慎平"), "{}", imported.1);
}
