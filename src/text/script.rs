//! Simplified ↔ traditional conversion with OpenCC (`ferrous-opencc`).
//!
//! Text is stored in the script it arrived in and converted at read time;
//! the search index uses the simplified form (see `ZH-TEXT.md` §2).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use ferrous_opencc::config::BuiltinConfig;
use ferrous_opencc::error::OpenCCError;
use ferrous_opencc::OpenCC;
use regex::Regex;

static HAN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\p{Han}").expect("HAN is a valid constant regex"));

/// Script a text is stored or served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
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

/// Failure to set up a [`ScriptConverter`].
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// An embedded OpenCC configuration or dictionary could not be loaded.
    #[error("cannot load OpenCC configuration {config}")]
    Load {
        /// File name of the OpenCC configuration, e.g. `s2tw.json`.
        config: &'static str,
        /// The underlying OpenCC error.
        #[source]
        source: OpenCCError,
    },
}

/// Converts between scripts; holds one OpenCC instance per direction, built
/// once, and is safe to share between threads.
pub struct ScriptConverter {
    t2s: OpenCC,
    s2t: OpenCC,
    s2tw: OpenCC,
    s2twp: OpenCC,
    s2hk: OpenCC,
    t2tw: OpenCC,
    t2hk: OpenCC,
}

impl fmt::Debug for ScriptConverter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptConverter").finish_non_exhaustive()
    }
}

fn load(config: BuiltinConfig) -> Result<OpenCC, ScriptError> {
    OpenCC::from_config(config).map_err(|source| ScriptError::Load {
        config: config.to_filename(),
        source,
    })
}

impl ScriptConverter {
    /// Loads the embedded OpenCC dictionaries for every supported direction.
    pub fn new() -> Result<Self, ScriptError> {
        Ok(Self {
            t2s: load(BuiltinConfig::T2s)?,
            s2t: load(BuiltinConfig::S2t)?,
            s2tw: load(BuiltinConfig::S2tw)?,
            s2twp: load(BuiltinConfig::S2twp)?,
            s2hk: load(BuiltinConfig::S2hk)?,
            t2tw: load(BuiltinConfig::T2tw)?,
            t2hk: load(BuiltinConfig::T2hk)?,
        })
    }

    /// Convert `text`, stored in `stored` (Hans or Hant), to `target`.
    /// Identity when no change is needed (return Cow).
    ///
    /// A text stored as [`Script::HantTw`] or [`Script::HantHk`] is treated
    /// like [`Script::Hant`]. Traditional to traditional conversion only
    /// adjusts character variants (OpenCC `t2tw` / `t2hk`), so a stored
    /// traditional text gets no Taiwan phrasing: OpenCC deliberately has no
    /// `t2twp` (BYVoid/OpenCC#476), and going through `t2s` would destroy
    /// distinctions such as 乾/干 that the stored text carries.
    pub fn convert<'a>(&self, text: &'a str, stored: Script, target: Script) -> Cow<'a, str> {
        let opencc = match (stored, target) {
            (Script::Hans, Script::Hans) => return Cow::Borrowed(text),
            (Script::Hans, Script::Hant) => &self.s2tw,
            (Script::Hans, Script::HantTw) => &self.s2twp,
            (Script::Hans, Script::HantHk) => &self.s2hk,
            (_, Script::Hans) => &self.t2s,
            (_, Script::Hant) => return Cow::Borrowed(text),
            (Script::HantTw, Script::HantTw) | (Script::HantHk, Script::HantHk) => {
                return Cow::Borrowed(text)
            }
            (_, Script::HantTw) => &self.t2tw,
            // Not `tw2t` first, although stored text uses Taiwan forms:
            // ferrous-opencc 0.4's `tw2t` maps 參 to 蔘 everywhere (參與 →
            // 蔘與). Taiwan forms that Hong Kong writes differently (群/羣,
            // 裡/裏) are therefore kept.
            (_, Script::HantHk) => &self.t2hk,
        };
        let converted = opencc.convert(text);
        if converted == text {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(converted)
        }
    }

    /// Converts traditional text to simplified (OpenCC `t2s`), the form the
    /// search index is built on. Simplified input passes through.
    pub fn to_simplified(&self, text: &str) -> String {
        self.t2s.convert(text)
    }
}

