//! The adapters against servers that behave differently from the simulators' defaults, in
//! every way the vendors' protocols allow: server-driven paging that ignores or overruns the
//! requested window, rows in no stable order, CSRF protection switched off, `$batch` answers
//! that stop at the first failing change set, optional properties left out.
//!
//! Each switch is a simulator setting; each test runs the real wasm adapter through the host
//! against the simulator so configured, and checks the outcome against the simulator's own
//! records.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::collections::HashSet;
use std::sync::Arc;

use plantwire::bulk::engine::send_batch;
use plantwire::bulk::{BulkOp, InputRecord, RecordOutcome};
use plantwire::paging::{Export, Pager, PagingConfig, Query, TokenSealer};
use plantwire::sdk::{AdapterError, AuthScheme};
use plantwire::{CallError, Connection, Credential, Egress, EgressConfig, ListOptions};
use plantwire_integration_tests::{connect, load, runtime};
use plantwire_simulators::sap::{Config as SapConfig, SapSim, ServerPaging};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

async fn sap(config: SapConfig) -> (SapSim, Connection) {
    let sim = SapSim::start(config).await.expect("simulator");
    let mut egress = EgressConfig::new(url::Url::parse(&sim.base_url()).expect("base URL"));
    egress.allow_private_network = true;
    let egress = Egress::new(
        egress,
        AuthScheme::Basic,
        Credential::Basic {
            user: sim.user().to_owned(),
            password: SecretString::from(sim.password().to_owned()),
        },
    )
    .expect("egress");
    let rt = runtime();
    let component = load(&rt, "adapter", "sap-s4hana").await;
    let conn = connect(&component, "sap-variant", Arc::new(egress));
    (sim, conn)
}

/// A small SAP with `orders` maintenance orders and the given paging.
fn orders(orders: usize, paging: ServerPaging, unstable_order: bool) -> SapConfig {
    SapConfig {
        maintenance_orders: orders,
        equipment: 10,
        functional_locations: 10,
        purchase_orders: 10,
        stock_rows: 10,
        suppliers: 10,
        paging,
        unstable_order,
        ..SapConfig::default()
    }
}

/// The simulator's maintenance order keys, ascending.
fn stored_orders(sim: &SapSim) -> Vec<String> {
    let mut keys: Vec<String> = sim
        .keys("MaintenanceOrder")
        .into_iter()
        .map(|k| k.join("|"))
        .collect();
    keys.sort();
    keys
}

/// Every key of a listing through the host's pager (sealed tokens, page filling, and the
/// guard against repeated records), in order.
async fn through_pager(conn: &Connection, page_size: u32, sort: Option<&str>) -> Vec<String> {
    let pager = Pager::new(TokenSealer::ephemeral(), PagingConfig::default());
    let query = Query {
        page_size: Some(page_size),
        sort: sort.map(str::to_owned),
        ..Query::default()
    };
    let mut token: Option<String> = None;
    let mut keys = Vec::new();
    for _ in 0..5_000 {
        let page = pager
            .page(conn, None, "work-order", &query, token.as_deref())
            .await
            .unwrap_or_else(|e| panic!("page size {page_size}: {e}"));
        keys.extend(
            page.records
                .iter()
                .map(|r| r["key"].as_str().expect("key").to_owned()),
        );
        match page.next_token {
            Some(t) => token = Some(t),
            None => return keys,
        }
    }
    panic!("the listing did not end");
}

fn assert_once_in_order(keys: &[String], expected: &[String], what: &str) {
    let unique: HashSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "{what}: a key came twice");
    assert_eq!(keys, expected, "{what}: every key once, in key order");
}

#[tokio::test]
async fn sap_paging_returns_every_key_once_in_key_order_at_every_caller_page_size() {
    // SAP pages at 100 inside each $top window, and returns rows in another order on each
    // read unless $orderby makes the order total.
    let (sim, conn) = sap(orders(1_050, ServerPaging::WithinWindow, true)).await;
    let expected = stored_orders(&sim);
    for size in [1, 2, 7, 50, 99, 100, 101, 150, 250, 333, 500, 999, 1000] {
        let keys = through_pager(&conn, size, None).await;
        assert_once_in_order(&keys, &expected, &format!("caller pages of {size}"));
    }
    assert!(
        sim.requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with("/MaintenanceOrder"))
            .all(|r| r.query.as_deref().is_some_and(|q| q.contains("$orderby="))),
        "every listing asks for a total order"
    );
}

