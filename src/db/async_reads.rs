//! The reads every cold page makes, on a connection that the async thread
//! drives itself (see [`super::async_pool`]): the same statements as their
//! blocking twins in [`super::articles`] and [`super::sources`], built by
//! the same functions, so they share PostgreSQL's prepared plans.

use chrono::NaiveDateTime;
use diesel::{OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;
use tracing::Instrument;

use super::articles::{self, ArticleRow, Columns};
use super::async_pool::AsyncLease;
use super::sources::{self, SourceRow};
use crate::error::AppError;

/// Runs `$read` (a statement on `$lease.connection()`, awaited) in the
/// lease's span, and once more on a new connection when it found its
/// connection gone (see [`AsyncLease::settle`]).
macro_rules! read_once_more {
    ($lease:ident, $read:expr) => {{
        let span = $lease.span();
        async move {
            loop {
                let read = $read;
                if let Some(answer) = $lease.settle(read).await {
                    return answer;
                }
            }
        }
        .instrument(span)
        .await
    }};
}

/// [`articles::by_slug`]'s first look, on a connection the async thread drives:
/// `None` also when `slug` is a former slug of an article (ask
/// [`articles::by_slug`] then).
pub async fn by_current_slug(
    conn: &mut AsyncLease,
    slug: &str,
) -> Result<Option<ArticleRow>, AppError> {
    read_once_more!(conn, {
        articles::with_slug(slug)
            .select(ArticleRow::as_select())
            .first(conn.connection())
            .await
            .optional()
    })
}

/// [`articles::list_placed`]'s first page, on a connection the async thread drives.
pub async fn first_placed_page(
    conn: &mut AsyncLease,
    scope: i32,
    now: NaiveDateTime,
    limit: i64,
    columns: Columns,
) -> Result<Vec<ArticleRow>, AppError> {
    read_once_more!(conn, {
        let first_page = articles::first_placed(scope, now, limit);
        let c = conn.connection();
        match columns {
            Columns::Whole => first_page.select(ArticleRow::as_select()).load(c).await,
            Columns::BodyOptional => first_page.select(articles::without_body()).load(c).await,
        }
    })
}

/// [`sources::by_ids`] on a connection the async thread drives.
pub async fn sources_by_ids(
    conn: &mut AsyncLease,
    ids: &[i32],
) -> Result<Vec<SourceRow>, AppError> {
    read_once_more!(conn, {
        sources::with_ids(ids)
            .select(SourceRow::as_select())
            .load(conn.connection())
            .await
    })
}
