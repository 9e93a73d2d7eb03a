//! Bulk writes: batching, per-record results in input order, idempotency keys, and durable
//! jobs that survive a crash without losing or duplicating a record.
//!
//! | module | its one job |
//! |---|---|
//! | [`store`] | the job store protocol and its types (the contract between the pieces) |
//! | [`sqlite`] | the embedded store (default): one SQLite file, WAL, `synchronous=FULL` |
//! | [`engine`] | batching, keys, sending, settling after a crash; the in-memory [`run`] and the durable [`Runner`] |
//!
//! The PostgreSQL store lets several host replicas share one queue.

pub mod engine;
pub mod postgres;
pub mod sqlite;
pub mod store;

pub use engine::{
    BulkError, BulkRequest, ConnectionSource, DEFAULT_JOB_THRESHOLD, FixedConnections, JobProgress,
    Progress, RecordResult, Runner, WorkspaceConnections, WorkspaceEvents, run, submit,
};
pub use sqlite::SqliteJobStore;
pub use store::{
    BulkOp, BulkOptions, InFlight, InputRecord, JobId, JobInfo, JobSpec, JobStatus, JobStore,
    RecordOutcome, StoreError,
};
