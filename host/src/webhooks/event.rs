//! Events: what the host tells the outside world about (a connection degraded, a connection
//! needs new credentials, a connection recovered, a job completed), and the sink they go to.
//!
//! An event's wire form is the Standard Webhooks payload structure:
//!
//! ```json
//! {"type": "connection.reauthorization_required",
//!  "timestamp": "2025-01-31T12:00:00Z",
//!  "data": {"connectionId": "acme-maximo", "tenant": "acme", "reason": "…", "status": 401}}
//! ```
//!
//! Events carry ids and reasons, never secrets. A reason is caller-supplied text, so callers
//! must never put a credential, a token or a request's headers into it; as a backstop every
//! reason goes through [`sanitize_reason`], which caps its length, strips control characters
//! and masks values that look like credentials (`Bearer …`, `password=…`, `whsec_…`).

use std::fmt;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The longest reason, in bytes, an event or a health state carries; longer ones are cut.
pub const MAX_REASON_BYTES: usize = 512;

/// The kinds of event the host emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A connection saw repeated transient failures (`connection.degraded`).
    ConnectionDegraded,
    /// A connection's credentials were refused and a refresh or re-login could not cure it
    /// (`connection.reauthorization_required`); a person must supply new credentials.
    ConnectionReauthorizationRequired,
    /// A degraded or needs-reauthorization episode ended (`connection.recovered`).
    ConnectionRecovered,
    /// A durable bulk job finished: completed, stopped at its failure limit, or cancelled
    /// (`job.completed`; the data carries the job's id, status and counts).
    JobCompleted,
}

impl EventKind {
    /// The event's `type` string on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::ConnectionDegraded => "connection.degraded",
            EventKind::ConnectionReauthorizationRequired => "connection.reauthorization_required",
            EventKind::ConnectionRecovered => "connection.recovered",
            EventKind::JobCompleted => "job.completed",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event about one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The connection it happened to.
    pub connection_id: String,
    /// The tenant owning the connection, when the host serves several; it routes the event
    /// to that tenant's endpoints only.
    pub tenant: Option<String>,
    /// Why, in words, for a person; never a secret (see the module docs).
    pub reason: String,
    /// The upstream HTTP status behind the event (401 or 403 for a reauthorization), if any.
    pub status: Option<u16>,
    /// When it happened.
    pub at: OffsetDateTime,
    /// For `job.completed`: the job's id, status and counts.
    pub job: Option<JobSummary>,
}

/// What a `job.completed` event says about the job: its id, what it did, how it ended and how
/// many records came to which outcome. Never a record's payload (the caller's data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobSummary {
    /// The job's id (`job_…`).
    pub id: String,
    /// `completed`, `stopped` (failure limit) or `cancelled`.
    pub status: String,
    /// The unified entity.
    pub entity: String,
    /// `create`, `update` or `action:<name>`.
    pub operation: String,
    /// Input records.
    pub total: u64,
    /// Records created.
    pub created: u64,
    /// Records updated (or whose action ran).
    pub updated: u64,
    /// Records refused or failed.
    pub failed: u64,
    /// Records whose fate is unknown (sent before a crash, not found afterwards).
    pub unknown: u64,
    /// Records not attempted.
    pub skipped: u64,
}

impl Event {
    /// An event happening now; `reason` goes through [`sanitize_reason`].
    pub fn new(kind: EventKind, connection_id: impl Into<String>, reason: &str) -> Event {
        Event {
            kind,
            connection_id: connection_id.into(),
            tenant: None,
            reason: sanitize_reason(reason),
            status: None,
            at: OffsetDateTime::now_utc(),
            job: None,
        }
    }

    /// The same event, owned by `tenant`.
    #[must_use]
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Event {
        self.tenant = Some(tenant.into());
        self
    }

