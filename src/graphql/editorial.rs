//! Article lifecycle mutations. Each resolver checks the caller's right,
//! parses its input into domain values and calls one function of
//! `services::articles`, which applies the lifecycle rules
//! (`domain::lifecycle`: a reporter touches only their own drafts) and
//! writes one transaction with a revision and an audit event.

use std::sync::Arc;

use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result, ID};
use chrono::{DateTime, FixedOffset};

use super::articles::{database_id, Article};
use super::body::{parse_blocks, BlockInput};
use super::context::RequestContext;
use super::script::Script;
use crate::auth::policy::Action;
use crate::db::{self, articles::ArticleRow};
use crate::domain::lifecycle::Writer;
use crate::domain::{
    ArticleBody, BodyGiven, CreditRole, Headline, PersonName, SeoText, Slug, Summary,
};
use crate::error::{AppError, GqlResultExt};
use crate::services::articles::{self as service, Caller, Changes, Credit, Draft};

/// Pinned related articles one article may have.
const MAX_RELATED: usize = 20;

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
    /// Body as typed blocks (give one of `blocks`, `paragraphs` and `bodyHtml`).
    pub blocks: Option<Vec<BlockInput>>,
    /// Body as plain-text paragraphs.
    pub paragraphs: Option<Vec<String>>,
    /// Body as HTML, read into blocks: what maps onto no block (script, style,
    /// event attributes, `javascript:` links, frames, images that are not
    /// uploaded media …) is dropped and listed in the answer's `bodyWarnings`.
    pub body_html: Option<String>,
    /// Slug of the section.
    pub section: String,
    /// Name of a known source (see `upsertSource`).
    pub source: Option<String>,
    /// The byline, in order.
    pub byline: Option<Vec<CreditInput>>,
    /// URL slug; made from the title when absent.
    pub slug: Option<String>,
    /// The media id of an uploaded picture to show with the article.
    pub lead_image: Option<ID>,
    /// What search engines and social cards show as the title (at most 100
    /// characters); absent or empty: the title, cut to fit.
    pub seo_title: Option<String>,
    /// What they show as the description (at most 300 characters); absent
    /// or empty: the summary, cut to fit.
    pub seo_description: Option<String>,
}

/// Changes to an article; absent fields stay as they are.
#[derive(Debug, Clone, Default, InputObject)]
pub struct UpdateArticleInput {
    /// Headline, 1-200 characters.
    pub title: Option<String>,
    /// Summary, at most 500 characters.
    pub summary: Option<String>,
    /// Body as typed blocks (give at most one of `blocks`, `paragraphs` and `bodyHtml`).
    pub blocks: Option<Vec<BlockInput>>,
    /// Body as plain-text paragraphs.
    pub paragraphs: Option<Vec<String>>,
    /// Body as HTML, read into blocks (see `CreateArticleInput.bodyHtml`).
    pub body_html: Option<String>,
    /// Slug of the section.
    pub section: Option<String>,
    /// Name of a known source.
    pub source: Option<String>,
    /// The byline, in order.
    pub byline: Option<Vec<CreditInput>>,
    /// New URL slug; the old one keeps resolving to the article.
    pub slug: Option<String>,
    /// A new lead picture by media id; `null` takes it away.
    pub lead_image: MaybeUndefined<ID>,
    /// A new search-engine title (at most 100 characters); `null` or empty
    /// goes back to the title.
    pub seo_title: MaybeUndefined<String>,
    /// A new search-engine description (at most 300 characters); `null` or
    /// empty goes back to the summary.
    pub seo_description: MaybeUndefined<String>,
}

impl CreateArticleInput {
    fn parse(self) -> Result<Draft, AppError> {
        Ok(Draft {
            title: Headline::parse(&self.title)?,
            summary: Summary::parse(self.summary.as_deref().unwrap_or(""))?,
            body: body(&self.blocks, &self.paragraphs, &self.body_html)?
                .unwrap_or_else(ArticleBody::empty),
            byline: byline(self.byline.as_deref().unwrap_or(&[]))?,
            slug: self.slug.as_deref().map(slug).transpose()?,
            section: self.section,
            source: self.source,
            lead_media: self.lead_image.map(|id| id.0),
            seo_title: seo_title(self.seo_title.as_deref())?,
            seo_description: seo_description(self.seo_description.as_deref())?,
        })
    }
}

