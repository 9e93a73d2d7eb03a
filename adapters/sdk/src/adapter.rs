//! The trait an adapter implements. It mirrors the contract's `adapter` interface with plain
//! Rust types, so the same code runs in a component (through [`export_adapter!`]) and natively
//! (unit tests, benchmarks).
//!
//! [`export_adapter!`]: crate::export_adapter

use crate::contract::{AdapterInfo, GetRequest, ListRequest, Page};
use crate::error::AdapterError;
use crate::http::Http;

/// The outcome of writing one record: the record as stored, or why it was not.
pub type WriteResult = Result<String, AdapterError>;

/// One system's mapping onto the unified model. Records cross as unified JSON text.
///
/// The host checks `describe()` before every call: an operation declared unsupported never
/// reaches the adapter, so implementations only handle what they declare.
pub trait Adapter {
    /// Declares the system, its auth scheme and every entity's operations and fields.
    fn describe() -> AdapterInfo;

    /// One page of records.
    fn list(http: &dyn Http, req: ListRequest) -> Result<Page, AdapterError>;

    /// One record by key.
    fn get(http: &dyn Http, req: GetRequest) -> Result<String, AdapterError>;

    /// A batch of records; one result per input record, in input order. An `Err` for the
    /// whole call means nothing was attempted.
    fn create(
        http: &dyn Http,
        entity: &str,
        records: Vec<String>,
    ) -> Result<Vec<WriteResult>, AdapterError>;

    /// A partial update; returns the record after it.
    fn update(
        http: &dyn Http,
        entity: &str,
        key: &str,
        patch: String,
        concurrency_token: Option<String>,
    ) -> Result<String, AdapterError>;

    /// Deletes a record.
    fn delete(http: &dyn Http, entity: &str, key: &str) -> Result<(), AdapterError>;

    /// Runs a named action on one record; returns the record after it.
    fn action(
        http: &dyn Http,
        entity: &str,
        key: &str,
        name: &str,
        input: String,
    ) -> Result<String, AdapterError>;
}

/// A log line from the adapter (forwarded to the host's tracing in a component).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Logs a message through the host (a no-op when running natively).
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::guest::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}
