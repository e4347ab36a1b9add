//! What cached responses depend on and writes change. One key is one
//! `Surrogate-Key` value; the same text tags the in-process response cache,
//! goes to the CDN purge webhook and to the other nodes (`NOTIFY`).

use std::fmt;
use std::str::FromStr;

/// One thing responses depend on. Its text ([`fmt::Display`]) is what goes
/// on the wire: `article-12`, `section-3`, `sections`, `articles`,
/// `list-home`, `site`, `notices`, `removed`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// One article: its page and every list entry that shows it.
    Article(i32),
    /// The article lists of one section.
    Section(i32),
    /// The section tree.
    Sections,
    /// Article lists across sections (latest, search, feeds).
    Articles,
    /// A curated recommendation list, by its name.
    List(String),
    /// The site's settings and footer.
    Site,
    /// The copyright notice templates.
    Notices,
    /// The list of withdrawn articles.
    Removed,
    /// Search results: a node's search index applied other changes.
    Search,
    /// One uploaded picture: its renditions and `media(id:)`.
    Media(String),
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheKey::Article(id) => write!(f, "article-{id}"),
            CacheKey::Section(id) => write!(f, "section-{id}"),
            CacheKey::Sections => f.write_str("sections"),
            CacheKey::Articles => f.write_str("articles"),
            CacheKey::List(name) => write!(f, "list-{}", list_token(name)),
            CacheKey::Site => f.write_str("site"),
            CacheKey::Notices => f.write_str("notices"),
            CacheKey::Removed => f.write_str("removed"),
            CacheKey::Search => f.write_str("search"),
            CacheKey::Media(id) => write!(f, "media-{id}"),
        }
    }
}

/// Text that is not a key this version knows (another node may be newer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a cache key: {0:?}")]
pub struct UnknownCacheKey(pub String);

impl FromStr for CacheKey {
    type Err = UnknownCacheKey;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownCacheKey(text.to_string());
        let id = |digits: &str| digits.parse::<i32>().map_err(|_| unknown());
        Ok(match text {
            "sections" => CacheKey::Sections,
            "articles" => CacheKey::Articles,
            "site" => CacheKey::Site,
            "notices" => CacheKey::Notices,
            "removed" => CacheKey::Removed,
            "search" => CacheKey::Search,
            _ => {
                if let Some(digits) = text.strip_prefix("article-") {
                    CacheKey::Article(id(digits)?)
                } else if let Some(digits) = text.strip_prefix("section-") {
                    CacheKey::Section(id(digits)?)
                } else if let Some(id) = text
                    .strip_prefix("media-")
                    .filter(|id| super::is_media_id(id))
                {
                    CacheKey::Media(id.to_string())
                } else if let Some(token) = text.strip_prefix("list-") {
                    CacheKey::List(list_name(token).ok_or_else(unknown)?)
                } else {
                    return Err(unknown());
                }
            }
        })
    }
}

/// Keys as one `Surrogate-Key` header value.
pub fn surrogate_keys(keys: &[CacheKey]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A list name made safe for the `Surrogate-Key` header: anything but ASCII
/// letters, digits, `-` and `_` is percent-encoded.
fn list_token(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The name [`list_token`] encoded; `None` for text it never writes.
fn list_name(token: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(token.len());
    let mut rest = token.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            bytes.push(b);
            rest = tail;
        } else {
            return None;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_as_on_the_wire() {
        let keys = [
            (CacheKey::Article(12), "article-12"),
            (CacheKey::Section(3), "section-3"),
            (CacheKey::Sections, "sections"),
            (CacheKey::Articles, "articles"),
            (CacheKey::List("home".into()), "list-home"),
            (
                CacheKey::List("新聞 推薦".into()),
                "list-%E6%96%B0%E8%81%9E%20%E6%8E%A8%E8%96%A6",
            ),
            (CacheKey::Site, "site"),
            (CacheKey::Notices, "notices"),
            (CacheKey::Removed, "removed"),
            (
                CacheKey::Media("0123456789abcdef01234567".into()),
                "media-0123456789abcdef01234567",
            ),
        ];
        for (key, text) in keys {
            assert_eq!(key.to_string(), text);
            assert_eq!(text.parse::<CacheKey>(), Ok(key), "{text}");
        }
    }

    #[test]
    fn text_no_key_writes_is_unknown() {
        for text in [
            "",
            "article-",
            "article-x",
            "list-a b",
            "list-%E6",
            "list-%ZZ",
            "media-12",
            "media-0123456789ABCDEF01234567",
            "tags",
        ] {
            assert!(text.parse::<CacheKey>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_header_value_names_every_key_in_order() {
        let keys = [CacheKey::Article(7), CacheKey::Site];
        assert_eq!(surrogate_keys(&keys), "article-7 site");
        assert_eq!(surrogate_keys(&[]), "");
    }
}
