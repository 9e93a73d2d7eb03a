//! The durable outbox: every webhook message is a row in an SQLite database before anything
//! tries to deliver it, so an event that was emitted survives a crash or a restart.
//!
//! The database is opened in WAL mode with `synchronous=FULL`: when [`Outbox::enqueue`]
//! returns, the message is on disk. Deliveries are at least once: a message is claimed with a
//! lease before its attempt, and a process that dies mid-attempt leaves it to be retried when
//! the lease runs out (receivers deduplicate by the `webhook-id` header, which stays the same
//! across attempts).
//!
//! What this module must never do: store a secret. Rows hold the endpoint's id, never its
//! URL or signing secret, and the payload, which carries ids and sanitized reasons only.
//!
//! Schema (`PRAGMA user_version = 1`):
//!
//! ```sql
//! CREATE TABLE webhook_messages (
//!     id              TEXT PRIMARY KEY,  -- 'msg_' + 32 hex digits: the webhook-id header
//!     endpoint_id     TEXT NOT NULL,
//!     event_type      TEXT NOT NULL,     -- 'connection.recovered', …
//!     payload         TEXT NOT NULL,     -- the exact JSON body that is signed and sent
//!     status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
//!     attempts        INTEGER NOT NULL DEFAULT 0,
//!     created_at      INTEGER NOT NULL,  -- Unix milliseconds, as are all times here
//!     next_attempt_at INTEGER NOT NULL,  -- when pending: due time, or the lease's end
//!     last_attempt_at INTEGER,
//!     last_error      TEXT,              -- status or transport error; never a URL or secret
//!     delivered_at    INTEGER
//! );
//! CREATE INDEX webhook_messages_due ON webhook_messages (status, next_attempt_at);
//! ```

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;

use super::{Event, WebhookError};

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE webhook_messages (
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    last_error      TEXT,
    delivered_at    INTEGER
);
CREATE INDEX webhook_messages_due ON webhook_messages (status, next_attempt_at);
PRAGMA user_version = 1;
";

const COLUMNS: &str = "id, endpoint_id, event_type, payload, status, attempts, created_at, \
                       next_attempt_at, last_attempt_at, last_error, delivered_at";

/// A message's id: `msg_` and 32 hex digits, sent as the `webhook-id` header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(String);

impl MessageId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for MessageId {
    fn from(id: String) -> MessageId {
        MessageId(id)
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Waiting for its first attempt or a retry (or being attempted).
    Pending,
    /// An attempt got a 2xx answer.
    Delivered,
    /// Every attempt failed until the bounded time ran out.
    Failed,
}

impl MessageStatus {
    /// The status as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Failed => "failed",
        }
    }
}

impl FromStr for MessageStatus {
    type Err = WebhookError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(MessageStatus::Pending),
            "delivered" => Ok(MessageStatus::Delivered),
            "failed" => Ok(MessageStatus::Failed),
            _ => Err(WebhookError::Corrupt("unknown message status")),
        }
    }
}

/// One message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The id, sent as `webhook-id`.
    pub id: MessageId,
    /// The endpoint it is for.
    pub endpoint_id: String,
    /// The event's `type`.
    pub event_type: String,
    /// The exact JSON body.
    pub payload: String,
    /// Where it stands.
    pub status: MessageStatus,
    /// Attempts made (or begun) so far.
    pub attempts: u32,
    /// When it was enqueued; the bounded retry time counts from here.
    pub created_at: OffsetDateTime,
    /// When pending: when it is due (or when the current attempt's lease ends).
    pub next_attempt_at: OffsetDateTime,
    /// When the latest attempt began.
    pub last_attempt_at: Option<OffsetDateTime>,
    /// Why the latest attempt failed: a status or a transport error, never a URL or secret.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<OffsetDateTime>,
}

/// How many messages stand where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Waiting for an attempt.
    pub pending: u64,
    /// Delivered.
    pub delivered: u64,
    /// Given up on.
    pub failed: u64,
}

/// The durable outbox: cheap to clone and share; every clone uses the same connection.
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Arc<Mutex<Connection>>,
}

