//! One typed configuration, read from the environment (and `.env` if present).
//! Every variable is documented in `.env.example`. A bad value stops the
//! program at start with one line naming the variable and exit code 2.

use std::net::SocketAddr;
use std::time::Duration;

use crate::auth::tokens::TokenKeys;
use crate::db::pool::{PoolOptions, SqliteSynchronous};
use crate::db::DatabaseUrl;

/// A configuration value that could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

/// The OTLP collector spans go to, from the variables the OpenTelemetry
/// specification names: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (none: no export), `OTEL_TRACES_EXPORTER`
/// (`otlp` or `none`), `OTEL_SDK_DISABLED`, and the protocol, which must be
/// `http/protobuf`. Plain HTTP only: spans go to a collector on the same
/// host or network, which forwards them on.
fn trace_export(get: &impl Fn(&str) -> Option<String>) -> Result<Option<TraceExport>, ConfigError> {
    if flag("OTEL_SDK_DISABLED", get("OTEL_SDK_DISABLED"), false)? {
        return Ok(None);
    }
    match get("OTEL_TRACES_EXPORTER").as_deref().map(str::trim) {
        None | Some("otlp") => {}
        Some("none") => return Ok(None),
        Some(other) => {
            return Err(ConfigError {
                variable: "OTEL_TRACES_EXPORTER",
                problem: format!("expected otlp or none, got {other:?}"),
            })
        }
    }
    let Some((variable, endpoint)) = [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .into_iter()
    .find_map(|name| get(name).map(|value| (name, value))) else {
        return Ok(None);
    };
    for name in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Some(protocol) = get(name).filter(|p| p.trim() != "http/protobuf") {
            return Err(ConfigError {
                variable: name,
                problem: format!("only http/protobuf is supported, got {protocol:?}"),
            });
        }
    }
    match url::Url::parse(endpoint.trim()) {
        Ok(url) if url.scheme() == "http" && url.host().is_some() => Ok(Some(TraceExport {
            endpoint: endpoint.trim().to_string(),
        })),
        _ => Err(ConfigError {
            variable,
            problem: format!("expected an http:// URL of an OTLP collector, got {endpoint:?}"),
        }),
    }
}

/// Where the search index lives unless `NEWSDESK_SEARCH_DIR` says: beside
/// a SQLite file (`newsdesk.db` → `newsdesk.db-search`), in memory for an
/// in-memory one, and for PostgreSQL under the working folder, one folder
/// per database (`search-index/<host>-<port>-<database>`).
fn default_search_dir(url: &DatabaseUrl) -> Option<std::path::PathBuf> {
    match url {
        DatabaseUrl::Sqlite(path) if path.contains("mode=memory") => None,
        DatabaseUrl::Sqlite(path) => Some(format!("{path}-search").into()),
        DatabaseUrl::Postgres(url) => {
            let rest = url.split("://").nth(1).unwrap_or(url);
            let place = rest.rsplit('@').next().unwrap_or(rest);
            let place = place.split('?').next().unwrap_or(place);
            let name: String = place
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            Some(std::path::Path::new("search-index").join(name))
        }
    }
}

/// Where media files live unless `NEWSDESK_MEDIA_DIR` says: beside a
/// SQLite file (`newsdesk.db` → `newsdesk.db-media`), and otherwise under
/// the working folder, one folder per database (`media/<host>-<port>-<database>`,
/// `media/memory` for an in-memory SQLite database).
fn default_media_dir(url: &DatabaseUrl) -> std::path::PathBuf {
    match (url, default_search_dir(url)) {
        (DatabaseUrl::Sqlite(path), Some(_)) => format!("{path}-media").into(),
        (_, Some(search)) => {
            std::path::Path::new("media").join(search.file_name().unwrap_or_default())
        }
        (_, None) => std::path::Path::new("media").join("memory"),
    }
}

