use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, FixedOffset};

use super::context::RequestContext;
use crate::db::{self, users};
use crate::domain::Role;
use crate::error::{AppError, GqlResultExt};
use crate::services::sessions;

#[derive(Default)]
pub struct AuthQuery;

#[Object]
impl AuthQuery {
    /// The signed-in account; null for anonymous callers or refused tokens.
    async fn me(&self, ctx: &Context<'_>) -> Option<Me> {
        RequestContext::of(ctx).credentials.staff().map(|s| Me {
            username: s.username.clone(),
            role: s.role,
        })
    }
}

/// The account a token belongs to.
#[derive(SimpleObject)]
pub struct Me {
    /// Login name.
    pub username: String,
    /// Current role.
    pub role: Role,
}

/// A fresh access token.
#[derive(SimpleObject)]
pub struct LoginResult {
    /// Send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<FixedOffset>,
    /// Whose it is.
    pub user: Me,
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Exchanges a username and password for a short-lived access token.
    /// Each attempt for an account is counted before its password is
    /// checked; after 5 within 15 minutes, further attempts answer
    /// `TOO_MANY_REQUESTS` until the window has passed (a correct password
    /// forgets the count). When every password check is busy, the answer
    /// is `TOO_MANY_REQUESTS` with `Retry-After: 1`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Login name.")] username: String,
        #[graphql(desc = "Password; never logged.", secret)] password: String,
    ) -> Result<LoginResult> {
        let rc = RequestContext::of(ctx);
        let session = sessions::log_in(&rc.state.logins(), username, password).await;
        rc.state
            .metrics
            .login(session.as_ref().map_or_else(AppError::code, |_| "ok"));
        let session = session.gql()?;
        Ok(LoginResult {
            token: session.token,
            expires_at: rc.local_time(session.expires_at).await.gql()?,
            user: Me {
                username: session.username,
                role: session.role,
            },
        })
    }

    /// Revokes the token of this request; it fails from the next request on.
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require().gql()?.clone();
        let actor = rc.actor(&staff);
        let expires = DateTime::from_timestamp(staff.expires_at, 0)
            .map(|t| t.naive_utc())
            .unwrap_or_else(db::now);
        rc.db
            .write(move |conn| {
                diesel::Connection::transaction(conn, |conn| {
                    users::revoke_token(conn, &staff.jti, expires)?;
                    crate::db::audit::record_action(
                        conn,
                        &actor,
                        "user.logout",
                        "user",
                        Some(staff.user_id),
                        serde_json::json!({}),
                    )
                })
            })
            .await
            .gql()?;
        Ok(true)
    }

    /// Revokes every token of the signed-in account issued until now.
    async fn logout_everywhere(&self, ctx: &Context<'_>) -> Result<bool> {
        let rc = RequestContext::of(ctx);
        let staff = rc.credentials.require().gql()?.clone();
        let actor = rc.actor(&staff);
        rc.db
            .write(move |conn| {
                diesel::Connection::transaction(conn, |conn| {
                    users::revoke_all_tokens(conn, staff.user_id)?;
                    crate::db::audit::record_action(
                        conn,
                        &actor,
                        "user.logout_everywhere",
                        "user",
                        Some(staff.user_id),
                        serde_json::json!({}),
                    )
                })
            })
            .await
            .gql()?;
        Ok(true)
    }
}
