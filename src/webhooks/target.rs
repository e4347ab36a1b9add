//! Where a webhook or the purge hook may point. Every special-purpose
//! address block ([`SPECIAL`]: loopback, private, link-local, documentation,
//! benchmarking, transition forms …) is refused (unless
//! NEWSDESK_WEBHOOK_ALLOW_PRIVATE=1),
//! at registration and again at every delivery, where the address checked is
//! the address connected to, so DNS rebinding gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use reqwest::Url;

use crate::error::AppError;

/// What an address in a special-purpose block amounts to for an outgoing
/// target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Never a target.
    Refused,
    /// An IPv4 address carried in the last 32 bits (IPv4-mapped, the NAT64
    /// well-known prefix): judged as that IPv4 address, which is where a
    /// dual-stack socket or a NAT64 gateway sends the packets.
    ByEmbeddedV4,
}

/// A block of the IANA special-purpose address registries.
struct Block {
    first: IpAddr,
    prefix: u8,
    name: &'static str,
    what: Use,
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8, name: &'static str) -> Block {
    Block {
        first: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        prefix,
        name,
        what: Use::Refused,
    }
}

const fn v6(segments: [u16; 8], prefix: u8, name: &'static str, what: Use) -> Block {
    let [a, b, c, d, e, f, g, h] = segments;
    Block {
        first: IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h)),
        prefix,
        name,
        what,
    }
}

use Use::{ByEmbeddedV4, Refused};

