use diesel::prelude::*;

use super::schema::{article_credits, articles, contributors};
use super::AnyConnection;
use crate::domain::CreditRole;
use crate::error::AppError;

/// The contributor of that name, created when missing.
pub fn find_or_create(conn: &mut AnyConnection, name: &str) -> Result<i32, AppError> {
    if let Some(id) = contributors::table
        .filter(contributors::name.eq(name))
        .select(contributors::id)
        .first::<i32>(conn)
        .optional()?
    {
        return Ok(id);
    }
    Ok(diesel::insert_into(contributors::table)
        .values((
            contributors::name.eq(name),
            contributors::created_at.eq(super::now()),
        ))
        .returning(contributors::id)
        .get_result(conn)?)
}

/// One line of an article's byline.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditRow {
    pub article_id: i32,
    pub position: i32,
    pub name: String,
    pub role: CreditRole,
}

/// Replaces an article's credits with `credits` (name, role), in order.
pub fn set_credits(
    conn: &mut AnyConnection,
    article_id: i32,
    credits: &[(String, CreditRole)],
) -> Result<(), AppError> {
    diesel::delete(article_credits::table.filter(article_credits::article_id.eq(article_id)))
        .execute(conn)?;
    for (position, (name, role)) in credits.iter().enumerate() {
        let contributor_id = find_or_create(conn, name)?;
        diesel::insert_into(article_credits::table)
            .values((
                article_credits::article_id.eq(article_id),
                article_credits::position.eq(position as i32),
                article_credits::contributor_id.eq(contributor_id),
                article_credits::role.eq(role.as_str()),
            ))
            .execute(conn)?;
    }
    keep_with_article(conn, article_id, credits)
}

/// A credit as the article row keeps it (`articles.credits`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeptCredit {
    pub name: String,
    pub role: CreditRole,
}

/// Writes the credits into the article's row, so that readers get the row
/// and its byline in one statement.
pub fn keep_with_article(
    conn: &mut AnyConnection,
    article_id: i32,
    credits: &[(String, CreditRole)],
) -> Result<(), AppError> {
    let kept: Vec<KeptCredit> = credits
        .iter()
        .map(|(name, role)| KeptCredit {
            name: name.clone(),
            role: *role,
        })
        .collect();
    let json = serde_json::to_string(&kept).map_err(|e| AppError::Internal(e.to_string()))?;
    diesel::update(articles::table.find(article_id))
        .set(articles::credits.eq(json))
        .execute(conn)?;
    Ok(())
}

/// The credits of many articles in one query, in byline order.
pub fn credits_of(
    conn: &mut AnyConnection,
    article_ids: &[i32],
) -> Result<Vec<CreditRow>, AppError> {
    let rows: Vec<(i32, i32, String, String)> = article_credits::table
        .inner_join(contributors::table)
        .filter(article_credits::article_id.eq_any(article_ids))
        .order((article_credits::article_id, article_credits::position))
        .select((
            article_credits::article_id,
            article_credits::position,
            contributors::name,
            article_credits::role,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(article_id, position, name, role)| {
            Ok(CreditRow {
                article_id,
                position,
                name,
                role: role.parse().map_err(AppError::Internal)?,
            })
        })
        .collect()
}
