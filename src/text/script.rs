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

/// Script a text is stored or served in (defined beside the script a
/// response asks for, so the domain needs nothing from here).
pub use crate::domain::script::TextScript as Script;

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

/// Bytes of converted short texts kept by [`ScriptConverter::line`].
const LINE_CACHE_BYTES: u64 = 4 * 1024 * 1024;

/// Converts between scripts; holds one OpenCC instance per direction, built
/// once, and is safe to share between threads.
pub struct ScriptConverter {
    /// Short texts already written in a target script (see [`Self::line`]).
    lines: moka::sync::Cache<(Script, String), std::sync::Arc<str>>,
    t2s: OpenCC,
    s2t: OpenCC,
    s2tw: OpenCC,
    s2twp: OpenCC,
    s2hk: OpenCC,
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

/// The process's converter, once loaded (see [`ScriptConverter::shared`]).
static SHARED: std::sync::Mutex<Option<std::sync::Arc<ScriptConverter>>> =
    std::sync::Mutex::new(None);

impl ScriptConverter {
    /// The process's one converter, loaded at the first call: its
    /// dictionaries take about 8 MB, and the server and the search index
    /// need the same ones.
    pub fn shared() -> Result<std::sync::Arc<Self>, ScriptError> {
        let mut shared = SHARED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(converter) = &*shared {
            return Ok(converter.clone());
        }
        let converter = std::sync::Arc::new(Self::new()?);
        *shared = Some(converter.clone());
        Ok(converter)
    }

    /// Loads the embedded OpenCC dictionaries for every supported direction.
    pub fn new() -> Result<Self, ScriptError> {
        Ok(Self {
            lines: moka::sync::Cache::builder()
                .max_capacity(LINE_CACHE_BYTES)
                .weigher(|(_, text): &(Script, String), line: &std::sync::Arc<str>| {
                    u32::try_from(text.len() + line.len()).unwrap_or(u32::MAX)
                })
                .build(),
            t2s: load(BuiltinConfig::T2s)?,
            s2t: load(BuiltinConfig::S2t)?,
            s2tw: load(BuiltinConfig::S2tw)?,
            s2twp: load(BuiltinConfig::S2twp)?,
            s2hk: load(BuiltinConfig::S2hk)?,
        })
    }

    /// Convert `text`, stored in `stored` (Hans or Hant), to `target`.
    /// Identity when no change is needed (return Cow).
    ///
    /// Traditional text served as traditional goes through simplified and
    /// back, so that every response uses the target's standard forms
    /// throughout: text typed by people mixes variants (發布 beside 發佈,
    /// 余 beside 餘), and a page must not show one form in its headline and
    /// another in its body or the next headline. The cost is that OpenCC's
    /// phrase tables decide the rare characters a person chose on purpose
    /// (乾/干 in a name); [`Script::Original`](crate::domain::script::Script)
    /// serves the text exactly as stored.
    pub fn convert<'a>(&self, text: &'a str, stored: Script, target: Script) -> Cow<'a, str> {
        let converted = match (stored, target) {
            (Script::Hans, Script::Hans) => return Cow::Borrowed(text),
            (_, Script::Hans) => self.t2s.convert(text),
            (Script::Hans, t) => self.simplified_to(t).convert(text),
            (_, t) => self.simplified_to(t).convert(&self.t2s.convert(text)),
        };
        if converted == text {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(converted)
        }
    }

    fn simplified_to(&self, target: Script) -> &OpenCC {
        match target {
            Script::Hans | Script::Hant => &self.s2tw,
            Script::HantTw => &self.s2twp,
            Script::HantHk => &self.s2hk,
        }
    }

    /// A short human-readable text (a headline, a name, a label, a notice)
    /// in `target`, whatever script it was written in: texts stored by hand
    /// are sometimes in the other script (a section named 经济新闻 on a
    /// traditional site). Read as traditional, which simplified text passes
    /// through unchanged, so it comes out as [`Self::convert`] writes
    /// everything else. Kept in a small cache: the same names and labels
    /// recur on every page.
    pub fn line(&self, text: &str, target: Script) -> std::sync::Arc<str> {
        let key = (target, text.to_string());
        if let Some(line) = self.lines.get(&key) {
            return line;
        }
        let line: std::sync::Arc<str> = self.convert(text, Script::Hant, target).into();
        self.lines.insert(key, line.clone());
        line
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
    fn a_line_comes_out_in_the_target_script_whatever_it_was_written_in() {
        let conv = converter();
        assert_eq!(&*conv.line("经济新闻", Script::Hant), "經濟新聞");
        assert_eq!(&*conv.line("經濟新聞", Script::Hant), "經濟新聞");
        assert_eq!(&*conv.line("經濟新聞", Script::Hans), "经济新闻");
        assert_eq!(&*conv.line("经济新闻", Script::Hans), "经济新闻");
        // One variant per response, from either starting form.
        assert_eq!(
            conv.line("發布會", Script::Hant),
            conv.line("发布会", Script::Hant)
        );
        assert_eq!(
            &*conv.line("乾隆年間的頭髮", Script::Hant),
            "乾隆年間的頭髮"
        );
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
