//! Serves public GET responses (REST, feeds, GraphQL over GET) from the
//! in-process [`ResponseCache`](crate::cache::ResponseCache), and marks
//! every answer to a request with credentials `private, no-store`. Sits outside
//! compression, so each encoding is kept compressed once, and inside the
//! conditional-GET layer, which reuses the `ETag` stored with the entry.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use super::AppState;
use crate::cache::{CachedResponse, ResponseCache};
use crate::domain::CacheKey;

/// Probes and metrics answer live; everything else public may be cached.
fn live_route(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/livez" | "/readyz" | "/metrics" | "/v1/stream"
    )
}

/// The request headers a public response can vary with.
fn header_bytes(req: &ServiceRequest, name: header::HeaderName) -> &[u8] {
    req.headers()
        .get(name)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default()
}

/// A response from a cache entry.
pub fn replay(entry: &CachedResponse) -> HttpResponse {
    let mut response = HttpResponse::build(entry.status);
    for (name, value) in &entry.headers {
        response.append_header((name.clone(), value.clone()));
    }
    response.insert_header(("x-cache", "hit"));
    response.body(entry.body.clone())
}

/// The headers kept with an entry, with the `ETag` of its bytes.
pub fn kept_headers(
    headers: &header::HeaderMap,
    body: &[u8],
) -> Vec<(header::HeaderName, HeaderValue)> {
    let mut kept: Vec<_> = headers
        .iter()
        .filter(|(name, _)| *name != header::ETAG && name.as_str() != "x-request-id")
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    if let Ok(etag) = HeaderValue::from_str(&super::conditional::etag_of(body)) {
        kept.push((header::ETAG, etag));
    }
    kept
}

/// The `Surrogate-Key` values of a response: what it depends on; `None`
/// when one is not a key (nothing could say when it changes).
pub fn tags_of(headers: &header::HeaderMap) -> Option<Vec<CacheKey>> {
    match headers.get("surrogate-key") {
        None => Some(Vec::new()),
        Some(value) => value
            .to_str()
            .ok()?
            .split_whitespace()
            .map(|key| key.parse().ok())
            .collect(),
    }
}

/// The middleware (`middleware::from_fn(response_cache::cache_responses)`).
pub async fn cache_responses(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let cache: Option<ResponseCache> = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.cache.clone())
        .filter(ResponseCache::enabled);
    // Anything sent with credentials may be private: never from the shared cache.
    let anonymous = !req.headers().contains_key(header::AUTHORIZATION)
        && !req.headers().contains_key("x-api-key");
    // A WebSocket upgrade and an event stream are never stored.
    let candidate = *req.method() == Method::GET
        && anonymous
        && !live_route(req.path())
        && !req.headers().contains_key(header::UPGRADE);
    let (cache, key) = match cache {
        Some(cache) if candidate => {
            let key = ResponseCache::key(&[
                b"GET",
                req.path().as_bytes(),
                req.query_string().as_bytes(),
                header_bytes(&req, header::ACCEPT_LANGUAGE),
                header_bytes(&req, header::ACCEPT_ENCODING),
                header_bytes(&req, header::ACCEPT),
            ]);
            if let Some(entry) = cache.get(key) {
                let (http, _) = req.into_parts();
                return Ok(ServiceResponse::new(http, replay(&entry)));
            }
            (cache, key)
        }
        _ => {
            let mut res = next.call(req).await?;
            // Whatever a handler says, no shared cache may keep an answer
            // to a request that carried credentials.
            if !anonymous {
                let headers = res.headers_mut();
                headers.insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, no-store"),
                );
                headers.remove("surrogate-key");
            }
            return Ok(res.map_into_boxed_body());
        }
    };
    let started = cache.begin();
    let res = next.call(req).await?;
    let public = res.status() == StatusCode::OK
        && res
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("public"));
    let (true, Some(tags)) = (public, tags_of(res.headers())) else {
        return Ok(res.map_into_boxed_body());
    };
    let (http, res) = res.into_parts();
    let (mut head, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body).await else {
        return Ok(ServiceResponse::new(
            http,
            HttpResponse::InternalServerError().finish(),
        ));
    };
    let headers = kept_headers(head.headers(), &bytes);
    if let Some((_, etag)) = headers.iter().find(|(name, _)| name == header::ETAG) {
        head.headers_mut().insert(header::ETAG, etag.clone());
    }
    cache.put(key, started, head.status(), headers, bytes.clone(), tags);
    Ok(ServiceResponse::new(
        http,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}
