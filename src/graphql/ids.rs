//! Opaque identifiers: Relay global ids (`Article:12`) and page cursors, both
//! base64url so clients treat them as strings, not as numbers to edit.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::DateTime;

use crate::db::articles::Position;
use crate::error::AppError;

/// The kinds of object reachable through `node(id:)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Article,
    Section,
}

impl NodeKind {
    fn prefix(self) -> &'static str {
        match self {
            NodeKind::Article => "Article",
            NodeKind::Section => "Section",
        }
    }
}

/// The global id of an object.
pub fn encode_global(kind: NodeKind, id: i32) -> async_graphql::ID {
    async_graphql::ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.prefix())))
}

/// Reads a global id; `None` for anything that is not one of ours.
pub fn decode_global(id: &str) -> Option<(NodeKind, i32)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.trim_end_matches('=')).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (prefix, number) = text.split_once(':')?;
    let kind = match prefix {
        "Article" => NodeKind::Article,
        "Section" => NodeKind::Section,
        _ => return None,
    };
    Some((kind, number.parse().ok().filter(|n: &i32| *n > 0)?))
}

/// A cursor pointing at one article in a newest-first listing.
pub fn encode_cursor(p: Position) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}:{}",
        p.published_at.and_utc().timestamp_micros(),
        p.id
    ))
}

/// Reads a cursor made by [`encode_cursor`].
pub fn decode_cursor(cursor: &str, argument: &str) -> Result<Position, AppError> {
    let bad = || AppError::BadInput(format!("{argument}: not a cursor from this API"));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (micros, id) = text.split_once(':').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let id: i32 = id.parse().map_err(|_| bad())?;
    let published_at = DateTime::from_timestamp_micros(micros)
        .ok_or_else(bad)?
        .naive_utc();
    Ok(Position { published_at, id })
}

/// A cursor pointing at one row of a newest-first list keyed by id
/// (`AuditEvent`, `TakedownRequest`, `WebhookDelivery`): the list's name is
/// part of it, so a cursor of one list is refused by another.
pub fn encode_id_cursor(list: &str, id: i32) -> String {
    URL_SAFE_NO_PAD.encode(format!("{list}:{id}"))
}

/// Reads a cursor made by [`encode_id_cursor`] for `list`.
pub fn decode_id_cursor(list: &str, cursor: &str, argument: &str) -> Result<i32, AppError> {
    let bad = || AppError::BadInput(format!("{argument}: not a cursor from this list"));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (prefix, id) = text.split_once(':').ok_or_else(bad)?;
    if prefix != list {
        return Err(bad());
    }
    id.parse().ok().filter(|n: &i32| *n > 0).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip() {
        let id = encode_global(NodeKind::Article, 42);
        assert_eq!(decode_global(&id), Some((NodeKind::Article, 42)));
        assert_eq!(decode_global("not-an-id"), None);
        assert_eq!(decode_global(&URL_SAFE_NO_PAD.encode("User:1")), None);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let p = Position {
            published_at: DateTime::from_timestamp_micros(1_679_390_039_123_456)
                .map(|d| d.naive_utc())
                .unwrap_or_default(),
            id: 7,
        };
        assert_eq!(decode_cursor(&encode_cursor(p), "after").ok(), Some(p));
        assert!(decode_cursor("%%%", "after").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("x:y"), "after").is_err());
    }

    #[test]
    fn id_cursors_belong_to_their_list() {
        let c = encode_id_cursor("AuditEvent", 12);
        assert_eq!(decode_id_cursor("AuditEvent", &c, "after").ok(), Some(12));
        assert!(decode_id_cursor("TakedownRequest", &c, "after").is_err());
        assert!(decode_id_cursor("AuditEvent", "12", "after").is_err());
        assert!(decode_id_cursor(
            "AuditEvent",
            &URL_SAFE_NO_PAD.encode("AuditEvent:-1"),
            "after"
        )
        .is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_cursor_text_is_a_position_or_bad_input(text in "(?s).{0,80}") {
            if let Err(e) = decode_cursor(&text, "after") {
                proptest::prop_assert_eq!(e.code(), "BAD_USER_INPUT");
            }
            let _ = decode_global(&text);
        }

        #[test]
        fn positions_and_ids_round_trip(micros in -8_000_000_000_000_000i64..8_000_000_000_000_000, id in 1i32..) {
            if let Some(at) = DateTime::from_timestamp_micros(micros) {
                let p = Position { published_at: at.naive_utc(), id };
                proptest::prop_assert_eq!(decode_cursor(&encode_cursor(p), "after").ok(), Some(p));
            }
            proptest::prop_assert_eq!(
                decode_global(&encode_global(NodeKind::Section, id)),
                Some((NodeKind::Section, id))
            );
        }
    }
}
