//! Who is calling, and what they may do.
//!
//! Policy:
//! - Tokens are JWTs verified with a key from configuration; the algorithm is
//!   pinned by configuration and never taken from the token. `sub`, `role`,
//!   `exp`, `iat`, `iss`, `aud` and `jti` are all required and checked, as is
//!   a maximum lifetime. Headers that point elsewhere (`jku`, `x5u`, `kid`)
//!   are never followed; a `crit` header is refused.
//! - A valid signature is not enough: the account must exist, be enabled and
//!   still hold the token's role, the token must be newer than the account's
//!   cut-off (its last "log out everywhere" or role change, see
//!   [`tokens::Claims::issued_after`]), and its `jti` must not be revoked. Every
//!   request checks this, so revocation takes effect on the next request.
//! - On reads an invalid token counts as anonymous; mutations answer
//!   `UNAUTHENTICATED`. Valid credentials without the right get `FORBIDDEN`.
//! - What each role may do is the table in [`policy`].

pub mod passwords;
pub mod policy;
pub mod rate_limits;
pub mod throttle;
pub mod tokens;

use crate::db::{users, AnyConnection};
use crate::domain::Role;
use crate::error::AppError;
use tokens::{TokenError, TokenKeys};

/// A signed-in account, as established for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub user_id: i32,
    pub username: String,
    pub role: Role,
    /// The token's id, for `logout`.
    pub jti: String,
    /// When the token expires (seconds since the epoch).
    pub expires_at: i64,
}

/// What the caller's `Authorization` header amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No token sent.
    None,
    /// A token was sent and refused; reads treat the caller as anonymous.
    Invalid,
    /// A valid token of a live account.
    Valid(Staff),
    /// The account store could not be asked; writes answer 503.
    Unverifiable,
}

impl Credentials {
    /// The account, when the token was valid.
    pub fn staff(&self) -> Option<&Staff> {
        match self {
            Credentials::Valid(staff) => Some(staff),
            _ => None,
        }
    }

    /// The account, or `UNAUTHENTICATED`.
    pub fn require(&self) -> Result<&Staff, AppError> {
        match self {
            Credentials::Valid(staff) => Ok(staff),
            Credentials::Unverifiable => Err(AppError::Unavailable(
                "cannot check the token: account store unavailable".into(),
            )),
            _ => Err(AppError::Unauthenticated),
        }
    }

    /// Whether the caller may do `action` (false when anonymous).
    pub fn may(&self, action: policy::Action) -> bool {
        self.staff().is_some_and(|s| policy::allows(s.role, action))
    }

    /// The account if its role may do `action`; else `UNAUTHENTICATED` or `FORBIDDEN`.
    pub fn require_right(&self, action: policy::Action) -> Result<&Staff, AppError> {
        let staff = self.require()?;
        if policy::allows(staff.role, action) {
            Ok(staff)
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Checks a bearer token against the keys and the account table.
pub fn authenticate(
    conn: &mut AnyConnection,
    keys: &TokenKeys,
    token: &str,
) -> Result<Staff, TokenError> {
    let claims = keys.verify(token)?;
    let user = users::by_username(conn, &claims.sub)
        .map_err(|_| TokenError::Unavailable)?
        .ok_or(TokenError::Rejected("unknown account"))?;
    if user.disabled {
        return Err(TokenError::Rejected("account disabled"));
    }
    let role = user
        .role()
        .map_err(|_| TokenError::Rejected("unknown role"))?;
    if role.as_str() != claims.role {
        return Err(TokenError::Rejected("role changed"));
    }
    if let Some(cutoff) = user.tokens_valid_after {
        if !claims.issued_after(cutoff) {
            return Err(TokenError::Rejected("issued before the account's cut-off"));
        }
    }
    if users::is_revoked(conn, &claims.jti).map_err(|_| TokenError::Unavailable)? {
        return Err(TokenError::Rejected("token revoked"));
    }
    Ok(Staff {
        user_id: user.id,
        username: user.username,
        role,
        jti: claims.jti,
        expires_at: claims.exp,
    })
}
