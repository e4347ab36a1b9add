//! A page is one trip to the database: an article by slug with its byline,
//! and a top-level section's newest articles with those of its subsections,
//! are each one SQL statement on a cold server (response cache off). The
//! section page reads the section's placements, which follow every write
//! that moves an article in or out of it.

use serde_json::Value;

use crate::both_engines;
use crate::fixtures::{section, withdraw};
use crate::helpers::{Engine, Newsroom};

/// Q1 of `make bench-peers`.
const ARTICLE_PAGE: &str = r#"query($slug: String!) { article(slug: $slug) { title summary paragraphs
  publishedAt section { name } source { name } byline { name role } } }"#;

/// Q2 of `make bench-peers`.
const SECTION_PAGE: &str = r#"query($section: String!) { section(slug: $section) { articles(first: 20) {
  nodes { id slug title summary publishedAt byline { name } } } } }"#;

async fn ask(room: &Newsroom, query: &str, variables: Value) -> Value {
    let (_, body) = room.app.graphql_with(query, variables, &[]).await;
    assert!(body["errors"].is_null(), "{body}");
    body
}

fn titles(page: &Value) -> Vec<String> {
    page["data"]["section"]["articles"]["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .filter_map(|n| n["title"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// An editor's article in `section`, published at once or at `at`.
async fn published(room: &Newsroom, title: &str, section: &str, at: Option<&str>) -> (i32, String) {
    let editor = room.token("editor");
    let created = room
        .as_user(
            Some(&editor),
            &format!(
                r#"mutation {{ createArticle(input: {{title: "{title}", section: "{section}",
                paragraphs: ["正文。"], byline: [{{name: "劉玉", role: REPORTER}}]}}) {{ databaseId slug }} }}"#
            ),
        )
        .await;
    let id = created["data"]["createArticle"]["databaseId"]
        .as_i64()
        .unwrap_or_else(|| panic!("not created: {created}"));
    let when = at.map(|t| format!(", at: \"{t}\"")).unwrap_or_default();
    let done = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ publishArticle(id: "{id}"{when}) {{ status }} }}"#),
        )
        .await;
    assert!(done["errors"].is_null(), "{done}");
    let slug = created["data"]["createArticle"]["slug"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (id as i32, slug)
}

/// A newsroom with the response cache off and sections 山東 (`shan-dong`)
/// above 濟南 (`ji-nan`).
async fn cold_newsroom_with_a_subsection(engine: Engine) -> Option<Newsroom> {
    let room = Newsroom::open_with(engine, &[("NEWSDESK_RESPONSE_CACHE_MB", "0")]).await?;
    {
        let mut conn = room.app.db.database().get().expect("connection");
        let top = section(&mut conn, "山東", None);
        section(&mut conn, "濟南", Some(top));
    }
    Some(room)
}

both_engines!(an_article_page_and_a_section_page_are_one_statement_each);
async fn an_article_page_and_a_section_page_are_one_statement_each(engine: Engine) {
    let Some(room) = cold_newsroom_with_a_subsection(engine).await else {
        return;
    };
    let (_, top_slug) = published(&room, "省裡的新聞", "shan-dong", None).await;
    let (_, child_slug) = published(&room, "濟南的新聞", "ji-nan", None).await;
    let page = serde_json::json!({ "section": "shan-dong" });
    // Once, so that the site-wide snapshots (sections, settings) are read.
    ask(&room, SECTION_PAGE, page.clone()).await;
    ask(&room, ARTICLE_PAGE, serde_json::json!({ "slug": top_slug })).await;

    let before = room.app.statements().await;
    let listed = ask(&room, SECTION_PAGE, page.clone()).await;
    let between = room.app.statements().await;
    let article = ask(
        &room,
        ARTICLE_PAGE,
        serde_json::json!({ "slug": child_slug }),
    )
    .await;
    let after = room.app.statements().await;

    assert_eq!(titles(&listed), ["濟南的新聞", "省裡的新聞"], "{listed}");
    assert_eq!(
        listed["data"]["section"]["articles"]["nodes"][0]["byline"][0]["name"],
        "劉玉"
    );
    assert_eq!(article["data"]["article"]["byline"][0]["role"], "REPORTER");
    assert_eq!(between - before, 1, "statements for the section page");
    assert_eq!(after - between, 1, "statements for the article page");
}

