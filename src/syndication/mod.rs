//! Syndication formats: RSS 2.0, Atom (RFC 4287) and JSON Feed 1.1, rendered
//! from one list of items. Every item carries its attribution (source,
//! authors, editor, copyright notice), as the site's statement and the
//! reprint rules ask; full text appears only where the caller may have it.

pub mod ninjs;
pub mod sitemap;

use chrono::{DateTime, FixedOffset};
use serde_json::json;

pub use crate::text::markup::escape;

/// The feed as a whole.
#[derive(Debug, Clone)]
pub struct FeedMeta {
    /// Feed title (site name, or "site – section").
    pub title: String,
    /// The page the feed stands for.
    pub home_url: String,
    /// The feed's own URL.
    pub feed_url: String,
    /// Copyright holder of the site.
    pub rights: String,
    /// Language tag of the text (zh-Hant, zh-Hans …).
    pub language: String,
    /// Newest change among the items (or now, for an empty feed).
    pub updated: DateTime<FixedOffset>,
    /// The attribution labels, in the feed's script.
    pub labels: crate::read::Labels,
}

/// One article in a feed.
#[derive(Debug, Clone)]
pub struct FeedItem {
    pub id: i32,
    pub url: String,
    pub title: String,
    pub summary: String,
    /// The body, present only when full text may be syndicated.
    pub full_text: Option<crate::body::Body>,
    pub published: DateTime<FixedOffset>,
    pub updated: DateTime<FixedOffset>,
    /// The byline's names (reporters, correspondents, photographers).
    pub authors: Vec<String>,
    /// The byline with each person's role, in order.
    pub byline: Vec<crate::read::CreditView>,
    pub editor: Option<String>,
    pub source: Option<String>,
    pub owned: bool,
    pub section: String,
    /// The copyright notice in force for the item, and which one it is.
    pub notice: String,
    pub notice_kind: crate::domain::NoticeKind,
    /// The lead picture.
    pub image: Option<FeedImage>,
    /// Where the body's pictures are served, by media id.
    pub pictures: std::collections::HashMap<String, crate::body::Picture>,
}

/// An item's lead picture: a JPEG rendition 1,280 pixels wide (or the
/// picture's width) and every rendition for ninjs.
#[derive(Debug, Clone)]
pub struct FeedImage {
    pub id: String,
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    /// (width, height, URL) of each JPEG rendition.
    pub renditions: Vec<(u32, u32, String)>,
}

impl FeedImage {
    /// The feed form of picture `row`, its URLs under `base`, its texts through `line`.
    pub fn of(
        row: &crate::db::media::MediaRow,
        base: &str,
        line: &dyn Fn(&str) -> String,
    ) -> FeedImage {
        use crate::media::{picture, Format};
        let own = u32::try_from(row.width).unwrap_or(0);
        let own_height = u32::try_from(row.height).unwrap_or(0);
        let renditions: Vec<(u32, u32, String)> = picture::widths_for(own)
            .into_iter()
            .map(|w| {
                let path = crate::media::rendition_path(&row.id, w, Format::Jpeg);
                (
                    w,
                    picture::scaled_height(own, own_height, w),
                    format!("{}{path}", base.trim_end_matches('/')),
                )
            })
            .collect();
        let width = picture::nearest_width(own, 1280);
        let height = picture::scaled_height(own, own_height, width);
        let url = crate::media::url(base, &row.id, own, 1280, Format::Jpeg);
        FeedImage {
            id: row.id.clone(),
            url,
            width,
            height,
            alt: line(&row.alt),
            caption: line(&row.caption),
            credit: line(&row.credit),
            renditions,
        }
    }
}

impl FeedItem {
    /// A stable, never-reused identifier (tag URI, RFC 4151 style).
    pub fn guid(&self, authority: &str) -> String {
        format!("tag:{authority},2023:article:{}", self.id)
    }

    fn attribution(&self, labels: &crate::read::Labels) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &self.source {
            parts.push(format!("{}: {s}", labels.source));
        }
        if !self.authors.is_empty() {
            parts.push(format!("{}: {}", labels.by, self.authors.join(" ")));
        }
        if let Some(e) = &self.editor {
            parts.push(format!("{}: {e}", labels.editor));
        }
        parts.join(" | ")
    }

    fn html_body(&self) -> Option<String> {
        self.full_text
            .as_ref()
            .map(|b| crate::body::to_html_with(b, &|id| self.pictures.get(id).cloned()))
    }

    /// The body's prose as plain text, paragraphs apart by a blank line.
    fn plain_body(&self) -> Option<String> {
        self.full_text.as_ref().map(|b| b.paragraphs().join("\n\n"))
    }
}

/// The authority part of tag URIs: the host of the public base URL.
pub fn authority(base_url: &str) -> String {
    base_url
        .split("://")
        .nth(1)
        .unwrap_or(base_url)
        .split(['/', ':'])
        .next()
        .unwrap_or("newsdesk")
        .to_string()
}

