//! Takedown requests as the legal desk handles them. Each function takes
//! values already parsed and the caller's right already checked, and runs
//! one transaction: the state change the case's rules
//! ([`crate::domain::takedown`]) allow from the state stored, the legal
//! holds it places or releases (withdrawing or reinstating articles with
//! their revisions, audit events and cache purges), the request's immutable
//! event and the audit event.

use chrono::{Duration, NaiveDateTime};
use diesel::Connection;

use crate::db::audit::{self, Actor, Event};
use crate::db::takedowns::{self, NewTakedown, TakedownRow, Target};
use crate::db::{article_writes, articles, contributors, media_holds, AnyConnection, Database, Tx};
use crate::domain::legal_notices::{CounterNotice, InvalidNotice, TakedownNotice};
use crate::domain::takedown::{self, Decision, Forward, Holds, Transition};
use crate::domain::CacheKey;
use crate::domain::{CreditRole, TakedownState};
use crate::error::AppError;

/// Requests one account may file per hour.
const FILINGS_PER_HOUR: i64 = 20;

/// Who files a request.
#[derive(Debug, Clone)]
pub struct Filer {
    pub actor: Actor,
    pub user_id: i32,
    /// Files for themselves (a claimant account), not on behalf of someone.
    pub is_claimant: bool,
}

/// Files `notice` received at `now`: flagged late when an article's
/// publication is past the window, refused past the hourly limit.
pub async fn submit(
    db: &Database,
    filer: Filer,
    notice: TakedownNotice,
    now: NaiveDateTime,
) -> Result<TakedownRow, AppError> {
    db.write(move |conn| {
        conn.transaction(|conn| {
            takedowns::lock_filings(conn, filer.user_id)?;
            if takedowns::filed_since(conn, filer.user_id, now - Duration::hours(1))?
                >= FILINGS_PER_HOUR
            {
                return Err(AppError::RateLimited(format!(
                    "at most {FILINGS_PER_HOUR} requests an hour per account"
                )));
            }
            let late = any_late(conn, &notice.articles, now)?;
            known_media(conn, &notice.media)?;
            let new = new_takedown(&filer, notice, late, now);
            let id = takedowns::create(conn, &new, &filer.actor)?;
            audit_event(
                conn,
                &filer.actor,
                id,
                "takedown.submit",
                takedown::FILED,
                takedown::FILED,
            )?;
            takedowns::by_id(conn, id)?.ok_or(AppError::NotFound)
        })
    })
    .await
}

/// Takes `decision` on request `id`, with `note` on its trail. It succeeds
/// only from the state stored when it began: of two deciders, one wins.
pub async fn decide(
    db: &Database,
    actor: Actor,
    id: i32,
    decision: Decision,
    note: String,
) -> Result<TakedownRow, AppError> {
    db.transact(actor, move |tx| {
        let row = takedowns::by_id(tx.conn(), id)?.ok_or(AppError::NotFound)?;
        let step = decision.take(row.case()?)?;
        record(tx, &row, decision, &step, &note)
    })
    .await
}

/// The article's side answers accepted request `id`. A caller who may not
/// read every request (`reads_unreviewed`) gets `NOT_FOUND` for one legal
/// has not looked at yet, before its state can say anything.
pub async fn file_counter_notice(
    db: &Database,
    actor: Actor,
    filed_by: i32,
    reads_unreviewed: bool,
    id: i32,
    answer: CounterNotice,
) -> Result<TakedownRow, AppError> {
    db.transact(actor, move |tx| {
        let conn = tx.conn();
        let row = takedowns::by_id(conn, id)?
            .filter(|r| {
                reads_unreviewed || r.state().is_ok_and(TakedownState::is_shown_to_article_side)
            })
            .ok_or(AppError::NotFound)?;
        let step = Decision::FileCounterNotice.take(row.case()?)?;
        takedowns::add_counter_notice(conn, id, &answer, filed_by)?;
        record(tx, &row, Decision::FileCounterNotice, &step, "")
    })
    .await
}

