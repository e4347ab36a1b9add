//! Where each article that may be public shows: its section, every section
//! above it, and the whole site (scope 0). A section page, with its
//! subsections, and the home page are then one index-ordered scan of one
//! scope (`article_placements`, keyed by scope, time and id), however deep
//! the tree and however many sections it spans.
//!
//! The placements of an article are rewritten by every write that can change
//! where or whether it shows (its status, time, hold or section) and, for a
//! whole subtree, when a section moves: the same transaction, so a page
//! never lists what the article row says is hidden. Whether the time has
//! come is decided at read time, so scheduled articles appear on their own.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{article_placements, articles, sections};
use super::AnyConnection;
use crate::domain::ArticleStatus;
use crate::error::AppError;

/// The scope of the whole site.
pub const SITE: i32 = 0;

/// Rewrites the placements of article `id` from its row as it is now.
pub fn refresh(conn: &mut AnyConnection, id: i32) -> Result<(), AppError> {
    diesel::delete(article_placements::table.filter(article_placements::article_id.eq(id)))
        .execute(conn)?;
    let Some((status, published_at, held_since, section_id)) = articles::table
        .find(id)
        .select((
            articles::status,
            articles::published_at,
            articles::held_since,
            articles::section_id,
        ))
        .first::<(String, Option<NaiveDateTime>, Option<NaiveDateTime>, i32)>(conn)
        .optional()?
    else {
        // No such article: nothing to place.
        return Ok(());
    };
    let live = status
        .parse::<ArticleStatus>()
        .is_ok_and(ArticleStatus::is_live);
    let Some(published_at) = published_at.filter(|_| live && held_since.is_none()) else {
        return Ok(());
    };
    // One row per scope: a handful, and the engines' batch inserts differ.
    for scope in scopes_of(conn, section_id)? {
        diesel::insert_into(article_placements::table)
            .values((
                article_placements::scope_id.eq(scope),
                article_placements::published_at.eq(published_at),
                article_placements::article_id.eq(id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Rewrites the placements of every article in `section` and below it:
/// after the section moved, its articles show under other ancestors.
pub fn refresh_subtree(conn: &mut AnyConnection, section: i32) -> Result<(), AppError> {
    let links: Vec<(i32, Option<i32>)> = sections::table
        .select((sections::id, sections::parent_id))
        .load(conn)?;
    let mut inside = vec![section];
    let mut i = 0;
    while i < inside.len() {
        let parent = inside[i];
        inside.extend(
            links
                .iter()
                .filter(|(_, p)| *p == Some(parent))
                .map(|(id, _)| *id),
        );
        i += 1;
    }
    let ids: Vec<i32> = articles::table
        .filter(articles::section_id.eq_any(&inside))
        .select(articles::id)
        .load(conn)?;
    for id in ids {
        refresh(conn, id)?;
    }
    Ok(())
}

/// The section itself, each section above it, and the whole site.
fn scopes_of(conn: &mut AnyConnection, section: i32) -> Result<Vec<i32>, AppError> {
    let mut scopes = vec![SITE];
    let mut current = Some(section);
    while let Some(id) = current {
        // A cycle would be a data error; the depth bound keeps the walk finite.
        if scopes.contains(&id) || scopes.len() > 64 {
            break;
        }
        scopes.push(id);
        current = sections::table
            .find(id)
            .select(sections::parent_id)
            .first::<Option<i32>>(conn)
            .optional()?
            .flatten();
    }
    Ok(scopes)
}
