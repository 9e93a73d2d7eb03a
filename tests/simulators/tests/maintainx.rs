//! End-to-end tests of the MaintainX simulator over real HTTP (reqwest), checking the vendor
//! behaviours adapters rely on: auth, paging, envelopes, create/update/status/delete answers,
//! validation errors, rate limiting and fault injection.

#![expect(
    clippy::expect_used,
    reason = "a test fails loudly on the first surprise"
)]

use std::collections::HashSet;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use plantwire_simulators::maintainx::{Config, MaintainxSim};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{Value, json};

/// A small organization: fast to start, enough records to page.
fn small() -> Config {
    Config {
        work_orders: 120,
        assets: 40,
        parts: 30,
        purchase_orders: 20,
        locations: 12,
        vendors: 8,
        users: 10,
        ..Config::default()
    }
}

struct Api {
    sim: MaintainxSim,
    http: Client,
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    json: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Api {
    async fn start(config: Config) -> Self {
        let sim = MaintainxSim::start(config).await.expect("simulator starts");
        Self {
            sim,
            http: Client::new(),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.send_as(Some(self.sim.token()), method, path, body)
            .await
    }

    async fn send_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let url = format!("{}{path}", self.sim.base_url());
        let mut request = self.http.request(method, url);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body).expect("serializable"));
        }
        let response = request.send().await.expect("request succeeds");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body arrives");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON body")
        };
        Reply {
            status,
            headers,
            json,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn refuses_missing_or_wrong_tokens_and_records_every_request() {
    let api = Api::start(small()).await;
    let none = api.send_as(None, Method::GET, "/workorders", None).await;
    assert_eq!(none.status, 401);
    let wrong = api
        .send_as(Some("nope"), Method::GET, "/workorders", None)
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("x-rate-limit-limit").is_some());
    let ok = api.get("/workorders?limit=1").await;
    assert_eq!(ok.status, 200);

    let requests = api.sim.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].header("authorization"), None);
    assert_eq!(requests[1].header("authorization"), Some("Bearer nope"));
    assert_eq!(
        requests[2].header("Authorization"),
        Some("Bearer mx-sim-token")
    );
    assert_eq!(requests[2].method, "GET");
    assert_eq!(requests[2].path, "/v1/workorders");
    assert_eq!(requests[2].query.as_deref(), Some("limit=1"));
    api.sim.clear_requests();
    assert!(api.sim.requests().is_empty());
}

#[tokio::test]
async fn pages_through_every_work_order_without_gaps_or_duplicates() {
    let api = Api::start(Config::default()).await;
    let mut seen = HashSet::new();
    let mut ordered = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/workorders?limit=200&cursor={c}"),
            None => "/workorders?limit=200".to_string(),
        };
        let page = api.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.json);
        assert_eq!(
            keys(&page.json),
            vec!["nextCursor", "nextPageUrl", "workOrders"]
        );
        let items = page.json["workOrders"].as_array().expect("array");
        assert!(items.len() <= 200);
        for item in items {
            let id = item["id"].as_u64().expect("integer id");
            assert!(seen.insert(id), "duplicate id {id}");
            ordered.push(id);
        }
        pages += 1;
        match page.json["nextCursor"].as_str() {
            Some(next) => {
                let url = page.json["nextPageUrl"].as_str().expect("next page url");
                assert!(url.starts_with("/v1/workorders?limit=200&cursor="));
                cursor = Some(next.to_string());
            }
            None => {
                assert!(page.json["nextPageUrl"].is_null());
                break;
            }
        }
    }
    assert_eq!(seen.len(), 2_500);
    // `nextPageUrl` is a path (with `/v1`) on the same origin.
    let first = api.get("/workorders?limit=200&statuses=DONE").await;
    let next_url = first.json["nextPageUrl"].as_str().expect("next page");
    let origin = api.sim.base_url().trim_end_matches("/v1").to_string();
    let followed = api
        .http
        .get(format!("{origin}{next_url}"))
        .bearer_auth(api.sim.token())
        .send()
        .await
        .expect("request succeeds");
    assert_eq!(followed.status().as_u16(), 200);
    let body: Value =
        serde_json::from_slice(&followed.bytes().await.expect("body")).expect("JSON body");
    assert!(
        body["workOrders"]
            .as_array()
            .expect("array")
            .iter()
            .all(|w| w["status"] == "DONE")
    );
    assert_eq!(api.sim.count("workorders"), 2_500);
    assert_eq!(pages, 13);
    assert!(ordered.windows(2).all(|w| w[0] < w[1]), "ascending ids");
}

