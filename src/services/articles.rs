//! The newsroom's article writes. Each function takes values already parsed
//! and the caller's rights already checked, applies the lifecycle rules of
//! [`crate::domain::lifecycle`] to the article as stored, and runs one
//! transaction: the revision, its snapshot, the audit event and the cache
//! keys it changes come with it (`db::article_writes`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::article_writes::{self, Content, Status};
use crate::db::articles::{self, ArticleRow, Viewer};
use crate::db::audit::{Actor, Event};
use crate::db::schema::{sections, sources};
use crate::db::{AnyConnection, Database};
use crate::domain::lifecycle::{Step, Writer};
use crate::domain::CacheKey;
use crate::domain::{
    slugify, ArticleBody, CreditRole, Headline, PersonName, SeoText, Slug, Summary,
};
use crate::error::AppError;
use crate::text::script::{detect_script, Script as TextScript, ScriptConverter};

/// Who writes, and what the lifecycle lets them write.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub writer: Writer,
    /// The instant the caller's view of the article is judged at.
    pub now: NaiveDateTime,
}

impl Caller {
    /// Refuses a write on `row` the caller may not make. Callers who may not
    /// even see the article get the same `NOT_FOUND` as for a missing one.
    fn may_write(&self, row: &ArticleRow) -> Result<(), AppError> {
        if self.writer.may_write(row.owner_id, row.status()?) {
            Ok(())
        } else if Viewer::of(&self.actor).sees(row, self.now) {
            Err(AppError::Forbidden)
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// A byline entry.
pub type Credit = (PersonName, CreditRole);

/// A new draft's content.
#[derive(Debug, Clone)]
pub struct Draft {
    pub title: Headline,
    pub summary: Summary,
    pub body: ArticleBody,
    /// The section's slug.
    pub section: String,
    /// A known source's name.
    pub source: Option<String>,
    pub byline: Vec<Credit>,
    /// Made from the title when absent.
    pub slug: Option<Slug>,
    /// The media id of the picture shown with the article.
    pub lead_media: Option<String>,
    /// What search engines show instead of the title and summary.
    pub seo_title: Option<SeoText>,
    pub seo_description: Option<SeoText>,
}

/// Changes to an article's content; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub title: Option<Headline>,
    pub summary: Option<Summary>,
    pub body: Option<ArticleBody>,
    /// The section's slug.
    pub section: Option<String>,
    /// A known source's name.
    pub source: Option<String>,
    pub byline: Option<Vec<Credit>>,
    pub slug: Option<Slug>,
    /// A new lead picture (`Some(None)` takes it away).
    pub lead_media: Option<Option<String>>,
    /// A new search-engine title (`Some(None)`: the title again).
    pub seo_title: Option<Option<SeoText>>,
    /// A new search-engine description (`Some(None)`: the summary again).
    pub seo_description: Option<Option<SeoText>>,
}

/// Files a new draft owned by `owner_id`.
pub async fn create(
    db: &Database,
    converter: &ScriptConverter,
    actor: Actor,
    owner_id: i32,
    draft: Draft,
) -> Result<ArticleRow, AppError> {
    let script = script_name(
        converter,
        &format!(
            "{}{}{}",
            draft.title.as_str(),
            draft.summary.as_str(),
            draft.body.stored()
        ),
    );
    let viewer = Viewer::of(&actor);
    db.transact(actor, move |tx| {
        let conn = tx.conn();
        let section_id = section_id(conn, &draft.section)?;
        let source_id = draft
            .source
            .as_deref()
            .map(|s| source_id(conn, s))
            .transpose()?;
        let slug = match draft.slug {
            Some(s) => s.to_string(),
            None => {
                let base = slugify(draft.title.as_str(), 60)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "article".into());
                articles::unique_slug(conn, &base, viewer)?
            }
        };
        let (body, body_format) = draft.body.into_parts();
        let content = Content {
            slug,
            title: draft.title.into(),
            summary: draft.summary.into(),
            body,
            body_format,
            section_id,
            source_id,
            credits: credits(draft.byline),
            lead_media_id: draft.lead_media,
            seo_title: draft.seo_title.map(String::from),
            seo_description: draft.seo_description.map(String::from),
        };
        check_media(tx.conn(), &content)?;
        article_writes::create_draft(tx, &content, script, Some(owner_id))
    })
    .await
}

/// Edits an article if `expected_revision` is still its revision.
pub async fn update(
    db: &Database,
    caller: Caller,
    id: i32,
    expected_revision: i32,
    changes: Changes,
) -> Result<ArticleRow, AppError> {
    let edit = Edit::Content(Box::new(changes));
    write(db, caller, id, Some(expected_revision), Step::Edit, edit).await
}

/// Hands a draft in for review.
pub async fn submit(db: &Database, caller: Caller, id: i32) -> Result<ArticleRow, AppError> {
    write(db, caller, id, None, Step::Submit, Edit::Nothing).await
}

/// Publishes now, or schedules for `at` when that is still to come.
pub async fn publish(
    db: &Database,
    caller: Caller,
    id: i32,
    at: Option<NaiveDateTime>,
) -> Result<ArticleRow, AppError> {
    let (step, when) = Step::publishing(at, caller.now);
    write(db, caller, id, None, step, Edit::PublishedAt(when)).await
}

/// Takes a published or scheduled article back to draft.
pub async fn unpublish(db: &Database, caller: Caller, id: i32) -> Result<ArticleRow, AppError> {
    write(db, caller, id, None, Step::Unpublish, Edit::Nothing).await
}

/// Deletes an article (soft: revisions and the audit log keep it).
pub async fn delete(db: &Database, caller: Caller, id: i32) -> Result<ArticleRow, AppError> {
    write(db, caller, id, None, Step::Delete, Edit::Nothing).await
}

/// Makes an earlier revision's content current again, as a new revision.
pub async fn restore_revision(
    db: &Database,
    caller: Caller,
    id: i32,
    revision: i32,
) -> Result<ArticleRow, AppError> {
    let edit = Edit::Revision(revision);
    write(db, caller, id, None, Step::RestoreRevision, edit).await
}

/// Pins `related` (in order) ahead of the computed related articles.
pub async fn set_related(
    db: &Database,
    actor: Actor,
    id: i32,
    related: Vec<i32>,
) -> Result<ArticleRow, AppError> {
    db.transact(actor, move |tx| {
        let conn = tx.conn();
        let row = articles::by_ids(conn, &[id])?
            .into_iter()
            .next()
            .ok_or(AppError::NotFound)?;
        if articles::by_ids(conn, &related)?.len() != related.len() {
            return Err(AppError::BadInput(
                "related: an article does not exist".into(),
            ));
        }
        articles::set_pinned_related(conn, id, &related)?;
        tx.touch([CacheKey::Article(id)]);
        tx.audit(Event::action(
            "article.set_related",
            "article",
            Some(id),
            serde_json::json!({ "related": related }),
        ));
        Ok(row)
    })
    .await
}

/// What a step writes besides the status.
#[derive(Debug)]
enum Edit {
    Nothing,
    Content(Box<Changes>),
    Revision(i32),
    PublishedAt(NaiveDateTime),
}

/// The audit log's name for a step.
fn audit_action(step: Step) -> &'static str {
    match step {
        Step::Edit => "article.update",
        Step::Submit => "article.submit",
        Step::PublishNow | Step::Schedule => "article.publish",
        Step::Unpublish => "article.unpublish",
        Step::Delete => "article.delete",
        Step::RestoreRevision => "article.restore_revision",
    }
}

