//! The GraphQL API: a schema built without a database (so `newsdesk schema`
//! and the SDL test need none), per-area query types merged into the root,
//! request-scoped loaders that batch every lookup, and the limits that reject
//! abusive documents before any resolver runs.

mod articles;
mod auth;
mod body;
mod connection;
mod context;
mod curation;
mod editorial;
mod ids;
mod limits;
mod listing;
pub mod live;
mod loaders;
mod media;
mod node;
mod notices;
mod recommendations;
mod script;
mod search;
mod sections;
mod seo;
mod site;
mod spans;
mod takedowns;
mod webhooks;

use std::sync::Arc;

use async_graphql::{MergedObject, Schema, ValidationMode};

use crate::auth::passwords::PasswordWorkers;
use crate::auth::rate_limits::SharedCounts;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::db::Database;
use crate::domain::CacheKey;
use crate::services::sessions::Logins;
use crate::text::script::ScriptConverter;

pub use context::{RequestContext, SectionTree};
pub use ids::{decode_cursor, encode_cursor};
pub use limits::{
    classify_errors, introspection_only, readable_syntax_errors, rejection, DocumentLimits,
    INTROSPECTION_MAX_DEPTH,
};
pub use script::Script;
pub use takedowns::RemovedArticle;

/// What resolvers use of the server, shared by every request: the pool,
/// the configuration, the script converter, the site snapshots, and the
/// login throttle and password workers. The HTTP server's own state (its
/// response cache, persisted queries, rate limits …) is kept above, in
/// `http`, and dereferences to this.
#[derive(Clone)]
pub struct Shared {
    pub db: Database,
    /// Login attempts per account name.
    pub throttle: Arc<LoginThrottle>,
    /// Where password hashes and checks run, a bounded number at once.
    pub passwords: Arc<PasswordWorkers>,
    pub config: Arc<Config>,
    pub converter: Arc<ScriptConverter>,
    /// What every request reads about the site, kept between requests.
    pub site: Arc<SiteSnapshots>,
    /// When each cache tag last changed: the snapshots are checked against it.
    pub clock: Arc<crate::cache::TagClock>,
    /// This node's search index (see `search::engine`).
    pub search: Arc<crate::search::SearchIndex>,
    /// This node's broadcast of committed changes (see `live`).
    pub live: Arc<crate::live::Hub>,
    /// Uploaded pictures and their renditions.
    pub media: Arc<crate::media::Library>,
    /// This server's metrics (`/metrics`).
    pub metrics: Arc<crate::telemetry::metrics::Metrics>,
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

impl Shared {
    /// How long a site snapshot is kept without a write's notice: what a
    /// change made past this server (another node, the CLI) may take to
    /// show.
    pub fn snapshot_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.config.cache_max_age.into())
    }

    /// A site-wide value from its snapshot, or read with `conn` and kept,
    /// as [`RequestContext`] does between requests: for code that already
    /// holds a connection (the REST routes and their search).
    fn kept_on<T>(
        &self,
        conn: &mut crate::db::AnyConnection,
        snapshot: &crate::cache::Snapshot<T>,
        load: impl FnOnce(&mut crate::db::AnyConnection) -> Result<T, crate::error::AppError>,
    ) -> Result<Arc<T>, crate::error::AppError> {
        snapshot.get_or_load(&self.clock, self.snapshot_ttl(), || load(conn))
    }

    /// The site's settings, from their snapshot or read with `conn`.
    pub fn site_on(
        &self,
        conn: &mut crate::db::AnyConnection,
    ) -> Result<Arc<crate::db::site::SiteRow>, crate::error::AppError> {
        self.kept_on(conn, &self.site.settings, crate::db::site::load)
    }

    /// The section tree, from its snapshot or read with `conn`.
    pub fn sections_on(
        &self,
        conn: &mut crate::db::AnyConnection,
    ) -> Result<Arc<SectionTree>, crate::error::AppError> {
        self.kept_on(conn, &self.site.sections, |c| {
            crate::db::sections::all(c).map(SectionTree::new)
        })
    }

    /// The copyright notices, from their snapshot or read with `conn`.
    pub fn notices_on(
        &self,
        conn: &mut crate::db::AnyConnection,
    ) -> Result<Arc<Vec<crate::db::notices::NoticeRow>>, crate::error::AppError> {
        self.kept_on(conn, &self.site.notices, crate::db::notices::all)
    }

    /// `shared_counts` keeps login attempts in Redis, so that every node
    /// counts them together.
    pub fn new(
        db: Database,
        clock: Arc<crate::cache::TagClock>,
        config: Arc<Config>,
        converter: Arc<ScriptConverter>,
        shared_counts: Option<SharedCounts>,
        search: Arc<crate::search::SearchIndex>,
        media: Arc<crate::media::Library>,
        metrics: Arc<crate::telemetry::metrics::Metrics>,
    ) -> Self {
        Shared {
            metrics,
            clock,
            db,
            search,
            live: Arc::default(),
            media,
            throttle: Arc::new(LoginThrottle::new(shared_counts)),
            passwords: Arc::new(PasswordWorkers::start(
                config.password_workers,
                config.password_wait,
            )),
            config,
            converter,
            site: Arc::default(),
        }
    }

    /// What a login needs: the primary, the throttle, the password workers
    /// and the token keys.
    pub fn logins(&self) -> Logins<'_> {
        Logins {
            db: &self.db,
            throttle: &self.throttle,
            passwords: &self.passwords,
            keys: self.config.tokens.as_ref(),
            token_ttl: self.config.access_token_ttl,
        }
    }
}

