//! `/feeds/{section}.rss|.atom|.json` (`all` for the whole site): the newest
//! 50 public articles. Without a partner key items carry summaries; with one,
//! the full text of articles the site owns. Reprints are never syndicated in
//! full.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::partner::partner;
use super::script::request_script;
use super::AppState;
use crate::db::articles::{self, PublicQuery};
use crate::db::{self, contributors, notices, sections, site, sources};
use crate::domain::cache_key::{surrogate_keys, CacheKey};
use crate::error::AppError;
use crate::read::{self, ArticleFacts, ArticleView, Voice};
use crate::syndication::{self, FeedImage, FeedItem, FeedMeta};

/// Items in a feed.
pub const FEED_SIZE: i64 = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/feeds/{name}", web::get().to(feed))
        .route("/v1/ninjs/articles/{id}", web::get().to(ninjs_article))
        .route("/v1/ninjs/feed", web::get().to(ninjs_feed));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct FeedParams {
    /// `hans`, `hant`, `hant-tw`, `hant-hk` or `original`.
    #[param(nullable = false)]
    script: Option<String>,
}

/// The newest 50 public articles of a section and its subsections (`all`
/// for the site) as RSS 2.0, Atom or JSON Feed 1.1: summaries, or with a
/// partner key the full text of articles the site owns.
#[utoipa::path(get, path = "/feeds/{name}",
    params(("name" = String, Path, description = "`{section}.rss`, `{section}.atom` or `{section}.json`; section `all` for the whole site"), FeedParams),
    security((), ("partner_key" = [])),
    responses(
        (status = 200, description = "The feed", content(
            (String = "application/rss+xml"),
            (String = "application/atom+xml"),
            (Object = "application/feed+json")),
            headers(("Last-Modified" = String, description = "When the newest item or the item set last changed (sent once that second is over)"))),
        (status = 400, description = "A bad parameter", body = super::bodies::ErrorBody),
        (status = 401, description = "An unknown or revoked partner key", body = super::bodies::ErrorBody),
        (status = 404, description = "No such section or format", body = super::bodies::ErrorBody)))]
pub(super) async fn feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
    params: web::Query<FeedParams>,
) -> Result<HttpResponse, AppError> {
    let name = name.into_inner();
    let (section, format) = name
        .rsplit_once('.')
        .filter(|(_, ext)| matches!(*ext, "rss" | "atom" | "json"))
        .map(|(s, e)| (s.to_string(), e.to_string()))
        .ok_or(AppError::NotFound)?;
    let script = request_script(&req, params.script.as_deref())?;
    let partner = partner(&state, &req).await?;
    let full_text_allowed = partner.is_some();
    let now = db::now();
    let base = state.config.public_base_url.clone();
    let data = state
        .db
        .reader()
        .await
        .run(move |conn| load(conn, &section, now, full_text_allowed))
        .await?;
    let voice = Voice::new(&state.converter, script, &data.site);
    let items = render(&voice, &data, &base, now);
    let updated = items
        .iter()
        .map(|i| i.updated)
        .chain(data.set_changed.map(|t| voice.time(t)))
        .max()
        .unwrap_or_else(|| voice.time(now));
    let site_name = voice.line(&data.site.name);
    let mut languages: Vec<&str> = data
        .rows
        .iter()
        .map(|r| voice.article_language(&r.script))
        .collect();
    languages.push(voice.site_language());
    languages.sort_unstable();
    languages.dedup();
    let meta = FeedMeta {
        title: match &data.section_name {
            Some(s) => format!("{site_name} – {}", voice.line(s)),
            None => site_name,
        },
        home_url: base.clone(),
        feed_url: format!("{base}/feeds/{name}"),
        rights: voice.line(&data.site.copyright_holder),
        language: voice.site_language().to_string(),
        updated,
        labels: voice.labels(),
    };
    let (body, content_type) = match format.as_str() {
        "rss" => (
            syndication::rss(&meta, &items),
            "application/rss+xml; charset=utf-8",
        ),
        "atom" => (
            syndication::atom(&meta, &items),
            "application/atom+xml; charset=utf-8",
        ),
        _ => (
            syndication::json_feed(&meta, &items).to_string(),
            "application/feed+json; charset=utf-8",
        ),
    };
    let mut keys: Vec<CacheKey> = items.iter().map(|i| CacheKey::Article(i.id)).collect();
    keys.push(match data.section_id {
        Some(id) => CacheKey::Section(id),
        None => CacheKey::Articles,
    });
    keys.push(CacheKey::Site);
    let mut response = HttpResponse::Ok();
    if let Some(date) = super::conditional::last_modified(updated, chrono::Utc::now()) {
        response.insert_header((header::LAST_MODIFIED, date));
    }
    response
        .content_type(content_type)
        .insert_header(("Surrogate-Key", surrogate_keys(&keys)))
        .insert_header((header::CONTENT_LANGUAGE, languages.join(", ")))
        .insert_header((header::VARY, "Authorization, X-Api-Key"));
    if full_text_allowed {
        response.insert_header((header::CACHE_CONTROL, "private, no-store"));
    } else {
        response.insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.config.cache_max_age),
        ));
    }
    Ok(response.body(body))
}

