//! Relay connections for the lists keyed by id, newest first (audit events,
//! takedown requests, webhook deliveries): `edges { cursor node }`, `nodes`,
//! `pageInfo` and `totalCount`, shaped like `ArticleConnection`; and the
//! `PageInfo` every connection answers with.

use std::sync::Arc;

use async_graphql::SimpleObject;

use crate::db::AnyConnection;
use crate::error::AppError;

/// Counts the whole list as the caller may see it, when `totalCount` is asked.
pub type Counter = Arc<dyn Fn(&mut AnyConnection) -> Result<i64, AppError> + Send + Sync>;

/// Makes `$connection` and `$edge` for nodes of type `$node` (which must be
/// `Clone`), built with `$connection::new(items, first, after_given, counter)`
/// from up to `first + 1` `(id, node)` pairs, newest first.
macro_rules! id_connection {
    ($(#[$doc:meta])* $connection:ident, $edge:ident, $node:ty, $list:literal) => {
        $(#[$doc])*
        pub struct $connection {
            items: Vec<(i32, $node)>,
            has_next: bool,
            has_previous: bool,
            counter: $crate::graphql::connection::Counter,
        }

        impl $connection {
            /// `items` may hold one row past the page: it only says more follow.
            pub fn new(
                mut items: Vec<(i32, $node)>,
                first: i64,
                after_given: bool,
                counter: $crate::graphql::connection::Counter,
            ) -> Self {
                let has_next = items.len() as i64 > first;
                items.truncate(first.max(0) as usize);
                $connection {
                    items,
                    has_next,
                    has_previous: after_given,
                    counter,
                }
            }

            /// The cursor of the row with this id.
            pub fn cursor(id: i32) -> String {
                $crate::graphql::ids::encode_id_cursor($list, id)
            }

            /// The id an `after` cursor of this list points at.
            pub fn after(cursor: Option<&str>) -> Result<Option<i32>, $crate::error::AppError> {
                cursor
                    .map(|c| $crate::graphql::ids::decode_id_cursor($list, c, "after"))
                    .transpose()
            }
        }

        $(#[$doc])*
        #[async_graphql::Object]
        impl $connection {
            /// The items of this page with their cursors.
            async fn edges(&self) -> Vec<$edge> {
                self.items
                    .iter()
                    .map(|(id, node)| $edge {
                        cursor: Self::cursor(*id),
                        node: node.clone(),
                    })
                    .collect()
            }
            /// The items of this page alone.
            async fn nodes(&self) -> Vec<$node> {
                self.items.iter().map(|(_, node)| node.clone()).collect()
            }
            /// Where this page stands in the whole list.
            async fn page_info(&self) -> $crate::graphql::connection::PageInfo {
                $crate::graphql::connection::PageInfo {
                    has_next_page: self.has_next,
                    has_previous_page: self.has_previous,
                    start_cursor: self.items.first().map(|(id, _)| Self::cursor(*id)),
                    end_cursor: self.items.last().map(|(id, _)| Self::cursor(*id)),
                }
            }
            /// How many items the whole list holds for this caller, with the
            /// same filter (one extra query, only when asked).
            async fn total_count(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> async_graphql::Result<i64> {
                use $crate::error::GqlResultExt;
                let counter = self.counter.clone();
                $crate::graphql::context::RequestContext::of(ctx)
                    .db
                    .run(move |conn| counter(conn))
                    .await
                    .gql()
            }
        }

        /// An item and its cursor.
        pub struct $edge {
            cursor: String,
            node: $node,
        }

        /// An item and its cursor.
        #[async_graphql::Object]
        impl $edge {
            /// Opaque position of this item in the list; pass it as `after`.
            async fn cursor(&self) -> &str {
                &self.cursor
            }
            /// The item.
            async fn node(&self) -> &$node {
                &self.node
            }
        }
    };
}

pub(crate) use id_connection;

/// Relay page information.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// More items follow (older, when paging with `first`).
    pub has_next_page: bool,
    /// Items come before this page (newer, when paging with `last`;
    /// when paging with `first`, true whenever `after` was given).
    pub has_previous_page: bool,
    /// Cursor of the first item.
    pub start_cursor: Option<String>,
    /// Cursor of the last item.
    pub end_cursor: Option<String>,
}
