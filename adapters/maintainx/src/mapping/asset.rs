//! Assets: MaintainX `/assets` ⇄ unified `asset`.
//!
//! | unified | MaintainX |
//! |---|---|
//! | `key` | `id` |
//! | `name`, `description`, `serialNumber` | same names |
//! | `locationKey` / `parentKey` | `locationId` / `parentId` |
//! | `makeName` / `modelName` | `manufacturer` / `model` (names; written as `{"name": …}`) |
//! | `status` / `nativeStatus` | `status.status` (`ONLINE` → `online`, `OFFLINE` → `offline`, `IGNORE` → `not-tracked`) |
//! | `createdAt` / `updatedAt` | same names |
//! | `customFields` | `extraFields` |
//!
//! MaintainX assets have no site and no active flag (`siteKey`, `isActive` are not declared).

use plantwire_sdk::AdapterError;
use plantwire_sdk::model::Asset;
use serde_json::{Value, json};

use super::{
    ASSET_STATUSES, Input, custom_fields_of, id_of, reference, text, text_of, ts_of, unified_of,
};

/// A manufacturer or model name: a string when listed with `expand=`, or an object with a
/// `name` in some payloads.
fn name_of(v: &Value, field: &str) -> Option<String> {
    match v.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// One MaintainX asset as a unified asset.
pub fn from_native(v: &Value) -> Asset {
    let native_status = v
        .get("status")
        .and_then(|s| s.get("status"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Asset {
        key: id_of(v, "id"),
        name: text_of(v, "name"),
        description: text_of(v, "description"),
        site_key: None,
        location_key: id_of(v, "locationId"),
        parent_key: id_of(v, "parentId"),
        serial_number: text_of(v, "serialNumber"),
        model_name: name_of(v, "model"),
        make_name: name_of(v, "manufacturer"),
        is_active: None,
        status: unified_of(ASSET_STATUSES, native_status.as_deref()),
        native_status,
        created_at: ts_of(v, "createdAt"),
        updated_at: ts_of(v, "updatedAt"),
        custom_fields: custom_fields_of(v),
        raw: None,
    }
}

fn named(v: &str) -> Result<Value, String> {
    Ok(json!({ "name": v }))
}

/// The `POST /assets` or `PATCH /assets/{id}` body for a unified asset.
pub(crate) fn to_native(input: &Input<Asset>) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    w.name_and_description(r.name.as_deref(), r.description.as_deref());
    w.put(
        "locationKey",
        "locationId",
        r.location_key.as_deref(),
        reference,
    );
    w.put("parentKey", "parentId", r.parent_key.as_deref(), reference);
    w.put(
        "serialNumber",
        "serialNumber",
        r.serial_number.as_deref(),
        text,
    );
    w.put("makeName", "manufacturer", r.make_name.as_deref(), named);
    w.put("modelName", "model", r.model_name.as_deref(), named);
    w.custom_fields(r.custom_fields.as_ref());
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::mapping::testing::unified;
    use crate::mapping::{Mode, to_native as map_to_native};
    use crate::resources::Resource;

    #[test]
    fn reads_an_asset() {
        assert_eq!(
            unified(Resource::Asset, &fixtures::asset(963)),
            json!({
                "key": "963",
                "name": "Forklift",
                "description": "Forklift that is used to move heavy equipment around the warehouse",
                "locationKey": "852",
                "parentKey": "850",
                "serialNumber": "000123ABC",
                "modelName": "X-2000",
                "makeName": "ACME Corporation",
                "status": "offline",
                "nativeStatus": "OFFLINE",
                "createdAt": "2022-01-01T00:00:00Z",
                "updatedAt": "2024-02-11T16:20:00Z",
                "customFields": {"Warranty": "2026-01"}
            })
        );
    }

    #[test]
    fn writes_an_asset() {
        let body = map_to_native(
            Resource::Asset,
            r#"{"name":"Pump","locationKey":"852","parentKey":"9","serialNumber":"SN1",
                "makeName":"ACME Corporation","modelName":"X-2000"}"#,
            Mode::Create,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({
                "name": "Pump",
                "locationId": 852,
                "parentId": 9,
                "serialNumber": "SN1",
                "manufacturer": {"name": "ACME Corporation"},
                "model": {"name": "X-2000"}
            })
        );
        // Clearing the manufacturer is `manufacturer: null` (which also clears the model).
        let body =
            map_to_native(Resource::Asset, r#"{"makeName":null}"#, Mode::Update, None).unwrap();
        assert_eq!(body, json!({"manufacturer": null}));
        let err = map_to_native(
            Resource::Asset,
            r#"{"name":"x","status":"online","isActive":true}"#,
            Mode::Create,
            None,
        )
        .unwrap_err();
        assert_eq!(err.kind(), "invalid");
    }
}
