//! `newsdesk import`: the sample page's exact values, idempotency, and bad files.

use std::path::Path;

use diesel::prelude::*;
use newsdesk::db::schema::{
    article_credits, articles, contributors, copyright_notices, recommendation_items, sections,
    site_settings, sources,
};
use newsdesk::import::ImportStatus;

use crate::both_engines;
use crate::helpers::{import_file, migrate, newsdesk, temp_file, Engine, TestDb, SEED};

const NAVIGATION: [&str; 13] = [
    "經濟導報",
    "原創",
    "山東",
    "公司",
    "金融",
    "山東國資",
    "智庫",
    "鷹眼IPO",
    "熱點",
    "好品山東",
    "證券",
    "消費",
    "樓市",
];

both_engines!(sample_page_is_imported_exactly);
async fn sample_page_is_imported_exactly(engine: Engine) {
    let Some(db) = TestDb::new(engine) else {
        return;
    };

    let outcome = import_file(&db, Path::new(SEED));

    assert_eq!(outcome.status, ImportStatus::Imported, "{outcome:?}");
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    let database = db.database();
    let mut conn = database.get().expect("connection");
    let conn = &mut *conn;

    let nav: Vec<(String, bool, String)> = sections::table
        .filter(sections::in_navigation.eq(true))
        .order(sections::position)
        .select((sections::name, sections::in_navigation, sections::kind))
        .load(conn)
        .expect("sections");
    assert_eq!(
        nav.iter().map(|n| n.0.as_str()).collect::<Vec<_>>(),
        NAVIGATION
    );
    assert!(nav.iter().all(|n| n.2 == "topic"));

    let (title, section, status, published_at, body, revision): (
        String,
        String,
        String,
        Option<chrono::NaiveDateTime>,
        String,
        i32,
    ) = articles::table
        .inner_join(sections::table)
        .select((
            articles::title,
            sections::name,
            articles::status,
            articles::published_at,
            articles::body,
            articles::revision,
        ))
        .first(conn)
        .expect("article");
    assert_eq!(title, "臨沂山青社會工作服務中心累計服務群眾20余萬人次");
    assert_eq!(section, "臨沂");
    assert_eq!(status, "published");
    assert_eq!(revision, 1);
    assert_eq!(
        published_at.map(|t| t.and_utc().to_rfc3339()),
        Some("2023-03-21T09:13:59+00:00".to_string())
    );
    let paragraphs = newsdesk::body::Body::from_stored("blocks", &body).paragraphs();
    assert_eq!(paragraphs.len(), 4);
    assert!(paragraphs[0].starts_with("3月21日上午,臨沂市人民政府新聞辦公室"));
    assert!(paragraphs[1].contains("直接服務3萬余人次,現已在銀雀山街道"));
    assert!(paragraphs[3].contains("在村(社區)廣泛開展"));
    assert!(paragraphs[3].contains("河東區人民檢察院"));
    let pinyin =
        regex::Regex::new(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,6}[)）]").expect("regex");
    for p in &paragraphs {
        assert!(!pinyin.is_match(p), "pinyin left in {p}");
    }

    let source: (String, bool) = sources::table
        .select((sources::name, sources::owned))
        .first(conn)
        .expect("source");
    assert_eq!(source, ("大眾報業·經濟導報".to_string(), true));

    let credits: Vec<(String, String)> = article_credits::table
        .inner_join(contributors::table)
        .order(article_credits::position)
        .select((contributors::name, article_credits::role))
        .load(conn)
        .expect("credits");
    assert_eq!(
        credits,
        vec![
            ("劉慎平".into(), "reporter".into()),
            ("劉玉".into(), "reporter".into()),
            ("付建".into(), "editor".into())
        ]
    );

    let notices: Vec<(String, String, Option<i32>)> = copyright_notices::table
        .order(copyright_notices::id)
        .select((
            copyright_notices::kind,
            copyright_notices::text,
            copyright_notices::window_days,
        ))
        .load(conn)
        .expect("notices");
    let kinds: Vec<&str> = notices.iter().map(|n| n.0.as_str()).collect();
    assert_eq!(kinds, ["original", "reprint", "removal"]);
    assert!(notices[0]
        .1
        .starts_with("凡本網注明“來源:經濟導報·山東財經網”的所有作品"));
    assert!(notices[1].1.contains("均轉載自其它媒體"));
    assert!(notices[2].1.contains("請30日內進行"));
    assert_eq!(notices[2].2, Some(30));

    let headlines: Vec<String> = recommendation_items::table
        .order(recommendation_items::position)
        .select(recommendation_items::headline)
        .load(conn)
        .expect("recommendations");
    assert_eq!(headlines.len(), 8);
    assert_eq!(headlines[0], "這些地區間鐵路旅行時間大幅壓縮!回家更快了!");
    assert_eq!(headlines[4], "MLF超額續作,一季度降準降息仍有可能");
    assert_eq!(headlines[7], "滬深交易所發出38份紀律處分,釋放“嚴監管”信號");

    let site: (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    ) = site_settings::table
        .select((
            site_settings::name,
            site_settings::copyright_holder,
            site_settings::address,
            site_settings::postcode,
            site_settings::icp_filing,
            site_settings::news_service_filing,
            site_settings::complaint_phone,
            site_settings::complaint_email,
        ))
        .first(conn)
        .expect("site");
    assert_eq!(
        site,
        (
            "山東財經網".into(),
            "山東財經網".into(),
            "濟南市濼源大街2號 大眾傳媒大廈F24".into(),
            "250014".into(),
            "魯ICP備09023866-44號".into(),
            "201000112".into(),
            "0531-85196503".into(),
            "sdenews@126.com".into()
        )
    );
}

