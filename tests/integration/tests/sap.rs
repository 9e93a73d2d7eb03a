//! The SAP S/4HANA adapter (a real wasm component, through the real host and its egress with
//! HTTP basic, cookie jar and base-URL `sap-client`) against the SAP simulator: every declared
//! operation, server-driven paging across many pages, and the refusals — CSRF token lapse and
//! one retry, `428` without `If-Match`, `412` on a stale ETag, deletes SAP does not offer, a
//! released purchase order, status transitions SAP refuses.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use plantwire::paging::parse_filter;
use plantwire::sdk::{AdapterError, AuthScheme, Filter, FilterOp, HttpError, Request, Response};
use plantwire::{CallError, Connection, Credential, Egress, EgressConfig, ListOptions, Upstream};
use plantwire_integration_tests::{
    connect, list_everything, load, refuse_every_unsupported, runtime,
};
use plantwire_simulators::sap::{Config, Malformation, SapSim};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

fn sap_egress(sim: &SapSim, base_url: &str) -> Egress {
    let mut config = EgressConfig::new(url::Url::parse(base_url).expect("base URL"));
    config.allow_private_network = true;
    Egress::new(
        config,
        AuthScheme::Basic,
        Credential::Basic {
            user: sim.user().to_owned(),
            password: SecretString::from(sim.password().to_owned()),
        },
    )
    .expect("egress")
}

struct Setup {
    sim: SapSim,
    conn: Connection,
}

async fn connect_to(sim: SapSim, base_url: &str, upstream: Option<Arc<dyn Upstream>>) -> Setup {
    let rt = runtime();
    let component = load(&rt, "adapter", "sap-s4hana").await;
    let upstream = upstream.unwrap_or_else(|| Arc::new(sap_egress(&sim, base_url)));
    let conn = connect(&component, "sap-test", upstream);
    Setup { sim, conn }
}

async fn setup_with(config: Config) -> Setup {
    let sim = SapSim::start(config).await.expect("simulator");
    let base = sim.base_url();
    connect_to(sim, &base, None).await
}

async fn setup() -> Setup {
    setup_with(Config::default()).await
}

fn s<'a>(r: &'a Map<String, Value>, f: &str) -> &'a str {
    r.get(f)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("record has no string `{f}`: {r:?}"))
}

fn opts(page_size: u32) -> ListOptions {
    ListOptions {
        page_size: Some(page_size),
        ..ListOptions::default()
    }
}

fn requests_matching(sim: &SapSim, method: &str, needle: &str) -> usize {
    sim.requests()
        .iter()
        .filter(|r| {
            r.method == method
                && format!("{}?{}", r.path, r.query.clone().unwrap_or_default()).contains(needle)
        })
        .count()
}

#[tokio::test]
async fn sap_lists_every_work_order_across_server_driven_pages() {
    let t = setup().await;
    let total = t.sim.count("MaintenanceOrder");
    let (keys, pages) = list_everything(&t.conn, "work-order", 250, 1000, |_, page| {
        assert_eq!(page.total, Some(total as u64));
        for r in &page.records {
            assert!(
                r.contains_key("title")
                    && r.contains_key("status")
                    && r.contains_key("concurrencyToken")
            );
        }
    })
    .await;
    assert_eq!(keys.len(), total);
    // Windows of 250, served by SAP 100 at a time: 100 + 100 + 50 per window.
    assert_eq!(pages, total.div_ceil(250) * 3);
    assert!(
        requests_matching(&t.sim, "GET", "$skiptoken=") > 0,
        "__next was followed"
    );
    assert!(t.sim.requests().iter().all(|r| {
        r.header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))
    }));
}

#[tokio::test]
async fn sap_filters_and_sorting_are_pushed_down() {
    let t = setup().await;
    let page = t
        .conn
        .list(
            "work-order",
            ListOptions {
                filters: vec![
                    Filter::eq("siteKey", "1010"),
                    Filter::eq("severity", "urgent"),
                ],
                sort: Some("-updatedAt".into()),
                page_size: Some(50),
                ..ListOptions::default()
            },
        )
        .await
        .expect("filtered list");
    assert!(!page.records.is_empty());
    assert!(
        page.records
            .iter()
            .all(|r| s(r, "siteKey") == "1010" && s(r, "severity") == "urgent")
    );
    let stamps: Vec<&str> = page.records.iter().map(|r| s(r, "updatedAt")).collect();
    let mut sorted = stamps.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted);
    let q = t
        .sim
        .requests()
        .pop()
        .and_then(|r| r.query)
        .unwrap_or_default();
    assert!(q.contains("$filter=MaintenancePlanningPlant%20eq%20%271010%27%20and%20MaintPriority%20eq%20%271%27"), "{q}");
    // Status is not filterable in SAP (SystemStatusText is sap:filterable=false): refused by the host.
    t.sim.clear_requests();
    let err = t
        .conn
        .list(
            "work-order",
            ListOptions {
                filters: vec![Filter::eq("status", "open")],
                ..ListOptions::default()
            },
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(err, CallError::Refused(AdapterError::Invalid(_))),
        "{err}"
    );
    assert!(t.sim.requests().is_empty());
    let stock = t
        .conn
        .list(
            "inventory",
            ListOptions {
                filters: vec![Filter::eq("locationKey", "1010/101A")],
                page_size: Some(20),
                ..ListOptions::default()
            },
        )
        .await
        .expect("stock");
    assert!(!stock.records.is_empty());
    assert!(
        stock
            .records
            .iter()
            .all(|r| s(r, "locationKey") == "1010/101A")
    );
    let vendors = t
        .conn
        .list(
            "vendor",
            ListOptions {
                filters: vec![Filter::eq("isActive", "false")],
                ..ListOptions::default()
            },
        )
        .await
        .expect("vendors");
    assert!(!vendors.records.is_empty() && vendors.records.iter().all(|r| r["isActive"] == false));
}

#[tokio::test]
async fn sap_every_served_entity_lists_and_gets() {
    let t = setup().await;
    let info = t.conn.info().clone();
    for entity in info.entities.iter().filter(|e| e.list.is_supported()) {
        let page = t
            .conn
            .list(&entity.name, opts(5))
            .await
            .unwrap_or_else(|e| panic!("list {}: {e}", entity.name));
        assert_eq!(page.records.len(), 5, "{}", entity.name);
        for r in &page.records {
            for field in r.keys() {
                let decl = entity
                    .field(field)
                    .unwrap_or_else(|| panic!("{}.{field} is not declared", entity.name));
                assert!(
                    decl.flags.read_list,
                    "{}.{field} is not declared readable in lists",
                    entity.name
                );
            }
        }
        let key = s(&page.records[0], "key").to_owned();
        let record = t
            .conn
            .get(&entity.name, &key)
            .await
            .unwrap_or_else(|e| panic!("get {} {key}: {e}", entity.name));
        assert_eq!(
            record, page.records[0],
            "{}: get and list agree",
            entity.name
        );
    }
    let err = t
        .conn
        .get("work-order", "4999999")
        .await
        .expect_err("missing");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::NotFound(_))),
        "{err}"
    );
}

