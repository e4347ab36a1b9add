//! What a page's head needs for search engines and social cards, made from
//! the public article: its title and description, the canonical URL and the
//! `hreflang` alternates of its two scripts, Open Graph and Twitter card
//! values, and schema.org `NewsArticle` JSON-LD.
//!
//! Choices, written down for front-end teams:
//! - The stored script's text lives at the canonical URL
//!   (`{base}/a/{id}-{slug}`); the other script is the same URL with
//!   `?script=hans` or `?script=hant`, which is how REST and the feeds
//!   choose scripts too. Each variant names itself as canonical, and the
//!   three alternates (`zh-Hans`, `zh-Hant`, `x-default` = the stored
//!   script) are the same for both, as Google asks of hreflang clusters.
//!   `HANT_TW` and `HANT_HK` text is the `zh-Hant` page's variant, so its
//!   canonical URL is that page's.
//! - Without an editor's override, the title and description are the
//!   headline and summary cut to what results pages show: 60 and 160
//!   columns, a Han character taking two (about 30 and 80 characters),
//!   at a sentence end or a character boundary, never inside a Latin word
//!   or number, ended with `…`. An override is shown as typed.
//! - Only public articles have these values: the callers build them for an
//!   article readers may see, never for a draft, a scheduled, withdrawn or
//!   deleted one.

use serde::Serialize;
use serde_json::{json, Value};

use super::{stored_script, ArticleView, CreditView, Voice};
use crate::db::articles::ArticleRow;
use crate::db::site::SiteRow;
use crate::domain::script::{Script, TextScript};
use crate::domain::CreditRole;
use crate::text::summarize;

/// Columns of a results page's title line.
const TITLE_COLUMNS: usize = 60;
/// Columns of a results page's description.
const DESCRIPTION_COLUMNS: usize = 160;
/// Google's limit for a structured-data headline, in characters.
const HEADLINE_CHARS: usize = 110;

/// A picture for cards and structured data.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeoImage {
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
}

/// The card picture of `row` under `base` (its 1,280-wide JPEG, as body
/// HTML shows it), its alt text through `line`.
pub fn card_image(
    row: &crate::db::media::MediaRow,
    base: &str,
    line: &dyn Fn(&str) -> String,
) -> SeoImage {
    let picture = crate::media::html_picture(row, base);
    SeoImage {
        url: picture.src,
        width: picture.width,
        height: picture.height,
        alt: line(&row.alt),
    }
}

/// One `<link rel="alternate" hreflang=… href=…>`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Alternate {
    pub hreflang: &'static str,
    pub href: String,
}

/// The `og:` properties of an article.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenGraph {
    /// `og:type`: always `article`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub description: String,
    pub url: String,
    pub site_name: String,
    /// `og:locale` (`zh_CN`, `zh_TW`, `zh_HK`).
    pub locale: &'static str,
    /// `og:locale:alternate`.
    pub alternate_locales: Vec<&'static str>,
    pub image: Option<SeoImage>,
    /// `article:published_time`.
    pub published_time: Option<String>,
    /// `article:modified_time`.
    pub modified_time: String,
    /// `article:section`.
    pub section: String,
    /// `article:author`: the reporters' and correspondents' names.
    pub authors: Vec<String>,
}

/// The `twitter:` properties of an article.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TwitterCard {
    /// `summary_large_image` with a lead picture, `summary` without.
    pub card: &'static str,
    pub title: String,
    pub description: String,
    pub image: Option<String>,
    pub image_alt: Option<String>,
}

/// Everything a page head shows of one article in one script.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeoView {
    pub title: String,
    pub description: String,
    pub canonical_url: String,
    pub alternates: Vec<Alternate>,
    pub open_graph: OpenGraph,
    pub twitter: TwitterCard,
}

/// What the values are made from: a public article as shown, its row (for
/// the overrides and the stored script), the site and the lead picture
/// readers may see.
pub struct SeoFacts<'a> {
    pub view: &'a ArticleView,
    pub row: &'a ArticleRow,
    pub site: &'a SiteRow,
    pub base_url: &'a str,
    pub lead: Option<SeoImage>,
    /// The source's home page, when it has one.
    pub source_url: Option<&'a str>,
}

