//! A page of search hits as readers get it: from the index when it is
//! complete (every match ranked, an exact count, every change the log
//! holds applied first), from the database while it is rebuilt (the 1,000
//! newest matches); either way each hit is checked against the article as
//! it is now, so a withdrawn or held article is never returned, even by an
//! index that has not yet applied the change.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;

use super::engine::{Request, SearchIndex};
use super::facets::{count_rows, FacetCounts};
use super::query::public_hits;
use super::scope::Order;
use crate::db::articles::{self, ArticleRow, Columns};
use crate::db::search_log;
use crate::db::AnyConnection;
use crate::error::AppError;

/// A page of hits, how many hits the whole search has, and their facet
/// counts when asked for.
pub struct HitPage {
    pub total: usize,
    pub hits: Vec<PageHit>,
    pub facets: Option<FacetCounts>,
}

/// A hit: its rank in the whole list, its article, its score.
pub struct PageHit {
    pub rank: usize,
    pub row: ArticleRow,
    pub score: f64,
}

/// The cursor of the hit at `rank` (from 0) in a search's list.
pub fn hit_cursor(rank: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("hit:{rank}"))
}

/// Where a page starts that follows the hit `cursor` names (0 without
/// one); `param` names the parameter in the error.
pub fn offset_after(cursor: Option<&str>, param: &str) -> Result<usize, AppError> {
    let Some(cursor) = cursor else {
        return Ok(0);
    };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("hit:").and_then(|n| n.parse::<usize>().ok()))
        .and_then(|n| n.checked_add(1))
        .ok_or_else(|| AppError::BadInput(format!("{param}: not a cursor from this API")))
}

/// The page of hits `request` asks for.
pub fn hit_page(
    conn: &mut AnyConnection,
    index: &SearchIndex,
    request: &Request<'_>,
) -> Result<HitPage, AppError> {
    let page_ids = |hits: &super::Hits| hits.page.iter().map(|(id, _)| *id).collect();
    // Whole rows: most snippets of a page come from the summaries, but a
    // second statement for the bodies that are wanted costs the database
    // as much as the bodies it saves (measured on PostgreSQL).
    let (found, rows) = if index.is_complete() {
        with_current_index(
            conn,
            index,
            || index.search(request),
            page_ids,
            Columns::Whole,
        )?
    } else {
        let found = hits_while_rebuilding(conn, request)?;
        let rows = articles::by_ids(conn, &page_ids(&found))?;
        (found, rows)
    };
    let mut rows: HashMap<i32, ArticleRow> = rows.into_iter().map(|r| (r.id, r)).collect();
    let wanted: Vec<(usize, i32, f64)> = found
        .page
        .into_iter()
        .enumerate()
        .map(|(i, (id, score))| (request.offset + i, id, score))
        .collect();
    let (now, scope) = (request.now, request.scope);
    let hits = wanted
        .into_iter()
        .filter_map(|(rank, id, score)| {
            let row = rows.remove(&id)?;
            let shown = row.is_public_at(now)
                && scope.admits(row.section_id, row.source_id, row.published_at);
            shown.then_some(PageHit { rank, row, score })
        })
        .collect();
    Ok(HitPage {
        total: found.total,
        hits,
        facets: found.facets,
    })
}

/// The hits the database finds while the index is rebuilt: the 1,000
/// newest matches, ranked alike.
fn hits_while_rebuilding(
    conn: &mut AnyConnection,
    request: &Request<'_>,
) -> Result<super::Hits, AppError> {
    let mut hits = public_hits(conn, request.query, request.scope, request.now)?;
    let at = |facts: &articles::PublicFacts| facts.published_at;
    match request.order {
        Order::Relevance => {}
        Order::Newest => hits.sort_by_key(|h| std::cmp::Reverse((at(&h.2), h.0))),
        Order::Oldest => hits.sort_by_key(|h| (at(&h.2), h.0)),
    }
    let facets = request.facets_offset.map(|offset| {
        count_rows(
            hits.iter()
                .map(|(_, _, facts)| (facts.section_id, facts.published_at)),
            offset,
        )
    });
    let page = hits
        .iter()
        .skip(request.offset)
        .take(request.size)
        .map(|(id, score, _)| (*id, *score))
        .collect();
    Ok(super::Hits {
        total: hits.len(),
        page,
        facets,
    })
}

/// Public articles whose title goes on from what a reader typed, best
/// first, at most `size` (search-as-you-type), read without their bodies
/// (see [`Columns::BodyOptional`]). While the index is rebuilt there are
/// none.
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
    let ids_of = |found: &Vec<(i32, f64)>| found.iter().map(|(id, _)| *id).collect();
    let suggest = || index.suggest(&tokens, now, size);
    let (found, rows) = with_current_index(conn, index, suggest, ids_of, Columns::BodyOptional)?;
    let ids: Vec<i32> = ids_of(&found);
    let mut rows: HashMap<i32, ArticleRow> = rows.into_iter().map(|r| (r.id, r)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| rows.remove(id))
        .filter(|row| row.is_public_at(now))
        .collect())
}

/// What `find` finds in the index and the `columns` of the rows of the
/// articles `ids_of` names, read with the search log's end in one
/// statement. When the log's newest entry is beyond what the index had
/// applied as `find` ran (another node's change, or one written past the
/// server), the index catches up and `find` runs again, as a look at the
/// log's end before the search did; a search is one statement when
/// nothing is pending. (An entry that commits late under a lower number is
/// the background round's to apply, as before.)
fn with_current_index<T>(
    conn: &mut AnyConnection,
    index: &SearchIndex,
    find: impl Fn() -> Result<T, AppError>,
    ids_of: impl Fn(&T) -> Vec<i32>,
    columns: Columns,
) -> Result<(T, Vec<ArticleRow>), AppError> {
    let applied = index.applied();
    let found = find()?;
    let (rows, latest) = search_log::rows_and_latest(conn, &ids_of(&found), columns)?;
    if latest <= applied {
        return Ok((found, rows));
    }
    index.catch_up(conn)?;
    let found = find()?;
    let ids = ids_of(&found);
    let rows = match columns {
        Columns::Whole => articles::by_ids(conn, &ids)?,
        Columns::BodyOptional => articles::by_ids_without_body(conn, &ids)?,
    };
    Ok((found, rows))
}