struct FeedData {
    site: site::SiteRow,
    section_id: Option<i32>,
    section_name: Option<String>,
    rows: Vec<articles::ArticleRow>,
    credits: HashMap<i32, Vec<contributors::CreditRow>>,
    sources: HashMap<i32, sources::SourceRow>,
    sections: HashMap<i32, sections::SectionRow>,
    notices: Vec<notices::NoticeRow>,
    /// The items' lead pictures (and, for partners, their bodies' pictures).
    media: crate::media::Pictures,
    /// Whether the caller is a partner (full text of owned articles).
    partner: bool,
    /// The last time the feed's item set changed without an item's own
    /// update time saying so: an article leaving or entering it, or a
    /// scheduled one going live.
    set_changed: Option<chrono::NaiveDateTime>,
}

/// Everything a feed shows, in a fixed number of queries.
fn load(
    conn: &mut db::AnyConnection,
    section: &str,
    now: chrono::NaiveDateTime,
    partner: bool,
) -> Result<FeedData, AppError> {
    load_selection(conn, section, None, None, now, partner)
}

/// Like [`load`], narrowed to one article or to changes since a time.
fn load_selection(
    conn: &mut db::AnyConnection,
    section: &str,
    article: Option<i32>,
    since: Option<chrono::NaiveDateTime>,
    now: chrono::NaiveDateTime,
    partner: bool,
) -> Result<FeedData, AppError> {
    let all_sections = sections::all(conn)?;
    let mut query = PublicQuery::new(now);
    query.updated_after = since;
    let (section_id, section_name) = if section == "all" {
        (None, None)
    } else {
        let root = all_sections
            .iter()
            .find(|s| s.slug == section)
            .ok_or(AppError::NotFound)?;
        query.subtree_of = Some(root.id);
        query.section_ids = Some(sections::subtree_ids(
            &sections::links(&all_sections),
            root.id,
        ));
        (Some(root.id), Some(root.name.clone()))
    };
    let rows = match article {
        Some(id) => articles::by_ids(conn, &[id])?
            .into_iter()
            .filter(|r| r.is_public_at(now))
            .collect(),
        None => articles::list_public(
            conn,
            &query,
            None,
            articles::Direction::Older,
            FEED_SIZE,
            articles::Columns::Whole,
        )?,
    };
    let credits = articles::credits_by_article(&rows);
    let mut rows_lead_media: Vec<String> = rows
        .iter()
        .filter_map(|r| r.lead_media_id.clone())
        .collect();
    if partner {
        // Full text shows the body's pictures too.
        for row in &rows {
            rows_lead_media.extend(row.blocks().media().into_iter().map(str::to_string));
        }
    }
    let source_ids: Vec<i32> = rows.iter().filter_map(|r| r.source_id).collect();
    let sources = sources::by_ids(conn, &source_ids)?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let newest_publication = rows.iter().filter_map(|r| r.published_at).max();
    let set_changed =
        articles::last_public_change(conn, query.section_ids.as_deref())?.max(newest_publication);
    Ok(FeedData {
        site: site::load(conn)?,
        section_id,
        section_name,
        rows,
        credits,
        sources,
        sections: all_sections.into_iter().map(|s| (s.id, s)).collect(),
        notices: notices::all(conn)?,
        media: crate::media::Pictures::of(crate::db::media::by_ids(conn, &rows_lead_media)?),
        partner,
        set_changed,
    })
}