/// Carries out `step` of `row`: its holds, the state change, the trail and
/// the audit event. Returns the request as it now is.
fn record(
    tx: &mut Tx<'_>,
    row: &TakedownRow,
    decision: Decision,
    step: &Transition,
    note: &str,
) -> Result<TakedownRow, AppError> {
    let mut articles = change_holds(tx, row, step.holds)?;
    let pictures = change_media_holds(tx, row, step.holds)?;
    let actor = tx.actor();
    let conn = tx.conn();
    for picture in &pictures {
        for id in crate::db::media::articles_using(conn, &picture.id)? {
            if !articles.contains(&id) {
                articles.push(id);
            }
        }
    }
    let forwarded = forward(conn, row, step.forward, &articles, &pictures)?;
    takedowns::transition(conn, row, step)?;
    takedowns::add_event(
        conn,
        row.id,
        actor,
        Some(step.from),
        step.to,
        note,
        &forwarded,
    )?;
    audit_event(
        conn,
        actor,
        row.id,
        audit_action(decision),
        step.from,
        step.to,
    )?;
    takedowns::by_id(conn, row.id)?.ok_or(AppError::NotFound)
}

/// Places or releases the request's hold on each article it names; other
/// requests' holds stay. Returns the articles touched.
fn change_holds(tx: &mut Tx<'_>, row: &TakedownRow, holds: Holds) -> Result<Vec<i32>, AppError> {
    if holds == Holds::Keep {
        return Ok(vec![]);
    }
    let ids = takedowns::target_articles(tx.conn(), row.id)?;
    for article in &ids {
        match holds {
            Holds::Place => article_writes::place_hold(tx, *article, row.id)?,
            Holds::Release => article_writes::release_hold(tx, *article, row.id)?,
            Holds::Keep => {}
        }
    }
    Ok(ids)
}

/// Places or releases the request's hold on each picture it names. A
/// picture whose state changed withholds (or shows again) everywhere it is
/// used: each article showing it is logged as changed (search terms, live
/// updates) and its cached pages purged, with the renditions' CDN key.
/// Returns the pictures named, as stored after the change.
fn change_media_holds(
    tx: &mut Tx<'_>,
    row: &TakedownRow,
    holds: Holds,
) -> Result<Vec<crate::db::media::MediaRow>, AppError> {
    if holds == Holds::Keep {
        return Ok(vec![]);
    }
    let ids = takedowns::target_media(tx.conn(), row.id)?;
    for id in &ids {
        let actor = tx.actor();
        let changed = match holds {
            Holds::Place => media_holds::place(tx.conn(), id, row.id, actor)?,
            Holds::Release => media_holds::release(tx.conn(), id, row.id, actor)?,
            Holds::Keep => false,
        };
        if !changed {
            continue;
        }
        let using = crate::db::media::articles_using(tx.conn(), id)?;
        for article in &using {
            tx.article_changed(*article);
        }
        tx.touch(using.iter().map(|a| CacheKey::Article(*a)));
        tx.touch([CacheKey::Media(id.clone()), CacheKey::Articles]);
        tx.audit(Event::action(
            if holds == Holds::Place {
                "media.hold_placed"
            } else {
                "media.hold_released"
            },
            "media",
            None,
            serde_json::json!({ "media": id, "takedown": format!("TD-{}", row.id), "articles": using }),
        ));
    }
    crate::db::media::by_ids(tx.conn(), &ids)
}

/// Each picture a notice names must exist (withheld ones included: a
/// second rights holder may claim a picture already withdrawn).
fn known_media(conn: &mut AnyConnection, ids: &[String]) -> Result<(), AppError> {
    let found = crate::db::media::by_ids(conn, ids)?;
    match ids.iter().position(|id| !found.iter().any(|m| &m.id == id)) {
        Some(i) => Err(InvalidNotice::UnknownMedia(i).into()),
        None => Ok(()),
    }
}

