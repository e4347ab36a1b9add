//! Legal holds: what a takedown's withdrawal is.
//!
//! A request that withdraws an article (provisionally, or by being accepted)
//! places one hold on it; ending the request releases that hold only. An
//! article is public only while none of its holds is active, whatever its
//! editorial status, and a hold never changes that status. `articles.held_since`
//! mirrors "has an active hold" (the time the oldest active hold was placed)
//! so that public lists filter on the article row alone; it is written in the
//! same transaction as the holds, by [`resync`] only.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::Actor;
use super::schema::{articles, legal_holds};
use super::AnyConnection;
use crate::error::AppError;

/// Why a hold was placed.
pub const TAKEDOWN: &str = "takedown";

/// A hold as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = legal_holds)]
pub struct HoldRow {
    pub id: i32,
    pub article_id: i32,
    pub takedown_id: Option<i32>,
    pub reason: String,
    pub placed_at: NaiveDateTime,
    pub released_at: Option<NaiveDateTime>,
}

impl HoldRow {
    /// The takedown reference (`TD-12`) this hold answers, if any.
    pub fn reference(&self) -> Option<String> {
        self.takedown_id.map(|id| format!("TD-{id}"))
    }
}

/// Places the hold of request `takedown_id` on `article_id`. A request holds
/// an article once: placing it again while it is active changes nothing.
/// Returns whether a hold was placed.
pub fn place(
    conn: &mut AnyConnection,
    article_id: i32,
    takedown_id: i32,
    actor: &Actor,
) -> Result<bool, AppError> {
    let existing: Option<(i32, Option<NaiveDateTime>)> = legal_holds::table
        .filter(legal_holds::takedown_id.eq(takedown_id))
        .filter(legal_holds::article_id.eq(article_id))
        .select((legal_holds::id, legal_holds::released_at))
        .first(conn)
        .optional()?;
    let now = super::now();
    match existing {
        Some((_, None)) => return Ok(false),
        // A request that released its hold and holds again (it cannot today,
        // but the row is unique per request and article) takes it up again.
        Some((id, Some(_))) => {
            diesel::update(legal_holds::table.find(id))
                .set((
                    legal_holds::placed_at.eq(now),
                    legal_holds::placed_by_user_id.eq(actor.user_id),
                    legal_holds::released_at.eq(None::<NaiveDateTime>),
                    legal_holds::released_by_user_id.eq(None::<i32>),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(legal_holds::table)
                .values((
                    legal_holds::article_id.eq(article_id),
                    legal_holds::takedown_id.eq(Some(takedown_id)),
                    legal_holds::reason.eq(TAKEDOWN),
                    legal_holds::placed_at.eq(now),
                    legal_holds::placed_by_user_id.eq(actor.user_id),
                ))
                .execute(conn)?;
        }
    }
    resync(conn, article_id)?;
    Ok(true)
}

/// Releases the hold of request `takedown_id` on `article_id`, leaving every
/// other hold in place. Returns whether an active hold was released.
pub fn release(
    conn: &mut AnyConnection,
    article_id: i32,
    takedown_id: i32,
    actor: &Actor,
) -> Result<bool, AppError> {
    let released = diesel::update(
        legal_holds::table
            .filter(legal_holds::takedown_id.eq(takedown_id))
            .filter(legal_holds::article_id.eq(article_id))
            .filter(legal_holds::released_at.is_null()),
    )
    .set((
        legal_holds::released_at.eq(Some(super::now())),
        legal_holds::released_by_user_id.eq(actor.user_id),
    ))
    .execute(conn)?;
    resync(conn, article_id)?;
    Ok(released > 0)
}

/// Sets `articles.held_since` from the article's active holds.
fn resync(conn: &mut AnyConnection, article_id: i32) -> Result<(), AppError> {
    let oldest: Option<NaiveDateTime> = legal_holds::table
        .filter(legal_holds::article_id.eq(article_id))
        .filter(legal_holds::released_at.is_null())
        .select(diesel::dsl::min(legal_holds::placed_at))
        .first(conn)?;
    diesel::update(articles::table.find(article_id))
        .set(articles::held_since.eq(oldest))
        .execute(conn)?;
    Ok(())
}

/// The active holds on these articles, oldest first.
pub fn active_on(conn: &mut AnyConnection, article_ids: &[i32]) -> Result<Vec<HoldRow>, AppError> {
    if article_ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(legal_holds::table
        .filter(legal_holds::article_id.eq_any(article_ids))
        .filter(legal_holds::released_at.is_null())
        .order((legal_holds::placed_at.asc(), legal_holds::id.asc()))
        .select(HoldRow::as_select())
        .load(conn)?)
}

/// Every hold on an article, active or released, oldest first (for staff).
pub fn all_on(conn: &mut AnyConnection, article_id: i32) -> Result<Vec<HoldRow>, AppError> {
    Ok(legal_holds::table
        .filter(legal_holds::article_id.eq(article_id))
        .order((legal_holds::placed_at.asc(), legal_holds::id.asc()))
        .select(HoldRow::as_select())
        .load(conn)?)
}

/// Whether request `takedown_id` holds `article_id` now.
pub fn holds(
    conn: &mut AnyConnection,
    article_id: i32,
    takedown_id: i32,
) -> Result<bool, AppError> {
    Ok(legal_holds::table
        .filter(legal_holds::takedown_id.eq(takedown_id))
        .filter(legal_holds::article_id.eq(article_id))
        .filter(legal_holds::released_at.is_null())
        .count()
        .get_result::<i64>(conn)?
        > 0)
}
