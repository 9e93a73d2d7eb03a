//! The rate governor of one connection, and its retries.
//!
//! Every request to a connection's system asks the connection's [`Governor`] for a [`Permit`]
//! before it is sent, and every response is shown to it afterwards ([`Governor::observe`]). The
//! governor is the one budget all traffic of that connection shares:
//!
//! * **Proactive**: it never lets more requests out than the configured budget
//!   (`requests_per_window` per sliding `window`, 100 per second unless the connection says
//!   otherwise; `max_concurrent` at once), and once the server
//!   has reported its own remaining budget (MaintainX `X-Rate-Limit-*`, Limble's hour and minute
//!   `X-RateLimit-*`) never more than that until the server's window resets.
//! * **Shared pauses**: when the server throttles (429, 503 with `Retry-After`, Fiix's in-body
//!   code 1100), *all* traffic of the connection waits until the advised time, and then a single
//!   probe request goes first; the others follow only once the probe was not throttled. A burst
//!   of concurrent requests that all hit 429 therefore costs one pause and one probe, not a
//!   storm of retries.
//! * **Retries** ([`RetryPolicy`]): exponential backoff with full jitter, or the server's
//!   advised wait, only for requests that may be replayed, at most `max_retries` times; each
//!   retry asks the governor for a permit again.
//!
//! [`Governor::run`] ties these together for one request: acquire, send, observe, decide.
//!
//! This module must never send a request the budget does not allow, never replay a request
//! that is not safe to replay, never trust a server's wait without a cap, never hold its lock
//! across an `.await`, and never fail a response because a rate-limit header is malformed.

mod retry;
mod signals;

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use plantwire_sdk::{HttpError, Response};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

pub use retry::{Decision, Outcome, RetryPolicy, TransportKind};
use signals::{Signals, WindowKind};

/// The budget and retry settings of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GovernorConfig {
    /// Most requests sent in any `window`; `None` for no local budget (the server's reported
    /// budget still applies). Every connection has one by default
    /// ([`DEFAULT_REQUESTS_PER_WINDOW`](GovernorConfig::DEFAULT_REQUESTS_PER_WINDOW)), so an
    /// adapter in a loop cannot flood a system that sends no rate-limit headers; set it per
    /// connection (`EgressConfig::governor`) to what the customer's system allows.
    pub requests_per_window: Option<u32>,
    /// The sliding window `requests_per_window` applies to.
    pub window: Duration,
    /// Most requests in flight at once; `None` for no limit.
    pub max_concurrent: Option<u32>,
    /// Most retries of one request (so at most `1 + max_retries` attempts).
    pub max_retries: u32,
    /// The backoff ceiling of the first retry; it doubles with each further retry.
    pub base_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// The longest wait taken from a server (`Retry-After`, reset and TTL headers, Fiix's
    /// advisory): a server asking for a day is held to this.
    pub max_retry_after: Duration,
    /// The longest a request may wait for budget; a longer wait fails at once with
    /// [`GovernorError::BudgetWait`] instead of holding the caller.
    pub max_wait: Duration,
}

impl GovernorConfig {
    /// The local budget every connection has unless configured otherwise: 100 requests in
    /// any second. Well above what the shipped systems' own limits allow a client, and far
    /// below what an adapter looping on `http.send` could send to a system that reports no
    /// rate limit of its own (Maximo and SAP send no rate-limit headers).
    pub const DEFAULT_REQUESTS_PER_WINDOW: u32 = 100;
    /// The window of [`DEFAULT_REQUESTS_PER_WINDOW`](GovernorConfig::DEFAULT_REQUESTS_PER_WINDOW).
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(1);
}