#[tokio::test]
async fn sap_paging_survives_servers_that_overrun_ignore_or_cap_the_window() {
    for paging in [
        ServerPaging::PastWindow,
        ServerPaging::IgnoreTop,
        ServerPaging::CapWithoutNext,
    ] {
        let (sim, conn) = sap(orders(620, paging, true)).await;
        let expected = stored_orders(&sim);
        for size in [7, 60, 100, 250, 999] {
            let keys = through_pager(&conn, size, None).await;
            assert_once_in_order(&keys, &expected, &format!("{paging:?}, pages of {size}"));
        }
        // The adapter's own pages (no host pager in between) never exceed the page asked for.
        let page = conn
            .list(
                "work-order",
                ListOptions {
                    page_size: Some(30),
                    ..ListOptions::default()
                },
            )
            .await
            .expect("list");
        assert!(
            page.records.len() <= 30,
            "{paging:?}: {}",
            page.records.len()
        );
    }
}

#[tokio::test]
async fn sap_a_sorted_listing_with_ties_returns_every_key_once() {
    // Many orders share a change time: the key breaks the ties, whatever the server's order.
    let (sim, conn) = sap(orders(400, ServerPaging::WithinWindow, true)).await;
    let mut expected = stored_orders(&sim);
    for sort in ["-updatedAt", "siteKey"] {
        let mut keys = through_pager(&conn, 45, Some(sort)).await;
        let unique: HashSet<&String> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "{sort}: a key came twice");
        keys.sort();
        expected.sort();
        assert_eq!(keys, expected, "{sort}: every key");
    }
}

#[tokio::test]
async fn the_hosts_pager_refuses_a_page_that_repeats_records() {
    // An export over an adapter whose window overruns would repeat rows; the adapter cuts
    // them, and the host's guard stands behind it: the export holds every key once.
    let (sim, conn) = sap(orders(450, ServerPaging::PastWindow, false)).await;
    let query = Query {
        page_size: Some(250),
        ..Query::default()
    };
    let mut export =
        Export::new(&conn, "work-order", query, PagingConfig::default()).expect("export");
    let mut keys = Vec::new();
    while let Some(page) = export.next_page().await.expect("page") {
        keys.extend(
            page.iter()
                .map(|r| r["key"].as_str().expect("key").to_owned()),
        );
    }
    assert_once_in_order(&keys, &stored_orders(&sim), "export");
}

fn purchase_order(supplier: &str) -> Value {
    json!({"vendorKey": supplier,
           "customFields": {"CompanyCode": "1010", "PurchaseOrderType": "NB", "PurchasingOrganization": "1010", "PurchasingGroup": "001", "Plant": "1010"},
           "lineItems": [{"materialKey": "TG11", "quantity": 2, "price": 10.5}]})
}

fn supplier(sim: &SapSim) -> String {
    sim.keys("A_Supplier")[0][0].clone()
}

#[tokio::test]
async fn sap_writes_go_without_csrf_when_the_server_does_not_check_it() {
    let (sim, conn) = sap(SapConfig {
        csrf: false,
        ..orders(20, ServerPaging::WithinWindow, false)
    })
    .await;
    let supplier = supplier(&sim);
    let before = sim.count("A_PurchaseOrder");
    let created = conn
        .create(
            "purchase-order",
            vec![purchase_order(&supplier), purchase_order(&supplier)],
        )
        .await
        .expect("batch");
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    let one = conn
        .create("purchase-order", vec![purchase_order(&supplier)])
        .await
        .expect("single");
    let key = one[0].as_ref().expect("created")["key"]
        .as_str()
        .expect("key")
        .to_owned();
    conn.update("purchase-order", &key, json!({"currencyKey": "USD"}), None)
        .await
        .expect("update");
    let order = sim.keys("MaintenanceOrder")[0][0].clone();
    conn.action(
        "work-order",
        &order,
        "change-status",
        json!({"status": "in-progress"}),
    )
    .await
    .expect("release");
    conn.delete("purchase-order", &key).await.expect("delete");
    assert_eq!(sim.count("A_PurchaseOrder"), before + 3);
    let writes: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert!(writes.len() >= 5);
    assert!(
        writes.iter().all(|r| r.header("x-csrf-token").is_none()),
        "no server-issued token, none sent"
    );
}

/// The outcome a bulk run records for each record of one create batch.
async fn bulk_outcomes(conn: &Connection, records: &[Value]) -> Vec<&'static str> {
    let input: Vec<InputRecord> = records
        .iter()
        .enumerate()
        .map(|(i, r)| InputRecord {
            index: i as u64,
            idempotency_key: format!("k{i}"),
            payload: r.to_string(),
        })
        .collect();
    send_batch(conn, "purchase-order", &BulkOp::Create, &input)
        .await
        .into_iter()
        .map(|(_, o)| match o {
            RecordOutcome::Created { .. } => "created",
            RecordOutcome::Failed { .. } => "failed",
            RecordOutcome::Unknown { .. } => "unknown",
            _ => "other",
        })
        .collect()
}

