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
//! A monitor made with [`HealthMonitor::restore`] keeps its state in a [`HealthStore`] (the
//! connection store, [`crate::store::ConnectionStore`]): the state survives a restart, and
//! monitors of one connection in several processes announce each episode once between them.
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

/// What a [`HealthStore`] keeps of a monitor: its state and the transient failures counted
/// so far (counted while still healthy too, to know when to degrade).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthSnapshot {
    /// The state.
    pub state: HealthState,
    /// Transient failures in a row.
    pub consecutive_failures: u32,
}

impl Default for HealthSnapshot {
    fn default() -> Self {
        HealthSnapshot {
            state: HealthState::Healthy,
            consecutive_failures: 0,
        }
    }
}

/// Why a [`HealthStore`] could not read or write a snapshot (its message names no secret: a
/// snapshot holds none).
pub type HealthStoreError = Box<dyn std::error::Error + Send + Sync>;

/// Where monitors keep their state so that it outlives the process: a connection that needs
/// reauthorization still needs it after a restart, and its episode is not announced twice.
///
/// A monitor calls it on the thread that reports a call's outcome (an async one, often), and
/// only when its own view of the state would change: an implementation must be quick (a local
/// SQLite commit is).
pub trait HealthStore: Send + Sync {
    /// Reads the stored snapshot of `connection_id` (healthy when none is stored), applies
    /// `change` to it and stores the result, all under one exclusive lock shared with every
    /// other monitor of the same store, in this process or another; returns what was stored.
    ///
    /// `change` may emit an event; it runs at most once, and the store must not call back
    /// into the monitor.
    fn update(
        &self,
        connection_id: &str,
        change: &mut dyn FnMut(&mut HealthSnapshot),
    ) -> Result<HealthSnapshot, HealthStoreError>;
}

/// The health of one connection: thread-safe, and cheap to clone and share (an `Arc`).
///
/// A monitor made with [`HealthMonitor::restore`] keeps its state in a [`HealthStore`]. It
/// consults the store only when its own view would change: the transition is then decided on
/// the stored snapshot, under the store's lock, so two monitors of one connection (two
/// processes, or a process and the one after a restart) emit one event per episode between
/// them. The event is emitted before the new state is written: a crash in between may repeat
/// an event, never lose one.
#[derive(Clone)]
pub struct HealthMonitor {
    inner: Arc<Inner>,
}

struct Inner {
    connection_id: String,
    tenant: Option<String>,
    config: HealthConfig,
    sink: Arc<dyn EventSink>,
    store: Option<Arc<dyn HealthStore>>,
    machine: Mutex<HealthSnapshot>,
}

impl fmt::Debug for HealthMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthMonitor")
            .field("connection_id", &self.inner.connection_id)
            .field("tenant", &self.inner.tenant)
            .field("state", &self.state())
            .field("persistent", &self.inner.store.is_some())
            .finish_non_exhaustive()
    }
}