#[tokio::test]
async fn sap_work_orders_are_created_in_one_batch_updated_and_status_changed() {
    let t = setup().await;
    let before = t.sim.count("MaintenanceOrder");
    let order = |title: &str, asset: &str| {
        json!({"title": title, "siteKey": "1010", "teamKey": "MECHANIK", "assetKey": asset, "severity": "high",
               "scheduledAt": "2024-06-03T06:00:00Z", "dueAt": "2024-06-03T14:00:00Z",
               "customFields": {"MaintenanceOrderType": "PM01"}})
    };
    let results = t
        .conn
        .create(
            "work-order",
            vec![
                order("Replace seal on P-101", "10000001"),
                json!({"title": "no team", "siteKey": "1010", "customFields": {"MaintenanceOrderType": "PM01"}}),
                order("Inspect coupling", "99999999"),
                order("Lubricate bearings", "10000002"),
            ],
        )
        .await
        .expect("batch");
    assert_eq!(results.len(), 4);
    let first = results[0].as_ref().expect("created");
    assert_eq!(s(first, "title"), "Replace seal on P-101");
    assert_eq!(s(first, "status"), "open");
    assert_eq!(s(first, "scheduledAt"), "2024-06-03T06:00:00Z");
    assert!(
        matches!(&results[1], Err(AdapterError::Invalid(e)) if e.iter().any(|f| f.field == "teamKey"))
    );
    match &results[2] {
        Err(AdapterError::Invalid(e)) => assert_eq!(e[0].field, "assetKey", "{e:?}"),
        other => panic!("SAP refuses the unknown equipment: {other:?}"),
    }
    assert!(results[3].is_ok());
    assert_eq!(
        t.sim.count("MaintenanceOrder"),
        before + 2,
        "the other change sets were written"
    );
    assert_eq!(
        requests_matching(&t.sim, "POST", "/API_MAINTENANCEORDER/$batch"),
        1,
        "one $batch for the batch"
    );
    let stored = t
        .sim
        .entity("MaintenanceOrder", &[s(first, "key")])
        .expect("stored");
    assert_eq!(
        stored["MaintOrdBasicStartDateTime"],
        json!(1_717_394_400_000_i64),
        "timestamps without loss"
    );

    let key = s(first, "key").to_owned();
    let token = s(first, "concurrencyToken").to_owned();
    let updated = t
        .conn
        .update(
            "work-order",
            &key,
            json!({"title": "Replace seal and check shaft"}),
            Some(token.clone()),
        )
        .await
        .expect("update with the current token");
    assert_eq!(s(&updated, "title"), "Replace seal and check shaft");
    assert_ne!(s(&updated, "concurrencyToken"), token);
    let err = t
        .conn
        .update("work-order", &key, json!({"title": "stale"}), Some(token))
        .await
        .expect_err("stale token");
    assert!(
        matches!(&err, CallError::Adapter(AdapterError::Conflict(m)) if m.contains("412")),
        "{err}"
    );
    let without_token = t
        .conn
        .update("work-order", &key, json!({"severity": "urgent"}), None)
        .await
        .expect("last write wins");
    assert_eq!(s(&without_token, "severity"), "urgent");
    let patches: Vec<_> = t
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert!(
        patches
            .iter()
            .all(|r| r.header("if-match").is_some() && r.header("x-csrf-token").is_some())
    );

    // Status through the function imports.
    let change = |status: &str| json!({"status": status});
    let released = t
        .conn
        .action("work-order", &key, "change-status", change("in-progress"))
        .await
        .expect("release");
    assert_eq!(s(&released, "status"), "in-progress");
    assert!(s(&released, "nativeStatus").starts_with("REL"));
    let err = t
        .conn
        .action("work-order", &key, "change-status", change("closed"))
        .await
        .expect_err("not TECO");
    match &err {
        CallError::Adapter(AdapterError::Conflict(m)) => {
            assert!(m.contains("System status TECO is not active"), "{m}")
        }
        other => panic!("SAP refuses closing a released order: {other}"),
    }
    let completed = t
        .conn
        .action("work-order", &key, "change-status", change("completed"))
        .await
        .expect("TECO");
    assert!(s(&completed, "nativeStatus").starts_with("TECO"));
    let err = t
        .conn
        .update("work-order", &key, json!({"title": "too late"}), None)
        .await
        .expect_err("TECO");
    assert!(
        matches!(&err, CallError::Adapter(AdapterError::Conflict(m)) if m.contains("BS/013")),
        "{err}"
    );
    let closed = t
        .conn
        .action("work-order", &key, "change-status", change("closed"))
        .await
        .expect("close");
    assert_eq!(s(&closed, "status"), "completed");
    assert!(s(&closed, "nativeStatus").starts_with("CLSD"));
    let cancelled = t
        .conn
        .action("work-order", &key, "change-status", change("cancelled"))
        .await
        .expect("DLFL");
    assert_eq!(s(&cancelled, "status"), "cancelled");
    assert!(
        requests_matching(
            &t.sim,
            "POST",
            "SetMaintOrdStsToMrkdForDeltn?MaintenanceOrder="
        ) == 1
    );

    // Delete is a status change in SAP: refused by the host with the adapter's reason.
    t.sim.clear_requests();
    let err = t
        .conn
        .delete("work-order", &key)
        .await
        .expect_err("not deletable");
    match err {
        CallError::Refused(AdapterError::Unsupported(m)) => {
            assert!(m.contains("SetMaintOrdStsToMrkdForDeltn"), "{m}")
        }
        other => panic!("{other}"),
    }
    let err = t
        .conn
        .action("work-order", &key, "change-status", change("someday"))
        .await
        .expect_err("bad status");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Invalid(_))),
        "{err}"
    );
}

#[tokio::test]
async fn sap_a_lapsed_csrf_token_is_fetched_again_once() {
    let t = setup().await;
    t.sim.expire_sessions_on_next_writes(1);
    let updated = t
        .conn
        .update(
            "work-order",
            "4000001",
            json!({"title": "After a session timeout"}),
            None,
        )
        .await
        .expect("retried");
    assert_eq!(s(&updated, "title"), "After a session timeout");
    let writes: Vec<_> = t
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(writes.len(), 2, "one refusal, one retry");
    assert_ne!(
        writes[0].header("x-csrf-token"),
        writes[1].header("x-csrf-token"),
        "a new token"
    );
    assert!(
        writes[1]
            .header("cookie")
            .is_some_and(|c| c.contains("SAP_SESSIONID_S4H_100=")),
        "the host keeps the session cookie"
    );

    t.sim.clear_requests();
    t.sim.expire_sessions_on_next_writes(2);
    let err = t
        .conn
        .update("work-order", "4000001", json!({"title": "never"}), None)
        .await
        .expect_err("refused twice");
    assert!(
        matches!(&err, CallError::Adapter(AdapterError::Forbidden(m)) if m.contains("CSRF")),
        "{err}"
    );
    assert_eq!(
        t.sim
            .requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count(),
        2,
        "no third attempt"
    );
    assert_eq!(
        s(
            &t.sim
                .entity("MaintenanceOrder", &["4000001"])
                .expect("order"),
            "MaintenanceOrderDesc"
        ),
        "After a session timeout"
    );
}

/// An upstream that loses `If-Match` on the way (a misconfigured proxy): SAP answers 428.
struct DropIfMatch(Arc<dyn Upstream>);

#[async_trait]
impl Upstream for DropIfMatch {
    async fn send(&self, mut req: Request) -> Result<Response, HttpError> {
        req.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("if-match"));
        self.0.send(req).await
    }
}

#[tokio::test]
async fn sap_a_patch_without_if_match_is_refused_with_428() {
    let sim = SapSim::start(Config::default()).await.expect("simulator");
    let base = sim.base_url();
    let upstream: Arc<dyn Upstream> = Arc::new(DropIfMatch(Arc::new(sap_egress(&sim, &base))));
    let t = connect_to(sim, &base, Some(upstream)).await;
    let err = t
        .conn
        .update("work-order", "4000001", json!({"title": "x"}), None)
        .await
        .expect_err("428");
    match err {
        CallError::Adapter(AdapterError::Conflict(m)) => {
            assert!(m.contains("428") && m.contains("If-Match"), "{m}")
        }
        other => panic!("{other}"),
    }
    assert_ne!(
        s(
            &t.sim
                .entity("MaintenanceOrder", &["4000001"])
                .expect("order"),
            "MaintenanceOrderDesc"
        ),
        "x"
    );
}

fn purchase_order(supplier: &str, price: f64) -> Value {
    json!({
        "vendorKey": supplier, "orderDate": "2024-06-03", "currencyKey": "EUR",
        "customFields": {"CompanyCode": "1010", "PurchaseOrderType": "NB", "PurchasingOrganization": "1010", "PurchasingGroup": "001", "Plant": "1010"},
        "lineItems": [
            {"materialKey": "TG11", "description": "Trading Good 11", "quantity": 4, "uomKey": "PC", "price": price},
            {"description": "Freight", "quantity": 1.5, "uomKey": "PC", "price": 12.345}
        ]
    })
}

