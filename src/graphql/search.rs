use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::articles::Article;
use super::context::RequestContext;
use super::limits::{page_complexity, page_size};
use super::listing::ArticleFilter;
use super::script::Script;
use crate::db::articles::ArticleRow;
use crate::domain::CacheKey;
use crate::error::{AppError, GqlResultExt};
use crate::search::{self, HitPage, PageHit};

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
        let index = rc.state.search.clone();
        let found = rc
            .db
            .run(move |conn| {
                search::hit_page(
                    conn,
                    &index,
                    &parsed,
                    sections.as_deref(),
                    now,
                    offset,
                    size as usize,
                )
            })
            .await
            .gql()?;
        let words = highlighted_words(&query);
        Ok(SearchConnection::new(rc, found, offset, &words, script))
    }
}

/// The most suggestions one request may ask for.
const MAX_SUGGESTIONS: i32 = 20;

#[derive(Default)]
pub struct SuggestQuery;

#[Object]
impl SuggestQuery {
    /// Titles that go on from what a reader has typed so far (search as
    /// you type: 港珠 suggests 港珠澳大橋…, `ip` suggests titles with IPO),
    /// in either script, best first with newer articles favoured; only
    /// public articles. More than 50 characters is `BAD_USER_INPUT`;
    /// nothing typed suggests nothing.
    async fn suggest(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What the reader has typed so far.")] prefix: String,
        #[graphql(desc = "How many, 1-20.", default = 5)] first: Option<i32>,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<Vec<Suggestion>> {
        let rc = RequestContext::of(ctx);
        let script = rc.choose_script(script).await.gql()?;
        let size = suggestion_count(first).gql()?;
        let (index, now) = (rc.state.search.clone(), rc.now);
        let rows = rc
            .db
            .run(move |conn| search::suggestions(conn, &index, &prefix, now, size))
            .await
            .gql()?;
        rc.tag(CacheKey::Articles);
        rc.tag(CacheKey::Search);
        Ok(rows
            .into_iter()
            .map(|row| {
                rc.tag(CacheKey::Article(row.id));
                let text = rc.line(&row.title, script);
                let article = Article::new(Arc::new(row), script);
                Suggestion { text, article }
            })
            .collect())
    }
}

fn suggestion_count(first: Option<i32>) -> Result<usize, AppError> {
    match first.unwrap_or(5) {
        n @ 1..=MAX_SUGGESTIONS => Ok(n as usize),
        n => Err(AppError::BadInput(format!(
            "first: must be between 1 and {MAX_SUGGESTIONS}, got {n}"
        ))),
    }
}

/// A title to offer while a reader types, with its article.
pub struct Suggestion {
    text: String,
    article: Article,
}

/// A title to offer while a reader types, with its article.
#[Object]
impl Suggestion {
    /// The title, in the script asked for.
    async fn text(&self) -> &str {
        &self.text
    }
    /// The article it names.
    async fn article(&self) -> &Article {
        &self.article
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
    /// The hits of `found`, a page that starts at `offset`; the response
    /// depends on each article shown and on the search index.
    fn new(
        rc: &RequestContext,
        found: HitPage,
        offset: usize,
        words: &[String],
        script: Script,
    ) -> Self {
        let (total, page) = (found.total, found.hits);
        for hit in &page {
            rc.tag(CacheKey::Article(hit.row.id));
        }
        rc.tag(CacheKey::Articles);
        rc.tag(CacheKey::Search);
        // Past the last hit shown (a hit the page left out, withdrawn a
        // moment ago, still counts as passed).
        let next = page.last().map_or(offset, |hit| hit.rank + 1);
        let edges: Vec<SearchEdge> = page
            .into_iter()
            .map(|hit| SearchEdge::new(rc, hit, script, words))
            .collect();
        let page_info = SearchPageInfo {
            has_next_page: next < total,
            has_previous_page: offset > 0,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
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
    fn new(rc: &RequestContext, hit: PageHit, script: Script, words: &[String]) -> Self {
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
    /// The cursor of the page's first hit.
    pub start_cursor: Option<String>,
    /// The cursor of the page's last hit: pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}
