//! Whether and when to send a request again: a pure decision over the attempt number, the
//! method, the idempotency key and what happened.
//!
//! Only requests that may be replayed are retried (idempotent methods, or any method carrying
//! an idempotency key), only after outcomes that a later attempt can change, at most
//! `max_retries` times, and after a wait that is either the server's (capped) or an exponential
//! backoff with full jitter. The wait is a lower bound: the retry still goes through the
//! governor, which holds it back while the connection is paused.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use plantwire_sdk::HttpError;

use super::GovernorConfig;

/// What came of one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A response that is not a throttle (success, client error, server error).
    Status(u16),
    /// The server refused the request for its rate limit: a 429, a 503 with `Retry-After`, or
    /// Fiix's in-body code 1100.
    Throttled {
        /// The HTTP status of the response (200 for Fiix's in-body throttle).
        status: u16,
        /// The wait the server advised, already capped by `max_retry_after`; `None` if it
        /// gave none.
        wait: Option<Duration>,
        /// The server states that the request was not processed and that clients should
        /// retry it (Fiix `THROTTLED_CLIENT_SHOULD_AUTO_RETRY`), so any method may be replayed.
        server_asks_retry: bool,
    },
    /// No response: the request may or may not have reached the server.
    Transport(TransportKind),
}

/// How a request failed to get a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No answer in time.
    Timeout,
    /// The connection could not be established.
    Connect,
    /// The connection broke (reset, closed) while the request or response was under way.
    Reset,
}

impl Outcome {
    /// The outcome of a delivery failure, or `None` for failures a retry cannot fix (policy
    /// refusals, malformed requests, oversized responses).
    pub fn from_http_error(error: &HttpError) -> Option<Outcome> {
        match error {
            HttpError::Timeout => Some(Outcome::Transport(TransportKind::Timeout)),
            HttpError::Connection(message) => {
                let message = message.to_ascii_lowercase();
                let broke = ["reset", "closed", "broken pipe", "incomplete", "aborted"]
                    .iter()
                    .any(|word| message.contains(word));
                Some(Outcome::Transport(if broke {
                    TransportKind::Reset
                } else {
                    TransportKind::Connect
                }))
            }
            HttpError::ForbiddenHeader(_)
            | HttpError::ForbiddenDestination(_)
            | HttpError::InvalidRequest(_)
            | HttpError::ResponseTooLarge(_)
            // The governor itself decided this; retrying would only wait again.
            | HttpError::RateLimited(_) => None,
        }
    }
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send the request again, no sooner than after this wait (and no sooner than the
    /// governor allows).
    Retry(Duration),
    /// Hand the outcome to the caller as it is.
    GiveUp,
}

/// The retry rules of one connection. Deterministic for a given seed.
#[derive(Debug)]
pub struct RetryPolicy {
    max_retries: u32,
    base_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    /// SplitMix64 state; an atomic so that concurrent requests share one stream without a lock.
    rng: AtomicU64,
}

/// Methods whose repetition has the effect of one request (RFC 9110 §9.2.2).
const IDEMPOTENT: &[&str] = &["GET", "HEAD", "PUT", "DELETE", "OPTIONS"];

impl RetryPolicy {
    /// A policy with the configuration's retry settings, seeded from the process's random
    /// hasher keys.
    pub fn new(config: &GovernorConfig) -> RetryPolicy {
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        RetryPolicy::with_seed(config, seed)
    }

    /// A policy whose jitter is the fixed sequence of `seed` (for tests and reproductions).
    pub fn with_seed(config: &GovernorConfig, seed: u64) -> RetryPolicy {
        RetryPolicy {
            max_retries: config.max_retries,
            base_backoff: config.base_backoff,
            max_backoff: config.max_backoff,
            max_retry_after: config.max_retry_after,
            rng: AtomicU64::new(seed),
        }
    }