    /// The same event, caused by an upstream answer with `status`.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Event {
        self.status = Some(status);
        self
    }

    /// The same event, about the job `summary` describes (`job.completed`).
    #[must_use]
    pub fn with_job(mut self, summary: JobSummary) -> Event {
        self.job = Some(summary);
        self
    }

    /// The same event, happening at `at` instead of now.
    #[must_use]
    pub fn with_time(mut self, at: OffsetDateTime) -> Event {
        self.at = at;
        self
    }

    /// The Standard Webhooks payload: `{"type", "timestamp", "data": {...}}`. The reason is
    /// sanitized again here, so a reason set directly on the field cannot bypass the backstop.
    pub fn payload(&self) -> Value {
        let mut data = Map::new();
        data.insert("connectionId".into(), json!(self.connection_id));
        if let Some(tenant) = &self.tenant {
            data.insert("tenant".into(), json!(tenant));
        }
        data.insert("reason".into(), json!(sanitize_reason(&self.reason)));
        if let Some(status) = self.status {
            data.insert("status".into(), json!(status));
        }
        if let Some(job) = &self.job {
            data.insert(
                "job".into(),
                json!({
                    "id": job.id,
                    "status": job.status,
                    "entity": job.entity,
                    "operation": job.operation,
                    "total": job.total,
                    "created": job.created,
                    "updated": job.updated,
                    "failed": job.failed,
                    "unknown": job.unknown,
                    "skipped": job.skipped,
                }),
            );
        }
        json!({
            "type": self.kind.as_str(),
            "timestamp": rfc3339(self.at),
            "data": data,
        })
    }

    /// The payload as the exact JSON text that is stored, signed and sent.
    pub fn to_json(&self) -> String {
        self.payload().to_string()
    }
}

/// Where events go. Implementations must be quick and must not call back into whatever
/// emitted the event (a [`crate::health::HealthMonitor`] emits while holding its lock, so
/// that events about one connection are emitted in the order the transitions happened).
pub trait EventSink: Send + Sync {
    /// Takes one event. Failures are the sink's to report (log); emitting never fails.
    fn emit(&self, event: Event);
}

/// A sink that drops every event, for connections nobody subscribes to.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardEvents;

impl EventSink for DiscardEvents {
    fn emit(&self, _event: Event) {}
}

/// Formats a timestamp as RFC 3339 (UTC as `Z`); falls back to Unix seconds for the
/// out-of-range years RFC 3339 cannot express.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Words after which the next word is a credential (`Bearer abc`, `Basic abc`).
/// After `bearer` always; after the others only when the next word does not read like
/// ordinary prose (`token refresh failed` stays as it is).
const SCHEME_WORDS: [&str; 4] = ["bearer", "basic", "token", "digest"];

/// Key fragments whose values are credentials (`password=…`, `"client_secret": "…"`).
const SENSITIVE_KEYS: [&str; 10] = [
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "authorization",
    "cookie",
    "signature",
];

const REDACTED: &str = "[redacted]";

/// Whether the word after the current one is to be masked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    Keep,
    Mask,
    MaskUnlessProse,
}

/// Makes caller-supplied reason text safe to store and send: control characters become
/// spaces, runs of whitespace collapse, words that look like credentials are masked, and the
/// result is cut to at most [`MAX_REASON_BYTES`] bytes (ending in `…` when cut).
///
/// This is a backstop, not a licence: callers must still never pass secrets. Applying it
/// twice gives the same text as applying it once.
pub fn sanitize_reason(reason: &str) -> String {
    let cleaned: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut next = Next::Keep;
    for word in cleaned.split_whitespace() {
        let masked = match next {
            Next::Mask => true,
            Next::MaskUnlessProse => !is_prose(word),
            Next::Keep => false,
        };
        if masked && word != REDACTED && scheme_of(word).is_none() {
            out.push(REDACTED.to_owned());
            next = Next::Keep;
            continue;
        }
        let (word, after) = mask_word(word);
        out.push(word);
        next = after;
    }
    cap(out.join(" "))
}

/// `Some(next)` when `word` is an authorization scheme name.
fn scheme_of(word: &str) -> Option<Next> {
    let w = word
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    match w.as_str() {
        "bearer" => Some(Next::Mask),
        w if SCHEME_WORDS.contains(&w) => Some(Next::MaskUnlessProse),
        _ => None,
    }
}

/// A plain lowercase word (with trailing punctuation), as opposed to a token.
fn is_prose(word: &str) -> bool {
    let w = word.trim_end_matches(|c: char| ",.;:!?)".contains(c));
    !w.is_empty() && w.len() < 24 && w.chars().all(|c| c.is_ascii_lowercase())
}

