//! Materials and stock: `MXAPIITEM` ⇄ unified `material`, `MXAPIINVENTORY` ⇄ unified
//! `inventory`.
//!
//! | unified `material` | Maximo item |
//! |---|---|
//! | `key` | `itemnum/itemsetid` |
//! | `code` / `name` / `description` | `itemnum` / `description` / `description_longdescription` |
//! | `uomKey` | `issueunit` |
//! | `isActive` | `status` is `ACTIVE` |
//! | `updatedAt` | `changedate` |
//!
//! | unified `inventory` | Maximo inventory |
//! |---|---|
//! | `key` | `itemnum/itemsetid/location/siteid` |
//! | `materialKey` / `locationKey` | `itemnum/itemsetid` / `location/siteid` (a storeroom) |
//! | `quantity` / `unitCost` | `curbaltotal` / `avgcost` |

use plantwire_sdk::AdapterError;
use plantwire_sdk::model::{Inventory, Material};
use serde_json::Value;

use super::{Input, key_from, num_of, ref_parts, text, text_of, ts_of};
use crate::structures::Os;

/// One Maximo item as a unified material.
pub fn material_from_native(v: &Value) -> Material {
    Material {
        key: key_from(v, Os::Item.pk()),
        code: text_of(v, "itemnum"),
        part_number: None,
        name: text_of(v, "description"),
        description: text_of(v, "description_longdescription"),
        uom_key: text_of(v, "issueunit"),
        unit_cost: None,
        is_active: text_of(v, "status").map(|s| s == "ACTIVE"),
        created_at: None,
        updated_at: ts_of(v, "changedate"),
        custom_fields: None,
        raw: None,
    }
}

/// The create or update body for a unified material.
pub(crate) fn material_to_native(input: &Input<Material>) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    w.put("code", "itemnum", r.code.as_deref(), text);
    w.put("name", "description", r.name.as_deref(), text);
    w.put(
        "description",
        "description_longdescription",
        r.description.as_deref(),
        text,
    );
    w.put("uomKey", "issueunit", r.uom_key.as_deref(), text);
    w.finish()
}

/// One Maximo inventory record as unified inventory.
pub fn inventory_from_native(v: &Value) -> Inventory {
    Inventory {
        key: key_from(v, Os::Inventory.pk()),
        material_key: key_from(v, &["itemnum", "itemsetid"]),
        location_key: key_from(v, &["location", "siteid"]),
        quantity: num_of(v, "curbaltotal"),
        unit_cost: num_of(v, "avgcost"),
        updated_at: None,
        raw: None,
    }
}

/// The create body for unified inventory (adding an item to a storeroom).
pub(crate) fn inventory_to_native(input: &Input<Inventory>) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    if let Some(m) = r.material_key.as_deref() {
        match ref_parts(Os::Item, m) {
            Ok(p) => {
                w.set("itemnum", Value::String(p[0].to_owned()));
                w.set("itemsetid", Value::String(p[1].to_owned()));
            }
            Err(e) => w.error("materialKey", e),
        }
    }
    if let Some(l) = r.location_key.as_deref() {
        match ref_parts(Os::Location, l) {
            Ok(p) => {
                w.set("location", Value::String(p[0].to_owned()));
                w.set("siteid", Value::String(p[1].to_owned()));
            }
            Err(e) => w.error("locationKey", e),
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::mapping::testing::{invalid_fields, unified};
    use crate::mapping::{Mode, to_native as map};
    use serde_json::json;

    #[test]
    fn reads_items_and_stock() {
        assert_eq!(
            unified(Os::Item, &fixtures::item()),
            json!({"key": "SEAL-1002/SET1", "code": "SEAL-1002",
                   "name": "Mechanical seal, 1.375 in shaft", "uomKey": "EACH", "isActive": true,
                   "updatedAt": "2023-11-02T15:00:00Z", "concurrencyToken": "502"})
        );
        assert_eq!(
            unified(Os::Inventory, &fixtures::inventory()),
            json!({"key": "SEAL-1002/SET1/CENTRAL/BEDFORD", "materialKey": "SEAL-1002/SET1",
                   "locationKey": "CENTRAL/BEDFORD", "quantity": 14.0, "unitCost": 305.5})
        );
    }

    #[test]
    fn writes_items_and_stock() {
        let body = map(
            Os::Item,
            r#"{"code":"GSK-9","name":"Gasket","uomKey":"EACH"}"#,
            Mode::Create,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"itemnum": "GSK-9", "description": "Gasket", "issueunit": "EACH"})
        );
        let body = map(
            Os::Inventory,
            r#"{"materialKey":"GSK-9/SET1","locationKey":"CENTRAL/BEDFORD"}"#,
            Mode::Create,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"itemnum": "GSK-9", "itemsetid": "SET1", "location": "CENTRAL", "siteid": "BEDFORD"})
        );
        let err = map(
            Os::Inventory,
            r#"{"materialKey":"GSK-9","quantity":4}"#,
            Mode::Create,
            None,
        )
        .unwrap_err();
        assert_eq!(invalid_fields(err), vec!["quantity", "locationKey"]);
    }
}