#[tokio::test]
async fn sap_purchase_orders_deep_insert_released_conflicts_and_delete() {
    let t = setup().await;
    let before = t.sim.count("A_PurchaseOrder");
    let single = t
        .conn
        .create("purchase-order", vec![purchase_order("17300001", 61.05)])
        .await
        .expect("create");
    let po = single[0].as_ref().expect("created");
    assert_eq!(s(po, "status"), "approved");
    let items = po["lineItems"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["price"], 61.05);
    assert_eq!(items[1]["price"], 12.345);
    assert_eq!(items[1]["lineNo"], 20);
    let stored = t
        .sim
        .entity("A_PurchaseOrderItem", &[s(po, "key"), "10"])
        .expect("item");
    assert_eq!(
        (
            stored["NetPriceAmount"].as_str(),
            stored["OrderQuantity"].as_str()
        ),
        (Some("61.050"), Some("4.000"))
    );
    assert_eq!(
        requests_matching(&t.sim, "POST", "/A_PurchaseOrder"),
        1,
        "a deep insert, not a request per item"
    );

    // Several records: one $batch; SAP refuses the unknown supplier, the others are written.
    let results = t
        .conn
        .create(
            "purchase-order",
            vec![
                purchase_order("17300002", 10.0),
                purchase_order("99999999", 10.0),
                purchase_order("17300003", 9.99),
            ],
        )
        .await
        .expect("batch");
    assert!(results[0].is_ok() && results[2].is_ok());
    match &results[1] {
        Err(AdapterError::Invalid(e)) => assert!(
            e[0].field == "vendorKey" && e[0].message.contains("99999999"),
            "{e:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(t.sim.count("A_PurchaseOrder"), before + 3);
    // More decimal places than SAP keeps: refused before anything is sent.
    let refused = t
        .conn
        .create("purchase-order", vec![purchase_order("17300001", 1.2345)])
        .await
        .expect("call");
    assert!(
        matches!(&refused[0], Err(AdapterError::Invalid(e)) if e[0].field == "lineItems[0].price")
    );

    // A released purchase order cannot be changed: a conflict carrying SAP's message.
    let released = t.sim.keys("A_PurchaseOrder").into_iter().find(|k| {
        t.sim.entity("A_PurchaseOrder", &[&k[0]]).is_some_and(|e| {
            e["PurchasingProcessingStatus"] == "05" && e["PurchasingDocumentDeletionCode"] == ""
        })
    });
    let released = released.expect("a released purchase order")[0].clone();
    let err = t
        .conn
        .update(
            "purchase-order",
            &released,
            json!({"currencyKey": "USD"}),
            None,
        )
        .await
        .expect_err("released");
    match &err {
        CallError::Adapter(AdapterError::Conflict(m)) => {
            assert!(m.contains("has been released"), "{m}")
        }
        other => panic!("{other}"),
    }
    let err = t
        .conn
        .delete("purchase-order", &released)
        .await
        .expect_err("released");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Conflict(_))),
        "{err}"
    );

    // Delete sets the deletion indicator: the purchase order stays, cancelled.
    let key = s(po, "key").to_owned();
    let updated = t
        .conn
        .update(
            "purchase-order",
            &key,
            json!({"orderDate": "2024-06-04"}),
            None,
        )
        .await
        .expect("update");
    assert_eq!(s(&updated, "orderDate"), "2024-06-04");
    t.conn.delete("purchase-order", &key).await.expect("delete");
    let after = t
        .conn
        .get("purchase-order", &key)
        .await
        .expect("still readable");
    assert_eq!(s(&after, "status"), "cancelled");
    let err = t
        .conn
        .update("purchase-order", &key, json!({"currencyKey": "USD"}), None)
        .await
        .expect_err("deleted");
    assert!(
        matches!(&err, CallError::Adapter(AdapterError::Conflict(m)) if m.contains("06/020")),
        "{err}"
    );
}

#[tokio::test]
async fn sap_assets_and_locations_are_created_updated_and_status_changed() {
    let t = setup().await;
    let created = t
        .conn
        .create(
            "location",
            vec![json!({"code": "1010-SP-PUMP-99", "name": "Spare pump bay", "parentKey": "1010-SP-PUMP", "siteKey": "1010",
                        "customFields": {"FunctionalLocationCategory": "M", "FuncLocationStructure": "YSTR1"}})],
        )
        .await
        .expect("create location");
    let location = created[0].as_ref().expect("location");
    assert_eq!(s(location, "key"), "1010-SP-PUMP-99");
    let results = t
        .conn
        .create(
            "asset",
            vec![
                json!({"name": "Booster pump", "makeName": "KSB", "modelName": "Etanorm 080", "serialNumber": "SN-77", "siteKey": "1010",
                       "customFields": {"EquipmentCategory": "M"}}),
                json!({"name": "Standby pump", "parentKey": "10000001", "customFields": {"EquipmentCategory": "M"}}),
            ],
        )
        .await
        .expect("create assets");
    let asset = results[0].as_ref().expect("asset");
    assert!(results[1].is_ok());
    let key = s(asset, "key").to_owned();
    assert_eq!(s(asset, "status"), "active");
    let renamed = t
        .conn
        .update("asset", &key, json!({"name": "Booster pump P-7"}), None)
        .await
        .expect("update");
    assert_eq!(s(&renamed, "name"), "Booster pump P-7");
    let inactive = t
        .conn
        .action(
            "asset",
            &key,
            "change-status",
            json!({"status": "inactive"}),
        )
        .await
        .expect("inactive");
    assert_eq!(
        (s(&inactive, "status"), inactive["isActive"].as_bool()),
        ("inactive", Some(false))
    );
    let active = t
        .conn
        .action("asset", &key, "change-status", json!({"status": "active"}))
        .await
        .expect("active");
    assert_eq!(active["isActive"], true);
    let marked = t
        .conn
        .action(
            "asset",
            &key,
            "change-status",
            json!({"status": "marked-for-deletion"}),
        )
        .await
        .expect("DLFL");
    assert_eq!(s(&marked, "status"), "marked-for-deletion");
    let err = t
        .conn
        .action(
            "asset",
            &key,
            "change-status",
            json!({"status": "inactive"}),
        )
        .await
        .expect_err("DLFL active");
    assert!(
        matches!(&err, CallError::Adapter(AdapterError::Conflict(m)) if m.contains("DLFL")),
        "{err}"
    );
    let loc = t
        .conn
        .action(
            "location",
            "1010-SP-PUMP-99",
            "change-status",
            json!({"status": "inactive"}),
        )
        .await
        .expect("location inactive");
    assert_eq!(loc["isActive"], false);
    // The functional location of an equipment is set by installation, not by an update.
    let err = t
        .conn
        .update("asset", &key, json!({"locationKey": "1010-SP"}), None)
        .await
        .expect_err("read-only");
    assert!(
        matches!(err, CallError::Refused(AdapterError::Invalid(_))),
        "{err}"
    );
}

#[tokio::test]
async fn sap_unsupported_operations_are_refused_before_the_adapter_runs() {
    let t = setup().await;
    let tried = refuse_every_unsupported(&t.conn, "1").await;
    assert!(tried >= 25, "{tried}");
    assert!(t.sim.requests().is_empty(), "no request reached SAP");
}

#[tokio::test]
async fn sap_client_in_the_base_url_goes_on_every_request() {
    let sim = SapSim::start(Config::default()).await.expect("simulator");
    let base = format!("{}?sap-client=200", sim.base_url());
    let t = connect_to(sim, &base, None).await;
    let page = t.conn.list("work-order", opts(150)).await.expect("list");
    let next = page.next_cursor.expect("SAP pages below 150");
    t.conn
        .list(
            "work-order",
            ListOptions {
                cursor: Some(next),
                ..ListOptions::default()
            },
        )
        .await
        .expect("next page");
    t.conn
        .update(
            "work-order",
            "4000002",
            json!({"title": "In client 200"}),
            None,
        )
        .await
        .expect("update");
    let requests = t.sim.requests();
    assert!(requests.len() >= 4);
    for r in &requests {
        let q = r.query.clone().unwrap_or_default();
        assert_eq!(
            q.matches("sap-client=").count(),
            1,
            "exactly one sap-client: {q}"
        );
        assert!(q.ends_with("sap-client=200"), "{q}");
    }
    let writes: Vec<_> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert!(
        writes[0]
            .header("cookie")
            .is_some_and(|c| c.contains("SAP_SESSIONID_S4H_200="))
    );

    let sim = SapSim::start(Config::default()).await.expect("simulator");
    let base = format!("{}?sap-client=999", sim.base_url());
    let t = connect_to(sim, &base, None).await;
    let err = t
        .conn
        .get("work-order", "4000001")
        .await
        .expect_err("unknown client");
    assert!(
        matches!(&err, CallError::Adapter(AdapterError::Unauthorized(m)) if m.contains("Client 999 is not available")),
        "{err}"
    );
}

#[tokio::test]
async fn sap_vendor_errors_become_typed_errors() {
    let t = setup().await;
    t.sim.faults().revoke_token();
    let err = t
        .conn
        .list("asset", ListOptions::default())
        .await
        .expect_err("revoked");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Unauthorized(_))),
        "{err}"
    );
    t.sim.faults().restore_token();
    t.sim.clear_requests();
    t.sim.faults().fail_next(1, 503);
    let page = t
        .conn
        .list("asset", opts(3))
        .await
        .expect("one 503 is retried by the host");
    assert_eq!(page.records.len(), 3);
    assert_eq!(t.sim.requests().len(), 2);
    t.sim.faults().fail_next(10, 503);
    let err = t
        .conn
        .list("asset", ListOptions::default())
        .await
        .expect_err("5xx");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Transient(_))),
        "{err}"
    );
    t.sim.faults().clear();
    let stock = t.conn.list("inventory", opts(1)).await.expect("stock");
    let key = s(&stock.records[0], "key").to_owned();
    let row = t.conn.get("inventory", &key).await.expect("stock row");
    assert!(row["quantity"].is_number());
}

/// The SAP entity set behind each served unified entity (for the simulator's counts).
fn set_of(entity: &str) -> &'static str {
    match entity {
        "work-order" => "MaintenanceOrder",
        "asset" => "Equipment",
        "location" => "FunctionalLocation",
        "purchase-order" => "A_PurchaseOrder",
        "inventory" => "A_MatlStkInAcctMod",
        "vendor" => "A_Supplier",
        other => panic!("{other} is not served"),
    }
}

