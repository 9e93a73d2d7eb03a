//! The state database (`plantwire.db`): connections, their last known health and webhook
//! endpoints, in SQLite (WAL, `synchronous=FULL`: a write has reached the disk when it
//! returns).
//!
//! The schema is versioned in its own `schema_version` table and brought up to date by the
//! migrations below, one transaction for all of them; a database written by a newer Plantwire
//! is refused rather than guessed at. Schema version 2 (version 1 without
//! `connections.credential_endpoints`):
//!
//! ```sql
//! CREATE TABLE connections (
//!     id                    TEXT PRIMARY KEY,
//!     system                TEXT NOT NULL,
//!     base_url              TEXT NOT NULL,
//!     credential_id         TEXT,              -- vault id; NULL for a system that needs none
//!     vault                 TEXT NOT NULL,     -- 'sealed' | 'env'
//!     tenant                TEXT,
//!     allow_private_network INTEGER NOT NULL,  -- 0 | 1
//!     granted_origins       TEXT NOT NULL,     -- JSON array of origins
//!     timeout_ms            INTEGER NOT NULL,
//!     created_at            INTEGER NOT NULL,  -- Unix milliseconds, as are all times here
//!     updated_at            INTEGER NOT NULL,
//!     credential_endpoints  TEXT               -- where the credential goes, as confirmed
//! );
//! CREATE TABLE connection_health (
//!     connection_id        TEXT PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
//!     state                TEXT NOT NULL,      -- 'healthy' | 'degraded' | 'needs-reauthorization'
//!     since                INTEGER,            -- when the episode began
//!     status               INTEGER,            -- the upstream status that began it (401/403)
//!     reason               TEXT,               -- sanitized; never a secret
//!     consecutive_failures INTEGER NOT NULL,
//!     updated_at           INTEGER NOT NULL
//! );
//! CREATE TABLE webhook_endpoints (
//!     id         TEXT PRIMARY KEY,
//!     url        TEXT NOT NULL,
//!     tenant     TEXT,
//!     secret_id  TEXT NOT NULL,                -- vault id of the signing secret
//!     vault      TEXT NOT NULL,
//!     created_at INTEGER NOT NULL
//! );
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior, params,
};
use time::OffsetDateTime;
use url::Url;

use super::StoreError;
use super::records::{ConnectionRecord, EndpointRecord};
use crate::health::{HealthSnapshot, HealthState, HealthStore, HealthStoreError};
use crate::vault::CredentialId;
use crate::webhooks::sanitize_reason;

/// The schema version this build writes (and the newest it reads).
pub const SCHEMA_VERSION: i64 = 2;

/// Migration `n` (1-based) takes the schema from version `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE connections (
    id                    TEXT PRIMARY KEY,
    system                TEXT NOT NULL,
    base_url              TEXT NOT NULL,
    credential_id         TEXT,
    vault                 TEXT NOT NULL,
    tenant                TEXT,
    allow_private_network INTEGER NOT NULL CHECK (allow_private_network IN (0, 1)),
    granted_origins       TEXT NOT NULL,
    timeout_ms            INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE TABLE connection_health (
    connection_id        TEXT PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    state                TEXT NOT NULL
                         CHECK (state IN ('healthy', 'degraded', 'needs-reauthorization')),
    since                INTEGER,
    status               INTEGER,
    reason               TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    updated_at           INTEGER NOT NULL
);
CREATE TABLE webhook_endpoints (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    tenant     TEXT,
    secret_id  TEXT NOT NULL,
    vault      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
",
    "
ALTER TABLE connections ADD COLUMN credential_endpoints TEXT;
",
];

const CONNECTION_COLUMNS: &str = "id, system, base_url, credential_id, vault, tenant, \
     allow_private_network, granted_origins, timeout_ms, created_at, updated_at, \
     credential_endpoints";

const ENDPOINT_COLUMNS: &str = "id, url, tenant, secret_id, vault, created_at";

