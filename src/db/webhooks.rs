//! Webhook endpoints and their outbox. Events are written to the outbox in
//! the transaction of the change they announce, so a committed change is
//! never announced late or lost by a crash; a worker delivers them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{webhook_deliveries, webhook_outbox, webhooks};
use super::AnyConnection;
use crate::domain::CacheKey;
use crate::error::AppError;

/// Events a webhook can subscribe to.
pub const EVENTS: [&str; 6] = [
    "article.published",
    "article.updated",
    "article.unpublished",
    "article.withdrawn",
    "article.restored",
    "takedown.forwarded",
];

/// Attempts before an event is given up.
pub const MAX_ATTEMPTS: i32 = 10;

/// A registered endpoint.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: i32,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

/// An event waiting for (or done with) delivery.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = webhook_outbox)]
pub struct OutboxRow {
    pub id: i32,
    pub webhook_id: i32,
    pub event: String,
    pub payload: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    /// The trace of the change that queued it, which its delivery continues.
    pub traceparent: Option<String>,
}

/// One attempt of the delivery log.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: i32,
    pub outbox_id: i32,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The event carrying surrogate keys to the CDN purge endpoint.
pub const PURGE_EVENT: &str = "purge";

/// Makes sure the purge endpoint from configuration is registered (once).
pub fn ensure_purge_hook(
    conn: &mut AnyConnection,
    url: &str,
    secret: &str,
) -> Result<(), AppError> {
    let known = webhooks::table
        .filter(webhooks::url.eq(url))
        .filter(webhooks::events.eq(PURGE_EVENT))
        .select(webhooks::id)
        .first::<i32>(conn)
        .optional()?
        .is_some();
    if !known {
        register(conn, url, &[PURGE_EVENT.to_string()], secret)?;
    }
    Ok(())
}

/// Queues a purge of these cache keys at the CDN; called inside the
/// transaction of the change (see [`super::Tx`]).
pub(super) fn purge(conn: &mut AnyConnection, keys: &[CacheKey]) -> Result<(), AppError> {
    let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
    enqueue(
        conn,
        PURGE_EVENT,
        &serde_json::json!({ "event": PURGE_EVENT, "keys": keys }),
    )
}

pub fn register(
    conn: &mut AnyConnection,
    url: &str,
    events: &[String],
    secret: &str,
) -> Result<WebhookRow, AppError> {
    let id: i32 = diesel::insert_into(webhooks::table)
        .values((
            webhooks::url.eq(url),
            webhooks::events.eq(events.join(",")),
            webhooks::secret.eq(secret),
            webhooks::active.eq(true),
            webhooks::created_at.eq(super::now()),
        ))
        .returning(webhooks::id)
        .get_result(conn)?;
    Ok(webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)?)
}

