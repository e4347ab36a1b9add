//! Requests per client address and minute (`NEWSDESK_RATE_LIMIT_PER_MINUTE`).
//!
//! The client is the peer address, or, when the peer is one of
//! `NEWSDESK_TRUSTED_PROXIES`, the right-most address that is not a trusted
//! proxy in the chain of hops the proxies wrote: every `X-Forwarded-For`
//! line, joined in order (a proxy may append a line of its own rather than
//! extend the client's), and likewise the `for=` nodes of every RFC 7239
//! `Forwarded` line. A proxy writes one of the two headers and passes the
//! other through from the client untouched, and which one is not known
//! here, so when both name a client the request counts against each: a
//! client cannot leave its own bucket by sending the other header. Probes
//! and metrics are never limited. Counts live in this process (or Redis);
//! nodes behind one load balancer each count their own share.

use std::net::IpAddr;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use ipnet::IpNet;

use super::AppState;
use crate::error::{AppError, RequestRefusal};

/// One hop of a forwarding chain: an address, or `None` for a node that
/// names no address (`unknown`, an obfuscated `_identifier`, garbage).
type Hop = Option<IpAddr>;

/// The addresses the request is counted against (one, or two when the
/// `X-Forwarded-For` and `Forwarded` chains disagree).
pub fn client_addresses(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Vec<IpAddr> {
    let Some(peer) = peer else {
        return Vec::new();
    };
    if !trusted.iter().any(|net| net.contains(&peer)) {
        return vec![peer];
    }
    let lines = |name: &str| -> Option<String> {
        let joined: Vec<&str> = headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!joined.is_empty()).then(|| joined.join(","))
    };
    let mut chains = Vec::new();
    if let Some(xff) = lines("x-forwarded-for") {
        chains.push(xff.split(',').map(node).collect::<Vec<Hop>>());
    }
    if let Some(forwarded) = lines("forwarded") {
        chains.push(forwarded_for(&forwarded));
    }
    if chains.is_empty() {
        return vec![peer];
    }
    let mut clients: Vec<IpAddr> = Vec::new();
    for hops in chains {
        let client = client_of(peer, &hops, trusted);
        if !clients.contains(&client) {
            clients.push(client);
        }
    }
    clients
}

