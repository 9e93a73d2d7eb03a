//! Assets: `MXAPIASSET` ⇄ unified `asset`.
//!
//! | unified | Maximo |
//! |---|---|
//! | `key` | `assetnum/siteid` |
//! | `name` / `description` | `description` / `description_longdescription` |
//! | `siteKey` / `locationKey` / `parentKey` | `siteid` / `location/siteid` / `parent/siteid` |
//! | `serialNumber` | `serialnum` |
//! | `makeName` | `manufacturer` (a company code) |
//! | `nativeStatus` | `status` (LOCASSETSTATUS: `NOT READY`, `OPERATING`, `BROKEN`, `LIMITEDUSE`, `DECOMMISSIONED`) |
//! | `isActive` | `status` is not `DECOMMISSIONED` |
//! | `updatedAt` | `changedate` |

use plantwire_sdk::AdapterError;
use plantwire_sdk::model::Asset;
use serde_json::Value;

use super::{Input, Mode, key_from, ref_parts, site_of_write, text, text_of, ts_of};
use crate::structures::Os;

/// One Maximo asset as a unified asset.
pub fn from_native(v: &Value) -> Asset {
    let native_status = text_of(v, "status");
    Asset {
        key: key_from(v, Os::Asset.pk()),
        name: text_of(v, "description"),
        description: text_of(v, "description_longdescription"),
        site_key: text_of(v, "siteid"),
        location_key: key_from(v, &["location", "siteid"]),
        parent_key: key_from(v, &["parent", "siteid"]),
        serial_number: text_of(v, "serialnum"),
        model_name: None,
        make_name: text_of(v, "manufacturer"),
        is_active: native_status.as_deref().map(|s| s != "DECOMMISSIONED"),
        status: None,
        native_status,
        created_at: None,
        updated_at: ts_of(v, "changedate"),
        custom_fields: None,
        raw: None,
    }
}

/// The create or update body for a unified asset.
pub(crate) fn to_native(input: &Input<Asset>, key: Option<&str>) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    w.put("name", "description", r.name.as_deref(), text);
    w.put(
        "description",
        "description_longdescription",
        r.description.as_deref(),
        text,
    );
    w.put(
        "serialNumber",
        "serialnum",
        r.serial_number.as_deref(),
        text,
    );
    w.put("makeName", "manufacturer", r.make_name.as_deref(), text);
    let mut sites = Vec::new();
    for (field, attr, value, target) in [
        (
            "locationKey",
            "location",
            r.location_key.as_deref(),
            Os::Location,
        ),
        ("parentKey", "parent", r.parent_key.as_deref(), Os::Asset),
    ] {
        match value {
            Some(k) => match ref_parts(target, k) {
                Ok(p) => {
                    w.set(attr, Value::String(p[0].to_owned()));
                    sites.push((field, Some(p[1])));
                }
                Err(m) => w.error(field, m),
            },
            None if w.clears(field) => w.set(attr, Value::Null),
            None => {}
        }
    }
    let record_site = key.and_then(|k| Os::Asset.key_value(k, "siteid"));
    let site = site_of_write(&mut w, record_site, r.site_key.as_deref(), &sites);
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
    use crate::mapping::testing::{invalid_fields, unified};
    use crate::mapping::to_native as map;
    use serde_json::json;

    #[test]
    fn reads_an_asset() {
        assert_eq!(
            unified(Os::Asset, &fixtures::asset()),
            json!({
                "key": "11430/BEDFORD",
                "name": "Centrifugal Pump CP-101",
                "siteKey": "BEDFORD",
                "locationKey": "BR230/BEDFORD",
                "parentKey": "11400/BEDFORD",
                "serialNumber": "CP2400013",
                "makeName": "GRUNDFOS",
                "isActive": true,
                "nativeStatus": "OPERATING",
                "updatedAt": "2024-02-01T13:30:00Z",
                "concurrencyToken": "1207"
            })
        );
        let retired =
            from_native(&json!({"assetnum": "1", "siteid": "S", "status": "DECOMMISSIONED"}));
        assert_eq!(retired.is_active, Some(false));
    }

    #[test]
    fn writes_and_checks_sites() {
        let body = map(
            Os::Asset,
            r#"{"name":"Pump","locationKey":"BR230/BEDFORD","parentKey":"11400/BEDFORD","serialNumber":"X1"}"#,
            Mode::Create,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"description": "Pump", "serialnum": "X1", "location": "BR230",
                   "parent": "11400", "siteid": "BEDFORD"})
        );
        let err = map(
            Os::Asset,
            r#"{"locationKey":"BR230/BEDFORD","parentKey":"11400/TEXAS"}"#,
            Mode::Create,
            None,
        )
        .unwrap_err();
        assert_eq!(invalid_fields(err), vec!["parentKey"]);
        let err = map(
            Os::Asset,
            r#"{"isActive":false}"#,
            Mode::Update,
            Some("1/BEDFORD"),
        )
        .unwrap_err();
        assert_eq!(invalid_fields(err), vec!["isActive"]);
    }
}
