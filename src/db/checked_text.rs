//! Long text columns read with a vectorised UTF-8 check.
//!
//! PostgreSQL sends text as bytes and Diesel checks them with
//! `str::from_utf8`, which walks Chinese text a byte at a time: on a search
//! page of ten bodies that check alone was 7.8 % of the server's CPU
//! (docs/performance.md). On SQLite the column is read as Diesel reads any
//! `String`: its reading turns bytes that are not UTF-8 into a lossy copy
//! rather than an error, which a faster check there would have to keep.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Text;
use diesel::sqlite::{Sqlite, SqliteValue};

use super::MultiBackend;

/// A `Text` column's value; a row field takes it with
/// `#[diesel(deserialize_as = CheckedText)]` and stays a `String`.
#[derive(Debug, diesel::FromSqlRow)]
pub struct CheckedText(String);

impl From<CheckedText> for String {
    fn from(text: CheckedText) -> String {
        text.0
    }
}

impl FromSql<Text, Pg> for CheckedText {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        // `compat` names where the bytes went wrong, like the standard check.
        let text = simdutf8::compat::from_utf8(value.as_bytes())?;
        Ok(CheckedText(text.to_owned()))
    }
}

impl FromSql<Text, Sqlite> for CheckedText {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        <String as FromSql<Text, Sqlite>>::from_sql(value).map(CheckedText)
    }
}

impl FromSql<Text, MultiBackend> for CheckedText {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Text>()
    }
}
