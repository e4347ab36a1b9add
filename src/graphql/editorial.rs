//! Article lifecycle mutations. Each checks the role table first, then the
//! object (a reporter touches only their own drafts), and writes one
//! transaction with a revision and an audit event.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{DateTime, FixedOffset};

use super::articles::{database_id, Article};
use super::context::RequestContext;
use super::script::Script;
use chrono::NaiveDateTime;

use super::context::can_read;
use crate::auth::policy::Action;
use crate::auth::Credentials;
use crate::db::article_writes::{self, Content, Status};
use crate::db::articles::{self, ArticleRow};
use crate::db::schema::{sections, sources};
use crate::db::{self, AnyConnection};
use crate::domain::{slugify, ArticleStatus, CreditRole, Slug};
use crate::error::{AppError, GqlResultExt};
use crate::text::script::{detect_script, Script as TextScript};

const MAX_TITLE_CHARS: usize = 200;
const MAX_SUMMARY_CHARS: usize = 500;
const MAX_BODY_BYTES: usize = 200 * 1024;
const MAX_NAME_CHARS: usize = 50;

/// A person to credit.
#[derive(Debug, Clone, InputObject)]
pub struct CreditInput {
    /// The person's name.
    pub name: String,
    /// What they did.
    pub role: CreditRole,
}

/// A new draft.
#[derive(Debug, Clone, InputObject)]
pub struct CreateArticleInput {
    /// Headline, 1-200 characters.
    pub title: String,
    /// Summary, at most 500 characters.
    pub summary: Option<String>,
    /// Body as plain-text paragraphs (give this or `bodyHtml`).
    pub paragraphs: Option<Vec<String>>,
    /// Body as HTML; sanitised with an allow-list (no script, style, event handlers or `javascript:` URLs).
    pub body_html: Option<String>,
    /// Slug of the section.
    pub section: String,
    /// Name of a known source (see `upsertSource`).
    pub source: Option<String>,
    /// The byline, in order.
    pub byline: Option<Vec<CreditInput>>,
    /// URL slug; made from the title when absent.
    pub slug: Option<String>,
}

/// Changes to an article; absent fields stay as they are.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateArticleInput {
    /// Headline, 1-200 characters.
    pub title: Option<String>,
    /// Summary, at most 500 characters.
    pub summary: Option<String>,
    /// Body as plain-text paragraphs.
    pub paragraphs: Option<Vec<String>>,
    /// Body as HTML, sanitised.
    pub body_html: Option<String>,
    /// Slug of the section.
    pub section: Option<String>,
    /// Name of a known source.
    pub source: Option<String>,
    /// The byline, in order.
    pub byline: Option<Vec<CreditInput>>,
    /// New URL slug; the old one keeps resolving to the article.
    pub slug: Option<String>,
}

fn title(value: &str) -> Result<String, AppError> {
    let t = value.trim();
    let n = t.chars().count();
    if n == 0 || n > MAX_TITLE_CHARS {
        return Err(AppError::BadInput(format!(
            "title: must be 1-{MAX_TITLE_CHARS} characters, got {n}"
        )));
    }
    Ok(t.to_string())
}

fn summary(value: &str) -> Result<String, AppError> {
    let s = value.trim();
    let n = s.chars().count();
    if n > MAX_SUMMARY_CHARS {
        return Err(AppError::BadInput(format!(
            "summary: must be at most {MAX_SUMMARY_CHARS} characters, got {n}"
        )));
    }
    Ok(s.to_string())
}

/// The stored body and its format from paragraphs or HTML.
fn body(
    paragraphs: Option<&[String]>,
    html: Option<&str>,
) -> Result<Option<(String, String)>, AppError> {
    let (body, format) = match (paragraphs, html) {
        (Some(_), Some(_)) => {
            return Err(AppError::BadInput(
                "bodyHtml: give either paragraphs or bodyHtml, not both".into(),
            ))
        }
        (None, None) => return Ok(None),
        (Some(ps), None) => {
            let kept: Vec<&str> = ps
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .collect();
            let json =
                serde_json::to_string(&kept).map_err(|e| AppError::Internal(e.to_string()))?;
            (json, "paragraphs")
        }
        (None, Some(h)) => (ammonia::clean(h), "html"),
    };
    if body.len() > MAX_BODY_BYTES {
        return Err(AppError::BadInput(format!(
            "paragraphs: the body must be at most {MAX_BODY_BYTES} bytes"
        )));
    }
    Ok(Some((body, format.to_string())))
}

