//! The Maximo adapter against the Maximo simulator, through the real host and the wasm
//! component: every declared operation, paging across many pages, every declared filter
//! operator pushed down into `oslc.where` (results checked against the simulator's records),
//! field selections passed on as `oslc.select`, raw records and custom fields, BULK creates
//! with per-record results, PATCH with If-Match, the changeStatus action, and the refusals
//! (filters Maximo cannot express, stale If-Match, duplicate transactionid, invalid status
//! transitions, a page larger than the server allows, a wrong API key).

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::collections::HashSet;
use std::sync::Arc;

use plantwire::sdk::{AdapterError, AuthScheme, Filter, FilterOp};
use plantwire::{CallError, Connection, Credential, Egress, EgressConfig, ListOptions, Runtime};
use plantwire_integration_tests::{
    connect, list_everything, load, refuse_every_unsupported, test_config,
};
use plantwire_simulators::maximo::{Config, ListTamper, MaximoSim, rest_id};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

struct Setup {
    sim: MaximoSim,
    conn: Connection,
}

/// An egress to `base_url` with the adapter's declared auth scheme and `apikey`.
fn maximo_egress(base_url: &str, apikey: &str) -> Egress {
    let mut config = EgressConfig::new(url::Url::parse(base_url).expect("base URL"));
    config.allow_private_network = true;
    Egress::new(
        config,
        AuthScheme::ApiKeyHeader("apikey".to_owned()),
        Credential::Token(SecretString::from(apikey.to_owned())),
    )
    .expect("egress")
}

/// A connection through the Maximo component to `base_url`, authenticated with `apikey`.
async fn connect_to(base_url: &str, apikey: &str) -> Connection {
    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "adapter", "maximo").await;
    connect(
        &component,
        "maximo-test",
        Arc::new(maximo_egress(base_url, apikey)),
    )
}

async fn setup_with(config: Config) -> Setup {
    let sim = MaximoSim::start(config).await.expect("simulator");
    let conn = connect_to(&sim.base_url(), sim.apikey()).await;
    Setup { sim, conn }
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

/// The decoded query of the last request the simulator received.
fn last_query(sim: &MaximoSim) -> String {
    let raw = sim
        .requests()
        .pop()
        .and_then(|r| r.query)
        .unwrap_or_default();
    url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn the_declaration_loads_and_says_why_for_every_no() {
    let t = setup().await;
    let info = t.conn.info().clone();
    assert_eq!(info.system, "maximo");
    assert_eq!(info.auth, AuthScheme::ApiKeyHeader("apikey".into()));
    let served: Vec<&str> = info
        .entities
        .iter()
        .filter(|e| e.list.is_supported())
        .map(|e| e.native_name.as_str())
        .collect();
    assert_eq!(
        served,
        [
            "mxapiwo",
            "mxapiasset",
            "mxapipo",
            "mxapiitem",
            "mxapiinventory",
            "mxapilocations",
            "mxapivendor"
        ]
    );
    let table =
        plantwire::capabilities::render(&[&info], None, plantwire::capabilities::Format::Markdown);
    assert!(table.contains("work-order"), "{table}");
}

#[tokio::test]
async fn lists_every_work_order_across_pages_without_gaps_or_duplicates() {
    let t = setup().await;
    let total = t.sim.count("mxapiwo");
    let (keys, pages) = list_everything(&t.conn, "work-order", 250, 100, |n, page| {
        if n == 1 {
            assert_eq!(page.total, Some(total as u64));
        }
        for r in &page.records {
            assert!(r.contains_key("status") && r.contains_key("concurrencyToken"));
        }
    })
    .await;
    assert_eq!(keys.len(), total);
    assert_eq!(pages, total.div_ceil(250));
    let q = last_query(&t.sim);
    assert!(
        q.contains("pageno=10") && q.contains("oslc.orderBy=+workorderid"),
        "{q}"
    );
}

#[tokio::test]
async fn filters_and_sorting_are_pushed_down_into_oslc_where() {
    let t = setup().await;
    let page = t
        .conn
        .list(
            "work-order",
            ListOptions {
                filters: vec![
                    Filter::eq("status", "completed"),
                    Filter::eq("siteKey", "BEDFORD"),
                ],
                sort: Some("-updatedAt".into()),
                page_size: Some(100),
                ..ListOptions::default()
            },
        )
        .await
        .expect("filtered list");
    assert!(!page.records.is_empty());
    for r in &page.records {
        assert_eq!(s(r, "status"), "completed");
        assert!(["COMP", "CLOSE"].contains(&s(r, "nativeStatus")));
        assert_eq!(s(r, "siteKey"), "BEDFORD");
    }
    let stamps: Vec<&str> = page.records.iter().map(|r| s(r, "updatedAt")).collect();
    let mut sorted = stamps.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted, "sorted by updatedAt descending");
    let q = last_query(&t.sim);
    assert!(
        q.contains(r#"oslc.where=status in ["COMP","CLOSE"] and siteid="BEDFORD""#),
        "{q}"
    );
    assert!(q.contains("oslc.orderBy=-changedate,+workorderid"), "{q}");

    // A reference filter becomes one condition per key attribute.
    let asset = t.sim.keys("mxapiasset")[0].clone();
    let page = t
        .conn
        .list(
            "work-order",
            ListOptions {
                filters: vec![Filter::eq("assetKey", &asset)],
                page_size: Some(100),
                ..ListOptions::default()
            },
        )
        .await
        .expect("by asset");
    assert!(page.records.iter().all(|r| s(r, "assetKey") == asset));
}

#[tokio::test]
async fn filters_that_cannot_be_pushed_down_are_refused_before_anything_is_sent() {
    let t = setup().await;
    for (field, value) in [("description", "x"), ("title", "50% done"), ("title", "*")] {
        let err = t
            .conn
            .list(
                "work-order",
                ListOptions {
                    filters: vec![Filter::eq(field, value)],
                    ..ListOptions::default()
                },
            )
            .await
            .expect_err("refused");
        assert!(
            matches!(
                err.adapter_error(),
                Some(AdapterError::Invalid(e)) if e[0].field == field
            ),
            "{field}={value}: {err}"
        );
    }
    assert!(t.sim.requests().is_empty(), "nothing was sent upstream");
}

#[tokio::test]
async fn every_served_entity_lists_and_gets_with_declared_fields_only() {
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
                assert!(decl.flags.read_list, "{}.{field}", entity.name);
            }
        }
        let key = s(&page.records[0], "key").to_owned();
        let record = t
            .conn
            .get(&entity.name, &key)
            .await
            .unwrap_or_else(|e| panic!("get {}: {e}", entity.name));
        assert_eq!(
            record, page.records[0],
            "{}: get equals the list record",
            entity.name
        );
    }
}

