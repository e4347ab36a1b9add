//! Limits async-graphql has no switch for (aliases, repeated fields), and
//! the codes of the rejections it makes itself, so clients can tell them
//! apart.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

/// The most items one page of any list returns (T-GQL-11).
pub const MAX_PAGE: i32 = 100;

/// A page size given as `argument`, checked against [`MAX_PAGE`].
pub fn page_size(value: i32, argument: &str) -> Result<i64, crate::error::AppError> {
    if (0..=MAX_PAGE).contains(&value) {
        Ok(value as i64)
    } else {
        Err(crate::error::AppError::BadInput(format!(
            "{argument}: must be between 0 and {MAX_PAGE}, got {value}"
        )))
    }
}

/// The most times one selection set may name the same field (response
/// key). Repeats are merged and run once, but 500 of them still cost
/// parsing and validation; fragments that share fields repeat a few.
pub const MAX_FIELD_REPEATS: usize = 20;

/// Checks made on the parsed document, before validation and execution:
/// the alias count over every operation and fragment, fields repeated in one
/// selection set, and, when introspection is off, any use of `__schema` or
/// `__type`.
pub struct DocumentLimits {
    max_aliases: usize,
    introspection: bool,
}

impl DocumentLimits {
    pub fn new(max_aliases: usize, introspection: bool) -> Self {
        DocumentLimits {
            max_aliases,
            introspection,
        }
    }
}

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimitsExtension {
            max_aliases: self.max_aliases,
            introspection: self.introspection,
        })
    }
}

struct DocumentLimitsExtension {
    max_aliases: usize,
    introspection: bool,
}

#[derive(Default)]
struct Tally {
    aliases: usize,
    introspection: bool,
    /// The most any response key repeats in one selection set.
    repeats: usize,
}

fn tally(set: &SelectionSet, out: &mut Tally) {
    let mut keys: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                if field.node.alias.is_some() {
                    out.aliases += 1;
                }
                let key = field
                    .node
                    .alias
                    .as_ref()
                    .unwrap_or(&field.node.name)
                    .node
                    .as_str();
                let seen = keys.entry(key).or_default();
                *seen += 1;
                out.repeats = out.repeats.max(*seen);
                let name = field.node.name.node.as_str();
                if name == "__schema" || name == "__type" {
                    out.introspection = true;
                }
                tally(&field.node.selection_set.node, out);
            }
            Selection::InlineFragment(fragment) => tally(&fragment.node.selection_set.node, out),
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// An error of the whole request (no field) with its code.
pub fn rejection(message: String, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code);
    error.extensions = Some(ext);
    error
}

#[async_trait::async_trait]
impl Extension for DocumentLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut found = Tally::default();
        for (_, op) in document.operations.iter() {
            tally(&op.node.selection_set.node, &mut found);
        }
        for fragment in document.fragments.values() {
            tally(&fragment.node.selection_set.node, &mut found);
        }
        if found.aliases > self.max_aliases {
            return Err(rejection(
                format!(
                    "the document has {} aliases; at most {} are allowed",
                    found.aliases, self.max_aliases
                ),
                "TOO_MANY_ALIASES",
            ));
        }
        if found.repeats > MAX_FIELD_REPEATS {
            return Err(rejection(
                format!(
                    "a field is repeated {} times in one selection; at most {MAX_FIELD_REPEATS} are allowed",
                    found.repeats
                ),
                "TOO_MANY_REPEATED_FIELDS",
            ));
        }
        if found.introspection && !self.introspection {
            return Err(rejection(
                "introspection is disabled on this server".into(),
                "INTROSPECTION_DISABLED",
            ));
        }
        Ok(document)
    }
}

/// Gives every error without a code the code of its kind: the engine's own
/// limit, parse and validation errors carry only a message.
pub fn classify_errors(errors: &mut [ServerError]) {
    for error in errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let message = error.message.as_str();
        let code = if message.contains("nested too deep") {
            "QUERY_TOO_DEEP"
        } else if message.contains("too complex") {
            "QUERY_TOO_COMPLEX"
        } else if message.contains("directives") {
            "TOO_MANY_DIRECTIVES"
        } else if message.contains("recursion") || message.contains("Recursion") {
            "QUERY_TOO_DEEP"
        } else if message.starts_with(" --> ") {
            "GRAPHQL_PARSE_FAILED"
        } else if message.starts_with("Failed to parse \"") {
            // An argument written in the document that its type refuses
            // (an Int past 2^31 …), reported from the field it was given to.
            "BAD_USER_INPUT"
        } else if error.locations.is_empty() && error.path.is_empty() {
            "BAD_REQUEST"
        } else if error.path.is_empty() {
            "GRAPHQL_VALIDATION_FAILED"
        } else {
            "INTERNAL"
        };
        let mut ext = error.extensions.take().unwrap_or_default();
        ext.set("code", code);
        error.extensions = Some(ext);
    }
}
