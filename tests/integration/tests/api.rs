//! The HTTP service over a workspace connection to the MaintainX simulator: caller paging with
//! page tokens, filters, fields and raw payloads, and RFC 9457 problems for every bad input,
//! none of which reaches the system.

#![allow(clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

use std::sync::Arc;

use plantwire::Registry;
use plantwire::api::{ApiState, router};
use plantwire::paging::{Pager, PagingConfig, TokenSealer};
use plantwire::store::{ConnectRequest, MasterKeySource, VaultBackend, Workspace, WorkspaceConfig};
use plantwire::vault::{MasterKey, StoredCredential};
use plantwire_integration_tests::{Scratch, load, runtime, serve};
use plantwire_simulators::maintainx::{Config as SimConfig, MaintainxSim};
use secrecy::SecretString;
use serde_json::Value;

struct Service {
    sim: MaintainxSim,
    base: String,
    client: reqwest::Client,
    _state: Scratch,
}

async fn service() -> Service {
    let sim = MaintainxSim::start(SimConfig {
        work_orders: 103,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let rt = runtime();
    let mut registry = Registry::default();
    registry
        .insert(
            "maintainx.wasm".into(),
            load(&rt, "adapter", "maintainx").await,
        )
        .expect("registry");
    let state = Scratch::new("api");
    let key = state.join("master.key");
    MasterKey::generate().write_to_file(&key).expect("key");
    let workspace = Workspace::open(WorkspaceConfig {
        state_dir: state.join("state"),
        vault: VaultBackend::Sealed,
        vault_file: None,
        master_key: MasterKeySource::File(key),
        aws: plantwire::vault::AwsSecretsManagerConfig::new("us-east-1"),
    })
    .expect("workspace");
    workspace
        .connect(
            &registry,
            ConnectRequest {
                id: "mx".into(),
                system: "maintainx".into(),
                base_url: sim.base_url(),
                tenant: Some("acme".into()),
                allow_private_network: true,
                granted_origins: vec![],
                timeout: None,
                credential: Some(StoredCredential::Token {
                    token: SecretString::from(sim.token().to_owned()),
                }),
                check: true,
            },
        )
        .await
        .expect("connect");
    let api = Arc::new(ApiState::new(
        registry,
        workspace,
        Pager::new(TokenSealer::ephemeral(), PagingConfig::default()),
    ));
    let addr = serve(router(api)).await;
    Service {
        sim,
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        _state: state,
    }
}

impl Service {
    async fn get(&self, path_and_query: &str) -> (u16, String, Value) {
        let resp = self
            .client
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .expect("send");
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = resp.bytes().await.expect("body");
        let body: Value = serde_json::from_slice(&bytes).expect("a JSON body");
        (status, ctype, body)
    }

    /// A 400 problem whose detail holds `needle`.
    async fn problem(&self, path_and_query: &str, status: u16, needle: &str) -> Value {
        let (got, ctype, body) = self.get(path_and_query).await;
        assert_eq!(got, status, "{path_and_query}: {body}");
        assert_eq!(ctype, "application/problem+json", "{path_and_query}");
        assert_eq!(body["status"], status);
        let detail = body["detail"].as_str().expect("detail");
        assert!(detail.contains(needle), "{path_and_query}: {detail}");
        body
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn pages_follow_their_tokens_and_every_record_comes_once() {
    let svc = service().await;
    let mut keys = Vec::new();
    let mut path = "/v1/connections/mx/work-order?pageSize=7".to_owned();
    loop {
        let (status, ctype, body) = svc.get(&path).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(ctype, "application/json");
        let records = body["records"].as_array().expect("records");
        assert!(records.len() <= 7);
        keys.extend(
            records
                .iter()
                .map(|r| r["key"].as_str().expect("key").to_owned()),
        );
        match body["nextPageToken"].as_str() {
            Some(t) => {
                path = format!(
                    "/v1/connections/mx/work-order?pageSize=7&pageToken={}",
                    enc(t)
                )
            }
            None => break,
        }
    }
    assert_eq!(keys.len(), 103);
    let unique: std::collections::BTreeSet<_> = keys.iter().collect();
    assert_eq!(unique.len(), 103);

    // Filters, a field selection and raw payloads.
    let (status, _, body) = svc
        .get(&format!(
            "/v1/connections/mx/work-order?filter={}&fields=title,status&include=raw&pageSize=50",
            enc("status=open")
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    for r in body["records"].as_array().expect("records") {
        assert_eq!(r["status"], "open");
        let mut names: Vec<&str> = r
            .as_object()
            .expect("obj")
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["key", "raw", "status", "title"], "{r}");
        assert_eq!(r["raw"]["id"].to_string(), r["key"].as_str().expect("key"));
    }
    let key = keys[0].clone();
    let (status, _, record) = svc
        .get(&format!("/v1/connections/mx/work-order/{key}?include=raw"))
        .await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["key"], key.as_str());
    assert!(record["raw"].is_object(), "{record}");
    let (_, _, plain) = svc
        .get(&format!("/v1/connections/mx/work-order/{key}"))
        .await;
    assert!(plain.get("raw").is_none(), "no raw unless asked");

    let (status, _, caps) = svc.get("/v1/capabilities/maintainx").await;
    assert_eq!(status, 200);
    assert_eq!(caps["system"], "maintainx");
}

#[tokio::test]
async fn bad_tokens_and_queries_are_problems_and_nothing_reaches_the_system() {
    let svc = service().await;
    let (_, _, first) = svc.get("/v1/connections/mx/work-order?pageSize=10").await;
    let token = first["nextPageToken"].as_str().expect("token").to_owned();
    let sent = svc.sim.requests().len();

    let mut tampered = token.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("utf8");
    let p = svc
        .problem(
            &format!(
                "/v1/connections/mx/work-order?pageSize=10&pageToken={}",
                enc(&tampered)
            ),
            400,
            "not valid",
        )
        .await;
    assert_eq!(
        p["type"],
        "https://plantwire.dev/problems/invalid-page-token"
    );
    svc.problem(
        &format!(
            "/v1/connections/mx/work-order?pageSize=20&pageToken={}",
            enc(&token)
        ),
        400,
        "another query",
    )
    .await;
    svc.problem(
        &format!(
            "/v1/connections/mx/asset?pageSize=10&pageToken={}",
            enc(&token)
        ),
        400,
        "another entity",
    )
    .await;
    svc.problem(
        "/v1/connections/mx/work-order?pageToken=cursor-from-the-system",
        400,
        "malformed",
    )
    .await;
    svc.problem(
        &format!("/v1/connections/mx/work-order?filter={}", enc("colour=red")),
        400,
        "no field `colour`",
    )
    .await;
    svc.problem(
        &format!(
            "/v1/connections/mx/work-order?filter={}",
            enc("status open")
        ),
        400,
        "expected an operator",
    )
    .await;
    svc.problem(
        "/v1/connections/mx/work-order?pageSize=0",
        400,
        "positive integer",
    )
    .await;
    svc.problem(
        "/v1/connections/mx/work-order?limit=5",
        400,
        "unknown query parameter `limit`",
    )
    .await;
    svc.problem(
        "/v1/connections/mx/work-order?include=everything",
        400,
        "`include` takes `raw`",
    )
    .await;
    svc.problem(
        "/v1/connections/mx/work-order?sort=a&sort=b",
        400,
        "given twice",
    )
    .await;
    svc.problem(
        "/v1/connections/nope/work-order",
        404,
        "no connection `nope`",
    )
    .await;
    svc.problem("/v1/capabilities/sap-s4hana", 404, "no adapter for system")
        .await;
    assert_eq!(
        svc.sim.requests().len(),
        sent,
        "no refused request reached the system"
    );

    // The right token still works.
    let (status, _, next) = svc
        .get(&format!(
            "/v1/connections/mx/work-order?pageSize=10&pageToken={}",
            enc(&token)
        ))
        .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["records"].as_array().expect("records").len(), 10);
}
