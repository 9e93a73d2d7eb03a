//! The job store on PostgreSQL, for several host replicas sharing one queue.
//!
//! Every replica connects to the same database with [`PostgresJobStore::connect`]; each claims
//! jobs under a lease and works on them alone. A claim picks the oldest claimable job (queued,
//! or running under an expired lease) with `SELECT … FOR UPDATE SKIP LOCKED` and writes the new
//! lease in the same statement, so two replicas claiming at the same instant never get the
//! same job and never wait on each other. Every write of a runner ([`JobStore::begin_batch`],
//! [`JobStore::commit_batch`], [`JobStore::finish`], [`JobStore::renew`]) locks the job's row
//! only if the caller still holds an unexpired lease, checked in the locking statement itself:
//! otherwise it is refused with [`StoreError::LeaseLost`], changes nothing and holds no lock.
//! A replica that dies leaves its job running under a lease that runs out; another replica
//! then claims it and settles the batch the dead one left in flight (see the protocol in
//! [`super::store`]).
//!
//! Because a claim skips locked rows, a lock must never outlive the reason for it: a runner
//! whose lease ran out never takes one, and a call that fails rolls its transaction back and
//! waits for the server to confirm before it returns (a dropped `tokio_postgres` transaction
//! only queues its ROLLBACK, which a claim on another connection can overtake). A claim running
//! at the same moment as the holder's write, a cancel or another claim may still skip the job
//! for that moment; it never misses a job whose row no live call holds.
//!
//! Each method is one transaction, committed before it returns. Times are the callers' (`now`
//! arguments), stored as `timestamptz` (microsecond precision): replicas are expected to have
//! synchronised clocks, and a lease should be many seconds longer than the clock skew. A lease
//! holds through its last instant (`lease_until >= now`), as in the embedded store.
//!
//! The store keeps a few connections ([`PostgresOptions::max_connections`]), opened on demand.
//! A connection the server dropped is replaced on the next call; a call already running on it
//! fails with [`StoreError::Backend`]. Its transaction is rolled back, unless the connection
//! broke during the commit itself: then the step may or may not have landed, which the
//! protocol settles as it does after a crash (the runner stops; the next claimer finds either
//! the batch in flight or its outcomes).
//!
//! # Schema
//!
//! The store keeps its tables in one PostgreSQL schema ([`DEFAULT_SCHEMA`] unless
//! [`PostgresOptions::schema`] says otherwise, so several deployments or test runs can share a
//! database without seeing each other). [`PostgresJobStore::connect`] creates or migrates it in
//! one transaction that first takes a transaction-scoped advisory lock, so replicas that start
//! together do not race; a schema written by a newer version of the host is refused.
//!
//! ```sql
//! CREATE TABLE schema_version (version integer NOT NULL);   -- one row: 1
//! CREATE TABLE jobs (
//!     id text PRIMARY KEY,                                     -- 'job_' + 26 characters
//!     connection text, tenant text, entity text,
//!     op text,                                                 -- 'create' | 'update' | 'action'
//!     action text,                                             -- the action's name
//!     batch_size integer, delay_ms bigint, stop_after_failures bigint,
//!     status text,                                             -- JobStatus::as_str
//!     total bigint, done bigint, failed bigint, batches bigint,
//!     cancel_requested boolean,
//!     lease_owner text, lease_until timestamptz,               -- NULL when not running
//!     created_at timestamptz, updated_at timestamptz
//! );
//! CREATE TABLE job_records (                                   -- one row per input record
//!     job_id text, idx bigint, idempotency_key text,
//!     payload text, payload_sha256 text,
//!     outcome text,                                            -- RecordOutcome as JSON, or NULL
//!     settled_at timestamptz,
//!     PRIMARY KEY (job_id, idx)
//! );
//! CREATE TABLE job_in_flight (                                 -- at most one batch per job
//!     job_id text PRIMARY KEY, batch bigint, indexes bigint[], began_at timestamptz
//! );
//! CREATE TABLE idempotency_ledger (
//!     connection text, entity text,
//!     op text,                                                 -- 'create' | 'update' | 'action:NAME'
//!     idempotency_key text, payload_sha256 text,
//!     outcome text,                                            -- the first success, as JSON
//!     job_id text, idx bigint, created_at timestamptz,         -- who first used the key
//!     PRIMARY KEY (connection, entity, op, idempotency_key)
//! );
//! ```
//!
//! Outcomes and payloads are stored as JSON text rather than `jsonb`: `jsonb` refuses a
//! `\u0000` escape, which a vendor's error message may well contain.
//!
//! # TLS
//!
//! This store connects without TLS (`tokio_postgres::NoTls`): a URL with `sslmode=require` is
//! refused at connect with a message saying so, and `sslmode=prefer` (the default) connects in
//! plain text. Reach a remote server through a TLS tunnel or a local proxy, or add TLS by
//! giving [`tokio_postgres::Config::connect`] a rustls connector (the `tokio-postgres-rustls`
//! crate, with the roots reqwest already uses) in place of `NoTls` in `open`.
//!
//! What this module must never do: show a password. Errors and `Debug` name the server as
//! `postgres://USER@HOST:PORT/DATABASE`, rebuilt from the parsed configuration.

use std::collections::{HashMap, HashSet};
use std::error::Error as _;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::FromSql;
use tokio_postgres::{Client, Config, GenericClient, NoTls, Row, Transaction};

use super::sqlite::check_records;
use super::store::{
    BulkOp, BulkOptions, InFlight, InputRecord, JobId, JobInfo, JobSpec, JobStatus, JobStore,
    RecordOutcome, StoreError,
};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i32 = 1;

/// The PostgreSQL schema the tables live in unless [`PostgresOptions::schema`] says otherwise.
pub const DEFAULT_SCHEMA: &str = "plantwire";

/// The most a lease may last: a replica that dies holds its job at most this long.
pub const MAX_LEASE: Duration = Duration::from_secs(24 * 60 * 60);

/// Connections a store keeps at most unless told otherwise.
const DEFAULT_MAX_CONNECTIONS: usize = 4;
/// The most connections a store may be configured to keep.
const MAX_CONNECTIONS: usize = 64;
/// How long a connection attempt may take when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The `application_name` the server shows for our sessions unless the URL sets one.
const APPLICATION_NAME: &str = "plantwire";
/// PostgreSQL 9.5 brought `SKIP LOCKED`.
const MIN_SERVER_VERSION: i32 = 90_500;
/// The advisory lock class of schema migrations ("plwt"); the schema's hash is the object id.
const MIGRATION_LOCK_CLASS: i32 = 0x706c_7774;
/// Limits on names and reasons (generous; they keep a hostile input from bloating every row).
const MAX_NAME_BYTES: usize = 256;
const MAX_REASON_BYTES: usize = 4096;

/// The jobs table's columns, in the order [`job_from_row`] reads them by name.
macro_rules! job_columns {
    () => {
        "id, connection, tenant, entity, op, action, batch_size, delay_ms, stop_after_failures, \
         status, total, done, failed, batches, cancel_requested, lease_owner, lease_until, \
         created_at, updated_at"
    };
}

