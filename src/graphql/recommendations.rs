use async_graphql::{Context, Object, Result};

use super::articles::Article;
use super::context::RequestContext;
use super::limits::page_size;
use super::script::Script;
use crate::db::recommendations::{self, ItemRow};
use crate::domain::CacheKey;
use crate::error::GqlResultExt;

#[derive(Default)]
pub struct RecommendationQuery;

#[Object]
impl RecommendationQuery {
    /// A curated list (新聞推薦), in the editors' order. Items pointing at an
    /// article that is not public are left out.
    async fn recommendations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Name of the list.", default = "home")] list: String,
        #[graphql(desc = "How many items, 0-100.", default = 10)] first: i32,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<Vec<Recommendation>> {
        page_size(first, "first").gql()?;
        let script = RequestContext::of(ctx).choose_script(script).await.gql()?;
        list_items(ctx, list, first, script).await
    }
}

/// The public items of a list: items whose article is not public are left out.
pub async fn list_items(
    ctx: &Context<'_>,
    list: String,
    first: i32,
    script: Script,
) -> Result<Vec<Recommendation>> {
    let rc = RequestContext::of(ctx);
    rc.tag(CacheKey::List(list.clone()));
    let items = rc
        .db
        .run(move |conn| recommendations::items(conn, &list))
        .await
        .gql()?;
    let ids: Vec<i32> = items.iter().filter_map(|i| i.article_id).collect();
    for id in &ids {
        rc.tag(CacheKey::Article(*id));
    }
    let articles = rc.articles().load_many(ids).await.gql()?;
    let mut out = Vec::new();
    for item in items {
        let article = match item.article_id {
            None => None,
            Some(id) => match articles.get(&id) {
                Some(row) if row.is_public_at(rc.now) => Some(row.clone()),
                // A hidden or missing article takes its item with it.
                _ => continue,
            },
        };
        out.push(Recommendation {
            item,
            article: article.map(|row| Article::new(row, script)),
            script,
        });
        if out.len() >= first as usize {
            break;
        }
    }
    Ok(out)
}

/// One entry of a curated list: an article, or a bare headline with a link.
pub struct Recommendation {
    item: ItemRow,
    article: Option<Article>,
    script: Script,
}

/// One item of a curated list: a headline pointing at an article or a link.
#[Object]
impl Recommendation {
    /// The script this object's text is written in, as asked (`ORIGINAL`:
    /// as stored). Part of its cache identity: one object asked in two
    /// scripts is two objects to a normalised client cache (Apollo
    /// `keyFields: ["id", "script"]`, urql Graphcache `keys`).
    async fn script(&self) -> Script {
        self.script
    }
    /// The headline as curated.
    async fn headline(&self, ctx: &Context<'_>) -> Result<String> {
        RequestContext::of(ctx)
            .site_text(&self.item.headline, self.script)
            .await
            .gql()
    }
    /// Where the item links: the article's canonical URL, or the curated link.
    async fn url(&self, ctx: &Context<'_>) -> Option<String> {
        match (&self.item.url, &self.item.article_id) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(id)) => {
                let base = &RequestContext::of(ctx).state.config.public_base_url;
                Some(format!("{base}/a/{id}"))
            }
            (None, None) => None,
        }
    }
    /// The article, or null for a bare headline.
    async fn article(&self) -> Option<&Article> {
        self.article.as_ref()
    }
}