#[tokio::test]
async fn work_orders_are_created_in_bulk_updated_status_changed_and_deleted() {
    let t = setup().await;
    let before = t.sim.count("mxapiwo");
    let asset = t.sim.keys("mxapiasset")[0].clone();
    t.sim.clear_requests();
    let results = t
        .conn
        .create(
            "work-order",
            vec![
                json!({"title": "Inspect compressor K-3", "assetKey": asset, "teamKey": "MECH"}),
                json!({"title": "Nowhere", "siteKey": "NOWHERE"}),
                json!({"title": "Lubricate gearbox", "colour": "red"}),
                json!({"title": "Replace filter on AHU-2", "dueAt": "2025-07-01T12:00:00Z"}),
            ],
        )
        .await
        .expect("batch");
    assert_eq!(results.len(), 4);
    let first = results[0].as_ref().expect("created");
    assert_eq!(s(first, "title"), "Inspect compressor K-3");
    assert_eq!(s(first, "status"), "open");
    assert_eq!(s(first, "nativeStatus"), "WAPPR");
    assert_eq!(s(first, "assetKey"), asset);
    match &results[1] {
        Err(AdapterError::Invalid(e)) => {
            assert_eq!(e[0].field, "siteKey");
            assert!(e[0].message.contains("BMXAA4153E"), "{}", e[0].message);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(&results[2], Err(AdapterError::Invalid(e)) if e[0].field == "colour"));
    assert_eq!(
        s(results[3].as_ref().expect("created"), "dueAt"),
        "2025-07-01T12:00:00Z"
    );
    assert_eq!(
        t.sim.count("mxapiwo"),
        before + 2,
        "only the valid records were written"
    );
    let writes: Vec<_> = t
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(writes.len(), 1, "one BULK request for the batch");
    assert_eq!(writes[0].header("x-method-override"), Some("BULK"));
    assert!(writes[0].header("transactionid").is_some());

    // Update with the concurrency token, then with the stale one.
    let key = s(first, "key").to_owned();
    let token = s(first, "concurrencyToken").to_owned();
    let updated = t
        .conn
        .update(
            "work-order",
            &key,
            json!({"description": "Check discharge temperature"}),
            Some(token.clone()),
        )
        .await
        .expect("update");
    assert_eq!(s(&updated, "description"), "Check discharge temperature");
    assert_ne!(s(&updated, "concurrencyToken"), token);
    let patch = t.sim.requests().pop().expect("patch");
    assert_eq!(patch.header("x-method-override"), Some("PATCH"));
    assert_eq!(patch.header("patchtype"), Some("MERGE"));
    assert_eq!(
        patch.header("if-match"),
        Some(format!("\"{token}\"").as_str())
    );
    let err = t
        .conn
        .update(
            "work-order",
            &key,
            json!({"title": "Lost update"}),
            Some(token),
        )
        .await
        .expect_err("stale");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Conflict(_))),
        "{err}"
    );
    let stored = t.sim.record("mxapiwo", &key).expect("stored");
    assert_eq!(
        stored["description"], "Inspect compressor K-3",
        "nothing changed"
    );

    // Status: not updatable (the host refuses with the note); change-status is the way.
    t.sim.clear_requests();
    let err = t
        .conn
        .update("work-order", &key, json!({"status": "completed"}), None)
        .await
        .expect_err("refused");
    match &err {
        CallError::Refused(AdapterError::Invalid(e)) => {
            assert!(e[0].message.contains("change-status"), "{err}")
        }
        other => panic!("unexpected: {other}"),
    }
    assert!(t.sim.requests().is_empty());
    let done = t
        .conn
        .action(
            "work-order",
            &key,
            "change-status",
            json!({"status": "completed", "memo": "done"}),
        )
        .await
        .expect("complete");
    assert_eq!(s(&done, "status"), "completed");
    assert_eq!(s(&done, "nativeStatus"), "COMP");
    assert!(done.contains_key("completedAt"));
    let action = t.sim.requests().pop().expect("action");
    assert_eq!(
        action
            .query
            .as_deref()
            .map(|q| q.contains("action=wsmethod%3AchangeStatus")),
        Some(true)
    );
    // Maximo's transition rules: back from COMP is refused with its BMXAA codes.
    for (input, code) in [
        (json!({"nativeStatus": "APPR"}), "BMXAA4679E"),
        (json!({"status": "in-progress"}), "BMXAA4638E"),
    ] {
        let err = t
            .conn
            .action("work-order", &key, "change-status", input)
            .await
            .expect_err("invalid transition");
        match err {
            CallError::Adapter(AdapterError::Conflict(m)) => assert!(m.contains(code), "{m}"),
            other => panic!("unexpected: {other}"),
        }
    }
    // A completed work order cannot be deleted: a conflict with Maximo's reason.
    let err = t
        .conn
        .delete("work-order", &key)
        .await
        .expect_err("refused");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Conflict(_))),
        "{err}"
    );

    // One still waiting on approval can.
    let fresh = results[3].as_ref().expect("created");
    let fresh_key = s(fresh, "key").to_owned();
    t.conn
        .delete("work-order", &fresh_key)
        .await
        .expect("delete");
    let err = t
        .conn
        .get("work-order", &fresh_key)
        .await
        .expect_err("gone");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::NotFound(_))),
        "{err}"
    );
}

#[tokio::test]
async fn a_replayed_create_is_refused_as_a_duplicate_transaction() {
    let t = setup().await;
    let before = t.sim.count("mxapilocations");
    let record = json!({"code": "BR900", "name": "Spare parts cage", "siteKey": "BEDFORD"});
    let first = t
        .conn
        .create("location", vec![record.clone()])
        .await
        .expect("create");
    assert_eq!(
        s(first[0].as_ref().expect("created"), "key"),
        "BR900/BEDFORD"
    );
    let txn = t
        .sim
        .requests()
        .pop()
        .and_then(|r| r.header("transactionid").map(str::to_owned))
        .expect("transactionid sent");
    t.conn
        .delete("location", "BR900/BEDFORD")
        .await
        .expect("delete");
    let again = t.conn.create("location", vec![record]).await.expect("call");
    match &again[0] {
        Err(AdapterError::Conflict(m)) => assert!(m.contains("transactionid"), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
    let replay = t.sim.requests().pop().expect("replay");
    assert_eq!(replay.header("transactionid"), Some(txn.as_str()));
    assert_eq!(
        t.sim.count("mxapilocations"),
        before,
        "created once, deleted once"
    );
}

#[tokio::test]
async fn purchase_orders_carry_lines_merge_updates_and_change_status() {
    let t = setup().await;
    let vendor = t.sim.keys("mxapivendor")[0].clone();
    let items = t.sim.keys("mxapiitem");
    let results = t
        .conn
        .create(
            "purchase-order",
            vec![json!({
                "title": "Bearings for line 2",
                "vendorKey": vendor,
                "siteKey": "BEDFORD",
                "dueAt": "2025-08-01T00:00:00Z",
                "lineItems": [
                    {"materialKey": items[0], "quantity": 4.0, "price": 12.5},
                    {"materialKey": items[1], "quantity": 2.0, "price": 30.0}
                ]
            })],
        )
        .await
        .expect("create");
    let po = results[0].as_ref().expect("created");
    assert_eq!(s(po, "vendorKey"), vendor);
    assert_eq!(s(po, "status"), "pending");
    assert_eq!(po["totalNetValue"], json!(110.0));
    let lines = po["lineItems"].as_array().expect("lines");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["lineNo"], 1);
    assert_eq!(lines[0]["materialKey"], json!(items[0]));
    let key = s(po, "key").to_owned();

    let merged = t
        .conn
        .update(
            "purchase-order",
            &key,
            json!({"lineItems": [{"lineNo": 1, "quantity": 6.0}, {"materialKey": items[2], "quantity": 1.0, "price": 5.0}]}),
            None,
        )
        .await
        .expect("merge");
    let lines = merged["lineItems"].as_array().expect("lines");
    assert_eq!(lines.len(), 3, "MERGE keeps line 2 and adds line 3");
    assert_eq!(lines[0]["quantity"], json!(6.0));
    assert_eq!(merged["totalNetValue"], json!(140.0));

    let approved = t
        .conn
        .action(
            "purchase-order",
            &key,
            "change-status",
            json!({"status": "approved"}),
        )
        .await
        .expect("approve");
    assert_eq!(s(&approved, "status"), "approved");
    let err = t
        .conn
        .delete("purchase-order", &key)
        .await
        .expect_err("approved");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Conflict(_))),
        "{err}"
    );
    let cancelled = t
        .conn
        .action(
            "purchase-order",
            &key,
            "change-status",
            json!({"status": "cancelled"}),
        )
        .await
        .expect("cancel");
    assert_eq!(s(&cancelled, "nativeStatus"), "CAN");
    let err = t
        .conn
        .action(
            "purchase-order",
            &key,
            "change-status",
            json!({"nativeStatus": "APPR"}),
        )
        .await
        .expect_err("CAN is final");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Conflict(_))),
        "{err}"
    );
}

