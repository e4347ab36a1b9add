//! Limits async-graphql has no switch for (aliases), and the codes of the
//! rejections it makes itself, so clients can tell them apart.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

/// Rejects documents with more aliases than allowed, counted over every
/// operation and fragment, before validation and execution.
pub struct AliasLimit {
    max: usize,
}

impl AliasLimit {
    pub fn new(max: usize) -> Self {
        AliasLimit { max }
    }
}

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension { max: self.max })
    }
}

struct AliasLimitExtension {
    max: usize,
}

fn count_aliases(set: &SelectionSet, total: &mut usize) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                if field.node.alias.is_some() {
                    *total += 1;
                }
                count_aliases(&field.node.selection_set.node, total);
            }
            Selection::InlineFragment(fragment) => {
                count_aliases(&fragment.node.selection_set.node, total)
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

#[async_trait::async_trait]
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut total = 0;
        for (_, op) in document.operations.iter() {
            count_aliases(&op.node.selection_set.node, &mut total);
        }
        for fragment in document.fragments.values() {
            count_aliases(&fragment.node.selection_set.node, &mut total);
        }
        if total > self.max {
            let mut error = ServerError::new(
                format!(
                    "the document has {total} aliases; at most {} are allowed",
                    self.max
                ),
                None,
            );
            error.extensions = Some({
                let mut ext = async_graphql::ErrorExtensionValues::default();
                ext.set("code", "TOO_MANY_ALIASES");
                ext
            });
            return Err(error);
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
        } else if message.starts_with(" --> ") || message.contains("expected") {
            "GRAPHQL_PARSE_FAILED"
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