both_engines!(importing_twice_changes_nothing);
async fn importing_twice_changes_nothing(engine: Engine) {
    let Some(db) = TestDb::new(engine) else {
        return;
    };
    let first = import_file(&db, Path::new(SEED));
    let before = db.row_counts();

    let second = import_file(&db, Path::new(SEED));

    assert_eq!(second.status, ImportStatus::Unchanged);
    assert_eq!(second.article_id, first.article_id);
    assert_eq!(db.row_counts(), before);
}

/// The sample page with one change, for the bad-file cases.
fn seed_with(from: &str, to: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(SEED).expect("seed");
    assert!(text.contains(from), "the seed has no {from:?}");
    text.replacen(from, to, 1).into_bytes()
}

both_engines!(bad_files_are_rejected_and_write_nothing);
async fn bad_files_are_rejected_and_write_nothing(engine: Engine) {
    let Some(db) = TestDb::new(engine) else {
        return;
    };
    migrate(&db);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "binary.txt",
            vec![0x89, b'P', b'N', b'G', 0xff, 0x00, 0x10],
            ":1: not UTF-8",
        ),
        (
            "no-title.txt",
            seed_with("山東財(cái)經(jīng)網(wǎng) >> 臨沂", "山東財經網 臨沂"),
            ":1: no breadcrumb",
        ),
        (
            "no-time.txt",
            seed_with("加入時(shí)間:2023-3-21 17:13:59", ""),
            ":4: ",
        ),
        (
            "bad-time.txt",
            seed_with("2023-3-21 17:13:59", "2024-13-45 25:61:00"),
            ":4: impossible publish time",
        ),
        ("no-body.txt", no_body_page(), ": no body paragraphs"),
    ];
    let before = db.row_counts();
    for (name, contents, expected) in cases {
        let (_dir, path) = temp_file(name, &contents);

        let out = newsdesk(&db.url, &["import", path.to_str().expect("path")]);

        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} was accepted");
        let line = stderr
            .lines()
            .find(|l| l.starts_with(path.to_str().expect("path")))
            .unwrap_or_else(|| panic!("{name}: no FILE:LINE line in {stderr}"));
        assert!(
            line.contains(expected),
            "{name}: {line:?} lacks {expected:?}"
        );
        assert_eq!(db.row_counts(), before, "{name} wrote something");
    }
}

fn no_body_page() -> Vec<u8> {
    let text = std::fs::read_to_string(SEED).expect("seed");
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("  ") || l.trim_start().starts_with("記者"))
        .collect();
    kept.join("\n").into_bytes()
}

