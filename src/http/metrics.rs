use actix_web::{web, HttpResponse};

use crate::graphql::AppState;

/// Prometheus text exposition of the counters operators watch.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let body = format!(
        "# HELP newsdesk_sql_statements_total SQL statements sent to the database.\n\
         # TYPE newsdesk_sql_statements_total counter\n\
         newsdesk_sql_statements_total {}\n",
        state.db.statements()
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}
