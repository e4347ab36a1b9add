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
    if max_chars == 0 {
        return String::new();
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
    // One run longer than the whole budget (a long URL) is cut inside.
    if cut == 0 {
        cut = max_chars - 1;
    }
    let mut text: String = chars[..cut].iter().collect();
    text = text
        .trim_end()
        .trim_end_matches(['“', '《', '（', '(', '「', '，', ',', '、'])
        .trim_end()
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
    fn tiny_budgets_and_one_long_run_still_give_a_cut_text() {
        assert_eq!(summarize(&["臨沂".into()], 0), "");
        let run = "abcdefghijklmnopqrstuvwxyz";
        assert_eq!(summarize(&[run.into()], 12), "abcdefghijk…");
        let s = summarize(&["Shandong ports report records".into()], 16);
        assert!(!s.contains(" …"), "{s}");
    }

    #[test]
    fn numbers_are_never_split() {
        let p = "服務群眾累計達到了20000人次以上的規模".to_string();
        let s = summarize(&[p], 12);
        assert!(s.ends_with('…'), "{s}");
        assert!(!s.contains("200"), "{s}");
    }
}
