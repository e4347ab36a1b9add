//! newsdesk: a headless GraphQL/JSON content API for news sites.
//!
//! Entry points: [`cli::run`] (the `newsdesk` binary), [`startup::Application`]
//! (builds the HTTP server on a given listener; tests start it on port 0),
//! [`graphql::build_schema`] (the schema, buildable without a database), and
//! [`import::Importer`] (legacy pages).

pub mod auth;
pub mod body;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod import;
pub mod jobs;
pub mod live;
pub mod media;
pub mod memory;
pub mod read;
pub mod search;
pub mod seed;
pub mod services;
pub mod startup;
pub mod syndication;
pub mod telemetry;
pub mod text;
pub mod webhooks;
