//! `/graphql`: POST with a JSON body, GET with `?query=` for queries only,
//! and GraphiQL for browsers when enabled. Size limits are checked before the
//! body is parsed; batches are refused on this public route.
//!
//! GraphQL over HTTP: a client that accepts `application/graphql-response+json`
//! gets it, with 400 for a document that does not parse or validate (or
//! breaks a limit) and 504 for one that ran out of time; a client that
//! accepts only `application/json` gets that, with 200 for every executed
//! request, as the specification asks for compatibility.

use actix_web::http::header;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};
use async_graphql::parser::types::OperationType;
use serde::Deserialize;
use serde_json::json;

use actix_web::HttpMessage;

use super::persisted::Resolved;
use super::AppState;
use crate::auth::tokens::TokenError;
use crate::auth::{self, Credentials};
use crate::error::{AppError, Refusal};
use crate::graphql::{
    classify_errors, introspection_only, readable_syntax_errors, IntrospectionSchema,
    NewsdeskSchema, RequestContext, Script,
};

/// The two media types of a GraphQL response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: HTTP status codes follow the outcome.
    GraphqlResponse,
    /// `application/json`: 200 for whatever ran, for older clients.
    Json,
}

impl Media {
    /// The `Content-Type` of a response in this media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }

    /// The media type an `Accept` header asks for: the GraphQL response type
    /// when it is accepted at least as much as JSON, JSON when no `Accept` is
    /// sent or only wildcards name it, `None` when neither is acceptable.
    pub fn negotiate(accept: Option<&str>) -> Option<Media> {
        let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
            return Some(Media::Json);
        };
        let (mut graphql, mut json) = (0.0_f32, 0.0_f32);
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0)
                .clamp(0.0, 1.0);
            match media.as_str() {
                "application/graphql-response+json" => graphql = graphql.max(q),
                "application/json" | "application/*" | "*/*" => json = json.max(q),
                _ => {}
            }
        }
        if graphql > 0.0 && graphql >= json {
            Some(Media::GraphqlResponse)
        } else if json > 0.0 {
            Some(Media::Json)
        } else {
            None
        }
    }
}

/// The request headers every `/graphql` answer depends on.
const GRAPHQL_VARY: &str = "Accept, Accept-Language, Authorization";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/graphql")
            .route(web::post().to(post))
            .route(web::get().to(get))
            .route(web::route().to(method_not_allowed)),
    );
}

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, POST"))
        .finish()
}

/// A request refused before execution, in the GraphQL response shape.
fn refused(error: impl Into<AppError>) -> HttpResponse {
    let error = error.into();
    let mut response = error.graphql_response();
    // These answers depend on `Accept`; no cache may give them to another.
    if matches!(
        error,
        AppError::Refused(Refusal::NotAcceptable | Refusal::MissingQuery)
    ) {
        response
            .headers_mut()
            .insert(header::VARY, header::HeaderValue::from_static(GRAPHQL_VARY));
    }
    response
}

async fn post(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    schema: web::Data<NewsdeskSchema>,
) -> HttpResponse {
    // A cross-site form or text/plain POST must not reach a resolver.
    let json_body = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|v| v == "application/json" || v == "application/graphql+json");
    if !json_body {
        return refused(Refusal::UnsupportedMediaType);
    }
    // Anonymous callers only read; writers send whole articles. The larger
    // limit is earned by a token that verifies, before the body is read: a
    // token that does not verify is held to the anonymous limit.
    let credentials = credentials(&state, authorization(&req).as_deref()).await;
    let limit = if credentials.staff().is_some() {
        state.config.limits.max_editorial_body_bytes
    } else {
        state.config.limits.max_body_bytes
    };
    let too_large = || refused(Refusal::PayloadTooLarge { limit });
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return too_large();
    }
    let budget = state.config.limits.body_timeout;
    let read = tokio::time::timeout(budget, read_limited(body, limit)).await;
    let bytes = match read.unwrap_or(Err(BodyError::TooSlow)) {
        Ok(b) => b,
        Err(BodyError::TooSlow) => {
            return refused(Refusal::BodyTooSlow {
                millis: budget.as_millis(),
            })
        }
        Err(BodyError::TooLarge) => return too_large(),
        Err(BodyError::Broken) => return refused(Refusal::UnreadableBody),
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return refused(Refusal::Batch);
    }
    let request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => return refused(Refusal::NotAGraphqlRequest(e.to_string())),
    };
    execute(&req, request, &state, &schema, false, credentials).await
}