/// An S3-compatible bucket for media (`NEWSDESK_MEDIA_URL=s3://bucket/prefix`),
/// reached with the usual `AWS_*` settings.
#[derive(Clone)]
pub struct S3Media {
    pub bucket: String,
    /// Keys start with this (no leading or trailing slash; may be empty).
    pub prefix: String,
    /// `AWS_ENDPOINT_URL`: another S3-compatible service than AWS (MinIO, moto …).
    pub endpoint: Option<String>,
    /// `AWS_REGION` (`us-east-1`).
    pub region: String,
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    pub key_id: Option<String>,
    pub secret: Option<String>,
    /// `AWS_ALLOW_HTTP=true` lets the endpoint be plain http (a local service).
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Media")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// `s3://bucket/prefix` as bucket and prefix.
fn s3_location(url: &str) -> Result<(String, String), ConfigError> {
    let rest = url.strip_prefix("s3://").ok_or_else(|| ConfigError {
        variable: "NEWSDESK_MEDIA_URL",
        problem: format!("expected s3://BUCKET/PREFIX, got {url:?}"),
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !valid {
        return Err(ConfigError {
            variable: "NEWSDESK_MEDIA_URL",
            problem: format!("{bucket:?} is not an S3 bucket name"),
        });
    }
    Ok((bucket.to_string(), prefix.trim_matches('/').to_string()))
}

/// Limits and place of uploaded media.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// The folder files are kept in (`NEWSDESK_MEDIA_DIR`) when no bucket is named.
    pub dir: std::path::PathBuf,
    /// The bucket files are kept in instead, shared by every node.
    pub s3: Option<S3Media>,
    /// The largest upload, in bytes (`NEWSDESK_MEDIA_MAX_BYTES`, 20 MiB).
    pub max_bytes: usize,
    /// The most pixels a picture may have (`NEWSDESK_MEDIA_MAX_PIXELS`, 30
    /// million: a 6,000 × 5,000 photograph), read from its header before
    /// it is decoded.
    pub max_pixels: u64,
}

/// Where spans go: an OTLP/HTTP collector (its base URL, `/v1/traces` is
/// added, as the OpenTelemetry specification says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceExport {
    /// What the exporter reads from the environment itself
    /// (`OTEL_EXPORTER_OTLP_ENDPOINT` or `…_TRACES_ENDPOINT`); kept for the
    /// start-up line.
    pub endpoint: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Limits applied to every GraphQL request before any resolver runs.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_directives: usize,
    pub max_query_chars: usize,
    pub max_body_bytes: usize,
    /// Body limit for requests that carry credentials (editors send whole articles).
    pub max_editorial_body_bytes: usize,
    /// The longest a client may take to send a request body (the headers
    /// have actix's 5 s); a trickling body is answered 408.
    pub body_timeout: Duration,
}

/// Everything the service reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    /// PostgreSQL replicas for anonymous reads (`DATABASE_READ_URL`, comma-separated).
    pub read_urls: Vec<DatabaseUrl>,
    pub bind: SocketAddr,
    pub log_format: LogFormat,
    /// Where spans are exported, when anywhere (the standard `OTEL_*`
    /// variables; see [`trace_export`]).
    pub traces: Option<TraceExport>,
    pub migrate_on_start: bool,
    pub pool: PoolOptions,
    pub public_base_url: String,
    pub owned_sources: Vec<String>,
    pub graphiql: bool,
    /// Whether requests are counted and `/metrics` answers
    /// (`NEWSDESK_METRICS`, on by default).
    pub metrics: bool,
    /// Where `/metrics` is served instead of the API's address
    /// (`NEWSDESK_METRICS_BIND`), so that it need not be public.
    pub metrics_bind: Option<SocketAddr>,
    pub introspection: bool,
    pub cors_origins: Vec<String>,
    pub cache_max_age: u32,
    /// Requests per client address and minute; 0 switches the limit off.
    pub rate_limit_per_minute: u32,
    /// Mutations per account and minute; 0 switches the limit off.
    pub mutations_per_minute: u32,
    /// Live connections (WebSockets, event streams) per client address; 0
    /// switches the limit off.
    pub live_connections_per_address: usize,
    /// Live connections a node holds in all; 0 switches the limit off.
    pub live_connections: usize,
    /// How long an event stream stays quiet before a comment line, and a
    /// WebSocket before a ping.
    pub live_heartbeat: std::time::Duration,
    /// How long the change log and the search log keep an entry; zero
    /// keeps every one.
    pub log_retention: std::time::Duration,
    /// Operations one WebSocket may run at once; 0 switches the limit off.
    pub live_subscriptions_per_connection: usize,
    /// How long a WebSocket may run no operation before it is closed.
    pub live_idle: std::time::Duration,
    /// How long a WebSocket has to send `connection_init`.
    pub live_init_timeout: std::time::Duration,
    /// Proxies whose `X-Forwarded-For` or `Forwarded` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Apollo persisted-query manifest whose operations are registered.
    pub persisted_queries: Option<std::path::PathBuf>,
    /// Run only the registered operations.
    pub persisted_only: bool,
    /// Bytes the queries learnt through APQ may take; 0 learns none.
    pub apq_cache_bytes: u64,
    /// New APQ queries an anonymous client may register per minute; 0
    /// switches the limit off.
    pub apq_registrations_per_minute: u32,
    /// Password hashes and checks run at once (argon2id takes 19 MiB each).
    pub password_workers: usize,
    /// The longest a login waits for a free password worker before it is
    /// answered `TOO_MANY_REQUESTS`.
    pub password_wait: Duration,
    /// Redis shared by every node for rate limits; per-node counts without it.
    pub redis_url: Option<String>,
    /// Prefix of this deployment's Redis keys.
    pub redis_prefix: String,
    /// The search index's folder (`NEWSDESK_SEARCH_DIR`); `None` keeps it
    /// in memory (the default for an in-memory SQLite database).
    pub search_dir: Option<std::path::PathBuf>,
    /// Uploaded pictures: where they are kept, how large they may be.
    pub media: MediaConfig,
    /// Bytes the in-process response cache may hold; 0 switches it off.
    pub response_cache_bytes: u64,
    pub limits: QueryLimits,
    pub shutdown_timeout: Duration,
    /// The longest a GraphQL request may run before it is answered `TIMEOUT`;
    /// PostgreSQL statements of the server are cancelled at the same budget.
    pub execution_timeout: Duration,
    /// Token keys; `None` when no key is configured (every mutation is then
    /// `UNAUTHENTICATED`).
    pub tokens: Option<TokenKeys>,
    /// Lifetime of the access tokens `login` hands out.
    pub access_token_ttl: Duration,
    /// Let webhooks target loopback and private addresses (tests, private networks).
    pub webhook_allow_private: bool,
    /// How often the webhook worker looks for due events.
    pub webhook_poll: Duration,
    /// The longest one delivery may take, answer headers included.
    pub webhook_timeout: Duration,
    /// How often scheduled articles whose time has come are published.
    pub scheduler_poll: Duration,
    /// Where surrogate keys of every change are POSTed for a CDN purge.
    pub purge_url: Option<String>,
    /// Secret the purge requests are signed with (like webhooks).
    pub purge_secret: String,
}

