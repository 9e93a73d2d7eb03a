//! The MaintainX adapter against the MaintainX simulator: every declared operation, paging
//! across many pages, every declared filter operator checked against the simulator's own
//! records, raw payloads, field selections and custom fields, refusals made by the host before
//! the adapter runs, and the vendor's errors mapped to typed errors.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use plantwire::sdk::{AdapterError, Filter, FilterOp};
use plantwire::{CallError, Connection, ListOptions, Runtime};
use plantwire_integration_tests::{
    connect, egress, list_everything, load, refuse_every_unsupported, test_config,
};
use plantwire_simulators::maintainx::{Config, MaintainxSim};
use serde_json::{Value, json};

struct Setup {
    sim: MaintainxSim,
    conn: Connection,
}

async fn setup_with(config: Config) -> Setup {
    let sim = MaintainxSim::start(config).await.expect("simulator");
    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "adapter", "maintainx").await;
    let conn = connect(
        &component,
        "mx-test",
        Arc::new(egress(&sim.base_url(), sim.token())),
    );
    Setup { sim, conn }
}

async fn setup() -> Setup {
    setup_with(Config::default()).await
}

fn s<'a>(r: &'a serde_json::Map<String, Value>, f: &str) -> &'a str {
    r.get(f)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("record has no string `{f}`: {r:?}"))
}

#[tokio::test]
async fn lists_every_work_order_across_pages_without_gaps_or_duplicates() {
    let t = setup().await;
    let total = t.sim.count("workorders");
    let (keys, pages) = list_everything(&t.conn, "work-order", 200, 1000, |_, page| {
        for r in &page.records {
            assert!(r.contains_key("title") && r.contains_key("status"));
        }
    })
    .await;
    assert_eq!(keys.len(), total);
    assert_eq!(pages, total.div_ceil(200));
}

#[tokio::test]
async fn page_sizes_are_clamped_to_the_declared_maximum() {
    let t = setup().await;
    let page = t
        .conn
        .list(
            "work-order",
            ListOptions {
                page_size: Some(10_000),
                ..ListOptions::default()
            },
        )
        .await
        .expect("clamped, not refused upstream");
    assert_eq!(page.records.len(), 200);
    let last = t.sim.requests().pop().expect("a request");
    assert!(last.query.unwrap_or_default().contains("limit=200"));
}

#[tokio::test]
async fn filters_and_sorting_are_pushed_down() {
    let t = setup().await;
    let page = t
        .conn
        .list(
            "work-order",
            ListOptions {
                filters: vec![Filter::eq("status", "completed")],
                sort: Some("-updatedAt".into()),
                page_size: Some(50),
                ..ListOptions::default()
            },
        )
        .await
        .expect("filtered list");
    assert!(!page.records.is_empty());
    assert!(page.records.iter().all(|r| s(r, "status") == "completed"));
    let stamps: Vec<&str> = page.records.iter().map(|r| s(r, "updatedAt")).collect();
    let mut sorted = stamps.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted, "sorted by updatedAt descending");
    let q = t
        .sim
        .requests()
        .pop()
        .and_then(|r| r.query)
        .unwrap_or_default();
    assert!(q.contains("statuses=DONE"), "{q}");
}

#[tokio::test]
async fn filters_the_adapter_cannot_push_down_are_refused_by_the_host() {
    let t = setup().await;
    let err = t
        .conn
        .list(
            "work-order",
            ListOptions {
                filters: vec![Filter::eq("description", "x")],
                ..ListOptions::default()
            },
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(err, CallError::Refused(AdapterError::Invalid(_))),
        "{err}"
    );
    let err = t
        .conn
        .list(
            "work-order",
            ListOptions {
                sort: Some("title".into()),
                ..ListOptions::default()
            },
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(err, CallError::Refused(AdapterError::Invalid(_))),
        "{err}"
    );
    assert!(t.sim.requests().is_empty(), "nothing was sent upstream");
}