/// Takes `step` on article `id` as one revision: the caller must be allowed
/// to write the article, and the step to follow its status.
async fn write(
    db: &Database,
    caller: Caller,
    id: i32,
    expected: Option<i32>,
    step: Step,
    edit: Edit,
) -> Result<ArticleRow, AppError> {
    let actor = caller.actor.clone();
    db.transact(actor, move |tx| {
        article_writes::change(
            tx,
            id,
            expected,
            audit_action(step),
            |row| caller.may_write(row),
            move |conn, row, content, status| {
                status.status = step.next(status.status)?;
                apply(conn, row, edit, content, status)
            },
        )
    })
    .await
}

fn apply(
    conn: &mut AnyConnection,
    row: &ArticleRow,
    edit: Edit,
    content: &mut Content,
    status: &mut Status,
) -> Result<(), AppError> {
    match edit {
        Edit::Nothing => {}
        Edit::PublishedAt(when) => status.published_at = Some(when),
        Edit::Revision(revision) => {
            *content = article_writes::revision_content(conn, row.id, revision)?;
        }
        Edit::Content(changes) => {
            let Changes {
                title,
                summary,
                body,
                section,
                source,
                byline,
                slug,
                lead_media,
                seo_title,
                seo_description,
            } = *changes;
            if let Some(t) = title {
                content.title = t.into();
            }
            if let Some(s) = summary {
                content.summary = s.into();
            }
            if let Some(b) = body {
                (content.body, content.body_format) = b.into_parts();
            }
            if let Some(c) = byline {
                content.credits = credits(c);
            }
            if let Some(s) = slug {
                content.slug = s.to_string();
            }
            if let Some(s) = section {
                content.section_id = section_id(conn, &s)?;
            }
            if let Some(s) = source {
                content.source_id = Some(source_id(conn, &s)?);
            }
            if let Some(l) = lead_media {
                content.lead_media_id = l;
            }
            if let Some(t) = seo_title {
                content.seo_title = t.map(String::from);
            }
            if let Some(d) = seo_description {
                content.seo_description = d.map(String::from);
            }
            check_media(conn, content)?;
        }
    }
    Ok(())
}

