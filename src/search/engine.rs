//! The search index: a Tantivy index of the public articles' terms, in a
//! folder of its own (or in memory), fed from the database's search log.
//!
//! The database stays the source of truth: the terms are made and kept in
//! `article_search` by the transaction that changes an article, which also
//! logs the change (`db::search_log`). The index applies the log after its
//! last applied entry, which it keeps in its own commit, so an index
//! killed at any moment catches up from the log when it opens again; one
//! that is missing or from another version is rebuilt from the database.
//! The tokens are the project's own (`search::terms`): the fields hold
//! them separated by spaces, and Tantivy's whitespace tokenizer takes them
//! as they are, positions and all, so phrases match as before.
//!
//! Ranking is Tantivy's BM25 over every match, the title's matches weighed
//! three times, times a freshness boost: `1 + 0.5 × 2^(−age in days / 30)`
//! (a new article ×1.5, a month-old one ×1.25, a year-old one ×1.0001);
//! equal scores go to the newer article. Counts are exact.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhrasePrefixQuery, PhraseQuery,
    Query as IndexQuery, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED,
};
use tantivy::{DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentReader, Term};

use super::facets::{FacetCollector, FacetCounts};
use super::query::Query;
use super::scope::{Order, Scope};
use crate::db::search_log::{self, SearchDocument};
use crate::db::AnyConnection;
use crate::error::AppError;

/// The version of the index's schema and tokens: an index of another
/// version is rebuilt.
const VERSION: u32 = 2;

/// What the index writer may buffer before it writes a segment.
const WRITER_MEMORY: usize = 32 << 20;

/// Documents read per statement while rebuilding.
const REBUILD_BATCH: i64 = 2_000;

/// How far back the log is read again each round: a PostgreSQL transaction
/// may commit after one that took a later entry number, within its time
/// budget.
const LOG_LOOKBACK: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// Entries applied per round.
const LOG_BATCH: i64 = 5_000;

/// The freshness boost's half-life, in days.
const FRESHNESS_HALF_LIFE_DAYS: f32 = 30.0;

/// How much more a title match weighs than a body match.
const TITLE_BOOST: Score = 3.0;

/// Searches whose hits are kept for the index as it stands (see
/// [`SearchIndex::search`]).
const KEPT_SEARCHES: u64 = 2_000;

/// How long kept hits are used at most, changes or not.
const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// What the index keeps in its commit.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    version: u32,
    /// The database it was built from (`db::search_log::identity`).
    database: String,
    /// Every log entry up to this one is applied.
    applied: i64,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    body: Field,
    published: Field,
    section: Field,
    source: Field,
    contributor: Field,
    tag: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("whitespace")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: builder.add_i64_field("id", INDEXED | STORED | FAST),
        title: builder.add_text_field("title", text.clone()),
        body: builder.add_text_field("body", text),
        published: builder.add_i64_field("published", FAST),
        section: builder.add_i64_field("section", INDEXED | FAST),
        source: builder.add_i64_field("source", INDEXED),
        // Several values each: an article matches any of them.
        contributor: builder.add_i64_field("contributor", INDEXED),
        tag: builder.add_i64_field("tag", INDEXED),
    };
    (builder.build(), fields)
}

/// Why the index could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index folder {path}: {reason}")]
    Folder { path: PathBuf, reason: String },
    #[error("search index: {0}")]
    Engine(#[from] tantivy::TantivyError),
}

impl From<IndexError> for AppError {
    fn from(e: IndexError) -> Self {
        AppError::Internal(e.to_string())
    }
}