#[tokio::test]
async fn every_served_entity_lists_and_gets() {
    let t = setup().await;
    let info = t.conn.info().clone();
    for entity in &info.entities {
        if !entity.list.is_supported() {
            continue;
        }
        let page = t
            .conn
            .list(
                &entity.name,
                ListOptions {
                    page_size: Some(5),
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("list {}: {e}", entity.name));
        assert_eq!(page.records.len(), 5, "{}", entity.name);
        // Only declared, list-readable fields come back.
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
        if entity.get.is_supported() {
            let key = s(&page.records[0], "key").to_owned();
            let record = t
                .conn
                .get(&entity.name, &key)
                .await
                .unwrap_or_else(|e| panic!("get {}: {e}", entity.name));
            assert_eq!(s(&record, "key"), key);
        }
    }
}

#[tokio::test]
async fn work_orders_are_created_updated_status_changed_and_deleted() {
    let t = setup().await;
    let before = t.sim.count("workorders");
    let results = t
        .conn
        .create(
            "work-order",
            vec![
                json!({"title": "Inspect compressor K-3", "severity": "medium"}),
                json!({"description": "no title"}),
                json!({"title": "Lubricate gearbox G-7", "colour": "red"}),
                json!({"title": "Replace filter on AHU-2"}),
            ],
        )
        .await
        .expect("batch");
    assert_eq!(results.len(), 4);
    let first = results[0].as_ref().expect("created");
    assert_eq!(s(first, "title"), "Inspect compressor K-3");
    assert_eq!(s(first, "severity"), "medium");
    assert!(matches!(&results[1], Err(AdapterError::Invalid(e)) if e[0].field == "title"));
    assert!(matches!(&results[2], Err(AdapterError::Invalid(e)) if e[0].field == "colour"));
    assert!(results[3].is_ok());
    assert_eq!(
        t.sim.count("workorders"),
        before + 2,
        "only the valid records were written"
    );

    let key = s(first, "key").to_owned();
    let updated = t
        .conn
        .update(
            "work-order",
            &key,
            json!({"description": "Check discharge temperature"}),
            None,
        )
        .await
        .expect("update");
    assert_eq!(s(&updated, "description"), "Check discharge temperature");

    // Status is not updatable: the host refuses with the adapter's note, nothing is sent.
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

    let changed = t
        .conn
        .action(
            "work-order",
            &key,
            "change-status",
            json!({"status": "completed"}),
        )
        .await
        .expect("status change");
    assert_eq!(s(&changed, "status"), "completed");
    assert_eq!(s(&changed, "nativeStatus"), "DONE");
    let stored = t
        .sim
        .record("workorders", key.parse().expect("int id"))
        .expect("stored");
    assert_eq!(stored["status"], "DONE");

    t.conn.delete("work-order", &key).await.expect("delete");
    let err = t.conn.get("work-order", &key).await.expect_err("gone");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::NotFound(_))),
        "{err}"
    );
}

#[tokio::test]
async fn purchase_orders_are_created_with_line_items_and_approved() {
    let t = setup().await;
    let vendors = t
        .conn
        .list(
            "vendor",
            ListOptions {
                page_size: Some(1),
                ..ListOptions::default()
            },
        )
        .await
        .expect("vendors");
    let vendor = s(&vendors.records[0], "key").to_owned();
    let parts = t
        .conn
        .list(
            "material",
            ListOptions {
                page_size: Some(1),
                ..ListOptions::default()
            },
        )
        .await
        .expect("parts");
    let part = s(&parts.records[0], "key").to_owned();
    let results = t
        .conn
        .create(
            "purchase-order",
            vec![json!({
                "vendorKey": vendor,
                "lineItems": [{"materialKey": part, "quantity": 4.0, "price": 12.5}]
            })],
        )
        .await
        .expect("create");
    let po = results[0].as_ref().expect("created");
    assert_eq!(s(po, "vendorKey"), vendor);
    let items = po["lineItems"].as_array().expect("line items");
    assert_eq!(items.len(), 1);
    let key = s(po, "key").to_owned();
    assert_eq!(s(po, "status"), "draft", "a new MaintainX PO is REQUESTED");
    // MaintainX enforces its approval flow: requested -> pending -> approved.
    let pending = t
        .conn
        .action(
            "purchase-order",
            &key,
            "change-status",
            json!({"status": "pending"}),
        )
        .await
        .expect("submit");
    assert_eq!(s(&pending, "status"), "pending");
    let err = t
        .conn
        .action(
            "purchase-order",
            &key,
            "change-status",
            json!({"status": "received"}),
        )
        .await
        .expect_err("not allowed from pending");
    assert!(
        matches!(
            err,
            CallError::Adapter(AdapterError::Forbidden(_) | AdapterError::Conflict(_))
        ),
        "{err}"
    );
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
}

#[tokio::test]
async fn unsupported_operations_are_refused_before_the_adapter_runs() {
    let t = setup().await;
    let tried = refuse_every_unsupported(&t.conn, "1").await;
    assert!(
        tried >= 10,
        "the adapter declares several unsupported operations ({tried})"
    );
    assert!(
        t.sim.requests().is_empty(),
        "no request reached the simulator"
    );
}

#[tokio::test]
async fn vendor_errors_become_typed_errors() {
    let t = setup_with(Config {
        rate_limit: Some(3),
        ..Config::default()
    })
    .await;
    let err = t
        .conn
        .get("work-order", "999999999")
        .await
        .expect_err("missing");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::NotFound(_))),
        "{err}"
    );

    for _ in 0..3 {
        let _ = t.conn.get("work-order", "1").await;
    }
    let err = t
        .conn
        .get("work-order", "1")
        .await
        .expect_err("rate limited");
    match err {
        CallError::Adapter(AdapterError::RateLimited(Some(ms))) => assert!(ms > 0 && ms <= 60_000),
        other => panic!("unexpected: {other}"),
    }

    let t = setup().await;
    t.sim.faults().revoke_token();
    let err = t
        .conn
        .list("work-order", ListOptions::default())
        .await
        .expect_err("revoked");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Unauthorized(_))),
        "{err}"
    );
    t.sim.faults().restore_token();

    // One transient failure of a read is cured by the host's retry: the caller sees data.
    for fault in ["503", "truncated", "dropped"] {
        t.sim.clear_requests();
        match fault {
            "503" => t.sim.faults().fail_next(1, 503),
            "truncated" => t.sim.faults().truncate_next(1),
            _ => t.sim.faults().drop_next(1),
        }
        let page = t
            .conn
            .list("work-order", ListOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{fault}: a retry should cure one failure: {e}"));
        assert!(!page.records.is_empty());
        assert_eq!(t.sim.requests().len(), 2, "{fault}: one retry");
    }

    // Failures that outlast the retries reach the caller as typed, transient errors, after
    // a bounded number of attempts (1 + 3 retries).
    t.sim.clear_requests();
    t.sim.faults().fail_next(10, 503);
    let err = t
        .conn
        .list("work-order", ListOptions::default())
        .await
        .expect_err("5xx");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Transient(_))),
        "{err}"
    );
    assert_eq!(t.sim.requests().len(), 4);
    t.sim.faults().clear();

    t.sim.faults().drop_next(10);
    let err = t
        .conn
        .list("work-order", ListOptions::default())
        .await
        .expect_err("dropped");
    assert!(
        matches!(err, CallError::Adapter(AdapterError::Transient(_))),
        "{err}"
    );
    t.sim.faults().clear();

    // And the connection recovers.
    t.conn
        .list("work-order", ListOptions::default())
        .await
        .expect("recovered");
}

