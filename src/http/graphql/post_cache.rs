//! Anonymous POSTed queries share the response cache with GET, which the
//! caching middleware serves before this handler.

use actix_web::http::{header, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use super::media::Media;
use super::operation::Operation;
use super::request::Via;
use crate::cache::ResponseCache;
use crate::domain::CacheKey;
use crate::http::response_cache::{kept_headers, replay};
use crate::http::AppState;

/// Where an anonymous POST's answer is kept, when the cache is on.
pub struct PostCache {
    key: Option<u64>,
}

impl PostCache {
    pub fn new(
        req: &HttpRequest,
        state: &AppState,
        request: &async_graphql::Request,
        via: Via,
        media: Media,
    ) -> Self {
        let anonymous = !req.headers().contains_key(header::AUTHORIZATION);
        let key = (via == Via::Post && anonymous && state.cache.enabled()).then(|| {
            let variables = serde_json::to_vec(&request.variables).unwrap_or_default();
            ResponseCache::key(&[
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
        PostCache { key }
    }

    /// The kept answer, if there is one. Only answers without errors are
    /// kept: its document passed every check.
    pub fn lookup(&self, state: &AppState) -> Option<HttpResponse> {
        let entry = state.cache.get(self.key?)?;
        Some(replay(&entry))
    }

    /// Only a query's answer is worth keeping.
    pub fn queries_only(self, operation: &Operation<'_>) -> Self {
        PostCache {
            key: self.key.filter(|_| operation.is_query()),
        }
    }

    /// Sends `body`, keeping it when the request ran without errors;
    /// `started` is the cache clock's time before the work began (see
    /// [`ResponseCache::begin`]).
    pub fn store(
        self,
        state: &AppState,
        started: u64,
        response: &async_graphql::Response,
        mut http: HttpResponseBuilder,
        body: Bytes,
        tags: Vec<CacheKey>,
    ) -> HttpResponse {
        let Some(key) = self.key.filter(|_| response.errors.is_empty()) else {
            return http.body(body);
        };
        let sent = http.body(body.clone());
        let headers = kept_headers(sent.headers(), &body);
        state
            .cache
            .put(key, started, StatusCode::OK, headers, body, tags);
        sent
    }
}
