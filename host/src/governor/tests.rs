//! The governor under virtual time (`start_paused`): every wait below is exact, and a test that
//! "waits an hour" finishes in microseconds.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::UNIX_EPOCH;

use super::*;

fn governor(config: GovernorConfig) -> Governor {
    Governor::with_seed(config, 1).unwrap()
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn response(status: u16, pairs: &[(&str, &str)], body: &str) -> Response {
    Response {
        status,
        headers: headers(pairs),
        body: body.as_bytes().to_vec(),
    }
}

/// A wall clock on a whole second, so HTTP-dates (1 s resolution) are exact.
fn wall() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// How long the next acquire waits.
async fn next_wait(g: &Governor) -> Duration {
    let start = Instant::now();
    let permit = g.acquire().await.unwrap();
    drop(permit);
    start.elapsed()
}

fn observe(g: &Governor, status: u16, pairs: &[(&str, &str)], body: &str) -> Outcome {
    g.observe(status, &headers(pairs), body.as_bytes(), wall())
}

// ----------------------------------------------------------------------------- proactive budget

#[tokio::test(start_paused = true)]
async fn local_budget_is_never_exceeded() {
    for (n, budget) in [(10u32, 3u32), (25, 4), (7, 7), (1, 5)] {
        let window = Duration::from_secs(1);
        let g = governor(GovernorConfig {
            requests_per_window: Some(budget),
            window,
            max_wait: Duration::from_secs(600),
            ..GovernorConfig::default()
        });
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let g = g.clone();
                tokio::spawn(async move {
                    let permit = g.acquire().await.unwrap();
                    drop(permit);
                    start.elapsed()
                })
            })
            .collect();
        let mut sent = Vec::new();
        for task in tasks {
            sent.push(task.await.unwrap());
        }
        sent.sort();
        // ceil(n / budget) - 1 full windows of waiting, and no more.
        let windows = n.div_ceil(budget) - 1;
        assert_eq!(
            sent.last().copied(),
            Some(window * windows),
            "n={n} b={budget}"
        );
        for t in &sent {
            let in_window = sent.iter().filter(|s| **s >= *t && **s < *t + window);
            assert!(in_window.count() <= budget as usize, "n={n} b={budget}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn every_connection_has_a_default_local_budget() {
    // A loop of requests on a default governor, with no server signals at all (a system that
    // sends no rate-limit headers): at most the default budget per window goes out.
    let config = GovernorConfig::default();
    assert_eq!(
        config.requests_per_window,
        Some(GovernorConfig::DEFAULT_REQUESTS_PER_WINDOW)
    );
    let window = config.window;
    let g = governor(GovernorConfig {
        max_wait: Duration::from_secs(600),
        ..config
    });
    let start = Instant::now();
    let mut sent = Vec::new();
    for _ in 0..350 {
        let permit = g.acquire().await.unwrap();
        observe(&g, 200, &[], "{}");
        drop(permit);
        sent.push(start.elapsed());
    }
    let budget = GovernorConfig::DEFAULT_REQUESTS_PER_WINDOW as usize;
    for t in &sent {
        let in_window = sent
            .iter()
            .filter(|s| **s >= *t && **s < *t + window)
            .count();
        assert!(in_window <= budget, "{in_window} requests in one window");
    }
    // 350 requests at 100 per second: three full windows of waiting.
    assert_eq!(sent.last().copied(), Some(window * 3));

    // The budget is per connection: another governor is not held by this one.
    let other = governor(GovernorConfig::default());
    assert_eq!(next_wait(&other).await, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn concurrency_limit_holds_the_next_request() {
    let g = governor(GovernorConfig {
        max_concurrent: Some(2),
        ..GovernorConfig::default()
    });
    let a = g.acquire().await.unwrap();
    let _b = g.acquire().await.unwrap();
    let waiting = {
        let g = g.clone();
        tokio::spawn(async move { next_wait(&g).await })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!waiting.is_finished());
    drop(a);
    assert_eq!(waiting.await.unwrap(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn budget_wait_fails_fast_and_names_the_setting() {
    let g = governor(GovernorConfig {
        max_wait: Duration::from_secs(10),
        ..GovernorConfig::default()
    });
    observe(
        &g,
        200,
        &[
            ("X-Rate-Limit-Remaining", "0"),
            ("X-Rate-Limit-Reset", "30"),
        ],
        "{}",
    );
    let start = Instant::now();
    let error = g.acquire().await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO, "no point in waiting first");
    match &error {
        GovernorError::BudgetWait {
            waited,
            needed,
            max_wait,
        } => {
            assert_eq!(*waited, Duration::ZERO);
            assert_eq!(*needed, Duration::from_secs(30));
            assert_eq!(*max_wait, Duration::from_secs(10));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(error.to_string().contains("`max_wait`"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_concurrency_wait_past_max_wait_fails() {
    let g = governor(GovernorConfig {
        max_concurrent: Some(1),
        max_wait: Duration::from_secs(5),
        ..GovernorConfig::default()
    });
    let _held = g.acquire().await.unwrap();
    let start = Instant::now();
    let error = g.acquire().await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert!(matches!(error, GovernorError::BudgetWait { .. }));
}

#[test]
fn settings_that_allow_nothing_are_refused() {
    for config in [
        GovernorConfig {
            requests_per_window: Some(0),
            ..GovernorConfig::default()
        },
        GovernorConfig {
            requests_per_window: Some(5),
            window: Duration::ZERO,
            ..GovernorConfig::default()
        },
        GovernorConfig {
            max_concurrent: Some(0),
            ..GovernorConfig::default()
        },
        GovernorConfig {
            max_retry_after: Duration::MAX,
            ..GovernorConfig::default()
        },
    ] {
        assert!(matches!(
            Governor::new(config),
            Err(GovernorError::Config(_))
        ));
    }
    assert!(Governor::new(GovernorConfig::default()).is_ok());
}

// ------------------------------------------------------------------------------- Retry-After

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_pause_the_connection_with_a_cap() {
    let g = governor(GovernorConfig {
        max_wait: Duration::from_secs(600),
        ..GovernorConfig::default()
    });
    let outcome = observe(&g, 429, &[("Retry-After", "5")], "");
    assert_eq!(
        outcome,
        Outcome::Throttled {
            status: 429,
            wait: Some(Duration::from_secs(5)),
            server_asks_retry: false,
        }
    );
    assert_eq!(next_wait(&g).await, Duration::from_secs(5));
    observe(&g, 200, &[], "");

    observe(&g, 503, &[("Retry-After", "86400")], "");
    assert_eq!(next_wait(&g).await, Duration::from_secs(120), "capped");
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_is_relative_to_now_and_capped() {
    let g = governor(GovernorConfig {
        max_wait: Duration::from_secs(600),
        ..GovernorConfig::default()
    });
    let in_30s = httpdate::fmt_http_date(wall() + Duration::from_secs(30));
    observe(&g, 429, &[("retry-after", &in_30s)], "");
    assert_eq!(next_wait(&g).await, Duration::from_secs(30));
    observe(&g, 200, &[], "");

    let tomorrow = httpdate::fmt_http_date(wall() + Duration::from_secs(86_400));
    observe(&g, 503, &[("Retry-After", &tomorrow)], "");
    assert_eq!(next_wait(&g).await, Duration::from_secs(120), "capped");
}

#[tokio::test(start_paused = true)]
async fn a_429_without_advice_pauses_with_growing_backoff() {
    let g = governor(GovernorConfig::default());
    for expected_ms in [200, 400, 800] {
        let outcome = observe(&g, 429, &[], "");
        assert!(matches!(outcome, Outcome::Throttled { wait: None, .. }));
        assert_eq!(next_wait(&g).await, Duration::from_millis(expected_ms));
    }
    observe(&g, 200, &[], "");
    observe(&g, 429, &[], "");
    assert_eq!(next_wait(&g).await, Duration::from_millis(200), "reset");
}

#[tokio::test(start_paused = true)]
async fn a_503_without_retry_after_is_not_a_shared_pause() {
    let g = governor(GovernorConfig::default());
    assert_eq!(observe(&g, 503, &[], ""), Outcome::Status(503));
    assert_eq!(next_wait(&g).await, Duration::ZERO);
}

// --------------------------------------------------------------------------------- MaintainX

#[tokio::test(start_paused = true)]
async fn maintainx_remaining_zero_waits_for_the_reset() {
    let g = governor(GovernorConfig::default());
    observe(
        &g,
        200,
        &[
            ("X-Rate-Limit-Limit", "100"),
            ("X-Rate-Limit-Remaining", "0"),
            ("X-Rate-Limit-Reset", "7"),
        ],
        "{}",
    );
    assert_eq!(next_wait(&g).await, Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn maintainx_remaining_is_spent_proactively_and_refills_at_reset() {
    let g = governor(GovernorConfig::default());
    observe(
        &g,
        200,
        &[
            ("x-rate-limit-limit", "3"),
            ("x-rate-limit-remaining", "2"),
            ("x-rate-limit-reset", "30"),
        ],
        "{}",
    );
    assert_eq!(next_wait(&g).await, Duration::ZERO);
    assert_eq!(next_wait(&g).await, Duration::ZERO);
    assert_eq!(next_wait(&g).await, Duration::from_secs(30), "budget spent");
    // The fixed window came back full (3, one already used); the next reset is 60 s later.
    assert_eq!(next_wait(&g).await, Duration::ZERO);
    assert_eq!(next_wait(&g).await, Duration::ZERO);
    assert_eq!(next_wait(&g).await, Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn maintainx_429_pauses_until_the_reset() {
    let g = governor(GovernorConfig::default());
    let outcome = observe(
        &g,
        429,
        &[
            ("X-Rate-Limit-Limit", "100"),
            ("X-Rate-Limit-Remaining", "0"),
            ("X-Rate-Limit-Reset", "12"),
        ],
        r#"{"error":"Too many requests. Please retry in 12 seconds"}"#,
    );
    assert_eq!(
        outcome,
        Outcome::Throttled {
            status: 429,
            wait: Some(Duration::from_secs(12)),
            server_asks_retry: false,
        }
    );
    assert_eq!(next_wait(&g).await, Duration::from_secs(12));
}

#[tokio::test(start_paused = true)]
async fn reports_count_requests_still_in_flight() {
    let g = governor(GovernorConfig::default());
    let a = g.acquire().await.unwrap();
    let b = g.acquire().await.unwrap();
    let own = g.acquire().await.unwrap();
    // The server counted `own` but maybe not `a` and `b`: 3 left means at most 1 for us.
    observe(
        &g,
        200,
        &[
            ("X-Rate-Limit-Remaining", "3"),
            ("X-Rate-Limit-Reset", "30"),
        ],
        "{}",
    );
    drop((a, b, own));
    assert_eq!(next_wait(&g).await, Duration::ZERO);
    assert_eq!(next_wait(&g).await, Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn an_estimate_spent_by_requests_in_flight_waits_for_their_answers() {
    let g = governor(GovernorConfig {
        max_wait: Duration::from_secs(10),
        ..GovernorConfig::default()
    });
    let a = g.acquire().await.unwrap();
    let b = g.acquire().await.unwrap();
    let own = g.acquire().await.unwrap();
    observe(
        &g,
        200,
        &[
            ("X-Rate-Limit-Remaining", "2"),
            ("X-Rate-Limit-Reset", "30"),
        ],
        "{}",
    );
    drop((b, own));
    // The reset is 30 s off, past `max_wait`, but `a` is still out: its answer may free
    // budget, so the next request waits for it instead of failing at once.
    let waiter = {
        let g = g.clone();
        tokio::spawn(async move { next_wait(&g).await })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!waiter.is_finished());
    observe(
        &g,
        200,
        &[
            ("X-Rate-Limit-Remaining", "1"),
            ("X-Rate-Limit-Reset", "29"),
        ],
        "{}",
    );
    drop(a);
    assert_eq!(waiter.await.unwrap(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn an_estimate_without_answers_in_flight_is_firm() {
    let g = governor(GovernorConfig {
        max_wait: Duration::from_secs(10),
        ..GovernorConfig::default()
    });
    let own = g.acquire().await.unwrap();
    observe(
        &g,
        200,
        &[
            ("X-Rate-Limit-Remaining", "1"),
            ("X-Rate-Limit-Reset", "30"),
        ],
        "{}",
    );
    drop(own);
    assert_eq!(next_wait(&g).await, Duration::ZERO);
    // Spent, nothing in flight to renew it: the reset is 30 s away, so fail now.
    assert!(matches!(
        g.acquire().await,
        Err(GovernorError::BudgetWait { needed, .. }) if needed == Duration::from_secs(30)
    ));
}

// ------------------------------------------------------------------------------------ Limble

#[tokio::test(start_paused = true)]
async fn limble_minute_exhausted_waits_the_minute_ttl() {
    let g = governor(GovernorConfig::default());
    observe(
        &g,
        429,
        &[
            ("X-RateLimit-Limit", "4000"),
            ("X-RateLimit-Remaining", "3500"),
            ("X-RateLimit-Minute-Limit", "360"),
            ("X-RateLimit-Minute-Remaining", "0"),
            ("X-RateLimit-Minute-TTL", "42000"),
        ],
        "",
    );
    assert_eq!(next_wait(&g).await, Duration::from_secs(42));
}

#[tokio::test(start_paused = true)]
async fn limble_minute_exhausted_on_a_success_waits_too() {
    let g = governor(GovernorConfig::default());
    let outcome = observe(
        &g,
        200,
        &[
            ("X-RateLimit-Remaining", "3500"),
            ("X-RateLimit-Minute-Remaining", "0"),
            ("X-RateLimit-Minute-TTL", "15"),
        ],
        "[]",
    );
    assert_eq!(outcome, Outcome::Status(200));
    assert_eq!(next_wait(&g).await, Duration::from_secs(15));
}

#[tokio::test(start_paused = true)]
async fn limble_hour_exhausted_waits_the_hour_ttl() {
    let g = governor(GovernorConfig {
        max_retry_after: Duration::from_secs(3600),
        max_wait: Duration::from_secs(3600),
        ..GovernorConfig::default()
    });
    let limited = [
        ("X-RateLimit-Limit", "4000"),
        ("X-RateLimit-Remaining", "0"),
        ("X-RateLimit-TTL", "600000"),
        ("X-RateLimit-Minute-Limit", "360"),
        ("X-RateLimit-Minute-Remaining", "200"),
    ];
    observe(&g, 429, &limited, "");
    assert_eq!(next_wait(&g).await, Duration::from_secs(600));

    // With the default cap, a server asking for longer is held to 120 s.
    let g = governor(GovernorConfig {
        max_wait: Duration::from_secs(600),
        ..GovernorConfig::default()
    });
    observe(&g, 429, &limited, "");
    assert_eq!(next_wait(&g).await, Duration::from_secs(120));
}

#[tokio::test(start_paused = true)]
async fn limble_both_exhausted_waits_the_stricter() {
    let g = governor(GovernorConfig {
        max_retry_after: Duration::from_secs(3600),
        max_wait: Duration::from_secs(3600),
        ..GovernorConfig::default()
    });
    observe(
        &g,
        429,
        &[
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-TTL", "300000"),
            ("X-RateLimit-Minute-Remaining", "0"),
            ("X-RateLimit-Minute-TTL", "20000"),
        ],
        "",
    );
    assert_eq!(next_wait(&g).await, Duration::from_secs(300));
}

#[tokio::test(start_paused = true)]
async fn limble_first_call_gives_the_reset_without_ttl() {
    let g = governor(GovernorConfig::default());
    let first_call = (wall() - Duration::from_secs(45))
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    observe(
        &g,
        200,
        &[
            ("X-RateLimit-Remaining", "100"),
            ("X-RateLimit-Minute-Remaining", "0"),
            ("X-RateLimit-Minute-First-Call", &first_call),
        ],
        "[]",
    );
    assert_eq!(next_wait(&g).await, Duration::from_secs(15));
}

// -------------------------------------------------------------------------------------- Fiix

#[tokio::test(start_paused = true)]
async fn fiix_in_body_throttle_pauses_for_the_advisory() {
    let g = governor(GovernorConfig::default());
    let body = r#"{"_maCn":"FindResponse","error":{"leg":"SERVER_REQUEST_PROCESS","code":1100,
        "message":"Throttled","object":{"P_CLIENT_AUTO_RETRY_WAIT_ADVISORY_MS":2500}}}"#;
    assert_eq!(
        observe(&g, 200, &[], body),
        Outcome::Throttled {
            status: 200,
            wait: Some(Duration::from_millis(2500)),
            server_asks_retry: true,
        }
    );
    assert_eq!(next_wait(&g).await, Duration::from_millis(2500));
}

#[tokio::test(start_paused = true)]
async fn fiix_throttled_rpc_is_retried_even_as_post() {
    let g = governor(GovernorConfig::default());
    let calls = AtomicU32::new(0);
    let start = Instant::now();
    let result = g
        .run("POST", false, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(if n == 0 {
                    response(
                        200,
                        &[],
                        r#"{"error":{"code":1100,"object":{"P_CLIENT_AUTO_RETRY_WAIT_ADVISORY_MS":1500}}}"#,
                    )
                } else {
                    response(200, &[], r#"{"objects":[],"totalObjects":0}"#)
                })
            }
        })
        .await
        .unwrap();
    assert_eq!(result.body, br#"{"objects":[],"totalObjects":0}"#);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(start.elapsed(), Duration::from_millis(1500));
}

// ------------------------------------------------------------------------- storms and probes

/// Round trip of the storm's server.
const LATENCY: Duration = Duration::from_millis(100);

/// 50 concurrent GETs against a server that answers, after [`LATENCY`], 429 with
/// `Retry-After: 5` to every request sent before `recovers`.
async fn storm(recovers: Option<Duration>) -> (Vec<Duration>, Vec<Result<Response, String>>) {
    let g = governor(GovernorConfig::default());
    let start = Instant::now();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let g = g.clone();
            let calls = Arc::clone(&calls);
            tokio::spawn(async move {
                g.run("GET", false, || {
                    let at = start.elapsed();
                    calls.lock().unwrap().push(at);
                    async move {
                        tokio::time::sleep(LATENCY).await;
                        Ok(if recovers.is_some_and(|r| at >= r) {
                            response(200, &[], "{}")
                        } else {
                            response(429, &[("Retry-After", "5")], "")
                        })
                    }
                })
                .await
                .map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let mut calls = calls.lock().unwrap().clone();
    calls.sort();
    (calls, results)
}

#[tokio::test(start_paused = true)]
async fn a_storm_of_429s_is_one_pause_and_one_probe() {
    let (calls, results) = storm(Some(Duration::from_secs(5))).await;
    // 50 at once, refused; after the one shared 5 s pause a single probe goes, succeeds, and
    // only then do the other 49 follow.
    assert_eq!(calls.len(), 100, "{calls:?}");
    assert!(calls[..50].iter().all(|t| t.is_zero()));
    let resumed = LATENCY + Duration::from_secs(5);
    assert_eq!(calls[50], resumed, "the probe");
    assert!(
        calls[51..].iter().all(|t| *t == resumed + LATENCY),
        "{calls:?}"
    );
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status == 200))
    );
}

#[tokio::test(start_paused = true)]
async fn a_lasting_storm_costs_one_probe_per_pause() {
    let (calls, results) = storm(None).await;
    // The first wave, then one probe per 5 s pause — never a second wave of 50.
    assert!(calls[..50].iter().all(|t| t.is_zero()));
    let probes = &calls[50..];
    assert!(!probes.is_empty());
    for pair in probes.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_secs(5), "{probes:?}");
    }
    // Bounded: one probe per pause (5 s + the round trip) until the waiting requests run out
    // of patience (`max_wait`, 60 s after they began waiting at 5.1 s): 12 probes, not the
    // 150 retries of 50 requests retrying 3 times each.
    assert_eq!(probes.len(), 12, "{probes:?}");
    // Every request ends with the server's answer, not an internal error.
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status == 429))
    );
}

#[tokio::test(start_paused = true)]
async fn after_a_throttle_one_probe_goes_first() {
    let g = governor(GovernorConfig::default());
    observe(&g, 429, &[("Retry-After", "2")], "");
    let probe = g.acquire().await.unwrap();
    assert!(probe.is_probe());
    let follower = {
        let g = g.clone();
        tokio::spawn(async move { next_wait(&g).await })
    };
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(!follower.is_finished(), "waits for the probe's answer");
    observe(&g, 200, &[], "{}");
    drop(probe);
    assert_eq!(follower.await.unwrap(), Duration::from_secs(10));
    assert!(!g.acquire().await.unwrap().is_probe());
}

#[tokio::test(start_paused = true)]
async fn a_probe_that_gets_no_answer_hands_over_to_the_next() {
    let g = governor(GovernorConfig::default());
    observe(&g, 429, &[("Retry-After", "1")], "");
    let probe = g.acquire().await.unwrap();
    let next = {
        let g = g.clone();
        tokio::spawn(async move { g.acquire().await.unwrap().is_probe() })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(probe); // a transport failure: no response to observe
    assert!(next.await.unwrap(), "the next request probes in its place");
}

// ------------------------------------------------------------------------------------ retries

/// Runs a request against a scripted sequence of results; returns the result, the number of
/// calls and the gaps between them.
async fn scripted(
    g: &Governor,
    method: &str,
    key: bool,
    script: Vec<Result<Response, HttpError>>,
) -> (Result<Response, GovernorError>, usize, Vec<Duration>) {
    let script = Mutex::new(script.into_iter());
    let times = Mutex::new(Vec::new());
    let result = g
        .run(method, key, || {
            times.lock().unwrap().push(Instant::now());
            let next = script
                .lock()
                .unwrap()
                .next()
                .unwrap_or_else(|| Ok(response(200, &[], "{}")));
            async move { next }
        })
        .await;
    let times = times.into_inner().unwrap();
    let gaps = times.windows(2).map(|w| w[1] - w[0]).collect();
    (result, times.len(), gaps)
}

#[tokio::test(start_paused = true)]
async fn post_without_idempotency_key_is_never_retried() {
    let g = governor(GovernorConfig::default());
    for failure in [
        Ok(response(503, &[], "")),
        Ok(response(429, &[("Retry-After", "1")], "")),
        Ok(response(500, &[], "")),
        Err(HttpError::Timeout),
        Err(HttpError::Connection("connection reset by peer".into())),
    ] {
        let (result, calls, _) = scripted(&g, "POST", false, vec![failure.clone()]).await;
        assert_eq!(calls, 1, "{failure:?}");
        match (result, failure) {
            (Ok(got), Ok(sent)) => assert_eq!(got, sent),
            (Err(GovernorError::Upstream { attempts, error }), Err(sent)) => {
                assert_eq!(attempts, 1);
                assert_eq!(error, sent);
            }
            (got, _) => panic!("unexpected {got:?}"),
        }
        observe(&g, 200, &[], "");
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    // PATCH is not idempotent either.
    let (_, calls, _) = scripted(&g, "PATCH", false, vec![Ok(response(503, &[], ""))]).await;
    assert_eq!(calls, 1);
}

#[tokio::test(start_paused = true)]
async fn post_with_idempotency_key_is_retried() {
    let g = governor(GovernorConfig::default());
    let (result, calls, _) = scripted(
        &g,
        "POST",
        true,
        vec![Err(HttpError::Timeout), Ok(response(503, &[], ""))],
    )
    .await;
    assert_eq!(calls, 3);
    assert_eq!(result.unwrap().status, 200);
}

#[tokio::test(start_paused = true)]
async fn get_backs_off_with_growing_full_jitter() {
    let config = GovernorConfig::default();
    let g = governor(config.clone());
    let (result, calls, gaps) = scripted(
        &g,
        "GET",
        false,
        vec![
            Err(HttpError::Timeout),
            Ok(response(503, &[], "")),
            Err(HttpError::Connection("tcp connect error".into())),
        ],
    )
    .await;
    assert_eq!(result.unwrap().status, 200);
    assert_eq!(calls, 4);
    // Same seed, same jitter: the gaps are the policy's draws (rounded up to the timer's
    // millisecond), each within its doubling ceiling (200, 400, 800 ms).
    let twin = RetryPolicy::with_seed(&config, 1);
    for (attempt, gap) in (1..).zip(&gaps) {
        let drawn = twin.backoff(attempt);
        assert!(
            *gap >= drawn && *gap < drawn + Duration::from_millis(1),
            "{gaps:?}"
        );
        assert!(*gap <= twin.backoff_ceiling(attempt));
    }
    assert!(gaps[0] < gaps[2], "{gaps:?}");
}

#[tokio::test(start_paused = true)]
async fn backoff_is_bounded_by_max_backoff() {
    let config = GovernorConfig {
        max_retries: 8,
        base_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(3),
        ..GovernorConfig::default()
    };
    let g = governor(config);
    let (result, calls, gaps) =
        scripted(&g, "GET", false, vec![Ok(response(503, &[], "")); 20]).await;
    assert_eq!(
        result.unwrap().status,
        503,
        "the last answer, after 8 retries"
    );
    assert_eq!(calls, 9);
    assert!(
        gaps.iter().all(|gap| *gap <= Duration::from_secs(3)),
        "{gaps:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_never_retried() {
    let g = governor(GovernorConfig::default());
    for status in [400, 401, 403, 404, 409, 422] {
        let (result, calls, _) =
            scripted(&g, "GET", false, vec![Ok(response(status, &[], ""))]).await;
        assert_eq!(calls, 1, "{status}");
        assert_eq!(result.unwrap().status, status);
    }
}

#[tokio::test(start_paused = true)]
async fn a_get_throttled_with_retry_after_waits_as_told() {
    let g = governor(GovernorConfig::default());
    let (result, calls, gaps) = scripted(
        &g,
        "GET",
        false,
        vec![Ok(response(429, &[("Retry-After", "3")], ""))],
    )
    .await;
    assert_eq!(result.unwrap().status, 200);
    assert_eq!(calls, 2);
    assert_eq!(gaps, [Duration::from_secs(3)]);
}

#[tokio::test(start_paused = true)]
async fn policy_refusals_are_not_retried() {
    let g = governor(GovernorConfig::default());
    let refused = HttpError::ForbiddenDestination("`//evil`".into());
    let (result, calls, _) = scripted(&g, "GET", false, vec![Err(refused.clone())]).await;
    assert_eq!(calls, 1);
    assert!(matches!(
        result,
        Err(GovernorError::Upstream { attempts: 1, error }) if error == refused
    ));
}

#[tokio::test(start_paused = true)]
async fn the_first_attempt_fails_when_the_budget_is_too_far_off() {
    let g = governor(GovernorConfig {
        max_wait: Duration::from_secs(5),
        ..GovernorConfig::default()
    });
    observe(&g, 429, &[("Retry-After", "60")], "");
    let (result, calls, _) = scripted(&g, "GET", false, vec![]).await;
    assert_eq!(calls, 0);
    assert!(matches!(result, Err(GovernorError::BudgetWait { .. })));
}
