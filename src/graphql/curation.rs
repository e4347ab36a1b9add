//! Curation and settings: sections, sources, contributors, recommendation
//! lists, site settings, copyright notices, and the audit log. Each
//! mutation checks the right, parses its input and calls one function of
//! [`crate::services::curation`].

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, FixedOffset};

use super::articles::{database_id, Source};
use super::connection::id_connection;
use super::context::RequestContext;
use super::limits::{page_size, MAX_PAGE};
use super::notices::CopyrightNotice;
use super::recommendations::Recommendation;
use super::script::Script;
use super::sections::Section;
use super::site::Site;
use crate::auth::policy::Action;
use crate::db::audit::{self, AuditQuery, AuditRow};
use crate::db::{self, notices};
use crate::domain::{NoticeKind, SectionKind, Slug};
use crate::error::{AppError, GqlResultExt};
use crate::services::curation::{
    self as curate, ListEntry, NoticeVersion, SectionChanges, SectionToCreate, SiteChanges,
};

fn name(value: &str, field: &str, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    let n = v.chars().count();
    if n == 0 || n > max {
        return Err(AppError::BadInput(format!(
            "{field}: must be 1-{max} characters"
        )));
    }
    Ok(v.to_string())
}

fn slug(value: &str) -> Result<String, AppError> {
    Slug::parse(value)
        .map(|s| s.to_string())
        .map_err(|e| AppError::BadInput(format!("slug: {e}")))
}

/// The entries of a list, each an article or a headline with a link.
fn list_entries(items: Vec<RecommendationInput>) -> Result<Vec<ListEntry>, AppError> {
    if items.len() > MAX_PAGE as usize {
        return Err(AppError::BadInput(format!("items: at most {MAX_PAGE}")));
    }
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let article_id = match &item.article {
            Some(id) => Some(database_id(id).ok_or_else(|| {
                AppError::BadInput(format!("items[{i}].article: not an article id"))
            })?),
            None => None,
        };
        if article_id.is_none() && (item.headline.is_none() || item.url.is_none()) {
            return Err(AppError::BadInput(format!(
                "items[{i}]: give an article, or a headline and a url"
            )));
        }
        entries.push(ListEntry {
            article_id,
            headline: item.headline,
            url: item.url,
        });
    }
    Ok(entries)
}

/// A new section.
#[derive(Debug, InputObject)]
pub struct CreateSectionInput {
    /// Display name, 1-50 characters.
    pub name: String,
    /// URL slug; pinyin of the name when absent.
    pub slug: Option<String>,
    /// Slug of the parent section; top level when absent.
    pub parent: Option<String>,
    /// Topic or region.
    #[graphql(default_with = "SectionKind::Topic")]
    pub kind: SectionKind,
    /// Whether it shows in the navigation line.
    #[graphql(default = false)]
    pub in_navigation: bool,
    /// Order among its siblings.
    #[graphql(default = 0)]
    pub position: i32,
}

/// Changes to a section; absent fields stay.
#[derive(Debug, InputObject)]
pub struct UpdateSectionInput {
    /// New name, 1-50 characters, unique among its siblings.
    pub name: Option<String>,
    /// New slug; the old one stops resolving.
    pub slug: Option<String>,
    /// Topic or region.
    pub kind: Option<SectionKind>,
    /// Whether it appears in the site's navigation.
    pub in_navigation: Option<bool>,
    /// Place among its siblings, 0 first.
    pub position: Option<i32>,
}

/// One entry of a curated list: an article (its title is the default
/// headline) or a bare headline with a link.
#[derive(Debug, InputObject)]
pub struct RecommendationInput {
    /// The article (global or database id).
    pub article: Option<ID>,
    /// The headline to show; required without an article.
    pub headline: Option<String>,
    /// The link; required without an article.
    pub url: Option<String>,
}