/// Version 1 of the schema (run with `search_path` set to the store's schema).
const SCHEMA_V1: &str = "
CREATE TABLE jobs (
    id                  text PRIMARY KEY,
    connection          text NOT NULL,
    tenant              text,
    entity              text NOT NULL,
    op                  text NOT NULL CHECK (op IN ('create', 'update', 'action')),
    action              text,
    batch_size          integer NOT NULL CHECK (batch_size > 0),
    delay_ms            bigint NOT NULL CHECK (delay_ms >= 0),
    stop_after_failures bigint,
    status              text NOT NULL
                        CHECK (status IN ('queued', 'running', 'completed', 'stopped', 'cancelled')),
    total               bigint NOT NULL,
    done                bigint NOT NULL DEFAULT 0,
    failed              bigint NOT NULL DEFAULT 0,
    batches             bigint NOT NULL DEFAULT 0,
    cancel_requested    boolean NOT NULL DEFAULT false,
    lease_owner         text,
    lease_until         timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX jobs_claimable ON jobs (created_at, id) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);

CREATE TABLE job_records (
    job_id          text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx             bigint NOT NULL,
    idempotency_key text NOT NULL,
    payload         text NOT NULL,
    payload_sha256  text NOT NULL,
    outcome         text,
    settled_at      timestamptz,
    PRIMARY KEY (job_id, idx)
);
CREATE INDEX job_records_pending ON job_records (job_id, idx) WHERE outcome IS NULL;

CREATE TABLE job_in_flight (
    job_id   text PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    batch    bigint NOT NULL,
    indexes  bigint[] NOT NULL,
    began_at timestamptz NOT NULL
);

CREATE TABLE idempotency_ledger (
    connection      text NOT NULL,
    entity          text NOT NULL,
    op              text NOT NULL,
    idempotency_key text NOT NULL,
    payload_sha256  text NOT NULL,
    outcome         text,
    job_id          text NOT NULL,
    idx             bigint NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (connection, entity, op, idempotency_key)
);
";

/// How a [`PostgresJobStore`] is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// The PostgreSQL schema holding the store's tables: lowercase ASCII letters, digits and
    /// `_`, starting with a letter or `_`, at most 63 bytes, not starting with `pg_`.
    pub schema: String,
    /// Connections kept open at most (1 to 64); calls beyond it wait for a free one.
    pub max_connections: usize,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            schema: DEFAULT_SCHEMA.to_owned(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl PostgresOptions {
    /// Keeps the tables in `schema`.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Keeps at most `n` connections open.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }
}

/// A [`JobStore`] on PostgreSQL; see the module docs.
pub struct PostgresJobStore {
    pool: Pool,
}

impl fmt::Debug for PostgresJobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresJobStore")
            .field("server", &self.pool.target)
            .field("schema", &self.pool.schema)
            .field("max_connections", &self.pool.max)
            .finish()
    }
}

impl PostgresJobStore {
    /// Connects to the server at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?…]`
    /// or `key=value` pairs, as libpq takes them) and creates or migrates the schema
    /// [`DEFAULT_SCHEMA`]. Fails, naming the server without its password, when it cannot be
    /// reached, refuses the login, is older than PostgreSQL 9.5, or holds a newer schema.
    pub async fn connect(url: &str) -> Result<PostgresJobStore, StoreError> {
        PostgresJobStore::connect_with(url, PostgresOptions::default()).await
    }

    /// [`PostgresJobStore::connect`] with a schema and pool size of one's own.
    pub async fn connect_with(
        url: &str,
        options: PostgresOptions,
    ) -> Result<PostgresJobStore, StoreError> {
        check_schema_name(&options.schema)?;
        if options.max_connections == 0 || options.max_connections > MAX_CONNECTIONS {
            return Err(StoreError::Invalid(format!(
                "max_connections must be 1 to {MAX_CONNECTIONS}, not {}",
                options.max_connections
            )));
        }
        let mut config = parse_url(url)?;
        let target = describe_target(&config);
        if config.get_ssl_mode() == SslMode::Require {
            return Err(StoreError::Invalid(format!(
                "{target}: sslmode=require, but the job store connects without TLS; use \
                 sslmode=disable or prefer, through a TLS tunnel if the network needs one"
            )));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name(APPLICATION_NAME);
        }

        let mut client = open(&config).await.map_err(|e| {
            StoreError::Backend(format!("cannot connect to PostgreSQL at {target}: {e}"))
        })?;
        check_server(&client)
            .await
            .map_err(|e| StoreError::Backend(format!("PostgreSQL at {target}: {e}")))?;
        migrate(&mut client, &options.schema).await.map_err(|e| {
            StoreError::Backend(format!(
                "cannot prepare the job store schema `{}` at {target}: {e}",
                options.schema
            ))
        })?;
        set_search_path(&client, &options.schema)
            .await
            .map_err(|e| StoreError::Backend(format!("PostgreSQL at {target}: {e}")))?;
        tracing::debug!(server = %target, schema = %options.schema, "job store on PostgreSQL ready");

        Ok(PostgresJobStore {
            pool: Pool {
                config,
                target,
                schema: options.schema,
                max: options.max_connections,
                idle: Mutex::new(vec![client]),
                permits: Semaphore::new(options.max_connections),
            },
        })
    }

    /// The server, as `postgres://USER@HOST:PORT/DATABASE` (never with a password).
    pub fn server(&self) -> &str {
        &self.pool.target
    }

    /// The PostgreSQL schema holding the tables.
    pub fn schema(&self) -> &str {
        &self.pool.schema
    }
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

/// A few connections, opened on demand and reopened when the server dropped them.
struct Pool {
    config: Config,
    /// The server without its password, for errors and `Debug`.
    target: String,
    schema: String,
    max: usize,
    idle: Mutex<Vec<Client>>,
    permits: Semaphore,
}

impl Pool {
    async fn get(&self) -> Result<Conn<'_>, StoreError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Backend("the connection pool is closed".to_owned()))?;
        loop {
            let idle = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match idle {
                Some(client) if client.is_closed() => continue,
                Some(client) => {
                    return Ok(Conn {
                        client: Some(client),
                        pool: self,
                        _permit: permit,
                    });
                }
                None => break,
            }
        }
        let client = open(&self.config).await.map_err(|e| {
            StoreError::Backend(format!(
                "cannot connect to PostgreSQL at {}: {e}",
                self.target
            ))
        })?;
        set_search_path(&client, &self.schema)
            .await
            .map_err(|e| StoreError::Backend(format!("PostgreSQL at {}: {e}", self.target)))?;
        Ok(Conn {
            client: Some(client),
            pool: self,
            _permit: permit,
        })
    }
}

/// A connection out of the pool; goes back when dropped (unless the server closed it).
struct Conn<'a> {
    client: Option<Client>,
    pool: &'a Pool,
    _permit: SemaphorePermit<'a>,
}

