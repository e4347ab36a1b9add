//! Who is calling: the `Authorization: Bearer …` header, verified once per
//! request, before the body is read (it decides how large a body may be).

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::auth::tokens::TokenError;
use crate::auth::{self, Credentials};
use crate::error::AppError;
use crate::http::AppState;

/// The `Authorization` header, when it is text.
pub fn authorization(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// What the request's `Authorization` header amounts to.
pub async fn credentials(state: &AppState, req: &HttpRequest) -> Credentials {
    match authorization(req) {
        None => Credentials::None,
        Some(value) => match bearer(value) {
            Some(token) => check_token(state, token).await,
            None => {
                state.metrics.token_refused("not a bearer token");
                Credentials::Invalid
            }
        },
    }
}

/// The token of an `Authorization` value (`Bearer <token>`).
pub fn bearer(value: &str) -> Option<String> {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|t| t.trim().to_string())
}

/// What a bearer token amounts to, checked against the keys and accounts.
pub async fn check_token(state: &AppState, token: String) -> Credentials {
    if state.config.tokens.is_none() {
        return Credentials::Invalid;
    }
    let config = state.config.clone();
    let checked = state
        .db
        .run(move |conn| {
            let keys = config.tokens.as_ref().ok_or(AppError::Unauthenticated)?;
            Ok(auth::authenticate(conn, keys, &token))
        })
        .await;
    match checked {
        Ok(Ok(staff)) => Credentials::Valid(staff),
        Ok(Err(TokenError::Unavailable)) | Err(AppError::Unavailable(_)) => {
            Credentials::Unverifiable
        }
        Ok(Err(reason)) => {
            tracing::info!(auth.reason = %reason, "token refused");
            state.metrics.token_refused(reason.label());
            Credentials::Invalid
        }
        Err(_) => Credentials::Invalid,
    }
}
