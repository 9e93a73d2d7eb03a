//! The request log every simulator keeps.
//!
//! Each simulator records every request it receives — refused, faulted and dropped ones
//! included — *before* it looks at credentials, so tests can assert on exactly what an adapter
//! sent over the wire: that a write happened exactly once, that the credential was injected by
//! the host, that no header the adapter may not set got through.

use std::sync::{Mutex, PoisonError};

/// One HTTP request as the simulator received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method, upper case (`GET`, `POST`, …).
    pub method: String,
    /// The path, percent-encoded as received (`/v1/workorders/1000001`).
    pub path: String,
    /// The raw query string without the `?`, if there was one.
    pub query: Option<String>,
    /// Every header as received (names lower-cased; values of a repeated header are adjacent,
    /// in the order received).
    pub headers: Vec<(String, String)>,
    /// The request body, exactly as received.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `true` if the body contains `needle` anywhere (handy to look for leaked secrets).
    pub fn body_contains(&self, needle: &[u8]) -> bool {
        !needle.is_empty() && self.body.windows(needle.len()).any(|w| w == needle)
    }
}

/// Append-only, thread-safe log of [`RecordedRequest`]s.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    requests: Mutex<Vec<RecordedRequest>>,
}

impl Recorder {
    /// Appends one request.
    pub(crate) fn push(&self, request: RecordedRequest) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    /// A copy of every request recorded so far, in arrival order.
    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets every recorded request.
    pub(crate) fn clear(&self) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