/// RSS 2.0 with the `content`, `dc` and `atom` namespaces.
pub fn rss(meta: &FeedMeta, items: &[FeedItem]) -> String {
    let auth = authority(&meta.home_url);
    let mut out = String::with_capacity(4096 + items.len() * 2048);
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.push('\n');
    out.push_str(r#"<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">"#);
    out.push_str("<channel>");
    out.push_str(&format!(
        "<title>{}</title><link>{}</link><description>{}</description><language>{}</language><copyright>{}</copyright><lastBuildDate>{}</lastBuildDate>",
        escape(&meta.title),
        escape(&meta.home_url),
        escape(&meta.title),
        escape(&meta.language),
        escape(&meta.rights),
        meta.updated.to_rfc2822()
    ));
    out.push_str(&format!(
        r#"<atom:link href="{}" rel="self" type="application/rss+xml"/>"#,
        escape(&meta.feed_url)
    ));
    for item in items {
        out.push_str("<item>");
        out.push_str(&format!(
            r#"<title>{}</title><link>{}</link><guid isPermaLink="false">{}</guid><pubDate>{}</pubDate><description>{}</description><category>{}</category>"#,
            escape(&item.title),
            escape(&item.url),
            escape(&item.guid(&auth)),
            item.published.to_rfc2822(),
            escape(&item.summary),
            escape(&item.section)
        ));
        for a in &item.authors {
            out.push_str(&format!("<dc:creator>{}</dc:creator>", escape(a)));
        }
        if let Some(s) = &item.source {
            out.push_str(&format!(
                r#"<source url="{}">{}</source>"#,
                escape(&meta.feed_url),
                escape(s)
            ));
        }
        out.push_str(&format!(
            "<dc:rights>{}</dc:rights><dc:description>{}</dc:description>",
            escape(&item.notice),
            escape(&item.attribution(&meta.labels))
        ));
        if let Some(html) = item.html_body() {
            out.push_str(&format!(
                "<content:encoded>{}</content:encoded>",
                escape(&html)
            ));
        }
        if let Some(image) = &item.image {
            // RSS wants a length; a rendition's is not known before it is made.
            out.push_str(&format!(
                r#"<enclosure url="{}" type="image/jpeg" length="0"/><media:content url="{}" medium="image" type="image/jpeg" width="{}" height="{}"><media:description>{}</media:description><media:credit>{}</media:credit></media:content>"#,
                escape(&image.url),
                escape(&image.url),
                image.width,
                image.height,
                escape(if image.caption.is_empty() { &image.alt } else { &image.caption }),
                escape(&image.credit)
            ));
        }
        out.push_str("</item>");
    }
    out.push_str("</channel></rss>\n");
    out
}

/// Atom (RFC 4287).
pub fn atom(meta: &FeedMeta, items: &[FeedItem]) -> String {
    let auth = authority(&meta.home_url);
    let mut out = String::with_capacity(4096 + items.len() * 2048);
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.push('\n');
    out.push_str(&format!(
        r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{}">"#,
        escape(&meta.language)
    ));
    out.push_str(&format!(
        r#"<id>{}</id><title>{}</title><updated>{}</updated><rights>{}</rights><link rel="alternate" href="{}"/><link rel="self" href="{}"/><author><name>{}</name></author>"#,
        escape(&meta.feed_url),
        escape(&meta.title),
        meta.updated.to_rfc3339(),
        escape(&meta.rights),
        escape(&meta.home_url),
        escape(&meta.feed_url),
        escape(&meta.rights)
    ));
    for item in items {
        out.push_str("<entry>");
        out.push_str(&format!(
            r#"<id>{}</id><title>{}</title><link rel="alternate" href="{}"/><published>{}</published><updated>{}</updated><summary>{}</summary><category term="{}"/><rights>{}</rights>"#,
            escape(&item.guid(&auth)),
            escape(&item.title),
            escape(&item.url),
            item.published.to_rfc3339(),
            item.updated.to_rfc3339(),
            escape(&format!("{} ({})", item.summary, item.attribution(&meta.labels))),
            escape(&item.section),
            escape(&item.notice)
        ));
        for a in &item.authors {
            out.push_str(&format!("<author><name>{}</name></author>", escape(a)));
        }
        if let Some(e) = &item.editor {
            out.push_str(&format!(
                "<contributor><name>{}</name></contributor>",
                escape(e)
            ));
        }
        if let Some(s) = &item.source {
            out.push_str(&format!("<source><title>{}</title></source>", escape(s)));
        }
        if let Some(html) = item.html_body() {
            out.push_str(&format!(
                r#"<content type="html">{}</content>"#,
                escape(&html)
            ));
        }
        if let Some(image) = &item.image {
            out.push_str(&format!(
                r#"<link rel="enclosure" type="image/jpeg" href="{}"/>"#,
                escape(&image.url)
            ));
        }
        out.push_str("</entry>");
    }
    out.push_str("</feed>\n");
    out
}

/// JSON Feed 1.1; attribution beyond `authors` sits in `_newsdesk`.
pub fn json_feed(meta: &FeedMeta, items: &[FeedItem]) -> serde_json::Value {
    let auth = authority(&meta.home_url);
    json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta.title,
        "home_page_url": meta.home_url,
        "feed_url": meta.feed_url,
        "language": meta.language,
        "items": items.iter().map(|item| {
            let mut v = json!({
                "id": item.guid(&auth),
                "url": item.url,
                "title": item.title,
                "summary": item.summary,
                "date_published": item.published.to_rfc3339(),
                "date_modified": item.updated.to_rfc3339(),
                "authors": item.authors.iter().map(|a| json!({ "name": a })).collect::<Vec<_>>(),
                "tags": [item.section],
                "_newsdesk": {
                    "source": item.source,
                    "owned": item.owned,
                    "byline": item.byline.iter().map(|c| json!({
                        "name": c.name,
                        "role": c.role.as_str().to_ascii_uppercase(),
                    })).collect::<Vec<_>>(),
                    "editor": item.editor,
                    "copyright_notice": item.notice,
                    "copyright_notice_kind": item.notice_kind.as_str().to_ascii_uppercase(),
                    "attribution": item.attribution(&meta.labels),
                },
            });
            if let Some(image) = &item.image {
                v["image"] = json!(image.url);
            }
            match item.plain_body() {
                Some(text) => v["content_text"] = json!(text),
                // JSON Feed requires content: the summary stands in.
                None => v["content_text"] = json!(item.summary),
            }
            v
        }).collect::<Vec<_>>(),
    })
}