impl Default for GovernorConfig {
    /// A local budget of 100 requests per second, no concurrency limit, 3 retries, 200 ms
    /// doubling to at most 30 s, server waits capped at 120 s, requests wait at most 60 s
    /// for budget.
    fn default() -> GovernorConfig {
        GovernorConfig {
            requests_per_window: Some(GovernorConfig::DEFAULT_REQUESTS_PER_WINDOW),
            window: GovernorConfig::DEFAULT_WINDOW,
            max_concurrent: None,
            max_retries: 3,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl GovernorConfig {
    /// The longest duration a setting may have: a week (also keeps instant arithmetic far from
    /// overflow).
    pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

    /// Refuses settings under which no request could ever be sent, and durations over
    /// [`MAX_DURATION`](GovernorConfig::MAX_DURATION).
    pub fn validate(&self) -> Result<(), GovernorError> {
        for (name, value) in [
            ("window", self.window),
            ("base_backoff", self.base_backoff),
            ("max_backoff", self.max_backoff),
            ("max_retry_after", self.max_retry_after),
            ("max_wait", self.max_wait),
        ] {
            if value > GovernorConfig::MAX_DURATION {
                return Err(GovernorError::Config(format!(
                    "`{name}` is {value:?}, more than the longest allowed ({:?})",
                    GovernorConfig::MAX_DURATION
                )));
            }
        }
        if self.requests_per_window == Some(0) {
            return Err(GovernorError::Config(
                "`requests_per_window` is 0, so no request could ever be sent; leave it unset for no local budget".into(),
            ));
        }
        if self.requests_per_window.is_some() && self.window.is_zero() {
            return Err(GovernorError::Config(
                "`window` is zero while `requests_per_window` is set".into(),
            ));
        }
        if self.max_concurrent == Some(0) {
            return Err(GovernorError::Config(
                "`max_concurrent` is 0, so no request could ever be sent; leave it unset for no limit".into(),
            ));
        }
        Ok(())
    }
}

/// Why the governor did not deliver a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GovernorError {
    /// The connection's budget would hold the request longer than `max_wait`.
    #[error(
        "the connection's rate budget would hold this request for at least {needed:?} (waited {waited:?}), longer than `max_wait` ({max_wait:?}); raise `max_wait` to let requests wait that long"
    )]
    BudgetWait {
        /// How long the request already waited.
        waited: Duration,
        /// How long from its start the request would have to wait, at least.
        needed: Duration,
        /// The configured `max_wait`.
        max_wait: Duration,
    },
    /// The configuration allows no request at all.
    #[error("invalid rate governor settings: {0}")]
    Config(String),
    /// The request failed in delivery, and was not (or no longer) retried.
    #[error("the request failed after {attempts} attempt(s)")]
    Upstream {
        /// Attempts made, the first included.
        attempts: u32,
        /// The last delivery failure.
        #[source]
        error: HttpError,
    },
    /// The governor's concurrency limit was shut down.
    #[error("the connection's rate governor is closed")]
    Closed,
}

/// One connection's rate budget, shared by all its traffic. Cloning shares the same budget.
#[derive(Debug, Clone)]
pub struct Governor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: GovernorConfig,
    policy: RetryPolicy,
    state: Mutex<State>,
    /// Wakes waiting acquirers whenever the state changes other than by the passing of time.
    notify: Notify,
    concurrency: Option<Arc<Semaphore>>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements; a panic elsewhere must not wedge
        // the connection.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A server-reported budget, counted down locally between responses.
#[derive(Debug, Clone)]
struct ServerWindow {
    limit: Option<u32>,
    /// Requests left, as last reported minus those sent since (and minus those in flight when
    /// the report came, which the server may not have counted yet).
    remaining: u32,
    reset_at: Instant,
    length: Duration,
    /// Whether the full `limit` is back at `reset_at` (a fixed window whose reset the server
    /// announced); otherwise the estimate is dropped at `reset_at` until a response renews it.
    refills: bool,
}

#[derive(Debug, Default)]
struct State {
    /// Send times within the last `window`, oldest first (only with `requests_per_window`).
    sent: VecDeque<Instant>,
    /// Until when the server asked all traffic to pause.
    blocked_until: Option<Instant>,
    /// After a throttle: the next request is a probe, and the rest wait for its answer.
    half_open: bool,
    probe_in_flight: bool,
    /// Throttles in a row without any advice on how long to wait; doubles the pause.
    consecutive_throttles: u32,
    /// Server-reported budgets, indexed by [`WindowKind::index`].
    windows: [Option<ServerWindow>; WindowKind::ALL.len()],
    in_flight: u32,
}