/// The connection store: cheap to clone and share; every clone uses the same database
/// connection. Several processes may use one database file at once.
#[derive(Debug, Clone)]
pub struct ConnectionStore {
    db: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl ConnectionStore {
    /// Opens (creating if need be) the database at `path` and migrates it to
    /// [`SCHEMA_VERSION`]. The directory must exist; the file is created through a handle of
    /// it with mode 0600 (unix), and SQLite refuses to follow a symlink.
    pub fn open(path: impl AsRef<Path>) -> Result<ConnectionStore, StoreError> {
        let path = path.as_ref();
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let (dir_path, name) = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => (
                if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                },
                name,
            ),
            _ => {
                return Err(open_err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the path does not name a file",
                )));
            }
        };
        let dir = cap_std::fs::Dir::open_ambient_dir(dir_path, cap_std::ambient_authority())
            .map_err(open_err)?;
        let mut options = cap_std::fs::OpenOptions::new();
        options.read(true).write(true).create(true);
        #[cfg(unix)]
        {
            use cap_std::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        drop(dir.open_with(name, &options).map_err(open_err)?);
        let db = Connection::open_with_flags(
            dir_path.join(name),
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_NOFOLLOW,
        )?;
        db.busy_timeout(Duration::from_secs(5))?;
        let mode = crate::sqlite_wal::enter_wal(&db, Duration::from_secs(5))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt("the database refused WAL mode".into()));
        }
        db.pragma_update(None, "synchronous", "FULL")?;
        db.pragma_update(None, "foreign_keys", "ON")?;
        let mut db = db;
        migrate(&mut db)?;
        Ok(ConnectionStore {
            db: Arc::new(Mutex::new(db)),
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .lock()
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))?)
    }

    /// Stores a new connection, healthy. Refuses an id in use.
    pub fn insert_connection(&self, record: &ConnectionRecord) -> Result<(), StoreError> {
        record.check()?;
        let origins = serde_json::to_string(
            &record
                .granted_origins
                .iter()
                .map(Url::as_str)
                .collect::<Vec<_>>(),
        )
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if exists(&tx, "connections", &record.id)? {
            return Err(StoreError::AlreadyExists {
                what: "connection",
                id: record.id.clone(),
            });
        }
        tx.execute(
            &format!("INSERT INTO connections ({CONNECTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
            params![
                record.id,
                record.system,
                record.base_url.as_str(),
                record.credential_id.as_ref().map(CredentialId::as_str),
                record.vault.as_str(),
                record.tenant,
                record.allow_private_network,
                origins,
                i64::try_from(record.timeout.as_millis()).unwrap_or(i64::MAX),
                millis(record.created_at),
                millis(record.updated_at),
                record.credential_endpoints,
            ],
        )?;
        write_health(
            &tx,
            &record.id,
            &HealthSnapshot::default(),
            record.created_at,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The connection with this id.
    pub fn connection(&self, id: &str) -> Result<Option<ConnectionRecord>, StoreError> {
        let db = self.lock();
        let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = ?1");
        db.query_row(&sql, [id], read_connection)
            .optional()?
            .transpose()
    }

    /// Every connection, by id.
    pub fn connections(&self) -> Result<Vec<ConnectionRecord>, StoreError> {
        let db = self.lock();
        let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections ORDER BY id");
        let mut stmt = db.prepare(&sql)?;
        let rows = stmt.query_map([], read_connection)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Stores where connection `id`'s credential goes, as the operator just confirmed it.
    pub fn confirm_credential_endpoints(
        &self,
        id: &str,
        endpoints: &str,
    ) -> Result<(), StoreError> {
        let changed = self.lock().execute(
            "UPDATE connections SET credential_endpoints = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, endpoints, millis(OffsetDateTime::now_utc())],
        )?;
        if changed == 0 {
            return Err(not_found("connection", id));
        }
        Ok(())
    }

    /// Records that a connection's credential or settings changed now.
    pub fn touch_connection(&self, id: &str) -> Result<(), StoreError> {
        let changed = self.lock().execute(
            "UPDATE connections SET updated_at = ?2 WHERE id = ?1",
            params![id, millis(OffsetDateTime::now_utc())],
        )?;
        if changed == 0 {
            return Err(not_found("connection", id));
        }
        Ok(())
    }

    /// Removes a connection and its health; returns what was removed.
    pub fn remove_connection(&self, id: &str) -> Result<ConnectionRecord, StoreError> {
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = ?1");
        let record = tx
            .query_row(&sql, [id], read_connection)
            .optional()?
            .transpose()?
            .ok_or_else(|| not_found("connection", id))?;
        tx.execute("DELETE FROM connections WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(record)
    }

    /// The last known health of a connection (healthy when none is stored).
    pub fn health(&self, id: &str) -> Result<HealthSnapshot, StoreError> {
        let db = self.lock();
        read_health(&db, id)
    }

    /// Stores a new webhook endpoint. Refuses an id in use.
    pub fn insert_endpoint(&self, record: &EndpointRecord) -> Result<(), StoreError> {
        record.check()?;
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if exists(&tx, "webhook_endpoints", &record.id)? {
            return Err(StoreError::AlreadyExists {
                what: "webhook endpoint",
                id: record.id.clone(),
            });
        }
        tx.execute(
            &format!(
                "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ),
            params![
                record.id,
                record.url.as_str(),
                record.tenant,
                record.secret_id.as_str(),
                record.vault.as_str(),
                millis(record.created_at),
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every webhook endpoint, by id.
    pub fn endpoints(&self) -> Result<Vec<EndpointRecord>, StoreError> {
        let db = self.lock();
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id");
        let mut stmt = db.prepare(&sql)?;
        let rows = stmt.query_map([], read_endpoint)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Removes a webhook endpoint; returns what was removed.
    pub fn remove_endpoint(&self, id: &str) -> Result<EndpointRecord, StoreError> {
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?1");
        let record = tx
            .query_row(&sql, [id], read_endpoint)
            .optional()?
            .transpose()?
            .ok_or_else(|| not_found("webhook endpoint", id))?;
        tx.execute("DELETE FROM webhook_endpoints WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(record)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // Every write is one statement or one transaction: a panic elsewhere while the lock
        // was held cannot have left the database half-changed.
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl HealthStore for ConnectionStore {
    /// Runs the change inside an immediate transaction: no other writer, in this process or
    /// another, can come between the read and the write.
    fn update(
        &self,
        connection_id: &str,
        change: &mut dyn FnMut(&mut HealthSnapshot),
    ) -> Result<HealthSnapshot, HealthStoreError> {
        let mut db = self.lock();
        let tx = db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let current = read_health(&tx, connection_id)?;
        let mut next = current.clone();
        change(&mut next);
        let next = normalize(next)?;
        if next != current {
            write_health(&tx, connection_id, &next, OffsetDateTime::now_utc())?;
        }
        tx.commit().map_err(StoreError::from)?;
        Ok(next)
    }
}

fn not_found(what: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.to_owned(),
    }
}

fn exists(tx: &Transaction<'_>, table: &str, id: &str) -> Result<bool, StoreError> {
    Ok(tx
        .query_row(
            &format!("SELECT 1 FROM {table} WHERE id = ?1"),
            [id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Brings the schema to [`SCHEMA_VERSION`] in one transaction.
fn migrate(db: &mut Connection) -> Result<(), StoreError> {
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             id      INTEGER PRIMARY KEY CHECK (id = 1),
             version INTEGER NOT NULL
         );",
    )?;
    let found: i64 = tx
        .query_row("SELECT version FROM schema_version WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 0 {
        return Err(StoreError::Corrupt(format!("schema version {found}")));
    }
    let done = usize::try_from(found).unwrap_or(usize::MAX);
    for migration in MIGRATIONS.iter().skip(done) {
        tx.execute_batch(migration)?;
    }
    tx.execute(
        "INSERT INTO schema_version (id, version) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version",
        [SCHEMA_VERSION],
    )?;
    tx.commit()?;
    Ok(())
}

pub(super) fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_millis(ms: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| StoreError::Corrupt("a timestamp is out of range".into()))
}

fn corrupt(what: &str) -> impl Fn(StoreError) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

/// Reads a connection row selected with [`CONNECTION_COLUMNS`]: SQLite errors first, then
/// the values' checks.
fn read_connection(row: &Row<'_>) -> rusqlite::Result<Result<ConnectionRecord, StoreError>> {
    let id: String = row.get(0)?;
    let system: String = row.get(1)?;
    let base_url: String = row.get(2)?;
    let credential_id: Option<String> = row.get(3)?;
    let vault: String = row.get(4)?;
    let tenant: Option<String> = row.get(5)?;
    let allow_private_network: bool = row.get(6)?;
    let origins: String = row.get(7)?;
    let timeout_ms: i64 = row.get(8)?;
    let created_at: i64 = row.get(9)?;
    let updated_at: i64 = row.get(10)?;
    let credential_endpoints: Option<String> = row.get(11)?;
    Ok((|| {
        let what = format!("connection {id:?}");
        let bad = |reason: &str| StoreError::Corrupt(format!("{what}: {reason}"));
        let origins: Vec<String> =
            serde_json::from_str(&origins).map_err(|_| bad("granted origins are not a list"))?;
        let record = ConnectionRecord {
            id: id.clone(),
            system,
            base_url: Url::parse(&base_url).map_err(|_| bad("the base URL does not parse"))?,
            credential_id: credential_id
                .map(CredentialId::new)
                .transpose()
                .map_err(|_| bad("the credential id is invalid"))?,
            vault: vault.parse().map_err(corrupt(&what))?,
            tenant,
            allow_private_network,
            granted_origins: origins
                .iter()
                .map(|o| Url::parse(o).map_err(|_| bad("a granted origin does not parse")))
                .collect::<Result<_, _>>()?,
            timeout: Duration::from_millis(
                u64::try_from(timeout_ms).map_err(|_| bad("the timeout is negative"))?,
            ),
            created_at: from_millis(created_at)?,
            updated_at: from_millis(updated_at)?,
            credential_endpoints,
        };
        record.check().map_err(corrupt(&what))?;
        Ok(record)
    })())
}

fn read_endpoint(row: &Row<'_>) -> rusqlite::Result<Result<EndpointRecord, StoreError>> {
    let id: String = row.get(0)?;
    let url: String = row.get(1)?;
    let tenant: Option<String> = row.get(2)?;
    let secret_id: String = row.get(3)?;
    let vault: String = row.get(4)?;
    let created_at: i64 = row.get(5)?;
    Ok((|| {
        let what = format!("webhook endpoint {id:?}");
        let bad = |reason: &str| StoreError::Corrupt(format!("{what}: {reason}"));
        let record = EndpointRecord {
            id: id.clone(),
            url: Url::parse(&url).map_err(|_| bad("the URL does not parse"))?,
            tenant,
            secret_id: CredentialId::new(secret_id).map_err(|_| bad("the secret id is invalid"))?,
            vault: vault.parse().map_err(corrupt(&what))?,
            created_at: from_millis(created_at)?,
        };
        record.check().map_err(corrupt(&what))?;
        Ok(record)
    })())
}

fn read_health(db: &Connection, id: &str) -> Result<HealthSnapshot, StoreError> {
    let row = db
        .query_row(
            "SELECT state, since, status, reason, consecutive_failures
             FROM connection_health WHERE connection_id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((state, since, status, reason, failures)) = row else {
        return Ok(HealthSnapshot::default());
    };
    let bad = |what: &str| StoreError::Corrupt(format!("health of connection {id:?}: {what}"));
    let consecutive_failures =
        u32::try_from(failures).map_err(|_| bad("the failure count is out of range"))?;
    let since = || {
        since
            .ok_or_else(|| bad("no start time"))
            .and_then(from_millis)
    };
    let reason = || {
        reason
            .as_deref()
            .map(sanitize_reason)
            .ok_or_else(|| bad("no reason"))
    };
    let state = match state.as_str() {
        "healthy" => HealthState::Healthy,
        "degraded" => HealthState::Degraded {
            since: since()?,
            consecutive_failures,
            last_error: reason()?,
        },
        "needs-reauthorization" => HealthState::NeedsReauthorization {
            since: since()?,
            status: status
                .and_then(|s| u16::try_from(s).ok())
                .ok_or_else(|| bad("no status"))?,
            reason: reason()?,
        },
        _ => return Err(bad("unknown state")),
    };
    Ok(HealthSnapshot {
        state,
        consecutive_failures,
    })
}

fn write_health(
    tx: &Connection,
    id: &str,
    snapshot: &HealthSnapshot,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let (since, status, reason) = match &snapshot.state {
        HealthState::Healthy => (None, None, None),
        HealthState::Degraded {
            since, last_error, ..
        } => (Some(millis(*since)), None, Some(last_error.as_str())),
        HealthState::NeedsReauthorization {
            since,
            status,
            reason,
        } => (Some(millis(*since)), Some(*status), Some(reason.as_str())),
    };
    tx.execute(
        "INSERT INTO connection_health
             (connection_id, state, since, status, reason, consecutive_failures, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (connection_id) DO UPDATE SET
             state = excluded.state, since = excluded.since, status = excluded.status,
             reason = excluded.reason, consecutive_failures = excluded.consecutive_failures,
             updated_at = excluded.updated_at",
        params![
            id,
            snapshot.state.label(),
            since,
            status,
            reason,
            snapshot.consecutive_failures,
            millis(now)
        ],
    )?;
    Ok(())
}

/// A snapshot as it reads back: times to the millisecond, reasons sanitized and capped.
fn normalize(mut s: HealthSnapshot) -> Result<HealthSnapshot, StoreError> {
    match &mut s.state {
        HealthState::Healthy => {}
        HealthState::Degraded {
            since, last_error, ..
        } => {
            *since = from_millis(millis(*since))?;
            *last_error = sanitize_reason(last_error);
        }
        HealthState::NeedsReauthorization { since, reason, .. } => {
            *since = from_millis(millis(*since))?;
            *reason = sanitize_reason(reason);
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::health::{HealthConfig, HealthMonitor};
    use crate::store::VaultBackend;
    use crate::webhooks::{Event, EventKind, EventSink};

    /// A fresh directory, removed on drop.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn scratch(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "plantwire-store-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        Scratch(dir)
    }

    fn record(id: &str) -> ConnectionRecord {
        let mut r = ConnectionRecord::new(
            id,
            "maintainx",
            "http://127.0.0.1:8080/v1",
            Some(ConnectionRecord::credential_id_for(id).expect("id")),
            VaultBackend::Sealed,
        )
        .expect("record");
        r.tenant = Some("acme".into());
        r.allow_private_network = true;
        r.granted_origins = vec![Url::parse("https://auth.example.com").expect("url")];
        r.timeout = Duration::from_secs(12);
        r
    }

    #[test]
    fn a_new_database_is_migrated_private_and_in_wal_mode() {
        let dir = scratch("new");
        let path = dir.0.join("plantwire.db");
        let store = ConnectionStore::open(&path).expect("open");
        assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
        let db = store.lock();
        let mode: String = db
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("pragma");
        assert_eq!(mode, "wal");
        let tables: Vec<String> = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            tables,
            [
                "connection_health",
                "connections",
                "schema_version",
                "webhook_endpoints"
            ]
        );
        drop(db);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Reopening migrates nothing twice and keeps the data.
        store.insert_connection(&record("mx")).expect("insert");
        drop(store);
        let store = ConnectionStore::open(&path).expect("reopen");
        assert_eq!(store.connections().expect("list").len(), 1);
    }

    #[test]
    fn credential_endpoints_are_kept_and_a_version_1_database_migrates() {
        let dir = scratch("v1");
        let path = dir.0.join("plantwire.db");
        {
            let db = Connection::open(&path).expect("open");
            db.execute_batch(MIGRATIONS[0]).expect("v1 schema");
            db.execute_batch(
                "CREATE TABLE schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
                 INSERT INTO schema_version (id, version) VALUES (1, 1);
                 INSERT INTO connections (id, system, base_url, credential_id, vault, tenant,
                     allow_private_network, granted_origins, timeout_ms, created_at, updated_at)
                 VALUES ('old', 'maintainx', 'https://api.example.com/v1', NULL, 'sealed', NULL,
                     0, '[]', 30000, 0, 0);",
            )
            .expect("v1 row");
        }
        let store = ConnectionStore::open(&path).expect("migrates");
        assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
        let old = store.connection("old").expect("read").expect("kept");
        assert_eq!(old.credential_endpoints, None);
        assert_eq!(
            old.egress_config().confirmed_endpoints.as_deref(),
            Some("none")
        );

        let mut new = record("session");
        new.credential_endpoints = Some("session login: POST /auth".into());
        store.insert_connection(&new).expect("insert");
        assert_eq!(
            store
                .connection("session")
                .expect("read")
                .expect("stored")
                .credential_endpoints,
            new.credential_endpoints
        );
        store
            .confirm_credential_endpoints("old", "OAuth 2.0 token: POST /oauth/token")
            .expect("confirm");
        assert_eq!(
            store
                .connection("old")
                .expect("read")
                .expect("kept")
                .credential_endpoints
                .as_deref(),
            Some("OAuth 2.0 token: POST /oauth/token")
        );
        assert!(matches!(
            store.confirm_credential_endpoints("absent", "none"),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn a_database_from_a_newer_plantwire_is_refused_untouched() {
        let dir = scratch("newer");
        let path = dir.0.join("plantwire.db");
        drop(ConnectionStore::open(&path).expect("open"));
        {
            let db = Connection::open(&path).expect("raw");
            db.execute("UPDATE schema_version SET version = 99", [])
                .expect("bump");
        }
        let err = ConnectionStore::open(&path).expect_err("newer");
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade Plantwire"), "{err}");
        let db = Connection::open(&path).expect("raw");
        let v: i64 = db
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, 99);
    }

    #[test]
    fn a_symlinked_database_is_refused() {
        let dir = scratch("symlink");
        let real = dir.0.join("real.db");
        drop(ConnectionStore::open(&real).expect("open"));
        #[cfg(unix)]
        {
            let link = dir.0.join("link.db");
            std::os::unix::fs::symlink(&real, &link).expect("symlink");
            assert!(ConnectionStore::open(&link).is_err());
        }
        assert!(ConnectionStore::open(dir.0.join("missing/plantwire.db")).is_err());
    }

    #[test]
    fn connections_round_trip_and_ids_are_unique() {
        let dir = scratch("roundtrip");
        let store = ConnectionStore::open(dir.0.join("plantwire.db")).expect("open");
        let r = record("mx-prod");
        store.insert_connection(&r).expect("insert");
        let back = store.connection("mx-prod").expect("read").expect("exists");
        assert_eq!(back.id, r.id);
        assert_eq!(back.base_url, r.base_url);
        assert_eq!(back.credential_id, r.credential_id);
        assert_eq!(back.tenant.as_deref(), Some("acme"));
        assert!(back.allow_private_network);
        assert_eq!(back.granted_origins, r.granted_origins);
        assert_eq!(back.timeout, Duration::from_secs(12));
        assert_eq!(millis(back.created_at), millis(r.created_at));
        assert_eq!(
            store.health("mx-prod").expect("health"),
            HealthSnapshot::default()
        );

        let err = store.insert_connection(&r).expect_err("duplicate");
        assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");

        let mut bad = record("bad");
        bad.tenant = Some("../etc".into());
        assert!(store.insert_connection(&bad).is_err());
        assert!(store.connection("bad").expect("read").is_none());

        store.insert_connection(&record("a-first")).expect("insert");
        let ids: Vec<String> = store
            .connections()
            .expect("list")
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, ["a-first", "mx-prod"]);

        let removed = store.remove_connection("mx-prod").expect("remove");
        assert_eq!(removed.id, "mx-prod");
        assert!(matches!(
            store.remove_connection("mx-prod"),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            store.touch_connection("mx-prod"),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn a_tampered_row_is_reported_as_corrupt() {
        let dir = scratch("tampered");
        let path = dir.0.join("plantwire.db");
        let store = ConnectionStore::open(&path).expect("open");
        store.insert_connection(&record("mx")).expect("insert");
        store
            .lock()
            .execute(
                "UPDATE connections SET base_url = 'ftp://example.com/' WHERE id = 'mx'",
                [],
            )
            .expect("tamper");
        let err = store.connection("mx").expect_err("corrupt");
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    }

    #[test]
    fn every_health_state_round_trips() {
        let dir = scratch("health");
        let store = ConnectionStore::open(dir.0.join("plantwire.db")).expect("open");
        store.insert_connection(&record("mx")).expect("insert");
        let since = from_millis(millis(OffsetDateTime::now_utc())).expect("time");
        for state in [
            HealthState::Degraded {
                since,
                consecutive_failures: 4,
                last_error: "HTTP 503".into(),
            },
            HealthState::NeedsReauthorization {
                since,
                status: 401,
                reason: "MaintainX refused the API key: Invalid token".into(),
            },
            HealthState::Healthy,
        ] {
            let snapshot = HealthSnapshot {
                state,
                consecutive_failures: 4,
            };
            let stored = store
                .update("mx", &mut |s| *s = snapshot.clone())
                .expect("update");
            assert_eq!(stored, snapshot);
            assert_eq!(store.health("mx").expect("health"), snapshot);
        }
        // A secret-looking reason is masked before it is stored.
        store
            .update("mx", &mut |s| {
                s.state = HealthState::NeedsReauthorization {
                    since,
                    status: 401,
                    reason: "Authorization: Bearer planted-s3cret".into(),
                };
            })
            .expect("update");
        let raw: String = store
            .lock()
            .query_row("SELECT reason FROM connection_health", [], |r| r.get(0))
            .expect("reason");
        assert!(!raw.contains("planted-s3cret"), "{raw}");
        // Health cannot be stored for a connection that does not exist.
        assert!(
            store
                .update("ghost", &mut |s| s.consecutive_failures = 1)
                .is_err()
        );
    }

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Event>>);

    impl EventSink for Recorder {
        fn emit(&self, event: Event) {
            self.0.lock().expect("recorder").push(event);
        }
    }

    #[test]
    fn monitors_in_two_processes_announce_one_episode() {
        let dir = scratch("processes");
        let path = dir.0.join("plantwire.db");
        let first = ConnectionStore::open(&path).expect("open");
        first.insert_connection(&record("mx")).expect("insert");
        // Two handles on one file, as two processes have.
        let second = ConnectionStore::open(&path).expect("open");
        let sink = Arc::new(Recorder::default());
        let monitor = |store: &ConnectionStore| {
            HealthMonitor::restore(
                "mx",
                Some("acme".into()),
                HealthConfig::default(),
                sink.clone(),
                Arc::new(store.clone()),
                store.health("mx").expect("health"),
            )
        };
        let a = monitor(&first);
        let b = monitor(&second);
        let threads: Vec<_> = [a.clone(), b.clone()]
            .into_iter()
            .flat_map(|m| std::iter::repeat_n(m, 8))
            .map(|m| std::thread::spawn(move || m.record_auth_failure(401, "Invalid token")))
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let kinds = |sink: &Recorder| -> Vec<EventKind> {
            sink.0
                .lock()
                .expect("events")
                .iter()
                .map(|e| e.kind)
                .collect()
        };
        assert_eq!(kinds(&sink), [EventKind::ConnectionReauthorizationRequired]);
        assert_eq!(
            second.health("mx").expect("health").state.label(),
            "needs-reauthorization"
        );
        // A restart: a third monitor from the stored state emits nothing for the episode.
        let c = monitor(&ConnectionStore::open(&path).expect("open"));
        c.record_auth_failure(401, "Invalid token");
        c.reauthorized();
        a.reauthorized();
        assert_eq!(
            kinds(&sink),
            [
                EventKind::ConnectionReauthorizationRequired,
                EventKind::ConnectionRecovered
            ]
        );
        assert_eq!(
            first.health("mx").expect("health"),
            HealthSnapshot::default()
        );
    }

    #[test]
    fn endpoints_round_trip() {
        let dir = scratch("endpoints");
        let store = ConnectionStore::open(dir.0.join("plantwire.db")).expect("open");
        let e = EndpointRecord {
            id: "ops".into(),
            url: Url::parse("https://hooks.example.com/in?token=abc").expect("url"),
            tenant: Some("acme".into()),
            secret_id: EndpointRecord::secret_id_for("ops").expect("id"),
            vault: VaultBackend::Sealed,
            created_at: from_millis(millis(OffsetDateTime::now_utc())).expect("time"),
        };
        store.insert_endpoint(&e).expect("insert");
        assert!(matches!(
            store.insert_endpoint(&e),
            Err(StoreError::AlreadyExists { .. })
        ));
        assert_eq!(store.endpoints().expect("list"), std::slice::from_ref(&e));
        assert_eq!(e.shown_url(), "https://hooks.example.com/…");
        assert!(e.receives(Some("acme")) && !e.receives(Some("globex")) && !e.receives(None));
        assert_eq!(store.remove_endpoint("ops").expect("remove"), e);
        assert!(store.endpoints().expect("list").is_empty());
    }
}