/// The site's footer facts; absent fields stay.
#[derive(Debug, InputObject)]
pub struct SiteSettingsInput {
    /// The site's name (山東財經網).
    pub name: Option<String>,
    /// Who holds the copyright of the site.
    pub copyright_holder: Option<String>,
    /// Postal address of the operator.
    pub address: Option<String>,
    /// Postcode (郵編).
    pub postcode: Option<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// ICP filing number, exactly as registered (魯ICP備09023866-44號).
    pub icp_filing: Option<String>,
    /// Provincial news-service filing number, exactly as registered.
    pub news_service_filing: Option<String>,
    /// Hotline for reports of illegal or harmful content.
    pub complaint_phone: Option<String>,
    /// E-mail for such reports.
    pub complaint_email: Option<String>,
    /// IANA time zone name, e.g. Asia/Shanghai.
    pub time_zone: Option<String>,
    /// The site's logo, an absolute http(s) URL (the publisher's logo in
    /// `Article.jsonLd`); empty to remove it.
    pub logo_url: Option<String>,
}

/// A new version of a copyright notice template.
#[derive(Debug, InputObject)]
pub struct CopyrightNoticeInput {
    /// Which template.
    pub kind: NoticeKind,
    /// Its text.
    pub text: String,
    /// For REMOVAL: days after publication within which requests are expected.
    pub removal_window_days: Option<i32>,
    /// When it takes effect; now when absent.
    pub effective_from: Option<DateTime<FixedOffset>>,
}

/// A contributor (a person credited in bylines).
#[derive(SimpleObject)]
pub struct Contributor {
    /// The numeric id.
    pub database_id: i32,
    /// The name.
    pub name: String,
}

impl From<SiteSettingsInput> for SiteChanges {
    fn from(input: SiteSettingsInput) -> Self {
        SiteChanges {
            name: input.name,
            copyright_holder: input.copyright_holder,
            address: input.address,
            postcode: input.postcode,
            email: input.email,
            icp_filing: input.icp_filing,
            news_service_filing: input.news_service_filing,
            complaint_phone: input.complaint_phone,
            complaint_email: input.complaint_email,
            time_zone: input.time_zone,
            logo_url: input.logo_url,
        }
    }
}

#[derive(Default)]
pub struct CurationMutation;

