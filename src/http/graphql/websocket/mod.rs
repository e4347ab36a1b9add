//! Subscriptions over WebSocket at `/graphql`: `graphql-transport-ws`, the
//! protocol of the `graphql-ws` client and Apollo (the older `graphql-ws`
//! subprotocol too), run by async-graphql's protocol engine behind the
//! limits a public socket needs.
//!
//! A socket's caller is the token in the `connection_init` payload
//! (`{"Authorization": "Bearer …"}`, as `graphql-ws` clients send it) or,
//! failing that, in the upgrade request's `Authorization` header; a token
//! that is refused closes the socket with 4403. The same depth, complexity
//! and size limits as queries apply to each operation.
//!
//! What closes a socket, and with which code:
//!
//! | when | code |
//! | --- | --- |
//! | no `connection_init` within `NEWSDESK_LIVE_INIT_SECONDS` | 4408 |
//! | a message that is not the protocol's (bad JSON, unknown type, binary) | 4400 |
//! | an operation before `connection_init` | 4401 |
//! | an operation id already running | 4409 |
//! | a second `connection_init` | 4429 |
//! | a message over `NEWSDESK_MAX_BODY_BYTES` | 1009 |
//! | no operation for `NEWSDESK_LIVE_IDLE_SECONDS` | 1000 |
//! | no answer to two pings (`NEWSDESK_LIVE_HEARTBEAT_SECONDS` apart), or a client too slow to read | 1001 |
//! | the node stops (SIGTERM) | 1001 |
//!
//! One operation over `NEWSDESK_LIVE_SUBSCRIPTIONS_PER_CONNECTION` is
//! answered with an `error` message (`TOO_MANY_SUBSCRIPTIONS`) and the
//! socket stays open. A page of another site is refused at the upgrade
//! (403, `FORBIDDEN_ORIGIN`): browsers do not apply CORS to WebSockets.

mod gate;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseReason, ProtocolError, Session};
use async_graphql::http::{ClientMessage, WebSocket, WebSocketProtocols, WsMessage};
use async_graphql::Data;
use futures_channel::mpsc;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;

use self::gate::{Gate, Verdict};
use super::authentication::{authorization, bearer, check_token};
use super::response;
use super::subscriptions::{default_script, Coded};
use crate::auth::Credentials;
use crate::error::{AppError, RequestRefusal};
use crate::graphql::live::BearerToken;
use crate::graphql::{NewsdeskSchema, RequestContext};
use crate::http::AppState;
use crate::live::Slot;

/// `GET /graphql` with `Upgrade: websocket`.
pub async fn websocket(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    schema: web::Data<NewsdeskSchema>,
) -> HttpResponse {
    let answer = || -> Result<HttpResponse, AppError> {
        if !crate::http::origin_allowed(&state.config, req.head()) {
            let origin = req
                .headers()
                .get(actix_web::http::header::ORIGIN)
                .and_then(|o| o.to_str().ok())
                .unwrap_or("?");
            return Err(RequestRefusal::ForeignOrigin(origin.to_string()).into());
        }
        let protocol = subprotocol(&req).ok_or(RequestRefusal::NoSubprotocol)?;
        let slot = state.live_slot(&req)?;
        let (response, session, messages) =
            actix_ws::handle_with_protocols(&req, payload, &[protocol.sec_websocket_protocol()])
                .map_err(|e| RequestRefusal::NotAHandshake(e.to_string()))?;
        let limit = state.config.limits.max_body_bytes;
        let messages = messages
            .max_frame_size(limit)
            .aggregate_continuations()
            .max_continuation_size(limit);
        let socket = Socket {
            session,
            gate: Gate::new(protocol, state.config.live_subscriptions_per_connection),
            slot,
            limits: Limits::of(&state.config),
        };
        let on_init = initialiser(&req, state.clone().into_inner());
        let coded = Coded {
            schema: schema.as_ref().clone(),
            documents: state.documents.clone(),
        };
        actix_web::rt::spawn(socket.converse(messages, coded, protocol, on_init));
        Ok(response)
    };
    answer().unwrap_or_else(response::refused)
}

/// What runs at `connection_init`: the payload in, the connection's data
/// out.
trait OnInit:
    FnOnce(serde_json::Value) -> BoxFuture<'static, async_graphql::Result<Data>> + Send + 'static
{
}

