use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::sections;
use super::AnyConnection;
use crate::domain::{slugify, SectionKind};
use crate::error::AppError;

/// A section as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = sections)]
pub struct SectionRow {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub parent_id: Option<i32>,
    pub kind: String,
    pub position: i32,
    pub in_navigation: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What creating a section needs.
#[derive(Debug, Clone)]
pub struct NewSection<'a> {
    pub name: &'a str,
    pub parent_id: Option<i32>,
    pub kind: SectionKind,
    pub position: i32,
    pub in_navigation: bool,
}

/// Every section, in navigation order (the tree is small: a site has dozens).
pub fn all(conn: &mut AnyConnection) -> Result<Vec<SectionRow>, AppError> {
    Ok(sections::table
        .order((sections::position, sections::id))
        .select(SectionRow::as_select())
        .load(conn)?)
}

/// The section named `name` directly under `parent_id`.
pub fn find_by_name(
    conn: &mut AnyConnection,
    name: &str,
    parent_id: Option<i32>,
) -> Result<Option<i32>, AppError> {
    let query = sections::table
        .filter(sections::name.eq(name))
        .select(sections::id);
    Ok(match parent_id {
        Some(p) => query
            .filter(sections::parent_id.eq(p))
            .first(conn)
            .optional()?,
        None => query
            .filter(sections::parent_id.is_null())
            .first(conn)
            .optional()?,
    })
}

/// Creates a section with a pinyin slug made unique by a numeric suffix.
pub fn create(conn: &mut AnyConnection, new: &NewSection<'_>) -> Result<i32, AppError> {
    let base = slugify(new.name, 60)
        .map(|s| s.to_string())
        .unwrap_or_else(|| "section".into());
    let slug = unique_slug(conn, &base)?;
    let now = super::now();
    Ok(diesel::insert_into(sections::table)
        .values((
            sections::slug.eq(slug),
            sections::name.eq(new.name),
            sections::parent_id.eq(new.parent_id),
            sections::kind.eq(new.kind.as_str()),
            sections::position.eq(new.position),
            sections::in_navigation.eq(new.in_navigation),
            sections::created_at.eq(now),
            sections::updated_at.eq(now),
        ))
        .returning(sections::id)
        .get_result(conn)?)
}

fn unique_slug(conn: &mut AnyConnection, base: &str) -> Result<String, AppError> {
    let candidates = crate::domain::slug_candidates(base);
    let taken: Vec<String> = sections::table
        .filter(sections::slug.eq_any(&candidates))
        .select(sections::slug)
        .load(conn)?;
    Ok(crate::domain::first_free(&candidates, &taken))
}
