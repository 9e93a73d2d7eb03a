//! Work orders: MaintainX `/workorders` ⇄ unified `work-order`.
//!
//! | unified | MaintainX |
//! |---|---|
//! | `key` | `id` (the global id, not the per-organization `sequentialId`) |
//! | `title`, `description` | same names |
//! | `status` / `nativeStatus` | `status` (`OPEN` → `open`, `DONE` → `completed`, …) |
//! | `severity` | `priority` (`NONE`/`LOW`/`MEDIUM`/`HIGH`) |
//! | `assetKey` | `assetId`, or `asset.id` when expanded (list items carry no `assetId`) |
//! | `locationKey` | `locationId` |
//! | `teamKey` | `teamIds[0]`, or the first `assignees[]` of type `TEAM` when expanded |
//! | `assigneeKeys` | `assigneeIds`, or the `assignees[]` of type `USER` when expanded |
//! | `scheduledAt` / `dueAt` / `completedAt` | `startDate` / `dueDate` / `completedAt` |
//! | `createdAt` / `updatedAt` | same names |
//! | `customFields` | `extraFields` |
//!
//! On write, `teamKey` and `assigneeKeys` become MaintainX's `assignees` array
//! (`[{"type":"USER","id":n}, {"type":"TEAM","id":m}]`), which replaces both users and teams:
//! a patch that sets only one of the two keeps the other as MaintainX has it (`current`).

use plantwire_sdk::AdapterError;
use plantwire_sdk::model::WorkOrder;
use serde_json::{Value, json};

use super::{
    Input, WO_PRIORITIES, WO_STATUSES, custom_fields_of, enumeration, id_of, id_value, ids_of,
    parse_id, reference, text, text_of, timestamp, ts_of, unified_of,
};

/// One MaintainX work order (list item or single record) as a unified work order.
pub fn from_native(v: &Value) -> WorkOrder {
    let native_status = text_of(v, "status");
    let assignees = v.get("assignees").and_then(Value::as_array);
    let expanded = |kind: &str| -> Option<Vec<String>> {
        assignees.map(|list| {
            list.iter()
                .filter(|a| a.get("type").and_then(Value::as_str) == Some(kind))
                .filter_map(|a| a.get("id").and_then(id_value))
                .collect()
        })
    };
    WorkOrder {
        key: id_of(v, "id"),
        title: text_of(v, "title"),
        description: text_of(v, "description"),
        status: unified_of(WO_STATUSES, native_status.as_deref()),
        native_status,
        severity: unified_of(WO_PRIORITIES, text_of(v, "priority").as_deref()),
        asset_key: id_of(v, "assetId").or_else(|| v.get("asset").and_then(|a| id_of(a, "id"))),
        location_key: id_of(v, "locationId")
            .or_else(|| v.get("location").and_then(|l| id_of(l, "id"))),
        site_key: None,
        team_key: ids_of(v, "teamIds")
            .or_else(|| expanded("TEAM"))
            .and_then(|teams| teams.into_iter().next()),
        assignee_keys: ids_of(v, "assigneeIds").or_else(|| expanded("USER")),
        scheduled_at: ts_of(v, "startDate"),
        due_at: ts_of(v, "dueDate"),
        completed_at: ts_of(v, "completedAt"),
        created_at: ts_of(v, "createdAt"),
        updated_at: ts_of(v, "updatedAt"),
        custom_fields: custom_fields_of(v),
        raw: None,
    }
}

/// Whether a patch sets exactly one of `teamKey` / `assigneeKeys` (so the other half of
/// `assignees` must be read first).
pub(crate) fn needs_current(json: &str) -> bool {
    let Ok(Value::Object(raw)) = serde_json::from_str::<Value>(json) else {
        return false;
    };
    raw.contains_key("teamKey") != raw.contains_key("assigneeKeys")
}

/// The assignees of `kind` (`USER` or `TEAM`) MaintainX has now, as it sent them: the
/// entries of an expanded `assignees`, else one per id of `native` (`assigneeIds` /
/// `teamIds`). They are the system's own values, carried over unchanged when a patch sets
/// only the other half: they are never checked as if the caller had sent them (MaintainX
/// allows ids as integers or strings, e.g. an e-mail address).
fn current_half(current: Option<&Value>, kind: &str, native: &str) -> Vec<Value> {
    let Some(current) = current else {
        return Vec::new();
    };
    if let Some(list) = current.get("assignees").and_then(Value::as_array) {
        return list
            .iter()
            .filter(|a| a.get("type").and_then(Value::as_str) == Some(kind))
            .filter_map(|a| a.get("id").cloned())
            .map(|id| json!({"type": kind, "id": id}))
            .collect();
    }
    current
        .get(native)
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter(|id| !id.is_null())
                .map(|id| json!({"type": kind, "id": id}))
                .collect()
        })
        .unwrap_or_default()
}

