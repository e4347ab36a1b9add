//! Escaping text for HTML and XML: feeds, sitemaps and search snippets.

/// Escapes text for XML element content and attribute values, and drops
/// characters XML 1.0 does not allow at all (most C0 controls, U+FFFE/FFFF),
/// so hostile titles (`]]>`, `<script>`, `&`, control characters) keep the
/// document well-formed.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
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
    }
}
