//! A page of search hits as readers get it: from the index when it is
//! complete (every match ranked, an exact count, every change the log
//! holds applied first), from the database while it is rebuilt; either way each hit is checked against the article as it
//! is now, so a withdrawn or held article is never returned, even by an
//! index that has not yet applied the change.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::engine::SearchIndex;
use super::query::{public_hits, Query};
use crate::db::articles::{self, ArticleRow};
use crate::db::AnyConnection;
use crate::error::AppError;

/// A page of hits, and how many hits the whole search has.
pub struct HitPage {
    pub total: usize,
    pub hits: Vec<PageHit>,
}

/// A hit: its rank in the whole list, its article, its score.
pub struct PageHit {
    pub rank: usize,
    pub row: ArticleRow,
    pub score: f64,
}

/// The hits of `query` from `offset`, at most `size`, within `sections`
/// when given (a section and its subsections, as ids).
pub fn hit_page(
    conn: &mut AnyConnection,
    index: &SearchIndex,
    query: &Query,
    sections: Option<&[i32]>,
    now: NaiveDateTime,
    offset: usize,
    size: usize,
) -> Result<HitPage, AppError> {
    let (total, wanted): (usize, Vec<(usize, i32, f64)>) = if index.is_complete() {
        index.bring_up_to_date(conn)?;
        let hits = index.search(query, sections, now, offset, size)?;
        let wanted = hits
            .page
            .into_iter()
            .enumerate()
            .map(|(i, (id, score))| (offset + i, id, score))
            .collect();
        (hits.total, wanted)
    } else {
        // While the index is rebuilt: the database's newest 1,000 matches.
        let hits = public_hits(conn, query, sections, now)?;
        let total = hits.len();
        let wanted = hits
            .into_iter()
            .enumerate()
            .skip(offset)
            .take(size)
            .map(|(rank, (id, score))| (rank, id, score))
            .collect();
        (total, wanted)
    };
    let ids: Vec<i32> = wanted.iter().map(|(_, id, _)| *id).collect();
    let mut rows: HashMap<i32, ArticleRow> = articles::by_ids(conn, &ids)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let hits = wanted
        .into_iter()
        .filter_map(|(rank, id, score)| {
            let row = rows.remove(&id)?;
            let shown =
                row.is_public_at(now) && sections.is_none_or(|s| s.contains(&row.section_id));
            shown.then_some(PageHit { rank, row, score })
        })
        .collect();
    Ok(HitPage { total, hits })
}

/// Public articles whose title goes on from what a reader typed, best
/// first, at most `size` (search-as-you-type). While the index is rebuilt
/// there are none.
pub fn suggestions(
    conn: &mut AnyConnection,
    index: &SearchIndex,
    typed: &str,
    now: NaiveDateTime,
    size: usize,
) -> Result<Vec<ArticleRow>, AppError> {
    let tokens = super::query::prefix_tokens(typed)?;
    if !index.is_complete() || tokens.is_empty() {
        return Ok(vec![]);
    }
    index.bring_up_to_date(conn)?;
    let ids: Vec<i32> = index
        .suggest(&tokens, now, size)?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut rows: HashMap<i32, ArticleRow> = articles::by_ids(conn, &ids)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    Ok(ids
        .iter()
        .filter_map(|id| rows.remove(id))
        .filter(|row| row.is_public_at(now))
        .collect())
}
