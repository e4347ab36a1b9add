//! The texts of an article, each of which can only hold what the newsroom
//! accepts: a headline, a summary, a body and the names in a byline. Each
//! is trimmed of surrounding blanks before it is measured.

use super::input_error::InvalidText;

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

/// An article's body as stored: a JSON list of plain paragraphs, or HTML
/// cleaned with an allow-list (no script, style, event handlers or
/// `javascript:` URLs); at most 200 KB either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleBody {
    stored: String,
    format: &'static str,
}

impl ArticleBody {
    pub const MAX_BYTES: usize = 200 * 1024;

    /// The body of a draft filed without one.
    pub fn empty() -> ArticleBody {
        ArticleBody {
            stored: "[]".into(),
            format: "paragraphs",
        }
    }

    /// The body given as paragraphs or as HTML (not both); `None` when
    /// neither was given. Blank paragraphs are dropped.
    pub fn parse(
        paragraphs: Option<&[String]>,
        html: Option<&str>,
    ) -> Result<Option<ArticleBody>, InvalidText> {
        let body = match (paragraphs, html) {
            (Some(_), Some(_)) => {
                return Err(InvalidText::new(
                    "bodyHtml",
                    "give either paragraphs or bodyHtml, not both",
                ))
            }
            (None, None) => return Ok(None),
            (Some(ps), None) => {
                let kept: Vec<&str> = ps
                    .iter()
                    .map(|p| p.trim())
                    .filter(|p| !p.is_empty())
                    .collect();
                ArticleBody {
                    stored: serde_json::Value::from(kept).to_string(),
                    format: "paragraphs",
                }
            }
            (None, Some(h)) => ArticleBody {
                stored: ammonia::clean(h),
                format: "html",
            },
        };
        if body.stored.len() > Self::MAX_BYTES {
            return Err(InvalidText::new(
                "paragraphs",
                format!("the body must be at most {} bytes", Self::MAX_BYTES),
            ));
        }
        Ok(Some(body))
    }

    /// The text kept in `articles.body`.
    pub fn stored(&self) -> &str {
        &self.stored
    }

    /// The value kept in `articles.body_format`: `paragraphs` or `html`.
    pub fn format(&self) -> &'static str {
        self.format
    }

    /// The stored text and its format.
    pub fn into_parts(self) -> (String, String) {
        (self.stored, self.format.to_string())
    }
}

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
    fn paragraphs_are_stored_as_a_json_list_without_blanks() {
        let given = vec![" 第一段。 ".to_string(), "  ".into(), "第二段\"。".into()];
        let body = ArticleBody::parse(Some(&given), None)
            .expect("accepted")
            .expect("given");
        assert_eq!(body.stored(), r#"["第一段。","第二段\"。"]"#);
        assert_eq!(body.format(), "paragraphs");
        let same = serde_json::to_string(&["第一段。", "第二段\"。"]).expect("serialises");
        assert_eq!(body.stored(), same);
    }

    #[test]
    fn html_is_cleaned_with_the_allow_list() {
        let body = ArticleBody::parse(
            None,
            Some(r#"<p onclick="x()">正文</p><script>alert(1)</script><a href="javascript:x()">鏈</a>"#),
        )
        .expect("accepted")
        .expect("given");
        assert_eq!(body.format(), "html");
        assert!(body.stored().contains("正文"));
        for bad in ["script", "onclick", "javascript"] {
            assert!(!body.stored().contains(bad), "{bad} survived");
        }
    }

    #[test]
    fn a_body_is_given_one_way_and_fits_200_kb() {
        assert_eq!(ArticleBody::parse(None, None), Ok(None));
        assert_eq!(
            message(ArticleBody::parse(Some(&[]), Some("<p>x</p>"))),
            "bodyHtml: give either paragraphs or bodyHtml, not both"
        );
        let huge = vec!["字".repeat(70_000)];
        assert_eq!(
            message(ArticleBody::parse(Some(&huge), None)),
            "paragraphs: the body must be at most 204800 bytes"
        );
        assert_eq!(
            ArticleBody::empty().into_parts(),
            ("[]".to_string(), "paragraphs".to_string())
        );
    }
}
