//! What crawlers read: `/robots.txt`, the sitemap index `/sitemap.xml`,
//! `/sitemaps/articles-N.xml` (the public articles with ids in
//! `(N-1)·50,000 + 1 ..= N·50,000`, so a page's URLs stay on that page as
//! articles are added), `/sitemaps/sections.xml` and the Google News
//! sitemap `/sitemaps/news.xml` (the last 48 hours, at most 1,000).
//!
//! Only public articles appear: a withdrawal, an unpublication or a
//! deletion takes the URL out of every sitemap in the same request cycle
//! (each answer is tagged `articles`, which every article change advances,
//! so the response cache and a CDN purging by `Surrogate-Key` forget it at
//! once). gzip comes from the server's compression when asked for.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;

use super::AppState;
use crate::db::{self, sitemaps};
use crate::domain::cache_key::{surrogate_keys, CacheKey};
use crate::domain::script::Script;
use crate::error::AppError;
use crate::read::{article_url_of, stored_script, Voice};
use crate::syndication::sitemap::{self, NewsEntry, UrlSet, MAX_NEWS_URLS, MAX_URLS};
use crate::text::script::Script as TextScript;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/robots.txt", web::get().to(robots))
        .route("/sitemap.xml", web::get().to(sitemap_index))
        .route("/sitemaps/{name}", web::get().to(sitemap));
}

/// Rows read per statement while a page is written.
const CHUNK: i64 = 5_000;

/// How far back the news sitemap reaches (Google: two days).
const NEWS_HOURS: i64 = 48;

/// The public site's URL of a section's page.
pub fn section_url(base: &str, slug: &str) -> String {
    format!("{base}/s/{slug}")
}

fn xml(state: &AppState, body: String, keys: &[CacheKey]) -> HttpResponse {
    public(state, "application/xml; charset=utf-8", body, keys)
}

/// A public answer, cached as long as the others and tagged with `keys`.
fn public(state: &AppState, content_type: &str, body: String, keys: &[CacheKey]) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Surrogate-Key", surrogate_keys(keys)))
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.config.cache_max_age),
        ))
        .body(body)
}

/// Names the sitemaps and hides nothing: crawlers may read every page.
#[utoipa::path(get, path = "/robots.txt",
    responses((status = 200, description = "Crawler rules naming the sitemaps", content((String = "text/plain")))))]
pub(super) async fn robots(state: web::Data<AppState>) -> HttpResponse {
    let base = &state.config.public_base_url;
    let body = format!(
        "User-agent: *\nAllow: /\n\nSitemap: {base}/sitemap.xml\nSitemap: {base}/sitemaps/news.xml\n"
    );
    public(&state, "text/plain; charset=utf-8", body, &[CacheKey::Site])
}

/// The sitemap index: the sections, the news sitemap, and each page of
/// articles that holds a public one, with when it last changed.
#[utoipa::path(get, path = "/sitemap.xml",
    responses((status = 200, description = "A sitemaps.org sitemap index", content((String = "application/xml")))))]
pub(super) async fn sitemap_index(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let now = db::now();
    let (site, pages) = state
        .db
        .reader()
        .await
        .run(move |conn| {
            let site = db::site::load(conn)?;
            let last = sitemaps::last_public_id(conn, now)?.unwrap_or(0);
            let mut pages = Vec::new();
            for page in 1..=page_of(last) {
                let mut changed: Option<NaiveDateTime> = None;
                sitemaps::each_public(conn, now, bounds(page), CHUNK, |row| {
                    changed = changed.max(Some(row.updated_at));
                })?;
                if let Some(changed) = changed {
                    pages.push((page, changed));
                }
            }
            Ok((site, pages))
        })
        .await?;
    let voice = Voice::new(&state.converter, Script::Original, &site);
    let base = &state.config.public_base_url;
    let newest = pages.iter().map(|(_, at)| *at).max();
    let mut entries: Vec<(String, Option<NaiveDateTime>)> = vec![
        (format!("{base}/sitemaps/sections.xml"), None),
        (format!("{base}/sitemaps/news.xml"), newest),
    ];
    entries.extend(
        pages
            .iter()
            .map(|(page, at)| (format!("{base}/sitemaps/articles-{page}.xml"), Some(*at))),
    );
    let body = sitemap::index(
        entries
            .iter()
            .map(|(loc, at)| (loc.as_str(), at.map(|t| voice.time(t)))),
    );
    Ok(xml(&state, body, &[CacheKey::Articles, CacheKey::Site]))
}

