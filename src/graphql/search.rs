use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::articles::Article;
use super::context::RequestContext;
use super::limits::{page_complexity, page_size};
use super::listing::ArticleFilter;
use super::script::Script;
use crate::db::articles::{self, ArticleRow};
use crate::db::AnyConnection;
use crate::domain::CacheKey;
use crate::error::{AppError, GqlResultExt};
use crate::search;

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Full-text search over published articles in either script (扶贫 finds
    /// 扶貧). Words are ANDed, `"quoted phrases"` match in order, `-word`
    /// excludes. Best matches first (title matches weigh most), ties newest
    /// first. Any text is accepted; only an empty query is `BAD_USER_INPUT`.
    #[graphql(complexity = "page_complexity(first, None, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to look for.")] query: String,
        #[graphql(desc = "Narrow by section (with subsections).")] filter: Option<ArticleFilter>,
        #[graphql(desc = "Page size, 1-100.", default = 20)] first: Option<i32>,
        #[graphql(desc = "Cursor of the hit after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<SearchConnection> {
        let rc = RequestContext::of(ctx);
        let script = rc.choose_script(script).await.gql()?;
        let size = first.unwrap_or(20);
        page_size(size, "first").gql()?;
        let offset = hit_offset(after.as_deref()).gql()?;
        let parsed = search::parse(&query).gql()?;
        let sections = section_scope(rc, filter.as_ref()).await.gql()?;
        let now = rc.now;
        let (total, page) = rc
            .db
            .run(move |conn| {
                let hits = search::public_hits(conn, &parsed, sections.as_deref(), now)?;
                hits_page(conn, hits, offset, size as usize)
            })
            .await
            .gql()?;
        for hit in &page {
            rc.tag(CacheKey::Article(hit.row.id));
        }
        rc.tag(CacheKey::Articles);
        let words = highlighted_words(&query);
        Ok(SearchConnection::new(
            rc, page, total, offset, &words, script,
        ))
    }
}

/// Where the page starts: just after the hit an `after` cursor names.
fn hit_offset(after: Option<&str>) -> Result<usize, AppError> {
    let Some(cursor) = after else {
        return Ok(0);
    };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("hit:").and_then(|n| n.parse::<usize>().ok()))
        .map(|n| n + 1)
        .ok_or_else(|| AppError::BadInput("after: not a cursor from this API".into()))
}

/// The sections the filter's section and its subsections cover; `None`
/// for the whole site.
async fn section_scope(
    rc: &RequestContext,
    filter: Option<&ArticleFilter>,
) -> Result<Option<Vec<i32>>, AppError> {
    let Some(slug) = filter.and_then(|f| f.section.as_deref()) else {
        return Ok(None);
    };
    let tree = rc.sections().await?;
    match tree.by_slug(slug) {
        Some(s) => Ok(Some(tree.subtree_ids(s.id))),
        // An unknown section is an error, as in REST (404).
        None => Err(AppError::NotFound),
    }
}

/// A hit of a page: its rank in the whole list, its article, its score.
struct RankedHit {
    rank: usize,
    row: ArticleRow,
    score: f64,
}

/// The page of `hits` from `offset`, and how many hits there are in all.
fn hits_page(
    conn: &mut AnyConnection,
    hits: Vec<(i32, f64)>,
    offset: usize,
    size: usize,
) -> Result<(usize, Vec<RankedHit>), AppError> {
    let total = hits.len();
    let wanted: Vec<(usize, i32, f64)> = hits
        .into_iter()
        .enumerate()
        .skip(offset)
        .take(size)
        .map(|(i, (id, s))| (i, id, s))
        .collect();
    let ids: Vec<i32> = wanted.iter().map(|(_, id, _)| *id).collect();
    let mut rows: HashMap<i32, ArticleRow> = articles::by_ids(conn, &ids)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let page = wanted
        .into_iter()
        .filter_map(|(rank, id, score)| {
            let row = rows.remove(&id)?;
            Some(RankedHit { rank, row, score })
        })
        .collect();
    Ok((total, page))
}