#[tokio::test]
async fn materials_stock_locations_and_vendors_are_written() {
    let t = setup().await;
    let operating = t
        .sim
        .keys("mxapilocations")
        .into_iter()
        .find(|k| k.starts_with("BR") && k.ends_with("/BEDFORD"))
        .expect("an operating location in BEDFORD");
    // Material: create (itemnum numbered by Maximo), update, read back.
    let item = t
        .conn
        .create(
            "material",
            vec![json!({"name": "Gasket, 6 in 300#", "uomKey": "EACH"})],
        )
        .await
        .expect("create")
        .remove(0)
        .expect("created");
    let item_key = s(&item, "key").to_owned();
    assert!(item_key.ends_with("/SET1"), "{item_key}");
    let renamed = t
        .conn
        .update(
            "material",
            &item_key,
            json!({"name": "Gasket, 6 in 300# RF"}),
            None,
        )
        .await
        .expect("update");
    assert_eq!(s(&renamed, "name"), "Gasket, 6 in 300# RF");

    // Inventory: add the item to a storeroom, then remove it (zero balance).
    let stock = t
        .conn
        .create(
            "inventory",
            vec![json!({"materialKey": item_key, "locationKey": "CENTRAL/BEDFORD"})],
        )
        .await
        .expect("create")
        .remove(0)
        .expect("created");
    assert_eq!(stock["quantity"], json!(0.0));
    let stock_key = s(&stock, "key").to_owned();
    t.conn
        .delete("inventory", &stock_key)
        .await
        .expect("delete");
    // Seeded stock has a balance: Maximo refuses.
    let seeded = t.sim.keys("mxapiinventory")[0].clone();
    let err = t
        .conn
        .delete("inventory", &seeded)
        .await
        .expect_err("balance");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Conflict(_))),
        "{err}"
    );
    // Storerooms only.
    let results = t
        .conn
        .create(
            "inventory",
            vec![json!({"materialKey": item_key, "locationKey": operating})],
        )
        .await
        .expect("call");
    assert!(matches!(&results[0], Err(AdapterError::Invalid(e)) if e[0].field == "locationKey"));

    // Vendor: create, deactivate, delete.
    let vendor = t
        .conn
        .create(
            "vendor",
            vec![json!({"code": "NEWCO", "name": "NewCo Supply", "phone": "+1 800 555 0000"})],
        )
        .await
        .expect("create")
        .remove(0)
        .expect("created");
    assert_eq!(s(&vendor, "key"), "NEWCO/EAGLENA");
    let off = t
        .conn
        .update("vendor", "NEWCO/EAGLENA", json!({"isActive": false}), None)
        .await
        .expect("deactivate");
    assert_eq!(off["isActive"], json!(false));
    let inactive = t
        .conn
        .list(
            "vendor",
            ListOptions {
                filters: vec![Filter::eq("isActive", "false")],
                page_size: Some(100),
                ..ListOptions::default()
            },
        )
        .await
        .expect("inactive vendors");
    assert!(
        inactive
            .records
            .iter()
            .any(|r| s(r, "key") == "NEWCO/EAGLENA")
    );
    assert!(
        inactive
            .records
            .iter()
            .all(|r| r["isActive"] == json!(false))
    );
    t.conn
        .delete("vendor", "NEWCO/EAGLENA")
        .await
        .expect("delete");

    // Asset: create under a location, then delete.
    let asset = t
        .conn
        .create(
            "asset",
            vec![json!({"name": "Booster pump", "locationKey": operating, "serialNumber": "BP-1"})],
        )
        .await
        .expect("create")
        .remove(0)
        .expect("created");
    assert_eq!(s(&asset, "siteKey"), "BEDFORD");
    assert_eq!(s(&asset, "nativeStatus"), "NOT READY");
    t.conn
        .delete("asset", s(&asset, "key"))
        .await
        .expect("delete");
}

#[tokio::test]
async fn unsupported_operations_are_refused_before_the_adapter_runs() {
    let t = setup().await;
    let tried = refuse_every_unsupported(&t.conn, "X/Y").await;
    assert_eq!(
        tried, 16,
        "site, user, service-request (5 each) and inventory update"
    );
    let err = t
        .conn
        .update(
            "work-order",
            "BEDFORD/1000",
            json!({"title": "x"}),
            Some("x\"y".into()),
        )
        .await
        .expect_err("bad token");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Invalid(_))),
        "{err}"
    );
    assert!(
        t.sim.requests().is_empty(),
        "no request reached the simulator"
    );
}

#[tokio::test]
async fn a_page_larger_than_the_server_allows_is_refused_with_the_reason() {
    let t = setup_with(Config {
        max_page_size: 200,
        ..Config::default()
    })
    .await;
    let err = t
        .conn
        .list("asset", opts(1000))
        .await
        .expect_err("too large");
    match err {
        CallError::Adapter(AdapterError::Invalid(e)) => {
            assert_eq!(e[0].field, "pageSize");
            assert!(
                e[0].message.contains("maximum page size 200"),
                "{}",
                e[0].message
            );
        }
        other => panic!("unexpected: {other}"),
    }
    let page = t
        .conn
        .list("asset", opts(200))
        .await
        .expect("within the limit");
    assert_eq!(page.records.len(), 200);
}

#[tokio::test]
async fn a_wrong_api_key_is_unauthorized_and_the_key_stays_with_the_host() {
    let sim = MaximoSim::start(Config::default())
        .await
        .expect("simulator");
    let conn = connect_to(&sim.base_url(), "not-the-key").await;
    let err = conn.list("work-order", opts(5)).await.expect_err("401");
    match err {
        CallError::Adapter(AdapterError::Unauthorized(m)) => {
            assert!(m.contains("BMXAA0021E"), "{m}")
        }
        other => panic!("unexpected: {other}"),
    }
    // With the right key, through the /maximo/api alias, the host adds the header.
    let conn = connect_to(&sim.api_base_url(), sim.apikey()).await;
    sim.clear_requests();
    let page = conn.list("work-order", opts(5)).await.expect("list");
    assert_eq!(page.records.len(), 5);
    let req = sim.requests().pop().expect("request");
    assert!(
        req.path.starts_with("/maximo/api/os/mxapiwo"),
        "{}",
        req.path
    );
    assert_eq!(req.header("apikey"), Some(sim.apikey()));
    let key = page.records[0]["key"].as_str().expect("key").to_owned();
    let record = conn.get("work-order", &key).await.expect("get");
    assert_eq!(record["key"], json!(key));
    let req = sim.requests().pop().expect("request");
    let rest = url::form_urlencoded::byte_serialize(rest_id(&key).as_bytes()).collect::<String>();
    assert!(
        req.path.ends_with(&rest),
        "{} ends with the rest id {rest}",
        req.path
    );
    sim.faults().revoke_token();
    let err = conn.get("work-order", &key).await.expect_err("revoked");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Unauthorized(_))),
        "{err}"
    );
}

