//! Unified record → SAP request body, checked against `describe()`.

use plantwire_sdk::contract::{EntityInfo, FieldFlags, FieldType};
use plantwire_sdk::{AdapterError, FieldError};
use serde_json::{Map, Value, json};

use super::{Conv, custom_fields, simple_fields};
use crate::describe;
use crate::odata::{wire_date, wire_decimal, wire_timestamp};
use crate::resources::Resource;

/// Whether a record is being created or patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// `json` as a JSON object, or `invalid` under `field`.
pub fn json_object(json: &str, field: &str) -> Result<Map<String, Value>, AdapterError> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AdapterError::invalid(field, "must be a JSON object")),
        Err(e) => Err(AdapterError::invalid(field, format!("not valid JSON: {e}"))),
    }
}

fn fits(ty: &FieldType, v: &Value) -> bool {
    match ty {
        FieldType::String
        | FieldType::Text
        | FieldType::Timestamp
        | FieldType::Date
        | FieldType::Reference(_)
        | FieldType::Enumeration => v.is_string(),
        FieldType::Integer => v.is_i64() || v.is_u64(),
        FieldType::Decimal => v.is_number(),
        FieldType::Boolean => v.is_boolean(),
        FieldType::List => v.is_array(),
        FieldType::References(_) => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        FieldType::Object => v.is_object(),
    }
}

fn allowed(flags: FieldFlags, mode: Mode) -> bool {
    match mode {
        Mode::Create => flags.creatable,
        Mode::Update => flags.updatable,
    }
}

/// Every problem with the fields of `raw` against the flags declared for `entity`.
fn check(entity: &EntityInfo, raw: &Map<String, Value>, mode: Mode) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, value) in raw {
        let Some(field) = entity.field(name) else {
            errors.push(err(
                name,
                format!("SAP S/4HANA has no `{name}` on a {}", entity.name),
            ));
            continue;
        };
        if !allowed(field.flags, mode) {
            let verb = if mode == Mode::Create {
                "create"
            } else {
                "update"
            };
            let why = field
                .note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            errors.push(err(name, format!("`{name}` cannot be set on {verb}{why}")));
            continue;
        }
        if value.is_null() {
            if mode == Mode::Update && field.flags.required_on_create {
                errors.push(err(
                    name,
                    format!("`{name}` cannot be cleared: SAP requires it"),
                ));
            }
            continue;
        }
        if !fits(&field.ty, value) {
            errors.push(err(
                name,
                format!(
                    "`{name}` has the wrong type (expected {})",
                    field.ty.label()
                ),
            ));
            continue;
        }
        if let (FieldType::List, Value::Array(items)) = (&field.ty, value) {
            for (i, item) in items.iter().enumerate() {
                let Value::Object(item) = item else {
                    errors.push(err(format!("{name}[{i}]"), "must be an object"));
                    continue;
                };
                for (k, v) in item {
                    let path = format!("{name}[{i}].{k}");
                    match field.item_fields.iter().find(|f| &f.name == k) {
                        None => errors.push(err(
                            path,
                            format!("SAP S/4HANA has no `{k}` on a line item"),
                        )),
                        Some(spec) if !allowed(spec.flags, mode) => {
                            errors.push(err(path, format!("`{k}` cannot be set")));
                        }
                        Some(spec) if !v.is_null() && !fits(&spec.ty, v) => {
                            errors.push(err(
                                path,
                                format!("`{k}` has the wrong type (expected {})", spec.ty.label()),
                            ));
                        }
                        Some(_) => {}
                    }
                }
                for spec in field
                    .item_fields
                    .iter()
                    .filter(|f| f.flags.required_on_create)
                {
                    if item.get(&spec.name).is_none_or(Value::is_null) {
                        errors.push(err(
                            format!("{name}[{i}].{}", spec.name),
                            format!("`{}` is required on every line", spec.name),
                        ));
                    }
                }
            }
        }
    }
    if mode == Mode::Create {
        for f in entity.fields.iter().filter(|f| f.flags.required_on_create) {
            if raw.get(&f.name).is_none_or(Value::is_null) {
                errors.push(err(
                    &f.name,
                    format!("`{}` is required to create a {}", f.name, entity.name),
                ));
            }
        }
    }
    errors
}