both_engines!(a_bad_file_does_not_stop_the_others);
async fn a_bad_file_does_not_stop_the_others(engine: Engine) {
    let Some(db) = TestDb::new(engine) else {
        return;
    };
    let (_dir, bad) = temp_file("broken.txt", b"\xff\xfe\x00garbage");

    let out = newsdesk(
        &db.url,
        &["import", "--json", bad.to_str().expect("path"), SEED],
    );

    assert_eq!(out.status.code(), Some(1));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(summary["imported"], 1);
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["files"][0]["status"], "failed");
    assert!(summary["files"][0]["error"]
        .as_str()
        .is_some_and(|e| e.starts_with("1: not UTF-8")));
    assert_eq!(summary["files"][1]["status"], "imported");
    assert_eq!(summary["files"][1]["article_id"], 1);
    assert_eq!(db.row_counts()["articles"], 1);
}

#[test]
fn an_invalid_setting_stops_the_program_with_exit_code_2() {
    let out = newsdesk("mysql://nope", &["migrate"]);

    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

both_engines!(reindex_rebuilds_the_search_index);
async fn reindex_rebuilds_the_search_index(engine: Engine) {
    let Some(db) = TestDb::new(engine) else {
        return;
    };
    import_file(&db, Path::new(SEED));
    {
        let database = db.database();
        let mut conn = database.get().expect("connection");
        diesel::delete(newsdesk::db::schema::article_search::table)
            .execute(&mut *conn)
            .expect("wipe");
    }

    let out = newsdesk(&db.url, &["reindex"]);

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("reindexed 1 articles"));
    let database = db.database();
    let mut conn = database.get().expect("connection");
    let q = newsdesk::search::parse("扶貧").expect("query");
    let hits = newsdesk::search::search(&mut conn, &q).expect("search");
    assert_eq!(hits.len(), 1);
}

