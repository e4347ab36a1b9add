//! Article bodies as an ordered list of typed blocks (paragraph, heading,
//! quote, list, table, image, embed, divider), the shape the Guardian's
//! blocks and Arc XP's content elements give front ends.
//!
//! Blocks are what is stored (`articles.body`, `body_format = 'blocks'`);
//! HTML is only ever an input, parsed into blocks by [`from_html`], and an
//! output, rendered from them by [`to_html`]. Nothing a writer types reaches
//! a reader's page as markup: every text is escaped on the way out, every
//! link was checked on the way in.

mod html_in;
mod html_out;
mod links;
mod texts;

use serde::{Deserialize, Serialize};

pub use html_in::{from_html, is_media_id, tag_count, Warning, MAX_HTML_TAGS};
pub use html_out::{inline_html, to_html, to_html_with, Picture};
pub use links::{embed_provider, link_target, EMBED_PROVIDERS};
pub use texts::{first_text_but_pictures, stored_paragraphs, stored_texts_but_pictures};

/// Blocks one body may hold.
pub const MAX_BLOCKS: usize = 2_000;
/// Rows and columns one table may hold.
pub const MAX_TABLE_ROWS: usize = 1_000;
pub const MAX_TABLE_COLUMNS: usize = 50;

/// A piece of running text with the same marks throughout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Run {
    pub text: String,
    /// Where the text links to (http, https, mailto or a path on this site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// Emphasis (`<em>`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub em: bool,
    /// Strong importance (`<strong>`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub strong: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Run {
    pub fn plain(text: impl Into<String>) -> Run {
        Run {
            text: text.into(),
            href: None,
            em: false,
            strong: false,
        }
    }

    fn same_marks(&self, other: &Run) -> bool {
        self.href == other.href && self.em == other.em && self.strong == other.strong
    }
}

/// One block of a body. Stored and served (REST) as JSON tagged by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Block {
    Paragraph {
        runs: Vec<Run>,
    },
    /// A subheading; level 2 to 4 (the headline is level 1).
    Heading {
        level: u8,
        text: String,
    },
    Quote {
        runs: Vec<Run>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attribution: Option<String>,
    },
    List {
        #[serde(default)]
        ordered: bool,
        items: Vec<Vec<Run>>,
    },
    /// A table of plain-text cells; `header` may be empty.
    Table {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        #[serde(default)]
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// An uploaded picture, by its media id.
    Image {
        media: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alt: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credit: Option<String>,
        /// Set when reading, never stored (cleared both ways, see
        /// [`Body::from_stored`]): a legal hold keeps the picture from
        /// readers ([`Body::withhold`]); alt, caption and credit are gone.
        #[serde(default, skip_serializing_if = "is_false")]
        withheld: bool,
    },
    /// Content from an allow-listed provider ([`EMBED_PROVIDERS`]), by URL.
    Embed {
        provider: String,
        url: String,
    },
    Divider,
}

/// The smallest and largest heading level a body may use.
pub const HEADING_LEVELS: std::ops::RangeInclusive<u8> = 2..=4;

/// The text of runs, marks dropped.
pub fn plain_text(runs: &[Run]) -> String {
    runs.iter().map(|r| r.text.as_str()).collect()
}

/// Runs with adjacent runs of the same marks joined and empty ones gone.
pub fn merged(runs: Vec<Run>) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::with_capacity(runs.len());
    for run in runs {
        if run.text.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.same_marks(&run) => last.text.push_str(&run.text),
            _ => out.push(run),
        }
    }
    out
}

impl Block {
    /// The block's texts that read as running prose (paragraph, heading,
    /// quote, each list item), for the plain `paragraphs` view.
    fn prose(&self, out: &mut Vec<String>) {
        match self {
            Block::Paragraph { runs } | Block::Quote { runs, .. } => out.push(plain_text(runs)),
            Block::Heading { text, .. } => out.push(text.clone()),
            Block::List { items, .. } => out.extend(items.iter().map(|i| plain_text(i))),
            Block::Table { .. } | Block::Image { .. } | Block::Embed { .. } | Block::Divider => {}
        }
    }

