//! The embedded job store: one SQLite file (`jobs.db` in the state directory by default).
//!
//! The database runs in WAL mode with `synchronous=FULL`, so every [`JobStore`] step is on
//! disk when it returns. Every step that reads and then writes runs in a `BEGIN IMMEDIATE`
//! transaction: SQLite then holds the single writer lock from the first read, so two runner
//! tasks, or two processes sharing the file, can never claim the same job or interleave two
//! steps of one job. A busy timeout makes a second writer wait instead of failing.
//!
//! What this module must never do: store a credential. Rows hold connection ids, record
//! payloads (the caller's business data) and outcomes; the file is created with mode 0600.
//!
//! Schema (`PRAGMA user_version = 2`; [`migrate`] brings older files forward and refuses
//! newer ones):
//!
//! ```sql
//! CREATE TABLE bulk_jobs (
//!     id               TEXT PRIMARY KEY,     -- 'job_' + 26 characters, time-ordered
//!     spec             TEXT NOT NULL,        -- the JobSpec as JSON
//!     connection       TEXT NOT NULL,
//!     entity           TEXT NOT NULL,
//!     op               TEXT NOT NULL,        -- 'create', 'update', 'action:<name>' (ledger scope)
//!     status           TEXT NOT NULL,        -- queued, running, completed, stopped, cancelled
//!     total            INTEGER NOT NULL,
//!     done             INTEGER NOT NULL,     -- records with an outcome
//!     failed           INTEGER NOT NULL,     -- outcomes that are failures (failed, unknown)
//!     batches          INTEGER NOT NULL,     -- batches committed
//!     in_flight        INTEGER,              -- the number of the batch in flight, if any
//!     cancel_requested INTEGER NOT NULL,
//!     lease_owner      TEXT,
//!     lease_until      INTEGER,              -- Unix milliseconds, as are all times here
//!     created_at       INTEGER NOT NULL,
//!     updated_at       INTEGER NOT NULL
//! );
//! CREATE TABLE bulk_records (
//!     job_id    TEXT NOT NULL REFERENCES bulk_jobs (id),
//!     idx       INTEGER NOT NULL,           -- position in the input, from 0
//!     key       TEXT NOT NULL,              -- idempotency key
//!     payload   TEXT NOT NULL,
//!     digest    TEXT NOT NULL,              -- SHA-256 of the payload, hex
//!     in_flight INTEGER NOT NULL,           -- 1 while part of the in-flight batch
//!     outcome   TEXT,                       -- the RecordOutcome as JSON, once known
//!     PRIMARY KEY (job_id, idx)
//! );
//! CREATE TABLE bulk_ledger (                -- the idempotency ledger
//!     connection TEXT NOT NULL, entity TEXT NOT NULL, op TEXT NOT NULL, key TEXT NOT NULL,
//!     digest     TEXT NOT NULL,             -- the payload the key was first used with
//!     outcome    TEXT,                      -- its successful outcome, once there is one
//!     job_id     TEXT NOT NULL, idx INTEGER NOT NULL,
//!     PRIMARY KEY (connection, entity, op, key)
//! );
//! ```

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior, params,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::store::{
    BulkOp, InFlight, InputRecord, JobId, JobInfo, JobSpec, JobStatus, JobStore, RecordOutcome,
    StoreError,
};

const SCHEMA_VERSION: i64 = 2;

