//! Subscriptions at `/graphql` over server-sent events (GraphQL over SSE,
//! the `graphql-sse` client's distinct-connections mode: a POST that
//! accepts `text/event-stream`, answered with `next` events and a
//! `complete`), and what they share with the WebSocket transport
//! ([`super::websocket`]). The same depth, complexity and size limits as
//! queries apply; a stream ends when the node stops.

use std::future::Future;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use async_graphql::{Data, Executor, Request, Response};
use futures_util::stream::{self, BoxStream, StreamExt};

use super::authentication::{authorization, bearer};
use super::documents::ParsedDocuments;
use super::{response, run};
use crate::domain::script::Script;
use crate::graphql::live::BearerToken;
use crate::graphql::{classify_errors, NewsdeskSchema};
use crate::http::AppState;
use crate::live::Slot;

/// The schema with every error given its code, as over HTTP
/// (`QUERY_TOO_DEEP` for "nested too deep", …), running kept documents
/// under the same limits: the transports here run operations without the
/// HTTP path's steps.
#[derive(Clone)]
pub(super) struct Coded {
    pub(super) schema: NewsdeskSchema,
    pub(super) documents: Arc<ParsedDocuments>,
}

impl Executor for Coded {
    fn execute(&self, mut request: Request) -> impl Future<Output = Response> + Send {
        let schema = self.schema.clone();
        let prepared = self.documents.prepare(&mut request);
        async move {
            match prepared {
                Ok(()) => coded(schema.execute(request).await),
                Err(refusal) => coded(Response::from_errors(vec![*refusal])),
            }
        }
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self.documents.prepare(&mut request) {
            Ok(()) => {
                Box::pin(Executor::execute_stream(&self.schema, request, session_data).map(coded))
            }
            Err(refusal) => Box::pin(stream::once(std::future::ready(coded(
                Response::from_errors(vec![*refusal]),
            )))),
        }
    }
}

fn coded(mut response: Response) -> Response {
    classify_errors(&mut response.errors);
    response
}

pub(super) fn default_script(req: &HttpRequest) -> Script {
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
        context.lasting();
        let mut request = request.data(context);
        if let Some(token) = authorization(&req).and_then(bearer) {
            request = request.data(BearerToken(token));
        }
        let coded = Coded {
            schema: NewsdeskSchema::clone(&schema),
            documents: state.documents.clone(),
        };
        let results = coded
            .execute_stream(request, None)
            .map(|result| {
                let json = serde_json::to_string(&result).unwrap_or_else(|_| "{}".into());
                format!("event: next\ndata: {json}\n\n")
            })
            .chain(stream::once(async {
                "event: complete\ndata:\n\n".to_string()
            }));
        Ok(sse(live_events(results, state.config.live_heartbeat, slot)))
    };
    answer.await.unwrap_or_else(response::refused)
}

/// `events` as a live connection sends them: with a comment line whenever
/// `every` passes without one (a proxy keeps a quiet stream open, and a
/// client that went away is noticed when the writes fail), holding `slot`
/// until the stream ends, and ending when the node stops.
pub fn live_events(
    events: impl futures_util::Stream<Item = String> + Send + 'static,
    every: std::time::Duration,
    slot: Slot,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> + 'static {
    let closing = slot.closing();
    let beating = stream::unfold(Box::pin(events), move |mut events| async move {
        let next = tokio::select! {
            event = events.next() => event?,
            _ = tokio::time::sleep(every) => ": heartbeat\n\n".to_string(),
        };
        Some((next, events))
    });
    beating.take_until(closing).map(move |text| {
        let _held = &slot;
        Ok(web::Bytes::from(text))
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
