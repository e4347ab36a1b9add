//! The JSON routes under `/v1`. For now: one article by id or slug, and the
//! list of withdrawn articles partners use to delete their copies.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use serde_json::json;

use crate::db::articles::{self, Tombstone};
use crate::db::{self, site};
use crate::error::AppError;
use crate::graphql::{AppState, RemovedArticle};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/articles/{key}", web::get().to(article))
        .route("/v1/articles/{key}/", web::get().to(article))
        .route("/v1/removed", web::get().to(removed));
}

async fn zone(state: &AppState) -> chrono_tz::Tz {
    state
        .db
        .run(site::load)
        .await
        .ok()
        .and_then(|s| s.time_zone.parse().ok())
        .unwrap_or(chrono_tz::Asia::Shanghai)
}

fn local(t: chrono::NaiveDateTime, tz: chrono_tz::Tz) -> DateTime<FixedOffset> {
    t.and_utc().with_timezone(&tz).fixed_offset()
}

/// `GET /v1/articles/{id or slug}`: the article, 404, or 451 with a tombstone.
async fn article(
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let key = key.into_inner();
    let row = state
        .db
        .run(move |conn| match key.parse::<i32>() {
            Ok(id) => Ok(articles::by_ids(conn, &[id])?.into_iter().next()),
            Err(_) => articles::by_slug(conn, key.trim_end_matches('/')),
        })
        .await?;
    let now = db::now();
    let tz = zone(&state).await;
    match row {
        Some(r) if r.is_public_at(now) => Ok(HttpResponse::Ok()
            .insert_header((
                header::CACHE_CONTROL,
                format!("public, max-age={}", state.config.cache_max_age),
            ))
            .json(json!({
                "id": r.id,
                "slug": r.slug,
                "title": r.title,
                "summary": r.summary,
                "paragraphs": r.paragraphs(),
                "publishedAt": r.published_at.map(|t| local(t, tz)),
                "updatedAt": local(r.updated_at, tz),
                "revision": r.revision,
                "url": format!("{}/a/{}-{}", state.config.public_base_url, r.id, r.slug),
            }))),
        Some(r) => match r.tombstone() {
            Some(t) => Ok(unavailable(&t, tz, &state.config.public_base_url)),
            None => Err(AppError::NotFound),
        },
        None => Err(AppError::NotFound),
    }
}

/// 451 (RFC 7725) with a small tombstone: no title, no body.
fn unavailable(t: &Tombstone, tz: chrono_tz::Tz, base: &str) -> HttpResponse {
    let removed = RemovedArticle::from_tombstone(t, local(t.withdrawn_at, tz));
    let mut response = HttpResponse::UnavailableForLegalReasons();
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(reference) = &removed.request_reference {
        response.insert_header((
            header::LINK,
            format!("<{base}/takedowns/{reference}>; rel=\"blocked-by\""),
        ));
    }
    response.json(json!({
        "error": { "code": "UNAVAILABLE_FOR_LEGAL_REASONS", "message": "withdrawn for legal reasons" },
        "tombstone": removed,
    }))
}

#[derive(Debug, Deserialize)]
struct RemovedParams {
    since: Option<String>,
    limit: Option<i64>,
}

/// `GET /v1/removed?since=RFC3339&limit=`: withdrawn articles, oldest first.
async fn removed(
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
        .run(move |conn| articles::withdrawn_since(conn, since, limit))
        .await?;
    let tz = zone(&state).await;
    let items: Vec<RemovedArticle> = rows
        .iter()
        .map(|t| RemovedArticle::from_tombstone(t, local(t.withdrawn_at, tz)))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.config.cache_max_age),
        ))
        .json(json!({ "items": items })))
}
