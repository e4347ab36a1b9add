use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::copyright_notices;
use super::AnyConnection;
use crate::domain::NoticeKind;
use crate::error::AppError;

/// One version of a copyright notice template.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeRow {
    pub id: i32,
    pub kind: NoticeKind,
    pub text: String,
    pub window_days: Option<i32>,
    pub effective_from: NaiveDateTime,
}

type RawNotice = (i32, String, String, Option<i32>, NaiveDateTime);

fn from_raw(
    (id, kind, text, window_days, effective_from): RawNotice,
) -> Result<NoticeRow, AppError> {
    Ok(NoticeRow {
        id,
        kind: kind.parse().map_err(AppError::Internal)?,
        text,
        window_days,
        effective_from,
    })
}

/// Every version of every template, oldest first.
pub fn all(conn: &mut AnyConnection) -> Result<Vec<NoticeRow>, AppError> {
    copyright_notices::table
        .order((copyright_notices::effective_from, copyright_notices::id))
        .select((
            copyright_notices::id,
            copyright_notices::kind,
            copyright_notices::text,
            copyright_notices::window_days,
            copyright_notices::effective_from,
        ))
        .load::<RawNotice>(conn)?
        .into_iter()
        .map(from_raw)
        .collect()
}

/// Stores a template version unless the same text is already the one in force
/// for its kind; returns whether anything was written.
pub fn add_version(
    conn: &mut AnyConnection,
    kind: NoticeKind,
    text: &str,
    window_days: Option<i32>,
    effective_from: NaiveDateTime,
) -> Result<bool, AppError> {
    let same_text_exists = copyright_notices::table
        .filter(copyright_notices::kind.eq(kind.as_str()))
        .filter(copyright_notices::text.eq(text))
        .select(copyright_notices::id)
        .first::<i32>(conn)
        .optional()?
        .is_some();
    if same_text_exists {
        return Ok(false);
    }
    diesel::insert_into(copyright_notices::table)
        .values((
            copyright_notices::kind.eq(kind.as_str()),
            copyright_notices::text.eq(text),
            copyright_notices::window_days.eq(window_days),
            copyright_notices::effective_from.eq(effective_from),
            copyright_notices::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(true)
}

/// The version of `kind` in force at `at`: the newest that applies from `at` or
/// earlier, or the oldest one when `at` predates them all.
pub fn in_force(notices: &[NoticeRow], kind: NoticeKind, at: NaiveDateTime) -> Option<&NoticeRow> {
    let of_kind = notices.iter().filter(|n| n.kind == kind);
    let oldest = of_kind.clone().min_by_key(|n| (n.effective_from, n.id));
    of_kind
        .filter(|n| n.effective_from <= at)
        .max_by_key(|n| (n.effective_from, n.id))
        .or(oldest)
}