fn credits(input: &[CreditInput]) -> Result<Vec<(String, CreditRole)>, AppError> {
    input
        .iter()
        .map(|c| {
            let name = c.name.trim();
            let n = name.chars().count();
            if n == 0 || n > MAX_NAME_CHARS {
                return Err(AppError::BadInput(format!(
                    "byline: names must be 1-{MAX_NAME_CHARS} characters"
                )));
            }
            Ok((name.to_string(), c.role))
        })
        .collect()
}

fn section_id(conn: &mut AnyConnection, slug: &str) -> Result<i32, AppError> {
    use diesel::prelude::*;
    sections::table
        .filter(sections::slug.eq(slug))
        .select(sections::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::BadInput(format!("section: no section with slug {slug:?}")))
}

fn source_id(conn: &mut AnyConnection, name: &str) -> Result<i32, AppError> {
    use diesel::prelude::*;
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

fn script_name(converter: &crate::text::script::ScriptConverter, text: &str) -> &'static str {
    match detect_script(converter, text) {
        TextScript::Hans => "hans",
        _ => "hant",
    }
}

/// Refuses a write on `row` unless the caller may make it: editors and admins
/// on anything, reporters on their own drafts. Callers who may not even see
/// the article get the same `NOT_FOUND` as for a missing one.
fn may_edit(
    credentials: &Credentials,
    now: NaiveDateTime,
    row: &ArticleRow,
) -> Result<(), AppError> {
    let staff = credentials.require()?;
    if credentials.may(Action::EditAnyArticle) {
        return Ok(());
    }
    let own_draft =
        row.owner_id == Some(staff.user_id) && matches!(row.status.as_str(), "draft" | "submitted");
    if own_draft && credentials.may(Action::WriteOwnDrafts) {
        return Ok(());
    }
    if can_read(credentials, now, row) {
        Err(AppError::Forbidden)
    } else {
        Err(AppError::NotFound)
    }
}

fn id_of(id: &ID) -> Result<i32, AppError> {
    database_id(id).ok_or(AppError::NotFound)
}

#[derive(Default)]
pub struct ArticleMutation;

type Apply = Box<
    dyn FnOnce(&mut AnyConnection, &ArticleRow, &mut Content, &mut Status) -> Result<(), AppError>
        + Send,
>;

impl ArticleMutation {
    /// Checks the caller's role, then (inside the transaction) the article
    /// itself, and applies `apply` as one revision.
    async fn write(
        ctx: &Context<'_>,
        id: ID,
        expected: Option<i32>,
        action: Action,
        audit_action: &'static str,
        apply: Apply,
    ) -> Result<Article> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(action).gql()?.clone();
        let id = id_of(&id).gql()?;
        let actor = rc.actor(&staff);
        let credentials = rc.credentials.clone();
        let now = rc.now;
        let row = rc
            .db
            .transact(actor, move |tx| {
                article_writes::change(
                    tx,
                    id,
                    expected,
                    audit_action,
                    |row| may_edit(&credentials, now, row),
                    apply,
                )
            })
            .await
            .gql()?;
        Ok(Article::new(Arc::new(row), Script::Original))
    }
}

