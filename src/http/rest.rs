//! The JSON routes under `/v1`, for mobile apps and partners: compact field
//! names, cursor pagination, the same visibility and `script` rules as
//! GraphQL. The OpenAPI document at `/v1/openapi.json` is generated from
//! these types and checked in as `openapi.json`.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::bodies::{ErrorBody, ErrorDetail};
use super::script::request_script;
use super::AppState;
use crate::db::articles::{self, ArticleRow, Columns, Direction, Position, PublicQuery, Tombstone};
use crate::db::notices;
use crate::db::{self, contributors, recommendations, sections, site, sources, AnyConnection};
use crate::domain::cache_key::{surrogate_keys, CacheKey};
use crate::domain::CreditRole;
use crate::error::AppError;
use crate::graphql::{RemovedArticle, Script, SectionTree, Shared};
use crate::read::seo::{self, SeoFacts, SeoView};
use crate::read::{self, ArticleFacts, ArticleView, Voice};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/articles", web::get().to(list_articles))
        .route("/v1/articles/{key}", web::get().to(article))
        .route("/v1/articles/{key}/", web::get().to(article))
        .route("/v1/sections", web::get().to(list_sections))
        .route("/v1/site", web::get().to(get_site))
        .route(
            "/v1/recommendations/{list}",
            web::get().to(get_recommendations),
        )
        .route("/v1/removed", web::get().to(removed));
}

/// 451: what remains of a withdrawn article.
#[derive(Serialize, ToSchema)]
pub struct TombstoneBody {
    pub error: ErrorDetail,
    pub tombstone: RemovedArticleView,
}

/// A withdrawn article.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemovedArticleView {
    pub database_id: i32,
    pub withdrawn_at: DateTime<FixedOffset>,
    /// `TAKEDOWN` or `WITHDRAWN`.
    pub reason_code: String,
    /// The oldest takedown request holding it (`TD-12`).
    pub request_reference: Option<String>,
    /// Every takedown request holding it, oldest first.
    pub request_references: Vec<String>,
}

impl From<RemovedArticle> for RemovedArticleView {
    fn from(r: RemovedArticle) -> Self {
        RemovedArticleView {
            database_id: r.database_id,
            withdrawn_at: r.withdrawn_at,
            reason_code: r.reason_code,
            request_reference: r.request_reference,
            request_references: r.request_references,
        }
    }
}

/// An article in a list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArticleSummary {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Section slug.
    pub section: String,
    /// Section name, in the requested script.
    pub section_name: String,
    pub source: Option<String>,
    /// Whether the site owns the rights (original work).
    pub owned: bool,
    /// Reporters, correspondents, photographers, with their roles.
    pub byline: Vec<CreditView>,
    /// The byline's names alone.
    pub authors: Vec<String>,
    /// The responsible editor (編輯).
    pub editor: Option<String>,
    #[serde(serialize_with = "super::json_time::rfc3339_or_null")]
    pub published_at: Option<DateTime<FixedOffset>>,
    #[serde(serialize_with = "super::json_time::rfc3339")]
    pub updated_at: DateTime<FixedOffset>,
    pub revision: i32,
    pub url: String,
}

/// A credited person.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditView {
    pub name: String,
    /// `REPORTER`, `CORRESPONDENT`, `PHOTOGRAPHER` or `EDITOR`, as in GraphQL.
    pub role: String,
}

/// A page of articles, newest first.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArticlePage {
    pub items: Vec<ArticleSummary>,
    /// Pass as `cursor` for the next (older) page; null at the end.
    pub next_cursor: Option<String>,
}

/// The copyright notice in force for an article.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    /// `ORIGINAL` or `REPRINT`, as in GraphQL.
    pub kind: String,
    pub text: String,
    pub removal_terms: Option<String>,
    /// Days after publication within which removal requests are expected.
    pub removal_window_days: Option<i32>,
}

