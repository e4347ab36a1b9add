use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, FixedOffset};

use super::context::{stored_script, RequestContext};
use super::ids::{decode_global, encode_global, NodeKind};
use super::limits::{optional_page_size, page_complexity};
use super::loaders::Prefetch;
use super::notices::CopyrightNotice;
use super::script::Script;
use super::sections::Section;
use crate::auth::policy::Action;
use crate::db::article_writes;
use crate::db::articles::{self, ArticleRow, Columns};
use crate::db::async_reads;
use crate::db::notices::in_force;
use crate::domain::{ArticleStatus, CacheKey, CreditRole, NoticeKind};
use crate::error::{AppError, GqlResultExt};

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
        let Some(key) = ArticleKey::of(id, slug).gql()? else {
            return Ok(None);
        };
        let row = load_article(ctx, key, preview).await.gql()?;
        match &row {
            Some(r) => rc.tag(CacheKey::Article(r.id)),
            // A later publication under this key purges `articles`.
            None => rc.tag(CacheKey::Articles),
        }
        let shown = shown(rc, row, preview).gql()?;
        Ok(shown.map(|row| Article::new(row, script)))
    }
}

/// How `article` names its article.
enum ArticleKey {
    Id(i32),
    Slug(String),
}

impl ArticleKey {
    /// Exactly one of `id` and `slug`; `None` for an id that names no article.
    fn of(id: Option<ID>, slug: Option<String>) -> Result<Option<ArticleKey>, AppError> {
        match (id, slug) {
            (Some(id), None) => Ok(database_id(&id).map(ArticleKey::Id)),
            (None, Some(slug)) => Ok(Some(ArticleKey::Slug(slug))),
            _ => Err(AppError::BadInput(
                "article: give exactly one of id and slug".into(),
            )),
        }
    }
}

/// The article `key` names, and in the same trip what the selection needs
/// of it. With `preview`, a slug also finds what the caller may preview.
async fn load_article(
    ctx: &Context<'_>,
    key: ArticleKey,
    preview: bool,
) -> Result<Option<Arc<ArticleRow>>, AppError> {
    let rc = RequestContext::of(ctx);
    let prefetch = Prefetch::of(&[ctx.look_ahead()]);
    if let (ArticleKey::Slug(slug), false) = (&key, preview) {
        // The commonest cold read: without a thread hop on PostgreSQL.
        if let Some(lease) = rc.db.lease_async().await {
            let mut conn = lease?;
            if let Some(row) = async_reads::by_current_slug(&mut conn, slug).await? {
                let prefetched = prefetch
                    .load_async(&mut conn, std::slice::from_ref(&row))
                    .await?;
                drop(conn);
                prefetched.feed(rc).await;
                return Ok(Some(Arc::new(row)));
            }
        }
    }
    let viewer = super::context::viewer(&rc.credentials);
    let (row, prefetched) = rc
        .db
        .run_short(move |conn| {
            let row = match key {
                ArticleKey::Id(n) => articles::by_ids(conn, &[n])?.into_iter().next(),
                ArticleKey::Slug(slug) if preview => {
                    articles::by_slug_seen_by(conn, &slug, viewer)?
                }
                ArticleKey::Slug(slug) => articles::by_slug(conn, &slug)?,
            };
            let prefetched = prefetch.load(conn, row.as_slice())?;
            Ok((row.map(Arc::new), prefetched))
        })
        .await?;
    prefetched.feed(rc).await;
    Ok(row)
}