#[tokio::test]
async fn every_served_entity_pages_through_several_pages_without_gaps_or_duplicates() {
    let t = setup().await;
    for (entity, os) in [
        ("asset", "mxapiasset"),
        ("purchase-order", "mxapipo"),
        ("material", "mxapiitem"),
        ("inventory", "mxapiinventory"),
        ("location", "mxapilocations"),
        ("vendor", "mxapivendor"),
    ] {
        let count = t.sim.count(os);
        let page_size = u32::try_from(count / 4 + 1).expect("page size");
        t.sim.clear_requests();
        let mut total = None;
        let (keys, pages) = list_everything(&t.conn, entity, page_size, 50, |n, page| {
            assert!(page.records.len() <= page_size as usize);
            if n == 1 {
                total = page.total;
            }
        })
        .await;
        assert_eq!(total, Some(count as u64), "{entity}");
        assert_eq!(pages, count.div_ceil(page_size as usize), "{entity}");
        assert!(pages >= 4, "{entity}: {pages} pages");
        let unique: HashSet<&String> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "{entity}: no duplicates");
        let mut expected = t.sim.keys(os);
        let mut got = keys.clone();
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "{entity}: every stored record, once");
        let requests = t.sim.requests();
        assert_eq!(requests.len(), pages, "{entity}: one request per page");
        let q = last_query(&t.sim);
        assert!(
            q.contains(&format!("pageno={pages}"))
                && q.contains(&format!("oslc.pageSize={page_size}"))
                && q.contains("lean=1"),
            "{entity}: {q}"
        );
    }
}

#[tokio::test]
async fn assets_are_created_read_updated_with_the_token_and_deleted() {
    let t = setup().await;
    let operating = t
        .sim
        .keys("mxapilocations")
        .into_iter()
        .find(|k| k.starts_with("BR") && k.ends_with("/BEDFORD"))
        .expect("an operating location in BEDFORD");
    t.sim.clear_requests();
    let created = t
        .conn
        .create(
            "asset",
            vec![json!({"name": "Feed pump P-7", "siteKey": "BEDFORD", "locationKey": operating, "serialNumber": "FP7-001", "makeName": "GRUNDFOS"})],
        )
        .await
        .expect("create")
        .remove(0)
        .expect("created");
    let key = s(&created, "key").to_owned();
    assert!(key.ends_with("/BEDFORD"), "{key}");
    let post = t.sim.requests().pop().expect("create request");
    assert_eq!(post.method, "POST");
    assert_eq!(
        post.header("x-method-override"),
        None,
        "one record: a plain POST"
    );
    assert!(post.header("properties").is_some() && post.header("transactionid").is_some());
    let stored = t.sim.record("mxapiasset", &key).expect("stored");
    assert_eq!(stored["description"], "Feed pump P-7");
    assert_eq!(stored["serialnum"], "FP7-001");
    assert_eq!(stored["manufacturer"], "GRUNDFOS");
    assert_eq!(
        format!("{}/BEDFORD", stored["location"].as_str().expect("location")),
        operating
    );

    let read = t.conn.get("asset", &key).await.expect("get");
    assert_eq!(read, created, "get returns what create returned");

    let token = s(&read, "concurrencyToken").to_owned();
    let updated = t
        .conn
        .update(
            "asset",
            &key,
            json!({"name": "Feed pump P-7 (rebuilt)", "serialNumber": "FP7-002"}),
            Some(token.clone()),
        )
        .await
        .expect("update");
    assert_eq!(s(&updated, "name"), "Feed pump P-7 (rebuilt)");
    let patch = t.sim.requests().pop().expect("patch");
    assert_eq!(patch.header("x-method-override"), Some("PATCH"));
    assert_eq!(
        patch.header("if-match"),
        Some(format!("\"{token}\"").as_str())
    );
    let stored = t.sim.record("mxapiasset", &key).expect("stored");
    assert_eq!(stored["description"], "Feed pump P-7 (rebuilt)");
    assert_eq!(stored["serialnum"], "FP7-002");
    let err = t
        .conn
        .update("asset", &key, json!({"name": "Lost"}), Some(token))
        .await
        .expect_err("stale token");
    match err {
        CallError::Adapter(AdapterError::Conflict(m)) => {
            assert!(m.contains("412") || m.contains("another user"), "{m}")
        }
        other => panic!("unexpected: {other}"),
    }
    assert_eq!(
        t.sim.record("mxapiasset", &key).expect("stored")["description"],
        "Feed pump P-7 (rebuilt)"
    );

    t.conn.delete("asset", &key).await.expect("delete");
    let delete = t.sim.requests().pop().expect("delete");
    assert_eq!(delete.method, "DELETE");
    assert!(delete.path.ends_with(&rest_id(&key)), "{}", delete.path);
    assert!(t.sim.record("mxapiasset", &key).is_none());
    let err = t.conn.get("asset", &key).await.expect_err("gone");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::NotFound(_))),
        "{err}"
    );

    // An asset a work order refers to stays: Maximo refuses, reported as a conflict.
    let wo = t
        .sim
        .record("mxapiwo", &t.sim.keys("mxapiwo")[0])
        .expect("wo");
    let used = format!(
        "{}/{}",
        wo["assetnum"].as_str().expect("assetnum"),
        wo["siteid"].as_str().expect("siteid")
    );
    let err = t.conn.delete("asset", &used).await.expect_err("referenced");
    match err {
        CallError::Adapter(AdapterError::Conflict(m)) => assert!(m.contains("WORKORDER"), "{m}"),
        other => panic!("unexpected: {other}"),
    }
    assert!(t.sim.record("mxapiasset", &used).is_some());
}

#[tokio::test]
async fn locations_are_created_read_updated_and_deleted() {
    let t = setup().await;
    let created = t
        .conn
        .create(
            "location",
            vec![json!({"code": "BR950", "name": "Boiler house", "siteKey": "BEDFORD"})],
        )
        .await
        .expect("create")
        .remove(0)
        .expect("created");
    assert_eq!(s(&created, "key"), "BR950/BEDFORD");
    assert_eq!(created["isActive"], json!(true));
    let stored = t
        .sim
        .record("mxapilocations", "BR950/BEDFORD")
        .expect("stored");
    assert_eq!(stored["description"], "Boiler house");
    assert_eq!(
        t.conn.get("location", "BR950/BEDFORD").await.expect("get"),
        created
    );
    let updated = t
        .conn
        .update(
            "location",
            "BR950/BEDFORD",
            json!({"name": "Boiler house 2"}),
            Some(s(&created, "concurrencyToken").to_owned()),
        )
        .await
        .expect("update");
    assert_eq!(s(&updated, "name"), "Boiler house 2");
    assert_eq!(
        t.sim
            .record("mxapilocations", "BR950/BEDFORD")
            .expect("stored")["description"],
        "Boiler house 2"
    );
    // The code is part of the key: the host refuses the change with the declared note.
    t.sim.clear_requests();
    let err = t
        .conn
        .update("location", "BR950/BEDFORD", json!({"code": "BR951"}), None)
        .await
        .expect_err("key");
    assert!(
        matches!(err, CallError::Refused(AdapterError::Invalid(_))),
        "{err}"
    );
    assert!(t.sim.requests().is_empty());
    t.conn
        .delete("location", "BR950/BEDFORD")
        .await
        .expect("delete");
    assert!(t.sim.record("mxapilocations", "BR950/BEDFORD").is_none());
    // A storeroom holding stock stays.
    let err = t
        .conn
        .delete("location", "CENTRAL/BEDFORD")
        .await
        .expect_err("stock");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Conflict(_))),
        "{err}"
    );
    assert!(t.sim.record("mxapilocations", "CENTRAL/BEDFORD").is_some());
}

