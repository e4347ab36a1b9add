//! Webhook endpoints. Registering one is one transaction with its audit
//! event; deliveries are the outbox worker's ([`crate::webhooks`]).

use reqwest::Url;

use crate::db::audit::{Actor, Event};
use crate::db::webhooks::{self, WebhookRow, EVENTS};
use crate::db::Database;
use crate::error::AppError;

/// An endpoint to register: a target that may be called, known event
/// names, and a secret long enough to sign with.
pub struct Endpoint {
    url: Url,
    events: Vec<String>,
    secret: String,
}

impl Endpoint {
    /// Checks the URL (https, and no internal address unless
    /// `allow_private`), then the events (at least one; each known, or `*`),
    /// then the secret (at least 16 characters).
    pub fn parse(
        url: &str,
        events: Vec<String>,
        secret: String,
        allow_private: bool,
    ) -> Result<Self, AppError> {
        let url = crate::webhooks::check_url(url, allow_private)?;
        if events.is_empty() {
            return Err(AppError::BadInput("events: name at least one".into()));
        }
        if let Some(unknown) = events
            .iter()
            .find(|e| *e != "*" && !EVENTS.contains(&e.as_str()))
        {
            return Err(AppError::BadInput(format!(
                "events: unknown event {unknown:?}; known: {}",
                EVENTS.join(", ")
            )));
        }
        if secret.chars().count() < 16 {
            return Err(AppError::BadInput(
                "secret: must be at least 16 characters".into(),
            ));
        }
        Ok(Endpoint {
            url,
            events,
            secret,
        })
    }
}

/// Registers `endpoint`, active at once.
pub async fn register(
    db: &Database,
    actor: Actor,
    endpoint: Endpoint,
) -> Result<WebhookRow, AppError> {
    db.transact(actor, move |tx| {
        let Endpoint {
            url,
            events,
            secret,
        } = endpoint;
        let row = webhooks::register(tx.conn(), url.as_str(), &events, &secret)?;
        let details = serde_json::json!({ "url": row.url, "events": row.events });
        tx.audit(Event::action(
            "webhook.register",
            "webhook",
            Some(row.id),
            details,
        ));
        Ok(row)
    })
    .await
}
