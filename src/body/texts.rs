//! A stored body's texts, read straight from its JSON.
//!
//! Search snippets look through the bodies of every hit of a page, and an
//! article page shows its body's paragraphs. Reading the body as
//! [`Block`](super::Block)s goes through serde's buffered form of an enum
//! tagged by `type` (every string copied into it, then copied again into
//! the block): 7.7 % of a search's CPU, 4.8 % of an article page's. Here
//! each block is read into one flat struct whose strings borrow from the
//! stored text, and only the texts asked for are kept.

use std::borrow::Cow;

use serde::Deserialize;

/// A block as stored, every kind's text fields side by side.
#[derive(Deserialize)]
struct StoredBlock<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    runs: Vec<StoredRun<'a>>,
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    attribution: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    items: Vec<Vec<StoredRun<'a>>>,
    #[serde(default, borrow)]
    caption: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    header: Vec<Cow<'a, str>>,
    #[serde(default, borrow)]
    rows: Vec<Vec<Cow<'a, str>>>,
}

#[derive(Deserialize)]
struct StoredRun<'a> {
    #[serde(borrow)]
    text: Cow<'a, str>,
}

fn joined<'a>(runs: &[StoredRun<'a>]) -> Cow<'a, str> {
    match runs {
        [one] => one.text.clone(),
        _ => Cow::Owned(runs.iter().map(|r| r.text.as_ref()).collect()),
    }
}

/// What [`Body::texts_but_pictures`](super::Body::texts_but_pictures) gives
/// for the body stored as `stored` in `format`, in the same order.
pub fn stored_texts_but_pictures<'a>(format: &str, stored: &'a str) -> Vec<Cow<'a, str>> {
    stored_texts(format, stored, Texts::ButPictures)
}

/// What [`Body::paragraphs`](super::Body::paragraphs) gives for the body
/// stored as `stored` in `format`, in the same order.
pub fn stored_paragraphs<'a>(format: &str, stored: &'a str) -> Vec<Cow<'a, str>> {
    stored_texts(format, stored, Texts::Prose)
}

/// Which texts of a body a reading keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Texts {
    /// Paragraphs, headings, quotes and list items.
    Prose,
    /// Prose, quote attributions and tables: what search reads.
    ButPictures,
}

fn stored_texts<'a>(format: &str, stored: &'a str, texts: Texts) -> Vec<Cow<'a, str>> {
    let fast = match format {
        "blocks" => blocks_texts(stored, texts),
        _ => None,
    };
    fast.unwrap_or_else(|| {
        let body = super::Body::from_stored(format, stored);
        let all = match texts {
            Texts::Prose => body.paragraphs(),
            Texts::ButPictures => body.texts_but_pictures(),
        };
        all.into_iter().map(Cow::Owned).collect()
    })
}

/// The texts of stored blocks; `None` for what only the full reading
/// knows how to treat (a kind it does not name, JSON it refuses).
fn blocks_texts(stored: &str, texts: Texts) -> Option<Vec<Cow<'_, str>>> {
    let blocks: Vec<StoredBlock<'_>> = serde_json::from_str(stored).ok()?;
    let mut out = Vec::new();
    for block in blocks {
        block_texts(block, texts, &mut out)?;
    }
    Some(out)
}

/// Adds the texts of `block` to `out`; `None` for a block only the full
/// reading knows how to treat.
fn block_texts<'a>(
    block: StoredBlock<'a>,
    texts: Texts,
    out: &mut Vec<Cow<'a, str>>,
) -> Option<()> {
    let more = texts == Texts::ButPictures;
    match block.kind.as_ref() {
        "paragraph" => out.push(joined(&block.runs)),
        "heading" => out.push(block.text?),
        "quote" => {
            out.push(joined(&block.runs));
            out.extend(block.attribution.filter(|_| more));
        }
        "list" => out.extend(block.items.iter().map(|item| joined(item))),
        "table" if more => {
            out.extend(block.caption);
            out.push(Cow::Owned(block.header.join(" ")));
            out.extend(block.rows.iter().map(|row| Cow::Owned(row.join(" "))));
        }
        "table" | "image" | "embed" | "divider" => {}
        _ => return None,
    }
    Some(())
}

