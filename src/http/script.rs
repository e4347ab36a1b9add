//! The script a REST or feed request asks for.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::error::AppError;
use crate::graphql::Script;

/// The script a request asks for: `?script=` when given, else its
/// `Accept-Language` (zh-CN → simplified, zh-TW → traditional), else as stored.
pub fn request_script(req: &HttpRequest, value: Option<&str>) -> Result<Script, AppError> {
    match value {
        Some(v) => script_param(Some(v)),
        None => Ok(Script::from_accept_language(
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )),
    }
}

/// `hans`, `hant` … from a query string.
pub fn script_param(value: Option<&str>) -> Result<Script, AppError> {
    match value.map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("original") => Ok(Script::Original),
        Some("hans") => Ok(Script::Hans),
        Some("hant") => Ok(Script::Hant),
        Some("hant-tw") | Some("hant_tw") => Ok(Script::HantTw),
        Some("hant-hk") | Some("hant_hk") => Ok(Script::HantHk),
        Some(other) => Err(AppError::BadInput(format!(
            "script: expected hans, hant, hant-tw, hant-hk or original, got {other:?}"
        ))),
    }
}
