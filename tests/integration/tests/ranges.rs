//! Path forms that could step out of a base path on an upstream that decodes them are
//! refused by the real egress before anything is sent, directly and through a real adapter
//! component given a hostile key; the legitimate SAP key literal with an encoded `/` still
//! reaches the upstream exactly as written. Every upstream here is on 127.0.0.1; the address
//! ranges themselves are tested on the policy functions (`host/src/egress/ranges.rs`), never
//! by connecting.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{StatusCode, Uri};
use plantwire::sdk::{AdapterError, AuthScheme, HttpError, Request};
use plantwire::{CallError, Credential, Egress, EgressConfig, Upstream};
use plantwire_integration_tests::{connect, load, runtime, serve};
use secrecy::SecretString;

/// A loopback upstream that records the raw path and query of every request it receives
/// and answers 404.
async fn recording_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = Router::new().fallback(move |uri: Uri| {
        let log = log.clone();
        async move {
            log.lock().expect("log").push(uri.to_string());
            StatusCode::NOT_FOUND
        }
    });
    let addr = serve(app).await;
    (format!("http://{addr}"), seen)
}

fn egress(base: &str, scheme: AuthScheme, credential: Credential) -> Egress {
    let mut config = EgressConfig::new(url::Url::parse(base).expect("base URL"));
    config.allow_private_network = true;
    Egress::new(config, scheme, credential).expect("egress")
}

#[tokio::test]
async fn hostile_path_forms_never_reach_the_upstream() {
    let (origin, seen) = recording_server().await;
    let upstream = egress(
        &format!("{origin}/sap/opu/odata/sap"),
        AuthScheme::Bearer,
        Credential::Token(SecretString::from("ranges-token-51c2".to_owned())),
    );
    for path in [
        "/API/x%2F..%2F..%2F..%2Fadmin",
        "/API/x%2f..%2fadmin",
        "/API/x%5C..%5C..%5Cadmin",
        "/API/%2e%2e/%2e%2e/admin",
        "/API/.%2E/admin",
        "/API/%2E./admin",
        "/API/x%252F..%252F..%252Fadmin",
        "/API/%252e%252e/admin",
        "/API/..;/..;/admin",
        "/API;sap-client=999/Set",
        "/API/Set('x%2F..%2F..%2F..%2Fadmin')",
        "/API/Set('%252F..%252Fadmin')",
        "/API/Set('unterminated%2F..",
        "/API/a/../../../admin",
    ] {
        match upstream.send(Request::get(path)).await {
            Err(HttpError::ForbiddenDestination(why)) => {
                assert!(why.contains(path), "the refusal names the path: {why}")
            }
            other => panic!("{path} must be refused: {other:?}"),
        }
    }
    assert!(
        seen.lock().expect("log").is_empty(),
        "a refused path reached the upstream: {:?}",
        seen.lock().expect("log")
    );

    // The legitimate forms: an SAP key literal with encoded `/` and `%`, and encoded
    // separators in the query.
    let legit = [
        "/API_FUNCTIONALLOCATION/FunctionalLocation('1010-SP%2FA%20B')",
        "/API_FUNCTIONALLOCATION/FunctionalLocation('100%25')",
        "/API_MAINTENANCEORDER/MaintenanceOrder?$top=1&$skiptoken=a%2Fb",
    ];
    for path in legit {
        let response = upstream.send(Request::get(path)).await.expect(path);
        assert_eq!(response.status, 404, "{path}");
    }
    let seen = seen.lock().expect("log").clone();
    assert_eq!(
        seen,
        legit
            .iter()
            .map(|p| format!("/sap/opu/odata/sap{p}"))
            .collect::<Vec<_>>(),
        "the upstream receives the paths exactly as the adapter wrote them"
    );
}

#[tokio::test]
async fn a_callers_key_cannot_step_out_through_a_real_adapters_key_literal() {
    let (origin, seen) = recording_server().await;
    let rt = runtime();
    let component = load(&rt, "adapter", "sap-s4hana").await;
    let upstream = egress(
        &format!("{origin}/sap/opu/odata/sap?sap-client=100"),
        AuthScheme::Basic,
        Credential::Basic {
            user: "RANGES".to_owned(),
            password: SecretString::from("ranges-pass-77d0".to_owned()),
        },
    );
    let conn = connect(&component, "sap-ranges", Arc::new(upstream));

    // The SAP adapter percent-encodes the key inside `('…')`: a decoding upstream would
    // read `/../../` out of it, so the host refuses it and nothing is sent.
    for key in ["../../../admin", "x/../../admin", "..\\..\\admin"] {
        match conn.get("location", key).await {
            Err(CallError::Adapter(AdapterError::Forbidden(why))) => {
                assert!(why.contains("dot segment"), "{key}: {why}")
            }
            other => panic!("{key} must be refused as a forbidden destination: {other:?}"),
        }
    }
    assert!(
        seen.lock().expect("log").is_empty(),
        "a refused key reached the upstream: {:?}",
        seen.lock().expect("log")
    );

    // A key with a `/` in it is legitimate and is sent, encoded inside the literal.
    let result = conn.get("location", "1010-SP/A B").await;
    assert!(result.is_err(), "the upstream answers 404");
    let seen = seen.lock().expect("log").clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with(
            "/sap/opu/odata/sap/API_FUNCTIONALLOCATION/FunctionalLocation('1010-SP%2FA%20B')"
        ),
        "{seen:?}"
    );
}
