//! The outbox as an event sink: every event becomes one durable message per subscribed
//! endpoint, written before `emit` returns.
//!
//! What it must never do: deliver (that is the dispatcher's job, off the caller's path) or
//! lose an event silently: a failed write is logged as an error.

use time::OffsetDateTime;

use super::{EndpointRegistry, Event, EventSink, Outbox};

/// An [`EventSink`] that writes each event to the outbox, once for every endpoint that
/// receives it (an endpoint bound to a tenant receives only that tenant's events), in one
/// transaction. `emit` blocks for that commit (one fsync); transitions are rare, so callers
/// on async threads may call it directly.
#[derive(Debug, Clone)]
pub struct OutboxSink {
    outbox: Outbox,
    endpoints: EndpointRegistry,
}

impl OutboxSink {
    /// A sink writing to `outbox` for `endpoints`.
    pub fn new(outbox: Outbox, endpoints: EndpointRegistry) -> OutboxSink {
        OutboxSink { outbox, endpoints }
    }
}

impl EventSink for OutboxSink {
    fn emit(&self, event: Event) {
        let ids: Vec<&str> = self
            .endpoints
            .subscribers(event.tenant.as_deref())
            .map(|e| e.id.as_str())
            .collect();
        if ids.is_empty() {
            return;
        }
        let subscribers = ids.len();
        if let Err(error) = self
            .outbox
            .enqueue_many(ids, &event, OffsetDateTime::now_utc())
        {
            tracing::error!(
                event = %event.kind,
                connection = %event.connection_id,
                subscribers,
                error = %error,
                "webhook event could not be written to the outbox"
            );
        }
    }
}
