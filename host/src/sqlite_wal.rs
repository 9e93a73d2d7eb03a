//! The one way the host's SQLite files (the connection store, the webhook outbox, the job
//! store) enter WAL mode.

use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode};

/// Switches `db` to WAL and returns the journal mode SQLite reports. Switching needs the file
/// to itself, and SQLite does not call its busy handler for that: a process opening the file
/// while another one does retries until `patience` has passed.
pub(crate) fn enter_wal(db: &Connection, patience: Duration) -> rusqlite::Result<String> {
    let deadline = Instant::now() + patience;
    loop {
        match db.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}
