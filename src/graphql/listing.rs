//! Lists of public articles, newest first, as Relay connections: the root
//! field `articles` and `Section.articles` share the filter, the page
//! arguments and the connection here.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result};
use chrono::{DateTime, FixedOffset};

use super::articles::Article;
use super::connection::PageInfo;
use super::context::RequestContext;
use super::ids::{decode_cursor, encode_cursor};
use super::limits::{optional_page_size, page_complexity, DEFAULT_PAGE};
use super::loaders::Prefetch;
use super::script::Script;
use crate::db::articles::{self, ArticleRow, Columns, Direction, Position, PublicQuery};
use crate::db::to_db_time;
use crate::db::{async_reads, AnyConnection};
use crate::domain::CacheKey;
use crate::error::{AppError, GqlResultExt};

#[derive(Default)]
pub struct ArticleListQuery;

#[Object]
impl ArticleListQuery {
    /// Published articles, newest first, as a Relay connection.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Narrow the list.")] filter: Option<ArticleFilter>,
        #[graphql(desc = "Page size, 1-100, going to older articles.", default = 20)] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
        #[graphql(
            desc = "Page size, 1-100, going to newer articles (with `before`); when given, `first` is ignored."
        )]
        last: Option<i32>,
        #[graphql(desc = "Cursor of the item before which the page ends.")] before: Option<String>,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<ArticleConnection> {
        let script = RequestContext::of(ctx).choose_script(script).await.gql()?;
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        article_connection(ctx, filter.unwrap_or_default(), page, script).await
    }
}

/// Narrows an article list. Only public fields can be filtered on.
#[derive(Debug, Clone, InputObject)]
pub struct ArticleFilter {
    /// Section slug; its subsections are included unless `includeSubsections` is false.
    pub section: Option<String>,
    /// Whether `section` includes the sections below it.
    #[graphql(default = true)]
    pub include_subsections: bool,
    /// Source name, exactly as stored (大眾報業·經濟導報).
    pub source: Option<String>,
    /// Name of a person in the byline.
    pub contributor: Option<String>,
    /// Tag slug.
    pub tag: Option<String>,
    /// Only articles published at or after this time.
    pub published_after: Option<DateTime<FixedOffset>>,
    /// Only articles published before this time.
    pub published_before: Option<DateTime<FixedOffset>>,
    #[graphql(skip)]
    pub section_scope: Option<i32>,
}

impl Default for ArticleFilter {
    fn default() -> Self {
        ArticleFilter {
            section: None,
            include_subsections: true,
            source: None,
            contributor: None,
            tag: None,
            published_after: None,
            published_before: None,
            section_scope: None,
        }
    }
}

/// The Relay page arguments of a list, as sent.
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// Which page to read: `size` rows going `direction` from the cursor `from`.
struct Page {
    direction: Direction,
    from: Option<Position>,
    size: i64,
}

impl PageArgs {
    /// Checks every argument, used or not, so that a garbled one is
    /// reported; `last` wins over `first`.
    fn parse(self) -> Result<Page, AppError> {
        let first = optional_page_size(self.first, "first")?;
        let last = optional_page_size(self.last, "last")?;
        let after = self.after.map(|c| decode_cursor(&c, "after")).transpose()?;
        let before = self
            .before
            .map(|c| decode_cursor(&c, "before"))
            .transpose()?;
        Ok(match last {
            Some(size) => Page {
                direction: Direction::Newer,
                from: before,
                size,
            },
            None => Page {
                direction: Direction::Older,
                from: after,
                size: first.unwrap_or(DEFAULT_PAGE as i64),
            },
        })
    }
}

/// Resolves a page of a public listing, shared by `articles` and `Section.articles`.
pub async fn article_connection(
    ctx: &Context<'_>,
    filter: ArticleFilter,
    page: PageArgs,
    script: Script,
) -> Result<ArticleConnection> {
    let rc = RequestContext::of(ctx);
    let page = page.parse().gql()?;
    let scope = filter.section_scope;
    let query = public_query(rc, filter).await.gql()?;
    let look = ctx.look_ahead();
    let prefetch = Prefetch::of(&[look.field("edges").field("node"), look.field("nodes")]);
    let (q, from, direction, size) = (query.clone(), page.from, page.direction, page.size);
    let columns = match prefetch.bodies {
        true => Columns::Whole,
        false => Columns::BodyOptional,
    };
    let first_of_scope = q
        .placement_scope()
        .filter(|_| from.is_none() && direction == Direction::Older);
    let first_page = match first_of_scope {
        Some(scope) => rc.db.lease_async().await.map(|lease| (scope, lease)),
        None => None,
    };
    let (rows, prefetched) = match first_page {
        // A section's first page, the commonest list: without a thread hop
        // on PostgreSQL.
        Some((scope, lease)) => {
            let mut conn = lease.gql()?;
            let rows = async_reads::first_placed_page(&mut conn, scope, q.now, size + 1, columns)
                .await
                .gql()?;
            let prefetched = prefetch.load_async(&mut conn, &rows).await.gql()?;
            (rows, prefetched)
        }
        None => {
            let read = move |conn: &mut AnyConnection| {
                let rows = articles::list_public(conn, &q, from, direction, size + 1, columns)?;
                let prefetched = prefetch.load(conn, &rows)?;
                Ok((rows, prefetched))
            };
            // A first page is one statement of fixed shape, any other page
            // several (see `articles::list_public`).
            match first_of_scope {
                Some(_) => rc.db.run_short(read).await.gql()?,
                None => rc.db.run(read).await.gql()?,
            }
        }
    };
    prefetched.feed(rc).await;
    for r in &rows {
        rc.tag(CacheKey::Article(r.id));
    }
    match scope {
        Some(id) => rc.tag(CacheKey::Section(id)),
        None => rc.tag(CacheKey::Articles),
    }
    Ok(ArticleConnection::new(rows, &page, query, script, columns))
}

