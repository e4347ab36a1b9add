//! The ordered log of changes that affect search, and what the search index
//! reads of an article.
//!
//! Every transaction that changes articles logs them here before it
//! commits (see `search::index_changed`); each node's index applies the log
//! after its last applied entry. An entry names the article only: the index
//! reads what the article is now, so applying an entry twice, or late, does
//! no harm.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{article_search, articles, search_identity, search_log};
use super::AnyConnection;
use crate::error::AppError;

/// The token that tells this database from any other (made by its
/// migration): a search index built from another database is rebuilt.
pub fn identity(conn: &mut AnyConnection) -> Result<String, AppError> {
    Ok(search_identity::table
        .select(search_identity::token)
        .first(conn)?)
}

/// Logs that the articles `ids` changed; call inside their transaction.
pub fn append(conn: &mut AnyConnection, ids: &[i32], at: NaiveDateTime) -> Result<(), AppError> {
    for &id in ids {
        diesel::insert_into(search_log::table)
            .values((search_log::article_id.eq(id), search_log::logged_at.eq(at)))
            .execute(conn)?;
    }
    Ok(())
}

/// The newest entry's number; 0 for an empty log.
pub fn latest(conn: &mut AnyConnection) -> Result<i64, AppError> {
    Ok(search_log::table
        .select(diesel::dsl::max(search_log::seq))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Up to `limit` entries after `seq`, oldest first.
pub fn after(conn: &mut AnyConnection, seq: i64, limit: i64) -> Result<Vec<(i64, i32)>, AppError> {
    Ok(search_log::table
        .filter(search_log::seq.gt(seq))
        .order(search_log::seq)
        .limit(limit)
        .select((search_log::seq, search_log::article_id))
        .load(conn)?)
}

/// The entries up to `seq` logged since `since`: on PostgreSQL a
/// transaction may commit after one that took a later number, so a reader
/// that has applied up to `seq` reads the recent ones again.
pub fn recent_up_to(
    conn: &mut AnyConnection,
    seq: i64,
    since: NaiveDateTime,
) -> Result<Vec<(i64, i32)>, AppError> {
    Ok(search_log::table
        .filter(search_log::seq.le(seq))
        .filter(search_log::logged_at.ge(since))
        .order(search_log::seq)
        .select((search_log::seq, search_log::article_id))
        .load(conn)?)
}

/// Forgets the entries up to `seq`, which every index has applied or can
/// rebuild past.
pub fn prune(conn: &mut AnyConnection, seq: i64) -> Result<usize, AppError> {
    Ok(diesel::delete(search_log::table.filter(search_log::seq.le(seq))).execute(conn)?)
}

/// What the index holds of a public article: its search terms (made by
/// `search::terms`), its time and its section.
#[derive(Debug, Clone, Queryable)]
pub struct SearchDocument {
    pub article_id: i32,
    pub title_terms: String,
    pub body_terms: String,
    pub published_at: Option<NaiveDateTime>,
    pub section_id: i32,
}

type DocumentColumns = (
    article_search::article_id,
    article_search::title_terms,
    article_search::body_terms,
    articles::published_at,
    articles::section_id,
);

const DOCUMENT_COLUMNS: DocumentColumns = (
    article_search::article_id,
    article_search::title_terms,
    article_search::body_terms,
    articles::published_at,
    articles::section_id,
);

/// The documents of `ids` that are searchable (an article that is not has
/// no terms: `search::index_article` keeps only public ones).
pub fn documents(conn: &mut AnyConnection, ids: &[i32]) -> Result<Vec<SearchDocument>, AppError> {
    Ok(article_search::table
        .inner_join(articles::table.on(articles::id.eq(article_search::article_id)))
        .filter(article_search::article_id.eq_any(ids))
        .select(DOCUMENT_COLUMNS)
        .load(conn)?)
}

/// Up to `limit` searchable documents after article `after`, by id: a
/// rebuild reads them all in batches.
pub fn documents_after(
    conn: &mut AnyConnection,
    after: i32,
    limit: i64,
) -> Result<Vec<SearchDocument>, AppError> {
    Ok(article_search::table
        .inner_join(articles::table.on(articles::id.eq(article_search::article_id)))
        .filter(article_search::article_id.gt(after))
        .order(article_search::article_id)
        .limit(limit)
        .select(DOCUMENT_COLUMNS)
        .load(conn)?)
}

/// How many articles are searchable.
pub fn count_documents(conn: &mut AnyConnection) -> Result<i64, AppError> {
    Ok(article_search::table.count().get_result(conn)?)
}
