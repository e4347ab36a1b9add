//! DataLoaders: every lookup by key made while resolving one request is
//! batched into one query per key type.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::db::articles::{self, ArticleRow};
use crate::db::sources::{self, SourceRow};
use crate::db::Database;
use crate::error::AppError;

/// Sources by id.
pub struct SourceLoader(pub Database);

impl Loader<i32> for SourceLoader {
    type Value = SourceRow;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, SourceRow>, Self::Error> {
        let keys = keys.to_vec();
        let rows = self.0.run(move |conn| sources::by_ids(conn, &keys)).await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// Articles by id, whatever their status: callers decide what may be shown.
pub struct ArticleLoader(pub Database);

impl Loader<i32> for ArticleLoader {
    type Value = Arc<ArticleRow>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Arc<ArticleRow>>, Self::Error> {
        let keys = keys.to_vec();
        let rows = self
            .0
            .run(move |conn| articles::by_ids(conn, &keys))
            .await?;
        Ok(rows.into_iter().map(|r| (r.id, Arc::new(r))).collect())
    }
}

/// Pictures by media id.
pub struct MediaLoader(pub Database);

impl Loader<String> for MediaLoader {
    type Value = crate::db::media::MediaRow;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[String],
    ) -> Result<HashMap<String, crate::db::media::MediaRow>, Self::Error> {
        let keys = keys.to_vec();
        let rows = self
            .0
            .run(move |conn| crate::db::media::by_ids(conn, &keys))
            .await?;
        Ok(rows.into_iter().map(|r| (r.id.clone(), r)).collect())
    }
}

/// What the fields below a set of articles will ask the loaders for, read
/// in the database call that loads the articles: an article page or a list
/// then costs one trip to the database pool instead of one per loader.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prefetch {
    sources: bool,
    /// Whether a field below needs the body (a list may leave it out).
    pub bodies: bool,
}

/// What [`Prefetch::load`] read, to hand to the loaders.
#[derive(Debug, Default)]
pub struct Prefetched {
    sources: HashMap<i32, SourceRow>,
}

/// Article fields answered from the sources loader.
const SOURCE_FIELDS: [&str; 3] = ["source", "copyrightNotice", "owned"];

/// Article fields that read the body.
const BODY_FIELDS: [&str; 5] = ["paragraphs", "bodyText", "body", "bodyHtml", "related"];

impl Prefetch {
    /// From the selection of an article (`field` is the article's field, e.g.
    /// `ctx.look_ahead()` for `article`, `…field("edges").field("node")` for lists).
    pub fn of(selections: &[async_graphql::Lookahead<'_>]) -> Self {
        let any = |names: &[&str]| {
            selections
                .iter()
                .any(|s| names.iter().any(|n| s.field(n).exists()))
        };
        Prefetch {
            sources: any(&SOURCE_FIELDS),
            bodies: any(&BODY_FIELDS),
        }
    }

    /// Reads what the selection needs for `rows`; call in the same database
    /// call that loaded them.
    pub fn load(
        self,
        conn: &mut crate::db::AnyConnection,
        rows: &[ArticleRow],
    ) -> Result<Prefetched, AppError> {
        let ids = self.source_ids(rows);
        if ids.is_empty() {
            return Ok(Prefetched::default());
        }
        Ok(Prefetched::of_sources(sources::by_ids(conn, &ids)?))
    }

    /// [`Prefetch::load`] on a connection the async thread drives.
    pub async fn load_async(
        self,
        conn: &mut crate::db::AsyncLease,
        rows: &[ArticleRow],
    ) -> Result<Prefetched, AppError> {
        let ids = self.source_ids(rows);
        if ids.is_empty() {
            return Ok(Prefetched::default());
        }
        let found = crate::db::async_reads::sources_by_ids(conn, &ids).await?;
        Ok(Prefetched::of_sources(found))
    }

    /// The sources of `rows`, when the selection asks for them.
    fn source_ids(&self, rows: &[ArticleRow]) -> Vec<i32> {
        if !self.sources {
            return Vec::new();
        }
        let mut ids: Vec<i32> = rows.iter().filter_map(|r| r.source_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

impl Prefetched {
    fn of_sources(found: Vec<SourceRow>) -> Self {
        Prefetched {
            sources: found.into_iter().map(|s| (s.id, s)).collect(),
        }
    }

    /// Primes the request's loaders.
    pub async fn feed(self, rc: &super::RequestContext) {
        if !self.sources.is_empty() {
            rc.sources().feed_many(self.sources).await;
        }
    }
}
