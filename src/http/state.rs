//! What the HTTP server keeps between requests: what GraphQL resolvers
//! share ([`Shared`]), and what only the routes and middleware above them
//! use — the response cache, persisted queries, idempotency keys in flight,
//! rate limits and the peers' listener.

use std::ops::Deref;
use std::sync::Arc;

use crate::auth::rate_limits::{RateLimits, SharedCounts};
use crate::cache::peers::PeerStatus;
use crate::cache::{ResponseCache, TagClock};
use crate::config::Config;
use crate::db::Database;
use crate::graphql::Shared;
use crate::text::script::ScriptConverter;

use super::idempotency::InFlight;
use super::persisted::PersistedQueries;

/// The server's state, one per process, cloned into every worker. It
/// dereferences to [`Shared`], so handlers read `state.db`, `state.config`.
#[derive(Clone)]
pub struct AppState {
    shared: Shared,
    /// Requests per partner key and minute.
    pub partner_limits: Arc<RateLimits>,
    /// Requests per client address and minute.
    pub client_limits: Arc<RateLimits>,
    /// Mutations per account and minute.
    pub account_limits: Arc<RateLimits>,
    /// Anonymous APQ registrations per client address and minute.
    pub apq_limits: Arc<RateLimits>,
    /// Public responses, forgotten by the writes that change them.
    pub cache: ResponseCache,
    /// Registered and learnt persisted queries.
    pub persisted: Arc<PersistedQueries>,
    /// GraphQL documents already parsed, by their text.
    pub documents: Arc<super::graphql::ParsedDocuments>,
    /// `Idempotency-Key`s of the requests running in this process.
    pub idempotency: Arc<InFlight>,
    /// The listener for other nodes' changes.
    pub peers: Arc<PeerStatus>,
    /// The live connections (WebSockets, event streams) this node holds.
    pub live_slots: Arc<crate::live::Slots>,
}

impl AppState {
    pub fn new(
        db: Database,
        clock: Arc<TagClock>,
        config: Config,
        converter: Arc<ScriptConverter>,
        persisted: PersistedQueries,
        shared_counts: Option<SharedCounts>,
        search: Arc<crate::search::SearchIndex>,
        media: Arc<crate::media::Library>,
    ) -> Result<Self, String> {
        let cache = ResponseCache::new(
            config.response_cache_bytes,
            std::time::Duration::from_secs(config.cache_max_age.into()),
            clock.clone(),
        );
        let limits = |scope| Arc::new(RateLimits::new(scope, shared_counts.clone()));
        let metrics = crate::telemetry::metrics::Metrics::new(config.database_url.engine())
            .map_err(|e| format!("metrics: {e}"))?;
        Ok(AppState {
            partner_limits: limits("partner"),
            client_limits: limits("client"),
            account_limits: limits("account"),
            apq_limits: limits("apq"),
            cache,
            persisted: Arc::new(persisted),
            documents: Arc::new(super::graphql::ParsedDocuments::new(
                super::graphql::KEPT_DOCUMENT_BYTES,
                crate::graphql::DocumentLimits::of(&config),
            )),
            idempotency: Arc::default(),
            peers: Arc::default(),
            live_slots: Arc::new(crate::live::Slots::new(
                config.live_connections_per_address,
                config.live_connections,
            )),
            shared: Shared::new(
                db,
                clock,
                Arc::new(config),
                converter,
                shared_counts,
                search,
                media,
                Arc::new(metrics),
            ),
        })
    }

    /// What GraphQL resolvers get of this state.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl AppState {
    /// A place for a live connection of `req`'s client (the address the
    /// rate limits use).
    pub fn live_slot(
        &self,
        req: &actix_web::HttpRequest,
    ) -> Result<crate::live::Slot, crate::error::AppError> {
        let address = super::rate_limit::client_addresses(
            req.peer_addr().map(|a| a.ip()),
            req.headers(),
            &self.config.trusted_proxies,
        )
        .into_iter()
        .next();
        self.live_slots.take(address)
    }
}
