//! The media type of an answer, negotiated from `Accept`.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::error::{AppError, RequestRefusal};

/// The two media types of a GraphQL response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: HTTP status codes follow the outcome.
    GraphqlResponse,
    /// `application/json`: 200 for whatever ran, for older clients.
    Json,
}

impl Media {
    /// The media type `req` accepts; neither is `NOT_ACCEPTABLE`.
    pub fn of(req: &HttpRequest) -> Result<Media, AppError> {
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        Media::negotiate(accept).ok_or_else(|| RequestRefusal::NotAcceptable.into())
    }

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
            let (media, q) = media_range(range);
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

/// One range of an `Accept` header: its media type, lower case, and its
/// quality (1 when not given).
fn media_range(range: &str) -> (String, f32) {
    let mut parts = range.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let q = parts
        .filter_map(|p| p.trim().strip_prefix("q="))
        .find_map(|q| q.trim().parse::<f32>().ok())
        .unwrap_or(1.0)
        .clamp(0.0, 1.0);
    (media, q)
}
