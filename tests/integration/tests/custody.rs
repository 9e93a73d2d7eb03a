//! Credential custody: the bearer token is applied by the host and never appears in anything
//! the adapter receives or builds, in logs, or in errors — even when the upstream echoes it.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use plantwire::Runtime;
use plantwire_integration_tests::{
    LogCapture, Recording, connect, contains, egress, load, test_config,
};
use plantwire_simulators::maintainx::{Config, MaintainxSim};
use serde_json::json;

const TOKEN: &str = "pw-test-token-7f3a9c1e5b";

/// An upstream that echoes the request's Authorization header in a header and in the body.
async fn echo_server() -> String {
    async fn echo(headers: HeaderMap) -> impl IntoResponse {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body =
            json!({"workOrders": [{"id": 1, "title": format!("echo {auth}")}], "nextCursor": null});
        (
            StatusCode::OK,
            [("x-echo-authorization", auth)],
            body.to_string(),
        )
    }
    let app = Router::new()
        .route("/v1/workorders", get(echo))
        .route("/v1/workorders/{id}", get(echo));
    let addr = plantwire_integration_tests::serve(app).await;
    format!("http://{addr}/v1")
}

#[tokio::test(flavor = "current_thread")]
async fn an_echoing_upstream_cannot_leak_the_token_into_the_guest() {
    let (logs, _guard) = LogCapture::install();
    let base = echo_server().await;
    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "fixture", "hostile").await;
    let recording = Recording::new(Arc::new(egress(&base, TOKEN)));
    let conn = connect(&component, "echo-1", recording.clone());

    // The guest reports everything it received from the upstream.
    let seen = conn
        .action("work-order", "1", "echo", json!({}))
        .await
        .expect("echo runs");
    let seen = serde_json::Value::Object(seen).to_string();
    assert!(
        seen.contains("REDACTED"),
        "the echoed token was scrubbed: {seen}"
    );
    assert!(!seen.contains(TOKEN), "the guest saw the token: {seen}");

    let page = conn
        .list("work-order", Default::default())
        .await
        .expect("list");
    let listed = serde_json::to_string(&page.records).expect("json");
    assert!(!listed.contains(TOKEN));

    for exchange in recording.transcript() {
        assert!(
            !contains(&exchange, TOKEN.as_bytes()),
            "adapter-visible bytes carry the token"
        );
    }
    assert!(
        !contains(&logs.bytes(), TOKEN.as_bytes()),
        "the logs carry the token"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_token_reaches_the_upstream_but_not_the_adapter_logs_or_errors() {
    let (logs, _guard) = LogCapture::install();
    let sim = MaintainxSim::start(Config {
        token: TOKEN.to_owned(),
        ..Config::default()
    })
    .await
    .expect("simulator");
    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "adapter", "maintainx").await;
    let recording = Recording::new(Arc::new(egress(&sim.base_url(), TOKEN)));
    let conn = connect(&component, "mx-1", recording.clone());

    let page = conn
        .list("work-order", Default::default())
        .await
        .expect("list");
    let key = page.records[0]["key"].as_str().expect("key").to_owned();
    conn.get("work-order", &key).await.expect("get");
    // An error path: a revoked token. The error must not carry the token either.
    sim.faults().revoke_token();
    let err = conn.get("work-order", &key).await.expect_err("revoked");
    assert!(!err.to_string().contains(TOKEN));
    assert!(!format!("{err:?}").contains(TOKEN));
    sim.faults().restore_token();

    // The host did send it: every request upstream carried the bearer token.
    let requests = sim.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        let auth = r
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"));
        assert_eq!(
            auth.map(|(_, v)| v.as_str()),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    // But the adapter never built or received it, and nothing logged it.
    for exchange in recording.transcript() {
        assert!(!contains(&exchange, TOKEN.as_bytes()));
    }
    assert!(!contains(&logs.bytes(), TOKEN.as_bytes()));
}

#[tokio::test]
async fn the_adapter_cannot_choose_the_credential_header() {
    let sim = MaintainxSim::start(Config {
        token: TOKEN.to_owned(),
        ..Config::default()
    })
    .await
    .expect("simulator");
    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "fixture", "hostile").await;
    let conn = connect(&component, "h-1", Arc::new(egress(&sim.base_url(), TOKEN)));
    let out = conn
        .action("work-order", "1", "forbidden-header", json!({}))
        .await
        .expect("typed error");
    assert!(
        serde_json::Value::Object(out)
            .to_string()
            .contains("authorization")
    );
    assert!(
        sim.requests().is_empty(),
        "the request with the adapter's own Authorization never left"
    );
}

