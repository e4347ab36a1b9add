//! Article writes: every change is part of one transaction ([`Tx`]) that
//! bumps the revision, stores a full revision snapshot, records an audit
//! event and names what readers may now see differently.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::articles::{self, ArticleRow, NewArticle};
use super::audit::{Actor, Event};
use super::schema::{article_revisions, article_slug_history, articles as articles_table};
use super::{contributors, AnyConnection, Tx};
use crate::domain::{ArticleStatus, CacheKey, CreditRole};
use crate::error::AppError;

/// The editable content of an article, as stored in a revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub body_format: String,
    pub section_id: i32,
    pub source_id: Option<i32>,
    pub credits: Vec<(String, CreditRole)>,
    /// The lead picture's media id (absent from revisions saved before pictures).
    #[serde(default)]
    pub lead_media_id: Option<String>,
    /// Editors' search-engine title and description (absent from revisions
    /// saved before them).
    #[serde(default)]
    pub seo_title: Option<String>,
    #[serde(default)]
    pub seo_description: Option<String>,
}

/// A revision snapshot: the content plus the publication state.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Snapshot {
    #[serde(flatten)]
    content: Content,
    status: String,
    published_at: Option<NaiveDateTime>,
}

fn current_content(conn: &mut AnyConnection, row: &ArticleRow) -> Result<Content, AppError> {
    let credits = contributors::credits_of(conn, &[row.id])?
        .into_iter()
        .map(|c| (c.name, c.role))
        .collect();
    Ok(Content {
        slug: row.shown_slug().to_string(),
        title: row.title.clone(),
        summary: row.summary.clone(),
        body: row.body.clone(),
        body_format: row.body_format.clone(),
        section_id: row.section_id,
        source_id: row.source_id,
        credits,
        lead_media_id: row.lead_media_id.clone(),
        seo_title: row.seo_title.clone(),
        seo_description: row.seo_description.clone(),
    })
}

fn load(conn: &mut AnyConnection, id: i32) -> Result<ArticleRow, AppError> {
    articles::by_ids(conn, &[id])?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
}

