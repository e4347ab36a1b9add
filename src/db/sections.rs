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
    create_with_slug(conn, new, &slug)
}

/// Creates a section with exactly this slug.
pub fn create_with_slug(
    conn: &mut AnyConnection,
    new: &NewSection<'_>,
    slug: &str,
) -> Result<i32, AppError> {
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

pub fn by_slug(conn: &mut AnyConnection, slug: &str) -> Result<Option<SectionRow>, AppError> {
    Ok(sections::table
        .filter(sections::slug.eq(slug))
        .select(SectionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn by_id(conn: &mut AnyConnection, id: i32) -> Result<SectionRow, AppError> {
    Ok(sections::table
        .find(id)
        .select(SectionRow::as_select())
        .first(conn)?)
}

/// Writes every editable field of `row`.
pub fn save(conn: &mut AnyConnection, row: &SectionRow) -> Result<(), AppError> {
    diesel::update(sections::table.find(row.id))
        .set((
            sections::slug.eq(&row.slug),
            sections::name.eq(&row.name),
            sections::parent_id.eq(row.parent_id),
            sections::kind.eq(&row.kind),
            sections::position.eq(row.position),
            sections::in_navigation.eq(row.in_navigation),
            sections::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes a section that holds no articles and no subsections.
pub fn delete_empty(conn: &mut AnyConnection, id: i32) -> Result<(), AppError> {
    use super::schema::{articles, recommendation_lists};
    let articles: i64 = articles::table
        .filter(articles::section_id.eq(id))
        .count()
        .get_result(conn)?;
    let children: i64 = sections::table
        .filter(sections::parent_id.eq(id))
        .count()
        .get_result(conn)?;
    if articles > 0 || children > 0 {
        return Err(AppError::Conflict(format!(
            "the section still holds {articles} article(s) and {children} subsection(s)"
        )));
    }
    diesel::update(recommendation_lists::table.filter(recommendation_lists::section_id.eq(id)))
        .set(recommendation_lists::section_id.eq(None::<i32>))
        .execute(conn)?;
    diesel::delete(sections::table.find(id)).execute(conn)?;
    Ok(())
}

/// `root` and every section below it, from (id, parent) pairs. A cycle (a
/// data error) cannot make it loop: it stops once every section is listed.
pub fn subtree_ids(links: &[(i32, Option<i32>)], root: i32) -> Vec<i32> {
    let mut ids = vec![root];
    let mut i = 0;
    while i < ids.len() && ids.len() <= links.len() {
        let parent = ids[i];
        ids.extend(
            links
                .iter()
                .filter(|(_, p)| *p == Some(parent))
                .map(|(id, _)| *id),
        );
        i += 1;
    }
    ids
}

/// The (id, parent) pairs of `rows`, for [`subtree_ids`].
pub fn links<'a>(rows: impl IntoIterator<Item = &'a SectionRow>) -> Vec<(i32, Option<i32>)> {
    rows.into_iter().map(|r| (r.id, r.parent_id)).collect()
}
