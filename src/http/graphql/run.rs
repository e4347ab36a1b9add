//! Running the operation: which schema, on a replica or the primary, with
//! which context, and within the time budget.

use std::sync::Arc;
use std::time::Duration;

use super::admission::Learning;
use super::authentication::authorization;
use super::documents::Parsed;
use super::validated::variables_plainly_valid;
use crate::auth::Credentials;
use crate::db::idempotency::Claim;
use crate::error::AppError;
use crate::graphql::{
    classify_errors, introspection_only, readable_syntax_errors, rejection, IntrospectionSchema,
    NewsdeskSchema, PrevalidatedSchema, RequestContext, Script,
};
use crate::http::persisted::PersistedQueries;
use crate::http::request_id::CurrentRequestId;
use crate::http::AppState;
use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest};

/// The schema that runs `request`. An operation that reads only the schema
/// may nest as deep as the standard introspection query does; anything
/// touching data may not. A kept document that passed strict validation
/// before runs without it when its variables are plainly valid (see
/// [`super::validated`]).
pub fn schema_for<'a>(
    req: &'a HttpRequest,
    schema: &'a NewsdeskSchema,
    parsed: Option<&Parsed>,
    request: &async_graphql::Request,
) -> &'a NewsdeskSchema {
    let Some(parsed) = parsed else {
        return schema;
    };
    if introspection_only(&parsed.document) {
        if let Some(introspection) = req.app_data::<web::Data<IntrospectionSchema>>() {
            return &introspection.0;
        }
    }
    let validated = parsed.validated()
        && variables_plainly_valid(
            &parsed.document,
            request.operation_name.as_deref(),
            &request.variables,
        );
    match req.app_data::<web::Data<PrevalidatedSchema>>() {
        Some(prevalidated) if validated => &prevalidated.0,
        _ => schema,
    }
}

/// What the resolvers see of the request: who calls, the script asked for
/// by `Accept-Language`, the request id, the idempotency claim, and where
/// it reads.
pub async fn context(
    req: &HttpRequest,
    state: &AppState,
    credentials: Credentials,
    claim: Option<Arc<Claim>>,
) -> Arc<RequestContext> {
    let default_script = Script::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let request_id = req
        .extensions()
        .get::<CurrentRequestId>()
        .map(|id| id.0.clone());
    // Anonymous reads may come from a replica; anything with credentials
    // reads from the primary, and so sees its own writes.
    let reader = if authorization(req).is_none() {
        state.db.reader().await
    } else {
        state.db.clone()
    };
    let shared = state.shared().clone();
    let mut context = RequestContext::new(shared, reader, default_script, credentials, request_id);
    context.idempotency = claim;
    Arc::new(context)
}

/// Runs the operation, answering `TIMEOUT` once `budget` has passed.
///
/// A busy runtime may wake this task after both the work and the deadline
/// are done: the deadline is looked at first, so a request that ran past
/// its budget is answered as such, whatever the scheduler did. A keyed
/// write keeps its real reply, which its retries replay.
pub async fn within_budget(
    schema: &NewsdeskSchema,
    request: async_graphql::Request,
    context: Arc<RequestContext>,
    budget: Duration,
    keyed: bool,
) -> async_graphql::Response {
    let execution = schema.execute(request.data(context));
    if keyed {
        return match tokio::time::timeout(budget, execution).await {
            Ok(response) => response,
            Err(_) => timed_out(budget),
        };
    }
    tokio::select! {
        biased;
        _ = tokio::time::sleep(budget) => timed_out(budget),
        response = execution => response,
    }
}

/// The answer to a request that ran past its budget. Work already handed to
/// the database may still finish: a write that timed out has an unknown
/// outcome, which is what `Idempotency-Key` retries are for.
fn timed_out(budget: Duration) -> async_graphql::Response {
    async_graphql::Response::from_errors(vec![rejection(
        format!("the request ran longer than {} ms", budget.as_millis()),
        AppError::Timeout.code(),
    )])
}

/// Gives every error its code, keeps a new persisted query whose document
/// passed, and words syntax errors for people.
pub fn finish(
    response: &mut async_graphql::Response,
    query: &str,
    learning: Option<Learning>,
    persisted: &PersistedQueries,
) {
    classify_errors(&mut response.errors);
    if let Some(learning) = learning.filter(|_| document_passed(response)) {
        learning.keep(persisted);
    }
    readable_syntax_errors(&mut response.errors, query);
}

/// Whether a response shows its document passed every check: errors of a
/// refused document (length, parse, validation, depth, cost, budget) have
/// no path; a resolver's errors have one.
pub fn document_passed(response: &async_graphql::Response) -> bool {
    response.errors.iter().all(|e| !e.path.is_empty())
}

/// An error's `extensions.code` (every error has one once [`finish`] ran).
pub fn error_code(error: &async_graphql::ServerError) -> &str {
    match error.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(async_graphql::Value::String(code)) => code,
        _ => "unknown",
    }
}