/// What an acquirer may do now.
enum Step {
    Grant {
        probe: bool,
    },
    /// The budget is known to be spent until then: wait, or fail at once if that is past
    /// `max_wait`.
    WaitUntil(Instant),
    /// An answer in flight will tell (the probe's, or a response that renews a budget estimate
    /// that ran out): wait for it, at most until `until` (if known) or `max_wait`.
    WaitForNews {
        until: Option<Instant>,
    },
}

impl State {
    fn try_grant(&mut self, now: Instant, config: &GovernorConfig) -> Step {
        let mut ready = now;
        let mut news: Option<Instant> = None;
        match self.blocked_until {
            Some(until) if until > now => ready = until,
            Some(_) => self.blocked_until = None,
            None => {}
        }
        for slot in &mut self.windows {
            if let Some(window) = slot.as_mut()
                && now >= window.reset_at
            {
                let next = window.reset_at + window.length;
                if window.refills
                    && next > now
                    && let Some(limit) = window.limit
                {
                    window.remaining = limit;
                    window.reset_at = next;
                } else {
                    *slot = None;
                }
            }
            if let Some(window) = slot
                && window.remaining == 0
            {
                if self.in_flight == 0 {
                    ready = ready.max(window.reset_at);
                } else {
                    // Responses on their way will renew the estimate; it may have run out only
                    // because requests in flight were counted against it.
                    news = Some(news.map_or(window.reset_at, |n: Instant| n.max(window.reset_at)));
                }
            }
        }
        if let Some(budget) = config.requests_per_window {
            while let Some(&oldest) = self.sent.front()
                && oldest + config.window <= now
            {
                self.sent.pop_front();
            }
            let budget = usize::try_from(budget).unwrap_or(usize::MAX);
            if self.sent.len() >= budget {
                let frees = self.sent[self.sent.len() - budget];
                ready = ready.max(frees + config.window);
            }
        }
        if ready > now {
            return Step::WaitUntil(ready);
        }
        if let Some(until) = news {
            return Step::WaitForNews { until: Some(until) };
        }
        let probe = if self.half_open {
            if self.probe_in_flight {
                return Step::WaitForNews { until: None };
            }
            self.probe_in_flight = true;
            true
        } else {
            false
        };
        if config.requests_per_window.is_some() {
            self.sent.push_back(now);
        }
        for window in self.windows.iter_mut().flatten() {
            window.remaining = window.remaining.saturating_sub(1);
        }
        self.in_flight = self.in_flight.saturating_add(1);
        Step::Grant { probe }
    }
}

/// The right to send one request now. Hold it until the response has been observed; dropping
/// it frees the request's concurrency slot.
#[must_use = "a permit is the right to send one request; dropping it at once wastes it"]
pub struct Permit {
    inner: Arc<Inner>,
    probe: bool,
    _slot: Option<OwnedSemaphorePermit>,
}

impl Permit {
    /// Whether this request is the probe after a throttle: the connection's other requests
    /// wait until its response has been observed (or the permit dropped).
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("probe", &self.probe)
            .finish_non_exhaustive()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        {
            let mut state = self.inner.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
            if self.probe {
                state.probe_in_flight = false;
            }
        }
        self.inner.notify.notify_waiters();
    }
}

impl Governor {
    /// A governor for one connection; refuses settings that allow no request.
    pub fn new(config: GovernorConfig) -> Result<Governor, GovernorError> {
        let policy = RetryPolicy::new(&config);
        Governor::build(config, policy)
    }

    /// A governor whose retry jitter follows the fixed sequence of `seed`.
    pub fn with_seed(config: GovernorConfig, seed: u64) -> Result<Governor, GovernorError> {
        let policy = RetryPolicy::with_seed(&config, seed);
        Governor::build(config, policy)
    }

