//! Webhooks: telling other software, reliably and verifiably, what happened to its
//! connections (`connection.reauthorization_required`, `connection.recovered`, …).
//!
//! The path of an event:
//!
//! 1. something (a [`crate::health::HealthMonitor`]) emits an [`Event`] to an [`EventSink`];
//! 2. the [`OutboxSink`] writes one message per subscribed [`Endpoint`] into the SQLite
//!    [`Outbox`], which is the durability point (WAL, `synchronous=FULL`);
//! 3. a [`Dispatcher`] takes due messages, signs each per the Standard Webhooks spec with the
//!    `standardwebhooks` crate (`webhook-id`, `webhook-timestamp`, `webhook-signature` =
//!    `v1,` base64 HMAC-SHA256 over `id.timestamp.body`), POSTs it, and on anything but a
//!    2xx retries on the [`RetryPolicy`] schedule until the bounded time (24 h) runs out.
//!
//! What this module must never do: let a secret out. Signing secrets live in configuration
//! (held in `secrecy` types), never in the database, a log line, an error or a `Debug`
//! output; payloads carry ids and sanitized reasons only; endpoint URLs are logged by origin.

mod dispatcher;
mod endpoint;
mod event;
mod outbox;
mod schedule;
mod sink;

use std::path::PathBuf;

pub use dispatcher::{DeliveryReport, Dispatcher, DispatcherConfig};
pub use endpoint::{Endpoint, EndpointRegistry, EndpointSecret};
pub(crate) use event::rfc3339;
pub use event::{
    DiscardEvents, Event, EventKind, EventSink, JobSummary, MAX_REASON_BYTES, sanitize_reason,
};
pub use outbox::{MessageId, MessageStatus, Outbox, OutboxCounts, OutboxMessage};
pub use schedule::RetryPolicy;
pub use sink::OutboxSink;

/// What can go wrong with webhooks. No variant carries a secret or a full endpoint URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The outbox's directory or file could not be opened or created.
    #[error("cannot open the webhook outbox at {path}")]
    Open {
        /// The database path from configuration.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The outbox path does not end in a file name.
    #[error("the webhook outbox path {0} does not name a file")]
    InvalidPath(PathBuf),
    /// SQLite refused an outbox operation.
    #[error("webhook outbox database error")]
    Database(#[from] rusqlite::Error),
    /// The outbox holds something this version does not understand.
    #[error("webhook outbox: {0}")]
    Corrupt(&'static str),
    /// A signing secret is not `whsec_` and base64 of 24 to 64 bytes.
    #[error("a webhook secret must be \"whsec_\" and the base64 of 24 to 64 random bytes")]
    InvalidSecret,
    /// An endpoint's URL is not `http(s)` or carries a username or password.
    #[error("webhook endpoint {endpoint_id}: the URL must be http or https, without user info")]
    InvalidUrl {
        /// The endpoint's id.
        endpoint_id: String,
    },
    /// An endpoint's address is one the egress policy refuses (see
    /// [`crate::egress::ranges`]).
    #[error("webhook endpoint {endpoint_id}: {reason}")]
    RefusedAddress {
        /// The endpoint's id.
        endpoint_id: String,
        /// Which range refused the address, and what would allow it.
        reason: String,
    },
    /// Two endpoints share an id.
    #[error("two webhook endpoints have the id {0}")]
    DuplicateEndpoint(String),
    /// A payload could not be signed (it is not UTF-8).
    #[error("the webhook payload could not be signed")]
    Signing,
    /// The HTTP client could not be built.
    #[error("cannot build the webhook HTTP client")]
    Client(#[source] reqwest::Error),
    /// Background outbox work failed.
    #[error("a webhook outbox task failed")]
    Task(#[source] tokio::task::JoinError),
}
