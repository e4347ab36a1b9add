use pinyin::ToPinyin;

/// A URL-safe identifier: lowercase ASCII letters, digits and single hyphens,
/// 1–80 characters, no hyphen at either end.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// Checks a slug someone typed.
    pub fn parse(value: &str) -> Result<Slug, String> {
        let ok = !value.is_empty()
            && value.len() <= 80
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--");
        if ok {
            Ok(Slug(value.to_string()))
        } else {
            Err(format!(
                "slug {value:?} must be 1-80 characters of a-z, 0-9 and single hyphens"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Makes a slug from any text: Han characters become toneless pinyin, ASCII
/// letters and digits are kept, everything else separates words. The result is
/// cut at a word boundary to at most `max_len` bytes. Articles are routed by id,
/// so a polyphone read wrongly only makes the slug less pretty.
pub fn slugify(text: &str, max_len: usize) -> Option<Slug> {
    let mut words: Vec<String> = Vec::new();
    let mut ascii = String::new();
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            ascii.push(ch.to_ascii_lowercase());
            continue;
        }
        if !ascii.is_empty() {
            words.push(std::mem::take(&mut ascii));
        }
        if let Some(p) = ch.to_pinyin() {
            words.push(p.plain().to_string());
        }
    }
    if !ascii.is_empty() {
        words.push(ascii);
    }
    let mut slug = String::new();
    for word in words {
        let extra = if slug.is_empty() {
            word.len()
        } else {
            word.len() + 1
        };
        if slug.len() + extra > max_len {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word);
    }
    Slug::parse(&slug).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names_become_pinyin_slugs() {
        assert_eq!(slugify("臨沂", 60).map(|s| s.0), Some("lin-yi".into()));
        assert_eq!(
            slugify("鷹眼IPO", 60).map(|s| s.0),
            Some("ying-yan-ipo".into())
        );
        assert_eq!(
            slugify("經濟導報", 60).map(|s| s.0),
            Some("jing-ji-dao-bao".into())
        );
    }

    #[test]
    fn long_titles_are_cut_at_a_word() {
        let slug = slugify("臨沂山青社會工作服務中心累計服務群眾20余萬人次", 30).expect("slug");
        assert!(slug.0.len() <= 30, "{}", slug.0);
        assert!(!slug.0.ends_with('-'));
    }

    #[test]
    fn punctuation_only_has_no_slug() {
        assert_eq!(slugify("!!!", 60), None);
    }

    #[test]
    fn typed_slugs_are_checked() {
        assert!(Slug::parse("lin-yi").is_ok());
        for bad in ["", "Lin", "-a", "a-", "a--b", "a b", "臨沂"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
