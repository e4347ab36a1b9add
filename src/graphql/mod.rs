//! The GraphQL API: a schema built without a database (so `newsdesk schema`
//! and the SDL test need none), per-area query types merged into the root,
//! request-scoped loaders that batch every lookup, and the limits that reject
//! abusive documents before any resolver runs.

mod articles;
mod auth;
mod connection;
mod context;
mod curation;
mod editorial;
mod ids;
mod limits;
mod loaders;
mod node;
mod notices;
mod recommendations;
mod script;
mod search;
mod sections;
mod site;
mod takedowns;
mod webhooks;

use std::sync::Arc;

use async_graphql::{EmptySubscription, MergedObject, Schema};

use crate::auth::rate_limits::RateLimits;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::db::Database;
use crate::domain::CacheKey;
use crate::text::script::ScriptConverter;

pub use context::RequestContext;
pub use ids::{decode_cursor, encode_cursor};
pub use limits::{
    classify_errors, introspection_only, readable_syntax_errors, rejection, INTROSPECTION_MAX_DEPTH,
};
pub use script::Script;
pub use takedowns::RemovedArticle;

/// What every request shares: the pool, the configuration, the converter.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    /// Login attempts per account name.
    pub throttle: Arc<LoginThrottle>,
    /// Where password hashes and checks run, a bounded number at once.
    pub passwords: Arc<crate::auth::passwords::PasswordWorkers>,
    /// Requests per partner key and minute.
    pub partner_limits: Arc<RateLimits>,
    /// Requests per client address and minute.
    pub client_limits: Arc<RateLimits>,
    /// Mutations per account and minute.
    pub account_limits: Arc<RateLimits>,
    /// Anonymous APQ registrations per client address and minute.
    pub apq_limits: Arc<RateLimits>,
    pub config: Arc<Config>,
    pub converter: Arc<ScriptConverter>,
    /// Public responses, forgotten by the writes that change them.
    pub cache: crate::cache::ResponseCache,
    /// What every request reads about the site, kept between requests.
    pub site: Arc<SiteSnapshots>,
    /// Registered and learnt persisted queries.
    pub persisted: Arc<crate::http::persisted::PersistedQueries>,
    /// `Idempotency-Key`s of the requests running in this process.
    pub idempotency: Arc<crate::http::idempotency::InFlight>,
    /// The listener for other nodes' changes.
    pub peers: Arc<crate::cache::peers::PeerStatus>,
}

/// Site-wide reads shared by requests; each is dropped by the writes that
/// touch its tag.
#[derive(Debug)]
pub struct SiteSnapshots {
    pub settings: crate::cache::Snapshot<crate::db::site::SiteRow>,
    pub sections: crate::cache::Snapshot<context::SectionTree>,
    pub notices: crate::cache::Snapshot<Vec<crate::db::notices::NoticeRow>>,
}

impl Default for SiteSnapshots {
    fn default() -> Self {
        SiteSnapshots {
            settings: crate::cache::Snapshot::new([CacheKey::Site]),
            sections: crate::cache::Snapshot::new([CacheKey::Sections]),
            notices: crate::cache::Snapshot::new([CacheKey::Notices]),
        }
    }
}

impl AppState {
    pub fn new(
        db: Database,
        clock: Arc<crate::cache::TagClock>,
        config: Config,
        converter: ScriptConverter,
        persisted: crate::http::persisted::PersistedQueries,
        shared_counts: Option<crate::auth::rate_limits::SharedCounts>,
    ) -> Self {
        let cache = crate::cache::ResponseCache::new(
            config.response_cache_bytes,
            std::time::Duration::from_secs(config.cache_max_age.into()),
            clock,
        );
        AppState {
            cache,
            site: Arc::default(),
            persisted: Arc::new(persisted),
            idempotency: Arc::default(),
            peers: Arc::default(),
            db,
            throttle: Arc::new(LoginThrottle::new(shared_counts.clone())),
            passwords: Arc::new(crate::auth::passwords::PasswordWorkers::start(
                config.password_workers,
                config.password_wait,
            )),
            partner_limits: Arc::new(RateLimits::new("partner", shared_counts.clone())),
            client_limits: Arc::new(RateLimits::new("client", shared_counts.clone())),
            account_limits: Arc::new(RateLimits::new("account", shared_counts.clone())),
            apq_limits: Arc::new(RateLimits::new("apq", shared_counts)),
            config: Arc::new(config),
            converter: Arc::new(converter),
        }
    }
}

/// The root query: one part per area.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    site::SiteQuery,
    sections::SectionQuery,
    articles::ArticleQuery,
    recommendations::RecommendationQuery,
    notices::NoticeQuery,
    node::NodeQuery,
    auth::AuthQuery,
    curation::AuditQueryRoot,
    takedowns::TakedownQueryRoot,
    webhooks::WebhookQuery,
    search::SearchQuery,
);

/// The root mutation: one part per area.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    auth::AuthMutation,
    editorial::ArticleMutation,
    curation::CurationMutation,
    takedowns::TakedownMutation,
    webhooks::WebhookMutation,
);

/// The schema type served at `/graphql`.
pub type NewsdeskSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The schema that runs introspection-only operations (see
/// [`introspection_only`]) when introspection is on: the same types and
/// limits, but the nesting graphql-js's standard introspection query needs.
#[derive(Clone)]
pub struct IntrospectionSchema(pub NewsdeskSchema);

/// Builds the schema with the limits of `config`.
pub fn build_schema(config: &Config) -> NewsdeskSchema {
    build_with_depth(config, config.limits.max_depth)
}

/// The schema for introspection-only operations, when introspection is on.
pub fn build_introspection_schema(config: &Config) -> Option<IntrospectionSchema> {
    config.introspection.then(|| {
        IntrospectionSchema(build_with_depth(
            config,
            INTROSPECTION_MAX_DEPTH.max(config.limits.max_depth),
        ))
    })
}

fn build_with_depth(config: &Config, max_depth: usize) -> NewsdeskSchema {
    let limits = &config.limits;
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_directives(limits.max_directives)
    .limit_recursive_depth(32)
    .extension(limits::DocumentLimits::new(
        limits.max_aliases,
        config.introspection,
    ));
    if !config.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    let schema = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .finish();
    schema.sdl()
}