    /// Whether to send again after attempt number `attempt` (1 for the first send) of a
    /// request with this method ended in `outcome`.
    ///
    /// Retried: transport failures, throttles, 408, 425, 429, 500, 502, 503, 504 — only for
    /// GET, HEAD, PUT, DELETE, OPTIONS or a request carrying an idempotency key (or a throttle
    /// the server marks as not processed), and at most `max_retries` times. Never retried:
    /// successes and every other 4xx.
    pub fn decide(
        &self,
        attempt: u32,
        method: &str,
        has_idempotency_key: bool,
        outcome: &Outcome,
    ) -> Decision {
        if attempt > self.max_retries {
            return Decision::GiveUp;
        }
        let (retryable, replay_safe_anyway, advised) = match outcome {
            Outcome::Status(status) => (
                matches!(status, 408 | 425 | 429 | 500 | 502 | 503 | 504),
                false,
                None,
            ),
            Outcome::Throttled {
                wait,
                server_asks_retry,
                ..
            } => (true, *server_asks_retry, *wait),
            Outcome::Transport(_) => (true, false, None),
        };
        if !retryable {
            return Decision::GiveUp;
        }
        let method = method.trim();
        let idempotent = IDEMPOTENT.iter().any(|m| m.eq_ignore_ascii_case(method));
        if !(idempotent || has_idempotency_key || replay_safe_anyway) {
            return Decision::GiveUp;
        }
        Decision::Retry(match advised {
            Some(wait) => wait.min(self.max_retry_after),
            None => self.backoff(attempt),
        })
    }

    /// The ceiling of the backoff after attempt `attempt`: `base_backoff · 2^(attempt-1)`,
    /// at most `max_backoff`.
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(63);
        self.base_backoff
            .checked_mul(1u32.checked_shl(doublings).unwrap_or(u32::MAX))
            .unwrap_or(Duration::MAX)
            .min(self.max_backoff)
    }

    /// Full jitter: a uniform wait between zero and the ceiling for this attempt.
    pub fn backoff(&self, attempt: u32) -> Duration {
        // At most u64::MAX nanoseconds (584 years), so the product below fits in 128 bits.
        let ceiling = self
            .backoff_ceiling(attempt)
            .as_nanos()
            .min(u128::from(u64::MAX));
        let sample = (u128::from(self.next_u64()) * (ceiling + 1)) >> 64;
        Duration::from_nanos(u64::try_from(sample).unwrap_or(u64::MAX))
    }