#[tokio::test]
async fn sap_every_entity_pages_through_every_record() {
    // SAP pages 40 at a time below windows of 100: 40 + 40 + 20 per window, many pages each.
    let t = setup_with(Config {
        page_size: 40,
        maintenance_orders: 230,
        equipment: 230,
        functional_locations: 130,
        purchase_orders: 210,
        stock_rows: 230,
        suppliers: 130,
        ..Config::default()
    })
    .await;
    let info = t.conn.info().clone();
    let served: Vec<_> = info
        .entities
        .iter()
        .filter(|e| e.list.is_supported())
        .collect();
    assert_eq!(served.len(), 6);
    for entity in served {
        let set = set_of(&entity.name);
        let total = t.sim.count(set);
        assert!(total > 100, "{set}: more than one window");
        t.sim.clear_requests();
        let (keys, pages) = list_everything(&t.conn, &entity.name, 100, 100, |_, page| {
            assert_eq!(page.total, Some(total as u64), "{}", entity.name);
            assert!(page.records.len() <= 40, "SAP's own page size");
            if entity.name == "purchase-order" {
                for r in &page.records {
                    assert!(
                        r["lineItems"].as_array().is_some_and(|l| !l.is_empty()),
                        "items expanded on every page: {r:?}"
                    );
                }
            }
        })
        .await;
        assert_eq!(keys.len(), total, "{}: every record once", entity.name);
        let full_windows = total / 100;
        let rest = total % 100;
        let expected = full_windows * 3 + rest.div_ceil(40);
        assert_eq!(pages, expected, "{}", entity.name);
        let requests = t.sim.requests();
        assert_eq!(requests.len(), pages, "{}: one request a page", entity.name);
        let followed = requests
            .iter()
            .filter(|r| {
                r.query
                    .as_deref()
                    .is_some_and(|q| q.contains("$skiptoken="))
            })
            .count();
        assert_eq!(
            followed,
            full_windows * 2 + rest.div_ceil(40).saturating_sub(1),
            "{}: __next followed inside every window",
            entity.name
        );
        if entity.name == "purchase-order" {
            assert!(
                requests.iter().all(|r| r
                    .query
                    .as_deref()
                    .is_some_and(|q| q.contains("$expand=to_PurchaseOrderItem"))),
                "the expansion is kept on __next pages"
            );
        }
    }
}

#[tokio::test]
async fn sap_stale_concurrency_tokens_are_refused_for_every_updatable_entity() {
    let t = setup().await;
    let cases = [
        (
            "asset",
            "10000003",
            "Equipment",
            json!({"name": "Feed pump P-3 (overhauled)"}),
            "EquipmentName",
            "Feed pump P-3 (overhauled)",
        ),
        (
            "location",
            "1010-SP",
            "FunctionalLocation",
            json!({"name": "Spare parts area"}),
            "FunctionalLocationName",
            "Spare parts area",
        ),
        (
            "work-order",
            "4000003",
            "MaintenanceOrder",
            json!({"title": "Check gearbox oil"}),
            "MaintenanceOrderDesc",
            "Check gearbox oil",
        ),
    ];
    for (entity, key, set, patch, native, value) in cases {
        let before = t
            .conn
            .get(entity, key)
            .await
            .unwrap_or_else(|e| panic!("{entity} {key}: {e}"));
        let token = s(&before, "concurrencyToken").to_owned();
        t.sim.clear_requests();
        let updated = t
            .conn
            .update(entity, key, patch.clone(), Some(token.clone()))
            .await
            .unwrap_or_else(|e| panic!("{entity}: {e}"));
        assert_ne!(
            s(&updated, "concurrencyToken"),
            token,
            "{entity}: a new ETag"
        );
        let patches: Vec<_> = t
            .sim
            .requests()
            .into_iter()
            .filter(|r| r.method == "PATCH")
            .collect();
        assert_eq!(patches.len(), 1, "{entity}");
        assert_eq!(
            patches[0].header("if-match"),
            Some(token.as_str()),
            "{entity}: the caller's token is If-Match"
        );
        let body: Value = serde_json::from_slice(&patches[0].body).expect("JSON body");
        assert_eq!(
            body,
            json!({native: value}),
            "{entity}: only the changed field is sent"
        );
        let sim_key: Vec<String> = if entity == "asset" {
            vec![key.to_owned(), "253402214400000".to_owned()]
        } else {
            vec![key.to_owned()]
        };
        let sim_key: Vec<&str> = sim_key.iter().map(String::as_str).collect();
        assert_eq!(
            t.sim.entity(set, &sim_key).expect("stored")[native],
            value,
            "{entity}"
        );

        let stale = patch
            .as_object()
            .map(|o| {
                o.keys()
                    .map(|k| (k.clone(), json!("stale")))
                    .collect::<Map<_, _>>()
            })
            .map(Value::Object)
            .expect("patch");
        let err = t
            .conn
            .update(entity, key, stale, Some(token))
            .await
            .expect_err("stale token");
        assert!(
            matches!(&err, CallError::Adapter(AdapterError::Conflict(m)) if m.contains("412")),
            "{entity}: {err}"
        );
        assert_eq!(
            t.sim.entity(set, &sim_key).expect("stored")[native],
            value,
            "{entity}: unchanged by the stale write"
        );
    }
    // A purchase order that is not released: the same guard.
    let po_key = t
        .sim
        .keys("A_PurchaseOrder")
        .into_iter()
        .map(|k| k[0].clone())
        .find(|k| {
            t.sim.entity("A_PurchaseOrder", &[k]).is_some_and(|e| {
                e["PurchasingProcessingStatus"] == "02" && e["PurchasingDocumentDeletionCode"] == ""
            })
        })
        .expect("an active purchase order");
    let po = t.conn.get("purchase-order", &po_key).await.expect("po");
    let token = s(&po, "concurrencyToken").to_owned();
    t.conn
        .update(
            "purchase-order",
            &po_key,
            json!({"currencyKey": "USD"}),
            Some(token.clone()),
        )
        .await
        .expect("current token");
    assert_eq!(
        t.sim.entity("A_PurchaseOrder", &[&po_key]).expect("po")["DocumentCurrency"],
        "USD"
    );
    let err = t
        .conn
        .update(
            "purchase-order",
            &po_key,
            json!({"currencyKey": "CHF"}),
            Some(token),
        )
        .await
        .expect_err("stale");
    assert!(
        matches!(&err, CallError::Adapter(AdapterError::Conflict(m)) if m.contains("412")),
        "{err}"
    );
    assert_eq!(
        t.sim.entity("A_PurchaseOrder", &[&po_key]).expect("po")["DocumentCurrency"],
        "USD"
    );
}

fn imports(sim: &SapSim, name: &str) -> usize {
    requests_matching(sim, "POST", &format!("/{name}?"))
}

