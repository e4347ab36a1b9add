//! Curation and settings: sections, sources, contributors, recommendation
//! lists, site settings and copyright notices. Each change is one
//! transaction with its audit event, and names the cache keys it touches
//! ([`Curated`]).

use chrono::NaiveDateTime;

use crate::db::audit::{Actor, Event};
use crate::db::notices::{self, NoticeRow};
use crate::db::recommendations::{self, ItemRow};
use crate::db::sections::{self, NewSection, SectionRow};
use crate::db::site::{self, SiteRow};
use crate::db::sources::{self, SourceRow};
use crate::db::{articles, contributors, AnyConnection, Database, Tx};
use crate::domain::{CacheKey, NoticeKind, SectionKind};
use crate::error::AppError;

/// What a curation change is about: its audit target, and the cache keys
/// of what readers see of it.
enum Curated {
    Section(i32),
    Source(i32),
    Contributor(i32),
    List(String),
    Site,
    Notices,
}

impl Curated {
    /// The audit log's target type and id.
    fn target(&self) -> (&'static str, Option<i32>) {
        match self {
            Curated::Section(id) => ("section", Some(*id)),
            Curated::Source(id) => ("source", Some(*id)),
            Curated::Contributor(id) => ("contributor", Some(*id)),
            Curated::List(_) => ("recommendation_list", None),
            Curated::Site => ("site", Some(1)),
            Curated::Notices => ("copyright_notice", None),
        }
    }

    fn keys(self) -> Vec<CacheKey> {
        match self {
            Curated::Section(id) => vec![CacheKey::Sections, CacheKey::Section(id)],
            Curated::List(name) => vec![CacheKey::List(name)],
            Curated::Site => vec![CacheKey::Site],
            // Notices are printed under every article.
            Curated::Notices => vec![CacheKey::Articles, CacheKey::Notices],
            // Bylines and sources show in article lists.
            Curated::Source(_) | Curated::Contributor(_) => vec![CacheKey::Articles],
        }
    }
}

/// Audits a change as `action` and names what it touched.
fn record(tx: &mut Tx<'_>, action: &'static str, what: Curated, details: serde_json::Value) {
    let (target_type, target_id) = what.target();
    tx.audit(Event::action(action, target_type, target_id, details));
    tx.touch(what.keys());
}

fn section_by_slug(
    conn: &mut AnyConnection,
    value: &str,
    field: &str,
) -> Result<SectionRow, AppError> {
    sections::by_slug(conn, value)?
        .ok_or_else(|| AppError::BadInput(format!("{field}: no section with slug {value:?}")))
}

fn slug_taken(slug: &str) -> AppError {
    AppError::BadInput(format!("slug: {slug:?} is already used"))
}

/// A unique-constraint failure on a section name is the caller's to fix.
fn unique_name(e: AppError) -> AppError {
    match e {
        AppError::Internal(d) if d.contains("UNIQUE") || d.contains("unique") => {
            AppError::BadInput("name: a section of that name already exists there".into())
        }
        other => other,
    }
}

/// A section to create; the name and slug are already checked.
#[derive(Debug, Clone)]
pub struct SectionToCreate {
    pub name: String,
    /// Pinyin of the name when absent.
    pub slug: Option<String>,
    /// The parent's slug; top level when absent.
    pub parent: Option<String>,
    pub kind: SectionKind,
    pub in_navigation: bool,
    pub position: i32,
}

/// Creates a section.
pub async fn create_section(
    db: &Database,
    actor: Actor,
    new: SectionToCreate,
) -> Result<SectionRow, AppError> {
    db.transact(actor, move |tx| {
        let conn = tx.conn();
        let parent_id = match &new.parent {
            Some(p) => Some(section_by_slug(conn, p, "parent")?.id),
            None => None,
        };
        let section = NewSection {
            name: &new.name,
            parent_id,
            kind: new.kind,
            position: new.position,
            in_navigation: new.in_navigation,
        };
        let id = match &new.slug {
            Some(s) if sections::by_slug(conn, s)?.is_some() => return Err(slug_taken(s)),
            Some(s) => sections::create_with_slug(conn, &section, s)?,
            None => sections::create(conn, &section)?,
        };
        let row = sections::by_id(conn, id)?;
        let details = serde_json::json!({ "name": new.name });
        record(tx, "section.create", Curated::Section(id), details);
        Ok(row)
    })
    .await
    .map_err(unique_name)
}