#[Object]
impl ArticleMutation {
    /// Files a new draft owned by the caller (reporters, editors, admins).
    async fn create_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft's content.")] input: CreateArticleInput,
    ) -> Result<Article> {
        let rc = RequestContext::of(ctx);
        let staff = rc
            .credentials
            .require_right(Action::WriteOwnDrafts)
            .gql()?
            .clone();
        let title = title(&input.title).gql()?;
        let summary = summary(input.summary.as_deref().unwrap_or("")).gql()?;
        let (body, body_format) = body(input.paragraphs.as_deref(), input.body_html.as_deref())
            .gql()?
            .unwrap_or_else(|| ("[]".into(), "paragraphs".into()));
        let credits = credits(input.byline.as_deref().unwrap_or(&[])).gql()?;
        let slug = match &input.slug {
            Some(s) => Some(
                Slug::parse(s)
                    .map_err(|e| AppError::BadInput(format!("slug: {e}")))
                    .gql()?,
            ),
            None => None,
        };
        let script = script_name(&rc.state.converter, &format!("{title}{summary}{body}"));
        let actor = rc.actor(&staff);
        let viewer = articles::Viewer::of(&actor);
        let row = rc
            .db
            .transact(actor, move |tx| {
                let conn = tx.conn();
                let section_id = section_id(conn, &input.section)?;
                let source_id = input
                    .source
                    .as_deref()
                    .map(|s| source_id(conn, s))
                    .transpose()?;
                let slug = match slug {
                    Some(s) => s.to_string(),
                    None => {
                        let base = slugify(&title, 60)
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "article".into());
                        articles::unique_slug(conn, &base, viewer)?
                    }
                };
                let content = Content {
                    slug,
                    title,
                    summary,
                    body,
                    body_format,
                    section_id,
                    source_id,
                    credits,
                };
                article_writes::create_draft(tx, &content, script, Some(staff.user_id))
            })
            .await
            .gql()?;
        Ok(Article::new(Arc::new(row), Script::Original))
    }

    /// Edits an article if `expectedRevision` is still its revision; a stale
    /// revision is a `CONFLICT` naming the current one.
    async fn update_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
        #[graphql(desc = "What to change.")] input: UpdateArticleInput,
        #[graphql(desc = "The revision the change was made against.")] expected_revision: i32,
    ) -> Result<Article> {
        let new_title = input.title.as_deref().map(title).transpose().gql()?;
        let new_summary = input.summary.as_deref().map(summary).transpose().gql()?;
        let new_body = body(input.paragraphs.as_deref(), input.body_html.as_deref()).gql()?;
        let new_credits = input.byline.as_deref().map(credits).transpose().gql()?;
        let new_slug = match &input.slug {
            Some(s) => Some(
                Slug::parse(s)
                    .map_err(|e| AppError::BadInput(format!("slug: {e}")))
                    .gql()?,
            ),
            None => None,
        };
        let section = input.section.clone();
        let source = input.source.clone();
        Self::write(
            ctx,
            id,
            Some(expected_revision),
            Action::WriteOwnDrafts,
            "article.update",
            Box::new(move |conn, _, content, _| {
                if let Some(t) = new_title {
                    content.title = t;
                }
                if let Some(s) = new_summary {
                    content.summary = s;
                }
                if let Some((b, f)) = new_body {
                    content.body = b;
                    content.body_format = f;
                }
                if let Some(c) = new_credits {
                    content.credits = c;
                }
                if let Some(s) = new_slug {
                    content.slug = s.to_string();
                }
                if let Some(s) = section {
                    content.section_id = section_id(conn, &s)?;
                }
                if let Some(s) = source {
                    content.source_id = Some(source_id(conn, &s)?);
                }
                Ok(())
            }),
        )
        .await
    }

    /// Hands a draft in for review.
    async fn submit_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
    ) -> Result<Article> {
        Self::write(
            ctx,
            id,
            None,
            Action::WriteOwnDrafts,
            "article.submit",
            Box::new(|_, row, _, status| {
                if row.status != "draft" {
                    return Err(AppError::Conflict(format!(
                        "only drafts can be submitted; this article is {}",
                        row.status
                    )));
                }
                status.status = ArticleStatus::Submitted;
                Ok(())
            }),
        )
        .await
    }

    /// Publishes now, or schedules for `at`; a scheduled article goes live by
    /// itself at that time (editors, admins).
    async fn publish_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
        #[graphql(desc = "When to go live; absent means now.")] at: Option<DateTime<FixedOffset>>,
    ) -> Result<Article> {
        let now = RequestContext::of(ctx).now;
        let at = at.map(|t| db::to_db_time(t.to_utc()));
        Self::write(
            ctx,
            id,
            None,
            Action::EditAnyArticle,
            "article.publish",
            Box::new(move |_, row, _, status| {
                if row.status()? == ArticleStatus::Deleted {
                    return Err(AppError::Conflict(
                        "a deleted article cannot be published".into(),
                    ));
                }
                let when = at.unwrap_or(now);
                status.status = if when > now {
                    ArticleStatus::Scheduled
                } else {
                    ArticleStatus::Published
                };
                status.published_at = Some(when);
                Ok(())
            }),
        )
        .await
    }

    /// Takes a published or scheduled article back to draft (editors, admins).
    async fn unpublish_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
    ) -> Result<Article> {
        Self::write(
            ctx,
            id,
            None,
            Action::EditAnyArticle,
            "article.unpublish",
            Box::new(|_, row, _, status| {
                if !matches!(row.status.as_str(), "published" | "scheduled") {
                    return Err(AppError::Conflict(format!(
                        "only published or scheduled articles can be unpublished; this one is {}",
                        row.status
                    )));
                }
                status.status = ArticleStatus::Draft;
                Ok(())
            }),
        )
        .await
    }

    /// Deletes an article (soft: it can be found in the audit log and revisions).
    async fn delete_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
    ) -> Result<Article> {
        Self::write(
            ctx,
            id,
            None,
            Action::WriteOwnDrafts,
            "article.delete",
            Box::new(|_, row, _, status| {
                if row.status()? == ArticleStatus::Deleted {
                    return Err(AppError::Conflict("the article is already deleted".into()));
                }
                status.status = ArticleStatus::Deleted;
                Ok(())
            }),
        )
        .await
    }

    /// Makes an earlier revision's content current again, as a new revision (editors, admins).
    async fn restore_revision(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
        #[graphql(desc = "The revision to bring back.")] revision: i32,
    ) -> Result<Article> {
        Self::write(
            ctx,
            id,
            None,
            Action::EditAnyArticle,
            "article.restore_revision",
            Box::new(move |conn, row, content, _| {
                *content = article_writes::revision_content(conn, row.id, revision)?;
                Ok(())
            }),
        )
        .await
    }

    /// Pins related articles (in order) ahead of the computed ones (editors, admins).
    async fn set_related_articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
        #[graphql(desc = "Related articles, at most 20, in order.")] related: Vec<ID>,
    ) -> Result<Article> {
        let rc = RequestContext::of(ctx);
        let staff = rc
            .credentials
            .require_right(Action::EditAnyArticle)
            .gql()?
            .clone();
        let id = id_of(&id).gql()?;
        if related.len() > 20 {
            return Err(AppError::BadInput("related: at most 20".into())).gql();
        }
        let mut others = Vec::with_capacity(related.len());
        for (i, r) in related.iter().enumerate() {
            let other = database_id(r)
                .ok_or_else(|| AppError::BadInput(format!("related[{i}]: not an article id")))
                .gql()?;
            if other == id {
                return Err(AppError::BadInput(format!(
                    "related[{i}]: an article is not related to itself"
                )))
                .gql();
            }
            others.push(other);
        }
        let actor = rc.actor(&staff);
        let row = rc
            .db
            .transact(actor, move |tx| {
                let conn = tx.conn();
                let row = articles::by_ids(conn, &[id])?
                    .into_iter()
                    .next()
                    .ok_or(AppError::NotFound)?;
                let found = articles::by_ids(conn, &others)?.len();
                if found != others.len() {
                    return Err(AppError::BadInput(
                        "related: an article does not exist".into(),
                    ));
                }
                articles::set_pinned_related(conn, id, &others)?;
                tx.touch([crate::domain::CacheKey::Article(id)]);
                tx.audit(crate::db::audit::Event::action(
                    "article.set_related",
                    "article",
                    Some(id),
                    serde_json::json!({ "related": others }),
                ));
                Ok(row)
            })
            .await
            .gql()?;
        Ok(Article::new(Arc::new(row), Script::Original))
    }
}
