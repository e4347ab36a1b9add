//! Spans for traces: one per top-level field (the resolvers that reach the
//! database; what they load nests inside), and data loaders whose batches
//! stay in the span of the request that asked for them.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerResult, Value};
use futures_util::future::BoxFuture;
use tracing::Instrument;

/// Installed only when spans are exported: it costs a boxed future per
/// field.
pub struct FieldSpans;

impl ExtensionFactory for FieldSpans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FieldSpans)
    }
}

#[async_trait::async_trait]
impl Extension for FieldSpans {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_some()
            || info.is_for_introspection
            || !crate::telemetry::traces::recording()
        {
            return next.run(ctx, info).await;
        }
        let span = tracing::debug_span!(
            "graphql.field",
            otel.name = %format_args!("{}.{}", info.parent_type, info.name),
            graphql.field.path = %info.path_node,
        );
        next.run(ctx, info).instrument(span).await
    }
}

/// Runs a data loader's batch in the span of the field that started it.
pub fn spawn_in_span(batch: BoxFuture<'static, ()>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(batch.in_current_span())
}
