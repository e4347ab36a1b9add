//! What readers do with a search besides typing: narrow it by section,
//! source, contributor and time, count it by section and month, sort it by
//! date, read why each hit matched; and what they must never see through
//! it: drafts, future articles and withdrawn ones, in counts as in hits,
//! even while articles are unpublished during the searches.

use std::collections::BTreeSet;

use chrono::Duration;
use diesel::Connection;
use serde_json::{json, Value};

use crate::both_engines;
use crate::fixtures::{section, ArticleBuilder};
use crate::helpers::{Engine, Newsroom, TestApp};
use newsdesk::db::{self, AnyConnection};
use newsdesk::domain::CreditRole;

/// The newsroom of these tests: a section 產業 with a subsection 鋼鐵,
/// another section 港航, and articles about steel capacity (鋼鐵產能).
struct Steel {
    parent: String,
    child: String,
    /// In 鋼鐵, from 經濟導報, by 王明, 40 days old.
    a1: i64,
    /// In 產業, from 新華社, by 李華, 2 hours old.
    a2: i64,
    /// In 港航, from 經濟導報, by 王明, 1 hour old.
    a3: i64,
    /// In 鋼鐵, no source, 400 days old.
    a4: i64,
}

fn steel(conn: &mut AnyConnection) -> Steel {
    conn.transaction::<_, newsdesk::error::AppError, _>(|conn| {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let parent = section(conn, &format!("產業{tag}"), None);
        let child = section(conn, &format!("鋼鐵{tag}"), Some(parent));
        let other = section(conn, &format!("港航{tag}"), None);
        let now = db::now();
        let article = |conn: &mut AnyConnection, s, age: Duration, source: Option<&str>, by| {
            let mut b = ArticleBuilder::new(s, "鋼鐵產能調控")
                .published_at(now - age)
                .credit(by, CreditRole::Reporter);
            if let Some(name) = source {
                b = b.source(conn, name, false);
            }
            i64::from(b.insert(conn))
        };
        let a1 = article(conn, child, Duration::days(40), Some("經濟導報"), "王明");
        let a2 = article(conn, parent, Duration::hours(2), Some("新華社"), "李華");
        let a3 = article(conn, other, Duration::hours(1), Some("經濟導報"), "王明");
        let a4 = article(conn, child, Duration::days(400), None, "趙強");
        // Never found, never counted: a draft, a future article.
        let draft = ArticleBuilder::new(other, "鋼鐵產能草稿").status("draft");
        let future = ArticleBuilder::new(child, "鋼鐵產能預告").in_the_future();
        let hidden = [draft.insert(conn), future.insert(conn)];
        for id in [a1, a2, a3, a4] {
            newsdesk::search::index_article(conn, id as i32)?;
        }
        for id in hidden {
            newsdesk::search::index_article(conn, id)?;
        }
        let slug = |conn: &mut AnyConnection, id| {
            db::sections::all(conn).map(|all| {
                all.into_iter()
                    .find(|s| s.id == id)
                    .map(|s| s.slug)
                    .unwrap_or_default()
            })
        };
        Ok(Steel {
            parent: slug(conn, parent)?,
            child: slug(conn, child)?,
            a1,
            a2,
            a3,
            a4,
        })
    })
    .expect("newsroom")
}

async fn graphql(address: &str, query: &str, variables: Value) -> Value {
    let answer: Value = reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("answered");
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["search"].clone()
}

