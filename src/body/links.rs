//! Which links and embeds a body may hold. Everything else is refused
//! (typed blocks) or dropped with a warning (HTML).

use url::Url;

/// The providers an embed block may show, with the hosts each serves from.
/// An embed is rendered as a link the front end may turn into a player;
/// the list keeps a body from pointing readers' browsers at arbitrary sites.
pub const EMBED_PROVIDERS: &[(&str, &[&str])] = &[
    (
        "youtube",
        &[
            "youtube.com",
            "www.youtube.com",
            "youtu.be",
            "m.youtube.com",
        ],
    ),
    ("vimeo", &["vimeo.com", "player.vimeo.com"]),
    (
        "bilibili",
        &[
            "www.bilibili.com",
            "bilibili.com",
            "player.bilibili.com",
            "b23.tv",
        ],
    ),
    ("tencent-video", &["v.qq.com"]),
    ("weibo", &["weibo.com", "m.weibo.cn"]),
    ("x", &["x.com", "twitter.com"]),
];

/// URLs longer than this are refused.
pub const MAX_URL_BYTES: usize = 2_048;

/// A link target a reader may follow: an absolute http, https or mailto
/// URL, or a path on this site (`/…`, not `//…`). `None` for anything else
/// (`javascript:`, `data:`, `vbscript:`, relative paths, controls or
/// blanks inside the scheme).
pub fn link_target(href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.len() > MAX_URL_BYTES || href.chars().any(char::is_control) {
        return None;
    }
    if href.starts_with('/') {
        let on_site = !href.starts_with("//") && !href.starts_with("/\\");
        return on_site.then(|| href.to_string());
    }
    let url = Url::parse(href).ok()?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Some(url.to_string()),
        "mailto" => Some(url.to_string()),
        _ => None,
    }
}

/// The allow-listed provider serving `url` over https, and the URL as
/// normalised; `None` when the URL is not one of theirs.
pub fn embed_provider(url: &str) -> Option<(&'static str, String)> {
    if url.len() > MAX_URL_BYTES {
        return None;
    }
    let parsed = Url::parse(url.trim()).ok()?;
    if parsed.scheme() != "https" || !parsed.username().is_empty() || parsed.password().is_some() {
        return None;
    }
    let host = parsed.host_str()?.to_ascii_lowercase();
    EMBED_PROVIDERS
        .iter()
        .find(|(_, hosts)| hosts.contains(&host.as_str()))
        .map(|(name, _)| (*name, parsed.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_mail_and_site_links_are_kept() {
        for ok in [
            "https://www.sse.com.cn/a?b=1",
            "http://x.cn",
            "mailto:desk@example.com",
            "/news/a",
        ] {
            assert!(link_target(ok).is_some(), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            " JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>",
            "vbscript:x",
            "//evil.example/",
            "/\\evil.example",
            "relative/path",
            "",
            "file:///etc/passwd",
        ] {
            assert_eq!(link_target(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn embeds_come_from_the_allow_list_over_https() {
        assert_eq!(
            embed_provider("https://www.youtube.com/watch?v=abc").map(|p| p.0),
            Some("youtube")
        );
        assert_eq!(
            embed_provider("https://player.bilibili.com/player.html?bvid=1").map(|p| p.0),
            Some("bilibili")
        );
        for bad in [
            "http://www.youtube.com/watch?v=abc",
            "https://youtube.com.evil.example/",
            "https://user@www.youtube.com/",
            "javascript:alert(1)",
            "https://evil.example/embed",
        ] {
            assert_eq!(embed_provider(bad), None, "{bad}");
        }
    }
}