impl Outbox {
    /// Opens (creating if need be) the outbox database at `path`. The parent directory must
    /// exist; it is opened as a `cap-std` directory handle and the file is created through it
    /// (mode 0600 on Unix), then SQLite opens it refusing symlinks.
    pub fn open(path: impl AsRef<Path>) -> Result<Outbox, WebhookError> {
        let path = path.as_ref();
        let (dir_path, name) = split(path)?;
        let open_err = |source| WebhookError::Open {
            path: path.to_owned(),
            source,
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
        )?;
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        let mode = crate::sqlite_wal::enter_wal(&db, std::time::Duration::from_secs(5))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(WebhookError::Corrupt("the database refused WAL mode"));
        }
        db.pragma_update(None, "synchronous", "FULL")?;
        migrate(&db)?;
        Ok(Outbox {
            db: Arc::new(Mutex::new(db)),
        })
    }

    /// Stores one message of `event` for `endpoint_id`, due now. Returning is the durability
    /// point: the message is on disk.
    pub fn enqueue(&self, endpoint_id: &str, event: &Event) -> Result<MessageId, WebhookError> {
        self.enqueue_at(endpoint_id, event, OffsetDateTime::now_utc())
    }

    /// [`Outbox::enqueue`] with the clock given: the message counts as enqueued at `now`.
    pub fn enqueue_at(
        &self,
        endpoint_id: &str,
        event: &Event,
        now: OffsetDateTime,
    ) -> Result<MessageId, WebhookError> {
        let mut ids = self.enqueue_many([endpoint_id], event, now)?;
        ids.pop()
            .ok_or(WebhookError::Corrupt("no message id returned"))
    }

    /// Stores one message of `event` per endpoint, in one transaction (all or none).
    pub fn enqueue_many<'a>(
        &self,
        endpoint_ids: impl IntoIterator<Item = &'a str>,
        event: &Event,
        now: OffsetDateTime,
    ) -> Result<Vec<MessageId>, WebhookError> {
        let payload = event.to_json();
        let at = millis(now);
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut ids = Vec::new();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO webhook_messages
                     (id, endpoint_id, event_type, payload, status, created_at, next_attempt_at)
                 VALUES ('msg_' || lower(hex(randomblob(16))), ?1, ?2, ?3, 'pending', ?4, ?4)
                 RETURNING id",
            )?;
            for endpoint_id in endpoint_ids {
                let id: String = insert.query_row(
                    params![endpoint_id, event.kind.as_str(), payload, at],
                    |row| row.get(0),
                )?;
                ids.push(MessageId(id));
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    /// One message, if it exists.
    pub fn message(&self, id: &MessageId) -> Result<Option<OutboxMessage>, WebhookError> {
        let db = self.lock();
        let sql = format!("SELECT {COLUMNS} FROM webhook_messages WHERE id = ?1");
        let row = db.query_row(&sql, [id.as_str()], read_row).optional()?;
        row.transpose()
    }

    /// Up to `limit` messages, oldest first, all or only those with `status`.
    pub fn messages(
        &self,
        status: Option<MessageStatus>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, WebhookError> {
        let db = self.lock();
        let sql = format!(
            "SELECT {COLUMNS} FROM webhook_messages
             WHERE ?1 IS NULL OR status = ?1 ORDER BY created_at, rowid LIMIT ?2"
        );
        let mut stmt = db.prepare(&sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![status.map(MessageStatus::as_str), limit], read_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// How many messages stand where.
    pub fn counts(&self) -> Result<OutboxCounts, WebhookError> {
        let db = self.lock();
        let mut stmt =
            db.prepare("SELECT status, count(*) FROM webhook_messages GROUP BY status")?;
        let mut counts = OutboxCounts::default();
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (status, n) = row?;
            let n = u64::try_from(n).unwrap_or(0);
            match status.parse()? {
                MessageStatus::Pending => counts.pending = n,
                MessageStatus::Delivered => counts.delivered = n,
                MessageStatus::Failed => counts.failed = n,
            }
        }
        Ok(counts)
    }

    /// Claims up to `limit` pending messages due at `now`, oldest due first: counts an
    /// attempt for each and leases it until `lease_until`, so no other dispatcher takes it
    /// meanwhile and a crash mid-attempt leaves it to be retried then.
    pub(crate) fn claim_due(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, WebhookError> {
        let mut db = self.lock();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = format!(
            "UPDATE webhook_messages
             SET attempts = attempts + 1, last_attempt_at = ?1, next_attempt_at = ?2
             WHERE id IN (SELECT id FROM webhook_messages
                          WHERE status = 'pending' AND next_attempt_at <= ?1
                          ORDER BY next_attempt_at, rowid LIMIT ?3)
             RETURNING {COLUMNS}"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut claimed = Vec::new();
        {
            let mut stmt = tx.prepare(&sql)?;
            let rows =
                stmt.query_map(params![millis(now), millis(lease_until), limit], read_row)?;
            for row in rows {
                claimed.push(row??);
            }
        }
        tx.commit()?;
        claimed.sort_by_key(|m| m.created_at);
        Ok(claimed)
    }

    /// Marks a message delivered.
    pub(crate) fn record_delivered(
        &self,
        id: &MessageId,
        now: OffsetDateTime,
    ) -> Result<(), WebhookError> {
        self.lock().execute(
            "UPDATE webhook_messages
             SET status = 'delivered', delivered_at = ?2, last_error = NULL
             WHERE id = ?1",
            params![id.as_str(), millis(now)],
        )?;
        Ok(())
    }

    /// Records a failed attempt: pending again until `retry_at`, or failed for good.
    pub(crate) fn record_failure(
        &self,
        id: &MessageId,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), WebhookError> {
        let db = self.lock();
        match retry_at {
            Some(at) => db.execute(
                "UPDATE webhook_messages SET last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
                params![id.as_str(), error, millis(at)],
            )?,
            None => db.execute(
                "UPDATE webhook_messages SET last_error = ?2, status = 'failed' WHERE id = ?1",
                params![id.as_str(), error],
            )?,
        };
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // Every write is a single statement or a transaction, so a panic elsewhere while the
        // lock was held cannot have left the database half-changed.
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Splits a database path into its directory and a plain file name.
fn split(path: &Path) -> Result<(PathBuf, String), WebhookError> {
    let invalid = || WebhookError::InvalidPath(path.to_owned());
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

/// Creates the schema of a new outbox. The version is read under the write lock, so two
/// processes opening a new file at once do not both try to create it.
fn migrate(db: &Connection) -> Result<(), WebhookError> {
    db.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        let version: i64 = db.pragma_query_value(None, "user_version", |row| row.get(0))?;
        match version {
            0 => db.execute_batch(SCHEMA)?,
            SCHEMA_VERSION => {}
            _ => {
                return Err(WebhookError::Corrupt(
                    "the outbox was written by a newer Plantwire",
                ));
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => db.execute_batch("COMMIT")?,
        Err(e) => {
            let _ = db.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    Ok(())
}

fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_millis(ms: i64) -> Result<OffsetDateTime, WebhookError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| WebhookError::Corrupt("timestamp out of range"))
}

/// A row as SQLite returns it, before its values are checked.
struct RawRow {
    id: String,
    endpoint_id: String,
    event_type: String,
    payload: String,
    status: String,
    attempts: i64,
    created_at: i64,
    next_attempt_at: i64,
    last_attempt_at: Option<i64>,
    last_error: Option<String>,
    delivered_at: Option<i64>,
}

impl RawRow {
    fn check(self) -> Result<OutboxMessage, WebhookError> {
        Ok(OutboxMessage {
            id: MessageId(self.id),
            endpoint_id: self.endpoint_id,
            event_type: self.event_type,
            payload: self.payload,
            status: self.status.parse()?,
            attempts: u32::try_from(self.attempts)
                .map_err(|_| WebhookError::Corrupt("attempt count out of range"))?,
            created_at: from_millis(self.created_at)?,
            next_attempt_at: from_millis(self.next_attempt_at)?,
            last_attempt_at: self.last_attempt_at.map(from_millis).transpose()?,
            last_error: self.last_error,
            delivered_at: self.delivered_at.map(from_millis).transpose()?,
        })
    }
}

/// Reads a row selected with [`COLUMNS`]; SQLite errors first, then value checks.
fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<OutboxMessage, WebhookError>> {
    let raw = RawRow {
        id: row.get(0)?,
        endpoint_id: row.get(1)?,
        event_type: row.get(2)?,
        payload: row.get(3)?,
        status: row.get(4)?,
        attempts: row.get(5)?,
        created_at: row.get(6)?,
        next_attempt_at: row.get(7)?,
        last_attempt_at: row.get(8)?,
        last_error: row.get(9)?,
        delivered_at: row.get(10)?,
    };
    Ok(raw.check())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "tests fail loudly")]

    use super::*;
    use crate::webhooks::EventKind;

    /// A fresh directory under the system's temp dir, removed on drop.
    pub(crate) struct TempDir(pub(crate) PathBuf);

    impl TempDir {
        pub(crate) fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "plantwire-outbox-{name}-{}-{}",
                std::process::id(),
                OffsetDateTime::now_utc().unix_timestamp_nanos()
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn event() -> Event {
        Event::new(EventKind::ConnectionRecovered, "conn-1", "reauthorized")
    }

    #[test]
    fn processes_opening_a_new_outbox_at_once_all_succeed() {
        let tmp = TempDir::new("race");
        let path = tmp.0.join("outbox.sqlite3");
        let openers: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || Outbox::open(&path).map(drop))
            })
            .collect();
        for opener in openers {
            opener.join().expect("thread").expect("open");
        }
    }

    #[test]
    fn opens_in_wal_mode_with_full_sync_and_a_private_file() {
        let tmp = TempDir::new("wal");
        let outbox = Outbox::open(tmp.0.join("webhooks.sqlite3")).expect("open");
        let db = outbox.lock();
        let mode: String = db
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("pragma");
        let sync: i64 = db
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .expect("pragma");
        assert_eq!((mode.as_str(), sync), ("wal", 2));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(tmp.0.join("webhooks.sqlite3")).expect("meta");
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn refuses_missing_directories_symlinks_and_nameless_paths() {
        let tmp = TempDir::new("refuse");
        assert!(Outbox::open(tmp.0.join("missing/webhooks.sqlite3")).is_err());
        assert!(Outbox::open(tmp.0.join("..")).is_err());
        assert!(Outbox::open("/").is_err());
        #[cfg(unix)]
        {
            let elsewhere = TempDir::new("elsewhere");
            let target = elsewhere.0.join("real.sqlite3");
            std::fs::write(&target, b"").expect("write");
            let link = tmp.0.join("link.sqlite3");
            std::os::unix::fs::symlink(&target, &link).expect("symlink");
            assert!(Outbox::open(&link).is_err());
        }
    }

    #[test]
    fn claims_due_messages_once_and_records_outcomes() {
        let tmp = TempDir::new("claim");
        let outbox = Outbox::open(tmp.0.join("w.sqlite3")).expect("open");
        let t0 = OffsetDateTime::now_utc();
        let later = t0 + time::Duration::seconds(60);
        let ids = outbox
            .enqueue_many(["a", "b"], &event(), t0)
            .expect("enqueue");
        assert_eq!(ids.len(), 2);
        assert!(
            ids.iter()
                .all(|id| id.as_str().starts_with("msg_") && id.as_str().len() == 36)
        );
        let claimed = outbox.claim_due(t0, later, 10).expect("claim");
        assert_eq!(claimed.len(), 2);
        assert!(claimed.iter().all(|m| m.attempts == 1));
        assert!(
            outbox.claim_due(t0, later, 10).expect("claim").is_empty(),
            "leased"
        );
        outbox.record_delivered(&ids[0], t0).expect("delivered");
        outbox
            .record_failure(&ids[1], "HTTP 500", Some(t0 + time::Duration::seconds(5)))
            .expect("failure");
        let again = outbox
            .claim_due(t0 + time::Duration::seconds(5), later, 10)
            .expect("claim");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 2);
        assert_eq!(again[0].last_error.as_deref(), Some("HTTP 500"));
        outbox
            .record_failure(&ids[1], "HTTP 500", None)
            .expect("failure");
        assert_eq!(
            outbox.counts().expect("counts"),
            OutboxCounts {
                pending: 0,
                delivered: 1,
                failed: 1
            }
        );
        let failed = outbox
            .messages(Some(MessageStatus::Failed), 10)
            .expect("messages");
        assert_eq!(failed.len(), 1);
        assert_eq!(outbox.messages(None, 10).expect("messages").len(), 2);
        assert_eq!(
            outbox.message(&ids[0]).expect("message").map(|m| m.status),
            Some(MessageStatus::Delivered)
        );
    }

    #[test]
    fn reopening_keeps_messages() {
        let tmp = TempDir::new("reopen");
        let path = tmp.0.join("w.sqlite3");
        let id = Outbox::open(&path)
            .expect("open")
            .enqueue("a", &event())
            .expect("enqueue");
        let outbox = Outbox::open(&path).expect("reopen");
        let m = outbox.message(&id).expect("message").expect("kept");
        assert_eq!(m.status, MessageStatus::Pending);
        assert_eq!(
            m.payload,
            outbox.message(&id).expect("m").expect("m").payload
        );
        assert!(m.payload.contains("connection.recovered"));
    }
}
