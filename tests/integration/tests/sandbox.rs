//! Hostile adapters are stopped with a clear error, and the host keeps serving: each
//! misbehaviour of the `hostile` fixture is tried, then a normal call succeeds.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use plantwire::sdk::AdapterError;
use plantwire::{CallError, Connection, ListOptions, Runtime, RuntimeConfig, SandboxError};
use plantwire_integration_tests::{connect, egress, load, test_config};
use plantwire_simulators::maintainx::{Config, MaintainxSim};
use serde_json::{Value, json};

struct Setup {
    _sim: MaintainxSim,
    conn: Connection,
}

async fn setup(config: RuntimeConfig) -> Setup {
    let sim = MaintainxSim::start(Config::default())
        .await
        .expect("simulator");
    let rt = Runtime::new(config).expect("runtime");
    let component = load(&rt, "fixture", "hostile").await;
    let conn = connect(
        &component,
        "hostile-1",
        Arc::new(egress(&sim.base_url(), sim.token())),
    );
    Setup { _sim: sim, conn }
}

async fn still_serves(conn: &Connection) {
    let page = conn
        .list(
            "work-order",
            ListOptions {
                page_size: Some(3),
                ..ListOptions::default()
            },
        )
        .await
        .expect("a normal call after the hostile one succeeds");
    assert_eq!(page.records.len(), 3);
}

