use diesel::prelude::*;

use super::schema::sources;
use super::AnyConnection;
use crate::error::AppError;

/// Where an article comes from, and whether the site holds its rights.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sources)]
pub struct SourceRow {
    pub id: i32,
    pub name: String,
    pub owned: bool,
    pub url: Option<String>,
}

/// The source of that name, created with `owned` when missing.
pub fn find_or_create(conn: &mut AnyConnection, name: &str, owned: bool) -> Result<i32, AppError> {
    if let Some(id) = sources::table
        .filter(sources::name.eq(name))
        .select(sources::id)
        .first::<i32>(conn)
        .optional()?
    {
        return Ok(id);
    }
    let now = super::now();
    Ok(diesel::insert_into(sources::table)
        .values((
            sources::name.eq(name),
            sources::owned.eq(owned),
            sources::created_at.eq(now),
            sources::updated_at.eq(now),
        ))
        .returning(sources::id)
        .get_result(conn)?)
}

/// Sources by id, in no particular order.
pub fn by_ids(conn: &mut AnyConnection, ids: &[i32]) -> Result<Vec<SourceRow>, AppError> {
    Ok(with_ids(ids).select(SourceRow::as_select()).load(conn)?)
}

#[diesel::dsl::auto_type]
pub(super) fn with_ids<'a>(ids: &'a [i32]) -> _ {
    sources::table.filter(sources::id.eq_any(ids))
}

/// Creates the source or updates its `owned` flag and URL; returns it.
pub fn upsert(
    conn: &mut AnyConnection,
    name: &str,
    owned: bool,
    url: Option<&str>,
) -> Result<SourceRow, AppError> {
    let id = find_or_create(conn, name, owned)?;
    diesel::update(sources::table.find(id))
        .set((
            sources::owned.eq(owned),
            sources::url.eq(url),
            sources::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    by_ids(conn, &[id])?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
}