/// Who the step goes to, queuing the notice for the article's side: the
/// articles' contributors and editors (those named, and those showing a
/// picture named) and each picture's photographer (or its credit line).
fn forward(
    conn: &mut AnyConnection,
    row: &TakedownRow,
    to: Forward,
    articles: &[i32],
    pictures: &[crate::db::media::MediaRow],
) -> Result<Vec<String>, AppError> {
    match to {
        Forward::Nobody => Ok(vec![]),
        // Art. 17: the counter-notice goes to the rights holder.
        Forward::Claimant => Ok(vec![format!("claimant:{}", row.claimant_name)]),
        // Art. 15: the notice goes to whoever supplied the work.
        Forward::ArticleSide => {
            let mut forwarded = article_side(conn, articles)?;
            for picture in pictures {
                let maker = match &picture.photographer {
                    Some(name) => format!("photographer:{name}"),
                    None if !picture.credit.is_empty() => format!("credit:{}", picture.credit),
                    None => continue,
                };
                if !forwarded.contains(&maker) {
                    forwarded.push(maker);
                }
            }
            crate::db::webhooks::enqueue(
                conn,
                "takedown.forwarded",
                &serde_json::json!({
                    "event": "takedown.forwarded",
                    "request": format!("TD-{}", row.id),
                    "articles": articles,
                    "media": pictures.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
                    "forwardedTo": forwarded,
                    "claimant": row.claimant_name,
                    "reason": row.reason,
                }),
            )?;
            Ok(forwarded)
        }
    }
}

/// The contributors and the responsible editor of each article.
fn article_side(conn: &mut AnyConnection, article_ids: &[i32]) -> Result<Vec<String>, AppError> {
    let mut names: Vec<String> = Vec::new();
    for c in contributors::credits_of(conn, article_ids)? {
        let label = match c.role {
            CreditRole::Editor => format!("editor:{}", c.name),
            _ => format!("contributor:{}", c.name),
        };
        if !names.contains(&label) {
            names.push(label);
        }
    }
    Ok(names)
}

/// Whether any of the articles was published longer ago than the window.
/// Each must be one readers can see or one withdrawn by a hold: a withdrawn
/// article is announced (451), so a second rights holder may claim it too.
fn any_late(
    conn: &mut AnyConnection,
    article_ids: &[i32],
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let mut late = false;
    for (i, id) in article_ids.iter().enumerate() {
        match articles::by_ids(conn, &[*id])?.into_iter().next() {
            Some(a) if a.is_public_at(now) || a.is_withdrawn_at(now) => {
                late |= takedown::is_late(a.published_at, now);
            }
            _ => return Err(InvalidNotice::UnknownArticle(i).into()),
        }
    }
    Ok(late)
}

fn new_takedown(
    filer: &Filer,
    notice: TakedownNotice,
    late: bool,
    now: NaiveDateTime,
) -> NewTakedown {
    let mut targets: Vec<Target> = notice
        .articles
        .iter()
        .map(|id| Target::Article(*id))
        .collect();
    targets.extend(notice.media.into_iter().map(Target::Media));
    targets.extend(notice.urls.into_iter().map(Target::Url));
    NewTakedown {
        claimant_user_id: filer.is_claimant.then_some(filer.user_id),
        filed_by_user_id: filer.user_id,
        claimant_name: notice.claimant_name,
        organisation: notice.organisation,
        contact_phone: notice.contact_phone,
        contact_email: notice.contact_email,
        contact_address: notice.contact_address,
        rights_statement: notice.rights_statement,
        evidence_links: notice.evidence_links,
        reason: notice.reason,
        late,
        received_at: now,
        respond_by: takedown::respond_by(now),
        targets,
    }
}

/// The audit log's name for a decision.
fn audit_action(decision: Decision) -> &'static str {
    match decision {
        Decision::StartReview => "takedown.review",
        Decision::WithdrawProvisionally => "takedown.withdraw_provisionally",
        Decision::Accept => "takedown.accept",
        Decision::Reject => "takedown.reject",
        Decision::FileCounterNotice => "takedown.counter_notice",
        Decision::Restore => "takedown.restore",
        Decision::Uphold => "takedown.uphold",
    }
}

fn audit_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    action: &str,
    from: TakedownState,
    to: TakedownState,
) -> Result<(), AppError> {
    audit::record_action(
        conn,
        actor,
        action,
        "takedown",
        Some(id),
        serde_json::json!({ "from": from.as_str(), "to": to.as_str() }),
    )
}
