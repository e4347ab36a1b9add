//! What sitemaps list: public articles (the one visibility rule of
//! [`super::articles::is_public`], as SQL), read in id order by ranges so
//! that a page of 50,000 URLs is a walk along the primary key in chunks.

use chrono::NaiveDateTime;
use diesel::dsl::max;
use diesel::prelude::*;

use super::schema::articles;
use super::AnyConnection;
use crate::error::AppError;

/// One article as a sitemap lists it.
#[derive(Debug, Clone, Queryable)]
pub struct SitemapRow {
    pub id: i32,
    pub slug: String,
    pub requested_slug: Option<String>,
    pub updated_at: NaiveDateTime,
}

impl SitemapRow {
    /// The slug its canonical URL shows.
    pub fn shown_slug(&self) -> &str {
        self.requested_slug.as_deref().unwrap_or(&self.slug)
    }
}

/// One article as the news sitemap lists it.
#[derive(Debug, Clone, Queryable)]
pub struct NewsRow {
    pub id: i32,
    pub slug: String,
    pub requested_slug: Option<String>,
    pub title: String,
    pub script: String,
    pub published_at: Option<NaiveDateTime>,
}

impl NewsRow {
    pub fn shown_slug(&self) -> &str {
        self.requested_slug.as_deref().unwrap_or(&self.slug)
    }
}

const LIVE: [&str; 2] = ["published", "scheduled"];

/// Public at `now`: live, its time come, no legal hold.
macro_rules! public_at {
    ($now:expr) => {
        articles::status
            .eq_any(LIVE)
            .and(articles::held_since.is_null())
            .and(articles::published_at.le($now))
    };
}

/// Public articles with ids in `after+1 ..= through`, in id order, at most
/// `limit`.
pub fn in_range(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    after: i32,
    through: i32,
    limit: i64,
) -> Result<Vec<SitemapRow>, AppError> {
    Ok(articles::table
        .filter(articles::id.gt(after))
        .filter(articles::id.le(through))
        .filter(public_at!(now))
        .order(articles::id)
        .limit(limit)
        .select((
            articles::id,
            articles::slug,
            articles::requested_slug,
            articles::updated_at,
        ))
        .load(conn)?)
}

/// The newest change among the public articles with ids in
/// `after+1 ..= through`; `None` when none is public.
pub fn range_changed(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    after: i32,
    through: i32,
) -> Result<Option<NaiveDateTime>, AppError> {
    Ok(articles::table
        .filter(articles::id.gt(after))
        .filter(articles::id.le(through))
        .filter(public_at!(now))
        .select(max(articles::updated_at))
        .first(conn)?)
}

/// The highest id of a public article.
pub fn last_public_id(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
) -> Result<Option<i32>, AppError> {
    Ok(articles::table
        .filter(public_at!(now))
        .select(max(articles::id))
        .first(conn)?)
}

/// Public articles published after `since`, newest first, at most `limit`.
pub fn published_since(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    since: NaiveDateTime,
    limit: i64,
) -> Result<Vec<NewsRow>, AppError> {
    Ok(articles::table
        .filter(public_at!(now))
        .filter(articles::published_at.gt(since))
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(limit)
        .select((
            articles::id,
            articles::slug,
            articles::requested_slug,
            articles::title,
            articles::script,
            articles::published_at,
        ))
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ArticleStatus;

    #[test]
    fn the_live_statuses_are_the_domain_s() {
        for status in LIVE {
            let parsed: ArticleStatus = status.parse().expect("a status");
            assert!(parsed.is_live());
        }
    }
}
