//! The MaintainX adapter against the MaintainX simulator: every declared operation, paging
//! across many pages, refusals made by the host before the adapter runs, and the vendor's
//! errors mapped to typed errors.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use plantwire::sdk::{AdapterError, Operation, Support};
use plantwire::{CallError, Connection, ListOptions, Runtime};
use plantwire_integration_tests::{connect, egress, load, test_config};
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
    let mut seen = HashSet::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = t
            .conn
            .list(
                "work-order",
                ListOptions {
                    cursor: cursor.take(),
                    page_size: Some(200),
                    ..ListOptions::default()
                },
            )
            .await
            .expect("list");
        pages += 1;
        for r in &page.records {
            assert!(
                seen.insert(s(r, "key").to_owned()),
                "duplicate {}",
                s(r, "key")
            );
            assert!(r.contains_key("title") && r.contains_key("status"));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages < 1000, "paging does not end");
    }
    assert_eq!(seen.len(), total);
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
                filters: vec![("status".into(), "completed".into())],
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
                filters: vec![("description".into(), "x".into())],
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
    let info = t.conn.info().clone();
    let mut tried = 0;
    for entity in &info.entities {
        for op in [
            Operation::List,
            Operation::Get,
            Operation::Create,
            Operation::Update,
            Operation::Delete,
        ] {
            let Support::Unsupported(reason) = entity.support(op) else {
                continue;
            };
            let result = match op {
                Operation::List => t
                    .conn
                    .list(&entity.name, ListOptions::default())
                    .await
                    .map(|_| ()),
                Operation::Get => t.conn.get(&entity.name, "1").await.map(|_| ()),
                Operation::Create => t
                    .conn
                    .create(&entity.name, vec![json!({})])
                    .await
                    .map(|_| ()),
                Operation::Update => t
                    .conn
                    .update(&entity.name, "1", json!({"name": "x"}), None)
                    .await
                    .map(|_| ()),
                Operation::Delete => t.conn.delete(&entity.name, "1").await,
                Operation::Action => continue,
            };
            match result {
                Err(CallError::Refused(AdapterError::Unsupported(message))) => {
                    assert!(
                        message.contains(&reason),
                        "{message} carries the adapter's reason"
                    )
                }
                other => panic!("{} {op}: expected a refusal, got {other:?}", entity.name),
            }
            tried += 1;
        }
    }
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
