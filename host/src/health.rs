//! Connection health: a small state machine per connection, fed by the outcome of every
//! upstream call, that tells operators (and their software, through webhook events) when a
//! connection is struggling and when it needs a person to supply new credentials.
//!
//! ```text
//!  healthy ──N consecutive transient failures──▶ degraded ──a success──▶ healthy
//!     │                                              │
//!     └──────── 401/403 a refresh could not cure ────┴──▶ needs-reauthorization
//!                                                             │
//!                          healthy ◀── reauthorized() ────────┘
//! ```
//!
//! Every transition emits one [`Event`] to the monitor's [`EventSink`]:
//! `connection.degraded`, `connection.reauthorization_required` (exactly once per episode,
//! however many concurrent calls are refused), `connection.recovered` (once, when a degraded
//! or needs-reauthorization episode ends).
//!
//! What this module must never do: hold or see a credential. Reasons are caller-supplied text
//! and callers must never pass secrets (tokens, passwords, request headers) in them; as a
//! backstop every reason is run through [`sanitize_reason`] (length cap, credential masking).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::webhooks::{Event, EventKind, EventSink, sanitize_reason};

/// A connection's health, as shown by `plantwire connections` (JSON: camelCase, with a
/// `state` tag: `{"state": "degraded", "since": "…", "consecutiveFailures": 3, …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "state",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum HealthState {
    /// Calls succeed (or fail less often than the degraded threshold).
    Healthy,
    /// Repeated transient failures (timeouts, 5xx, dropped connections); calls are still made.
    Degraded {
        /// When the episode began.
        #[serde(serialize_with = "serialize_time")]
        since: OffsetDateTime,
        /// Transient failures in a row, so far.
        consecutive_failures: u32,
        /// The latest failure's reason (sanitized).
        last_error: String,
    },
    /// The upstream refuses the credentials and a refresh or re-login could not cure it; only
    /// [`HealthMonitor::reauthorized`] (new credentials) ends this state.
    NeedsReauthorization {
        /// When the episode began.
        #[serde(serialize_with = "serialize_time")]
        since: OffsetDateTime,
        /// The upstream status that began it (401 or 403).
        status: u16,
        /// Why (sanitized).
        reason: String,
    },
}

impl HealthState {
    /// A short label for tables: `healthy`, `degraded`, `needs-reauthorization`.
    pub const fn label(&self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::Degraded { .. } => "degraded",
            HealthState::NeedsReauthorization { .. } => "needs-reauthorization",
        }
    }
}

fn serialize_time<S: Serializer>(at: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::webhooks::rfc3339(*at))
}

/// Thresholds of the state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthConfig {
    /// Consecutive transient failures after which a healthy connection is degraded (a value
    /// below 1 counts as 1). One success ends a degraded episode.
    pub degraded_after: u32,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig { degraded_after: 3 }
    }
}

/// The health of one connection: thread-safe, and cheap to clone and share (an `Arc`).
#[derive(Clone)]
pub struct HealthMonitor {
    inner: Arc<Inner>,
}

struct Inner {
    connection_id: String,
    tenant: Option<String>,
    config: HealthConfig,
    sink: Arc<dyn EventSink>,
    machine: Mutex<Machine>,
}

struct Machine {
    state: HealthState,
    /// Transient failures in a row; counted while still healthy, to know when to degrade.
    consecutive_failures: u32,
}