#[Object]
impl CurationMutation {
    /// Creates a section (editors, admins).
    async fn create_section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new section.")] input: CreateSectionInput,
    ) -> Result<Section> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::Curate).gql()?;
        let new = SectionToCreate {
            name: name(&input.name, "name", 50).gql()?,
            slug: input.slug.as_deref().map(slug).transpose().gql()?,
            parent: input.parent,
            kind: input.kind,
            in_navigation: input.in_navigation,
            position: input.position,
        };
        let row = curate::create_section(&rc.db, rc.actor(staff), new)
            .await
            .gql()?;
        Ok(Section::new(Arc::new(row), Script::Original))
    }

    /// Changes a section's name, slug, kind or place in the navigation (editors, admins).
    async fn update_section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The section's current slug.")] slug: String,
        #[graphql(desc = "What to change; absent fields stay.")] input: UpdateSectionInput,
    ) -> Result<Section> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::Curate).gql()?;
        let changes = SectionChanges {
            name: input
                .name
                .as_deref()
                .map(|n| name(n, "name", 50))
                .transpose()
                .gql()?,
            slug: input.slug.as_deref().map(self::slug).transpose().gql()?,
            kind: input.kind,
            in_navigation: input.in_navigation,
            position: input.position,
        };
        let row = curate::update_section(&rc.db, rc.actor(staff), slug, changes)
            .await
            .gql()?;
        Ok(Section::new(Arc::new(row), Script::Original))
    }

    /// Moves a section under another (or to the top when `parent` is null) (editors, admins).
    async fn move_section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The section to move.")] slug: String,
        #[graphql(desc = "Slug of the new parent; absent for the top level.")] parent: Option<
            String,
        >,
        #[graphql(desc = "Place among its new siblings, 0 first; absent for last.")]
        position: Option<i32>,
    ) -> Result<Section> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::Curate).gql()?;
        let row = curate::move_section(&rc.db, rc.actor(staff), slug, parent, position)
            .await
            .gql()?;
        Ok(Section::new(Arc::new(row), Script::Original))
    }

    /// Deletes a section and returns it as it was; refused while it holds
    /// articles or subsections (editors, admins).
    async fn delete_section(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The section to delete.")] slug: String,
    ) -> Result<Section> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::Curate).gql()?;
        let row = curate::delete_section(&rc.db, rc.actor(staff), slug)
            .await
            .gql()?;
        Ok(Section::new(Arc::new(row), Script::Original))
    }

    /// Creates or updates a source; `owned` marks the site's own outlets,
    /// whose articles are original work (editors, admins).
    async fn upsert_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Name of the outlet, as printed (大眾報業·經濟導報).")] name: String,
        #[graphql(desc = "Whether the site holds the rights: its articles are original work.")]
        owned: bool,
        #[graphql(desc = "The outlet's home page, an absolute http(s) URL.")] url: Option<String>,
    ) -> Result<Source> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::Curate).gql()?;
        let name = self::name(&name, "name", 100).gql()?;
        // The home page is published in articles' structured data.
        let url = url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
        if let Some(url) = &url {
            crate::domain::check_absolute_url("url", url)
                .map_err(AppError::from)
                .gql()?;
        }
        let row = curate::upsert_source(&rc.db, rc.actor(staff), name, owned, url)
            .await
            .gql()?;
        Ok(Source {
            name: row.name,
            owned: row.owned,
        })
    }

    /// Creates a contributor when none of that name exists (editors, admins).
    async fn upsert_contributor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's name, as bylines print it.")] name: String,
    ) -> Result<Contributor> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::Curate).gql()?;
        let name = self::name(&name, "name", 50).gql()?;
        let id = curate::upsert_contributor(&rc.db, rc.actor(staff), name.clone())
            .await
            .gql()?;
        Ok(Contributor {
            database_id: id,
            name,
        })
    }

    /// Replaces a curated list's items, in order (editors, admins).
    async fn set_recommendation_list(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The list's name (`home` for 新聞推薦).")] name: String,
        #[graphql(desc = "The items, in order; they replace the list's items.")] items: Vec<
            RecommendationInput,
        >,
    ) -> Result<Vec<Recommendation>> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::Curate).gql()?;
        let list = self::name(&name, "name", 50).gql()?;
        let entries = list_entries(items).gql()?;
        curate::set_recommendation_list(&rc.db, rc.actor(staff), list.clone(), entries)
            .await
            .gql()?;
        super::recommendations::list_items(ctx, list, MAX_PAGE, Script::Original).await
    }

    /// Changes the site's footer facts (admins).
    async fn update_site_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to change; absent fields stay.")] input: SiteSettingsInput,
    ) -> Result<Site> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::ManageSite).gql()?;
        if let Some(tz) = &input.time_zone {
            tz.parse::<chrono_tz::Tz>()
                .map_err(|_| AppError::BadInput(format!("timeZone: unknown time zone {tz:?}")))
                .gql()?;
        }
        if let Some(logo) = &input.logo_url {
            crate::domain::check_absolute_url("logoUrl", logo.trim())
                .map_err(AppError::from)
                .gql()?;
        }
        let row = curate::update_site_settings(&rc.db, rc.actor(staff), input.into())
            .await
            .gql()?;
        Ok(Site::new(Arc::new(row), Script::Original))
    }

    /// Adds a version of a copyright notice template (legal, admins).
    async fn upsert_copyright_notice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The notice version and the date it applies from.")]
        input: CopyrightNoticeInput,
    ) -> Result<CopyrightNotice> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::ManageNotices).gql()?;
        let text = input.text.trim().to_string();
        if text.is_empty() || text.chars().count() > 5000 {
            return Err(AppError::BadInput("text: must be 1-5000 characters".into())).gql();
        }
        if input
            .removal_window_days
            .is_some_and(|d| !(1..=3650).contains(&d))
        {
            let e = AppError::BadInput("removalWindowDays: must be 1-3650".into());
            return Err(e).gql();
        }
        let version = NoticeVersion {
            kind: input.kind,
            text,
            removal_window_days: input.removal_window_days,
            effective_from: input
                .effective_from
                .map_or(rc.now, |t| db::to_db_time(t.to_utc())),
        };
        let (kind, from) = (version.kind, version.effective_from);
        let all = curate::add_notice_version(&rc.db, rc.actor(staff), version)
            .await
            .gql()?;
        let template = notices::in_force(&all, kind, from).cloned();
        let removal = notices::in_force(&all, NoticeKind::Removal, from).cloned();
        let notice = CopyrightNotice::new(kind, template, removal, Script::Original);
        Ok(notice)
    }
}