impl SeoView {
    pub fn new(voice: &Voice<'_>, facts: &SeoFacts<'_>) -> SeoView {
        let view = facts.view;
        let stored = stored_script(&facts.row.script);
        let title = match &facts.row.seo_title {
            Some(t) => voice.line(t),
            None => fit(&view.title, TITLE_COLUMNS),
        };
        let description = match &facts.row.seo_description {
            Some(d) => voice.line(d),
            None => fit(&view.summary, DESCRIPTION_COLUMNS),
        };
        let canonical_url = canonical(&view.url, stored, voice.script);
        let locale = og_locale(voice.script.target().unwrap_or(stored));
        let site_name = voice.line(&facts.site.name);
        let image = facts.lead.clone();
        SeoView {
            alternates: alternates(&view.url, stored),
            open_graph: OpenGraph {
                kind: "article",
                title: title.clone(),
                description: description.clone(),
                url: canonical_url.clone(),
                site_name,
                locale,
                alternate_locales: ["zh_CN", "zh_TW"]
                    .into_iter()
                    .filter(|l| *l != locale)
                    .collect(),
                image: image.clone(),
                published_time: view.published_at.map(|t| stamp(&t)),
                modified_time: stamp(&view.updated_at),
                section: view.section_name.clone(),
                authors: view
                    .byline
                    .iter()
                    .filter(|c| c.role != CreditRole::Photographer)
                    .map(|c| c.name.clone())
                    .collect(),
            },
            twitter: TwitterCard {
                card: if image.is_some() {
                    "summary_large_image"
                } else {
                    "summary"
                },
                title: title.clone(),
                description: description.clone(),
                image_alt: image.as_ref().map(|i| i.alt.clone()),
                image: image.map(|i| i.url),
            },
            title,
            description,
            canonical_url,
        }
    }
}

/// A time to the second with the site's offset (`2023-03-21T17:13:59+08:00`).
fn stamp(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// `text` cut to `columns` display columns (a Han or full-width character
/// takes two) by the summary's rules.
pub fn fit(text: &str, columns: usize) -> String {
    let mut used = 0;
    for (chars, c) in text.chars().enumerate() {
        used += width(c);
        if used > columns {
            return summarize(&[text.to_string()], chars);
        }
    }
    text.to_string()
}

/// Display columns of `c`: two for East Asian wide and full-width forms
/// and the common emoji.
fn width(c: char) -> usize {
    match u32::from(c) {
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

/// The `?script=` value of a script's page.
fn script_query(script: TextScript) -> &'static str {
    match script {
        TextScript::Hans => "hans",
        _ => "hant",
    }
}

/// The page of `script`'s text: the stored script's at `url`, the other
/// with `?script=`.
fn script_url(url: &str, stored: TextScript, script: TextScript) -> String {
    let family = |s: TextScript| matches!(s, TextScript::Hans);
    if family(stored) == family(script) {
        url.to_string()
    } else {
        format!("{url}?script={}", script_query(script))
    }
}

/// The canonical URL of the article's text in `script`.
fn canonical(url: &str, stored: TextScript, script: Script) -> String {
    match script.target() {
        None => url.to_string(),
        Some(target) => script_url(url, stored, target),
    }
}

/// The article's `hreflang` cluster: both scripts and the stored one as
/// `x-default`.
fn alternates(url: &str, stored: TextScript) -> Vec<Alternate> {
    vec![
        Alternate {
            hreflang: "zh-Hans",
            href: script_url(url, stored, TextScript::Hans),
        },
        Alternate {
            hreflang: "zh-Hant",
            href: script_url(url, stored, TextScript::Hant),
        },
        Alternate {
            hreflang: "x-default",
            href: url.to_string(),
        },
    ]
}

fn og_locale(script: TextScript) -> &'static str {
    match script {
        TextScript::Hans => "zh_CN",
        TextScript::HantHk => "zh_HK",
        TextScript::Hant | TextScript::HantTw => "zh_TW",
    }
}

/// What a credited person did, in the voice's script.
fn role_label(voice: &Voice<'_>, role: CreditRole) -> String {
    voice.line(match role {
        CreditRole::Reporter => "記者",
        CreditRole::Correspondent => "通訊員",
        CreditRole::Photographer => "攝影",
        CreditRole::Editor => "編輯",
    })
}

fn person(voice: &Voice<'_>, credit: &CreditView) -> Value {
    json!({
        "@type": "Person",
        "name": credit.name,
        "jobTitle": role_label(voice, credit.role),
    })
}

fn organization(name: &str, url: Option<&str>) -> Value {
    let mut org = json!({ "@type": "Organization", "name": name });
    if let Some(url) = url {
        org["url"] = json!(url);
    }
    org
}

/// The article as schema.org `NewsArticle` JSON-LD: headline, dates with
/// the site's offset, authors with their roles (`jobTitle`), photographers
/// as contributors, the responsible editor, the publisher with its logo,
/// `isAccessibleForFree`, the copyright holder and notice, the lead
/// picture, and for a reprint the source it is based on.
pub fn json_ld(voice: &Voice<'_>, facts: &SeoFacts<'_>, seo: &SeoView) -> Value {
    let view = facts.view;
    let base = facts.base_url.trim_end_matches('/');
    let site_name = voice.line(&facts.site.name);
    let mut publisher = json!({
        "@type": "NewsMediaOrganization",
        "@id": format!("{base}/#publisher"),
        "name": site_name,
        "url": format!("{base}/"),
    });
    if !facts.site.logo_url.is_empty() {
        publisher["logo"] = json!({ "@type": "ImageObject", "url": facts.site.logo_url });
    }
    let writers: Vec<Value> = view
        .byline
        .iter()
        .filter(|c| c.role != CreditRole::Photographer)
        .map(|c| person(voice, c))
        .collect();
    let photographers: Vec<Value> = view
        .byline
        .iter()
        .filter(|c| c.role == CreditRole::Photographer)
        .map(|c| person(voice, c))
        .collect();
    let source = view.source.as_deref().filter(|_| !view.owned);
    let outlet = |name: &str| organization(name, facts.source_url);
    let holder = match source {
        Some(name) => outlet(name),
        None => organization(
            &voice.line(if facts.site.copyright_holder.is_empty() {
                &facts.site.name
            } else {
                &facts.site.copyright_holder
            }),
            None,
        ),
    };
    let author = if writers.is_empty() {
        // Google wants an author: the outlet, when nobody is named.
        vec![source.map(outlet).unwrap_or_else(|| publisher.clone())]
    } else {
        writers
    };
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        // One entity in every script: the stored script's page names it.
        "@id": format!("{}#article", view.url),
        "url": seo.canonical_url,
        "mainEntityOfPage": { "@type": "WebPage", "@id": seo.canonical_url },
        "headline": fit_chars(&view.title, HEADLINE_CHARS),
        "description": seo.description,
        "inLanguage": view.language,
        "dateModified": stamp(&view.updated_at),
        "articleSection": view.section_name,
        "author": author,
        "publisher": publisher,
        "isAccessibleForFree": true,
        "copyrightHolder": holder,
    });
    if let Some(published) = view.published_at {
        ld["datePublished"] = json!(stamp(&published));
        ld["copyrightYear"] = json!(chrono::Datelike::year(&published));
    }
    if !photographers.is_empty() {
        ld["contributor"] = json!(photographers);
    }
    if let Some(editor) = &view.editor {
        ld["editor"] = person(voice, editor);
    }
    if !view.notice.text.is_empty() {
        ld["copyrightNotice"] = json!(view.notice.text);
    }
    if let Some(image) = &facts.lead {
        ld["image"] = json!([{
            "@type": "ImageObject",
            "url": image.url,
            "width": image.width,
            "height": image.height,
            "caption": image.alt,
        }]);
    }
    if let Some(name) = source {
        let original = facts
            .row
            .original_title
            .as_deref()
            .map(|t| voice.line(t))
            .unwrap_or_else(|| view.title.clone());
        ld["sourceOrganization"] = outlet(name);
        ld["isBasedOn"] = json!({
            "@type": "NewsArticle",
            "headline": original,
            "publisher": outlet(name),
        });
    }
    ld
}

