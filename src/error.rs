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
//! - [`AppError::Refused`]: a request answered before it ran (an unreadable
//!   or oversized body, a persisted query the server will not run, the
//!   per-client rate limit …); [`RequestRefusal`] says which.
//!
//! Status, `Retry-After` and both error bodies (REST's `{"error"}` and the
//! GraphQL shape of `/graphql`) are made here and nowhere else.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Every failure a request or command can end in.
#[derive(Debug, Clone, thiserror::Error)]
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
    #[error(transparent)]
    Refused(#[from] RequestRefusal),
    #[error(transparent)]
    Media(#[from] MediaRefusal),
}

/// Why a media upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaRefusal {
    #[error("the upload exceeds {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the file is not a JPEG, PNG, WebP or GIF image")]
    NotAnImage,
    #[error("the image is {width}x{height} pixels; at most {limit} pixels are accepted")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("the image cannot be read: {0}")]
    Unreadable(String),
    #[error("give the image as the part named `file`")]
    NoFile,
}

impl MediaRefusal {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            MediaRefusal::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            MediaRefusal::NotAnImage => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
            }
            MediaRefusal::TooManyPixels { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "IMAGE_TOO_LARGE")
            }
            MediaRefusal::Unreadable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "IMAGE_UNREADABLE"),
            MediaRefusal::NoFile => (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"),
        }
    }
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
            AppError::Refused(refusal) => refusal.code(),
            AppError::Media(refusal) => refusal.status_and_code().1,
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

    /// Seconds to wait before sending the request again (`Retry-After`).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::Unavailable(_) | AppError::Timeout => Some(2),
            AppError::RateLimited(_) => Some(60),
            AppError::Busy(_) | AppError::IdempotencyKeyInUse => Some(1),
            AppError::Refused(RequestRefusal::OverRateLimit { retry_after }) => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether this error, met by any field of a GraphQL operation, gives
    /// the whole answer its HTTP status: the database is down, a limit was
    /// reached, or the `Idempotency-Key` is busy. The client must back off
    /// whatever else ran, and load balancers must see it.
    pub fn halts_request(&self) -> bool {
        matches!(
            self,
            AppError::Unavailable(_)
                | AppError::RateLimited(_)
                | AppError::Busy(_)
                | AppError::IdempotencyKeyInUse
        )
    }

    /// The answer of `/graphql` to a request it did not run: the GraphQL
    /// error shape, with the status and headers a REST route would send.
    pub fn graphql_response(&self) -> HttpResponse {
        self.respond(json!({
            "data": null,
            "errors": [{
                "message": self.public_message(),
                "extensions": { "code": self.code() }
            }]
        }))
    }

    fn respond(&self, body: serde_json::Value) -> HttpResponse {
        self.log();
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header(("Cache-Control", "no-store"));
        if let Some(seconds) = self.retry_after() {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        if let AppError::Refused(RequestRefusal::MutationOverGet) = self {
            response.insert_header(("Allow", "POST"));
        }
        response.json(body)
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
            AppError::Refused(refusal) => refusal.status(),
            AppError::Media(refusal) => refusal.status_and_code().0,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.respond(json!({
            "error": { "code": self.code(), "message": self.public_message() }
        }))
    }
}

