//! Running a kept document without validating it again.
//!
//! async-graphql's strict validation (22 rules, about 7 % of the CPU of a
//! cold article read) looks at the document and, in one rule only
//! (`ArgumentsOfCorrectType`), at the variables' values; that rule skips an
//! argument whole, literal parts included, when the request left out a
//! variable it names or when it belongs to an operation not run. A kept
//! document is therefore vouched for only by a request that passed with
//! one operation and every declared variable given
//! ([`passing_proves_the_document`]); the rules then would pass again, and
//! what a new request can change is its variables. A
//! request whose every variable is of a built-in scalar type (or a list of
//! them), declared without a default, and given a value of that type is
//! therefore run by the schema in async-graphql's fast validation mode,
//! which still limits depth and complexity and looks for fragment cycles.
//! Any other request (an enum or input object variable, a default, a value
//! of the wrong type, a missing non-null variable) goes through strict
//! validation as before, so a bad variable keeps its
//! `GRAPHQL_VALIDATION_FAILED` answer word for word.

use async_graphql::parser::types::{BaseType, DocumentOperations, ExecutableDocument, Type};
use async_graphql::{Name, Value, Variables};

/// Whether a request that passed strict validation proves that every later
/// one with plainly valid variables would: the document has one operation
/// (strict validation leaves the arguments of the others unchecked), and
/// the request gave a value, null included, for every variable that
/// operation declares (an argument that names a variable the request left
/// out is not checked at all, literal parts included).
pub fn passing_proves_the_document(
    document: &ExecutableDocument,
    name: Option<&str>,
    variables: &Variables,
) -> bool {
    let operation = match &document.operations {
        DocumentOperations::Single(operation) => operation,
        DocumentOperations::Multiple(operations) if operations.len() == 1 => {
            match operations.values().next() {
                Some(operation) => operation,
                None => return false,
            }
        }
        DocumentOperations::Multiple(_) => return false,
    };
    let named_right = match (&document.operations, name) {
        (_, None) => true,
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.contains_key(&Name::new(name))
        }
        (DocumentOperations::Single(_), Some(_)) => false,
    };
    named_right
        && operation
            .node
            .variable_definitions
            .iter()
            .all(|definition| variables.contains_key(&definition.node.name.node))
}

/// Whether `variables` are valid for the operation `name` of `document`,
/// judged without the schema (see the module's comment); `false` whenever
/// that cannot be told.
pub fn variables_plainly_valid(
    document: &ExecutableDocument,
    name: Option<&str>,
    variables: &Variables,
) -> bool {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), None) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => {
            match operations.get(&Name::new(name)) {
                Some(operation) => operation,
                None => return false,
            }
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            match operations.values().next() {
                Some(operation) => operation,
                None => return false,
            }
        }
        _ => return false,
    };
    operation
        .node
        .variable_definitions
        .iter()
        .all(|definition| {
            let definition = &definition.node;
            let ty = &definition.var_type.node;
            definition.default_value.is_none()
                && match variables.get(&definition.name.node) {
                    Some(value) => fits(ty, value),
                    None => ty.nullable && plain(ty),
                }
        })
}

/// Whether `value` is a valid input for `ty` by the rules strict
/// validation applies (a single value stands for a list of one).
fn fits(ty: &Type, value: &Value) -> bool {
    match (value, &ty.base) {
        (Value::Null, _) => ty.nullable && plain(ty),
        (_, BaseType::Named(name)) => scalar_fits(name, value),
        (Value::List(items), BaseType::List(item)) => {
            plain(item) && items.iter().all(|v| fits(item, v))
        }
        (_, BaseType::List(item)) => fits(item, value),
    }
}

/// Whether `ty` is made only of built-in scalars.
fn plain(ty: &Type) -> bool {
    match &ty.base {
        BaseType::Named(name) => {
            matches!(name.as_str(), "String" | "Int" | "Float" | "Boolean" | "ID")
        }
        BaseType::List(item) => plain(item),
    }
}

