use std::sync::{LazyLock, Mutex, OnceLock, RwLock};

use diesel::prelude::*;
use jieba_rs::Jieba;

use crate::db::schema::article_search;
use crate::db::{articles, contributors, search_log, sources, AnyConnection, Changes};
use crate::error::AppError;
use crate::text::script::ScriptConverter;

/// Simplified-script conversion for index and query text.
static CONVERTER: LazyLock<Option<std::sync::Arc<ScriptConverter>>> =
    LazyLock::new(|| ScriptConverter::shared().ok());

/// jieba and its dictionary take about 32 MB, needed only to index: a node
/// that only serves reads (queries match bigrams) never loads it.
static JIEBA: OnceLock<RwLock<Jieba>> = OnceLock::new();

/// Site words added before jieba was loaded; the load adds them.
static PENDING_WORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn jieba() -> &'static RwLock<Jieba> {
    JIEBA.get_or_init(|| {
        let mut jieba = Jieba::new();
        let pending = std::mem::take(&mut *lock(&PENDING_WORDS));
        for word in pending {
            if !jieba.has_word(&word) {
                jieba.add_word(&word, None, None);
            }
        }
        RwLock::new(jieba)
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Simplified, lowercased, with everything but letters and digits as spaces.
pub(super) fn normalise(text: &str) -> String {
    let simplified = match &*CONVERTER {
        Some(c) => c.to_simplified(text),
        None => text.to_string(),
    };
    simplified
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect()
}

/// Overlapping two-character pieces of each Han run (a lone character stands alone).
pub(super) fn bigrams(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, out: &mut Vec<String>| {
        match run.len() {
            0 => {}
            1 => out.push(run[0].to_string()),
            _ => out.extend(run.windows(2).map(|w| w.iter().collect::<String>())),
        }
        run.clear();
    };
    for c in text.chars() {
        if is_han(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Adds words (any script; they are simplified and lowercased like the
/// text) to the segmenter's dictionary; returns how many were new.
pub(super) fn add_words(words: &[String]) -> usize {
    let normal: Vec<String> = words
        .iter()
        .map(|w| normalise(w).trim().to_string())
        // A word of one character, or one with spaces, cannot stay whole.
        .filter(|w| w.chars().count() > 1 && !w.contains(' '))
        .collect();
    // Holding the pending list while looking keeps a word from slipping
    // between the list and a load happening now.
    let mut pending = lock(&PENDING_WORDS);
    let mut added = 0;
    match JIEBA.get() {
        Some(loaded) => {
            let mut jieba = loaded
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for word in &normal {
                if !jieba.has_word(word) {
                    jieba.add_word(word, None, None);
                    added += 1;
                }
            }
        }
        None => {
            for word in normal {
                if !pending.contains(&word) {
                    pending.push(word);
                    added += 1;
                }
            }
        }
    }
    added
}

/// The index terms of a text: jieba words (search mode), every run of
/// letters and digits outside Han script, and Han bigrams.
pub fn terms(text: &str) -> String {
    let normal = normalise(text);
    let mut out: Vec<String> = Vec::new();
    let jieba = jieba()
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for piece in normal.split_whitespace() {
        let first = out.len();
        for token in jieba.cut_for_search(piece, true) {
            let w = token.word.trim();
            // A two-character Han word is one of the bigrams added below.
            let is_bigram = w.chars().count() == 2 && w.chars().all(is_han);
            if !w.is_empty() && !is_bigram {
                out.push(w.to_string());
            }
        }
        // jieba keeps Latin letters glued to Han ones when its dictionary
        // has such a word (a column called 鷹眼IPO): "ipo" must stay findable.
        for run in piece.split(is_han).filter(|r| !r.is_empty()) {
            if !out[first..].iter().any(|w| w == run) {
                out.push(run.to_string());
            }
        }
    }
    drop(jieba);
    out.extend(bigrams(&normal));
    out.join(" ")
}

/// (Re)writes the search terms of an article and logs the change for the
/// search indexes; call inside its transaction.
///
/// Only public articles are indexed. The engines rank by statistics of the
/// whole index (FTS5's BM25 counts how many rows hold a word), so a hidden
/// draft in the index would change the public scores of the articles it
/// shares words with. A scheduled article enters the index when the
/// scheduler publishes it; a held one when its last hold is released.
pub fn index_article(conn: &mut AnyConnection, id: i32) -> Result<(), AppError> {
    let Some(row) = articles::by_ids(conn, &[id])?.into_iter().next() else {
        return Ok(());
    };
    if !row.is_public_at(crate::db::now()) {
        diesel::delete(article_search::table.find(id)).execute(conn)?;
        return search_log::append(conn, &[id], crate::db::now());
    }
    let mut extra: Vec<String> = contributors::credits_of(conn, &[id])?
        .into_iter()
        .map(|c| c.name)
        .collect();
    if let Some(source) = row.source_id {
        extra.extend(
            sources::by_ids(conn, &[source])?
                .into_iter()
                .map(|s| s.name),
        );
    }
    // Every block's text: prose, table cells, captions, credits; not the
    // captions of pictures a legal hold withholds.
    let mut body = row.blocks();
    let pictures: Vec<String> = body.media().into_iter().map(str::to_string).collect();
    if !pictures.is_empty() {
        crate::media::Pictures::of(crate::db::media::by_ids(conn, &pictures)?).withhold(&mut body);
    }
    let texts = body.texts();
    let rest = indexed_text(&row.summary, &texts, &extra);
    write_terms(conn, id, &ArticleTerms::of(&row.title, &rest))
}

/// Keeps the index in step with a transaction's changed articles; runs
/// inside it, before it commits (registered with
/// [`Database::before_commit`](crate::db::Database::before_commit)).
pub fn index_changed(conn: &mut AnyConnection, changes: &Changes) -> Result<(), AppError> {
    changes
        .articles()
        .iter()
        .try_for_each(|&id| index_article(conn, id))
}

/// Everything but the title that is indexed, in one text: summary, body,
/// byline and source names.
pub fn indexed_text<S: AsRef<str>>(summary: &str, paragraphs: &[String], names: &[S]) -> String {
    let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    format!("{summary}\n{}\n{}", paragraphs.join("\n"), names.join(" "))
}

/// The terms of one article, made before its transaction (the importer
/// makes them on its parsing thread).
#[derive(Debug, Clone)]
pub struct ArticleTerms {
    title: String,
    body: String,
}

impl ArticleTerms {
    /// `rest` is [`indexed_text`].
    pub fn of(title: &str, rest: &str) -> Self {
        ArticleTerms {
            title: terms(title),
            body: terms(rest),
        }
    }
}

/// Writes the terms of an article; call inside its transaction.
pub fn write_terms(
    conn: &mut AnyConnection,
    id: i32,
    terms: &ArticleTerms,
) -> Result<(), AppError> {
    diesel::delete(article_search::table.find(id)).execute(conn)?;
    diesel::insert_into(article_search::table)
        .values((
            article_search::article_id.eq(id),
            article_search::title_terms.eq(&terms.title),
            article_search::body_terms.eq(&terms.body),
        ))
        .execute(conn)?;
    // The search indexes of every node apply the change from the log.
    search_log::append(conn, &[id], crate::db::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_text_is_indexed_in_simplified_words_and_bigrams() {
        let t = terms("臨沂山青社會工作服務中心 IPO 2023");
        for expected in ["临沂", "社会", "工作", "服务", "ipo", "2023", "会工"] {
            assert!(
                t.split(' ').any(|w| w == expected),
                "{expected} missing from {t}"
            );
        }
    }

    #[test]
    fn added_names_stay_whole() {
        let words = |t: String| t.split(' ').map(String::from).collect::<Vec<_>>();
        let text = "來源：大眾報業·經濟導報記者";
        assert!(!words(terms(text)).contains(&"经济导报".to_string()));
        assert_eq!(add_words(&["經濟導報".to_string()]), 1);
        assert!(words(terms(text)).contains(&"经济导报".to_string()));
        assert_eq!(
            add_words(&["经济导报".to_string()]),
            0,
            "the same word in either script"
        );
    }

    #[test]
    fn latin_letters_stay_findable_inside_a_mixed_site_word() {
        add_words(&["鷹眼IPO".to_string()]);
        let t = terms("鷹眼IPO觀察：91家公司排隊");
        for expected in ["鹰眼ipo", "ipo", "91", "观察"] {
            assert!(
                t.split(' ').any(|w| w == expected),
                "{expected} missing from {t}"
            );
        }
    }
}
