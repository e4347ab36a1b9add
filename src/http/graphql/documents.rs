//! Parsed GraphQL documents, kept by their text: apps send the same few
//! documents with other variables, and parsing one (async-graphql's pest
//! parser) took about 25 µs of the 200 µs a cold article read costs, twice
//! per request (once to tell the operation's kind, once to run it). A
//! document kept is parsed never again; running it starts from a copy
//! (under 1 µs). Validation and every limit still apply to each request.
//!
//! Only documents that parse are kept, at most [`KEPT_BYTES`] by a weight
//! that grows with the text; the cache's admission (TinyLFU) keeps a flood
//! of one-off documents from pushing out the ones in use.

use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;

/// What the kept documents may weigh in all.
pub const KEPT_BYTES: u64 = 8 << 20;

/// A parsed document takes several times its text in memory.
const WEIGHT_PER_BYTE: u64 = 8;
/// The cache's own bookkeeping for an entry.
const ENTRY_OVERHEAD: u64 = 256;

pub struct ParsedDocuments {
    kept: moka::sync::Cache<Arc<str>, Arc<ExecutableDocument>>,
}

impl ParsedDocuments {
    pub fn new(bytes: u64) -> Self {
        let kept = moka::sync::Cache::builder()
            .max_capacity(bytes)
            .weigher(|text: &Arc<str>, _: &Arc<ExecutableDocument>| {
                let weight = (text.len() as u64)
                    .saturating_mul(WEIGHT_PER_BYTE)
                    .saturating_add(ENTRY_OVERHEAD);
                u32::try_from(weight).unwrap_or(u32::MAX)
            })
            .build();
        ParsedDocuments { kept }
    }

    /// `query` parsed: the kept document, or a new parse, kept when it
    /// parsed; `None` when it does not parse (the engine reports why).
    pub fn parsed(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        if let Some(document) = self.kept.get(query) {
            return Some(document);
        }
        let document = Arc::new(async_graphql::parser::parse_query(query).ok()?);
        self.kept.insert(Arc::from(query), document.clone());
        Some(document)
    }
}

impl Default for ParsedDocuments {
    fn default() -> Self {
        ParsedDocuments::new(KEPT_BYTES)
    }
}

impl std::fmt::Debug for ParsedDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedDocuments")
            .field("kept", &self.kept.entry_count())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: &str = "query($slug: String!) { article(slug: $slug) { title } }";

    #[test]
    fn a_document_is_parsed_once_and_given_again() {
        let documents = ParsedDocuments::default();
        let first = documents.parsed(QUERY).expect("parses");
        let again = documents.parsed(QUERY).expect("kept");
        assert!(Arc::ptr_eq(&first, &again), "the second request reparsed");
    }

    #[test]
    fn a_document_that_does_not_parse_is_not_kept() {
        let documents = ParsedDocuments::default();
        assert!(documents.parsed("query { article(").is_none());
        documents.kept.run_pending_tasks();
        assert_eq!(documents.kept.entry_count(), 0);
    }

    #[test]
    fn what_is_kept_stays_within_its_weight() {
        let documents = ParsedDocuments::new(64 << 10);
        for i in 0..2_000 {
            documents.parsed(&format!("{{ a{i}: site {{ name }} }}"));
        }
        documents.kept.run_pending_tasks();
        assert!(documents.kept.weighted_size() <= 64 << 10);
        assert!(documents.kept.entry_count() > 0);
    }
}