#[tokio::test]
async fn materials_vendors_and_purchase_orders_are_deleted_only_when_maximo_allows() {
    let t = setup().await;
    // A new item nothing refers to is deleted.
    let item = t
        .conn
        .create(
            "material",
            vec![json!({"name": "O-ring 40 mm", "uomKey": "EACH"})],
        )
        .await
        .expect("create")
        .remove(0)
        .expect("created");
    let item_key = s(&item, "key").to_owned();
    assert!(t.sim.record("mxapiitem", &item_key).is_some());
    t.conn.delete("material", &item_key).await.expect("delete");
    assert!(t.sim.record("mxapiitem", &item_key).is_none());
    let err = t.conn.get("material", &item_key).await.expect_err("gone");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::NotFound(_))),
        "{err}"
    );
    // A stocked item stays.
    let stocked = t.sim.keys("mxapiinventory")[0]
        .split('/')
        .take(2)
        .collect::<Vec<_>>()
        .join("/");
    let err = t
        .conn
        .delete("material", &stocked)
        .await
        .expect_err("stocked");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Conflict(_))),
        "{err}"
    );
    assert!(t.sim.record("mxapiitem", &stocked).is_some());

    // A purchase order waiting on approval is deleted.
    let vendor = t.sim.keys("mxapivendor")[0].clone();
    let po = t
        .conn
        .create(
            "purchase-order",
            vec![json!({"title": "Spare seals", "vendorKey": vendor, "siteKey": "BEDFORD"})],
        )
        .await
        .expect("create")
        .remove(0)
        .expect("created");
    let po_key = s(&po, "key").to_owned();
    assert_eq!(s(&po, "nativeStatus"), "WAPPR");
    assert_eq!(
        t.conn.get("purchase-order", &po_key).await.expect("get"),
        po
    );
    t.conn
        .delete("purchase-order", &po_key)
        .await
        .expect("delete");
    assert!(t.sim.record("mxapipo", &po_key).is_none());

    // A company that is a purchase order's vendor stays.
    let seeded = t
        .sim
        .record("mxapipo", &t.sim.keys("mxapipo")[0])
        .expect("po");
    let used = format!(
        "{}/{}",
        seeded["vendor"].as_str().expect("vendor"),
        seeded["orgid"].as_str().expect("orgid")
    );
    let err = t
        .conn
        .delete("vendor", &used)
        .await
        .expect_err("referenced");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Conflict(_))),
        "{err}"
    );
    assert!(t.sim.record("mxapivendor", &used).is_some());
}

#[tokio::test]
async fn single_and_bulk_creates_take_the_documented_routes() {
    let t = setup().await;
    // One work order: a plain POST whose answer carries the record (properties).
    t.sim.clear_requests();
    let wo = t
        .conn
        .create(
            "work-order",
            vec![json!({"title": "Check belt tension", "siteKey": "BEDFORD"})],
        )
        .await
        .expect("create")
        .remove(0)
        .expect("created");
    let requests = t.sim.requests();
    assert_eq!(requests.len(), 1, "the record came back with the create");
    assert_eq!(requests[0].header("x-method-override"), None);
    assert!(requests[0].header("properties").is_some());
    let stored = t.sim.record("mxapiwo", s(&wo, "key")).expect("stored");
    assert_eq!(stored["description"], "Check belt tension");
    assert_eq!(stored["status"], "WAPPR");

    // Several vendors: one BULK request, each record its own result.
    let before = t.sim.count("mxapivendor");
    let existing = t.sim.keys("mxapivendor")[0]
        .split('/')
        .next()
        .expect("code")
        .to_owned();
    t.sim.clear_requests();
    let results = t
        .conn
        .create(
            "vendor",
            vec![
                json!({"code": "ACME1", "name": "Acme Bearings"}),
                json!({"code": existing, "name": "Same code again"}),
                json!({"code": "ACME2", "name": "Acme Seals", "isActive": false}),
            ],
        )
        .await
        .expect("batch");
    assert_eq!(
        s(results[0].as_ref().expect("created"), "key"),
        "ACME1/EAGLENA"
    );
    assert!(results[1].is_err(), "{:?}", results[1]);
    let second = results[2].as_ref().expect("created");
    assert_eq!(second["isActive"], json!(false));
    assert_eq!(t.sim.count("mxapivendor"), before + 2);
    assert_eq!(
        t.sim
            .record("mxapivendor", "ACME2/EAGLENA")
            .expect("stored")["disabled"],
        json!(true)
    );
    let posts: Vec<_> = t
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header("x-method-override"), Some("BULK"));
    let sent: Value = serde_json::from_slice(&posts[0].body).expect("json");
    let items = sent.as_array().expect("array");
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i["_action"] == "Add"));
}

#[tokio::test]
async fn native_maxauth_credentials_are_accepted() {
    let sim = MaximoSim::start(Config::default())
        .await
        .expect("simulator");
    let (user, password) = sim.user();
    let maxauth = base64_of(&format!("{user}:{password}"));
    let mut config = EgressConfig::new(url::Url::parse(&sim.base_url()).expect("base URL"));
    config.allow_private_network = true;
    let egress = Egress::new(
        config,
        AuthScheme::ApiKeyHeader("maxauth".to_owned()),
        Credential::Token(SecretString::from(maxauth.clone())),
    )
    .expect("egress");
    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "adapter", "maximo").await;
    let conn = connect(&component, "maximo-maxauth", Arc::new(egress));
    let page = conn.list("vendor", opts(3)).await.expect("list");
    assert_eq!(page.records.len(), 3);
    let req = sim.requests().pop().expect("request");
    assert_eq!(req.header("maxauth"), Some(maxauth.as_str()));
    assert_eq!(req.header("apikey"), None);
    // A wrong password is unauthorized.
    let mut config = EgressConfig::new(url::Url::parse(&sim.base_url()).expect("base URL"));
    config.allow_private_network = true;
    let wrong = Egress::new(
        config,
        AuthScheme::ApiKeyHeader("maxauth".to_owned()),
        Credential::Token(SecretString::from(base64_of(&format!("{user}:nope")))),
    )
    .expect("egress");
    let conn = connect(&component, "maximo-maxauth-wrong", Arc::new(wrong));
    let err = conn.list("vendor", opts(3)).await.expect_err("401");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Unauthorized(_))),
        "{err}"
    );
}

