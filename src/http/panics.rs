//! A panic is a bug, and it must cost the request that met it, nothing more.
//! Unhandled, it would unwind through the connection's task: the client
//! would see the connection drop with no answer. Here it becomes a 500 with
//! the usual error body (a GraphQL one on `/graphql`) and the request's id,
//! logged with the panic's message; the worker goes on serving. A panic
//! inside a database transaction also costs its connection: the pool
//! discards connections given back while a panic unwinds (`db::pool`).

use std::panic::AssertUnwindSafe;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use futures_util::FutureExt;

use super::request_id::CurrentRequestId;
use crate::error::AppError;

/// The middleware (`middleware::from_fn(panics::contain_panics)`), inside
/// the request-id middleware, outside everything else.
pub async fn contain_panics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // The request itself cannot be kept aside: routing needs it unshared.
    let graphql = req.path().starts_with("/graphql");
    let what = format!("{} {}", req.method(), req.path());
    let request_id = req
        .extensions()
        .get::<CurrentRequestId>()
        .map(|id| id.0.clone());
    // Services may panic while making their future as well as in it.
    let outcome = match std::panic::catch_unwind(AssertUnwindSafe(move || next.call(req))) {
        Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
        Err(panic) => Err(panic),
    };
    match outcome {
        Ok(result) => Ok(result?.map_into_boxed_body()),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            let error = AppError::Internal(format!("{what} panicked: {message}"));
            error.log();
            Err(Panicked {
                error,
                graphql,
                request_id,
            }
            .into())
        }
    }
}

/// The answer to a request whose handling panicked.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
struct Panicked {
    error: AppError,
    graphql: bool,
    request_id: Option<String>,
}

impl ResponseError for Panicked {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        let (code, message) = (self.error.code(), self.error.public_message());
        let mut response = HttpResponse::InternalServerError();
        response.insert_header(("Cache-Control", "no-store"));
        if let Some(id) = &self.request_id {
            response.insert_header((super::request_id::HEADER, id.as_str()));
        }
        if self.graphql {
            response.json(serde_json::json!({
                "data": null,
                "errors": [{ "message": message, "extensions": { "code": code } }],
            }))
        } else {
            response.json(serde_json::json!({ "error": { "code": code, "message": message } }))
        }
    }
}
