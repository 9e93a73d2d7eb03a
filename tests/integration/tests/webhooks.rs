//! Webhooks end to end: connection health events go through the durable outbox to a real
//! local receiver, signed per Standard Webhooks — verified by an independent implementation
//! (the `standardwebhooks` package from PyPI, prepared by `cargo xtask test`), retried with
//! backoff for a bounded time, kept across a restart, and never carrying a secret.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use plantwire::health::{HealthConfig, HealthMonitor, HealthState};
use plantwire::webhooks::{
    Dispatcher, DispatcherConfig, Endpoint, EndpointRegistry, EndpointSecret, Event, EventKind,
    MessageStatus, Outbox, OutboxSink,
};
use plantwire_integration_tests::{LogCapture, contains};
use secrecy::SecretString;
use serde_json::{Value, json};
use url::Url;

/// base64 of `plantwire-test-signing-key-0042!` (32 bytes).
const SIGNING_SECRET: &str = "whsec_cGxhbnR3aXJlLXRlc3Qtc2lnbmluZy1rZXktMDA0MiE=";
const SIGNING_KEY_BODY: &str = "cGxhbnR3aXJlLXRlc3Qtc2lnbmluZy1rZXktMDA0MiE=";
/// A different valid secret, which must not verify our signatures.
const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// One request the receiver got: the Standard Webhooks headers and the raw body.
#[derive(Debug, Clone)]
struct Delivery {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    content_type: String,
    body: String,
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// 500 to a message's first attempt, 204 to every later one.
    FailFirst,
    /// 500 always.
    AlwaysFail,
    /// Never answers a message's first attempt, 204 to every later one.
    HangFirst,
    /// 307 to `/elsewhere`, which would answer 204.
    Redirect,
    /// 204 always.
    Ok,
}

#[derive(Clone)]
struct Receiver {
    answer: Answer,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
}

impl Receiver {
    /// Starts a receiver on `127.0.0.1:0`; returns it and the hook URL (which carries a token
    /// in its path, as real webhook URLs often do).
    async fn start(answer: Answer) -> (Receiver, Url) {
        let receiver = Receiver {
            answer,
            deliveries: Arc::default(),
        };
        let app = Router::new()
            .route("/hooks/{token}", post(hook))
            .route("/elsewhere", post(hook))
            .with_state(receiver.clone());
        let addr = plantwire_integration_tests::serve(app).await;
        let url = Url::parse(&format!("http://{addr}/hooks/url-t0ken")).expect("url");
        (receiver, url)
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().expect("lock").clone()
    }
}

async fn hook(
    State(rx): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let delivery = Delivery {
        path: uri.path().to_owned(),
        id: get("webhook-id"),
        timestamp: get("webhook-timestamp"),
        signature: get("webhook-signature"),
        content_type: get("content-type"),
        body,
    };
    let seen_before = {
        let mut all = rx.deliveries.lock().expect("lock");
        let seen = all.iter().any(|d| d.id == delivery.id);
        all.push(delivery);
        seen
    };
    match rx.answer {
        Answer::FailFirst if !seen_before => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Answer::AlwaysFail => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Answer::HangFirst if !seen_before => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::NO_CONTENT.into_response()
        }
        Answer::Redirect if uri.path() != "/elsewhere" => (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, "/elsewhere")],
        )
            .into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    }
}

/// A scratch directory holding one outbox database.
struct TempDir(plantwire_integration_tests::Scratch);

impl TempDir {
    fn new(name: &str) -> TempDir {
        TempDir(plantwire_integration_tests::Scratch::new(&format!(
            "webhooks-{name}"
        )))
    }

    fn db(&self) -> PathBuf {
        self.0.join("webhooks.sqlite3")
    }
}

fn endpoint(id: &str, url: &Url) -> Endpoint {
    let secret =
        EndpointSecret::new(SecretString::from(SIGNING_SECRET.to_owned())).expect("secret");
    // The receivers listen on loopback.
    Endpoint::on_private_network(id, url.clone(), secret).expect("endpoint")
}

fn registry(url: &Url) -> EndpointRegistry {
    EndpointRegistry::new([endpoint("ops", url)]).expect("registry")
}

fn monitor(outbox: &Outbox, endpoints: &EndpointRegistry) -> HealthMonitor {
    let sink = OutboxSink::new(outbox.clone(), endpoints.clone());
    HealthMonitor::new(
        "acme-maximo",
        Some("acme".into()),
        HealthConfig::default(),
        Arc::new(sink),
    )
}

