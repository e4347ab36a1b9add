use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, FixedOffset};

use super::connection::id_connection;
use super::context::RequestContext;
use super::limits::page_size;
use crate::auth::policy::Action;
use crate::db::webhooks::{self, DeliveryRow, OutboxRow, WebhookRow};
use crate::error::{AppError, GqlResultExt};
use crate::services::webhooks::{self as service, Endpoint};

/// A registered webhook endpoint (the secret is never shown again).
#[derive(SimpleObject)]
pub struct Webhook {
    /// Its number, for `webhookDeliveries(webhookId:)`.
    pub database_id: i32,
    /// Where events are POSTed.
    pub url: String,
    /// The events it receives (`*` for all).
    pub events: Vec<String>,
    /// Whether deliveries are made.
    pub active: bool,
}

/// One delivery attempt.
#[derive(SimpleObject, Clone)]
pub struct WebhookDelivery {
    /// The webhook delivered to.
    pub webhook_id: i32,
    /// The event's name (`article.published` …).
    pub event: String,
    /// 1 for the first try.
    pub attempt: i32,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i32>,
    /// Why the attempt failed (refused target, time-out, HTTP status).
    pub error: Option<String>,
    /// Whether this attempt delivered the event.
    pub delivered: bool,
    /// When the attempt was made.
    pub created_at: DateTime<FixedOffset>,
}

impl From<WebhookRow> for Webhook {
    fn from(row: WebhookRow) -> Self {
        Webhook {
            database_id: row.id,
            url: row.url,
            events: row.events.split(',').map(String::from).collect(),
            active: row.active,
        }
    }
}

impl WebhookDelivery {
    /// The attempt `d` to deliver the event `o`, its time in the site's zone.
    async fn of(rc: &RequestContext, d: DeliveryRow, o: OutboxRow) -> Result<Self, AppError> {
        Ok(WebhookDelivery {
            webhook_id: o.webhook_id,
            event: o.event,
            attempt: d.attempt,
            delivered: d.status_code.is_some_and(|c| (200..300).contains(&c)),
            status_code: d.status_code,
            error: d.error,
            created_at: rc.local_time(d.created_at).await?,
        })
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint for events (admins). Deliveries are POSTs of JSON
    /// signed with HMAC-SHA256 in `X-Newsdesk-Signature: t=UNIX,v1=HEX`, over
    /// `t.body`; retried with exponential backoff until a 2xx answer. Loopback,
    /// private and link-local targets are refused.
    async fn register_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where to POST events: https, and never an internal address.")]
        url: String,
        #[graphql(desc = "Event names, e.g. article.published; `*` for all.")] events: Vec<String>,
        #[graphql(
            desc = "Shared secret for the signature, at least 16 characters.",
            secret
        )]
        secret: String,
    ) -> Result<Webhook> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require_right(Action::ManageSite).gql()?;
        let allow_private = rc.state.config.webhook_allow_private;
        let endpoint = Endpoint::parse(&url, events, secret, allow_private).gql()?;
        let row = service::register(&rc.db, rc.actor(staff), endpoint)
            .await
            .gql()?;
        Ok(Webhook::from(row))
    }
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The delivery log, newest first (admins).
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this webhook's deliveries.")] webhook_id: Option<i32>,
        #[graphql(desc = "Page size, 1-100.", default = 50)] first: i32,
        #[graphql(desc = "`endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<WebhookDeliveryConnection> {
        let rc = RequestContext::of(ctx);
        rc.credentials.require_right(Action::ManageSite).gql()?;
        let first = page_size(first, "first").gql()?;
        let before_id = WebhookDeliveryConnection::after(after.as_deref()).gql()?;
        let rows = rc
            .db
            .run(move |conn| webhooks::deliveries(conn, webhook_id, before_id, first + 1))
            .await
            .gql()?;
        let mut items = Vec::with_capacity(rows.len());
        for (attempt, event) in rows {
            items.push((
                attempt.id,
                WebhookDelivery::of(rc, attempt, event).await.gql()?,
            ));
        }
        Ok(WebhookDeliveryConnection::new(
            items,
            first,
            before_id.is_some(),
            Arc::new(move |conn| webhooks::count_deliveries(conn, webhook_id)),
        ))
    }
}

id_connection!(
    /// A page of the webhook delivery log, newest first.
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "WebhookDelivery"
);
