//! Chinese full-text search that works the same on SQLite and PostgreSQL.
//!
//! The application makes the tokens: text is converted to simplified
//! characters, lowercased, cut by jieba (search mode), and every run of Han
//! characters also yields its overlapping two-character pieces, so any
//! substring of two or more characters can be found. The engines only match
//! those tokens (SQLite FTS5 `unicode61`, PostgreSQL `tsvector` with the
//! `simple` configuration and a GIN index), and ranking happens here, so both
//! engines return the same results in the same order.

pub mod dictionary;
pub mod engine;
mod facets;
mod following;
mod index;
mod pages;
mod query;
mod scope;

pub use engine::{Hits, Request, SearchIndex};
pub use facets::{rolled_up, FacetCounts};
pub use following::{follow, open_index, prepare, refresh_on_commit};
pub use index::{index_article, index_changed, indexed_text, terms, write_terms, ArticleTerms};
pub use pages::{hit_cursor, hit_page, offset_after, suggestions, HitPage, PageHit};
pub use query::{parse, prefix_tokens, public_hits, related, search, Query};
pub use scope::{Names, Order, Scope};
