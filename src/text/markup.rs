//! Escaping text for HTML and XML: feeds, sitemaps and search snippets.

/// Escapes text for XML element content and attribute values, and drops
/// characters XML 1.0 does not allow at all (most C0 controls, U+FFFE/FFFF),
/// so hostile titles (`]]>`, `<script>`, `&`, control characters) keep the
/// document well-formed.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    // Runs of characters kept as they are are copied whole.
    let mut kept_from = 0;
    for (at, c) in text.char_indices() {
        let instead = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&apos;",
            '\t' | '\n' | '\r' => continue,
            c if (c as u32) < 0x20 => "",
            '\u{FFFE}' | '\u{FFFF}' => "",
            _ => continue,
        };
        out.push_str(&text[kept_from..at]);
        out.push_str(instead);
        kept_from = at + c.len_utf8();
    }
    out.push_str(&text[kept_from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_cannot_break_out() {
        assert_eq!(
            escape("a]]>b<script>&\u{1}\"'"),
            "a]]&gt;b&lt;script&gt;&amp;&quot;&apos;"
        );
        assert_eq!(escape("經濟導報\u{2028}"), "經濟導報\u{2028}");
        assert_eq!(escape("\u{1}甲\t乙\u{FFFF}&"), "甲\t乙&amp;");
        assert_eq!(escape(""), "");
    }
}
