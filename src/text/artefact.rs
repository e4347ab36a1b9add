//! Removal of the `字(pinyin)` scraping artefact.
//!
//! Some mirrors of mainland news sites annotate every character that has a
//! simplified/traditional difference with its reading, e.g. `經(jīng)濟(jì)`.
//! The annotations are noise for readers and for search, but a real gloss in
//! a language article (`“槑(méi)”`) looks the same, so stripping is guarded by
//! per-match checks and a per-document gate (see `ZH-TEXT.md` §1).

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::LazyLock;

use pinyin::ToPinyinMulti;
use regex::Regex;
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{is_nfc, UnicodeNormalization};

/// One Han character, an ASCII or fullwidth parenthesis, 1–6 pinyin letters.
static ANNOTATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\p{Han})[(（]([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,6})[)）]")
        .expect("ANNOTATION is a valid constant regex")
});

/// Remains of an annotation whose Han character was damaged at byte level:
/// the lead byte turned into `?`, an ASCII letter or punctuation, or U+FFFD.
static GARBLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\?[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,6}\)|[A-Za-z|^@~\\]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,6}\)|\x{FFFD}",
    )
    .expect("GARBLE is a valid constant regex")
});

/// Vowels carrying a tone mark; a bare `ü` is deliberately absent because it
/// is a letter, not a tone (`lüè` has one tone mark).
const TONED_VOWELS: &str = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ";

/// Fewer accepted annotations than this means the document is probably not a
/// mirror page but a text that quotes a reading on purpose.
const MIN_ACCEPTED_PER_DOCUMENT: usize = 3;

/// Garbles with exactly one plausible GBK reconstruction (`ZH-TEXT.md` §1);
/// everything else is only reported because guessing would corrupt text.
const REPAIRS: [(&str, &str); 2] = [("F(xiàn)", "現"), ("?xùn)|", "東")];

/// Result of [`strip_pinyin_artefact`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    /// The cleaned text (NFC) when annotations were stripped, otherwise the
    /// input unchanged. Line structure and line endings are preserved.
    pub text: String,
    /// Number of `字(pinyin)` annotations removed.
    pub stripped: usize,
    /// Number of known byte-level garbles repaired.
    pub repaired: usize,
    /// Spots left as is that an editor should look at, in input order.
    pub warnings: Vec<TextWarning>,
}

/// A suspicious spot that was left unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextWarning {
    /// 1-based line number in the input.
    pub line: usize,
    /// 1-based column in characters within the input line.
    pub column: usize,
    /// What was found.
    pub kind: WarningKind,
    /// The offending text (NFC), e.g. `館(café)`.
    pub excerpt: String,
}

/// Kind of a [`TextWarning`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// `Han(latin)` where the latin part is not a reading of that character.
    UnverifiedAnnotation,
    /// Damaged annotation that could not be repaired.
    Garbled,
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnverifiedAnnotation => "unverified annotation",
            Self::Garbled => "garbled text",
        })
    }
}

impl fmt::Display for TextWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {} left as is: {}",
            self.line, self.column, self.kind, self.excerpt
        )
    }
}

/// Removes `字(pinyin)` annotations and repairs the known garbles.
///
/// The text is normalised to NFC first (a tone mark may arrive as a base
/// letter plus a combining mark). An annotation is removed only if it has at
/// most one tone mark and is a reading of its character; the others are
/// reported as [`WarningKind::UnverifiedAnnotation`]. Nothing is stripped or
/// repaired unless the document has at least three removable annotations; in
/// that case the input is returned unchanged and only garbles are reported.
pub fn strip_pinyin_artefact(input: &str) -> Cleaned {
    let lines: Vec<Line<'_>> = split_lines(input).map(Line::new).collect();
    let accepted: usize = lines.iter().map(|line| line.accepted.len()).sum();
    let strip = accepted >= MIN_ACCEPTED_PER_DOCUMENT;

    let mut text = String::with_capacity(if strip { input.len() } else { 0 });
    let mut repaired = 0;
    let mut warnings = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let number = index + 1;
        let mut line_warnings: Vec<(usize, TextWarning)> = Vec::new();
        for range in &line.garbles {
            // A repaired spot also matches GARBLE; it is no longer damaged.
            if strip && line.repairs.iter().any(|(r, _)| overlaps(r, range)) {
                continue;
            }
            line_warnings.push(line.warning(number, range, WarningKind::Garbled));
        }
        if strip {
            for range in &line.unverified {
                line_warnings.push(line.warning(number, range, WarningKind::UnverifiedAnnotation));
            }
            repaired += line.repairs.len();
            line.write_cleaned(&mut text);
        }
        line_warnings.sort_by_key(|(start, _)| *start);
        warnings.extend(line_warnings.into_iter().map(|(_, w)| w));
    }

    if strip {
        Cleaned {
            text,
            stripped: accepted,
            repaired,
            warnings,
        }
    } else {
        Cleaned {
            text: input.to_owned(),
            stripped: 0,
            repaired: 0,
            warnings,
        }
    }
}