#[tokio::test]
async fn records_created_while_paging_appear_on_a_later_page() {
    let api = Api::start(small()).await;
    let first = api.get("/workorders?limit=50").await;
    let cursor = first.json["nextCursor"].as_str().expect("more pages");
    let created = api
        .send(
            Method::POST,
            "/workorders",
            Some(json!({ "title": "Late arrival" })),
        )
        .await;
    let new_id = created.json["id"].as_u64().expect("id");
    let mut ids: Vec<u64> = first.json["workOrders"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|w| w["id"].as_u64())
        .collect();
    let mut next = Some(cursor.to_string());
    while let Some(c) = next {
        let page = api.get(&format!("/workorders?limit=50&cursor={c}")).await;
        ids.extend(
            page.json["workOrders"]
                .as_array()
                .expect("array")
                .iter()
                .filter_map(|w| w["id"].as_u64()),
        );
        next = page.json["nextCursor"].as_str().map(str::to_string);
    }
    assert_eq!(ids.len(), 121);
    assert_eq!(ids.last(), Some(&new_id));
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 121);
}

#[tokio::test]
async fn rejects_bad_list_queries_with_the_query_error_shape() {
    let api = Api::start(small()).await;
    for path in [
        "/workorders?limit=201",
        "/workorders?limit=0",
        "/workorders?limit=ten",
        "/workorders?cursor=not-a-cursor!",
        "/workorders?statuses=ALMOST_DONE",
        "/workorders?sort=title",
        "/workorders?updatedAt[gte]=yesterday",
        "/assets?expand=everything",
    ] {
        let reply = api.get(path).await;
        assert_eq!(reply.status, 400, "{path}");
        assert!(reply.json["error"].is_string(), "{path}: {}", reply.json);
    }
    let max = api.get("/workorders?limit=200").await;
    assert_eq!(max.status, 200);
    let default = api.get("/workorders").await;
    assert_eq!(
        default.json["workOrders"].as_array().map(Vec::len),
        Some(100)
    );
}

#[tokio::test]
async fn filters_and_sorts_work_orders() {
    let api = Api::start(small()).await;
    let open = api
        .get("/workorders?limit=200&statuses=OPEN&statuses=IN_PROGRESS")
        .await;
    let items = open.json["workOrders"].as_array().expect("array");
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|w| matches!(w["status"].as_str(), Some("OPEN" | "IN_PROGRESS")))
    );

    let sorted = api.get("/workorders?limit=200&sort=-updatedAt").await;
    let stamps: Vec<&str> = sorted.json["workOrders"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|w| w["updatedAt"].as_str())
        .collect();
    assert_eq!(stamps.len(), 120);
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "descending");

    // Polling for changes: only what changed since the watermark.
    let watermark = "2030-01-01T00:00:00.000Z";
    let none = api
        .get(&format!("/workorders?updatedAt[gte]={watermark}"))
        .await;
    assert_eq!(none.json["workOrders"].as_array().map(Vec::len), Some(0));
    let before = api.get("/workorders?limit=1").await;
    let first = before.json["workOrders"][0].clone();
    let id = first["id"].as_u64().expect("id");
    let since = first["updatedAt"].as_str().expect("updatedAt");
    let patched = api
        .send(
            Method::PATCH,
            &format!("/workorders/{id}"),
            Some(json!({ "priority": "HIGH" })),
        )
        .await;
    assert_eq!(patched.status, 200);
    let changed_at = patched.json["workOrder"]["updatedAt"]
        .as_str()
        .expect("updatedAt");
    assert!(changed_at > since);
    let changed = api
        .get(&format!("/workorders?updatedAt[gte]={changed_at}"))
        .await;
    let ids: Vec<u64> = changed.json["workOrders"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|w| w["id"].as_u64())
        .collect();
    assert_eq!(ids, vec![id]);
}