fn text_value(field: &str, v: &str, max: usize) -> Result<Value, FieldError> {
    if v.chars().count() > max {
        return Err(err(
            field,
            format!(
                "at most {max} characters in SAP (got {})",
                v.chars().count()
            ),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(err(field, "control characters are not allowed"));
    }
    Ok(json!(v))
}

fn convert(field: &str, conv: Conv, v: &Value) -> Result<Value, FieldError> {
    let s = v.as_str().unwrap_or("");
    match conv {
        Conv::Text(max) => text_value(field, s, max),
        Conv::Timestamp => wire_timestamp(s)
            .map(Value::String)
            .ok_or_else(|| err(field, format!("`{s}` is not an RFC 3339 timestamp"))),
        Conv::Date => wire_date(s)
            .map(Value::String)
            .ok_or_else(|| err(field, format!("`{s}` is not a date (YYYY-MM-DD)"))),
        Conv::Enum(table) => table
            .iter()
            .find(|(u, _)| *u == s)
            .map(|(_, n)| json!(n))
            .ok_or_else(|| {
                let values: Vec<String> = table.iter().map(|(u, _)| format!("`{u}`")).collect();
                err(field, format!("`{s}` is not one of {}", values.join(", ")))
            }),
        Conv::Decimal(p, sc) => v
            .as_f64()
            .ok_or_else(|| err(field, "must be a number"))
            .and_then(|n| {
                wire_decimal(n, p, sc)
                    .map(Value::String)
                    .map_err(|m| err(field, m))
            }),
        Conv::DateAsTimestamp => Err(err(field, "set by SAP")),
    }
}

/// The value SAP takes to clear a property.
fn cleared(conv: Conv) -> Value {
    match conv {
        Conv::Text(_) | Conv::Enum(_) => json!(""),
        _ => Value::Null,
    }
}

fn customs(
    res: Resource,
    value: &Value,
    mode: Mode,
    errors: &mut Vec<FieldError>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(map) = value.as_object() else {
        return out;
    };
    let spec = custom_fields(res);
    for (k, v) in map {
        let path = format!("customFields.{k}");
        let Some((_, max, _, updatable)) = spec.iter().find(|(n, ..)| n == k) else {
            if crate::query::is_extension(k) {
                errors.push(err(
                    path,
                    format!(
                        "`{k}` is a customer extension field: this adapter version reads \
                         extension fields but does not write them"
                    ),
                ));
                continue;
            }
            let known: Vec<&str> = spec.iter().map(|(n, ..)| *n).collect();
            errors.push(err(
                path,
                format!(
                    "not an SAP field this adapter writes (it writes: {})",
                    known.join(", ")
                ),
            ));
            continue;
        };
        if mode == Mode::Update && !updatable {
            errors.push(err(path, format!("`{k}` cannot be changed by an update")));
            continue;
        }
        match v {
            Value::String(s) => match text_value(&path, s, *max) {
                Ok(v) => {
                    out.insert(k.clone(), v);
                }
                Err(e) => errors.push(e),
            },
            Value::Null if mode == Mode::Update => {
                out.insert(k.clone(), json!(""));
            }
            _ => errors.push(err(path, "must be a string")),
        }
    }
    if mode == Mode::Create {
        for (name, _, required, _) in spec {
            if *required
                && map
                    .get(*name)
                    .is_none_or(|v| v.as_str().is_none_or(str::is_empty))
            {
                errors.push(err(
                    format!("customFields.{name}"),
                    format!("SAP requires {name} to create a {}", res.entity()),
                ));
            }
        }
    }
    out
}

fn line_items(items: &[Value], plant: Option<&Value>, errors: &mut Vec<FieldError>) -> Value {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(item) = item.as_object() else {
            continue;
        };
        let path = |k: &str| format!("lineItems[{i}].{k}");
        let mut line = Map::new();
        let number = match item.get("lineNo").and_then(Value::as_i64) {
            Some(n) if (1..=99_999).contains(&n) => n,
            Some(n) => {
                errors.push(err(
                    path("lineNo"),
                    format!("{n} is not an SAP item number (1–99999)"),
                ));
                continue;
            }
            None => (i as i64 + 1) * 10,
        };
        line.insert("PurchaseOrderItem".into(), json!(number.to_string()));
        if let Some(plant) = plant {
            line.insert("Plant".into(), plant.clone());
        }
        for (unified, native, conv) in [
            ("materialKey", "Material", Conv::Text(40)),
            ("description", "PurchaseOrderItemText", Conv::Text(40)),
            ("uomKey", "PurchaseOrderQuantityUnit", Conv::Text(3)),
            ("quantity", "OrderQuantity", Conv::Decimal(13, 3)),
            ("price", "NetPriceAmount", Conv::Decimal(12, 3)),
        ] {
            if let Some(v) = item.get(unified).filter(|v| !v.is_null()) {
                match convert(&path(unified), conv, v) {
                    Ok(v) => {
                        line.insert(native.into(), v);
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        if !line.contains_key("Material") && !line.contains_key("PurchaseOrderItemText") {
            errors.push(err(
                path("materialKey"),
                "give a material or a description: SAP needs one of them",
            ));
        }
        out.push(Value::Object(line));
    }
    let mut numbers: Vec<&Value> = out
        .iter()
        .filter_map(|l| l.get("PurchaseOrderItem"))
        .collect();
    numbers.sort_by_key(|v| v.as_str().unwrap_or("").to_owned());
    numbers.dedup();
    if numbers.len() != out.len() {
        errors.push(err("lineItems", "two lines have the same lineNo"));
    }
    json!({ "results": out })
}

/// The SAP body for creating (`POST`) or patching (`PATCH`) a record of `res`.
pub fn to_native(
    res: Resource,
    json: &str,
    mode: Mode,
) -> Result<Map<String, Value>, AdapterError> {
    let raw = json_object(json, "(record)")?;
    let decl = describe::entity(res);
    let mut errors = check(decl, &raw, mode);
    if !errors.is_empty() {
        return Err(AdapterError::Invalid(errors));
    }
    let mut body = Map::new();
    for s in simple_fields(res) {
        match raw.get(s.field) {
            None => {}
            Some(Value::Null) => {
                body.insert(s.native.into(), cleared(s.conv));
            }
            Some(v) => match convert(s.field, s.conv, v) {
                Ok(v) => {
                    body.insert(s.native.into(), v);
                }
                Err(e) => errors.push(e),
            },
        }
    }
    let custom = raw
        .get("customFields")
        .map(|v| customs(res, v, mode, &mut errors))
        .unwrap_or_default();
    let plant = custom.get("Plant").cloned();
    for (k, v) in custom {
        if res == Resource::PurchaseOrder && k == "Plant" {
            continue;
        }
        body.insert(k, v);
    }
    if let Some(Value::Array(items)) = raw.get("lineItems") {
        if items.is_empty() {
            errors.push(err("lineItems", "a purchase order needs at least one line"));
        }
        body.insert(
            "to_PurchaseOrderItem".into(),
            line_items(items, plant.as_ref(), &mut errors),
        );
    }
    if errors.is_empty() {
        Ok(body)
    } else {
        Err(AdapterError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: AdapterError) -> Vec<String> {
        match e {
            AdapterError::Invalid(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn writes_a_work_order() {
        let body = to_native(
            Resource::WorkOrder,
            r#"{"title":"Replace seal","severity":"urgent","siteKey":"1010","teamKey":"MECHANIK",
                "assetKey":"10000001","scheduledAt":"2024-03-01T09:00:00+01:00",
                "customFields":{"MaintenanceOrderType":"PM01"}}"#,
            Mode::Create,
        )
        .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({
                "MaintenanceOrderDesc": "Replace seal", "MaintPriority": "1",
                "MaintenancePlanningPlant": "1010", "MainWorkCenter": "MECHANIK",
                "Equipment": "10000001", "MaintOrdBasicStartDateTime": "/Date(1709280000000+0000)/",
                "MaintenanceOrderType": "PM01"
            })
        );
        let e = to_native(Resource::WorkOrder, r#"{"title":"x"}"#, Mode::Create).unwrap_err();
        let mut f = fields(e);
        f.sort();
        assert_eq!(f, ["customFields", "siteKey", "teamKey"]);
        let e = to_native(
            Resource::WorkOrder,
            r#"{"title":"x","siteKey":"1010","teamKey":"M","customFields":{}}"#,
            Mode::Create,
        )
        .unwrap_err();
        assert_eq!(fields(e), ["customFields.MaintenanceOrderType"]);
        let e = to_native(
            Resource::WorkOrder,
            &format!(r#"{{"title":"{}"}}"#, "x".repeat(41)),
            Mode::Update,
        )
        .unwrap_err();
        assert_eq!(fields(e), ["title"]);
        let e = to_native(Resource::WorkOrder, r#"{"status":"completed","siteKey":"1710","customFields":{"MaintenanceOrderType":"PM02"}}"#, Mode::Update).unwrap_err();
        let mut f = fields(e);
        f.sort();
        assert_eq!(f, ["siteKey", "status"]);
        let e = to_native(
            Resource::WorkOrder,
            r#"{"customFields":{"MaintenanceOrderType":"PM02"}}"#,
            Mode::Update,
        )
        .unwrap_err();
        assert_eq!(fields(e), ["customFields.MaintenanceOrderType"]);
        let body = to_native(
            Resource::WorkOrder,
            r#"{"assetKey":null,"dueAt":null}"#,
            Mode::Update,
        )
        .unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"Equipment": "", "MaintOrdBasicEndDateTime": null})
        );
    }

    #[test]
    fn writes_a_purchase_order_without_loss() {
        let body = to_native(
            Resource::PurchaseOrder,
            r#"{"vendorKey":"17300001","orderDate":"2024-03-01","currencyKey":"EUR",
                "customFields":{"CompanyCode":"1010","PurchaseOrderType":"NB","PurchasingOrganization":"1010","PurchasingGroup":"001","Plant":"1010"},
                "lineItems":[{"materialKey":"TG11","quantity":4,"uomKey":"PC","price":61.05},
                             {"lineNo":30,"description":"Freight","quantity":1.5}]}"#,
            Mode::Create,
        )
        .unwrap();
        assert_eq!(body["PurchaseOrderDate"], "/Date(1709251200000)/");
        assert!(body.get("Plant").is_none());
        assert_eq!(
            body["to_PurchaseOrderItem"],
            json!({"results": [
                {"PurchaseOrderItem": "10", "Plant": "1010", "Material": "TG11", "OrderQuantity": "4", "PurchaseOrderQuantityUnit": "PC", "NetPriceAmount": "61.05"},
                {"PurchaseOrderItem": "30", "Plant": "1010", "PurchaseOrderItemText": "Freight", "OrderQuantity": "1.5"}
            ]})
        );
        let e = to_native(
            Resource::PurchaseOrder,
            r#"{"vendorKey":"1","customFields":{"CompanyCode":"1010","PurchaseOrderType":"NB","PurchasingOrganization":"1010","PurchasingGroup":"001","Plant":"1010"},
                "lineItems":[{"materialKey":"TG11","quantity":1.2345},{"quantity":1}]}"#,
            Mode::Create,
        )
        .unwrap_err();
        let mut f = fields(e);
        f.sort();
        assert_eq!(f, ["lineItems[0].quantity", "lineItems[1].materialKey"]);
        let e =
            to_native(Resource::PurchaseOrder, r#"{"lineItems":[]}"#, Mode::Update).unwrap_err();
        assert_eq!(fields(e), ["lineItems"]);
    }

    #[test]
    fn locations_take_their_code_once() {
        let body = to_native(
            Resource::Location,
            r#"{"code":"1010-SP-NEW","name":"New area","customFields":{"FunctionalLocationCategory":"M","FuncLocationStructure":"YSTR1"}}"#,
            Mode::Create,
        )
        .unwrap();
        assert_eq!(body["FunctionalLocation"], "1010-SP-NEW");
        let e = to_native(Resource::Location, r#"{"code":"X"}"#, Mode::Update).unwrap_err();
        assert_eq!(fields(e), ["code"]);
        assert!(to_native(Resource::Inventory, r#"{"quantity":1}"#, Mode::Update).is_err());
        assert!(to_native(Resource::Asset, "[1]", Mode::Create).is_err());
    }
}