fn store_revision(
    conn: &mut AnyConnection,
    row: &ArticleRow,
    content: &Content,
    actor: &Actor,
) -> Result<(), AppError> {
    let snapshot = Snapshot {
        content: content.clone(),
        status: row.status.clone(),
        published_at: row.published_at,
    };
    diesel::insert_into(article_revisions::table)
        .values((
            article_revisions::article_id.eq(row.id),
            article_revisions::revision.eq(row.revision),
            article_revisions::snapshot
                .eq(serde_json::to_string(&snapshot)
                    .map_err(|e| AppError::Internal(e.to_string()))?),
            article_revisions::actor_id.eq(actor.user_id),
            article_revisions::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Creates a draft owned by `owner_id`; returns it.
pub fn create_draft(
    tx: &mut Tx<'_>,
    content: &Content,
    script: &str,
    owner_id: Option<i32>,
) -> Result<ArticleRow, AppError> {
    let actor = tx.actor();
    let conn = tx.conn();
    let (slug, requested_slug) = claim_slug(conn, None, &content.slug, actor, false)?;
    let now = super::now();
    let id = articles::insert(
        conn,
        &NewArticle {
            slug,
            title: content.title.clone(),
            original_title: None,
            summary: content.summary.clone(),
            body: content.body.clone(),
            body_format: content.body_format.clone(),
            raw_text: None,
            script: script.into(),
            section_id: content.section_id,
            source_id: content.source_id,
            owner_id,
            status: ArticleStatus::Draft.as_str().into(),
            published_at: None,
            created_at: now,
            updated_at: now,
            revision: 1,
            import_key: None,
            import_warnings: "[]".into(),
            ruby_stripped_count: 0,
        },
    )?;
    contributors::set_credits(conn, id, &content.credits)?;
    if content.lead_media_id.is_some()
        || content.seo_title.is_some()
        || content.seo_description.is_some()
    {
        diesel::update(articles_table::table.find(id))
            .set((
                articles_table::lead_media_id.eq(&content.lead_media_id),
                articles_table::seo_title.eq(&content.seo_title),
                articles_table::seo_description.eq(&content.seo_description),
            ))
            .execute(conn)?;
    }
    if requested_slug.is_some() {
        diesel::update(articles_table::table.find(id))
            .set(articles_table::requested_slug.eq(&requested_slug))
            .execute(conn)?;
    }
    let row = load(conn, id)?;
    store_revision(conn, &row, content, actor)?;
    tx.article_changed(id);
    tx.audit(Event {
        action: "article.create",
        target_type: "article",
        target_id: Some(id),
        revision_before: None,
        revision_after: Some(1),
        details: serde_json::json!({ "slug": content.slug }),
    });
    Ok(row)
}

/// Where an article's wanted slug goes, as (slug, requested slug).
///
/// A slug is held by the article that has it and by the one that had it
/// before. Held by an article the writer may see: refused. Held by one they
/// may not see: the article keeps the wanted slug as requested and a
/// stand-in as its slug, so the answer is the same as for a free slug.
/// Publishing (`publishing`) settles the slug: a draft that merely holds it
/// is moved to a stand-in of its own, anything else refuses (publishers
/// read every draft, so nothing hidden is revealed).
fn claim_slug(
    conn: &mut AnyConnection,
    own_id: Option<i32>,
    wanted: &str,
    actor: &Actor,
    publishing: bool,
) -> Result<(String, Option<String>), AppError> {
    let viewer = articles::Viewer::of(actor);
    let now = super::now();
    // Before publication, an article the writer sees that asked for the
    // slug counts as using it too; publishing settles who gets it.
    let visible_request = !publishing
        && articles::slug_requesters(conn, wanted)?
            .iter()
            .any(|r| Some(r.id) != own_id && viewer.sees(r, now));
    if visible_request {
        return Err(AppError::BadInput(format!(
            "slug: {wanted:?} is already used"
        )));
    }
    let mut hidden_holder = false;
    for holder in articles::slug_holders(conn, wanted)? {
        if Some(holder.id) == own_id {
            continue;
        }
        if publishing && !holder.slug_reserved() && holder.slug == wanted {
            set_slug(conn, holder.id, &stand_in(wanted), Some(wanted.to_string()))?;
        } else if publishing || viewer.sees(&holder, now) {
            return Err(AppError::BadInput(format!(
                "slug: {wanted:?} is already used"
            )));
        } else {
            hidden_holder = true;
        }
    }
    Ok(if hidden_holder {
        (stand_in(wanted), Some(wanted.to_string()))
    } else {
        (wanted.to_string(), None)
    })
}

/// A unique slug that no reader ever uses: `~` is not allowed in slugs.
fn stand_in(wanted: &str) -> String {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    format!("{wanted}~{}", &nonce[..12])
}

/// Writes an article's slug and requested slug, outside its revisions (the
/// slug it is known by does not change).
fn set_slug(
    conn: &mut AnyConnection,
    id: i32,
    slug: &str,
    requested: Option<String>,
) -> Result<(), AppError> {
    diesel::update(articles_table::table.find(id))
        .set((
            articles_table::slug.eq(slug),
            articles_table::requested_slug.eq(requested),
        ))
        .execute(conn)?;
    Ok(())
}

/// Applies `change` to the article if its revision is still `expected`
/// (optimistic concurrency); `check` sees the current row first and may
/// refuse. Returns the new row; audits it as `action`.
pub fn change(
    tx: &mut Tx<'_>,
    id: i32,
    expected: Option<i32>,
    action: &'static str,
    check: impl FnOnce(&ArticleRow) -> Result<(), AppError>,
    change: impl FnOnce(
        &mut AnyConnection,
        &ArticleRow,
        &mut Content,
        &mut Status,
    ) -> Result<(), AppError>,
) -> Result<ArticleRow, AppError> {
    let actor = tx.actor();
    let conn = tx.conn();
    let before = load(conn, id)?;
    check(&before)?;
    let revision = expected.unwrap_or(before.revision);
    if revision != before.revision {
        return Err(stale(before.revision));
    }
    let old_content = current_content(conn, &before)?;
    let mut content = old_content.clone();
    let mut status = Status {
        status: before.status()?,
        published_at: before.published_at,
    };
    change(conn, &before, &mut content, &mut status)?;
    refuse_publishing_past_hold(&before, &status)?;
    let slug_changed = content.slug != old_content.slug;
    let settling = status.status.is_live() && before.requested_slug.is_some();
    let (slug, requested_slug) = if slug_changed || settling {
        let placed = claim_slug(
            conn,
            Some(id),
            &content.slug,
            actor,
            status.status.is_live(),
        )?;
        // Only a slug readers may have seen keeps leading here.
        if slug_changed && before.slug_reserved() && before.requested_slug.is_none() {
            diesel::insert_into(article_slug_history::table)
                .values((
                    article_slug_history::slug.eq(&before.slug),
                    article_slug_history::article_id.eq(id),
                    article_slug_history::created_at.eq(super::now()),
                ))
                .execute(conn)?;
        }
        placed
    } else {
        (before.slug.clone(), before.requested_slug.clone())
    };
    // The WHERE on the revision makes two racing writers produce exactly one change.
    let updated = diesel::update(
        articles_table::table
            .filter(articles_table::id.eq(id))
            .filter(articles_table::revision.eq(revision)),
    )
    .set((
        articles_table::slug.eq(&slug),
        articles_table::requested_slug.eq(&requested_slug),
        articles_table::title.eq(&content.title),
        articles_table::summary.eq(&content.summary),
        articles_table::body.eq(&content.body),
        articles_table::body_format.eq(&content.body_format),
        articles_table::section_id.eq(content.section_id),
        articles_table::source_id.eq(content.source_id),
        articles_table::lead_media_id.eq(&content.lead_media_id),
        articles_table::seo_title.eq(&content.seo_title),
        articles_table::seo_description.eq(&content.seo_description),
        articles_table::status.eq(status.status.as_str()),
        articles_table::published_at.eq(status.published_at),
        articles_table::revision.eq(revision + 1),
        articles_table::updated_at.eq(super::now()),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(stale(load(conn, id)?.revision));
    }
    if content.credits != old_content.credits {
        contributors::set_credits(conn, id, &content.credits)?;
    }
    let after = load(conn, id)?;
    store_revision(conn, &after, &content, actor)?;
    announce(conn, action, &before, &after)?;
    let now = super::now();
    if before.is_public_at(now) || after.is_public_at(now) {
        let moved = before.section_id != after.section_id;
        if moved || before.is_public_at(now) != after.is_public_at(now) {
            mark_public_change(conn, id, now)?;
        }
        tx.touch(article_keys(&before, &after));
    }
    tx.article_changed(id);
    tx.audit(Event {
        action,
        target_type: "article",
        target_id: Some(id),
        revision_before: Some(before.revision),
        revision_after: Some(after.revision),
        details: serde_json::json!({
            "status_before": before.status,
            "status_after": after.status,
        }),
    });
    Ok(after)
}

/// Publishing or scheduling an article while a legal hold is active would
/// put it back in front of readers past the hold: refused. Text edits of a
/// held article go through as usual.
fn refuse_publishing_past_hold(before: &ArticleRow, status: &Status) -> Result<(), AppError> {
    let was_live = before.status().is_ok_and(ArticleStatus::is_live);
    let goes_live =
        status.status.is_live() && (!was_live || status.published_at != before.published_at);
    if before.is_held() && goes_live {
        return Err(AppError::LegalHold(
            "a legal hold is active on this article: it cannot be published or scheduled until the hold is released".into(),
        ));
    }
    Ok(())
}

/// Records that the article entered or left public view (or a section's
/// view) at `now`: feeds take their `Last-Modified` from it.
fn mark_public_change(
    conn: &mut AnyConnection,
    id: i32,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::update(articles_table::table.find(id))
        .set(articles_table::public_changed_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}

/// Every list the article was or is in may show it: those keys, the
/// removal feed's among them.
fn article_keys(before: &ArticleRow, after: &ArticleRow) -> [CacheKey; 5] {
    [
        CacheKey::Article(after.id),
        CacheKey::Section(before.section_id),
        CacheKey::Section(after.section_id),
        CacheKey::Articles,
        CacheKey::Removed,
    ]
}

/// Queues the webhook event a change means for the public, if any.
fn announce(
    conn: &mut AnyConnection,
    action: &str,
    before: &ArticleRow,
    after: &ArticleRow,
) -> Result<(), AppError> {
    let now = super::now();
    let event = match action {
        "article.publish" if after.is_public_at(now) => "article.published",
        "article.unpublish" if before.is_public_at(now) => "article.unpublished",
        "article.withdraw" if before.is_public_at(now) && !after.is_public_at(now) => {
            "article.withdrawn"
        }
        "article.restore" if !before.is_public_at(now) && after.is_public_at(now) => {
            "article.restored"
        }
        _ if after.is_public_at(now) && before.is_public_at(now) => "article.updated",
        _ => return Ok(()),
    };
    super::webhooks::enqueue(
        conn,
        event,
        &serde_json::json!({
            "event": event,
            "id": uuid::Uuid::new_v4().to_string(),
            "occurredAt": now.and_utc().to_rfc3339(),
            "article": {
                "id": after.id,
                "slug": after.slug,
                "revision": after.revision,
                "status": after.status,
            },
        }),
    )
}

fn stale(current: i32) -> AppError {
    AppError::Conflict(format!(
        "expectedRevision is stale: the article is at revision {current}"
    ))
}

/// The publication state a change may set.
#[derive(Debug, Clone)]
pub struct Status {
    pub status: ArticleStatus,
    pub published_at: Option<NaiveDateTime>,
}

/// The content of an earlier revision.
pub fn revision_content(
    conn: &mut AnyConnection,
    id: i32,
    revision: i32,
) -> Result<Content, AppError> {
    let snapshot: String = article_revisions::table
        .filter(article_revisions::article_id.eq(id))
        .filter(article_revisions::revision.eq(revision))
        .select(article_revisions::snapshot)
        .first(conn)
        .optional()?
        .ok_or_else(|| {
            AppError::BadInput(format!("revision: article has no revision {revision}"))
        })?;
    let snapshot: Snapshot =
        serde_json::from_str(&snapshot).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(snapshot.content)
}

/// One stored revision, for `article.revisions`.
#[derive(Debug, Clone)]
pub struct RevisionRow {
    pub revision: i32,
    pub actor_id: Option<i32>,
    pub created_at: NaiveDateTime,
    pub title: String,
    pub status: String,
}

/// Every revision of an article, newest first.
pub fn revisions(conn: &mut AnyConnection, id: i32) -> Result<Vec<RevisionRow>, AppError> {
    let rows: Vec<(i32, Option<i32>, NaiveDateTime, String)> = article_revisions::table
        .filter(article_revisions::article_id.eq(id))
        .order(article_revisions::revision.desc())
        .select((
            article_revisions::revision,
            article_revisions::actor_id,
            article_revisions::created_at,
            article_revisions::snapshot,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(revision, actor_id, created_at, snapshot)| {
            let value: serde_json::Value =
                serde_json::from_str(&snapshot).map_err(|e| AppError::Internal(e.to_string()))?;
            Ok(RevisionRow {
                revision,
                actor_id,
                created_at,
                title: value["title"].as_str().unwrap_or_default().to_string(),
                status: value["status"].as_str().unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// Places request `takedown_id`'s legal hold on an article, withdrawing it
/// from readers if it was public. The editorial status is left as it is; an
/// article already held by another request stays held. Audited; announced
/// and purged when public view changes.
pub fn place_hold(tx: &mut Tx<'_>, id: i32, takedown_id: i32) -> Result<(), AppError> {
    change_hold(tx, id, takedown_id, true)
}

/// Releases request `takedown_id`'s hold on an article. It comes back to
/// readers only if that was its last hold and its editorial status is public.
pub fn release_hold(tx: &mut Tx<'_>, id: i32, takedown_id: i32) -> Result<(), AppError> {
    change_hold(tx, id, takedown_id, false)
}

fn change_hold(tx: &mut Tx<'_>, id: i32, takedown_id: i32, place: bool) -> Result<(), AppError> {
    let actor = tx.actor();
    let conn = tx.conn();
    let before = load(conn, id)?;
    let changed = if place {
        super::holds::place(conn, id, takedown_id, actor)?
    } else {
        super::holds::release(conn, id, takedown_id, actor)?
    };
    if !changed {
        return Ok(());
    }
    let after = load(conn, id)?;
    let action = if place {
        "article.withdraw"
    } else {
        "article.restore"
    };
    let now = super::now();
    let visibility_changed = before.is_public_at(now) != after.is_public_at(now);
    if visibility_changed {
        mark_public_change(conn, id, now)?;
        announce(conn, action, &before, &after)?;
    }
    // Also when hidden either way: a scheduled article under a hold must
    // not appear in lists when its time comes (see `placements`).
    tx.article_changed(id);
    // The tombstone's references change with every hold, public or not.
    tx.touch(article_keys(&before, &after));
    tx.audit(Event {
        action: if place {
            "article.hold_placed"
        } else {
            "article.hold_released"
        },
        target_type: "article",
        target_id: Some(id),
        revision_before: Some(before.revision),
        revision_after: Some(after.revision),
        details: serde_json::json!({
            "takedown": format!("TD-{takedown_id}"),
            "held_before": before.is_held(),
            "held_after": after.is_held(),
        }),
    });
    Ok(())
}

/// Scheduled articles whose time has come by `now`, as (id, revision).
pub fn scheduled_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(i32, i32)>, AppError> {
    Ok(articles_table::table
        .filter(articles_table::status.eq(ArticleStatus::Scheduled.as_str()))
        .filter(articles_table::published_at.le(now))
        // A held article waits for its last hold to be released.
        .filter(articles_table::held_since.is_null())
        .order(articles_table::published_at)
        .limit(limit)
        .select((articles_table::id, articles_table::revision))
        .load(conn)?)
}

/// When the longest-overdue scheduled article (not held) was due: how far
/// the scheduler is behind, for `/metrics`.
pub fn oldest_overdue(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, AppError> {
    Ok(articles_table::table
        .filter(articles_table::status.eq(ArticleStatus::Scheduled.as_str()))
        .filter(articles_table::published_at.le(now))
        .filter(articles_table::held_since.is_null())
        .select(diesel::dsl::min(articles_table::published_at))
        .first::<Option<NaiveDateTime>>(conn)?)
}

/// Turns a scheduled article whose time has come into a published one, at
/// `revision`: of several nodes trying, the revision check lets exactly one
/// succeed; the others get `CONFLICT` (as does an article no longer due).
pub fn publish_scheduled(
    tx: &mut Tx<'_>,
    id: i32,
    revision: i32,
    now: NaiveDateTime,
) -> Result<ArticleRow, AppError> {
    change(
        tx,
        id,
        Some(revision),
        "article.publish",
        |row| {
            let due = row.status().is_ok_and(|s| s == ArticleStatus::Scheduled)
                && row.published_at.is_some_and(|at| at <= now);
            if due && !row.is_held() {
                Ok(())
            } else {
                Err(AppError::Conflict("no longer due".into()))
            }
        },
        |_, _, _, status| {
            status.status = ArticleStatus::Published;
            Ok(())
        },
    )
}