/// Queues `event` for every active endpoint subscribed to it; call inside
/// the transaction of the change.
pub fn enqueue(
    conn: &mut AnyConnection,
    event: &str,
    payload: &serde_json::Value,
) -> Result<(), AppError> {
    let hooks: Vec<WebhookRow> = webhooks::table
        .filter(webhooks::active.eq(true))
        .select(WebhookRow::as_select())
        .load(conn)?;
    let now = super::now();
    // The change's own span: its delivery joins the same trace.
    let traceparent = crate::telemetry::traces::traceparent(&tracing::Span::current());
    for hook in hooks
        .iter()
        .filter(|h| h.events.split(',').any(|e| e == event || e == "*"))
    {
        diesel::insert_into(webhook_outbox::table)
            .values((
                webhook_outbox::webhook_id.eq(hook.id),
                webhook_outbox::event.eq(event),
                webhook_outbox::payload.eq(payload.to_string()),
                webhook_outbox::attempts.eq(0),
                webhook_outbox::next_attempt_at.eq(now),
                webhook_outbox::created_at.eq(now),
                webhook_outbox::traceparent.eq(traceparent.as_deref()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Events due for an attempt, oldest first, with their endpoint, each
/// leased to the caller for `lease` so that no other node sends it meanwhile
/// (a node that dies mid-delivery leaves it to the others after the lease).
/// Events still to deliver (attempts left), and when the oldest was queued.
pub fn pending(conn: &mut AnyConnection) -> Result<(i64, Option<NaiveDateTime>), AppError> {
    let waiting = webhook_outbox::table
        .filter(webhook_outbox::delivered_at.is_null())
        .filter(webhook_outbox::attempts.lt(MAX_ATTEMPTS));
    let count = waiting.count().get_result(conn)?;
    let oldest = waiting
        .select(diesel::dsl::min(webhook_outbox::created_at))
        .first(conn)?;
    Ok((count, oldest))
}

pub fn claim_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    lease: chrono::Duration,
    limit: i64,
) -> Result<Vec<(OutboxRow, WebhookRow)>, AppError> {
    let free = webhook_outbox::leased_until
        .is_null()
        .or(webhook_outbox::leased_until.lt(now));
    conn.transaction(|conn| {
        let due: Vec<(OutboxRow, WebhookRow)> = webhook_outbox::table
            .inner_join(webhooks::table)
            .filter(webhook_outbox::delivered_at.is_null())
            .filter(webhook_outbox::next_attempt_at.le(now))
            .filter(webhook_outbox::attempts.lt(MAX_ATTEMPTS))
            .filter(free)
            .filter(webhooks::active.eq(true))
            .order(webhook_outbox::id)
            .limit(limit)
            .select((OutboxRow::as_select(), WebhookRow::as_select()))
            .load(conn)?;
        let mut claimed = Vec::with_capacity(due.len());
        for (outbox, hook) in due {
            // Re-checked under the row lock: on PostgreSQL a node that read
            // the same row waits here for the first to commit, then finds
            // the lease taken and skips it.
            let taken = diesel::update(
                webhook_outbox::table
                    .find(outbox.id)
                    .filter(webhook_outbox::delivered_at.is_null())
                    .filter(free),
            )
            .set(webhook_outbox::leased_until.eq(Some(now + lease)))
            .execute(conn)?;
            if taken == 1 {
                claimed.push((outbox, hook));
            }
        }
        Ok(claimed)
    })
}

/// Records an attempt: delivered, or failed and retried at `retry_at`.
pub fn record_attempt(
    conn: &mut AnyConnection,
    outbox: &OutboxRow,
    status: Option<i32>,
    error: Option<&str>,
    delivered: bool,
    retry_at: NaiveDateTime,
) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let now = super::now();
        let attempt = outbox.attempts + 1;
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::outbox_id.eq(outbox.id),
                webhook_deliveries::attempt.eq(attempt),
                webhook_deliveries::status_code.eq(status),
                webhook_deliveries::error.eq(error),
                webhook_deliveries::created_at.eq(now),
            ))
            .execute(conn)?;
        diesel::update(webhook_outbox::table.find(outbox.id))
            .set((
                webhook_outbox::attempts.eq(attempt),
                webhook_outbox::delivered_at.eq(delivered.then_some(now)),
                webhook_outbox::next_attempt_at.eq(retry_at),
                webhook_outbox::last_error.eq(error),
                webhook_outbox::leased_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The delivery log, newest first, with each attempt's event.
pub fn deliveries(
    conn: &mut AnyConnection,
    webhook_id: Option<i32>,
    before_id: Option<i32>,
    limit: i64,
) -> Result<Vec<(DeliveryRow, OutboxRow)>, AppError> {
    let mut q = webhook_deliveries::table
        .inner_join(webhook_outbox::table)
        .into_boxed();
    if let Some(id) = webhook_id {
        q = q.filter(webhook_outbox::webhook_id.eq(id));
    }
    if let Some(id) = before_id {
        q = q.filter(webhook_deliveries::id.lt(id));
    }
    Ok(q.order(webhook_deliveries::id.desc())
        .limit(limit)
        .select((DeliveryRow::as_select(), OutboxRow::as_select()))
        .load(conn)?)
}

/// How many delivery attempts the log holds (for one webhook, or all).
pub fn count_deliveries(
    conn: &mut AnyConnection,
    webhook_id: Option<i32>,
) -> Result<i64, AppError> {
    let mut q = webhook_deliveries::table
        .inner_join(webhook_outbox::table)
        .into_boxed();
    if let Some(id) = webhook_id {
        q = q.filter(webhook_outbox::webhook_id.eq(id));
    }
    Ok(q.count().get_result(conn)?)
}
