//! `/v1/search` and `/v1/suggest`: search for apps and partners, with the
//! same index, filters, order and visibility as GraphQL's `search`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::bodies::ErrorBody;
use super::rest::{
    limit_param, load_related, public, section_scope, summary, writer, ArticleSummary,
};
use super::script::request_script;
use super::AppState;
use crate::db;
use crate::db::articles::ArticleRow;
use crate::domain::cache_key::CacheKey;
use crate::error::AppError;
use crate::graphql::Shared;
use crate::read::{highlighted_words, Voice};
use crate::search::{self, FacetCounts};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/search", web::get().to(search_articles))
        .route("/v1/suggest", web::get().to(suggest_titles));
}

/// Query parameters of `/v1/search`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SearchParams {
    /// The query: words are ANDed, "quoted phrases", -exclusions (at most
    /// 200 characters and 32 words).
    q: String,
    /// Section slug (its subsections included).
    #[param(nullable = false)]
    section: Option<String>,
    /// Source name, exactly as stored.
    #[param(nullable = false)]
    source: Option<String>,
    /// Name of a person in the byline.
    #[param(nullable = false)]
    contributor: Option<String>,
    /// Tag slug.
    #[param(nullable = false)]
    tag: Option<String>,
    /// Published at or after: an RFC 3339 time, or a date (its start in
    /// the site's time zone).
    #[param(nullable = false)]
    from: Option<String>,
    /// Published before: an RFC 3339 time, or a date (its start in the
    /// site's time zone, so `to=2026-12-01` ends with November).
    #[param(nullable = false)]
    to: Option<String>,
    /// `relevance` (default), `newest` or `oldest`.
    #[param(nullable = false)]
    sort: Option<String>,
    /// `true` to count every hit by section and by month.
    #[param(nullable = false)]
    facets: Option<bool>,
    /// 1-100, default 20.
    #[param(nullable = false, minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `nextCursor` of the previous page.
    #[param(nullable = false)]
    cursor: Option<String>,
    /// Number of hits to skip (0-10000), when no cursor is given.
    #[param(nullable = false, minimum = 0, maximum = 10000)]
    offset: Option<i64>,
    /// `hans`, `hant`, `hant-tw`, `hant-hk` or `original`.
    #[param(nullable = false)]
    script: Option<String>,
}

/// A search hit.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchItem {
    #[serde(flatten)]
    pub article: ArticleSummary,
    pub score: f64,
    /// Why it matched: the summary, or the first body passage with a word
    /// of the query, HTML-escaped, the words in `<em>`.
    pub snippet: String,
}

/// A page of search hits, in the order asked for.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    pub items: Vec<SearchItem>,
    /// How many public articles match (exact).
    pub total: usize,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// With `facets=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<SearchFacets>,
}

/// Counts of all the hits.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchFacets {
    /// Sections with hits, most first; a section counts its subsections'.
    pub sections: Vec<SectionFacet>,
    /// Months with hits (the site's time zone), newest first.
    pub months: Vec<MonthFacet>,
}

/// Hits in a section and its subsections.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SectionFacet {
    pub slug: String,
    pub name: String,
    pub count: u64,
}

/// Hits published in a month.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonthFacet {
    /// `YYYY-MM`.
    pub month: String,
    pub count: u64,
}

/// Full-text search over public articles, in either script.
#[utoipa::path(get, path = "/v1/search", params(SearchParams),
    responses((status = 200, description = "A page of hits", body = SearchPage),
        (status = 400, description = "A bad query or parameter", body = ErrorBody),
        (status = 404, description = "No section has this slug", body = ErrorBody)))]
