//! Partner API keys. A key is shown once when made; only its SHA-256 is kept.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::{partner_keys, partner_usage};
use super::AnyConnection;
use crate::error::AppError;

/// A partner key as stored (without the key).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = partner_keys)]
pub struct PartnerRow {
    pub id: i32,
    pub name: String,
    pub requests_per_minute: i32,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Hex SHA-256 of a key.
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Makes a key for `name`; returns the key, which is never stored.
pub fn add(
    conn: &mut AnyConnection,
    name: &str,
    requests_per_minute: i32,
) -> Result<String, AppError> {
    let taken = partner_keys::table
        .filter(partner_keys::name.eq(name))
        .select(partner_keys::id)
        .first::<i32>(conn)
        .optional()?
        .is_some();
    if taken {
        return Err(AppError::Conflict(format!(
            "partner {name:?} already exists"
        )));
    }
    let key = format!(
        "nd_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    diesel::insert_into(partner_keys::table)
        .values((
            partner_keys::name.eq(name),
            partner_keys::key_hash.eq(hash_key(&key)),
            partner_keys::requests_per_minute.eq(requests_per_minute),
            partner_keys::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    Ok(key)
}

/// Revokes the partner's key; it fails from the next request on.
pub fn revoke(conn: &mut AnyConnection, name: &str) -> Result<(), AppError> {
    let changed = diesel::update(
        partner_keys::table
            .filter(partner_keys::name.eq(name))
            .filter(partner_keys::revoked_at.is_null()),
    )
    .set(partner_keys::revoked_at.eq(Some(super::now())))
    .execute(conn)?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// The live partner a key belongs to.
pub fn by_key(conn: &mut AnyConnection, key: &str) -> Result<Option<PartnerRow>, AppError> {
    Ok(partner_keys::table
        .filter(partner_keys::key_hash.eq(hash_key(key)))
        .filter(partner_keys::revoked_at.is_null())
        .select(PartnerRow::as_select())
        .first(conn)
        .optional()?)
}

/// Counts one request of the partner on `day` (YYYY-MM-DD).
pub fn count_use(conn: &mut AnyConnection, partner_id: i32, day: &str) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let updated = diesel::update(
            partner_usage::table
                .filter(partner_usage::partner_key_id.eq(partner_id))
                .filter(partner_usage::day.eq(day)),
        )
        .set(partner_usage::requests.eq(partner_usage::requests + 1))
        .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(partner_usage::table)
                .values((
                    partner_usage::partner_key_id.eq(partner_id),
                    partner_usage::day.eq(day),
                    partner_usage::requests.eq(1i64),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Requests per partner and day, newest day first.
pub fn usage(conn: &mut AnyConnection) -> Result<Vec<(String, String, i64)>, AppError> {
    Ok(partner_usage::table
        .inner_join(partner_keys::table)
        .order((partner_usage::day.desc(), partner_keys::name))
        .select((
            partner_keys::name,
            partner_usage::day,
            partner_usage::requests,
        ))
        .load(conn)?)
}