/// Standard base64 with padding (the `maxauth` header).
fn base64_of(text: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn malformed_collection_answers_are_clear_errors_not_endless_paging() {
    let t = setup_with(Config {
        work_orders: 60,
        ..Config::default()
    })
    .await;
    for (tamper, why) in [
        (ListTamper::NotJson, "not valid JSON"),
        (ListTamper::NoMember, "no `member` array"),
        (ListTamper::MembersNotRecords, "not a record"),
        (ListTamper::ForeignNextPage, "another origin"),
        (ListTamper::RepeatedNextPage, "goes back to page"),
        (ListTamper::NextPageAsString, "not an object with an href"),
    ] {
        t.sim.tamper_lists(Some(tamper));
        t.sim.clear_requests();
        // The first page, then (for RepeatedNextPage) a continuation.
        for cursor in [None, Some("2".to_owned())] {
            let err = t
                .conn
                .list(
                    "work-order",
                    ListOptions {
                        cursor,
                        page_size: Some(10),
                        ..ListOptions::default()
                    },
                )
                .await
                .expect_err("malformed");
            match &err {
                CallError::Adapter(AdapterError::Upstream(e)) => {
                    assert!(e.message.contains(why), "{tamper:?}: {}", e.message)
                }
                other => panic!("{tamper:?}: unexpected {other}"),
            }
        }
        assert_eq!(
            t.sim.requests().len(),
            2,
            "{tamper:?}: nothing followed or retried"
        );
        assert!(
            t.sim.requests().iter().all(|r| !r.path.contains("mirror")),
            "the link is never followed"
        );
    }
    t.sim.tamper_lists(None);
    let (keys, pages) = list_everything(&t.conn, "work-order", 10, 50, |_, page| {
        assert!(page.records.len() <= 10);
    })
    .await;
    assert_eq!((keys.len(), pages), (60, 6), "normal again");
}

/// Every native record of object structure `os` the simulator holds.
fn natives(sim: &MaximoSim, os: &str) -> Vec<Value> {
    sim.keys(os)
        .iter()
        .map(|k| sim.record(os, k).expect("stored record"))
        .collect()
}

/// A filter with operator `op`.
fn filter(field: &str, op: FilterOp, values: &[&str]) -> Filter {
    Filter {
        field: field.to_owned(),
        op,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

/// The keys of every record of `entity` meeting `filters`, through the host, every page.
async fn filtered_keys(conn: &Connection, entity: &str, filters: &[Filter]) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor = None;
    for _ in 0..50 {
        let page = conn
            .list(
                entity,
                ListOptions {
                    cursor: cursor.take(),
                    page_size: Some(1000),
                    filters: filters.to_vec(),
                    fields: vec!["key".into()],
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{entity} {filters:?}: {e}"));
        keys.extend(page.records.iter().map(|r| s(r, "key").to_owned()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => {
                keys.sort();
                return keys;
            }
        }
    }
    panic!("{entity}: paging does not end");
}

/// Text attribute `attr` of a native record (`""` when absent).
fn text(n: &Value, attr: &str) -> String {
    n[attr].as_str().unwrap_or_default().to_owned()
}

/// A native DATETIME attribute as Unix milliseconds.
fn millis(n: &Value, attr: &str) -> Option<i64> {
    n[attr]
        .as_str()
        .and_then(plantwire::sdk::dates::to_unix_millis)
}

/// A time as the unified RFC 3339 UTC text a caller sends.
fn rfc3339(ms: i64) -> String {
    plantwire::sdk::dates::from_unix_millis(ms).expect("a time")
}

/// The sorted keys of the native records meeting `keep`.
fn expected(all: &[Value], pk: &[&str], keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut keys: Vec<String> = all
        .iter()
        .filter(|n| keep(n))
        .map(|n| {
            pk.iter()
                .map(|a| match &n[*a] {
                    Value::Number(x) => x.to_string(),
                    v => v.as_str().expect("key attribute").to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn every_declared_operator_returns_what_the_simulator_holds() {
    use FilterOp::{Contains, Eq, Ge, Gt, In, Le, Lt, Ne};
    let t = setup_with(Config {
        work_orders: 600,
        purchase_orders: 120,
        ..Config::default()
    })
    .await;
    let wos = natives(&t.sim, "mxapiwo");
    let pk = ["siteid", "wonum"];
    let first = text(&wos[0], "description");
    let second = text(&wos[7], "description");
    let mut times: Vec<i64> = wos.iter().filter_map(|n| millis(n, "changedate")).collect();
    times.sort_unstable();
    let (mid, late) = (times[times.len() / 3], times[times.len() * 3 / 4]);
    let (a, b) = (rfc3339(mid), rfc3339(late));
    let assets: Vec<String> = t
        .sim
        .keys("mxapiasset")
        .into_iter()
        .filter(|k| k.ends_with("/BEDFORD"))
        .take(3)
        .collect();
    let asset_refs: Vec<&str> = assets.iter().map(String::as_str).collect();
    let status = |n: &Value| text(n, "status");
    let in_ = |n: &Value, set: &[&str]| set.contains(&status(n).as_str());
    let asset_of = |n: &Value| format!("{}/{}", text(n, "assetnum"), text(n, "siteid"));
    let cases: Vec<(Vec<Filter>, Vec<String>)> = vec![
        (
            vec![filter("title", Eq, &[&first])],
            expected(&wos, &pk, |n| text(n, "description") == first),
        ),
        (
            vec![filter("title", Ne, &[&first])],
            expected(&wos, &pk, |n| text(n, "description") != first),
        ),
        (
            vec![filter("title", In, &[&first, &second])],
            expected(&wos, &pk, |n| {
                [&first, &second].contains(&&text(n, "description"))
            }),
        ),
        (
            vec![filter("title", Contains, &["SEAL"])],
            expected(&wos, &pk, |n| {
                text(n, "description").to_lowercase().contains("seal")
            }),
        ),
        (
            vec![filter("status", Eq, &["on-hold"])],
            expected(&wos, &pk, |n| in_(n, &["WMATL", "WPCOND"])),
        ),
        (
            vec![filter("status", Ne, &["completed"])],
            expected(&wos, &pk, |n| !in_(n, &["COMP", "CLOSE"])),
        ),
        (
            vec![filter("status", In, &["open", "cancelled"])],
            expected(&wos, &pk, |n| in_(n, &["WAPPR", "APPR", "WSCH", "CAN"])),
        ),
        (
            vec![filter("nativeStatus", Ne, &["CLOSE"])],
            expected(&wos, &pk, |n| status(n) != "CLOSE"),
        ),
        (
            vec![filter("nativeStatus", In, &["INPRG", "WMATL"])],
            expected(&wos, &pk, |n| in_(n, &["INPRG", "WMATL"])),
        ),
        (
            vec![filter("siteKey", Ne, &["BEDFORD"])],
            expected(&wos, &pk, |n| text(n, "siteid") != "BEDFORD"),
        ),
        (
            vec![filter("teamKey", In, &["MECH", "ELEC"])],
            expected(&wos, &pk, |n| {
                ["MECH", "ELEC"].contains(&text(n, "persongroup").as_str())
            }),
        ),
        (
            vec![filter("assetKey", In, &asset_refs)],
            expected(&wos, &pk, |n| assets.contains(&asset_of(n))),
        ),
        // The incremental-sync window: a lower and an upper bound on updatedAt.
        (
            vec![
                filter("updatedAt", Ge, &[&a]),
                filter("updatedAt", Lt, &[&b]),
            ],
            expected(&wos, &pk, |n| {
                millis(n, "changedate").is_some_and(|m| m >= mid && m < late)
            }),
        ),
        (
            vec![filter("updatedAt", Gt, &[&a])],
            expected(&wos, &pk, |n| {
                millis(n, "changedate").is_some_and(|m| m > mid)
            }),
        ),
        (
            vec![filter("updatedAt", Le, &[&a])],
            expected(&wos, &pk, |n| {
                millis(n, "changedate").is_some_and(|m| m <= mid)
            }),
        ),
        (
            vec![filter("completedAt", Gt, &[&a])],
            expected(&wos, &pk, |n| {
                millis(n, "actfinish").is_some_and(|m| m > mid)
            }),
        ),
        (
            vec![
                filter("createdAt", Lt, &[&a]),
                filter("status", Eq, &["open"]),
            ],
            expected(&wos, &pk, |n| {
                millis(n, "reportdate").is_some_and(|m| m < mid)
                    && in_(n, &["WAPPR", "APPR", "WSCH"])
            }),
        ),
    ];
    for (filters, want) in &cases {
        assert!(
            !want.is_empty() && want.len() < wos.len(),
            "{filters:?} tells records apart"
        );
        let got = filtered_keys(&t.conn, "work-order", filters).await;
        assert_eq!(&got, want, "{filters:?}");
    }
    let q = last_query(&t.sim);
    assert!(
        q.contains(r#"reportdate<""#) && q.contains(r#"status in ["WAPPR","APPR","WSCH"]"#),
        "{q}"
    );

    // Numbers, codes and references on purchase orders.
    let pos = natives(&t.sim, "mxapipo");
    let ppk = ["ponum", "revisionnum", "siteid"];
    let cost = |n: &Value| n["totalcost"].as_f64().expect("totalcost");
    let mut costs: Vec<f64> = pos.iter().map(cost).collect();
    costs.sort_by(f64::total_cmp);
    let median = costs[costs.len() / 2];
    let m = median.to_string();
    let vendors: Vec<String> = pos.iter().take(2).map(|n| text(n, "vendor")).collect();
    let vendor_keys: Vec<String> = vendors.iter().map(|v| format!("{v}/EAGLENA")).collect();
    let vendor_refs: Vec<&str> = vendor_keys.iter().map(String::as_str).collect();
    for (filters, want) in [
        (
            vec![filter("totalNetValue", Ge, &[&m])],
            expected(&pos, &ppk, |n| cost(n) >= median),
        ),
        (
            vec![filter("totalNetValue", Lt, &[&m])],
            expected(&pos, &ppk, |n| cost(n) < median),
        ),
        (
            vec![filter("totalNetValue", Eq, &[&m])],
            expected(&pos, &ppk, |n| (cost(n) - median).abs() < 1e-9),
        ),
        (
            vec![filter("totalNetValue", Ne, &[&m])],
            expected(&pos, &ppk, |n| (cost(n) - median).abs() >= 1e-9),
        ),
        (
            vec![filter("orderNo", Contains, &["05"])],
            expected(&pos, &ppk, |n| text(n, "ponum").contains("05")),
        ),
        (
            vec![filter("vendorKey", In, &vendor_refs)],
            expected(&pos, &ppk, |n| vendors.contains(&text(n, "vendor"))),
        ),
    ] {
        assert!(!want.is_empty() && want.len() < pos.len(), "{filters:?}");
        let got = filtered_keys(&t.conn, "purchase-order", &filters).await;
        assert_eq!(got, want, "{filters:?}");
    }
}

#[tokio::test]
async fn filters_maximo_cannot_express_are_refused_before_anything_is_sent() {
    use FilterOp::{Contains, Eq, Ge, Gt, In, Le, Lt, Ne};
    let t = setup().await;
    t.sim.clear_requests();
    for filters in [
        // LIKE would read `%` and `_` as wildcards; oslc.where has no escape for `"`.
        vec![filter("title", Contains, &["50%"])],
        vec![filter("title", Contains, &["PUMP_01"])],
        vec![filter("title", Eq, &["say \"hi\""])],
        vec![filter("title", Ne, &["[A,B]"])],
        // Two conditions on one attribute that are not a range.
        vec![
            filter("updatedAt", Ge, &["2024-01-01T00:00:00Z"]),
            filter("updatedAt", Ge, &["2024-02-01T00:00:00Z"]),
        ],
        vec![
            filter("status", Eq, &["open"]),
            filter("nativeStatus", Ne, &["WSCH"]),
        ],
        // Keys an `in` cannot pair without `or`.
        vec![filter("assetKey", In, &["11200/BEDFORD", "11204/TEXAS"])],
        // Sub-second times Maximo does not hold.
        vec![filter("updatedAt", Lt, &["2024-01-01T00:00:00.250Z"])],
    ] {
        let last = filters.last().expect("a filter").field.clone();
        let err = t
            .conn
            .list(
                "work-order",
                ListOptions {
                    filters: filters.clone(),
                    ..ListOptions::default()
                },
            )
            .await
            .expect_err("refused");
        assert!(
            matches!(
                err.adapter_error(),
                Some(AdapterError::Invalid(e)) if e[0].field == last
            ),
            "{filters:?}: {err}"
        );
    }
    // Operators a field does not declare are refused by the host from the declaration.
    let info = t.conn.info().clone();
    let wo = info.entity("work-order").expect("work-order");
    assert_eq!(
        wo.field("updatedAt").expect("updatedAt").filter_ops,
        vec![Lt, Le, Gt, Ge]
    );
    assert_eq!(
        wo.field("title").expect("title").filter_ops,
        vec![Eq, Ne, In, Contains]
    );
    for filters in [
        vec![filter("status", Contains, &["open"])],
        vec![filter("assetKey", Ne, &["11200/BEDFORD"])],
        vec![filter("updatedAt", Eq, &["2024-01-01T00:00:00Z"])],
    ] {
        let err = t
            .conn
            .list(
                "work-order",
                ListOptions {
                    filters: filters.clone(),
                    ..ListOptions::default()
                },
            )
            .await
            .expect_err("refused");
        assert!(
            matches!(err.adapter_error(), Some(AdapterError::Invalid(_))),
            "{filters:?}: {err}"
        );
    }
    assert!(t.sim.requests().is_empty(), "nothing was sent upstream");
}

#[tokio::test]
async fn raw_records_custom_fields_and_field_selections() {
    let t = setup().await;
    // A list with raw: each record carries the member as Maximo sent it.
    let page = t
        .conn
        .list(
            "work-order",
            ListOptions {
                page_size: Some(20),
                include_raw: true,
                ..ListOptions::default()
            },
        )
        .await
        .expect("list with raw");
    assert_eq!(page.records.len(), 20);
    let q = last_query(&t.sim);
    assert!(
        q.contains("oslc.select=*,description_longdescription"),
        "{q}"
    );
    for r in &page.records {
        let raw = r["raw"].as_object().expect("raw is the Maximo member");
        let key = s(r, "key");
        let stored = t.sim.record("mxapiwo", key).expect("stored");
        assert_eq!(
            format!(
                "{}/{}",
                raw["siteid"].as_str().expect("siteid"),
                raw["wonum"].as_str().expect("wonum")
            ),
            key
        );
        assert_eq!(
            raw["href"].as_str().expect("href").rsplit('/').next(),
            Some(rest_id(key).as_str())
        );
        assert_eq!(raw["_rowstamp"], stored["_rowstamp"]);
        assert!(raw["status_description"].is_string());
        for attr in [
            "description",
            "status",
            "worktype",
            "wopriority",
            "exsafetyclass",
        ] {
            assert_eq!(raw[attr], stored[attr], "{key} {attr}");
        }
        // customFields: the attributes not mapped, the customer's own among them.
        let custom = r["customFields"].as_object().expect("customFields");
        assert_eq!(custom["exsafetyclass"], stored["exsafetyclass"], "{key}");
        assert_eq!(custom["worktype"], stored["worktype"]);
        assert_eq!(custom["wopriority"], stored["wopriority"]);
        assert_eq!(custom["orgid"], "EAGLENA");
        for mapped in [
            "description",
            "status",
            "siteid",
            "wonum",
            "changedate",
            "href",
            "_rowstamp",
            "status_description",
        ] {
            assert!(
                !custom.contains_key(mapped),
                "{key}: {mapped} is mapped or metadata"
            );
        }
    }
    // Without raw, none.
    let page = t.conn.list("work-order", opts(5)).await.expect("list");
    assert!(
        page.records
            .iter()
            .all(|r| !r.contains_key("raw") && r.contains_key("customFields"))
    );

    // get with raw; get without.
    let key = t.sim.keys("mxapiwo")[3].clone();
    let with = t
        .conn
        .get_with("work-order", &key, true)
        .await
        .expect("get raw");
    let stored = t.sim.record("mxapiwo", &key).expect("stored");
    let q = last_query(&t.sim);
    assert!(
        q.contains("oslc.select=*,description_longdescription"),
        "{q}"
    );
    let raw = with["raw"].as_object().expect("raw");
    assert_eq!(raw["wonum"], stored["wonum"]);
    assert_eq!(
        raw["description_longdescription"],
        stored["description_longdescription"]
    );
    assert_eq!(raw["changedate"], stored["changedate"]);
    let without = t
        .conn
        .get_with("work-order", &key, false)
        .await
        .expect("get");
    assert!(!without.contains_key("raw"));
    let mut stripped = with.clone();
    stripped.remove("raw");
    assert_eq!(stripped, without);
    let asset_key = t.sim.keys("mxapiasset")[0].clone();
    let asset = t
        .conn
        .get_with("asset", &asset_key, true)
        .await
        .expect("asset");
    let stored = t.sim.record("mxapiasset", &asset_key).expect("stored");
    assert_eq!(
        asset["customFields"]["excriticality"],
        stored["excriticality"]
    );
    assert_eq!(asset["raw"]["excriticality"], stored["excriticality"]);

    // A field selection is passed on as oslc.select: the key's attributes and what the fields
    // read, nothing else; the records carry the key and the fields asked for.
    t.sim.clear_requests();
    let page = t
        .conn
        .list(
            "purchase-order",
            ListOptions {
                page_size: Some(10),
                fields: vec!["title".into(), "totalNetValue".into()],
                ..ListOptions::default()
            },
        )
        .await
        .expect("selected");
    let q = last_query(&t.sim);
    assert!(
        q.contains("oslc.select=ponum,revisionnum,siteid,description,totalcost&"),
        "{q}"
    );
    for r in &page.records {
        let mut names: Vec<&str> = r.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["key", "title", "totalNetValue"], "{r:?}");
        let stored = t.sim.record("mxapipo", s(r, "key")).expect("stored");
        assert_eq!(r["title"], stored["description"]);
        assert_eq!(r["totalNetValue"].as_f64(), stored["totalcost"].as_f64());
    }
    // Asking for customFields fetches every attribute again.
    let page = t
        .conn
        .list(
            "asset",
            ListOptions {
                page_size: Some(10),
                fields: vec!["customFields".into()],
                ..ListOptions::default()
            },
        )
        .await
        .expect("custom only");
    assert!(last_query(&t.sim).contains("oslc.select=*,description_longdescription"));
    for r in &page.records {
        let stored = t.sim.record("mxapiasset", s(r, "key")).expect("stored");
        assert_eq!(r["customFields"]["excriticality"], stored["excriticality"]);
        assert_eq!(r["customFields"]["installdate"], stored["installdate"]);
        assert_eq!(r.len(), 2, "{r:?}");
    }
    // The declaration says what customFields holds.
    let info = t.conn.info().clone();
    let note = info
        .entity("work-order")
        .and_then(|e| e.field("customFields"))
        .and_then(|f| f.note.clone())
        .expect("customFields is declared with a note");
    assert!(note.contains("Database Configuration"), "{note}");
}

/// The records of `entity` whose `externalId` is one of `ids`, through the host: the lookup a
/// host makes to settle creates it cannot tell were written.
async fn by_external_id(conn: &Connection, entity: &str, ids: &[&str]) -> Vec<Map<String, Value>> {
    conn.list(
        entity,
        ListOptions {
            page_size: Some(1000),
            filters: vec![filter("externalId", FilterOp::In, ids)],
            fields: vec!["key".into(), "externalId".into()],
            ..ListOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{entity} externalId in {ids:?}: {e}"))
    .records
}

#[tokio::test]
async fn external_ids_are_written_in_bulk_found_again_and_refused_when_too_long() {
    let t = setup().await;
    let entity_info = t.conn.info().entity("purchase-order").expect("declared");
    let field = entity_info
        .field("externalId")
        .expect("externalId declared");
    assert_eq!(field.filter_ops, vec![FilterOp::Eq, FilterOp::In]);
    assert!(field.flags.creatable && field.flags.read_list && field.flags.read_detail);
    assert_eq!(field.native_name.as_deref(), Some("externalrefid"));

    // One BULK request; every record carries its reference to Maximo and back.
    let ids = ["PW00000001", "PW00000002", "PW00000003"];
    let before = t.sim.count("mxapipo");
    t.sim.clear_requests();
    let results = t
        .conn
        .create(
            "purchase-order",
            ids.iter()
                .enumerate()
                .map(|(i, id)| json!({"title": format!("Bulk order {i}"), "externalId": id}))
                .collect(),
        )
        .await
        .expect("batch");
    let keys: Vec<String> = results
        .iter()
        .zip(ids)
        .map(|(r, id)| {
            let r = r.as_ref().expect("created");
            assert_eq!(s(r, "externalId"), id);
            s(r, "key").to_owned()
        })
        .collect();
    let posts: Vec<_> = t
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header("x-method-override"), Some("BULK"));
    let sent: Value = serde_json::from_slice(&posts[0].body).expect("json");
    let sent_ids: Vec<&str> = sent
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["externalrefid"].as_str().expect("externalrefid sent"))
        .collect();
    assert_eq!(sent_ids, ids);
    assert_eq!(t.sim.count("mxapipo"), before + 3);
    assert_eq!(t.sim.created("mxapipo"), 3);
    for (key, id) in keys.iter().zip(ids) {
        assert_eq!(
            t.sim.keys_by_externalrefid("mxapipo", id),
            vec![key.clone()]
        );
    }
    assert!(t.sim.duplicate_externalrefids("mxapipo").is_empty());

    // `externalId in (...)` finds exactly those, pushed down into oslc.where.
    let found = by_external_id(&t.conn, "purchase-order", &[ids[0], ids[2], "PW99999999"]).await;
    let mut got: Vec<(String, String)> = found
        .iter()
        .map(|r| (s(r, "key").to_owned(), s(r, "externalId").to_owned()))
        .collect();
    got.sort();
    let mut want = vec![
        (keys[0].clone(), ids[0].to_owned()),
        (keys[2].clone(), ids[2].to_owned()),
    ];
    want.sort();
    assert_eq!(got, want);
    let q = last_query(&t.sim);
    assert!(
        q.contains(r#"oslc.where=externalrefid in ["PW00000001","PW00000003","PW99999999"]"#),
        "{q}"
    );
    let one = t.conn.get("purchase-order", &keys[1]).await.expect("get");
    assert_eq!(s(&one, "externalId"), ids[1]);

    // The same on another entity, single create and `=`.
    let wo = t
        .conn
        .create(
            "work-order",
            vec![json!({"title": "Keyed", "externalId": "WO-KEY-1"})],
        )
        .await
        .expect("create")
        .remove(0)
        .expect("created");
    let found = by_external_id(&t.conn, "work-order", &["WO-KEY-1"]).await;
    assert_eq!(found.len(), 1);
    assert_eq!(s(&found[0], "key"), s(&wo, "key"));

    // A key longer than EXTERNALREFID holds (a 64-hex digest) is refused, nothing is sent.
    let digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    t.sim.clear_requests();
    let refused = t
        .conn
        .create(
            "purchase-order",
            vec![json!({"title": "Too long", "externalId": digest})],
        )
        .await
        .expect("batch")
        .remove(0);
    match refused {
        Err(AdapterError::Invalid(errors)) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "externalId");
            assert!(
                errors[0].message.contains("ALN(10)"),
                "{}",
                errors[0].message
            );
        }
        other => panic!("{other:?}"),
    }
    let err = t
        .conn
        .list(
            "purchase-order",
            ListOptions {
                filters: vec![filter("externalId", FilterOp::In, &[ids[0], digest])],
                ..ListOptions::default()
            },
        )
        .await
        .expect_err("a key that cannot have been written is refused");
    assert!(
        matches!(&err, CallError::Adapter(AdapterError::Invalid(e)) if e[0].field == "externalId"),
        "{err:?}"
    );
    assert!(t.sim.requests().is_empty(), "nothing was sent");
    assert_eq!(t.sim.created("mxapipo"), 3);
}
