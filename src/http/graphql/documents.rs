//! Parsed GraphQL documents, kept by their text: apps send the same few
//! documents with other variables, and parsing one (async-graphql's pest
//! parser) took about 25 µs of the 200 µs a cold article read costs, twice
//! per request (once to tell the operation's kind, once to run it). A
//! document kept is parsed never again; running it starts from a copy
//! (under 1 µs). The limits of the document's shape ([`DocumentLimits`]:
//! aliases, repeated fields, introspection) depend on nothing else, so
//! their verdict is kept with it, and so is whether it once passed strict
//! validation (see [`super::validated`]); depth and cost apply to each
//! request with its variables.
//!
//! Only documents that parse are kept, at most [`KEPT_BYTES`] by a weight
//! that grows with the text; the cache's admission (TinyLFU) keeps a flood
//! of one-off documents from pushing out the ones in use.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::ServerError;

use crate::graphql::DocumentLimits;

/// What the kept documents may weigh in all.
pub const KEPT_BYTES: u64 = 8 << 20;

/// A parsed document takes several times its text in memory.
const WEIGHT_PER_BYTE: u64 = 8;
/// The cache's own bookkeeping for an entry.
const ENTRY_OVERHEAD: u64 = 256;

/// A document as parsed, and why it may not run, if it breaks a limit.
#[derive(Debug)]
pub struct Parsed {
    pub document: ExecutableDocument,
    pub refusal: Option<ServerError>,
    validated: AtomicBool,
}

impl Parsed {
    fn new(document: ExecutableDocument, refusal: Option<ServerError>) -> Self {
        Parsed {
            document,
            refusal,
            validated: AtomicBool::new(false),
        }
    }

    /// Whether a request with this document once passed strict validation.
    pub fn validated(&self) -> bool {
        self.validated.load(Ordering::Relaxed)
    }

    /// Notes that a request with this document passed strict validation.
    pub fn mark_validated(&self) {
        self.validated.store(true, Ordering::Relaxed);
    }
}

pub struct ParsedDocuments {
    kept: moka::sync::Cache<Arc<str>, Arc<Parsed>>,
    limits: DocumentLimits,
}

impl ParsedDocuments {
    pub fn new(bytes: u64, limits: DocumentLimits) -> Self {
        let kept = moka::sync::Cache::builder()
            .max_capacity(bytes)
            .weigher(|text: &Arc<str>, _: &Arc<Parsed>| {
                let weight = (text.len() as u64)
                    .saturating_mul(WEIGHT_PER_BYTE)
                    .saturating_add(ENTRY_OVERHEAD);
                u32::try_from(weight).unwrap_or(u32::MAX)
            })
            .build();
        ParsedDocuments { kept, limits }
    }

    /// `query` parsed: the kept document, or a new parse, kept when it
    /// parsed; `None` when it does not parse (the engine reports why).
    pub fn parsed(&self, query: &str) -> Option<Arc<Parsed>> {
        if let Some(parsed) = self.kept.get(query) {
            return Some(parsed);
        }
        let document = async_graphql::parser::parse_query(query).ok()?;
        let refusal = self.limits.check(&document).err();
        let parsed = Arc::new(Parsed::new(document, refusal));
        self.kept.insert(Arc::from(query), parsed.clone());
        Some(parsed)
    }

    /// Sets `request` to run its kept document; the refusal of a document
    /// that breaks a limit. The live transports (WebSocket, server-sent
    /// events) come through here; `/graphql` over HTTP looks at
    /// [`Parsed::refusal`] itself, between its own steps.
    pub fn prepare(&self, request: &mut async_graphql::Request) -> Result<(), Box<ServerError>> {
        if let Some(parsed) = self.parsed(&request.query) {
            if let Some(refusal) = &parsed.refusal {
                return Err(Box::new(refusal.clone()));
            }
            request.set_parsed_query(parsed.document.clone());
        }
        Ok(())
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

    fn documents(bytes: u64) -> ParsedDocuments {
        ParsedDocuments::new(bytes, DocumentLimits::new(2, false))
    }

    #[test]
    fn a_document_is_parsed_once_and_given_again() {
        let documents = documents(KEPT_BYTES);
        let first = documents.parsed(QUERY).expect("parses");
        let again = documents.parsed(QUERY).expect("kept");
        assert!(Arc::ptr_eq(&first, &again), "the second request reparsed");
        assert!(first.refusal.is_none());
    }

    #[test]
    fn a_document_that_does_not_parse_is_not_kept() {
        let documents = documents(KEPT_BYTES);
        assert!(documents.parsed("query { article(").is_none());
        documents.kept.run_pending_tasks();
        assert_eq!(documents.kept.entry_count(), 0);
    }

    #[test]
    fn a_document_over_a_limit_keeps_its_refusal() {
        let documents = documents(KEPT_BYTES);
        let query = "{ a: site { name } b: site { name } c: site { name } }";
        for _ in 0..2 {
            let parsed = documents.parsed(query).expect("parses");
            let refusal = parsed.refusal.as_ref().expect("three aliases, two allowed");
            assert!(refusal.message.contains("3 aliases"), "{}", refusal.message);
        }
    }

    #[test]
    fn what_is_kept_stays_within_its_weight() {
        let documents = documents(64 << 10);
        for i in 0..2_000 {
            documents.parsed(&format!("{{ a{i}: site {{ name }} }}"));
        }
        documents.kept.run_pending_tasks();
        assert!(documents.kept.weighted_size() <= 64 << 10);
        assert!(documents.kept.entry_count() > 0);
    }
}
