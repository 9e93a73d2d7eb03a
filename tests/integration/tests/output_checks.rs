//! Adapter output is checked against the declaration before a caller sees it: the `unruly`
//! fixture (a real wasm component) returns records with undeclared members, wrong types and
//! no `key`, from every operation, and the host removes, refuses and counts each violation.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use plantwire::connections::OutputPolicy;
use plantwire::{CallError, Connection, ListOptions};
use plantwire_integration_tests::{LogCapture, connect, egress, load, runtime, serve};
use serde_json::{Map, Value, json};

/// The fixture's connection. Every test of this file installs a log capture first: the
/// violation callsites are shared by the tests, and a test thread without a subscriber that
/// reaches one first can leave it disabled for the thread that captures.
async fn unruly() -> Connection {
    let addr = serve(Router::new().route("/v1/ping", get(|| async { "{}" }))).await;
    let rt = runtime();
    let component = load(&rt, "fixture", "unruly").await;
    connect(
        &component,
        "unruly-1",
        Arc::new(egress(&format!("http://{addr}/v1"), "output-token")),
    )
}

fn first_page() -> ListOptions {
    ListOptions::default()
}

fn keys(record: &Map<String, Value>) -> Vec<&str> {
    let mut keys: Vec<&str> = record.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[tokio::test(flavor = "current_thread")]
async fn listed_records_lose_undeclared_and_wrong_typed_members_and_each_is_counted() {
    let (logs, _guard) = LogCapture::install();
    let conn = unruly().await;
    let page = conn.list("work-order", first_page()).await.expect("list");
    assert_eq!(
        page.records.len(),
        3,
        "every record with a key is handed on"
    );
    assert_eq!(page.next_cursor.as_deref(), Some("keyless"));

    // The record that keeps its declaration arrives whole.
    let good: Value = serde_json::from_str(plantwire_fixture_unruly_good()).expect("json");
    assert_eq!(Value::Object(page.records[0].clone()), good);

    // Undeclared members are not passed on.
    assert_eq!(keys(&page.records[1]), vec!["key", "status", "title"]);
    // Wrong-typed members are removed: the caller gets the declared type or nothing.
    assert_eq!(keys(&page.records[2]), vec!["key"]);

    // Two undeclared members and seven wrong types.
    assert_eq!(conn.contract_violations(), 9);
    let text = String::from_utf8(logs.bytes()).expect("utf-8");
    for field in [
        "internalNote",
        "apiToken",
        "title",
        "status",
        "dueAt",
        "rank",
        "isActive",
        "hours",
        "assetKey",
    ] {
        let line = text
            .lines()
            .find(|l| l.contains("contract violation") && l.contains(&format!("field={field}")))
            .unwrap_or_else(|| panic!("no violation logged for {field}:\n{text}"));
        assert!(line.contains("WARN"), "{line}");
        assert!(line.contains("adapter=unruly"), "{line}");
        assert!(line.contains("entity=work-order"), "{line}");
    }
    // The log names the fields, never their values.
    assert!(!text.contains("tok-undeclared-123"), "{text}");
    assert!(!text.contains("next tuesday"), "{text}");
}

/// The fixture's `GOOD` record (kept in step with `tests/fixtures/unruly`).
fn plantwire_fixture_unruly_good() -> &'static str {
    r#"{"key":"good","title":"Replace pump seal","status":"open","dueAt":"2024-05-01T08:00:00Z","rank":2,"isActive":true,"hours":1.5,"assetKey":"A-7","sent":null}"#
}

#[tokio::test(flavor = "current_thread")]
async fn a_record_without_a_string_key_fails_the_call_naming_adapter_entity_and_field() {
    let (_logs, _guard) = LogCapture::install();
    let conn = unruly().await;
    for cursor in ["keyless", "number-key"] {
        let err = conn
            .list(
                "work-order",
                ListOptions {
                    cursor: Some(cursor.to_owned()),
                    ..ListOptions::default()
                },
            )
            .await
            .expect_err("a record without a key is refused");
        let CallError::InvalidOutput(message) = &err else {
            panic!("{cursor}: expected a contract error, got {err:?}");
        };
        assert!(
            message.contains("adapter `unruly`, entity `work-order`, field `key`"),
            "{message}"
        );
    }
    let err = conn
        .get("work-order", "keyless")
        .await
        .expect_err("refused");
    assert!(matches!(err, CallError::InvalidOutput(_)), "{err:?}");
    assert_eq!(conn.contract_violations(), 3);
}

#[tokio::test(flavor = "current_thread")]
async fn get_create_update_and_action_results_are_checked_too() {
    let (_logs, _guard) = LogCapture::install();
    let conn = unruly().await;

    let record = conn.get("work-order", "wrong-types").await.expect("get");
    assert_eq!(keys(&record), vec!["key"]);
    let record = conn.get("work-order", "undeclared").await.expect("get");
    assert!(!record.contains_key("apiToken") && !record.contains_key("internalNote"));
    let after_reads = conn.contract_violations();
    assert_eq!(after_reads, 9);

    let created = conn
        .create(
            "work-order",
            vec![json!({"title": "a"}), json!({"title": "b"})],
        )
        .await
        .expect("create");
    for (i, result) in created.iter().enumerate() {
        let record = result.as_ref().expect("created");
        assert_eq!(keys(record), vec!["key", "title"], "record {i}");
    }
    assert_eq!(conn.contract_violations(), after_reads + 2);

    let updated = conn
        .update("work-order", "good", json!({"title": "c"}), None)
        .await
        .expect("update");
    assert_eq!(keys(&updated), vec!["key"], "the bad timestamp is removed");
    assert_eq!(conn.contract_violations(), after_reads + 3);

    let acted = conn
        .action("work-order", "w-1", "bad-record", json!({}))
        .await
        .expect("action");
    assert_eq!(Value::Object(acted), json!({"key": "w-1"}));
    assert_eq!(conn.contract_violations(), after_reads + 10);

    // An action result that is no record at all is counted, and handed on whole: the
    // contract does not declare result shapes per action.
    let other = conn
        .action("work-order", "w-1", "not-a-record", json!({}))
        .await
        .expect("action");
    assert_eq!(Value::Object(other), json!({"status": "ok"}));
    assert_eq!(conn.contract_violations(), after_reads + 11);
}

#[tokio::test(flavor = "current_thread")]
async fn the_strict_policy_fails_the_call_on_the_first_violation() {
    let (_logs, _guard) = LogCapture::install();
    let conn = unruly().await.with_output_policy(OutputPolicy::Strict);
    let err = conn
        .list("work-order", first_page())
        .await
        .expect_err("strict");
    let CallError::InvalidOutput(message) = &err else {
        panic!("expected a contract error, got {err:?}");
    };
    assert!(
        message.starts_with("adapter `unruly`, entity `work-order`, field `"),
        "{message}"
    );
    assert!(err.to_string().contains("invalid output"), "{err}");
    // The good record alone passes under the strict policy too.
    let good = conn.get("work-order", "good").await.expect("good record");
    assert_eq!(good["key"], "good");
    let err = conn
        .action("work-order", "w-1", "not-a-record", json!({}))
        .await
        .expect_err("strict");
    assert!(matches!(err, CallError::InvalidOutput(_)), "{err:?}");
}
