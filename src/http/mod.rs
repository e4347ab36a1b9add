//! HTTP routes. Handlers stay thin: parse, call the domain, map the error once.

pub mod bodies;
pub mod conditional;
mod feeds;
mod graphiql;
mod graphql;
pub(crate) mod health;
pub mod idempotency;
mod json_time;
pub(crate) mod media;
pub mod metrics;
pub use metrics::record_requests;
pub mod openapi;
pub mod panics;
mod partner;
pub mod persisted;
pub mod rate_limit;
pub mod request_id;
pub mod response_cache;
pub mod rest;
mod script;
pub mod search;
mod sitemaps;
mod state;
mod stream;
pub mod vary;

use actix_cors::Cors;
use actix_web::web;

use crate::config::Config;

pub use state::AppState;

/// Anything no route matches: a JSON 404 that no cache keeps.
pub async fn not_found() -> actix_web::HttpResponse {
    actix_web::HttpResponse::NotFound()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "error": { "code": "NOT_FOUND", "message": "no such route" } }))
}

/// Every route of the service but `/metrics` (which may have an address
/// of its own, see `startup`). A path parameter or query string that does
/// not parse answers in the REST error body like every other REST and feed
/// error (actix would answer plain text): a malformed id names nothing, so
/// it is `NOT_FOUND` exactly like a missing one; a malformed query is
/// `BAD_USER_INPUT`. `/graphql` parses its own query string.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::PathConfig::default().error_handler(|_, _| crate::error::AppError::NotFound.into()),
    )
    .app_data(web::QueryConfig::default().error_handler(|error, _| {
        crate::error::AppError::BadInput(format!("query string: {error}")).into()
    }))
    .route("/healthz", web::get().to(health::healthz))
    .route("/livez", web::get().to(health::healthz))
    .route("/readyz", web::get().to(health::readyz))
    .configure(graphql::routes)
    .configure(graphiql::routes)
    .configure(rest::routes)
    .configure(search::routes)
    .configure(stream::routes)
    .configure(media::routes)
    .route("/v1/openapi.json", web::get().to(openapi::openapi_json))
    .configure(feeds::routes)
    .configure(sitemaps::routes);
}

/// The request headers a browser may send from an allowed origin: what
/// GraphQL clients (Apollo's client awareness and CSRF preflight header),
/// conditional and idempotent requests, partner keys and tracing send.
pub const CORS_REQUEST_HEADERS: [&str; 14] = [
    "accept",
    "accept-language",
    "content-type",
    "authorization",
    "x-api-key",
    "x-request-id",
    "traceparent",
    "idempotency-key",
    "if-none-match",
    "if-modified-since",
    "last-event-id",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
];

/// The response headers a browser script may read.
pub const CORS_EXPOSED_HEADERS: [&str; 5] = [
    "etag",
    "retry-after",
    "content-language",
    "x-request-id",
    "last-modified",
];

/// CORS for browsers: the configured origins and the server's own (a page
/// it serves, such as GraphiQL, sends `Origin` on its POSTs), GET and POST,
/// and the headers of [`CORS_REQUEST_HEADERS`]. It wraps every other
/// middleware, so rate-limit, size and server errors carry its headers too.
pub fn cors(config: &Config) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers(CORS_REQUEST_HEADERS)
        .expose_headers(CORS_EXPOSED_HEADERS)
        .max_age(600);
    if config.cors_origins.iter().any(|origin| origin == "*") {
        // (actix-cors ignores "any origin" once an origin function is set.)
        return cors.allow_any_origin();
    }
    cors = cors.allowed_origin_fn(same_origin);
    for origin in &config.cors_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Whether a browser page at the request's `Origin` may open a WebSocket:
/// the origins CORS allows. Browsers do not apply CORS to WebSockets, so the
/// server checks; a request without `Origin` is not a browser's and passes.
pub fn origin_allowed(config: &Config, req: &actix_web::dev::RequestHead) -> bool {
    let Some(origin) = req.headers().get(actix_web::http::header::ORIGIN) else {
        return true;
    };
    config
        .cors_origins
        .iter()
        .any(|allowed| allowed == "*" || origin.as_bytes() == allowed.as_bytes())
        || same_origin(origin, req)
}

/// Whether `Origin` names the host the request was sent to: a page of this
/// server calling it. (Behind a proxy that rewrites `Host`, list the public
/// origin in `NEWSDESK_CORS_ORIGINS`.)
fn same_origin(
    origin: &actix_web::http::header::HeaderValue,
    req: &actix_web::dev::RequestHead,
) -> bool {
    let Some(host) = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    origin
        .to_str()
        .ok()
        .and_then(|o| {
            o.strip_prefix("http://")
                .or_else(|| o.strip_prefix("https://"))
        })
        .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}