#[tokio::test]
async fn sap_a_batch_answer_that_stops_at_the_first_failure_leaves_the_rest_unknown() {
    for echoes in [false, true] {
        let (sim, conn) = sap(SapConfig {
            batch_stops_at_first_failure: true,
            batch_echoes_content_id: echoes,
            ..orders(20, ServerPaging::WithinWindow, false)
        })
        .await;
        let good = supplier(&sim);
        let before = sim.count("A_PurchaseOrder");
        let outcomes = bulk_outcomes(
            &conn,
            &[
                purchase_order(&good),
                purchase_order("99999999"),
                purchase_order(&good),
            ],
        )
        .await;
        // The server ran the first change set, failed the second and never ran the third.
        assert_eq!(sim.count("A_PurchaseOrder"), before + 1);
        if echoes {
            assert_eq!(outcomes, ["created", "failed", "unknown"]);
        } else {
            assert_eq!(
                outcomes,
                ["unknown", "unknown", "unknown"],
                "two parts for three change sets cannot be matched"
            );
        }
        // A server that runs every change set and echoes nothing: matched by position.
    }
    let (sim, conn) = sap(orders(20, ServerPaging::WithinWindow, false)).await;
    let good = supplier(&sim);
    let outcomes = bulk_outcomes(
        &conn,
        &[
            purchase_order(&good),
            purchase_order("99999999"),
            purchase_order(&good),
        ],
    )
    .await;
    assert_eq!(outcomes, ["created", "failed", "created"]);
}

fn upstream_message(e: &CallError) -> String {
    match e {
        CallError::Adapter(AdapterError::Upstream(u)) => u.message.clone(),
        other => panic!("not an upstream error: {other:?}"),
    }
}

#[tokio::test]
async fn sap_an_order_without_a_reported_status_is_not_taken_to_be_created() {
    let (sim, conn) = sap(SapConfig {
        omit_status_text: true,
        ..orders(20, ServerPaging::WithinWindow, false)
    })
    .await;
    let key = sim.keys("MaintenanceOrder")[0][0].clone();
    let record: Map<String, Value> = conn.get("work-order", &key).await.expect("get");
    assert!(record.get("status").is_none(), "{record:?}");
    sim.clear_requests();
    let err = conn
        .action(
            "work-order",
            &key,
            "change-status",
            json!({"status": "in-progress"}),
        )
        .await
        .expect_err("the status is not known");
    assert!(upstream_message(&err).contains("SystemStatusText"), "{err}");
    assert!(
        sim.requests().iter().all(|r| r.method == "GET"),
        "no function import was called on a guess"
    );
}

#[tokio::test]
async fn maintainx_assignee_ids_as_strings_and_an_assignee_only_update_keep_the_team() {
    use plantwire_simulators::maintainx::{Config as MxConfig, MaintainxSim};
    let sim = MaintainxSim::start(MxConfig {
        work_orders: 60,
        assignee_ids_as_strings: true,
        ..MxConfig::default()
    })
    .await
    .expect("simulator");
    let rt = runtime();
    let component = load(&rt, "adapter", "maintainx").await;
    let conn = connect(
        &component,
        "mx-variant",
        Arc::new(plantwire_integration_tests::egress(
            &sim.base_url(),
            sim.token(),
        )),
    );
    let page = conn
        .list(
            "work-order",
            ListOptions {
                page_size: Some(60),
                fields: vec!["assigneeKeys".into(), "teamKey".into()],
                ..ListOptions::default()
            },
        )
        .await
        .expect("list");
    // Ids given as strings read like ids given as numbers.
    let with_team = page
        .records
        .iter()
        .find(|r| r.get("teamKey").is_some_and(Value::is_string))
        .expect("a work order with a team");
    let key = with_team["key"].as_str().expect("key").to_owned();
    let team = with_team["teamKey"].as_str().expect("team").to_owned();
    let id: u64 = key.parse().expect("numeric key");
    let before = sim.record("workorders", id).expect("stored");
    // A patch of the users alone leaves MaintainX's team as it was.
    let user = sim.ids("users")[1];
    conn.update(
        "work-order",
        &key,
        json!({"assigneeKeys": [user.to_string()]}),
        None,
    )
    .await
    .expect("assignee-only update");
    let after = sim.record("workorders", id).expect("stored");
    assert_eq!(after["teamIds"], before["teamIds"], "the team is kept");
    assert_eq!(after["teamIds"][0].to_string(), team);
    assert_eq!(after["assigneeIds"], json!([user]));
}