both_engines!(a_section_page_follows_moves_unpublishing_and_holds);
async fn a_section_page_follows_moves_unpublishing_and_holds(engine: Engine) {
    let Some(room) = cold_newsroom_with_a_subsection(engine).await else {
        return;
    };
    let editor = room.token("editor");
    let (child, _) = published(&room, "濟南的新聞", "ji-nan", None).await;
    let (gone, _) = published(&room, "撤回的新聞", "shan-dong", None).await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (held, _) = published(&room, "排期的新聞", "shan-dong", Some(&soon)).await;
    let top = serde_json::json!({ "section": "shan-dong" });
    let child_page = serde_json::json!({ "section": "ji-nan" });

    // A hold on a scheduled article keeps it off the page when its time comes.
    {
        let database = room.app.db.database();
        let mut conn = database.get().expect("connection");
        withdraw(&database, &mut conn, held);
    }
    let unpublished = room
        .as_user(
            Some(&editor),
            &format!(r#"mutation {{ unpublishArticle(id: "{gone}") {{ status }} }}"#),
        )
        .await;
    assert!(unpublished["errors"].is_null(), "{unpublished}");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        titles(&ask(&room, SECTION_PAGE, top.clone()).await),
        ["濟南的新聞"]
    );

    // Moved to the top level, the subsection's articles leave the old parent's page.
    let moved = room
        .as_user(
            Some(&editor),
            r#"mutation { moveSection(slug: "ji-nan") { slug } }"#,
        )
        .await;
    assert!(moved["errors"].is_null(), "{moved}");
    assert!(titles(&ask(&room, SECTION_PAGE, top).await).is_empty());
    assert_eq!(
        titles(&ask(&room, SECTION_PAGE, child_page).await),
        ["濟南的新聞"]
    );
    let home = ask(
        &room,
        "{ articles(first: 5) { nodes { databaseId } } }",
        Value::Null,
    )
    .await;
    assert_eq!(home["data"]["articles"]["nodes"][0]["databaseId"], child);
}

both_engines!(a_page_of_headlines_leaves_bodies_out_but_a_page_that_asks_gets_them_whole);
async fn a_page_of_headlines_leaves_bodies_out_but_a_page_that_asks_gets_them_whole(
    engine: Engine,
) {
    let Some(room) = cold_newsroom_with_a_subsection(engine).await else {
        return;
    };
    published(&room, "濟南的新聞", "ji-nan", None).await;
    let page = serde_json::json!({ "section": "shan-dong" });
    // Asked for directly, under an alias, through a named fragment and an
    // inline one, on edges and nodes alike: every spelling gets the body.
    for query in [
        r#"query($section: String!) { section(slug: $section) { articles(first: 5) {
            nodes { title paragraphs bodyText } } } }"#,
        r#"query($section: String!) { section(slug: $section) { articles(first: 5) {
            nodes { title p: paragraphs b: bodyText } } } }"#,
        r#"query($section: String!) { section(slug: $section) { articles(first: 5) {
            edges { node { title ...body } } } } }
           fragment body on Article { paragraphs bodyText }"#,
        r#"query($section: String!) { section(slug: $section) { articles(first: 5) {
            nodes { title ... on Article { paragraphs bodyText } } } } }"#,
    ] {
        let answer = ask(&room, query, page.clone()).await;
        let articles = &answer["data"]["section"]["articles"];
        let node = if articles["nodes"].is_array() {
            &articles["nodes"][0]
        } else {
            &articles["edges"][0]["node"]
        };
        let paragraphs = node.get("paragraphs").or_else(|| node.get("p"));
        let text = node.get("bodyText").or_else(|| node.get("b"));
        assert_eq!(paragraphs, Some(&serde_json::json!(["正文。"])), "{answer}");
        assert_eq!(text, Some(&serde_json::json!("正文。")), "{answer}");
    }
    // A page of headlines alone still answers every field it asks for.
    let headlines = ask(&room, SECTION_PAGE, page).await;
    assert_eq!(titles(&headlines), ["濟南的新聞"], "{headlines}");
}

async fn rest(room: &Newsroom, path: &str, query: &[(&str, &str)]) -> Value {
    let response = room
        .app
        .client
        .get(format!("{}{path}", room.app.address))
        .query(query)
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.expect("JSON body")
}

