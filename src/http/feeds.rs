//! `/feeds/{section}.rss|.atom|.json` (`all` for the whole site): the newest
//! 50 public articles. Without a partner key items carry summaries; with one,
//! the full text of articles the site owns. Reprints are never syndicated in
//! full.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::partner::partner;
use crate::db::articles::{self, PublicQuery};
use crate::db::notices::{self, in_force};
use crate::db::{self, contributors, sections, site, sources};
use crate::domain::{CreditRole, NoticeKind};
use crate::error::AppError;
use crate::graphql::{AppState, Script};
use crate::syndication::{self, FeedItem, FeedMeta};
use crate::text::script::Script as TextScript;

/// Items in a feed.
pub const FEED_SIZE: i64 = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/feeds/{name}", web::get().to(feed));
}

#[derive(Debug, Deserialize)]
struct FeedParams {
    script: Option<String>,
}

/// `hans`, `hant` … from a query string.
pub fn script_param(value: Option<&str>) -> Result<Script, AppError> {
    match value.map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("original") => Ok(Script::Original),
        Some("hans") => Ok(Script::Hans),
        Some("hant") => Ok(Script::Hant),
        Some("hant-tw") | Some("hant_tw") => Ok(Script::HantTw),
        Some("hant-hk") | Some("hant_hk") => Ok(Script::HantHk),
        Some(other) => Err(AppError::BadInput(format!(
            "script: expected hans, hant, hant-tw, hant-hk or original, got {other:?}"
        ))),
    }
}

async fn feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
    params: web::Query<FeedParams>,
) -> Result<HttpResponse, AppError> {
    let name = name.into_inner();
    let (section, format) = name
        .rsplit_once('.')
        .filter(|(_, ext)| matches!(*ext, "rss" | "atom" | "json"))
        .map(|(s, e)| (s.to_string(), e.to_string()))
        .ok_or(AppError::NotFound)?;
    let script = script_param(params.script.as_deref())?;
    let partner = partner(&state, &req).await?;
    let full_text_allowed = partner.is_some();
    let now = db::now();
    let base = state.config.public_base_url.clone();
    let data = state
        .db
        .run(move |conn| load(conn, &section, now, full_text_allowed))
        .await?;
    let convert = |text: &str, stored: TextScript| match script.target() {
        Some(t) => state.converter.convert(text, stored, t).into_owned(),
        None => text.to_string(),
    };
    let site_script = stored(&data.site.default_script);
    let tz: chrono_tz::Tz = data
        .site
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let local = |t: chrono::NaiveDateTime| t.and_utc().with_timezone(&tz).fixed_offset();
    let items: Vec<FeedItem> = data
        .items
        .iter()
        .map(|raw| {
            let s = stored(&raw.row.script);
            FeedItem {
                id: raw.row.id,
                url: format!("{base}/a/{}-{}", raw.row.id, raw.row.slug),
                title: convert(&raw.row.title, s),
                summary: convert(&raw.row.summary, s),
                full_text: raw
                    .full_text
                    .then(|| raw.row.paragraphs().iter().map(|p| convert(p, s)).collect()),
                published: local(raw.row.published_at.unwrap_or(raw.row.created_at)),
                updated: local(raw.row.updated_at),
                authors: raw
                    .authors
                    .iter()
                    .map(|a| convert(a, site_script))
                    .collect(),
                editor: raw.editor.as_deref().map(|e| convert(e, site_script)),
                source: raw.source.as_deref().map(|x| convert(x, site_script)),
                owned: raw.owned,
                section: convert(&raw.section, site_script),
                notice: convert(&raw.notice, site_script),
            }
        })
        .collect();
    let updated = items
        .iter()
        .map(|i| i.updated)
        .max()
        .unwrap_or_else(|| local(now));
    let site_name = convert(&data.site.name, site_script);
    let meta = FeedMeta {
        title: match &data.section_name {
            Some(s) => format!("{site_name} – {}", convert(s, site_script)),
            None => site_name,
        },
        home_url: base.clone(),
        feed_url: format!("{base}/feeds/{name}"),
        rights: convert(&data.site.copyright_holder, site_script),
        language: script.language_tag(site_script).to_string(),
        updated,
    };
    let (body, content_type) = match format.as_str() {
        "rss" => (
            syndication::rss(&meta, &items),
            "application/rss+xml; charset=utf-8",
        ),
        "atom" => (
            syndication::atom(&meta, &items),
            "application/atom+xml; charset=utf-8",
        ),
        _ => (
            syndication::json_feed(&meta, &items).to_string(),
            "application/feed+json; charset=utf-8",
        ),
    };
    let mut keys: Vec<String> = items.iter().map(|i| format!("article-{}", i.id)).collect();
    keys.push(match data.section_id {
        Some(id) => format!("section-{id}"),
        None => "articles".into(),
    });
    keys.push("site".into());
    let mut response = HttpResponse::Ok();
    response
        .content_type(content_type)
        .insert_header((header::LAST_MODIFIED, httpdate(updated)))
        .insert_header(("Surrogate-Key", keys.join(" ")))
        .insert_header((header::VARY, "Authorization, X-Api-Key"));
    if full_text_allowed {
        response.insert_header((header::CACHE_CONTROL, "private, no-store"));
    } else {
        response.insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.config.cache_max_age),
        ));
    }
    Ok(response.body(body))
}

