//! Where durable bulk jobs live: one trait, [`JobStore`], with an embedded SQLite store (the
//! default) and a PostgreSQL store for several host replicas sharing one queue.
//!
//! The protocol that makes a crash lose or duplicate nothing:
//!
//! 1. [`JobStore::create_job`] stores the job and every input record, with its idempotency
//!    key, in one transaction.
//! 2. A runner [`claims`](JobStore::claim) a job under a lease (a queued job, or a running one
//!    whose lease expired because its runner died) and [`renews`](JobStore::renew) the lease
//!    while it works; a store refuses every write of a runner whose lease is gone.
//! 3. Before a batch is sent, [`begin_batch`](JobStore::begin_batch) records it as in flight
//!    (committed: after a crash the store knows which records may have reached the system).
//! 4. After the system answered, [`commit_batch`](JobStore::commit_batch) records every
//!    record's outcome and the progress, and clears the in-flight batch, in one transaction.
//! 5. A runner that claims a job with an in-flight batch must settle that batch first
//!    ([`JobStore::in_flight`]): look the records up in the system by their idempotency key
//!    where the entity allows it, otherwise report them as
//!    [`RecordOutcome::Unknown`] — never send them again blindly.
//!
//! Implementations must make each numbered step atomic and durable before returning
//! (SQLite: WAL with `synchronous=FULL`; PostgreSQL: a committed transaction).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use plantwire_sdk::AdapterError;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A job's id: `job_` and 26 characters of a ULID-like, time-ordered random id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(pub String);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a bulk job does to each record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "op", content = "name")]
pub enum BulkOp {
    /// Each input is a new record.
    Create,
    /// Each input is `{"key": ..., "patch": {...}, "concurrencyToken"?: ...}`.
    Update,
    /// Each input is `{"key": ..., "input": {...}}` for the named action.
    Action(String),
}

/// How a bulk operation runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOptions {
    /// Records per batch: default 50, never above the adapter's declared limit nor 100.
    pub batch_size: u32,
    /// Pause between batches (the connection's rate governor paces requests in any case).
    #[serde(with = "millis")]
    pub delay: Duration,
    /// Stop after this many failed records (the rest are reported as skipped); `None`
    /// continues through every record.
    pub stop_after_failures: Option<u32>,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            batch_size: 50,
            delay: Duration::ZERO,
            stop_after_failures: None,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// What a job was asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    pub connection: String,
    pub tenant: Option<String>,
    pub entity: String,
    pub op: BulkOp,
    pub options: BulkOptions,
}

/// One input record of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputRecord {
    /// Its position in the input, from 0; results are reported in this order.
    pub index: u64,
    /// Caller-supplied, or derived from the connection, entity, operation and payload.
    pub idempotency_key: String,
    /// The record (create), or the update / action input, as JSON text.
    pub payload: String,
}

/// What happened to one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum RecordOutcome {
    /// Created; the system's key.
    Created { key: String },
    /// Updated (or the action ran); the record's key.
    Updated { key: String },
    /// Refused or failed, with the typed error (validation with the field, conflict,
    /// unsupported, upstream with the vendor's code and message, ...).
    Failed { error: AdapterError },
    /// Sent before a crash and not found afterwards by idempotency key, or sent to a system
    /// where it cannot be looked up: it may or may not have been written. Never re-sent.
    Unknown { reason: String },
    /// Not attempted: the job stopped (failure limit, cancel) before reaching it.
    Skipped { reason: String },
}

impl RecordOutcome {
    /// Whether the record counts as failed (for the failure limit and the exit status).
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            RecordOutcome::Failed { .. } | RecordOutcome::Unknown { .. }
        )
    }
}

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobStatus {
    /// Waiting for a runner.
    Queued,
    /// Claimed by a runner (whose lease may have expired: then it is claimable again).
    Running,
    /// Every record has an outcome (some may have failed).
    Completed,
    /// Stopped at the failure limit; the remaining records are skipped.
    Stopped,
    /// Cancelled; the remaining records are skipped.
    Cancelled,
}

