use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, FixedOffset};

use super::context::{stored_script, RequestContext};
use super::ids::{decode_cursor, decode_global, encode_cursor, encode_global, NodeKind};
use super::limits::{page_size, MAX_PAGE};
use super::loaders::Prefetch;
use super::notices::CopyrightNotice;
use super::script::Script;
use super::sections::Section;
use crate::auth::policy::Action;
use crate::db::article_writes;
use crate::db::articles::{self, ArticleRow, Direction, Position, PublicQuery};
use crate::db::notices::in_force;
use crate::db::to_db_time;
use crate::domain::{ArticleStatus, CacheKey, CreditRole, NoticeKind};
use crate::error::{AppError, GqlResultExt};

const DEFAULT_PAGE: i32 = 20;

/// Complexity of a page: each item costs what its selection costs. Sizes
/// above the cap are priced at the cap so that the argument check, not the
/// cost check, explains the rejection.
pub fn page_complexity(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let n = last.or(first).unwrap_or(DEFAULT_PAGE).clamp(0, MAX_PAGE) as usize;
    1 + n * child.max(1)
}

#[derive(Default)]
pub struct ArticleQuery;

#[Object]
impl ArticleQuery {
    /// One published article by global id (or numeric database id) or by slug
    /// (a former slug still works). Give exactly one. Null when there is no
    /// such article or it is not public: the two cannot be told apart.
    async fn article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id (or numeric database id).")] id: Option<ID>,
        #[graphql(desc = "Slug, current or former.")] slug: Option<String>,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
        #[graphql(
            desc = "Also show drafts, scheduled and withdrawn articles the caller may read (their own drafts for reporters, all for editors, legal and admins).",
            default = false
        )]
        preview: bool,
    ) -> Result<Option<Article>> {
        let rc = RequestContext::of(ctx);
        let script = rc.choose_script(script).await.gql()?;
        enum Key {
            Id(i32),
            Slug(String),
        }
        let key = match (id, slug) {
            (Some(id), None) => match database_id(&id) {
                Some(n) => Key::Id(n),
                None => return Ok(None),
            },
            (None, Some(slug)) => Key::Slug(slug),
            _ => {
                return Err(AppError::BadInput(
                    "article: give exactly one of id and slug".into(),
                ))
                .gql()
            }
        };
        let prefetch = Prefetch::of(&[ctx.look_ahead()]);
        let viewer = super::context::viewer(&rc.credentials);
        let (row, prefetched) = rc
            .db
            .run(move |conn| {
                let row = match key {
                    Key::Id(n) => articles::by_ids(conn, &[n])?.into_iter().next(),
                    Key::Slug(slug) if preview => articles::by_slug_seen_by(conn, &slug, viewer)?,
                    Key::Slug(slug) => articles::by_slug(conn, &slug)?,
                };
                let prefetched = prefetch.load(conn, row.as_slice())?;
                Ok((row.map(Arc::new), prefetched))
            })
            .await
            .gql()?;
        prefetched.feed(rc).await;
        let readable = |r: &ArticleRow| {
            if preview {
                rc.can_read(r)
            } else {
                r.is_public_at(rc.now)
            }
        };
        match &row {
            Some(r) => rc.tag(CacheKey::Article(r.id)),
            // A later publication under this key purges `articles`.
            None => rc.tag(CacheKey::Articles),
        }
        match row {
            Some(r) if readable(&r) => Ok(Some(Article::new(r, script))),
            // A takedown is announced, not hidden (RFC 7725); the body is not shown.
            Some(r) if r.is_withdrawn_at(rc.now) => Err(AppError::UnavailableForLegalReasons).gql(),
            _ => Ok(None),
        }
    }

    /// Published articles, newest first, as a Relay connection.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Narrow the list.")] filter: Option<ArticleFilter>,
        #[graphql(desc = "Page size, 1-100, going to older articles.", default = 20)] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
        #[graphql(
            desc = "Page size, 1-100, going to newer articles (with `before`); when given, `first` is ignored."
        )]
        last: Option<i32>,
        #[graphql(desc = "Cursor of the item before which the page ends.")] before: Option<String>,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<ArticleConnection> {
        let script = RequestContext::of(ctx).choose_script(script).await.gql()?;
        article_connection(
            ctx,
            filter.unwrap_or_default(),
            first,
            after,
            last,
            before,
            script,
        )
        .await
    }
}

