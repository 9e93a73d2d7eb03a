//! Locations and vendors: `MXAPILOCATIONS` ⇄ unified `location`, `MXAPIVENDOR` (companies) ⇄
//! unified `vendor`.
//!
//! | unified `location` | Maximo location |
//! |---|---|
//! | `key` | `location/siteid` |
//! | `code` / `name` / `siteKey` | `location` / `description` / `siteid` |
//! | `isActive` | `status` is not `DECOMMISSIONED` |
//! | `updatedAt` | `changedate` |
//!
//! | unified `vendor` | Maximo company |
//! |---|---|
//! | `key` | `company/orgid` |
//! | `code` / `name` | `company` / `name` |
//! | `phone` / `address` | `phone1` / `address1` |
//! | `isActive` | not `disabled` |
//! | `updatedAt` | `changedate` |

use plantwire_sdk::AdapterError;
use plantwire_sdk::model::Party;
use serde_json::Value;

use super::{Input, Mode, key_from, text, text_of, ts_of};
use crate::structures::Os;

/// One Maximo location as a unified location.
pub fn location_from_native(v: &Value) -> Party {
    Party {
        key: key_from(v, Os::Location.pk()),
        code: text_of(v, "location"),
        name: text_of(v, "description"),
        site_key: text_of(v, "siteid"),
        is_active: text_of(v, "status").map(|s| s != "DECOMMISSIONED"),
        updated_at: ts_of(v, "changedate"),
        ..Party::default()
    }
}

/// The create or update body for a unified location.
pub(crate) fn location_to_native(input: &Input<Party>) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    w.put("code", "location", r.code.as_deref(), text);
    w.put("name", "description", r.name.as_deref(), text);
    if input.mode == Mode::Create {
        w.put("siteKey", "siteid", r.site_key.as_deref(), text);
    }
    w.finish()
}

/// One Maximo company as a unified vendor.
pub fn vendor_from_native(v: &Value) -> Party {
    Party {
        key: key_from(v, Os::Vendor.pk()),
        code: text_of(v, "company"),
        name: text_of(v, "name"),
        phone: text_of(v, "phone1"),
        address: text_of(v, "address1"),
        is_active: v.get("disabled").and_then(Value::as_bool).map(|d| !d),
        updated_at: ts_of(v, "changedate"),
        ..Party::default()
    }
}

/// The create or update body for a unified vendor.
pub(crate) fn vendor_to_native(input: &Input<Party>) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    w.put("code", "company", r.code.as_deref(), text);
    w.put("name", "name", r.name.as_deref(), text);
    w.put("phone", "phone1", r.phone.as_deref(), text);
    w.put("address", "address1", r.address.as_deref(), text);
    w.put("isActive", "disabled", r.is_active.as_ref(), |a: &bool| {
        Ok(Value::Bool(!a))
    });
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
    fn reads_locations_and_vendors() {
        assert_eq!(
            unified(Os::Location, &fixtures::location()),
            json!({"key": "BR230/BEDFORD", "code": "BR230", "name": "Pump House 2",
                   "siteKey": "BEDFORD", "isActive": true, "updatedAt": "2023-05-04T12:00:00Z",
                   "concurrencyToken": "311"})
        );
        assert_eq!(
            unified(Os::Vendor, &fixtures::vendor()),
            json!({"key": "GRUNDFOS/EAGLENA", "code": "GRUNDFOS", "name": "Grundfos Pumps Corp.",
                   "phone": "+1 800 555 1012", "address": "184 Industrial Parkway",
                   "isActive": true, "updatedAt": "2023-02-14T15:00:00Z", "concurrencyToken": "77"})
        );
    }

    #[test]
    fn writes_locations_and_vendors() {
        let body = map(
            Os::Location,
            r#"{"code":"BR999","name":"New bay","siteKey":"BEDFORD"}"#,
            Mode::Create,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"location": "BR999", "description": "New bay", "siteid": "BEDFORD"})
        );
        let body = map(
            Os::Vendor,
            r#"{"isActive":false,"phone":null}"#,
            Mode::Update,
            Some("GRUNDFOS/EAGLENA"),
        )
        .unwrap();
        assert_eq!(body, json!({"phone1": null, "disabled": true}));
        let err = map(Os::Location, r#"{"name":"x"}"#, Mode::Create, None).unwrap_err();
        assert_eq!(invalid_fields(err), vec!["code"]);
        let err = map(
            Os::Location,
            r#"{"code":"y"}"#,
            Mode::Update,
            Some("BR1/BEDFORD"),
        )
        .unwrap_err();
        assert_eq!(invalid_fields(err), vec!["code"]);
    }
}