/// Every block of the IANA IPv4 and IPv6 Special-Purpose Address
/// Registries (as of 2025: RFC 6890 and its updates), plus the multicast,
/// deprecated site-local and deprecated IPv4-compatible ranges. None is a
/// place a webhook or purge request may go, whatever the registry says
/// about global reachability (AS112 and AMT anycast included), except the
/// two forms that carry a plain IPv4 address. The transition forms that
/// embed one in another way (6to4, Teredo, local NAT64 prefixes,
/// IPv4-compatible) are refused outright. IPv6 outside 2000::/3 is refused
/// after this table as well: IANA has assigned nothing there for unicast.
const SPECIAL: &[Block] = &[
    v4(0, 0, 0, 0, 8, "this network (RFC 791)"),
    v4(10, 0, 0, 0, 8, "private use (RFC 1918)"),
    v4(100, 64, 0, 0, 10, "shared address space (RFC 6598)"),
    v4(127, 0, 0, 0, 8, "loopback (RFC 1122)"),
    v4(169, 254, 0, 0, 16, "link local (RFC 3927)"),
    v4(172, 16, 0, 0, 12, "private use (RFC 1918)"),
    v4(192, 0, 0, 0, 24, "IETF protocol assignments (RFC 6890)"),
    v4(192, 0, 2, 0, 24, "documentation TEST-NET-1 (RFC 5737)"),
    v4(192, 31, 196, 0, 24, "AS112-v4 (RFC 7535)"),
    v4(192, 52, 193, 0, 24, "AMT (RFC 7450)"),
    v4(
        192,
        88,
        99,
        0,
        24,
        "deprecated 6to4 relay anycast (RFC 7526)",
    ),
    v4(192, 168, 0, 0, 16, "private use (RFC 1918)"),
    v4(
        192,
        175,
        48,
        0,
        24,
        "direct delegation AS112 service (RFC 7534)",
    ),
    v4(198, 18, 0, 0, 15, "benchmarking (RFC 2544)"),
    v4(198, 51, 100, 0, 24, "documentation TEST-NET-2 (RFC 5737)"),
    v4(203, 0, 113, 0, 24, "documentation TEST-NET-3 (RFC 5737)"),
    v4(224, 0, 0, 0, 4, "multicast (RFC 5771)"),
    v4(
        240,
        0,
        0,
        0,
        4,
        "reserved, limited broadcast (RFC 1112, RFC 919)",
    ),
    v6(
        [0, 0, 0, 0, 0, 0, 0, 0],
        128,
        "unspecified (RFC 4291)",
        Refused,
    ),
    v6(
        [0, 0, 0, 0, 0, 0, 0, 1],
        128,
        "loopback (RFC 4291)",
        Refused,
    ),
    v6(
        [0, 0, 0, 0, 0, 0xffff, 0, 0],
        96,
        "IPv4-mapped (RFC 4291)",
        ByEmbeddedV4,
    ),
    v6(
        [0, 0, 0, 0, 0, 0, 0, 0],
        96,
        "deprecated IPv4-compatible (RFC 4291)",
        Refused,
    ),
    v6(
        [0x64, 0xff9b, 0, 0, 0, 0, 0, 0],
        96,
        "NAT64 well-known prefix (RFC 6052)",
        ByEmbeddedV4,
    ),
    v6(
        [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
        48,
        "local-use IPv4/IPv6 translation (RFC 8215)",
        Refused,
    ),
    v6(
        [0x100, 0, 0, 0, 0, 0, 0, 0],
        64,
        "discard-only (RFC 6666)",
        Refused,
    ),
    v6(
        [0x100, 0, 0, 1, 0, 0, 0, 0],
        64,
        "dummy IPv6 prefix (RFC 9780)",
        Refused,
    ),
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF protocol assignments, Teredo, benchmarking, ORCHID (RFC 2928)",
        Refused,
    ),
    v6(
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        32,
        "documentation (RFC 3849)",
        Refused,
    ),
    v6(
        [0x2002, 0, 0, 0, 0, 0, 0, 0],
        16,
        "6to4 (RFC 3056)",
        Refused,
    ),
    v6(
        [0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0],
        48,
        "direct delegation AS112 service (RFC 7534)",
        Refused,
    ),
    v6(
        [0x3fff, 0, 0, 0, 0, 0, 0, 0],
        20,
        "documentation (RFC 9637)",
        Refused,
    ),
    v6(
        [0x5f00, 0, 0, 0, 0, 0, 0, 0],
        16,
        "segment routing SIDs (RFC 9602)",
        Refused,
    ),
    v6(
        [0xfc00, 0, 0, 0, 0, 0, 0, 0],
        7,
        "unique local (RFC 4193)",
        Refused,
    ),
    v6(
        [0xfe80, 0, 0, 0, 0, 0, 0, 0],
        10,
        "link-local unicast (RFC 4291)",
        Refused,
    ),
    v6(
        [0xfec0, 0, 0, 0, 0, 0, 0, 0],
        10,
        "deprecated site-local (RFC 3879)",
        Refused,
    ),
    v6(
        [0xff00, 0, 0, 0, 0, 0, 0, 0],
        8,
        "multicast (RFC 4291)",
        Refused,
    ),
];

impl Block {
    fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32u32),
            IpAddr::V6(v6) => (u128::from(v6), 128u32),
        };
        let ((first, width), (addr, addr_width)) = (bits(self.first), bits(ip));
        if width != addr_width {
            return false;
        }
        let host_bits = width - u32::from(self.prefix);
        first.checked_shr(host_bits) == addr.checked_shr(host_bits)
    }
}

/// The most specific special-purpose block holding `ip`.
fn block_of(ip: IpAddr) -> Option<&'static Block> {
    SPECIAL
        .iter()
        .filter(|block| block.contains(ip))
        .max_by_key(|block| block.prefix)
}

/// Whether an address may be the target of an outgoing request: outside
/// every special-purpose block, or carrying a public IPv4 address in a form
/// that reaches exactly that address.
pub fn is_public(ip: IpAddr) -> bool {
    refusal(ip).is_none()
}

/// Why an address may not be a target (the block it lies in), if it may not.
fn refusal(ip: IpAddr) -> Option<&'static str> {
    match (block_of(ip), ip) {
        (
            Some(Block {
                what: ByEmbeddedV4, ..
            }),
            IpAddr::V6(v6),
        ) => {
            let [.., a, b, c, d] = v6.octets();
            refusal(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
        }
        (Some(block), _) => Some(block.name),
        (None, IpAddr::V6(v6)) if (v6.segments()[0] & 0xe000) != 0x2000 => {
            Some("IPv6 outside 2000::/3, unassigned for unicast")
        }
        (None, _) => None,
    }
}