fn types(outbox: &Outbox) -> Vec<String> {
    outbox
        .messages(None, 1000)
        .expect("messages")
        .into_iter()
        .map(|m| m.event_type)
        .collect()
}

/// Verifies deliveries with the Python `standardwebhooks` package; also checks that a
/// tampered body and a wrong secret are refused. Prints what it did, one line per check.
const VERIFY_PY: &str = r#"
import json, sys
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

job = json.load(sys.stdin)
ours, other = Webhook(job["secret"]), Webhook(job["otherSecret"])
failures = 0
for d in job["deliveries"]:
    headers, body = d["headers"], d["body"]
    mid = headers["webhook-id"]
    try:
        payload = ours.verify(body, headers)
        print("verified", mid, "ts", headers["webhook-timestamp"], "type", payload["type"])
    except WebhookVerificationError as e:
        print("NOT VERIFIED", mid, e)
        failures += 1
    tampered = body.replace('"connectionId":"', '"connectionId":"x', 1)
    assert tampered != body, "nothing to tamper with"
    try:
        ours.verify(tampered, headers)
        print("TAMPERED BODY ACCEPTED", mid)
        failures += 1
    except WebhookVerificationError:
        print("tampered body rejected", mid)
    try:
        other.verify(body, headers)
        print("WRONG SECRET ACCEPTED", mid)
        failures += 1
    except WebhookVerificationError:
        print("wrong secret rejected", mid)