    fn build(config: GovernorConfig, policy: RetryPolicy) -> Result<Governor, GovernorError> {
        config.validate()?;
        let concurrency = config
            .max_concurrent
            .map(|n| Arc::new(Semaphore::new(usize::try_from(n).unwrap_or(usize::MAX))));
        Ok(Governor {
            inner: Arc::new(Inner {
                config,
                policy,
                state: Mutex::new(State::default()),
                notify: Notify::new(),
                concurrency,
            }),
        })
    }

    /// The settings this governor runs with.
    pub fn config(&self) -> &GovernorConfig {
        &self.inner.config
    }

    /// The retry rules this governor's [`run`](Governor::run) applies.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }

    /// Waits until the connection's budget allows one more request, then returns the right to
    /// send it. Fails at once, without waiting, when the wait is known to exceed `max_wait`,
    /// and after `max_wait` when it was not known in advance.
    pub async fn acquire(&self) -> Result<Permit, GovernorError> {
        let inner = &self.inner;
        let start = Instant::now();
        let deadline = start + inner.config.max_wait;
        let slot = match &inner.concurrency {
            None => None,
            Some(semaphore) => {
                match tokio::time::timeout_at(deadline, Arc::clone(semaphore).acquire_owned()).await
                {
                    Ok(Ok(slot)) => Some(slot),
                    Ok(Err(_)) => return Err(GovernorError::Closed),
                    Err(_) => return Err(self.budget_wait(start, deadline)),
                }
            }
        };
        loop {
            // Registered before the state is read, so no change between the two is missed.
            let notified = inner.notify.notified();
            let step = inner.lock().try_grant(Instant::now(), &inner.config);
            match step {
                Step::Grant { probe } => {
                    return Ok(Permit {
                        inner: Arc::clone(inner),
                        probe,
                        _slot: slot,
                    });
                }
                Step::WaitUntil(ready) => {
                    if ready > deadline {
                        return Err(self.budget_wait(start, ready));
                    }
                    tokio::select! {
                        () = tokio::time::sleep_until(ready) => {}
                        () = notified => {}
                    }
                }
                Step::WaitForNews { until } => {
                    let wake = until.map_or(deadline, |until| until.min(deadline));
                    tokio::select! {
                        () = tokio::time::sleep_until(wake) => {
                            if Instant::now() >= deadline {
                                return Err(self.budget_wait(start, until.unwrap_or(deadline)));
                            }
                        }
                        () = notified => {}
                    }
                }
            }
        }
    }

    fn budget_wait(&self, start: Instant, ready: Instant) -> GovernorError {
        let waited = start.elapsed();
        let needed = ready.saturating_duration_since(start);
        tracing::debug!(
            waited_ms = waited.as_millis(),
            needed_ms = needed.as_millis(),
            "request refused: the connection's rate budget would hold it longer than max_wait"
        );
        GovernorError::BudgetWait {
            waited,
            needed,
            max_wait: self.inner.config.max_wait,
        }
    }