/// A search index and its writer.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// Every log entry up to this one is applied.
    applied: AtomicI64,
    /// Whether the index holds every searchable article (false until a
    /// rebuild has finished).
    complete: AtomicBool,
    /// Entries applied that the lookback still reads, so as not to apply
    /// them again each round.
    recent: Mutex<Vec<i64>>,
    /// The database this index holds (empty until [`SearchIndex::resume`]
    /// or a rebuild says), and what the folder's last commit said.
    database: Mutex<String>,
    found: Mutex<Option<Payload>>,
    folder: Option<PathBuf>,
    /// Hits of recent searches, by the index generation they were found
    /// in: readers search the same words when news breaks.
    kept: moka::sync::Cache<KeptKey, Arc<Hits>>,
    /// Suggestions likewise, by generation, tokens and number.
    kept_suggestions: moka::sync::Cache<SuggestionKey, Arc<Vec<(i32, f64)>>>,
}

/// Suggestions as an index generation gave them: (generation, tokens, how
/// many).
type SuggestionKey = (u64, Vec<String>, usize);

/// A search as the index generation it ran on saw it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct KeptKey {
    generation: u64,
    query: Query,
    scope: Scope,
    order: Order,
    offset: usize,
    size: usize,
    facets_offset: Option<i64>,
}

/// One page of hits and the number of all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Hits {
    pub total: usize,
    /// Article ids with their scores, in the order asked for.
    pub page: Vec<(i32, f64)>,
    /// Counts by section and month, when asked for.
    pub facets: Option<FacetCounts>,
}

/// A search: what to look for, within what, in which order, which page.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub query: &'a Query,
    pub scope: &'a Scope,
    pub order: Order,
    pub now: NaiveDateTime,
    pub offset: usize,
    pub size: usize,
    /// The site's offset from UTC in seconds, when facet counts are wanted
    /// (their months are the site's).
    pub facets_offset: Option<i64>,
}

