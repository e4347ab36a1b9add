use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{revoked_tokens, users};
use super::AnyConnection;
use crate::domain::Role;
use crate::error::AppError;

/// A staff or claimant account.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub role: String,
    pub disabled: bool,
    pub contributor_id: Option<i32>,
    pub tokens_valid_after: Option<NaiveDateTime>,
}

impl UserRow {
    pub fn role(&self) -> Result<Role, AppError> {
        self.role.parse().map_err(AppError::Internal)
    }
}

pub fn by_username(conn: &mut AnyConnection, username: &str) -> Result<Option<UserRow>, AppError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// Creates an account; a taken username is a `CONFLICT`.
pub fn create(
    conn: &mut AnyConnection,
    username: &str,
    role: Role,
    password_hash: Option<&str>,
) -> Result<i32, AppError> {
    if by_username(conn, username)?.is_some() {
        return Err(AppError::Conflict(format!(
            "user {username:?} already exists"
        )));
    }
    let now = super::now();
    Ok(diesel::insert_into(users::table)
        .values((
            users::username.eq(username),
            users::display_name.eq(username),
            users::password_hash.eq(password_hash),
            users::role.eq(role.as_str()),
            users::disabled.eq(false),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)?)
}

/// Changes an account's role and revokes every token issued until now, in
/// one transaction. Checking the role a token names is not enough: after a
/// demotion and a promotion back, an old token would name the current role
/// again. Setting the role an account already has changes nothing.
pub fn set_role(conn: &mut AnyConnection, username: &str, role: Role) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let user = by_username(conn, username)?.ok_or(AppError::NotFound)?;
        if user.role == role.as_str() {
            return Ok(());
        }
        let now = super::now();
        diesel::update(users::table.find(user.id))
            .set((
                users::role.eq(role.as_str()),
                users::tokens_valid_after.eq(now),
                users::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Disables an account; its tokens stop working at once.
pub fn disable(conn: &mut AnyConnection, username: &str) -> Result<(), AppError> {
    let changed = diesel::update(users::table.filter(users::username.eq(username)))
        .set((users::disabled.eq(true), users::updated_at.eq(super::now())))
        .execute(conn)?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Invalidates every token issued to the account before now.
pub fn revoke_all_tokens(conn: &mut AnyConnection, user_id: i32) -> Result<(), AppError> {
    diesel::update(users::table.find(user_id))
        .set(users::tokens_valid_after.eq(super::now()))
        .execute(conn)?;
    Ok(())
}

/// Revokes one token by its `jti` until it would have expired anyway.
pub fn revoke_token(
    conn: &mut AnyConnection,
    jti: &str,
    expires_at: NaiveDateTime,
) -> Result<(), AppError> {
    let known = revoked_tokens::table
        .find(jti)
        .select(revoked_tokens::jti)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if !known {
        diesel::insert_into(revoked_tokens::table)
            .values((
                revoked_tokens::jti.eq(jti),
                revoked_tokens::expires_at.eq(expires_at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn is_revoked(conn: &mut AnyConnection, jti: &str) -> Result<bool, AppError> {
    Ok(revoked_tokens::table
        .find(jti)
        .select(revoked_tokens::jti)
        .first::<String>(conn)
        .optional()?
        .is_some())
}
