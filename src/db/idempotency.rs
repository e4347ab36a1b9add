//! Idempotency keys (the `Idempotency-Key` request header): a retried write
//! with the same key creates nothing twice.
//!
//! The key is claimed inside the transaction of the first change the request
//! commits, when that change's audit event is written, so "the write
//! happened" and "the key is taken" are one fact. The reply is stored right after the request
//! finishes, for replays; a process killed in between leaves a claimed key
//! without a reply, which a retry learns as "applied, reply lost".

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::AnyConnection;
use crate::error::AppError;

/// The key a request carries, and what makes this request's claim its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub user_id: i32,
    pub key: String,
    /// Hex SHA-256 of the operation, its name and its variables.
    pub request_hash: String,
    /// Unique per request, so a request can tell its own claim from another's.
    pub token: String,
}

/// A key as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct StoredKey {
    pub request_hash: String,
    pub claim: String,
    pub response: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Takes the key for this request, inside the caller's transaction. Taking it
/// again in the same request (a second change) is a no-op; a key another
/// request holds fails the transaction.
pub fn claim(conn: &mut AnyConnection, claim: &Claim) -> Result<(), AppError> {
    if let Some(held) = find(conn, claim.user_id, &claim.key)? {
        return if held.claim == claim.token {
            Ok(())
        } else {
            Err(AppError::IdempotencyKeyInUse)
        };
    }
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::actor_user_id.eq(claim.user_id),
            idempotency_keys::key.eq(&claim.key),
            idempotency_keys::request_hash.eq(&claim.request_hash),
            idempotency_keys::claim.eq(&claim.token),
            idempotency_keys::created_at.eq(super::now()),
        ))
        .execute(conn)
        .map_err(|e| match e {
            // Another node's request with the same key committed first.
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => AppError::IdempotencyKeyInUse,
            other => other.into(),
        })?;
    Ok(())
}

/// The key as stored, if some request has claimed it.
pub fn find(
    conn: &mut AnyConnection,
    user_id: i32,
    key: &str,
) -> Result<Option<StoredKey>, AppError> {
    Ok(idempotency_keys::table
        .filter(idempotency_keys::actor_user_id.eq(user_id))
        .filter(idempotency_keys::key.eq(key))
        .select(StoredKey::as_select())
        .first(conn)
        .optional()?)
}

/// Keeps the reply of the request that holds the claim; returns whether the
/// request had claimed the key (it had changed something).
pub fn store_response(
    conn: &mut AnyConnection,
    claim: &Claim,
    response: &str,
) -> Result<bool, AppError> {
    let stored = diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::actor_user_id.eq(claim.user_id))
            .filter(idempotency_keys::key.eq(&claim.key))
            .filter(idempotency_keys::claim.eq(&claim.token)),
    )
    .set(idempotency_keys::response.eq(Some(response)))
    .execute(conn)?;
    Ok(stored > 0)
}

/// Forgets keys claimed before `before`; returns how many.
pub fn prune(conn: &mut AnyConnection, before: NaiveDateTime) -> Result<usize, AppError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
            .execute(conn)?,
    )
}
