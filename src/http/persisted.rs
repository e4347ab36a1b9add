//! Persisted queries: Apollo's automatic persisted queries
//! (`extensions.persistedQuery.sha256Hash`), so that GET URLs stay short
//! enough for browsers and CDNs to cache, and an allow-list mode
//! (`NEWSDESK_PERSISTED_ONLY=1`) in which only the operations of a
//! registered manifest (`NEWSDESK_PERSISTED_QUERIES`, Apollo's
//! `apollo-persisted-query-manifest` format) run.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::RequestRefusal;

/// Queries learnt through APQ, at most this many (least recently used go).
const LEARNT_QUERIES: u64 = 10_000;
/// What a learnt query costs beside its text and hash: the cache's own
/// bookkeeping, counted so that many tiny queries are bounded too.
const ENTRY_OVERHEAD: u64 = 160;

/// What to run for a request, as its persisted-query extension says.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// The request's own text; there is nothing to learn from it.
    AsSent,
    /// This stored text, which the request named by its hash.
    Stored(String),
    /// The request's own text, new under this hash: it is learnt with
    /// [`PersistedQueries::learn`] once it has passed every check.
    Learn(String),
}

pub struct PersistedQueries {
    registered: HashMap<String, String>,
    learnt: moka::sync::Cache<String, Arc<str>>,
    /// Bytes the learnt queries may take; 0 learns nothing.
    learnt_bytes: u64,
    only_registered: bool,
}

impl std::fmt::Debug for PersistedQueries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistedQueries")
            .field("registered", &self.registered.len())
            .field("only_registered", &self.only_registered)
            .field("learnt_bytes", &self.learnt_bytes)
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    operations: Vec<ManifestOperation>,
}

#[derive(serde::Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

