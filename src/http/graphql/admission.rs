//! The checks a request passes before it runs: persisted queries, the
//! query's length, GET for queries only, and the limits on persisted-query
//! registrations and on mutations per account.

use actix_web::HttpRequest;
use async_graphql::parser::types::OperationType;

use super::operation::Operation;
use super::request::Via;
use crate::auth::Credentials;
use crate::config::QueryLimits;
use crate::error::{AppError, RequestRefusal};
use crate::http::persisted::{PersistedQueries, Resolved};
use crate::http::rate_limit::client_of_request;
use crate::http::AppState;

/// A query new to the persisted-query cache. It is kept under its hash
/// only once it has passed every check: nothing refused is ever kept.
pub struct Learning {
    hash: String,
    query: String,
}

impl Learning {
    pub fn keep(self, persisted: &PersistedQueries) {
        persisted.learn(self.hash, &self.query);
    }
}

/// Puts the stored text in place of a persisted query's hash, and refuses
/// what the persisted-query rules refuse.
pub fn resolve_persisted(
    persisted: &PersistedQueries,
    request: &mut async_graphql::Request,
) -> Result<Option<Learning>, AppError> {
    let extension = request
        .extensions
        .get("persistedQuery")
        .and_then(|v| v.clone().into_json().ok());
    match persisted.resolve(&request.query, extension.as_ref())? {
        Resolved::Stored(query) => request.query = query,
        Resolved::AsSent => {}
        Resolved::Learn(hash) => {
            let query = request.query.clone();
            return Ok(Some(Learning { hash, query }));
        }
    }
    Ok(None)
}

pub fn check_length(
    limits: &QueryLimits,
    request: &async_graphql::Request,
) -> Result<(), AppError> {
    let max = limits.max_query_chars;
    if request.query.chars().count() > max {
        return Err(RequestRefusal::QueryTooLong { max }.into());
    }
    Ok(())
}

/// GET runs queries only: a link or an image must not change anything.
pub fn check_method(via: Via, operation: &Operation<'_>) -> Result<(), AppError> {
    if via == Via::Get
        && operation
            .kind()
            .is_some_and(|kind| kind != OperationType::Query)
    {
        return Err(RequestRefusal::MutationOverGet.into());
    }
    Ok(())
}

/// Registering a query keeps memory until it is evicted: anonymous clients
/// may register only a few a minute.
pub async fn limit_registrations(
    req: &HttpRequest,
    state: &AppState,
    credentials: &Credentials,
    learning: Option<&Learning>,
) -> Result<(), AppError> {
    let per_minute = state.config.apq_registrations_per_minute;
    if learning.is_none() || per_minute == 0 || credentials.staff().is_some() {
        return Ok(());
    }
    let Some(client) = client_of_request(req, &state.config.trusted_proxies) else {
        return Ok(());
    };
    state
        .apq_limits
        .hit(&client.to_string(), per_minute)
        .await
        .map_err(over_limit)
}

/// Mutations per account and minute.
pub async fn limit_mutations(
    state: &AppState,
    credentials: &Credentials,
    operation: &Operation<'_>,
) -> Result<(), AppError> {
    let per_minute = state.config.mutations_per_minute;
    let Some(staff) = credentials.staff() else {
        return Ok(());
    };
    if per_minute == 0 || !operation.is_mutation() {
        return Ok(());
    }
    state
        .account_limits
        .hit(&format!("user-{}", staff.user_id), per_minute)
        .await
        .map_err(over_limit)
}

fn over_limit(wait: u64) -> AppError {
    RequestRefusal::OverRateLimit { retry_after: wait }.into()
}