impl fmt::Debug for HealthMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthMonitor")
            .field("connection_id", &self.inner.connection_id)
            .field("tenant", &self.inner.tenant)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl HealthMonitor {
    /// A monitor for `connection_id` (owned by `tenant`, if any), starting healthy, emitting
    /// its transitions to `sink`.
    pub fn new(
        connection_id: impl Into<String>,
        tenant: Option<String>,
        config: HealthConfig,
        sink: Arc<dyn EventSink>,
    ) -> HealthMonitor {
        HealthMonitor {
            inner: Arc::new(Inner {
                connection_id: connection_id.into(),
                tenant,
                config,
                sink,
                machine: Mutex::new(Machine {
                    state: HealthState::Healthy,
                    consecutive_failures: 0,
                }),
            }),
        }
    }

    /// The connection this monitor watches.
    pub fn connection_id(&self) -> &str {
        &self.inner.connection_id
    }

    /// The current state.
    pub fn state(&self) -> HealthState {
        self.lock().state.clone()
    }

    /// A call succeeded: ends a degraded episode (emitting `connection.recovered`). It does
    /// not end a needs-reauthorization episode: a call that was already in flight may still
    /// succeed after the credentials were refused, and only new credentials cure that.
    pub fn record_success(&self) {
        let mut m = self.lock();
        let failures = m.consecutive_failures;
        m.consecutive_failures = 0;
        if matches!(m.state, HealthState::Degraded { .. }) {
            m.state = HealthState::Healthy;
            self.emit(
                EventKind::ConnectionRecovered,
                &format!("a call succeeded after {failures} consecutive transient failures"),
                None,
            );
        }
    }

    /// A call failed for a reason that may pass (timeout, 5xx, dropped connection). After
    /// [`HealthConfig::degraded_after`] in a row the connection is degraded (emitting
    /// `connection.degraded` once). Ignored while the connection needs reauthorization.
    ///
    /// `reason` must not contain secrets; it is sanitized and capped all the same.
    pub fn record_transient_failure(&self, reason: &str) {
        let reason = sanitize_reason(reason);
        let threshold = self.inner.config.degraded_after.max(1);
        let mut m = self.lock();
        m.consecutive_failures = m.consecutive_failures.saturating_add(1);
        let failures = m.consecutive_failures;
        match &mut m.state {
            HealthState::NeedsReauthorization { .. } => {}
            HealthState::Degraded {
                consecutive_failures,
                last_error,
                ..
            } => {
                *consecutive_failures = failures;
                *last_error = reason;
            }
            HealthState::Healthy if failures >= threshold => {
                m.state = HealthState::Degraded {
                    since: OffsetDateTime::now_utc(),
                    consecutive_failures: failures,
                    last_error: reason.clone(),
                };
                self.emit(EventKind::ConnectionDegraded, &reason, None);
            }
            HealthState::Healthy => {}
        }
    }

    /// The upstream refused the credentials (`status` 401 or 403) and a token refresh or
    /// re-login could not cure it: the connection needs reauthorization. The first such call
    /// of an episode emits `connection.reauthorization_required`; every later one, however
    /// many arrive concurrently, is absorbed until [`HealthMonitor::reauthorized`].
    ///
    /// `reason` must not contain secrets; it is sanitized and capped all the same.
    pub fn record_auth_failure(&self, status: u16, reason: &str) {
        let mut m = self.lock();
        if matches!(m.state, HealthState::NeedsReauthorization { .. }) {
            return;
        }
        let reason = sanitize_reason(reason);
        m.consecutive_failures = 0;
        m.state = HealthState::NeedsReauthorization {
            since: OffsetDateTime::now_utc(),
            status,
            reason: reason.clone(),
        };
        self.emit(
            EventKind::ConnectionReauthorizationRequired,
            &reason,
            Some(status),
        );
    }

    /// New credentials were supplied (`plantwire connections reauthorize`): ends a
    /// needs-reauthorization episode (emitting `connection.recovered`). In any other state it
    /// changes nothing: new credentials do not cure a network problem.
    pub fn reauthorized(&self) {
        let mut m = self.lock();
        if matches!(m.state, HealthState::NeedsReauthorization { .. }) {
            m.state = HealthState::Healthy;
            m.consecutive_failures = 0;
            self.emit(
                EventKind::ConnectionRecovered,
                "reauthorized with new credentials",
                None,
            );
        }
    }

    /// Emits while the caller holds the lock, so one connection's events leave in the order
    /// its transitions happened.
    fn emit(&self, kind: EventKind, reason: &str, status: Option<u16>) {
        let mut event = Event::new(kind, self.inner.connection_id.clone(), reason);
        event.tenant.clone_from(&self.inner.tenant);
        event.status = status;
        tracing::info!(
            connection = %self.inner.connection_id,
            event = %kind,
            reason = %event.reason,
            "connection health changed"
        );
        self.inner.sink.emit(event);
    }

    fn lock(&self) -> MutexGuard<'_, Machine> {
        // A panicking sink must not take the connection's health down with it: the state
        // itself is always consistent between statements, so a poisoned lock is still usable.
        self.inner
            .machine
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Event>>);

    impl EventSink for Recorder {
        fn emit(&self, event: Event) {
            self.0.lock().expect("recorder").push(event);
        }
    }

    impl Recorder {
        fn kinds(&self) -> Vec<EventKind> {
            self.0
                .lock()
                .expect("recorder")
                .iter()
                .map(|e| e.kind)
                .collect()
        }
    }

    fn monitor() -> (HealthMonitor, Arc<Recorder>) {
        let sink = Arc::new(Recorder::default());
        let m = HealthMonitor::new(
            "conn-1",
            Some("acme".into()),
            HealthConfig::default(),
            sink.clone(),
        );
        (m, sink)
    }

    #[test]
    fn degrades_after_three_transient_failures_and_recovers_on_a_success() {
        let (m, sink) = monitor();
        m.record_transient_failure("timeout");
        m.record_transient_failure("HTTP 503");
        assert_eq!(m.state(), HealthState::Healthy);
        m.record_transient_failure("HTTP 502");
        let HealthState::Degraded {
            consecutive_failures,
            last_error,
            ..
        } = m.state()
        else {
            panic!("not degraded: {:?}", m.state());
        };
        assert_eq!((consecutive_failures, last_error.as_str()), (3, "HTTP 502"));
        m.record_transient_failure("HTTP 504");
        assert!(matches!(
            m.state(),
            HealthState::Degraded {
                consecutive_failures: 4,
                ..
            }
        ));
        m.record_success();
        assert_eq!(m.state(), HealthState::Healthy);
        m.record_success();
        assert_eq!(
            sink.kinds(),
            [
                EventKind::ConnectionDegraded,
                EventKind::ConnectionRecovered
            ]
        );
    }

    #[test]
    fn a_success_in_between_resets_the_count() {
        let (m, sink) = monitor();
        for _ in 0..5 {
            m.record_transient_failure("timeout");
            m.record_transient_failure("timeout");
            m.record_success();
        }
        assert_eq!(m.state(), HealthState::Healthy);
        assert!(sink.kinds().is_empty());
    }

    #[test]
    fn reauthorization_episode_emits_once_and_ends_only_with_new_credentials() {
        let (m, sink) = monitor();
        m.record_transient_failure("timeout");
        m.record_auth_failure(401, "invalid_grant");
        m.record_auth_failure(403, "still refused");
        m.record_success();
        m.record_transient_failure("timeout");
        m.record_transient_failure("timeout");
        m.record_transient_failure("timeout");
        assert!(matches!(
            m.state(),
            HealthState::NeedsReauthorization { status: 401, .. }
        ));
        m.reauthorized();
        assert_eq!(m.state(), HealthState::Healthy);
        m.reauthorized();
        m.record_auth_failure(401, "refused again");
        assert_eq!(
            sink.kinds(),
            [
                EventKind::ConnectionReauthorizationRequired,
                EventKind::ConnectionRecovered,
                EventKind::ConnectionReauthorizationRequired,
            ]
        );
        let events = sink.0.lock().expect("recorder");
        let first = events.first().expect("an event");
        assert_eq!(first.status, Some(401));
        assert_eq!(first.tenant.as_deref(), Some("acme"));
        assert_eq!(first.connection_id, "conn-1");
        assert_eq!(first.reason, "invalid_grant");
    }

    #[test]
    fn an_auth_failure_ends_a_degraded_episode_without_a_recovery() {
        let (m, sink) = monitor();
        for _ in 0..3 {
            m.record_transient_failure("timeout");
        }
        m.record_auth_failure(401, "refused");
        m.reauthorized();
        assert_eq!(
            sink.kinds(),
            [
                EventKind::ConnectionDegraded,
                EventKind::ConnectionReauthorizationRequired,
                EventKind::ConnectionRecovered,
            ]
        );
    }

    #[test]
    fn concurrent_auth_failures_emit_exactly_one_event() {
        let (m, sink) = monitor();
        let barrier = Arc::new(std::sync::Barrier::new(50));
        let threads: Vec<_> = (0..50)
            .map(|i| {
                let (m, barrier) = (m.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    m.record_auth_failure(401, &format!("call {i} refused"));
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(sink.kinds(), [EventKind::ConnectionReauthorizationRequired]);
    }

    #[test]
    fn state_serializes_in_camel_case_with_a_tag() {
        let (m, _) = monitor();
        for _ in 0..3 {
            m.record_transient_failure("HTTP 503");
        }
        let v = serde_json::to_value(m.state()).expect("json");
        assert_eq!(v["state"], "degraded");
        assert_eq!(v["consecutiveFailures"], 3);
        assert_eq!(v["lastError"], "HTTP 503");
        assert!(v["since"].as_str().is_some_and(|s| s.ends_with('Z')));
        m.record_auth_failure(401, "refused");
        let v = serde_json::to_value(m.state()).expect("json");
        assert_eq!(v["state"], "needsReauthorization");
        assert_eq!(v["status"], 401);
        assert_eq!(
            serde_json::to_value(HealthState::Healthy).expect("json"),
            serde_json::json!({"state": "healthy"})
        );
        assert_eq!(m.state().label(), "needs-reauthorization");
    }

    #[test]
    fn reasons_are_sanitized_and_capped() {
        let (m, sink) = monitor();
        let long = format!("Authorization: Bearer planted-s3cret {}", "x".repeat(2000));
        m.record_auth_failure(401, &long);
        let HealthState::NeedsReauthorization { reason, .. } = m.state() else {
            panic!("not needs-reauthorization");
        };
        assert!(reason.len() <= crate::webhooks::MAX_REASON_BYTES);
        assert!(!reason.contains("planted-s3cret"));
        let events = sink.0.lock().expect("recorder");
        assert!(
            events
                .iter()
                .all(|e| !e.to_json().contains("planted-s3cret"))
        );
    }
}
