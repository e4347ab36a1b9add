//! `Article.seo` and `Article.jsonLd`: the read model's page-head values
//! (see [`crate::read::seo`]) as GraphQL types, for public articles only.

use async_graphql::{Context, Result, SimpleObject};
use serde_json::Value;

use super::context::RequestContext;
use super::script::Script;
use crate::db::articles::ArticleRow;
use crate::error::GqlResultExt;
use crate::read::seo::{self, SeoFacts, SeoImage, SeoView};
use crate::read::{ArticleFacts, ArticleView, Voice};

/// What a page's head shows of an article: `<title>`, the meta
/// description, `<link rel="canonical">` and `rel="alternate" hreflang`
/// links, Open Graph and Twitter card values. Put `Article.jsonLd` beside
/// them in `<script type="application/ld+json">`.
#[derive(SimpleObject)]
pub struct ArticleSeo {
    /// The editor's search-engine title, or the headline cut to about 30
    /// Han characters (60 columns) at a character boundary.
    pub title: String,
    /// The editor's description, or the summary cut to about 80 Han
    /// characters (160 columns).
    pub description: String,
    /// This script's page: the stored script's text at `Article.url`, the
    /// other script at `Article.url?script=hans` (or `hant`).
    pub canonical_url: String,
    /// `zh-Hans`, `zh-Hant` and `x-default` (the stored script's page).
    pub alternates: Vec<AlternateLink>,
    /// Open Graph values (`og:*`, `article:*`).
    pub open_graph: OpenGraph,
    /// Twitter (X) card values (`twitter:*`).
    pub twitter: TwitterCard,
}

/// `<link rel="alternate" hreflang="…" href="…">`.
#[derive(SimpleObject)]
pub struct AlternateLink {
    /// `zh-Hans`, `zh-Hant` or `x-default`.
    pub hreflang: String,
    /// That version's page.
    pub href: String,
}

/// A picture for social cards.
#[derive(SimpleObject)]
pub struct CardImage {
    /// A JPEG 1,280 pixels wide (or the picture's own width).
    pub url: String,
    /// Its width in pixels.
    pub width: i32,
    /// Its height in pixels.
    pub height: i32,
    /// The picture's alt text.
    pub alt: String,
}

/// Open Graph properties (`og:*`, `article:*`).
#[derive(SimpleObject)]
pub struct OpenGraph {
    /// `og:type`: `article`.
    #[graphql(name = "type")]
    pub kind: String,
    /// `og:title`: as `ArticleSeo.title`.
    pub title: String,
    /// `og:description`: as `ArticleSeo.description`.
    pub description: String,
    /// `og:url`: the canonical URL.
    pub url: String,
    /// `og:site_name`: the site's name.
    pub site_name: String,
    /// `og:locale`: `zh_CN`, `zh_TW` or `zh_HK`.
    pub locale: String,
    /// `og:locale:alternate`.
    pub alternate_locales: Vec<String>,
    /// The lead picture readers may see; null without one.
    pub image: Option<CardImage>,
    /// `article:published_time` (+08:00).
    pub published_time: Option<String>,
    /// `article:modified_time`.
    pub modified_time: String,
    /// `article:section`.
    pub section: String,
    /// `article:author`: the reporters' and correspondents' names.
    pub authors: Vec<String>,
}

/// Twitter (X) card properties (`twitter:*`).
#[derive(SimpleObject)]
pub struct TwitterCard {
    /// `summary_large_image` with a lead picture, `summary` without.
    pub card: String,
    /// `twitter:title`.
    pub title: String,
    /// `twitter:description`.
    pub description: String,
    /// `twitter:image`: the lead picture's URL.
    pub image: Option<String>,
    /// `twitter:image:alt`.
    pub image_alt: Option<String>,
}

fn card_image(image: SeoImage) -> CardImage {
    CardImage {
        url: image.url,
        width: i32::try_from(image.width).unwrap_or(i32::MAX),
        height: i32::try_from(image.height).unwrap_or(i32::MAX),
        alt: image.alt,
    }
}

impl From<SeoView> for ArticleSeo {
    fn from(view: SeoView) -> Self {
        let og = view.open_graph;
        ArticleSeo {
            title: view.title,
            description: view.description,
            canonical_url: view.canonical_url,
            alternates: view
                .alternates
                .into_iter()
                .map(|a| AlternateLink {
                    hreflang: a.hreflang.into(),
                    href: a.href,
                })
                .collect(),
            open_graph: OpenGraph {
                kind: og.kind.into(),
                title: og.title,
                description: og.description,
                url: og.url,
                site_name: og.site_name,
                locale: og.locale.into(),
                alternate_locales: og.alternate_locales.into_iter().map(Into::into).collect(),
                image: og.image.map(card_image),
                published_time: og.published_time,
                modified_time: og.modified_time,
                section: og.section,
                authors: og.authors,
            },
            twitter: TwitterCard {
                card: view.twitter.card.into(),
                title: view.twitter.title,
                description: view.twitter.description,
                image: view.twitter.image,
                image_alt: view.twitter.image_alt,
            },
        }
    }
}

/// An article's page-head values and its JSON-LD.
pub type PageHead = (SeoView, Value);

/// The page-head values of `row` in `script` and its JSON-LD; `None` unless
/// the article is public now (a preview of a draft, a scheduled or a
/// withdrawn article has none).
pub async fn page_head(
    ctx: &Context<'_>,
    row: &ArticleRow,
    script: Script,
) -> Result<Option<PageHead>> {
    let rc = RequestContext::of(ctx);
    // Now, not the context's time: a subscription's context lives as long
    // as its socket, and its events carry articles published since.
    let now = crate::db::now();
    if !row.is_public_at(now) {
        return Ok(None);
    }
    // The head names the site, its logo and its copyright holder.
    rc.tag(crate::domain::CacheKey::Site);
    let site = rc.site().await.gql()?;
    let source = match row.source_id {
        Some(id) => rc.sources().load_one(id).await.gql()?,
        None => None,
    };
    let tree = rc.sections().await.gql()?;
    let section = tree.get(row.section_id);
    let notices = rc.notices().await.gql()?;
    let lead = match &row.lead_media_id {
        Some(id) => rc.media().load_one(id.clone()).await.gql()?,
        None => None,
    };
    let credits = row.credit_rows();
    let voice = Voice::new(&rc.state.converter, script, &site);
    let base = &rc.state.config.public_base_url;
    let article = ArticleFacts {
        row,
        credits: &credits,
        source: source.as_ref(),
        section: section.as_deref(),
        notices: &notices,
    };
    let view = ArticleView::new(&voice, &article, base, now);
    let facts = SeoFacts {
        view: &view,
        row,
        site: &site,
        base_url: base,
        lead: lead
            .filter(|m| !m.is_withheld())
            .map(|m| seo::card_image(&m, base, &|t| voice.line(t))),
        source_url: source.as_ref().and_then(|s| s.url.as_deref()),
    };
    let head = SeoView::new(&voice, &facts);
    let ld = seo::json_ld(&voice, &facts, &head);
    Ok(Some((head, ld)))
}
