//! Fair sharing: one connection (or one adapter) cannot exhaust the instance pool, and an
//! adapter looping on `http.send` cannot flood a system that sends no rate-limit headers.
//! Each attack runs real wasm components (`hostile`'s `spin`, `unruly`'s `send-loop`)
//! against real loopback upstreams while other connections keep being served.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use plantwire::governor::GovernorConfig;
use plantwire::{
    CallError, Connection, Credential, Egress, EgressConfig, ListOptions, Runtime, RuntimeConfig,
    SandboxError,
};
use plantwire_integration_tests::{connect, egress, load, serve, test_config};
use plantwire_simulators::maintainx::{Config, MaintainxSim};
use secrecy::SecretString;
use serde_json::json;

async fn serves(conn: &Connection) {
    let page = conn
        .list(
            "work-order",
            ListOptions {
                page_size: Some(2),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{} is still served: {e}", conn.id()));
    assert_eq!(page.records.len(), 2);
}

fn spin(conn: &Connection) -> tokio::task::JoinHandle<Result<(), CallError>> {
    let conn = conn.clone();
    tokio::spawn(async move {
        conn.action("work-order", "1", "spin", json!({}))
            .await
            .map(|_| ())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flooding_the_pool_waits_its_turn_while_another_is_served() {
    let sim = MaintainxSim::start(Config::default())
        .await
        .expect("simulator");
    let rt = Runtime::new(RuntimeConfig {
        max_instances: 8,
        max_calls_per_connection: 2,
        quota_wait: Duration::from_millis(300),
        call_timeout: Duration::from_secs(3),
        ..test_config()
    })
    .expect("runtime");
    let hostile = load(&rt, "fixture", "hostile").await;
    let flooder = connect(
        &hostile,
        "flooder",
        Arc::new(egress(&sim.base_url(), sim.token())),
    );
    let neighbour = connect(
        &hostile,
        "neighbour",
        Arc::new(egress(&sim.base_url(), sim.token())),
    );

    // The flood: twenty calls that never end on its own, far more than the pool holds.
    let started = Instant::now();
    let flood: Vec<_> = (0..20).map(|_| spin(&flooder)).collect();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // The other connection keeps being served while the flood runs.
    for _ in 0..5 {
        serves(&neighbour).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "served while the spinners still run"
    );

    // Two of the flood ran (until their deadline); the others waited the bounded time and
    // failed with a clear error naming the connection and its quota.
    let mut busy = 0;
    let mut deadline = 0;
    for call in flood {
        match call.await.expect("join") {
            Err(CallError::Sandbox(SandboxError::Busy {
                scope,
                limit,
                waited,
            })) => {
                assert_eq!(limit, 2);
                assert!(scope.contains("flooder"), "{scope}");
                assert!(waited >= Duration::from_millis(300), "{waited:?}");
                busy += 1;
            }
            Err(CallError::Sandbox(SandboxError::Deadline(_))) => deadline += 1,
            other => panic!("unexpected outcome of a spin: {other:?}"),
        }
    }
    assert_eq!((deadline, busy), (2, 18));
    let message = SandboxError::Busy {
        scope: "connection `flooder`".into(),
        limit: 2,
        waited: Duration::from_millis(300),
    }
    .to_string();
    assert!(message.contains("concurrent calls"), "{message}");

    // Once the flood is over, the flooder is served again.
    serves(&flooder).await;
    serves(&neighbour).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_adapter_cannot_take_the_whole_pool_from_another() {
    let sim = MaintainxSim::start(Config::default())
        .await
        .expect("simulator");
    let rt = Runtime::new(RuntimeConfig {
        max_instances: 4,
        max_calls_per_connection: 8,
        max_calls_per_adapter: 2,
        quota_wait: Duration::from_millis(200),
        call_timeout: Duration::from_secs(2),
        ..test_config()
    })
    .expect("runtime");
    let hostile = load(&rt, "fixture", "hostile").await;
    let maintainx = load(&rt, "adapter", "maintainx").await;
    let spinners: Vec<Connection> = (0..4)
        .map(|i| {
            connect(
                &hostile,
                &format!("hostile-{i}"),
                Arc::new(egress(&sim.base_url(), sim.token())),
            )
        })
        .collect();
    let flood: Vec<_> = spinners.iter().map(spin).collect();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Another system's adapter still finds a free instance slot.
    let other = connect(
        &maintainx,
        "mx",
        Arc::new(egress(&sim.base_url(), sim.token())),
    );
    for _ in 0..3 {
        serves(&other).await;
    }

    let mut busy = 0;
    for call in flood {
        if let Err(CallError::Sandbox(SandboxError::Busy { scope, .. })) = call.await.expect("join")
        {
            assert!(scope.contains("adapter `hostile`"), "{scope}");
            busy += 1;
        }
    }
    assert_eq!(
        busy, 2,
        "two of four connections of the adapter were refused"
    );
}

/// An upstream that answers `/v1/ping` with 200 and no rate-limit headers, recording when
/// each request arrived.
async fn counting_upstream() -> (String, Arc<Mutex<Vec<Instant>>>) {
    let hits = Arc::new(Mutex::new(Vec::new()));
    let recorded = hits.clone();
    let app = Router::new().route(
        "/v1/ping",
        get(move || {
            let hits = recorded.clone();
            async move {
                hits.lock().expect("lock").push(Instant::now());
                "{}"
            }
        }),
    );
    let addr = serve(app).await;
    (format!("http://{addr}/v1"), hits)
}

fn egress_with(base: &str, governor: GovernorConfig) -> Egress {
    let mut config = EgressConfig::new(url::Url::parse(base).expect("url"));
    config.allow_private_network = true;
    config.governor = governor;
    Egress::new(
        config,
        plantwire::sdk::AuthScheme::Bearer,
        Credential::Token(SecretString::from("loop-token")),
    )
    .expect("egress")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_adapter_is_held_to_the_default_budget() {
    let (base, hits) = counting_upstream().await;
    let rt = Runtime::new(RuntimeConfig {
        call_timeout: Duration::from_millis(2_500),
        ..test_config()
    })
    .expect("runtime");
    let unruly = load(&rt, "fixture", "unruly").await;
    // The egress defaults, as every connection gets them.
    let config = EgressConfig::new(url::Url::parse(&base).expect("url"));
    let budget = config
        .governor
        .requests_per_window
        .expect("a default local budget");
    assert_eq!(budget, GovernorConfig::DEFAULT_REQUESTS_PER_WINDOW);
    assert_eq!(config.governor.window, GovernorConfig::DEFAULT_WINDOW);
    let conn = connect(
        &unruly,
        "loop",
        Arc::new(egress_with(&base, config.governor)),
    );

    let started = Instant::now();
    let outcome = conn.action("work-order", "1", "send-loop", json!({})).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(outcome, Err(CallError::Sandbox(SandboxError::Deadline(_)))),
        "the loop runs until its deadline: {outcome:?}"
    );
    let hits = hits.lock().expect("lock").clone();
    // Without the budget the loop would send its per-call cap (1,000) in well under a
    // second; with it, at most `budget` requests in any window.
    assert!(
        hits.len() >= budget as usize,
        "the loop ran: {}",
        hits.len()
    );
    for (i, t) in hits.iter().enumerate() {
        let in_window = hits[i..]
            .iter()
            .take_while(|s| s.duration_since(*t) < GovernorConfig::DEFAULT_WINDOW)
            .count();
        // A few milliseconds of transport jitter between the governor and the server.
        assert!(
            in_window <= budget as usize + 5,
            "{in_window} requests reached the system within one window"
        );
    }
    let windows = elapsed.as_secs_f64().ceil() as usize + 1;
    assert!(
        hits.len() <= budget as usize * windows,
        "{} requests in {elapsed:?}",
        hits.len()
    );
}

#[tokio::test]
async fn the_budget_is_configured_per_connection() {
    let (base, hits) = counting_upstream().await;
    let (other_base, other_hits) = counting_upstream().await;
    let rt = Runtime::new(test_config()).expect("runtime");
    let unruly = load(&rt, "fixture", "unruly").await;
    let tight = GovernorConfig {
        requests_per_window: Some(10),
        window: Duration::from_secs(60),
        max_wait: Duration::from_millis(100),
        ..GovernorConfig::default()
    };
    let conn = connect(&unruly, "tight", Arc::new(egress_with(&base, tight)));
    // The adapter loops until the host refuses: the 11th request would wait a minute, more
    // than `max_wait`, so it is refused at once and reaches the adapter as an error.
    let result = conn
        .action("work-order", "1", "send-loop", json!({}))
        .await
        .expect("the loop ends when the host refuses");
    assert_eq!(result["sent"], 10, "{result:?}");
    assert_eq!(hits.lock().expect("lock").len(), 10);
    // A second call of the same connection shares the spent budget.
    let again = conn
        .action("work-order", "1", "send-loop", json!({}))
        .await
        .expect("ends at once");
    assert_eq!(again["sent"], 0);
    assert_eq!(hits.lock().expect("lock").len(), 10);

    // Another connection has its own budget (here the default one).
    let roomy = connect(
        &unruly,
        "roomy",
        Arc::new(egress_with(
            &other_base,
            GovernorConfig {
                max_wait: Duration::from_millis(100),
                ..GovernorConfig::default()
            },
        )),
    );
    let result = roomy
        .action("work-order", "1", "send-loop", json!({}))
        .await
        .expect("ends when the budget runs out");
    let sent = result["sent"].as_u64().expect("a count");
    assert!(
        (u64::from(GovernorConfig::DEFAULT_REQUESTS_PER_WINDOW)
            ..=u64::from(GovernorConfig::DEFAULT_REQUESTS_PER_WINDOW) + 50)
            .contains(&sent),
        "{sent}"
    );
    assert_eq!(other_hits.lock().expect("lock").len() as u64, sent);
}