/// `text` cut to `max` characters by the summary's rules.
fn fit_chars(text: &str, max: usize) -> String {
    summarize(&[text.to_string()], max)
}

/// JSON that can be put as it is between `<script type="application/ld+json">`
/// and `</script>`: `<`, `>` and `&` (and the two line separators some
/// parsers stop at) are written as `\u` escapes, which JSON reads back as
/// the same characters.
pub fn embeddable(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_titles_are_kept_and_long_ones_cut_by_columns() {
        assert_eq!(fit("臨沂發布會", 60), "臨沂發布會");
        let long =
            "山東省臨沂市召開新聞發布會介紹全市鄉村振興工作進展情況和下一步工作打算以及相關政策";
        let cut = fit(long, 60);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(cut.chars().count() <= 30, "{cut}");
        let latin =
            "Shandong port operators report record container volumes in 2023 as exports grow";
        let cut = fit(latin, 60);
        assert!(cut.chars().count() <= 60, "{cut}");
        assert!(!cut.contains("202"), "never inside a number: {cut}");
    }

    #[test]
    fn each_script_names_its_own_page_and_the_same_cluster() {
        let url = "https://news.example.test/a/7-port";
        assert_eq!(canonical(url, TextScript::Hant, Script::Original), url);
        assert_eq!(canonical(url, TextScript::Hant, Script::Hant), url);
        assert_eq!(canonical(url, TextScript::Hant, Script::HantHk), url);
        assert_eq!(
            canonical(url, TextScript::Hant, Script::Hans),
            format!("{url}?script=hans")
        );
        assert_eq!(
            canonical(url, TextScript::Hans, Script::Hant),
            format!("{url}?script=hant")
        );
        let cluster = alternates(url, TextScript::Hans);
        assert_eq!(cluster[0].href, url);
        assert_eq!(cluster[1].href, format!("{url}?script=hant"));
        assert_eq!(cluster[2].hreflang, "x-default");
        assert_eq!(cluster[2].href, url);
    }

    #[test]
    fn embedded_json_cannot_close_its_script_element() {
        let value = json!({ "headline": "</script><script>alert(1)</script> & \u{2028}" });
        let text = embeddable(&value);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        let back: Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back, value);
    }
}
