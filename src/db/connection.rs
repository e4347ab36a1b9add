//! The connection enum over both engines. Diesel's derive emits a fixed
//! `multi_connection_impl` module and `MultiBackend` into the module that holds
//! it, so it lives alone here.

/// A connection to whichever engine `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}