    /// Every text a reader can read in the block, for search.
    fn all_text(&self, out: &mut Vec<String>) {
        self.prose(out);
        match self {
            Block::Quote {
                attribution: Some(a),
                ..
            } => out.push(a.clone()),
            Block::Table {
                caption,
                header,
                rows,
            } => {
                out.extend(caption.iter().cloned());
                out.push(header.join(" "));
                out.extend(rows.iter().map(|r| r.join(" ")));
            }
            Block::Image {
                alt,
                caption,
                credit,
                ..
            } => out.extend([alt, caption, credit].into_iter().flatten().cloned()),
            _ => {}
        }
    }

    /// The block with every human-readable text passed through `f`
    /// (script conversion); URLs, ids and providers stay as they are.
    fn map_text(&self, f: &dyn Fn(&str) -> String) -> Block {
        let runs = |rs: &[Run]| -> Vec<Run> {
            rs.iter()
                .map(|r| Run {
                    text: f(&r.text),
                    ..r.clone()
                })
                .collect()
        };
        let opt = |o: &Option<String>| o.as_deref().map(f);
        match self {
            Block::Paragraph { runs: rs } => Block::Paragraph { runs: runs(rs) },
            Block::Heading { level, text } => Block::Heading {
                level: *level,
                text: f(text),
            },
            Block::Quote {
                runs: rs,
                attribution,
            } => Block::Quote {
                runs: runs(rs),
                attribution: opt(attribution),
            },
            Block::List { ordered, items } => Block::List {
                ordered: *ordered,
                items: items.iter().map(|i| runs(i)).collect(),
            },
            Block::Table {
                caption,
                header,
                rows,
            } => Block::Table {
                caption: opt(caption),
                header: header.iter().map(|c| f(c)).collect(),
                rows: rows
                    .iter()
                    .map(|r| r.iter().map(|c| f(c)).collect())
                    .collect(),
            },
            Block::Image {
                media,
                alt,
                caption,
                credit,
                withheld,
            } => Block::Image {
                media: media.clone(),
                alt: opt(alt),
                caption: opt(caption),
                credit: opt(credit),
                withheld: *withheld,
            },
            Block::Embed { .. } | Block::Divider => self.clone(),
        }
    }
}

/// A whole body, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Body(pub Vec<Block>);

impl Body {
    /// One paragraph block per text, blanks dropped.
    pub fn from_paragraphs<S: AsRef<str>>(paragraphs: &[S]) -> Body {
        Body(
            paragraphs
                .iter()
                .map(|p| p.as_ref().trim())
                .filter(|p| !p.is_empty())
                .map(|p| Block::Paragraph {
                    runs: vec![Run::plain(p)],
                })
                .collect(),
        )
    }

    /// A body as stored in `articles.body` with its `body_format`: `blocks`
    /// (JSON), or the earlier `paragraphs` (a JSON list of texts) and
    /// `html` (sanitised HTML), which are read as blocks.
    pub fn from_stored(format: &str, stored: &str) -> Body {
        match format {
            "blocks" => serde_json::from_str::<Body>(stored)
                .unwrap_or_default()
                .unwithheld(),
            "paragraphs" => Body::from_paragraphs(
                &serde_json::from_str::<Vec<String>>(stored).unwrap_or_default(),
            ),
            _ => from_html(stored).0,
        }
    }

