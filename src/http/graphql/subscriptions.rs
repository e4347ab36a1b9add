//! Subscriptions at `/graphql`: over WebSocket (`graphql-transport-ws`,
//! the protocol of the `graphql-ws` client and Apollo; the older
//! `graphql-ws` subprotocol too) and over server-sent events (GraphQL over
//! SSE, the `graphql-sse` client's distinct-connections mode: a POST that
//! accepts `text/event-stream`, answered with `next` events and a
//! `complete`).
//!
//! A WebSocket's caller is the token in the `connection_init` payload
//! (`{"Authorization": "Bearer …"}`, as `graphql-ws` clients send it) or,
//! failing that, in the upgrade request's `Authorization` header; a token
//! that is refused closes the socket with 4403. The same depth, complexity
//! and size limits as queries apply to each operation.

use std::future::Future;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use async_graphql::{Data, Executor, Request, Response};
use async_graphql_actix_web::GraphQLSubscription;
use futures_util::stream::{self, BoxStream, StreamExt};

use super::authentication::{authorization, bearer, check_token};
use super::{response, run};
use crate::auth::Credentials;
use crate::domain::script::Script;
use crate::graphql::live::BearerToken;
use crate::graphql::{classify_errors, NewsdeskSchema, RequestContext};
use crate::http::AppState;

/// `GET /graphql` with `Upgrade: websocket`.
pub async fn websocket(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    schema: web::Data<NewsdeskSchema>,
) -> actix_web::Result<HttpResponse> {
    let slot = state.live_slot(&req)?;
    // The place is held while the socket reads: until it closes.
    let payload = payload.map(move |frame| {
        let _held = &slot;
        frame
    });
    let header_token = authorization(&req).and_then(bearer);
    let script = default_script(&req);
    let state = state.into_inner();
    let on_init = move |payload: serde_json::Value| async move {
        let token = init_token(&payload).or(header_token);
        let credentials = match token.clone() {
            Some(token) => check_token(&state, token).await,
            None => Credentials::None,
        };
        if credentials == Credentials::Invalid {
            return Err("the token was refused".into());
        }
        let context = RequestContext::new(
            state.shared().clone(),
            state.db.clone(),
            script,
            credentials,
            None,
        );
        let mut data = Data::default();
        data.insert(Arc::new(context));
        if let Some(token) = token {
            data.insert(BearerToken(token));
        }
        Ok(data)
    };
    GraphQLSubscription::new(Coded(NewsdeskSchema::clone(&schema)))
        .on_connection_init(on_init)
        .start(&req, payload)
}

/// The schema with every error given its code, as over HTTP
/// (`QUERY_TOO_DEEP` for "nested too deep", …): the transports here run
/// operations without the HTTP path's last step.
#[derive(Clone)]
struct Coded(NewsdeskSchema);

impl Executor for Coded {
    fn execute(&self, request: Request) -> impl Future<Output = Response> + Send {
        let schema = self.0.clone();
        async move { coded(schema.execute(request).await) }
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        Box::pin(Executor::execute_stream(&self.0, request, session_data).map(coded))
    }
}

fn coded(mut response: Response) -> Response {
    classify_errors(&mut response.errors);
    response
}

/// The bearer token of a `connection_init` payload.
fn init_token(payload: &serde_json::Value) -> Option<String> {
    ["Authorization", "authorization"]
        .iter()
        .find_map(|k| payload.get(k).and_then(|v| v.as_str()))
        .and_then(bearer)
}

fn default_script(req: &HttpRequest) -> Script {
    Script::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// A POST that accepts `text/event-stream`: the operation's results as
/// `next` events, then `complete`.
pub async fn event_stream(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    schema: web::Data<NewsdeskSchema>,
) -> HttpResponse {
    let answer = async {
        let slot = state.live_slot(&req)?;
        let (request, credentials) = super::posted(&req, body, &state).await?;
        let context = run::context(&req, &state, credentials, None).await;
        let mut request = request.data(context);
        if let Some(token) = authorization(&req).and_then(bearer) {
            request = request.data(BearerToken(token));
        }
        let results = Coded(NewsdeskSchema::clone(&schema))
            .execute_stream(request, None)
            .map(|result| {
                let json = serde_json::to_string(&result).unwrap_or_else(|_| "{}".into());
                format!("event: next\ndata: {json}\n\n")
            })
            .chain(stream::once(async {
                "event: complete\ndata:\n\n".to_string()
            }));
        let results = with_heartbeats(results, state.config.live_heartbeat).map(move |text| {
            let _held = &slot;
            Ok::<_, actix_web::Error>(web::Bytes::from(text))
        });
        Ok(sse(results))
    };
    answer.await.unwrap_or_else(response::refused)
}

/// `events`, with a comment line whenever `every` passes without one: a
/// proxy keeps a quiet stream open, and a client that went away is noticed
/// (its place given back) when the writes fail. Ends with `events`.
pub fn with_heartbeats(
    events: impl futures_util::Stream<Item = String> + Send + 'static,
    every: std::time::Duration,
) -> impl futures_util::Stream<Item = String> + Send + 'static {
    stream::unfold(Box::pin(events), move |mut events| async move {
        let next = tokio::select! {
            event = events.next() => event?,
            _ = tokio::time::sleep(every) => ": heartbeat\n\n".to_string(),
        };
        Some((next, events))
    })
}

/// An event-stream response: not compressed (a compressor would hold the
/// events back), not stored.
pub fn sse<S>(events: S) -> HttpResponse
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> + 'static,
{
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(actix_web::http::header::ContentEncoding::Identity)
        .insert_header(("x-accel-buffering", "no"))
        .streaming(events)
}
