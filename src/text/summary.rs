/// Sentence ends after which a summary may stop.
const SENTENCE_ENDS: [char; 8] = ['。', '！', '？', '；', '!', '?', ';', '…'];

/// A summary of at most `max_chars` characters (one Han character is one char)
/// from the first paragraph: the whole paragraph when it fits, else up to the
/// last sentence end in the final 30 % of the budget, else cut before an ASCII
/// word or number run and ended with `…`.
pub fn summarize(paragraphs: &[String], max_chars: usize) -> String {
    let Some(first) = paragraphs.iter().map(|p| p.trim()).find(|p| !p.is_empty()) else {
        return String::new();
    };
    let chars: Vec<char> = first.chars().collect();
    if chars.len() <= max_chars {
        return first.to_string();
    }
    let window = &chars[..max_chars];
    let floor = max_chars * 7 / 10;
    if let Some(end) = window.iter().rposition(|c| SENTENCE_ENDS.contains(c)) {
        if end + 1 >= floor {
            return window[..=end].iter().collect();
        }
    }
    let mut cut = max_chars - 1;
    // Never split "2023" or "IPO": step back to the start of the run.
    while cut > 0 && chars[cut].is_ascii_alphanumeric() && chars[cut - 1].is_ascii_alphanumeric() {
        cut -= 1;
    }
    let mut text: String = chars[..cut].iter().collect();
    text = text
        .trim_end_matches(['“', '《', '（', '(', '「', '，', ',', '、'])
        .to_string();
    text.push('…');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_paragraphs_are_kept_whole() {
        assert_eq!(summarize(&["短文。".into()], 10), "短文。");
    }

    #[test]
    fn long_paragraphs_stop_at_a_sentence_end() {
        let p = "第一句話很長很長很長。第二句話也很長很長很長很長很長".to_string();
        assert_eq!(summarize(&[p], 14), "第一句話很長很長很長。");
    }

    #[test]
    fn numbers_are_never_split() {
        let p = "服務群眾累計達到了20000人次以上的規模".to_string();
        let s = summarize(&[p], 12);
        assert!(s.ends_with('…'), "{s}");
        assert!(!s.contains("200"), "{s}");
    }
}
