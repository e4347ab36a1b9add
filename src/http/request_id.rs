//! Gives every request an id: the caller's `x-request-id` when it is sane,
//! else a new UUID. The id is echoed in the response, stored in the request's
//! extensions, and recorded on the request span so every log line carries it.

use std::future::{ready, Ready};
use std::pin::Pin;
use std::time::Instant;

use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::HttpMessage;
use tracing::Instrument;

use crate::telemetry::traces;

/// The header carrying the id.
pub const HEADER: &str = "x-request-id";

/// The id of the current request, in the request's extensions.
#[derive(Debug, Clone)]
pub struct CurrentRequestId(pub String);

/// Middleware factory.
pub struct RequestId;

impl<S, B> Transform<S, ServiceRequest> for RequestId
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RequestIdMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestIdMiddleware { service }))
    }
}

/// The middleware itself.
pub struct RequestIdMiddleware<S> {
    service: S,
}

fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The span of one request, carrying its id and trace id on every log
/// line. With traces exported it is the server span of the request, named
/// by its route template, and continues the caller's `traceparent`.
fn request_span(req: &ServiceRequest, id: &str) -> tracing::Span {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let span = tracing::info_span!(
        "http.request",
        request.id = %id,
        trace.id = tracing::field::Empty,
        http.method = %req.method(),
        http.path = %req.path(),
        graphql.operation.name = tracing::field::Empty,
        graphql.operation.type = tracing::field::Empty,
        otel.name = tracing::field::Empty,
        otel.kind = tracing::field::Empty,
        http.route = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    let traceparent = header("traceparent");
    if traces::exporting() {
        let route = req
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_string());
        span.record("otel.name", format!("{} {route}", req.method()));
        span.record("otel.kind", "server");
        span.record("http.route", route);
        traces::continue_trace(&span, traceparent, header("tracestate"));
    }
    // Without an exporter the caller's trace id still ties the lines together.
    let trace_id = traces::trace_id(&span).or_else(|| {
        traceparent
            .and_then(traces::trace_id_of)
            .map(str::to_string)
    });
    if let Some(trace_id) = trace_id {
        span.record("trace.id", trace_id);
    }
    span
}

impl<S, B> Service<ServiceRequest> for RequestIdMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let id = req
            .headers()
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| acceptable(v))
            .map(String::from)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        req.extensions_mut().insert(CurrentRequestId(id.clone()));
        let span = request_span(&req, &id);
        let started = Instant::now();
        let fut = self.service.call(req);
        Box::pin(
            async move {
                let mut res = fut.await?;
                let status = res.status().as_u16();
                if res.status().is_server_error() {
                    tracing::Span::current().record("otel.status_code", "ERROR");
                }
                tracing::info!(
                    http.status = status,
                    elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                    "request done"
                );
                if let Ok(value) = HeaderValue::from_str(&id) {
                    res.headers_mut()
                        .insert(HeaderName::from_static(HEADER), value);
                }
                Ok(res)
            }
            .instrument(span),
        )
    }
}
