//! The committed SDL must be what the server exports.

#[test]
fn schema_graphql_is_up_to_date() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed");

    let exported = newsdesk::graphql::sdl();

    assert!(
        committed == exported,
        "schema.graphql is stale: run `make schema` and commit the result"
    );
}

#[test]
fn openapi_json_is_up_to_date() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"))
        .expect("openapi.json is committed");

    let exported = newsdesk::http::openapi::openapi();

    assert!(
        committed == exported,
        "openapi.json is stale: run `make schema` and commit the result"
    );
    let doc: serde_json::Value = serde_json::from_str(&exported).expect("JSON");
    assert!(doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1")));
    for path in [
        "/v1/articles",
        "/v1/articles/{key}",
        "/v1/sections",
        "/v1/site",
        "/v1/recommendations/{list}",
        "/v1/removed",
        "/v1/search",
        "/v1/ninjs/articles/{id}",
        "/v1/ninjs/feed",
        "/feeds/{name}",
        "/healthz",
        "/readyz",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
    // Query parameters are query parameters: a path parameter must be in its
    // path, and an optional one is not declared nullable.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for p in item["get"]["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap_or_default();
            if p["in"] == "path" {
                assert!(
                    path.contains(&format!("{{{name}}}")),
                    "{path}: {name} is not in the path"
                );
            }
            assert!(
                !p["schema"]["type"].is_array(),
                "{path}: {name} is declared nullable"
            );
        }
        if item.get("get").is_none() {
            continue;
        }
        let responses = &item["get"]["responses"];
        assert!(responses.get("304").is_some(), "{path}: no 304");
        assert!(
            responses["200"]["headers"].get("ETag").is_some(),
            "{path}: no ETag on 200"
        );
    }
    assert!(
        doc["servers"].as_array().is_some_and(|s| !s.is_empty()),
        "no servers"
    );
}

/// Front-end teams read the schema's descriptions in GraphiQL, codegen
/// output and their editors: every type, field, argument and enum value
/// has one.
#[test]
fn every_type_field_argument_and_enum_value_is_described() {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    let sdl = newsdesk::graphql::sdl();
    let document = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
    let described = |d: &Option<async_graphql::Positioned<String>>| {
        d.as_ref().is_some_and(|d| !d.node.trim().is_empty())
    };
    let mut missing = Vec::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(t) = definition else {
            continue;
        };
        let t = &t.node;
        let name = t.name.node.as_str();
        if !described(&t.description) {
            missing.push(format!("type {name}"));
        }
        match &t.kind {
            TypeKind::Object(o) => {
                for f in &o.fields {
                    let f = &f.node;
                    if !described(&f.description) {
                        missing.push(format!("{name}.{}", f.name.node));
                    }
                    for a in &f.arguments {
                        if !described(&a.node.description) {
                            missing.push(format!("{name}.{}({})", f.name.node, a.node.name.node));
                        }
                    }
                }
            }
            TypeKind::Interface(i) => {
                for f in &i.fields {
                    if !described(&f.node.description) {
                        missing.push(format!("{name}.{}", f.node.name.node));
                    }
                }
            }
            TypeKind::InputObject(i) => {
                for f in &i.fields {
                    if !described(&f.node.description) {
                        missing.push(format!("{name}.{}", f.node.name.node));
                    }
                }
            }
            TypeKind::Enum(e) => {
                for v in &e.values {
                    if !described(&v.node.description) {
                        missing.push(format!("{name}.{}", v.node.value.node));
                    }
                }
            }
            TypeKind::Scalar | TypeKind::Union(_) => {}
        }
    }
    assert!(
        missing.is_empty(),
        "{} undescribed:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
