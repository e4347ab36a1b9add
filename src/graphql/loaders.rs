//! DataLoaders: every lookup by key made while resolving one request is
//! batched into one query per key type.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::db::articles::{self, ArticleRow};
use crate::db::contributors::{self, CreditRow};
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

/// Bylines (with the editor) by article id, in order.
pub struct CreditLoader(pub Database);

impl Loader<i32> for CreditLoader {
    type Value = Vec<CreditRow>;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Vec<CreditRow>>, Self::Error> {
        let keys = keys.to_vec();
        let rows = self
            .0
            .run(move |conn| contributors::credits_of(conn, &keys))
            .await?;
        let mut map: HashMap<i32, Vec<CreditRow>> = HashMap::new();
        for row in rows {
            map.entry(row.article_id).or_default().push(row);
        }
        Ok(map)
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