#[tokio::test]
async fn sap_work_order_status_changes_take_as_many_function_imports_as_needed() {
    let t = setup().await;
    let created = t
        .conn
        .create(
            "work-order",
            vec![
                json!({"title": "Align motor M-12", "siteKey": "1010", "teamKey": "MECHANIK",
                        "customFields": {"MaintenanceOrderType": "PM01"}}),
            ],
        )
        .await
        .expect("create");
    let order = created[0].as_ref().expect("created");
    let key = s(order, "key").to_owned();
    assert_eq!(s(order, "status"), "open");
    assert_eq!(
        requests_matching(&t.sim, "POST", "/API_MAINTENANCEORDER/MaintenanceOrder"),
        1,
        "a single record is one POST"
    );
    assert_eq!(requests_matching(&t.sim, "POST", "$batch"), 0);
    let native = |sim: &SapSim| {
        sim.entity("MaintenanceOrder", &[&key]).expect("order")["SystemStatusText"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let change = async |status: &str| {
        t.conn
            .action(
                "work-order",
                &key,
                "change-status",
                json!({"status": status}),
            )
            .await
    };

    let r = change("on-hold").await.expect("lock");
    assert_eq!(s(&r, "status"), "on-hold");
    assert!(native(&t.sim).contains("LKD"));
    // Locked: SAP refuses technical completion with its own message.
    let err = change("completed").await.expect_err("LKD");
    assert!(
        matches!(&err, CallError::Adapter(AdapterError::Conflict(m)) if m.contains("BS/013") && m.contains("LKD")),
        "{err}"
    );
    let r = change("open").await.expect("unlock");
    assert_eq!(s(&r, "status"), "open");
    assert_eq!(imports(&t.sim, "SetMaintOrderStatusToUnlocked"), 1);

    let r = change("cancelled").await.expect("DLFL");
    assert_eq!(s(&r, "status"), "cancelled");
    // Back in progress from cancelled: reset the deletion flag, then release.
    t.sim.clear_requests();
    let r = change("in-progress").await.expect("reset and release");
    assert_eq!(s(&r, "status"), "in-progress");
    assert_eq!(
        (
            imports(&t.sim, "ResetMaintOrdStsMrkdForDeltn"),
            imports(&t.sim, "ReleaseMaintenanceOrder")
        ),
        (1, 1)
    );
    assert!(native(&t.sim).starts_with("REL") && !native(&t.sim).contains("DLFL"));

    change("completed").await.expect("TECO");
    let r = change("closed").await.expect("CLSD");
    assert!(s(&r, "nativeStatus").starts_with("CLSD"));
    t.sim.clear_requests();
    let r = change("completed").await.expect("revoke the close");
    assert!(s(&r, "nativeStatus").starts_with("TECO"));
    assert_eq!(imports(&t.sim, "ResetMaintOrderStatusClosed"), 1);
    change("closed").await.expect("CLSD again");
    t.sim.clear_requests();
    let r = change("in-progress").await.expect("two resets");
    assert_eq!(s(&r, "status"), "in-progress");
    assert_eq!(
        (
            imports(&t.sim, "ResetMaintOrderStatusClosed"),
            imports(&t.sim, "ResetMaintOrdStsTechCompleted")
        ),
        (1, 1)
    );
    // No function import takes a released order back to created: refused before any call.
    t.sim.clear_requests();
    let err = change("open").await.expect_err("REL to CRTD");
    assert!(
        matches!(&err, CallError::Adapter(AdapterError::Conflict(m)) if m.contains("back to created")),
        "{err}"
    );
    assert!(
        t.sim.requests().iter().all(|r| r.method == "GET"),
        "nothing was changed"
    );
    assert!(native(&t.sim).starts_with("REL"));
    // Already there: nothing is called.
    t.sim.clear_requests();
    let r = change("in-progress").await.expect("no-op");
    assert_eq!(s(&r, "status"), "in-progress");
    assert!(t.sim.requests().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn sap_equipment_and_location_status_changes_reach_their_target() {
    let t = setup().await;
    for (entity, key, set_inactive, reset_inactive, set_deleted, reset_deleted) in [
        (
            "asset",
            "10000005",
            "SetEquipmentToInactive",
            "ResetEquipmentFromInactive",
            "SetEquipToMarkedForDeletion",
            "RsetEquipFromMarkedForDeletion",
        ),
        (
            "location",
            "1010-SP-PUMP",
            "SetFuncnlLocationToInactive",
            "RsetFuncnlLocationFromInactive",
            "SetFuncLocToMarkedForDeletion",
            "RsetFuncLocFromMrkdForDeletion",
        ),
    ] {
        let change = async |status: &str| {
            t.conn
                .action(entity, key, "change-status", json!({"status": status}))
                .await
        };
        let start = t.conn.get(entity, key).await.expect("get");
        assert_eq!(
            s(&start, "status"),
            "active",
            "{entity} {key} starts active"
        );
        t.sim.clear_requests();
        let r = change("inactive").await.expect("inactive");
        assert_eq!(
            (s(&r, "status"), &r["isActive"]),
            ("inactive", &json!(false)),
            "{entity}"
        );
        let r = change("marked-for-deletion").await.expect("DLFL");
        assert_eq!(s(&r, "status"), "marked-for-deletion", "{entity}");
        // Marked for deletion: SAP refuses other changes with its message.
        let err = change("inactive").await.expect_err("DLFL is active");
        assert!(
            matches!(&err, CallError::Adapter(AdapterError::Conflict(m)) if m.contains("DLFL")),
            "{entity}: {err}"
        );
        // Active again: both statuses are reset, deletion flag first.
        let r = change("active").await.expect("active");
        assert_eq!(
            (s(&r, "status"), &r["isActive"]),
            ("active", &json!(true)),
            "{entity}"
        );
        for (import, n) in [
            (set_inactive, 2),
            (set_deleted, 1),
            (reset_deleted, 1),
            (reset_inactive, 1),
        ] {
            assert_eq!(imports(&t.sim, import), n, "{entity}: {import}");
        }
        let imports_in_order: Vec<String> = t
            .sim
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .map(|r| r.path.rsplit('/').next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            imports_in_order,
            [
                set_inactive,
                set_deleted,
                set_inactive,
                reset_deleted,
                reset_inactive
            ],
            "{entity}"
        );
        let err = change("scrapped").await.expect_err("unknown target");
        assert!(
            matches!(&err, CallError::Adapter(AdapterError::Invalid(e)) if e[0].field == "status"),
            "{entity}: {err}"
        );
    }
    let stored = t
        .sim
        .entity("FunctionalLocation", &["1010-SP-PUMP"])
        .expect("location");
    assert_eq!(
        (
            stored["FuncnlLocIsDeactivated"].as_bool(),
            stored["FuncnlLocIsMarkedForDeletion"].as_bool()
        ),
        (Some(false), Some(false))
    );
}

#[tokio::test]
async fn sap_a_lapsed_csrf_token_is_refetched_for_batches_and_function_imports() {
    let t = setup().await;
    let before = t.sim.count("MaintenanceOrder");
    t.sim.expire_sessions_on_next_writes(1);
    let order = |title: &str| json!({"title": title, "siteKey": "1010", "teamKey": "MECHANIK", "customFields": {"MaintenanceOrderType": "PM01"}});
    let results = t
        .conn
        .create(
            "work-order",
            vec![order("Grease fan F-1"), order("Grease fan F-2")],
        )
        .await
        .expect("batch after a new token");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(t.sim.count("MaintenanceOrder"), before + 2, "written once");
    let batches: Vec<_> = t
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/$batch"))
        .collect();
    assert_eq!(batches.len(), 2, "one refusal, one retry");
    assert_ne!(
        batches[0].header("x-csrf-token"),
        batches[1].header("x-csrf-token")
    );
    let key = s(results[0].as_ref().expect("created"), "key").to_owned();

    t.sim.clear_requests();
    t.sim.expire_sessions_on_next_writes(1);
    let released = t
        .conn
        .action(
            "work-order",
            &key,
            "change-status",
            json!({"status": "in-progress"}),
        )
        .await
        .expect("released after a new token");
    assert_eq!(s(&released, "status"), "in-progress");
    assert_eq!(
        imports(&t.sim, "ReleaseMaintenanceOrder"),
        2,
        "one refusal, one retry"
    );
    assert!(
        t.sim
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.header("x-csrf-token") == Some("Fetch")),
        "a new token was fetched"
    );
}

fn upstream_message(err: &CallError) -> String {
    match err {
        CallError::Adapter(AdapterError::Upstream(u)) => u.message.clone(),
        other => panic!("expected an upstream error, got {other}"),
    }
}

#[tokio::test]
async fn sap_malformed_answers_are_clear_errors() {
    let t = setup().await;
    // Not JSON (a proxy's HTML page with 200), on a list and on a read.
    t.sim.malform_next(Malformation::NotJson, 2);
    let err = t.conn.list("asset", opts(10)).await.expect_err("HTML");
    assert!(upstream_message(&err).contains("not valid JSON"), "{err}");
    let err = t.conn.get("asset", "10000001").await.expect_err("HTML");
    assert!(upstream_message(&err).contains("not valid JSON"), "{err}");
    // JSON without the V2 envelope.
    t.sim.malform_next(Malformation::WithoutD, 2);
    let err = t.conn.list("asset", opts(10)).await.expect_err("no d");
    assert!(
        upstream_message(&err).contains("not an OData V2 collection"),
        "{err}"
    );
    let err = t.conn.get("asset", "10000001").await.expect_err("no d");
    assert!(
        upstream_message(&err).contains("not an OData V2 entity"),
        "{err}"
    );
    // A write whose re-read lacks the envelope: the write happened, the error says what failed.
    t.sim.clear_requests();
    t.sim.malform_next(Malformation::WithoutD, 1);
    let err = t
        .conn
        .update("asset", "10000001", json!({"name": "Pump P-1"}), None)
        .await
        .expect_err("no d on the read before the write");
    assert!(
        upstream_message(&err).contains("not an OData V2 entity"),
        "{err}"
    );
    assert_eq!(
        requests_matching(&t.sim, "PATCH", "Equipment"),
        0,
        "nothing written on a broken read"
    );

    // A __next to another server, or repeating the page: the list stops with an error, and
    // nothing is requested from elsewhere.
    t.sim.clear_requests();
    t.sim.malform_next(Malformation::ForeignNext, 1);
    let err = t
        .conn
        .list("work-order", opts(250))
        .await
        .expect_err("foreign");
    assert!(upstream_message(&err).contains("another server"), "{err}");
    assert_eq!(t.sim.requests().len(), 1);
    t.sim.malform_next(Malformation::RepeatedNext, 1);
    let err = t
        .conn
        .list("work-order", opts(250))
        .await
        .expect_err("repeated");
    assert!(upstream_message(&err).contains("repeats the page"), "{err}");
    // On a later page too: follow one __next, then SAP repeats that page's own link.
    let first = t
        .conn
        .list("work-order", opts(250))
        .await
        .expect("first page");
    t.sim.malform_next(Malformation::RepeatedNext, 1);
    let err = t
        .conn
        .list(
            "work-order",
            ListOptions {
                cursor: first.next_cursor,
                ..ListOptions::default()
            },
        )
        .await
        .expect_err("repeated skiptoken");
    assert!(upstream_message(&err).contains("same $skiptoken"), "{err}");

    // A $batch answer with a part missing, or a boundary that is not the body's: every
    // record is reported unknown (they may exist — and they do), never failed.
    let order = |title: &str| json!({"title": title, "siteKey": "1010", "teamKey": "MECHANIK", "customFields": {"MaintenanceOrderType": "PM01"}});
    let before = t.sim.count("MaintenanceOrder");
    t.sim.malform_next(Malformation::BatchPartMissing, 1);
    let results = t
        .conn
        .create("work-order", vec![order("A"), order("B"), order("C")])
        .await
        .expect("a result per record");
    // No Content-IDs and fewer parts than change sets: no record's fate is known for sure.
    for r in &results {
        let e = r.as_ref().expect_err("not known to be created");
        assert!(e.is_outcome_unknown(), "{e}");
        assert!(e.to_string().contains("2 parts for 3 change sets"), "{e}");
    }
    assert_eq!(
        t.sim.count("MaintenanceOrder"),
        before + 3,
        "and they do exist"
    );
    t.sim.malform_next(Malformation::BatchBoundaryBroken, 1);
    let results = t
        .conn
        .create("work-order", vec![order("D"), order("E")])
        .await
        .expect("a result per record");
    for r in &results {
        let e = r.as_ref().expect_err("not known to be created");
        assert!(
            e.is_outcome_unknown() && e.to_string().contains("boundary"),
            "{e}"
        );
    }
    // The connection works on afterwards.
    assert_eq!(
        t.conn
            .list("work-order", opts(5))
            .await
            .expect("list")
            .records
            .len(),
        5
    );
}

// ------------------------------------------------------------------ filters, raw, fields

fn mid_config() -> Config {
    Config {
        maintenance_orders: 320,
        equipment: 90,
        functional_locations: 60,
        purchase_orders: 120,
        stock_rows: 150,
        suppliers: 40,
        ..Config::default()
    }
}

/// Every record of `entity` the filters select, following the cursor.
async fn list_all(
    conn: &Connection,
    entity: &str,
    filters: Vec<Filter>,
    fields: Vec<String>,
    include_raw: bool,
) -> Vec<Map<String, Value>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = conn
            .list(
                entity,
                ListOptions {
                    cursor: cursor.take(),
                    page_size: Some(1000),
                    filters: filters.clone(),
                    sort: None,
                    fields: fields.clone(),
                    include_raw,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("list {entity} {filters:?}: {e}"));
        out.extend(page.records);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return out,
        }
    }
}

/// The stored entities of an SAP entity set (dates as epoch milliseconds, decimals as
/// canonical strings), with their key as the adapter's unified key.
fn stored(sim: &SapSim, set: &str) -> Vec<(String, Map<String, Value>)> {
    sim.keys(set)
        .into_iter()
        .map(|key| {
            let refs: Vec<&str> = key.iter().map(String::as_str).collect();
            let entity = sim.entity(set, &refs).expect("stored entity");
            let unified = if set == "A_MatlStkInAcctMod" {
                key.iter()
                    .map(|v| v.replace('%', "%25").replace('|', "%7C"))
                    .collect::<Vec<_>>()
                    .join("|")
            } else {
                key[0].clone()
            };
            (unified, entity)
        })
        .collect()
}

fn text<'a>(e: &'a Map<String, Value>, k: &str) -> &'a str {
    e.get(k).and_then(Value::as_str).unwrap_or("")
}