/// Changes to a section; absent fields stay. The name and slug are already checked.
#[derive(Debug, Clone, Default)]
pub struct SectionChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub kind: Option<SectionKind>,
    pub in_navigation: Option<bool>,
    pub position: Option<i32>,
}

/// Changes the section with slug `slug`.
pub async fn update_section(
    db: &Database,
    actor: Actor,
    slug: String,
    changes: SectionChanges,
) -> Result<SectionRow, AppError> {
    db.transact(actor, move |tx| {
        let conn = tx.conn();
        let mut row = section_by_slug(conn, &slug, "slug")?;
        if let Some(s) = changes.slug {
            if s != row.slug && sections::by_slug(conn, &s)?.is_some() {
                return Err(slug_taken(&s));
            }
            row.slug = s;
        }
        if let Some(n) = changes.name {
            row.name = n;
        }
        if let Some(k) = changes.kind {
            row.kind = k.as_str().into();
        }
        if let Some(v) = changes.in_navigation {
            row.in_navigation = v;
        }
        if let Some(p) = changes.position {
            row.position = p;
        }
        sections::save(conn, &row)?;
        let details = serde_json::json!({ "slug": row.slug });
        record(tx, "section.update", Curated::Section(row.id), details);
        Ok(row)
    })
    .await
    .map_err(unique_name)
}

/// Moves the section with slug `slug` under `parent` (a slug; the top level
/// when absent), at `position` among its new siblings when given.
pub async fn move_section(
    db: &Database,
    actor: Actor,
    slug: String,
    parent: Option<String>,
    position: Option<i32>,
) -> Result<SectionRow, AppError> {
    db.transact(actor, move |tx| {
        let conn = tx.conn();
        let mut row = section_by_slug(conn, &slug, "slug")?;
        let parent_id = match &parent {
            Some(p) => {
                let target = section_by_slug(conn, p, "parent")?;
                // Walk up from the new parent: meeting the section itself would make a cycle.
                let mut cursor = Some(target.id);
                while let Some(id) = cursor {
                    if id == row.id {
                        return Err(AppError::BadInput(
                            "parent: a section cannot move below itself".into(),
                        ));
                    }
                    cursor = sections::by_id(conn, id)?.parent_id;
                }
                Some(target.id)
            }
            None => None,
        };
        row.parent_id = parent_id;
        if let Some(p) = position {
            row.position = p;
        }
        sections::save(conn, &row)?;
        // Its articles now show under other ancestors.
        crate::db::placements::refresh_subtree(conn, row.id)?;
        let details = serde_json::json!({ "parent": parent });
        record(tx, "section.move", Curated::Section(row.id), details);
        Ok(row)
    })
    .await
    .map_err(unique_name)
}

/// Deletes the section with slug `slug` and returns it as it was; refused
/// while it holds articles or subsections.
pub async fn delete_section(
    db: &Database,
    actor: Actor,
    slug: String,
) -> Result<SectionRow, AppError> {
    db.transact(actor, move |tx| {
        let conn = tx.conn();
        let row = section_by_slug(conn, &slug, "slug")?;
        sections::delete_empty(conn, row.id)?;
        let details = serde_json::json!({ "slug": slug });
        record(tx, "section.delete", Curated::Section(row.id), details);
        Ok(row)
    })
    .await
}

/// Creates or updates the source named `name` (already checked).
pub async fn upsert_source(
    db: &Database,
    actor: Actor,
    name: String,
    owned: bool,
    url: Option<String>,
) -> Result<SourceRow, AppError> {
    db.transact(actor, move |tx| {
        let row = sources::upsert(tx.conn(), &name, owned, url.as_deref())?;
        let details = serde_json::json!({ "name": name, "owned": owned });
        record(tx, "source.upsert", Curated::Source(row.id), details);
        Ok(row)
    })
    .await
}

/// The contributor named `name` (already checked), created when none
/// exists; returns its id.
pub async fn upsert_contributor(
    db: &Database,
    actor: Actor,
    name: String,
) -> Result<i32, AppError> {
    db.transact(actor, move |tx| {
        let id = contributors::find_or_create(tx.conn(), &name)?;
        let details = serde_json::json!({ "name": name });
        record(tx, "contributor.upsert", Curated::Contributor(id), details);
        Ok(id)
    })
    .await
}