const SCHEMA_V1: &str = "
CREATE TABLE bulk_jobs (
    id               TEXT PRIMARY KEY,
    spec             TEXT NOT NULL,
    connection       TEXT NOT NULL,
    entity           TEXT NOT NULL,
    op               TEXT NOT NULL,
    status           TEXT NOT NULL
                     CHECK (status IN ('queued', 'running', 'completed', 'stopped', 'cancelled')),
    total            INTEGER NOT NULL,
    done             INTEGER NOT NULL DEFAULT 0,
    failed           INTEGER NOT NULL DEFAULT 0,
    batches          INTEGER NOT NULL DEFAULT 0,
    in_flight        INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_until      INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX bulk_jobs_claimable ON bulk_jobs (status, created_at);
CREATE TABLE bulk_records (
    job_id    TEXT NOT NULL REFERENCES bulk_jobs (id),
    idx       INTEGER NOT NULL,
    key       TEXT NOT NULL,
    payload   TEXT NOT NULL,
    digest    TEXT NOT NULL,
    in_flight INTEGER NOT NULL DEFAULT 0,
    outcome   TEXT,
    PRIMARY KEY (job_id, idx)
);
CREATE TABLE bulk_ledger (
    connection TEXT NOT NULL,
    entity     TEXT NOT NULL,
    op         TEXT NOT NULL,
    key        TEXT NOT NULL,
    digest     TEXT NOT NULL,
    outcome    TEXT,
    job_id     TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    PRIMARY KEY (connection, entity, op, key)
);
PRAGMA user_version = 1;
";

/// Version 2: partial indexes over the records still to send and the batch in flight, so
/// that finding the next batch does not read every record already done (it did, and a
/// 10,000-record job slowed down batch by batch).
const SCHEMA_V2: &str = "
CREATE INDEX bulk_records_pending ON bulk_records (job_id, idx)
    WHERE outcome IS NULL AND in_flight = 0;
CREATE INDEX bulk_records_in_flight ON bulk_records (job_id, idx) WHERE in_flight = 1;
PRAGMA user_version = 2;
";

/// Each migration takes the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; 2] = [SCHEMA_V1, SCHEMA_V2];

const JOB_COLUMNS: &str = "id, spec, status, total, done, failed, batches, cancel_requested, \
                           lease_owner, lease_until, created_at, updated_at";

/// The longest idempotency key a store accepts.
pub const MAX_KEY_BYTES: usize = 200;

/// The largest payload of one record, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// The most records one job may hold.
pub const MAX_JOB_RECORDS: usize = 1_000_000;

/// The SQLite job store; cheap to clone, every clone shares one connection.
#[derive(Debug, Clone)]
pub struct SqliteJobStore {
    db: Arc<Mutex<Connection>>,
    path: PathBuf,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteJobStore {
    /// Opens (creating if need be, mode 0600) the job database at `path`; its directory must
    /// exist. Symlinks are refused.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteJobStore, StoreError> {
        let path = path.as_ref();
        let (dir_path, name) = split(path)?;
        let open_err = |e: std::io::Error| {
            StoreError::Backend(format!("cannot open the job store {}: {e}", path.display()))
        };
        let dir = cap_std::fs::Dir::open_ambient_dir(&dir_path, cap_std::ambient_authority())
            .map_err(open_err)?;
        let mut options = cap_std::fs::OpenOptions::new();
        options.read(true).write(true).create(true);
        #[cfg(unix)]
        {
            use cap_std::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        drop(dir.open_with(&name, &options).map_err(open_err)?);
        let db = Connection::open_with_flags(
            dir_path.join(&name),
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_NOFOLLOW,
        )
        .map_err(backend)?;
        db.busy_timeout(Duration::from_secs(30)).map_err(backend)?;
        let mode = crate::sqlite_wal::enter_wal(&db, Duration::from_secs(30)).map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(
                "the job database refused WAL mode".into(),
            ));
        }
        db.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        db.pragma_update(None, "foreign_keys", "ON")
            .map_err(backend)?;
        migrate(&db)?;
        Ok(SqliteJobStore {
            db: Arc::new(Mutex::new(db)),
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction, off the async threads; commits when
    /// it returns `Ok`.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            // Every write is one transaction, so a panic elsewhere while the lock was held
            // cannot have left the database half-changed.
            let mut db = db.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let out = work(&tx)?;
            tx.commit().map_err(backend)?;
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("a job store task failed: {e}")))?
    }

    /// Runs a read off the async threads (in a deferred transaction: one consistent snapshot).
    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let mut db = db.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = db
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .map_err(backend)?;
            work(&tx)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("a job store task failed: {e}")))?
    }
}