fn ms(e: &Map<String, Value>, k: &str) -> i64 {
    e.get(k).and_then(Value::as_i64).unwrap_or(i64::MIN)
}

fn flag(e: &Map<String, Value>, k: &str) -> bool {
    e.get(k).and_then(Value::as_bool).unwrap_or(false)
}

fn num(e: &Map<String, Value>, k: &str) -> f64 {
    e.get(k)
        .and_then(Value::as_str)
        .and_then(|v| v.parse().ok())
        .expect("decimal")
}

const MS_2024_03_01: i64 = 1_709_251_200_000;
const MS_2024_06_01: i64 = 1_717_200_000_000;

#[tokio::test]
async fn sap_every_declared_operator_is_pushed_down_and_selects_exactly_the_matching_records() {
    let t = setup_with(mid_config()).await;
    let orders = stored(&t.sim, "MaintenanceOrder");
    let pos = stored(&t.sim, "A_PurchaseOrder");
    let stock = stored(&t.sim, "A_MatlStkInAcctMod");
    let equipment = stored(&t.sim, "Equipment");
    let locations = stored(&t.sim, "FunctionalLocation");
    let suppliers = stored(&t.sim, "A_Supplier");
    let some_asset = text(&orders[7].1, "Equipment").to_owned();
    let other_asset = text(&orders[12].1, "Equipment").to_owned();
    let some_quantity = text(&stock[3].1, "MatlWrhsStkQtyInMatlBaseUnit").to_owned();
    let some_start = ms(&orders[5].1, "MaintOrdBasicStartDateTime");
    let some_start_text = plantwire::sdk::dates::from_unix_millis(some_start).expect("rfc3339");

    type Case<'a> = (
        &'static str,
        String,
        &'a [(String, Map<String, Value>)],
        Box<dyn Fn(&Map<String, Value>) -> bool + 'a>,
    );
    let po_code = |e: &Map<String, Value>| text(e, "PurchasingProcessingStatus").to_owned();
    let po_deleted = |e: &Map<String, Value>| text(e, "PurchasingDocumentDeletionCode") == "L";
    let cases: Vec<Case> = vec![
        // Text: comparisons, in, contains.
        (
            "work-order",
            "title~seal".into(),
            &orders,
            Box::new(|e| text(e, "MaintenanceOrderDesc").contains("seal")),
        ),
        (
            "work-order",
            "teamKey!=MECHANIK".into(),
            &orders,
            Box::new(|e| text(e, "MainWorkCenter") != "MECHANIK"),
        ),
        (
            "work-order",
            "teamKey in (MECHANIK, INSTRUM)".into(),
            &orders,
            Box::new(|e| ["MECHANIK", "INSTRUM"].contains(&text(e, "MainWorkCenter"))),
        ),
        (
            "work-order",
            "teamKey>FACILITY".into(),
            &orders,
            Box::new(|e| text(e, "MainWorkCenter") > "FACILITY"),
        ),
        (
            "work-order",
            "key<4000050".into(),
            &orders,
            Box::new(|e| text(e, "MaintenanceOrder") < "4000050"),
        ),
        (
            "work-order",
            "key<=4000050".into(),
            &orders,
            Box::new(|e| text(e, "MaintenanceOrder") <= "4000050"),
        ),
        (
            "work-order",
            "key>4000300".into(),
            &orders,
            Box::new(|e| text(e, "MaintenanceOrder") > "4000300"),
        ),
        (
            "work-order",
            "key>=4000300".into(),
            &orders,
            Box::new(|e| text(e, "MaintenanceOrder") >= "4000300"),
        ),
        (
            "work-order",
            "key=4000017".into(),
            &orders,
            Box::new(|e| text(e, "MaintenanceOrder") == "4000017"),
        ),
        // Enums expand to SAP's codes.
        (
            "work-order",
            "severity!=urgent".into(),
            &orders,
            Box::new(|e| text(e, "MaintPriority") != "1"),
        ),
        (
            "work-order",
            "severity in (urgent, low)".into(),
            &orders,
            Box::new(|e| ["1", "4"].contains(&text(e, "MaintPriority"))),
        ),
        // References.
        (
            "work-order",
            format!("assetKey={some_asset}"),
            &orders,
            Box::new(|e| text(e, "Equipment") == some_asset),
        ),
        (
            "work-order",
            format!("assetKey in ({some_asset}, {other_asset})"),
            &orders,
            Box::new(|e| {
                [some_asset.as_str(), other_asset.as_str()].contains(&text(e, "Equipment"))
            }),
        ),
        (
            "work-order",
            format!("assetKey!={some_asset}"),
            &orders,
            Box::new(|e| text(e, "Equipment") != some_asset),
        ),
        // Time stamps (Edm.DateTimeOffset).
        (
            "work-order",
            "updatedAt>=2024-03-01T00:00:00Z".into(),
            &orders,
            Box::new(|e| ms(e, "LastChangeDateTime") >= MS_2024_03_01),
        ),
        (
            "work-order",
            "updatedAt<2024-03-01T00:00:00Z".into(),
            &orders,
            Box::new(|e| ms(e, "LastChangeDateTime") < MS_2024_03_01),
        ),
        (
            "work-order",
            "updatedAt>2024-06-01T00:00:00Z".into(),
            &orders,
            Box::new(|e| ms(e, "LastChangeDateTime") > MS_2024_06_01),
        ),
        (
            "work-order",
            "updatedAt<=2024-06-01T00:00:00Z".into(),
            &orders,
            Box::new(|e| ms(e, "LastChangeDateTime") <= MS_2024_06_01),
        ),
        (
            "work-order",
            format!("scheduledAt={some_start_text}"),
            &orders,
            Box::new(|e| ms(e, "MaintOrdBasicStartDateTime") == some_start),
        ),
        (
            "work-order",
            format!("scheduledAt!={some_start_text}"),
            &orders,
            Box::new(|e| ms(e, "MaintOrdBasicStartDateTime") != some_start),
        ),
        // Purchase order status: one unified value, several SAP codes and the deletion flag.
        (
            "purchase-order",
            "status=approved".into(),
            &pos,
            Box::new(|e| !po_deleted(e) && ["02", "05"].contains(&po_code(e).as_str())),
        ),
        (
            "purchase-order",
            "status!=approved".into(),
            &pos,
            Box::new(|e| po_deleted(e) || ["01", "03", "04", "08"].contains(&po_code(e).as_str())),
        ),
        (
            "purchase-order",
            "status in (pending, cancelled)".into(),
            &pos,
            Box::new(|e| po_deleted(e) || ["03", "04"].contains(&po_code(e).as_str())),
        ),
        // Dates (Edm.DateTime).
        (
            "purchase-order",
            "orderDate<=2024-03-01".into(),
            &pos,
            Box::new(|e| ms(e, "PurchaseOrderDate") <= MS_2024_03_01),
        ),
        (
            "purchase-order",
            "orderDate>2024-03-01".into(),
            &pos,
            Box::new(|e| ms(e, "PurchaseOrderDate") > MS_2024_03_01),
        ),
        (
            "purchase-order",
            "orderDate in (2024-01-05, 2024-02-10)".into(),
            &pos,
            Box::new(|e| {
                [1_704_412_800_000, 1_707_523_200_000].contains(&ms(e, "PurchaseOrderDate"))
            }),
        ),
        // A timestamp kept as a date: a bound at noon moves to the day exactly.
        (
            "purchase-order",
            "createdAt>=2024-03-01T12:00:00Z".into(),
            &pos,
            Box::new(|e| ms(e, "CreationDate") >= MS_2024_03_01 + 43_200_000),
        ),
        (
            "purchase-order",
            "createdAt<2024-03-01T12:00:00Z".into(),
            &pos,
            Box::new(|e| ms(e, "CreationDate") < MS_2024_03_01 + 43_200_000),
        ),
        // Decimals.
        (
            "inventory",
            "quantity>1000.5".into(),
            &stock,
            Box::new(|e| num(e, "MatlWrhsStkQtyInMatlBaseUnit") > 1000.5),
        ),
        (
            "inventory",
            "quantity<=500.25".into(),
            &stock,
            Box::new(|e| num(e, "MatlWrhsStkQtyInMatlBaseUnit") <= 500.25),
        ),
        (
            "inventory",
            format!("quantity={some_quantity}"),
            &stock,
            Box::new(|e| text(e, "MatlWrhsStkQtyInMatlBaseUnit") == some_quantity),
        ),
        (
            "inventory",
            "locationKey!=1010/101A".into(),
            &stock,
            Box::new(|e| !(text(e, "Plant") == "1010" && text(e, "StorageLocation") == "101A")),
        ),
        (
            "inventory",
            "locationKey in (1010/101A, 1710/172A)".into(),
            &stock,
            Box::new(|e| {
                matches!(
                    (text(e, "Plant"), text(e, "StorageLocation")),
                    ("1010", "101A") | ("1710", "172A")
                )
            }),
        ),
        // Statuses and flags of objects.
        (
            "asset",
            "status=inactive".into(),
            &equipment,
            Box::new(|e| {
                flag(e, "EquipmentIsInactive") && !flag(e, "EquipmentIsMarkedForDeletion")
            }),
        ),
        (
            "asset",
            "status!=active".into(),
            &equipment,
            Box::new(|e| flag(e, "EquipmentIsInactive") || flag(e, "EquipmentIsMarkedForDeletion")),
        ),
        (
            "asset",
            "status in (active, marked-for-deletion)".into(),
            &equipment,
            Box::new(|e| {
                !flag(e, "EquipmentIsInactive") || flag(e, "EquipmentIsMarkedForDeletion")
            }),
        ),
        (
            "asset",
            "isActive!=true".into(),
            &equipment,
            Box::new(|e| flag(e, "EquipmentIsInactive") || flag(e, "EquipmentIsMarkedForDeletion")),
        ),
        (
            "asset",
            "serialNumber~3106".into(),
            &equipment,
            Box::new(|e| text(e, "ManufacturerSerialNumber").contains("3106")),
        ),
        (
            "location",
            "isActive=false".into(),
            &locations,
            Box::new(|e| !flag(e, "FunctionalLocationIsActive")),
        ),
        (
            "location",
            "parentKey=1010-SP-PUMP".into(),
            &locations,
            Box::new(|e| text(e, "SuperiorFunctionalLocation") == "1010-SP-PUMP"),
        ),
        (
            "vendor",
            "name~GmbH".into(),
            &suppliers,
            Box::new(|e| text(e, "SupplierName").contains("GmbH")),
        ),
        (
            "vendor",
            "createdAt<2024-01-20T00:00:00Z".into(),
            &suppliers,
            Box::new(|e| ms(e, "CreationDate") < 1_705_708_800_000),
        ),
    ];
    let mut used = HashSet::new();
    for (entity, filter, data, pred) in &cases {
        let parsed = parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        used.insert(parsed.op);
        let mut want: Vec<String> = data
            .iter()
            .filter(|(_, e)| pred(e))
            .map(|(k, _)| k.clone())
            .collect();
        want.sort();
        assert!(!want.is_empty(), "{entity} {filter}: the data has matches");
        if !filter.starts_with("key=")
            && !filter.starts_with("scheduledAt=")
            && !filter.starts_with("quantity=")
        {
            assert!(
                want.len() < data.len(),
                "{entity} {filter}: the data has non-matches"
            );
        }
        t.sim.clear_requests();
        let records = list_all(&t.conn, entity, vec![parsed], Vec::new(), false).await;
        let mut got: Vec<String> = records.iter().map(|r| s(r, "key").to_owned()).collect();
        got.sort();
        assert_eq!(got, want, "{entity} {filter}");
        assert!(
            t.sim
                .requests()
                .iter()
                .all(|r| r.query.as_deref().is_some_and(|q| q.contains("$filter="))),
            "{entity} {filter}: SAP filtered"
        );
    }
    assert_eq!(
        used.len(),
        FilterOp::ALL.len(),
        "every operator is exercised"
    );

    // Conditions combine with `and`.
    let both = list_all(
        &t.conn,
        "work-order",
        vec![
            parse_filter("siteKey=1710").expect("filter"),
            parse_filter("updatedAt>=2024-03-01T00:00:00Z").expect("filter"),
            parse_filter("title~Replace").expect("filter"),
        ],
        Vec::new(),
        false,
    )
    .await;
    let want = orders
        .iter()
        .filter(|(_, e)| {
            text(e, "MaintenancePlanningPlant") == "1710"
                && ms(e, "LastChangeDateTime") >= MS_2024_03_01
                && text(e, "MaintenanceOrderDesc").contains("Replace")
        })
        .count();
    assert!(want > 0);
    assert_eq!(both.len(), want);

    // What the system cannot do is refused before anything is sent.
    t.sim.clear_requests();
    for (entity, filter) in [
        ("work-order", "status=open"),
        ("work-order", "assetKey>1"),
        ("purchase-order", "createdAt=2024-03-01T12:00:00Z"),
        ("work-order", "title~x\u{1}"),
    ] {
        let parsed = match parse_filter(filter) {
            Ok(f) => f,
            Err(_) => Filter {
                field: "title".into(),
                op: FilterOp::Contains,
                values: vec!["x\u{1}".into()],
            },
        };
        let err = t
            .conn
            .list(
                entity,
                ListOptions {
                    filters: vec![parsed],
                    ..ListOptions::default()
                },
            )
            .await
            .expect_err(filter);
        assert!(
            matches!(err.adapter_error(), Some(AdapterError::Invalid(_))),
            "{filter}: {err}"
        );
    }
    assert!(t.sim.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn sap_incremental_sync_reads_what_changed_since_a_point_in_time() {
    let t = setup_with(mid_config()).await;
    let orders = stored(&t.sim, "MaintenanceOrder");
    let newest = orders
        .iter()
        .map(|(_, e)| ms(e, "LastChangeDateTime"))
        .max()
        .expect("orders");
    let since = plantwire::sdk::dates::from_unix_millis(newest).expect("rfc3339");
    let changed = |conn: &Connection, op: &'static str| {
        let filter = parse_filter(&format!("updatedAt{op}{since}")).expect("filter");
        let conn = conn.clone();
        async move {
            let mut keys: Vec<String> =
                list_all(&conn, "work-order", vec![filter], Vec::new(), false)
                    .await
                    .iter()
                    .map(|r| s(r, "key").to_owned())
                    .collect();
            keys.sort();
            keys
        }
    };
    assert!(
        changed(&t.conn, ">").await.is_empty(),
        "nothing changed yet"
    );
    let at_newest: Vec<String> = orders
        .iter()
        .filter(|(_, e)| ms(e, "LastChangeDateTime") == newest)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(changed(&t.conn, ">=").await, at_newest);
    for key in ["4000003", "4000111"] {
        t.conn
            .update(
                "work-order",
                key,
                json!({"title": "Changed for sync"}),
                None,
            )
            .await
            .expect("update");
    }
    assert_eq!(changed(&t.conn, ">").await, ["4000003", "4000111"]);
    let before = changed(&t.conn, "<=").await;
    assert_eq!(before.len(), orders.len() - 2);
}

