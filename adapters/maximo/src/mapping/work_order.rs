//! Work orders: `MXAPIWO` ⇄ unified `work-order`.
//!
//! | unified | Maximo |
//! |---|---|
//! | `key` | `siteid/wonum` |
//! | `title` / `description` | `description` / `description_longdescription` |
//! | `status` / `nativeStatus` | `status` (WOSTATUS: `WAPPR`, `APPR`, `WSCH` → `open`; `WMATL`, `WPCOND` → `on-hold`; `INPRG` → `in-progress`; `COMP`, `CLOSE` → `completed`; `CAN` → `cancelled`) |
//! | `assetKey` / `locationKey` / `siteKey` | `assetnum/siteid` / `location/siteid` / `siteid` |
//! | `teamKey` | `persongroup` |
//! | `scheduledAt` / `dueAt` / `completedAt` | `schedstart` / `targcompdate` / `actfinish` |
//! | `createdAt` / `updatedAt` | `reportdate` / `changedate` |
//!
//! Maximo links a work order only to assets and locations of its own site: a reference to
//! another site is `invalid` before anything is sent.

use plantwire_sdk::AdapterError;
use plantwire_sdk::model::WorkOrder;
use serde_json::Value;

use super::{
    Input, Mode, key_from, ref_parts, site_of_write, text, text_of, timestamp, ts_of, unified_of,
};
use crate::structures::Os;

/// WOSTATUS values: unified value, Maximo value (several Maximo values share a unified one).
pub const WO_STATUSES: &[(&str, &str)] = &[
    ("open", "WAPPR"),
    ("open", "APPR"),
    ("open", "WSCH"),
    ("on-hold", "WMATL"),
    ("on-hold", "WPCOND"),
    ("in-progress", "INPRG"),
    ("completed", "COMP"),
    ("completed", "CLOSE"),
    ("cancelled", "CAN"),
];

/// The Maximo status the change-status action sets for a unified `status`; `on-hold` has two
/// Maximo statuses (WMATL, WPCOND), so it is set through `nativeStatus` only.
pub const WO_SETTABLE: &[(&str, &str)] = &[
    ("open", "APPR"),
    ("in-progress", "INPRG"),
    ("completed", "COMP"),
    ("cancelled", "CAN"),
];

/// One Maximo work order as a unified work order.
pub fn from_native(v: &Value) -> WorkOrder {
    let native_status = text_of(v, "status");
    WorkOrder {
        key: key_from(v, Os::WorkOrder.pk()),
        title: text_of(v, "description"),
        description: text_of(v, "description_longdescription"),
        status: unified_of(WO_STATUSES, native_status.as_deref()),
        native_status,
        severity: None,
        asset_key: key_from(v, &["assetnum", "siteid"]),
        location_key: key_from(v, &["location", "siteid"]),
        site_key: text_of(v, "siteid"),
        team_key: text_of(v, "persongroup"),
        assignee_keys: None,
        scheduled_at: ts_of(v, "schedstart"),
        due_at: ts_of(v, "targcompdate"),
        completed_at: ts_of(v, "actfinish"),
        created_at: ts_of(v, "reportdate"),
        updated_at: ts_of(v, "changedate"),
        custom_fields: None,
        raw: None,
    }
}