#[derive(Debug, Deserialize)]
struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    schema: web::Data<NewsdeskSchema>,
) -> HttpResponse {
    let params = match web::Query::<GetParams>::from_query(req.query_string()) {
        Ok(p) => p.into_inner(),
        Err(e) => return refused(Refusal::BadQueryString(e.to_string())),
    };
    let has_extensions = params
        .extensions
        .as_deref()
        .is_some_and(|e| !e.trim().is_empty());
    let Some(query) = params.query.or(has_extensions.then(String::new)) else {
        let wants_html = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
        if state.config.graphiql && wants_html {
            return super::graphiql::page();
        }
        return refused(Refusal::MissingQuery);
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables.filter(|v| !v.trim().is_empty()) {
        match serde_json::from_str::<serde_json::Value>(&vars) {
            Ok(value) => request = request.variables(async_graphql::Variables::from_json(value)),
            Err(e) => return refused(Refusal::VariablesNotJson(e.to_string())),
        }
    }
    if let Some(ext) = params.extensions.filter(|v| !v.trim().is_empty()) {
        match serde_json::from_str::<async_graphql::Extensions>(&ext) {
            Ok(extensions) => request.extensions = extensions,
            Err(_) => return refused(Refusal::ExtensionsNotObject),
        }
    }
    let credentials = credentials(&state, authorization(&req).as_deref()).await;
    execute(&req, request, &state, &schema, true, credentials).await
}

/// The operation a document would run, when it can be told without executing.
fn operation_type(query: &str, name: Option<&str>) -> Option<OperationType> {
    let doc = async_graphql::parser::parse_query(query).ok()?;
    let mut ops = doc.operations.iter();
    match name {
        Some(name) => ops
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name))
            .map(|(_, op)| op.node.ty),
        None => {
            let (_, op) = ops.next()?;
            Some(op.node.ty)
        }
    }
}