sys.exit(1 if failures else 0)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_retried_and_verify_with_the_python_standardwebhooks_package() {
    let (rx, url) = Receiver::start(Answer::FailFirst).await;
    let tmp = TempDir::new("python");
    let outbox = Outbox::open(tmp.db()).expect("open");
    let endpoints = registry(&url);
    let health = monitor(&outbox, &endpoints);
    health.record_auth_failure(401, "token refresh refused: invalid_grant");
    health.reauthorized();
    let messages = outbox.messages(None, 10).expect("messages");
    assert_eq!(
        types(&outbox),
        [
            "connection.reauthorization_required",
            "connection.recovered"
        ]
    );
    let t0 = messages.iter().map(|m| m.created_at).max().expect("t0");

    let dispatcher = Dispatcher::new(outbox.clone(), endpoints, DispatcherConfig::default())
        .expect("dispatcher");
    let first = dispatcher.deliver_due(t0).await.expect("step 1");
    assert_eq!((first.attempted, first.retrying), (2, 2), "{first:?}");
    let early = dispatcher
        .deliver_due(t0 + Duration::from_secs(2))
        .await
        .expect("early step");
    assert_eq!(early.attempted, 0, "retried before its backoff: {early:?}");
    let second = dispatcher
        .deliver_due(t0 + Duration::from_secs(6))
        .await
        .expect("step 2");
    assert_eq!((second.attempted, second.delivered), (2, 2), "{second:?}");

    for m in outbox.messages(None, 10).expect("messages") {
        assert_eq!(m.status, MessageStatus::Delivered);
        assert_eq!(m.attempts, 2);
    }
    let deliveries = rx.deliveries();
    assert_eq!(deliveries.len(), 4);
    for m in &messages {
        let mine: Vec<&Delivery> = deliveries
            .iter()
            .filter(|d| d.id == m.id.as_str())
            .collect();
        assert_eq!(mine.len(), 2, "one retry per message, same webhook-id");
        assert!(mine.iter().all(|d| d.body == m.payload));
        assert!(mine.iter().all(|d| d.content_type == "application/json"));
        assert!(mine.iter().all(|d| d.signature.starts_with("v1,")));
        assert_ne!(
            mine[0].timestamp, mine[1].timestamp,
            "re-signed per attempt"
        );
    }
    let first_message = deliveries
        .iter()
        .find(|d| d.id == messages[0].id.as_str())
        .expect("delivered");
    let body: Value = serde_json::from_str(&first_message.body).expect("json body");
    assert_eq!(body["type"], "connection.reauthorization_required");
    assert_eq!(body["data"]["connectionId"], "acme-maximo");
    assert_eq!(body["data"]["tenant"], "acme");
    assert_eq!(body["data"]["status"], 401);
    assert_eq!(
        body["data"]["reason"],
        "token refresh refused: invalid_grant"
    );

    let Some(python) = std::env::var_os("PLANTWIRE_PYTHON") else {
        eprintln!();
        eprintln!("************************************************************************");
        eprintln!("SKIPPED: PLANTWIRE_PYTHON not set (run through cargo xtask test)");
        eprintln!("  the signatures were NOT checked by the independent implementation");
        eprintln!("************************************************************************");
        return;
    };
    let job = json!({
        "secret": SIGNING_SECRET,
        "otherSecret": OTHER_SECRET,
        "deliveries": deliveries.iter().map(|d| json!({
            "headers": {
                "webhook-id": d.id,
                "webhook-timestamp": d.timestamp,
                "webhook-signature": d.signature,
            },
            "body": d.body,
        })).collect::<Vec<_>>(),
    });
    let mut child = Command::new(&python)
        .args(["-c", VERIFY_PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.to_string_lossy()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(job.to_string().as_bytes())
        .expect("write job");
    let out = child.wait_with_output().expect("python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("python standardwebhooks verification:\n{stdout}");
    assert!(
        out.status.success(),
        "python verification failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let count = |what: &str| stdout.lines().filter(|l| l.starts_with(what)).count();
    assert_eq!(count("verified "), 4);
    assert_eq!(count("tampered body rejected "), 4);
    assert_eq!(count("wrong secret rejected "), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_survive_a_restart_and_an_attempt_cut_short() {
    let (rx, url) = Receiver::start(Answer::HangFirst).await;
    let tmp = TempDir::new("restart");
    let endpoints = registry(&url);
    let t0 = {
        let outbox = Outbox::open(tmp.db()).expect("open");
        let health = monitor(&outbox, &endpoints);
        health.record_auth_failure(403, "login refused");
        let t0 = outbox.messages(None, 1).expect("messages")[0].created_at;
        // An attempt that never finishes: the process "dies" in the middle of it, once the
        // receiver has the request.
        let dispatcher = Dispatcher::new(outbox, endpoints.clone(), DispatcherConfig::default())
            .expect("dispatcher");
        let mut step = std::pin::pin!(dispatcher.deliver_due(t0));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while rx.deliveries().is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "no attempt arrived");
            tokio::select! {
                done = &mut step => panic!("the hanging receiver answered: {done:?}"),
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        }
        t0
    };

    let outbox = Outbox::open(tmp.db()).expect("reopen");
    let kept = outbox.messages(None, 10).expect("messages");
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].status, kept[0].attempts),
        (MessageStatus::Pending, 1)
    );
    let dispatcher = Dispatcher::new(outbox.clone(), endpoints, DispatcherConfig::default())
        .expect("dispatcher");
    let leased = dispatcher
        .deliver_due(t0 + Duration::from_secs(5))
        .await
        .expect("step");
    assert_eq!(leased.attempted, 0, "claimed again while its lease ran");
    let report = dispatcher
        .deliver_due(t0 + Duration::from_secs(60))
        .await
        .expect("step");
    assert_eq!(report.delivered, 1, "{report:?}");
    let m = outbox.message(&kept[0].id).expect("message").expect("kept");
    assert_eq!((m.status, m.attempts), (MessageStatus::Delivered, 2));
    let deliveries = rx.deliveries();
    assert_eq!(deliveries.len(), 2);
    assert!(
        deliveries
            .iter()
            .all(|d| d.id == m.id.as_str() && d.body == m.payload)
    );
    assert!(m.payload.contains("connection.reauthorization_required"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_auth_failures_raise_exactly_one_reauthorization_event() {
    let (rx, url) = Receiver::start(Answer::FailFirst).await;
    let tmp = TempDir::new("concurrent");
    let outbox = Outbox::open(tmp.db()).expect("open");
    // An operator's endpoint and the tenant's own: one message each per event.
    let endpoints = EndpointRegistry::new([
        endpoint("ops", &url),
        endpoint("acme", &url).for_tenant("acme"),
        endpoint("globex", &url).for_tenant("globex"),
    ])
    .expect("registry");
    let health = monitor(&outbox, &endpoints);

    // Episode 1: fifty threads refused at once.
    let barrier = Arc::new(Barrier::new(50));
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let (health, barrier) = (health.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                health.record_auth_failure(401, &format!("call {i}: credentials refused"));
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    assert!(matches!(
        health.state(),
        HealthState::NeedsReauthorization { status: 401, .. }
    ));
    health.reauthorized();
    health.reauthorized();
    assert_eq!(health.state(), HealthState::Healthy);

    // Episode 2: fifty tasks refused at once.
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let health = health.clone();
            tokio::spawn(async move {
                health.record_auth_failure(403, &format!("task {i}: forbidden"));
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }

    let mut by_endpoint = std::collections::BTreeMap::<String, Vec<String>>::new();
    for m in outbox.messages(None, 1000).expect("messages") {
        by_endpoint
            .entry(m.endpoint_id)
            .or_default()
            .push(m.event_type);
    }
    let episode = [
        "connection.reauthorization_required",
        "connection.recovered",
        "connection.reauthorization_required",
    ];
    assert_eq!(
        by_endpoint.len(),
        2,
        "globex got acme's events: {by_endpoint:?}"
    );
    assert_eq!(by_endpoint["ops"], episode);
    assert_eq!(by_endpoint["acme"], episode);

    let dispatcher = Dispatcher::new(outbox.clone(), endpoints, DispatcherConfig::default())
        .expect("dispatcher");
    let t0 = outbox
        .messages(None, 1000)
        .expect("messages")
        .iter()
        .map(|m| m.created_at)
        .max()
        .expect("t0");
    dispatcher.deliver_due(t0).await.expect("step 1");
    let report = dispatcher
        .deliver_due(t0 + Duration::from_secs(6))
        .await
        .expect("step 2");
    assert_eq!(report.delivered, 6, "{report:?}");
    let delivered_types: Vec<String> = rx
        .deliveries()
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(&d.body).ok())
        .map(|v| v["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        delivered_types
            .iter()
            .filter(|t| *t == "connection.reauthorization_required")
            .count(),
        8,
        "2 per endpoint and episode, each attempted twice"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn payloads_logs_and_errors_never_contain_a_planted_secret() {
    const PLANTED: &str = "pw-planted-credential-9f8e7d6c";
    let (logs, _guard) = LogCapture::install();
    let (rx, url) = Receiver::start(Answer::FailFirst).await;
    let tmp = TempDir::new("secret");
    let outbox = Outbox::open(tmp.db()).expect("open");
    let endpoints = registry(&url);
    let health = monitor(&outbox, &endpoints);

    // Careless callers: reasons with a credential in every shape upstream errors come in.
    for _ in 0..3 {
        health.record_transient_failure(&format!(
            "upstream 502 while sending Authorization: Bearer {PLANTED}"
        ));
    }
    health.record_success();
    health.record_auth_failure(
        401,
        &format!(
            "login failed for user=ops password={PLANTED} body {{\"access_token\":\"{PLANTED}\"}}"
        ),
    );
    let state = serde_json::to_string(&health.state()).expect("state json");
    health.reauthorized();

    let dispatcher = Dispatcher::new(
        outbox.clone(),
        endpoints.clone(),
        DispatcherConfig::default(),
    )
    .expect("dispatcher");
    let t0 = outbox
        .messages(None, 100)
        .expect("messages")
        .iter()
        .map(|m| m.created_at)
        .max()
        .expect("t0");
    dispatcher.deliver_due(t0).await.expect("step 1");
    dispatcher
        .deliver_due(t0 + Duration::from_secs(6))
        .await
        .expect("step 2");
    let messages = outbox.messages(None, 100).expect("messages");
    assert_eq!(
        types(&outbox),
        [
            "connection.degraded",
            "connection.recovered",
            "connection.reauthorization_required",
            "connection.recovered",
        ]
    );
    assert!(
        messages
            .iter()
            .all(|m| m.status == MessageStatus::Delivered)
    );

    let bad_secret = EndpointSecret::new(SecretString::from(format!("{PLANTED}-not-whsec")))
        .expect_err("not a whsec secret");
    let mut seen: Vec<(String, Vec<u8>)> = vec![
        ("health state".into(), state.into_bytes()),
        ("logs".into(), logs.bytes()),
        (
            "endpoint debug".into(),
            format!("{endpoints:?}").into_bytes(),
        ),
        (
            "dispatcher debug".into(),
            format!("{dispatcher:?}").into_bytes(),
        ),
        (
            "secret error".into(),
            format!("{bad_secret} {bad_secret:?}").into_bytes(),
        ),
    ];
    for m in &messages {
        seen.push((format!("stored {}", m.id), format!("{m:?}").into_bytes()));
    }
    for d in rx.deliveries() {
        seen.push((format!("delivered {}", d.id), format!("{d:?}").into_bytes()));
    }
    seen.push((
        "database file".into(),
        std::fs::read(tmp.db()).expect("db file"),
    ));
    for wal in ["webhooks.sqlite3-wal"] {
        if let Ok(bytes) = std::fs::read(tmp.0.join(wal)) {
            seen.push((wal.into(), bytes));
        }
    }
    assert!(!logs.bytes().is_empty(), "nothing was logged");
    for (what, bytes) in &seen {
        for needle in [PLANTED, SIGNING_KEY_BODY, "url-t0ken"] {
            if what.starts_with("delivered") && needle == "url-t0ken" {
                continue; // the receiver's own path, recorded by the receiver
            }
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{needle} leaked into {what}: {}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    assert!(rx.deliveries().iter().all(|d| d.path == "/hooks/url-t0ken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_gives_up_after_the_bounded_time() {
    let (rx, url) = Receiver::start(Answer::AlwaysFail).await;
    let tmp = TempDir::new("give-up");
    let outbox = Outbox::open(tmp.db()).expect("open");
    let endpoints = registry(&url);
    let event = Event::new(
        EventKind::ConnectionRecovered,
        "acme-maximo",
        "reauthorized",
    );
    let id = outbox.enqueue("ops", &event).expect("enqueue");
    let dispatcher = Dispatcher::new(outbox.clone(), endpoints, DispatcherConfig::default())
        .expect("dispatcher");

    let mut steps = 0;
    let m = loop {
        let m = outbox.message(&id).expect("message").expect("kept");
        if m.status != MessageStatus::Pending {
            break m;
        }
        steps += 1;
        assert!(steps <= 30, "still retrying after {steps} steps: {m:?}");
        dispatcher
            .deliver_due(m.next_attempt_at)
            .await
            .expect("step");
    };
    let day = Duration::from_secs(24 * 3600);
    assert_eq!(m.status, MessageStatus::Failed);
    assert_eq!(
        m.attempts, 11,
        "5 s, 30 s, 2 min, 10 min, 1 h, 2 h, 4 h, 8 h, 8 h, deadline"
    );
    assert_eq!(
        m.last_attempt_at,
        Some(m.created_at + day),
        "last attempt at the deadline"
    );
    assert_eq!(
        m.last_error.as_deref(),
        Some("endpoint answered HTTP 500 Internal Server Error")
    );
    assert_eq!(rx.deliveries().len(), 11);
    // Given up means given up: a step a week later sends nothing.
    let later = dispatcher
        .deliver_due(m.created_at + day * 7)
        .await
        .expect("step");
    assert_eq!(later.attempted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed_and_unknown_endpoints_are_retried() {
    let (rx, url) = Receiver::start(Answer::Redirect).await;
    let tmp = TempDir::new("redirect");
    let outbox = Outbox::open(tmp.db()).expect("open");
    let endpoints = registry(&url);
    let event = Event::new(EventKind::ConnectionDegraded, "acme-maximo", "HTTP 503");
    let redirected = outbox.enqueue("ops", &event).expect("enqueue");
    let orphan = outbox.enqueue("removed-endpoint", &event).expect("enqueue");
    let t0 = outbox.message(&orphan).expect("m").expect("m").created_at;
    let dispatcher = Dispatcher::new(outbox.clone(), endpoints, DispatcherConfig::default())
        .expect("dispatcher");
    let report = dispatcher.deliver_due(t0).await.expect("step");
    assert_eq!((report.attempted, report.retrying), (2, 2), "{report:?}");

    let m = outbox.message(&redirected).expect("m").expect("m");
    assert_eq!(m.status, MessageStatus::Pending);
    assert_eq!(
        m.last_error.as_deref(),
        Some("endpoint answered HTTP 307 Temporary Redirect; redirects are not followed")
    );
    let paths: Vec<String> = rx.deliveries().into_iter().map(|d| d.path).collect();
    assert_eq!(paths, ["/hooks/url-t0ken"], "the redirect was followed");

    let o = outbox.message(&orphan).expect("m").expect("m");
    assert_eq!(o.status, MessageStatus::Pending);
    assert_eq!(
        o.last_error.as_deref(),
        Some("endpoint removed-endpoint is not configured")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_delivers_on_the_wall_clock_until_shut_down() {
    let (rx, url) = Receiver::start(Answer::Ok).await;
    let tmp = TempDir::new("run");
    let outbox = Outbox::open(tmp.db()).expect("open");
    let endpoints = registry(&url);
    let config = DispatcherConfig {
        poll_interval: Duration::from_millis(20),
        ..DispatcherConfig::default()
    };
    let dispatcher =
        Dispatcher::new(outbox.clone(), endpoints.clone(), config).expect("dispatcher");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        dispatcher
            .run(async {
                let _ = stopped.await;
            })
            .await;
    });
    let health = monitor(&outbox, &endpoints);
    for _ in 0..3 {
        health.record_transient_failure("timed out");
    }
    health.record_success();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while outbox.counts().expect("counts").delivered < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not delivered: {:?}",
            outbox.counts()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(()).expect("stop");
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("run did not stop")
        .expect("run task");
    let types: Vec<String> = rx
        .deliveries()
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(&d.body).ok())
        .map(|v| v["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    let mut types = types;
    types.sort(); // one step's deliveries run concurrently
    assert_eq!(types, ["connection.degraded", "connection.recovered"]);
}
