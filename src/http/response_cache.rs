//! Serves public GET responses (REST, feeds, GraphQL over GET) from the
//! in-process [`ResponseCache`](crate::cache::ResponseCache), and marks
//! every answer to a request with credentials `private, no-store`. Sits outside
//! compression, so each encoding is kept compressed once, and inside the
//! conditional-GET layer, which reuses the `ETag` stored with the entry.

use std::future::{ready, Ready};
use std::pin::Pin;

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpResponse};

use crate::cache::{CachedResponse, ResponseCache};
use crate::graphql::AppState;

pub struct ResponseCaching;

impl<S, B> Transform<S, ServiceRequest> for ResponseCaching
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = ResponseCachingMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ResponseCachingMiddleware { service }))
    }
}

pub struct ResponseCachingMiddleware<S> {
    service: S,
}

/// Probes and metrics answer live; everything else public may be cached.
fn live_route(path: &str) -> bool {
    matches!(path, "/healthz" | "/livez" | "/readyz" | "/metrics")
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

/// The `Surrogate-Key` values of a response: what it depends on.
pub fn tags_of(headers: &header::HeaderMap) -> Vec<String> {
    headers
        .get("surrogate-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

impl<S, B> Service<ServiceRequest> for ResponseCachingMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let cache: Option<ResponseCache> = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.cache.clone())
            .filter(ResponseCache::enabled);
        // Anything sent with credentials may be private: never from the shared cache.
        let anonymous = !req.headers().contains_key(header::AUTHORIZATION)
            && !req.headers().contains_key("x-api-key");
        let candidate = *req.method() == Method::GET && anonymous && !live_route(req.path());
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
                    return Box::pin(async move { Ok(ServiceResponse::new(http, replay(&entry))) });
                }
                (cache, key)
            }
            _ => {
                let fut = self.service.call(req);
                return Box::pin(async move {
                    let mut res = fut.await?;
                    // Whatever a handler says, no shared cache may keep an
                    // answer to a request that carried credentials.
                    if !anonymous {
                        let headers = res.headers_mut();
                        headers.insert(
                            header::CACHE_CONTROL,
                            HeaderValue::from_static("private, no-store"),
                        );
                        headers.remove("surrogate-key");
                    }
                    Ok(res.map_into_boxed_body())
                });
            }
        };
        let started = cache.begin();
        let fut = self.service.call(req);
        Box::pin(async move {
            let res = fut.await?;
            let public = res.status() == StatusCode::OK
                && res
                    .headers()
                    .get(header::CACHE_CONTROL)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("public"));
            if !public {
                return Ok(res.map_into_boxed_body());
            }
            let (http, res) = res.into_parts();
            let (head, body) = res.into_parts();
            let Ok(bytes) = to_bytes(body).await else {
                return Ok(ServiceResponse::new(
                    http,
                    HttpResponse::InternalServerError().finish(),
                ));
            };
            let headers = kept_headers(head.headers(), &bytes);
            cache.put(
                key,
                started,
                head.status(),
                headers.clone(),
                bytes.clone(),
                tags_of(head.headers()),
            );
            let mut head = head;
            for (name, value) in headers {
                if name == header::ETAG {
                    head.headers_mut().insert(name, value);
                }
            }
            Ok(ServiceResponse::new(
                http,
                head.set_body(bytes).map_into_boxed_body(),
            ))
        })
    }
}
