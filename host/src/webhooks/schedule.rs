//! The retry schedule of webhook deliveries, as pure functions of the message's age and its
//! attempt count, so it is tested without a clock.
//!
//! Default: the first attempt at once, then retries 5 s, 30 s, 2 min, 10 min, 1 h, 2 h, 4 h
//! and 8 h after each failure (8 h repeating), never later than 24 h after the message was
//! enqueued; one last attempt is made at that deadline, and its failure marks the message
//! failed. That is 11 attempts for an endpoint that never answers 2xx.

use std::time::Duration;

use time::OffsetDateTime;

/// When to retry a failed delivery and when to give up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the 1st, 2nd, … failed attempt; the last one repeats.
    pub delays: Vec<Duration>,
    /// The bounded total time: no attempt is made later than this after the message was
    /// enqueued, and a failure at or after it is final.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        const MIN: u64 = 60;
        const HOUR: u64 = 60 * MIN;
        RetryPolicy {
            delays: [5, 30, 2 * MIN, 10 * MIN, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            give_up_after: Duration::from_secs(24 * HOUR),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt (1-based; 0 counts as 1). An empty
    /// delay list waits the whole bounded time.
    pub fn delay_after(&self, attempts: u32) -> Duration {
        let index = usize::try_from(attempts.max(1) - 1).unwrap_or(usize::MAX);
        self.delays
            .get(index)
            .or(self.delays.last())
            .copied()
            .unwrap_or(self.give_up_after)
    }

    /// When to try again after the `attempts`-th attempt of a message enqueued at
    /// `created_at` failed at `now`; `None` to give up. The retry never lands after the
    /// deadline (`created_at + give_up_after`): the last one is made at the deadline itself.
    pub fn next_attempt(
        &self,
        created_at: OffsetDateTime,
        attempts: u32,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        let deadline = add(created_at, self.give_up_after)?;
        if now >= deadline {
            return None;
        }
        let next = add(now, self.delay_after(attempts)).unwrap_or(deadline);
        Some(next.min(deadline))
    }

    /// The offsets from enqueueing at which attempts happen when every one fails at once.
    pub fn attempt_offsets(&self) -> Vec<Duration> {
        let start = OffsetDateTime::UNIX_EPOCH;
        let mut offsets = vec![Duration::ZERO];
        let mut now = start;
        let mut attempts = 1;
        while let Some(next) = self.next_attempt(start, attempts, now) {
            offsets.push((next - start).unsigned_abs());
            now = next;
            attempts += 1;
        }
        offsets
    }
}

fn add(at: OffsetDateTime, d: Duration) -> Option<OffsetDateTime> {
    at.checked_add(time::Duration::try_from(d).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_is_bounded_by_a_day() {
        let secs: Vec<u64> = RetryPolicy::default()
            .attempt_offsets()
            .iter()
            .map(Duration::as_secs)
            .collect();
        assert_eq!(
            secs,
            [0, 5, 35, 155, 755, 4355, 11555, 25955, 54755, 83555, 86400]
        );
    }

    #[test]
    fn delays_grow_then_repeat() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_after(0), Duration::from_secs(5));
        assert_eq!(p.delay_after(1), Duration::from_secs(5));
        assert_eq!(p.delay_after(2), Duration::from_secs(30));
        assert_eq!(p.delay_after(8), Duration::from_secs(8 * 3600));
        assert_eq!(p.delay_after(100), Duration::from_secs(8 * 3600));
    }

    #[test]
    fn gives_up_at_the_deadline() {
        let p = RetryPolicy {
            delays: vec![Duration::from_secs(10)],
            give_up_after: Duration::from_secs(25),
        };
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let at = |s: i64| t0 + time::Duration::seconds(s);
        assert_eq!(p.next_attempt(t0, 1, t0), Some(at(10)));
        assert_eq!(p.next_attempt(t0, 2, at(10)), Some(at(20)));
        assert_eq!(p.next_attempt(t0, 3, at(20)), Some(at(25)));
        assert_eq!(p.next_attempt(t0, 4, at(25)), None);
        assert_eq!(p.next_attempt(t0, 1, at(3600)), None);
        let empty = RetryPolicy {
            delays: vec![],
            give_up_after: Duration::from_secs(25),
        };
        assert_eq!(empty.next_attempt(t0, 1, t0), Some(at(25)));
    }
}