#[tokio::test]
async fn slow_upstreams_hit_the_call_deadline_including_host_imports() {
    let sim = MaintainxSim::start(Config::default())
        .await
        .expect("simulator");
    sim.faults().set_latency(Duration::from_secs(3));
    let rt = Runtime::new(plantwire::RuntimeConfig {
        call_timeout: Duration::from_millis(400),
        ..test_config()
    })
    .expect("runtime");
    let component = load(&rt, "adapter", "maintainx").await;
    let conn = connect(
        &component,
        "slow",
        Arc::new(egress(&sim.base_url(), sim.token())),
    );
    let started = std::time::Instant::now();
    let err = conn
        .list("work-order", ListOptions::default())
        .await
        .expect_err("deadline");
    assert!(
        matches!(
            err,
            CallError::Sandbox(plantwire::SandboxError::Deadline(_))
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// A value of the declared type for a generated test record.
fn sample(ty: &plantwire::sdk::FieldType, field: &str, n: u32) -> Option<Value> {
    use plantwire::sdk::FieldType as T;
    match ty {
        // Names written as "first last" for users; any text elsewhere.
        T::String | T::Text => Some(json!(format!("Plantwire Test {field} {n}"))),
        T::Integer => Some(json!(n)),
        T::Decimal => Some(json!(f64::from(n) + 0.5)),
        T::Boolean => Some(json!(true)),
        _ => None,
    }
}

#[tokio::test]
async fn every_writable_entity_is_created_updated_and_deleted() {
    // Data-driven from the declaration: every entity that can be created from plain values is
    // created with its required fields, updated on one updatable text field, read back, and
    // deleted. Entities whose required fields are references are covered above.
    let t = setup().await;
    let info = t.conn.info().clone();
    let mut covered = Vec::new();
    for entity in &info.entities {
        if !entity.create.is_supported() {
            continue;
        }
        let mut record = serde_json::Map::new();
        let mut plain = true;
        for f in entity.fields.iter().filter(|f| f.flags.required_on_create) {
            match sample(&f.ty, &f.name, 1) {
                Some(v) => {
                    record.insert(f.name.clone(), v);
                }
                None => plain = false,
            }
        }
        if !plain {
            continue;
        }
        let native = entity.native_name.clone();
        let before = t.sim.count(&native);
        let results = t
            .conn
            .create(&entity.name, vec![Value::Object(record)])
            .await
            .expect("create");
        let created = results[0]
            .as_ref()
            .unwrap_or_else(|e| panic!("create {}: {e}", entity.name));
        assert_eq!(t.sim.count(&native), before + 1, "{}", entity.name);
        let key = s(created, "key").to_owned();

        if entity.update.is_supported()
            && let Some(field) = entity.fields.iter().find(|f| {
                f.flags.updatable
                    && f.flags.read_detail
                    && matches!(
                        f.ty,
                        plantwire::sdk::FieldType::String | plantwire::sdk::FieldType::Text
                    )
            })
        {
            let value = sample(&field.ty, &field.name, 2).expect("text value");
            t.conn
                .update(
                    &entity.name,
                    &key,
                    json!({ field.name.clone(): value.clone() }),
                    None,
                )
                .await
                .unwrap_or_else(|e| panic!("update {}.{}: {e}", entity.name, field.name));
            let back = t.conn.get(&entity.name, &key).await.expect("get");
            assert_eq!(
                back.get(&field.name),
                Some(&value),
                "{}.{}",
                entity.name,
                field.name
            );
        }

        if entity.delete.is_supported() {
            t.conn.delete(&entity.name, &key).await.expect("delete");
            let err = t.conn.get(&entity.name, &key).await.expect_err("deleted");
            assert!(
                matches!(err, CallError::Adapter(AdapterError::NotFound(_))),
                "{}: {err}",
                entity.name
            );
            assert_eq!(t.sim.count(&native), before, "{}", entity.name);
        }
        covered.push(entity.name.clone());
    }
    for expected in [
        "work-order",
        "asset",
        "material",
        "location",
        "vendor",
        "user",
    ] {
        assert!(
            covered.iter().any(|c| c == expected),
            "{expected} was not exercised: {covered:?}"
        );
    }
}

// ------------------------------------------------------------------ filters, raw, selection

/// A smaller organization for the filter tests: several pages per query, quick to scan.
fn filter_config() -> Config {
    Config {
        work_orders: 600,
        assets: 120,
        parts: 80,
        purchase_orders: 60,
        locations: 30,
        vendors: 10,
        users: 20,
        ..Config::default()
    }
}

fn cond(field: &str, op: FilterOp, values: &[&str]) -> Filter {
    Filter {
        field: field.to_owned(),
        op,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

/// The stored records of a simulator resource, in id order.
fn stored(sim: &MaintainxSim, resource: &str) -> Vec<Value> {
    sim.ids(resource)
        .into_iter()
        .filter_map(|id| sim.record(resource, id))
        .collect()
}

/// The ids of the stored records `keep` accepts: the expected answer, computed without the
/// adapter.
fn expected_ids(records: &[Value], keep: &dyn Fn(&Value) -> bool) -> Vec<u64> {
    let mut ids: Vec<u64> = records
        .iter()
        .filter(|r| keep(r))
        .filter_map(|r| r["id"].as_u64())
        .collect();
    ids.sort_unstable();
    ids
}

/// Every key the host lists for `entity` under `filters`, following every page.
async fn listed_keys(conn: &Connection, entity: &str, filters: &[Filter]) -> Vec<u64> {
    let mut keys = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let page = conn
            .list(
                entity,
                ListOptions {
                    cursor: cursor.take(),
                    page_size: Some(200),
                    filters: filters.to_vec(),
                    fields: vec!["key".into()],
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("list {entity} {filters:?}: {e}"));
        keys.extend(
            page.records
                .iter()
                .map(|r| s(r, "key").parse::<u64>().expect("integer key")),
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => {
                keys.sort_unstable();
                return keys;
            }
        }
    }
    panic!("paging {entity} does not end");
}

fn text<'a>(r: &'a Value, field: &str) -> &'a str {
    r[field].as_str().unwrap_or("")
}

fn ids_in(r: &Value, field: &str) -> Vec<u64> {
    r[field]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// Two distinct values of `pick` among `records`.
fn two<T: PartialEq + Clone>(records: &[Value], pick: impl Fn(&Value) -> Option<T>) -> (T, T) {
    let mut found: Vec<T> = Vec::new();
    for r in records {
        if let Some(v) = pick(r)
            && !found.contains(&v)
        {
            found.push(v);
            if found.len() == 2 {
                return (found[0].clone(), found[1].clone());
            }
        }
    }
    panic!("fewer than two distinct values");
}

type Keep = Box<dyn Fn(&Value) -> bool>;

/// One filter case: entity, simulator resource, conditions, the query parameter that must
/// reach the simulator, and the stored records that must come back.
struct Case {
    entity: &'static str,
    resource: &'static str,
    filters: Vec<Filter>,
    param: String,
    keep: Keep,
}

fn case(
    entity: &'static str,
    resource: &'static str,
    filters: Vec<Filter>,
    param: &str,
    keep: impl Fn(&Value) -> bool + 'static,
) -> Case {
    Case {
        entity,
        resource,
        filters,
        param: param.to_owned(),
        keep: Box::new(keep),
    }
}

/// The time cases of one field: every range operator against the time of a record in the
/// middle (stored times share one fixed-width UTC form, so they compare as text).
fn time_cases(
    entity: &'static str,
    resource: &'static str,
    records: &[Value],
    field: &'static str,
) -> Vec<Case> {
    let t = text(&records[records.len() / 2], field).to_owned();
    let gte = format!("{field}%5Bgte%5D");
    let lte = format!("{field}%5Blte%5D");
    let at = |op: FilterOp| vec![cond(field, op, &[&t])];
    let mut cases = Vec::new();
    for (op, param) in [
        (FilterOp::Eq, &gte),
        (FilterOp::Lt, &lte),
        (FilterOp::Le, &lte),
        (FilterOp::Gt, &gte),
        (FilterOp::Ge, &gte),
    ] {
        let t = t.clone();
        cases.push(case(entity, resource, at(op), param, move |r| {
            let v = text(r, field);
            match op {
                FilterOp::Eq => v == t,
                FilterOp::Lt => v < t.as_str(),
                FilterOp::Le => v <= t.as_str(),
                FilterOp::Gt => v > t.as_str(),
                _ => v >= t.as_str(),
            }
        }));
    }
    // The same instant written with a +02:00 offset (when the hour allows it without
    // changing the date).
    let hour: u32 = t[11..13].parse().expect("hour");
    if hour <= 21 {
        let shifted = format!("{}{:02}{}+02:00", &t[..11], hour + 2, &t[13..23]);
        let t = t.clone();
        cases.push(case(
            entity,
            resource,
            vec![cond(field, FilterOp::Ge, &[&shifted])],
            &gte,
            move |r| text(r, field) >= t.as_str(),
        ));
    }
    cases
}

#[tokio::test]
async fn every_declared_operator_is_pushed_down_and_matches_the_simulators_records() {
    let t = setup_with(filter_config()).await;
    let wos = stored(&t.sim, "workorders");
    let assets = stored(&t.sim, "assets");
    let parts = stored(&t.sim, "parts");
    let pos = stored(&t.sim, "purchaseorders");
    let locations = stored(&t.sim, "locations");
    let users = stored(&t.sim, "users");

    let title = text(&wos[17], "title").to_owned();
    let (a1, a2) = two(&wos, |r| r["assetId"].as_u64());
    let (l1, l2) = two(&wos, |r| r["locationId"].as_u64());
    let (t1, t2) = two(&wos, |r| ids_in(r, "teamIds").first().copied());
    let (u1, u2) = two(&wos, |r| ids_in(r, "assigneeIds").first().copied());
    let (make1, make2) = two(&assets, |r| r["manufacturer"].as_str().map(str::to_owned));
    let (model1, model2) = two(&assets, |r| r["model"].as_str().map(str::to_owned));
    let asset_location = assets
        .iter()
        .find_map(|r| r["locationId"].as_u64())
        .expect("an asset with a location");
    let part_number = |r: &Value| -> Vec<String> {
        r["vendors"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|x| x["partNumber"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (pn1, pn2) = two(&parts, |r| part_number(r).first().cloned());
    let location_name = text(&locations[5], "name").to_owned();
    let (e1, e2) = two(&users, |r| r["email"].as_str().map(str::to_owned));

    let (a1s, a2s, l1s, l2s) = (
        a1.to_string(),
        a2.to_string(),
        l1.to_string(),
        l2.to_string(),
    );
    let (t1s, t2s, u1s, u2s) = (
        t1.to_string(),
        t2.to_string(),
        u1.to_string(),
        u2.to_string(),
    );
    let status = |r: &Value| text(r, "status").to_owned();
    let priority = |r: &Value| text(r, "priority").to_owned();
    let wo =
        |filters, param: &str, keep: Keep| case("work-order", "workorders", filters, param, keep);
    let mut cases = vec![
        {
            let title = title.clone();
            wo(
                vec![Filter::eq("title", &title)],
                "title=",
                Box::new(move |r| text(r, "title") == title),
            )
        },
        wo(
            vec![Filter::eq("status", "completed")],
            "statuses=DONE",
            Box::new(move |r| status(r) == "DONE"),
        ),
        wo(
            vec![cond("status", FilterOp::Ne, &["completed"])],
            "statuses=OPEN",
            Box::new(move |r| status(r) != "DONE"),
        ),
        wo(
            vec![cond("status", FilterOp::In, &["open", "on-hold"])],
            "statuses=ON_HOLD",
            Box::new(move |r| matches!(status(r).as_str(), "OPEN" | "ON_HOLD")),
        ),
        wo(
            vec![Filter::eq("severity", "high")],
            "priorities=HIGH",
            Box::new(move |r| priority(r) == "HIGH"),
        ),
        wo(
            vec![cond("severity", FilterOp::Ne, &["none"])],
            "priorities=LOW",
            Box::new(move |r| priority(r) != "NONE"),
        ),
        wo(
            vec![cond("severity", FilterOp::In, &["low", "medium"])],
            "priorities=MEDIUM",
            Box::new(move |r| matches!(priority(r).as_str(), "LOW" | "MEDIUM")),
        ),
        wo(
            vec![Filter::eq("assetKey", &a1s)],
            "assets=",
            Box::new(move |r| r["assetId"].as_u64() == Some(a1)),
        ),
        wo(
            vec![cond("assetKey", FilterOp::In, &[&a1s, &a2s])],
            "assets=",
            Box::new(move |r| matches!(r["assetId"].as_u64(), Some(a) if a == a1 || a == a2)),
        ),
        // MaintainX's notAssets keeps work orders without an asset.
        wo(
            vec![cond("assetKey", FilterOp::Ne, &[&a1s])],
            "notAssets=",
            Box::new(move |r| r["assetId"].as_u64() != Some(a1)),
        ),
        wo(
            vec![Filter::eq("locationKey", &l1s)],
            "locations=",
            Box::new(move |r| r["locationId"].as_u64() == Some(l1)),
        ),
        wo(
            vec![cond("locationKey", FilterOp::In, &[&l1s, &l2s])],
            "locations=",
            Box::new(move |r| matches!(r["locationId"].as_u64(), Some(l) if l == l1 || l == l2)),
        ),
        wo(
            vec![
                cond("locationKey", FilterOp::Ne, &[&l1s]),
                cond("locationKey", FilterOp::Ne, &[&l2s]),
            ],
            "notLocations=",
            Box::new(move |r| {
                let l = r["locationId"].as_u64();
                l != Some(l1) && l != Some(l2)
            }),
        ),
        wo(
            vec![Filter::eq("teamKey", &t1s)],
            "teams=",
            Box::new(move |r| ids_in(r, "teamIds").contains(&t1)),
        ),
        wo(
            vec![cond("teamKey", FilterOp::In, &[&t1s, &t2s])],
            "teams=",
            Box::new(move |r| {
                let teams = ids_in(r, "teamIds");
                teams.contains(&t1) || teams.contains(&t2)
            }),
        ),
        wo(
            vec![Filter::eq("assigneeKeys", &u1s)],
            "assignees=",
            Box::new(move |r| ids_in(r, "assigneeIds").contains(&u1)),
        ),
        wo(
            vec![cond("assigneeKeys", FilterOp::In, &[&u1s, &u2s])],
            "assignees=",
            Box::new(move |r| {
                let users = ids_in(r, "assigneeIds");
                users.contains(&u1) || users.contains(&u2)
            }),
        ),
        // Conditions on several fields all hold.
        wo(
            vec![
                cond("status", FilterOp::In, &["open", "in-progress"]),
                cond("severity", FilterOp::Ne, &["low"]),
                cond("updatedAt", FilterOp::Ge, &[text(&wos[100], "updatedAt")]),
            ],
            "updatedAt%5Bgte%5D=",
            {
                let since = text(&wos[100], "updatedAt").to_owned();
                Box::new(move |r| {
                    matches!(text(r, "status"), "OPEN" | "IN_PROGRESS")
                        && text(r, "priority") != "LOW"
                        && text(r, "updatedAt") >= since.as_str()
                })
            },
        ),
        case(
            "asset",
            "assets",
            vec![Filter::eq("locationKey", &asset_location.to_string())],
            "locationId=",
            move |r| r["locationId"].as_u64() == Some(asset_location),
        ),
        {
            let m = make1.clone();
            case(
                "asset",
                "assets",
                vec![Filter::eq("makeName", &make1)],
                "manufacturer=",
                move |r| text(r, "manufacturer") == m,
            )
        },
        {
            let (m1, m2) = (make1.clone(), make2.clone());
            case(
                "asset",
                "assets",
                vec![cond("makeName", FilterOp::In, &[&make1, &make2])],
                "manufacturer=",
                move |r| text(r, "manufacturer") == m1 || text(r, "manufacturer") == m2,
            )
        },
        {
            let m = model1.clone();
            case(
                "asset",
                "assets",
                vec![Filter::eq("modelName", &model1)],
                "model=",
                move |r| text(r, "model") == m,
            )
        },
        {
            let (m1, m2) = (model1.clone(), model2.clone());
            case(
                "asset",
                "assets",
                vec![cond("modelName", FilterOp::In, &[&model1, &model2])],
                "model=",
                move |r| text(r, "model") == m1 || text(r, "model") == m2,
            )
        },
        {
            let p = pn1.clone();
            case(
                "material",
                "parts",
                vec![Filter::eq("partNumber", &pn1)],
                "partNumber=",
                move |r| part_number(r).contains(&p),
            )
        },
        {
            let (p1, p2) = (pn1.clone(), pn2.clone());
            case(
                "material",
                "parts",
                vec![cond("partNumber", FilterOp::In, &[&pn1, &pn2])],
                "partNumber=",
                move |r| {
                    let numbers = part_number(r);
                    numbers.contains(&p1) || numbers.contains(&p2)
                },
            )
        },
        {
            let n = location_name.clone();
            case(
                "location",
                "locations",
                vec![Filter::eq("name", &location_name)],
                "name=",
                move |r| text(r, "name") == n,
            )
        },
        {
            let e = e1.clone();
            case(
                "user",
                "users",
                vec![Filter::eq("email", &e1)],
                "email=",
                move |r| text(r, "email") == e,
            )
        },
        {
            let (x, y) = (e1.clone(), e2.clone());
            case(
                "user",
                "users",
                vec![cond("email", FilterOp::In, &[&e1, &e2])],
                "email=",
                move |r| text(r, "email") == x || text(r, "email") == y,
            )
        },
    ];
    for (entity, resource, records) in [
        ("work-order", "workorders", &wos),
        ("asset", "assets", &assets),
        ("material", "parts", &parts),
        ("purchase-order", "purchaseorders", &pos),
    ] {
        for field in ["createdAt", "updatedAt"] {
            cases.extend(time_cases(entity, resource, records, field));
        }
    }

    let mut covered: HashSet<(String, String, FilterOp)> = HashSet::new();
    for c in &cases {
        let records = stored(&t.sim, c.resource);
        let want = expected_ids(&records, &c.keep);
        assert!(
            !want.is_empty(),
            "{} {:?}: pick values that match something",
            c.entity,
            c.filters
        );
        t.sim.clear_requests();
        let got = listed_keys(&t.conn, c.entity, &c.filters).await;
        assert_eq!(got, want, "{} {:?}", c.entity, c.filters);
        let query = t.sim.requests()[0].query.clone().unwrap_or_default();
        assert!(
            query.contains(&c.param),
            "{} {:?} reached MaintainX as `{query}`",
            c.entity,
            c.filters
        );
        for f in &c.filters {
            covered.insert((c.entity.to_owned(), f.field.clone(), f.op));
        }
    }
    // Every operator every field declares was exercised.
    for entity in &t.conn.info().entities {
        for field in &entity.fields {
            for op in &field.filter_ops {
                assert!(
                    covered.contains(&(entity.name.clone(), field.name.clone(), *op)),
                    "{}.{} {op} is declared but not tested",
                    entity.name,
                    field.name
                );
            }
        }
    }
}

#[tokio::test]
async fn updated_at_ranges_serve_incremental_sync() {
    let t = setup_with(filter_config()).await;
    let total = t.sim.count("workorders");
    let watermark = stored(&t.sim, "workorders")
        .iter()
        .map(|r| text(r, "updatedAt").to_owned())
        .max()
        .expect("work orders");
    let since = |op: FilterOp, at: &str| vec![cond("updatedAt", op, &[at])];
    assert!(
        listed_keys(&t.conn, "work-order", &since(FilterOp::Gt, &watermark))
            .await
            .is_empty()
    );
    assert_eq!(
        listed_keys(&t.conn, "work-order", &since(FilterOp::Ge, &watermark))
            .await
            .len(),
        expected_ids(&stored(&t.sim, "workorders"), &|r| text(r, "updatedAt")
            == watermark)
        .len()
    );

    let key = t.sim.ids("workorders")[42];
    t.conn
        .update(
            "work-order",
            &key.to_string(),
            json!({"description": "Re-torque the coupling bolts"}),
            None,
        )
        .await
        .expect("update");
    let changed_at = t
        .sim
        .record("workorders", key)
        .and_then(|r| r["updatedAt"].as_str().map(str::to_owned))
        .expect("updatedAt");
    assert!(changed_at > watermark);

    assert_eq!(
        listed_keys(&t.conn, "work-order", &since(FilterOp::Gt, &watermark)).await,
        vec![key],
        "only what changed after the watermark"
    );
    // Strict and inclusive bounds at the record's own millisecond.
    assert!(
        listed_keys(&t.conn, "work-order", &since(FilterOp::Gt, &changed_at))
            .await
            .is_empty()
    );
    assert_eq!(
        listed_keys(&t.conn, "work-order", &since(FilterOp::Ge, &changed_at)).await,
        vec![key]
    );
    assert_eq!(
        listed_keys(&t.conn, "work-order", &since(FilterOp::Lt, &changed_at))
            .await
            .len(),
        total - 1
    );
    assert_eq!(
        listed_keys(&t.conn, "work-order", &since(FilterOp::Le, &changed_at))
            .await
            .len(),
        total
    );
    // A window: after the watermark, up to the change.
    assert_eq!(
        listed_keys(
            &t.conn,
            "work-order",
            &[
                cond("updatedAt", FilterOp::Gt, &[&watermark]),
                cond("updatedAt", FilterOp::Le, &[&changed_at]),
            ]
        )
        .await,
        vec![key]
    );
}

#[tokio::test]
async fn filters_maintainx_cannot_apply_are_refused_and_nothing_is_sent() {
    let t = setup_with(filter_config()).await;
    // Operators the fields do not declare: refused by the host with the adapter's note.
    for (entity, filter) in [
        ("work-order", cond("title", FilterOp::Contains, &["pump"])),
        ("work-order", cond("status", FilterOp::Gt, &["open"])),
        ("work-order", cond("teamKey", FilterOp::Ne, &["1"])),
        (
            "work-order",
            cond("dueAt", FilterOp::Ge, &["2024-01-01T00:00:00Z"]),
        ),
        (
            "location",
            cond("updatedAt", FilterOp::Ge, &["2024-01-01T00:00:00Z"]),
        ),
        ("vendor", Filter::eq("name", "Acme")),
        ("asset", cond("locationKey", FilterOp::In, &["1", "2"])),
    ] {
        let err = t
            .conn
            .list(
                entity,
                ListOptions {
                    filters: vec![filter.clone()],
                    ..ListOptions::default()
                },
            )
            .await
            .expect_err("refused");
        assert!(
            matches!(err, CallError::Refused(AdapterError::Invalid(_))),
            "{entity} {filter}: {err}"
        );
    }
    // Declared operators MaintainX still cannot combine: refused by the adapter.
    for filters in [
        vec![
            Filter::eq("assigneeKeys", "1"),
            Filter::eq("assigneeKeys", "2"),
        ],
        vec![Filter::eq("title", "a"), Filter::eq("title", "b")],
    ] {
        let err = t
            .conn
            .list(
                "work-order",
                ListOptions {
                    filters,
                    ..ListOptions::default()
                },
            )
            .await
            .expect_err("refused");
        match &err {
            CallError::Adapter(AdapterError::Invalid(e)) => {
                assert!(e[0].message.contains("one condition"), "{err}")
            }
            other => panic!("unexpected: {other}"),
        }
    }
    // Contradicting conditions: an empty page, without a request.
    let page = t
        .conn
        .list(
            "work-order",
            ListOptions {
                filters: vec![
                    Filter::eq("status", "open"),
                    cond("status", FilterOp::In, &["completed", "cancelled"]),
                ],
                ..ListOptions::default()
            },
        )
        .await
        .expect("empty page");
    assert!(page.records.is_empty() && page.next_cursor.is_none());
    assert!(t.sim.requests().is_empty(), "nothing was sent upstream");
}

#[tokio::test]
async fn include_raw_returns_maintainx_records_on_list_and_get() {
    let t = setup_with(filter_config()).await;
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
        .expect("list");
    assert_eq!(page.records.len(), 20);
    for r in &page.records {
        let raw = r["raw"].as_object().expect("raw object");
        let key: u64 = s(r, "key").parse().expect("id");
        let stored = t.sim.record("workorders", key).expect("stored");
        // The list item as MaintainX sent it: native names and values, expansions included.
        assert_eq!(raw["id"], json!(key));
        assert_eq!(raw["title"], stored["title"]);
        assert_eq!(raw["status"], stored["status"]);
        assert_eq!(raw["status"].as_str(), Some(s(r, "nativeStatus")));
        assert_eq!(raw["priority"], stored["priority"]);
        assert_eq!(raw["updatedAt"], stored["updatedAt"]);
        assert_eq!(raw["extraFields"], stored["extraFields"]);
        assert!(raw.contains_key("assignees"), "expanded assignees: {raw:?}");
        assert!(!raw.contains_key("assigneeKeys"), "native, not unified");
    }
    let without = t
        .conn
        .list(
            "work-order",
            ListOptions {
                page_size: Some(5),
                ..ListOptions::default()
            },
        )
        .await
        .expect("list");
    assert!(without.records.iter().all(|r| !r.contains_key("raw")));

    let key = t.sim.ids("assets")[3];
    let asset = t
        .conn
        .get_with("asset", &key.to_string(), true)
        .await
        .expect("get");
    let stored = t.sim.record("assets", key).expect("stored");
    let raw = asset["raw"].as_object().expect("raw object");
    assert_eq!(raw["id"], json!(key));
    assert_eq!(raw["name"], stored["name"]);
    assert_eq!(raw["serialNumber"], stored["serialNumber"]);
    assert_eq!(raw["extraFields"], stored["extraFields"]);
    assert_eq!(s(&asset, "name"), stored["name"].as_str().expect("name"));
    let plain = t.conn.get("asset", &key.to_string()).await.expect("get");
    assert!(!plain.contains_key("raw"));
    let po_key = t.sim.ids("purchaseorders")[0];
    let po = t
        .conn
        .get_with("purchase-order", &po_key.to_string(), true)
        .await
        .expect("get");
    assert_eq!(po["raw"]["id"], json!(po_key));
    assert!(po["raw"]["items"].is_array(), "MaintainX's own line items");
}

#[tokio::test]
async fn a_field_selection_asks_maintainx_for_less() {
    let t = setup_with(filter_config()).await;
    t.sim.clear_requests();
    let page = t
        .conn
        .list(
            "work-order",
            ListOptions {
                page_size: Some(10),
                fields: vec!["title".into(), "status".into()],
                ..ListOptions::default()
            },
        )
        .await
        .expect("list");
    for r in &page.records {
        let mut names: Vec<&str> = r.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["key", "status", "title"]);
    }
    let query = t.sim.requests()[0].query.clone().unwrap_or_default();
    assert!(!query.contains("expand="), "no expansion needed: {query}");

    t.sim.clear_requests();
    let page = t
        .conn
        .list(
            "work-order",
            ListOptions {
                page_size: Some(10),
                fields: vec!["assigneeKeys".into()],
                ..ListOptions::default()
            },
        )
        .await
        .expect("list");
    let query = t.sim.requests()[0].query.clone().unwrap_or_default();
    assert!(query.contains("expand=assignees"), "{query}");
    assert!(
        !query.contains("expand=asset&") && !query.contains("extra_fields"),
        "{query}"
    );
    for r in &page.records {
        let key: u64 = s(r, "key").parse().expect("id");
        let stored = t.sim.record("workorders", key).expect("stored");
        let want: Vec<String> = ids_in(&stored, "assigneeIds")
            .iter()
            .map(u64::to_string)
            .collect();
        let got: Vec<String> = r["assigneeKeys"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(got, want, "work order {key}");
    }

    // A field a list cannot return is refused by the host.
    let err = t
        .conn
        .list(
            "purchase-order",
            ListOptions {
                fields: vec!["vendorKey".into()],
                ..ListOptions::default()
            },
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(err, CallError::Refused(AdapterError::Invalid(_))),
        "{err}"
    );
}

#[tokio::test]
async fn custom_fields_come_from_extra_fields_in_lists_and_gets() {
    let t = setup_with(filter_config()).await;
    for (entity, resource) in [
        ("work-order", "workorders"),
        ("asset", "assets"),
        ("material", "parts"),
        ("location", "locations"),
        ("vendor", "vendors"),
        ("user", "users"),
    ] {
        t.sim.clear_requests();
        let page = t
            .conn
            .list(
                entity,
                ListOptions {
                    page_size: Some(10),
                    fields: vec!["customFields".into()],
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("list {entity}: {e}"));
        let query = t.sim.requests()[0].query.clone().unwrap_or_default();
        assert!(query.contains("expand=extra_fields"), "{entity}: {query}");
        let mut seen = 0;
        for r in &page.records {
            let key: u64 = s(r, "key").parse().expect("id");
            let stored = t.sim.record(resource, key).expect("stored");
            assert_eq!(
                r.get("customFields"),
                stored.get("extraFields").filter(|x| x.is_object()),
                "{entity} {key}"
            );
            seen += usize::from(r.get("customFields").is_some_and(|c| c != &json!({})));
        }
        assert!(seen > 0, "{entity}: some records carry custom fields");
    }
    // Purchase orders: by get only (their list item has no extraFields).
    let key = t.sim.ids("purchaseorders")[2];
    let po = t
        .conn
        .get("purchase-order", &key.to_string())
        .await
        .expect("get");
    let stored = t.sim.record("purchaseorders", key).expect("stored");
    assert_eq!(po.get("customFields"), stored.get("extraFields"));
    assert!(po["customFields"]["GL Account"].is_string());
    let decl = t.conn.info().entity("purchase-order").expect("declared");
    let custom = decl.field("customFields").expect("declared");
    assert!(!custom.flags.read_list && custom.flags.read_detail);
    assert!(custom.note.as_deref().unwrap_or("").contains("extraFields"));

    // Written through update, read back through get.
    let key = t.sim.ids("assets")[1];
    let updated = t
        .conn
        .update(
            "asset",
            &key.to_string(),
            json!({"customFields": {"Criticality": "A", "Warranty": "2027-01"}}),
            None,
        )
        .await
        .expect("update");
    assert_eq!(updated["customFields"]["Criticality"], "A");
    let stored = t.sim.record("assets", key).expect("stored");
    assert_eq!(stored["extraFields"]["Warranty"], "2027-01");
}
