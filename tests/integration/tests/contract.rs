//! The contract is frozen once released: any change to `wit/` must show up in review as a
//! change to this snapshot. Run with `UPDATE_SNAPSHOTS=1` to accept an intended change.
//! Snapshots of earlier versions stay beside it as the record of what they were.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::path::PathBuf;

#[test]
fn wit_contract_matches_the_snapshot() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let wit = std::fs::read_to_string(root.join("../../wit/adapter.wit")).expect("read wit");
    let version = wit
        .lines()
        .find_map(|l| l.strip_prefix("package plantwire:adapter@"))
        .and_then(|v| v.strip_suffix(';'))
        .expect("the package line");
    assert_eq!(
        version,
        plantwire::sdk::CONTRACT_VERSION,
        "the SDK implements the WIT's version"
    );
    let snapshot_path = root.join(format!("snapshots/plantwire-adapter-{version}.wit"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot_path, &wit).expect("write snapshot");
    }
    let snapshot = std::fs::read_to_string(&snapshot_path).expect("read snapshot");
    assert!(
        wit == snapshot,
        "wit/adapter.wit differs from the released contract snapshot {}.\n\
         plantwire:adapter@{version} is frozen: make changes in a new version,\n\
         then accept the change with UPDATE_SNAPSHOTS=1 cargo xtask test",
        snapshot_path.display()
    );
    assert!(
        root.join("snapshots/plantwire-adapter-0.1.0.wit").exists(),
        "earlier contracts stay on record"
    );
}