    /// The JSON kept in `articles.body`.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(&self.clone().unwithheld().0).unwrap_or_else(|_| "[]".into())
    }

    /// The plain text of every prose block, one entry each (list items
    /// count one each; tables, images and embeds are left out).
    pub fn paragraphs(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.0.iter().for_each(|b| b.prose(&mut out));
        out
    }

    /// Every readable text of every block: prose, table cells, captions,
    /// credits, alt texts, quote attributions.
    pub fn texts(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.0.iter().for_each(|b| b.all_text(&mut out));
        out
    }

    /// Like [`Body::texts`], without pictures' alt texts, captions and credits.
    pub fn texts_but_pictures(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.0
            .iter()
            .filter(|b| !matches!(b, Block::Image { .. }))
            .for_each(|b| b.all_text(&mut out));
        out
    }

    /// The body with every human-readable text passed through `f`.
    pub fn map_text(&self, f: &dyn Fn(&str) -> String) -> Body {
        Body(self.0.iter().map(|b| b.map_text(f)).collect())
    }

    /// Marks each image block whose picture `is_withheld` says a legal hold
    /// keeps from readers, and drops its alt text, caption and credit: they
    /// describe the withdrawn work, so no surface (HTML, blocks, search
    /// terms, snippets) may show them.
    pub fn withhold(&mut self, is_withheld: &dyn Fn(&str) -> bool) {
        for b in &mut self.0 {
            if let Block::Image {
                media,
                alt,
                caption,
                credit,
                withheld,
            } = b
            {
                if is_withheld(media) {
                    *withheld = true;
                    *alt = None;
                    *caption = None;
                    *credit = None;
                }
            }
        }
    }

    /// The body with no block marked withheld: what may be stored.
    fn unwithheld(mut self) -> Body {
        for b in &mut self.0 {
            if let Block::Image { withheld, .. } = b {
                *withheld = false;
            }
        }
        self
    }

    /// Media ids the body's image blocks use, in order, without repeats.
    pub fn media(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for b in &self.0 {
            if let Block::Image { media, .. } = b {
                if !seen.contains(&media.as_str()) {
                    seen.push(media.as_str());
                }
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One block of every kind, for the tests of the body's modules.
    pub(super) fn every_kind() -> Body {
        Body(vec![
            Block::Heading {
                level: 2,
                text: "財報".into(),
            },
            Block::Paragraph {
                runs: vec![
                    Run::plain("營收"),
                    Run {
                        text: "增長".into(),
                        href: Some("https://example.com/".into()),
                        em: true,
                        strong: false,
                    },
                ],
            },
            Block::Quote {
                runs: vec![Run::plain("穩中求進")],
                attribution: Some("董事長".into()),
            },
            Block::List {
                ordered: true,
                items: vec![vec![Run::plain("一")], vec![Run::plain("二")]],
            },
            Block::Table {
                caption: Some("營收表".into()),
                header: vec!["年".into(), "億元".into()],
                rows: vec![vec!["2025".into(), "12.5".into()]],
            },
            Block::Image {
                media: "m1".into(),
                alt: Some("港口".into()),
                caption: Some("日照港".into()),
                credit: Some("攝影 王偉".into()),
                withheld: false,
            },
            Block::Embed {
                provider: "youtube".into(),
                url: "https://www.youtube.com/watch?v=x".into(),
            },
            Block::Divider,
        ])
    }

    #[test]
    fn every_kind_of_block_survives_storage() {
        let body = every_kind();
        let stored = body.to_stored();
        assert_eq!(Body::from_stored("blocks", &stored), body);
        assert!(stored.contains(r#"{"type":"divider"}"#), "{stored}");
    }

    #[test]
    fn earlier_formats_read_as_blocks() {
        assert_eq!(
            Body::from_stored("paragraphs", r#"["一段"," ","二段"]"#).paragraphs(),
            vec!["一段", "二段"]
        );
        assert_eq!(
            Body::from_stored("html", "<p>一段</p><p>二段</p>").paragraphs(),
            vec!["一段", "二段"]
        );
    }

    #[test]
    fn search_reads_every_text_and_paragraphs_only_prose() {
        let body = every_kind();
        assert_eq!(
            body.paragraphs(),
            vec!["財報", "營收增長", "穩中求進", "一", "二"]
        );
        let texts = body.texts().join("|");
        for t in [
            "營收表",
            "2025 12.5",
            "攝影 王偉",
            "董事長",
            "日照港",
            "港口",
        ] {
            assert!(texts.contains(t), "{t} not in {texts}");
        }
    }

    #[test]
    fn script_conversion_touches_texts_not_links() {
        let shouted = every_kind().map_text(&|t| format!("<{t}>"));
        let stored = shouted.to_stored();
        assert!(stored.contains("<營收>") && stored.contains("<攝影 王偉>"));
        assert!(stored.contains(r#""href":"https://example.com/""#));
        assert!(stored.contains(r#""media":"m1""#));
    }

    #[test]
    fn runs_of_the_same_marks_are_joined() {
        let runs = merged(vec![Run::plain("a"), Run::plain(""), Run::plain("b")]);
        assert_eq!(runs, vec![Run::plain("ab")]);
    }
}
