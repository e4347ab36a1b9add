//! Partner keys on HTTP routes: `Authorization: Bearer KEY` or `X-Api-Key`.

use actix_web::http::header;
use actix_web::HttpRequest;

use super::AppState;
use crate::db::partners::{self, PartnerRow};
use crate::error::AppError;

/// The partner a request speaks for: `None` without a key; an unknown or
/// revoked key is `UNAUTHENTICATED`, one over its limit `TOO_MANY_REQUESTS`.
pub async fn partner(state: &AppState, req: &HttpRequest) -> Result<Option<PartnerRow>, AppError> {
    let key = req
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            req.headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
        })
        .map(|k| k.trim().to_string());
    let Some(key) = key else {
        return Ok(None);
    };
    let day = crate::db::now().format("%Y-%m-%d").to_string();
    let found = state
        .db
        .run(move |conn| partners::by_key(conn, &key))
        .await?
        .ok_or(AppError::Unauthenticated)?;
    state
        .partner_limits
        .hit(&found.name, found.requests_per_minute.max(1) as u32)
        .await
        .map_err(|wait| AppError::RateLimited(format!("rate limit reached; retry in {wait} s")))?;
    let id = found.id;
    state
        .db
        .write(move |conn| partners::count_use(conn, id, &day))
        .await?;
    Ok(Some(found))
}