/// The storage query for `filter`: its sections (with subsections unless
/// it says otherwise), source, contributor, tag and publication window.
async fn public_query(rc: &RequestContext, filter: ArticleFilter) -> Result<PublicQuery, AppError> {
    let mut query = PublicQuery::new(rc.now);
    query.section_ids = section_ids(rc, &filter).await?;
    if filter.include_subsections {
        // A section with all its subsections is one scope of placements.
        query.subtree_of = match (filter.section_scope, &filter.section) {
            (Some(id), None) => Some(id),
            (None, Some(slug)) => rc.sections().await?.by_slug(slug).map(|s| s.id),
            _ => None,
        };
    }
    query.source_name = filter.source;
    query.contributor_name = filter.contributor;
    query.tag_slug = filter.tag;
    query.published_after = filter.published_after.map(|t| to_db_time(t.to_utc()));
    query.published_before = filter.published_before.map(|t| to_db_time(t.to_utc()));
    Ok(query)
}

/// The sections a list may show: the section it is read from, narrowed by
/// the filter's section; `None` for the whole site.
async fn section_ids(
    rc: &RequestContext,
    filter: &ArticleFilter,
) -> Result<Option<Vec<i32>>, AppError> {
    let tree = rc.sections().await?;
    let below = |id: i32| {
        if filter.include_subsections {
            tree.subtree_ids(id)
        } else {
            vec![id]
        }
    };
    let scope = filter.section_scope.map(below);
    let Some(slug) = &filter.section else {
        return Ok(scope);
    };
    // An unknown section is an error, as in REST and the feeds (404), not
    // an empty list that looks like a quiet section.
    let wanted = below(tree.by_slug(slug).ok_or(AppError::NotFound)?.id);
    Ok(Some(match scope {
        Some(scope) => scope.into_iter().filter(|id| wanted.contains(id)).collect(),
        None => wanted,
    }))
}

/// A page of articles.
pub struct ArticleConnection {
    rows: Vec<Arc<ArticleRow>>,
    has_next: bool,
    has_previous: bool,
    query: PublicQuery,
    script: Script,
    columns: Columns,
}

impl ArticleConnection {
    /// `rows` may hold one row past the page: it only says more follow.
    fn new(
        mut rows: Vec<ArticleRow>,
        page: &Page,
        query: PublicQuery,
        script: Script,
        columns: Columns,
    ) -> Self {
        let more = rows.len() as i64 > page.size;
        if more {
            match page.direction {
                // Newest first either way: the extra row is the oldest going
                // forward and the newest going back.
                Direction::Older => {
                    rows.pop();
                }
                Direction::Newer => {
                    rows.remove(0);
                }
            }
        }
        let (has_next, has_previous) = match page.direction {
            Direction::Older => (more, page.from.is_some()),
            Direction::Newer => (page.from.is_some(), more),
        };
        ArticleConnection {
            rows: rows.into_iter().map(Arc::new).collect(),
            has_next,
            has_previous,
            query,
            script,
            columns,
        }
    }

    fn article(&self, row: &Arc<ArticleRow>) -> Article {
        Article::listed(row.clone(), self.script, self.columns)
    }
}

fn cursor_of(row: &ArticleRow) -> String {
    encode_cursor(Position {
        published_at: row.published_at.unwrap_or(row.created_at),
        id: row.id,
    })
}

/// A page of articles (Relay connection), newest first.
#[Object]
impl ArticleConnection {
    /// The articles with their cursors.
    async fn edges(&self) -> Vec<ArticleEdge> {
        self.rows
            .iter()
            .map(|row| ArticleEdge {
                cursor: cursor_of(row),
                node: self.article(row),
            })
            .collect()
    }
    /// The articles alone.
    async fn nodes(&self) -> Vec<Article> {
        self.rows.iter().map(|row| self.article(row)).collect()
    }
    /// Where this page stands in the whole list.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: self.has_previous,
            start_cursor: self.rows.first().map(|r| cursor_of(r)),
            end_cursor: self.rows.last().map(|r| cursor_of(r)),
        }
    }
    /// How many articles the whole list holds (one extra query, only when asked).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let q = self.query.clone();
        RequestContext::of(ctx)
            .db
            .run(move |conn| articles::count_public(conn, &q))
            .await
            .gql()
    }
}

/// An article and its cursor.
pub struct ArticleEdge {
    cursor: String,
    node: Article,
}

/// One article of a page, with its cursor.
#[Object]
impl ArticleEdge {
    /// Opaque position of this article in the list; pass it as `after` or `before`.
    async fn cursor(&self) -> &str {
        &self.cursor
    }
    /// The article.
    async fn node(&self) -> &Article {
        &self.node
    }
}