/// Parses and checks a webhook URL: http(s), no credentials, and, for an IP
/// literal, a public address.
pub fn check_url(value: &str, allow_private: bool) -> Result<Url, AppError> {
    let bad = |why: &str| AppError::BadInput(format!("url: {why}"));
    let url = Url::parse(value).map_err(|_| bad("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https are allowed"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials in the URL are not allowed"));
    }
    let mut literal = None;
    match url.host() {
        None => return Err(bad("no host")),
        Some(url::Host::Ipv4(ip)) if !allow_private => literal = Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) if !allow_private => literal = Some(IpAddr::V6(ip)),
        _ => {}
    }
    if let Some(why) = literal.and_then(refusal) {
        return Err(bad(&format!("points at a non-public address ({why})")));
    }
    Ok(url)
}

/// How a host name becomes addresses: the system resolver in service, a
/// scripted one in the tests of DNS rebinding.
pub type Lookup = dyn Fn(&str, u16) -> std::io::Result<Vec<SocketAddr>> + Send + Sync;

/// The system resolver (getaddrinfo).
pub fn system_lookup(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    Ok((host, port).to_socket_addrs()?.collect())
}

/// Resolves the URL's host, once, and returns the address to connect to;
/// every answer must be public unless private targets are allowed. The
/// caller connects to exactly this address, so a host that answers
/// differently a moment later (DNS rebinding) gains nothing.
pub fn resolve(url: &Url, allow_private: bool, lookup: &Lookup) -> Result<SocketAddr, String> {
    let host = url.host_str().ok_or("no host")?;
    let port = url.port_or_known_default().ok_or("no port")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let answers = lookup(host, port).map_err(|e| format!("cannot resolve {host}: {e}"))?;
    choose(host, &answers, allow_private)
}

