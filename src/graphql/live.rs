//! Subscriptions: committed changes pushed as they happen, on any node
//! (over `graphql-transport-ws` at `/graphql` and over SSE; see
//! `http::live`). Each event is checked when it is sent: a public
//! subscription never carries an article that is not public at that
//! moment, a staff one re-checks the token and the caller's right to read
//! the draft at every event.
//!
//! Objects sent resolve their fields with the subscription's request
//! context: section and source names are those of when it started.

use std::sync::Arc;

use async_graphql::{Context, Result, SimpleObject, Subscription, ID};
use futures_util::stream::{self, Stream, StreamExt};

use super::articles::{database_id, Article};
use super::context::{can_read, RequestContext};
use super::script::Script;
use super::takedowns::RemovedArticle;
use crate::auth::Credentials;
use crate::db::change_log::ChangeKind;
use crate::error::{AppError, GqlResultExt};
use crate::live::Event;

#[derive(Default)]
pub struct SubscriptionRoot;

// A subscription's stream keeps room for its resolver's future for as long
// as it runs, so what a resolver awaits (the database) is boxed: thousands
// of idle subscribers each hold only what they use.
/// Changes to what readers see, as they commit.
#[Subscription]
impl SubscriptionRoot {
    /// Public articles as they become visible (published, their scheduled
    /// time come, their last legal hold released), in the script asked
    /// for, within a section (its subsections included) when given.
    async fn article_published(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Section slug; its subsections are included.")] section: Option<String>,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<impl Stream<Item = Article>> {
        let rc = RequestContext::of(ctx);
        let script = Box::pin(rc.choose_script(script)).await.gql()?;
        let sections = Box::pin(scope(rc, section.as_deref())).await.gql()?;
        Ok(changes(rc).filter_map(move |event| {
            let shown = (event.kind == ChangeKind::Published)
                .then(|| public(&event, sections.as_deref()))
                .flatten()
                .map(|row| Article::new(row, script));
            async move { shown }
        }))
    }

    /// New public revisions of one article (an edit of a published
    /// article; its publication is `articlePublished`).
    async fn article_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<impl Stream<Item = Article>> {
        let rc = RequestContext::of(ctx);
        let script = Box::pin(rc.choose_script(script)).await.gql()?;
        let id = database_id(&id).ok_or(AppError::NotFound).gql()?;
        Ok(changes(rc).filter_map(move |event| {
            let shown = (event.kind == ChangeKind::Updated && event.article_id == Some(id))
                .then(|| public(&event, None))
                .flatten()
                .map(|row| Article::new(row, script));
            async move { shown }
        }))
    }

    /// Articles gone from public view (unpublished, deleted, withdrawn),
    /// within a section (its subsections included) when given: apps drop
    /// their copies at once. A withdrawal by a legal hold carries its
    /// tombstone.
    async fn article_removed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Section slug; its subsections are included.")] section: Option<String>,
    ) -> Result<impl Stream<Item = ArticleRemoval>> {
        let rc = RequestContext::of(ctx);
        let sections = Box::pin(scope(rc, section.as_deref())).await.gql()?;
        let zone: chrono_tz::Tz = Box::pin(rc.site())
            .await
            .gql()?
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Shanghai);
        Ok(changes(rc).filter_map(move |event| {
            let within = event.kind == ChangeKind::Removed
                && event.article.as_ref().is_some_and(|row| {
                    sections
                        .as_ref()
                        .is_none_or(|s| s.contains(&row.section_id))
                });
            let removal = within.then(|| ArticleRemoval::of(&event, zone)).flatten();
            async move { removal }
        }))
    }

    /// A recommendation list changed: read it again with
    /// `recommendations(list:)`.
    async fn recommendations_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Name of the list.")] list: String,
    ) -> Result<impl Stream<Item = ListChange>> {
        let rc = RequestContext::of(ctx);
        Ok(changes(rc).filter_map(move |event| {
            let change = (event.kind == ChangeKind::List && event.list.as_deref() == Some(&list))
                .then(|| ListChange {
                    list: list.clone(),
                    sequence: event.seq.to_string(),
                });
            async move { change }
        }))
    }

    /// Every change to one article the caller may read, drafts included
    /// (an editor watching a reporter's draft): staff only. The token and
    /// the right to read the article are checked again at every change; a
    /// token that has expired or been revoked, or an account that lost the
    /// right, ends the subscription with `UNAUTHENTICATED` or `FORBIDDEN`.
    async fn article_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article.")] id: ID,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<impl Stream<Item = Result<Article>>> {
        let rc = RequestContext::of(ctx);
        rc.credentials.require().gql()?;
        let script = Box::pin(rc.choose_script(script)).await.gql()?;
        let id = database_id(&id).ok_or(AppError::NotFound).gql()?;
        let watcher = Arc::new(Watcher {
            state: rc.state.clone(),
            token: ctx.data_opt::<BearerToken>().map(|t| t.0.clone()),
        });
        let events = changes(rc).filter(move |event| {
            let mine = event.article_id == Some(id);
            async move { mine }
        });
        Ok(ending_at_refusal(events.then(move |event| {
            let watcher = watcher.clone();
            async move { Box::pin(watcher.check(&event, script)).await }
        })))
    }
}

