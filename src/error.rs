//! One error type for the whole service, mapped once to HTTP and to GraphQL.
//!
//! Which variant to use:
//! - [`AppError::BadInput`]: the caller sent something we cannot accept; the
//!   message names the field and is safe to show.
//! - [`AppError::NotFound`]: the object does not exist *or the caller may not
//!   see it*. The two cases must be indistinguishable, so hidden objects use
//!   this variant too, with the same message.
//! - [`AppError::Unauthenticated`] / [`AppError::Forbidden`]: no valid
//!   credentials / valid credentials without the right.
//! - [`AppError::Conflict`]: a write lost a race or breaks a state rule.
//! - [`AppError::LegalHold`]: a write would publish an article a legal hold
//!   keeps from readers (`LEGAL_HOLD`, 409).
//! - [`AppError::RateLimited`]: the caller went past a limit of its own
//!   (`TOO_MANY_REQUESTS`, retry in a minute); [`AppError::Busy`]: the
//!   server's bounded work (password checks) has no room now
//!   (`TOO_MANY_REQUESTS`, retry in a second).
//! - [`AppError::Unavailable`]: the database cannot be reached; clients retry.
//! - [`AppError::Timeout`]: the request ran past its budget (`TIMEOUT`).
//! - [`AppError::Internal`]: everything else. Its detail is logged with the
//!   request id and never sent to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Every failure a request or command can end in.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadInput(String),
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("{0}")]
    Conflict(String),
    #[error("unavailable for legal reasons")]
    UnavailableForLegalReasons,
    #[error("{0}")]
    LegalHold(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    Busy(String),
    #[error("another request with this Idempotency-Key is in progress; retry shortly")]
    IdempotencyKeyInUse,
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    #[error("service unavailable")]
    Unavailable(String),
    #[error("the request ran out of time")]
    Timeout,
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    /// The stable code clients switch on (`extensions.code`, REST `code`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadInput(_) => "BAD_USER_INPUT",
            AppError::NotFound => "NOT_FOUND",
            AppError::Unauthenticated => "UNAUTHENTICATED",
            AppError::Forbidden => "FORBIDDEN",
            AppError::Conflict(_) => "CONFLICT",
            AppError::UnavailableForLegalReasons => "UNAVAILABLE_FOR_LEGAL_REASONS",
            AppError::LegalHold(_) => "LEGAL_HOLD",
            AppError::RateLimited(_) | AppError::Busy(_) => "TOO_MANY_REQUESTS",
            AppError::IdempotencyKeyInUse => "IDEMPOTENCY_KEY_IN_USE",
            AppError::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            AppError::Unavailable(_) => "SERVICE_UNAVAILABLE",
            AppError::Timeout => "TIMEOUT",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    /// The message that may be shown to the client.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Unavailable(_) => "the database is unavailable, retry shortly".into(),
            AppError::Internal(_) => "internal error".into(),
            other => other.to_string(),
        }
    }

    /// Logs what the client is not told.
    pub fn log(&self) {
        match self {
            AppError::Internal(detail) => tracing::error!(error.detail = %detail, "internal error"),
            AppError::Unavailable(detail) => {
                tracing::warn!(error.detail = %detail, "database unavailable")
            }
            _ => {}
        }
    }
}

/// Whether a query failed because its connection is gone: the request gets
/// `SERVICE_UNAVAILABLE`, and the pool drops that connection instead of
/// handing it out again (see `db::pool`), so service comes back as soon as
/// the database does.
pub fn is_connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        e,
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        if is_connection_lost(&e) {
            return AppError::Unavailable(e.to_string());
        }
        match e {
            Error::NotFound => AppError::NotFound,
            // Two writers racing for the same row or unique key: one wins,
            // the other lost a race it may retry (PostgreSQL makes the loser
            // wait for the winner's commit, then fails it).
            Error::DatabaseError(
                DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::UniqueViolation,
                _,
            ) => AppError::Conflict("a concurrent change won; retry".into()),
            other => {
                let text = other.to_string();
                // SQLite reports a writer that waited past busy_timeout as "database is locked".
                if text.contains("database is locked") {
                    AppError::Unavailable(text)
                } else if text.contains("canceling statement due to statement timeout") {
                    // PostgreSQL's statement_timeout: the request's budget ran out.
                    AppError::Timeout
                } else {
                    AppError::Internal(text)
                }
            }
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadInput(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::UnavailableForLegalReasons => StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS,
            AppError::LegalHold(_) => StatusCode::CONFLICT,
            AppError::RateLimited(_) | AppError::Busy(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::IdempotencyKeyInUse => StatusCode::CONFLICT,
            AppError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header(("Cache-Control", "no-store"));
        match self {
            AppError::Unavailable(_) | AppError::Timeout => {
                response.insert_header(("Retry-After", "2"));
            }
            AppError::RateLimited(_) => {
                response.insert_header(("Retry-After", "60"));
            }
            AppError::Busy(_) | AppError::IdempotencyKeyInUse => {
                response.insert_header(("Retry-After", "1"));
            }
            _ => {}
        }
        response.json(json!({
            "error": { "code": self.code(), "message": self.public_message() }
        }))
    }
}

impl async_graphql::ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        self.log();
        let code = self.code();
        let busy = matches!(self, AppError::Busy(_));
        async_graphql::Error::new(self.public_message()).extend_with(|_, ext| {
            ext.set("code", code);
            if busy {
                // `/graphql` answers with this as its Retry-After.
                ext.set("retryAfter", 1);
            }
        })
    }
}

/// Turns our result into a GraphQL one that carries `extensions.code`.
///
/// async-graphql converts any `Display` error with `?`, which would drop the
/// code; resolvers call `.gql()?` instead.
pub trait GqlResultExt<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResultExt<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        use async_graphql::ErrorExtensions;
        self.map_err(|e| e.extend())
    }
}

impl<T> GqlResultExt<T> for Result<T, std::sync::Arc<AppError>> {
    fn gql(self) -> async_graphql::Result<T> {
        use async_graphql::ErrorExtensions;
        self.map_err(|e| e.as_ref().extend())
    }
}