/// Feed items from the read model's articles, in the voice's script.
fn render(
    voice: &Voice<'_>,
    data: &FeedData,
    base: &str,
    now: chrono::NaiveDateTime,
) -> Vec<FeedItem> {
    data.rows
        .iter()
        .map(|row| {
            let view = ArticleView::new(
                voice,
                &ArticleFacts {
                    row,
                    credits: data.credits.get(&row.id).map(Vec::as_slice).unwrap_or(&[]),
                    source: row.source_id.and_then(|id| data.sources.get(&id)),
                    section: data.sections.get(&row.section_id),
                    notices: &data.notices,
                },
                base,
                now,
            );
            FeedItem {
                id: view.id,
                full_text: (data.partner && view.owned).then(|| {
                    let mut body = read::body(voice, row);
                    data.media.withhold(&mut body);
                    body
                }),
                published: view
                    .published_at
                    .unwrap_or_else(|| voice.time(row.created_at)),
                authors: view.authors(),
                byline: view.byline,
                editor: view.editor.map(|c| c.name),
                url: view.url,
                title: view.title,
                summary: view.summary,
                updated: view.updated_at,
                source: view.source,
                owned: view.owned,
                section: view.section_name,
                notice: view.notice.text,
                notice_kind: view.notice.kind,
                image: row
                    .lead_media_id
                    .as_ref()
                    .and_then(|id| data.media.shown(id))
                    .map(|m| FeedImage::of(m, base, &|t| voice.line(t))),
                pictures: data.media.html_pictures(base),
            }
        })
        .collect()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct NinjsFeedParams {
    /// Section slug (its subsections included); the whole site when absent.
    #[param(nullable = false)]
    section: Option<String>,
    /// RFC 3339 time: only articles changed since, plus `canceled` stubs
    /// for those withdrawn since.
    #[param(nullable = false)]
    since: Option<String>,
    /// `hans`, `hant`, `hant-tw`, `hant-hk` or `original`.
    #[param(nullable = false)]
    script: Option<String>,
}

fn private_or_public(
    state: &AppState,
    partner: bool,
    response: &mut actix_web::HttpResponseBuilder,
) {
    if partner {
        response.insert_header((header::CACHE_CONTROL, "private, no-store"));
    } else {
        response.insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.config.cache_max_age),
        ));
    }
}

/// One article in IPTC ninjs 2.1: full text for partners (owned articles only).
#[utoipa::path(get, path = "/v1/ninjs/articles/{id}",
    params(("id" = i32, Path, description = "The article's numeric id"), FeedParams),
    security((), ("partner_key" = [])),
    responses(
        (status = 200, description = "The article", body = super::bodies::Ninjs),
        (status = 400, description = "A bad parameter", body = super::bodies::ErrorBody),
        (status = 401, description = "An unknown or revoked partner key", body = super::bodies::ErrorBody),
        (status = 404, description = "No such public article", body = super::bodies::ErrorBody),
        (status = 451, description = "Withdrawn: a `canceled` stub", body = super::bodies::Ninjs)))]