async fn act(
    conn: &Connection,
    name: &str,
    input: Value,
) -> Result<serde_json::Map<String, Value>, CallError> {
    conn.action("work-order", "1", name, input).await
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_by_the_deadline() {
    let s = setup(RuntimeConfig {
        call_timeout: Duration::from_millis(500),
        ..test_config()
    })
    .await;
    let started = Instant::now();
    let err = act(&s.conn, "spin", json!({}))
        .await
        .expect_err("must be stopped");
    assert!(
        matches!(err, CallError::Sandbox(SandboxError::Deadline(_))),
        "{err}"
    );
    assert!(err.to_string().contains("deadline"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped promptly: {:?}",
        started.elapsed()
    );
    still_serves(&s.conn).await;
}

#[tokio::test]
async fn a_spinning_adapter_does_not_block_other_calls() {
    let s = setup(RuntimeConfig {
        call_timeout: Duration::from_secs(3),
        ..test_config()
    })
    .await;
    let conn = s.conn.clone();
    let spinner = tokio::spawn(async move { act(&conn, "spin", json!({})).await });
    // While one call spins, others on the same runtime complete.
    let started = Instant::now();
    for _ in 0..5 {
        still_serves(&s.conn).await;
    }
    let served = started.elapsed();
    if spinner.is_finished() {
        let outcome = spinner.await.expect("join");
        panic!(
            "the spinner should still run after {served:?} of other calls; it ended with {outcome:?}"
        );
    }
    let err = spinner.await.expect("join").expect_err("spinner stopped");
    assert!(matches!(err, CallError::Sandbox(SandboxError::Deadline(_))));
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_by_the_limit() {
    let s = setup(test_config()).await;
    let err = act(&s.conn, "bomb", json!({}))
        .await
        .expect_err("must be stopped");
    assert!(
        matches!(err, CallError::Sandbox(SandboxError::MemoryLimit(_))),
        "{err}"
    );
    assert!(err.to_string().contains("memory limit"));
    still_serves(&s.conn).await;
}

#[tokio::test]
async fn a_giant_result_is_refused_by_the_cap() {
    let s = setup(test_config()).await;
    let err = act(&s.conn, "flood", json!({"bytes": 32 << 20}))
        .await
        .expect_err("must be refused");
    match &err {
        CallError::Sandbox(SandboxError::ResultTooLarge { size, limit }) => {
            assert!(size > limit);
            assert_eq!(*limit, test_config().max_return_bytes);
        }
        other => panic!("unexpected: {other}"),
    }
    still_serves(&s.conn).await;
}

#[tokio::test]
async fn deep_recursion_and_panics_trap_cleanly() {
    let s = setup(test_config()).await;
    let err = act(&s.conn, "recurse", json!({}))
        .await
        .expect_err("must trap");
    assert!(
        matches!(
            err,
            CallError::Sandbox(SandboxError::StackOverflow | SandboxError::Trap(_))
        ),
        "{err}"
    );
    let err = act(&s.conn, "panic", json!({}))
        .await
        .expect_err("must trap");
    assert!(
        matches!(err, CallError::Sandbox(SandboxError::Trap(_))),
        "{err}"
    );
    still_serves(&s.conn).await;
}

/// The fixture reports what `http.send` answered as `{"error": "...", "kind": "..."}`.
fn refusal(result: serde_json::Map<String, Value>) -> String {
    let text = Value::Object(result).to_string();
    assert!(
        text.contains("error"),
        "the request must have been refused, got {text}"
    );
    text
}

#[tokio::test]
async fn host_controlled_headers_are_refused() {
    let s = setup(test_config()).await;
    let text = refusal(
        act(&s.conn, "forbidden-header", json!({}))
            .await
            .expect("typed error, not a trap"),
    );
    assert!(text.contains("authorization"), "{text}");
    let text = refusal(
        act(&s.conn, "cookie-header", json!({}))
            .await
            .expect("typed error"),
    );
    assert!(text.contains("cookie"), "{text}");
    // Nothing with the adapter's header reached the upstream.
    assert!(
        !s._sim
            .requests()
            .iter()
            .any(|r| r.headers.iter().any(|(_, v)| v.contains("stolen")))
    );
    still_serves(&s.conn).await;
}

#[tokio::test]
async fn other_origins_are_refused() {
    let s = setup(test_config()).await;
    for action in ["other-origin", "other-origin-2", "other-origin-3"] {
        let text = refusal(act(&s.conn, action, json!({})).await.expect("typed error"));
        assert!(
            text.contains("destination refused") || text.contains("forbidden-destination"),
            "{action}: {text}"
        );
    }
    assert!(s._sim.requests().is_empty(), "no request left the host");
    still_serves(&s.conn).await;
}

#[tokio::test]
async fn unsupported_operations_are_refused_before_the_guest_runs() {
    let s = setup(test_config()).await;
    let err = s
        .conn
        .create("work-order", vec![json!({"title": "x"})])
        .await
        .expect_err("refused");
    match &err {
        CallError::Refused(AdapterError::Unsupported(reason)) => {
            assert!(reason.contains("cannot create work-order"), "{reason}")
        }
        other => panic!("unexpected: {other}"),
    }
    let err = s
        .conn
        .action("work-order", "1", "no-such-action", json!({}))
        .await
        .expect_err("refused");
    assert!(matches!(
        err,
        CallError::Refused(AdapterError::Unsupported(_))
    ));
    assert!(s._sim.requests().is_empty());
}

#[tokio::test]
async fn a_full_instance_pool_is_a_clear_error_not_a_hang() {
    let s = setup(RuntimeConfig {
        max_instances: 1,
        call_timeout: Duration::from_secs(2),
        ..test_config()
    })
    .await;
    let conn = s.conn.clone();
    let spinner = tokio::spawn(async move { act(&conn, "spin", json!({})).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let err = s
        .conn
        .list("work-order", ListOptions::default())
        .await
        .expect_err("no slot is free");
    assert!(
        matches!(err, CallError::Sandbox(SandboxError::Instantiate(_))),
        "{err}"
    );
    assert!(err.to_string().contains("could not be instantiated"));
    let _ = spinner.await;
    still_serves(&s.conn).await;
}

#[tokio::test(flavor = "current_thread")]
async fn adapter_logs_reach_tracing_labelled_with_adapter_and_connection() {
    let (logs, _guard) = plantwire_integration_tests::LogCapture::install();
    let s = setup(test_config()).await;
    act(&s.conn, "log", json!({})).await.expect("log action");
    let text = String::from_utf8(logs.bytes()).expect("utf-8 logs");
    for (level, message) in [
        ("INFO", "hostile fixture: an info message"),
        ("WARN", "hostile fixture: a warning"),
        ("ERROR", "hostile fixture: an error"),
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(message))
            .unwrap_or_else(|| panic!("no log line with {message:?} in:\n{text}"));
        assert!(line.contains(level), "{line}");
        assert!(line.contains("adapter=hostile"), "{line}");
        assert!(line.contains("connection=hostile-1"), "{line}");
    }
}
