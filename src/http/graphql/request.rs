//! The GraphQL request a POST body or a GET query string carries. A body is
//! refused before it is parsed when its media type is not JSON, when it is
//! larger than the caller may send or slower than the body budget, or when
//! it is a batch.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use serde::Deserialize;

use crate::auth::Credentials;
use crate::config::QueryLimits;
use crate::error::{AppError, RequestRefusal};

/// Refuses a body that is not JSON: a cross-site form or `text/plain` POST
/// must not reach a resolver.
pub fn require_json(req: &HttpRequest) -> Result<(), AppError> {
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
    if json_body {
        Ok(())
    } else {
        Err(RequestRefusal::UnsupportedMediaType.into())
    }
}

/// The request a POST body holds, read within the size and time limits.
pub async fn from_body(
    req: &HttpRequest,
    body: web::Payload,
    limits: &QueryLimits,
    credentials: &Credentials,
) -> Result<async_graphql::Request, AppError> {
    let limit = body_limit(limits, credentials);
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return Err(RequestRefusal::PayloadTooLarge { limit }.into());
    }
    let too_large = RequestRefusal::PayloadTooLarge { limit }.into();
    let bytes = read_within(body, limit, limits.body_timeout, too_large).await?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(RequestRefusal::Batch.into());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| RequestRefusal::NotAGraphqlRequest(e.to_string()).into())
}

/// Whether the body is `multipart/form-data`.
pub fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// The request of a GraphQL multipart upload (one file of at most
/// `file_limit` bytes), read within the size and time limits.
pub async fn from_multipart(
    req: &HttpRequest,
    body: web::Payload,
    limits: &QueryLimits,
    file_limit: usize,
) -> Result<async_graphql::Request, AppError> {
    let limit = file_limit + limits.max_editorial_body_bytes;
    // A picture takes longer to send than a query: six body budgets.
    let too_large = crate::error::MediaRefusal::TooLarge { limit: file_limit }.into();
    let bytes = read_within(body, limit, limits.body_timeout * 6, too_large).await?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let options = async_graphql::http::MultipartOptions::default()
        .max_file_size(file_limit)
        .max_num_files(1);
    async_graphql::http::receive_body(content_type, futures_util::io::Cursor::new(bytes), options)
        .await
        .map_err(|e| match e {
            async_graphql::ParseRequestError::PayloadTooLarge => {
                crate::error::MediaRefusal::TooLarge { limit: file_limit }.into()
            }
            other => RequestRefusal::NotAGraphqlRequest(other.to_string()).into(),
        })
}

/// Anonymous callers only read; writers send whole articles. The larger
/// limit is earned by a token that verifies, before the body is read: a
/// token that does not verify is held to the anonymous limit.
fn body_limit(limits: &QueryLimits, credentials: &Credentials) -> usize {
    if credentials.staff().is_some() {
        limits.max_editorial_body_bytes
    } else {
        limits.max_body_bytes
    }
}

/// The body, read to at most `limit` bytes within `budget`; `too_large`
/// is the answer to a larger one.
async fn read_within(
    body: web::Payload,
    limit: usize,
    budget: std::time::Duration,
    too_large: AppError,
) -> Result<web::Bytes, AppError> {
    let read = tokio::time::timeout(budget, read_limited(body, limit)).await;
    match read.unwrap_or(Err(BodyError::TooSlow)) {
        Ok(bytes) => Ok(bytes),
        Err(BodyError::TooSlow) => Err(RequestRefusal::BodyTooSlow {
            millis: budget.as_millis(),
        }
        .into()),
        Err(BodyError::TooLarge) => Err(too_large),
        Err(BodyError::Broken) => Err(RequestRefusal::UnreadableBody.into()),
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

#[derive(Debug, Deserialize)]
struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// The request a GET query string holds; `None` when it names no query (a
/// persisted query's `extensions` alone is enough).
pub fn from_query_string(req: &HttpRequest) -> Result<Option<async_graphql::Request>, AppError> {
    let params = web::Query::<GetParams>::from_query(req.query_string())
        .map_err(|e| RequestRefusal::BadQueryString(e.to_string()))?
        .into_inner();
    let given = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
    let has_extensions = given(&params.extensions);
    let Some(query) = params.query.or(has_extensions.then(String::new)) else {
        return Ok(None);
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables.filter(|v| !v.trim().is_empty()) {
        let value = serde_json::from_str::<serde_json::Value>(&vars)
            .map_err(|e| RequestRefusal::VariablesNotJson(e.to_string()))?;
        request = request.variables(async_graphql::Variables::from_json(value));
    }
    if let Some(ext) = params.extensions.filter(|v| !v.trim().is_empty()) {
        request.extensions = serde_json::from_str::<async_graphql::Extensions>(&ext)
            .map_err(|_| RequestRefusal::ExtensionsNotObject)?;
    }
    Ok(Some(request))
}

/// Whether a browser asks for a page (GraphiQL) rather than data.
pub fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// How a request came: GET carries queries only, and its public answers
/// may be kept by shared caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Get,
    Post,
}