/// The first of the texts [`stored_texts_but_pictures`] gives for which
/// `pick` gives something, and that. A snippet wants the first passage
/// with a word of the query, most often near the start: the blocks after
/// it are only skimmed for what would send the reading the full way, not
/// read into texts.
pub fn first_text_but_pictures<T>(
    format: &str,
    stored: &str,
    mut pick: impl FnMut(&str) -> Option<T>,
) -> Option<T> {
    if format == "blocks" {
        if let Some(found) = first_in_blocks(stored, &mut pick) {
            return found;
        }
    }
    stored_texts(format, stored, Texts::ButPictures)
        .iter()
        .find_map(|text| pick(text))
}

/// What [`first_text_but_pictures`] finds in stored blocks; `None` for what
/// only the full reading knows how to treat.
fn first_in_blocks<T>(stored: &str, pick: &mut impl FnMut(&str) -> Option<T>) -> Option<Option<T>> {
    let mut reader = serde_json::Deserializer::from_str(stored);
    let found = serde::Deserializer::deserialize_seq(&mut reader, FirstText(pick)).ok()?;
    reader.end().ok()?;
    found
}

/// A block after the one picked: what tells whether the full reading
/// would have been taken.
#[derive(Deserialize)]
struct SkimmedBlock<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    text: Option<serde::de::IgnoredAny>,
}

impl SkimmedBlock<'_> {
    /// Whether [`block_texts`] reads this block (a kind it reads that is
    /// missing here only sends the body the full way).
    fn read_flat(&self) -> bool {
        match self.kind.as_ref() {
            "heading" => self.text.is_some(),
            kind => [
                "paragraph",
                "quote",
                "list",
                "table",
                "image",
                "embed",
                "divider",
            ]
            .contains(&kind),
        }
    }
}

struct FirstText<'p, P>(&'p mut P);