/// The SHA-256 of a query text, in lowercase hex (the APQ hash).
pub fn sha256_hex(query: &str) -> String {
    Sha256::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PersistedQueries {
    /// Reads the manifest, if any; every operation's id must be the hash
    /// of its body. Learnt queries take at most `learnt_bytes` (texts,
    /// hashes and bookkeeping) and at most 10,000 entries.
    pub fn load(
        manifest: Option<&Path>,
        only_registered: bool,
        learnt_bytes: u64,
    ) -> Result<Self, String> {
        let mut registered = HashMap::new();
        if let Some(path) = manifest {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let manifest: Manifest = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not a persisted-query manifest: {e}", path.display()))?;
            if manifest.format != "apollo-persisted-query-manifest" || manifest.version != 1 {
                return Err(format!(
                    "{}: expected format apollo-persisted-query-manifest, version 1",
                    path.display()
                ));
            }
            for op in manifest.operations {
                if sha256_hex(&op.body) != op.id.to_ascii_lowercase() {
                    return Err(format!(
                        "{}: operation {} is not the SHA-256 of its body",
                        path.display(),
                        op.id
                    ));
                }
                registered.insert(op.id.to_ascii_lowercase(), op.body);
            }
        }
        if only_registered && registered.is_empty() {
            return Err(
                "NEWSDESK_PERSISTED_ONLY=1 needs operations in NEWSDESK_PERSISTED_QUERIES".into(),
            );
        }
        // Every entry weighs at least a 10,000th of the bound, so the bytes
        // bound the entries as well.
        let floor = (learnt_bytes / LEARNT_QUERIES).max(1);
        let learnt = moka::sync::Cache::builder()
            .max_capacity(learnt_bytes)
            .weigher(move |hash: &String, query: &Arc<str>| {
                let bytes = (hash.len() + query.len()) as u64 + ENTRY_OVERHEAD;
                u32::try_from(bytes.max(floor)).unwrap_or(u32::MAX)
            })
            .build();
        Ok(PersistedQueries {
            registered,
            learnt,
            learnt_bytes,
            only_registered,
        })
    }

    /// Keeps `query` under `hash`, for requests that then send the hash
    /// alone. Call it only for a query that passed every check: nothing
    /// refused is ever kept.
    pub fn learn(&self, hash: String, query: &str) {
        if self.only_registered || self.learnt_bytes == 0 {
            return;
        }
        let query = query.trim();
        if sha256_hex(query) == hash {
            self.learnt.insert(hash, Arc::from(query));
        }
    }

    /// Entries and weighed bytes of the learnt queries, once pending
    /// evictions have run.
    pub fn learnt_size(&self) -> (u64, u64) {
        self.learnt.run_pending_tasks();
        (self.learnt.entry_count(), self.learnt.weighted_size())
    }

    /// The query to run: `query` itself, or the one `extension` names.
    /// Nothing is kept here: a new query is learnt only after it passed.
    /// The id of the registered query a request names by its hash (a
    /// bounded set, fit for a metric's label), if it names one.
    pub fn registered_id(&self, extension: Option<&serde_json::Value>) -> Option<&str> {
        let hash = extension?.get("sha256Hash")?.as_str()?.to_ascii_lowercase();
        self.registered
            .get_key_value(&hash)
            .map(|(id, _)| id.as_str())
    }

    pub fn resolve(
        &self,
        query: &str,
        extension: Option<&serde_json::Value>,
    ) -> Result<Resolved, RequestRefusal> {
        let hash = match extension {
            None => None,
            Some(ext) => {
                if ext.get("version").and_then(|v| v.as_i64()) != Some(1) {
                    return Err(RequestRefusal::PersistedQueryVersion);
                }
                match ext.get("sha256Hash").and_then(|v| v.as_str()) {
                    Some(h) => Some(h.to_ascii_lowercase()),
                    None => return Err(RequestRefusal::PersistedQueryHashMissing),
                }
            }
        };
        let query = query.trim();
        match (hash, query.is_empty()) {
            (Some(hash), true) => {
                if let Some(known) = self.registered.get(&hash) {
                    return Ok(Resolved::Stored(known.clone()));
                }
                match self.learnt.get(&hash).filter(|_| !self.only_registered) {
                    Some(known) => Ok(Resolved::Stored(known.to_string())),
                    None => Err(RequestRefusal::PersistedQueryNotFound),
                }
            }
            (Some(hash), false) => {
                if sha256_hex(query) != hash {
                    return Err(RequestRefusal::PersistedQueryHashMismatch);
                }
                self.allowed(&hash)?;
                let known = self.registered.contains_key(&hash) || self.learnt.contains_key(&hash);
                if known || self.only_registered || self.learnt_bytes == 0 {
                    Ok(Resolved::AsSent)
                } else {
                    Ok(Resolved::Learn(hash))
                }
            }
            (None, _) => {
                if self.only_registered {
                    self.allowed(&sha256_hex(query))?;
                }
                Ok(Resolved::AsSent)
            }
        }
    }

    fn allowed(&self, hash: &str) -> Result<(), RequestRefusal> {
        if self.only_registered && !self.registered.contains_key(hash) {
            return Err(RequestRefusal::PersistedQueryNotAllowed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const Q: &str = "{ site { name } }";

    #[test]
    fn a_hash_is_learnt_from_its_query_then_enough() {
        let apq = PersistedQueries::load(None, false, 1 << 20).expect("apq");
        let ext = json!({ "version": 1, "sha256Hash": sha256_hex(Q) });
        assert_eq!(
            apq.resolve("", Some(&ext)).map_err(|r| r.code()),
            Err("PERSISTED_QUERY_NOT_FOUND")
        );
        assert_eq!(
            apq.resolve(Q, Some(&ext)),
            Ok(Resolved::Learn(sha256_hex(Q)))
        );
        assert_eq!(
            apq.resolve("", Some(&ext)).map_err(|r| r.code()),
            Err("PERSISTED_QUERY_NOT_FOUND"),
            "nothing is kept before the query has passed"
        );
        apq.learn(sha256_hex(Q), Q);
        assert_eq!(apq.resolve(Q, Some(&ext)), Ok(Resolved::AsSent));
        assert_eq!(
            apq.resolve("", Some(&ext)),
            Ok(Resolved::Stored(Q.to_string()))
        );
        let wrong = json!({ "version": 1, "sha256Hash": sha256_hex("{ x }") });
        assert_eq!(
            apq.resolve(Q, Some(&wrong)).map_err(|r| r.code()),
            Err("PERSISTED_QUERY_HASH_MISMATCH")
        );
    }

    #[test]
    fn the_learnt_queries_are_bounded_in_bytes_and_in_entries_t_wf_3() {
        let bound = 1 << 20;
        let apq = PersistedQueries::load(None, false, bound).expect("apq");
        // 400 queries of about 10 KB: four times the bound.
        for i in 0..400 {
            let query = format!("{{ a{i}: site {{ name {} }} }}", " ".repeat(10_000));
            apq.learn(sha256_hex(&query), &query);
        }
        let (entries, bytes) = apq.learnt_size();
        assert!(bytes <= bound, "{bytes} bytes kept");
        assert!(entries > 0 && entries < 105, "{entries} entries kept");

        // Tiny queries: the entry bound holds.
        let apq = PersistedQueries::load(None, false, bound).expect("apq");
        for i in 0..12_000 {
            let query = format!("{{ a{i}: __typename }}");
            apq.learn(sha256_hex(&query), &query);
        }
        let (entries, bytes) = apq.learnt_size();
        assert!(entries <= LEARNT_QUERIES, "{entries} entries kept");
        assert!(bytes <= bound, "{bytes} bytes kept");

        let off = PersistedQueries::load(None, false, 0).expect("apq");
        off.learn(sha256_hex(Q), Q);
        assert_eq!(off.learnt_size(), (0, 0));
    }
}
