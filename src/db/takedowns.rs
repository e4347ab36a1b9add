//! Takedown requests, their targets, counter-notices and the event trail.
//! A state change is a conditional update on the state the caller saw, so
//! two people deciding at once produce exactly one decision.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::Actor;
use super::schema::{counter_notices, takedown_events, takedown_requests, takedown_targets};
use super::AnyConnection;
use crate::domain::legal_notices::CounterNotice;
use crate::domain::takedown::{Case, Transition};
use crate::domain::TakedownState;
use crate::error::AppError;

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = takedown_requests)]
pub struct TakedownRow {
    pub id: i32,
    pub claimant_user_id: Option<i32>,
    pub filed_by_user_id: i32,
    pub claimant_name: String,
    pub organisation: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub contact_address: String,
    pub rights_statement: String,
    pub evidence_links: String,
    pub reason: String,
    pub good_faith: bool,
    pub state: String,
    pub provisionally_withdrawn: bool,
    pub late: bool,
    pub received_at: NaiveDateTime,
    pub respond_by: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

impl TakedownRow {
    pub fn state(&self) -> Result<TakedownState, AppError> {
        self.state.parse().map_err(AppError::Internal)
    }

    /// Where the case stands, for its rules.
    pub fn case(&self) -> Result<Case, AppError> {
        Ok(Case {
            state: self.state()?,
            provisionally_withdrawn: self.provisionally_withdrawn,
        })
    }
}

/// One target of a request: our article, our picture, or a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Article(i32),
    Media(String),
    Url(String),
}

/// What filing a request writes.
#[derive(Debug, Clone)]
pub struct NewTakedown {
    pub claimant_user_id: Option<i32>,
    pub filed_by_user_id: i32,
    pub claimant_name: String,
    pub organisation: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub contact_address: String,
    pub rights_statement: String,
    pub evidence_links: Vec<String>,
    pub reason: String,
    pub late: bool,
    pub received_at: NaiveDateTime,
    pub respond_by: NaiveDateTime,
    pub targets: Vec<Target>,
}

/// One step of the trail.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = takedown_events)]
pub struct EventRow {
    pub id: i32,
    pub takedown_id: i32,
    pub actor_user_id: Option<i32>,
    pub actor_role: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: String,
    pub forwarded_to: String,
    pub request_id: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The counter-notice of a request.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = counter_notices)]
pub struct CounterRow {
    pub takedown_id: i32,
    pub name: String,
    pub contact: String,
    pub address: String,
    pub statement: String,
    pub evidence_links: String,
    pub filed_by_user_id: i32,
    pub filed_at: NaiveDateTime,
}

