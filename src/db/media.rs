//! Uploaded pictures' rows (the files are in the media store).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;

use super::schema::{contributors, media};
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
    /// Set while a legal hold withholds the picture from readers (the time
    /// the oldest active hold was placed); see [`super::media_holds`].
    pub held_since: Option<NaiveDateTime>,
    /// Who took it: a contributor.
    pub photographer_id: Option<i32>,
    /// That contributor's name, read with the row (see [`by_ids`]).
    #[diesel(
        skip_insertion,
        select_expression = contributors::name.nullable(),
        select_expression_type = diesel::dsl::Nullable<contributors::name>
    )]
    pub photographer: Option<String>,
}

impl MediaRow {
    /// Whether a legal hold keeps the picture from readers.
    pub fn is_withheld(&self) -> bool {
        self.held_since.is_some()
    }
}

/// Keeps `row`; a picture already kept (the same id: the same cleaned
/// bytes) keeps its row, and that row is returned. Two uploads of one
/// picture at once both succeed: the one that loses the race on the
/// primary key (tried in a savepoint, so the transaction goes on) reads
/// the winner's row.
pub fn insert_or_existing(conn: &mut AnyConnection, row: &MediaRow) -> Result<MediaRow, AppError> {
    let existing = |conn: &mut AnyConnection| -> Result<Option<MediaRow>, AppError> {
        Ok(by_ids(conn, std::slice::from_ref(&row.id))?
            .into_iter()
            .next())
    };
    if let Some(kept) = existing(conn)? {
        return Ok(kept);
    }
    let inserted =
        conn.transaction(|conn| diesel::insert_into(media::table).values(row).execute(conn));
    match inserted {
        Ok(_) => Ok(row.clone()),
        Err(diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            existing(conn)?.ok_or(AppError::Conflict(format!(
                "picture {} was being kept by another upload; send it again",
                row.id
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// The articles (any status) whose lead image or body names picture `id`:
/// the pages a hold on it changes. The id is 24 hex digits, so finding it
/// in a stored body is exact enough; an article whose text happens to hold
/// it is only refreshed once more.
pub fn articles_using(conn: &mut AnyConnection, id: &str) -> Result<Vec<i32>, AppError> {
    use super::schema::articles;
    if !crate::domain::is_media_id(id) {
        return Ok(Vec::new());
    }
    Ok(articles::table
        .filter(
            articles::lead_media_id
                .eq(id)
                .or(articles::body.like(format!("%{id}%"))),
        )
        .select(articles::id)
        .order(articles::id)
        .load(conn)?)
}

/// The pictures among `ids` that exist, in no particular order.
pub fn by_ids(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<MediaRow>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(media::table
        .left_join(contributors::table.on(media::photographer_id.eq(contributors::id.nullable())))
        .filter(media::id.eq_any(ids))
        .select(MediaRow::as_select())
        .load(conn)?)
}
