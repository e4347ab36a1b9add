//! Builders for test data, written through the same storage layer as the app.

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use newsdesk::db::articles::{self, NewArticle};
use newsdesk::db::schema::articles as articles_table;
use newsdesk::db::{self, contributors, recommendations, sections, sources, AnyConnection};
use newsdesk::domain::{CreditRole, SectionKind};

/// A section for generated articles.
pub fn section(conn: &mut AnyConnection, name: &str, parent: Option<i32>) -> i32 {
    sections::create(
        conn,
        &sections::NewSection {
            name,
            parent_id: parent,
            kind: SectionKind::Topic,
            position: 0,
            in_navigation: parent.is_none(),
        },
    )
    .expect("section")
}

/// An article under construction; published an hour ago unless told otherwise.
pub struct ArticleBuilder {
    new: NewArticle,
    credits: Vec<(String, CreditRole)>,
}

impl ArticleBuilder {
    pub fn new(section_id: i32, title: &str) -> Self {
        let now = db::now();
        ArticleBuilder {
            new: NewArticle {
                slug: String::new(),
                title: title.into(),
                original_title: None,
                summary: format!("{title}的摘要"),
                body: serde_json::json!([format!("{title}的正文。")]).to_string(),
                body_format: "paragraphs".into(),
                raw_text: None,
                script: "hant".into(),
                section_id,
                source_id: None,
                owner_id: None,
                status: "published".into(),
                published_at: Some(now - Duration::hours(1)),
                created_at: now,
                updated_at: now,
                revision: 1,
                import_key: None,
                import_warnings: "[]".into(),
                ruby_stripped_count: 0,
            },
            credits: vec![],
        }
    }

    pub fn slug(mut self, slug: &str) -> Self {
        self.new.slug = slug.into();
        self
    }

    pub fn status(mut self, status: &str) -> Self {
        self.new.status = status.into();
        self
    }

    pub fn published_at(mut self, at: NaiveDateTime) -> Self {
        self.new.published_at = Some(at);
        self
    }

    pub fn in_the_future(self) -> Self {
        let at = db::to_db_time(Utc::now() + Duration::days(2));
        self.published_at(at)
    }

    pub fn source(mut self, conn: &mut AnyConnection, name: &str, owned: bool) -> Self {
        self.new.source_id = Some(sources::find_or_create(conn, name, owned).expect("source"));
        self
    }

    pub fn credit(mut self, name: &str, role: CreditRole) -> Self {
        self.credits.push((name.into(), role));
        self
    }

    pub fn insert(mut self, conn: &mut AnyConnection) -> i32 {
        if self.new.slug.is_empty() {
            self.new.slug = format!("a-{}", uuid::Uuid::new_v4().simple());
        }
        let id = articles::insert(conn, &self.new).expect("insert article");
        contributors::set_credits(conn, id, &self.credits).expect("credits");
        id
    }
}

/// Sets an article's status directly.
pub fn set_status(conn: &mut AnyConnection, id: i32, status: &str) {
    diesel::update(articles_table::table.find(id))
        .set(articles_table::status.eq(status))
        .execute(conn)
        .expect("status");
}

/// Puts these articles, in order, on the `home` list.
pub fn recommend(conn: &mut AnyConnection, items: &[(i32, &str)]) {
    let rows: Vec<recommendations::ItemRow> = items
        .iter()
        .enumerate()
        .map(|(i, (id, headline))| recommendations::ItemRow {
            position: i as i32,
            headline: headline.to_string(),
            url: None,
            article_id: Some(*id),
        })
        .collect();
    recommendations::set_list(conn, "home", &rows).expect("list");
}
