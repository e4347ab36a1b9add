use async_graphql::{Context, Object, Result};
use chrono::{DateTime, FixedOffset};

use super::context::RequestContext;
use super::script::Script;
use crate::db::notices::{in_force, NoticeRow};
use crate::domain::{CacheKey, NoticeKind};
use crate::error::GqlResultExt;

#[derive(Default)]
pub struct NoticeQuery;

#[Object]
impl NoticeQuery {
    /// The copyright notice templates in force now, one per kind
    /// (original works, reprints, removal requests).
    async fn copyright_notices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<Vec<CopyrightNotice>> {
        let rc = RequestContext::of(ctx);
        let script = rc.choose_script(script).await.gql()?;
        let notices = rc.notices().await.gql()?;
        rc.tag(CacheKey::Site);
        let removal = in_force(&notices, NoticeKind::Removal, rc.now).cloned();
        Ok([
            NoticeKind::Original,
            NoticeKind::Reprint,
            NoticeKind::Removal,
        ]
        .into_iter()
        .filter_map(|kind| in_force(&notices, kind, rc.now).cloned())
        .map(|row| CopyrightNotice::new(row.kind, Some(row), removal.clone(), script))
        .collect())
    }
}

/// The terms an article is published under: credit rules for original work or
/// the disclaimer for reprints, plus how rights holders ask for removal.
pub struct CopyrightNotice {
    kind: NoticeKind,
    template: Option<NoticeRow>,
    removal: Option<NoticeRow>,
    script: Script,
}

impl CopyrightNotice {
    pub fn new(
        kind: NoticeKind,
        template: Option<NoticeRow>,
        removal: Option<NoticeRow>,
        script: Script,
    ) -> Self {
        CopyrightNotice {
            kind,
            template,
            removal,
            script,
        }
    }
}

/// A copyright notice: the terms for original works, for reprints, or for
/// removal requests, in the version in force.
#[Object]
impl CopyrightNotice {
    /// The script this object's text is written in, as asked (`ORIGINAL`:
    /// as stored). Part of its cache identity: one object asked in two
    /// scripts is two objects to a normalised client cache (Apollo
    /// `keyFields: ["id", "script"]`, urql Graphcache `keys`).
    async fn script(&self) -> Script {
        self.script
    }
    /// Which template this is.
    async fn kind(&self) -> NoticeKind {
        self.kind
    }
    /// The notice text (empty when the site has no template of this kind).
    async fn text(&self, ctx: &Context<'_>) -> Result<String> {
        let text = self
            .template
            .as_ref()
            .map(|t| t.text.as_str())
            .unwrap_or("");
        RequestContext::of(ctx)
            .site_text(text, self.script)
            .await
            .gql()
    }
    /// How a rights holder asks for removal (the removal template's text).
    async fn removal_terms(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        match &self.removal {
            Some(r) => Ok(Some(
                RequestContext::of(ctx)
                    .site_text(&r.text, self.script)
                    .await
                    .gql()?,
            )),
            None => Ok(None),
        }
    }
    /// Days after publication within which removal requests are expected (30 on the sample site).
    async fn removal_window_days(&self) -> Option<i32> {
        self.removal
            .as_ref()
            .and_then(|r| r.window_days)
            .or_else(|| self.template.as_ref().and_then(|t| t.window_days))
    }
    /// When this version of the template took effect.
    async fn effective_from(&self, ctx: &Context<'_>) -> Result<Option<DateTime<FixedOffset>>> {
        match &self.template {
            Some(t) => Ok(Some(
                RequestContext::of(ctx)
                    .local_time(t.effective_from)
                    .await
                    .gql()?,
            )),
            None => Ok(None),
        }
    }
}