/// What happened to the connection, as the state machine sees it.
#[derive(Debug, Clone, Copy)]
enum Input<'a> {
    Success,
    /// A transient failure, with its sanitized reason.
    Transient(&'a str),
    /// Refused credentials: the upstream status and the sanitized reason.
    AuthFailure(u16, &'a str),
    Reauthorized,
}

/// An event to emit: its kind, reason and upstream status.
type Transition = (EventKind, String, Option<u16>);

/// One step of the state machine: changes `m`, returns the event the change announces.
fn step(
    m: &mut HealthSnapshot,
    input: Input<'_>,
    config: &HealthConfig,
    now: OffsetDateTime,
) -> Option<Transition> {
    match input {
        Input::Success => {
            let failures = m.consecutive_failures;
            m.consecutive_failures = 0;
            if matches!(m.state, HealthState::Degraded { .. }) {
                m.state = HealthState::Healthy;
                return Some((
                    EventKind::ConnectionRecovered,
                    format!("a call succeeded after {failures} consecutive transient failures"),
                    None,
                ));
            }
            None
        }
        Input::Transient(reason) => {
            let threshold = config.degraded_after.max(1);
            m.consecutive_failures = m.consecutive_failures.saturating_add(1);
            let failures = m.consecutive_failures;
            match &mut m.state {
                HealthState::NeedsReauthorization { .. } => None,
                HealthState::Degraded {
                    consecutive_failures,
                    last_error,
                    ..
                } => {
                    *consecutive_failures = failures;
                    reason.clone_into(last_error);
                    None
                }
                HealthState::Healthy if failures >= threshold => {
                    m.state = HealthState::Degraded {
                        since: now,
                        consecutive_failures: failures,
                        last_error: reason.to_owned(),
                    };
                    Some((EventKind::ConnectionDegraded, reason.to_owned(), None))
                }
                HealthState::Healthy => None,
            }
        }
        Input::AuthFailure(status, reason) => {
            if matches!(m.state, HealthState::NeedsReauthorization { .. }) {
                return None;
            }
            m.consecutive_failures = 0;
            m.state = HealthState::NeedsReauthorization {
                since: now,
                status,
                reason: reason.to_owned(),
            };
            Some((
                EventKind::ConnectionReauthorizationRequired,
                reason.to_owned(),
                Some(status),
            ))
        }
        Input::Reauthorized => {
            if !matches!(m.state, HealthState::NeedsReauthorization { .. }) {
                return None;
            }
            m.state = HealthState::Healthy;
            m.consecutive_failures = 0;
            Some((
                EventKind::ConnectionRecovered,
                "reauthorized with new credentials".to_owned(),
                None,
            ))
        }
    }
}

impl HealthMonitor {
    /// A monitor for `connection_id` (owned by `tenant`, if any), starting healthy, emitting
    /// its transitions to `sink`, keeping its state in memory only.
    pub fn new(
        connection_id: impl Into<String>,
        tenant: Option<String>,
        config: HealthConfig,
        sink: Arc<dyn EventSink>,
    ) -> HealthMonitor {
        HealthMonitor::build(
            connection_id.into(),
            tenant,
            config,
            sink,
            None,
            HealthSnapshot::default(),
        )
    }

    /// A monitor that resumes from `snapshot` (as `store` last stored it) and keeps every
    /// change in `store`. A connection restored as needing reauthorization does not announce
    /// its episode again; a count of transient failures goes on where it stopped.
    pub fn restore(
        connection_id: impl Into<String>,
        tenant: Option<String>,
        config: HealthConfig,
        sink: Arc<dyn EventSink>,
        store: Arc<dyn HealthStore>,
        snapshot: HealthSnapshot,
    ) -> HealthMonitor {
        HealthMonitor::build(
            connection_id.into(),
            tenant,
            config,
            sink,
            Some(store),
            snapshot,
        )
    }

    fn build(
        connection_id: String,
        tenant: Option<String>,
        config: HealthConfig,
        sink: Arc<dyn EventSink>,
        store: Option<Arc<dyn HealthStore>>,
        snapshot: HealthSnapshot,
    ) -> HealthMonitor {
        HealthMonitor {
            inner: Arc::new(Inner {
                connection_id,
                tenant,
                config,
                sink,
                store,
                machine: Mutex::new(snapshot),
            }),
        }
    }

    /// The connection this monitor watches.
    pub fn connection_id(&self) -> &str {
        &self.inner.connection_id
    }

    /// The current state, as this monitor last saw it.
    pub fn state(&self) -> HealthState {
        self.lock().state.clone()
    }

    /// The current state with the count of transient failures.
    pub fn snapshot(&self) -> HealthSnapshot {
        self.lock().clone()
    }

    /// A call succeeded: ends a degraded episode (emitting `connection.recovered`). It does
    /// not end a needs-reauthorization episode: a call that was already in flight may still
    /// succeed after the credentials were refused, and only new credentials cure that.
    pub fn record_success(&self) {
        self.apply(Input::Success);
    }

    /// A call failed for a reason that may pass (timeout, 5xx, dropped connection). After
    /// [`HealthConfig::degraded_after`] in a row the connection is degraded (emitting
    /// `connection.degraded` once). Ignored while the connection needs reauthorization.
    ///
    /// `reason` must not contain secrets; it is sanitized and capped all the same.
    pub fn record_transient_failure(&self, reason: &str) {
        let reason = sanitize_reason(reason);
        self.apply(Input::Transient(&reason));
    }

    /// The upstream refused the credentials (`status` 401 or 403) and a token refresh or
    /// re-login could not cure it: the connection needs reauthorization. The first such call
    /// of an episode emits `connection.reauthorization_required`; every later one, however
    /// many arrive concurrently, is absorbed until [`HealthMonitor::reauthorized`].
    ///
    /// `reason` must not contain secrets; it is sanitized and capped all the same.
    pub fn record_auth_failure(&self, status: u16, reason: &str) {
        let reason = sanitize_reason(reason);
        self.apply(Input::AuthFailure(status, &reason));
    }

    /// New credentials were supplied (`plantwire reauthorize`): ends a needs-reauthorization
    /// episode (emitting `connection.recovered`). In any other state it changes nothing: new
    /// credentials do not cure a network problem.
    pub fn reauthorized(&self) {
        self.apply(Input::Reauthorized);
    }

    /// Runs one step, on the stored snapshot when there is a store. Emits while the monitor's
    /// lock (and the store's) is held, so one connection's events leave in the order its
    /// transitions happened.
    fn apply(&self, input: Input<'_>) {
        let now = OffsetDateTime::now_utc();
        let config = &self.inner.config;
        let mut m = self.lock();
        let mut next = m.clone();
        let transition = step(&mut next, input, config, now);
        if transition.is_none() && next == *m {
            return;
        }
        let Some(store) = &self.inner.store else {
            *m = next;
            if let Some(t) = transition {
                self.emit(t);
            }
            return;
        };
        let mut stepped: Option<HealthSnapshot> = None;
        let result = store.update(&self.inner.connection_id, &mut |stored| {
            if stepped.is_some() {
                return; // a store that calls twice gets no second event
            }
            if let Some(t) = step(stored, input, config, now) {
                self.emit(t);
            }
            stepped = Some(stored.clone());
        });
        match (result, stepped) {
            (Ok(stored), _) => *m = stored,
            (Err(error), Some(stepped)) => {
                tracing::error!(
                    connection = %self.inner.connection_id,
                    error = %error,
                    "connection health could not be stored"
                );
                *m = stepped;
            }
            (Err(error), None) => {
                // The store could not be read: go on from this monitor's own view, so the
                // transition is still announced.
                tracing::error!(
                    connection = %self.inner.connection_id,
                    error = %error,
                    "connection health could not be read from its store"
                );
                *m = next;
                if let Some(t) = transition {
                    self.emit(t);
                }
            }
        }
    }

    fn emit(&self, (kind, reason, status): Transition) {
        let mut event = Event::new(kind, self.inner.connection_id.clone(), &reason);
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

    fn lock(&self) -> MutexGuard<'_, HealthSnapshot> {
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

    /// A store in memory, shared by the monitors given it (as a database is by processes).
    #[derive(Default)]
    struct MemoryStore {
        rows: Mutex<std::collections::HashMap<String, HealthSnapshot>>,
        fail: std::sync::atomic::AtomicBool,
    }

    impl HealthStore for MemoryStore {
        fn update(
            &self,
            connection_id: &str,
            change: &mut dyn FnMut(&mut HealthSnapshot),
        ) -> Result<HealthSnapshot, HealthStoreError> {
            if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
                return Err("the store is unavailable".into());
            }
            let mut rows = self.rows.lock().expect("rows");
            let row = rows.entry(connection_id.to_owned()).or_default();
            change(row);
            Ok(row.clone())
        }
    }

    impl MemoryStore {
        fn get(&self, id: &str) -> HealthSnapshot {
            self.rows
                .lock()
                .expect("rows")
                .get(id)
                .cloned()
                .unwrap_or_default()
        }
    }

    fn restored(store: &Arc<MemoryStore>, sink: &Arc<Recorder>) -> HealthMonitor {
        HealthMonitor::restore(
            "conn-1",
            None,
            HealthConfig::default(),
            sink.clone(),
            store.clone(),
            store.get("conn-1"),
        )
    }

    #[test]
    fn a_restored_episode_is_not_announced_again() {
        let store = Arc::new(MemoryStore::default());
        let first_sink = Arc::new(Recorder::default());
        let first = restored(&store, &first_sink);
        first.record_auth_failure(401, "Invalid token");
        assert_eq!(
            first_sink.kinds(),
            [EventKind::ConnectionReauthorizationRequired]
        );
        let stored = store.get("conn-1");
        assert!(matches!(
            stored.state,
            HealthState::NeedsReauthorization { status: 401, .. }
        ));

        // The next process: the same episode goes on, silently, until new credentials.
        let sink = Arc::new(Recorder::default());
        let next = restored(&store, &sink);
        assert_eq!(next.state(), stored.state);
        next.record_auth_failure(401, "Invalid token");
        next.record_success();
        assert!(sink.kinds().is_empty());
        next.reauthorized();
        next.reauthorized();
        assert_eq!(sink.kinds(), [EventKind::ConnectionRecovered]);
        assert_eq!(store.get("conn-1"), HealthSnapshot::default());
    }

    #[test]
    fn two_monitors_of_one_connection_announce_one_episode_between_them() {
        let store = Arc::new(MemoryStore::default());
        let sink = Arc::new(Recorder::default());
        let a = restored(&store, &sink);
        let b = restored(&store, &sink);
        a.record_auth_failure(401, "refused");
        // b still believes the connection healthy; the store knows better.
        assert_eq!(b.state(), HealthState::Healthy);
        b.record_auth_failure(401, "refused");
        assert_eq!(b.state().label(), "needs-reauthorization");
        b.reauthorized();
        // a believes it still needs reauthorization; the store says it no longer does.
        a.reauthorized();
        assert_eq!(a.state(), HealthState::Healthy);
        assert_eq!(
            sink.kinds(),
            [
                EventKind::ConnectionReauthorizationRequired,
                EventKind::ConnectionRecovered
            ]
        );
    }

    #[test]
    fn the_count_of_transient_failures_survives_a_restart() {
        let store = Arc::new(MemoryStore::default());
        let sink = Arc::new(Recorder::default());
        let first = restored(&store, &sink);
        first.record_transient_failure("timeout");
        first.record_transient_failure("HTTP 503");
        assert_eq!(store.get("conn-1").consecutive_failures, 2);
        let next = restored(&store, &sink);
        next.record_transient_failure("HTTP 502");
        assert_eq!(sink.kinds(), [EventKind::ConnectionDegraded]);
        let HealthState::Degraded {
            consecutive_failures,
            last_error,
            ..
        } = store.get("conn-1").state
        else {
            panic!("not degraded: {:?}", store.get("conn-1"));
        };
        assert_eq!((consecutive_failures, last_error.as_str()), (3, "HTTP 502"));
        // A success that changes nothing is not written.
        next.record_success();
        assert_eq!(store.get("conn-1"), HealthSnapshot::default());
        assert_eq!(
            sink.kinds(),
            [
                EventKind::ConnectionDegraded,
                EventKind::ConnectionRecovered
            ]
        );
    }

    #[test]
    fn a_failing_store_still_lets_transitions_be_announced() {
        let store = Arc::new(MemoryStore::default());
        store.fail.store(true, std::sync::atomic::Ordering::SeqCst);
        let sink = Arc::new(Recorder::default());
        let m = restored(&store, &sink);
        m.record_auth_failure(401, "refused");
        m.record_auth_failure(401, "refused");
        assert_eq!(sink.kinds(), [EventKind::ConnectionReauthorizationRequired]);
        assert_eq!(m.state().label(), "needs-reauthorization");
        assert_eq!(m.snapshot().consecutive_failures, 0);
    }
}
