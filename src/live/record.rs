//! Writing what a transaction did to public view into the change log.

use crate::db::change_log::{self, ChangeKind};
use crate::db::changes::Changes;
use crate::db::schema::article_search;
use crate::db::{articles, AnyConnection};
use crate::domain::CacheKey;
use crate::error::AppError;
use diesel::prelude::*;

/// Logs each article and recommendation list `changes` names with what
/// happened to it; runs inside the transaction, before it commits, and
/// before the search terms are rewritten: an article had terms before this
/// transaction exactly when it was public (only public articles have
/// them), which tells a publication from an edit and a withdrawal from a
/// draft's change.
pub fn log_changes(conn: &mut AnyConnection, changes: &Changes) -> Result<(), AppError> {
    let now = crate::db::now();
    let ids = changes.articles();
    if !ids.is_empty() {
        let was_public: Vec<i32> = article_search::table
            .filter(article_search::article_id.eq_any(ids))
            .select(article_search::article_id)
            .load(conn)?;
        let rows = articles::by_ids(conn, ids)?;
        for &id in ids {
            let public = rows
                .iter()
                .find(|r| r.id == id)
                .is_some_and(|r| r.is_public_at(now));
            let kind = match (was_public.contains(&id), public) {
                (false, true) => ChangeKind::Published,
                (true, true) => ChangeKind::Updated,
                (true, false) => ChangeKind::Removed,
                (false, false) => ChangeKind::Changed,
            };
            change_log::article(conn, kind, id, now)?;
        }
    }
    for key in changes.keys() {
        if let CacheKey::List(slug) = key {
            change_log::list(conn, slug, now)?;
        }
    }
    Ok(())
}
