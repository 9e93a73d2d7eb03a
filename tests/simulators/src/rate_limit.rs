//! A fixed-window request budget, the scheme most maintenance systems document
//! ("N requests per 60 seconds"). Simulators turn its [`RateStatus`] into their vendor's own
//! headers and 429 body.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The limit reported when no limit is enforced: large enough that a client governor reading
/// the remaining budget never waits.
pub(crate) const UNLIMITED: u64 = 1_000_000_000;

/// A budget of `limit` requests per `window`, or unlimited.
#[derive(Debug)]
pub(crate) struct FixedWindow {
    limit: Option<u32>,
    window: Duration,
    state: Mutex<WindowState>,
}

#[derive(Debug)]
struct WindowState {
    started: Instant,
    used: u64,
}

/// The budget as seen by one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateStatus {
    /// The cap for the window ([`UNLIMITED`] when none is enforced).
    pub(crate) limit: u64,
    /// Requests left in the current window.
    pub(crate) remaining: u64,
    /// Whole seconds until the window resets (at least 1).
    pub(crate) reset_secs: u64,
    /// `false` if the request exceeds the budget and must be refused.
    pub(crate) allowed: bool,
}

impl FixedWindow {
    /// A budget of `limit` requests per `window`; `None` never refuses.
    pub(crate) fn new(limit: Option<u32>, window: Duration) -> Self {
        Self {
            limit,
            window,
            state: Mutex::new(WindowState {
                started: Instant::now(),
                used: 0,
            }),
        }
    }

    /// Counts one request against the budget (unless it is refused) and reports the budget.
    pub(crate) fn take(&self) -> RateStatus {
        self.status(true)
    }

    /// Reports the budget without counting a request.
    pub(crate) fn peek(&self) -> RateStatus {
        self.status(false)
    }

    fn status(&self, count: bool) -> RateStatus {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let mut elapsed = now.duration_since(state.started);
        if elapsed >= self.window {
            state.started = now;
            state.used = 0;
            elapsed = Duration::ZERO;
        }
        let left = self.window.saturating_sub(elapsed);
        let reset_secs = left.as_millis().div_ceil(1000).max(1);
        let reset_secs = u64::try_from(reset_secs).unwrap_or(u64::MAX);
        let limit = self.limit.map_or(UNLIMITED, u64::from);
        let allowed = state.used < limit;
        if count && allowed {
            state.used += 1;
        }
        RateStatus {
            limit,
            remaining: limit.saturating_sub(state.used),
            reset_secs,
            allowed: allowed || !count,
        }
    }
}
