//! Integration tests: real servers on random ports, real databases (SQLite
//! and PostgreSQL), real HTTP.

mod fixtures;
mod helpers;

mod architecture;
mod authorization;
mod availability;
mod bodies;
mod contention;
mod editorial;
mod error_codes;
mod feeds;
mod frontend;
mod graphql_limits;
mod graphql_read;
mod health;
mod idempotency;
mod import;
mod legal_holds;
mod live;
mod live_sockets;
mod logins;
mod logs;
mod media;
mod media_holds;
mod migrations;
mod nodes;
mod page_reads;
mod pagination;
mod persisted;
mod query_plans;
mod rate_limits;
mod read_parity;
mod response_cache;
mod rest;
mod schema_file;
mod search;
mod search_corpus;
mod search_filters;
mod search_index;
mod security_http;
mod slugs;
mod source_rules;
mod takedowns;
mod visibility;
mod webhooks;
