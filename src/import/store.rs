use chrono::NaiveDateTime;
use diesel::prelude::*;

use std::collections::{HashMap, HashSet};

use super::page::{Footer, LegacyPage};
use super::{Importer, ListFill};
use crate::db::schema::{article_revisions, audit_events};
use crate::db::{
    self, articles, contributors, notices, recommendations, sections, site, sources, AnyConnection,
};
use crate::domain::{slugify, ArticleStatus, CreditRole, NoticeKind, SectionKind};
use crate::error::AppError;
use crate::text::script::Script;
use crate::text::summarize;

/// Characters of the summary made from the first paragraph.
const SUMMARY_CHARS: usize = 120;
/// Position given to sections created from a breadcrumb, after the navigation.
const OFF_NAVIGATION_POSITION: i32 = 1000;

pub(super) struct PageToStore<'a> {
    pub page: &'a LegacyPage,
    pub raw: &'a str,
    pub warnings: &'a [String],
    pub stripped: usize,
    pub script: Script,
    pub terms: &'a crate::search::ArticleTerms,
}

/// What earlier pages of an import run committed.
#[derive(Debug, Clone, Default)]
pub(super) struct Memo {
    navigation: HashSet<String>,
    breadcrumbs: HashMap<Vec<String>, i32>,
    sources: HashMap<String, i32>,
    /// The site name and footer last used to fill the settings.
    site: Option<(String, Footer)>,
    notices: HashSet<(NoticeKind, String)>,
    /// The headlines of the `home` list as last written, and those of them
    /// that matched no article then (a later page may be that article).
    recommendations: Option<Vec<String>>,
    unlinked: HashSet<String>,
    /// An editor wrote the `home` list: no page of this run replaces it.
    home_kept: bool,
}

/// The curated list the 新聞推薦 block of a page fills.
pub const HOME_LIST: &str = "home";

pub(super) enum Stored {
    /// A new article, and what became of the page's 新聞推薦 (`None` when it
    /// had none or they were already the list).
    New(i32, Option<ListFill>),
    Existing(i32),
}

/// Writes a parsed page; the caller wraps this in one transaction.
pub(super) fn store_page(
    conn: &mut AnyConnection,
    importer: &Importer<'_>,
    memo: &mut Memo,
    input: &PageToStore<'_>,
) -> Result<Stored, AppError> {
    let page = input.page;
    let published_at = db::to_db_time(page.published_at);
    let key = import_key(page);
    if let Some(id) = articles::id_by_import_key(conn, &key)? {
        return Ok(Stored::Existing(id));
    }
    let script = input.script;
    let site = Some((page.site_name.clone(), page.footer.clone()));
    if memo.site != site {
        fill_site_settings(conn, page, script)?;
        memo.site = site;
    }
    for (position, name) in page.navigation.iter().enumerate() {
        if !memo.navigation.insert(name.clone()) {
            continue;
        }
        if sections::find_by_name(conn, name, None)?.is_none() {
            sections::create(
                conn,
                &sections::NewSection {
                    name,
                    parent_id: None,
                    kind: SectionKind::Topic,
                    position: position as i32,
                    in_navigation: true,
                },
            )?;
        }
    }
    let section_id = match memo.breadcrumbs.get(&page.breadcrumb) {
        Some(id) => *id,
        None => {
            let id = breadcrumb_section(conn, page)?;
            memo.breadcrumbs.insert(page.breadcrumb.clone(), id);
            id
        }
    };
    let source_id = match &page.source {
        Some(name) => Some(match memo.sources.get(name) {
            Some(id) => *id,
            None => {
                let owned = importer.owned_sources.iter().any(|s| s == name);
                let id = sources::find_or_create(conn, name, owned)?;
                memo.sources.insert(name.clone(), id);
                id
            }
        }),
        None => None,
    };
    let now = db::now();
    let base_slug = slugify(&page.title, 60)
        .map(|s| s.to_string())
        .unwrap_or_else(|| "article".into());
    let slug = articles::unique_slug(conn, &base_slug, articles::Viewer::SYSTEM)?;
    let body = crate::body::Body::from_paragraphs(&page.paragraphs).to_stored();
    let new = articles::NewArticle {
        slug,
        title: page.title.clone(),
        original_title: None,
        summary: summary(page),
        body,
        body_format: crate::domain::BLOCKS.into(),
        raw_text: Some(input.raw.to_string()),
        script: script_name(script).into(),
        section_id,
        source_id,
        owner_id: None,
        status: ArticleStatus::Published.as_str().into(),
        published_at: Some(published_at),
        created_at: now,
        updated_at: now,
        revision: 1,
        import_key: Some(key),
        import_warnings: serde_json::to_string(input.warnings)
            .map_err(|e| AppError::Internal(e.to_string()))?,
        ruby_stripped_count: input.stripped as i32,
    };
    let article_id = articles::insert(conn, &new)?;
    let mut credits: Vec<(String, CreditRole)> = page
        .byline
        .iter()
        .map(|c| (c.name.clone(), c.role))
        .collect();
    if let Some(editor) = &page.editor {
        credits.push((editor.clone(), CreditRole::Editor));
    }
    contributors::set_credits(conn, article_id, &credits)?;
    crate::db::placements::refresh(conn, article_id)?;
    crate::search::write_terms(conn, article_id, input.terms)?;
    for template in &page.notices {
        if !memo.notices.insert((template.kind, template.text.clone())) {
            continue;
        }
        notices::add_version(
            conn,
            template.kind,
            &template.text,
            template.window_days,
            published_at,
        )?;
    }
    if memo.unlinked.contains(&page.title) {
        memo.recommendations = None;
    }
    let new_headlines = !page.recommendations.is_empty()
        && memo.recommendations.as_ref() != Some(&page.recommendations);
    let mut list_fill = None;
    if new_headlines && memo.home_kept {
        list_fill = Some(ListFill::KeptEditorList);
    } else if new_headlines {
        let mut items = Vec::with_capacity(page.recommendations.len());
        for (position, headline) in page.recommendations.iter().enumerate() {
            items.push(recommendations::ItemRow {
                position: position as i32,
                headline: headline.clone(),
                url: None,
                article_id: articles::published_id_by_title(conn, headline)?,
            });
        }
        match recommendations::fill_imported_list(conn, HOME_LIST, &items)? {
            recommendations::Fill::Written => {
                memo.unlinked = items
                    .iter()
                    .filter(|i| i.article_id.is_none())
                    .map(|i| i.headline.clone())
                    .collect();
                memo.recommendations = Some(page.recommendations.clone());
                list_fill = Some(ListFill::Filled);
            }
            recommendations::Fill::KeptEditorList => {
                memo.home_kept = true;
                list_fill = Some(ListFill::KeptEditorList);
            }
        }
    }
    record_revision_and_audit(conn, article_id, &new, now)?;
    Ok(Stored::New(article_id, list_fill))
}