fn credits(byline: Vec<Credit>) -> Vec<(String, CreditRole)> {
    byline
        .into_iter()
        .map(|(name, role)| (name.into(), role))
        .collect()
}

fn section_id(conn: &mut AnyConnection, slug: &str) -> Result<i32, AppError> {
    sections::table
        .filter(sections::slug.eq(slug))
        .select(sections::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::BadInput(format!("section: no section with slug {slug:?}")))
}

fn source_id(conn: &mut AnyConnection, name: &str) -> Result<i32, AppError> {
    sources::table
        .filter(sources::name.eq(name))
        .select(sources::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| {
            AppError::BadInput(format!(
                "source: unknown source {name:?}; add it with upsertSource"
            ))
        })
}

/// The stored script column's value for a new text.
fn script_name(converter: &ScriptConverter, text: &str) -> &'static str {
    match detect_script(converter, text) {
        TextScript::Hans => "hans",
        _ => "hant",
    }
}

/// Every picture the content names (image blocks, the lead picture) has
/// been uploaded.
fn check_media(conn: &mut AnyConnection, content: &Content) -> Result<(), AppError> {
    let body = crate::body::Body::from_stored(&content.body_format, &content.body);
    let mut wanted: Vec<(String, &str)> = body
        .media()
        .into_iter()
        .map(|m| (m.to_string(), "blocks"))
        .collect();
    if let Some(lead) = &content.lead_media_id {
        wanted.push((lead.clone(), "leadImage"));
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = wanted.iter().map(|(id, _)| id.clone()).collect();
    let found: std::collections::HashSet<String> = crate::db::media::by_ids(conn, &ids)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    match wanted.iter().find(|(id, _)| !found.contains(id)) {
        Some((id, field)) => Err(AppError::BadInput(format!(
            "{field}: no uploaded media with id {id:?}"
        ))),
        None => Ok(()),
    }
}
