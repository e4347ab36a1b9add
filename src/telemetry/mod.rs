//! Logging and traces, set up once per process, and the metrics each
//! server keeps. Log lines carry dotted fields (`request.id`, `trace.id`,
//! `article.id`) and never personal data, passwords or tokens.

pub mod metrics;
pub mod openmetrics;
pub mod requests;
mod sampled;
pub mod traces;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

use crate::config::{LogFormat, TraceExport};
pub use traces::TraceGuard;

/// Installs the global subscriber: log lines filtered by `RUST_LOG`
/// (default `info`), and spans exported to `traces` when it is set.
/// Calling it twice is harmless (tests start many servers in one process);
/// keep the guard until the process ends.
pub fn init(format: LogFormat, traces: Option<&TraceExport>) -> Result<TraceGuard, String> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = match format {
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Text => fmt::layer().with_writer(std::io::stderr).boxed(),
    };
    let (tracer, guard) = traces::exporter(traces)?;
    let spans = tracer.map(|tracer| {
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(Targets::new().with_target("newsdesk", LevelFilter::DEBUG))
    });
    let _ = tracing_subscriber::registry()
        .with(lines.with_filter(filter))
        .with(spans)
        .try_init();
    Ok(guard)
}