/// The `POST /workorders` or `PATCH /workorders/{id}` body for a unified work order.
pub(crate) fn to_native(
    input: &Input<WorkOrder>,
    current: Option<&Value>,
) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    w.put("title", "title", r.title.as_deref(), text);
    w.put("description", "description", r.description.as_deref(), text);
    w.put(
        "severity",
        "priority",
        r.severity.as_deref(),
        enumeration(WO_PRIORITIES),
    );
    w.put("assetKey", "assetId", r.asset_key.as_deref(), reference);
    w.put(
        "locationKey",
        "locationId",
        r.location_key.as_deref(),
        reference,
    );
    w.put(
        "scheduledAt",
        "startDate",
        r.scheduled_at.as_deref(),
        timestamp,
    );
    w.put("dueAt", "dueDate", r.due_at.as_deref(), timestamp);
    w.custom_fields(r.custom_fields.as_ref());

    let sets_users = r.assignee_keys.is_some() || input.clears("assigneeKeys");
    let sets_team = r.team_key.is_some() || input.clears("teamKey");
    if sets_users || sets_team {
        // Users, then teams; the half the patch does not set is MaintainX's current one.
        let mut assignees = Vec::new();
        if sets_users {
            for (i, key) in r.assignee_keys.iter().flatten().enumerate() {
                match parse_id(key) {
                    Ok(id) => assignees.push(json!({"type": "USER", "id": id})),
                    Err(m) => w.error(format!("assigneeKeys[{i}]"), m),
                }
            }
        } else {
            assignees.extend(current_half(current, "USER", "assigneeIds"));
        }
        if sets_team {
            if let Some(key) = &r.team_key {
                match parse_id(key) {
                    Ok(id) => assignees.push(json!({"type": "TEAM", "id": id})),
                    Err(m) => w.error("teamKey", m),
                }
            }
        } else {
            assignees.extend(current_half(current, "TEAM", "teamIds"));
        }
        w.body
            .insert("assignees".to_owned(), Value::Array(assignees));
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::mapping::testing::{invalid_fields, sorted, unified};
    use crate::mapping::{Mode, to_native as map_to_native};
    use crate::resources::Resource;

    fn create(json: &str) -> Result<Value, AdapterError> {
        map_to_native(Resource::WorkOrder, json, Mode::Create, None)
    }

    fn update(json: &str, current: Option<&Value>) -> Result<Value, AdapterError> {
        map_to_native(Resource::WorkOrder, json, Mode::Update, current)
    }

    #[test]
    fn reads_a_single_work_order() {
        assert_eq!(
            unified(Resource::WorkOrder, &fixtures::work_order(159)),
            json!({
                "key": "159",
                "title": "Replace hydraulic hose on forklift #3",
                "description": "Hose is leaking near the mast cylinder",
                "status": "in-progress",
                "nativeStatus": "IN_PROGRESS",
                "severity": "high",
                "assetKey": "963",
                "locationKey": "611",
                "teamKey": "112",
                "assigneeKeys": ["23494", "79808"],
                "scheduledAt": "2024-03-04T08:00:00Z",
                "dueAt": "2024-03-05T17:00:00Z",
                "createdAt": "2024-03-01T14:03:12.417Z",
                "updatedAt": "2024-03-02T09:15:00Z",
                "customFields": {"Estimated Budget": "$250"}
            })
        );
    }

    #[test]
    fn reads_a_list_item_through_its_expansions() {
        let page: Value = serde_json::from_slice(&fixtures::sample_work_orders_page(3)).unwrap();
        let item = &page["workOrders"][1];
        assert!(item.get("assetId").is_none(), "list items carry no assetId");
        let wo = from_native(item);
        assert_eq!(wo.key.as_deref(), Some("1000002"));
        assert_eq!(wo.asset_key.as_deref(), Some("100002"));
        assert_eq!(wo.team_key.as_deref(), Some("502"));
        assert_eq!(wo.assignee_keys, Some(vec!["20002".to_owned()]));
        assert_eq!(wo.status.as_deref(), Some("on-hold"));
        assert!(wo.site_key.is_none());
    }

    #[test]
    fn absent_and_null_fields_are_omitted() {
        let wo = from_native(&json!({
            "id": 5, "title": "t", "status": "SKIPPED", "updatedAt": "2024-01-01T00:00:00.000Z",
            "description": null, "dueDate": null, "priority": "CRITICAL", "locationId": null
        }));
        assert_eq!(wo.status.as_deref(), Some("skipped"));
        // An undocumented priority is not guessed.
        assert_eq!(wo.severity, None);
        assert_eq!(wo.description, None);
        assert_eq!(wo.due_at, None);
        assert_eq!(wo.location_key, None);
        assert_eq!(wo.assignee_keys, None);
    }

    #[test]
    fn writes_a_create_body() {
        let body = create(
            r#"{"title":"Fix pump","description":"Seal leaks","severity":"medium",
                "assetKey":"963","locationKey":"611","teamKey":"112","assigneeKeys":["7","8"],
                "scheduledAt":"2024-03-04T10:00:00+02:00","dueAt":"2024-03-05T17:00:00Z",
                "customFields":{"Estimated Budget":"$250"}}"#,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({
                "title": "Fix pump",
                "description": "Seal leaks",
                "priority": "MEDIUM",
                "assetId": 963,
                "locationId": 611,
                "startDate": "2024-03-04T08:00:00Z",
                "dueDate": "2024-03-05T17:00:00Z",
                "extraFields": {"Estimated Budget": "$250"},
                "assignees": [
                    {"type": "USER", "id": 7},
                    {"type": "USER", "id": 8},
                    {"type": "TEAM", "id": 112}
                ]
            })
        );
    }

    #[test]
    fn create_requires_title_and_refuses_read_only_fields() {
        let fields = invalid_fields(create(r#"{"description":"x"}"#).unwrap_err());
        assert_eq!(fields, vec!["title"]);
        let fields = invalid_fields(
            create(r#"{"title":"x","status":"open","key":"9","siteKey":"1","completedAt":"2024-01-01T00:00:00Z"}"#)
                .unwrap_err(),
        );
        assert_eq!(
            sorted(fields),
            vec!["completedAt", "key", "siteKey", "status"]
        );
    }

    #[test]
    fn status_in_a_plain_update_is_refused_with_the_reason() {
        let err = update(r#"{"status":"completed"}"#, None).unwrap_err();
        match err {
            AdapterError::Invalid(errors) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(errors[0].field, "status");
                assert!(
                    errors[0].message.contains("change-status"),
                    "{}",
                    errors[0].message
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn wrong_values_are_invalid_per_field() {
        let fields = invalid_fields(
            create(r#"{"title":"x","severity":"urgent","assetKey":"pump-1","dueAt":"friday"}"#)
                .unwrap_err(),
        );
        assert_eq!(fields, vec!["severity", "assetKey", "dueAt"]);
        // Wrong JSON types name the field.
        let err = create(r#"{"title":42,"assigneeKeys":"7"}"#).unwrap_err();
        assert!(
            err.to_string().contains("`title` must be a string"),
            "{err}"
        );
        assert_eq!(sorted(invalid_fields(err)), vec!["assigneeKeys", "title"]);
        // A list of keys must hold key strings.
        let fields = invalid_fields(create(r#"{"title":"x","assigneeKeys":[7]}"#).unwrap_err());
        assert_eq!(fields, vec!["assigneeKeys"]);
        let fields = invalid_fields(create("[1]").unwrap_err());
        assert_eq!(fields, vec!["(record)"]);
    }

    #[test]
    fn a_patch_clears_with_null_and_keeps_the_other_assignees() {
        let current = fixtures::work_order(159);
        assert!(needs_current(r#"{"teamKey":"5"}"#));
        assert!(!needs_current(r#"{"teamKey":"5","assigneeKeys":[]}"#));
        assert!(!needs_current(r#"{"title":"x"}"#));
        let body = update(r#"{"teamKey":"5","dueAt":null}"#, Some(&current)).unwrap();
        assert_eq!(
            body,
            json!({
                "dueDate": null,
                "assignees": [
                    {"type": "USER", "id": 23494},
                    {"type": "USER", "id": 79808},
                    {"type": "TEAM", "id": 5}
                ]
            })
        );
        let body = update(r#"{"assigneeKeys":null}"#, Some(&current)).unwrap();
        assert_eq!(body, json!({"assignees": [{"type": "TEAM", "id": 112}]}));
        let fields = invalid_fields(update(r#"{"title":null}"#, None).unwrap_err());
        assert_eq!(fields, vec!["title"]);
    }
}
