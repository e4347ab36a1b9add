use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::AnyConnection;
use crate::error::AppError;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies every pending migration of the connection's engine; returns the
/// versions applied. Diesel runs each migration in its own transaction, so a
/// crash leaves a migration either applied in full or not at all.
pub fn run_pending(conn: &mut AnyConnection) -> Result<Vec<String>, AppError> {
    let applied = conn
        .run_pending_migrations(set_for(conn))
        .map_err(|e| AppError::Internal(format!("migration failed: {e}")))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Applies the pending migrations up to and including `last`, in order;
/// returns the versions applied. Upgrade tests load data the way an older
/// release stored it, then apply the rest.
pub fn run_until(conn: &mut AnyConnection, last: &str) -> Result<Vec<String>, AppError> {
    let set = set_for(conn);
    let pending = conn
        .pending_migrations(set)
        .map_err(|e| AppError::Internal(format!("cannot read the applied migrations: {e}")))?;
    let mut applied = Vec::new();
    for migration in pending {
        let version = migration.name().version().to_string();
        if version.as_str() > last {
            break;
        }
        conn.run_migration(&migration)
            .map_err(|e| AppError::Internal(format!("migration {version} failed: {e}")))?;
        applied.push(version);
    }
    Ok(applied)
}

/// The versions not applied yet.
pub fn pending(conn: &mut AnyConnection) -> Result<Vec<String>, AppError> {
    let set = set_for(conn);
    let pending = conn
        .pending_migrations(set)
        .map_err(|e| AppError::Internal(format!("cannot read the applied migrations: {e}")))?;
    Ok(pending
        .iter()
        .map(|m| m.name().version().to_string())
        .collect())
}

fn set_for(conn: &AnyConnection) -> EmbeddedMigrations {
    match conn {
        AnyConnection::Sqlite(_) => SQLITE,
        AnyConnection::Postgresql(_) => POSTGRES,
    }
}