/// The root query: one part per area.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    site::SiteQuery,
    sections::SectionQuery,
    articles::ArticleQuery,
    media::MediaQuery,
    listing::ArticleListQuery,
    recommendations::RecommendationQuery,
    notices::NoticeQuery,
    node::NodeQuery,
    auth::AuthQuery,
    curation::AuditQueryRoot,
    takedowns::TakedownQueryRoot,
    webhooks::WebhookQuery,
    search::SearchQuery,
    search::SuggestQuery,
);

/// The root mutation: one part per area.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    auth::AuthMutation,
    editorial::ArticleMutation,
    media::MediaMutation,
    curation::CurationMutation,
    takedowns::TakedownMutation,
    webhooks::WebhookMutation,
);

/// The schema type served at `/graphql`.
pub type NewsdeskSchema = Schema<QueryRoot, MutationRoot, live::SubscriptionRoot>;

/// The schema that runs introspection-only operations (see
/// [`introspection_only`]) when introspection is on: the same types and
/// limits, but the nesting graphql-js's standard introspection query needs.
#[derive(Clone)]
pub struct IntrospectionSchema(pub NewsdeskSchema);

/// The schema that runs a document which passed strict validation before,
/// with variables that need no schema to be checked: async-graphql's fast
/// validation mode (depth, complexity, fragment cycles), the same limits.
/// `/graphql` decides which requests may use it (`http::graphql::validated`).
#[derive(Clone)]
pub struct PrevalidatedSchema(pub NewsdeskSchema);

/// Builds the schema with the limits of `config`.
pub fn build_schema(config: &Config) -> NewsdeskSchema {
    build_with_depth(config, config.limits.max_depth, ValidationMode::Strict)
}

/// The schema for documents validated before (see [`PrevalidatedSchema`]).
pub fn build_prevalidated_schema(config: &Config) -> PrevalidatedSchema {
    PrevalidatedSchema(build_with_depth(
        config,
        config.limits.max_depth,
        ValidationMode::Fast,
    ))
}

/// The schema for introspection-only operations, when introspection is on.
pub fn build_introspection_schema(config: &Config) -> Option<IntrospectionSchema> {
    config.introspection.then(|| {
        IntrospectionSchema(build_with_depth(
            config,
            INTROSPECTION_MAX_DEPTH.max(config.limits.max_depth),
            ValidationMode::Strict,
        ))
    })
}

fn build_with_depth(config: &Config, max_depth: usize, mode: ValidationMode) -> NewsdeskSchema {
    let limits = &config.limits;
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        live::SubscriptionRoot,
    )
    .limit_depth(max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_directives(limits.max_directives)
    .limit_recursive_depth(32)
    .validation_mode(mode);
    if !config.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    if config.traces.is_some() {
        builder = builder.extension(spans::FieldSpans);
    }
    builder.finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    let schema = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        live::SubscriptionRoot,
    )
    .finish();
    schema.sdl()
}