/// A numeric database id from a global id or a plain number.
pub fn database_id(id: &ID) -> Option<i32> {
    match decode_global(id) {
        Some((NodeKind::Article, n)) => Some(n),
        Some(_) => None,
        None => id.parse::<i32>().ok().filter(|n| *n > 0),
    }
}

/// Narrows an article list. Only public fields can be filtered on.
#[derive(Debug, Clone, InputObject)]
pub struct ArticleFilter {
    /// Section slug; its subsections are included unless `includeSubsections` is false.
    pub section: Option<String>,
    /// Whether `section` includes the sections below it.
    #[graphql(default = true)]
    pub include_subsections: bool,
    /// Source name, exactly as stored (大眾報業·經濟導報).
    pub source: Option<String>,
    /// Name of a person in the byline.
    pub contributor: Option<String>,
    /// Tag slug.
    pub tag: Option<String>,
    /// Only articles published at or after this time.
    pub published_after: Option<DateTime<FixedOffset>>,
    /// Only articles published before this time.
    pub published_before: Option<DateTime<FixedOffset>>,
    #[graphql(skip)]
    pub section_scope: Option<i32>,
}

impl Default for ArticleFilter {
    fn default() -> Self {
        ArticleFilter {
            section: None,
            include_subsections: true,
            source: None,
            contributor: None,
            tag: None,
            published_after: None,
            published_before: None,
            section_scope: None,
        }
    }
}

fn optional_page_size(value: Option<i32>, argument: &str) -> Result<Option<i64>, AppError> {
    value.map(|n| page_size(n, argument)).transpose()
}

/// Resolves a page of a public listing, shared by `articles` and `Section.articles`.
pub async fn article_connection(
    ctx: &Context<'_>,
    filter: ArticleFilter,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    script: Script,
) -> Result<ArticleConnection> {
    let rc = RequestContext::of(ctx);
    let first = optional_page_size(first, "first").gql()?;
    let last = optional_page_size(last, "last").gql()?;
    let after = after
        .map(|c| decode_cursor(&c, "after"))
        .transpose()
        .gql()?;
    let before = before
        .map(|c| decode_cursor(&c, "before"))
        .transpose()
        .gql()?;
    let mut query = PublicQuery::new(rc.now);
    let tree = rc.sections().await.gql()?;
    let mut sections: Option<Vec<i32>> = filter.section_scope.map(|id| {
        if filter.include_subsections {
            tree.subtree_ids(id)
        } else {
            vec![id]
        }
    });
    if let Some(slug) = &filter.section {
        // An unknown section is an error, as in REST and the feeds (404),
        // not an empty list that looks like a quiet section.
        let wanted = match tree.by_slug(slug) {
            Some(s) if filter.include_subsections => tree.subtree_ids(s.id),
            Some(s) => vec![s.id],
            None => return Err(AppError::NotFound).gql(),
        };
        sections = Some(match sections {
            Some(scope) => scope.into_iter().filter(|id| wanted.contains(id)).collect(),
            None => wanted,
        });
    }
    query.section_ids = sections;
    query.source_name = filter.source;
    query.contributor_name = filter.contributor;
    query.tag_slug = filter.tag;
    query.published_after = filter.published_after.map(|t| to_db_time(t.to_utc()));
    query.published_before = filter.published_before.map(|t| to_db_time(t.to_utc()));

    let (direction, from, size) = match last {
        Some(n) => (Direction::Newer, before, n),
        None => (
            Direction::Older,
            after,
            first.unwrap_or(DEFAULT_PAGE as i64),
        ),
    };
    let q = query.clone();
    let look = ctx.look_ahead();
    let prefetch = Prefetch::of(&[look.field("edges").field("node"), look.field("nodes")]);
    let (mut rows, prefetched) = rc
        .db
        .run(move |conn| {
            let rows = articles::list_public(conn, &q, from, direction, size + 1)?;
            let prefetched = prefetch.load(conn, &rows)?;
            Ok((rows, prefetched))
        })
        .await
        .gql()?;
    prefetched.feed(rc).await;
    for r in &rows {
        rc.tag(CacheKey::Article(r.id));
    }
    match filter.section_scope {
        Some(id) => rc.tag(CacheKey::Section(id)),
        None => rc.tag(CacheKey::Articles),
    }
    let more = rows.len() as i64 > size;
    if more {
        match direction {
            // Newest first either way: the extra row is the oldest going
            // forward and the newest going back.
            Direction::Older => {
                rows.pop();
            }
            Direction::Newer => {
                rows.remove(0);
            }
        }
    }
    let (has_next, has_previous) = match direction {
        Direction::Older => (more, from.is_some()),
        Direction::Newer => (from.is_some(), more),
    };
    Ok(ArticleConnection {
        rows: rows.into_iter().map(Arc::new).collect(),
        has_next,
        has_previous,
        query,
        script,
    })
}

