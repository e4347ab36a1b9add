//! The ordered log of what happened to public view, for live updates (see
//! the migration `change_log`): written by the transaction that makes the
//! change, read by each node's hub after the last entry it sent.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::change_log;
use super::AnyConnection;
use crate::error::AppError;

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// An article became public (published, its scheduled time came, its
    /// last hold was released).
    Published,
    /// A public article changed and stays public.
    Updated,
    /// An article left public view (unpublished, deleted, withdrawn).
    Removed,
    /// An article changed out of public view (a draft): staff only.
    Changed,
    /// A recommendation list changed.
    List,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Published => "published",
            ChangeKind::Updated => "updated",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
            ChangeKind::List => "list",
        }
    }

    fn parse(text: &str) -> Option<ChangeKind> {
        [
            ChangeKind::Published,
            ChangeKind::Updated,
            ChangeKind::Removed,
            ChangeKind::Changed,
            ChangeKind::List,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub kind: ChangeKind,
    pub article_id: Option<i32>,
    pub list_slug: Option<String>,
}

type Row = (i64, String, Option<i32>, Option<String>);

const COLUMNS: (
    change_log::seq,
    change_log::kind,
    change_log::article_id,
    change_log::list_slug,
) = (
    change_log::seq,
    change_log::kind,
    change_log::article_id,
    change_log::list_slug,
);

fn change((seq, kind, article_id, list_slug): Row) -> Option<Change> {
    Some(Change {
        seq,
        kind: ChangeKind::parse(&kind)?,
        article_id,
        list_slug,
    })
}

/// Logs a change to an article; call inside its transaction.
pub fn article(
    conn: &mut AnyConnection,
    kind: ChangeKind,
    id: i32,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::insert_into(change_log::table)
        .values((
            change_log::logged_at.eq(at),
            change_log::kind.eq(kind.as_str()),
            change_log::article_id.eq(id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Logs a change to a recommendation list; call inside its transaction.
pub fn list(conn: &mut AnyConnection, slug: &str, at: NaiveDateTime) -> Result<(), AppError> {
    diesel::insert_into(change_log::table)
        .values((
            change_log::logged_at.eq(at),
            change_log::kind.eq(ChangeKind::List.as_str()),
            change_log::list_slug.eq(slug),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest entry's number; 0 for an empty log.
pub fn latest(conn: &mut AnyConnection) -> Result<i64, AppError> {
    Ok(change_log::table
        .select(diesel::dsl::max(change_log::seq))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Up to `limit` entries after `seq`, oldest first.
pub fn after(conn: &mut AnyConnection, seq: i64, limit: i64) -> Result<Vec<Change>, AppError> {
    let rows: Vec<Row> = change_log::table
        .filter(change_log::seq.gt(seq))
        .order(change_log::seq)
        .limit(limit)
        .select(COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().filter_map(change).collect())
}

/// The entries up to `seq` logged since `since`: on PostgreSQL a
/// transaction may commit after one that took a later number, so a reader
/// that has read up to `seq` reads the recent ones again.
pub fn recent_up_to(
    conn: &mut AnyConnection,
    seq: i64,
    since: NaiveDateTime,
) -> Result<Vec<Change>, AppError> {
    // Only the time is filtered in SQL: with `seq` there too, SQLite walks
    // the primary key through the whole log instead of the time's index.
    let mut rows: Vec<Row> = change_log::table
        .filter(change_log::logged_at.ge(since))
        .select(COLUMNS)
        .load(conn)?;
    rows.retain(|row| row.0 <= seq);
    rows.sort_unstable_by_key(|row| row.0);
    Ok(rows.into_iter().filter_map(change).collect())
}

/// The oldest entry kept, if any: a client resuming from before it has
/// missed events.
pub fn oldest(conn: &mut AnyConnection) -> Result<Option<i64>, AppError> {
    Ok(change_log::table
        .select(diesel::dsl::min(change_log::seq))
        .first::<Option<i64>>(conn)?)
}

/// Forgets the entries logged before `before`, except the newest: a client
/// resuming from before what is kept is told to reload ([`oldest`]), and
/// the log's numbers go on from the newest.
pub fn forget_before(conn: &mut AnyConnection, before: NaiveDateTime) -> Result<usize, AppError> {
    let newest = latest(conn)?;
    Ok(diesel::delete(
        change_log::table
            .filter(change_log::logged_at.lt(before))
            .filter(change_log::seq.lt(newest)),
    )
    .execute(conn)?)
}