/// An HTTP date (RFC 9110 IMF-fixdate).
pub fn httpdate(t: chrono::DateTime<chrono::FixedOffset>) -> String {
    t.to_utc().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn stored(value: &str) -> TextScript {
    match value {
        "hans" => TextScript::Hans,
        _ => TextScript::Hant,
    }
}

struct RawItem {
    row: articles::ArticleRow,
    authors: Vec<String>,
    editor: Option<String>,
    source: Option<String>,
    owned: bool,
    section: String,
    notice: String,
    full_text: bool,
}

struct FeedData {
    site: site::SiteRow,
    section_id: Option<i32>,
    section_name: Option<String>,
    items: Vec<RawItem>,
}

/// Everything a feed shows, in a fixed number of queries.
fn load(
    conn: &mut db::AnyConnection,
    section: &str,
    now: chrono::NaiveDateTime,
    partner: bool,
) -> Result<FeedData, AppError> {
    let all_sections = sections::all(conn)?;
    let mut query = PublicQuery::new(now);
    let (section_id, section_name) = if section == "all" {
        (None, None)
    } else {
        let root = all_sections
            .iter()
            .find(|s| s.slug == section)
            .ok_or(AppError::NotFound)?;
        let mut ids = vec![root.id];
        let mut i = 0;
        while i < ids.len() {
            let parent = ids[i];
            ids.extend(
                all_sections
                    .iter()
                    .filter(|s| s.parent_id == Some(parent))
                    .map(|s| s.id),
            );
            i += 1;
        }
        query.section_ids = Some(ids);
        (Some(root.id), Some(root.name.clone()))
    };
    let rows = articles::list_public(conn, &query, None, articles::Direction::Older, FEED_SIZE)?;
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let mut credits: HashMap<i32, Vec<contributors::CreditRow>> = HashMap::new();
    for c in contributors::credits_of(conn, &ids)? {
        credits.entry(c.article_id).or_default().push(c);
    }
    let source_ids: Vec<i32> = rows.iter().filter_map(|r| r.source_id).collect();
    let source_rows: HashMap<i32, sources::SourceRow> = sources::by_ids(conn, &source_ids)?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let notice_rows = notices::all(conn)?;
    let names: HashMap<i32, String> = all_sections
        .iter()
        .map(|s| (s.id, s.name.clone()))
        .collect();
    let items = rows
        .into_iter()
        .map(|row| {
            let source = row.source_id.and_then(|id| source_rows.get(&id));
            let owned = source.is_none_or(|s| s.owned);
            let kind = if owned {
                NoticeKind::Original
            } else {
                NoticeKind::Reprint
            };
            let at = row.published_at.unwrap_or(now);
            let people = credits.remove(&row.id).unwrap_or_default();
            RawItem {
                authors: people
                    .iter()
                    .filter(|c| c.role != CreditRole::Editor)
                    .map(|c| c.name.clone())
                    .collect(),
                editor: people
                    .iter()
                    .find(|c| c.role == CreditRole::Editor)
                    .map(|c| c.name.clone()),
                source: source.map(|s| s.name.clone()),
                owned,
                section: names.get(&row.section_id).cloned().unwrap_or_default(),
                notice: in_force(&notice_rows, kind, at)
                    .map(|n| n.text.clone())
                    .unwrap_or_default(),
                full_text: partner && owned,
                row,
            }
        })
        .collect();
    Ok(FeedData {
        site: site::load(conn)?,
        section_id,
        section_name,
        items,
    })
}