#[tokio::test]
async fn list_items_carry_the_spec_list_fields_and_expand_adds_more() {
    let api = Api::start(small()).await;
    let pos = api.get("/purchaseorders?limit=5").await;
    for po in pos.json["purchaseOrders"].as_array().expect("array") {
        assert_eq!(keys(po), vec!["createdAt", "id", "status", "updatedAt"]);
    }
    let wo = api.get("/workorders?limit=1").await;
    assert!(wo.json["workOrders"][0].get("assetId").is_none());
    let expanded = api.get("/workorders?limit=1&expand=asset").await;
    let item = &expanded.json["workOrders"][0];
    let asset_id = item["asset"]["id"].as_u64().expect("asset expanded");
    assert!(api.sim.record("assets", asset_id).is_some());
    let single = api
        .get(&format!("/workorders/{}", item["id"].as_u64().expect("id")))
        .await;
    assert_eq!(single.json["workOrder"]["assetId"].as_u64(), Some(asset_id));
    let parts = api.get("/parts?partNumber=BRG-6204-2RS").await;
    assert_eq!(parts.status, 200);
}

#[tokio::test]
async fn creates_work_orders_with_200_and_only_the_id() {
    let api = Api::start(small()).await;
    let asset = api.sim.ids("assets")[0];
    let created = api
        .send(
            Method::POST,
            "/workorders",
            Some(json!({
                "title": "Replace bearings on P-101",
                "priority": "HIGH",
                "assetId": asset,
                "dueDate": "2030-05-01T12:00:00Z",
            })),
        )
        .await;
    assert_eq!(created.status, 200);
    assert_eq!(keys(&created.json), vec!["id"]);
    let id = created.json["id"].as_u64().expect("id");
    assert_eq!(api.sim.count("workorders"), 121);

    let got = api.get(&format!("/workorders/{id}")).await;
    assert_eq!(got.status, 200);
    let wo = &got.json["workOrder"];
    assert_eq!(wo["title"], "Replace bearings on P-101");
    assert_eq!(wo["status"], "OPEN");
    assert_eq!(wo["sequentialId"], 121);
    assert_eq!(wo["dueDate"], "2030-05-01T12:00:00.000Z");
    assert_eq!(wo["createdAt"], wo["updatedAt"]);
    let stamp = wo["createdAt"].as_str().expect("createdAt");
    assert_eq!(stamp.len(), 24);
    assert!(stamp.ends_with('Z'));

    let missing = api
        .send(
            Method::POST,
            "/workorders",
            Some(json!({ "priority": "LOW" })),
        )
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json["errors"][0]["fieldPath"], "title");

    let bad = api
        .send(
            Method::POST,
            "/workorders",
            Some(json!({ "title": "x", "priority": "URGENT", "assetId": 999_999_999 })),
        )
        .await;
    assert_eq!(bad.status, 400);
    let errors = bad.json["errors"].as_array().expect("errors");
    assert!(errors.iter().any(|e| e["error"] == "Invalid priority"
        && e["fieldPath"] == "priority"
        && e["fieldValue"] == "URGENT"));
    assert!(errors.iter().any(|e| e["fieldPath"] == "assetId"));
    assert_eq!(api.sim.count("workorders"), 121, "nothing written");
}