/// The words of a query to mark in snippets: quoted phrases split into
/// their words, excluded (`-word`) words left out.
fn highlighted_words(query: &str) -> Vec<String> {
    query
        .split(|c: char| c.is_whitespace() || c == '"')
        .filter(|w| !w.is_empty() && !w.starts_with('-'))
        .map(String::from)
        .collect()
}

/// The summary in the requested script, HTML-escaped, with the query's words in `<em>`.
fn snippet(rc: &RequestContext, row: &ArticleRow, script: Script, words: &[String]) -> String {
    let stored = super::context::stored_script(&row.script);
    let text = rc.convert(&row.summary, stored, script);
    let mut html = crate::syndication::escape(&text);
    for w in words {
        for form in [
            w.clone(),
            rc.convert(w, crate::text::script::Script::Hans, script),
            rc.convert(w, crate::text::script::Script::Hant, script),
        ] {
            let escaped = crate::syndication::escape(&form);
            if !escaped.is_empty()
                && html.contains(&escaped)
                && !html.contains(&format!("<em>{escaped}</em>"))
            {
                html = html.replace(&escaped, &format!("<em>{escaped}</em>"));
            }
        }
    }
    html
}

/// Search results.
pub struct SearchConnection {
    edges: Vec<SearchEdge>,
    total_count: i64,
    page_info: SearchPageInfo,
}

impl SearchConnection {
    /// The hits of `page`, which starts at `offset` of `total` hits.
    fn new(
        rc: &RequestContext,
        page: Vec<RankedHit>,
        total: usize,
        offset: usize,
        words: &[String],
        script: Script,
    ) -> Self {
        let page_info = SearchPageInfo {
            has_next_page: offset + page.len() < total,
            has_previous_page: offset > 0,
        };
        let edges = page
            .into_iter()
            .map(|hit| SearchEdge::new(rc, hit, script, words))
            .collect();
        SearchConnection {
            edges,
            total_count: total as i64,
            page_info,
        }
    }
}

/// A page of search hits, best first (Relay connection).
#[Object]
impl SearchConnection {
    /// The hits with their cursors.
    async fn edges(&self) -> &Vec<SearchEdge> {
        &self.edges
    }
    /// The hits alone.
    async fn nodes(&self) -> Vec<&SearchHit> {
        self.edges.iter().map(|e| &e.node).collect()
    }
    /// How many public articles match.
    async fn total_count(&self) -> i64 {
        self.total_count
    }
    /// Whether more hits follow or come before.
    async fn page_info(&self) -> &SearchPageInfo {
        &self.page_info
    }
}

/// A hit and its cursor.
pub struct SearchEdge {
    cursor: String,
    node: SearchHit,
}

impl SearchEdge {
    fn new(rc: &RequestContext, hit: RankedHit, script: Script, words: &[String]) -> Self {
        let snippet = snippet(rc, &hit.row, script, words);
        SearchEdge {
            cursor: URL_SAFE_NO_PAD.encode(format!("hit:{}", hit.rank)),
            node: SearchHit {
                article: Article::new(Arc::new(hit.row), script),
                snippet,
                score: hit.score,
            },
        }
    }
}

/// One hit of a page, with its cursor.
#[Object]
impl SearchEdge {
    /// Opaque position of this hit; pass it as `after`.
    async fn cursor(&self) -> &str {
        &self.cursor
    }
    /// The hit.
    async fn node(&self) -> &SearchHit {
        &self.node
    }
}

/// One search result.
pub struct SearchHit {
    article: Article,
    snippet: String,
    score: f64,
}

/// An article that matches the query, with a highlighted snippet.
#[Object]
impl SearchHit {
    /// The article.
    async fn article(&self) -> &Article {
        &self.article
    }
    /// The summary, HTML-escaped, with matched words in `<em>`.
    async fn snippet(&self) -> &str {
        &self.snippet
    }
    /// Relevance; higher is better.
    async fn score(&self) -> f64 {
        self.score
    }
}

/// Where a page of hits stands.
#[derive(SimpleObject)]
pub struct SearchPageInfo {
    /// More hits follow.
    pub has_next_page: bool,
    /// Hits come before this page (an `after` cursor was given).
    pub has_previous_page: bool,
}