pub(super) async fn search_articles(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, AppError> {
    let params = params.into_inner();
    let script = request_script(&req, params.script.as_deref())?;
    let (voice, _) = writer(&state, script).await?;
    let asked = Asked::of(&params, &voice)?;
    let parsed = search::parse(&params.q)?;
    let index = state.search.clone();
    let site = state.shared().clone();
    let (found, loaded, facets) = state
        .db
        .reader()
        .await
        .run(move |conn| {
            let scope = asked.scope(conn, &site)?;
            let request = asked.request(&parsed, &scope);
            let found = search::hit_page(conn, &index, &request)?;
            let facets = asked
                .facets
                .map(|_| facets_of(conn, &site, found.facets.as_ref()));
            let (head, rows): (Vec<_>, Vec<ArticleRow>) = found
                .hits
                .into_iter()
                .map(|h| ((h.rank, h.score), h.row))
                .unzip();
            let loaded = load_related(conn, &site, rows)?;
            Ok(((found.total, head), loaded, facets.transpose()?))
        })
        .await?;
    let ((total, head), highlight) = (found, voice.highlight(&highlighted_words(&params.q)));
    let items: Vec<SearchItem> = loaded
        .rows
        .iter()
        .zip(&head)
        .map(|(row, (_, score))| SearchItem {
            article: summary(&state, &voice, &loaded, row),
            score: *score,
            snippet: voice.snippet(row, &highlight),
        })
        .collect();
    let last = head.last().map(|(rank, _)| *rank).filter(|r| r + 1 < total);
    let mut keys: Vec<CacheKey> = items
        .iter()
        .map(|i| CacheKey::Article(i.article.id))
        .collect();
    keys.extend([CacheKey::Articles, CacheKey::Search]);
    let mut response = HttpResponse::Ok();
    public(&state, &mut response, &keys);
    Ok(response.json(SearchPage {
        items,
        total,
        next_cursor: last.map(search::hit_cursor),
        facets: facets.map(|f| f.in_script(&voice)),
    }))
}

/// What a `/v1/search` request asks for, checked.
struct Asked {
    section: Option<String>,
    names: search::Names,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
    order: search::Order,
    offset: usize,
    size: usize,
    now: NaiveDateTime,
    /// The site's offset from UTC, when facets are asked for.
    facets: Option<i64>,
}

impl Asked {
    fn of(params: &SearchParams, voice: &Voice<'_>) -> Result<Asked, AppError> {
        let now = db::now();
        let offset = match (&params.cursor, params.offset) {
            (Some(cursor), _) => search::offset_after(Some(cursor), "cursor")?,
            (None, Some(n @ 0..=10_000)) => n as usize,
            (None, Some(_)) => {
                return Err(AppError::BadInput(
                    "offset: must be between 0 and 10000".into(),
                ))
            }
            (None, None) => 0,
        };
        Ok(Asked {
            section: params.section.clone(),
            names: search::Names {
                source: params.source.clone(),
                contributor: params.contributor.clone(),
                tag: params.tag.clone(),
            },
            from: instant(params.from.as_deref(), "from", voice)?,
            to: instant(params.to.as_deref(), "to", voice)?,
            order: order(params.sort.as_deref())?,
            offset,
            size: limit_param(params.limit)? as usize,
            now,
            facets: params
                .facets
                .unwrap_or(false)
                .then(|| voice.utc_offset(now)),
        })
    }

    fn scope(
        &self,
        conn: &mut db::AnyConnection,
        site: &Shared,
    ) -> Result<search::Scope, AppError> {
        let sections = section_scope(conn, site, self.section.as_deref())?.map(|(_, ids)| ids);
        search::Scope {
            published_after: self.from,
            published_before: self.to,
            ..search::Scope::sections(sections)
        }
        .with_names(conn, &self.names)
    }

    fn request<'a>(
        &self,
        query: &'a search::Query,
        scope: &'a search::Scope,
    ) -> search::Request<'a> {
        search::Request {
            query,
            scope,
            order: self.order,
            now: self.now,
            offset: self.offset,
            size: self.size,
            facets_offset: self.facets,
        }
    }
}

fn order(value: Option<&str>) -> Result<search::Order, AppError> {
    match value.unwrap_or("relevance") {
        "relevance" => Ok(search::Order::Relevance),
        "newest" => Ok(search::Order::Newest),
        "oldest" => Ok(search::Order::Oldest),
        other => Err(AppError::BadInput(format!(
            "sort: must be relevance, newest or oldest, got {other:?}"
        ))),
    }
}

