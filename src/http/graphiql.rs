//! GraphiQL, served whole from the binary: the page at `GET /graphql` (with
//! `Accept: text/html` and `NEWSDESK_GRAPHIQL=1`) and its bundled script,
//! stylesheet and editor workers under `/graphiql/{version}/`, built by
//! `make graphiql` into `assets/graphiql/`. Nothing is fetched from another
//! origin, so the page works offline.
//!
//! The page's Content-Security-Policy allows only this origin, with two
//! exceptions GraphiQL strictly needs: `style-src 'unsafe-inline'`, because
//! its editor (Monaco) and React set inline styles and insert `<style>`
//! elements at run time, and `data:` for fonts and images, because the
//! bundled stylesheet carries the editor's icon font and a few icons inline.
//! `connect-src 'self'` covers both `fetch` to `/graphql` and the WebSocket
//! at the same origin that subscriptions will use.

use std::sync::LazyLock;

use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};

/// The bundled files: name, content type, bytes.
const ASSETS: [(&str, &str, &[u8]); 5] = [
    (
        "graphiql.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.js"),
    ),
    (
        "graphiql.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.css"),
    ),
    (
        "editor.worker.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/editor.worker.js"),
    ),
    (
        "json.worker.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/json.worker.js"),
    ),
    (
        "graphql.worker.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphql.worker.js"),
    ),
];

/// The Content-Security-Policy of the page (see the module doc).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
     worker-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The folder name the assets are served under: it changes whenever their
/// bytes do, so they can be cached for a year.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut digest = Sha256::new();
    for (name, _, bytes) in ASSETS {
        digest.update(name.as_bytes());
        digest.update(bytes);
    }
    digest.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
});

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/graphiql/{version}/{file}", web::get().to(asset));
}

/// The GraphiQL page.
pub fn page() -> HttpResponse {
    let base = format!("/graphiql/{}", *VERSION);
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>newsdesk GraphiQL</title>\n\
         <link rel=\"stylesheet\" href=\"{base}/graphiql.css\">\n\
         <script src=\"{base}/graphiql.js\" defer></script>\n</head>\n\
         <body>\n<div id=\"graphiql\">Loading GraphiQL…</div>\n</body>\n</html>\n"
    );
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::VARY, "Accept"))
        .body(html)
}

/// One bundled file, when `version` is the current one and GraphiQL is on.
async fn asset(
    path: web::Path<(String, String)>,
    state: web::Data<super::AppState>,
) -> Result<HttpResponse, crate::error::AppError> {
    let (version, file) = path.into_inner();
    let found = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .filter(|_| state.config.graphiql && version == *VERSION);
    let Some((_, content_type, bytes)) = found else {
        return Err(crate::error::AppError::NotFound);
    };
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(*bytes))
}