/// One article with its body.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArticleDetail {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// The body's prose as plain paragraphs (see `body` for everything).
    pub paragraphs: Vec<String>,
    /// The body as typed blocks, tagged by `type`.
    pub body: Vec<crate::body::Block>,
    /// The body as sanitised HTML rendered from the blocks (class names as
    /// in GraphQL's `Article.bodyHtml`).
    pub body_html: String,
    /// The picture shown with the article.
    pub lead_image: Option<super::media::MediaView>,
    pub copyright_notice: Notice,
    /// Other public articles to read next, as in GraphQL's `related(first: 5)`.
    pub related: Vec<ArticleSummary>,
    /// What the page's head shows, as GraphQL's `Article.seo`.
    pub seo: crate::read::seo::SeoView,
    /// schema.org `NewsArticle` JSON-LD, as GraphQL's `Article.jsonLd` (an
    /// object here: serialise it with `<` escaped before putting it in a page).
    #[schema(value_type = Object)]
    pub json_ld: serde_json::Value,
}

/// A section.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SectionView {
    pub id: i32,
    pub slug: String,
    pub name: String,
    /// `topic` or `region`.
    pub kind: String,
    pub parent_id: Option<i32>,
    pub position: i32,
    pub in_navigation: bool,
}

/// The site's identity and footer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiteView {
    pub name: String,
    pub copyright_holder: String,
    pub address: String,
    pub postcode: String,
    pub email: String,
    pub icp_filing: String,
    pub news_service_filing: String,
    pub complaint_phone: String,
    pub complaint_email: String,
    pub time_zone: String,
    /// The site's logo (an absolute URL); null when none is set.
    pub logo_url: Option<String>,
}

/// An entry of a curated list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecommendationView {
    pub headline: String,
    pub url: Option<String>,
    pub article_id: Option<i32>,
}

/// Withdrawn articles.
#[derive(Serialize, ToSchema)]
pub struct RemovedPage {
    pub items: Vec<RemovedArticleView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListParams {
    /// Section slug (its subsections included).
    #[param(nullable = false)]
    section: Option<String>,
    /// `nextCursor` of the previous page.
    #[param(nullable = false)]
    cursor: Option<String>,
    /// 1-100, default 20.
    #[param(nullable = false, minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `hans`, `hant`, `hant-tw`, `hant-hk` or `original`.
    #[param(nullable = false)]
    script: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ScriptParam {
    /// `hans`, `hant`, `hant-tw`, `hant-hk` or `original`.
    #[param(nullable = false)]
    script: Option<String>,
}

/// The read model's voice for a response, and the site row it speaks for.
pub(super) async fn writer<'a>(
    state: &'a AppState,
    script: Script,
) -> Result<(Voice<'a>, Arc<site::SiteRow>), AppError> {
    let row = site_row(state).await?;
    Ok((Voice::new(&state.converter, script, &row), row))
}

/// The site's settings, kept between requests as GraphQL keeps them (see
/// `graphql::SiteSnapshots`) until a write changes them.
pub(super) async fn site_row(state: &AppState) -> Result<Arc<site::SiteRow>, AppError> {
    // The clock is read before a replica is chosen: one chosen as current
    // before a write cannot vouch for a snapshot stamped after it.
    let (clock, ttl) = (&state.clock, state.snapshot_ttl());
    state
        .site
        .settings
        .get_or_read(clock, ttl, || async {
            state.db.reader().await.run(site::load).await
        })
        .await
}

/// `public` plus the `Content-Language` of the text sent.
fn public_in(
    state: &AppState,
    response: &mut actix_web::HttpResponseBuilder,
    keys: &[CacheKey],
    languages: &[&'static str],
) {
    public(state, response, keys);
    let mut tags: Vec<&str> = languages.to_vec();
    tags.sort_unstable();
    tags.dedup();
    if !tags.is_empty() {
        response.insert_header((header::CONTENT_LANGUAGE, tags.join(", ")));
    }
}

/// Rows and what they need, loaded with a fixed number of queries.
pub(super) struct Loaded {
    pub(super) rows: Vec<ArticleRow>,
    credits: HashMap<i32, Vec<contributors::CreditRow>>,
    sources: HashMap<i32, sources::SourceRow>,
    sections: Arc<SectionTree>,
    notices: Arc<Vec<notices::NoticeRow>>,
}

/// What the read model needs beside `rows`: their sources (one statement
/// when any has one), and the section tree and notices from the site's
/// snapshots, which GraphQL reads keep too.
pub(super) fn load_related(
    conn: &mut AnyConnection,
    site: &Shared,
    rows: Vec<ArticleRow>,
) -> Result<Loaded, AppError> {
    let credits = articles::credits_by_article(&rows);
    let source_ids: Vec<i32> = rows.iter().filter_map(|r| r.source_id).collect();
    let sources = if source_ids.is_empty() {
        HashMap::new()
    } else {
        sources::by_ids(conn, &source_ids)?
            .into_iter()
            .map(|s| (s.id, s))
            .collect()
    };
    Ok(Loaded {
        sources,
        sections: site.sections_on(conn)?,
        notices: site.notices_on(conn)?,
        credits,
        rows,
    })
}

impl Loaded {
    /// The read model's view of one of the loaded rows.
    fn view(&self, voice: &Voice<'_>, row: &ArticleRow, base: &str) -> ArticleView {
        let facts = ArticleFacts {
            row,
            credits: self.credits.get(&row.id).map(Vec::as_slice).unwrap_or(&[]),
            source: row.source_id.and_then(|id| self.sources.get(&id)),
            section: self.sections.row(row.section_id),
            notices: &self.notices,
        };
        ArticleView::new(voice, &facts, base, db::now())
    }
}

fn role_name(role: CreditRole) -> String {
    role.as_str().to_ascii_uppercase()
}

fn summary_of(view: ArticleView) -> ArticleSummary {
    ArticleSummary {
        authors: view.authors(),
        id: view.id,
        slug: view.slug,
        title: view.title,
        summary: view.summary,
        section: view.section_slug,
        section_name: view.section_name,
        source: view.source,
        owned: view.owned,
        byline: view
            .byline
            .into_iter()
            .map(|c| CreditView {
                name: c.name,
                role: role_name(c.role),
            })
            .collect(),
        editor: view.editor.map(|c| c.name),
        published_at: view.published_at,
        updated_at: view.updated_at,
        revision: view.revision,
        url: view.url,
    }
}

pub(super) fn summary(
    state: &AppState,
    voice: &Voice<'_>,
    l: &Loaded,
    row: &ArticleRow,
) -> ArticleSummary {
    summary_of(l.view(voice, row, &state.config.public_base_url))
}

pub(super) fn public(
    state: &AppState,
    response: &mut actix_web::HttpResponseBuilder,
    keys: &[CacheKey],
) {
    response
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.config.cache_max_age),
        ))
        .insert_header(("Surrogate-Key", surrogate_keys(keys)));
}

