//! Traces: spans exported over OTLP (HTTP/protobuf) when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) is set, and W3C
//! `traceparent` read on the way in and written on the way out.
//!
//! The spans are ordinary `tracing` spans. A request's span is `info`; the
//! spans inside it (the GraphQL operation, each database call, each SQL
//! statement, cache lookups) are `debug`, which the log filter leaves off
//! by default: with no exporter they are never built, so tracing costs
//! nothing when it is off. The exporter takes every `debug` span of
//! newsdesk whatever `RUST_LOG` says.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::config::TraceExport;

/// Whether this process exports spans (set once, at start).
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported: the work of naming them is skipped when not.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Whether the spans of the work at hand are worth building: an exporter
/// runs and the current span's trace is sampled. Spans inside a request
/// ask first, so an unsampled request costs its own span only.
pub fn recording() -> bool {
    exporting()
        && tracing::Span::current()
            .context()
            .span()
            .span_context()
            .is_sampled()
}

/// Keeps the exporter running; dropping it sends the spans still queued.
pub struct TraceGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TraceGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(error) = provider.shutdown() {
                eprintln!("newsdesk: traces: {error}");
            }
        }
    }
}

/// The OpenTelemetry layer for `export`, or why it cannot be built. Call
/// before any async runtime starts: the exporter's HTTP client runs on a
/// thread of its own.
pub(super) fn exporter(
    export: Option<&TraceExport>,
) -> Result<(Option<opentelemetry_sdk::trace::Tracer>, TraceGuard), String> {
    let Some(_) = export else {
        return Ok((None, TraceGuard { provider: None }));
    };
    let spans = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| e.to_string())?;
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("newsdesk");
    }
    let resource = resource
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(spans)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("newsdesk");
    EXPORTING.store(true, Ordering::Relaxed);
    Ok((
        Some(tracer),
        TraceGuard {
            provider: Some(provider),
        },
    ))
}

/// A W3C trace context header's trace id, when the header is well formed
/// (`00-<32 hex>-<16 hex>-<2 hex>`, neither id all zeros).
pub fn trace_id_of(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
    let valid = hex(version, 2)
        && version != "ff"
        && (version != "00" || parts.next().is_none())
        && hex(trace, 32)
        && nonzero(trace)
        && hex(parent, 16)
        && nonzero(parent)
        && hex(flags, 2);
    valid.then_some(trace)
}

/// Makes `span` a child of the caller's span named by `traceparent` (and
/// `tracestate`). Call before the span is first entered; without an
/// exporter it does nothing.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>, tracestate: Option<&str>) {
    let Some(traceparent) = traceparent.filter(|t| trace_id_of(t).is_some()) else {
        return;
    };
    let mut carrier = HashMap::with_capacity(2);
    carrier.insert("traceparent".to_string(), traceparent.to_string());
    if let Some(state) = tracestate {
        carrier.insert("tracestate".to_string(), state.to_string());
    }
    let parent = TraceContextPropagator::new().extract(&carrier);
    // Refused only when the span is off or already started: it then
    // starts a trace of its own.
    let _ = span.set_parent(parent);
}

/// The `traceparent` naming `span`, for a call made on its behalf; `None`
/// without an exporter.
pub fn traceparent(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::with_capacity(2);
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

/// The trace id of `span` (32 hex digits), when it is exported.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_trace_contexts_are_read() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(trace_id_of(good), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-<script>-00f067aa0ba902b7-01",
        ] {
            assert_eq!(trace_id_of(bad), None, "{bad}");
        }
        // A later version may carry more fields.
        assert!(
            trace_id_of("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more").is_some()
        );
    }

    #[test]
    fn without_an_exporter_nothing_is_propagated() {
        let span = tracing::info_span!("t");
        continue_trace(
            &span,
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            None,
        );
        assert_eq!(traceparent(&span), None);
        assert_eq!(trace_id(&span), None);
    }
}
