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

/// The slugs to try for a new object, best first: `base`, then `base-2` …
/// `base-9`. Checking a fixed handful keeps a busy base (many articles with
/// the same headline start) at one indexed lookup per write.
pub fn candidates(base: &str) -> Vec<String> {
    std::iter::once(base.to_string())
        .chain((2..=9).map(|n| format!("{base}-{n}")))
        .collect()
}

/// The first of `candidates` not in `taken`; when all are taken, `base`
/// with a random suffix.
pub fn first_free(candidates: &[String], taken: &[String]) -> String {
    candidates
        .iter()
        .find(|c| !taken.contains(c))
        .cloned()
        .unwrap_or_else(|| {
            let base = candidates.first().map(String::as_str).unwrap_or("item");
            let suffix = uuid::Uuid::new_v4().simple().to_string();
            format!("{base}-{}", &suffix[..8])
        })
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
            // 旅 is "lü": slugs are ASCII, and "v" is how pinyin keyboards type ü.
            words.push(p.plain().replace('ü', "v"));
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
    fn u_umlaut_is_typed_as_v() {
        assert_eq!(
            slugify("沂蒙山旅游IPO", 60)
                .map(|s| s.to_string())
                .as_deref(),
            Some("yi-meng-shan-lv-you-ipo")
        );
    }

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
    fn a_busy_base_still_gets_a_free_slug() {
        let tried = candidates("lin-yi");
        assert_eq!(first_free(&tried, &[]), "lin-yi");
        assert_eq!(first_free(&tried, &tried[..3]), "lin-yi-4");
        let random = first_free(&tried, &tried);
        assert!(random.starts_with("lin-yi-") && random.len() == "lin-yi-".len() + 8);
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
