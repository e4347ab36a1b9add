use std::sync::Arc;

use async_graphql::{Context, Object, Result, ID};

use super::context::RequestContext;
use super::ids::{encode_global, NodeKind};
use super::limits::page_complexity;
use super::listing::{article_connection, ArticleConnection, ArticleFilter, PageArgs};
use super::script::Script;
use crate::db::sections::SectionRow;
use crate::domain::{CacheKey, SectionKind};
use crate::error::{AppError, GqlResultExt};

#[derive(Default)]
pub struct SectionQuery;

#[Object]
impl SectionQuery {
    /// Top-level sections in navigation order; walk `children` for the rest.
    async fn sections(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<Vec<Section>> {
        let rc = RequestContext::of(ctx);
        let script = rc.choose_script(script).await.gql()?;
        let tree = rc.sections().await.gql()?;
        rc.tag(CacheKey::Sections);
        Ok(tree
            .children(None)
            .into_iter()
            .map(|row| Section::new(row, script))
            .collect())
    }

    /// One section by its slug; null when there is none.
    async fn section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The section's slug, e.g. `lin-yi`.")] slug: String,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<Option<Section>> {
        let rc = RequestContext::of(ctx);
        let script = rc.choose_script(script).await.gql()?;
        let tree = rc.sections().await.gql()?;
        rc.tag(CacheKey::Sections);
        Ok(tree.by_slug(&slug).map(|row| Section::new(row, script)))
    }
}

/// A channel of the site: a topic (金融) or a region (臨沂), in a tree.
pub struct Section {
    row: Arc<SectionRow>,
    script: Script,
}

impl Section {
    pub fn new(row: Arc<SectionRow>, script: Script) -> Self {
        Section { row, script }
    }
}

/// A section of the site (金融, or the regional channel 臨沂), in a tree.
/// Cache it by `id` and `script` together.
#[Object]
impl Section {
    /// The script this object's text is written in, as asked (`ORIGINAL`:
    /// as stored). Part of its cache identity: one object asked in two
    /// scripts is two objects to a normalised client cache (Apollo
    /// `keyFields: ["id", "script"]`, urql Graphcache `keys`).
    async fn script(&self) -> Script {
        self.script
    }
    /// Global id, for `node(id:)`.
    pub async fn id(&self) -> ID {
        encode_global(NodeKind::Section, self.row.id)
    }
    /// The numeric id used in URLs and REST routes.
    async fn database_id(&self) -> i32 {
        self.row.id
    }
    /// URL-safe name (pinyin of the Chinese name).
    async fn slug(&self) -> &str {
        &self.row.slug
    }
    /// Display name.
    async fn name(&self, ctx: &Context<'_>) -> Result<String> {
        RequestContext::of(ctx)
            .site_text(&self.row.name, self.script)
            .await
            .gql()
    }
    /// Topic or region.
    async fn kind(&self) -> Result<SectionKind> {
        self.row.kind.parse().map_err(AppError::Internal).gql()
    }
    /// The section above this one; null at the top.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Section>> {
        let tree = RequestContext::of(ctx).sections().await.gql()?;
        Ok(self
            .row
            .parent_id
            .and_then(|p| tree.get(p))
            .map(|row| Section::new(row, self.script)))
    }
    /// The sections directly below, in navigation order.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Section>> {
        let tree = RequestContext::of(ctx).sections().await.gql()?;
        Ok(tree
            .children(Some(self.row.id))
            .into_iter()
            .map(|row| Section::new(row, self.script))
            .collect())
    }
    /// The path from the top-level section down to this one, root first.
    async fn breadcrumb(&self, ctx: &Context<'_>) -> Result<Vec<Section>> {
        let tree = RequestContext::of(ctx).sections().await.gql()?;
        Ok(tree
            .breadcrumb(self.row.id)
            .into_iter()
            .map(|row| Section::new(row, self.script))
            .collect())
    }
    /// Whether the section appears in the site's navigation line.
    async fn in_navigation(&self) -> bool {
        self.row.in_navigation
    }
    /// Order among its siblings and in the navigation.
    async fn position(&self) -> i32 {
        self.row.position
    }
    /// Published articles of this section and, unless the filter says
    /// otherwise, its subsections; newest first.
    #[graphql(complexity = "page_complexity(first, last, child_complexity)")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Narrow the list further.")] filter: Option<ArticleFilter>,
        #[graphql(desc = "Page size, 1-100, going to older articles.", default = 20)] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the item after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Page size, 1-100, going to newer articles.")] last: Option<i32>,
        #[graphql(desc = "Cursor of the item before which the page ends.")] before: Option<String>,
    ) -> Result<ArticleConnection> {
        let mut filter = filter.unwrap_or_default();
        filter.section_scope = Some(self.row.id);
        let page = PageArgs {
            first,
            after,
            last,
            before,
        };
        article_connection(ctx, filter, page, self.script).await
    }
}
