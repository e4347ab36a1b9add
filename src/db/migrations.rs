use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::AnyConnection;
use crate::error::AppError;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies every pending migration of the connection's engine; returns the
/// versions applied. Diesel runs each migration in its own transaction, so a
/// crash leaves a migration either applied in full or not at all.
pub fn run_pending(conn: &mut AnyConnection) -> Result<Vec<String>, AppError> {
    let set = match conn {
        AnyConnection::Sqlite(_) => SQLITE,
        AnyConnection::Postgresql(_) => POSTGRES,
    };
    let applied = conn
        .run_pending_migrations(set)
        .map_err(|e| AppError::Internal(format!("migration failed: {e}")))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}
