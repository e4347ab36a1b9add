//! Reads run on the engine's own connection. Through the multi-engine
//! connection ([`AnyConnection`](super::AnyConnection)) a query is wrapped
//! in a form that renders its whole SQL text again at every execution,
//! twice, only to find the statement Diesel already keeps prepared; on the
//! engine's connection the kept statement is found by the query's type.
//! The hot reads of a page (an article by slug, a section page) go this
//! way; the SQL is the same.

/// Runs `$body` with `$c` bound to the engine's own connection of `$conn`.
/// The body is compiled once per engine, so a query built in it (with
/// `as_select()` and the like) takes that engine's types.
macro_rules! on_engine {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Postgresql($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}

pub(crate) use on_engine;
