//! The ordered log of changes that affect search, and what the search index
//! reads of an article.
//!
//! Every transaction that changes articles logs them here before it
//! commits (see `search::index_changed`); each node's index applies the log
//! after its last applied entry. An entry names the article only: the index
//! reads what the article is now, so applying an entry twice, or late, does
//! no harm.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::native::on_engine;
use super::schema::{
    article_credits, article_search, article_tags, articles, contributors, search_identity,
    search_log, sources, tags,
};
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

/// The articles `ids` (in no order), with the `columns` asked for, and the
/// newest entry's number, in one statement: a search reads its page's rows
/// and whether the log has moved past its index in one trip.
pub fn rows_and_latest(
    conn: &mut AnyConnection,
    ids: &[i32],
    columns: super::articles::Columns,
) -> Result<(Vec<super::articles::ArticleRow>, i64), AppError> {
    use super::articles::{ArticleRow, Columns};
    if ids.is_empty() {
        return Ok((vec![], latest(conn)?));
    }
    // On the engine's own connection: twenty whole rows converted through
    // the multi-engine connection's values cost a tenth of a search's CPU.
    let newest = || {
        search_log::table
            .select(diesel::dsl::max(search_log::seq))
            .single_value()
    };
    let rows = articles::table.filter(articles::id.eq_any(ids));
    let found: Vec<(ArticleRow, Option<i64>)> = match columns {
        Columns::Whole => on_engine!(conn, |c| rows
            .select((ArticleRow::as_select(), newest()))
            .load(c))?,
        // Both shapes are fixed: Diesel keeps each prepared.
        Columns::BodyOptional => on_engine!(conn, |c| rows
            .select((super::articles::without_body(), newest()))
            .load(c))?,
    };
    match found.first() {
        Some((_, newest)) => {
            let newest = newest.unwrap_or(0);
            Ok((found.into_iter().map(|(row, _)| row).collect(), newest))
        }
        // The rows are gone: the log says whether the index knows it.
        None => Ok((vec![], latest(conn)?)),
    }
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
    // Only the time is filtered in SQL: with `seq` there too, SQLite walks
    // the primary key through the whole log instead of the time's index.
    let mut recent: Vec<(i64, i32)> = search_log::table
        .filter(search_log::logged_at.ge(since))
        .select((search_log::seq, search_log::article_id))
        .load(conn)?;
    recent.retain(|(s, _)| *s <= seq);
    recent.sort_unstable();
    Ok(recent)
}

/// The oldest entry kept, if any: an index that applied less than the
/// entry before it has missed what was forgotten, and is rebuilt.
pub fn oldest(conn: &mut AnyConnection) -> Result<Option<i64>, AppError> {
    Ok(search_log::table
        .select(diesel::dsl::min(search_log::seq))
        .first::<Option<i64>>(conn)?)
}

/// Forgets the entries logged before `before`, except the newest: with it
/// kept, an index that stopped before the forgotten ones can tell
/// ([`oldest`]), and the log's numbers go on from it.
pub fn forget_before(conn: &mut AnyConnection, before: NaiveDateTime) -> Result<usize, AppError> {
    let newest = latest(conn)?;
    Ok(diesel::delete(
        search_log::table
            .filter(search_log::logged_at.lt(before))
            .filter(search_log::seq.lt(newest)),
    )
    .execute(conn)?)
}

/// What the index holds of a public article: its search terms (made by
/// `search::terms`), its time, its section and source, and the people and
/// tags it can be filtered by.
#[derive(Debug, Clone)]
pub struct SearchDocument {
    pub article_id: i32,
    pub title_terms: String,
    pub body_terms: String,
    pub published_at: Option<NaiveDateTime>,
    pub section_id: i32,
    pub source_id: Option<i32>,
    pub contributor_ids: Vec<i32>,
    pub tag_ids: Vec<i32>,
}

type DocumentRow = (i32, String, String, Option<NaiveDateTime>, i32, Option<i32>);

type DocumentColumns = (
    article_search::article_id,
    article_search::title_terms,
    article_search::body_terms,
    articles::published_at,
    articles::section_id,
    articles::source_id,
);

const DOCUMENT_COLUMNS: DocumentColumns = (
    article_search::article_id,
    article_search::title_terms,
    article_search::body_terms,
    articles::published_at,
    articles::section_id,
    articles::source_id,
);