#[tokio::test]
async fn creates_purchase_orders_with_201_and_the_full_record() {
    let api = Api::start(small()).await;
    let vendor = api.sim.ids("vendors")[0];
    let part = api.sim.ids("parts")[0];
    let created = api
        .send(
            Method::POST,
            "/purchaseorders",
            Some(json!({
                "vendorId": vendor,
                "title": "Bearings restock",
                "items": [
                    { "partId": part, "quantityOrdered": 4 },
                    { "name": "Shop rags", "quantityOrdered": 2, "unitCost": 1_250 },
                ],
            })),
        )
        .await;
    assert_eq!(created.status, 201);
    let po = &created.json;
    assert_eq!(po["status"], "REQUESTED");
    assert_eq!(po["vendorId"].as_u64(), Some(vendor));
    let items = po["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["id"].is_u64()));
    assert_eq!(items[1]["price"], 2_500);
    assert_eq!(items[1]["priceDecimal"], "25.000000");
    assert!(items[0]["name"].is_string(), "name taken from the part");

    let missing = api
        .send(
            Method::POST,
            "/purchaseorders",
            Some(json!({ "title": "x" })),
        )
        .await;
    assert_eq!(missing.status, 400);
    let paths: Vec<&str> = missing.json["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["fieldPath"].as_str())
        .collect();
    assert_eq!(paths, vec!["vendorId", "items"]);
}

#[tokio::test]
async fn other_creates_answer_as_the_spec_says() {
    let api = Api::start(small()).await;
    for (path, body, status) in [
        ("/assets", json!({ "name": "Chiller CH-9" }), 201),
        ("/parts", json!({ "name": "V-Belt B52" }), 201),
        ("/locations", json!({ "name": "DAY Pump House" }), 200),
        ("/vendors", json!({ "name": "Acme Bearings" }), 201),
        (
            "/users",
            json!({ "firstName": "Ada", "lastName": "Byron", "email": "ada@example.com" }),
            201,
        ),
    ] {
        let reply = api.send(Method::POST, path, Some(body)).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.json);
        assert_eq!(keys(&reply.json), vec!["id"], "{path}");
        let id = reply.json["id"].as_u64().expect("id");
        let got = api.get(&format!("{path}/{id}")).await;
        assert_eq!(got.status, 200, "{path}");
    }
    let user = api.get("/users?email=ADA@example.com").await;
    assert_eq!(user.json["users"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn status_changes_only_through_the_status_endpoint() {
    let api = Api::start(small()).await;
    let id = api.sim.ids("workorders")[0];
    let before = api.sim.record("workorders", id).expect("record");

    let refused = api
        .send(
            Method::PATCH,
            &format!("/workorders/{id}"),
            Some(json!({ "status": "DONE", "title": "Renamed" })),
        )
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json["errors"][0]["fieldPath"], "status");
    assert_eq!(api.sim.record("workorders", id), Some(before.clone()));

    let reopened = api
        .send(
            Method::PATCH,
            &format!("/workorders/{id}/status"),
            Some(json!({ "status": "IN_PROGRESS" })),
        )
        .await;
    assert_eq!(reopened.status, 200);
    let done = api
        .send(
            Method::PATCH,
            &format!("/workorders/{id}/status"),
            Some(json!({ "status": "DONE" })),
        )
        .await;
    assert_eq!(done.status, 200);
    let wo = &done.json["workOrder"];
    assert_eq!(wo["status"], "DONE");
    assert!(wo["completedAt"].is_string());
    assert!(wo["updatedAt"].as_str() > before["updatedAt"].as_str());

    let invalid = api
        .send(
            Method::PATCH,
            &format!("/workorders/{id}/status"),
            Some(json!({ "status": "SKIPPED" })),
        )
        .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.json["errors"][0]["error"], "Invalid status");

    // Purchase orders follow the spec's transition table.
    let vendor = api.sim.ids("vendors")[0];
    let po = api
        .send(
            Method::POST,
            "/purchaseorders",
            Some(json!({ "vendorId": vendor, "items": [{ "name": "Grease", "quantityOrdered": 1 }] })),
        )
        .await;
    let po_id = po.json["id"].as_u64().expect("id");
    let path = format!("/purchaseorders/{po_id}/status");
    for (status, expected) in [
        ("APPROVED", 403),
        ("PENDING", 200),
        ("APPROVED", 200),
        ("PENDING", 403),
        ("COMPLETED", 200),
    ] {
        let reply = api
            .send(Method::PATCH, &path, Some(json!({ "status": status })))
            .await;
        assert_eq!(reply.status, expected, "to {status}: {}", reply.json);
    }
    let completed = api.get(&format!("/purchaseorders/{po_id}")).await;
    let po = &completed.json["purchaseOrder"];
    assert_eq!(po["status"], "COMPLETED");
    assert!(po["approvalDate"].is_string());
    assert_eq!(po["items"][0]["quantityReceived"], 1);
    let plain = api
        .send(
            Method::PATCH,
            &format!("/purchaseorders/{po_id}"),
            Some(json!({ "status": "CANCELED" })),
        )
        .await;
    assert_eq!(plain.status, 400);
}

#[tokio::test]
async fn updates_return_the_wrapped_record() {
    let api = Api::start(small()).await;
    let id = api.sim.ids("assets")[3];
    let reply = api
        .send(
            Method::PATCH,
            &format!("/assets/{id}"),
            Some(json!({ "serialNumber": "SN-42", "manufacturer": { "name": "Baldor" } })),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["asset"]["serialNumber"], "SN-42");
    assert_eq!(reply.json["asset"]["manufacturer"], "Baldor");
    let wrong_type = api
        .send(
            Method::PATCH,
            &format!("/assets/{id}"),
            Some(json!({ "locationId": "north" })),
        )
        .await;
    assert_eq!(wrong_type.status, 400);
    assert_eq!(wrong_type.json["errors"][0]["error"], "should be integer");
    let unknown = api
        .send(Method::PATCH, "/assets/42", Some(json!({ "name": "x" })))
        .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.json["error"].is_string());
}

#[tokio::test]
async fn deletes_answer_204_then_404() {
    let api = Api::start(small()).await;
    let id = api.sim.ids("workorders")[5];
    let deleted = api
        .send(Method::DELETE, &format!("/workorders/{id}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.json.is_null());
    assert_eq!(api.sim.count("workorders"), 119);
    assert_eq!(api.get(&format!("/workorders/{id}")).await.status, 404);
    let again = api
        .send(Method::DELETE, &format!("/workorders/{id}"), None)
        .await;
    assert_eq!(again.status, 404);
    assert!(again.json["error"].is_string());
    let listed = api.get("/workorders?limit=200").await;
    assert!(
        listed.json["workOrders"]
            .as_array()
            .expect("array")
            .iter()
            .all(|w| w["id"].as_u64() != Some(id))
    );
    let user = api.sim.ids("users")[3];
    let removed = api
        .send(Method::DELETE, &format!("/users/{user}"), None)
        .await;
    assert_eq!(removed.status, 204);
}

#[tokio::test]
async fn answers_429_with_the_vendor_body_once_the_budget_is_spent() {
    let api = Api::start(Config {
        rate_limit: Some(3),
        ..small()
    })
    .await;
    for remaining in ["2", "1", "0"] {
        let reply = api.get("/locations?limit=1").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-rate-limit-limit"), Some("3"));
        assert_eq!(reply.header("x-rate-limit-remaining"), Some(remaining));
    }
    let refused = api.get("/locations?limit=1").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("x-rate-limit-remaining"), Some("0"));
    let reset: u64 = refused
        .header("x-rate-limit-reset")
        .and_then(|r| r.parse().ok())
        .expect("reset seconds");
    assert!((1..=60).contains(&reset));
    assert_eq!(
        refused.json["error"],
        format!("Too many requests. Please retry in {reset} seconds")
    );
}

#[tokio::test]
async fn unlimited_by_default_but_headers_are_still_sent() {
    let api = Api::start(small()).await;
    let reply = api.get("/vendors").await;
    let limit: u64 = reply
        .header("x-rate-limit-limit")
        .and_then(|v| v.parse().ok())
        .expect("limit");
    assert!(limit >= 1_000_000);
    assert!(reply.header("x-rate-limit-remaining").is_some());
    assert!(reply.header("x-rate-limit-reset").is_some());
}

#[tokio::test]
async fn injects_forced_statuses_revoked_tokens_and_latency() {
    let api = Api::start(small()).await;
    api.sim.faults().fail_next(2, 503);
    api.sim.faults().fail_next(1, 429);
    let first = api.get("/users").await;
    assert_eq!(first.status, 503);
    assert!(first.json["error"].is_string());
    assert_eq!(api.get("/users").await.status, 503);
    let limited = api.get("/users").await;
    assert_eq!(limited.status, 429);
    assert!(
        limited.json["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("Too many requests. Please retry in "))
    );
    assert_eq!(limited.header("x-rate-limit-remaining"), Some("0"));
    assert_eq!(api.get("/users").await.status, 200);

    api.sim.faults().fail_next(1, 500);
    let internal = api.get("/users").await;
    assert_eq!(internal.status, 500);
    assert_eq!(internal.json["error"], "Internal server error.");

    api.sim.faults().revoke_token();
    assert_eq!(api.get("/users").await.status, 401);
    api.sim.faults().restore_token();
    assert_eq!(api.get("/users").await.status, 200);

    api.sim.faults().set_latency(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(api.get("/users").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    api.sim.faults().clear();
    let started = Instant::now();
    assert_eq!(api.get("/users").await.status, 200);
    assert!(started.elapsed() < Duration::from_millis(150));
    assert_eq!(
        api.sim.requests().len(),
        9,
        "faulted requests are recorded too"
    );
}

/// Sends one raw HTTP/1.1 request and returns every byte the server sent before closing.
fn raw_exchange(addr: std::net::SocketAddr, token: &str, path: &str) -> Vec<u8> {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut received = Vec::new();
    // A reset connection ends the read with an error; what arrived before it counts.
    let _ = stream.read_to_end(&mut received);
    received
}

#[tokio::test]
async fn drops_and_truncates_responses() {
    let api = Api::start(small()).await;
    let addr = api.sim.addr();
    let token = api.sim.token().to_string();

    api.sim.faults().drop_next(1);
    let dropped = tokio::task::spawn_blocking({
        let token = token.clone();
        move || raw_exchange(addr, &token, "/v1/vendors")
    })
    .await
    .expect("join");
    assert!(dropped.is_empty(), "no response at all: {dropped:?}");
    assert_eq!(
        api.sim.requests().len(),
        1,
        "the dropped request was recorded"
    );

    api.sim.faults().truncate_next(1);
    let cut = tokio::task::spawn_blocking(move || raw_exchange(addr, &token, "/v1/vendors"))
        .await
        .expect("join");
    let split = cut
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers arrived");
    let head = String::from_utf8_lossy(&cut[..split]).to_string();
    let body = &cut[split + 4..];
    assert!(head.starts_with("HTTP/1.1 200"));
    let promised: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
        .expect("content-length");
    assert!(promised > 0);
    assert_eq!(body.len(), promised / 2, "half the body, then closed");

    // Clients see a failed request, and the next one works again.
    api.sim.faults().truncate_next(1);
    let url = format!("{}/vendors", api.sim.base_url());
    let response = api
        .http
        .get(&url)
        .bearer_auth(api.sim.token())
        .send()
        .await
        .expect("headers arrive");
    assert!(response.bytes().await.is_err());
    api.sim.faults().drop_next(1);
    assert!(
        api.http
            .get(&url)
            .bearer_auth(api.sim.token())
            .send()
            .await
            .is_err()
    );
    assert_eq!(api.get("/vendors").await.status, 200);
}

#[tokio::test]
async fn serves_64_concurrent_requests() {
    let api = Api::start(small()).await;
    let base = api.sim.base_url();
    let mut tasks = Vec::new();
    for i in 0..64u32 {
        let http = api.http.clone();
        let url = if i % 2 == 0 {
            format!("{base}/workorders?limit=50")
        } else {
            format!("{base}/workorders")
        };
        let token = api.sim.token().to_string();
        let body = serde_json::to_vec(&json!({ "title": format!("Concurrent {i}") }))
            .expect("serializable");
        tasks.push(tokio::spawn(async move {
            let request = if i % 2 == 0 {
                http.get(url)
            } else {
                http.post(url).body(body)
            };
            request
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for task in tasks {
        let status = task.await.expect("join").expect("response");
        assert!(status == 200, "status {status}");
    }
    assert_eq!(api.sim.count("workorders"), 152);
    api.sim.shutdown().await;
}

#[tokio::test]
async fn finds_work_orders_by_sequential_id() {
    let api = Api::start(small()).await;
    let id = api.sim.ids("workorders")[9];
    let reply = api.get("/workorders/10?useSequentialId=true").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["workOrder"]["id"].as_u64(), Some(id));
    assert_eq!(api.get("/workorders/abc").await.status, 400);
    assert_eq!(api.get("/teams").await.status, 404);
}

#[tokio::test]
async fn stops_on_shutdown_and_when_dropped() {
    let api = Api::start(small()).await;
    let url = format!("{}/users", api.sim.base_url());
    let token = api.sim.token().to_string();
    let clone = api.sim.clone();
    api.sim.shutdown().await;
    let after = api.http.get(&url).bearer_auth(&token).send().await;
    assert!(after.is_err(), "shut down");
    drop(clone);

    let sim = MaintainxSim::start(small()).await.expect("starts");
    let url = format!("{}/users", sim.base_url());
    drop(sim);
    let mut stopped = false;
    for _ in 0..50 {
        if api.http.get(&url).bearer_auth(&token).send().await.is_err() {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stopped, "dropping the last handle stops the server");
}

#[tokio::test]
async fn nested_writes_follow_the_spec_shapes() {
    let api = Api::start(small()).await;
    let locations = api.sim.ids("locations");
    let vendor = api.sim.ids("vendors")[1];

    // Parts: the multi-location list is canonical; the deprecated totals follow it.
    let part = api
        .send(
            Method::POST,
            "/parts",
            Some(json!({
                "name": "Deep Groove Ball Bearing 6310-2RS",
                "unitCost": 2_150,
                "vendors": [{ "vendorId": vendor, "partNumber": "BRG-6310-2RS-X" }],
                "locations": [
                    { "locationId": locations[5], "availableQuantity": 4, "minimumQuantity": 2 },
                    { "locationId": locations[6], "availableQuantity": 6, "minimumQuantity": 1 },
                ],
            })),
        )
        .await;
    assert_eq!(part.status, 201, "{}", part.json);
    let part_id = part.json["id"].as_u64().expect("id");
    let got = api.get(&format!("/parts/{part_id}")).await;
    assert_eq!(got.json["part"]["availableQuantity"], 10);
    assert_eq!(got.json["part"]["vendorIds"], json!([vendor]));
    let found = api
        .get("/parts?partNumber=BRG-6310-2RS-X&expand=vendors")
        .await;
    assert_eq!(found.json["parts"].as_array().map(Vec::len), Some(1));
    let updated = api
        .send(
            Method::PATCH,
            &format!("/parts/{part_id}"),
            Some(json!({ "locations": {
                "addedUpdated": [{ "locationId": locations[6], "availableQuantity": 1 }],
                "removedLocationIds": [locations[5]],
            }})),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    assert_eq!(updated.json["part"]["availableQuantity"], 1);
    assert_eq!(
        updated.json["part"]["locationId"].as_u64(),
        Some(locations[6])
    );
    let both = api
        .send(
            Method::PATCH,
            &format!("/parts/{part_id}"),
            Some(json!({ "availableQuantity": 3, "locations": { "removedLocationIds": [] } })),
        )
        .await;
    assert_eq!(both.status, 400);

    // Work orders: assignees by user id or email, teams by id.
    let user = api
        .sim
        .record("users", api.sim.ids("users")[2])
        .expect("user");
    let wo = api
        .send(
            Method::POST,
            "/workorders",
            Some(json!({
                "title": "Inspect coupling",
                "assignees": [
                    { "type": "USER", "id": user["email"] },
                    { "type": "TEAM", "id": 7_003 },
                ],
                "startDate": "2024-01-01T00:00:00.000Z",
            })),
        )
        .await;
    assert_eq!(wo.status, 400, "startDate needs a dueDate: {}", wo.json);
    let wo = api
        .send(
            Method::POST,
            "/workorders",
            Some(json!({
                "title": "Inspect coupling",
                "assignees": [
                    { "type": "USER", "id": user["email"] },
                    { "type": "TEAM", "id": 7_003 },
                ],
            })),
        )
        .await;
    let wo_id = wo.json["id"].as_u64().expect("id");
    let got = api
        .get(&format!("/workorders/{wo_id}?expand=assignees"))
        .await;
    assert_eq!(got.json["workOrder"]["assigneeIds"], json!([user["id"]]));
    assert_eq!(got.json["workOrder"]["teamIds"], json!([7_003]));
    assert_eq!(
        got.json["workOrder"]["assignees"].as_array().map(Vec::len),
        Some(2)
    );

    // Purchase orders: lines with an id are updated, lines without one are added.
    let po = api
        .send(
            Method::POST,
            "/purchaseorders",
            Some(json!({ "vendorId": vendor, "items": [{ "name": "Grease", "quantityOrdered": 2, "unitCost": 900 }] })),
        )
        .await;
    let po_id = po.json["id"].as_u64().expect("id");
    let line = po.json["items"][0]["id"].clone();
    let changed = api
        .send(
            Method::PATCH,
            &format!("/purchaseorders/{po_id}"),
            Some(json!({ "items": [
                { "id": line, "quantityOrdered": 3 },
                { "name": "Rags", "quantityOrdered": 1, "unitCost": 500 },
            ]})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.json);
    let items = changed.json["purchaseOrder"]["items"]
        .as_array()
        .expect("items");
    assert_eq!(items[0]["id"], line);
    assert_eq!(items[0]["price"], 2_700);
    assert_ne!(items[1]["id"], line);
    let foreign = api
        .send(
            Method::PATCH,
            &format!("/purchaseorders/{po_id}"),
            Some(json!({ "items": [{ "id": 1, "quantityOrdered": 3 }] })),
        )
        .await;
    assert_eq!(foreign.status, 400);
}