#[tokio::test]
async fn sap_raw_payloads_come_with_list_and_get_when_asked() {
    let t = setup_with(mid_config()).await;
    let page = t
        .conn
        .list(
            "purchase-order",
            ListOptions {
                page_size: Some(7),
                include_raw: true,
                fields: vec!["orderDate".into()],
                ..ListOptions::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(page.records.len(), 7);
    for r in &page.records {
        let key = s(r, "key");
        let raw = r["raw"].as_object().expect("raw object");
        assert_eq!(raw["PurchaseOrder"], key);
        let stored = t.sim.entity("A_PurchaseOrder", &[key]).expect("stored");
        assert_eq!(raw["Supplier"], stored["Supplier"], "SAP's own fields");
        assert_eq!(
            raw["PurchaseOrderDate"],
            format!("/Date({})/", ms(&stored, "PurchaseOrderDate")),
            "as SAP sent it"
        );
        assert!(raw["__metadata"]["uri"].is_string());
        let items = raw["to_PurchaseOrderItem"]["results"]
            .as_array()
            .expect("items");
        let stored_items = t
            .sim
            .keys("A_PurchaseOrderItem")
            .iter()
            .filter(|k| k[0] == key)
            .count();
        assert_eq!(items.len(), stored_items);
        // The unified selection still applies to the unified fields.
        let mut names: Vec<&str> = r.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["key", "orderDate", "raw"]);
    }
    // Without include_raw there is no raw.
    let plain = t.conn.list("purchase-order", opts(3)).await.expect("list");
    assert!(plain.records.iter().all(|r| !r.contains_key("raw")));

    let with = t
        .conn
        .get_with("work-order", "4000004", true)
        .await
        .expect("get");
    let raw = with["raw"].as_object().expect("raw");
    let stored = t
        .sim
        .entity("MaintenanceOrder", &["4000004"])
        .expect("stored");
    assert_eq!(raw["MaintenanceOrderDesc"], stored["MaintenanceOrderDesc"]);
    assert_eq!(raw["SystemStatusText"], with["nativeStatus"]);
    assert_eq!(raw["__metadata"]["etag"], with["concurrencyToken"]);
    let without = t.conn.get("work-order", "4000004").await.expect("get");
    assert!(!without.contains_key("raw"));
    let mut rest = with.clone();
    rest.remove("raw");
    assert_eq!(rest, without);
}

#[tokio::test]
async fn sap_field_selection_becomes_select_and_keeps_expanded_items() {
    let t = setup_with(mid_config()).await;
    t.sim.clear_requests();
    let page = t
        .conn
        .list(
            "work-order",
            ListOptions {
                page_size: Some(20),
                fields: vec!["title".into(), "updatedAt".into()],
                ..ListOptions::default()
            },
        )
        .await
        .expect("list");
    let q = t
        .sim
        .requests()
        .pop()
        .and_then(|r| r.query)
        .unwrap_or_default();
    assert!(
        q.contains("$select=MaintenanceOrder,MaintenanceOrderDesc,LastChangeDateTime"),
        "{q}"
    );
    for r in &page.records {
        let stored = t
            .sim
            .entity("MaintenanceOrder", &[s(r, "key")])
            .expect("stored");
        assert_eq!(r["title"], stored["MaintenanceOrderDesc"]);
        let mut names: Vec<&str> = r.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["key", "title", "updatedAt"]);
    }
    // Line items come through $select with the navigation property, and $expand.
    t.sim.clear_requests();
    let page = t
        .conn
        .list(
            "purchase-order",
            ListOptions {
                page_size: Some(10),
                fields: vec!["lineItems".into(), "status".into()],
                ..ListOptions::default()
            },
        )
        .await
        .expect("list");
    let q = t
        .sim
        .requests()
        .pop()
        .and_then(|r| r.query)
        .unwrap_or_default();
    assert!(
        q.contains("$select=PurchaseOrder,to_PurchaseOrderItem,"),
        "{q}"
    );
    assert!(q.contains("$expand=to_PurchaseOrderItem"), "{q}");
    for r in &page.records {
        let key = s(r, "key");
        let want = t
            .sim
            .keys("A_PurchaseOrderItem")
            .iter()
            .filter(|k| k[0] == key)
            .count();
        assert_eq!(r["lineItems"].as_array().map(Vec::len), Some(want), "{key}");
        assert!(r["status"].is_string());
    }
    // A selection without line items does not expand them.
    t.sim.clear_requests();
    t.conn
        .list(
            "purchase-order",
            ListOptions {
                page_size: Some(10),
                fields: vec!["orderDate".into()],
                ..ListOptions::default()
            },
        )
        .await
        .expect("list");
    let q = t
        .sim
        .requests()
        .pop()
        .and_then(|r| r.query)
        .unwrap_or_default();
    assert!(
        q.contains("$select=PurchaseOrder,PurchaseOrderDate") && !q.contains("$expand"),
        "{q}"
    );
}

