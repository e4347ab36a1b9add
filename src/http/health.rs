use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::graphql::AppState;

/// Liveness: the process answers. Never touches the database, so a database
/// outage does not make an orchestrator restart healthy nodes.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "status": "ok" }))
}

/// Readiness: the database answers. 503 with `Retry-After` otherwise.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.db.ping().await {
        HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "status": "ready", "database": state.db.url().engine() }))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Retry-After", "2"))
            .json(json!({ "status": "unavailable", "database": state.db.url().engine() }))
    }
}
