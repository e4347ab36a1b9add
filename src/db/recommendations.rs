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

/// Replaces the list's items, creating the list when missing.
pub fn set_list(conn: &mut AnyConnection, name: &str, items: &[ItemRow]) -> Result<(), AppError> {
    let now = super::now();
    let list_id = match recommendation_lists::table
        .filter(recommendation_lists::name.eq(name))
        .select(recommendation_lists::id)
        .first::<i32>(conn)
        .optional()?
    {
        Some(id) => {
            diesel::update(recommendation_lists::table.find(id))
                .set(recommendation_lists::updated_at.eq(now))
                .execute(conn)?;
            id
        }
        None => diesel::insert_into(recommendation_lists::table)
            .values((
                recommendation_lists::name.eq(name),
                recommendation_lists::updated_at.eq(now),
            ))
            .returning(recommendation_lists::id)
            .get_result(conn)?,
    };
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