/// Guess whether a text is written in simplified or traditional characters
/// (Han chars that t2s changes vs s2t changes). Returns Hans for text without
/// Han characters.
///
/// Characters are judged one by one, without phrase context, so shared forms
/// such as 余 or 干 count for both sides; ties go to [`Script::Hans`].
pub fn detect_script(conv: &ScriptConverter, text: &str) -> Script {
    let mut occurrences: HashMap<&str, usize> = HashMap::new();
    for m in HAN.find_iter(text) {
        *occurrences.entry(m.as_str()).or_default() += 1;
    }
    if occurrences.is_empty() {
        return Script::Hans;
    }
    // One OpenCC call per direction: a newline never occurs in a dictionary
    // key, so it keeps every character out of phrase matches.
    let distinct: Vec<(&str, usize)> = occurrences.into_iter().collect();
    let joined = distinct
        .iter()
        .map(|(han, _)| *han)
        .collect::<Vec<_>>()
        .join("\n");
    let simplified = conv.t2s.convert(&joined);
    let traditional = conv.s2t.convert(&joined);
    let (mut traditional_only, mut simplified_only) = (0, 0);
    for (((han, count), as_simplified), as_traditional) in distinct
        .iter()
        .zip(simplified.split('\n'))
        .zip(traditional.split('\n'))
    {
        if as_simplified != *han {
            traditional_only += count;
        }
        if as_traditional != *han {
            simplified_only += count;
        }
    }
    if traditional_only > simplified_only {
        Script::Hant
    } else {
        Script::Hans
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn converter() -> ScriptConverter {
        match ScriptConverter::new() {
            Ok(conv) => conv,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn converter_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<ScriptConverter>();
    }

    #[test]
    fn construction_time() {
        let start = Instant::now();
        let conv = ScriptConverter::new();
        eprintln!("ScriptConverter::new() took {:?}", start.elapsed());
        assert!(conv.is_ok());
    }

    #[test]
    fn round_trip_newspaper_name() {
        let conv = converter();
        assert_eq!(
            conv.convert("经济导报", Script::Hans, Script::Hant),
            "經濟導報"
        );
        assert_eq!(
            conv.convert("經濟導報", Script::Hant, Script::Hans),
            "经济导报"
        );
        assert_eq!(conv.to_simplified("經濟導報"), "经济导报");
    }

    #[test]
    fn simplified_to_traditional_phrases() {
        let conv = converter();
        for (hans, hant) in [("头发", "頭髮"), ("发展", "發展"), ("理发店", "理髮店")]
        {
            assert_eq!(conv.convert(hans, Script::Hans, Script::Hant), hant);
        }
    }

    #[test]
    fn traditional_to_simplified_names() {
        let conv = converter();
        for (hant, hans) in [("臨沂", "临沂"), ("劉慎平", "刘慎平")] {
            assert_eq!(conv.convert(hant, Script::Hant, Script::Hans), hans);
            assert_eq!(conv.to_simplified(hant), hans);
        }
    }

    #[test]
    fn hant_uses_taiwan_character_forms() {
        let conv = converter();
        assert_eq!(conv.convert("群众", Script::Hans, Script::Hant), "群眾");
    }

    #[test]
    fn regional_targets() {
        let conv = converter();
        assert_eq!(conv.convert("软件", Script::Hans, Script::HantTw), "軟體");
        assert_eq!(conv.convert("软件", Script::Hans, Script::Hant), "軟件");
        assert_eq!(conv.convert("群众", Script::Hans, Script::HantHk), "羣眾");
        assert_eq!(
            conv.convert("積極參與臺灣事務", Script::Hant, Script::HantHk),
            "積極參與台灣事務"
        );
        assert!(matches!(
            conv.convert("積極參與", Script::Hant, Script::HantTw),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn identity_is_borrowed() {
        let conv = converter();
        for (text, script) in [
            ("临沂市人民政府", Script::Hans),
            ("臨沂市人民政府", Script::Hant),
            ("臨沂市人民政府", Script::HantTw),
            ("臨沂市人民政府", Script::HantHk),
        ] {
            assert!(matches!(
                conv.convert(text, script, script),
                Cow::Borrowed(_)
            ));
        }
        assert!(matches!(
            conv.convert("F24 ETF", Script::Hans, Script::Hant),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn detects_script() {
        let conv = converter();
        assert_eq!(
            detect_script(&conv, "臨沂山青社會工作服務中心累計服務群眾20余萬人次"),
            Script::Hant
        );
        assert_eq!(detect_script(&conv, "临沂市人民政府"), Script::Hans);
        assert_eq!(detect_script(&conv, "MLF 2023-3-21"), Script::Hans);
    }
}