/// The sources the sample site publishes itself (its own outlet), in both scripts.
pub const DEFAULT_OWNED_SOURCES: &str = "經濟導報,大眾報業·經濟導報,经济导报,大众报业·经济导报";

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let database_url = DatabaseUrl::parse(
            &get("DATABASE_URL").unwrap_or_else(|| "sqlite://newsdesk.db".into()),
        )
        .map_err(|problem| ConfigError {
            variable: "DATABASE_URL",
            problem,
        })?;
        let read_urls = read_urls(&database_url, get("DATABASE_READ_URL"))?;
        let bind = parse_or(
            "NEWSDESK_BIND",
            get("NEWSDESK_BIND"),
            "127.0.0.1:8080".parse().ok(),
        )?;
        let log_format = match get("NEWSDESK_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError {
                    variable: "NEWSDESK_LOG_FORMAT",
                    problem: format!("expected text or json, got {other:?}"),
                })
            }
        };
        let public_base_url = get("NEWSDESK_PUBLIC_BASE_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_base_url.starts_with("http://") || public_base_url.starts_with("https://")) {
            return Err(ConfigError {
                variable: "NEWSDESK_PUBLIC_BASE_URL",
                problem: format!("expected an http(s) URL, got {public_base_url:?}"),
            });
        }
        let list = |value: Option<String>| -> Vec<String> {
            value
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        let pool_default = default_pool_size(&database_url);
        let media_dir = default_media_dir(&database_url);
        let search_dir = match get("NEWSDESK_SEARCH_DIR").filter(|v| !v.trim().is_empty()) {
            Some(dir) => Some(dir.into()),
            None => default_search_dir(&database_url),
        };
        let tokens = token_keys(&lookup, &get)?;
        let access_token_ttl = Duration::from_secs(parse_or(
            "NEWSDESK_ACCESS_TOKEN_TTL_SECS",
            get("NEWSDESK_ACCESS_TOKEN_TTL_SECS"),
            Some(900),
        )?);
        let purge_url = get("NEWSDESK_PURGE_URL");
        let purge_secret = get("NEWSDESK_PURGE_SECRET").unwrap_or_default();
        // Unsigned purge requests would let anyone who can reach the CDN's
        // purge endpoint flush the site's cache.
        if purge_url.is_some() && purge_secret.trim().is_empty() {
            return Err(ConfigError {
                variable: "NEWSDESK_PURGE_SECRET",
                problem: "must not be empty when NEWSDESK_PURGE_URL is set".into(),
            });
        }
        let traces = trace_export(&get)?;
        Ok(Config {
            traces,
            webhook_allow_private: flag(
                "NEWSDESK_WEBHOOK_ALLOW_PRIVATE",
                get("NEWSDESK_WEBHOOK_ALLOW_PRIVATE"),
                false,
            )?,
            purge_url,
            purge_secret,
            webhook_poll: Duration::from_millis(parse_or(
                "NEWSDESK_WEBHOOK_POLL_MS",
                get("NEWSDESK_WEBHOOK_POLL_MS"),
                Some(1000),
            )?),
            webhook_timeout: Duration::from_millis(parse_or(
                "NEWSDESK_WEBHOOK_TIMEOUT_MS",
                get("NEWSDESK_WEBHOOK_TIMEOUT_MS"),
                Some(10_000u64),
            )?),
            scheduler_poll: Duration::from_millis(parse_or(
                "NEWSDESK_SCHEDULER_POLL_MS",
                get("NEWSDESK_SCHEDULER_POLL_MS"),
                Some(1000),
            )?),
            tokens,
            access_token_ttl,
            database_url,
            read_urls,
            bind,
            log_format,
            migrate_on_start: flag(
                "NEWSDESK_MIGRATE_ON_START",
                get("NEWSDESK_MIGRATE_ON_START"),
                true,
            )?,
            pool: PoolOptions {
                max_size: parse_or(
                    "NEWSDESK_DB_POOL_SIZE",
                    get("NEWSDESK_DB_POOL_SIZE"),
                    Some(pool_default),
                )?,
                acquire_timeout: Duration::from_millis(parse_or(
                    "NEWSDESK_DB_ACQUIRE_TIMEOUT_MS",
                    get("NEWSDESK_DB_ACQUIRE_TIMEOUT_MS"),
                    Some(2000u64),
                )?),
                statement_timeout: None,
                allow_unsafe_durability: flag(
                    "NEWSDESK_ALLOW_UNSAFE_DURABILITY",
                    get("NEWSDESK_ALLOW_UNSAFE_DURABILITY"),
                    false,
                )?,
                sqlite_synchronous: parse_or(
                    "NEWSDESK_SQLITE_SYNCHRONOUS",
                    get("NEWSDESK_SQLITE_SYNCHRONOUS"),
                    Some(SqliteSynchronous::Full),
                )?,
            },
            public_base_url,
            owned_sources: list(Some(
                get("NEWSDESK_OWNED_SOURCES").unwrap_or_else(|| DEFAULT_OWNED_SOURCES.into()),
            )),
            graphiql: flag("NEWSDESK_GRAPHIQL", get("NEWSDESK_GRAPHIQL"), false)?,
            metrics: flag("NEWSDESK_METRICS", get("NEWSDESK_METRICS"), true)?,
            metrics_bind: match get("NEWSDESK_METRICS_BIND") {
                Some(value) => Some(parse_or("NEWSDESK_METRICS_BIND", Some(value), None)?),
                None => None,
            },
            introspection: flag(
                "NEWSDESK_INTROSPECTION",
                get("NEWSDESK_INTROSPECTION"),
                false,
            )?,
            cors_origins: list(get("NEWSDESK_CORS_ORIGINS")),
            rate_limit_per_minute: parse_or(
                "NEWSDESK_RATE_LIMIT_PER_MINUTE",
                get("NEWSDESK_RATE_LIMIT_PER_MINUTE"),
                Some(1200),
            )?,
            mutations_per_minute: parse_or(
                "NEWSDESK_MUTATIONS_PER_MINUTE",
                get("NEWSDESK_MUTATIONS_PER_MINUTE"),
                Some(120),
            )?,
            live_connections_per_address: parse_or(
                "NEWSDESK_LIVE_CONNECTIONS_PER_ADDRESS",
                get("NEWSDESK_LIVE_CONNECTIONS_PER_ADDRESS"),
                Some(100),
            )?,
            live_connections: parse_or(
                "NEWSDESK_LIVE_CONNECTIONS",
                get("NEWSDESK_LIVE_CONNECTIONS"),
                Some(20_000),
            )?,
            live_heartbeat: std::time::Duration::from_secs(
                parse_or::<u64>(
                    "NEWSDESK_LIVE_HEARTBEAT_SECONDS",
                    get("NEWSDESK_LIVE_HEARTBEAT_SECONDS"),
                    Some(15),
                )?
                .max(1),
            ),
            log_retention: std::time::Duration::from_secs(
                parse_or::<u64>(
                    "NEWSDESK_LOG_RETENTION_HOURS",
                    get("NEWSDESK_LOG_RETENTION_HOURS"),
                    Some(168),
                )?
                .saturating_mul(3600),
            ),
            live_subscriptions_per_connection: parse_or(
                "NEWSDESK_LIVE_SUBSCRIPTIONS_PER_CONNECTION",
                get("NEWSDESK_LIVE_SUBSCRIPTIONS_PER_CONNECTION"),
                Some(100),
            )?,
            live_idle: std::time::Duration::from_secs(
                parse_or::<u64>(
                    "NEWSDESK_LIVE_IDLE_SECONDS",
                    get("NEWSDESK_LIVE_IDLE_SECONDS"),
                    Some(60),
                )?
                .max(1),
            ),
            live_init_timeout: std::time::Duration::from_secs(
                parse_or::<u64>(
                    "NEWSDESK_LIVE_INIT_SECONDS",
                    get("NEWSDESK_LIVE_INIT_SECONDS"),
                    Some(10),
                )?
                .max(1),
            ),
            trusted_proxies: trusted_proxies(get("NEWSDESK_TRUSTED_PROXIES"))?,
            persisted_queries: get("NEWSDESK_PERSISTED_QUERIES").map(std::path::PathBuf::from),
            redis_url: match get("NEWSDESK_REDIS_URL") {
                Some(url) if url.starts_with("redis://") || url.starts_with("redis+unix://") => {
                    Some(url)
                }
                Some(other) => {
                    return Err(ConfigError {
                        variable: "NEWSDESK_REDIS_URL",
                        problem: format!(
                            "expected redis://HOST:PORT/DB or redis+unix://PATH, got {:?}",
                            other.split('@').next_back().unwrap_or("")
                        ),
                    })
                }
                None => None,
            },
            redis_prefix: get("NEWSDESK_REDIS_PREFIX").unwrap_or_else(|| "newsdesk".into()),
            media: MediaConfig {
                dir: get("NEWSDESK_MEDIA_DIR")
                    .filter(|v| !v.trim().is_empty())
                    .map(Into::into)
                    .unwrap_or(media_dir),
                s3: match get("NEWSDESK_MEDIA_URL").filter(|v| !v.trim().is_empty()) {
                    None => None,
                    Some(url) => {
                        let (bucket, prefix) = s3_location(url.trim())?;
                        Some(S3Media {
                            bucket,
                            prefix,
                            endpoint: get("AWS_ENDPOINT_URL").filter(|v| !v.is_empty()),
                            region: get("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
                            key_id: get("AWS_ACCESS_KEY_ID"),
                            secret: get("AWS_SECRET_ACCESS_KEY"),
                            allow_http: flag("AWS_ALLOW_HTTP", get("AWS_ALLOW_HTTP"), false)?,
                        })
                    }
                },
                max_bytes: parse_or(
                    "NEWSDESK_MEDIA_MAX_BYTES",
                    get("NEWSDESK_MEDIA_MAX_BYTES"),
                    Some(20 * 1024 * 1024),
                )?,
                max_pixels: parse_or(
                    "NEWSDESK_MEDIA_MAX_PIXELS",
                    get("NEWSDESK_MEDIA_MAX_PIXELS"),
                    Some(30_000_000),
                )?,
            },
            search_dir,
            persisted_only: flag(
                "NEWSDESK_PERSISTED_ONLY",
                get("NEWSDESK_PERSISTED_ONLY"),
                false,
            )?,
            apq_cache_bytes: parse_or::<u64>(
                "NEWSDESK_APQ_CACHE_MB",
                get("NEWSDESK_APQ_CACHE_MB"),
                Some(8),
            )?
            .saturating_mul(1024 * 1024),
            apq_registrations_per_minute: parse_or(
                "NEWSDESK_APQ_REGISTRATIONS_PER_MINUTE",
                get("NEWSDESK_APQ_REGISTRATIONS_PER_MINUTE"),
                Some(30),
            )?,
            password_workers: match parse_or(
                "NEWSDESK_PASSWORD_WORKERS",
                get("NEWSDESK_PASSWORD_WORKERS"),
                Some(std::thread::available_parallelism().map_or(2, |n| n.get())),
            )? {
                0 => {
                    return Err(ConfigError {
                        variable: "NEWSDESK_PASSWORD_WORKERS",
                        problem: "must be at least 1".into(),
                    })
                }
                n => n,
            },
            password_wait: Duration::from_millis(parse_or(
                "NEWSDESK_PASSWORD_WAIT_MS",
                get("NEWSDESK_PASSWORD_WAIT_MS"),
                Some(2000u64),
            )?),
            response_cache_bytes: parse_or::<u64>(
                "NEWSDESK_RESPONSE_CACHE_MB",
                get("NEWSDESK_RESPONSE_CACHE_MB"),
                Some(64),
            )?
            .saturating_mul(1024 * 1024),
            cache_max_age: parse_or(
                "NEWSDESK_CACHE_MAX_AGE",
                get("NEWSDESK_CACHE_MAX_AGE"),
                Some(60),
            )?,
            limits: QueryLimits {
                max_depth: parse_or("NEWSDESK_MAX_DEPTH", get("NEWSDESK_MAX_DEPTH"), Some(10))?,
                max_complexity: parse_or(
                    "NEWSDESK_MAX_COMPLEXITY",
                    get("NEWSDESK_MAX_COMPLEXITY"),
                    Some(5000),
                )?,
                max_aliases: parse_or(
                    "NEWSDESK_MAX_ALIASES",
                    get("NEWSDESK_MAX_ALIASES"),
                    Some(15),
                )?,
                max_directives: parse_or(
                    "NEWSDESK_MAX_DIRECTIVES",
                    get("NEWSDESK_MAX_DIRECTIVES"),
                    Some(5),
                )?,
                max_query_chars: parse_or(
                    "NEWSDESK_MAX_QUERY_CHARS",
                    get("NEWSDESK_MAX_QUERY_CHARS"),
                    Some(15_000),
                )?,
                max_body_bytes: parse_or(
                    "NEWSDESK_MAX_BODY_BYTES",
                    get("NEWSDESK_MAX_BODY_BYTES"),
                    Some(65_536),
                )?,
                max_editorial_body_bytes: parse_or(
                    "NEWSDESK_MAX_EDITORIAL_BODY_BYTES",
                    get("NEWSDESK_MAX_EDITORIAL_BODY_BYTES"),
                    Some(1_048_576),
                )?,
                body_timeout: Duration::from_millis(parse_or(
                    "NEWSDESK_BODY_TIMEOUT_MS",
                    get("NEWSDESK_BODY_TIMEOUT_MS"),
                    Some(10_000u64),
                )?),
            },
            shutdown_timeout: Duration::from_secs(parse_or(
                "NEWSDESK_SHUTDOWN_TIMEOUT_SECS",
                get("NEWSDESK_SHUTDOWN_TIMEOUT_SECS"),
                Some(10),
            )?),
            execution_timeout: Duration::from_millis(parse_or(
                "NEWSDESK_EXECUTION_TIMEOUT_MS",
                get("NEWSDESK_EXECUTION_TIMEOUT_MS"),
                Some(5000u64),
            )?),
        })
    }
}