impl Deref for Conn<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        #[expect(clippy::unwrap_used, reason = "only `drop` takes the client out")]
        self.client.as_ref().unwrap()
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        #[expect(clippy::unwrap_used, reason = "only `drop` takes the client out")]
        self.client.as_mut().unwrap()
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        // Calls roll back failed transactions before they return; a call abandoned mid-way
        // (its future dropped) leaves its ROLLBACK queued on this client, and requests on a
        // client run in order, so the next user starts clean.
        if let Some(client) = self.client.take()
            && !client.is_closed()
        {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(client);
        }
    }
}

/// Opens one connection and drives it on a task of its own.
async fn open(config: &Config) -> Result<Client, String> {
    let (client, connection) = config.connect(NoTls).await.map_err(|e| pg_error(&e))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %pg_error(&e), "PostgreSQL connection of the job store ended");
        }
    });
    Ok(client)
}

async fn check_server(client: &Client) -> Result<(), String> {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::integer", &[])
        .await
        .map_err(|e| pg_error(&e))?;
    let version: i32 = row.try_get(0).map_err(|e| pg_error(&e))?;
    if version < MIN_SERVER_VERSION {
        return Err(format!(
            "server version {version} is too old: the job store needs PostgreSQL 9.5 or later \
             (SKIP LOCKED)"
        ));
    }
    Ok(())
}

async fn set_search_path(client: &Client, schema: &str) -> Result<(), String> {
    client
        .batch_execute(&format!("SET search_path TO {}", quote_ident(schema)))
        .await
        .map_err(|e| pg_error(&e))
}

/// Creates or migrates the schema, under an advisory lock so replicas starting together
/// take turns.
async fn migrate(client: &mut Client, schema: &str) -> Result<(), String> {
    let e = |e: tokio_postgres::Error| pg_error(&e);
    let tx = client.transaction().await.map_err(e)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&MIGRATION_LOCK_CLASS, &schema],
    )
    .await
    .map_err(e)?;
    let exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&schema],
        )
        .await
        .and_then(|row| row.try_get(0))
        .map_err(e)?;
    let quoted = quote_ident(schema);
    if !exists {
        tx.batch_execute(&format!("CREATE SCHEMA {quoted}"))
            .await
            .map_err(e)?;
    }
    tx.batch_execute(&format!(
        "SET LOCAL search_path TO {quoted};
         CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL);"
    ))
    .await
    .map_err(e)?;
    let versions: Vec<i32> = tx
        .query("SELECT version FROM schema_version", &[])
        .await
        .map_err(e)?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(e)?;
    match versions.as_slice() {
        [] => {
            tx.batch_execute(SCHEMA_V1).await.map_err(e)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )
            .await
            .map_err(e)?;
            tracing::info!(
                schema,
                version = SCHEMA_VERSION,
                "created the job store schema"
            );
        }
        [v] if *v == SCHEMA_VERSION => {}
        [v] if *v > SCHEMA_VERSION => {
            return Err(format!(
                "the schema is at version {v}, written by a newer host; this one knows up to \
                 version {SCHEMA_VERSION}"
            ));
        }
        [v] => return Err(format!("unknown schema version {v}")),
        _ => return Err("schema_version holds more than one row".to_owned()),
    }
    tx.commit().await.map_err(e)
}

fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let mut chars = schema.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !first_ok || !rest_ok || schema.len() > 63 || schema.starts_with("pg_") {
        return Err(StoreError::Invalid(format!(
            "schema name {schema:?}: use lowercase ASCII letters, digits and `_`, starting with \
             a letter or `_`, at most 63 bytes, not starting with `pg_`"
        )));
    }
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Parses a connection URL; the error never repeats the URL (it may hold a password).
fn parse_url(url: &str) -> Result<Config, StoreError> {
    Config::from_str(url).map_err(|e| {
        let mut why = String::new();
        let mut source = e.source();
        while let Some(cause) = source {
            why = cause.to_string();
            source = cause.source();
        }
        // The parser quotes the offending character, which may be part of the password.
        if let Some(at) = why.find(": expected") {
            why.truncate(at);
        }
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(" ({why})")
        };
        StoreError::Invalid(format!(
            "invalid PostgreSQL URL{why}: expected \
             postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE or key=value pairs"
        ))
    })
}

/// `postgres://USER@HOST:PORT/DATABASE`, from the parsed configuration: never a password.
fn describe_target(config: &Config) -> String {
    let mut hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) if name.contains(':') => format!("[{name}]"),
            Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    if hosts.is_empty() {
        hosts = config
            .get_hostaddrs()
            .iter()
            .map(|ip| match ip {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                std::net::IpAddr::V4(ip) => ip.to_string(),
            })
            .collect();
    }
    let ports = config.get_ports();
    let hosts: Vec<String> = hosts
        .into_iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            format!("{host}:{port}")
        })
        .collect();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{}/{db}", hosts.join(","))
}

/// A driver error with its causes (the top level alone says only "db error" or "error
/// connecting to server").
fn pg_error(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    }
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Maps a driver error to [`StoreError::Backend`], saying what was being done.
fn backend(what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |e| StoreError::Backend(format!("{what}: {}", pg_error(&e)))
}

// ---------------------------------------------------------------------------------------------
// Rows and checks
// ---------------------------------------------------------------------------------------------

fn col<'a, T: FromSql<'a>>(row: &'a Row, name: &str) -> Result<T, StoreError> {
    row.try_get(name)
        .map_err(|e| StoreError::Backend(format!("reading column `{name}`: {}", pg_error(&e))))
}

