//! Purchase orders: `MXAPIPO` (with `POLINE`) ⇄ unified `purchase-order`.
//!
//! | unified | Maximo |
//! |---|---|
//! | `key` | `ponum/revisionnum/siteid` |
//! | `orderNo` / `title` | `ponum` / `description` |
//! | `vendorKey` / `siteKey` | `vendor/orgid` / `siteid` |
//! | `status` / `nativeStatus` | `status` (POSTATUS: `WAPPR` → `pending`, `APPR` → `approved`, `CLOSE` → `received`, `CAN` → `cancelled`; `INPRG`, `HOLD`, `REVISE` have no unified value) |
//! | `orderDate` / `dueAt` | `orderdate` / `requireddate` |
//! | `currencyKey` / `totalNetValue` | `currencycode` / `totalcost` |
//! | `lineItems[]` | `poline[]`: `key` and `lineNo` ← `polinenum`, `materialKey` ← `itemnum/itemsetid`, `description`, `quantity` ← `orderqty`, `uomKey` ← `orderunit`, `price` ← `unitcost` |
//! | `updatedAt` | `changedate` |
//!
//! Updates are sent with `patchtype: MERGE`: a line that names its `lineNo` changes that line,
//! a line without one is added, and lines left out are kept.

use plantwire_sdk::AdapterError;
use plantwire_sdk::model::{LineItem, PurchaseOrder};
use serde_json::{Map, Value};

use super::{
    Input, Mode, decimal, key_from, num_of, ref_parts, text, text_of, timestamp, ts_of, unified_of,
};
use crate::structures::Os;

/// POSTATUS values with a unified value.
pub const PO_STATUSES: &[(&str, &str)] = &[
    ("pending", "WAPPR"),
    ("approved", "APPR"),
    ("received", "CLOSE"),
    ("cancelled", "CAN"),
];

/// Every POSTATUS value the change-status action may set as `nativeStatus` (`REVISE` is
/// reached through Maximo's revision process, not a status change).
pub const PO_NATIVE_SETTABLE: &[&str] = &["WAPPR", "APPR", "INPRG", "HOLD", "CLOSE", "CAN"];

fn line_from_native(v: &Value) -> LineItem {
    let number = v.get("polinenum").and_then(Value::as_i64);
    LineItem {
        key: number.map(|n| n.to_string()),
        line_no: number,
        material_key: key_from(v, &["itemnum", "itemsetid"]),
        description: text_of(v, "description"),
        quantity: num_of(v, "orderqty"),
        uom_key: text_of(v, "orderunit"),
        price: num_of(v, "unitcost"),
    }
}

/// One Maximo purchase order as a unified purchase order.
pub fn from_native(v: &Value) -> PurchaseOrder {
    let native_status = text_of(v, "status");
    PurchaseOrder {
        key: key_from(v, Os::Po.pk()),
        order_no: text_of(v, "ponum"),
        title: text_of(v, "description"),
        vendor_key: key_from(v, &["vendor", "orgid"]),
        site_key: text_of(v, "siteid"),
        status: unified_of(PO_STATUSES, native_status.as_deref()),
        native_status,
        order_date: ts_of(v, "orderdate"),
        due_at: ts_of(v, "requireddate"),
        currency_key: text_of(v, "currencycode"),
        total_net_value: num_of(v, "totalcost"),
        line_items: v
            .get("poline")
            .and_then(Value::as_array)
            .map(|lines| lines.iter().map(line_from_native).collect()),
        created_at: None,
        updated_at: ts_of(v, "changedate"),
        custom_fields: None,
        raw: None,
    }
}

fn line_to_native(index: usize, line: &LineItem, w: &mut super::Writer<'_>) -> Value {
    let path = |f: &str| format!("lineItems[{index}].{f}");
    let mut out = Map::new();
    if let Some(n) = line.line_no {
        if n > 0 {
            out.insert("polinenum".into(), Value::from(n));
        } else {
            w.error(path("lineNo"), "a line number is a positive integer");
        }
    }
    if let Some(material) = line.material_key.as_deref() {
        match ref_parts(Os::Item, material) {
            Ok(p) => {
                out.insert("itemnum".into(), Value::String(p[0].to_owned()));
                out.insert("itemsetid".into(), Value::String(p[1].to_owned()));
            }
            Err(m) => w.error(path("materialKey"), m),
        }
    }
    if let Some(d) = &line.description {
        out.insert("description".into(), Value::String(d.clone()));
    }
    if let Some(u) = &line.uom_key {
        out.insert("orderunit".into(), Value::String(u.clone()));
    }
    for (field, attr, value) in [
        ("quantity", "orderqty", line.quantity),
        ("price", "unitcost", line.price),
    ] {
        if let Some(v) = value {
            match decimal(&v) {
                Ok(_) if field == "quantity" && v <= 0.0 => {
                    w.error(path(field), "the quantity must be greater than zero");
                }
                Ok(n) => {
                    out.insert(attr.into(), n);
                }
                Err(m) => w.error(path(field), m),
            }
        }
    }
    Value::Object(out)
}

