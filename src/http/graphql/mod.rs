//! `/graphql`: POST with a JSON body, GET with `?query=` for queries only,
//! and GraphiQL for browsers when enabled. Size limits are checked before the
//! body is parsed; batches are refused on this public route.
//!
//! GraphQL over HTTP: a client that accepts `application/graphql-response+json`
//! gets it, with 400 for a document that does not parse or validate (or
//! breaks a limit) and 504 for one that ran out of time; a client that
//! accepts only `application/json` gets that, with 200 for every executed
//! request, as the specification asks for compatibility.
//!
//! A request goes through the steps of [`execute`], each in the module that
//! holds it; a step that refuses ends the request with an [`AppError`],
//! answered in the GraphQL shape by [`response::refused`].

mod admission;
pub(crate) mod authentication;
mod documents;
mod keyed;
mod media;
mod operation;
mod post_cache;
mod request;
mod response;
mod run;
pub mod subscriptions;
mod validated;
mod websocket;

use actix_web::http::header;
use actix_web::{guard, web, HttpRequest, HttpResponse};
use tracing::Instrument;

pub use self::documents::{ParsedDocuments, KEPT_BYTES as KEPT_DOCUMENT_BYTES};
use self::keyed::Keyed;
use self::media::Media;
use self::operation::Operation;
use self::post_cache::PostCache;
use self::request::Via;
use self::response::Answer;
use super::idempotency::Plan;
use super::AppState;
use crate::auth::Credentials;
use crate::error::{AppError, RequestRefusal};
use crate::graphql::NewsdeskSchema;
use crate::telemetry::traces;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/graphql")
            .route(
                web::post()
                    .guard(guard::fn_guard(accepts_event_stream))
                    .to(subscriptions::event_stream),
            )
            .route(web::post().to(post))
            .route(
                web::get()
                    .guard(guard::Header("upgrade", "websocket"))
                    .to(websocket::websocket),
            )
            .route(web::get().to(get))
            .route(web::route().to(method_not_allowed)),
    );
}

/// Whether a request asks for GraphQL over SSE.
fn accepts_event_stream(ctx: &guard::GuardContext<'_>) -> bool {
    ctx.head()
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, POST"))
        .finish()
}

async fn post(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    schema: web::Data<NewsdeskSchema>,
) -> HttpResponse {
    let answer = async {
        let (request, credentials) = posted(&req, body, &state).await?;
        execute(&req, request, &state, &schema, Via::Post, credentials).await
    };
    answer.await.unwrap_or_else(|e| refused(&state, e))
}

/// A POSTed operation and its caller: JSON only, the body read within the
/// limit the caller's credentials allow.
async fn posted(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
) -> Result<(async_graphql::Request, Credentials), AppError> {
    let credentials = authentication::credentials(state, req).await;
    // Uploads (the GraphQL multipart request spec) come from staff only: a
    // form is a "simple" request a foreign page may send, a bearer token is not.
    if request::is_multipart(req) && credentials.staff().is_some() {
        let limit = state.media.max_bytes;
        let request = request::from_multipart(req, body, &state.config.limits, limit).await?;
        return Ok((request, credentials));
    }
    request::require_json(req)?;
    let request = request::from_body(req, body, &state.config.limits, &credentials).await?;
    Ok((request, credentials))
}

async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    schema: web::Data<NewsdeskSchema>,
) -> HttpResponse {
    let answer = async {
        let Some(request) = request::from_query_string(&req)? else {
            if state.config.graphiql && request::wants_html(&req) {
                return Ok(super::graphiql::page());
            }
            return Err(RequestRefusal::MissingQuery.into());
        };
        let credentials = authentication::credentials(&state, &req).await;
        execute(&req, request, &state, &schema, Via::Get, credentials).await
    };
    answer.await.unwrap_or_else(|e| refused(&state, e))
}

/// The answer to a request refused before it ran, counted by its code.
fn refused(state: &AppState, error: AppError) -> HttpResponse {
    state.metrics.graphql_refused(error.code());
    response::refused(error)
}