fn count(row: &Row, name: &str) -> Result<u64, StoreError> {
    let n: i64 = col(row, name)?;
    u64::try_from(n).map_err(|_| StoreError::Backend(format!("column `{name}` is negative: {n}")))
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

fn job_from_row(row: &Row) -> Result<JobInfo, StoreError> {
    let op: String = col(row, "op")?;
    let action: Option<String> = col(row, "action")?;
    let op = match (op.as_str(), action) {
        ("create", _) => BulkOp::Create,
        ("update", _) => BulkOp::Update,
        ("action", Some(name)) => BulkOp::Action(name),
        (other, _) => {
            return Err(StoreError::Backend(format!(
                "unknown job operation `{other}`"
            )));
        }
    };
    let batch_size: i32 = col(row, "batch_size")?;
    let delay_ms: i64 = col(row, "delay_ms")?;
    let stop_after: Option<i64> = col(row, "stop_after_failures")?;
    let status: String = col(row, "status")?;
    Ok(JobInfo {
        id: JobId(col(row, "id")?),
        spec: JobSpec {
            connection: col(row, "connection")?,
            tenant: col(row, "tenant")?,
            entity: col(row, "entity")?,
            op,
            options: BulkOptions {
                batch_size: u32::try_from(batch_size)
                    .map_err(|_| StoreError::Backend(format!("batch size {batch_size}")))?,
                delay: Duration::from_millis(
                    u64::try_from(delay_ms)
                        .map_err(|_| StoreError::Backend(format!("delay {delay_ms} ms")))?,
                ),
                stop_after_failures: stop_after
                    .map(|n| {
                        u32::try_from(n)
                            .map_err(|_| StoreError::Backend(format!("failure limit {n}")))
                    })
                    .transpose()?,
            },
        },
        status: parse_status(&status)?,
        total: count(row, "total")?,
        done: count(row, "done")?,
        failed: count(row, "failed")?,
        batches: count(row, "batches")?,
        cancel_requested: col(row, "cancel_requested")?,
        lease_owner: col(row, "lease_owner")?,
        lease_until: col(row, "lease_until")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

fn record_from_row(row: &Row) -> Result<InputRecord, StoreError> {
    Ok(InputRecord {
        index: count(row, "idx")?,
        idempotency_key: col(row, "idempotency_key")?,
        payload: col(row, "payload")?,
    })
}

fn outcome_json(outcome: &RecordOutcome) -> Result<String, StoreError> {
    serde_json::to_string(outcome)
        .map_err(|e| StoreError::Invalid(format!("outcome cannot be stored: {e}")))
}

fn outcome_from_json(text: &str) -> Result<RecordOutcome, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Backend(format!("stored outcome is not readable: {e}")))
}

/// Checks a name or key: non-empty, bounded, no NUL (PostgreSQL text cannot hold one).
fn check_text(what: &str, value: &str, max: usize) -> Result<(), StoreError> {
    if value.is_empty() {
        return Err(StoreError::Invalid(format!("{what} is empty")));
    }
    check_optional_text(what, value, max)
}

fn check_optional_text(what: &str, value: &str, max: usize) -> Result<(), StoreError> {
    if value.len() > max {
        return Err(StoreError::Invalid(format!(
            "{what} is {} bytes long; at most {max} are allowed",
            value.len()
        )));
    }
    if value.contains('\0') {
        return Err(StoreError::Invalid(format!(
            "{what} contains a NUL character"
        )));
    }
    Ok(())
}

fn check_spec(spec: &JobSpec) -> Result<(), StoreError> {
    check_text("the connection", &spec.connection, MAX_NAME_BYTES)?;
    check_text("the entity", &spec.entity, MAX_NAME_BYTES)?;
    if let Some(tenant) = &spec.tenant {
        check_text("the tenant", tenant, MAX_NAME_BYTES)?;
    }
    if let BulkOp::Action(name) = &spec.op {
        check_text("the action name", name, MAX_NAME_BYTES)?;
    }
    let batch = spec.options.batch_size;
    if !(1..=100).contains(&batch) {
        return Err(StoreError::Invalid(format!(
            "batch size {batch}: it must be 1 to 100"
        )));
    }
    if spec.options.delay > Duration::from_secs(3600) {
        return Err(StoreError::Invalid(format!(
            "a delay of {:?} between batches is more than an hour",
            spec.options.delay
        )));
    }
    Ok(())
}

/// The operation as the idempotency ledger scopes keys: `create`, `update`, `action:NAME`.
fn ledger_op(op: &BulkOp) -> String {
    match op {
        BulkOp::Create => "create".to_owned(),
        BulkOp::Update => "update".to_owned(),
        BulkOp::Action(name) => format!("action:{name}"),
    }
}

fn op_columns(op: &BulkOp) -> (&'static str, Option<&str>) {
    match op {
        BulkOp::Create => ("create", None),
        BulkOp::Update => ("update", None),
        BulkOp::Action(name) => ("action", Some(name)),
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn to_i64(what: &str, n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Invalid(format!("{what} {n} is out of range")))
}

fn lease_end(now: OffsetDateTime, lease: Duration) -> Result<OffsetDateTime, StoreError> {
    if lease.is_zero() || lease > MAX_LEASE {
        return Err(StoreError::Invalid(format!(
            "a lease of {lease:?}: it must be longer than zero and at most {MAX_LEASE:?}"
        )));
    }
    time::Duration::try_from(lease)
        .ok()
        .and_then(|d| now.checked_add(d))
        .ok_or_else(|| StoreError::Invalid(format!("a lease of {lease:?} from {now} overflows")))
}

/// A new job id: `job_`, then 26 Crockford base-32 characters of 48 bits of milliseconds and
/// 80 random bits, so ids sort by creation time.
fn new_job_id(now: OffsetDateTime) -> JobId {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let millis = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let mut random = [0u8; 16];
    OsRng.fill_bytes(&mut random[6..]);
    let mut value = (u128::from(millis & ((1 << 48) - 1)) << 80) | u128::from_be_bytes(random);
    let mut chars = [b'0'; 26];
    for c in chars.iter_mut().rev() {
        *c = ALPHABET[(value & 31) as usize];
        value >>= 5;
    }
    JobId(format!("job_{}", String::from_utf8_lossy(&chars)))
}

/// Refuses a runner's write unless `owner` holds an unexpired lease on `job`.
fn check_lease(job: &JobInfo, owner: &str, now: OffsetDateTime) -> Result<(), StoreError> {
    if job.status.is_final() {
        return Err(StoreError::State {
            id: job.id.clone(),
            status: job.status.as_str(),
            why: "it is over; nothing more can be written to it".to_owned(),
        });
    }
    let holds = job.status == JobStatus::Running
        && job.lease_owner.as_deref() == Some(owner)
        && job.lease_until.is_some_and(|until| until >= now);
    if holds {
        Ok(())
    } else {
        Err(StoreError::LeaseLost(job.id.clone()))
    }
}

/// Locks job `id` for the rest of the transaction if `owner` holds an unexpired lease on it;
/// otherwise refuses without locking anything.
///
/// The lease is checked in the locking statement itself, not after it: a runner whose lease
/// ran out must never hold the job's row, even for the moment until its refused transaction
/// ends, because a claim skips locked rows and would not see the job it should take over.
/// A row another transaction holds is waited for, then checked again as it was committed.
async fn lock_leased(
    tx: &Transaction<'_>,
    id: &JobId,
    owner: &str,
    now: OffsetDateTime,
) -> Result<JobInfo, StoreError> {
    let row = tx
        .query_opt(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs
                 WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND lease_until >= $3
                 FOR UPDATE"
            ),
            &[&id.0, &owner, &now],
        )
        .await
        .map_err(backend("locking the job"))?;
    match row {
        Some(row) => job_from_row(&row),
        None => Err(refusal(tx, id, owner, now).await),
    }
}

/// Locks job `id` for the rest of the transaction.
async fn lock_job(tx: &Transaction<'_>, id: &JobId) -> Result<JobInfo, StoreError> {
    let row = tx
        .query_opt(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE id = $1 FOR UPDATE"
            ),
            &[&id.0],
        )
        .await
        .map_err(backend("locking the job"))?
        .ok_or_else(|| StoreError::NoJob(id.clone()))?;
    job_from_row(&row)
}

/// Why a runner's conditional update or lock matched no row.
async fn refusal<C: GenericClient + Sync>(
    client: &C,
    id: &JobId,
    owner: &str,
    now: OffsetDateTime,
) -> StoreError {
    match read_job(client, id).await {
        Ok(Some(job)) => match check_lease(&job, owner, now) {
            Err(e) => e,
            // It changed hands twice in between; the caller's lease is gone in any case.
            Ok(()) => StoreError::LeaseLost(id.clone()),
        },
        Ok(None) => StoreError::NoJob(id.clone()),
        Err(e) => e,
    }
}

async fn read_job<C: GenericClient + Sync>(
    client: &C,
    id: &JobId,
) -> Result<Option<JobInfo>, StoreError> {
    client
        .query_opt(
            concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1"),
            &[&id.0],
        )
        .await
        .map_err(backend("reading the job"))?
        .map(|row| job_from_row(&row))
        .transpose()
}

async fn require_job(client: &Client, id: &JobId) -> Result<(), StoreError> {
    let found = client
        .query_opt("SELECT 1 FROM jobs WHERE id = $1", &[&id.0])
        .await
        .map_err(backend("reading the job"))?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::NoJob(id.clone())),
    }
}

