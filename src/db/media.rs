//! Uploaded pictures' rows (the files are in the media store).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::media;
use super::AnyConnection;
use crate::error::AppError;

/// A picture as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: String,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i32,
    pub blurhash: String,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    pub source: String,
    pub rights: String,
    pub uploaded_by: Option<i32>,
    pub created_at: NaiveDateTime,
}

/// Keeps `row`; a picture already kept (the same id: the same cleaned
/// bytes) keeps its row, and that row is returned.
pub fn insert_or_existing(conn: &mut AnyConnection, row: &MediaRow) -> Result<MediaRow, AppError> {
    if let Some(kept) = by_ids(conn, std::slice::from_ref(&row.id))?
        .into_iter()
        .next()
    {
        return Ok(kept);
    }
    diesel::insert_into(media::table)
        .values(row)
        .execute(conn)?;
    Ok(row.clone())
}

/// The pictures among `ids` that exist, in no particular order.
pub fn by_ids(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<MediaRow>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(media::table
        .filter(media::id.eq_any(ids))
        .select(MediaRow::as_select())
        .load(conn)?)
}