/// The ids of a search with `filter` and `order`, in order, and its count.
async fn found(address: &str, filter: Value, order: &str) -> (Vec<i64>, i64) {
    let page = graphql(
        address,
        "query($f: ArticleFilter, $o: SearchOrder!) { search(query: \"鋼鐵產能\", filter: $f, orderBy: $o) { totalCount nodes { article { databaseId } } } }",
        json!({ "f": filter, "o": order }),
    )
    .await;
    let ids = page["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["article"]["databaseId"].as_i64())
        .collect();
    (ids, page["totalCount"].as_i64().unwrap_or(-1))
}

/// The JSON body of a GET.
async fn rest(url: impl reqwest::IntoUrl) -> Value {
    reqwest::get(url)
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON")
}

fn set(ids: &[i64]) -> BTreeSet<i64> {
    ids.iter().copied().collect()
}

both_engines!(filters_narrow_a_search_and_sorting_by_date_orders_it);
async fn filters_narrow_a_search_and_sorting_by_date_orders_it(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let s = {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        steel(&mut conn)
    };
    let a = &app.address;
    let week_ago = (chrono::Utc::now() - Duration::days(7)).to_rfc3339();
    let cases = [
        (json!({ "source": "經濟導報" }), vec![s.a1, s.a3]),
        (json!({ "contributor": "王明" }), vec![s.a1, s.a3]),
        (json!({ "section": s.parent }), vec![s.a1, s.a2, s.a4]),
        (
            json!({ "section": s.parent, "includeSubsections": false }),
            vec![s.a2],
        ),
        (json!({ "section": s.child }), vec![s.a1, s.a4]),
        (json!({ "publishedAfter": week_ago }), vec![s.a2, s.a3]),
        (
            json!({ "publishedBefore": week_ago, "source": "經濟導報" }),
            vec![s.a1],
        ),
        (json!({ "source": "無此來源" }), vec![]),
        (json!({ "contributor": "無此人" }), vec![]),
        (json!({}), vec![s.a1, s.a2, s.a3, s.a4]),
    ];
    for (filter, expected) in cases {
        let (ids, total) = found(a, filter.clone(), "RELEVANCE").await;
        assert_eq!(set(&ids), set(&expected), "{filter}");
        assert_eq!(total, expected.len() as i64, "totalCount of {filter}");
    }
    let newest = vec![s.a3, s.a2, s.a1, s.a4];
    assert_eq!(found(a, json!(null), "NEWEST").await.0, newest);
    let oldest: Vec<i64> = newest.iter().rev().copied().collect();
    assert_eq!(found(a, json!(null), "OLDEST").await.0, oldest);

    // The same through REST, a page of one at a time by cursor.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{a}/v1/search?q=鋼鐵產能&sort=newest&limit=1");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = rest(&url).await;
        assert_eq!(page["total"], 4, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|i| i["id"].as_i64()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, newest);
    let by_source: Value = rest(format!(
        "{a}/v1/search?q=鋼鐵產能&source=經濟導報&contributor=王明&from=2000-01-01"
    ))
    .await;
    assert_eq!(by_source["total"], 2, "{by_source}");
    for bad in [
        "sort=best",
        "from=yesterday",
        "cursor=bm90LWEtY3Vyc29y",
        "offset=10001",
    ] {
        let answer = reqwest::get(format!("{a}/v1/search?q=鋼鐵&{bad}"))
            .await
            .expect("sent");
        assert_eq!(answer.status(), 400, "{bad}");
        let body: Value = answer.json().await.expect("json");
        assert_eq!(body["error"]["code"], "BAD_USER_INPUT", "{bad}: {body}");
    }
}

both_engines!(facets_count_every_public_hit_by_section_and_month);
async fn facets_count_every_public_hit_by_section_and_month(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    let s = {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        steel(&mut conn)
    };
    let page = graphql(
        &app.address,
        "{ search(query: \"鋼鐵產能\", first: 1) { totalCount facets { sections { section { slug } count } months { month count } } } }",
        json!({}),
    )
    .await;
    assert_eq!(page["totalCount"], 4);
    let sections: Vec<(String, i64)> = page["facets"]["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|f| {
            let slug = f["section"]["slug"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (slug, f["count"].as_i64().unwrap_or(-1))
        })
        .collect();
    // Counted over every hit, not the page of one; the parent counts its
    // subsection's; the draft and the future article count nowhere.
    let expected_parent = (s.parent.clone(), 3);
    let expected_child = (s.child.clone(), 2);
    assert!(sections.contains(&expected_parent), "{sections:?}");
    assert!(sections.contains(&expected_child), "{sections:?}");
    assert_eq!(sections.len(), 3, "{sections:?}");
    assert_eq!(sections[0], expected_parent, "most hits first");
    let months = page["facets"]["months"].as_array().expect("months");
    let counted: i64 = months
        .iter()
        .map(|m| m["count"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(counted, 4, "{months:?}");
    let newest = months[0]["month"].as_str().unwrap_or_default();
    let this_month = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m")
        .to_string();
    // Two hours ago may have been last month only in the first hours of one.
    assert!(newest == this_month || months.len() == 4, "{months:?}");

    let by_source = rest(format!(
        "{}/v1/search?q=鋼鐵產能&facets=true&limit=1&source=經濟導報",
        app.address
    ))
    .await;
    assert_eq!(by_source["total"], 2, "{by_source}");
    let slugs: BTreeSet<&str> = by_source["facets"]["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .filter_map(|f| f["slug"].as_str())
        .collect();
    assert!(
        slugs.contains(s.parent.as_str()) && slugs.contains(s.child.as_str()),
        "{by_source}"
    );
    let plain: Value = rest(format!("{}/v1/search?q=鋼鐵產能", app.address)).await;
    assert!(plain.get("facets").is_none(), "facets only when asked for");
}

both_engines!(a_snippet_shows_the_passage_that_matched_escaped_and_marked);
async fn a_snippet_shows_the_passage_that_matched_escaped_and_marked(engine: Engine) {
    let Some(app) = TestApp::spawn(engine).await else {
        return;
    };
    {
        let database = app.db.database();
        let mut conn = database.get().expect("connection");
        conn.transaction::<_, newsdesk::error::AppError, _>(|conn| {
            let s = section(
                conn,
                &format!("財經{}", uuid::Uuid::new_v4().simple()),
                None,
            );
            let long = "市場觀察。".repeat(40);
            let body = format!("{long}<script>alert(1)</script>半導體材料出口增長三成。{long}");
            let id = ArticleBuilder::new(s, "季度外貿數據")
                .summary("外貿總體平穩 & 結構優化")
                .paragraphs(&["開頭一段。", &body])
                .insert(conn);
            newsdesk::search::index_article(conn, id)
        })
        .expect("article");
    }
    // Typed in simplified; the text is traditional.
    let page = graphql(
        &app.address,
        "{ search(query: \"半导体\", script: HANT) { nodes { snippet } } }",
        json!({}),
    )
    .await;
    let snippet = page["nodes"][0]["snippet"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(snippet.contains("<em>半導體</em>材料出口"), "{snippet}");
    assert!(snippet.contains("&lt;script&gt;"), "escaped: {snippet}");
    assert!(!snippet.contains("<script>"), "{snippet}");
    assert!(
        snippet.starts_with('…') && snippet.ends_with('…'),
        "cut: {snippet}"
    );
    assert!(
        snippet.chars().count() < 200,
        "a window, not the paragraph: {snippet}"
    );

    let listed = rest(format!("{}/v1/search?q=半導體&script=hans", app.address)).await;
    let snippet = listed["items"][0]["snippet"].as_str().unwrap_or_default();
    assert!(snippet.contains("<em>半导体</em>材料"), "{listed}");

    // A summary that matches is the snippet, escaped whole; words side by
    // side make one mark.
    let page = graphql(
        &app.address,
        "{ search(query: \"結構 優化\", script: ORIGINAL) { nodes { snippet } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        page["nodes"][0]["snippet"],
        "外貿總體平穩 &amp; <em>結構優化</em>"
    );
}

both_engines!(articles_unpublished_while_readers_search_never_show_in_hits_or_counts);
async fn articles_unpublished_while_readers_search_never_show_in_hits_or_counts(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let ids: Vec<i32> = {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        conn.transaction::<_, newsdesk::error::AppError, _>(|conn| {
            let s = section(
                conn,
                &format!("專題{}", uuid::Uuid::new_v4().simple()),
                None,
            );
            (0..12)
                .map(|n| {
                    let id = ArticleBuilder::new(s, &format!("碳排放交易第{n}期")).insert(conn);
                    newsdesk::search::index_article(conn, id).map(|_| id)
                })
                .collect()
        })
        .expect("articles")
    };
    let withdrawn = std::sync::Arc::new(std::sync::Mutex::new(BTreeSet::<i64>::new()));
    let searchers: Vec<_> = (0..6)
        .map(|_| {
            let (address, withdrawn) = (room.app.address.clone(), withdrawn.clone());
            tokio::spawn(async move {
                for _ in 0..15 {
                    // What was unpublished before the search was sent.
                    let gone = withdrawn.lock().map(|w| w.clone()).unwrap_or_default();
                    let page = graphql(
                        &address,
                        "{ search(query: \"碳排放\", first: 50) { totalCount facets { months { count } } nodes { article { databaseId } } } }",
                        json!({}),
                    )
                    .await;
                    let shown: BTreeSet<i64> = page["nodes"]
                        .as_array()
                        .expect("nodes")
                        .iter()
                        .filter_map(|n| n["article"]["databaseId"].as_i64())
                        .collect();
                    assert!(shown.is_disjoint(&gone), "unpublished {gone:?} shown in {shown:?}");
                    let most = 12 - gone.len() as i64;
                    let total = page["totalCount"].as_i64().unwrap_or(-1);
                    assert!(total <= most, "count {total} after {gone:?}");
                    let counted: i64 = page["facets"]["months"]
                        .as_array()
                        .expect("months")
                        .iter()
                        .map(|m| m["count"].as_i64().unwrap_or(0))
                        .sum();
                    assert!(counted <= most, "facets count {counted} after {gone:?}");
                }
            })
        })
        .collect();
    let editor = room.token("editor");
    for id in ids.iter().take(6) {
        let answer = room
            .as_user(
                Some(&editor),
                &format!(r#"mutation {{ unpublishArticle(id: "{id}") {{ status }} }}"#),
            )
            .await;
        assert!(answer.get("errors").is_none(), "{answer}");
        withdrawn.lock().expect("lock").insert(i64::from(*id));
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
    for searcher in searchers {
        searcher.await.expect("searcher");
    }
    let page = graphql(
        &room.app.address,
        "{ search(query: \"碳排放\", first: 50) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(page["totalCount"], 6);
}