/// The `Authorization` header, when it is text.
fn authorization(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Whether a response shows its document passed every check: errors of a
/// refused document (length, parse, validation, depth, cost, budget) have
/// no path; a resolver's errors have one.
fn document_passed(response: &async_graphql::Response) -> bool {
    response.errors.iter().all(|e| !e.path.is_empty())
}

async fn execute(
    req: &HttpRequest,
    mut request: async_graphql::Request,
    state: &AppState,
    schema: &NewsdeskSchema,
    via_get: bool,
    credentials: Credentials,
) -> HttpResponse {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let Some(media) = Media::negotiate(accept) else {
        return refused(Refusal::NotAcceptable);
    };
    let extension = request
        .extensions
        .get("persistedQuery")
        .and_then(|v| v.clone().into_json().ok());
    let mut learn = None;
    match state.persisted.resolve(&request.query, extension.as_ref()) {
        Ok(Resolved::Stored(query)) => request.query = query,
        Ok(Resolved::AsSent) => {}
        Ok(Resolved::Learn(hash)) => learn = Some(hash),
        Err(refusal) => return refused(refusal),
    }
    let max_chars = state.config.limits.max_query_chars;
    if request.query.chars().count() > max_chars {
        return refused(Refusal::QueryTooLong { max: max_chars });
    }
    // An operation that reads only the schema may nest as deep as the
    // standard introspection query does; anything touching data may not.
    let introspection = req
        .app_data::<web::Data<IntrospectionSchema>>()
        .filter(|_| {
            async_graphql::parser::parse_query(&request.query)
                .is_ok_and(|document| introspection_only(&document))
        });
    let schema = introspection.map_or(schema, |s| &s.0);
    // Parsed at most once, and only when something needs to know.
    let parsed = std::cell::OnceCell::new();
    let operation = || {
        *parsed.get_or_init(|| operation_type(&request.query, request.operation_name.as_deref()))
    };
    if via_get && operation().is_some_and(|ty| ty != OperationType::Query) {
        return refused(Refusal::MutationOverGet);
    }
    // Registering a query keeps memory until it is evicted: anonymous
    // clients may register only a few a minute.
    let per_minute = state.config.apq_registrations_per_minute;
    if learn.is_some() && per_minute > 0 && credentials.staff().is_none() {
        let client = super::rate_limit::client_of_request(req, &state.config.trusted_proxies);
        if let Some(client) = client {
            if let Err(wait) = state.apq_limits.hit(&client.to_string(), per_minute).await {
                return super::rate_limit::too_many("/graphql", wait);
            }
        }
    }
    let learn = learn.map(|hash| (hash, request.query.clone()));
    // Anonymous POSTed queries share the response cache with GET (which the
    // caching middleware serves before this handler).
    let anonymous = !req.headers().contains_key(header::AUTHORIZATION);
    let post_key = (!via_get && anonymous && state.cache.enabled()).then(|| {
        let variables = serde_json::to_vec(&request.variables).unwrap_or_default();
        crate::cache::ResponseCache::key(&[
            b"POST /graphql",
            request.query.as_bytes(),
            request.operation_name.as_deref().unwrap_or("").as_bytes(),
            &variables,
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .map(|v| v.as_bytes())
                .unwrap_or_default(),
            media.content_type().as_bytes(),
        ])
    });
    if let Some(entry) = post_key.and_then(|key| state.cache.get(key)) {
        // Only answers without errors are cached: the document passed.
        if let Some((hash, query)) = learn {
            state.persisted.learn(hash, &query);
        }
        return super::response_cache::replay(&entry);
    }
    let post_key = post_key.filter(|_| operation() == Some(OperationType::Query));
    let started = state.cache.begin();
    let default_script = Script::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let authorization = authorization(req);
    if let Some(staff) = credentials.staff() {
        let per_minute = state.config.mutations_per_minute;
        let mutation = operation() == Some(OperationType::Mutation);
        if per_minute > 0 && mutation {
            if let Err(wait) = state
                .account_limits
                .hit(&format!("user-{}", staff.user_id), per_minute)
                .await
            {
                return super::rate_limit::too_many("/graphql", wait);
            }
        }
    }
    // A staff mutation with an Idempotency-Key runs once, however often sent.
    let idempotency_key = req.headers().get(super::idempotency::HEADER);
    let keyed = match (credentials.staff(), idempotency_key) {
        (Some(staff), Some(key)) if operation() == Some(OperationType::Mutation) => {
            // A header that is not text is refused like an empty one.
            let key = key.to_str().unwrap_or("");
            match super::idempotency::plan(state, staff.user_id, key, &request).await {
                Ok(super::idempotency::Plan::Run(claim, running)) => Some((claim, running)),
                Ok(super::idempotency::Plan::Replay(answer)) => return answer,
                Err(error) => return refused(error),
            }
        }
        _ => None,
    };
    let request_id = req
        .extensions()
        .get::<super::request_id::CurrentRequestId>()
        .map(|id| id.0.clone());
    // Anonymous reads may come from a replica; anything with credentials
    // reads from the primary, and so sees its own writes.
    let reader = if authorization.is_none() {
        state.db.reader().await
    } else {
        state.db.clone()
    };
    let mut context = RequestContext::new(
        state.shared().clone(),
        reader,
        default_script,
        credentials,
        request_id,
    );
    context.idempotency = keyed.as_ref().map(|(claim, _)| claim.clone());
    let context = std::sync::Arc::new(context);
    let budget = state.config.execution_timeout;
    let query_text = request.query.clone();
    let execution = schema.execute(request.data(context.clone()));
    // A busy runtime may wake this task after both the work and the deadline
    // are done: the deadline is looked at first, so a request that ran past
    // its budget is answered as such, whatever the scheduler did. A keyed
    // write keeps its real reply, which its retries replay.
    let mut response = if keyed.is_some() {
        match tokio::time::timeout(budget, execution).await {
            Ok(response) => response,
            Err(_) => timed_out(budget),
        }
    } else {
        tokio::select! {
            biased;
            _ = tokio::time::sleep(budget) => timed_out(budget),
            response = execution => response,
        }
    };
    classify_errors(&mut response.errors);
    if let Some((hash, query)) = learn.filter(|_| document_passed(&response)) {
        state.persisted.learn(hash, &query);
    }
    readable_syntax_errors(&mut response.errors, &query_text);
    let languages = context.languages();
    let mut http = http_status(&response, media);
    // Anything sent with credentials may hold drafts: never for shared caches.
    let cacheable = via_get
        && req.method() == Method::GET
        && authorization.is_none()
        && response.errors.is_empty();
    if cacheable {
        http.insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.config.cache_max_age),
        ));
    } else {
        http.insert_header((header::CACHE_CONTROL, "private, no-store"));
    }
    if !languages.is_empty() {
        http.insert_header((header::CONTENT_LANGUAGE, languages.join(", ")));
    }
    let tags = context.tags();
    if cacheable && !tags.is_empty() {
        http.insert_header(("Surrogate-Key", tags.join(" ")));
    }
    http.insert_header((header::VARY, GRAPHQL_VARY));
    http.content_type(media.content_type());
    if let Some((claim, running)) = keyed {
        // The reply is kept before it is sent, so a retry after it finds it.
        let body = serde_json::to_string(&response).unwrap_or_default();
        super::idempotency::keep(state, claim, body.clone(), running).await;
        return http.body(body);
    }
    // A request that never ran has no `data` entry in the GraphQL response
    // media type (`data: null` would say it ran and failed).
    let serialised = if media == Media::GraphqlResponse && is_request_error(&response) {
        serde_json::to_vec(&json!({ "errors": response.errors }))
    } else {
        serde_json::to_vec(&response)
    };
    // Serialised once: the same bytes are sent now and replayed later.
    let body = match serialised {
        Ok(b) => actix_web::web::Bytes::from(b),
        Err(e) => {
            tracing::error!(error = %e, "a GraphQL response could not be serialised");
            return refused(Refusal::Unwritable);
        }
    };
    let cache_post = post_key.filter(|_| response.errors.is_empty());
    let Some(key) = cache_post else {
        return http.body(body);
    };
    let sent = http.body(body.clone());
    let headers = super::response_cache::kept_headers(sent.headers(), &body);
    state
        .cache
        .put(key, started, StatusCode::OK, headers, body, tags);
    sent
}