/// The client of one chain: right to left, the first address a trusted
/// proxy did not add. A hop naming no address ends the walk at the last
/// known hop to its right, since what lies left of it came through a node
/// that cannot be identified. All hops trusted: the left-most.
fn client_of(peer: IpAddr, hops: &[Hop], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if is_trusted(ip) => nearest = *ip,
            Some(ip) => return *ip,
            None => return nearest,
        }
    }
    nearest
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:8080`,
/// `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:4711`, optionally quoted.
fn node(raw: &str) -> Hop {
    let raw = raw.trim().trim_matches('"');
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = raw.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.starts_with(':')) {
            return None;
        }
        return inside.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let (host, port) = raw.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The `for=` node of each element of an RFC 7239 `Forwarded` value, in
/// order; an element without `for=` is a hop naming no address.
fn forwarded_for(value: &str) -> Vec<Hop> {
    split_unquoted(value, ',')
        .into_iter()
        .filter(|element| !element.trim().is_empty())
        .map(|element| {
            split_unquoted(element, ';').into_iter().find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| node(value))
            })?
        })
        .collect()
}

/// `value` split at `separator` outside quoted strings (RFC 9110 §5.6.4).
fn split_unquoted(value: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (at, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&value[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// The first address `req` is counted against, for limits that count one
/// client (persisted-query registrations).
pub fn client_of_request(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    client_addresses(req.peer_addr().map(|a| a.ip()), req.headers(), trusted)
        .into_iter()
        .next()
}

/// A 429 in the shape of the route: GraphQL errors on `/graphql`, the
/// REST error body elsewhere.
pub fn too_many(path: &str, wait: u64) -> HttpResponse {
    let error = AppError::from(RequestRefusal::OverRateLimit { retry_after: wait });
    if path == "/graphql" {
        error.graphql_response()
    } else {
        error.error_response()
    }
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
        let clients = client_addresses(
            req.peer_addr().map(|a| a.ip()),
            req.headers(),
            &state.config.trusted_proxies,
        );
        Some((state.client_limits.clone(), clients, per_minute))
    });
    let mut verdict = None;
    if let Some((limits, clients, per_minute)) = counted {
        for client in clients {
            if let Err(wait) = limits.hit(&client.to_string(), per_minute).await {
                verdict = verdict.max(Some(wait));
            }
        }
    }
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
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn proxies() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().expect("net")]
    }

    fn headers(lines: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in lines {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn clients(peer: &str, lines: &[(&'static str, &'static str)]) -> Vec<IpAddr> {
        client_addresses(Some(ip(peer)), &headers(lines), &proxies())
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        // Not from a proxy: the header is the client's own claim.
        assert_eq!(
            clients("203.0.113.9", &[("x-forwarded-for", "1.2.3.4")]),
            [ip("203.0.113.9")]
        );
        // Through our proxy: the right-most address it did not add.
        assert_eq!(
            clients(
                "10.0.0.2",
                &[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.3")]
            ),
            [ip("198.51.100.7")]
        );
        assert_eq!(clients("10.0.0.2", &[]), [ip("10.0.0.2")]);
    }

    #[test]
    fn every_forwarded_for_line_is_read_in_order() {
        // The client's own line first, the proxy's appended line after it.
        assert_eq!(
            clients(
                "10.0.0.2",
                &[
                    ("x-forwarded-for", "6.6.6.6"),
                    ("x-forwarded-for", "198.51.100.7")
                ]
            ),
            [ip("198.51.100.7")]
        );
        assert_eq!(
            clients(
                "10.0.0.2",
                &[
                    ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
                    ("x-forwarded-for", "10.0.0.3")
                ]
            ),
            [ip("198.51.100.7")]
        );
    }

    #[test]
    fn forwarded_names_the_client_by_its_for_parameters() {
        for (value, client) in [
            ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
            (r#"for="[2001:db8:cafe::17]:4711""#, "2001:db8:cafe::17"),
            (r#"For="[2001:db8::1]", for=198.51.100.7"#, "198.51.100.7"),
            (r#"for="192.0.2.43:47011", for=10.0.0.3"#, "192.0.2.43"),
            (
                r#"for=6.6.6.6;by="a,b", for=198.51.100.7;proto=https"#,
                "198.51.100.7",
            ),
        ] {
            let lines = [("forwarded", value)];
            let map = headers(&lines);
            assert_eq!(
                client_addresses(Some(ip("10.0.0.2")), &map, &proxies()),
                [ip(client)],
                "{value}"
            );
        }
        // Two lines, the proxy's last.
        assert_eq!(
            clients(
                "10.0.0.2",
                &[
                    ("forwarded", "for=6.6.6.6"),
                    ("forwarded", "for=198.51.100.7")
                ]
            ),
            [ip("198.51.100.7")]
        );
    }

    #[test]
    fn a_node_without_an_address_ends_the_chain_at_the_nearest_known_hop() {
        // An obfuscated or unknown node: what lies left of it is unverifiable.
        for value in [
            "for=6.6.6.6, for=_hidden",
            "for=6.6.6.6, for=unknown",
            "for=6.6.6.6, proto=https",
        ] {
            let lines = [("forwarded", value)];
            let map = headers(&lines);
            assert_eq!(
                client_addresses(Some(ip("10.0.0.2")), &map, &proxies()),
                [ip("10.0.0.2")],
                "{value}"
            );
        }
        assert_eq!(
            clients(
                "10.0.0.2",
                &[("forwarded", "for=6.6.6.6, for=_hidden, for=10.0.0.3")]
            ),
            [ip("10.0.0.3")]
        );
    }

    #[test]
    fn both_headers_count_against_each_client_they_name() {
        assert_eq!(
            clients(
                "10.0.0.2",
                &[
                    ("x-forwarded-for", "198.51.100.7"),
                    ("forwarded", "for=6.6.6.6")
                ]
            ),
            [ip("198.51.100.7"), ip("6.6.6.6")]
        );
        assert_eq!(
            clients(
                "10.0.0.2",
                &[
                    ("x-forwarded-for", "198.51.100.7"),
                    ("forwarded", "for=198.51.100.7")
                ]
            ),
            [ip("198.51.100.7")]
        );
    }
}