/// `DATABASE_READ_URL`: replicas of a PostgreSQL primary, comma-separated.
fn read_urls(
    primary: &DatabaseUrl,
    value: Option<String>,
) -> Result<Vec<DatabaseUrl>, ConfigError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let problem = |problem: String| ConfigError {
        variable: "DATABASE_READ_URL",
        problem,
    };
    if !matches!(primary, DatabaseUrl::Postgres(_)) {
        return Err(problem(
            "read replicas need a PostgreSQL DATABASE_URL".into(),
        ));
    }
    value
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| match DatabaseUrl::parse(u).map_err(&problem)? {
            url @ DatabaseUrl::Postgres(_) => Ok(url),
            DatabaseUrl::Sqlite(_) => Err(problem(format!("{u:?} is not a postgres:// URL"))),
        })
        .collect()
}

/// The token keys from `NEWSDESK_JWT_*`. A secret that is set must be long
/// enough; an empty one is an error too, never "no authentication".
fn token_keys(
    lookup: &impl Fn(&str) -> Option<String>,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<TokenKeys>, ConfigError> {
    let issuer = get("NEWSDESK_JWT_ISSUER").unwrap_or_else(|| "newsdesk".into());
    let audience = get("NEWSDESK_JWT_AUDIENCE").unwrap_or_else(|| "newsdesk-editorial".into());
    let max_lifetime = Duration::from_secs(parse_or(
        "NEWSDESK_JWT_MAX_LIFETIME_SECS",
        get("NEWSDESK_JWT_MAX_LIFETIME_SECS"),
        Some(12 * 3600),
    )?);
    let algorithm = get("NEWSDESK_JWT_ALGORITHM").unwrap_or_else(|| "HS256".into());
    match algorithm.as_str() {
        "HS256" => match lookup("NEWSDESK_JWT_SECRET") {
            None => Ok(None),
            Some(secret) => TokenKeys::hs256(secret.as_bytes(), &issuer, &audience, max_lifetime)
                .map(Some)
                .map_err(|problem| ConfigError {
                    variable: "NEWSDESK_JWT_SECRET",
                    problem,
                }),
        },
        "EdDSA" | "RS256" => {
            let alg = if algorithm == "EdDSA" {
                jsonwebtoken::Algorithm::EdDSA
            } else {
                jsonwebtoken::Algorithm::RS256
            };
            let path = get("NEWSDESK_JWT_PUBLIC_KEY").ok_or(ConfigError {
                variable: "NEWSDESK_JWT_PUBLIC_KEY",
                problem: format!("is required with NEWSDESK_JWT_ALGORITHM={algorithm}"),
            })?;
            let pem = std::fs::read(&path).map_err(|e| ConfigError {
                variable: "NEWSDESK_JWT_PUBLIC_KEY",
                problem: format!("cannot read {path}: {e}"),
            })?;
            TokenKeys::public_key(alg, &pem, &issuer, &audience, max_lifetime)
                .map(Some)
                .map_err(|problem| ConfigError {
                    variable: "NEWSDESK_JWT_PUBLIC_KEY",
                    problem,
                })
        }
        other => Err(ConfigError {
            variable: "NEWSDESK_JWT_ALGORITHM",
            problem: format!("expected HS256, EdDSA or RS256, got {other:?}"),
        }),
    }
}

fn parse_or<T: std::str::FromStr>(
    variable: &'static str,
    value: Option<String>,
    default: Option<T>,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match value {
        Some(v) => v.trim().parse().map_err(|e| ConfigError {
            variable,
            problem: format!("cannot use {v:?}: {e}"),
        }),
        None => default.ok_or(ConfigError {
            variable,
            problem: "is required".into(),
        }),
    }
}

/// Connections for the cores: SQLite works in this process, so two per
/// core keep them busy (each holds an 8 MB page cache); a PostgreSQL
/// connection mostly waits on the network, so four per core.
fn default_pool_size(url: &DatabaseUrl) -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    match url {
        DatabaseUrl::Sqlite(_) => (2 * cores).max(2),
        DatabaseUrl::Postgres(_) => (4 * cores).max(4),
    }
}