/// The page holding article `id`'s URL.
fn page_of(id: i32) -> i32 {
    if id <= 0 {
        0
    } else {
        (id - 1) / MAX_URLS as i32 + 1
    }
}

/// The ids a page covers: after the first, through the second.
fn bounds(page: i32) -> (i32, i32) {
    let size = MAX_URLS as i32;
    let after = (page - 1).saturating_mul(size);
    (after, after.saturating_add(size))
}

/// One sitemap: `articles-N.xml` (public articles with ids in
/// `(N-1)·50,000 + 1 ..= N·50,000`), `sections.xml`, or the Google News
/// sitemap `news.xml` (the last 48 hours, at most 1,000).
#[utoipa::path(get, path = "/sitemaps/{name}",
    params(("name" = String, Path, description = "`articles-N.xml` (N from 1), `sections.xml` or `news.xml`")),
    responses(
        (status = 200, description = "The sitemap", content((String = "application/xml"))),
        (status = 404, description = "No such sitemap, or a page without a public article", body = super::bodies::ErrorBody)))]
pub(super) async fn sitemap(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let name = name.into_inner();
    match name.as_str() {
        "sections.xml" => sections(state).await,
        "news.xml" => news(state).await,
        _ => {
            let page = name
                .strip_prefix("articles-")
                .and_then(|n| n.strip_suffix(".xml"))
                .filter(|n| !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<i32>().ok())
                .filter(|n| *n >= 1)
                .ok_or(AppError::NotFound)?;
            articles(state, page).await
        }
    }
}

/// A page of article URLs, read along the primary key in chunks; a page
/// without a public article does not exist.
async fn articles(state: web::Data<AppState>, page: i32) -> Result<HttpResponse, AppError> {
    let now = db::now();
    let base = state.config.public_base_url.clone();
    let (after, through) = bounds(page);
    let converter = state.converter.clone();
    let body = state
        .db
        .reader()
        .await
        .run(move |conn| {
            let site = db::site::load(conn)?;
            let voice = Voice::new(&converter, Script::Original, &site);
            let mut set = UrlSet::new(MAX_URLS);
            sitemaps::each_public(conn, now, (after, through), CHUNK, |row| {
                set.url(
                    &article_url_of(&base, row.id, row.shown_slug()),
                    Some(voice.time(row.updated_at)),
                );
            })?;
            Ok((!set.is_empty()).then(|| set.finish()))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(xml(&state, body, &[CacheKey::Articles, CacheKey::Site]))
}

/// Every section's page.
async fn sections(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let base = state.config.public_base_url.clone();
    let all = state.db.reader().await.run(db::sections::all).await?;
    let mut set = UrlSet::new(all.len());
    for section in &all {
        set.url(&section_url(&base, &section.slug), None);
    }
    if set.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(xml(
        &state,
        set.finish(),
        &[CacheKey::Sections, CacheKey::Site],
    ))
}

/// The Google News sitemap: articles published in the last 48 hours, at
/// most 1,000, each with the publication's name, its language (`zh-cn` for
/// simplified, `zh-tw` for traditional text), publication time and title.
/// With none it is an empty `urlset`, which Google accepts.
async fn news(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let now = db::now();
    let since = now - chrono::Duration::hours(NEWS_HOURS);
    let (site, rows) = state
        .db
        .reader()
        .await
        .run(move |conn| {
            let site = db::site::load(conn)?;
            let rows = sitemaps::published_since(conn, now, since, MAX_NEWS_URLS as i64)?;
            Ok((site, rows))
        })
        .await?;
    let voice = Voice::new(&state.converter, Script::Original, &site);
    let base = &state.config.public_base_url;
    let entries: Vec<NewsEntry> = rows
        .iter()
        .filter_map(|row| {
            Some(NewsEntry {
                url: article_url_of(base, row.id, row.shown_slug()),
                publication: site.name.clone(),
                language: match stored_script(&row.script) {
                    TextScript::Hans => "zh-cn",
                    _ => "zh-tw",
                },
                published: voice.time(row.published_at?),
                title: row.title.clone(),
            })
        })
        .collect();
    Ok(xml(
        &state,
        sitemap::news(&entries),
        &[CacheKey::Articles, CacheKey::Site],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_fifty_thousand_ids_each() {
        assert_eq!(page_of(0), 0);
        assert_eq!(page_of(1), 1);
        assert_eq!(page_of(50_000), 1);
        assert_eq!(page_of(50_001), 2);
        assert_eq!(bounds(1), (0, 50_000));
        assert_eq!(bounds(2), (50_000, 100_000));
        assert_eq!(bounds(i32::MAX).1, i32::MAX);
    }
}
