//! The OpenAPI 3.1 document of every route but `/graphql`: `/v1`, ninjs,
//! feeds and health. Served at `/v1/openapi.json` and checked in as
//! `openapi.json`. What every GET shares (the `ETag`, 304, 429 and 503 with
//! `Retry-After`, 400 for a query string that does not parse, 404 for a path
//! parameter that does not) is added in one place, [`SharedResponses`].

use actix_web::http::header;
use actix_web::HttpResponse;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Object, Ref, RefOr, Response, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi};

use super::bodies::{ErrorBody, ErrorDetail, Health, Ninjs, NinjsFeed};
use super::rest::{
    ArticleDetail, ArticlePage, ArticleSummary, Notice, RecommendationView, RemovedArticleView,
    RemovedPage, SectionView, SiteView, TombstoneBody,
};
use super::search::{
    MonthFacet, SearchFacets, SearchItem, SearchPage, SectionFacet, SuggestionItem, SuggestionList,
};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsdesk REST API",
        description = "Compact JSON for mobile apps and partners, IPTC ninjs, RSS/Atom/JSON \
            Feed, and health checks. Error codes: docs/errors.md."
    ),
    servers((url = "/", description = "The server this document was fetched from")),
    paths(
        super::search::search_articles,
        super::search::suggest_titles,
        super::stream::stream_changes,
        super::rest::list_articles,
        super::rest::article,
        super::rest::list_sections,
        super::rest::get_site,
        super::rest::get_recommendations,
        super::rest::removed,
        super::feeds::ninjs_article,
        super::feeds::ninjs_feed,
        super::feeds::feed,
        super::sitemaps::robots,
        super::sitemaps::sitemap_index,
        super::sitemaps::sitemap,
        super::media::upload_media,
        super::media::media_file,
        super::health::healthz,
        super::health::readyz
    ),
    components(schemas(
        SearchPage,
        SearchItem,
        SearchFacets,
        SectionFacet,
        MonthFacet,
        SuggestionList,
        SuggestionItem,
        ArticlePage,
        ArticleSummary,
        ArticleDetail,
        Notice,
        SectionView,
        SiteView,
        RecommendationView,
        RemovedPage,
        RemovedArticleView,
        ErrorBody,
        ErrorDetail,
        TombstoneBody,
        Ninjs,
        NinjsFeed,
        Health,
        super::media::MediaView,
        super::media::UploadForm
    )),
    modifiers(&SharedResponses)
)]
pub struct ApiDoc;

/// The document as checked in.
pub fn openapi() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default() + "\n"
}

pub(super) async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(openapi())
}

/// Adds what every GET route answers to each operation.
pub struct SharedResponses;

fn text_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Object::with_type(Type::String))
        .description(Some(description))
        .build()
}

fn retry_after() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Object::with_type(Type::Integer))
        .description(Some("Seconds to wait before retrying"))
        .build()
}

fn error_response(description: &str, retry: bool) -> RefOr<Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build(),
    );
    if retry {
        response = response.header("Retry-After", retry_after());
    }
    RefOr::T(response.build())
}

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "partner_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "A partner key (`newsdesk partner add`); `Authorization: Bearer KEY` works too",
            ))),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let Some(op) = item.get.as_mut() else {
                continue;
            };
            let health = matches!(path.as_str(), "/healthz" | "/readyz");
            let params = op.parameters.as_deref().unwrap_or_default();
            let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
            let has_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
            let responses = &mut op.responses.responses;
            if let Some(RefOr::T(ok)) = responses.get_mut("200") {
                ok.headers.insert(
                    "ETag".into(),
                    text_header("Strong validator of the bytes sent; send it as If-None-Match"),
                );
                ok.headers.insert(
                    "Cache-Control".into(),
                    text_header("`public, max-age=…`, or `private, no-store` for partners"),
                );
                if !health {
                    ok.headers.insert(
                        "Surrogate-Key".into(),
                        text_header(
                            "Cache tags the answer depends on (`article-ID`, `section-ID`, \
                             `articles`, `sections`, `list-NAME`, `site`, `removed`), \
                             the keys a purge names",
                        ),
                    );
                }
            }
            responses.insert(
                "304".into(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description(
                            "Not modified: the request's If-None-Match or If-Modified-Since still holds",
                        )
                        .header("ETag", text_header("The validator that matched"))
                        .build(),
                ),
            );
            if has_query && !responses.contains_key("400") {
                responses.insert(
                    "400".into(),
                    error_response("The query string does not parse", false),
                );
            }
            if has_path && !responses.contains_key("404") {
                responses.insert(
                    "404".into(),
                    error_response("The path names nothing", false),
                );
            }
            if !health {
                responses.insert(
                    "429".into(),
                    error_response("A rate limit was reached (`TOO_MANY_REQUESTS`)", true),
                );
                responses.insert(
                    "503".into(),
                    error_response(
                        "The database cannot be reached, or the request ran out of time",
                        true,
                    ),
                );
            }
        }
    }
}