both_engines!(a_recommended_article_imported_later_in_the_same_run_is_linked);
async fn a_recommended_article_imported_later_in_the_same_run_is_linked(engine: Engine) {
    let Some(db) = TestDb::new(engine) else {
        return;
    };
    migrate(&db);
    let raw = std::fs::read_to_string(SEED).expect("seed");
    let cleaned = newsdesk::text::artefact::strip_pinyin_artefact(&raw).text;
    let page = newsdesk::import::page::parse_page(&cleaned).expect("parse");
    let headline = page.recommendations[0].clone();
    // A second page whose title is the first recommended headline.
    let later = cleaned
        .replace(&page.title, &headline)
        .replace("2023-3-21 17:13:59", "2023-3-22 09:00:00");
    let (_dir, later_path) = temp_file("later.txt", later.as_bytes());
    let out = newsdesk(
        &db.url,
        &["import", SEED, later_path.to_str().expect("path")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let database = db.database();
    let mut conn = database.get().expect("connection");
    let later_id: i32 = articles::table
        .filter(articles::title.eq(&headline))
        .select(articles::id)
        .first(&mut *conn)
        .expect("the later page was imported");
    let linked: Option<i32> = recommendation_items::table
        .filter(recommendation_items::headline.eq(&headline))
        .select(recommendation_items::article_id)
        .first(&mut *conn)
        .expect("the item");
    assert_eq!(linked, Some(later_id));
}

/// The sample page as another page: its own title and time, and 新聞推薦
/// whose first headline is `headline`.
fn another_page(title: &str, headline: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let raw = std::fs::read_to_string(SEED).expect("seed");
    let cleaned = newsdesk::text::artefact::strip_pinyin_artefact(&raw).text;
    let page = newsdesk::import::page::parse_page(&cleaned).expect("parse");
    let text = cleaned
        .replace(&page.title, title)
        .replace(&page.recommendations[0], headline)
        .replace("2023-3-21 17:13:59", "2023-3-22 09:00:00");
    temp_file("page.txt", text.as_bytes())
}

async fn home_headlines(app: &crate::helpers::TestApp) -> Vec<String> {
    let body: serde_json::Value = app
        .client
        .get(format!("{}/v1/recommendations/home", app.address))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    body.as_array()
        .expect("a list")
        .iter()
        .map(|i| i["headline"].as_str().unwrap_or_default().to_string())
        .collect()
}

both_engines!(an_import_never_replaces_a_list_an_editor_set);
async fn an_import_never_replaces_a_list_an_editor_set(engine: Engine) {
    // Arrange: the sample page fills `home`; a later page still refills a
    // list that only imports have written.
    let Some(room) = crate::helpers::Newsroom::open(engine).await else {
        return;
    };
    let app = &room.app;
    let first = newsdesk(&app.db.url, &["import", SEED]);
    assert!(first.status.success());
    let (_dir, second) = another_page("第二頁", "導入的新推薦");
    let refilled = newsdesk(
        &app.db.url,
        &["import", "--json", second.to_str().expect("path")],
    );
    let refilled: serde_json::Value = serde_json::from_slice(&refilled.stdout).expect("JSON");
    assert_eq!(refilled["files"][0]["home_list"], "filled");
    assert_eq!(home_headlines(app).await[0], "導入的新推薦");
    let set = room
        .as_user(
            Some(&room.token("editor")),
            r#"mutation { setRecommendationList(name: "home", items: [{headline: "編輯精選", url: "https://x.test/pick"}]) { headline } }"#,
        )
        .await;
    assert_eq!(
        set["data"]["setRecommendationList"][0]["headline"],
        "編輯精選"
    );

    // Act: another page with its own 新聞推薦.
    let (_dir3, third) = another_page("第三頁", "不該出現的推薦");
    let text = newsdesk(&app.db.url, &["import", third.to_str().expect("path")]);
    let (_dir4, fourth) = another_page("第四頁", "也不該出現");
    let json = newsdesk(
        &app.db.url,
        &["import", "--json", fourth.to_str().expect("path")],
    );

    // Assert: the editor's list stands, and both summaries say so.
    assert!(text.status.success() && json.status.success());
    assert_eq!(home_headlines(app).await, vec!["編輯精選".to_string()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("imported 1, unchanged 0, failed 0"), "{text}");
    assert!(text.contains("recommendation list home kept"), "{text}");
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(json["home_list_kept"], true);
    assert_eq!(json["files"][0]["status"], "imported");
    assert_eq!(json["files"][0]["home_list"], "kept_editor_list");
}

both_engines!(upgrading_marks_lists_an_editor_set_last_as_the_editors);
async fn upgrading_marks_lists_an_editor_set_last_as_the_editors(engine: Engine) {
    let Some(db) = TestDb::new(engine) else {
        return;
    };
    let database = db.database();
    let mut conn = database.get().expect("connection");
    newsdesk::db::migrations::run_until(&mut conn, "20261203000006").expect("older schema");
    // `home` an editor set last; `region` an editor set, then an import
    // replaced; `sports` only ever imported.
    for (name, updated) in [
        ("home", "2026-01-02 00:00:00"),
        ("region", "2026-01-05 00:00:00"),
        ("sports", "2026-01-01 00:00:00"),
    ] {
        diesel::sql_query(format!(
            "INSERT INTO recommendation_lists (name, updated_at) VALUES ('{name}', '{updated}')"
        ))
        .execute(&mut *conn)
        .expect("list");
    }
    for (name, at) in [
        ("home", "2026-01-02 00:00:00.5"),
        ("region", "2026-01-03 00:00:00"),
    ] {
        diesel::sql_query(format!(
            "INSERT INTO audit_events (actor_role, action, target_type, details, created_at) \
             VALUES ('editor', 'recommendations.set', 'recommendation_list', \
             '{{\"items\":1,\"name\":\"{name}\"}}', '{at}')"
        ))
        .execute(&mut *conn)
        .expect("audit event");
    }

    newsdesk::db::migrations::run_pending(&mut conn).expect("upgrade");

    let writers: Vec<(String, String)> = newsdesk::db::schema::recommendation_lists::table
        .order(newsdesk::db::schema::recommendation_lists::name)
        .select((
            newsdesk::db::schema::recommendation_lists::name,
            newsdesk::db::schema::recommendation_lists::written_by,
        ))
        .load(&mut *conn)
        .expect("lists");
    assert_eq!(
        writers,
        [
            ("home", "editor"),
            ("region", "import"),
            ("sports", "import")
        ]
        .map(|(n, w)| (n.to_string(), w.to_string()))
    );
}