/// A `limit` query parameter: 1-100, 20 when absent.
pub(super) fn limit_param(value: Option<i64>) -> Result<i64, AppError> {
    let limit = value.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(AppError::BadInput(
            "limit: must be between 1 and 100".into(),
        ));
    }
    Ok(limit)
}

/// The ids of a section (by slug) and its subsections; `None` without a slug.
pub(super) fn section_scope(
    conn: &mut AnyConnection,
    site: &Shared,
    slug: Option<&str>,
) -> Result<Option<(i32, Vec<i32>)>, AppError> {
    let Some(slug) = slug else {
        return Ok(None);
    };
    let tree = site.sections_on(conn)?;
    let root = tree
        .rows()
        .find(|s| s.slug == slug)
        .ok_or(AppError::NotFound)?;
    Ok(Some((
        root.id,
        sections::subtree_ids(&sections::links(tree.rows()), root.id),
    )))
}

/// Published articles, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/articles", params(ListParams),
    responses((status = 200, description = "A page of articles", body = ArticlePage),
        (status = 400, description = "A bad parameter or cursor", body = ErrorBody),
        (status = 404, description = "No section has this slug", body = ErrorBody)))]
pub(super) async fn list_articles(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, AppError> {
    let params = params.into_inner();
    let script = request_script(&req, params.script.as_deref())?;
    let limit = limit_param(params.limit)?;
    let from = params
        .cursor
        .as_deref()
        .map(|c| crate::graphql::decode_cursor(c, "cursor"))
        .transpose()?;
    let now = db::now();
    let section = params.section.clone();
    let site = state.shared().clone();
    let loaded = state
        .db
        .reader()
        .await
        .run(move |conn| {
            let mut query = PublicQuery::new(now);
            if let Some((root, ids)) = section_scope(conn, &site, section.as_deref())? {
                query.subtree_of = Some(root);
                query.section_ids = Some(ids);
            }
            let rows = articles::list_public(
                conn,
                &query,
                from,
                Direction::Older,
                limit + 1,
                Columns::Whole,
            )?;
            load_related(conn, &site, rows)
        })
        .await?;
    let (w, _) = writer(&state, script).await?;
    let more = loaded.rows.len() as i64 > limit;
    let shown = &loaded.rows[..loaded.rows.len().min(limit as usize)];
    let next_cursor = if more {
        shown.last().map(|r| {
            crate::graphql::encode_cursor(Position {
                published_at: r.published_at.unwrap_or(r.created_at),
                id: r.id,
            })
        })
    } else {
        None
    };
    let base = &state.config.public_base_url;
    let views: Vec<ArticleView> = shown.iter().map(|r| loaded.view(&w, r, base)).collect();
    let mut languages: Vec<&'static str> = views.iter().map(|v| v.language).collect();
    languages.push(w.site_language());
    let items: Vec<ArticleSummary> = views.into_iter().map(summary_of).collect();
    let mut keys: Vec<CacheKey> = items.iter().map(|i| CacheKey::Article(i.id)).collect();
    keys.push(CacheKey::Articles);
    let mut response = HttpResponse::Ok();
    public_in(&state, &mut response, &keys, &languages);
    Ok(response.json(ArticlePage { items, next_cursor }))
}

/// One public article by id or slug; 451 with a tombstone when withdrawn.
#[utoipa::path(get, path = "/v1/articles/{key}", params(("key" = String, Path, description = "Numeric id or slug"), ScriptParam),
    responses(
        (status = 200, description = "The article", body = ArticleDetail, headers(
            ("Last-Modified" = String, description = "When it last changed (sent once that second is over)"))),
        (status = 400, description = "A bad parameter", body = ErrorBody),
        (status = 404, description = "No such public article", body = ErrorBody),
        (status = 451, description = "Withdrawn for legal reasons", body = TombstoneBody, headers(
            ("Link" = String, description = "`<…/takedowns/TD-n>; rel=\"blocked-by\"` when a request holds it")))))]
