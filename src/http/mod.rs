//! HTTP routes. Handlers stay thin: parse, call the domain, map the error once.

pub mod conditional;
mod feeds;
mod graphql;
pub(crate) mod health;
pub mod idempotency;
mod metrics;
pub mod openapi;
pub mod panics;
mod partner;
pub mod persisted;
pub mod rate_limit;
pub mod request_id;
pub mod response_cache;
pub mod rest;

use actix_cors::Cors;
use actix_web::web;

use crate::config::Config;

/// Anything no route matches: a JSON 404 that no cache keeps.
pub async fn not_found() -> actix_web::HttpResponse {
    actix_web::HttpResponse::NotFound()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "error": { "code": "NOT_FOUND", "message": "no such route" } }))
}

/// Every route of the service. A path parameter or query string that does
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
    .route("/metrics", web::get().to(metrics::metrics))
    .configure(graphql::routes)
    .configure(rest::routes)
    .configure(feeds::routes);
}

/// CORS for browsers: only the configured origins, GET and POST, and the
/// headers a GraphQL client sends.
pub fn cors(config: &Config) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            "content-type",
            "authorization",
            "accept-language",
            "x-request-id",
        ])
        .expose_headers(["etag", "content-language", "x-request-id"])
        .max_age(600);
    for origin in &config.cors_origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}
