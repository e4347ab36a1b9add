//! Sessions: a login exchanges a username and password for a short-lived
//! access token. Attempts are throttled per account name before any
//! password is checked (see [`crate::auth::throttle`]), and checks run on
//! the bounded password workers.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime};

use crate::auth::passwords::PasswordWorkers;
use crate::auth::throttle::LoginThrottle;
use crate::auth::tokens::TokenKeys;
use crate::db::users::{self, UserRow};
use crate::db::{self, Database};
use crate::domain::Role;
use crate::error::AppError;

/// What a login needs of the server.
pub struct Logins<'a> {
    /// Where accounts are looked up: the primary, never a replica.
    pub db: &'a Database,
    /// Attempts per account name.
    pub throttle: &'a LoginThrottle,
    /// Where password checks run, a bounded number at once.
    pub passwords: &'a PasswordWorkers,
    /// The token keys; without them, or when they only verify, nobody logs in here.
    pub keys: Option<&'a TokenKeys>,
    /// Lifetime of the tokens handed out.
    pub token_ttl: Duration,
}

/// A fresh access token and whose it is.
#[derive(Debug)]
pub struct Session {
    pub token: String,
    /// When the token stops working (UTC).
    pub expires_at: NaiveDateTime,
    pub username: String,
    pub role: Role,
}

/// Exchanges `username` and `password` for a token. `FORBIDDEN` when this
/// node cannot sign tokens; the attempt is counted before the password is
/// checked (`TOO_MANY_REQUESTS` past the limit) and given back when nothing
/// could be checked; an unknown, disabled or password-less account and a
/// wrong password all get the same answer.
pub async fn log_in(
    logins: &Logins<'_>,
    username: String,
    password: String,
) -> Result<Session, AppError> {
    let keys = logins
        .keys
        .filter(|k| k.can_sign())
        .ok_or(AppError::Forbidden)?;
    // The attempt is counted before the password is checked, so however
    // many arrive at once, at most the limit are checked.
    if !logins.throttle.reserve(&username).await {
        return Err(AppError::RateLimited(
            "too many failed logins for this account; try again later".into(),
        ));
    }
    let (user, matches) = match check_password(logins, &username, password).await {
        Ok(checked) => checked,
        Err(error) => {
            // Nothing was checked: the attempt is given back.
            logins.throttle.release(&username).await;
            return Err(error);
        }
    };
    let user = match user {
        Some(u) if matches && !u.disabled && u.password_hash.is_some() => u,
        _ => return Err(AppError::BadInput("invalid username or password".into())),
    };
    logins.throttle.succeeded(&username).await;
    let role = user.role()?;
    let (token, claims) = keys
        .mint(&user.username, role, logins.token_ttl)
        .map_err(AppError::Internal)?;
    let expires_at = DateTime::from_timestamp(claims.exp, 0)
        .map(|t| t.naive_utc())
        .unwrap_or_else(db::now);
    Ok(Session {
        token,
        expires_at,
        username: user.username,
        role,
    })
}

/// The account named `username`, if any, and whether `password` is its
/// password.
async fn check_password(
    logins: &Logins<'_>,
    username: &str,
    password: String,
) -> Result<(Option<UserRow>, bool), AppError> {
    let name = username.to_string();
    let user = logins
        .db
        .run(move |conn| users::by_username(conn, &name))
        .await?;
    // An unknown account is checked against a dummy hash, so timing does
    // not tell them apart.
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = logins.passwords.verify(password, stored).await?;
    Ok((user, matches))
}