impl SearchIndex {
    /// Opens the index in `folder` (created if missing), or one in memory.
    /// An index from another version, or one that cannot be read, is
    /// emptied. Nothing is searched in it before [`SearchIndex::resume`]
    /// has found it built from this database, or a rebuild has run.
    pub fn open(folder: Option<&Path>) -> Result<SearchIndex, IndexError> {
        let (schema, fields) = schema();
        let (index, payload) = match folder {
            None => (Index::create_in_ram(schema), None),
            Some(path) => open_folder(path, schema)?,
        };
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
            applied: AtomicI64::new(0),
            complete: AtomicBool::new(false),
            recent: Mutex::default(),
            database: Mutex::default(),
            found: Mutex::new(payload),
            folder: folder.map(Path::to_path_buf),
            kept: moka::sync::Cache::builder()
                .max_capacity(KEPT_SEARCHES)
                .time_to_live(KEPT_FOR)
                .build(),
            kept_suggestions: moka::sync::Cache::builder()
                .max_capacity(KEPT_SEARCHES)
                .time_to_live(KEPT_FOR)
                .build(),
        })
    }

    /// Takes up what the folder holds if it was built from this database
    /// and the search log still holds every entry after it; returns whether
    /// it did (else the index needs a rebuild).
    pub fn resume(&self, conn: &mut AnyConnection) -> Result<bool, AppError> {
        let database = search_log::identity(conn)?;
        let found = lock(&self.found).take();
        match found {
            Some(payload) if payload.database == database => {
                // The log forgot entries this index never applied.
                if search_log::oldest(conn)?.is_some_and(|oldest| oldest > payload.applied + 1) {
                    tracing::info!(
                        applied = payload.applied,
                        "search index: older than what the search log keeps"
                    );
                    return Ok(false);
                }
                self.applied.store(payload.applied, Ordering::Release);
                *lock(&self.database) = database;
                self.complete.store(true, Ordering::Release);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The folder the index lives in; `None` in memory.
    pub fn folder(&self) -> Option<&Path> {
        self.folder.as_deref()
    }

    /// Whether the index holds every searchable article.
    pub fn is_complete(&self) -> bool {
        self.complete.load(Ordering::Acquire)
    }

    /// The last log entry applied (with every one before it).
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::Acquire)
    }

    /// How many articles the index holds.
    pub fn documents(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Rebuilds the index from the database, calling `progress(done, total)`
    /// as it goes. Changes logged meanwhile are applied by the next
    /// [`SearchIndex::catch_up`].
    pub fn rebuild(
        &self,
        conn: &mut AnyConnection,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<u64, AppError> {
        // The log's end first: what changes while the articles are read is
        // applied again afterwards.
        let start = search_log::latest(conn)?;
        let total = search_log::count_documents(conn)? as u64;
        *lock(&self.database) = search_log::identity(conn)?;
        let mut writer = self.writer();
        writer.delete_all_documents().map_err(index_error)?;
        let mut done = 0u64;
        let mut after = 0;
        loop {
            let batch = search_log::documents_after(conn, after, REBUILD_BATCH)?;
            let Some(last) = batch.last() else { break };
            after = last.article_id;
            for doc in &batch {
                writer
                    .add_document(self.document(doc))
                    .map_err(index_error)?;
            }
            done += batch.len() as u64;
            progress(done, total);
        }
        // A rebuild starts the log afresh from its end.
        self.applied.store(start, Ordering::Release);
        lock(&self.recent).clear();
        self.commit(&mut writer, start)?;
        self.complete.store(true, Ordering::Release);
        drop(writer);
        // What the rebuild's buffers and segmenter left (20 MB after 500
        // articles) goes back at once rather than at the next round.
        crate::memory::give_back_freed();
        Ok(done)
    }

    /// Applies the log entries this index has not applied; returns the
    /// articles they named (an article named twice counts once).
    pub fn catch_up(&self, conn: &mut AnyConnection) -> Result<Vec<i32>, AppError> {
        // One round at a time: the set of recent entries is the round's.
        let mut recent = lock(&self.recent);
        let applied = self.applied();
        let since = crate::db::now() - LOG_LOOKBACK;
        let late = search_log::recent_up_to(conn, applied, since)?;
        // What the lookback no longer reads need not be remembered.
        recent.retain(|seq| late.iter().any(|(s, _)| s == seq));
        let mut fresh: Vec<(i64, i32)> = late
            .into_iter()
            .filter(|(seq, _)| !recent.contains(seq))
            .collect();
        fresh.extend(search_log::after(conn, applied, LOG_BATCH)?);
        if fresh.is_empty() {
            return Ok(vec![]);
        }
        let mut ids: Vec<i32> = fresh.iter().map(|(_, id)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let newest = fresh.iter().map(|(seq, _)| *seq).fold(applied, i64::max);
        self.write(conn, &ids, Some(newest))?;
        recent.extend(fresh.iter().map(|(seq, _)| *seq));
        Ok(ids)
    }

    /// Brings the articles `ids` up to date at once, from `conn` (the
    /// writing node does, right after its commit); the log entries stay to
    /// be applied in turn.
    pub fn refresh(&self, conn: &mut AnyConnection, ids: &[i32]) -> Result<(), AppError> {
        self.write(conn, ids, None)
    }

    fn write(
        &self,
        conn: &mut AnyConnection,
        ids: &[i32],
        applied: Option<i64>,
    ) -> Result<(), AppError> {
        let mut writer = self.writer();
        // Read under the writer's lock: two nodes' worth of changes to one
        // article are then written in the order they were read.
        let docs = search_log::documents(conn, ids)?;
        for &id in ids {
            writer.delete_term(Term::from_field_i64(self.fields.id, id.into()));
        }
        for doc in &docs {
            writer
                .add_document(self.document(doc))
                .map_err(index_error)?;
        }
        self.commit(&mut writer, applied.unwrap_or_else(|| self.applied()))
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        lock(&self.writer)
    }

    fn commit(&self, writer: &mut IndexWriter, applied: i64) -> Result<(), AppError> {
        let payload = serde_json::to_string(&Payload {
            version: VERSION,
            database: lock(&self.database).clone(),
            applied,
        })
        .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut prepared = writer.prepare_commit().map_err(index_error)?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(index_error)?;
        self.reader.reload().map_err(index_error)?;
        self.applied.fetch_max(applied, Ordering::AcqRel);
        Ok(())
    }

    fn document(&self, doc: &SearchDocument) -> tantivy::TantivyDocument {
        let f = self.fields;
        let published = doc.published_at.map_or(0, |t| t.and_utc().timestamp());
        let mut out = tantivy::TantivyDocument::default();
        out.add_i64(f.id, i64::from(doc.article_id));
        out.add_text(f.title, &doc.title_terms);
        out.add_text(f.body, &doc.body_terms);
        out.add_i64(f.published, published);
        out.add_i64(f.section, i64::from(doc.section_id));
        if let Some(source) = doc.source_id {
            out.add_i64(f.source, source.into());
        }
        for &person in &doc.contributor_ids {
            out.add_i64(f.contributor, person.into());
        }
        for &tag in &doc.tag_ids {
            out.add_i64(f.tag, tag.into());
        }
        out
    }

    /// The page of hits `request` asks for, ranked as the module says or
    /// by date, with the number of all hits (and their facet counts when
    /// asked for). The hits of a search are kept (2,000 searches, 10 s at
    /// most) for the index generation they were found in, as search
    /// engines' request caches do: a common word matches most of the
    /// archive, and ranking every match is the cost of a search.
    pub fn search(&self, request: &Request<'_>) -> Result<Hits, AppError> {
        if request.scope.is_empty() {
            let facets = request.facets_offset.map(|_| FacetCounts::default());
            return Ok(Hits {
                total: 0,
                page: vec![],
                facets,
            });
        }
        let searcher = self.reader.searcher();
        // Kept hits hold for the generation they were found in: any change
        // the index applies makes a new one. (What `now` lets in changes
        // only when the index does: it holds public articles alone.)
        let key = KeptKey {
            generation: searcher.generation().generation_id(),
            query: request.query.clone(),
            scope: request.scope.clone(),
            order: request.order,
            offset: request.offset,
            size: request.size,
            facets_offset: request.facets_offset,
        };
        if let Some(hits) = self.kept.get(&key) {
            return Ok(Hits::clone(&hits));
        }
        let hits = self.run(&searcher, request)?;
        self.kept.insert(key, Arc::new(hits.clone()));
        Ok(hits)
    }

    fn run(&self, searcher: &tantivy::Searcher, request: &Request<'_>) -> Result<Hits, AppError> {
        let now = request.now.and_utc().timestamp();
        let order = request.order;
        let query = self.index_query(request.query, request.scope, now);
        // One key for every order: (what orders, the tie-break, the score).
        // No hit lies past the documents there are: a cursor from far
        // beyond costs no more than the last page.
        let offset = request.offset.min(searcher.num_docs() as usize);
        let top = TopDocs::with_limit(request.size.max(1))
            .and_offset(offset)
            .tweak_score(move |segment: &SegmentReader| {
                let published = segment.fast_fields().i64("published").ok();
                let id = segment.fast_fields().i64("id").ok();
                move |doc: DocId, score: Score| {
                    let at = published.as_ref().and_then(|c| c.first(doc));
                    let id = id.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
                    let score = score * freshness(now, at);
                    let at = at.unwrap_or(0) as f64;
                    match order {
                        Order::Relevance => (f64::from(score), id, score),
                        Order::Newest => (at, id, score),
                        Order::Oldest => (-at, -id, score),
                    }
                }
            });
        let (found, total, facets) = match request.facets_offset {
            Some(utc_offset) => {
                let (found, total, facets) = searcher
                    .search(&query, &(top, Count, FacetCollector { utc_offset }))
                    .map_err(index_error)?;
                (found, total, Some(facets))
            }
            None => {
                let (found, total) = searcher
                    .search(&query, &(top, Count))
                    .map_err(index_error)?;
                (found, total, None)
            }
        };
        let page = match request.size {
            0 => vec![],
            _ => found
                .into_iter()
                .map(|((_, id, score), _)| (id.unsigned_abs() as i32, f64::from(score)))
                .collect(),
        };
        Ok(Hits {
            total,
            page,
            facets,
        })
    }

    /// Articles whose title goes on from `tokens` (the last one a
    /// beginning), best first with the freshness boost, at most `size`.
    pub fn suggest(
        &self,
        tokens: &[String],
        now: NaiveDateTime,
        size: usize,
    ) -> Result<Vec<(i32, f64)>, AppError> {
        if tokens.is_empty() || size == 0 {
            return Ok(vec![]);
        }
        let key = (
            self.reader.searcher().generation().generation_id(),
            tokens.to_vec(),
            size,
        );
        if let Some(kept) = self.kept_suggestions.get(&key) {
            return Ok(Vec::clone(&kept));
        }
        let found = self.find_suggestions(tokens, now, size)?;
        self.kept_suggestions.insert(key, Arc::new(found.clone()));
        Ok(found)
    }

    fn find_suggestions(
        &self,
        tokens: &[String],
        now: NaiveDateTime,
        size: usize,
    ) -> Result<Vec<(i32, f64)>, AppError> {
        let f = self.fields;
        let now = now.and_utc().timestamp();
        let terms: Vec<Term> = tokens
            .iter()
            .map(|t| Term::from_field_text(f.title, t))
            .collect();
        let mut typed = PhrasePrefixQuery::new(terms);
        // A beginning shared by many words: the likeliest hundred will do.
        typed.set_max_expansions(100);
        let query = BooleanQuery::new(vec![
            (Occur::Must, Box::new(typed) as Box<dyn IndexQuery>),
            filter(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(f.published, now)),
            )),
        ]);
        let top = TopDocs::with_limit(size).tweak_score(move |segment: &SegmentReader| {
            let published = segment.fast_fields().i64("published").ok();
            let id = segment.fast_fields().i64("id").ok();
            move |doc: DocId, score: Score| {
                let at = published.as_ref().and_then(|c| c.first(doc));
                let id = id.as_ref().and_then(|c| c.first(doc)).unwrap_or(0);
                ((score.max(1.0)) * freshness(now, at), id)
            }
        });
        let found = self
            .reader
            .searcher()
            .search(&query, &top)
            .map_err(index_error)?;
        Ok(found
            .into_iter()
            .map(|((score, id), _)| (id as i32, f64::from(score)))
            .collect())
    }

    fn index_query(&self, query: &Query, scope: &Scope, now: i64) -> BooleanQuery {
        let f = self.fields;
        // An article published for a time still to come shows from then on
        // (visibility follows the time; nothing is written when it comes).
        let mut clauses: Vec<(Occur, Box<dyn IndexQuery>)> = vec![filter(RangeQuery::new(
            Bound::Unbounded,
            Bound::Included(Term::from_field_i64(f.published, now)),
        ))];
        for phrase in &query.must {
            clauses.push((Occur::Must, self.phrase_anywhere(phrase)));
        }
        for phrase in &query.must_not {
            clauses.push((Occur::MustNot, self.phrase_anywhere(phrase)));
        }
        for (field, ids) in [
            (f.section, &scope.sections),
            (f.source, &scope.sources),
            (f.contributor, &scope.contributors),
            (f.tag, &scope.tags),
        ] {
            if let Some(ids) = ids {
                let terms = ids
                    .iter()
                    .map(|id| Term::from_field_i64(field, i64::from(*id)));
                clauses.push(filter(TermSetQuery::new(terms)));
            }
        }
        let at = |t: NaiveDateTime| Term::from_field_i64(f.published, t.and_utc().timestamp());
        if let Some(after) = scope.published_after {
            clauses.push(filter(RangeQuery::new(
                Bound::Included(at(after)),
                Bound::Unbounded,
            )));
        }
        if let Some(before) = scope.published_before {
            clauses.push(filter(RangeQuery::new(
                Bound::Unbounded,
                Bound::Excluded(at(before)),
            )));
        }
        BooleanQuery::new(clauses)
    }

    /// `tokens` in order, in the title (weighing more) or in the body.
    fn phrase_anywhere(&self, tokens: &[String]) -> Box<dyn IndexQuery> {
        let f = self.fields;
        let title = BoostQuery::new(phrase_in(f.title, tokens), TITLE_BOOST);
        Box::new(BooleanQuery::new(vec![
            (Occur::Should, Box::new(title) as Box<dyn IndexQuery>),
            (Occur::Should, phrase_in(f.body, tokens)),
        ]))
    }
}

/// A clause that narrows the hits and adds nothing to their score.
fn filter(query: impl IndexQuery) -> (Occur, Box<dyn IndexQuery>) {
    (
        Occur::Must,
        Box::new(ConstScoreQuery::new(Box::new(query), 0.0)),
    )
}

fn phrase_in(field: Field, tokens: &[String]) -> Box<dyn IndexQuery> {
    let terms: Vec<Term> = tokens
        .iter()
        .map(|t| Term::from_field_text(field, t))
        .collect();
    match terms.as_slice() {
        [one] => Box::new(TermQuery::new(one.clone(), IndexRecordOption::WithFreqs)),
        _ => Box::new(PhraseQuery::new(terms)),
    }
}

/// The freshness boost of an article published at `at` (Unix seconds),
/// seen at `now`.
fn freshness(now: i64, at: Option<i64>) -> Score {
    let Some(at) = at else { return 1.0 };
    let age_days = ((now - at).max(0) as f32) / 86_400.0;
    1.0 + 0.5 * (-age_days / FRESHNESS_HALF_LIFE_DAYS).exp2()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn index_error(e: tantivy::TantivyError) -> AppError {
    AppError::Internal(format!("search index: {e}"))
}

/// Opens the index in `path`, or makes an empty one there when there is
/// none, it is of another version, or it cannot be read.
fn open_folder(path: &Path, schema: Schema) -> Result<(Index, Option<Payload>), IndexError> {
    let folder_error = |reason: String| IndexError::Folder {
        path: path.to_path_buf(),
        reason,
    };
    std::fs::create_dir_all(path).map_err(|e| folder_error(e.to_string()))?;
    let directory = MmapDirectory::open(path).map_err(|e| folder_error(e.to_string()))?;
    if Index::exists(&directory).unwrap_or(false) {
        let opened = Index::open(directory.clone()).and_then(|index| {
            let payload = index
                .load_metas()?
                .payload
                .and_then(|p| serde_json::from_str::<Payload>(&p).ok());
            Ok((index, payload))
        });
        match opened {
            Ok((index, Some(payload)))
                if payload.version == VERSION && index.schema() == schema =>
            {
                return Ok((index, Some(payload)));
            }
            Ok(_) => {
                tracing::warn!(folder = %path.display(), "search index of another version: rebuilding")
            }
            Err(error) => {
                tracing::warn!(folder = %path.display(), %error, "search index unreadable: rebuilding")
            }
        }
        empty_folder(path).map_err(|e| folder_error(e.to_string()))?;
    }
    let directory = MmapDirectory::open(path).map_err(|e| folder_error(e.to_string()))?;
    Ok((Index::create(directory, schema, Default::default())?, None))
}

/// Removes what is in `path`, keeping the folder.
fn empty_folder(path: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_articles_get_a_boost_that_fades_with_age() {
        let now = 1_700_000_000;
        let day = 86_400;
        assert!((freshness(now, Some(now)) - 1.5).abs() < 1e-6);
        assert!((freshness(now, Some(now - 30 * day)) - 1.25).abs() < 1e-6);
        assert!(freshness(now, Some(now - 365 * day)) < 1.001);
        assert_eq!(freshness(now, None), 1.0);
        // An article "from the future" (a clock skew) gets no more than new.
        assert!((freshness(now, Some(now + day)) - 1.5).abs() < 1e-6);
    }
}