pub(super) async fn ninjs_article(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i32>,
    params: web::Query<FeedParams>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let script = request_script(&req, params.script.as_deref())?;
    let partner = partner(&state, &req).await?.is_some();
    let now = db::now();
    let base = state.config.public_base_url.clone();
    let (tombstone, data) = state
        .db
        .reader()
        .await
        .run(move |conn| {
            let tombstone = match articles::by_ids(conn, &[id])?.first() {
                Some(r) if r.is_withdrawn_at(now) => articles::tombstone(conn, r)?,
                _ => None,
            };
            let data = load_selection(conn, "all", Some(id), None, now, partner)?;
            Ok((tombstone, data))
        })
        .await?;
    let voice = Voice::new(&state.converter, script, &data.site);
    let items = render(&voice, &data, &base, now);
    let (Some(item), Some(row)) = (items.first(), data.rows.first()) else {
        return match tombstone {
            Some(t) => {
                let mut response = HttpResponse::UnavailableForLegalReasons();
                response.insert_header((header::CACHE_CONTROL, "no-store"));
                Ok(response.json(syndication::ninjs::canceled(
                    t.id,
                    &voice.time(t.withdrawn_at).to_rfc3339(),
                    &syndication::authority(&base),
                )))
            }
            None => Err(AppError::NotFound),
        };
    };
    let language = voice.article_language(&row.script);
    let doc = syndication::ninjs::article(
        item,
        row.revision,
        &voice.line(&data.site.copyright_holder),
        language,
        &syndication::authority(&base),
    );
    let mut response = HttpResponse::Ok();
    response.content_type("application/json");
    response.insert_header((header::CONTENT_LANGUAGE, language));
    response.insert_header((
        "Surrogate-Key",
        surrogate_keys(&[CacheKey::Article(id), CacheKey::Site]),
    ));
    private_or_public(&state, partner, &mut response);
    Ok(response.body(doc.to_string()))
}

/// Articles changed since a time in ninjs 2.1, and `canceled` stubs for
/// those withdrawn since, so partners can delete them.
#[utoipa::path(get, path = "/v1/ninjs/feed", params(NinjsFeedParams),
    security((), ("partner_key" = [])),
    responses(
        (status = 200, description = "The items", body = super::bodies::NinjsFeed),
        (status = 400, description = "A bad parameter", body = super::bodies::ErrorBody),
        (status = 401, description = "An unknown or revoked partner key", body = super::bodies::ErrorBody),
        (status = 404, description = "No such section", body = super::bodies::ErrorBody)))]
pub(super) async fn ninjs_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<NinjsFeedParams>,
) -> Result<HttpResponse, AppError> {
    let script = request_script(&req, params.script.as_deref())?;
    let since = match &params.since {
        Some(s) => Some(db::to_db_time(
            chrono::DateTime::parse_from_rfc3339(s)
                .map_err(|_| AppError::BadInput(format!("since: not an RFC 3339 time: {s:?}")))?
                .to_utc(),
        )),
        None => None,
    };
    let section = params.section.clone().unwrap_or_else(|| "all".into());
    let partner = partner(&state, &req).await?.is_some();
    let now = db::now();
    let base = state.config.public_base_url.clone();
    let (data, removed) = state
        .db
        .reader()
        .await
        .run(move |conn| {
            let data = load_selection(conn, &section, None, since, now, partner)?;
            let removed = match since {
                Some(at) => articles::withdrawn_since(conn, at, FEED_SIZE)?,
                None => vec![],
            };
            Ok((data, removed))
        })
        .await?;
    let voice = Voice::new(&state.converter, script, &data.site);
    let authority = syndication::authority(&base);
    let holder = voice.line(&data.site.copyright_holder);
    let mut languages: Vec<&str> = vec![voice.site_language()];
    let mut items: Vec<serde_json::Value> = render(&voice, &data, &base, now)
        .iter()
        .zip(&data.rows)
        .map(|(item, row)| {
            let language = voice.article_language(&row.script);
            languages.push(language);
            syndication::ninjs::article(item, row.revision, &holder, language, &authority)
        })
        .collect();
    items.extend(removed.iter().map(|t| {
        syndication::ninjs::canceled(t.id, &voice.time(t.withdrawn_at).to_rfc3339(), &authority)
    }));
    languages.sort_unstable();
    languages.dedup();
    let mut response = HttpResponse::Ok();
    response.content_type("application/json");
    response.insert_header((header::CONTENT_LANGUAGE, languages.join(", ")));
    response.insert_header((
        "Surrogate-Key",
        surrogate_keys(&[CacheKey::Articles, CacheKey::Removed, CacheKey::Site]),
    ));
    private_or_public(&state, partner, &mut response);
    Ok(response.body(serde_json::json!({ "items": items }).to_string()))
}