/// The address to connect to among a host's answers: the first, and only
/// if every answer is public (a host answering [public, 127.0.0.1] would
/// otherwise reach the inside on a later connection).
fn choose(host: &str, answers: &[SocketAddr], allow_private: bool) -> Result<SocketAddr, String> {
    if answers.is_empty() {
        return Err(format!("{host} has no address"));
    }
    if !allow_private && answers.iter().any(|a| !is_public(a.ip())) {
        return Err(format!("{host} resolves to a non-public address"));
    }
    Ok(answers[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row of the table, with its first and last address and the
    /// address just outside it where that one is public, and what the
    /// issue named: every row is refused, the two carrying forms are
    /// judged by their IPv4 part.
    #[test]
    fn every_special_purpose_block_is_refused() {
        for block in SPECIAL {
            let (first, last) = match block.first {
                IpAddr::V4(v4) => {
                    let host = u32::MAX.checked_shr(u32::from(block.prefix)).unwrap_or(0);
                    (
                        IpAddr::V4(v4),
                        IpAddr::V4(Ipv4Addr::from(u32::from(v4) | host)),
                    )
                }
                IpAddr::V6(v6) => {
                    let host = u128::MAX.checked_shr(u32::from(block.prefix)).unwrap_or(0);
                    (
                        IpAddr::V6(v6),
                        IpAddr::V6(Ipv6Addr::from(u128::from(v6) | host)),
                    )
                }
            };
            // For the two carrying forms, the first and last hold 0.0.0.0
            // and 255.255.255.255, themselves special: refused all the same.
            assert!(!is_public(first), "{} ({first})", block.name);
            assert!(!is_public(last), "{} ({last})", block.name);
        }
    }

    #[test]
    fn the_blocks_named_in_the_issue_are_refused_and_neighbours_are_not() {
        for refused in [
            "198.18.0.1",
            "198.19.255.254",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b:1::808:808",
            "2002:808:808::1",
            "2002::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
            "::7f00:1",
            "::808:808",
            "::ffff:0:0",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "192.0.0.9",
            "192.88.99.1",
            "192.31.196.1",
            "192.52.193.1",
            "192.175.48.1",
            "2620:4f:8000::1",
            "3fff::1",
            "5f00::1",
            "100::1",
            "100:0:0:1::1",
            "2001:db8::1",
            "2001:2::1",
            "255.255.255.255",
            "4000::1",
        ] {
            let ip: IpAddr = refused.parse().expect(refused);
            assert!(!is_public(ip), "{refused} was allowed");
            let url = match ip {
                IpAddr::V4(_) => format!("http://{ip}/hook"),
                IpAddr::V6(_) => format!("http://[{ip}]/hook"),
            };
            assert!(check_url(&url, false).is_err(), "{url} was accepted");
        }
        for public in [
            "198.17.255.255",
            "198.20.0.1",
            "8.8.8.8",
            "93.184.216.34",
            "64:ff9b::808:808",
            "::ffff:8.8.8.8",
            "2606:4700::1111",
            "2a00:1450:4001::1",
            "2001:200::1",
        ] {
            let ip: IpAddr = public.parse().expect(public);
            assert!(is_public(ip), "{public} was refused");
        }
    }

    #[test]
    fn internal_targets_are_refused() {
        for url in [
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://0.0.0.0/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://[fd00::1]/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "ftp://example.com/",
            "http://user:pass@example.com/",
        ] {
            assert!(check_url(url, false).is_err(), "{url} was accepted");
        }
        assert!(check_url("https://partner.example.com/hook", false).is_ok());
        assert!(check_url("http://127.0.0.1:9/", true).is_ok());
    }

    #[test]
    fn every_answer_of_a_host_must_be_public_t_ssrf_5() {
        let public: SocketAddr = "93.184.216.34:443".parse().expect("addr");
        let loopback: SocketAddr = "127.0.0.1:443".parse().expect("addr");
        let v6_loopback: SocketAddr = "[::1]:443".parse().expect("addr");
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:443".parse().expect("addr");
        assert_eq!(choose("h", &[public], false), Ok(public));
        for answers in [
            vec![public, loopback],
            vec![loopback, public],
            vec![v6_loopback],
            vec![mapped],
            vec![],
        ] {
            assert!(
                choose("h", &answers, false).is_err(),
                "{answers:?} was accepted"
            );
        }
        assert_eq!(choose("h", &[loopback], true), Ok(loopback));
    }

    /// What std says an address must never be for an outside target.
    fn internal(ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => {
                v4.is_loopback()
                    || v4.is_private()
                    || v4.is_link_local()
                    || v4.is_unspecified()
                    || v4.is_broadcast()
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
                    || v6
                        .to_ipv4_mapped()
                        .is_some_and(|v4| internal(IpAddr::V4(v4)))
            }
        }
    }

    proptest::proptest! {
        // T-FZ-4, differential: whatever check_url lets through as a literal
        // address, std's classification does not call internal.
        #[test]
        fn no_internal_address_is_ever_allowed_t_fz_4(raw in proptest::prelude::any::<u128>(), v4 in proptest::prelude::any::<u32>(), port in 1u16..) {
            let v6 = std::net::Ipv6Addr::from(raw);
            let v4 = std::net::Ipv4Addr::from(v4);
            for (ip, url) in [
                (IpAddr::V4(v4), format!("http://{v4}:{port}/hook")),
                (IpAddr::V6(v6), format!("http://[{v6}]:{port}/hook")),
                (IpAddr::V4(v4), format!("http://{}/hook", u32::from(v4))),
                (IpAddr::V6(v4.to_ipv6_mapped()), format!("http://[{}]:{port}/hook", v4.to_ipv6_mapped())),
            ] {
                if check_url(&url, false).is_ok() {
                    proptest::prop_assert!(!internal(ip), "{} was allowed", url);
                }
            }
        }

        #[test]
        fn any_text_is_a_url_or_bad_input(text in "(?s).{0,120}") {
            if let Err(e) = check_url(&text, false) {
                proptest::prop_assert_eq!(e.code(), "BAD_USER_INPUT");
            }
        }
    }
}