/// The article if the caller may see it: public, or with `preview` one the
/// caller may read. A takedown is announced, not hidden (RFC 7725); the
/// body is not shown.
fn shown(
    rc: &RequestContext,
    row: Option<Arc<ArticleRow>>,
    preview: bool,
) -> Result<Option<Arc<ArticleRow>>, AppError> {
    let readable = |r: &ArticleRow| {
        if preview {
            rc.can_read(r)
        } else {
            r.is_public_at(rc.now)
        }
    };
    match row {
        Some(r) if readable(&r) => Ok(Some(r)),
        Some(r) if r.is_withdrawn_at(rc.now) => Err(AppError::UnavailableForLegalReasons),
        _ => Ok(None),
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
    /// Whether `row` may lack its body (read by a list of headlines).
    columns: Columns,
    /// What the write that returns this object dropped from its HTML.
    warnings: Vec<crate::body::Warning>,
    /// The page head, made once for `seo` and `jsonLd` together.
    head: tokio::sync::OnceCell<Option<Box<super::seo::PageHead>>>,
}

impl Article {
    pub fn new(row: Arc<ArticleRow>, script: Script) -> Self {
        Self::listed(row, script, Columns::Whole)
    }

    /// An article of a list that read `columns` of its row.
    pub fn listed(row: Arc<ArticleRow>, script: Script, columns: Columns) -> Self {
        Article {
            row,
            script,
            columns,
            warnings: Vec::new(),
            head: tokio::sync::OnceCell::new(),
        }
    }

    /// The article as a write returns it, with what was dropped from its HTML.
    pub fn with_warnings(mut self, warnings: Vec<crate::body::Warning>) -> Self {
        self.warnings = warnings;
        self
    }

    /// The row with its body, read now if the list left it out.
    async fn whole_row(&self, ctx: &Context<'_>) -> Result<Arc<ArticleRow>> {
        if self.columns == Columns::Whole {
            return Ok(self.row.clone());
        }
        RequestContext::of(ctx)
            .articles()
            .load_one(self.row.id)
            .await
            .gql()?
            .ok_or(AppError::NotFound)
            .gql()
    }

    /// Body text, converted from the article's stored script.
    fn text(&self, ctx: &Context<'_>, value: &str) -> String {
        RequestContext::of(ctx).convert(value, stored_script(&self.row.script), self.script)
    }

    /// A headline or summary: one variant throughout the response.
    fn line(&self, ctx: &Context<'_>, value: &str) -> String {
        RequestContext::of(ctx).line(value, self.script)
    }

    /// The page head of this object's article and script, made on first use.
    async fn page_head(&self, ctx: &Context<'_>) -> Result<Option<&super::seo::PageHead>> {
        let head = self
            .head
            .get_or_try_init(|| async {
                let head = super::seo::page_head(ctx, &self.row, self.script).await?;
                Ok::<_, async_graphql::Error>(head.map(Box::new))
            })
            .await?;
        Ok(head.as_deref())
    }

    /// The credits come with the row: no statement of their own.
    async fn credits(&self, _ctx: &Context<'_>) -> Result<Vec<crate::db::contributors::CreditRow>> {
        Ok(self.row.credit_rows())
    }

    async fn owned(&self, ctx: &Context<'_>) -> Result<bool> {
        let source = match self.row.source_id {
            Some(id) => RequestContext::of(ctx).sources().load_one(id).await.gql()?,
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
    async fn paragraphs(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let row = self.whole_row(ctx).await?;
        Ok(row.paragraphs().iter().map(|p| self.text(ctx, p)).collect())
    }
    /// The body as typed blocks, in order: paragraphs with links and
    /// emphasis, headings, quotes, lists, tables, images, embeds, dividers.
    async fn body(&self, ctx: &Context<'_>) -> Result<Vec<super::body::Block>> {
        let row = self.whole_row(ctx).await?;
        let mut body = row.blocks().map_text(&|t| self.text(ctx, t));
        let ids = body.media().into_iter().map(str::to_string).collect();
        let pictures = super::body::Pictures {
            rows: super::media::images(ctx, ids).await?,
            base: RequestContext::of(ctx).state.config.public_base_url.clone(),
            script: self.script,
        };
        pictures.rows.withhold(&mut body);
        Ok(super::body::blocks(&body, &pictures))
    }
    /// The picture shown with the article (cards, feeds, social previews).
    async fn lead_image(&self, ctx: &Context<'_>) -> Result<Option<super::media::Image>> {
        let Some(id) = self.row.lead_media_id.clone() else {
            return Ok(None);
        };
        let found = RequestContext::of(ctx).media().load_one(id).await.gql()?;
        // A withheld picture is gone from the card, as from the page.
        Ok(found
            .filter(|row| !row.is_withheld())
            .map(|row| super::media::Image::new(row, ctx, self.script)))
    }
    /// The body as HTML rendered from its blocks: sanitised, with stable
    /// class names (`nd-quote`, `nd-list`, `nd-table`, `nd-image`,
    /// `nd-credit`, `nd-embed`, `nd-embed-link`).
    async fn body_html(&self, ctx: &Context<'_>) -> Result<String> {
        let row = self.whole_row(ctx).await?;
        let mut body = row.blocks().map_text(&|t| self.text(ctx, t));
        let ids = body.media().into_iter().map(str::to_string).collect();
        let pictures = super::media::images(ctx, ids).await?;
        pictures.withhold(&mut body);
        let base = &RequestContext::of(ctx).state.config.public_base_url;
        Ok(crate::body::to_html_with(&body, &|id| {
            pictures.html(id, base)
        }))
    }
    /// What a write dropped from the `bodyHtml` it was given (scripts,
    /// event attributes, unsafe links …); empty outside the answer of
    /// `createArticle` and `updateArticle`. Never stored.
    async fn body_warnings(&self) -> Vec<super::body::BodyWarning> {
        self.warnings.iter().map(Into::into).collect()
    }
    /// The whole body as plain text, paragraphs separated by a blank line.
    async fn body_text(&self, ctx: &Context<'_>) -> Result<String> {
        let row = self.whole_row(ctx).await?;
        Ok(self.text(ctx, &row.paragraphs().join("\n\n")))
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
        let Some(row) = rc.sources().load_one(source_id).await.gql()? else {
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
        let row = self.whole_row(ctx).await?;
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
    /// What the page's head shows of it in this script: title and
    /// description (editors may override them), canonical URL, `hreflang`
    /// alternates, Open Graph and Twitter card values. Null unless the
    /// article is public (a preview of a draft, a scheduled or a withdrawn
    /// article has none).
    async fn seo(&self, ctx: &Context<'_>) -> Result<Option<super::seo::ArticleSeo>> {
        let head = self.page_head(ctx).await?;
        Ok(head.map(|(seo, _)| seo.clone().into()))
    }
    /// schema.org `NewsArticle` JSON-LD in this script, as JSON text that can
    /// be put as it is inside `<script type="application/ld+json">` (`<`,
    /// `>` and `&` are `\u` escapes). Null unless the article is public.
    async fn json_ld(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let head = self.page_head(ctx).await?;
        Ok(head.map(|(_, ld)| crate::read::seo::embeddable(ld)))
    }
    /// The search-engine title an editor set; null when the headline is used.
    async fn seo_title(&self, ctx: &Context<'_>) -> Option<String> {
        self.row.seo_title.as_deref().map(|t| self.line(ctx, t))
    }
    /// The search-engine description an editor set; null when the summary is used.
    async fn seo_description(&self, ctx: &Context<'_>) -> Option<String> {
        self.row
            .seo_description
            .as_deref()
            .map(|t| self.line(ctx, t))
    }
    /// Canonical URL on the public site.
    async fn url(&self, ctx: &Context<'_>) -> String {
        let base = &RequestContext::of(ctx).state.config.public_base_url;
        crate::read::article_url(base, &self.row)
    }
}