#[tokio::test]
async fn sap_custom_fields_carry_the_customers_extension_fields() {
    let t = setup_with(mid_config()).await;
    let info = t.conn.info().clone();
    let note = info
        .entity("work-order")
        .and_then(|e| e.field("customFields"))
        .and_then(|f| f.note.clone())
        .unwrap_or_default();
    assert!(note.contains("YY1_") && note.contains("ZZ1_"), "{note}");
    let orders = list_all(
        &t.conn,
        "work-order",
        Vec::new(),
        vec!["customFields".into()],
        false,
    )
    .await;
    assert_eq!(orders.len(), t.sim.count("MaintenanceOrder"));
    let mut with_permit = 0;
    for r in &orders {
        let stored = t
            .sim
            .entity("MaintenanceOrder", &[s(r, "key")])
            .expect("stored");
        let custom = r["customFields"].as_object().expect("customFields");
        let permit = text(&stored, "YY1_SafetyPermit_ORD");
        if permit.is_empty() {
            assert!(
                !custom.contains_key("YY1_SafetyPermit_ORD"),
                "initial values are left out"
            );
        } else {
            with_permit += 1;
            assert_eq!(custom["YY1_SafetyPermit_ORD"], permit);
        }
        assert_eq!(
            custom["ZZ1_ShutdownRequired_ORD"],
            stored["ZZ1_ShutdownRequired_ORD"]
        );
        assert_eq!(
            custom["MaintenanceOrderType"],
            stored["MaintenanceOrderType"]
        );
    }
    assert!(with_permit > 0 && with_permit < orders.len());
    // Dates become RFC 3339; the purchase order's Plant (from its items) stays beside them.
    let pos = list_all(
        &t.conn,
        "purchase-order",
        Vec::new(),
        vec!["customFields".into()],
        false,
    )
    .await;
    let mut dated = 0;
    for r in &pos {
        let stored = t
            .sim
            .entity("A_PurchaseOrder", &[s(r, "key")])
            .expect("stored");
        let custom = r["customFields"].as_object().expect("customFields");
        match stored.get("YY1_ContractDate_PDH").and_then(Value::as_i64) {
            Some(at) => {
                dated += 1;
                let want = plantwire::sdk::dates::from_unix_millis(at).expect("rfc3339");
                assert_eq!(custom["YY1_ContractDate_PDH"], want.as_str());
                assert_eq!(custom["YY1_ProjectCode_PDH"], stored["YY1_ProjectCode_PDH"]);
            }
            None => assert!(!custom.contains_key("YY1_ContractDate_PDH")),
        }
        assert!(custom["Plant"].is_string());
    }
    assert!(dated > 0);
    let asset = t.conn.get("asset", "10000002").await.expect("asset");
    assert_eq!(asset["customFields"]["YY1_CriticalityClass_EQU"], "B");
    // Extension fields are read here, not written: refused before anything is sent.
    t.sim.clear_requests();
    let err = t
        .conn
        .update(
            "work-order",
            "4000001",
            json!({"customFields": {"YY1_SafetyPermit_ORD": "SP-9"}}),
            None,
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(err.adapter_error(), Some(AdapterError::Invalid(_))),
        "{err}"
    );
    assert_eq!(requests_matching(&t.sim, "PATCH", "MaintenanceOrder"), 0);
}