/// A page of articles.
pub struct ArticleConnection {
    rows: Vec<Arc<ArticleRow>>,
    has_next: bool,
    has_previous: bool,
    query: PublicQuery,
    script: Script,
}

fn cursor_of(row: &ArticleRow) -> String {
    encode_cursor(Position {
        published_at: row.published_at.unwrap_or(row.created_at),
        id: row.id,
    })
}

/// A page of articles (Relay connection), newest first.
#[Object]
impl ArticleConnection {
    /// The articles with their cursors.
    async fn edges(&self) -> Vec<ArticleEdge> {
        self.rows
            .iter()
            .map(|row| ArticleEdge {
                cursor: cursor_of(row),
                node: Article::new(row.clone(), self.script),
            })
            .collect()
    }
    /// The articles alone.
    async fn nodes(&self) -> Vec<Article> {
        self.rows
            .iter()
            .map(|row| Article::new(row.clone(), self.script))
            .collect()
    }
    /// Where this page stands in the whole list.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: self.has_previous,
            start_cursor: self.rows.first().map(|r| cursor_of(r)),
            end_cursor: self.rows.last().map(|r| cursor_of(r)),
        }
    }
    /// How many articles the whole list holds (one extra query, only when asked).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let q = self.query.clone();
        RequestContext::of(ctx)
            .db
            .run(move |conn| articles::count_public(conn, &q))
            .await
            .gql()
    }
}

/// An article and its cursor.
pub struct ArticleEdge {
    cursor: String,
    node: Article,
}

/// One article of a page, with its cursor.
#[Object]
impl ArticleEdge {
    /// Opaque position of this article in the list; pass it as `after` or `before`.
    async fn cursor(&self) -> &str {
        &self.cursor
    }
    /// The article.
    async fn node(&self) -> &Article {
        &self.node
    }
}

/// Relay page information.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// More items follow (older, when paging with `first`).
    pub has_next_page: bool,
    /// Items come before this page (newer, when paging with `last`;
    /// when paging with `first`, true whenever `after` was given).
    pub has_previous_page: bool,
    /// Cursor of the first item.
    pub start_cursor: Option<String>,
    /// Cursor of the last item.
    pub end_cursor: Option<String>,
}

/// One stored version of an article.
#[derive(SimpleObject)]
pub struct ArticleRevision {
    /// Its number.
    pub revision: i32,
    /// The title at that revision.
    pub title: String,
    /// The status at that revision (`draft`, `published` …).
    pub status: String,
    /// When it was made.
    pub created_at: DateTime<FixedOffset>,
}

/// A person credited on an article.
#[derive(SimpleObject)]
pub struct Credit {
    /// The person's name.
    pub name: String,
    /// What they did.
    pub role: CreditRole,
}

/// Where an article comes from. `owned` sources are the site's own outlets:
/// their articles are original work; others are reprints.
#[derive(SimpleObject)]
pub struct Source {
    /// Name of the outlet (大眾報業·經濟導報, 新華社 …).
    pub name: String,
    /// Whether the site holds the rights.
    pub owned: bool,
}

/// A news article.
pub struct Article {
    row: Arc<ArticleRow>,
    script: Script,
}

impl Article {
    pub fn new(row: Arc<ArticleRow>, script: Script) -> Self {
        Article { row, script }
    }

    /// Body text, converted from the article's stored script.
    fn text(&self, ctx: &Context<'_>, value: &str) -> String {
        RequestContext::of(ctx).convert(value, stored_script(&self.row.script), self.script)
    }