impl JobStatus {
    /// The status as stored and shown.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Stopped => "stopped",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the job is over.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Stopped | JobStatus::Cancelled
        )
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    pub id: JobId,
    pub spec: JobSpec,
    pub status: JobStatus,
    /// Input records.
    pub total: u64,
    /// Records with an outcome.
    pub done: u64,
    /// Records whose outcome is a failure ([`RecordOutcome::is_failure`]).
    pub failed: u64,
    /// Batches committed.
    pub batches: u64,
    /// Whether a cancel was requested (the runner stops after its current batch).
    pub cancel_requested: bool,
    /// The runner holding the job, and until when.
    pub lease_owner: Option<String>,
    pub lease_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A batch recorded as in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    /// Its number within the job, from 1.
    pub batch: u64,
    pub records: Vec<InputRecord>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("no job `{0}`")]
    NoJob(JobId),
    /// The caller's lease expired and another runner may hold the job: it must stop.
    #[error("the lease on job `{0}` is held by another runner")]
    LeaseLost(JobId),
    #[error("job `{id}` is {status}: {why}")]
    State {
        id: JobId,
        status: &'static str,
        why: String,
    },
    /// An idempotency key was reused with another payload.
    #[error(
        "idempotency key `{key}` was already used for a different payload (record {index}); use a new key for a different record"
    )]
    KeyReused { key: String, index: u64 },
    #[error("invalid job input: {0}")]
    Invalid(String),
    #[error("job store: {0}")]
    Backend(String),
}

/// A durable job store. Every method is one atomic, durable step (see the module docs).
#[async_trait]
pub trait JobStore: Send + Sync + fmt::Debug {
    /// Stores a new queued job with `records` (indexes 0..n in order, each with its
    /// idempotency key). A key that an earlier job of the same connection, entity and
    /// operation used with another payload is [`StoreError::KeyReused`]; a key used with
    /// the same payload whose earlier outcome was a success makes that record's outcome
    /// known at once (a replayed request writes nothing twice).
    async fn create_job(
        &self,
        spec: &JobSpec,
        records: &[InputRecord],
        now: OffsetDateTime,
    ) -> Result<JobId, StoreError>;

    /// Claims the oldest claimable job (queued, or running with an expired lease) for
    /// `owner` until `now + lease`; `None` when there is none. Two concurrent claims never
    /// get the same job.
    async fn claim(
        &self,
        owner: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<JobInfo>, StoreError>;

    /// Claims job `id` specifically (e.g. the CLI running the job it just made), under the
    /// same rules as [`JobStore::claim`]; `None` when it is not claimable.
    async fn claim_job(
        &self,
        id: &JobId,
        owner: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<JobInfo>, StoreError>;

    /// Extends `owner`'s lease on `id`; [`StoreError::LeaseLost`] when it no longer holds it.
    async fn renew(
        &self,
        id: &JobId,
        owner: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> Result<JobInfo, StoreError>;

    /// The batch recorded as in flight, if any (records in index order).
    async fn in_flight(&self, id: &JobId) -> Result<Option<InFlight>, StoreError>;

    /// Up to `max` records without an outcome, in index order, after any in-flight batch.
    async fn pending(&self, id: &JobId, max: u32) -> Result<Vec<InputRecord>, StoreError>;

    /// Records `indexes` as the in-flight batch (there must be none); returns its number.
    async fn begin_batch(
        &self,
        id: &JobId,
        owner: &str,
        indexes: &[u64],
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    /// Records the outcomes of the in-flight batch `batch` (every record of it must get
    /// one), updates the progress and clears the in-flight batch, in one transaction.
    /// Successful outcomes also go to the idempotency ledger.
    async fn commit_batch(
        &self,
        id: &JobId,
        owner: &str,
        batch: u64,
        outcomes: &[(u64, RecordOutcome)],
        now: OffsetDateTime,
    ) -> Result<JobInfo, StoreError>;

    /// Ends the job with `status` (final); records without an outcome become
    /// [`RecordOutcome::Skipped`] with `reason`. Releases the lease.
    async fn finish(
        &self,
        id: &JobId,
        owner: &str,
        status: JobStatus,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<JobInfo, StoreError>;

    /// Requests a cancel: a queued job is cancelled at once (its records skipped); a running
    /// one stops after its current batch. `false` when the job is already over.
    async fn cancel(&self, id: &JobId, now: OffsetDateTime) -> Result<bool, StoreError>;

    /// One job.
    async fn job(&self, id: &JobId) -> Result<Option<JobInfo>, StoreError>;

    /// Every job, newest first, at most `limit`.
    async fn jobs(&self, limit: u32) -> Result<Vec<JobInfo>, StoreError>;

    /// The outcomes recorded so far, in index order: (index, idempotency key, outcome).
    async fn outcomes(
        &self,
        id: &JobId,
    ) -> Result<Vec<(u64, String, Option<RecordOutcome>)>, StoreError>;
}