/// The status of an executed request's answer. An error that halts the
/// request (the database is down, a limit was reached …) gives its status,
/// the most severe first (503, then 429, then 409), so clients and load
/// balancers back off, with the soonest `Retry-After` among those errors.
/// Otherwise GraphQL over HTTP: 504 for a request that ran out of time and
/// 400 for one that never ran, in the GraphQL response media type only.
fn http_status(response: &async_graphql::Response, media: Media) -> HttpResponseBuilder {
    let halting = || {
        response
            .errors
            .iter()
            .filter_map(|e| e.source::<AppError>())
            .filter(|e| e.halts_request())
    };
    if let Some(status) = halting().map(|e| e.status_code()).max() {
        let mut http = HttpResponse::build(status);
        let soonest = halting()
            .filter(|e| e.status_code() == status)
            .filter_map(AppError::retry_after)
            .min();
        if let Some(seconds) = soonest {
            http.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        return http;
    }
    let timed_out = response.errors.iter().any(|e| {
        e.extensions.as_ref().and_then(|x| x.get("code"))
            == Some(&async_graphql::Value::from(AppError::Timeout.code()))
    });
    if media == Media::GraphqlResponse && timed_out {
        HttpResponse::GatewayTimeout()
    } else if media == Media::GraphqlResponse && is_request_error(response) {
        HttpResponse::BadRequest()
    } else {
        HttpResponse::Ok()
    }
}

/// Whether nothing ran: no data and only errors of the request itself (a
/// document that does not parse or validate, a limit), none of a field.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// The answer to a request that ran past its budget. Work already handed to
/// the database may still finish: a write that timed out has an unknown
/// outcome, which is what `Idempotency-Key` retries are for.
fn timed_out(budget: std::time::Duration) -> async_graphql::Response {
    async_graphql::Response::from_errors(vec![crate::graphql::rejection(
        format!("the request ran longer than {} ms", budget.as_millis()),
        AppError::Timeout.code(),
    )])
}

/// What the `Authorization: Bearer …` header amounts to.
async fn credentials(state: &AppState, authorization: Option<&str>) -> Credentials {
    let Some(value) = authorization else {
        return Credentials::None;
    };
    let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|t| t.trim().to_string())
    else {
        return Credentials::Invalid;
    };
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
            Credentials::Invalid
        }
        Err(_) => Credentials::Invalid,
    }
}

enum BodyError {
    TooLarge,
    Broken,
    TooSlow,
}

/// Reads the body, stopping as soon as it passes `limit` bytes.
async fn read_limited(mut body: web::Payload, limit: usize) -> Result<web::Bytes, BodyError> {
    use futures_util::StreamExt;
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| BodyError::Broken)?;
        if buf.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