/// `checked` up to and with its first refusal: the subscription ends with
/// it.
fn ending_at_refusal<T: Send + 'static>(
    checked: impl Stream<Item = Result<T>> + Send + 'static,
) -> impl Stream<Item = Result<T>> + Send + 'static {
    let checked = Box::pin(checked);
    stream::unfold((checked, false), |(mut checked, ended)| async move {
        if ended {
            return None;
        }
        let item = checked.next().await?;
        let refused = item.is_err();
        Some((item, (checked, refused)))
    })
}

/// The bearer token a subscription was opened with (the `Authorization`
/// header, or the `connection_init` payload's): staff subscriptions check
/// it again at every event.
#[derive(Clone)]
pub struct BearerToken(pub String);

/// What `articleChanged` checks at each change.
struct Watcher {
    state: super::Shared,
    token: Option<String>,
}

impl Watcher {
    async fn check(&self, event: &Event, script: Script) -> Result<Article> {
        let credentials = self.credentials().await;
        credentials.require().gql()?;
        let Some(row) = event.article.clone() else {
            return Err(AppError::NotFound).gql();
        };
        if !can_read(&credentials, crate::db::now(), &row) {
            return Err(AppError::Forbidden).gql();
        }
        Ok(Article::new(row, script))
    }

    /// The token as it stands now: expired, revoked, or of an account
    /// since disabled or given another role, it is refused.
    async fn credentials(&self) -> Credentials {
        let Some(token) = self.token.clone() else {
            return Credentials::Invalid;
        };
        let config = self.state.config.clone();
        let checked = self
            .state
            .db
            .run(move |conn| {
                Ok(config
                    .tokens
                    .as_ref()
                    .and_then(|keys| crate::auth::authenticate(conn, keys, &token).ok()))
            })
            .await;
        match checked {
            Ok(Some(staff)) => Credentials::Valid(staff),
            _ => Credentials::Invalid,
        }
    }
}

/// An article gone from public view.
#[derive(SimpleObject)]
pub struct ArticleRemoval {
    /// The article's global id.
    pub id: ID,
    /// Its numeric id.
    pub database_id: i32,
    /// Its slug, for apps that key their copies by it.
    pub slug: String,
    /// For a withdrawal by a legal hold: what remains public of it.
    pub tombstone: Option<RemovedArticle>,
}

impl ArticleRemoval {
    fn of(event: &Event, zone: chrono_tz::Tz) -> Option<ArticleRemoval> {
        let row = event.article.as_ref()?;
        Some(ArticleRemoval {
            id: super::ids::encode_global(super::ids::NodeKind::Article, row.id),
            database_id: row.id,
            slug: row.shown_slug().to_string(),
            tombstone: event.tombstone.as_ref().map(|t| {
                let at = t.withdrawn_at.and_utc().with_timezone(&zone).fixed_offset();
                RemovedArticle::from_tombstone(t, at)
            }),
        })
    }
}

/// A recommendation list changed.
#[derive(SimpleObject)]
pub struct ListChange {
    /// The list's name.
    pub list: String,
    /// The change's place in the change log (the SSE event id).
    pub sequence: String,
}

/// The node's changes from now on.
fn changes(rc: &RequestContext) -> impl Stream<Item = Arc<Event>> + use<> {
    rc.state.live.events()
}

/// The article of `event` if it is public now and within `sections`.
fn public(event: &Event, sections: Option<&[i32]>) -> Option<Arc<crate::db::articles::ArticleRow>> {
    let row = event.article.clone()?;
    let within = sections.is_none_or(|s| s.contains(&row.section_id));
    (within && row.is_public_at(crate::db::now())).then_some(row)
}

/// A section and its subsections, by slug; `None` for the whole site; an
/// unknown slug is `NOT_FOUND`.
async fn scope(rc: &RequestContext, slug: Option<&str>) -> Result<Option<Vec<i32>>, AppError> {
    let Some(slug) = slug else { return Ok(None) };
    let tree = rc.sections().await?;
    let section = tree.by_slug(slug).ok_or(AppError::NotFound)?;
    Ok(Some(tree.subtree_ids(section.id)))
}
