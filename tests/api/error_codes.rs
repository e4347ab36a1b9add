//! `docs/errors.md` lists every error code the server sends, no more, no less.

use std::collections::BTreeSet;
use std::path::Path;

/// Upper-case string literals in `src/` that are not error codes.
const NOT_CODES: &[(&str, &str)] = &[
    ("TAKEDOWN", "a removed article's reasonCode"),
    ("WITHDRAWN", "a removed article's reasonCode"),
    ("UNIQUE", "text searched for in a database error message"),
    ("POST", "an HTTP method"),
    ("HEAD", "an HTTP method"),
    ("PATCH", "an HTTP method"),
    ("DELETE", "an HTTP method"),
    ("OPTIONS", "an HTTP method"),
    ("OTHER", "the metrics' label for an unusual HTTP method"),
    ("NORMAL", "an SQLite synchronous setting"),
    ("FULL", "an SQLite synchronous setting"),
    ("PUBLISHED", "an article status"),
    ("HS256", "a JWT algorithm"),
    ("EVAL", "a Redis command"),
    ("RS256", "a JWT algorithm"),
    ("DROPPED_ELEMENT", "a body warning (docs/bodies.md)"),
    ("DROPPED_ATTRIBUTE", "a body warning (docs/bodies.md)"),
    ("UNSAFE_LINK", "a body warning (docs/bodies.md)"),
    ("EMBED_NOT_ALLOWED", "a body warning (docs/bodies.md)"),
    ("IMAGE_NOT_UPLOADED", "a body warning (docs/bodies.md)"),
    ("TABLE_TRUNCATED", "a body warning (docs/bodies.md)"),
    ("TOO_MANY_BLOCKS", "a body warning (docs/bodies.md)"),
    ("NESTED_TOO_DEEP", "a body warning (docs/bodies.md)"),
    ("IHDR", "a PNG chunk"),
    ("IDAT", "a PNG chunk"),
    ("IEND", "a PNG chunk"),
    ("RIFF", "the start of a WebP file"),
    ("ERROR", "an OpenTelemetry span status"),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `"SCREAMING_SNAKE"` literal in the source, less environment
/// variable names and the known non-codes.
fn codes_in_source() -> BTreeSet<String> {
    let literal = regex::Regex::new(r#""([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)""#).expect("regex");
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut codes = BTreeSet::new();
    for file in files {
        if file.ends_with("db/schema.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source file");
        for found in literal.captures_iter(&text) {
            let word = &found[1];
            let env_var = ["NEWSDESK_", "DATABASE_", "CARGO_", "RUST_", "AWS_", "OTEL_"]
                .iter()
                .any(|p| word.starts_with(p));
            if word.len() >= 4 && !env_var && !NOT_CODES.iter().any(|(c, _)| *c == word) {
                codes.insert(word.to_string());
            }
        }
    }
    codes
}

/// The first column of the table in `docs/errors.md`.
fn codes_in_table() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/errors.md"))
        .expect("docs/errors.md exists");
    let row = regex::Regex::new(r"(?m)^\| `([A-Z_]+)` \| ([^|]+) \| ([^|]+) \|$").expect("regex");
    row.captures_iter(&doc)
        .map(|c| {
            assert!(
                c[2].contains(|ch: char| ch.is_ascii_digit()),
                "{}: no HTTP status in docs/errors.md",
                &c[1]
            );
            c[1].to_string()
        })
        .collect()
}

#[test]
fn every_error_code_in_the_source_is_documented_and_no_other() {
    let source = codes_in_source();
    let table = codes_in_table();

    let undocumented: Vec<_> = source.difference(&table).collect();
    let stale: Vec<_> = table.difference(&source).collect();

    assert!(
        undocumented.is_empty(),
        "codes sent by the server but missing from docs/errors.md: {undocumented:?} \
         (or, if one is not an error code, add it to NOT_CODES)"
    );
    assert!(
        stale.is_empty(),
        "codes in docs/errors.md that the server no longer sends: {stale:?}"
    );
}

#[test]
fn every_app_error_code_is_documented() {
    use newsdesk::error::{AppError, MediaRefusal, RequestRefusal};
    let table = codes_in_table();
    let every_variant = [
        AppError::BadInput(String::new()),
        AppError::NotFound,
        AppError::Unauthenticated,
        AppError::Forbidden,
        AppError::Conflict(String::new()),
        AppError::UnavailableForLegalReasons,
        AppError::LegalHold(String::new()),
        AppError::RateLimited(String::new()),
        AppError::Busy(String::new()),
        AppError::IdempotencyKeyInUse,
        AppError::IdempotencyKeyReused,
        AppError::Unavailable(String::new()),
        AppError::Timeout,
        AppError::Internal(String::new()),
        RequestRefusal::UnsupportedMediaType.into(),
        RequestRefusal::PayloadTooLarge { limit: 1 }.into(),
        RequestRefusal::BodyTooSlow { millis: 1 }.into(),
        RequestRefusal::UnreadableBody.into(),
        RequestRefusal::NotAGraphqlRequest(String::new()).into(),
        RequestRefusal::Batch.into(),
        RequestRefusal::BadQueryString(String::new()).into(),
        RequestRefusal::MissingQuery.into(),
        RequestRefusal::VariablesNotJson(String::new()).into(),
        RequestRefusal::ExtensionsNotObject.into(),
        RequestRefusal::NotAcceptable.into(),
        RequestRefusal::MutationOverGet.into(),
        RequestRefusal::QueryTooLong { max: 1 }.into(),
        RequestRefusal::PersistedQueryVersion.into(),
        RequestRefusal::PersistedQueryHashMissing.into(),
        RequestRefusal::PersistedQueryNotFound.into(),
        RequestRefusal::PersistedQueryHashMismatch.into(),
        RequestRefusal::PersistedQueryNotAllowed.into(),
        RequestRefusal::OverRateLimit { retry_after: 1 }.into(),
        RequestRefusal::Unwritable.into(),
        RequestRefusal::ForeignOrigin(String::new()).into(),
        RequestRefusal::NoSubprotocol.into(),
        RequestRefusal::NotAHandshake(String::new()).into(),
        MediaRefusal::TooLarge { limit: 1 }.into(),
        MediaRefusal::NotAnImage.into(),
        MediaRefusal::TooManyPixels {
            width: 1,
            height: 1,
            limit: 1,
        }
        .into(),
        MediaRefusal::Unreadable(String::new()).into(),
        MediaRefusal::NoFile.into(),
    ];
    for error in every_variant {
        // A new variant must be added above: this match has no wildcard.
        match &error {
            AppError::BadInput(_)
            | AppError::NotFound
            | AppError::Unauthenticated
            | AppError::Forbidden
            | AppError::Conflict(_)
            | AppError::UnavailableForLegalReasons
            | AppError::LegalHold(_)
            | AppError::RateLimited(_)
            | AppError::Busy(_)
            | AppError::IdempotencyKeyInUse
            | AppError::IdempotencyKeyReused
            | AppError::Unavailable(_)
            | AppError::Timeout
            | AppError::Internal(_) => {}
            AppError::Media(refusal) => match refusal {
                MediaRefusal::TooLarge { .. }
                | MediaRefusal::NotAnImage
                | MediaRefusal::TooManyPixels { .. }
                | MediaRefusal::Unreadable(_)
                | MediaRefusal::NoFile => {}
            },
            AppError::Refused(refusal) => match refusal {
                RequestRefusal::UnsupportedMediaType
                | RequestRefusal::PayloadTooLarge { .. }
                | RequestRefusal::BodyTooSlow { .. }
                | RequestRefusal::UnreadableBody
                | RequestRefusal::NotAGraphqlRequest(_)
                | RequestRefusal::Batch
                | RequestRefusal::BadQueryString(_)
                | RequestRefusal::MissingQuery
                | RequestRefusal::VariablesNotJson(_)
                | RequestRefusal::ExtensionsNotObject
                | RequestRefusal::NotAcceptable
                | RequestRefusal::MutationOverGet
                | RequestRefusal::QueryTooLong { .. }
                | RequestRefusal::PersistedQueryVersion
                | RequestRefusal::PersistedQueryHashMissing
                | RequestRefusal::PersistedQueryNotFound
                | RequestRefusal::PersistedQueryHashMismatch
                | RequestRefusal::PersistedQueryNotAllowed
                | RequestRefusal::OverRateLimit { .. }
                | RequestRefusal::Unwritable
                | RequestRefusal::ForeignOrigin(_)
                | RequestRefusal::NoSubprotocol
                | RequestRefusal::NotAHandshake(_) => {}
            },
        }
        assert!(
            table.contains(error.code()),
            "{} is not in docs/errors.md",
            error.code()
        );
        let status = actix_web::ResponseError::status_code(&error).as_u16();
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/errors.md"))
            .expect("docs/errors.md");
        let line = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", error.code())))
            .expect("row");
        assert!(
            line.contains(&status.to_string()),
            "docs/errors.md gives {} a status other than {status}",
            error.code()
        );
    }
}