/// Appends an event of the trail.
pub fn add_event(
    conn: &mut AnyConnection,
    takedown_id: i32,
    actor: &Actor,
    from: Option<TakedownState>,
    to: TakedownState,
    note: &str,
    forwarded_to: &[String],
) -> Result<(), AppError> {
    diesel::insert_into(takedown_events::table)
        .values((
            takedown_events::takedown_id.eq(takedown_id),
            takedown_events::actor_user_id.eq(actor.user_id),
            takedown_events::actor_role.eq(&actor.role),
            takedown_events::from_state.eq(from.map(|s| s.as_str())),
            takedown_events::to_state.eq(to.as_str()),
            takedown_events::note.eq(note),
            takedown_events::forwarded_to.eq(serde_json::to_string(forwarded_to)
                .map_err(|e| AppError::Internal(e.to_string()))?),
            takedown_events::request_id.eq(&actor.request_id),
            takedown_events::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores a new request in state RECEIVED with its targets and first event.
pub fn create(conn: &mut AnyConnection, new: &NewTakedown, actor: &Actor) -> Result<i32, AppError> {
    let now = super::now();
    let id: i32 = diesel::insert_into(takedown_requests::table)
        .values((
            takedown_requests::claimant_user_id.eq(new.claimant_user_id),
            takedown_requests::filed_by_user_id.eq(new.filed_by_user_id),
            takedown_requests::claimant_name.eq(&new.claimant_name),
            takedown_requests::organisation.eq(&new.organisation),
            takedown_requests::contact_phone.eq(&new.contact_phone),
            takedown_requests::contact_email.eq(&new.contact_email),
            takedown_requests::contact_address.eq(&new.contact_address),
            takedown_requests::rights_statement.eq(&new.rights_statement),
            takedown_requests::evidence_links.eq(serde_json::to_string(&new.evidence_links)
                .map_err(|e| AppError::Internal(e.to_string()))?),
            takedown_requests::reason.eq(&new.reason),
            takedown_requests::good_faith.eq(true),
            takedown_requests::state.eq(TakedownState::Received.as_str()),
            takedown_requests::provisionally_withdrawn.eq(false),
            takedown_requests::late.eq(new.late),
            takedown_requests::received_at.eq(new.received_at),
            takedown_requests::respond_by.eq(new.respond_by),
            takedown_requests::updated_at.eq(now),
        ))
        .returning(takedown_requests::id)
        .get_result(conn)?;
    for (position, target) in new.targets.iter().enumerate() {
        let (article_id, media_id, url) = match target {
            Target::Article(a) => (Some(*a), None, None),
            Target::Media(m) => (None, Some(m.as_str()), None),
            Target::Url(u) => (None, None, Some(u.as_str())),
        };
        diesel::insert_into(takedown_targets::table)
            .values((
                takedown_targets::takedown_id.eq(id),
                takedown_targets::position.eq(position as i32),
                takedown_targets::article_id.eq(article_id),
                takedown_targets::media_id.eq(media_id),
                takedown_targets::url.eq(url),
            ))
            .execute(conn)?;
    }
    add_event(conn, id, actor, None, TakedownState::Received, "", &[])?;
    Ok(id)
}

pub fn by_id(conn: &mut AnyConnection, id: i32) -> Result<Option<TakedownRow>, AppError> {
    Ok(takedown_requests::table
        .find(id)
        .select(TakedownRow::as_select())
        .first(conn)
        .optional()?)
}

/// Makes `step` of request `row` if the request is still in the step's
/// `from` state; a request that moved meanwhile is a `CONFLICT`.
pub fn transition(
    conn: &mut AnyConnection,
    row: &TakedownRow,
    step: &Transition,
) -> Result<(), AppError> {
    let (from, to) = (step.from, step.to);
    let now = super::now();
    // Unchanged columns are written back as they were read; the WHERE on the
    // state makes a concurrent change win or lose as a whole.
    let changed = diesel::update(
        takedown_requests::table
            .filter(takedown_requests::id.eq(row.id))
            .filter(takedown_requests::state.eq(from.as_str())),
    )
    .set((
        takedown_requests::state.eq(to.as_str()),
        takedown_requests::provisionally_withdrawn.eq(step.provisionally_withdrawn),
        takedown_requests::decided_at.eq(if to.is_decided() {
            Some(now)
        } else {
            row.decided_at
        }),
        takedown_requests::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(AppError::Conflict(format!(
            "the request is no longer {}; it was decided meanwhile",
            from.as_str()
        )));
    }
    Ok(())
}

/// Article ids a request targets.
pub fn target_articles(conn: &mut AnyConnection, id: i32) -> Result<Vec<i32>, AppError> {
    Ok(takedown_targets::table
        .filter(takedown_targets::takedown_id.eq(id))
        .order(takedown_targets::position)
        .select(takedown_targets::article_id)
        .load::<Option<i32>>(conn)?
        .into_iter()
        .flatten()
        .collect())
}

/// Media ids a request targets.
pub fn target_media(conn: &mut AnyConnection, id: i32) -> Result<Vec<String>, AppError> {
    Ok(takedown_targets::table
        .filter(takedown_targets::takedown_id.eq(id))
        .order(takedown_targets::position)
        .select(takedown_targets::media_id)
        .load::<Option<String>>(conn)?
        .into_iter()
        .flatten()
        .collect())
}

/// Every target of a request, in the order given.
pub fn targets(conn: &mut AnyConnection, id: i32) -> Result<Vec<Target>, AppError> {
    let rows: Vec<(Option<i32>, Option<String>, Option<String>)> = takedown_targets::table
        .filter(takedown_targets::takedown_id.eq(id))
        .order(takedown_targets::position)
        .select((
            takedown_targets::article_id,
            takedown_targets::media_id,
            takedown_targets::url,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row {
            (Some(a), _, _) => Some(Target::Article(a)),
            (_, Some(m), _) => Some(Target::Media(m)),
            (_, _, Some(u)) => Some(Target::Url(u)),
            _ => None,
        })
        .collect())
}

pub fn events(conn: &mut AnyConnection, id: i32) -> Result<Vec<EventRow>, AppError> {
    Ok(takedown_events::table
        .filter(takedown_events::takedown_id.eq(id))
        .order(takedown_events::id)
        .select(EventRow::as_select())
        .load(conn)?)
}

pub fn counter_notice(conn: &mut AnyConnection, id: i32) -> Result<Option<CounterRow>, AppError> {
    Ok(counter_notices::table
        .find(id)
        .select(CounterRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores the counter-notice of a request, filed by account `filed_by`.
pub fn add_counter_notice(
    conn: &mut AnyConnection,
    id: i32,
    notice: &CounterNotice,
    filed_by: i32,
) -> Result<(), AppError> {
    diesel::insert_into(counter_notices::table)
        .values((
            counter_notices::takedown_id.eq(id),
            counter_notices::name.eq(&notice.name),
            counter_notices::contact.eq(&notice.contact),
            counter_notices::address.eq(&notice.address),
            counter_notices::statement.eq(&notice.statement),
            counter_notices::evidence_links.eq(serde_json::to_string(&notice.evidence_links)
                .map_err(|e| AppError::Internal(e.to_string()))?),
            counter_notices::filed_by_user_id.eq(filed_by),
            counter_notices::filed_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Filters for listing requests.
#[derive(Debug, Clone, Default)]
pub struct TakedownQuery {
    pub state: Option<TakedownState>,
    pub late: Option<bool>,
    /// Only open requests past their `respond_by` at `at` (true), or only
    /// the others (false).
    pub overdue: Option<bool>,
    /// The instant `overdue` is judged at.
    pub at: NaiveDateTime,
    /// Only this claimant's requests.
    pub claimant_user_id: Option<i32>,
    /// Only ids below this (newest first paging).
    pub before_id: Option<i32>,
}

fn filtered<'a>(q: &TakedownQuery) -> takedown_requests::BoxedQuery<'a, super::MultiBackend> {
    let mut query = takedown_requests::table.into_boxed();
    if let Some(s) = q.state {
        query = query.filter(takedown_requests::state.eq(s.as_str()));
    }
    if let Some(l) = q.late {
        query = query.filter(takedown_requests::late.eq(l));
    }
    let open = TakedownState::OPEN.map(|s| s.as_str());
    match q.overdue {
        Some(true) => {
            query = query
                .filter(takedown_requests::respond_by.lt(q.at))
                .filter(takedown_requests::state.eq_any(open));
        }
        Some(false) => {
            query = query.filter(
                takedown_requests::respond_by
                    .ge(q.at)
                    .or(takedown_requests::state.ne_all(open)),
            );
        }
        None => {}
    }
    if let Some(c) = q.claimant_user_id {
        query = query.filter(takedown_requests::claimant_user_id.eq(c));
    }
    if let Some(b) = q.before_id {
        query = query.filter(takedown_requests::id.lt(b));
    }
    query
}

/// Newest requests first.
pub fn list(
    conn: &mut AnyConnection,
    q: &TakedownQuery,
    limit: i64,
) -> Result<Vec<TakedownRow>, AppError> {
    Ok(filtered(q)
        .order(takedown_requests::id.desc())
        .limit(limit)
        .select(TakedownRow::as_select())
        .load(conn)?)
}

/// How many requests the query matches.
pub fn count(conn: &mut AnyConnection, q: &TakedownQuery) -> Result<i64, AppError> {
    Ok(filtered(q).count().get_result(conn)?)
}

/// Makes the account's filings take turns until this transaction ends, so
/// that concurrent requests cannot all count the same room under the limit
/// (PostgreSQL; SQLite writers already take turns).
pub fn lock_filings(conn: &mut AnyConnection, user_id: i32) -> Result<(), AppError> {
    if let AnyConnection::Postgresql(pg) = conn {
        // The first key names this lock among the application's advisory locks.
        diesel::sql_query("SELECT pg_advisory_xact_lock(20251, $1)")
            .bind::<diesel::sql_types::Integer, _>(user_id)
            .execute(pg)?;
    }
    Ok(())
}

/// Requests filed by an account since `since` (for the submission limit).
pub fn filed_since(
    conn: &mut AnyConnection,
    user_id: i32,
    since: NaiveDateTime,
) -> Result<i64, AppError> {
    Ok(takedown_requests::table
        .filter(takedown_requests::filed_by_user_id.eq(user_id))
        .filter(takedown_requests::received_at.ge(since))
        .count()
        .get_result(conn)?)
}
