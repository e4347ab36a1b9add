//! The texts of an article, each of which can only hold what the newsroom
//! accepts: a headline, a summary, a body and the names in a byline. Each
//! is trimmed of surrounding blanks before it is measured.

use super::input_error::InvalidText;
use crate::body::{from_html, tag_count, Body, Warning, MAX_BLOCKS, MAX_HTML_TAGS};

/// An article's title: 1–200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline(String);

impl Headline {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(value: &str) -> Result<Headline, InvalidText> {
        let text = value.trim();
        let n = text.chars().count();
        if n == 0 || n > Self::MAX_CHARS {
            return Err(InvalidText::new(
                "title",
                format!("must be 1-{} characters, got {n}", Self::MAX_CHARS),
            ));
        }
        Ok(Headline(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Headline> for String {
    fn from(h: Headline) -> String {
        h.0
    }
}

/// An article's summary: at most 500 characters, possibly none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary(String);

impl Summary {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(value: &str) -> Result<Summary, InvalidText> {
        let text = value.trim();
        let n = text.chars().count();
        if n > Self::MAX_CHARS {
            return Err(InvalidText::new(
                "summary",
                format!("must be at most {} characters, got {n}", Self::MAX_CHARS),
            ));
        }
        Ok(Summary(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Summary> for String {
    fn from(s: Summary) -> String {
        s.0
    }
}

/// An editor's override of what search engines and social cards show: runs
/// of blanks become one space, control characters are refused, and an
/// empty text means no override (the title or summary is used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeoText(String);

impl SeoText {
    /// `seoTitle`: longer than any results page shows, so an override is
    /// never cut by us.
    pub const MAX_TITLE_CHARS: usize = 100;
    /// `seoDescription`.
    pub const MAX_DESCRIPTION_CHARS: usize = 300;

    pub fn parse(
        field: &'static str,
        value: &str,
        max: usize,
    ) -> Result<Option<SeoText>, InvalidText> {
        if value.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(InvalidText::new(field, "must not hold control characters"));
        }
        let text = value.split_whitespace().collect::<Vec<_>>().join(" ");
        let n = text.chars().count();
        if n > max {
            return Err(InvalidText::new(
                field,
                format!("must be at most {max} characters, got {n}"),
            ));
        }
        Ok((n > 0).then_some(SeoText(text)))
    }
}

impl From<SeoText> for String {
    fn from(s: SeoText) -> String {
        s.0
    }
}

/// A person credited in a byline: 1–50 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(value: &str) -> Result<PersonName, InvalidText> {
        let name = value.trim();
        let n = name.chars().count();
        if n == 0 || n > Self::MAX_CHARS {
            return Err(InvalidText::new(
                "byline",
                format!("names must be 1-{} characters", Self::MAX_CHARS),
            ));
        }
        Ok(PersonName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<PersonName> for String {
    fn from(n: PersonName) -> String {
        n.0
    }
}

/// An article's body as stored: typed blocks ([`crate::body`]) kept as
/// JSON, at most 200 KB. Given as blocks, as plain paragraphs or as HTML
/// (read into blocks; what was dropped is kept in [`warnings`](Self::warnings)
/// for the answer, never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleBody {
    stored: String,
    warnings: Vec<Warning>,
}

/// How a body was given.
#[derive(Debug, Clone, Copy)]
pub enum BodyGiven<'a> {
    Paragraphs(&'a [String]),
    Html(&'a str),
    Blocks(&'a Body),
}

impl ArticleBody {
    pub const MAX_BYTES: usize = 200 * 1024;
    /// Bytes of HTML read at most (it shrinks as blocks).
    pub const MAX_HTML_BYTES: usize = 1024 * 1024;

    /// The body of a draft filed without one.
    pub fn empty() -> ArticleBody {
        ArticleBody {
            stored: "[]".into(),
            warnings: Vec::new(),
        }
    }

    /// The body given one way (or `None` when none of the three was given).
    pub fn parse(given: &[BodyGiven<'_>]) -> Result<Option<ArticleBody>, InvalidText> {
        let given = match given {
            [] => return Ok(None),
            [one] => *one,
            _ => {
                return Err(InvalidText::new(
                    "body",
                    "give the body one way: blocks, paragraphs or bodyHtml",
                ))
            }
        };
        let (body, warnings) = match given {
            BodyGiven::Paragraphs(ps) => (Body::from_paragraphs(ps), Vec::new()),
            BodyGiven::Html(h) if h.len() > Self::MAX_HTML_BYTES => {
                return Err(InvalidText::new(
                    "bodyHtml",
                    format!("must be at most {} bytes", Self::MAX_HTML_BYTES),
                ))
            }
            BodyGiven::Html(h) if tag_count(h) > MAX_HTML_TAGS => {
                return Err(InvalidText::new(
                    "bodyHtml",
                    format!("must hold at most {MAX_HTML_TAGS} tags"),
                ))
            }
            BodyGiven::Html(h) => from_html(h),
            BodyGiven::Blocks(b) => ((*b).clone(), Vec::new()),
        };
        if body.0.len() > MAX_BLOCKS {
            return Err(InvalidText::new(
                "blocks",
                format!("a body holds at most {MAX_BLOCKS} blocks"),
            ));
        }
        let stored = body.to_stored();
        if stored.len() > Self::MAX_BYTES {
            let field = match given {
                BodyGiven::Paragraphs(_) => "paragraphs",
                BodyGiven::Html(_) => "bodyHtml",
                BodyGiven::Blocks(_) => "blocks",
            };
            return Err(InvalidText::new(
                field,
                format!(
                    "the body must be at most {} bytes as blocks",
                    Self::MAX_BYTES
                ),
            ));
        }
        Ok(Some(ArticleBody { stored, warnings }))
    }

    /// The text kept in `articles.body`.
    pub fn stored(&self) -> &str {
        &self.stored
    }

    /// What was dropped from the HTML given.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The stored text and its format (`blocks`).
    pub fn into_parts(self) -> (String, String) {
        (self.stored, BLOCKS.to_string())
    }
}

/// The `body_format` of bodies written now.
pub const BLOCKS: &str = "blocks";

#[cfg(test)]
mod tests {
    use super::*;

    fn message<T: std::fmt::Debug>(r: Result<T, InvalidText>) -> String {
        r.expect_err("refused").to_string()
    }

    #[test]
    fn headlines_are_trimmed_and_hold_1_to_200_characters() {
        assert_eq!(
            Headline::parse("  臨沂新聞 ").map(String::from),
            Ok("臨沂新聞".into())
        );
        assert!(Headline::parse(&"聞".repeat(200)).is_ok());
        assert_eq!(
            message(Headline::parse(&"聞".repeat(201))),
            "title: must be 1-200 characters, got 201"
        );
        assert_eq!(
            message(Headline::parse("   ")),
            "title: must be 1-200 characters, got 0"
        );
    }

    #[test]
    fn summaries_may_be_empty_and_hold_at_most_500_characters() {
        assert_eq!(Summary::parse(" ").map(String::from), Ok(String::new()));
        assert!(Summary::parse(&"摘".repeat(500)).is_ok());
        assert_eq!(
            message(Summary::parse(&"摘".repeat(501))),
            "summary: must be at most 500 characters, got 501"
        );
    }

    #[test]
    fn byline_names_hold_1_to_50_characters() {
        assert_eq!(
            PersonName::parse(" 劉玉 ").map(String::from),
            Ok("劉玉".into())
        );
        assert!(PersonName::parse(&"名".repeat(50)).is_ok());
        for bad in [String::new(), " ".into(), "名".repeat(51)] {
            assert_eq!(
                message(PersonName::parse(&bad)),
                "byline: names must be 1-50 characters"
            );
        }
    }

    #[test]
    fn paragraphs_are_stored_as_paragraph_blocks_without_blanks() {
        let given = vec![" 第一段。 ".to_string(), "  ".into(), "第二段\"。".into()];
        let body = ArticleBody::parse(&[BodyGiven::Paragraphs(&given)])
            .expect("accepted")
            .expect("given");
        assert_eq!(
            body.stored(),
            r#"[{"type":"paragraph","runs":[{"text":"第一段。"}]},{"type":"paragraph","runs":[{"text":"第二段\"。"}]}]"#
        );
        assert_eq!(body.into_parts().1, "blocks");
    }

    #[test]
    fn html_is_read_into_blocks_and_what_was_dropped_is_told() {
        let body = ArticleBody::parse(&[BodyGiven::Html(
            r#"<p onclick="x()">正文</p><script>alert(1)</script><a href="javascript:x()">鏈</a>"#,
        )])
        .expect("accepted")
        .expect("given");
        assert!(body.stored().contains("正文"));
        for bad in ["script", "onclick", "javascript", "alert"] {
            assert!(!body.stored().contains(bad), "{bad} survived");
        }
        let codes: Vec<&str> = body.warnings().iter().map(|w| w.code).collect();
        assert_eq!(
            codes,
            vec!["DROPPED_ATTRIBUTE", "DROPPED_ELEMENT", "UNSAFE_LINK"]
        );
    }

    #[test]
    fn a_body_is_given_one_way_and_fits_200_kb() {
        assert_eq!(ArticleBody::parse(&[]), Ok(None));
        assert_eq!(
            message(ArticleBody::parse(&[
                BodyGiven::Paragraphs(&[]),
                BodyGiven::Html("<p>x</p>")
            ])),
            "body: give the body one way: blocks, paragraphs or bodyHtml"
        );
        let huge = vec!["字".repeat(70_000)];
        assert_eq!(
            message(ArticleBody::parse(&[BodyGiven::Paragraphs(&huge)])),
            "paragraphs: the body must be at most 204800 bytes as blocks"
        );
        let html = "<p>x</p>".repeat(200_000);
        assert_eq!(
            message(ArticleBody::parse(&[BodyGiven::Html(&html)])),
            "bodyHtml: must be at most 1048576 bytes"
        );
        // 200,000 nested elements would take the parser minutes: refused unread.
        let deep = "<div>".repeat(200_000);
        assert_eq!(
            message(ArticleBody::parse(&[BodyGiven::Html(&deep)])),
            "bodyHtml: must hold at most 10000 tags"
        );
        let nested = "<div>".repeat(10_000) + "深";
        let body = ArticleBody::parse(&[BodyGiven::Html(&nested)])
            .expect("accepted")
            .expect("given");
        assert_eq!(body.warnings()[0].code, "NESTED_TOO_DEEP");
        assert_eq!(
            ArticleBody::empty().into_parts(),
            ("[]".to_string(), "blocks".to_string())
        );
    }
}