/// An operation type as a metric's label.
fn kind_label(kind: async_graphql::parser::types::OperationType) -> &'static str {
    use async_graphql::parser::types::OperationType;
    match kind {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

/// Names the operation on the request's span (its log lines and trace):
/// the client's operation name, cut to 100 characters.
fn name_span(name: Option<&str>, kind: &str) {
    let span = tracing::Span::current();
    if let Some(name) = name {
        let cut = name
            .char_indices()
            .nth(100)
            .map_or(name, |(at, _)| &name[..at]);
        span.record("graphql.operation.name", cut);
    }
    span.record("graphql.operation.type", kind);
}

/// One request, step by step.
async fn execute(
    req: &HttpRequest,
    mut request: async_graphql::Request,
    state: &AppState,
    schema: &NewsdeskSchema,
    via: Via,
    credentials: Credentials,
) -> Result<HttpResponse, AppError> {
    let media = Media::of(req)?;
    let operation_label = request
        .extensions
        .get("persistedQuery")
        .and_then(|v| v.clone().into_json().ok())
        .and_then(|ext| {
            state
                .persisted
                .registered_id(Some(&ext))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "anonymous".to_string());
    let learning = admission::resolve_persisted(&state.persisted, &mut request)?;
    admission::check_length(&state.config.limits, &request)?;
    let operation = Operation::of(&request, &state.documents);
    admission::check_method(via, &operation)?;
    admission::limit_registrations(req, state, &credentials, learning.as_ref()).await?;
    let post_cache = PostCache::new(req, state, &request, via, media);
    let kept = if traces::recording() {
        tracing::debug_span!("cache.lookup", otel.name = "response cache lookup")
            .in_scope(|| post_cache.lookup(state))
    } else {
        post_cache.lookup(state)
    };
    if let Some(kept) = kept {
        if let Some(learning) = learning {
            learning.keep(&state.persisted);
        }
        // Only queries are kept, and a hit must not pay for parsing.
        state
            .metrics
            .graphql(&operation_label, "query", "cached", std::iter::empty());
        return Ok(kept);
    }
    let kind = operation.kind().map_or("unknown", kind_label);
    let operation_name = request.operation_name.clone();
    name_span(operation_name.as_deref(), kind);
    let post_cache = post_cache.queries_only(&operation);
    let started = state.cache.begin();
    admission::limit_mutations(state, &credentials, &operation).await?;
    let keyed = match keyed::plan(req, state, &credentials, &operation, &request).await? {
        Some(Plan::Replay(answer)) => return Ok(answer),
        Some(Plan::Run(claim, running)) => Some(Keyed::new(claim, running)),
        None => None,
    };
    let parsed = operation.document();
    let document = parsed.as_ref().map(|p| &p.document);
    let schema = run::schema_for(req, schema, parsed.as_deref(), &request);
    let refusal = parsed.as_ref().and_then(|p| p.refusal.clone());
    if let Some(document) = document {
        request.set_parsed_query(document.clone());
    }
    let proving = parsed.as_ref().is_some_and(|p| {
        !p.validated()
            && validated::passing_proves_the_document(
                &p.document,
                request.operation_name.as_deref(),
                &request.variables,
            )
    });
    let claim = keyed.as_ref().map(|k| k.claim.clone());
    let context = run::context(req, state, credentials, claim).await;
    let (query, budget) = (request.query.clone(), state.config.execution_timeout);
    let span = if traces::recording() {
        tracing::debug_span!(
            "graphql",
            otel.name = %format_args!("{kind} {}", operation_name.as_deref().unwrap_or("anonymous")),
            graphql.operation.type = kind,
        )
    } else {
        tracing::Span::none()
    };
    let mut response = match refusal {
        Some(refusal) => async_graphql::Response::from_errors(vec![refusal]),
        None => {
            run::within_budget(schema, request, context.clone(), budget, keyed.is_some())
                .instrument(span)
                .await
        }
    };
    if let Some(parsed) = parsed.as_ref().filter(|_| proving) {
        if run::document_passed(&response) {
            parsed.mark_validated();
        }
    }
    run::finish(&mut response, &query, learning, &state.persisted);
    let outcome = match (
        response.errors.is_empty(),
        response.data == async_graphql::Value::Null,
    ) {
        (true, _) => "ok",
        (false, false) => "partial",
        (false, true) => "error",
    };
    state.metrics.graphql(
        &operation_label,
        kind,
        outcome,
        response.errors.iter().map(run::error_code),
    );
    let answer = Answer::new(req, via, media, state.config.cache_max_age, &context);
    let http = answer.head(&response);
    if let Some(keyed) = keyed {
        return Ok(keyed.keep(state, &response, http).await);
    }
    let body = response::body(&response, media)?;
    Ok(post_cache.store(state, started, &response, http, body, context.tags()))
}
