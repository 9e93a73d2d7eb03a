//! Materials: MaintainX `/parts` ⇄ unified `material`.
//!
//! | unified | MaintainX |
//! |---|---|
//! | `key` | `id` |
//! | `name`, `description` | same names |
//! | `partNumber` | `vendors[].partNumber` of the first vendor that has one (read only) |
//! | `unitCost` | `unitCost` in cents (`120` → `1.2`) |
//! | `createdAt` / `updatedAt` | same names |
//! | `customFields` | `extraFields` |
//!
//! MaintainX keeps part numbers per vendor, has no unit of measure and no active flag, and its
//! `barcode` is an encoded barcode rather than a material code: `code`, `uomKey` and
//! `isActive` are not declared. Stock quantities stay on the part (see the `inventory` note in
//! `describe()`).

use plantwire_sdk::AdapterError;
use plantwire_sdk::model::Material;
use serde_json::Value;

use super::{Input, cents, cents_of, custom_fields_of, id_of, text_of, ts_of};

/// One MaintainX part as a unified material.
pub fn from_native(v: &Value) -> Material {
    let part_number = v
        .get("vendors")
        .and_then(Value::as_array)
        .and_then(|vendors| {
            vendors
                .iter()
                .filter_map(|vendor| vendor.get("partNumber").and_then(Value::as_str))
                .find(|p| !p.is_empty())
                .map(str::to_owned)
        });
    Material {
        key: id_of(v, "id"),
        code: None,
        part_number,
        name: text_of(v, "name"),
        description: text_of(v, "description"),
        uom_key: None,
        unit_cost: cents_of(v, "unitCost"),
        is_active: None,
        created_at: ts_of(v, "createdAt"),
        updated_at: ts_of(v, "updatedAt"),
        custom_fields: custom_fields_of(v),
        raw: None,
    }
}

/// The `POST /parts` or `PATCH /parts/{id}` body for a unified material.
pub(crate) fn to_native(input: &Input<Material>) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    w.name_and_description(r.name.as_deref(), r.description.as_deref());
    w.put("unitCost", "unitCost", r.unit_cost.as_ref(), cents);
    w.custom_fields(r.custom_fields.as_ref());
    w.finish()
}

#[cfg(test)]
mod tests {
    use crate::fixtures;
    use crate::mapping::testing::{invalid_fields, sorted, unified};
    use crate::mapping::{Mode, to_native as map_to_native};
    use crate::resources::Resource;
    use serde_json::json;

    #[test]
    fn reads_a_part() {
        assert_eq!(
            unified(Resource::Part, &fixtures::part(123456)),
            json!({
                "key": "123456",
                "partNumber": "XC230",
                "name": "Locknut - 1/8",
                "description": "Stainless steel locknut",
                "unitCost": 1.2,
                "createdAt": "2022-01-01T00:00:00Z",
                "updatedAt": "2024-02-01T10:00:00Z",
                "customFields": {"Bin": "A-12"}
            })
        );
    }

    #[test]
    fn writes_a_part() {
        let body = map_to_native(
            Resource::Part,
            r#"{"name":"Locknut","unitCost":1.2,"description":null}"#,
            Mode::Update,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"name": "Locknut", "unitCost": 120, "description": null})
        );
        let err = map_to_native(
            Resource::Part,
            r#"{"name":"Locknut","partNumber":"XC230","code":"X"}"#,
            Mode::Create,
            None,
        )
        .unwrap_err();
        assert_eq!(sorted(invalid_fields(err)), vec!["code", "partNumber"]);
    }
}