/// Addresses or networks (`10.0.0.0/8`, `127.0.0.1`), comma-separated.
fn trusted_proxies(value: Option<String>) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError {
                    variable: "NEWSDESK_TRUSTED_PROXIES",
                    problem: format!("{s:?} is not an address or a network"),
                })
        })
        .collect()
}

fn flag(variable: &'static str, value: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError {
            variable,
            problem: format!("expected 1 or 0, got {other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn every_variable_read_here_is_documented_in_env_example() {
        let source = include_str!("config.rs");
        let example = include_str!("../.env.example");
        let mut read = 0;
        for (at, _) in source.match_indices("get(\"") {
            let rest = &source[at + 5..];
            let name = &rest[..rest.find('"').unwrap_or(0)];
            read += 1;
            assert!(
                example.contains(&format!("{name}=")),
                "{name} is not in .env.example"
            );
        }
        assert!(read > 20, "only {read} variables found: wrong pattern?");
    }

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_safe_for_a_laptop() {
        let c = config(&[]).expect("defaults");
        assert_eq!(c.database_url, DatabaseUrl::Sqlite("newsdesk.db".into()));
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert!(!c.graphiql && !c.introspection);
        assert_eq!(c.pool.acquire_timeout, Duration::from_secs(2));
        assert_eq!(c.limits.max_depth, 10);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let e = config(&[("NEWSDESK_BIND", "nowhere")]).expect_err("bad bind");
        assert_eq!(e.variable, "NEWSDESK_BIND");
        let e = config(&[("NEWSDESK_GRAPHIQL", "maybe")]).expect_err("bad flag");
        assert_eq!(e.variable, "NEWSDESK_GRAPHIQL");
        let e = config(&[("DATABASE_URL", "mysql://x")]).expect_err("bad url");
        assert_eq!(e.variable, "DATABASE_URL");
    }

    #[test]
    fn read_replicas_are_postgres_urls_behind_a_postgres_primary() {
        let primary = ("DATABASE_URL", "postgres://app@primary/news");
        let c = config(&[
            primary,
            (
                "DATABASE_READ_URL",
                "postgres://app@replica-1/news, postgres://app@replica-2/news",
            ),
        ])
        .expect("two replicas");
        assert_eq!(c.read_urls.len(), 2);
        assert!(config(&[primary]).expect("none").read_urls.is_empty());
        for bad in [
            vec![("DATABASE_READ_URL", "postgres://app@replica/news")],
            vec![primary, ("DATABASE_READ_URL", "sqlite://replica.db")],
        ] {
            let e = config(&bad).expect_err("refused");
            assert_eq!(e.variable, "DATABASE_READ_URL");
        }
    }

    #[test]
    fn a_purge_url_needs_a_purge_secret() {
        let url = ("NEWSDESK_PURGE_URL", "https://cdn.example.com/purge");
        for secret in [
            vec![],
            vec![("NEWSDESK_PURGE_SECRET", "")],
            vec![("NEWSDESK_PURGE_SECRET", "  ")],
        ] {
            let mut vars = vec![url];
            vars.extend(secret);
            let e = config(&vars).expect_err("no secret");
            assert_eq!(e.variable, "NEWSDESK_PURGE_SECRET");
        }
        assert!(config(&[url, ("NEWSDESK_PURGE_SECRET", "s3cret")]).is_ok());
        assert!(config(&[("NEWSDESK_PURGE_SECRET", "")]).is_ok());
    }

    #[test]
    fn weak_or_empty_jwt_secrets_stop_the_start() {
        for secret in ["", "sixteen-bytes!!!"] {
            let e = config(&[("NEWSDESK_JWT_SECRET", secret)]).expect_err("weak secret");
            assert_eq!(e.variable, "NEWSDESK_JWT_SECRET");
        }
        let ok =
            config(&[("NEWSDESK_JWT_SECRET", "0123456789abcdef0123456789abcdef")]).expect("ok");
        assert!(ok.tokens.is_some_and(|k| k.can_sign()));
        assert!(config(&[]).expect("none").tokens.is_none());
    }
}