/// One entry of the audit log.
#[derive(SimpleObject, Clone)]
pub struct AuditEvent {
    /// Numeric id of the acting account (null for the importer).
    pub actor_user_id: Option<i32>,
    /// The actor's role at the time.
    pub actor_role: String,
    /// What was done (`article.publish` …).
    pub action: String,
    /// Kind of object.
    pub target_type: String,
    /// The object's numeric id.
    pub target_id: Option<i32>,
    /// The object's revision before the change (articles).
    pub revision_before: Option<i32>,
    /// Its revision after the change.
    pub revision_after: Option<i32>,
    /// The request that did it.
    pub request_id: Option<String>,
    /// When.
    pub created_at: DateTime<FixedOffset>,
}

impl AuditEvent {
    /// The stored event `r`, its time in the site's zone.
    async fn of(rc: &RequestContext, r: AuditRow) -> Result<Self, AppError> {
        Ok(AuditEvent {
            actor_user_id: r.actor_user_id,
            actor_role: r.actor_role,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            revision_before: r.revision_before,
            revision_after: r.revision_after,
            request_id: r.request_id,
            created_at: rc.local_time(r.created_at).await?,
        })
    }
}

/// Narrows the audit log.
#[derive(Debug, Default, InputObject)]
pub struct AuditFilter {
    /// Only this action (`article.publish`, `takedown.accept` …).
    pub action: Option<String>,
    /// Only this kind of object (`article`, `takedown`, `section` …).
    pub target_type: Option<String>,
    /// Only this object (with `targetType`).
    pub target_id: Option<i32>,
    /// Only what this account did.
    pub actor_user_id: Option<i32>,
}

impl AuditFilter {
    /// The whole log this filter selects, from the newest event.
    fn query(self) -> AuditQuery {
        AuditQuery {
            action: self.action,
            target_type: self.target_type,
            target_id: self.target_id,
            actor_user_id: self.actor_user_id,
            before_id: None,
        }
    }
}

#[derive(Default)]
pub struct AuditQueryRoot;

#[Object]
impl AuditQueryRoot {
    /// The audit log, newest first (admins).
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Narrow the log.")] filter: Option<AuditFilter>,
        #[graphql(desc = "Page size, 1-100.", default = 20)] first: i32,
        #[graphql(desc = "`endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<AuditEventConnection> {
        let rc = RequestContext::of(ctx);
        rc.credentials.require_right(Action::ReadAudit).gql()?;
        let first = page_size(first, "first").gql()?;
        let before_id = AuditEventConnection::after(after.as_deref()).gql()?;
        let whole = filter.unwrap_or_default().query();
        audit_page(rc, whole, first, before_id).await.gql()
    }
}

/// The page of the log `whole` selects that follows the event `before_id`
/// (from the newest when absent): up to `first` events.
async fn audit_page(
    rc: &RequestContext,
    whole: AuditQuery,
    first: i64,
    before_id: Option<i32>,
) -> Result<AuditEventConnection, AppError> {
    let q = AuditQuery {
        before_id,
        ..whole.clone()
    };
    let rows = rc
        .db
        .run(move |conn| audit::list(conn, &q, first + 1))
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push((r.id, AuditEvent::of(rc, r).await?));
    }
    Ok(AuditEventConnection::new(
        items,
        first,
        before_id.is_some(),
        Arc::new(move |conn| audit::count(conn, &whole)),
    ))
}

id_connection!(
    /// A page of the audit log, newest first.
    AuditEventConnection,
    AuditEventEdge,
    AuditEvent,
    "AuditEvent"
);