/// Splits into (content, line ending) pairs so that `\n` and `\r\n` survive.
fn split_lines(input: &str) -> impl Iterator<Item = (&str, &str)> {
    input.split_inclusive('\n').map(|line| {
        let content = line
            .strip_suffix("\r\n")
            .or_else(|| line.strip_suffix('\n'))
            .unwrap_or(line);
        (content, &line[content.len()..])
    })
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// One input line after NFC, with every finding as a byte range of `norm`.
struct Line<'a> {
    ending: &'a str,
    norm: Cow<'a, str>,
    /// Input column (0-based) of each char of `norm`; `None` when the line
    /// was already NFC and columns coincide.
    columns: Option<Vec<usize>>,
    /// Annotations to remove, with the byte length of their Han character.
    accepted: Vec<(Range<usize>, usize)>,
    unverified: Vec<Range<usize>>,
    repairs: Vec<(Range<usize>, &'static str)>,
    garbles: Vec<Range<usize>>,
}

impl<'a> Line<'a> {
    fn new((content, ending): (&'a str, &'a str)) -> Self {
        let (norm, columns) = normalize(content);
        let mut accepted = Vec::new();
        let mut unverified = Vec::new();
        for caps in ANNOTATION.captures_iter(&norm) {
            let (Some(whole), Some(han), Some(reading)) = (caps.get(0), caps.get(1), caps.get(2))
            else {
                continue;
            };
            if is_reading(han.as_str(), reading.as_str()) {
                accepted.push((whole.range(), han.len()));
            } else {
                unverified.push(whole.range());
            }
        }
        let repairs = REPAIRS
            .iter()
            .flat_map(|&(from, to)| {
                norm.match_indices(from)
                    .map(move |(start, _)| (start..start + from.len(), to))
            })
            .collect();
        let garbles = GARBLE.find_iter(&norm).map(|m| m.range()).collect();
        Self {
            ending,
            norm,
            columns,
            accepted,
            unverified,
            repairs,
            garbles,
        }
    }

    /// Returns the warning keyed by its byte offset, for sorting within a line.
    fn warning(
        &self,
        line: usize,
        range: &Range<usize>,
        kind: WarningKind,
    ) -> (usize, TextWarning) {
        let char_index = self.norm[..range.start].chars().count();
        let column = self
            .columns
            .as_ref()
            .and_then(|columns| columns.get(char_index).copied())
            .unwrap_or(char_index);
        let warning = TextWarning {
            line,
            column: column + 1,
            kind,
            excerpt: self.norm[range.clone()].to_owned(),
        };
        (range.start, warning)
    }

    fn write_cleaned(&self, out: &mut String) {
        let mut edits: Vec<(Range<usize>, &str)> = self
            .accepted
            .iter()
            .map(|(range, han_len)| {
                (
                    range.clone(),
                    &self.norm[range.start..range.start + han_len],
                )
            })
            .chain(self.repairs.iter().map(|(range, to)| (range.clone(), *to)))
            .collect();
        edits.sort_by_key(|(range, _)| range.start);
        let mut pos = 0;
        for (range, replacement) in edits {
            // The patterns cannot overlap today; skipping keeps the output
            // well-formed should a future repair pattern do so.
            if range.start < pos {
                continue;
            }
            out.push_str(&self.norm[pos..range.start]);
            out.push_str(replacement);
            pos = range.end;
        }
        out.push_str(&self.norm[pos..]);
        out.push_str(self.ending);
    }
}

/// NFC-normalises one line and maps each output char back to its input
/// column, so warnings point into the raw text an editor sees.
fn normalize(content: &str) -> (Cow<'_, str>, Option<Vec<usize>>) {
    if is_nfc(content) {
        return (Cow::Borrowed(content), None);
    }
    // Normalising each starter with its combining marks separately gives
    // an exact mapping; it equals whole-line NFC except for rare
    // starter-starter compositions (e.g. Hangul jamo).
    let chars: Vec<char> = content.chars().collect();
    let mut norm = String::with_capacity(content.len());
    let mut columns = Vec::with_capacity(chars.len());
    let mut start = 0;
    while start < chars.len() {
        let mut end = start + 1;
        while end < chars.len() && canonical_combining_class(chars[end]) != 0 {
            end += 1;
        }
        for (offset, c) in chars[start..end].iter().copied().nfc().enumerate() {
            norm.push(c);
            columns.push(start + offset.min(end - start - 1));
        }
        start = end;
    }
    let whole: String = content.nfc().collect();
    if norm == whole {
        (Cow::Owned(norm), Some(columns))
    } else {
        // Columns then count chars of the normalised line.
        (Cow::Owned(whole), None)
    }
}

/// Whether `reading` is a plausible annotation of `han`: at most one tone
/// mark, and one of the character's dictionary readings (so `館(café)` and
/// `長(xíng)` are rejected while the valid but wrong `長(zhǎng)` passes).
fn is_reading(han: &str, reading: &str) -> bool {
    let tone_marks = reading
        .chars()
        .filter(|c| TONED_VOWELS.contains(*c))
        .count();
    if tone_marks > 1 {
        return false;
    }
    let mut chars = han.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return false;
    };
    c.to_pinyin_multi().is_some_and(|readings| {
        readings
            .into_iter()
            .any(|p| p.with_tone().nfc().eq(reading.chars()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample mirror page.
    const SEED: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/seed/000_a15393c2ad8b6a45.txt"
    ));

    /// Three ordinary annotations so that the document gate passes.
    const GATE_LINE: &str = "經(jīng)濟(jì)導(dǎo)報(bào)";

    /// Cleans `fragment` as line 2 of a document that passes the gate and
    /// returns the cleaned fragment with the full result.
    fn in_doc(fragment: &str) -> (String, Cleaned) {
        let cleaned = strip_pinyin_artefact(&format!("{GATE_LINE}\n{fragment}\n"));
        let line = cleaned.text.lines().nth(1).unwrap_or_default().to_owned();
        (line, cleaned)
    }

    fn assert_clean(input: &str, expected: &str) {
        let (line, cleaned) = in_doc(input);
        assert_eq!(line, expected);
        assert_eq!(cleaned.warnings, vec![], "for {input}");
    }

    fn assert_flagged(input: &str, column: usize, kind: WarningKind, excerpt: &str) {
        let (line, cleaned) = in_doc(input);
        assert_eq!(line, input, "flagged text is left as is");
        assert_eq!(
            cleaned.warnings,
            vec![TextWarning {
                line: 2,
                column,
                kind,
                excerpt: excerpt.to_owned(),
            }]
        );
    }

    #[test]
    fn case_01_run_of_annotations() {
        let cleaned = strip_pinyin_artefact("經(jīng)濟(jì)導(dǎo)報(bào)");
        assert_eq!(cleaned.text, "經濟導報");
        assert_eq!(cleaned.stripped, 4);
        assert!(cleaned.warnings.is_empty());
    }

    #[test]
    fn case_02_dong_is_never_annotated() {
        assert_clean("山東財(cái)經(jīng)網(wǎng) >> 臨沂", "山東財經網 >> 臨沂");
    }

    #[test]
    fn case_03_annotation_before_real_parenthesis() {
        assert_clean("在村(社區(qū))廣泛開展", "在村(社區)廣泛開展");
    }

    #[test]
    fn case_04_lost_lead_byte_repaired() {
        let (line, cleaned) = in_doc("直接服務(wù)3萬余人次,F(xiàn)已在銀雀山街道");
        assert_eq!(line, "直接服務3萬余人次,現已在銀雀山街道");
        assert_eq!(cleaned.repaired, 1);
        assert!(cleaned.warnings.is_empty());
    }

    #[test]
    fn case_05_misaligned_xun_repaired() {
        let (line, cleaned) = in_doc("河?xùn)|區(qū)人民檢察院");
        assert_eq!(line, "河東區人民檢察院");
        assert_eq!(cleaned.repaired, 1);
        assert!(cleaned.warnings.is_empty());
    }

    #[test]
    fn case_06_wrong_but_valid_reading_stripped() {
        assert_clean(
            "服務(wù)時(shí)長(zhǎng)超過(guò)4萬(wàn)小時(shí)",
            "服務時長超過4萬小時",
        );
    }

    #[test]
    fn case_07_real_f_before_digits() {
        assert_clean("大眾傳媒大廈F24", "大眾傳媒大廈F24");
    }

    #[test]
    fn case_08_latin_acronym_kept() {
        assert_clean(
            "MLF超額續(xù)作,一季度降準(zhǔn)降息",
            "MLF超額續作,一季度降準降息",
        );
    }

    #[test]
    fn case_09_brackets_kept() {
        assert_clean(
            "[山東財(cái)經(jīng)網(wǎng)聲明]:凡本網(wǎng)注明",
            "[山東財經網聲明]:凡本網注明",
        );
    }

    #[test]
    fn case_10_date_still_parses() {
        assert_clean(
            "加入時(shí)間:2023-3-21 17:13:59",
            "加入時間:2023-3-21 17:13:59",
        );
    }

    #[test]
    fn case_11_icp_number_extractable() {
        assert_clean(
            "備案號(hào):魯ICP備09023866-44號(hào)",
            "備案號:魯ICP備09023866-44號",
        );
    }

    #[test]
    fn case_12_quotes_and_middle_dot() {
        assert_clean("“沂蒙筑夢(mèng)家園·守望香山”", "“沂蒙筑夢家園·守望香山”");
    }

    #[test]
    fn case_13_two_syllables_with_space() {
        assert_clean("記者(jì zhě)", "記者(jì zhě)");
    }

    #[test]
    fn case_14_not_a_reading_flagged() {
        assert_flagged(
            "咖啡館(café)",
            3,
            WarningKind::UnverifiedAnnotation,
            "館(café)",
        );
    }

    #[test]
    fn case_15_digits_kept() {
        assert_clean("創刊於(2023)年", "創刊於(2023)年");
    }

    #[test]
    fn case_16_han_inside_parentheses_kept() {
        assert_clean("(記者 劉慎平)", "(記者 劉慎平)");
    }

    #[test]
    fn case_17_fullwidth_parentheses() {
        assert_clean("經（jīng）濟", "經濟");
    }

    #[test]
    fn case_18_valid_reading() {
        assert_clean("長(cháng)江", "長江");
    }

    #[test]
    fn case_19_invalid_reading_flagged() {
        assert_flagged(
            "長(xíng)江",
            1,
            WarningKind::UnverifiedAnnotation,
            "長(xíng)",
        );
    }

    #[test]
    fn gate_keeps_document_with_two_annotations() {
        let input = "經(jīng)濟導報\n長(cháng)江 F(xiàn)\n";
        let cleaned = strip_pinyin_artefact(input);
        assert_eq!(cleaned.text, input);
        assert_eq!((cleaned.stripped, cleaned.repaired), (0, 0));
        // Garbles are still reported when the gate fails.
        assert_eq!(
            cleaned.warnings,
            vec![TextWarning {
                line: 2,
                column: 11,
                kind: WarningKind::Garbled,
                excerpt: "F(xiàn)".to_owned(),
            }]
        );
    }

    #[test]
    fn more_than_one_tone_mark_rejected() {
        assert!(!is_reading("經", "jīngjì"));
        assert!(is_reading("略", "lüè"));
        assert!(is_reading("女", "nǚ"));
    }

    #[test]
    fn decomposed_tone_marks_are_normalised_and_columns_stay_in_input() {
        // ī written as i + U+0304, ù as u + U+0300.
        let input = "經(ji\u{304}ng)濟(jì)導(dǎo)報(bào) ?xyu\u{300}n)\n";
        let cleaned = strip_pinyin_artefact(input);
        assert_eq!(cleaned.text, "經濟導報 ?xyùn)\n");
        assert_eq!(cleaned.stripped, 4);
        assert_eq!(cleaned.warnings.len(), 1);
        assert_eq!(cleaned.warnings[0].column, 27);
        assert_eq!(cleaned.warnings[0].excerpt, "?xyùn)");
    }

    #[test]
    fn line_endings_and_empty_lines_preserved() {
        let input = "經(jīng)\r\n\r\n濟(jì)\n導(dǎo)";
        let cleaned = strip_pinyin_artefact(input);
        assert_eq!(cleaned.text, "經\r\n\r\n濟\n導");
    }

    #[test]
    fn unrepairable_garbles_are_reported() {
        let (line, cleaned) = in_doc("甲?abc)乙x(lǐ)丙\u{FFFD}");
        assert_eq!(line, "甲?abc)乙x(lǐ)丙\u{FFFD}");
        let found: Vec<(usize, &str)> = cleaned
            .warnings
            .iter()
            .map(|w| (w.column, w.excerpt.as_str()))
            .collect();
        assert_eq!(found, vec![(2, "?abc)"), (8, "x(lǐ)"), (14, "\u{FFFD}")]);
        assert!(cleaned
            .warnings
            .iter()
            .all(|w| w.kind == WarningKind::Garbled));
    }

    #[test]
    fn warning_display() {
        let warning = TextWarning {
            line: 12,
            column: 40,
            kind: WarningKind::Garbled,
            excerpt: "?abc)".to_owned(),
        };
        assert_eq!(
            warning.to_string(),
            "line 12, column 40: garbled text left as is: ?abc)"
        );
    }

    #[test]
    fn seed_page() {
        let cleaned = strip_pinyin_artefact(SEED);
        assert!(!ANNOTATION.is_match(&cleaned.text));
        assert!(cleaned.text.contains("在村(社區)"));
        assert!(cleaned.text.contains("現已在銀雀山"));
        assert!(cleaned.text.contains("河東區人民檢察院"));
        assert_eq!(cleaned.warnings, vec![]);
        assert_eq!(cleaned.repaired, 2);
        assert_eq!(cleaned.stripped, 347);
        assert_eq!(cleaned.text.lines().count(), SEED.lines().count());
    }
}
