//! SQLite's query planner stability guarantee, on every connection.
//!
//! Since 3.53, SQLite plans `LIMIT ?` and `OFFSET ?` with the value bound at
//! the first run and marks the statement stale whenever that parameter is
//! bound again; the next step then recompiles it from its SQL. Diesel binds
//! every page's limit, so each cached page statement was parsed and planned
//! anew at every execution: `sqlite3Reprepare` took 23 % of the server's CPU
//! on an article read under load (docs/performance.md). PostgreSQL
//! connections get the same treatment with `plan_cache_mode =
//! force_generic_plan` (see [`super::pool`]).
//!
//! `SQLITE_DBCONFIG_ENABLE_QPSG` makes the plan a function of the SQL text
//! alone, so a prepared statement stays prepared. Our statements read by key
//! or in index order, where the bound values never change the best plan; no
//! statement uses `LIKE` with a bound pattern or relies on `sqlite_stat4`.
//! Diesel does not hand out its raw connection, so the setting is applied by
//! an auto-extension, which SQLite runs for every connection it opens.

use std::ffi::{c_char, c_int};
use std::sync::OnceLock;

use libsqlite3_sys as ffi;

/// Makes every SQLite connection this process opens from now on keep its
/// plans regardless of bound values. Idempotent; cheap after the first call.
pub fn keep_plans_stable() -> Result<(), String> {
    static REGISTERED: OnceLock<c_int> = OnceLock::new();
    // SAFETY: `enable_qpsg` has the entry-point signature SQLite expects
    // and lives for the whole process.
    let rc = *REGISTERED.get_or_init(|| unsafe { ffi::sqlite3_auto_extension(Some(enable_qpsg)) });
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(format!(
            "SQLite refused the plan-stability extension (code {rc})"
        ))
    }
}

/// Runs inside `sqlite3_open_v2` for each new connection.
unsafe extern "C" fn enable_qpsg(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    let on: c_int = 1;
    // SAFETY: SQLite passes the connection being opened; the option takes an
    // int to set and a nullable pointer to report the new value.
    unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            on,
            std::ptr::null_mut::<c_int>(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    /// Runs `SELECT … LIMIT ?` twice with different limits on a fresh
    /// connection and returns how often SQLite recompiled the statement.
    fn reprepares_of_a_rebound_limit() -> c_int {
        let path = CString::new(":memory:").expect("no NUL");
        let sql = CString::new(
            "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 100) \
             SELECT v FROM n LIMIT ?1",
        )
        .expect("no NUL");
        let mut db = std::ptr::null_mut();
        let mut stmt = std::ptr::null_mut();
        // SAFETY: plain use of the C API on a connection and statement this
        // function owns and closes.
        unsafe {
            assert_eq!(ffi::sqlite3_open(path.as_ptr(), &mut db), ffi::SQLITE_OK);
            assert_eq!(
                ffi::sqlite3_prepare_v3(
                    db,
                    sql.as_ptr(),
                    -1,
                    ffi::SQLITE_PREPARE_PERSISTENT,
                    &mut stmt,
                    std::ptr::null_mut()
                ),
                ffi::SQLITE_OK
            );
            for limit in [5, 7, 9] {
                assert_eq!(ffi::sqlite3_bind_int(stmt, 1, limit), ffi::SQLITE_OK);
                let mut rows = 0;
                while ffi::sqlite3_step(stmt) == ffi::SQLITE_ROW {
                    rows += 1;
                }
                assert_eq!(rows, limit, "the limit still applies");
                ffi::sqlite3_reset(stmt);
            }
            let count = ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
            ffi::sqlite3_finalize(stmt);
            ffi::sqlite3_close(db);
            count
        }
    }

    #[test]
    fn a_statement_with_a_bound_limit_is_compiled_once() {
        keep_plans_stable().expect("registered");
        assert_eq!(reprepares_of_a_rebound_limit(), 0);
    }
}
