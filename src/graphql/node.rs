use async_graphql::{Context, Interface, Object, Result, ID};

use super::articles::Article;
use super::context::RequestContext;
use super::ids::{decode_global, NodeKind};
use super::script::Script;
use super::sections::Section;
use crate::domain::CacheKey;
use crate::error::GqlResultExt;

/// Anything with a global id (Relay object identification).
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global id."))]
pub enum Node {
    Article(Article),
    Section(Section),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by global id; null when it does not exist or the caller may
    /// not see it (drafts show to those who may read them, as with `preview`).
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id from an `id` field.")] id: ID,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<Option<Node>> {
        let rc = RequestContext::of(ctx);
        let script = rc.choose_script(script).await.gql()?;
        match decode_global(&id) {
            Some((NodeKind::Article, n)) => rc.tag(CacheKey::Article(n)),
            Some((NodeKind::Section, _)) => rc.tag(CacheKey::Sections),
            None => {}
        }
        Ok(match decode_global(&id) {
            Some((NodeKind::Article, n)) => rc
                .articles()
                .load_one(n)
                .await
                .gql()?
                .filter(|row| rc.can_read(row))
                .map(|row| Node::Article(Article::new(row, script))),
            Some((NodeKind::Section, n)) => rc
                .sections()
                .await
                .gql()?
                .get(n)
                .map(|row| Node::Section(Section::new(row, script))),
            None => None,
        })
    }
}
