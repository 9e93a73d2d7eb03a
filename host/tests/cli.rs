//! The `plantwire` command as a user runs it: capabilities in every format, inspect on a good
//! and a bad component, and the demo end to end.

#![allow(clippy::expect_used, reason = "test helpers fail loudly")]

mod common;

use common::{adapters, fixtures};

use std::process::Command;

fn plantwire(args: &[&str]) -> (bool, String, String) {
    let cache = std::env::temp_dir().join(format!("plantwire-cli-cache-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_plantwire"))
        .arg("--adapters")
        .arg(adapters())
        .arg("--cache-dir")
        .arg(&cache)
        .args(args)
        .output()
        .expect("run plantwire");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn capabilities_table_lists_operations_and_reasons() {
    let (ok, out, err) = plantwire(&["capabilities", "maintainx"]);
    assert!(ok, "{err}");
    assert!(out.contains("MaintainX (maintainx)"), "{out}");
    assert!(out.contains("work-order"));
    assert!(out.contains("Not supported, and why"));
}

#[test]
fn capabilities_for_one_entity_show_fields_in_every_format() {
    let (ok, out, err) = plantwire(&["capabilities", "maintainx", "--entity", "work-order"]);
    assert!(ok, "{err}");
    assert!(out.contains("work-order fields"), "{out}");
    assert!(out.contains("change-status"));

    let (ok, out, err) = plantwire(&[
        "capabilities",
        "maintainx",
        "--entity",
        "work-order",
        "--format",
        "markdown",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("| field | type | flags |"), "{out}");

    let (ok, out, err) = plantwire(&["capabilities", "maintainx", "--format", "json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v[0]["system"], "maintainx");
    assert!(v[0]["entities"].as_array().is_some_and(|e| e.len() >= 7));
}

#[test]
fn unknown_systems_and_entities_are_clear_errors() {
    let (ok, _, err) = plantwire(&["capabilities", "no-such-system"]);
    assert!(!ok);
    assert!(
        err.contains("no adapter for system `no-such-system`"),
        "{err}"
    );
    let (ok, _, err) = plantwire(&["capabilities", "maintainx", "--entity", "spaceship"]);
    assert!(!ok);
    assert!(err.contains("unknown entity `spaceship`"), "{err}");
}

#[test]
fn inspect_shows_the_contract_and_refuses_invalid_components() {
    let file = adapters().join("maintainx.wasm");
    let (ok, out, err) = plantwire(&["inspect", file.to_str().expect("path")]);
    assert!(ok, "{err}");
    assert!(out.contains("contract: plantwire:adapter@0.2.0"), "{out}");
    assert!(out.contains("plantwire:adapter/http@0.2.0"));
    assert!(out.contains("work-order"));

    let bad = fixtures().join("extra-import.wasm");
    let (ok, _, err) = plantwire(&["inspect", bad.to_str().expect("path")]);
    assert!(!ok);
    assert!(err.contains("not a valid Plantwire adapter"), "{err}");
    assert!(err.contains("not part of the adapter contract"), "{err}");

    let bad = fixtures().join("bad-describe.wasm");
    let (ok, _, err) = plantwire(&["inspect", bad.to_str().expect("path")]);
    assert!(!ok);
    assert!(err.contains("describe() is invalid"), "{err}");
}

#[test]
fn the_demo_runs_end_to_end() {
    let (ok, out, err) = plantwire(&["demo", "--pages", "3"]);
    assert!(ok, "demo failed:\n{out}\n{err}");
    assert!(out.contains("page 3:"), "{out}");
    assert!(out.contains("Created work order #"));
    assert!(out.contains("Changed its status to in-progress."));
    assert!(out.contains("\"status\": \"in-progress\""), "{out}");
    // Maximo and SAP beside MaintainX.
    assert!(out.contains("== IBM Maximo =="), "{out}");
    assert!(
        out.contains("Created 2 work orders in one BULK request"),
        "{out}"
    );
    assert!(out.contains("through wsmethod:changeStatus"), "{out}");
    assert!(out.contains("is refused"), "{out}");
    assert!(out.contains("== SAP S/4HANA =="), "{out}");
    assert!(
        out.contains("Created 2 maintenance orders in one $batch"),
        "{out}"
    );
    assert!(out.contains("SetMaintOrdStsToMrkdForDeltn"), "{out}");
    assert!(out.contains("== Side by side =="), "{out}");
}