fn scalar_fits(name: &str, value: &Value) -> bool {
    match (name, value) {
        ("String", Value::String(_)) | ("Float", Value::Number(_)) => true,
        ("Boolean", Value::Boolean(_)) | ("ID", Value::String(_)) => true,
        // Beyond 32 bits an `Int` fails only when the resolver reads it:
        // strict validation answers such a request as it always did.
        ("Int", Value::Number(n)) => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        ("ID", Value::Number(n)) => n.is_i64(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, name: Option<&str>, variables: serde_json::Value) -> bool {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        variables_plainly_valid(&document, name, &Variables::from_json(variables))
    }

    const ARTICLE: &str =
        "query($slug: String!, $n: Int, $ids: [ID!]) { article(slug: $slug) { title } }";

    #[test]
    fn values_of_their_declared_scalar_types_pass() {
        let good = serde_json::json!({"slug": "a", "n": 3, "ids": ["1", 2]});
        assert!(check(ARTICLE, None, good));
        assert!(check(
            ARTICLE,
            None,
            serde_json::json!({"slug": "a", "ids": "1"})
        ));
        assert!(check(
            ARTICLE,
            None,
            serde_json::json!({"slug": "a", "n": null})
        ));
    }

    #[test]
    fn anything_strict_validation_could_refuse_goes_to_it() {
        for bad in [
            serde_json::json!({"slug": 1}),
            serde_json::json!({"slug": null}),
            serde_json::json!({}),
            serde_json::json!({"slug": "a", "n": "3"}),
            serde_json::json!({"slug": "a", "n": 1.5}),
            serde_json::json!({"slug": "a", "n": 4_000_000_000_i64}),
            serde_json::json!({"slug": "a", "ids": [null]}),
            serde_json::json!({"slug": "a", "ids": [true]}),
            serde_json::json!({"slug": ["a"]}),
        ] {
            assert!(!check(ARTICLE, None, bad.clone()), "{bad}");
        }
    }

    #[test]
    fn enums_inputs_and_defaults_are_left_to_strict_validation() {
        let order = "query($o: ArticleOrder) { articles(orderBy: $o) { totalCount } }";
        assert!(!check(order, None, serde_json::json!({"o": "newest"})));
        let default = "query($n: Int = 5) { articles(first: $n) { totalCount } }";
        assert!(!check(default, None, serde_json::json!({"n": 5})));
    }

    fn proves(query: &str, name: Option<&str>, variables: serde_json::Value) -> bool {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        passing_proves_the_document(&document, name, &Variables::from_json(variables))
    }

    #[test]
    fn only_a_request_that_checked_every_argument_proves_its_document() {
        assert!(proves(
            ARTICLE,
            None,
            serde_json::json!({"slug": "a", "n": null, "ids": []})
        ));
        // A variable left out leaves its arguments unchecked.
        assert!(!proves(ARTICLE, None, serde_json::json!({"slug": "a"})));
        // So does an operation not run.
        let two =
            "query A { site { name } } query B($n: Int!) { articles(first: $n) { totalCount } }";
        assert!(!proves(two, Some("A"), serde_json::json!({})));
        let named = "query A($s: String!) { article(slug: $s) { title } }";
        assert!(proves(named, Some("A"), serde_json::json!({"s": "x"})));
        assert!(proves(named, None, serde_json::json!({"s": "x"})));
        assert!(!proves(named, Some("B"), serde_json::json!({"s": "x"})));
    }

    #[test]
    fn the_operation_is_the_one_named() {
        let two = "query A($s: String!) { article(slug: $s) { title } } query B($n: Int!) { articles(first: $n) { totalCount } }";
        assert!(check(two, Some("A"), serde_json::json!({"s": "x"})));
        assert!(!check(two, Some("B"), serde_json::json!({"s": "x"})));
        assert!(!check(two, None, serde_json::json!({"s": "x"})));
        assert!(!check(two, Some("C"), serde_json::json!({"s": "x"})));
    }
}
