//! The hot queries are answered from indexes (no table scans, no sorts of a
//! whole section), checked with SQLite's EXPLAIN QUERY PLAN on a generated
//! newsroom. PostgreSQL's plans at 100,000 articles are in docs/performance.md.

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::helpers::{newsdesk, Engine, TestDb};

#[derive(QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

const HOT_QUERIES: &[(&str, &str, &str)] = &[
    (
        "article by slug",
        "SELECT * FROM articles WHERE slug = 'x'",
        "USING INDEX sqlite_autoindex_articles_1 (slug=?)",
    ),
    (
        "a section page part, after a cursor",
        "SELECT published_at, id FROM articles WHERE published_at <= '2026-11-29' AND held_since IS NULL \
         AND status = 'published' AND section_id = 3 AND (published_at < '2026-01-01' OR (published_at = '2026-01-01' AND id < 5)) \
         ORDER BY published_at DESC, id DESC LIMIT 21",
        "USING COVERING INDEX articles_section_newest",
    ),
    (
        "the site's newest",
        "SELECT published_at, id FROM articles WHERE published_at <= '2026-11-29' AND held_since IS NULL \
         AND status = 'published' ORDER BY published_at DESC, id DESC LIMIT 21",
        "USING COVERING INDEX articles_public_newest",
    ),
    (
        "a section page with its subsections, or the home page: one scope of placements",
        "SELECT a.* FROM article_placements p JOIN articles a ON a.id = p.article_id \
         WHERE p.scope_id = 3 AND p.published_at <= '2026-11-29' \
         ORDER BY p.published_at DESC, p.article_id DESC LIMIT 21",
        "SEARCH p USING PRIMARY KEY (scope_id=? AND published_at<?)",
    ),
    (
        "the removal feed",
        "SELECT id, slug, held_since FROM articles WHERE held_since >= '2020-01-01' \
         ORDER BY held_since, id LIMIT 100",
        "articles_held",
    ),
    (
        "when a section feed's item set last changed",
        "SELECT max(public_changed_at) FROM articles WHERE section_id IN (3, 4)",
        "articles_section_public_changed",
    ),
    (
        "bylines of a page",
        "SELECT a.article_id, c.name FROM article_credits a JOIN contributors c ON c.id = a.contributor_id \
         WHERE a.article_id IN (1, 2, 3) ORDER BY a.article_id, a.position",
        "SEARCH a USING INDEX sqlite_autoindex_article_credits_1 (article_id=?)",
    ),
    (
        "a chunk of a sitemap page: the index alone, never the rows with their bodies",
        "SELECT id, slug, requested_slug, updated_at, status, published_at, held_since FROM articles \
         WHERE id > 5000 AND id <= 50000 ORDER BY id LIMIT 5000",
        "USING COVERING INDEX articles_sitemap (id>? AND id<?)",
    ),
    (
        "search candidates",
        "SELECT rowid FROM article_fts WHERE article_fts MATCH '\"临沂\"' ORDER BY rowid DESC LIMIT 1000",
        "VIRTUAL TABLE INDEX",
    ),
];

#[test]
fn hot_queries_read_indexes_in_order() {
    let db = TestDb::new(Engine::Sqlite).expect("sqlite");
    let seeded = newsdesk(&db.url, &["dev", "seed", "--articles", "300"]);
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let database = db.database();
    let mut conn = database.get().expect("connection");
    diesel::sql_query("ANALYZE")
        .execute(&mut *conn)
        .expect("analyze");
    for (name, sql, expected) in HOT_QUERIES {
        let plan: Vec<String> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load::<PlanRow>(&mut *conn)
            .expect("plan")
            .into_iter()
            .map(|r| r.detail)
            .collect();
        let text = plan.join(" | ");
        assert!(text.contains(expected), "{name}: {text}");
        assert!(
            !text.contains("SCAN articles"),
            "{name} scans the table: {text}"
        );
        assert!(!text.contains("TEMP B-TREE"), "{name} sorts: {text}");
    }
}