fn summary(page: &LegacyPage) -> String {
    summarize(&page.paragraphs, SUMMARY_CHARS)
}

/// The terms `store_page` indexes: the same text `search::index_article`
/// reads back from the stored article, credits and source.
pub(super) fn search_terms(page: &LegacyPage) -> crate::search::ArticleTerms {
    let mut names: Vec<&str> = page.byline.iter().map(|c| c.name.as_str()).collect();
    names.extend(page.editor.as_deref());
    names.extend(page.source.as_deref());
    let rest = crate::search::indexed_text(&summary(page), &page.paragraphs, &names);
    crate::search::ArticleTerms::of(&page.title, &rest)
}

fn import_key(page: &LegacyPage) -> String {
    format!(
        "{}|{}|{}",
        page.source.as_deref().unwrap_or(""),
        page.published_at.to_rfc3339(),
        page.title
    )
}

fn script_name(script: Script) -> &'static str {
    match script {
        Script::Hans => "hans",
        _ => "hant",
    }
}

/// Fills only the settings that are still empty, so a page never overwrites
/// what an administrator set.
fn fill_site_settings(
    conn: &mut AnyConnection,
    page: &LegacyPage,
    script: Script,
) -> Result<(), AppError> {
    let before = site::load(conn)?;
    let mut row = before.clone();
    let footer = &page.footer;
    let fill = |field: &mut String, value: Option<&String>| {
        if field.is_empty() {
            if let Some(v) = value {
                field.clone_from(v);
            }
        }
    };
    fill(&mut row.name, Some(&page.site_name));
    fill(&mut row.copyright_holder, footer.copyright_holder.as_ref());
    fill(&mut row.address, footer.address.as_ref());
    fill(&mut row.postcode, footer.postcode.as_ref());
    fill(&mut row.email, footer.email.as_ref());
    fill(&mut row.icp_filing, footer.icp_filing.as_ref());
    fill(
        &mut row.news_service_filing,
        footer.news_service_filing.as_ref(),
    );
    fill(&mut row.complaint_phone, footer.complaint_phone.as_ref());
    fill(&mut row.complaint_email, footer.complaint_email.as_ref());
    // The first page imported tells which script the site writes in.
    if before.name.is_empty() {
        row.default_script = script_name(script).into();
    }
    if row != before {
        row.updated_at = db::now();
        site::save(conn, &row)?;
    }
    Ok(())
}

/// The section at the end of the breadcrumb, creating missing levels. Levels
/// not in the navigation line are regional channels on the legacy site.
fn breadcrumb_section(conn: &mut AnyConnection, page: &LegacyPage) -> Result<i32, AppError> {
    let mut parent: Option<i32> = None;
    for name in &page.breadcrumb {
        let id = match sections::find_by_name(conn, name, parent)? {
            Some(id) => id,
            None => sections::create(
                conn,
                &sections::NewSection {
                    name,
                    parent_id: parent,
                    kind: SectionKind::Region,
                    position: OFF_NAVIGATION_POSITION,
                    in_navigation: false,
                },
            )?,
        };
        parent = Some(id);
    }
    match parent {
        Some(id) => Ok(id),
        // The parser guarantees a breadcrumb; a page without one has no home.
        None => Err(AppError::BadInput(
            "the page has no section in its breadcrumb".into(),
        )),
    }
}

fn record_revision_and_audit(
    conn: &mut AnyConnection,
    article_id: i32,
    new: &articles::NewArticle,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let snapshot = serde_json::json!({
        "title": new.title,
        "summary": new.summary,
        "body": new.body,
        "section_id": new.section_id,
        "source_id": new.source_id,
        "status": new.status,
        "published_at": new.published_at,
    });
    diesel::insert_into(article_revisions::table)
        .values((
            article_revisions::article_id.eq(article_id),
            article_revisions::revision.eq(1),
            article_revisions::snapshot.eq(snapshot.to_string()),
            article_revisions::created_at.eq(now),
        ))
        .execute(conn)?;
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::actor_role.eq("system"),
            audit_events::action.eq("article.import"),
            audit_events::target_type.eq("article"),
            audit_events::target_id.eq(article_id),
            audit_events::revision_after.eq(1),
            audit_events::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