/// The documents of `ids` that are searchable (an article that is not has
/// no terms: `search::index_article` keeps only public ones).
pub fn documents(conn: &mut AnyConnection, ids: &[i32]) -> Result<Vec<SearchDocument>, AppError> {
    let rows = article_search::table
        .inner_join(articles::table.on(articles::id.eq(article_search::article_id)))
        .filter(article_search::article_id.eq_any(ids))
        .select(DOCUMENT_COLUMNS)
        .load(conn)?;
    with_people_and_tags(conn, rows)
}

/// Up to `limit` searchable documents after article `after`, by id: a
/// rebuild reads them all in batches.
pub fn documents_after(
    conn: &mut AnyConnection,
    after: i32,
    limit: i64,
) -> Result<Vec<SearchDocument>, AppError> {
    let rows = article_search::table
        .inner_join(articles::table.on(articles::id.eq(article_search::article_id)))
        .filter(article_search::article_id.gt(after))
        .order(article_search::article_id)
        .limit(limit)
        .select(DOCUMENT_COLUMNS)
        .load(conn)?;
    with_people_and_tags(conn, rows)
}

/// Completes the documents with their credited people and their tags: one
/// statement each for the whole batch.
fn with_people_and_tags(
    conn: &mut AnyConnection,
    rows: Vec<DocumentRow>,
) -> Result<Vec<SearchDocument>, AppError> {
    let ids: Vec<i32> = rows.iter().map(|r| r.0).collect();
    let credits: Vec<(i32, i32)> = article_credits::table
        .filter(article_credits::article_id.eq_any(&ids))
        .select((article_credits::article_id, article_credits::contributor_id))
        .load(conn)?;
    let tagged: Vec<(i32, i32)> = article_tags::table
        .filter(article_tags::article_id.eq_any(&ids))
        .select((article_tags::article_id, article_tags::tag_id))
        .load(conn)?;
    let mut people: HashMap<i32, Vec<i32>> = HashMap::new();
    for (article, person) in credits {
        people.entry(article).or_default().push(person);
    }
    let mut tags: HashMap<i32, Vec<i32>> = HashMap::new();
    for (article, tag) in tagged {
        tags.entry(article).or_default().push(tag);
    }
    Ok(rows
        .into_iter()
        .map(
            |(article_id, title_terms, body_terms, published_at, section_id, source_id)| {
                SearchDocument {
                    contributor_ids: people.remove(&article_id).unwrap_or_default(),
                    tag_ids: tags.remove(&article_id).unwrap_or_default(),
                    article_id,
                    title_terms,
                    body_terms,
                    published_at,
                    section_id,
                    source_id,
                }
            },
        )
        .collect())
}

/// Of `ids`, the articles crediting any of `contributors`.
pub fn crediting(
    conn: &mut AnyConnection,
    ids: &[i32],
    contributors: &[i32],
) -> Result<Vec<i32>, AppError> {
    Ok(article_credits::table
        .filter(article_credits::article_id.eq_any(ids))
        .filter(article_credits::contributor_id.eq_any(contributors))
        .select(article_credits::article_id)
        .distinct()
        .load(conn)?)
}

/// Of `ids`, the articles with any of `tags`.
pub fn tagged(conn: &mut AnyConnection, ids: &[i32], tags: &[i32]) -> Result<Vec<i32>, AppError> {
    Ok(article_tags::table
        .filter(article_tags::article_id.eq_any(ids))
        .filter(article_tags::tag_id.eq_any(tags))
        .select(article_tags::article_id)
        .distinct()
        .load(conn)?)
}

/// The sources named exactly `name` (a search filter).
pub fn sources_named(conn: &mut AnyConnection, name: &str) -> Result<Vec<i32>, AppError> {
    Ok(sources::table
        .filter(sources::name.eq(name))
        .select(sources::id)
        .load(conn)?)
}

/// The contributors named exactly `name` (a search filter).
pub fn contributors_named(conn: &mut AnyConnection, name: &str) -> Result<Vec<i32>, AppError> {
    Ok(contributors::table
        .filter(contributors::name.eq(name))
        .select(contributors::id)
        .load(conn)?)
}

/// The tag with this slug, if any (a search filter).
pub fn tags_with_slug(conn: &mut AnyConnection, slug: &str) -> Result<Vec<i32>, AppError> {
    Ok(tags::table
        .filter(tags::slug.eq(slug))
        .select(tags::id)
        .load(conn)?)
}

/// How many articles are searchable.
pub fn count_documents(conn: &mut AnyConnection) -> Result<i64, AppError> {
    Ok(article_search::table.count().get_result(conn)?)
}
