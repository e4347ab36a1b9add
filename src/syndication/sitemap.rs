//! Sitemaps (sitemaps.org protocol 0.9) and the Google News sitemap, written
//! entry by entry into one buffer: a page of 50,000 URLs is a few megabytes
//! of text and never a tree of nodes.

use std::fmt::Write;

use chrono::{DateTime, FixedOffset, SecondsFormat};

use super::escape;

/// The most URLs one sitemap may list (sitemaps.org).
pub const MAX_URLS: usize = 50_000;

/// The most URLs a news sitemap may list (Google).
pub const MAX_NEWS_URLS: usize = 1_000;

const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const NEWS_NS: &str = "http://www.google.com/schemas/sitemap-news/0.9";

/// A W3C datetime with the site's offset, to the second.
fn w3c(at: DateTime<FixedOffset>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A sitemap index: where each sitemap is and when it last changed.
pub fn index<'a>(
    sitemaps: impl IntoIterator<Item = (&'a str, Option<DateTime<FixedOffset>>)>,
) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"{SITEMAP_NS}\">\n"
    );
    for (loc, lastmod) in sitemaps {
        let _ = write!(out, "<sitemap><loc>{}</loc>", escape(loc));
        if let Some(at) = lastmod {
            let _ = write!(out, "<lastmod>{}</lastmod>", w3c(at));
        }
        out.push_str("</sitemap>\n");
    }
    out.push_str("</sitemapindex>\n");
    out
}

/// A sitemap of URLs, written as they come.
pub struct UrlSet {
    out: String,
    count: usize,
}

impl UrlSet {
    /// An empty sitemap, room made for about `expected` entries.
    pub fn new(expected: usize) -> Self {
        let mut out = String::with_capacity(200 + expected * 120);
        let _ = write!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"{SITEMAP_NS}\">\n"
        );
        UrlSet { out, count: 0 }
    }

    /// Adds a URL and when its page last changed.
    pub fn url(&mut self, loc: &str, lastmod: Option<DateTime<FixedOffset>>) {
        let _ = write!(self.out, "<url><loc>{}</loc>", escape(loc));
        if let Some(at) = lastmod {
            let _ = write!(self.out, "<lastmod>{}</lastmod>", w3c(at));
        }
        self.out.push_str("</url>\n");
        self.count += 1;
    }

    /// How many URLs it lists.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</urlset>\n");
        self.out
    }
}

/// One article of a news sitemap.
#[derive(Debug, Clone)]
pub struct NewsEntry {
    pub url: String,
    /// The publication's name, as it appears on news.google.com.
    pub publication: String,
    /// `zh-cn` or `zh-tw` (Google's codes for the two scripts).
    pub language: &'static str,
    pub published: DateTime<FixedOffset>,
    pub title: String,
}

/// A Google News sitemap.
pub fn news(entries: &[NewsEntry]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"{SITEMAP_NS}\" xmlns:news=\"{NEWS_NS}\">\n"
    );
    for e in entries {
        let _ = writeln!(
            out,
            "<url><loc>{}</loc><news:news><news:publication><news:name>{}</news:name>\
             <news:language>{}</news:language></news:publication>\
             <news:publication_date>{}</news:publication_date><news:title>{}</news:title>\
             </news:news></url>",
            escape(&e.url),
            escape(&e.publication),
            e.language,
            w3c(e.published),
            escape(&e.title),
        );
    }
    out.push_str("</urlset>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("time")
    }

    #[test]
    fn urls_and_titles_are_escaped_and_times_carry_the_offset() {
        let mut set = UrlSet::new(1);
        set.url(
            "https://x.test/a/1-a&b",
            Some(at("2026-12-05T10:00:00+08:00")),
        );
        let text = set.finish();
        assert!(
            text.contains("<loc>https://x.test/a/1-a&amp;b</loc>"),
            "{text}"
        );
        assert!(
            text.contains("<lastmod>2026-12-05T10:00:00+08:00</lastmod>"),
            "{text}"
        );
        let news = news(&[NewsEntry {
            url: "https://x.test/a/2".into(),
            publication: "經濟導報".into(),
            language: "zh-tw",
            published: at("2026-12-05T10:00:00+08:00"),
            title: "<股市> & \"債市\"".into(),
        }]);
        assert!(news.contains("&lt;股市&gt; &amp;"), "{news}");
        assert!(!news.contains("<股市>"));
    }
}
