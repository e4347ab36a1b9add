//! Requests per client address and minute (`NEWSDESK_RATE_LIMIT_PER_MINUTE`).
//!
//! The client is the peer address, or, when the peer is one of
//! `NEWSDESK_TRUSTED_PROXIES`, the right-most address of `X-Forwarded-For`
//! that is not a trusted proxy: a client cannot pick its own bucket by
//! sending the header. Probes and metrics are never limited. Counts live in
//! this process; nodes behind one load balancer each count their own share.

use std::net::IpAddr;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use ipnet::IpNet;
use serde_json::json;

use crate::graphql::AppState;

/// The address the request is counted against.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = forwarded_for
        .unwrap_or("")
        .split(',')
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    // Right to left: the first address a trusted proxy did not add itself.
    Some(
        hops.iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .or(hops.first())
            .copied()
            .unwrap_or(peer),
    )
}

/// The address `req` is counted against.
pub fn client_of(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    client_address(
        req.peer_addr().map(|a| a.ip()),
        req.headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok()),
        trusted,
    )
}

/// A 429 in the shape of the route: GraphQL errors on `/graphql`, the
/// REST error body elsewhere.
pub fn too_many(path: &str, wait: u64) -> HttpResponse {
    let message = format!("rate limit reached; retry in {wait} s");
    let body = if path == "/graphql" {
        json!({ "data": null, "errors": [{ "message": message, "extensions": { "code": "TOO_MANY_REQUESTS" } }] })
    } else {
        json!({ "error": { "code": "TOO_MANY_REQUESTS", "message": message } })
    };
    HttpResponse::TooManyRequests()
        .insert_header((header::RETRY_AFTER, wait.to_string()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// The middleware (`middleware::from_fn(rate_limit::limit_clients)`).
pub async fn limit_clients(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let counted = req.app_data::<web::Data<AppState>>().and_then(|state| {
        let per_minute = state.config.rate_limit_per_minute;
        if per_minute == 0 || matches!(req.path(), "/healthz" | "/livez" | "/readyz" | "/metrics") {
            return None;
        }
        let client = client_of(req.request(), &state.config.trusted_proxies)?;
        Some((state.client_limits.clone(), client, per_minute))
    });
    let verdict = match counted {
        Some((limits, client, per_minute)) => {
            limits.hit(&client.to_string(), per_minute).await.err()
        }
        None => None,
    };
    if let Some(wait) = verdict {
        let response = too_many(req.path(), wait);
        let (http, _) = req.into_parts();
        return Ok(ServiceResponse::new(http, response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        // Not from a proxy: the header is the client's own claim.
        assert_eq!(
            client_address(Some(ip("203.0.113.9")), Some("1.2.3.4"), &proxies),
            Some(ip("203.0.113.9"))
        );
        // Through our proxy: the right-most address it did not add.
        assert_eq!(
            client_address(
                Some(ip("10.0.0.2")),
                Some("6.6.6.6, 198.51.100.7, 10.0.0.3"),
                &proxies
            ),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), None, &proxies),
            Some(ip("10.0.0.2"))
        );
    }
}
