//! The `Idempotency-Key` header on mutation requests (IETF
//! draft-ietf-httpapi-idempotency-key-header): a client that lost a reply
//! retries with the same key and gets the first reply instead of a second
//! write.
//!
//! Keys are per account and kept for a day ([`KEY_LIFETIME`]). They are
//! honoured on mutations sent with a staff token; other requests write
//! nothing that a retry could duplicate, so their key is ignored.
//!
//! | The key is …                                   | Answer                                   |
//! |------------------------------------------------|------------------------------------------|
//! | unknown                                        | the request runs and claims it           |
//! | held by a request still running                | 409 `IDEMPOTENCY_KEY_IN_USE`, Retry-After |
//! | known, with a different request body           | 422 `IDEMPOTENCY_KEY_REUSED`             |
//! | known, with its reply                          | that reply, `Idempotent-Replayed: true`  |
//! | known, applied, but the reply was never stored | 200, `IDEMPOTENT_REPLY_LOST`             |
//!
//! A key is claimed only when the request changes something, in the same
//! transaction (see [`crate::db::idempotency`]): a request that failed
//! before writing leaves the key free, and its retry runs again.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::header;
use actix_web::HttpResponse;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::AppState;
use crate::db::idempotency::{self, Claim, StoredKey};
use crate::error::AppError;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

/// How long a key (and its reply) is kept.
pub const KEY_LIFETIME: chrono::Duration = chrono::Duration::hours(24);

/// Keys of the requests running in this process.
#[derive(Debug, Default)]
pub struct InFlight(Mutex<HashSet<(i32, String)>>);

/// Holds a key in [`InFlight`] until dropped.
pub struct Running {
    set: Arc<InFlight>,
    entry: (i32, String),
}

impl Running {
    /// Holds `entry` for this process, unless another request holds it.
    fn claim(set: &Arc<InFlight>, entry: (i32, String)) -> Result<Running, AppError> {
        let mut held = set
            .0
            .lock()
            .map_err(|_| AppError::Internal("idempotency set poisoned".into()))?;
        if !held.insert(entry.clone()) {
            return Err(AppError::IdempotencyKeyInUse);
        }
        Ok(Running {
            set: set.clone(),
            entry,
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut set) = self.set.0.lock() {
            set.remove(&self.entry);
        }
    }
}

/// What to do with a keyed mutation request that may go ahead.
pub enum Plan {
    /// Run it; its changes claim the key.
    Run(Arc<Claim>, Running),
    /// Answer with the reply kept for the key, without running it.
    Replay(HttpResponse),
}

/// Checks the key before the request runs: a key that is malformed, held
/// by a running request or used for another request is refused.
pub async fn plan(
    state: &AppState,
    user_id: i32,
    key: &str,
    request: &async_graphql::Request,
) -> Result<Plan, AppError> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(AppError::BadInput(
            "Idempotency-Key: 1 to 255 visible ASCII characters".into(),
        ));
    }
    let running = Running::claim(&state.idempotency, (user_id, key.to_string()))?;
    let request_hash = request_hash(request);
    let owned_key = key.to_string();
    let stored = state
        .db
        .run(move |conn| idempotency::find(conn, user_id, &owned_key))
        .await?;
    let Some(held) = stored else {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let claim = Claim {
            user_id,
            key: key.to_string(),
            request_hash,
            token,
        };
        return Ok(Plan::Run(Arc::new(claim), running));
    };
    if held.request_hash != request_hash {
        return Err(AppError::IdempotencyKeyReused);
    }
    let grace = state.config.execution_timeout + Duration::from_secs(1);
    answer_held(held, grace).map(Plan::Replay)
}

/// The answer to a request whose key holds the same request already.
fn answer_held(held: StoredKey, grace: Duration) -> Result<HttpResponse, AppError> {
    if let Some(body) = held.response {
        return Ok(replay(body));
    }
    // Applied, but the reply was not stored yet: the request may still be
    // running (here or on another node) until its time is up; the claim was
    // made during the request.
    let age = crate::db::now() - held.created_at;
    if age.to_std().unwrap_or_default() < grace {
        return Err(AppError::IdempotencyKeyInUse);
    }
    Ok(reply_lost())
}

/// Keeps the reply for replays; a request that changed nothing has no claim
/// and keeps nothing.
pub async fn keep(state: &AppState, claim: Arc<Claim>, body: String, _running: Running) {
    let outcome = state
        .db
        .write_next(move |conn| idempotency::store_response(conn, &claim, &body))
        .await;
    if let Err(error) = outcome {
        tracing::warn!(%error, "cannot keep the reply of an idempotent request");
    }
}

/// Hex SHA-256 of what makes two requests the same request.
pub fn request_hash(request: &async_graphql::Request) -> String {
    let mut hasher = Sha256::new();
    hasher.update(request.query.as_bytes());
    hasher.update([0]);
    hasher.update(request.operation_name.as_deref().unwrap_or("").as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(&request.variables).unwrap_or_default());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn replay(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((REPLAYED, "true"))
        .content_type("application/json")
        .body(body)
}

fn reply_lost() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((REPLAYED, "true"))
        .json(json!({
            "data": null,
            "errors": [{
                "message": "this request was applied earlier; its reply was not kept",
                "extensions": { "code": "IDEMPOTENT_REPLY_LOST" }
            }]
        }))
}

/// Forgets keys older than [`KEY_LIFETIME`], every ten minutes.
pub fn spawn_pruner(database: crate::db::Database) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(600)).await;
            let before = crate::db::now() - KEY_LIFETIME;
            if let Err(error) = database
                .write(move |conn| idempotency::prune(conn, before))
                .await
            {
                tracing::warn!(%error, "cannot forget old idempotency keys");
            }
        }
    });
}