/// The create or update body for a unified purchase order.
pub(crate) fn to_native(
    input: &Input<PurchaseOrder>,
    _key: Option<&str>,
) -> Result<Value, AdapterError> {
    let r = &input.record;
    let mut w = input.writer();
    w.put("orderNo", "ponum", r.order_no.as_deref(), text);
    w.put("title", "description", r.title.as_deref(), text);
    w.put("orderDate", "orderdate", r.order_date.as_deref(), timestamp);
    w.put("dueAt", "requireddate", r.due_at.as_deref(), timestamp);
    w.put(
        "currencyKey",
        "currencycode",
        r.currency_key.as_deref(),
        text,
    );
    if input.mode == Mode::Create {
        w.put("siteKey", "siteid", r.site_key.as_deref(), text);
    }
    match r.vendor_key.as_deref() {
        Some(v) => match ref_parts(Os::Vendor, v) {
            Ok(p) => w.set("vendor", Value::String(p[0].to_owned())),
            Err(m) => w.error("vendorKey", m),
        },
        None if w.clears("vendorKey") => w.set("vendor", Value::Null),
        None => {}
    }
    if let Some(lines) = &r.line_items {
        let native: Vec<Value> = lines
            .iter()
            .enumerate()
            .map(|(i, line)| line_to_native(i, line, &mut w))
            .collect();
        w.set("poline", Value::Array(native));
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
    fn reads_a_purchase_order_with_lines() {
        assert_eq!(
            unified(Os::Po, &fixtures::purchase_order()),
            json!({
                "key": "1017/0/BEDFORD",
                "orderNo": "1017",
                "title": "Pump seals and bearings",
                "vendorKey": "GRUNDFOS/EAGLENA",
                "siteKey": "BEDFORD",
                "status": "approved",
                "nativeStatus": "APPR",
                "orderDate": "2024-03-01T14:00:00Z",
                "dueAt": "2024-03-15T14:00:00Z",
                "currencyKey": "USD",
                "totalNetValue": 1021.6,
                "lineItems": [
                    {"key": "1", "lineNo": 1, "materialKey": "SEAL-1002/SET1",
                     "description": "Mechanical seal, 1.375 in shaft", "quantity": 3.0,
                     "uomKey": "EACH", "price": 312.0},
                    {"key": "2", "lineNo": 2, "materialKey": "BRG-1000/SET1",
                     "description": "Bearing, deep groove ball 6204-2RS", "quantity": 4.0,
                     "uomKey": "EACH", "price": 21.4}
                ],
                "updatedAt": "2024-03-02T15:10:00Z",
                "concurrencyToken": "88110"
            })
        );
        let held =
            from_native(&json!({"ponum": "1", "revisionnum": 0, "siteid": "S", "status": "HOLD"}));
        assert_eq!(held.status, None, "HOLD has no unified value");
        assert_eq!(held.key.as_deref(), Some("1/0/S"));
    }

    #[test]
    fn writes_lines_and_checks_them() {
        let body = map(
            Os::Po,
            r#"{"vendorKey":"GRUNDFOS/EAGLENA","siteKey":"BEDFORD","currencyKey":"USD",
                "lineItems":[{"materialKey":"SEAL-1002/SET1","quantity":3,"price":312},
                             {"description":"Freight","quantity":1.5,"uomKey":"EACH"}]}"#,
            Mode::Create,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"currencycode": "USD", "siteid": "BEDFORD", "vendor": "GRUNDFOS",
                   "poline": [{"itemnum": "SEAL-1002", "itemsetid": "SET1", "orderqty": 3.0, "unitcost": 312.0},
                              {"description": "Freight", "orderunit": "EACH", "orderqty": 1.5}]})
        );
        let err = map(
            Os::Po,
            r#"{"lineItems":[{"key":"1","quantity":1},{"price":2},{"materialKey":"X","quantity":-1}]}"#,
            Mode::Create,
            None,
        )
        .unwrap_err();
        assert_eq!(
            sorted(invalid_fields(err)),
            vec!["lineItems[0].key", "lineItems[1].quantity"]
        );
        let err = map(
            Os::Po,
            r#"{"lineItems":[{"materialKey":"X","quantity":-1}]}"#,
            Mode::Create,
            None,
        )
        .unwrap_err();
        assert_eq!(
            invalid_fields(err),
            vec!["lineItems[0].materialKey", "lineItems[0].quantity"]
        );
    }

    #[test]
    fn an_update_names_lines_by_number() {
        let body = map(
            Os::Po,
            r#"{"lineItems":[{"lineNo":1,"quantity":6},{"materialKey":"BRG-1000/SET1","quantity":2}],"title":"x"}"#,
            Mode::Update,
            Some("1017/0/BEDFORD"),
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"description": "x", "poline": [{"polinenum": 1, "orderqty": 6.0},
                {"itemnum": "BRG-1000", "itemsetid": "SET1", "orderqty": 2.0}]})
        );
        let err = map(
            Os::Po,
            r#"{"orderNo":"9"}"#,
            Mode::Update,
            Some("1017/0/BEDFORD"),
        )
        .unwrap_err();
        assert_eq!(invalid_fields(err), vec!["orderNo"]);
    }
}
