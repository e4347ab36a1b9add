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