    /// SplitMix64 (Steele, Lea, Flood 2014): one atomic add, then a mix of the new state.
    fn next_u64(&self) -> u64 {
        const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut z = self
            .rng
            .fetch_add(GAMMA, Ordering::Relaxed)
            .wrapping_add(GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max_retries: u32) -> RetryPolicy {
        let config = GovernorConfig {
            max_retries,
            ..GovernorConfig::default()
        };
        RetryPolicy::with_seed(&config, 42)
    }

    fn throttled(wait: Option<Duration>) -> Outcome {
        Outcome::Throttled {
            status: 429,
            wait,
            server_asks_retry: false,
        }
    }

    #[test]
    fn only_replayable_requests_are_retried() {
        let p = policy(3);
        let unavailable = Outcome::Status(503);
        for method in ["GET", "get", "HEAD", "PUT", "DELETE", "OPTIONS"] {
            assert!(
                matches!(p.decide(1, method, false, &unavailable), Decision::Retry(_)),
                "{method}"
            );
        }
        for method in ["POST", "PATCH"] {
            assert_eq!(p.decide(1, method, false, &unavailable), Decision::GiveUp);
            assert_eq!(
                p.decide(
                    1,
                    method,
                    false,
                    &Outcome::Transport(TransportKind::Timeout)
                ),
                Decision::GiveUp
            );
            assert_eq!(
                p.decide(1, method, false, &throttled(Some(Duration::from_secs(1)))),
                Decision::GiveUp
            );
            assert!(matches!(
                p.decide(1, method, true, &unavailable),
                Decision::Retry(_)
            ));
        }
    }

    #[test]
    fn an_explicit_auto_retry_throttle_is_replayable() {
        let p = policy(3);
        let fiix = Outcome::Throttled {
            status: 200,
            wait: Some(Duration::from_millis(2500)),
            server_asks_retry: true,
        };
        assert_eq!(
            p.decide(1, "POST", false, &fiix),
            Decision::Retry(Duration::from_millis(2500))
        );
    }

    #[test]
    fn client_errors_are_not_retried_except_timeouts_and_throttles() {
        let p = policy(3);
        for status in [200, 201, 204, 301, 400, 401, 403, 404, 409, 412, 422, 501] {
            assert_eq!(
                p.decide(1, "GET", false, &Outcome::Status(status)),
                Decision::GiveUp,
                "{status}"
            );
        }
        for status in [408, 425, 429, 500, 502, 503, 504] {
            assert!(
                matches!(
                    p.decide(1, "GET", false, &Outcome::Status(status)),
                    Decision::Retry(_)
                ),
                "{status}"
            );
        }
    }

    #[test]
    fn stops_after_max_retries() {
        let p = policy(3);
        let timeout = Outcome::Transport(TransportKind::Timeout);
        for attempt in 1..=3 {
            assert!(matches!(
                p.decide(attempt, "GET", false, &timeout),
                Decision::Retry(_)
            ));
        }
        assert_eq!(p.decide(4, "GET", false, &timeout), Decision::GiveUp);
        assert_eq!(
            policy(0).decide(1, "GET", false, &timeout),
            Decision::GiveUp
        );
    }

    #[test]
    fn server_waits_are_used_and_capped() {
        let p = policy(3);
        assert_eq!(
            p.decide(1, "GET", false, &throttled(Some(Duration::from_secs(5)))),
            Decision::Retry(Duration::from_secs(5))
        );
        assert_eq!(
            p.decide(
                1,
                "GET",
                false,
                &throttled(Some(Duration::from_secs(86_400)))
            ),
            Decision::Retry(Duration::from_secs(120))
        );
        // No advice: full-jitter backoff.
        let Decision::Retry(wait) = p.decide(2, "GET", false, &throttled(None)) else {
            panic!("a throttled GET is retried");
        };
        assert!(wait <= Duration::from_millis(400));
    }

    #[test]
    fn full_jitter_grows_and_is_bounded() {
        let config = GovernorConfig {
            max_retries: 12,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            ..GovernorConfig::default()
        };
        let p = RetryPolicy::with_seed(&config, 7);
        let ceilings: Vec<Duration> = (1..=8).map(|a| p.backoff_ceiling(a)).collect();
        assert_eq!(
            ceilings,
            [200, 400, 800, 1600, 3200, 5000, 5000, 5000].map(Duration::from_millis)
        );
        let mut previous_mean = Duration::ZERO;
        for attempt in 1..=6 {
            let ceiling = p.backoff_ceiling(attempt);
            let samples: Vec<Duration> = (0..400)
                .map(
                    |_| match p.decide(attempt, "GET", false, &Outcome::Status(503)) {
                        Decision::Retry(wait) => wait,
                        Decision::GiveUp => panic!("attempt {attempt} is retried"),
                    },
                )
                .collect();
            assert!(samples.iter().all(|w| *w <= ceiling), "attempt {attempt}");
            // Full jitter spreads over the whole range, down to near zero and up to the ceiling.
            assert!(samples.iter().any(|w| *w < ceiling / 10));
            assert!(samples.iter().any(|w| *w > ceiling * 9 / 10));
            let mean = samples.iter().sum::<Duration>() / 400;
            assert!(mean > previous_mean, "attempt {attempt}: {mean:?}");
            previous_mean = mean;
        }
        // Huge attempt numbers saturate at the cap.
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn the_same_seed_gives_the_same_waits() {
        let config = GovernorConfig::default();
        let a = RetryPolicy::with_seed(&config, 9);
        let b = RetryPolicy::with_seed(&config, 9);
        let c = RetryPolicy::with_seed(&config, 10);
        let seq = |p: &RetryPolicy| (1..=3).map(|n| p.backoff(n)).collect::<Vec<_>>();
        assert_eq!(seq(&a), seq(&b));
        assert_ne!(seq(&a), seq(&c));
    }

    #[test]
    fn delivery_failures_map_to_outcomes() {
        assert_eq!(
            Outcome::from_http_error(&HttpError::Timeout),
            Some(Outcome::Transport(TransportKind::Timeout))
        );
        assert_eq!(
            Outcome::from_http_error(&HttpError::Connection("tcp connect error".into())),
            Some(Outcome::Transport(TransportKind::Connect))
        );
        assert_eq!(
            Outcome::from_http_error(&HttpError::Connection("connection reset by peer".into())),
            Some(Outcome::Transport(TransportKind::Reset))
        );
        assert_eq!(
            Outcome::from_http_error(&HttpError::ResponseTooLarge(10)),
            None
        );
        assert_eq!(
            Outcome::from_http_error(&HttpError::ForbiddenHeader("cookie".into())),
            None
        );
    }
}
