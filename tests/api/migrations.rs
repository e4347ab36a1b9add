//! T-DUR-6: migrations are crash-safe, and a server never serves a schema
//! older than its code.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::both_engines;
use crate::helpers::{newsdesk, Engine, TestApp, TestDb};

async fn build(db: &TestDb) -> Result<newsdesk::startup::Application, String> {
    let map = std::collections::HashMap::from([
        ("DATABASE_URL".to_string(), db.url.clone()),
        ("NEWSDESK_BIND".to_string(), "127.0.0.1:0".to_string()),
        ("NEWSDESK_MIGRATE_ON_START".to_string(), "0".to_string()),
    ]);
    let config = newsdesk::config::Config::from_lookup(|k| map.get(k).cloned()).expect("config");
    newsdesk::startup::Application::build(config)
        .await
        .map_err(|e| e.to_string())
}

fn pending(db: &TestDb) -> Vec<String> {
    let database = db.database();
    let mut conn = database.get().expect("connection");
    newsdesk::db::migrations::pending(&mut conn).expect("pending migrations")
}

both_engines!(a_server_refuses_a_database_with_pending_migrations_t_dur_6);
async fn a_server_refuses_a_database_with_pending_migrations_t_dur_6(engine: Engine) {
    let Some(db) = TestDb::new(engine) else {
        return;
    };

    let refused = build(&db).await.err().expect("refused to start");
    assert!(
        refused.contains("pending") && refused.contains("newsdesk migrate"),
        "{refused}"
    );
    assert!(refused.starts_with("DATABASE_URL:"), "{refused}");

    crate::helpers::migrate(&db);
    assert!(build(&db).await.is_ok(), "a migrated database was refused");
}

