//! Legal holds on pictures: a takedown request that names a picture
//! withholds it from readers while it is withdrawn, as [`super::holds`]
//! does for articles. Each request holds a picture once; ending the request
//! releases that hold only, and `media.held_since` mirrors "has an active
//! hold", written by [`resync`] in the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::Actor;
use super::schema::{media, media_holds};
use super::AnyConnection;
use crate::error::AppError;

/// Places the hold of request `takedown_id` on picture `media_id`; returns
/// whether the picture's state changed (it was not held by this request).
pub fn place(
    conn: &mut AnyConnection,
    media_id: &str,
    takedown_id: i32,
    actor: &Actor,
) -> Result<bool, AppError> {
    let existing: Option<(i32, Option<NaiveDateTime>)> = media_holds::table
        .filter(media_holds::takedown_id.eq(takedown_id))
        .filter(media_holds::media_id.eq(media_id))
        .select((media_holds::id, media_holds::released_at))
        .first(conn)
        .optional()?;
    let now = super::now();
    match existing {
        Some((_, None)) => return Ok(false),
        Some((id, Some(_))) => {
            diesel::update(media_holds::table.find(id))
                .set((
                    media_holds::placed_at.eq(now),
                    media_holds::placed_by_user_id.eq(actor.user_id),
                    media_holds::released_at.eq(None::<NaiveDateTime>),
                    media_holds::released_by_user_id.eq(None::<i32>),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(media_holds::table)
                .values((
                    media_holds::media_id.eq(media_id),
                    media_holds::takedown_id.eq(takedown_id),
                    media_holds::placed_at.eq(now),
                    media_holds::placed_by_user_id.eq(actor.user_id),
                ))
                .execute(conn)?;
        }
    }
    resync(conn, media_id)?;
    Ok(true)
}

/// Releases request `takedown_id`'s hold on picture `media_id`, leaving
/// other requests' holds; returns whether an active hold was released.
pub fn release(
    conn: &mut AnyConnection,
    media_id: &str,
    takedown_id: i32,
    actor: &Actor,
) -> Result<bool, AppError> {
    let released = diesel::update(
        media_holds::table
            .filter(media_holds::takedown_id.eq(takedown_id))
            .filter(media_holds::media_id.eq(media_id))
            .filter(media_holds::released_at.is_null()),
    )
    .set((
        media_holds::released_at.eq(Some(super::now())),
        media_holds::released_by_user_id.eq(actor.user_id),
    ))
    .execute(conn)?;
    resync(conn, media_id)?;
    Ok(released > 0)
}

/// Sets `media.held_since` from the picture's active holds.
fn resync(conn: &mut AnyConnection, media_id: &str) -> Result<(), AppError> {
    let oldest: Option<NaiveDateTime> = media_holds::table
        .filter(media_holds::media_id.eq(media_id))
        .filter(media_holds::released_at.is_null())
        .select(diesel::dsl::min(media_holds::placed_at))
        .first(conn)?;
    diesel::update(media::table.find(media_id))
        .set(media::held_since.eq(oldest))
        .execute(conn)?;
    Ok(())
}

/// The requests (`TD-n`) holding picture `media_id` now, oldest hold first.
pub fn references(conn: &mut AnyConnection, media_id: &str) -> Result<Vec<String>, AppError> {
    let ids: Vec<i32> = media_holds::table
        .filter(media_holds::media_id.eq(media_id))
        .filter(media_holds::released_at.is_null())
        .order((media_holds::placed_at.asc(), media_holds::id.asc()))
        .select(media_holds::takedown_id)
        .load(conn)?;
    Ok(ids.into_iter().map(|id| format!("TD-{id}")).collect())
}