    /// Learns from a response of this connection (call it for every response, while still
    /// holding the request's [`Permit`]): the server's remaining budgets and when they reset,
    /// and whether it throttled, in which case all traffic pauses until the advised time
    /// (capped by `max_retry_after`). `now` is the wall clock that `Retry-After` dates and
    /// Limble's `First-Call` times are read against. Returns the outcome for the retry policy.
    ///
    /// Read: `Retry-After` on 429 and 503 (delta-seconds or HTTP-date); MaintainX
    /// `X-Rate-Limit-Limit/-Remaining/-Reset` (seconds to reset); Limble
    /// `X-RateLimit-[Minute-]Limit/-Remaining/-TTL/-First-Call` (hour and minute windows, the
    /// stricter governs); Fiix `{"error": {"code": 1100, "object":
    /// {"P_CLIENT_AUTO_RETRY_WAIT_ADVISORY_MS": n}}}` in any response; MaintainX's 429 text
    /// `Please retry in N seconds`.
    pub fn observe(
        &self,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
        now: SystemTime,
    ) -> Outcome {
        let config = &self.inner.config;
        let cap = config.max_retry_after;
        let signals = Signals::read(status, headers, body, now);
        let at = Instant::now();
        let outcome = {
            let mut state = self.inner.lock();
            // Requests in flight besides the caller's own may not be counted in the report yet.
            let others = state.in_flight.saturating_sub(1);
            let mut exhausted_wait: Option<Duration> = None;
            for report in &signals.windows {
                let remaining = report.remaining.saturating_sub(others);
                let announced = report.reset.is_some();
                let delay = report.reset.unwrap_or_else(|| report.kind.nominal());
                // Capped even while budget remains: an estimate that runs out locally (requests
                // whose answers were never observed) must not hold the connection for an hour.
                let capped = delay > cap;
                let delay = delay.min(cap);
                if report.remaining == 0 {
                    exhausted_wait = exhausted_wait.max(Some(delay));
                }
                let new = ServerWindow {
                    limit: report.limit,
                    remaining,
                    reset_at: at + delay,
                    length: report.kind.nominal(),
                    refills: announced && !capped && report.kind == WindowKind::MaintainX,
                };
                // Each report replaces the last: it counts everything the server has seen,
                // and `others` covers what it may not have seen yet.
                state.windows[report.kind.index()] = Some(new);
            }

            let throttled = status == 429
                || signals.fiix_throttle.is_some()
                || (status == 503 && signals.retry_after.is_some());
            if throttled {
                let advised = [
                    signals.retry_after,
                    signals.fiix_throttle,
                    signals.body_hint,
                    if status == 429 { exhausted_wait } else { None },
                ]
                .into_iter()
                .flatten()
                .max()
                .map(|wait| wait.min(cap));
                state.consecutive_throttles = state.consecutive_throttles.saturating_add(1);
                let pause = advised.unwrap_or_else(|| {
                    self.inner
                        .policy
                        .backoff_ceiling(state.consecutive_throttles)
                });
                let until = at + pause;
                state.blocked_until = Some(state.blocked_until.map_or(until, |b| b.max(until)));
                state.half_open = true;
                tracing::debug!(
                    status,
                    pause_ms = pause.as_millis(),
                    "the server throttled the connection; all its traffic pauses"
                );
                Outcome::Throttled {
                    status,
                    wait: advised,
                    server_asks_retry: signals.fiix_throttle.is_some(),
                }
            } else {
                state.half_open = false;
                state.consecutive_throttles = 0;
                Outcome::Status(status)
            }
        };
        self.inner.notify.notify_waiters();
        outcome
    }

    /// Sends one request under the governor: acquire, `send`, observe, and retry as the
    /// [`RetryPolicy`] decides. Returns the last response (whatever its status) or the last
    /// delivery failure. A retry that cannot get budget within `max_wait` ends the loop with
    /// the previous result; only the first attempt fails with [`GovernorError::BudgetWait`].
    pub async fn run<F, Fut>(
        &self,
        method: &str,
        has_idempotency_key: bool,
        mut send: F,
    ) -> Result<Response, GovernorError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Response, HttpError>>,
    {
        let mut permit = self.acquire().await?;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let result = send().await;
            let outcome = match &result {
                Ok(response) => self.observe(
                    response.status,
                    &response.headers,
                    &response.body,
                    SystemTime::now(),
                ),
                Err(error) => match Outcome::from_http_error(error) {
                    Some(outcome) => outcome,
                    None => return finish(result, attempts),
                },
            };
            drop(permit);
            let wait =
                match self
                    .inner
                    .policy
                    .decide(attempts, method, has_idempotency_key, &outcome)
                {
                    Decision::GiveUp => return finish(result, attempts),
                    Decision::Retry(wait) => wait,
                };
            tracing::debug!(
                attempt = attempts,
                wait_ms = wait.as_millis(),
                ?outcome,
                "retrying"
            );
            tokio::time::sleep(wait).await;
            permit = match self.acquire().await {
                Ok(permit) => permit,
                Err(_) => return finish(result, attempts),
            };
        }
    }
}

fn finish(result: Result<Response, HttpError>, attempts: u32) -> Result<Response, GovernorError> {
    result.map_err(|error| GovernorError::Upstream { attempts, error })
}

#[cfg(test)]
mod tests;
