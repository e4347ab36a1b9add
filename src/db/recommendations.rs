use diesel::prelude::*;

use super::schema::{recommendation_items, recommendation_lists};
use super::AnyConnection;
use crate::error::AppError;

/// One entry of a curated list.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    pub position: i32,
    pub headline: String,
    pub url: Option<String>,
    pub article_id: Option<i32>,
}

/// Who last wrote a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListWriter {
    /// The legacy-page importer.
    Import,
    /// A person, through `setRecommendationList`.
    Editor,
}

impl ListWriter {
    pub fn as_str(self) -> &'static str {
        match self {
            ListWriter::Import => "import",
            ListWriter::Editor => "editor",
        }
    }
}

/// What [`fill_imported_list`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// The list was created or replaced.
    Written,
    /// An editor wrote the list last; it was left alone.
    KeptEditorList,
}

/// Replaces the list's items as an editor, creating the list when missing.
pub fn set_list(conn: &mut AnyConnection, name: &str, items: &[ItemRow]) -> Result<(), AppError> {
    let now = super::now();
    let list_id = match diesel::update(
        recommendation_lists::table.filter(recommendation_lists::name.eq(name)),
    )
    .set((
        recommendation_lists::updated_at.eq(now),
        recommendation_lists::written_by.eq(ListWriter::Editor.as_str()),
    ))
    .returning(recommendation_lists::id)
    .get_result::<i32>(conn)
    .optional()?
    {
        Some(id) => id,
        None => create(conn, name, ListWriter::Editor)?,
    };
    replace_items(conn, list_id, items)
}

/// Fills a list for the importer: only when it is new or an import wrote it
/// last, never over an editor's list. Call it inside the import's
/// transaction; the update locks the row, so an editor's concurrent write
/// either waits for this one or wins outright.
pub fn fill_imported_list(
    conn: &mut AnyConnection,
    name: &str,
    items: &[ItemRow],
) -> Result<Fill, AppError> {
    let now = super::now();
    let claimed = diesel::update(
        recommendation_lists::table
            .filter(recommendation_lists::name.eq(name))
            .filter(recommendation_lists::written_by.eq(ListWriter::Import.as_str())),
    )
    .set(recommendation_lists::updated_at.eq(now))
    .returning(recommendation_lists::id)
    .get_result::<i32>(conn)
    .optional()?;
    let list_id = match claimed {
        Some(id) => id,
        None => {
            let exists = recommendation_lists::table
                .filter(recommendation_lists::name.eq(name))
                .select(recommendation_lists::id)
                .first::<i32>(conn)
                .optional()?
                .is_some();
            if exists {
                return Ok(Fill::KeptEditorList);
            }
            create(conn, name, ListWriter::Import)?
        }
    };
    replace_items(conn, list_id, items)?;
    Ok(Fill::Written)
}

fn create(conn: &mut AnyConnection, name: &str, writer: ListWriter) -> Result<i32, AppError> {
    Ok(diesel::insert_into(recommendation_lists::table)
        .values((
            recommendation_lists::name.eq(name),
            recommendation_lists::updated_at.eq(super::now()),
            recommendation_lists::written_by.eq(writer.as_str()),
        ))
        .returning(recommendation_lists::id)
        .get_result(conn)?)
}

fn replace_items(
    conn: &mut AnyConnection,
    list_id: i32,
    items: &[ItemRow],
) -> Result<(), AppError> {
    diesel::delete(recommendation_items::table.filter(recommendation_items::list_id.eq(list_id)))
        .execute(conn)?;
    for (position, item) in items.iter().enumerate() {
        diesel::insert_into(recommendation_items::table)
            .values((
                recommendation_items::list_id.eq(list_id),
                recommendation_items::position.eq(position as i32),
                recommendation_items::headline.eq(&item.headline),
                recommendation_items::url.eq(&item.url),
                recommendation_items::article_id.eq(item.article_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The items of a list in order (empty when the list does not exist).
pub fn items(conn: &mut AnyConnection, name: &str) -> Result<Vec<ItemRow>, AppError> {
    let rows: Vec<(i32, String, Option<String>, Option<i32>)> = recommendation_items::table
        .inner_join(recommendation_lists::table)
        .filter(recommendation_lists::name.eq(name))
        .order(recommendation_items::position)
        .select((
            recommendation_items::position,
            recommendation_items::headline,
            recommendation_items::url,
            recommendation_items::article_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(position, headline, url, article_id)| ItemRow {
            position,
            headline,
            url,
            article_id,
        })
        .collect())
}