/// An RFC 3339 time, or a date meaning its start in the site's zone, as
/// stored (UTC).
fn instant(
    value: Option<&str>,
    param: &str,
    voice: &Voice<'_>,
) -> Result<Option<NaiveDateTime>, AppError> {
    let Some(text) = value else { return Ok(None) };
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(t.naive_utc()));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| {
            voice
                .zone()
                .from_local_datetime(&d.and_time(Default::default()))
                .earliest()
        })
        .map(|t| Some(t.naive_utc()))
        .ok_or_else(|| {
            AppError::BadInput(format!(
                "{param}: must be an RFC 3339 time or a date (YYYY-MM-DD), got {text:?}"
            ))
        })
}

/// Facet counts with their sections' slugs and names, as stored.
struct Counted {
    /// (slug, name, hits).
    sections: Vec<(String, String, u64)>,
    months: Vec<(String, u64)>,
}

fn facets_of(
    conn: &mut db::AnyConnection,
    site: &Shared,
    counts: Option<&FacetCounts>,
) -> Result<Counted, AppError> {
    let counts = counts.cloned().unwrap_or_default();
    let tree = site.sections_on(conn)?;
    let rolled = search::rolled_up(&counts.sections, &db::sections::links(tree.rows()));
    let sections = rolled
        .into_iter()
        .filter_map(|(id, n)| {
            let row = tree.row(id)?;
            Some((row.slug.clone(), row.name.clone(), n))
        })
        .collect();
    Ok(Counted {
        sections,
        months: counts.months,
    })
}

impl Counted {
    fn in_script(self, voice: &Voice<'_>) -> SearchFacets {
        SearchFacets {
            sections: self
                .sections
                .into_iter()
                .map(|(slug, name, count)| SectionFacet {
                    name: voice.line(&name),
                    slug,
                    count,
                })
                .collect(),
            months: self
                .months
                .into_iter()
                .map(|(month, count)| MonthFacet { month, count })
                .collect(),
        }
    }
}

/// Query parameters of `/v1/suggest`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SuggestParams {
    /// What the reader has typed so far (at most 50 characters).
    q: String,
    /// 1-20, default 5.
    #[param(nullable = false, minimum = 1, maximum = 20)]
    limit: Option<i64>,
    /// `hans`, `hant`, `hant-tw`, `hant-hk` or `original`.
    #[param(nullable = false)]
    script: Option<String>,
}

/// A title to offer while a reader types.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionItem {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub url: String,
}

/// Titles to offer, best first.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestionList {
    pub items: Vec<SuggestionItem>,
}

/// Search as you type: public articles whose title goes on from `q`.
#[utoipa::path(get, path = "/v1/suggest", params(SuggestParams),
    responses((status = 200, description = "Titles, best first", body = SuggestionList),
        (status = 400, description = "A bad prefix or parameter", body = ErrorBody)))]
pub(super) async fn suggest_titles(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<SuggestParams>,
) -> Result<HttpResponse, AppError> {
    let params = params.into_inner();
    let script = request_script(&req, params.script.as_deref())?;
    let limit = params.limit.unwrap_or(5);
    if !(1..=20).contains(&limit) {
        return Err(AppError::BadInput("limit: must be between 1 and 20".into()));
    }
    let (index, now, typed) = (state.search.clone(), db::now(), params.q);
    let rows = state
        .db
        .reader()
        .await
        .run(move |conn| crate::search::suggestions(conn, &index, &typed, now, limit as usize))
        .await?;
    let (w, _) = writer(&state, script).await?;
    let base = &state.config.public_base_url;
    let items: Vec<SuggestionItem> = rows
        .iter()
        .map(|r| SuggestionItem {
            id: r.id,
            slug: r.shown_slug().to_string(),
            title: w.line(&r.title),
            url: crate::read::article_url(base, r),
        })
        .collect();
    let mut keys: Vec<CacheKey> = rows.iter().map(|r| CacheKey::Article(r.id)).collect();
    keys.extend([CacheKey::Articles, CacheKey::Search]);
    let mut response = HttpResponse::Ok();
    public(&state, &mut response, &keys);
    Ok(response.json(SuggestionList { items }))
}