pub(super) async fn article(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    params: web::Query<ScriptParam>,
) -> Result<HttpResponse, AppError> {
    let script = request_script(&req, params.script.as_deref())?;
    let key = key.into_inner();
    let now = db::now();
    let site = state.shared().clone();
    let (loaded, tombstone, related) = state
        .db
        .reader()
        .await
        .run(move |conn| {
            let row = match key.parse::<i32>() {
                Ok(id) => articles::by_ids(conn, &[id])?.into_iter().next(),
                Err(_) => articles::by_slug(conn, key.trim_end_matches('/'))?,
            };
            let tombstone = match &row {
                Some(r) if r.is_withdrawn_at(now) => articles::tombstone(conn, r)?,
                _ => None,
            };
            let related = match &row {
                Some(r) if r.is_public_at(now) => {
                    let rows = read::related(conn, r, now, RELATED)?;
                    load_related(conn, &site, rows)?
                }
                _ => load_related(conn, &site, vec![])?,
            };
            Ok((
                load_related(conn, &site, row.into_iter().collect())?,
                tombstone,
                related,
            ))
        })
        .await?;
    let (w, site) = writer(&state, script).await?;
    let Some(row) = loaded.rows.first() else {
        return Err(AppError::NotFound);
    };
    if let Some(t) = tombstone {
        return Ok(unavailable(&state, &t, &w));
    }
    if !row.is_public_at(now) {
        return Err(AppError::NotFound);
    }
    let base = &state.config.public_base_url;
    let view = loaded.view(&w, row, base);
    let language = view.language;
    let notice = Notice {
        kind: view.notice.kind.as_str().to_ascii_uppercase(),
        text: view.notice.text.clone(),
        removal_terms: view.notice.removal_terms.clone(),
        removal_window_days: view.notice.removal_window_days,
    };
    let mut body = read::body(&w, row);
    let mut wanted: Vec<String> = body.media().into_iter().map(str::to_string).collect();
    wanted.extend(row.lead_media_id.clone());
    let pictures = if wanted.is_empty() {
        crate::media::Pictures::default()
    } else {
        crate::media::Pictures::of(
            state
                .db
                .run(move |conn| crate::db::media::by_ids(conn, &wanted))
                .await?,
        )
    };
    pictures.withhold(&mut body);
    let lead = row.lead_media_id.as_ref().and_then(|id| pictures.shown(id));
    let body_html = crate::body::to_html_with(&body, &|id| pictures.html(id, base));
    let facts = SeoFacts {
        view: &view,
        row,
        site: &site,
        base_url: base,
        lead: lead.map(|m| seo::card_image(m, base, &|t| w.line(t))),
        source_url: row
            .source_id
            .and_then(|id| loaded.sources.get(&id))
            .and_then(|s| s.url.as_deref()),
    };
    let head = SeoView::new(&w, &facts);
    let json_ld = seo::json_ld(&w, &facts, &head);
    let detail = ArticleDetail {
        seo: head,
        json_ld,
        lead_image: lead.map(|m| super::media::MediaView::of(m, base, &|t| w.line(t))),
        paragraphs: body.paragraphs(),
        body_html,
        body: body.0,
        copyright_notice: notice,
        related: related
            .rows
            .iter()
            .map(|r| summary(&state, &w, &related, r))
            .collect(),
        summary: summary_of(view),
    };
    let mut keys = vec![CacheKey::Article(row.id)];
    keys.extend(related.rows.iter().map(|r| CacheKey::Article(r.id)));
    keys.push(CacheKey::Section(row.section_id));
    // The page head names the site, its logo and its copyright holder.
    keys.push(CacheKey::Site);
    let mut response = HttpResponse::Ok();
    public_in(&state, &mut response, &keys, &[language]);
    if let Some(date) = super::conditional::last_modified(w.time(row.updated_at), Utc::now()) {
        response.insert_header((header::LAST_MODIFIED, date));
    }
    Ok(response.json(detail))
}