both_engines!(rest_pages_read_the_site_from_the_snapshots_graphql_keeps);
/// The REST routes take the section tree and the notices from the site's
/// snapshots, as GraphQL does: a search page is one statement (its hits'
/// rows with the search log's end), and a section renamed is shown renamed
/// at once.
async fn rest_pages_read_the_site_from_the_snapshots_graphql_keeps(engine: Engine) {
    let Some(room) = cold_newsroom_with_a_subsection(engine).await else {
        return;
    };
    let (_, slug) = published(&room, "濟南的新聞", "ji-nan", None).await;
    let search = [("q", "新聞")];
    let first = rest(&room, "/v1/search", &search).await;
    assert_eq!(first["items"][0]["slug"], slug.as_str(), "{first}");

    let before = room.app.statements().await;
    let page = rest(&room, "/v1/search", &search).await;
    let between = room.app.statements().await;
    let listed = rest(&room, "/v1/articles", &[("section", "shan-dong")]).await;
    let after = room.app.statements().await;
    assert_eq!(page["items"][0]["section"], "ji-nan", "{page}");
    assert_eq!(listed["items"][0]["slug"], slug.as_str(), "{listed}");
    assert_eq!(
        between - before,
        1,
        "a search page: the hits' rows with the search log's end"
    );
    assert_eq!(after - between, 1, "a section's list: its rows");

    let editor = room.token("editor");
    let renamed = room
        .as_user(
            Some(&editor),
            r#"mutation { updateSection(slug: "ji-nan", input: {name: "Jinan"}) { name } }"#,
        )
        .await;
    assert!(renamed["errors"].is_null(), "{renamed}");
    for (path, query) in [
        ("/v1/search", &search[..]),
        ("/v1/articles", &[("section", "shan-dong")][..]),
    ] {
        let page = rest(&room, path, query).await;
        assert_eq!(page["items"][0]["sectionName"], "Jinan", "{path}: {page}");
    }
}

#[derive(diesel::QueryableByName)]
struct Backend {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// The backends of this database that read pages for the HTTP workers.
fn page_readers(conn: &mut newsdesk::db::AnyConnection) -> Vec<i32> {
    use diesel::RunQueryDsl;
    diesel::sql_query(
        "SELECT pid FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'newsdesk page reads'",
    )
    .load::<Backend>(conn)
    .expect("backends")
    .into_iter()
    .map(|b| b.pid)
    .collect()
}

/// Both cold pages, `times` times each, all at once.
async fn both_pages_at_once(room: &Newsroom, slug: &str, times: usize) -> Vec<Value> {
    let asks = (0..times).flat_map(|_| {
        [
            (SECTION_PAGE, serde_json::json!({ "section": "shan-dong" })),
            (ARTICLE_PAGE, serde_json::json!({ "slug": slug })),
        ]
    });
    futures_util::future::join_all(asks.map(|(query, variables)| async move {
        room.app.graphql_with(query, variables, &[]).await.1
    }))
    .await
}

/// On PostgreSQL the HTTP workers read the cold pages on connections of
/// their own (`db::async_pool`, named `newsdesk page reads`). When the
/// server ends them (an administrator, a failover), the pages that follow
/// are read on new connections: none of them fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_read_on_after_the_database_ends_every_connection() {
    let Some(room) = cold_newsroom_with_a_subsection(Engine::Postgres).await else {
        return;
    };
    let (_, slug) = published(&room, "省裡的新聞", "shan-dong", None).await;
    // Many at once, so that every worker has connections idle.
    for body in both_pages_at_once(&room, &slug, 16).await {
        assert!(body["errors"].is_null(), "{body}");
    }

    let database = room.app.db.database();
    let mut conn = database.get().expect("connection");
    let ended = page_readers(&mut conn);
    assert!(ended.len() >= 2, "{ended:?}");
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'newsdesk page reads'",
        ),
        &mut conn,
    )
    .expect("terminate");
    let started = std::time::Instant::now();
    while page_readers(&mut conn)
        .iter()
        .any(|pid| ended.contains(pid))
    {
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let pages = both_pages_at_once(&room, &slug, 16).await;
    let failed: Vec<_> = pages.iter().filter(|b| !b["errors"].is_null()).collect();
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
    assert_eq!(titles(&pages[0]), ["省裡的新聞"]);
    assert_eq!(pages[1]["data"]["article"]["title"], "省裡的新聞");
}
