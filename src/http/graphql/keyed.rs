//! A staff mutation sent with an `Idempotency-Key` runs once, however often
//! it is sent (see [`crate::http::idempotency`]).

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use super::operation::Operation;
use crate::auth::Credentials;
use crate::db::idempotency::Claim;
use crate::error::AppError;
use crate::http::idempotency::{self, Plan, Running};
use crate::http::AppState;

/// A request that holds its key while it runs.
pub struct Keyed {
    pub claim: Arc<Claim>,
    running: Running,
}

/// The key's plan for a staff mutation that carries one; `None` for any
/// other request, whose key (if any) is ignored.
pub async fn plan(
    req: &HttpRequest,
    state: &AppState,
    credentials: &Credentials,
    operation: &Operation<'_>,
    request: &async_graphql::Request,
) -> Result<Option<Plan>, AppError> {
    let (Some(staff), Some(key)) = (credentials.staff(), req.headers().get(idempotency::HEADER))
    else {
        return Ok(None);
    };
    if !operation.is_mutation() {
        return Ok(None);
    }
    // A header that is not text is refused like an empty one.
    let key = key.to_str().unwrap_or("");
    idempotency::plan(state, staff.user_id, key, request)
        .await
        .map(Some)
}

impl Keyed {
    pub fn new(claim: Arc<Claim>, running: Running) -> Self {
        Keyed { claim, running }
    }

    /// Sends the reply, kept first so that a retry after it finds it.
    pub async fn keep(
        self,
        state: &AppState,
        response: &async_graphql::Response,
        mut http: HttpResponseBuilder,
    ) -> HttpResponse {
        let body = serde_json::to_string(response).unwrap_or_default();
        idempotency::keep(state, self.claim, body.clone(), self.running).await;
        http.body(body)
    }
}
