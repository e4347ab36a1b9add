use actix_web::{web, HttpResponse};
use serde_json::json;

use super::AppState;

/// Liveness: the process answers (`/livez` is the same). Never touches the
/// database, so a database outage does not make an orchestrator restart
/// healthy nodes.
#[utoipa::path(get, path = "/healthz",
    responses((status = 200, description = "Alive", body = super::bodies::Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "status": "ok" }))
}

/// Readiness: the database answers. 503 with `Retry-After` otherwise.
#[utoipa::path(get, path = "/readyz",
    responses((status = 200, description = "Ready", body = super::bodies::Health),
        (status = 503, description = "The database does not answer", body = super::bodies::Health,
            headers(("Retry-After" = i32, description = "Seconds to wait")))))]
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
