use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_events;
use super::AnyConnection;
use crate::error::AppError;

/// Who did something, for the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i32>,
    pub role: String,
    pub request_id: Option<String>,
    /// The request's `Idempotency-Key`, claimed with the first change it records.
    pub idempotency: Option<std::sync::Arc<super::idempotency::Claim>>,
}

/// One audit event as stored. Rows are only ever appended.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: i32,
    pub actor_user_id: Option<i32>,
    pub actor_role: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<i32>,
    pub revision_before: Option<i32>,
    pub revision_after: Option<i32>,
    pub request_id: Option<String>,
    pub details: String,
    pub created_at: NaiveDateTime,
}

/// What an audit event records beyond its actor.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<i32>,
    pub revision_before: Option<i32>,
    pub revision_after: Option<i32>,
    pub details: serde_json::Value,
}

impl<'a> Event<'a> {
    /// An event about something without revisions (sections, users,
    /// takedowns …).
    pub fn action(
        action: &'a str,
        target_type: &'a str,
        target_id: Option<i32>,
        details: serde_json::Value,
    ) -> Self {
        Event {
            action,
            target_type,
            target_id,
            revision_before: None,
            revision_after: None,
            details,
        }
    }
}

/// Appends an event; call it inside the transaction of the change it records.
pub fn record(conn: &mut AnyConnection, actor: &Actor, event: Event<'_>) -> Result<(), AppError> {
    // Every change a staff member makes is audited in its transaction, so
    // this is the one place that sees them all.
    if let Some(claim) = &actor.idempotency {
        super::idempotency::claim(conn, claim)?;
    }
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::actor_user_id.eq(actor.user_id),
            audit_events::actor_role.eq(&actor.role),
            audit_events::action.eq(event.action),
            audit_events::target_type.eq(event.target_type),
            audit_events::target_id.eq(event.target_id),
            audit_events::revision_before.eq(event.revision_before),
            audit_events::revision_after.eq(event.revision_after),
            audit_events::request_id.eq(&actor.request_id),
            audit_events::details.eq(event.details.to_string()),
            audit_events::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Appends an event about something without revisions (sections, users,
/// takedowns …); call it inside the transaction of the change.
pub fn record_action(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    target_type: &str,
    target_id: Option<i32>,
    details: serde_json::Value,
) -> Result<(), AppError> {
    record(
        conn,
        actor,
        Event::action(action, target_type, target_id, details),
    )
}

/// Filters for reading the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<i32>,
    pub actor_user_id: Option<i32>,
    /// Only events with an id below this (newest first paging).
    pub before_id: Option<i32>,
}

fn filtered<'a>(q: &AuditQuery) -> audit_events::BoxedQuery<'a, super::MultiBackend> {
    let mut query = audit_events::table.into_boxed();
    if let Some(a) = &q.action {
        query = query.filter(audit_events::action.eq(a.clone()));
    }
    if let Some(t) = &q.target_type {
        query = query.filter(audit_events::target_type.eq(t.clone()));
    }
    if let Some(id) = q.target_id {
        query = query.filter(audit_events::target_id.eq(id));
    }
    if let Some(id) = q.actor_user_id {
        query = query.filter(audit_events::actor_user_id.eq(id));
    }
    if let Some(id) = q.before_id {
        query = query.filter(audit_events::id.lt(id));
    }
    query
}

/// Newest events first.
pub fn list(
    conn: &mut AnyConnection,
    q: &AuditQuery,
    limit: i64,
) -> Result<Vec<AuditRow>, AppError> {
    Ok(filtered(q)
        .order(audit_events::id.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)?)
}

/// How many events the query matches.
pub fn count(conn: &mut AnyConnection, q: &AuditQuery) -> Result<i64, AppError> {
    Ok(filtered(q).count().get_result(conn)?)
}
