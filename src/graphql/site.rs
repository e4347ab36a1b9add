use std::sync::Arc;

use async_graphql::{Context, Object, Result};

use super::context::RequestContext;
use super::script::Script;
use super::sections::Section;
use crate::db::site::SiteRow;
use crate::domain::CacheKey;
use crate::error::GqlResultExt;

#[derive(Default)]
pub struct SiteQuery;

#[Object]
impl SiteQuery {
    /// The site's identity and the footer facts every page must show
    /// (ICP filing, news-service filing, complaint channels).
    async fn site(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Script of the text; default from `Accept-Language`.")] script: Option<
            Script,
        >,
    ) -> Result<Site> {
        let rc = RequestContext::of(ctx);
        let script = rc.choose_script(script).await.gql()?;
        rc.tag(CacheKey::Site);
        rc.tag(CacheKey::Sections);
        Ok(Site {
            row: rc.site().await.gql()?,
            script,
        })
    }
}

/// The site: name, operator and the legally required footer.
pub struct Site {
    row: Arc<SiteRow>,
    script: Script,
}

impl Site {
    pub fn new(row: Arc<SiteRow>, script: Script) -> Self {
        Site { row, script }
    }

    async fn text(&self, ctx: &Context<'_>, value: &str) -> Result<String> {
        RequestContext::of(ctx)
            .site_text(value, self.script)
            .await
            .gql()
    }
}

/// The site: its name and the footer every page must show (address,
/// filing numbers, complaint hotline), in the script asked for.
#[Object]
impl Site {
    /// The script this object's text is written in, as asked (`ORIGINAL`:
    /// as stored). Part of its cache identity: one object asked in two
    /// scripts is two objects to a normalised client cache (Apollo
    /// `keyFields: ["id", "script"]`, urql Graphcache `keys`).
    async fn script(&self) -> Script {
        self.script
    }
    /// The site's name (山東財經網).
    async fn name(&self, ctx: &Context<'_>) -> Result<String> {
        self.text(ctx, &self.row.name).await
    }
    /// Postal address of the operator.
    async fn address(&self, ctx: &Context<'_>) -> Result<String> {
        self.text(ctx, &self.row.address).await
    }
    /// Postcode (郵編).
    async fn postcode(&self) -> &str {
        &self.row.postcode
    }
    /// Contact e-mail.
    async fn email(&self) -> &str {
        &self.row.email
    }
    /// The ICP filing number exactly as the site prints it (魯ICP備09023866-44號),
    /// in every script: an identifier is never converted. Link it to
    /// https://beian.miit.gov.cn at the bottom centre of the home page.
    async fn icp_filing(&self) -> &str {
        &self.row.icp_filing
    }
    /// The provincial news-service filing number (魯新網備案號).
    async fn news_service_filing(&self) -> &str {
        &self.row.news_service_filing
    }
    /// Hotline for reports of illegal or harmful content (違法不良信息舉報電話).
    async fn complaint_phone(&self) -> &str {
        &self.row.complaint_phone
    }
    /// E-mail for such reports.
    async fn complaint_email(&self) -> &str {
        &self.row.complaint_email
    }
    /// Who holds the copyright of the site (Copyright @ …).
    async fn copyright_holder(&self, ctx: &Context<'_>) -> Result<String> {
        self.text(ctx, &self.row.copyright_holder).await
    }
    /// IANA time zone that times are shown in (Asia/Shanghai).
    async fn time_zone(&self) -> &str {
        &self.row.time_zone
    }
    /// The site's logo (an absolute URL), the publisher's logo in
    /// `Article.jsonLd`; null when none is set.
    async fn logo_url(&self) -> Option<&str> {
        Some(self.row.logo_url.as_str()).filter(|u| !u.is_empty())
    }
    /// The navigation sections, in order.
    async fn navigation(&self, ctx: &Context<'_>) -> Result<Vec<Section>> {
        let tree = RequestContext::of(ctx).sections().await.gql()?;
        Ok(tree
            .navigation()
            .into_iter()
            .map(|row| Section::new(row, self.script))
            .collect())
    }
}