fn is_sensitive_key(key: &str) -> bool {
    let k = key.to_lowercase();
    SENSITIVE_KEYS.iter().any(|s| k.contains(s))
}

/// Masks one word; says what to do with the word after it.
fn mask_word(word: &str) -> (String, Next) {
    if word.contains("whsec_") {
        return (REDACTED.to_owned(), Next::Keep);
    }
    if let Some(next) = scheme_of(word) {
        return (word.to_owned(), next);
    }
    // `key=value`, `key:value`, `"key":"value"`: keep the key, mask the value.
    if let Some(pos) = word.find(['=', ':']) {
        let (key, rest) = word.split_at(pos);
        if is_sensitive_key(key) {
            let value = &rest[1..];
            if value
                .trim_matches(|c: char| "\"',;{}".contains(c))
                .is_empty()
            {
                // `password: hunter2` or `"token": "abc"`: the value is the next word.
                return (word.to_owned(), Next::Mask);
            }
            if value == REDACTED {
                return (word.to_owned(), Next::Keep);
            }
            return (format!("{key}{}{REDACTED}", &rest[..1]), Next::Keep);
        }
    }
    (word.to_owned(), Next::Keep)
}

fn cap(mut text: String) -> String {
    if text.len() <= MAX_REASON_BYTES {
        return text;
    }
    let ellipsis = '…';
    let mut end = MAX_REASON_BYTES - ellipsis.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push(ellipsis);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_has_the_standard_webhooks_shape() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let event = Event::new(
            EventKind::ConnectionReauthorizationRequired,
            "c1",
            "refused",
        )
        .with_tenant("acme")
        .with_status(401)
        .with_time(at);
        assert_eq!(
            event.payload(),
            json!({
                "type": "connection.reauthorization_required",
                "timestamp": "2023-11-14T22:13:20Z",
                "data": {"connectionId": "c1", "tenant": "acme", "reason": "refused", "status": 401},
            })
        );
        let job = Event::new(EventKind::JobCompleted, "c1", "done")
            .with_job(JobSummary {
                id: "job_1".into(),
                status: "completed".into(),
                entity: "work-order".into(),
                operation: "create".into(),
                total: 3,
                created: 2,
                failed: 1,
                ..JobSummary::default()
            })
            .with_time(at);
        assert_eq!(job.payload()["type"], "job.completed");
        assert_eq!(
            job.payload()["data"]["job"],
            json!({"id": "job_1", "status": "completed", "entity": "work-order",
                   "operation": "create", "total": 3, "created": 2, "updated": 0,
                   "failed": 1, "unknown": 0, "skipped": 0})
        );
        let bare = Event::new(EventKind::ConnectionRecovered, "c1", "ok").payload();
        assert_eq!(bare["data"].as_object().map(Map::len), Some(2));
    }

    #[test]
    fn reasons_are_capped_at_a_char_boundary() {
        let long = "é".repeat(MAX_REASON_BYTES);
        let cut = sanitize_reason(&long);
        assert!(cut.len() <= MAX_REASON_BYTES);
        assert!(cut.ends_with('…'));
        assert_eq!(sanitize_reason(&cut), cut);
    }

    #[test]
    fn credentials_in_reasons_are_masked() {
        let planted = "s3cr3t-planted-value";
        for reason in [
            format!("upstream 401: Authorization: Bearer {planted}"),
            format!("login failed password={planted}"),
            format!("body {{\"access_token\": \"{planted}\"}}"),
            format!("body {{\"client_secret\":\"{planted}\"}}"),
            format!("signing with whsec_{planted}"),
            format!("header Basic {planted}\nnext line"),
            format!("api_key: {planted}"),
        ] {
            let clean = sanitize_reason(&reason);
            assert!(!clean.contains(planted), "{reason:?} became {clean:?}");
            assert_eq!(
                sanitize_reason(&clean),
                clean,
                "not idempotent for {reason:?}"
            );
        }
        assert_eq!(
            sanitize_reason("HTTP 503\tService   Unavailable\r\n"),
            "HTTP 503 Service Unavailable"
        );
        assert_eq!(
            sanitize_reason("token refresh failed: invalid_grant"),
            "token refresh failed: invalid_grant"
        );
    }
}
