//! The legacy-page importer: pages scraped from the old CMS (see
//! `tests/data/seed/`) become articles, sections, notices, a recommendation
//! list and site settings.
//!
//! Each file is cleaned (`text::artefact`), parsed (`page`) and written in one
//! transaction (`store`), so a bad file writes nothing while the other files
//! of the run are still imported. A page is identified by source + publish
//! time + title: importing it again changes nothing.

pub mod page;
mod store;

use std::path::Path;

use diesel::Connection;
use serde::Serialize;

use crate::db::AnyConnection;
use crate::error::AppError;
use crate::text::artefact::strip_pinyin_artefact;
use crate::text::script::{detect_script, Script as TextScript, ScriptConverter};

/// What happened to one file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// A new article was written.
    Imported,
    /// The page was imported before; nothing changed.
    Unchanged,
    /// Nothing from the file was written.
    Failed,
}

/// What became of a page's 新聞推薦 headlines.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ListFill {
    /// They are now the recommendation list `home`.
    Filled,
    /// An editor set `home` last (`setRecommendationList`); the list was
    /// left as the editor wrote it.
    KeptEditorList,
}

/// The outcome for one file, as printed by `newsdesk import --json`.
#[derive(Debug, Clone, Serialize)]
pub struct FileOutcome {
    pub file: String,
    pub status: ImportStatus,
    pub article_id: Option<i32>,
    /// `LINE: problem` lines for text the cleaner could not repair.
    pub warnings: Vec<String>,
    /// `LINE: problem` when the file was rejected.
    pub error: Option<String>,
    /// What became of the page's 新聞推薦 headlines; null when the page has
    /// none or they were the list already.
    pub home_list: Option<ListFill>,
    /// The line of the problem, when the file was rejected.
    #[serde(skip)]
    pub error_line: Option<usize>,
}

/// Settings the importer needs, and what it learnt during this run.
pub struct Importer<'a> {
    owned_sources: &'a [String],
    converter: &'a ScriptConverter,
    /// Facts committed by earlier pages of this run (sections, notices, the
    /// recommendation list), so that a page of the same site does not ask
    /// again: it halves the statements per page.
    memo: std::sync::Mutex<store::Memo>,
}

/// A page read, cleaned and parsed: everything but the database write.
pub struct Prepared {
    file: String,
    raw: String,
    page: page::LegacyPage,
    warnings: Vec<String>,
    stripped: usize,
    script: TextScript,
    /// Search terms, made here so the writing thread only writes.
    terms: crate::search::ArticleTerms,
}

impl<'a> Importer<'a> {
    pub fn new(owned_sources: &'a [String], converter: &'a ScriptConverter) -> Self {
        Importer {
            owned_sources,
            converter,
            memo: Default::default(),
        }
    }

    /// Imports one file in its own transaction.
    pub fn import_file(&self, conn: &mut AnyConnection, path: &Path) -> FileOutcome {
        match self.prepare(path) {
            Ok(prepared) => self.store(conn, prepared),
            Err(failed) => failed,
        }
    }

    /// Reads, cleans and parses a file without touching the database, so a
    /// run can prepare the next pages while the current one is written.
    pub fn prepare(&self, path: &Path) -> Result<Prepared, FileOutcome> {
        let file = path.display().to_string();
        let failed = |line: usize, problem: String, warnings: Vec<String>| {
            failure(&file, line, problem, warnings)
        };
        let bytes = std::fs::read(path)
            .map_err(|e| failed(1, format!("cannot read the file: {e}"), vec![]))?;
        let raw = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let line = 1 + e.as_bytes()[..valid]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                return Err(failed(
                    line,
                    "not UTF-8 text (binary or another encoding)".into(),
                    vec![],
                ));
            }
        };
        let cleaned = strip_pinyin_artefact(&raw);
        let warnings: Vec<String> = cleaned
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.line, w))
            .collect();
        let page = match page::parse_page(&cleaned.text) {
            Ok(p) => p,
            Err(e) => return Err(failed(e.line, e.problem, warnings)),
        };
        let script = detect_script(
            self.converter,
            &format!("{}{}", page.title, page.paragraphs.join("")),
        );
        let terms = store::search_terms(&page);
        Ok(Prepared {
            file,
            raw,
            page,
            warnings,
            stripped: cleaned.stripped,
            script,
            terms,
        })
    }

    /// Writes prepared pages in one transaction, each in a savepoint of its
    /// own: a bad page still writes nothing, and the batch costs one commit
    /// (with the search index, the commit was a third of the time per page).
    /// Outcomes are final only once the batch committed; when the commit
    /// fails every page of the batch is reported failed.
    pub fn store_batch(
        &self,
        conn: &mut AnyConnection,
        batch: Vec<Result<Prepared, FileOutcome>>,
    ) -> Vec<FileOutcome> {
        let memo_before = self
            .memo
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let mut outcomes = Vec::with_capacity(batch.len());
        let committed = conn.transaction::<_, AppError, _>(|conn| {
            for prepared in batch {
                outcomes.push(match prepared {
                    Ok(p) => self.store(conn, p),
                    Err(failed) => failed,
                });
            }
            Ok(())
        });
        if let Err(e) = committed {
            *self
                .memo
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = memo_before;
            for outcome in &mut outcomes {
                if outcome.status != ImportStatus::Failed {
                    outcome.status = ImportStatus::Failed;
                    outcome.article_id = None;
                    outcome.home_list = None;
                    outcome.error = Some(format!("1: not written: {e}"));
                    outcome.error_line = Some(1);
                }
            }
        }
        outcomes
    }

    /// Writes a prepared page in one transaction.
    pub fn store(&self, conn: &mut AnyConnection, prepared: Prepared) -> FileOutcome {
        let Prepared {
            file,
            raw,
            page,
            warnings,
            stripped,
            script,
            terms,
        } = prepared;
        let mut memo = self
            .memo
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // The memo learns only from committed pages: work on a copy.
        let mut learnt = memo.clone();
        let written = conn.transaction::<_, AppError, _>(|conn| {
            store::store_page(
                conn,
                self,
                &mut learnt,
                &store::PageToStore {
                    page: &page,
                    raw: &raw,
                    warnings: &warnings,
                    stripped,
                    script,
                    terms: &terms,
                },
            )
        });
        let done = |status: ImportStatus,
                    id: i32,
                    home_list: Option<ListFill>,
                    warnings: Vec<String>| FileOutcome {
            file: file.clone(),
            status,
            article_id: Some(id),
            warnings,
            error: None,
            home_list,
            error_line: None,
        };
        if written.is_ok() {
            *memo = learnt;
        }
        drop(memo);
        match written {
            Ok(store::Stored::New(id, list)) => done(ImportStatus::Imported, id, list, warnings),
            Ok(store::Stored::Existing(id)) => done(ImportStatus::Unchanged, id, None, warnings),
            Err(e) => {
                e.log();
                let detail = match &e {
                    AppError::Internal(d) | AppError::Unavailable(d) => d.clone(),
                    other => other.to_string(),
                };
                failure(&file, 1, format!("not written: {detail}"), warnings)
            }
        }
    }
}

fn failure(file: &str, line: usize, problem: String, warnings: Vec<String>) -> FileOutcome {
    FileOutcome {
        file: file.to_string(),
        status: ImportStatus::Failed,
        article_id: None,
        warnings,
        error: Some(format!("{line}: {problem}")),
        home_list: None,
        error_line: Some(line),
    }
}