/// How many related articles an article carries over REST.
const RELATED: usize = 5;

/// 451 (RFC 7725) with a small tombstone: no title, no body.
fn unavailable(state: &AppState, t: &Tombstone, w: &Voice<'_>) -> HttpResponse {
    let removed = RemovedArticle::from_tombstone(t, w.time(t.withdrawn_at));
    let mut response = HttpResponse::UnavailableForLegalReasons();
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(reference) = &removed.request_reference {
        response.insert_header((
            header::LINK,
            format!(
                "<{}/takedowns/{reference}>; rel=\"blocked-by\"",
                state.config.public_base_url
            ),
        ));
    }
    response.json(TombstoneBody {
        error: ErrorDetail {
            code: "UNAVAILABLE_FOR_LEGAL_REASONS".into(),
            message: "withdrawn for legal reasons".into(),
        },
        tombstone: removed.into(),
    })
}

/// Every section, in navigation order.
#[utoipa::path(get, path = "/v1/sections", params(ScriptParam),
    responses((status = 200, description = "Every section", body = [SectionView]),
        (status = 400, description = "A bad parameter", body = ErrorBody)))]
pub(super) async fn list_sections(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ScriptParam>,
) -> Result<HttpResponse, AppError> {
    let script = request_script(&req, params.script.as_deref())?;
    let rows = state.db.reader().await.run(sections::all).await?;
    let (w, _) = writer(&state, script).await?;
    let items: Vec<SectionView> = rows
        .into_iter()
        .map(|s| SectionView {
            id: s.id,
            name: w.line(&s.name),
            slug: s.slug,
            kind: s.kind,
            parent_id: s.parent_id,
            position: s.position,
            in_navigation: s.in_navigation,
        })
        .collect();
    let mut response = HttpResponse::Ok();
    public_in(
        &state,
        &mut response,
        &[CacheKey::Sections],
        &[w.site_language()],
    );
    Ok(response.json(items))
}

/// The site's identity and footer facts.
#[utoipa::path(get, path = "/v1/site", params(ScriptParam),
    responses((status = 200, description = "The site", body = SiteView),
        (status = 400, description = "A bad parameter", body = ErrorBody)))]