impl<F> OnInit for F where
    F: FnOnce(serde_json::Value) -> BoxFuture<'static, async_graphql::Result<Data>>
        + Send
        + 'static
{
}

/// The first protocol the client asks for that the server speaks.
fn subprotocol(req: &HttpRequest) -> Option<WebSocketProtocols> {
    req.headers()
        .get_all(actix_web::http::header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().parse().ok())
}

/// What `connection_init` does: finds the caller and makes the context
/// every operation of the socket runs in.
fn initialiser(req: &HttpRequest, state: Arc<AppState>) -> impl OnInit {
    let header_token = authorization(req).and_then(bearer);
    let script = default_script(req);
    move |payload: serde_json::Value| {
        Box::pin(async move {
            let token = init_token(&payload).or(header_token);
            let credentials = match token.clone() {
                Some(token) => check_token(&state, token).await,
                None => Credentials::None,
            };
            if credentials == Credentials::Invalid {
                return Err(REFUSED_TOKEN.into());
            }
            let context = RequestContext::new(
                state.shared().clone(),
                state.db.clone(),
                script,
                credentials,
                None,
            );
            context.lasting();
            let mut data = Data::default();
            data.insert(Arc::new(context));
            if let Some(token) = token {
                data.insert(BearerToken(token));
            }
            Ok(data)
        })
    }
}

/// Why `connection_init` failed when its token was refused.
const REFUSED_TOKEN: &str = "Forbidden: the token was refused";

/// The engine closes a refused `connection_init` with 1002; the protocol's
/// code for a refused token is 4403.
fn closing_code(code: u16, reason: String) -> (u16, String) {
    if reason == REFUSED_TOKEN {
        (4403, reason)
    } else {
        (code, reason)
    }
}

/// The bearer token of a `connection_init` payload.
fn init_token(payload: &serde_json::Value) -> Option<String> {
    ["Authorization", "authorization"]
        .iter()
        .find_map(|k| payload.get(k).and_then(|v| v.as_str()))
        .and_then(bearer)
}

/// The times a socket is held to.
#[derive(Clone, Copy)]
struct Limits {
    init: Duration,
    idle: Duration,
    heartbeat: Duration,
}

impl Limits {
    fn of(config: &crate::config::Config) -> Self {
        Limits {
            init: config.live_init_timeout,
            idle: config.live_idle,
            heartbeat: config.live_heartbeat,
        }
    }
}

/// One open socket.
struct Socket {
    session: Session,
    gate: Gate,
    /// Its place among the node's live connections, given back on close.
    slot: Slot,
    limits: Limits,
}

/// Why the conversation ends: the close frame to send, if any.
type Ending = Option<(u16, String)>;

impl Socket {
    /// Runs the socket until it closes: client messages through the gate
    /// to the protocol engine, its answers and events back, and the
    /// timers.
    fn converse<F>(
        mut self,
        mut messages: actix_ws::AggregatedMessageStream,
        schema: Coded,
        protocol: WebSocketProtocols,
        on_init: F,
    ) -> impl std::future::Future<Output = ()> + 'static
    where
        F: OnInit,
    {
        // A channel that allocates per message, of boxed messages (a
        // message is hundreds of bytes): an idle socket holds next to
        // nothing here, where a channel of preallocated slots held 4 KiB.
        let (to_engine, from_client) = mpsc::unbounded::<Box<ClientMessage>>();
        let from_client = from_client.map(|message| Ok(*message));
        let mut engine = Box::pin(
            WebSocket::from_message_stream(schema, from_client, protocol)
                .on_connection_init(on_init),
        );
        // An async block rather than an async fn: the fn's future would
        // keep a second copy of its arguments for as long as the socket
        // lives (rust-lang/rust#62958).
        async move {
            // What lives as long as the socket is kept small (an idle socket is
            // mostly this state): the initialisation timer goes once it is done
            // with, and the work of each message is boxed for its own time.
            let mut init_deadline = Some(Box::pin(tokio::time::sleep(self.limits.init)));
            let mut pings = tokio::time::interval(self.limits.heartbeat.min(self.limits.idle));
            pings.tick().await;
            let mut heard = Instant::now();
            let closing = self.slot.closing();
            tokio::pin!(closing);
            let ending: Ending = loop {
                if self.gate.initialised() {
                    init_deadline = None;
                }
                tokio::select! {
                    message = messages.next() => {
                        heard = Instant::now();
                        match Box::pin(self.received(message, &to_engine)).await {
                            Ok(()) => {}
                            Err(ending) => break ending,
                        }
                    }
                    sent = engine.next() => match sent {
                        Some(WsMessage::Text(text)) => {
                            self.gate.sent(&text);
                            if let Err(ending) = Box::pin(self.send(text)).await {
                                break ending;
                            }
                        }
                        Some(WsMessage::Close(code, reason)) => break Some(closing_code(code, reason)),
                        None => break Some((1000, String::new())),
                    },
                    () = until(&mut init_deadline) => {
                        break Some((4408, "Connection initialisation timeout".into()));
                    }
                    _ = pings.tick() => {
                        if let Err(ending) = Box::pin(self.check(heard)).await {
                            break ending;
                        }
                    }
                    _ = &mut closing => {
                        break Some((1001, "the server is going away".into()));
                    }
                }
            };
            if let Some((code, reason)) = ending {
                let reason = CloseReason {
                    code: code.into(),
                    description: Some(reason),
                };
                // A client that already left, or does not read, cannot be told.
                let patience = self.limits.heartbeat;
                let _ = Box::pin(tokio::time::timeout(
                    patience,
                    self.session.close(Some(reason)),
                ))
                .await;
            }
        }
    }

