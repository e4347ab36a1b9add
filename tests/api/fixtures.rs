//! Builders for test data, written through the same storage layer as the app.

use chrono::{Duration, NaiveDateTime, Utc};
use newsdesk::db::articles::{self, NewArticle};
use newsdesk::db::{
    self, contributors, recommendations, sections, sources, AnyConnection, Database,
};
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

    pub fn summary(mut self, summary: &str) -> Self {
        self.new.summary = summary.into();
        self
    }

    pub fn paragraphs(mut self, paragraphs: &[&str]) -> Self {
        self.new.body = serde_json::json!(paragraphs).to_string();
        self
    }

    /// The script the text is stored in (`hans` or `hant`).
    pub fn script(mut self, script: &str) -> Self {
        self.new.script = script.into();
        self
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
        // As every write does: where the article shows follows its row.
        newsdesk::db::placements::refresh(conn, id).expect("placements");
        id
    }
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

/// Files a takedown request naming these articles, as a legal user made for
/// it would on behalf of a notice received by mail. Returns the request's id.
pub fn file_takedown(conn: &mut AnyConnection, articles: &[i32]) -> i32 {
    use newsdesk::db::takedowns;
    let (user, actor) = legal_actor(conn);
    let now = db::now();
    takedowns::create(
        conn,
        &takedowns::NewTakedown {
            claimant_user_id: None,
            filed_by_user_id: user,
            claimant_name: "王權利".into(),
            organisation: None,
            contact_phone: None,
            contact_email: Some("rights@example.test".into()),
            contact_address: "濟南市某路1號".into(),
            rights_statement: "本社擁有該作品著作權".into(),
            evidence_links: vec![],
            reason: "未經授權轉載".into(),
            late: false,
            received_at: now,
            respond_by: now + Duration::hours(24),
            targets: articles
                .iter()
                .map(|a| newsdesk::db::takedowns::Target::Article(*a))
                .collect(),
        },
        &actor,
    )
    .expect("request")
}

fn legal_actor(conn: &mut AnyConnection) -> (i32, newsdesk::db::audit::Actor) {
    let name = format!("legal-{}", uuid::Uuid::new_v4().simple());
    let user = newsdesk::db::users::create(conn, &name, newsdesk::domain::Role::Legal, None)
        .expect("user");
    let actor = newsdesk::db::audit::Actor {
        user_id: Some(user),
        role: "legal".into(),
        request_id: None,
        idempotency: None,
    };
    (user, actor)
}

/// Withdraws an article the way legal does: files a takedown request naming
/// it and places that request's legal hold through `database`'s
/// transactions (so the search index follows). Returns the request's id.
pub fn withdraw(database: &Database, conn: &mut AnyConnection, article: i32) -> i32 {
    let request = file_takedown(conn, &[article]);
    let (_, actor) = legal_actor(conn);
    database
        .transact_on(conn, &actor, |tx| {
            newsdesk::db::article_writes::place_hold(tx, article, request)
        })
        .expect("hold");
    request
}
