//! Limits async-graphql has no switch for (aliases, repeated fields), and
//! the codes of the rejections it makes itself, so clients can tell them
//! apart.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::ServerError;

/// The most items one page of any list returns (T-GQL-11).
pub const MAX_PAGE: i32 = 100;

/// The page size of a list whose size argument is not given.
pub const DEFAULT_PAGE: i32 = 20;

/// Complexity of a page: each item costs what its selection costs. Sizes
/// above the cap are priced at the cap so that the argument check, not the
/// cost check, explains the rejection.
pub fn page_complexity(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let n = last.or(first).unwrap_or(DEFAULT_PAGE).clamp(0, MAX_PAGE) as usize;
    1 + n * child.max(1)
}

/// An optional page size given as `argument`, checked like [`page_size`].
pub fn optional_page_size(
    value: Option<i32>,
    argument: &str,
) -> Result<Option<i64>, crate::error::AppError> {
    value.map(|n| page_size(n, argument)).transpose()
}

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
///
/// They are made once per document text, when it is parsed and kept
/// (`http::graphql::ParsedDocuments`), not by a schema extension: any
/// extension makes async-graphql route every field of every response
/// through the extension chain (a registry lookup and a boxed future per
/// field), which cost a tenth of a cold article read.
#[derive(Clone, Copy, Debug)]
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

    /// The limits `config` sets.
    pub fn of(config: &crate::config::Config) -> Self {
        DocumentLimits::new(config.limits.max_aliases, config.introspection)
    }

    /// The refusal of `document`, if it breaks a limit.
    pub fn check(&self, document: &ExecutableDocument) -> Result<(), ServerError> {
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
        Ok(())
    }
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
        } else if message.starts_with("Failed to parse \"")
            || message.starts_with("Expected input type \"")
        {
            // An argument written in the document that its type refuses
            // (an Int past 2^31, a string where an `Upload` goes …),
            // reported from the field it was given to.
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

/// How deep an introspection-only operation may nest: graphql-js's
/// `getIntrospectionQuery()` reaches 15 (nine `ofType` levels under a field's
/// argument's type); a little more leaves room for other tools.
pub const INTROSPECTION_MAX_DEPTH: usize = 20;

/// The most introspection lists (`types`, `fields`, `args` …) nested in one
/// another on any path of an introspection-only operation. The standard
/// query nests three (`types { fields { args } }`); each further level
/// multiplies the answer by a type's field count.
pub const INTROSPECTION_MAX_LISTS: usize = 3;

const INTROSPECTION_LISTS: [&str; 8] = [
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
];

/// Whether every operation of `document` selects only `__schema`, `__type`
/// and `__typename` at its root (at least one of the first two) and keeps
/// introspection lists nested at most [`INTROSPECTION_MAX_LISTS`] deep. Such
/// a document reaches no data, so it may run under
/// [`INTROSPECTION_MAX_DEPTH`] instead of the data depth limit.
pub fn introspection_only(document: &ExecutableDocument) -> bool {
    let mut any = false;
    for (_, op) in document.operations.iter() {
        let mut roots = Vec::new();
        if !root_fields(&op.node.selection_set.node, document, &mut roots, 0) {
            return false;
        }
        for field in roots {
            match field.name.node.as_str() {
                "__typename" => {}
                "__schema" | "__type" => {
                    any = true;
                    if list_nesting(&field.selection_set.node, document, 0)
                        > INTROSPECTION_MAX_LISTS
                    {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
    any
}

/// Fragments inside fragments deeper than this are not followed (a cycle is
/// refused by validation; here it only ends the walk).
const MAX_FRAGMENT_NESTING: usize = 8;

/// The fields of a root selection set, through fragments; `false` when a
/// fragment is missing or nests too deep.
fn root_fields<'a>(
    set: &'a SelectionSet,
    document: &'a ExecutableDocument,
    out: &mut Vec<&'a async_graphql::parser::types::Field>,
    nesting: usize,
) -> bool {
    if nesting > MAX_FRAGMENT_NESTING {
        return false;
    }
    set.items.iter().all(|selection| match &selection.node {
        Selection::Field(field) => {
            out.push(&field.node);
            true
        }
        Selection::InlineFragment(fragment) => root_fields(
            &fragment.node.selection_set.node,
            document,
            out,
            nesting + 1,
        ),
        Selection::FragmentSpread(spread) => document
            .fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|fragment| {
                root_fields(
                    &fragment.node.selection_set.node,
                    document,
                    out,
                    nesting + 1,
                )
            }),
    })
}

/// The most introspection lists nested on one path below `set`
/// (`usize::MAX` when fragments nest past [`MAX_FRAGMENT_NESTING`]).
fn list_nesting(set: &SelectionSet, document: &ExecutableDocument, fragments: usize) -> usize {
    if fragments > MAX_FRAGMENT_NESTING {
        return usize::MAX;
    }
    set.items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => {
                let below = list_nesting(&field.node.selection_set.node, document, fragments);
                let own = usize::from(INTROSPECTION_LISTS.contains(&field.node.name.node.as_str()));
                below.saturating_add(own)
            }
            Selection::InlineFragment(fragment) => {
                list_nesting(&fragment.node.selection_set.node, document, fragments + 1)
            }
            Selection::FragmentSpread(spread) => document
                .fragments
                .get(&spread.node.fragment_name.node)
                .map_or(0, |fragment| {
                    list_nesting(&fragment.node.selection_set.node, document, fragments + 1)
                }),
        })
        .max()
        .unwrap_or(0)
}

/// A parse error as one readable line: `Syntax error at line 1, column 5:
/// expected name, found "}"`, instead of the parser's multi-line excerpt.
pub fn readable_syntax_errors(errors: &mut [ServerError], query: &str) {
    for error in errors {
        let is_syntax = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .is_some_and(|code| *code == async_graphql::Value::from("GRAPHQL_PARSE_FAILED"));
        if !is_syntax {
            continue;
        }
        let Some(at) = error.locations.first().copied() else {
            continue;
        };
        let expected = error
            .message
            .lines()
            .find_map(|line| line.trim_start().strip_prefix("= "))
            .unwrap_or("unexpected input")
            .trim()
            // The parser names its rules: `EOI`, `executable_definition`.
            .replace("EOI", "the end of the document")
            .replace('_', " ");
        let found = query
            .lines()
            .nth(at.line.saturating_sub(1))
            .and_then(|line| line.chars().nth(at.column.saturating_sub(1)))
            .map_or_else(
                || "the end of the document".to_string(),
                |c| format!("\"{c}\""),
            );
        error.message = format!(
            "Syntax error at line {}, column {}: {expected}, found {found}",
            at.line, at.column
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exempt(query: &str) -> bool {
        introspection_only(&async_graphql::parser::parse_query(query).expect("parses"))
    }

    #[test]
    fn only_documents_that_reach_no_data_are_introspection_only() {
        assert!(exempt("{ __schema { types { name } } }"));
        assert!(exempt(
            "query Q { __typename ...F } fragment F on Query { __type(name: \"A\") { name } }"
        ));
        assert!(!exempt("{ __typename }"));
        assert!(!exempt(
            "{ __schema { types { name } } articles { nodes { id } } }"
        ));
        assert!(!exempt(
            "query A { __schema { description } } query B { site { name } }"
        ));
    }

    #[test]
    fn circular_introspection_is_not_exempt() {
        assert!(exempt(
            "{ __schema { types { fields { args { name } } } } }"
        ));
        assert!(!exempt(
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
        ));
        assert!(!exempt(
            "{ __schema { types { ...F } } } fragment F on __Type { fields { type { fields { type { fields { name } } } } } }"
        ));
    }

    #[test]
    fn a_syntax_error_is_one_line_with_its_place() {
        let mut errors = vec![ServerError::new(
            " --> 1:5\n  |\n1 | { a }}\n  |     ^---\n  |\n  = expected name",
            Some(async_graphql::Pos { line: 1, column: 6 }),
        )];
        classify_errors(&mut errors);
        readable_syntax_errors(&mut errors, "{ a }}");

        assert_eq!(
            errors[0].message,
            "Syntax error at line 1, column 6: expected name, found \"}\""
        );
    }
}