impl<'de, T, P: FnMut(&str) -> Option<T>> serde::de::Visitor<'de> for FirstText<'_, P> {
    type Value = Option<Option<T>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of blocks")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        let mut texts = Vec::new();
        while found.is_none() {
            let Some(block) = seq.next_element::<StoredBlock<'de>>()? else {
                break;
            };
            texts.clear();
            if block_texts(block, Texts::ButPictures, &mut texts).is_none() {
                return Ok(None);
            }
            found = texts.iter().find_map(|text| (self.0)(text));
        }
        while let Some(block) = seq.next_element::<SkimmedBlock<'de>>()? {
            if !block.read_flat() {
                return Ok(None);
            }
        }
        Ok(Some(found))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Block, Body, Run};
    use super::*;

    fn owned(texts: Vec<Cow<'_, str>>) -> Vec<String> {
        texts.into_iter().map(Cow::into_owned).collect()
    }

    fn runs(texts: &[&str]) -> Vec<Run> {
        texts.iter().map(|t| Run::plain(*t)).collect()
    }

    #[test]
    fn every_kind_of_block_gives_what_the_full_reading_gives() {
        let body = Body(vec![
            Block::Heading {
                level: 2,
                text: "小标题 \"引号\"".into(),
            },
            Block::Paragraph {
                runs: runs(&["募资", "20亿\n元"]),
            },
            Block::Paragraph {
                runs: runs(&["一段"]),
            },
            Block::Image {
                media: "m1".into(),
                alt: Some("图".into()),
                caption: Some("图注".into()),
                credit: Some("摄影".into()),
                withheld: false,
            },
            Block::Quote {
                runs: runs(&["引语"]),
                attribution: Some("某人".into()),
            },
            Block::List {
                ordered: true,
                items: vec![runs(&["一", "二"]), runs(&["三"])],
            },
            Block::Table {
                caption: Some("表".into()),
                header: vec!["年".into(), "额".into()],
                rows: vec![vec!["2025".into(), "1".into()]],
            },
            Block::Table {
                caption: None,
                header: vec![],
                rows: vec![],
            },
            Block::Embed {
                provider: "youtube".into(),
                url: "https://www.youtube.com/watch?v=x".into(),
            },
            Block::Divider,
        ]);
        let stored = body.to_stored();
        let full = Body::from_stored("blocks", &stored).texts_but_pictures();
        let fast = owned(stored_texts_but_pictures("blocks", &stored));
        assert_eq!(fast, full);
        assert!(fast.contains(&"募资20亿\n元".to_string()));
        assert!(!fast.iter().any(|t| t.contains("图注")));

        let full = Body::from_stored("blocks", &stored).paragraphs();
        let fast = owned(stored_paragraphs("blocks", &stored));
        assert_eq!(fast, full);
        assert!(fast.contains(&"引语".to_string()));
        assert!(!fast
            .iter()
            .any(|t| t.contains("某人") || t.contains("2025")));
    }

    /// Each text in turn, none, and any, picked from `stored` by the first
    /// text's reading gives what the whole list gives.
    fn first_agrees_with_the_list(format: &str, stored: &str) {
        let all = owned(stored_texts_but_pictures(format, stored));
        for wanted in all.iter().map(Some).chain([None]) {
            let pick = |text: &str| (Some(&text.to_string()) == wanted).then(|| text.to_string());
            let first = first_text_but_pictures(format, stored, pick);
            assert_eq!(first.as_ref(), wanted, "{format}: {stored}");
        }
        let any = first_text_but_pictures(format, stored, |text| Some(text.to_string()));
        assert_eq!(any.as_ref(), all.first(), "{format}: {stored}");
    }

    #[test]
    fn the_first_text_picked_is_the_lists_first_picked() {
        let body = Body(vec![
            Block::Paragraph {
                runs: runs(&["一段"]),
            },
            Block::Heading {
                level: 2,
                text: "小标题".into(),
            },
            Block::Table {
                caption: Some("表".into()),
                header: vec!["年".into()],
                rows: vec![vec!["2025".into()]],
            },
            Block::Divider,
            Block::Paragraph {
                runs: runs(&["末段"]),
            },
        ]);
        first_agrees_with_the_list("blocks", &body.to_stored());
        // What the flat reading does not know, before or after the text
        // picked, sends it the full way.
        first_agrees_with_the_list(
            "blocks",
            r#"[{"type":"poem","text":"诗"},{"type":"paragraph","runs":[{"text":"段"}]}]"#,
        );
        first_agrees_with_the_list(
            "blocks",
            r#"[{"type":"paragraph","runs":[{"text":"段"}]},{"type":"poem","text":"诗"}]"#,
        );
        first_agrees_with_the_list(
            "blocks",
            r#"[{"type":"paragraph","runs":[{"text":"段"}]},{"type":"heading","level":2}]"#,
        );
        first_agrees_with_the_list(
            "blocks",
            r#"[{"type":"paragraph","runs":[{"text":"段"}]}] x"#,
        );
        first_agrees_with_the_list("paragraphs", r#"["第一段","第二段"]"#);
        first_agrees_with_the_list("html", "<p>一段</p><p>二段</p>");
    }

    #[test]
    fn what_the_flat_reading_does_not_know_goes_the_full_way() {
        let unknown = r#"[{"type":"poem","text":"诗"}]"#;
        let full = Body::from_stored("blocks", unknown).texts_but_pictures();
        assert_eq!(
            stored_texts_but_pictures("blocks", unknown),
            full.into_iter().map(Cow::Owned).collect::<Vec<Cow<str>>>()
        );
        let paragraphs = r#"["第一段","第二段"]"#;
        assert_eq!(
            stored_texts_but_pictures("paragraphs", paragraphs),
            vec![Cow::Borrowed("第一段"), Cow::Borrowed("第二段")]
        );
        assert_eq!(
            stored_paragraphs("html", "<p>一段</p><p>二段</p>"),
            vec![Cow::Borrowed("一段"), Cow::Borrowed("二段")]
        );
    }
}
