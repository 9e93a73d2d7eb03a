//! SAP entity → unified record.

use plantwire_sdk::{Level, log};
use serde_json::{Map, Value, json};

use super::{Conv, PO_STATUSES, PRIORITIES, custom_fields, simple_fields};
use crate::odata::{date_as_timestamp, date_of, decimal_of, etag, expanded, timestamp_of};
use crate::query::is_extension;
use crate::resources::{Resource, STOCK_KEYS, stock_key};

/// A non-empty string property (SAP writes initial values as `""`).
pub fn text(entity: &Map<String, Value>, name: &str) -> Option<String> {
    entity
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn flag(entity: &Map<String, Value>, name: &str) -> bool {
    entity.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// A decimal as a number; a value that a number cannot hold exactly is left out (and logged)
/// rather than rounded.
fn decimal(entity: &Map<String, Value>, name: &str) -> Option<Value> {
    match decimal_of(entity.get(name)?)? {
        Ok(n) => serde_json::Number::from_f64(n).map(Value::Number),
        Err(text) => {
            log(
                Level::Warn,
                &format!(
                    "SAP's {name} `{text}` has more digits than a JSON number keeps exactly; left out"
                ),
            );
            None
        }
    }
}

fn convert(entity: &Map<String, Value>, native: &str, conv: Conv) -> Option<Value> {
    let raw = entity.get(native)?;
    match conv {
        Conv::Text(_) => text(entity, native).map(Value::String),
        Conv::Timestamp => timestamp_of(raw).map(Value::String),
        Conv::DateAsTimestamp => date_as_timestamp(raw).map(Value::String),
        Conv::Date => date_of(raw).map(Value::String),
        Conv::Decimal(..) => decimal(entity, native),
        Conv::Enum(table) => {
            let code = raw.as_str()?;
            table
                .iter()
                .find(|(_, n)| *n == code)
                .map(|(u, _)| Value::String((*u).to_owned()))
        }
    }
}

/// A customer extension field's value as the unified record carries it: `/Date(ms)/` as
/// RFC 3339 UTC, other values as SAP sent them; `None` for an initial value.
fn extension_value(value: &Value) -> Option<Value> {
    match value {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) if s.starts_with("/Date(") => timestamp_of(value).map(Value::String),
        Value::String(_) | Value::Bool(_) | Value::Number(_) => Some(value.clone()),
        _ => None,
    }
}

/// The SAP properties under `customFields` that have a value: the entity's listed SAP fields,
/// then the customer's extension fields (`YY1_…`, `ZZ1_…`).
fn customs(res: Resource, entity: &Map<String, Value>) -> Option<Value> {
    let mut out = Map::new();
    for (name, value) in entity {
        if is_extension(name)
            && let Some(v) = extension_value(value)
        {
            out.insert(name.clone(), v);
        }
    }
    for (name, ..) in custom_fields(res) {
        match entity.get(*name) {
            // Initial values: "" for text, all zeros for numeric text (NUMC).
            Some(Value::String(s)) if !s.trim_start_matches('0').is_empty() => {
                out.insert((*name).to_owned(), json!(s));
            }
            Some(Value::Bool(b)) => {
                out.insert((*name).to_owned(), json!(b));
            }
            _ => {}
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// The unified status of a maintenance order from its system status line, and the line.
pub fn order_status(entity: &Map<String, Value>) -> (Option<&'static str>, Option<String>) {
    let line = text(entity, "SystemStatusText");
    let codes: Vec<&str> = line
        .as_deref()
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    let status = [
        ("DLFL", "cancelled"),
        ("LKD", "on-hold"),
        ("CLSD", "completed"),
        ("TECO", "completed"),
        ("REL", "in-progress"),
        ("CRTD", "open"),
    ]
    .into_iter()
    .find(|(code, _)| codes.contains(code))
    .map(|(_, unified)| unified);
    (status, line)
}

/// The statuses INAC / DLFL of an equipment or functional location.
pub fn object_status(res: Resource, entity: &Map<String, Value>) -> (bool, bool) {
    match res {
        Resource::Asset => (
            flag(entity, "EquipmentIsInactive"),
            flag(entity, "EquipmentIsMarkedForDeletion"),
        ),
        _ => (
            flag(entity, "FuncnlLocIsDeactivated"),
            flag(entity, "FuncnlLocIsMarkedForDeletion"),
        ),
    }
}

fn line_items(entity: &Map<String, Value>) -> Option<Value> {
    let items = expanded(entity, "to_PurchaseOrderItem")?;
    let mut out = Vec::new();
    for item in items {
        let Some(item) = item.as_object() else {
            continue;
        };
        let mut line = Map::new();
        if let Some(n) = text(item, "PurchaseOrderItem") {
            if let Ok(no) = n.parse::<i64>() {
                line.insert("lineNo".into(), json!(no));
            }
            line.insert("key".into(), json!(n));
        }
        for (unified, native) in [
            ("materialKey", "Material"),
            ("description", "PurchaseOrderItemText"),
            ("uomKey", "PurchaseOrderQuantityUnit"),
        ] {
            if let Some(v) = text(item, native) {
                line.insert(unified.into(), json!(v));
            }
        }
        for (unified, native) in [("quantity", "OrderQuantity"), ("price", "NetPriceAmount")] {
            if let Some(v) = decimal(item, native) {
                line.insert(unified.into(), v);
            }
        }
        out.push(Value::Object(line));
    }
    Some(Value::Array(out))
}

/// One SAP entity of `res` as a unified record.
pub fn to_unified(res: Resource, entity: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let key = match res {
        Resource::WorkOrder => text(entity, "MaintenanceOrder"),
        Resource::Asset => text(entity, "Equipment"),
        Resource::Location => text(entity, "FunctionalLocation"),
        Resource::PurchaseOrder => text(entity, "PurchaseOrder"),
        Resource::Vendor => text(entity, "Supplier"),
        Resource::Inventory => {
            let parts: Vec<String> = STOCK_KEYS
                .iter()
                .map(|k| {
                    entity
                        .get(*k)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                })
                .collect();
            (!parts[0].is_empty()).then(|| stock_key(&parts))
        }
    };
    if let Some(key) = key {
        out.insert("key".into(), json!(key));
    }
    for s in simple_fields(res) {
        if let Some(v) = convert(entity, s.native, s.conv) {
            out.insert(s.field.into(), v);
        }
    }
    match res {
        Resource::WorkOrder => {
            let (status, line) = order_status(entity);
            if let Some(s) = status {
                out.insert("status".into(), json!(s));
            }
            if let Some(l) = line {
                out.insert("nativeStatus".into(), json!(l));
            }
        }
        Resource::Asset | Resource::Location => {
            let (inactive, deleted) = object_status(res, entity);
            let status = if deleted {
                "marked-for-deletion"
            } else if inactive {
                "inactive"
            } else {
                "active"
            };
            out.insert("status".into(), json!(status));
            let mut codes = Vec::new();
            if inactive {
                codes.push("INAC");
            }
            if deleted {
                codes.push("DLFL");
            }
            if !codes.is_empty() {
                out.insert("nativeStatus".into(), json!(codes.join(" ")));
            }
            let active = if res == Resource::Location {
                entity
                    .get("FunctionalLocationIsActive")
                    .and_then(Value::as_bool)
                    .unwrap_or(!inactive && !deleted)
            } else {
                !inactive && !deleted
            };
            out.insert("isActive".into(), json!(active));
        }
        Resource::PurchaseOrder => {
            let code = text(entity, "PurchasingProcessingStatus");
            let deleted = text(entity, "PurchasingDocumentDeletionCode").is_some_and(|c| c == "L");
            let status = if deleted {
                Some("cancelled")
            } else {
                code.as_deref()
                    .and_then(|c| PO_STATUSES.iter().find(|(_, n)| *n == c))
                    .map(|(u, _)| *u)
            };
            if let Some(s) = status {
                out.insert("status".into(), json!(s));
            }
            if let Some(c) = code {
                out.insert("nativeStatus".into(), json!(c));
            }
            if let Some(items) = line_items(entity) {
                // The plant is kept per item in SAP; the first item's is the purchase order's.
                let plant = expanded(entity, "to_PurchaseOrderItem")
                    .and_then(|i| i.first())
                    .and_then(Value::as_object)
                    .and_then(|i| text(i, "Plant"));
                out.insert("lineItems".into(), items);
                if let Some(plant) = plant {
                    let mut custom = customs(res, entity)
                        .and_then(|v| v.as_object().cloned())
                        .unwrap_or_default();
                    custom.insert("Plant".into(), json!(plant));
                    out.insert("customFields".into(), Value::Object(custom));
                }
            }
        }
        Resource::Inventory => {
            if let (Some(plant), Some(sloc)) =
                (text(entity, "Plant"), text(entity, "StorageLocation"))
            {
                out.insert("locationKey".into(), json!(format!("{plant}/{sloc}")));
            }
        }
        Resource::Vendor => {
            let active = !flag(entity, "PurchasingIsBlocked") && !flag(entity, "DeletionIndicator");
            out.insert("isActive".into(), json!(active));
        }
    }
    if !out.contains_key("customFields")
        && let Some(c) = customs(res, entity)
    {
        out.insert("customFields".into(), c);
    }
    if res.has_etag()
        && let Some(tag) = etag(entity)
    {
        out.insert("concurrencyToken".into(), json!(tag));
    }
    out
}

/// One SAP entity as a unified record, with SAP's own entity under `raw` when `raw` asks for
/// it (as SAP returned it: `__metadata`, `/Date(ms)/` dates, decimal strings, expanded items).
pub fn record(res: Resource, entity: &Map<String, Value>, raw: bool) -> Map<String, Value> {
    let mut out = to_unified(res, entity);
    if raw {
        out.insert("raw".into(), Value::Object(entity.clone()));
    }
    out
}

/// The unified priority for a native one (for messages).
pub fn priority_label(code: &str) -> Option<&'static str> {
    PRIORITIES.iter().find(|(_, n)| *n == code).map(|(u, _)| *u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn obj(v: &Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn reads_a_maintenance_order() {
        let record = to_unified(Resource::WorkOrder, &obj(&fixtures::maintenance_order()));
        assert_eq!(
            Value::Object(record),
            json!({
                "key": "4000012",
                "title": "Replace mechanical seal 12",
                "status": "in-progress",
                "nativeStatus": "REL  MANC NMAT",
                "severity": "high",
                "assetKey": "10000012",
                "locationKey": "1010-SP-PUMP-12",
                "siteKey": "1010",
                "teamKey": "MECHANIK",
                "scheduledAt": "2024-03-01T07:00:00Z",
                "dueAt": "2024-03-01T15:00:00Z",
                "createdAt": "2024-02-28T00:00:00Z",
                "updatedAt": "2024-03-01T08:00:00Z",
                "customFields": {"MaintenanceOrderType": "PM01", "MaintenanceActivityType": "002", "MaintenancePlant": "1010", "MainWorkCenterPlant": "1010"},
                "concurrencyToken": "W/\"datetimeoffset'2024-03-01T08%3A00%3A00.0000002Z'\""
            })
        );
        assert_eq!(
            order_status(&obj(&json!({"SystemStatusText": "CRTD DLFL MANC"}))).0,
            Some("cancelled")
        );
        assert_eq!(
            order_status(&obj(&json!({"SystemStatusText": "TECO MANC"}))).0,
            Some("completed")
        );
        assert_eq!(priority_label("1"), Some("urgent"));
    }

    #[test]
    fn reads_a_purchase_order_with_exact_decimals() {
        let record = to_unified(Resource::PurchaseOrder, &obj(&fixtures::purchase_order()));
        assert_eq!(record["status"], "approved");
        assert_eq!(record["nativeStatus"], "05");
        assert_eq!(record["orderDate"], "2024-03-01");
        assert_eq!(record["customFields"]["Plant"], "1010");
        assert_eq!(
            record["lineItems"],
            json!([
                {"key": "10", "lineNo": 10, "materialKey": "TG11", "description": "Trading Good 11", "uomKey": "PC", "quantity": 4.0, "price": 61.05},
                {"key": "20", "lineNo": 20, "description": "Freight", "uomKey": "PC", "quantity": 1.5}
            ])
        );
        let deleted = json!({"PurchaseOrder": "1", "PurchasingProcessingStatus": "02", "PurchasingDocumentDeletionCode": "L"});
        assert_eq!(
            to_unified(Resource::PurchaseOrder, &obj(&deleted))["status"],
            "cancelled"
        );
    }

    #[test]
    fn reads_stock_equipment_and_suppliers() {
        let stock = to_unified(Resource::Inventory, &obj(&fixtures::stock_row()));
        assert_eq!(stock["key"], "TG11|1010|101A||||0||0||01");
        assert_eq!(stock["locationKey"], "1010/101A");
        assert_eq!(stock["quantity"], 125.5);
        assert_eq!(stock["customFields"], json!({"InventoryStockType": "01"}));
        let equipment = to_unified(Resource::Asset, &obj(&fixtures::equipment()));
        assert_eq!(equipment["status"], "inactive");
        assert_eq!(equipment["isActive"], false);
        assert_eq!(equipment["createdAt"], "2024-01-15T00:00:00Z");
        let supplier = to_unified(
            Resource::Vendor,
            &obj(
                &json!({"Supplier": "17300001", "SupplierName": "Bearing Solutions GmbH", "PurchasingIsBlocked": false, "DeletionIndicator": false, "CreationDate": "/Date(1704067200000)/"}),
            ),
        );
        assert_eq!(supplier["isActive"], true);
        assert!(supplier.get("concurrencyToken").is_none());
        // A quantity with more digits than a number holds is left out, not rounded.
        let huge = json!({"Material": "X", "MatlWrhsStkQtyInMatlBaseUnit": "12345678901234567.12300000000000"});
        assert!(
            to_unified(Resource::Inventory, &obj(&huge))
                .get("quantity")
                .is_none()
        );
    }
}