/// Splits a database path into its directory and a plain file name.
fn split(path: &Path) -> Result<(PathBuf, String), StoreError> {
    let invalid = || StoreError::Invalid(format!("{} does not name a file", path.display()));
    let name = match path.components().next_back() {
        Some(Component::Normal(name)) => name.to_str().ok_or_else(invalid)?.to_owned(),
        _ => return Err(invalid()),
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

/// Brings the schema to [`SCHEMA_VERSION`], one migration at a time, each in its own
/// `BEGIN IMMEDIATE` transaction that reads the version under the write lock (so two
/// processes opening a new file at once do not both create it); refuses a database written
/// by a newer version.
fn migrate(db: &Connection) -> Result<(), StoreError> {
    loop {
        db.execute_batch("BEGIN IMMEDIATE").map_err(backend)?;
        let step = (|| {
            let version: i64 = db
                .pragma_query_value(None, "user_version", |row| row.get(0))
                .map_err(backend)?;
            if version == SCHEMA_VERSION {
                return Ok(false);
            }
            let Some(step) = usize::try_from(version)
                .ok()
                .and_then(|v| MIGRATIONS.get(v))
            else {
                return Err(StoreError::Backend(format!(
                    "the job database has schema version {version}; this Plantwire knows up to {SCHEMA_VERSION}"
                )));
            };
            db.execute_batch(step).map_err(backend)?;
            Ok(true)
        })();
        match step {
            Ok(more) => {
                db.execute_batch("COMMIT").map_err(backend)?;
                if !more {
                    return Ok(());
                }
            }
            Err(e) => {
                // The transaction changed nothing that must be kept; a failed rollback leaves
                // the connection to be dropped.
                let _ = db.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
    }
}

pub(crate) fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_millis(ms: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| StoreError::Backend("a stored time is out of range".into()))
}

fn lease_end(now: OffsetDateTime, lease: Duration) -> i64 {
    millis(now).saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The scope of the idempotency ledger for an operation: `create`, `update`, `action:<name>`.
pub(crate) fn op_scope(op: &BulkOp) -> String {
    match op {
        BulkOp::Create => "create".to_owned(),
        BulkOp::Update => "update".to_owned(),
        BulkOp::Action(name) => format!("action:{name}"),
    }
}

/// The operation as shown: `create`, `update`, `action:<name>`.
pub fn op_name(op: &BulkOp) -> String {
    op_scope(op)
}

/// SHA-256 of a payload, hex.
pub(crate) fn digest(payload: &str) -> String {
    hex::encode(Sha256::digest(payload.as_bytes()))
}

/// Crockford's base32 alphabet.
const BASE32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new job id: `job_`, 10 characters of the time in milliseconds and 16 of randomness.
pub(crate) fn new_job_id(now: OffsetDateTime) -> JobId {
    let mut id = String::with_capacity(30);
    id.push_str("job_");
    let ms = u64::try_from(millis(now)).unwrap_or(0);
    for i in (0..10).rev() {
        id.push(BASE32[((ms >> (i * 5)) & 31) as usize] as char);
    }
    let mut random = [0u8; 16];
    OsRng.fill_bytes(&mut random);
    for b in random {
        id.push(BASE32[usize::from(b & 31)] as char);
    }
    JobId(id)
}

/// Checks the records of a new job: indexes 0..n in order, keys present, unique and not too
/// long, payloads not too large.
pub(crate) fn check_records(records: &[InputRecord]) -> Result<(), StoreError> {
    if records.len() > MAX_JOB_RECORDS {
        return Err(StoreError::Invalid(format!(
            "{} records; a job holds at most {MAX_JOB_RECORDS}",
            records.len()
        )));
    }
    let mut seen = std::collections::HashMap::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        if r.index != i as u64 {
            return Err(StoreError::Invalid(format!(
                "record {i} has index {}; indexes run from 0 in order",
                r.index
            )));
        }
        if r.idempotency_key.is_empty()
            || r.idempotency_key.len() > MAX_KEY_BYTES
            || r.idempotency_key.chars().any(char::is_control)
        {
            return Err(StoreError::Invalid(format!(
                "record {i}: an idempotency key is 1 to {MAX_KEY_BYTES} bytes of printable text"
            )));
        }
        if r.payload.len() > MAX_PAYLOAD_BYTES {
            return Err(StoreError::Invalid(format!(
                "record {i} is larger than {MAX_PAYLOAD_BYTES} bytes"
            )));
        }
        if let Some((first, payload)) = seen.insert(r.idempotency_key.as_str(), (i, &r.payload)) {
            if payload == &r.payload {
                return Err(StoreError::Invalid(format!(
                    "records {first} and {i} have the same idempotency key `{}`; give each record its own",
                    r.idempotency_key
                )));
            }
            return Err(StoreError::KeyReused {
                key: r.idempotency_key.clone(),
                index: r.index,
            });
        }
    }
    Ok(())
}

fn outcome_json(outcome: &RecordOutcome) -> Result<String, StoreError> {
    serde_json::to_string(outcome).map_err(backend)
}

fn parse_outcome(text: &str) -> Result<RecordOutcome, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Backend(format!("a stored outcome is unreadable: {e}")))
}

fn parse_status(s: &str) -> Result<JobStatus, StoreError> {
    Ok(match s {
        "queued" => JobStatus::Queued,
        "running" => JobStatus::Running,
        "completed" => JobStatus::Completed,
        "stopped" => JobStatus::Stopped,
        "cancelled" => JobStatus::Cancelled,
        other => {
            return Err(StoreError::Backend(format!("unknown job status `{other}`")));
        }
    })
}

/// A job row as SQLite returns it, before its values are checked.
struct RawJob {
    id: String,
    spec: String,
    status: String,
    total: i64,
    done: i64,
    failed: i64,
    batches: i64,
    cancel_requested: bool,
    lease_owner: Option<String>,
    lease_until: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

fn raw_job(row: &Row<'_>) -> rusqlite::Result<RawJob> {
    Ok(RawJob {
        id: row.get(0)?,
        spec: row.get(1)?,
        status: row.get(2)?,
        total: row.get(3)?,
        done: row.get(4)?,
        failed: row.get(5)?,
        batches: row.get(6)?,
        cancel_requested: row.get(7)?,
        lease_owner: row.get(8)?,
        lease_until: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

impl RawJob {
    fn check(self) -> Result<JobInfo, StoreError> {
        Ok(JobInfo {
            id: JobId(self.id),
            spec: serde_json::from_str(&self.spec).map_err(|e| {
                StoreError::Backend(format!("a stored job spec is unreadable: {e}"))
            })?,
            status: parse_status(&self.status)?,
            total: to_u64(self.total),
            done: to_u64(self.done),
            failed: to_u64(self.failed),
            batches: to_u64(self.batches),
            cancel_requested: self.cancel_requested,
            lease_owner: self.lease_owner,
            lease_until: self.lease_until.map(from_millis).transpose()?,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

fn load_job(tx: &Transaction<'_>, id: &JobId) -> Result<Option<JobInfo>, StoreError> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM bulk_jobs WHERE id = ?1");
    tx.query_row(&sql, [&id.0], raw_job)
        .optional()
        .map_err(backend)?
        .map(RawJob::check)
        .transpose()
}

fn must_job(tx: &Transaction<'_>, id: &JobId) -> Result<JobInfo, StoreError> {
    load_job(tx, id)?.ok_or_else(|| StoreError::NoJob(id.clone()))
}

/// The job, when `owner` holds its lease at `now`; [`StoreError::LeaseLost`] otherwise.
fn leased(
    tx: &Transaction<'_>,
    id: &JobId,
    owner: &str,
    now: OffsetDateTime,
) -> Result<JobInfo, StoreError> {
    let job = must_job(tx, id)?;
    let holds = job.status == JobStatus::Running
        && job.lease_owner.as_deref() == Some(owner)
        && job.lease_until.is_some_and(|until| until >= now);
    if holds {
        Ok(job)
    } else {
        Err(StoreError::LeaseLost(id.clone()))
    }
}

fn in_flight_number(tx: &Transaction<'_>, id: &JobId) -> Result<Option<u64>, StoreError> {
    let n: Option<i64> = tx
        .query_row(
            "SELECT in_flight FROM bulk_jobs WHERE id = ?1",
            [&id.0],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend)?
        .flatten();
    Ok(n.map(to_u64))
}

fn take_lease(
    tx: &Transaction<'_>,
    id: &str,
    owner: &str,
    lease: Duration,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE bulk_jobs SET status = 'running', lease_owner = ?2, lease_until = ?3,
                              updated_at = ?4
         WHERE id = ?1",
        params![id, owner, lease_end(now, lease), millis(now)],
    )
    .map_err(backend)?;
    Ok(())
}

const CLAIMABLE: &str =
    "(status = 'queued' OR (status = 'running' AND (lease_until IS NULL OR lease_until < ?1)))";

fn check_owner(owner: &str) -> Result<(), StoreError> {
    if owner.is_empty() || owner.len() > 200 {
        return Err(StoreError::Invalid(
            "a runner's name is 1 to 200 bytes".into(),
        ));
    }
    Ok(())
}

#[async_trait]
impl JobStore for SqliteJobStore {
    async fn create_job(
        &self,
        spec: &JobSpec,
        records: &[InputRecord],
        now: OffsetDateTime,
    ) -> Result<JobId, StoreError> {
        check_records(records)?;
        let spec = spec.clone();
        let records = records.to_vec();
        self.write(move |tx| {
            let id = new_job_id(now);
            let spec_json = serde_json::to_string(&spec).map_err(backend)?;
            let scope = op_scope(&spec.op);
            let at = millis(now);
            tx.execute(
                "INSERT INTO bulk_jobs (id, spec, connection, entity, op, status, total,
                                        created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?7)",
                params![
                    id.0,
                    spec_json,
                    spec.connection,
                    spec.entity,
                    scope,
                    to_i64(records.len() as u64),
                    at
                ],
            )
            .map_err(backend)?;
            let mut known = 0i64;
            {
                let mut ledger = tx
                    .prepare_cached(
                        "SELECT digest, outcome FROM bulk_ledger
                         WHERE connection = ?1 AND entity = ?2 AND op = ?3 AND key = ?4",
                    )
                    .map_err(backend)?;
                let mut reserve = tx
                    .prepare_cached(
                        "INSERT INTO bulk_ledger (connection, entity, op, key, digest, job_id, idx)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .map_err(backend)?;
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO bulk_records (job_id, idx, key, payload, digest, outcome)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .map_err(backend)?;
                for r in &records {
                    let d = digest(&r.payload);
                    let earlier: Option<(String, Option<String>)> = ledger
                        .query_row(
                            params![spec.connection, spec.entity, scope, r.idempotency_key],
                            |row| Ok((row.get(0)?, row.get(1)?)),
                        )
                        .optional()
                        .map_err(backend)?;
                    let outcome = match earlier {
                        Some((earlier_digest, _)) if earlier_digest != d => {
                            return Err(StoreError::KeyReused {
                                key: r.idempotency_key.clone(),
                                index: r.index,
                            });
                        }
                        Some((_, outcome)) => outcome,
                        None => {
                            reserve
                                .execute(params![
                                    spec.connection,
                                    spec.entity,
                                    scope,
                                    r.idempotency_key,
                                    d,
                                    id.0,
                                    to_i64(r.index)
                                ])
                                .map_err(backend)?;
                            None
                        }
                    };
                    if outcome.is_some() {
                        known += 1;
                    }
                    insert
                        .execute(params![
                            id.0,
                            to_i64(r.index),
                            r.idempotency_key,
                            r.payload,
                            d,
                            outcome
                        ])
                        .map_err(backend)?;
                }
            }
            if known > 0 {
                tx.execute(
                    "UPDATE bulk_jobs SET done = ?2 WHERE id = ?1",
                    params![id.0, known],
                )
                .map_err(backend)?;
            }
            Ok(id)
        })
        .await
    }

    async fn claim(
        &self,
        owner: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<JobInfo>, StoreError> {
        check_owner(owner)?;
        let owner = owner.to_owned();
        self.write(move |tx| {
            let sql = format!(
                "SELECT id FROM bulk_jobs WHERE {CLAIMABLE} ORDER BY created_at, id LIMIT 1"
            );
            let Some(id) = tx
                .query_row(&sql, [millis(now)], |row| row.get::<_, String>(0))
                .optional()
                .map_err(backend)?
            else {
                return Ok(None);
            };
            take_lease(tx, &id, &owner, lease, now)?;
            load_job(tx, &JobId(id))
        })
        .await
    }

    async fn claim_job(
        &self,
        id: &JobId,
        owner: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<JobInfo>, StoreError> {
        check_owner(owner)?;
        let (id, owner) = (id.clone(), owner.to_owned());
        self.write(move |tx| {
            let sql = format!("SELECT id FROM bulk_jobs WHERE id = ?2 AND {CLAIMABLE}");
            let found = tx
                .query_row(&sql, params![millis(now), id.0], |row| {
                    row.get::<_, String>(0)
                })
                .optional()
                .map_err(backend)?;
            match found {
                Some(found) => {
                    take_lease(tx, &found, &owner, lease, now)?;
                    load_job(tx, &id)
                }
                None => {
                    must_job(tx, &id)?;
                    Ok(None)
                }
            }
        })
        .await
    }

    async fn renew(
        &self,
        id: &JobId,
        owner: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<JobInfo, StoreError> {
        let (id, owner) = (id.clone(), owner.to_owned());
        self.write(move |tx| {
            leased(tx, &id, &owner, now)?;
            tx.execute(
                "UPDATE bulk_jobs SET lease_until = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.0, lease_end(now, lease), millis(now)],
            )
            .map_err(backend)?;
            must_job(tx, &id)
        })
        .await
    }

    async fn in_flight(&self, id: &JobId) -> Result<Option<InFlight>, StoreError> {
        let id = id.clone();
        self.read(move |tx| {
            must_job(tx, &id)?;
            let Some(batch) = in_flight_number(tx, &id)? else {
                return Ok(None);
            };
            let records = select_records(
                tx,
                "SELECT idx, key, payload FROM bulk_records
                 WHERE job_id = ?1 AND in_flight = 1 ORDER BY idx",
                &id,
                None,
            )?;
            Ok(Some(InFlight { batch, records }))
        })
        .await
    }

    async fn pending(&self, id: &JobId, max: u32) -> Result<Vec<InputRecord>, StoreError> {
        let id = id.clone();
        self.read(move |tx| {
            must_job(tx, &id)?;
            select_records(
                tx,
                "SELECT idx, key, payload FROM bulk_records
                 WHERE job_id = ?1 AND in_flight = 0 AND outcome IS NULL ORDER BY idx LIMIT ?2",
                &id,
                Some(max),
            )
        })
        .await
    }

    async fn begin_batch(
        &self,
        id: &JobId,
        owner: &str,
        indexes: &[u64],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        if indexes.is_empty() {
            return Err(StoreError::Invalid("an empty batch".into()));
        }
        let (id, owner, indexes) = (id.clone(), owner.to_owned(), indexes.to_vec());
        self.write(move |tx| {
            let job = leased(tx, &id, &owner, now)?;
            if let Some(n) = in_flight_number(tx, &id)? {
                return Err(StoreError::State {
                    id: id.clone(),
                    status: job.status.as_str(),
                    why: format!("batch {n} is still in flight"),
                });
            }
            {
                let mut mark = tx
                    .prepare_cached(
                        "UPDATE bulk_records SET in_flight = 1
                         WHERE job_id = ?1 AND idx = ?2 AND in_flight = 0 AND outcome IS NULL",
                    )
                    .map_err(backend)?;
                for &i in &indexes {
                    if mark.execute(params![id.0, to_i64(i)]).map_err(backend)? != 1 {
                        return Err(StoreError::Invalid(format!(
                            "record {i} is not a pending record of job {id}"
                        )));
                    }
                }
            }
            let batch = job.batches + 1;
            tx.execute(
                "UPDATE bulk_jobs SET in_flight = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.0, to_i64(batch), millis(now)],
            )
            .map_err(backend)?;
            Ok(batch)
        })
        .await
    }

    async fn commit_batch(
        &self,
        id: &JobId,
        owner: &str,
        batch: u64,
        outcomes: &[(u64, RecordOutcome)],
        now: OffsetDateTime,
    ) -> Result<JobInfo, StoreError> {
        let (id, owner, outcomes) = (id.clone(), owner.to_owned(), outcomes.to_vec());
        self.write(move |tx| {
            let job = leased(tx, &id, &owner, now)?;
            if in_flight_number(tx, &id)? != Some(batch) {
                return Err(StoreError::State {
                    id: id.clone(),
                    status: job.status.as_str(),
                    why: format!("batch {batch} is not the batch in flight"),
                });
            }
            let in_flight: i64 = tx
                .query_row(
                    "SELECT count(*) FROM bulk_records WHERE job_id = ?1 AND in_flight = 1",
                    [&id.0],
                    |row| row.get(0),
                )
                .map_err(backend)?;
            let mut seen = std::collections::HashSet::new();
            let mut failed = 0i64;
            {
                let mut set = tx
                    .prepare_cached(
                        "UPDATE bulk_records SET outcome = ?3, in_flight = 0
                         WHERE job_id = ?1 AND idx = ?2 AND in_flight = 1
                         RETURNING key, digest",
                    )
                    .map_err(backend)?;
                let mut ledger = tx
                    .prepare_cached(
                        "INSERT INTO bulk_ledger (connection, entity, op, key, digest, outcome,
                                                  job_id, idx)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT (connection, entity, op, key) DO UPDATE
                         SET outcome = excluded.outcome, job_id = excluded.job_id,
                             idx = excluded.idx
                         WHERE bulk_ledger.digest = excluded.digest",
                    )
                    .map_err(backend)?;
                let scope = op_scope(&job.spec.op);
                for (index, outcome) in &outcomes {
                    if !seen.insert(*index) {
                        return Err(StoreError::Invalid(format!(
                            "record {index} has two outcomes"
                        )));
                    }
                    let text = outcome_json(outcome)?;
                    let (key, d): (String, String) = set
                        .query_row(params![id.0, to_i64(*index), text], |row| {
                            Ok((row.get(0)?, row.get(1)?))
                        })
                        .optional()
                        .map_err(backend)?
                        .ok_or_else(|| {
                            StoreError::Invalid(format!(
                                "record {index} is not in batch {batch} of job {id}"
                            ))
                        })?;
                    if outcome.is_failure() {
                        failed += 1;
                    }
                    if matches!(
                        outcome,
                        RecordOutcome::Created { .. } | RecordOutcome::Updated { .. }
                    ) {
                        ledger
                            .execute(params![
                                job.spec.connection,
                                job.spec.entity,
                                scope,
                                key,
                                d,
                                text,
                                id.0,
                                to_i64(*index)
                            ])
                            .map_err(backend)?;
                    }
                }
            }
            if i64::try_from(seen.len()).unwrap_or(i64::MAX) != in_flight {
                return Err(StoreError::Invalid(format!(
                    "batch {batch} has {in_flight} records and {} outcomes",
                    seen.len()
                )));
            }
            tx.execute(
                "UPDATE bulk_jobs SET done = done + ?2, failed = failed + ?3,
                                      batches = batches + 1, in_flight = NULL, updated_at = ?4
                 WHERE id = ?1",
                params![id.0, in_flight, failed, millis(now)],
            )
            .map_err(backend)?;
            must_job(tx, &id)
        })
        .await
    }

    async fn finish(
        &self,
        id: &JobId,
        owner: &str,
        status: JobStatus,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<JobInfo, StoreError> {
        if !status.is_final() {
            return Err(StoreError::Invalid(format!(
                "a job cannot finish as {}",
                status.as_str()
            )));
        }
        let (id, owner) = (id.clone(), owner.to_owned());
        let skipped = outcome_json(&RecordOutcome::Skipped {
            reason: reason.to_owned(),
        })?;
        self.write(move |tx| {
            let job = leased(tx, &id, &owner, now)?;
            if let Some(n) = in_flight_number(tx, &id)? {
                return Err(StoreError::State {
                    id: id.clone(),
                    status: job.status.as_str(),
                    why: format!("batch {n} is in flight; commit it first"),
                });
            }
            skip_rest(tx, &id, &skipped, status, now)?;
            must_job(tx, &id)
        })
        .await
    }

    async fn cancel(&self, id: &JobId, now: OffsetDateTime) -> Result<bool, StoreError> {
        let id = id.clone();
        let skipped = outcome_json(&RecordOutcome::Skipped {
            reason: "the job was cancelled".into(),
        })?;
        self.write(move |tx| {
            let job = must_job(tx, &id)?;
            match job.status {
                s if s.is_final() => Ok(false),
                JobStatus::Queued => {
                    skip_rest(tx, &id, &skipped, JobStatus::Cancelled, now)?;
                    Ok(true)
                }
                _ => {
                    tx.execute(
                        "UPDATE bulk_jobs SET cancel_requested = 1, updated_at = ?2 WHERE id = ?1",
                        params![id.0, millis(now)],
                    )
                    .map_err(backend)?;
                    Ok(true)
                }
            }
        })
        .await
    }

    async fn job(&self, id: &JobId) -> Result<Option<JobInfo>, StoreError> {
        let id = id.clone();
        self.read(move |tx| load_job(tx, &id)).await
    }

    async fn jobs(&self, limit: u32) -> Result<Vec<JobInfo>, StoreError> {
        self.read(move |tx| {
            let sql = format!(
                "SELECT {JOB_COLUMNS} FROM bulk_jobs ORDER BY created_at DESC, id DESC LIMIT ?1"
            );
            let mut stmt = tx.prepare(&sql).map_err(backend)?;
            let rows = stmt.query_map([limit], raw_job).map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(row.map_err(backend)?.check()?);
            }
            Ok(out)
        })
        .await
    }

    async fn outcomes(
        &self,
        id: &JobId,
    ) -> Result<Vec<(u64, String, Option<RecordOutcome>)>, StoreError> {
        let id = id.clone();
        self.read(move |tx| {
            must_job(tx, &id)?;
            let mut stmt = tx
                .prepare(
                    "SELECT idx, key, outcome FROM bulk_records WHERE job_id = ?1 ORDER BY idx",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([&id.0], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<String>>(2)?,
                    ))
                })
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (idx, key, outcome) = row.map_err(backend)?;
                out.push((
                    to_u64(idx),
                    key,
                    outcome.as_deref().map(parse_outcome).transpose()?,
                ));
            }
            Ok(out)
        })
        .await
    }
}

/// Gives every record without an outcome the `skipped` outcome and ends the job.
fn skip_rest(
    tx: &Transaction<'_>,
    id: &JobId,
    skipped: &str,
    status: JobStatus,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let n = tx
        .execute(
            "UPDATE bulk_records SET outcome = ?2, in_flight = 0
             WHERE job_id = ?1 AND outcome IS NULL",
            params![id.0, skipped],
        )
        .map_err(backend)?;
    tx.execute(
        "UPDATE bulk_jobs SET status = ?2, done = done + ?3, in_flight = NULL,
                              lease_owner = NULL, lease_until = NULL, updated_at = ?4
         WHERE id = ?1",
        params![id.0, status.as_str(), to_i64(n as u64), millis(now)],
    )
    .map_err(backend)?;
    Ok(())
}

fn select_records(
    tx: &Transaction<'_>,
    sql: &str,
    id: &JobId,
    limit: Option<u32>,
) -> Result<Vec<InputRecord>, StoreError> {
    let mut stmt = tx.prepare_cached(sql).map_err(backend)?;
    let map = |row: &Row<'_>| {
        Ok(InputRecord {
            index: to_u64(row.get::<_, i64>(0)?),
            idempotency_key: row.get(1)?,
            payload: row.get(2)?,
        })
    };
    let rows = match limit {
        Some(limit) => stmt.query_map(params![id.0, limit], map),
        None => stmt.query_map(params![id.0], map),
    }
    .map_err(backend)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(backend)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