/// Ends a transaction: commits it after a success; after a failure rolls it back and waits
/// for the server to confirm before the call returns. A dropped `Transaction` only queues its
/// ROLLBACK; until the server runs it the transaction keeps its row locks, and another
/// replica's claim, which skips locked rows, could miss the job.
async fn settle<T>(
    tx: Transaction<'_>,
    result: Result<T, StoreError>,
    committing: &'static str,
) -> Result<T, StoreError> {
    match result {
        Ok(value) => {
            tx.commit().await.map_err(backend(committing))?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = tx.rollback().await {
                // The connection broke: the server ends the transaction with the session, and
                // the pool drops the client.
                tracing::debug!(error = %pg_error(&rollback), "rolling back a job store transaction failed");
            }
            Err(e)
        }
    }
}

fn check_owner(owner: &str) -> Result<(), StoreError> {
    check_text("the runner's name", owner, MAX_NAME_BYTES)
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

#[async_trait]
impl JobStore for PostgresJobStore {
    async fn create_job(
        &self,
        spec: &JobSpec,
        records: &[InputRecord],
        now: OffsetDateTime,
    ) -> Result<JobId, StoreError> {
        check_spec(spec)?;
        if records.is_empty() {
            return Err(StoreError::Invalid(
                "a job needs at least one record".to_owned(),
            ));
        }
        // The same rules as the embedded store: indexes in order, keys present, unique and
        // bounded, payloads bounded, a bounded number of records.
        check_records(records)?;
        let mut first_use: HashMap<&str, u64> = HashMap::with_capacity(records.len());
        let mut hashes = Vec::with_capacity(records.len());
        for record in records {
            // PostgreSQL text cannot hold a NUL; valid JSON text never does.
            if serde_json::from_str::<serde::de::IgnoredAny>(&record.payload).is_err() {
                return Err(StoreError::Invalid(format!(
                    "record {}: the payload is not JSON",
                    record.index
                )));
            }
            first_use.insert(&record.idempotency_key, record.index);
            hashes.push(sha256_hex(&record.payload));
        }

        let id = new_job_id(now);
        let (op, action) = op_columns(&spec.op);
        let scope_op = ledger_op(&spec.op);
        let total = to_i64("record count", records.len() as u64)?;
        let indexes: Vec<i64> = (0..total).collect();
        let keys: Vec<&str> = records.iter().map(|r| r.idempotency_key.as_str()).collect();
        let payloads: Vec<&str> = records.iter().map(|r| r.payload.as_str()).collect();
        let stop_after = spec.options.stop_after_failures.map(i64::from);
        let delay_ms = to_i64(
            "delay",
            u64::try_from(spec.options.delay.as_millis()).unwrap_or(u64::MAX),
        )?;
        let batch_size = i32::try_from(spec.options.batch_size)
            .map_err(|_| StoreError::Invalid("batch size out of range".to_owned()))?;

        let mut conn = self.pool.get().await?;
        let tx = conn
            .transaction()
            .await
            .map_err(backend("starting a transaction"))?;
        let result = async {
            tx.execute(
            "INSERT INTO jobs (id, connection, tenant, entity, op, action, batch_size, delay_ms,
                               stop_after_failures, status, total, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10, $11, $11)",
            &[
                &id.0,
                &spec.connection,
                &spec.tenant,
                &spec.entity,
                &op,
                &action,
                &batch_size,
                &delay_ms,
                &stop_after,
                &total,
                &now,
            ],
        )
        .await
        .map_err(backend("storing the job"))?;
            tx.execute(
                "INSERT INTO job_records (job_id, idx, idempotency_key, payload, payload_sha256)
             SELECT $1, u.idx, u.k, u.p, u.h
             FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) AS u(idx, k, p, h)",
                &[&id.0, &indexes, &keys, &payloads, &hashes],
            )
            .await
            .map_err(backend("storing the job's records"))?;
            // Bind each new key to its payload; keys are inserted in one order so that two jobs
            // sharing keys cannot deadlock on the ledger's unique index.
            tx.execute(
                "INSERT INTO idempotency_ledger
                 (connection, entity, op, idempotency_key, payload_sha256, job_id, idx, created_at)
             SELECT $1, $2, $3, u.k, u.h, $4, u.idx, $5
             FROM unnest($6::text[], $7::text[], $8::bigint[]) AS u(k, h, idx)
             ORDER BY u.k
             ON CONFLICT (connection, entity, op, idempotency_key) DO NOTHING",
                &[
                    &spec.connection,
                    &spec.entity,
                    &scope_op,
                    &id.0,
                    &now,
                    &keys,
                    &hashes,
                    &indexes,
                ],
            )
            .await
            .map_err(backend("recording the idempotency keys"))?;
            let earlier = tx
                .query(
                    "SELECT idempotency_key, payload_sha256, outcome FROM idempotency_ledger
                 WHERE connection = $1 AND entity = $2 AND op = $3
                   AND idempotency_key = ANY($4) AND job_id <> $5",
                    &[&spec.connection, &spec.entity, &scope_op, &keys, &id.0],
                )
                .await
                .map_err(backend("reading the idempotency ledger"))?;
            let mut replays: Vec<(u64, String)> = Vec::new();
            let mut reused: Option<(u64, String)> = None;
            for row in &earlier {
                let key: String = col(row, "idempotency_key")?;
                let hash: String = col(row, "payload_sha256")?;
                let outcome: Option<String> = col(row, "outcome")?;
                let Some(&index) = first_use.get(key.as_str()) else {
                    continue;
                };
                let Some(ours) = usize::try_from(index).ok().and_then(|i| hashes.get(i)) else {
                    continue;
                };
                if *ours != hash {
                    if reused.as_ref().is_none_or(|(i, _)| index < *i) {
                        reused = Some((index, key));
                    }
                } else if let Some(outcome) = outcome {
                    // Checked before it is replayed: the ledger holds successes only.
                    outcome_from_json(&outcome)?;
                    replays.push((index, outcome));
                }
            }
            if let Some((index, key)) = reused {
                // `settle` rolls the transaction back: nothing of the job is stored.
                return Err(StoreError::KeyReused { key, index });
            }
            if !replays.is_empty() {
                replays.sort_unstable_by_key(|(index, _)| *index);
                let idx: Vec<i64> = replays
                    .iter()
                    .map(|(i, _)| to_i64("index", *i))
                    .collect::<Result<_, _>>()?;
                let outcomes: Vec<&str> = replays.iter().map(|(_, o)| o.as_str()).collect();
                tx.execute(
                    "UPDATE job_records r SET outcome = u.o, settled_at = $2
                 FROM unnest($3::bigint[], $4::text[]) AS u(idx, o)
                 WHERE r.job_id = $1 AND r.idx = u.idx",
                    &[&id.0, &now, &idx, &outcomes],
                )
                .await
                .map_err(backend("replaying outcomes from the idempotency ledger"))?;
                tx.execute(
                    "UPDATE jobs SET done = $2 WHERE id = $1",
                    &[&id.0, &to_i64("count", replays.len() as u64)?],
                )
                .await
                .map_err(backend("updating the job's progress"))?;
            }
            Ok::<_, StoreError>(replays.len())
        }
        .await;
        let replayed = settle(tx, result, "committing the new job").await?;
        tracing::debug!(job = %id, records = records.len(), replayed, "job stored");
        Ok(id)
    }

    async fn claim(
        &self,
        owner: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<JobInfo>, StoreError> {
        check_owner(owner)?;
        let until = lease_end(now, lease)?;
        let conn = self.pool.get().await?;
        // One statement, one transaction: the row lock taken by FOR UPDATE is held until the
        // lease is written; rows another claimer holds locked are skipped, not waited for.
        let row = conn
            .query_opt(
                concat!(
                    "WITH candidate AS (
                         SELECT id AS claim_id FROM jobs
                         WHERE status IN ('queued', 'running')
                           AND (status = 'queued' OR lease_until < $1)
                         ORDER BY created_at, id
                         LIMIT 1
                         FOR UPDATE SKIP LOCKED
                     )
                     UPDATE jobs
                     SET status = 'running', lease_owner = $2, lease_until = $3, updated_at = $1
                     FROM candidate WHERE jobs.id = candidate.claim_id
                     RETURNING ",
                    job_columns!()
                ),
                &[&now, &owner, &until],
            )
            .await
            .map_err(backend("claiming a job"))?;
        let job = row.map(|row| job_from_row(&row)).transpose()?;
        if let Some(job) = &job {
            tracing::debug!(job = %job.id, owner, "job claimed");
        }
        Ok(job)
    }

    async fn claim_job(
        &self,
        id: &JobId,
        owner: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<JobInfo>, StoreError> {
        check_owner(owner)?;
        let until = lease_end(now, lease)?;
        let conn = self.pool.get().await?;
        // A concurrent claim of the same job waits for the row lock, then re-evaluates the
        // condition on the claimed row and matches nothing.
        let row = conn
            .query_opt(
                concat!(
                    "UPDATE jobs
                     SET status = 'running', lease_owner = $2, lease_until = $3, updated_at = $4
                     WHERE id = $1
                       AND (status = 'queued' OR (status = 'running' AND lease_until < $4))
                     RETURNING ",
                    job_columns!()
                ),
                &[&id.0, &owner, &until, &now],
            )
            .await
            .map_err(backend("claiming the job"))?;
        match row {
            Some(row) => job_from_row(&row).map(Some),
            None => {
                require_job(&conn, id).await?;
                Ok(None)
            }
        }
    }

    async fn renew(
        &self,
        id: &JobId,
        owner: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<JobInfo, StoreError> {
        check_owner(owner)?;
        let until = lease_end(now, lease)?;
        let conn = self.pool.get().await?;
        let row = conn
            .query_opt(
                concat!(
                    "UPDATE jobs SET lease_until = $3, updated_at = $4
                     WHERE id = $1 AND status = 'running' AND lease_owner = $2
                       AND lease_until >= $4
                     RETURNING ",
                    job_columns!()
                ),
                &[&id.0, &owner, &until, &now],
            )
            .await
            .map_err(backend("renewing the lease"))?;
        match row {
            Some(row) => job_from_row(&row),
            None => Err(refusal(&*conn, id, owner, now).await),
        }
    }

    async fn in_flight(&self, id: &JobId) -> Result<Option<InFlight>, StoreError> {
        let conn = self.pool.get().await?;
        require_job(&conn, id).await?;
        let rows = conn
            .query(
                "SELECT f.batch, r.idx, r.idempotency_key, r.payload
                 FROM job_in_flight f
                 JOIN job_records r ON r.job_id = f.job_id AND r.idx = ANY (f.indexes)
                 WHERE f.job_id = $1
                 ORDER BY r.idx",
                &[&id.0],
            )
            .await
            .map_err(backend("reading the batch in flight"))?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(InFlight {
            batch: count(first, "batch")?,
            records: rows.iter().map(record_from_row).collect::<Result<_, _>>()?,
        }))
    }

    async fn pending(&self, id: &JobId, max: u32) -> Result<Vec<InputRecord>, StoreError> {
        let conn = self.pool.get().await?;
        require_job(&conn, id).await?;
        if max == 0 {
            return Ok(Vec::new());
        }
        let rows = conn
            .query(
                "SELECT r.idx, r.idempotency_key, r.payload
                 FROM job_records r
                 WHERE r.job_id = $1 AND r.outcome IS NULL
                   AND NOT EXISTS (SELECT 1 FROM job_in_flight f
                                   WHERE f.job_id = r.job_id AND r.idx = ANY (f.indexes))
                 ORDER BY r.idx
                 LIMIT $2",
                &[&id.0, &i64::from(max)],
            )
            .await
            .map_err(backend("reading pending records"))?;
        rows.iter().map(record_from_row).collect()
    }

    async fn begin_batch(
        &self,
        id: &JobId,
        owner: &str,
        indexes: &[u64],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        check_owner(owner)?;
        if indexes.is_empty() {
            return Err(StoreError::Invalid(
                "a batch needs at least one record".to_owned(),
            ));
        }
        let mut seen = HashSet::with_capacity(indexes.len());
        for &index in indexes {
            if !seen.insert(index) {
                return Err(StoreError::Invalid(format!(
                    "record {index} appears twice in the batch"
                )));
            }
        }
        let idx: Vec<i64> = indexes
            .iter()
            .map(|&i| to_i64("index", i))
            .collect::<Result<_, _>>()?;

        let mut conn = self.pool.get().await?;
        let tx = conn
            .transaction()
            .await
            .map_err(backend("starting a transaction"))?;
        let result = async {
            let job = lock_leased(&tx, id, owner, now).await?;
            if indexes.len() > job.spec.options.batch_size as usize {
                return Err(StoreError::Invalid(format!(
                    "a batch of {} records is larger than the job's batch size {}",
                    indexes.len(),
                    job.spec.options.batch_size
                )));
            }
            let current = tx
                .query_opt(
                    "SELECT batch FROM job_in_flight WHERE job_id = $1",
                    &[&id.0],
                )
                .await
                .map_err(backend("reading the batch in flight"))?;
            if let Some(row) = current {
                let batch = count(&row, "batch")?;
                return Err(StoreError::State {
                    id: id.clone(),
                    status: job.status.as_str(),
                    why: format!("batch {batch} is still in flight; commit it first"),
                });
            }
            let open: HashSet<u64> = tx
                .query(
                    "SELECT idx FROM job_records
                 WHERE job_id = $1 AND idx = ANY ($2) AND outcome IS NULL",
                    &[&id.0, &idx],
                )
                .await
                .map_err(backend("reading the batch's records"))?
                .iter()
                .map(|row| count(row, "idx"))
                .collect::<Result<_, _>>()?;
            if let Some(bad) = indexes.iter().find(|i| !open.contains(i)) {
                return Err(StoreError::Invalid(format!(
                    "record {bad} is not a record of job `{id}` without an outcome"
                )));
            }
            let batch = job.batches + 1;
            tx.execute(
            "INSERT INTO job_in_flight (job_id, batch, indexes, began_at) VALUES ($1, $2, $3, $4)",
            &[&id.0, &to_i64("batch", batch)?, &idx, &now],
        )
        .await
        .map_err(backend("recording the batch in flight"))?;
            tx.execute(
                "UPDATE jobs SET updated_at = $2 WHERE id = $1",
                &[&id.0, &now],
            )
            .await
            .map_err(backend("updating the job"))?;
            Ok::<_, StoreError>(batch)
        }
        .await;
        settle(tx, result, "committing the batch in flight").await
    }

    async fn commit_batch(
        &self,
        id: &JobId,
        owner: &str,
        batch: u64,
        outcomes: &[(u64, RecordOutcome)],
        now: OffsetDateTime,
    ) -> Result<JobInfo, StoreError> {
        check_owner(owner)?;
        let mut rows: Vec<(i64, String)> = Vec::with_capacity(outcomes.len());
        let mut successes: Vec<(i64, String)> = Vec::new();
        let mut failed: i64 = 0;
        for (index, outcome) in outcomes {
            let json = outcome_json(outcome)?;
            let index = to_i64("index", *index)?;
            if matches!(
                outcome,
                RecordOutcome::Created { .. } | RecordOutcome::Updated { .. }
            ) {
                successes.push((index, json.clone()));
            }
            if outcome.is_failure() {
                failed += 1;
            }
            rows.push((index, json));
        }

        let mut conn = self.pool.get().await?;
        let tx = conn
            .transaction()
            .await
            .map_err(backend("starting a transaction"))?;
        let result = async {
            let job = lock_leased(&tx, id, owner, now).await?;
            let current = tx
                .query_opt(
                    "SELECT batch, indexes FROM job_in_flight WHERE job_id = $1",
                    &[&id.0],
                )
                .await
                .map_err(backend("reading the batch in flight"))?;
            let Some(current) = current else {
                return Err(StoreError::State {
                    id: id.clone(),
                    status: job.status.as_str(),
                    why: format!("batch {batch} is not in flight (no batch is)"),
                });
            };
            let in_flight_batch = count(&current, "batch")?;
            if in_flight_batch != batch {
                return Err(StoreError::State {
                    id: id.clone(),
                    status: job.status.as_str(),
                    why: format!("batch {batch} is not in flight (batch {in_flight_batch} is)"),
                });
            }
            let expected: Vec<i64> = col(&current, "indexes")?;
            let mut missing: HashSet<i64> = expected.iter().copied().collect();
            for (index, _) in &rows {
                if !missing.remove(index) {
                    return Err(StoreError::Invalid(if expected.contains(index) {
                        format!("record {index} has two outcomes")
                    } else {
                        format!("record {index} is not in batch {batch}")
                    }));
                }
            }
            if let Some(index) = missing.iter().min() {
                return Err(StoreError::Invalid(format!(
                    "record {index} of batch {batch} has no outcome ({} of {} missing)",
                    missing.len(),
                    expected.len()
                )));
            }

            let idx: Vec<i64> = rows.iter().map(|(i, _)| *i).collect();
            let json: Vec<&str> = rows.iter().map(|(_, o)| o.as_str()).collect();
            let written = tx
                .execute(
                    "UPDATE job_records r SET outcome = u.o, settled_at = $2
                 FROM unnest($3::bigint[], $4::text[]) AS u(idx, o)
                 WHERE r.job_id = $1 AND r.idx = u.idx AND r.outcome IS NULL",
                    &[&id.0, &now, &idx, &json],
                )
                .await
                .map_err(backend("recording the outcomes"))?;
            if written != rows.len() as u64 {
                return Err(StoreError::Backend(format!(
                    "batch {batch}: {written} of {} records could take an outcome",
                    rows.len()
                )));
            }
            if !successes.is_empty() {
                let ok_idx: Vec<i64> = successes.iter().map(|(i, _)| *i).collect();
                let ok_json: Vec<&str> = successes.iter().map(|(_, o)| o.as_str()).collect();
                // The first success of a key is what a replay gets; a key bound to another
                // payload keeps its binding.
                tx.execute(
                    "INSERT INTO idempotency_ledger AS l
                     (connection, entity, op, idempotency_key, payload_sha256, outcome, job_id,
                      idx, created_at)
                 SELECT $1, $2, $3, r.idempotency_key, r.payload_sha256, u.o, r.job_id, r.idx, $5
                 FROM job_records r
                 JOIN unnest($6::bigint[], $7::text[]) AS u(idx, o) ON r.idx = u.idx
                 WHERE r.job_id = $4
                 ORDER BY r.idempotency_key
                 ON CONFLICT (connection, entity, op, idempotency_key) DO UPDATE
                 SET outcome = EXCLUDED.outcome
                 WHERE l.outcome IS NULL AND l.payload_sha256 = EXCLUDED.payload_sha256",
                    &[
                        &job.spec.connection,
                        &job.spec.entity,
                        &ledger_op(&job.spec.op),
                        &id.0,
                        &now,
                        &ok_idx,
                        &ok_json,
                    ],
                )
                .await
                .map_err(backend("recording successes in the idempotency ledger"))?;
            }
            tx.execute("DELETE FROM job_in_flight WHERE job_id = $1", &[&id.0])
                .await
                .map_err(backend("clearing the batch in flight"))?;
            let row = tx
                .query_one(
                    concat!(
                        "UPDATE jobs
                     SET done = done + $2, failed = failed + $3, batches = batches + 1,
                         updated_at = $4
                     WHERE id = $1
                     RETURNING ",
                        job_columns!()
                    ),
                    &[&id.0, &to_i64("count", rows.len() as u64)?, &failed, &now],
                )
                .await
                .map_err(backend("updating the job's progress"))?;
            job_from_row(&row)
        }
        .await;
        settle(tx, result, "committing the batch").await
    }

    async fn finish(
        &self,
        id: &JobId,
        owner: &str,
        status: JobStatus,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<JobInfo, StoreError> {
        check_owner(owner)?;
        if !status.is_final() {
            return Err(StoreError::Invalid(format!(
                "`{}` is not a final status",
                status.as_str()
            )));
        }
        check_optional_text("the reason", reason, MAX_REASON_BYTES)?;
        let skipped = outcome_json(&RecordOutcome::Skipped {
            reason: reason.to_owned(),
        })?;

        let mut conn = self.pool.get().await?;
        let tx = conn
            .transaction()
            .await
            .map_err(backend("starting a transaction"))?;
        let result = async {
        let job = lock_leased(&tx, id, owner, now).await?;
        let current = tx
            .query_opt(
                "SELECT batch FROM job_in_flight WHERE job_id = $1",
                &[&id.0],
            )
            .await
            .map_err(backend("reading the batch in flight"))?;
        if let Some(row) = current {
            let batch = count(&row, "batch")?;
            return Err(StoreError::State {
                id: id.clone(),
                status: job.status.as_str(),
                why: format!("batch {batch} is in flight; commit its outcomes before finishing"),
            });
        }
        let open = job.total.saturating_sub(job.done);
        if status == JobStatus::Completed && open > 0 {
            return Err(StoreError::State {
                id: id.clone(),
                status: job.status.as_str(),
                why: format!(
                    "{open} records have no outcome yet; a job completes when every record has one"
                ),
            });
        }
        tx.execute(
            "UPDATE job_records SET outcome = $2, settled_at = $3
             WHERE job_id = $1 AND outcome IS NULL",
            &[&id.0, &skipped, &now],
        )
        .await
        .map_err(backend("skipping the remaining records"))?;
        let row = tx
            .query_one(
                concat!(
                    "UPDATE jobs
                     SET status = $2, done = total, lease_owner = NULL, lease_until = NULL,
                         updated_at = $3
                     WHERE id = $1
                     RETURNING ",
                    job_columns!()
                ),
                &[&id.0, &status.as_str(), &now],
            )
            .await
            .map_err(backend("finishing the job"))?;
        job_from_row(&row)
        }
        .await;
        let job = settle(tx, result, "committing the job's end").await?;
        tracing::debug!(job = %id, status = status.as_str(), "job finished");
        Ok(job)
    }

    async fn cancel(&self, id: &JobId, now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut conn = self.pool.get().await?;
        let tx = conn
            .transaction()
            .await
            .map_err(backend("starting a transaction"))?;
        let result = async {
            let job = lock_job(&tx, id).await?;
            match job.status {
                status if status.is_final() => return Ok(false),
                JobStatus::Queued => {
                    let skipped = outcome_json(&RecordOutcome::Skipped {
                        reason: "the job was cancelled before it started".to_owned(),
                    })?;
                    tx.execute(
                        "UPDATE job_records SET outcome = $2, settled_at = $3
                     WHERE job_id = $1 AND outcome IS NULL",
                        &[&id.0, &skipped, &now],
                    )
                    .await
                    .map_err(backend("skipping the job's records"))?;
                    tx.execute(
                        "UPDATE jobs
                     SET status = 'cancelled', cancel_requested = true, done = total,
                         updated_at = $2
                     WHERE id = $1",
                        &[&id.0, &now],
                    )
                    .await
                    .map_err(backend("cancelling the job"))?;
                }
                _ => {
                    tx.execute(
                        "UPDATE jobs SET cancel_requested = true, updated_at = $2 WHERE id = $1",
                        &[&id.0, &now],
                    )
                    .await
                    .map_err(backend("requesting the cancel"))?;
                }
            }
            Ok::<_, StoreError>(true)
        }
        .await;
        settle(tx, result, "committing the cancel").await
    }

    async fn job(&self, id: &JobId) -> Result<Option<JobInfo>, StoreError> {
        let conn = self.pool.get().await?;
        read_job(&*conn, id).await
    }

    async fn jobs(&self, limit: u32) -> Result<Vec<JobInfo>, StoreError> {
        let conn = self.pool.get().await?;
        conn.query(
            concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs ORDER BY created_at DESC, id DESC LIMIT $1"
            ),
            &[&i64::from(limit)],
        )
        .await
        .map_err(backend("listing jobs"))?
        .iter()
        .map(job_from_row)
        .collect()
    }

    async fn outcomes(
        &self,
        id: &JobId,
    ) -> Result<Vec<(u64, String, Option<RecordOutcome>)>, StoreError> {
        let conn = self.pool.get().await?;
        require_job(&conn, id).await?;
        let rows = conn
            .query(
                "SELECT idx, idempotency_key, outcome FROM job_records
                 WHERE job_id = $1 ORDER BY idx",
                &[&id.0],
            )
            .await
            .map_err(backend("reading outcomes"))?;
        rows.iter()
            .map(|row| {
                let outcome: Option<String> = col(row, "outcome")?;
                Ok((
                    count(row, "idx")?,
                    col(row, "idempotency_key")?,
                    outcome.as_deref().map(outcome_from_json).transpose()?,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_never_shows_the_password() {
        for url in [
            "postgres://alice:s3cr3t-PW@db.example:6543/jobs",
            "postgresql://alice:s3cr3t-PW@[::1]/jobs?application_name=x",
            "host=db.example port=6543 user=alice password=s3cr3t-PW dbname=jobs",
            "postgres://alice@db.example/jobs?password=s3cr3t-PW",
        ] {
            let config = parse_url(url).unwrap();
            let target = describe_target(&config);
            assert!(!target.contains("s3cr3t"), "{target}");
            assert!(target.contains("alice@"), "{target}");
        }
        assert_eq!(
            describe_target(&parse_url("postgres://alice:pw@db.example:6543/jobs").unwrap()),
            "postgres://alice@db.example:6543/jobs"
        );
    }

    #[test]
    fn a_bad_url_is_refused_without_repeating_it() {
        for url in [
            "postgres://alice:s3cr3t-PW@db.example:notaport/jobs",
            "host=db.example password='s3cr3t-PW",
            "host=db.example sslmode=s3cr3t-PW",
            "host=db.example password=s3cr3t-PW port=x",
            "postgres://alice:s3cr3t-PW@db.example/jobs?connect_timeout=s3cr3t",
        ] {
            let err = parse_url(url).unwrap_err().to_string();
            assert!(!err.contains("s3cr3t"), "{err}");
            assert!(err.contains("invalid PostgreSQL URL"), "{err}");
        }
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        for good in ["plantwire", "_x", "jobs_2", "a"] {
            check_schema_name(good).unwrap();
        }
        for bad in [
            "",
            "Jobs",
            "1jobs",
            "jobs; drop table x",
            "a\"b",
            "pg_catalog",
            &"a".repeat(64),
        ] {
            assert!(check_schema_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn job_ids_are_time_ordered_and_distinct() {
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let a = new_job_id(t);
        let b = new_job_id(t + time::Duration::milliseconds(1));
        assert_eq!(a.0.len(), 4 + 26, "{a}");
        assert!(a.0.starts_with("job_"));
        assert!(a < b, "{a} {b}");
        assert_ne!(new_job_id(t), new_job_id(t));
    }

    #[test]
    fn leases_are_bounded() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert!(lease_end(now, Duration::ZERO).is_err());
        assert!(lease_end(now, MAX_LEASE + Duration::from_secs(1)).is_err());
        assert_eq!(
            lease_end(now, Duration::from_secs(30)).unwrap(),
            now + time::Duration::seconds(30)
        );
    }
}