    /// Handles one frame from the client.
    async fn received(
        &mut self,
        message: Option<Result<AggregatedMessage, ProtocolError>>,
        to_engine: &mpsc::UnboundedSender<Box<ClientMessage>>,
    ) -> Result<(), Ending> {
        let text = match message {
            None => return Err(None),
            Some(Err(ProtocolError::Overflow)) => {
                return Err(Some((1009, "the message is too big".into())));
            }
            Some(Err(error)) => return Err(Some((1002, error.to_string()))),
            Some(Ok(AggregatedMessage::Text(text))) => text,
            Some(Ok(AggregatedMessage::Binary(_))) => {
                return Err(Some((4400, "Invalid message received: binary".into())));
            }
            Some(Ok(AggregatedMessage::Ping(bytes))) => {
                let patience = self.limits.heartbeat * 2;
                return written(tokio::time::timeout(patience, self.session.pong(&bytes)).await);
            }
            Some(Ok(AggregatedMessage::Pong(_))) => return Ok(()),
            Some(Ok(AggregatedMessage::Close(_))) => return Err(Some((1000, String::new()))),
        };
        match self.gate.admit(text.as_bytes()) {
            Verdict::Pass(message) => to_engine.unbounded_send(message).map_err(|_| None),
            Verdict::Answer(text) => self.send(text).await,
            Verdict::Close(code, reason) => Err(Some((code, reason))),
        }
    }

    /// Sends one message; a client that has not read for two heartbeats
    /// is dropped rather than held in memory.
    async fn send(&mut self, text: String) -> Result<(), Ending> {
        let patience = self.limits.heartbeat * 2;
        written(tokio::time::timeout(patience, self.session.text(text)).await)
    }

    /// The heartbeat: closes a socket that is idle or whose client went
    /// silent, and pings the others.
    async fn check(&mut self, heard: Instant) -> Result<(), Ending> {
        if self
            .gate
            .idle_for()
            .is_some_and(|idle| idle >= self.limits.idle)
        {
            return Err(Some((1000, "idle: no operation is running".into())));
        }
        if heard.elapsed() > self.limits.heartbeat * 2 + Duration::from_secs(1) {
            return Err(Some((1001, "no answer to pings".into())));
        }
        let patience = self.limits.heartbeat * 2;
        written(tokio::time::timeout(patience, self.session.ping(b"")).await)
    }
}

/// Waits for `deadline`, or for ever when there is none.
async fn until(deadline: &mut Option<std::pin::Pin<Box<tokio::time::Sleep>>>) {
    match deadline {
        Some(sleep) => sleep.as_mut().await,
        None => std::future::pending().await,
    }
}

/// What a write to the client came to: done, the client gone, or still
/// waiting after the time allowed (a client that does not read is let go
/// rather than held in memory).
fn written(
    outcome: Result<Result<(), actix_ws::Closed>, tokio::time::error::Elapsed>,
) -> Result<(), Ending> {
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_closed)) => Err(None),
        Err(_late) => Err(Some((1001, "the client does not read".into()))),
    }
}
