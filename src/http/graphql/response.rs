//! The answer: its status, its headers and its body, and the answer to a
//! request refused before it ran.

use actix_web::http::{header, Method};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError};
use serde_json::json;

use super::authentication::authorization;
use super::media::Media;
use super::request::Via;
use crate::domain::cache_key::{surrogate_keys, CacheKey};
use crate::error::{AppError, RequestRefusal};
use crate::graphql::RequestContext;

/// The request headers every `/graphql` answer depends on.
pub const GRAPHQL_VARY: &str = "Accept, Accept-Language, Authorization";

/// A request refused before it ran, in the GraphQL response shape.
pub fn refused(error: AppError) -> HttpResponse {
    let mut response = error.graphql_response();
    // These answers depend on `Accept`; no cache may give them to another.
    if matches!(
        error,
        AppError::Refused(RequestRefusal::NotAcceptable | RequestRefusal::MissingQuery)
    ) {
        response
            .headers_mut()
            .insert(header::VARY, header::HeaderValue::from_static(GRAPHQL_VARY));
    }
    response
}

/// What the headers of an executed request's answer depend on, beside
/// the response itself.
pub struct Answer {
    media: Media,
    /// A GET without credentials: its answer may go to shared caches.
    public: bool,
    max_age: u32,
    languages: Vec<&'static str>,
    tags: Vec<CacheKey>,
}

impl Answer {
    pub fn new(
        req: &HttpRequest,
        via: Via,
        media: Media,
        max_age: u32,
        context: &RequestContext,
    ) -> Self {
        Answer {
            media,
            // Anything sent with credentials may hold drafts.
            public: via == Via::Get && req.method() == Method::GET && authorization(req).is_none(),
            max_age,
            languages: context.languages(),
            tags: context.tags(),
        }
    }

    /// The status and headers of the answer to `response`.
    pub fn head(&self, response: &async_graphql::Response) -> HttpResponseBuilder {
        let mut http = status(response, self.media);
        let cacheable = self.public && response.errors.is_empty();
        if cacheable {
            let max_age = self.max_age;
            http.insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")));
        } else {
            http.insert_header((header::CACHE_CONTROL, "private, no-store"));
        }
        if !self.languages.is_empty() {
            http.insert_header((header::CONTENT_LANGUAGE, self.languages.join(", ")));
        }
        if cacheable && !self.tags.is_empty() {
            http.insert_header(("Surrogate-Key", surrogate_keys(&self.tags)));
        }
        http.insert_header((header::VARY, GRAPHQL_VARY));
        http.content_type(self.media.content_type());
        http
    }
}

/// The status of an executed request's answer. An error that halts the
/// request (the database is down, a limit was reached …) gives its status,
/// the most severe first (503, then 429, then 409), so clients and load
/// balancers back off, with the soonest `Retry-After` among those errors.
/// Otherwise GraphQL over HTTP: 504 for a request that ran out of time and
/// 400 for one that never ran, in the GraphQL response media type only.
fn status(response: &async_graphql::Response, media: Media) -> HttpResponseBuilder {
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
    if media == Media::GraphqlResponse && timed_out(response) {
        HttpResponse::GatewayTimeout()
    } else if media == Media::GraphqlResponse && is_request_error(response) {
        HttpResponse::BadRequest()
    } else {
        HttpResponse::Ok()
    }
}

fn timed_out(response: &async_graphql::Response) -> bool {
    let timeout = async_graphql::Value::from(AppError::Timeout.code());
    response
        .errors
        .iter()
        .any(|e| e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&timeout))
}

/// Whether nothing ran: no data and only errors of the request itself (a
/// document that does not parse or validate, a limit), none of a field.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// The body, serialised once: the same bytes are sent now and replayed
/// later. A request that never ran has no `data` entry in the GraphQL
/// response media type (`data: null` would say it ran and failed).
pub fn body(response: &async_graphql::Response, media: Media) -> Result<Bytes, AppError> {
    let serialised = if media == Media::GraphqlResponse && is_request_error(response) {
        serde_json::to_vec(&json!({ "errors": response.errors }))
    } else {
        serde_json::to_vec(response)
    };
    serialised.map(Bytes::from).map_err(|e| {
        tracing::error!(error = %e, "a GraphQL response could not be serialised");
        RequestRefusal::Unwritable.into()
    })
}
