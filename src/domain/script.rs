//! Scripts: the one a text is written in, and the one a response is
//! served in, chosen per request or by `Accept-Language`.

/// Script a text is stored or served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextScript {
    /// Simplified characters (mainland standard).
    Hans,
    /// Traditional characters in the Taiwan standard forms, without regional
    /// vocabulary (OpenCC `s2tw`, so 群众 → 群眾).
    Hant,
    /// Traditional characters with Taiwan phrasing (OpenCC `s2twp`).
    HantTw,
    /// Traditional characters in the Hong Kong standard forms (OpenCC `s2hk`).
    HantHk,
}

/// Which characters text is served in. The newsroom stores one text; the
/// others are converted at read time, phrase-aware (头发 ↔ 頭髮).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
pub enum Script {
    /// As stored, unconverted.
    Original,
    /// Simplified characters (mainland China, Singapore).
    Hans,
    /// Traditional characters (Taiwan standard forms, as on the sample page).
    Hant,
    /// Traditional characters with Taiwan phrasing (软件 → 軟體).
    HantTw,
    /// Traditional characters, Hong Kong standard forms.
    HantHk,
}

impl Script {
    /// The converter's target, or `None` for [`Script::Original`].
    pub fn target(self) -> Option<TextScript> {
        match self {
            Script::Original => None,
            Script::Hans => Some(TextScript::Hans),
            Script::Hant => Some(TextScript::Hant),
            Script::HantTw => Some(TextScript::HantTw),
            Script::HantHk => Some(TextScript::HantHk),
        }
    }

    /// The `Content-Language` tag of text in this script; `stored` is what
    /// [`Script::Original`] text is written in.
    pub fn language_tag(self, stored: TextScript) -> &'static str {
        match self.target().unwrap_or(stored) {
            TextScript::Hans => "zh-Hans",
            TextScript::Hant => "zh-Hant",
            TextScript::HantTw => "zh-Hant-TW",
            TextScript::HantHk => "zh-Hant-HK",
        }
    }

    /// The script asked for by an `Accept-Language` header: the first Chinese
    /// tag by preference decides; anything else means [`Script::Original`].
    pub fn from_accept_language(header: Option<&str>) -> Script {
        let Some(header) = header else {
            return Script::Original;
        };
        let mut tags: Vec<(f32, usize, String)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim().to_ascii_lowercase();
                let q = pieces
                    .find_map(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|v| v.parse::<f32>().ok())
                    })
                    .unwrap_or(1.0);
                (q > 0.0 && !tag.is_empty()).then_some((q, i, tag))
            })
            .collect();
        tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, _, tag) in tags {
            match tag.as_str() {
                "zh-cn" | "zh-sg" | "zh-my" => return Script::Hans,
                "zh-tw" | "zh-hk" | "zh-mo" => return Script::Hant,
                t if t.starts_with("zh-hans") => return Script::Hans,
                t if t.starts_with("zh-hant") => return Script::Hant,
                _ => continue,
            }
        }
        Script::Original
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_chinese_script() {
        assert_eq!(
            Script::from_accept_language(Some("zh-CN,zh;q=0.9")),
            Script::Hans
        );
        assert_eq!(Script::from_accept_language(Some("zh-TW")), Script::Hant);
        assert_eq!(
            Script::from_accept_language(Some("zh-HK;q=0.5, zh-Hans;q=0.8")),
            Script::Hans
        );
        assert_eq!(
            Script::from_accept_language(Some("zh-Hant-TW")),
            Script::Hant
        );
        assert_eq!(
            Script::from_accept_language(Some("en-US,en")),
            Script::Original
        );
        assert_eq!(Script::from_accept_language(None), Script::Original);
        assert_eq!(
            Script::from_accept_language(Some("zh-CN;q=0")),
            Script::Original
        );
    }
}