/// One wanted entry of a curated list: an article (its title is the
/// default headline), or a headline with a link.
#[derive(Debug, Clone)]
pub struct ListEntry {
    pub article_id: Option<i32>,
    pub headline: Option<String>,
    pub url: Option<String>,
}

/// Replaces the items of list `name` (already checked), in order.
pub async fn set_recommendation_list(
    db: &Database,
    actor: Actor,
    name: String,
    entries: Vec<ListEntry>,
) -> Result<(), AppError> {
    db.transact(actor, move |tx| {
        let conn = tx.conn();
        let mut rows = Vec::with_capacity(entries.len());
        for (i, entry) in entries.into_iter().enumerate() {
            let no_such_article =
                || AppError::BadInput(format!("items[{i}].article: no such article"));
            let article = match entry.article_id {
                Some(id) => Some(
                    articles::by_ids(conn, &[id])?
                        .into_iter()
                        .next()
                        .ok_or_else(no_such_article)?,
                ),
                None => None,
            };
            let headline = match (entry.headline, article) {
                (Some(h), _) => h,
                (None, Some(a)) => a.title,
                (None, None) => String::new(),
            };
            rows.push(ItemRow {
                position: i as i32,
                headline,
                url: entry.url,
                article_id: entry.article_id,
            });
        }
        recommendations::set_list(conn, &name, &rows)?;
        let details = serde_json::json!({ "name": name, "items": rows.len() });
        record(tx, "recommendations.set", Curated::List(name), details);
        Ok(())
    })
    .await
}

/// Changes to the site's footer facts; absent fields stay, given ones are
/// trimmed. The time zone is already checked.
#[derive(Debug, Clone, Default)]
pub struct SiteChanges {
    pub name: Option<String>,
    pub copyright_holder: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub email: Option<String>,
    pub icp_filing: Option<String>,
    pub news_service_filing: Option<String>,
    pub complaint_phone: Option<String>,
    pub complaint_email: Option<String>,
    pub time_zone: Option<String>,
    pub logo_url: Option<String>,
}

/// Changes the site's settings; returns them.
pub async fn update_site_settings(
    db: &Database,
    actor: Actor,
    changes: SiteChanges,
) -> Result<SiteRow, AppError> {
    db.transact(actor, move |tx| {
        let conn = tx.conn();
        let mut row = site::load(conn)?;
        let set = |field: &mut String, value: Option<String>| {
            if let Some(v) = value {
                *field = v.trim().to_string();
            }
        };
        set(&mut row.name, changes.name);
        set(&mut row.copyright_holder, changes.copyright_holder);
        set(&mut row.address, changes.address);
        set(&mut row.postcode, changes.postcode);
        set(&mut row.email, changes.email);
        set(&mut row.icp_filing, changes.icp_filing);
        set(&mut row.news_service_filing, changes.news_service_filing);
        set(&mut row.complaint_phone, changes.complaint_phone);
        set(&mut row.complaint_email, changes.complaint_email);
        set(&mut row.time_zone, changes.time_zone);
        set(&mut row.logo_url, changes.logo_url);
        row.updated_at = crate::db::now();
        site::save(conn, &row)?;
        record(tx, "site.update", Curated::Site, serde_json::json!({}));
        Ok(row)
    })
    .await
}

/// A version of a copyright notice template; the text is already checked.
#[derive(Debug, Clone)]
pub struct NoticeVersion {
    pub kind: NoticeKind,
    pub text: String,
    /// For removal notices: days after publication within which requests are expected.
    pub removal_window_days: Option<i32>,
    pub effective_from: NaiveDateTime,
}

/// Adds a notice version (nothing when the same text is already in force);
/// returns every version.
pub async fn add_notice_version(
    db: &Database,
    actor: Actor,
    version: NoticeVersion,
) -> Result<Vec<NoticeRow>, AppError> {
    db.transact(actor, move |tx| {
        let conn = tx.conn();
        notices::add_version(
            conn,
            version.kind,
            &version.text,
            version.removal_window_days,
            version.effective_from,
        )?;
        let all = notices::all(conn)?;
        let details = serde_json::json!({ "kind": version.kind.as_str() });
        record(tx, "notice.upsert", Curated::Notices, details);
        Ok(all)
    })
    .await
}
