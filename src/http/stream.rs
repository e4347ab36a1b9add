//! `GET /v1/stream`: the public changes as server-sent events, for REST
//! clients: `published`, `updated` and `removed` articles (within a section
//! and its subsections when `section` is given) and `recommendations` lists,
//! as JSON, each with its change-log number as the event id. A client that
//! reconnects with `Last-Event-ID` (browsers' `EventSource` does by itself)
//! first gets what it missed from the change log; one that asks from before
//! what the log keeps gets a `reset` event (reload, then follow). A comment
//! after `NEWSDESK_LIVE_HEARTBEAT_SECONDS` (15) without an event keeps
//! proxies from closing a quiet stream.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::bodies::ErrorBody;
use super::graphql::subscriptions::{live_events, sse};
use super::rest::section_scope;
use super::script::request_script;
use super::AppState;
use crate::db::change_log::ChangeKind;
use crate::db::site::SiteRow;
use crate::domain::script::Script;
use crate::error::AppError;
use crate::live::Event;
use crate::read::Voice;

/// Events read from the log for a client that resumes, at most.
const RESUME_LIMIT: i64 = 10_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/stream", web::get().to(stream_changes));
}

/// Query parameters of `/v1/stream`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct StreamParams {
    /// Section slug (its subsections included); lists are sent regardless.
    #[param(nullable = false)]
    section: Option<String>,
    /// `hans`, `hant`, `hant-tw`, `hant-hk` or `original`.
    #[param(nullable = false)]
    script: Option<String>,
    /// Resume after this event id (as the `Last-Event-ID` header does).
    #[param(nullable = false)]
    last_event_id: Option<i64>,
}

/// Public changes as they commit, as server-sent events.
#[utoipa::path(get, path = "/v1/stream", params(StreamParams),
    responses((status = 200, description = "An endless `text/event-stream`", content_type = "text/event-stream", body = String),
        (status = 400, description = "A bad parameter", body = ErrorBody),
        (status = 404, description = "No section has this slug", body = ErrorBody)))]
pub(super) async fn stream_changes(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<StreamParams>,
) -> Result<HttpResponse, AppError> {
    let params = params.into_inner();
    let script = request_script(&req, params.script.as_deref())?;
    let slot = state.live_slot(&req)?;
    let resume = match (last_event_id(&req)?, params.last_event_id) {
        (Some(seq), _) | (None, Some(seq)) => Some(seq),
        (None, None) => None,
    };
    // Subscribed before the past is read: nothing falls between the two.
    let live = state.live.events();
    let section = params.section.clone();
    let shared = state.shared().clone();
    let (site, sections, past) = state
        .db
        .run(move |conn| {
            let site = shared.site_on(conn)?;
            let sections = section_scope(conn, &shared, section.as_deref())?.map(|(_, ids)| ids);
            let past = match resume {
                Some(seq) => crate::live::events_after(conn, seq, RESUME_LIMIT)?,
                None => Some(vec![]),
            };
            Ok((site, sections, past))
        })
        .await?;
    let writer_heartbeat = state.config.live_heartbeat;
    let writer = Arc::new(Writer {
        state: state.into_inner(),
        site,
        script,
        sections,
    });
    let head = match &past {
        Some(_) => "retry: 3000\n\n".to_string(),
        None => "retry: 3000\n\nevent: reset\ndata: {}\n\n".to_string(),
    };
    let past = past.unwrap_or_default();
    let mut last = resume.unwrap_or(i64::MIN);
    let replayed = stream::iter(past.into_iter().map(Arc::new));
    let events = replayed.chain(live).filter_map(move |event| {
        // What the replay sent is not sent again.
        let fresh = event.seq > last;
        last = last.max(event.seq);
        let text = fresh.then(|| writer.event(&event)).flatten();
        async move { text }
    });
    let heartbeat = writer_heartbeat;
    let events = stream::once(async move { head }).chain(events);
    Ok(sse(live_events(events, heartbeat, slot)))
}

/// The `Last-Event-ID` header, if sent.
fn last_event_id(req: &HttpRequest) -> Result<Option<i64>, AppError> {
    let Some(value) = req.headers().get("last-event-id") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| AppError::BadInput("Last-Event-ID: not an event id of this stream".into()))
}

/// Writes events for one client.
struct Writer {
    state: Arc<AppState>,
    site: Arc<SiteRow>,
    script: Script,
    sections: Option<Vec<i32>>,
}

impl Writer {
    /// The event as the client gets it, or `None` when it is not theirs
    /// (another section, a draft, an article no longer public).
    fn event(&self, event: &Event) -> Option<String> {
        let voice = Voice::new(&self.state.converter, self.script, &self.site);
        let base = &self.state.config.public_base_url;
        let within = |section: i32| self.sections.as_ref().is_none_or(|s| s.contains(&section));
        let data = match (event.kind, &event.article) {
            (ChangeKind::Published | ChangeKind::Updated, Some(row))
                if within(row.section_id) && row.is_public_at(crate::db::now()) =>
            {
                json!({
                    "id": row.id,
                    "slug": row.shown_slug(),
                    "title": voice.line(&row.title),
                    "summary": voice.body(&row.summary, &row.script),
                    "url": crate::read::article_url(base, row),
                    "publishedAt": row.published_at.map(|t| voice.time(t)),
                    "revision": row.revision,
                })
            }
            (ChangeKind::Removed, Some(row)) if within(row.section_id) => json!({
                "id": row.id,
                "slug": row.shown_slug(),
                "tombstone": event.tombstone.as_ref().map(|t| json!({
                    "withdrawnAt": voice.time(t.withdrawn_at),
                    "requestReferences": t.references,
                })),
            }),
            (ChangeKind::List, _) => json!({ "list": event.list }),
            _ => return None,
        };
        let kind = match event.kind {
            ChangeKind::List => "recommendations",
            other => other.as_str(),
        };
        Some(format!(
            "id: {}\nevent: {kind}\ndata: {data}\n\n",
            event.seq
        ))
    }
}