pub(super) async fn get_site(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ScriptParam>,
) -> Result<HttpResponse, AppError> {
    let script = request_script(&req, params.script.as_deref())?;
    let (w, row) = writer(&state, script).await?;
    let view = SiteView {
        name: w.line(&row.name),
        copyright_holder: w.line(&row.copyright_holder),
        address: w.line(&row.address),
        postcode: row.postcode.clone(),
        email: row.email.clone(),
        // Filing numbers are identifiers: printed as registered.
        icp_filing: row.icp_filing.clone(),
        news_service_filing: row.news_service_filing.clone(),
        complaint_phone: row.complaint_phone.clone(),
        complaint_email: row.complaint_email.clone(),
        time_zone: row.time_zone.clone(),
        logo_url: Some(row.logo_url.clone()).filter(|u| !u.is_empty()),
    };
    let mut response = HttpResponse::Ok();
    public_in(
        &state,
        &mut response,
        &[CacheKey::Site],
        &[w.site_language()],
    );
    Ok(response.json(view))
}

/// A curated list; items whose article is not public are left out.
#[utoipa::path(get, path = "/v1/recommendations/{list}", params(("list" = String, Path, description = "List name, e.g. home"), ScriptParam),
    responses((status = 200, description = "The list's public items (empty for an unknown list)", body = [RecommendationView]),
        (status = 400, description = "A bad parameter", body = ErrorBody)))]
pub(super) async fn get_recommendations(
    req: HttpRequest,
    state: web::Data<AppState>,
    list: web::Path<String>,
    params: web::Query<ScriptParam>,
) -> Result<HttpResponse, AppError> {
    let script = request_script(&req, params.script.as_deref())?;
    let list = list.into_inner();
    let name = list.clone();
    let now = db::now();
    let (items, visible) = state
        .db
        .reader()
        .await
        .run(move |conn| {
            let items = recommendations::items(conn, &name)?;
            let ids: Vec<i32> = items.iter().filter_map(|i| i.article_id).collect();
            let visible: Vec<i32> = articles::by_ids(conn, &ids)?
                .into_iter()
                .filter(|a| a.is_public_at(now))
                .map(|a| a.id)
                .collect();
            Ok((items, visible))
        })
        .await?;
    let (w, _) = writer(&state, script).await?;
    let base = &state.config.public_base_url;
    let views: Vec<RecommendationView> = items
        .into_iter()
        .filter(|i| i.article_id.is_none_or(|id| visible.contains(&id)))
        .map(|i| RecommendationView {
            headline: w.line(&i.headline),
            url: i
                .url
                .clone()
                .or_else(|| i.article_id.map(|id| format!("{base}/a/{id}"))),
            article_id: i.article_id,
        })
        .collect();
    let mut keys: Vec<CacheKey> = visible.iter().map(|id| CacheKey::Article(*id)).collect();
    keys.push(CacheKey::List(list));
    let mut response = HttpResponse::Ok();
    public_in(&state, &mut response, &keys, &[w.site_language()]);
    Ok(response.json(views))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct RemovedParams {
    /// RFC 3339 time; withdrawals at or after it.
    #[param(nullable = false)]
    since: Option<String>,
    /// 1-100, default 100.
    #[param(nullable = false, minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// Articles withdrawn since a time, oldest first, so partners can delete their copies.
#[utoipa::path(get, path = "/v1/removed", params(RemovedParams),
    responses((status = 200, description = "Withdrawn articles", body = RemovedPage),
        (status = 400, description = "A bad parameter", body = ErrorBody)))]
pub(super) async fn removed(
    state: web::Data<AppState>,
    query: web::Query<RemovedParams>,
) -> Result<HttpResponse, AppError> {
    let since = match &query.since {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|_| AppError::BadInput(format!("since: not an RFC 3339 time: {s:?}")))?
            .to_utc(),
        None => DateTime::UNIX_EPOCH,
    };
    let limit = query.limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(AppError::BadInput(
            "limit: must be between 1 and 100".into(),
        ));
    }
    let since = db::to_db_time(since);
    let rows = state
        .db
        .reader()
        .await
        .run(move |conn| articles::withdrawn_since(conn, since, limit))
        .await?;
    let (w, _) = writer(&state, Script::Original).await?;
    let items = rows
        .iter()
        .map(|t| RemovedArticle::from_tombstone(t, w.time(t.withdrawn_at)).into())
        .collect();
    let mut response = HttpResponse::Ok();
    public(&state, &mut response, &[CacheKey::Removed]);
    Ok(response.json(RemovedPage { items }))
}