impl UpdateArticleInput {
    fn parse(self) -> Result<Changes, AppError> {
        Ok(Changes {
            title: self.title.as_deref().map(Headline::parse).transpose()?,
            summary: self.summary.as_deref().map(Summary::parse).transpose()?,
            body: body(&self.blocks, &self.paragraphs, &self.body_html)?,
            byline: self.byline.as_deref().map(byline).transpose()?,
            slug: self.slug.as_deref().map(slug).transpose()?,
            section: self.section,
            source: self.source,
            lead_media: match self.lead_image {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(id) => Some(Some(id.0)),
            },
            seo_title: seo_change(&self.seo_title, seo_title)?,
            seo_description: seo_change(&self.seo_description, seo_description)?,
        })
    }
}

fn seo_title(value: Option<&str>) -> Result<Option<SeoText>, AppError> {
    let value = value.unwrap_or("");
    Ok(SeoText::parse("seoTitle", value, SeoText::MAX_TITLE_CHARS)?)
}

fn seo_description(value: Option<&str>) -> Result<Option<SeoText>, AppError> {
    let value = value.unwrap_or("");
    Ok(SeoText::parse(
        "seoDescription",
        value,
        SeoText::MAX_DESCRIPTION_CHARS,
    )?)
}

/// An override's change: absent stays, `null` or empty clears.
fn seo_change(
    given: &MaybeUndefined<String>,
    parse: fn(Option<&str>) -> Result<Option<SeoText>, AppError>,
) -> Result<Option<Option<SeoText>>, AppError> {
    match given {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(v) => parse(Some(v)).map(Some),
    }
}

/// The body given one of three ways, or `None`.
fn body(
    blocks: &Option<Vec<BlockInput>>,
    paragraphs: &Option<Vec<String>>,
    html: &Option<String>,
) -> Result<Option<ArticleBody>, AppError> {
    let blocks = blocks.as_deref().map(parse_blocks).transpose()?;
    let mut given = Vec::new();
    given.extend(blocks.as_ref().map(BodyGiven::Blocks));
    given.extend(paragraphs.as_deref().map(BodyGiven::Paragraphs));
    given.extend(html.as_deref().map(BodyGiven::Html));
    Ok(ArticleBody::parse(&given)?)
}

fn byline(input: &[CreditInput]) -> Result<Vec<Credit>, AppError> {
    input
        .iter()
        .map(|c| Ok((PersonName::parse(&c.name)?, c.role)))
        .collect()
}

fn slug(value: &str) -> Result<Slug, AppError> {
    Slug::parse(value).map_err(|e| AppError::BadInput(format!("slug: {e}")))
}

/// The articles to pin as related to article `id`, in order.
fn related_ids(id: i32, related: &[ID]) -> Result<Vec<i32>, AppError> {
    if related.len() > MAX_RELATED {
        return Err(AppError::BadInput(format!(
            "related: at most {MAX_RELATED}"
        )));
    }
    related
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let other = database_id(r)
                .ok_or_else(|| AppError::BadInput(format!("related[{i}]: not an article id")))?;
            if other == id {
                return Err(AppError::BadInput(format!(
                    "related[{i}]: an article is not related to itself"
                )));
            }
            Ok(other)
        })
        .collect()
}

fn id_of(id: &ID) -> Result<i32, AppError> {
    database_id(id).ok_or(AppError::NotFound)
}

/// The caller, once their role is found to allow `action`, as the lifecycle
/// rules know them.
fn caller(rc: &RequestContext, action: Action) -> Result<Caller, AppError> {
    let staff = rc.credentials.require_right(action)?;
    let writer = if rc.credentials.may(Action::EditAnyArticle) {
        Writer::AnyArticle
    } else if rc.credentials.may(Action::WriteOwnDrafts) {
        Writer::OwnDrafts {
            user_id: staff.user_id,
        }
    } else {
        Writer::Nobody
    };
    Ok(Caller {
        actor: rc.actor(staff),
        writer,
        now: rc.now,
    })
}