    /// A headline or summary: one variant throughout the response.
    fn line(&self, ctx: &Context<'_>, value: &str) -> String {
        RequestContext::of(ctx).line(value, self.script)
    }

    async fn credits(&self, ctx: &Context<'_>) -> Result<Vec<crate::db::contributors::CreditRow>> {
        Ok(RequestContext::of(ctx)
            .credits
            .load_one(self.row.id)
            .await
            .gql()?
            .unwrap_or_default())
    }

    async fn owned(&self, ctx: &Context<'_>) -> Result<bool> {
        let source = match self.row.source_id {
            Some(id) => RequestContext::of(ctx).sources.load_one(id).await.gql()?,
            None => None,
        };
        Ok(crate::read::owned(source.as_ref()))
    }
}

/// A news article as readers see it: headline, body, byline, source and the
/// copyright notice in force, in the script asked for. Cache it by `id` and
/// `script` together.
#[Object]
impl Article {
    /// The script this object's text is written in, as asked (`ORIGINAL`:
    /// as stored). Part of its cache identity: one object asked in two
    /// scripts is two objects to a normalised client cache (Apollo
    /// `keyFields: ["id", "script"]`, urql Graphcache `keys`).
    async fn script(&self) -> Script {
        self.script
    }
    /// Global id, for `node(id:)`.
    pub async fn id(&self) -> ID {
        encode_global(NodeKind::Article, self.row.id)
    }
    /// The stable numeric id used in URLs and REST routes.
    async fn database_id(&self) -> i32 {
        self.row.id
    }
    /// URL-safe name; cosmetic, since URLs route by id.
    async fn slug(&self) -> &str {
        self.row.shown_slug()
    }
    /// Headline.
    async fn title(&self, ctx: &Context<'_>) -> String {
        self.line(ctx, &self.row.title)
    }
    /// The original title of a reprint, when the site changed it.
    async fn original_title(&self, ctx: &Context<'_>) -> Option<String> {
        self.row
            .original_title
            .as_deref()
            .map(|t| self.line(ctx, t))
    }
    /// Short summary (at most 120 characters, never cut inside a word or number).
    async fn summary(&self, ctx: &Context<'_>) -> String {
        self.line(ctx, &self.row.summary)
    }
    /// Body paragraphs in order, plain text.
    async fn paragraphs(&self, ctx: &Context<'_>) -> Vec<String> {
        self.row
            .paragraphs()
            .iter()
            .map(|p| self.text(ctx, p))
            .collect()
    }
    /// The whole body as plain text, paragraphs separated by a blank line.
    async fn body_text(&self, ctx: &Context<'_>) -> String {
        self.text(ctx, &self.row.paragraphs().join("\n\n"))
    }
    /// The section the article belongs to.
    async fn section(&self, ctx: &Context<'_>) -> Result<Option<Section>> {
        let tree = RequestContext::of(ctx).sections().await.gql()?;
        Ok(tree
            .get(self.row.section_id)
            .map(|row| Section::new(row, self.script)))
    }
    /// The article's section and those above it, root first (山東財經網 >> 臨沂 shows [臨沂]).
    async fn breadcrumb(&self, ctx: &Context<'_>) -> Result<Vec<Section>> {
        let tree = RequestContext::of(ctx).sections().await.gql()?;
        Ok(tree
            .breadcrumb(self.row.section_id)
            .into_iter()
            .map(|row| Section::new(row, self.script))
            .collect())
    }
    /// Where the article comes from.
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Source>> {
        let Some(source_id) = self.row.source_id else {
            return Ok(None);
        };
        let rc = RequestContext::of(ctx);
        let Some(row) = rc.sources.load_one(source_id).await.gql()? else {
            return Ok(None);
        };
        Ok(Some(Source {
            name: rc.site_text(&row.name, self.script).await.gql()?,
            owned: row.owned,
        }))
    }
    /// Reporters, correspondents and photographers, in byline order.
    async fn byline(&self, ctx: &Context<'_>) -> Result<Vec<Credit>> {
        let rc = RequestContext::of(ctx);
        let credits = self.credits(ctx).await?;
        Ok(crate::read::byline(&credits)
            .0
            .into_iter()
            .map(|c| Credit {
                name: rc.line(&c.name, self.script),
                role: c.role,
            })
            .collect())
    }
    /// The responsible editor (編輯), shown publicly as the rules require.
    async fn editor(&self, ctx: &Context<'_>) -> Result<Option<Credit>> {
        let rc = RequestContext::of(ctx);
        let credits = self.credits(ctx).await?;
        Ok(crate::read::byline(&credits).1.map(|c| Credit {
            name: rc.line(&c.name, self.script),
            role: c.role,
        }))
    }
    /// When it went live, in the site's time zone (RFC 3339, +08:00).
    async fn published_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<FixedOffset>>> {
        match self.row.published_at {
            Some(t) => Ok(Some(RequestContext::of(ctx).local_time(t).await.gql()?)),
            None => Ok(None),
        }
    }
    /// Last change, in the site's time zone.
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime<FixedOffset>> {
        RequestContext::of(ctx)
            .local_time(self.row.updated_at)
            .await
            .gql()
    }
    /// Revision number; every edit adds one.
    async fn revision(&self) -> i32 {
        self.row.revision
    }
    /// Where the article is in its life (public readers only ever see PUBLISHED).
    async fn status(&self, ctx: &Context<'_>) -> Result<ArticleStatus> {
        if self.row.is_public_at(RequestContext::of(ctx).now) {
            return Ok(ArticleStatus::Published);
        }
        self.row.status().gql()
    }
    /// Every stored revision, newest first; null unless the caller may edit
    /// the article or read every draft.
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Option<Vec<ArticleRevision>>> {
        let rc = RequestContext::of(ctx);
        let allowed = rc.credentials.may(Action::ReadAnyDraft)
            || rc.credentials.may(Action::EditAnyArticle)
            || rc
                .credentials
                .staff()
                .is_some_and(|s| self.row.owner_id == Some(s.user_id));
        if !allowed {
            return Ok(None);
        }
        let id = self.row.id;
        let rows = rc
            .db
            .run(move |conn| article_writes::revisions(conn, id))
            .await
            .gql()?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(ArticleRevision {
                revision: r.revision,
                title: r.title,
                status: r.status,
                created_at: rc.local_time(r.created_at).await.gql()?,
            });
        }
        Ok(Some(out))
    }
    /// The notice in force for this article: ORIGINAL for the site's own
    /// sources, REPRINT otherwise, with the removal terms.
    async fn copyright_notice(&self, ctx: &Context<'_>) -> Result<CopyrightNotice> {
        let rc = RequestContext::of(ctx);
        let kind = crate::read::notice_kind(self.owned(ctx).await?);
        let notices = rc.notices().await.gql()?;
        let at = self.row.published_at.unwrap_or(rc.now);
        Ok(CopyrightNotice::new(
            kind,
            in_force(&notices, kind, at).cloned(),
            in_force(&notices, NoticeKind::Removal, at).cloned(),
            self.script,
        ))
    }
    /// Other published articles to read next: first those editors pinned
    /// (`setRelatedArticles`), then those sharing the most distinctive terms
    /// (same section weighs more), then the newest of the same section.
    /// Never this article, never a hidden one.
    #[graphql(complexity = "page_complexity(first, None, child_complexity)")]
    async fn related(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many, 0-100.", default = 5)] first: Option<i32>,
    ) -> Result<Vec<Article>> {
        let rc = RequestContext::of(ctx);
        let size = optional_page_size(first, "first").gql()?.unwrap_or(5) as usize;
        let section_id = self.row.section_id;
        let now = rc.now;
        let row = self.row.clone();
        let rows = rc
            .db
            .run(move |conn| crate::read::related(conn, &row, now, size))
            .await
            .gql()?;
        for r in &rows {
            rc.tag(CacheKey::Article(r.id));
        }
        rc.tag(CacheKey::Section(section_id));
        Ok(rows
            .into_iter()
            .map(|row| Article::new(Arc::new(row), self.script))
            .collect())
    }
    /// Canonical URL on the public site.
    async fn url(&self, ctx: &Context<'_>) -> String {
        let base = &RequestContext::of(ctx).state.config.public_base_url;
        crate::read::article_url(base, &self.row)
    }
}
