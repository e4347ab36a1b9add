//! What sitemaps list: public articles, read in id order by ranges so that
//! a page of 50,000 URLs is a walk along the `articles_sitemap` index in
//! chunks. The walk reads only that index (never the rows with their
//! bodies) and applies the one visibility rule,
//! [`super::articles::is_public`], to what it reads: a condition on the
//! status in SQL would lead SQLite's planner to the index of public
//! articles by date, which reads every public row for each chunk.

use chrono::NaiveDateTime;
use diesel::dsl::max;
use diesel::prelude::*;

use super::schema::articles;
use super::AnyConnection;
use crate::error::AppError;

/// One article as a sitemap walk reads it.
#[derive(Debug, Clone, Queryable)]
pub struct SitemapRow {
    pub id: i32,
    pub slug: String,
    pub requested_slug: Option<String>,
    pub updated_at: NaiveDateTime,
    status: String,
    published_at: Option<NaiveDateTime>,
    held_since: Option<NaiveDateTime>,
}

impl SitemapRow {
    /// The slug its canonical URL shows.
    pub fn shown_slug(&self) -> &str {
        self.requested_slug.as_deref().unwrap_or(&self.slug)
    }

    /// Whether readers may see it at `now`.
    pub fn is_public_at(&self, now: NaiveDateTime) -> bool {
        super::articles::is_public(&self.status, self.published_at, self.held_since, now)
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

/// Articles with ids in `after+1 ..= through`, public or not, in id order,
/// at most `limit`.
fn in_range(
    conn: &mut AnyConnection,
    after: i32,
    through: i32,
    limit: i64,
) -> Result<Vec<SitemapRow>, AppError> {
    Ok(articles::table
        .filter(articles::id.gt(after))
        .filter(articles::id.le(through))
        .order(articles::id)
        .limit(limit)
        .select((
            articles::id,
            articles::slug,
            articles::requested_slug,
            articles::updated_at,
            articles::status,
            articles::published_at,
            articles::held_since,
        ))
        .load(conn)?)
}

/// Calls `each` with every article public at `now` whose id is in
/// `after+1 ..= through`, in id order, reading `chunk` rows per statement.
pub fn each_public(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    (after, through): (i32, i32),
    chunk: i64,
    mut each: impl FnMut(&SitemapRow),
) -> Result<(), AppError> {
    let mut from = after;
    loop {
        let rows = in_range(conn, from, through, chunk)?;
        rows.iter()
            .filter(|r| r.is_public_at(now))
            .for_each(&mut each);
        match rows.last() {
            Some(last) if rows.len() as i64 == chunk => from = last.id,
            _ => return Ok(()),
        }
    }
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
