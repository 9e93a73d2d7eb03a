//! Bulk writes: batching, per-record results in input order, idempotency keys, and durable
//! jobs that survive a crash without losing or duplicating a record.
//!
//! [`store`] defines the job store protocol and its types; the SQLite store is the embedded
//! default, the PostgreSQL store lets several host replicas share one queue.

pub mod store;
