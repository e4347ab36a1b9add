//! One `Vary` header per answer, naming every request header the answer
//! depends on. Handlers name what they negotiate (`Accept-Language`,
//! `Accept`, `Authorization`, `X-Api-Key`), CORS names `Origin` and its
//! preflight headers, and compression appends `accept-encoding` in a line of
//! its own only when it encodes. A shared cache may read just one of several
//! `Vary` lines, and an answer that was not encoded still varies on
//! `Accept-Encoding` (another client's request would have been), so the
//! outermost middleware merges the lines into one and always names
//! `Accept-Encoding`: every route sits behind the compressor.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;

/// The request headers named by every `Vary` line of `headers`, each once, in
/// the order first named, written in their usual capitalisation.
pub fn varied_headers(headers: &HeaderMap) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let lines = headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok());
    for name in lines.flat_map(|line| line.split(',')).map(str::trim) {
        if !name.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push(capitalised(name));
        }
    }
    names
}

/// `accept-encoding` → `Accept-Encoding`.
fn capitalised(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                }
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The middleware (`middleware::from_fn(vary::one_vary_header)`), outermost.
pub async fn one_vary_header(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let mut names = varied_headers(headers);
    if names.iter().any(|n| n == "*") {
        names = vec!["*".into()];
    } else if !names.iter().any(|n| n == "Accept-Encoding") {
        names.push("Accept-Encoding".into());
    }
    if let Ok(value) = HeaderValue::from_str(&names.join(", ")) {
        headers.insert(header::VARY, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vary_line_is_read_and_each_name_kept_once() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::VARY,
            HeaderValue::from_static("Accept-Language, Origin"),
        );
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        headers.append(header::VARY, HeaderValue::from_static("origin,x-api-key"));

        assert_eq!(
            varied_headers(&headers),
            ["Accept-Language", "Origin", "Accept-Encoding", "X-Api-Key"]
        );
    }
}