/// A written article as the mutation returns it.
fn written(row: ArticleRow) -> Article {
    Article::new(Arc::new(row), Script::Original)
}

#[derive(Default)]
pub struct ArticleMutation;

#[Object]
impl ArticleMutation {
    /// Files a new draft owned by the caller (reporters, editors, admins).
    async fn create_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft's content.")] input: CreateArticleInput,
    ) -> Result<Article> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::WriteOwnDrafts).gql()?;
        let draft = input.parse().gql()?;
        let warnings = draft.body.warnings().to_vec();
        let actor = rc.actor(staff);
        let row = service::create(&rc.db, &rc.state.converter, actor, staff.user_id, draft)
            .await
            .gql()?;
        Ok(written(row).with_warnings(warnings))
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
        let rc = RequestContext::of(ctx);
        let changes = input.parse().gql()?;
        let warnings = changes.body.as_ref().map(|b| b.warnings().to_vec());
        let caller = caller(rc, Action::WriteOwnDrafts).gql()?;
        let id = id_of(&id).gql()?;
        let row = service::update(&rc.db, caller, id, expected_revision, changes)
            .await
            .gql()?;
        Ok(written(row).with_warnings(warnings.unwrap_or_default()))
    }

    /// Hands a draft in for review.
    async fn submit_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
    ) -> Result<Article> {
        let rc = RequestContext::of(ctx);
        let caller = caller(rc, Action::WriteOwnDrafts).gql()?;
        let id = id_of(&id).gql()?;
        Ok(written(service::submit(&rc.db, caller, id).await.gql()?))
    }

    /// Publishes now, or schedules for `at`; a scheduled article goes live by
    /// itself at that time (editors, admins).
    async fn publish_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
        #[graphql(desc = "When to go live; absent means now.")] at: Option<DateTime<FixedOffset>>,
    ) -> Result<Article> {
        let rc = RequestContext::of(ctx);
        let at = at.map(|t| db::to_db_time(t.to_utc()));
        let caller = caller(rc, Action::EditAnyArticle).gql()?;
        let id = id_of(&id).gql()?;
        Ok(written(
            service::publish(&rc.db, caller, id, at).await.gql()?,
        ))
    }

    /// Takes a published or scheduled article back to draft (editors, admins).
    async fn unpublish_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
    ) -> Result<Article> {
        let rc = RequestContext::of(ctx);
        let caller = caller(rc, Action::EditAnyArticle).gql()?;
        let id = id_of(&id).gql()?;
        Ok(written(service::unpublish(&rc.db, caller, id).await.gql()?))
    }

    /// Deletes an article (soft: it can be found in the audit log and revisions).
    async fn delete_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
    ) -> Result<Article> {
        let rc = RequestContext::of(ctx);
        let caller = caller(rc, Action::WriteOwnDrafts).gql()?;
        let id = id_of(&id).gql()?;
        Ok(written(service::delete(&rc.db, caller, id).await.gql()?))
    }

    /// Makes an earlier revision's content current again, as a new revision (editors, admins).
    async fn restore_revision(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
        #[graphql(desc = "The revision to bring back.")] revision: i32,
    ) -> Result<Article> {
        let rc = RequestContext::of(ctx);
        let caller = caller(rc, Action::EditAnyArticle).gql()?;
        let id = id_of(&id).gql()?;
        let row = service::restore_revision(&rc.db, caller, id, revision)
            .await
            .gql()?;
        Ok(written(row))
    }

    /// Pins related articles (in order) ahead of the computed ones (editors, admins).
    async fn set_related_articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
        #[graphql(desc = "Related articles, at most 20, in order.")] related: Vec<ID>,
    ) -> Result<Article> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::EditAnyArticle).gql()?;
        let id = id_of(&id).gql()?;
        let related = related_ids(id, &related).gql()?;
        let row = service::set_related(&rc.db, rc.actor(staff), id, related)
            .await
            .gql()?;
        Ok(written(row))
    }
}
