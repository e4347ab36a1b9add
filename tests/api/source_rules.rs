//! Rules about the source itself, checked by scanning `src/`, so that a
//! breach fails the tests rather than a penetration test.
//!
//! T-INJ-2: no SQL text is built from values. Raw SQL is rare here (search,
//! WAL positions, NOTIFY, an advisory lock) and always a string literal with
//! bind parameters; the schema has no sort-by-name argument at all (see
//! `authorization::t_bopla_1_…`).
//!
//! T-JWT-15: nothing reads a token without verifying it (`clippy.toml`
//! forbids the same functions for `make lint`).

use std::path::Path;

/// `batch_execute` calls whose text is formatted, each from constants only.
const FORMATTED_BATCHES: &[(&str, &str)] = &[
    // The channel name is a `const`.
    ("src/cache/peers.rs", "LISTEN {CHANNEL}"),
    // A number of milliseconds from the configuration.
    ("src/db/pool.rs", "SET statement_timeout = {limit}"),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every source file of the crate, with its path relative to the crate.
pub fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files
        .into_iter()
        .map(|file| {
            let name = file
                .strip_prefix(root)
                .expect("inside the crate")
                .display()
                .to_string();
            (name, std::fs::read_to_string(&file).expect("source file"))
        })
        .collect()
}

#[test]
fn no_token_is_read_without_verification_t_jwt_15() {
    let sources = sources();
    assert!(
        sources
            .iter()
            .any(|(_, text)| text.contains("jsonwebtoken")),
        "the scan found no token code at all: wrong folder?"
    );
    for (name, text) in &sources {
        for unsafe_read in [
            "insecure_decode",
            "decode_header",
            "insecure_disable_signature_validation",
            "dangerous::",
        ] {
            assert!(!text.contains(unsafe_read), "{name} uses {unsafe_read}");
        }
    }
}

#[test]
fn sql_text_is_never_built_from_values_t_inj_2() {
    let mut raw_queries = 0;
    for (name, text) in sources() {
        for (at, _) in text.match_indices("sql_query(") {
            raw_queries += 1;
            let argument = text[at + "sql_query(".len()..].trim_start();
            assert!(
                argument.starts_with('"'),
                "{name}: sql_query with text that is not a literal: {}",
                &argument[..argument.len().min(60)]
            );
        }
        for (at, _) in text.match_indices("batch_execute(&format!(") {
            let call = &text[at..(at + 200).min(text.len())];
            assert!(
                FORMATTED_BATCHES
                    .iter()
                    .any(|(file, pattern)| *file == name && call.contains(pattern)),
                "{name}: batch_execute with formatted text: {call}"
            );
        }
    }
    assert!(
        raw_queries > 0,
        "the scan found no raw SQL at all: wrong folder?"
    );
}