/// An upstream that redirects every request to `target`.
async fn redirecting_server(target: String) -> String {
    let app = Router::new().route(
        "/v1/workorders",
        get(move || {
            let target = target.clone();
            async move { (StatusCode::FOUND, [("location", target)], "") }
        }),
    );
    let addr = plantwire_integration_tests::serve(app).await;
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn redirects_are_never_followed_with_or_without_the_token() {
    // A second loopback server stands in for 127.0.0.1 services and the metadata address:
    // it counts every request that reaches it.
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let trap = Router::new().fallback(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { "stolen" }
    });
    let trap_addr = plantwire_integration_tests::serve(trap).await;

    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "fixture", "hostile").await;
    for target in [
        format!("http://{trap_addr}/latest/meta-data/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
    ] {
        let base = redirecting_server(target.clone()).await;
        let conn = connect(&component, "redir", Arc::new(egress(&base, TOKEN)));
        let seen = conn
            .action("work-order", "1", "echo", json!({}))
            .await
            .expect("the adapter gets the redirect response itself");
        let seen = serde_json::Value::Object(seen);
        assert_eq!(seen["status"], 302, "{seen}");
        assert!(!seen.to_string().contains(TOKEN));
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a redirect was followed"
    );
}

#[tokio::test]
async fn a_token_revoked_mid_run_produces_one_webhook_and_recovery_one_more() {
    use plantwire::health::{HealthConfig, HealthMonitor};
    use plantwire::webhooks::{Endpoint, EndpointRegistry, EndpointSecret, Outbox, OutboxSink};
    use plantwire::{CallError, ListOptions};

    let dir = plantwire_integration_tests::Scratch::new("revoke");
    let outbox = Outbox::open(dir.join("outbox.sqlite3")).expect("outbox");
    let endpoints = EndpointRegistry::new([Endpoint::new(
        "ops",
        url::Url::parse("https://hooks.example.com/plantwire").expect("url"),
        EndpointSecret::new(secrecy::SecretString::from(
            "whsec_cGxhbnR3aXJlLXRlc3Qtc2lnbmluZy1rZXktMDA0MiE=".to_owned(),
        ))
        .expect("secret"),
    )
    .expect("endpoint")])
    .expect("registry");
    let monitor = HealthMonitor::new(
        "mx-prod",
        None,
        HealthConfig::default(),
        Arc::new(OutboxSink::new(outbox.clone(), endpoints)),
    );

    let sim = MaintainxSim::start(Config {
        token: TOKEN.to_owned(),
        ..Config::default()
    })
    .await
    .expect("simulator");
    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "adapter", "maintainx").await;
    let conn = connect(
        &component,
        "mx-prod",
        Arc::new(egress(&sim.base_url(), TOKEN)),
    )
    .with_health(monitor.clone());

    conn.list("work-order", ListOptions::default())
        .await
        .expect("healthy");
    sim.faults().revoke_token();
    // Twenty concurrent calls all meet the revoked token.
    let mut calls = Vec::new();
    for _ in 0..20 {
        let c = conn.clone();
        calls.push(tokio::spawn(async move {
            c.list("work-order", ListOptions::default()).await
        }));
    }
    for call in calls {
        let err = call.await.expect("join").expect_err("revoked");
        assert!(matches!(
            err,
            CallError::Adapter(plantwire::sdk::AdapterError::Unauthorized(_))
        ));
    }
    assert_eq!(monitor.state().label(), "needs-reauthorization");
    let sent: Vec<_> = outbox
        .messages(None, 100)
        .expect("messages")
        .into_iter()
        .map(|m| (m.event_type, m.payload))
        .collect();
    assert_eq!(sent.len(), 1, "one event per episode: {sent:?}");
    assert_eq!(sent[0].0, "connection.reauthorization_required");
    assert!(sent[0].1.contains("mx-prod"));
    assert!(
        !sent[0].1.contains(TOKEN),
        "payloads carry ids and reasons, never secrets"
    );

    // New credentials: the operator reauthorizes, and the episode ends with one event.
    sim.faults().restore_token();
    monitor.reauthorized();
    conn.list("work-order", ListOptions::default())
        .await
        .expect("recovered");
    let types: Vec<String> = outbox
        .messages(None, 100)
        .expect("messages")
        .into_iter()
        .map(|m| m.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "connection.reauthorization_required",
            "connection.recovered"
        ]
    );
}