impl async_graphql::ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        self.log();
        let code = self.code();
        let busy = matches!(self, AppError::Busy(_));
        let mut error = async_graphql::Error::new(self.public_message());
        // Kept beside the code, so that `/graphql` can answer with this
        // error's status when it halts the request (see `halts_request`).
        error.source = Some(std::sync::Arc::new(self.clone()));
        error.extend_with(|_, ext| {
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

/// Why a request was answered before it ran: what `/graphql` refuses before
/// execution (media type, body, batches, query string, persisted queries,
/// length, method) and the per-client rate limit every route shares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRefusal {
    #[error("send the request as application/json")]
    UnsupportedMediaType,
    #[error("the request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body took longer than {millis} ms")]
    BodyTooSlow { millis: u128 },
    #[error("the request body could not be read")]
    UnreadableBody,
    #[error("the body is not a GraphQL request: {0}")]
    NotAGraphqlRequest(String),
    #[error("batch requests are not supported; send one operation per request")]
    Batch,
    /// A query string that does not parse; the parser's words.
    #[error("{0}")]
    BadQueryString(String),
    #[error("missing the query parameter")]
    MissingQuery,
    #[error("variables: not JSON: {0}")]
    VariablesNotJson(String),
    #[error("extensions: not a JSON object")]
    ExtensionsNotObject,
    #[error("accept application/graphql-response+json or application/json")]
    NotAcceptable,
    #[error("mutations are only accepted over POST")]
    MutationOverGet,
    #[error("the query exceeds {max} characters")]
    QueryTooLong { max: usize },
    #[error("persistedQuery: only version 1 is supported")]
    PersistedQueryVersion,
    #[error("persistedQuery: sha256Hash is missing")]
    PersistedQueryHashMissing,
    /// Apollo clients look for this message and then send the text.
    #[error("PersistedQueryNotFound")]
    PersistedQueryNotFound,
    #[error("persistedQuery: sha256Hash is not the hash of the query")]
    PersistedQueryHashMismatch,
    #[error("only registered operations run on this server")]
    PersistedQueryNotAllowed,
    #[error("rate limit reached; retry in {retry_after} s")]
    OverRateLimit { retry_after: u64 },
    #[error("the response could not be written")]
    Unwritable,
    /// A WebSocket opened by a page of another site (browsers do not apply
    /// CORS to WebSockets).
    #[error("WebSockets from the origin {0} are not allowed; list it in NEWSDESK_CORS_ORIGINS")]
    ForeignOrigin(String),
    #[error("ask for the graphql-transport-ws WebSocket subprotocol (or the older graphql-ws)")]
    NoSubprotocol,
    /// The upgrade request's handshake headers; the handshake's words.
    #[error("not a WebSocket handshake: {0}")]
    NotAHandshake(String),
}

impl RequestRefusal {
    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        self.status_and_code().1
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        use RequestRefusal::*;
        match self {
            UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
            PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            BodyTooSlow { .. } => (StatusCode::REQUEST_TIMEOUT, "REQUEST_TIMEOUT"),
            UnreadableBody
            | NotAGraphqlRequest(_)
            | BadQueryString(_)
            | MissingQuery
            | VariablesNotJson(_)
            | ExtensionsNotObject
            | PersistedQueryHashMissing => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            Batch => (StatusCode::BAD_REQUEST, "BATCH_NOT_SUPPORTED"),
            NotAcceptable => (StatusCode::NOT_ACCEPTABLE, "NOT_ACCEPTABLE"),
            MutationOverGet => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
            QueryTooLong { .. } => (StatusCode::BAD_REQUEST, "QUERY_TOO_LONG"),
            PersistedQueryVersion => (
                StatusCode::BAD_REQUEST,
                "PERSISTED_QUERY_VERSION_NOT_SUPPORTED",
            ),
            // Not an error in APQ's protocol: the client sends the text next.
            PersistedQueryNotFound => (StatusCode::OK, "PERSISTED_QUERY_NOT_FOUND"),
            PersistedQueryHashMismatch => {
                (StatusCode::BAD_REQUEST, "PERSISTED_QUERY_HASH_MISMATCH")
            }
            PersistedQueryNotAllowed => (StatusCode::FORBIDDEN, "PERSISTED_QUERY_NOT_ALLOWED"),
            OverRateLimit { .. } => (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS"),
            Unwritable => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL"),
            ForeignOrigin(_) => (StatusCode::FORBIDDEN, "FORBIDDEN_ORIGIN"),
            NoSubprotocol | NotAHandshake(_) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        }
    }
}