both_engines!(a_migration_killed_midway_leaves_a_database_that_migrates_and_serves_t_dur_6);
async fn a_migration_killed_midway_leaves_a_database_that_migrates_and_serves_t_dur_6(
    engine: Engine,
) {
    // Kill `newsdesk migrate` at moments spread over its run, each on a
    // fresh database. A migration recorded as applied but half done would
    // make the second run fail (its tables would exist already, or not).
    for delay_ms in [0u64, 15, 30, 60, 120, 240] {
        let Some(db) = TestDb::new(engine) else {
            return;
        };
        let mut migrating = Command::new(env!("CARGO_BIN_EXE_newsdesk"))
            .arg("migrate")
            .env("DATABASE_URL", &db.url)
            .env_remove("RUST_LOG")
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("migrate");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = migrating.kill();
        let _ = migrating.wait();

        let again = newsdesk(&db.url, &["migrate"]);
        assert!(
            again.status.success(),
            "migrate after a kill at {delay_ms} ms: {}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert!(pending(&db).is_empty(), "after a kill at {delay_ms} ms");
        let address = TestApp::start(&db.url, &[("NEWSDESK_MIGRATE_ON_START", "0")]).await;
        let body: serde_json::Value = reqwest::Client::new()
            .post(format!("{address}/graphql"))
            .json(&serde_json::json!({ "query": "{ site { name } sections { name } }" }))
            .send()
            .await
            .expect("query")
            .json()
            .await
            .expect("json");
        assert!(
            body["errors"].is_null(),
            "the schema after a kill at {delay_ms} ms: {body}"
        );
    }
}

both_engines!(withdrawn_articles_become_published_articles_under_their_requests_hold);
async fn withdrawn_articles_become_published_articles_under_their_requests_hold(engine: Engine) {
    use diesel::prelude::*;
    let Some(db) = TestDb::new(engine) else {
        return;
    };
    let database = db.database();
    let mut conn = database.get().expect("connection");
    newsdesk::db::migrations::run_until(&mut conn, "20261129000005").expect("older schema");
    // Rows as the release before legal holds wrote them: an article withdrawn
    // by request 1, and one withdrawn for a reason that names no request.
    diesel::sql_query(
        "INSERT INTO sections (slug, name, kind, position, in_navigation, created_at, updated_at) \
         VALUES ('lin-yi', '臨沂', 'region', 0, TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    )
    .execute(&mut *conn)
    .expect("section");
    diesel::sql_query(
        "INSERT INTO users (username, role, disabled, created_at, updated_at) \
         VALUES ('legal', 'legal', FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    )
    .execute(&mut *conn)
    .expect("user");
    diesel::sql_query(
        "INSERT INTO takedown_requests (filed_by_user_id, claimant_name, contact_address, \
         rights_statement, reason, good_faith, state, received_at, respond_by, updated_at) \
         VALUES (1, '王權利', '濟南', '著作權', '轉載', TRUE, 'accepted', '2026-01-02 00:00:00', \
         '2026-01-03 00:00:00', '2026-01-02 00:00:00')",
    )
    .execute(&mut *conn)
    .expect("request");
    for (slug, reason) in [
        ("taken-down", "takedown:1"),
        ("other-reason", "court order"),
    ] {
        diesel::sql_query(format!(
            "INSERT INTO articles (slug, title, body, script, section_id, status, published_at, \
             created_at, updated_at, revision, withdrawn_at, withdrawn_reason) \
             VALUES ('{slug}', '標題', '[]', 'hant', 1, 'withdrawn', '2026-01-01 00:00:00', \
             '2026-01-01 00:00:00', '2026-01-02 00:00:00', 2, '2026-01-02 08:00:00', '{reason}')"
        ))
        .execute(&mut *conn)
        .expect("article");
    }

    newsdesk::db::migrations::run_pending(&mut conn).expect("upgrade");
    let rows = newsdesk::db::articles::by_ids(&mut conn, &[1, 2]).expect("articles");
    let holds = newsdesk::db::holds::active_on(&mut conn, &[1, 2]).expect("holds");
    let now = newsdesk::db::now();

    for row in &rows {
        assert_eq!(row.status, "published", "{}", row.slug);
        assert!(!row.is_public_at(now), "{} came back", row.slug);
        assert!(
            row.is_withdrawn_at(now),
            "{} is not announced as withdrawn",
            row.slug
        );
    }
    let mut references: Vec<(i32, Option<String>)> = holds
        .iter()
        .map(|h| (h.article_id, h.reference()))
        .collect();
    references.sort();
    assert_eq!(references, [(1, Some("TD-1".to_string())), (2, None)]);
}

both_engines!(paragraph_bodies_become_paragraph_blocks);
async fn paragraph_bodies_become_paragraph_blocks(engine: Engine) {
    use diesel::prelude::*;
    let Some(db) = TestDb::new(engine) else {
        return;
    };
    let database = db.database();
    let mut conn = database.get().expect("connection");
    newsdesk::db::migrations::run_until(&mut conn, "20261204000011").expect("older schema");
    diesel::sql_query(
        "INSERT INTO sections (slug, name, kind, position, in_navigation, created_at, updated_at) \
         VALUES ('lin-yi', '臨沂', 'region', 0, TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    )
    .execute(&mut *conn)
    .expect("section");
    for (slug, body, format) in [
        (
            "plain",
            r#"["第一段。"," ","第二段 \"引\"。"]"#,
            "paragraphs",
        ),
        ("empty", "[]", "paragraphs"),
        ("html", "<p>甲</p><h2>乙</h2>", "html"),
    ] {
        diesel::sql_query(format!(
            "INSERT INTO articles (slug, title, body, body_format, script, section_id, status, \
             created_at, updated_at) VALUES ('{slug}', '標題', '{}', '{format}', 'hant', 1, \
             'draft', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            body.replace('\'', "''")
        ))
        .execute(&mut *conn)
        .expect("article");
    }

    newsdesk::db::migrations::run_pending(&mut conn).expect("upgrade");
    let mut rows = newsdesk::db::articles::by_ids(&mut conn, &[1, 2, 3]).expect("articles");
    rows.sort_by_key(|r| r.id);
    let plain = &rows[0];
    assert_eq!(plain.body_format, "blocks");
    assert_eq!(
        plain.blocks(),
        newsdesk::body::Body::from_paragraphs(&["第一段。", "第二段 \"引\"。"])
    );
    assert_eq!(
        (rows[1].body_format.as_str(), rows[1].paragraphs().len()),
        ("blocks", 0)
    );
    // HTML bodies stay as they were stored and are read as blocks.
    assert_eq!(rows[2].body_format, "html");
    assert_eq!(rows[2].paragraphs(), ["甲", "乙"]);
    // New writes may now say `blocks`.
    diesel::sql_query("UPDATE articles SET body_format = 'blocks' WHERE id = 3")
        .execute(&mut *conn)
        .expect("blocks are allowed");
    assert!(
        diesel::sql_query("UPDATE articles SET body_format = 'markdown' WHERE id = 3")
            .execute(&mut *conn)
            .is_err(),
        "the check still holds"
    );
}