/// The create or update body for a unified work order; `key` is the work order's key in an
/// update.
pub(crate) fn to_native(
    input: &Input<WorkOrder>,
    key: Option<&str>,
) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    w.put("title", "description", r.title.as_deref(), text);
    w.put(
        "description",
        "description_longdescription",
        r.description.as_deref(),
        text,
    );
    w.put("teamKey", "persongroup", r.team_key.as_deref(), text);
    w.put(
        "scheduledAt",
        "schedstart",
        r.scheduled_at.as_deref(),
        timestamp,
    );
    w.put("dueAt", "targcompdate", r.due_at.as_deref(), timestamp);

    let mut asset_site = None;
    if let Some(asset) = r.asset_key.as_deref() {
        match ref_parts(Os::Asset, asset) {
            Ok(p) => {
                w.set("assetnum", Value::String(p[0].to_owned()));
                asset_site = Some(p[1]);
            }
            Err(m) => w.error("assetKey", m),
        }
    } else if w.clears("assetKey") {
        w.set("assetnum", Value::Null);
    }
    let mut location_site = None;
    if let Some(location) = r.location_key.as_deref() {
        match ref_parts(Os::Location, location) {
            Ok(p) => {
                w.set("location", Value::String(p[0].to_owned()));
                location_site = Some(p[1]);
            }
            Err(m) => w.error("locationKey", m),
        }
    } else if w.clears("locationKey") {
        w.set("location", Value::Null);
    }
    let record_site = key.and_then(|k| Os::WorkOrder.key_value(k, "siteid"));
    let site = site_of_write(
        &mut w,
        record_site,
        r.site_key.as_deref(),
        &[("assetKey", asset_site), ("locationKey", location_site)],
    );
    if input.mode == Mode::Create
        && let Some(site) = site
    {
        w.set("siteid", Value::String(site));
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::mapping::testing::{invalid_fields, sorted, unified};
    use crate::mapping::to_native as map;
    use serde_json::json;

    #[test]
    fn reads_a_work_order() {
        assert_eq!(
            unified(Os::WorkOrder, &fixtures::work_order()),
            json!({
                "key": "BEDFORD/1116",
                "title": "Replace mechanical seal on pump P-101",
                "description": "Seal leaks at the drive end; lock out before work.",
                "status": "in-progress",
                "nativeStatus": "INPRG",
                "assetKey": "11430/BEDFORD",
                "locationKey": "BR230/BEDFORD",
                "siteKey": "BEDFORD",
                "teamKey": "MECH",
                "scheduledAt": "2024-09-23T13:00:00Z",
                "dueAt": "2024-09-26T13:00:00Z",
                "createdAt": "2024-09-20T14:55:22Z",
                "updatedAt": "2024-09-23T19:55:22Z",
                "concurrencyToken": "36654"
            })
        );
    }

    #[test]
    fn every_maximo_status_reads_and_unknown_ones_are_not_guessed() {
        for (u, n) in WO_STATUSES {
            let wo = from_native(&json!({"siteid": "S", "wonum": "1", "status": n}));
            assert_eq!(wo.status.as_deref(), Some(*u));
        }
        let wo = from_native(&json!({"siteid": "S", "wonum": "1", "status": "ZZCUSTOM"}));
        assert_eq!(wo.status, None);
        assert_eq!(wo.native_status.as_deref(), Some("ZZCUSTOM"));
    }

    #[test]
    fn writes_a_create_body_with_the_site_from_references() {
        let body = map(
            Os::WorkOrder,
            r#"{"title":"Fix pump","assetKey":"11430/BEDFORD","locationKey":"BR230/BEDFORD",
                "teamKey":"MECH","scheduledAt":"2024-09-23T09:00:00-04:00","dueAt":"2024-09-26T13:00:00Z"}"#,
            Mode::Create,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"description": "Fix pump", "persongroup": "MECH",
                   "schedstart": "2024-09-23T13:00:00Z", "targcompdate": "2024-09-26T13:00:00Z",
                   "assetnum": "11430", "location": "BR230", "siteid": "BEDFORD"})
        );
    }

    #[test]
    fn references_of_another_site_and_read_only_fields_are_refused() {
        let err = map(
            Os::WorkOrder,
            r#"{"siteKey":"TEXAS","assetKey":"11430/BEDFORD"}"#,
            Mode::Create,
            None,
        )
        .unwrap_err();
        assert_eq!(invalid_fields(err), vec!["assetKey"]);
        let err = map(
            Os::WorkOrder,
            r#"{"assetKey":"11430/TEXAS"}"#,
            Mode::Update,
            Some("BEDFORD/1116"),
        )
        .unwrap_err();
        assert_eq!(invalid_fields(err), vec!["assetKey"]);
        let err = map(
            Os::WorkOrder,
            r#"{"status":"completed","siteKey":"TEXAS","key":"x","severity":"high"}"#,
            Mode::Update,
            Some("BEDFORD/1116"),
        )
        .unwrap_err();
        assert_eq!(
            sorted(invalid_fields(err)),
            vec!["key", "severity", "siteKey", "status"]
        );
        let err = map(Os::WorkOrder, r#"{"assetKey":"11430"}"#, Mode::Create, None).unwrap_err();
        assert!(err.to_string().contains("assetnum, siteid"), "{err}");
    }

    #[test]
    fn a_patch_clears_with_null() {
        let body = map(
            Os::WorkOrder,
            r#"{"assetKey":null,"dueAt":null,"title":"New"}"#,
            Mode::Update,
            Some("BEDFORD/1116"),
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"description": "New", "targcompdate": null, "assetnum": null})
        );
    }
}
