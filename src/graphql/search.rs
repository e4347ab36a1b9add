use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use super::articles::Article;
use super::context::RequestContext;
use super::limits::{page_complexity, page_size};
use super::listing::ArticleFilter;
use super::script::Script;
use super::sections::Section;
use crate::db::articles::Columns;
use crate::domain::CacheKey;
use crate::error::{AppError, GqlResultExt};
use crate::read::{highlighted_words, Highlight, Voice};
use crate::search::{self, FacetCounts, HitPage, PageHit};

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Full-text search over every published article, in either script
    /// (扶贫 finds 扶貧). Words are ANDed, `"quoted phrases"` match in
    /// order, `-word` excludes. By relevance (BM25, title matches weigh
    /// three times, newer articles a little more; ties newest first) or by
    /// date; `totalCount` is exact and `facets` count every hit. The filter
    /// narrows by section (with subsections unless told otherwise), source,
    /// contributor, tag and publication window; a name no one has matches
    /// nothing. Queries past 200 characters or 32 words are
    /// `BAD_USER_INPUT`, as is an empty one.
    #[graphql(complexity = "page_complexity(first, None, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to look for.")] query: String,
        #[graphql(desc = "Narrow by section, source, contributor, tag or time.")] filter: Option<
            ArticleFilter,
        >,
        #[graphql(desc = "Best match first (default), or by date.", default)] order_by: SearchOrder,
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
        let offset = search::offset_after(after.as_deref(), "after").gql()?;
        let asked = Asked {
            query: search::parse(&query).gql()?,
            order: order_by.into(),
            offset,
            size: size as usize,
            facets: ctx.look_ahead().field("facets").exists(),
        };
        let site = rc.site().await.gql()?;
        let voice = Voice::new(&rc.state.converter, script, &site);
        let found = hits(rc, asked, filter.unwrap_or_default(), &voice)
            .await
            .gql()?;
        let highlight = voice.highlight(&highlighted_words(&query));
        Ok(SearchConnection::new(rc, found, offset, &highlight, &voice))
    }
}

/// What a search asks for besides its filter, checked.
struct Asked {
    query: search::Query,
    order: search::Order,
    offset: usize,
    size: usize,
    facets: bool,
}

/// The page of hits `asked` names within `filter`.
async fn hits(
    rc: &RequestContext,
    asked: Asked,
    filter: ArticleFilter,
    voice: &Voice<'_>,
) -> Result<HitPage, AppError> {
    let (scope, names) = search_scope(rc, filter).await?;
    let facets_offset = asked.facets.then(|| voice.utc_offset(rc.now));
    let (now, index) = (rc.now, rc.state.search.clone());
    rc.db
        .run(move |conn| {
            let scope = scope.with_names(conn, &names)?;
            let request = search::Request {
                query: &asked.query,
                scope: &scope,
                order: asked.order,
                now,
                offset: asked.offset,
                size: asked.size,
                facets_offset,
            };
            search::hit_page(conn, &index, &request)
        })
        .await
}

/// The order of search hits.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum SearchOrder {
    /// Best match first; ties newest first.
    #[default]
    Relevance,
    /// Newest first.
    Newest,
    /// Oldest first.
    Oldest,
}

impl From<SearchOrder> for search::Order {
    fn from(order: SearchOrder) -> Self {
        match order {
            SearchOrder::Relevance => search::Order::Relevance,
            SearchOrder::Newest => search::Order::Newest,
            SearchOrder::Oldest => search::Order::Oldest,
        }
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
                let article = Article::listed(Arc::new(row), script, Columns::BodyOptional);
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

/// What `filter` narrows a search to: sections (resolved from the
/// request's section tree; an unknown slug is `NOT_FOUND`, as in REST),
/// times, and the names still to resolve in the database.
async fn search_scope(
    rc: &RequestContext,
    filter: ArticleFilter,
) -> Result<(search::Scope, search::Names), AppError> {
    let sections = match filter.section.as_deref() {
        None => None,
        Some(slug) => {
            let tree = rc.sections().await?;
            let section = tree.by_slug(slug).ok_or(AppError::NotFound)?;
            Some(match filter.include_subsections {
                true => tree.subtree_ids(section.id),
                false => vec![section.id],
            })
        }
    };
    let utc = |t: chrono::DateTime<chrono::FixedOffset>| t.naive_utc();
    let scope = search::Scope {
        published_after: filter.published_after.map(utc),
        published_before: filter.published_before.map(utc),
        ..search::Scope::sections(sections)
    };
    let names = search::Names {
        source: filter.source,
        contributor: filter.contributor,
        tag: filter.tag,
    };
    Ok((scope, names))
}

/// Search results.
pub struct SearchConnection {
    edges: Vec<SearchEdge>,
    total_count: i64,
    page_info: SearchPageInfo,
    facets: FacetCounts,
    script: Script,
}

impl SearchConnection {
    /// The hits of `found`, a page that starts at `offset`; the response
    /// depends on each article shown and on the search index.
    fn new(
        rc: &RequestContext,
        found: HitPage,
        offset: usize,
        highlight: &Highlight,
        voice: &Voice<'_>,
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
            .map(|hit| SearchEdge::new(hit, voice, highlight))
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
            facets: found.facets.unwrap_or_default(),
            script: voice.script,
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
    /// How many of all the hits fall in each section and each month.
    async fn facets(&self, ctx: &Context<'_>) -> Result<SearchFacets> {
        let tree = RequestContext::of(ctx).sections().await.gql()?;
        let sections = search::rolled_up(&self.facets.sections, &tree.links())
            .into_iter()
            .filter_map(|(id, count)| {
                let section = Section::new(tree.get(id)?, self.script);
                Some(SectionFacet {
                    section,
                    count: count as i64,
                })
            })
            .collect();
        let months = self
            .facets
            .months
            .iter()
            .map(|(month, count)| MonthFacet {
                month: month.clone(),
                count: *count as i64,
            })
            .collect();
        Ok(SearchFacets { sections, months })
    }
}

/// Counts of a search's hits by section and by month.
#[derive(SimpleObject)]
pub struct SearchFacets {
    /// Sections with hits, most first; a section counts the hits in its
    /// subsections too, as the section filter would find them.
    pub sections: Vec<SectionFacet>,
    /// Months with hits (in the site's time zone), newest first.
    pub months: Vec<MonthFacet>,
}

/// Hits in a section and its subsections.
#[derive(SimpleObject)]
pub struct SectionFacet {
    /// The section.
    pub section: Section,
    /// Hits in it and its subsections.
    pub count: i64,
}

/// Hits published in a month.
#[derive(SimpleObject)]
pub struct MonthFacet {
    /// `YYYY-MM`, in the site's time zone.
    pub month: String,
    /// Hits published in it.
    pub count: i64,
}

/// A hit and its cursor.
pub struct SearchEdge {
    cursor: String,
    node: SearchHit,
}

impl SearchEdge {
    fn new(hit: PageHit, voice: &Voice<'_>, highlight: &Highlight) -> Self {
        let snippet = voice.snippet(&hit.row, highlight);
        SearchEdge {
            cursor: search::hit_cursor(hit.rank),
            node: SearchHit {
                article: Article::new(Arc::new(hit.row), voice.script),
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
    /// Why it matched: the summary, or the first body passage with a word
    /// of the query when the summary has none, HTML-escaped, the words in
    /// `<em>`.
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
