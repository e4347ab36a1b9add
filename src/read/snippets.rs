//! Search snippets: the part of an article that shows why it matched, in
//! the script asked for, HTML-escaped, with the reader's words in `<em>`.
//!
//! The summary when it holds one of the words (it reads best); otherwise
//! the first body paragraph that does, cut to a window around the first
//! match with `…` where it was cut; otherwise the summary as it is.
//! Words match in either script and, for Latin letters, in any case.

use std::borrow::Cow;
use std::ops::Range;

use super::Voice;
use crate::db::articles::ArticleRow;
use crate::domain::script::TextScript;

/// Characters of a body paragraph shown around its first match.
const WINDOW: usize = 120;

/// Characters shown before the first match in a cut paragraph.
const LEAD: usize = 30;

/// The words of a query to mark: quoted phrases split into their words,
/// excluded (`-word`) words left out.
pub fn highlighted_words(query: &str) -> Vec<String> {
    query
        .split(|c: char| c.is_whitespace() || c == '"')
        .filter(|w| !w.is_empty() && !w.starts_with('-'))
        .map(String::from)
        .collect()
}

/// A form of a query's word, ready to be looked for: its searcher is made
/// once per page, not once per text looked through.
type Form = memchr::memmem::Finder<'static>;

fn searchers(forms: &[String]) -> Vec<Form> {
    forms
        .iter()
        .map(|form| memchr::memmem::Finder::new(form.as_bytes()).into_owned())
        .collect()
}

/// The forms of a query's words a page of snippets marks, worked out once
/// per page (each takes three script conversions).
pub struct Highlight {
    forms: Vec<Form>,
}

impl Highlight {
    /// Where in `text` the first match of any form starts.
    fn first_match(&self, text: &str) -> Option<usize> {
        first_match(text, &self.forms)
    }
}

impl Voice<'_> {
    /// What the snippets of a search for `words` mark, in this voice.
    pub fn highlight(&self, words: &[String]) -> Highlight {
        Highlight {
            forms: searchers(&self.forms(words)),
        }
    }

    /// The snippet of `row` for the search `highlight` was made for. The
    /// passage is found in the stored text (the words are looked for in
    /// both scripts) and only it is converted: a hit's body is not
    /// converted whole.
    pub fn snippet(&self, row: &ArticleRow, highlight: &Highlight) -> String {
        let passage = if highlight.first_match(&row.summary).is_some() {
            row.summary.clone()
        } else {
            // Pictures' captions are left out: one may be withheld, and
            // this page does not know.
            crate::body::first_text_but_pictures(&row.body_format, &row.body, |p| {
                Some(window(p, highlight.first_match(p)?))
            })
            .unwrap_or_else(|| row.summary.clone())
        };
        marked(&self.body(&passage, &row.script), &highlight.forms)
    }

    /// Each word as typed and in both scripts and the one asked for,
    /// lower-cased (Latin letters only), longest first so that a longer
    /// word is marked whole.
    fn forms(&self, words: &[String]) -> Vec<String> {
        let mut forms: Vec<String> = Vec::new();
        for word in words {
            let mut variants = vec![word.clone(), self.line(word)];
            for to in [TextScript::Hans, TextScript::Hant] {
                variants.push(self.converter.line(word, to).to_string());
            }
            forms.extend(variants.into_iter().map(|v| v.to_ascii_lowercase()));
        }
        forms.retain(|f| !f.is_empty());
        forms.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        forms.dedup();
        forms
    }
}

/// `text` with its ASCII letters in lower case, every byte where it was;
/// copied only when it has a capital.
fn ascii_lower(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// Where in `text` the first match of any form starts. (A form and the
/// text are both UTF-8, so a match starts and ends on character bounds.)
fn first_match(text: &str, forms: &[Form]) -> Option<usize> {
    let lower = ascii_lower(text);
    forms
        .iter()
        .filter_map(|form| form.find(lower.as_bytes()))
        .min()
}

/// The byte ranges of `text` the forms cover, in order, overlaps merged.
fn matches(text: &str, forms: &[Form]) -> Vec<Range<usize>> {
    let lower = ascii_lower(text);
    let mut found: Vec<Range<usize>> = forms
        .iter()
        .flat_map(|form| {
            form.find_iter(lower.as_bytes())
                .map(|at| at..at + form.needle().len())
        })
        .collect();
    found.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in found {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// `text` escaped, with every match in `<em>`.
fn marked(text: &str, forms: &[Form]) -> String {
    let escape = crate::text::markup::escape;
    let mut html = String::with_capacity(text.len() + 32);
    let mut at = 0;
    for r in matches(text, forms) {
        html.push_str(&escape(&text[at..r.start]));
        html.push_str("<em>");
        html.push_str(&escape(&text[r.clone()]));
        html.push_str("</em>");
        at = r.end;
    }
    html.push_str(&escape(&text[at..]));
    html
}

/// About [`WINDOW`] characters of `text` around byte `first`, with `…`
/// where it was cut.
fn window(text: &str, first: usize) -> String {
    let before = text[..first].chars().count();
    let start_char = before.saturating_sub(LEAD);
    let mut out = String::new();
    if start_char > 0 {
        out.push('…');
    }
    let kept: String = text.chars().skip(start_char).take(WINDOW).collect();
    let cut_end = start_char + WINDOW < text.chars().count();
    out.push_str(&kept);
    if cut_end {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(words: &[&str]) -> Vec<Form> {
        let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
        searchers(&lower)
    }

    #[test]
    fn marks_every_match_and_escapes_the_rest() {
        let html = marked("A&B 募资 <b>IPO</b> 募资", &forms(&["募资", "ipo"]));
        assert_eq!(
            html,
            "A&amp;B <em>募资</em> &lt;b&gt;<em>IPO</em>&lt;/b&gt; <em>募资</em>"
        );
    }

    #[test]
    fn a_word_that_spells_an_entity_does_not_break_the_markup() {
        assert_eq!(marked("A&B", &forms(&["amp"])), "A&amp;B");
        assert_eq!(marked("x<y", &forms(&["lt"])), "x&lt;y");
    }

    #[test]
    fn overlapping_words_make_one_mark() {
        assert_eq!(
            marked("半导体ETF", &forms(&["半导体", "导体e"])),
            "<em>半导体E</em>TF"
        );
    }

    #[test]
    fn the_first_match_is_the_leftmost_of_any_form_in_any_ascii_case() {
        let forms = forms(&["ETF", "半导体", "导体e"]);
        assert_eq!(first_match("一只Etf和半导体", &forms), Some("一只".len()));
        assert_eq!(first_match("x导体E半导体", &forms), Some(1));
        assert_eq!(first_match("没有", &forms), None);
    }

    #[test]
    fn a_long_paragraph_is_cut_around_its_first_match() {
        let text = format!("{}募资{}", "甲".repeat(200), "乙".repeat(200));
        let cut = window(&text, text.find("募资").unwrap_or(0));
        assert!(cut.starts_with('…') && cut.ends_with('…'));
        assert_eq!(cut.chars().count(), WINDOW + 2);
        assert!(cut.contains("募资"));
        assert_eq!(window("短文募资", 6), "短文募资");
    }
}
