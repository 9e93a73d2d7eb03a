//! What an adapter returns, checked against what it declared.
//!
//! Every record a connection hands to a caller (from `list`, `get`, `create`, `update` and
//! `action`) passes [`check_record`] first:
//!
//! * `key` is a non-empty string. A record without one cannot be addressed, paged or written
//!   back, so it is never handed on: the call fails with a contract error.
//! * Members the entity does not declare are removed. The envelope members are the
//!   exceptions the contract names: `raw` (only when the caller asked for it, and then it
//!   must be an object) and whatever the entity declares itself (`customFields`,
//!   `concurrencyToken`, ...).
//! * Declared types hold: `string`/`text` a string, `integer` a JSON integer, `decimal` a
//!   number, `boolean` a boolean, `timestamp` an RFC 3339 date-time, `date` a
//!   `YYYY-MM-DD` date, `reference` a key string, `references` a list of key strings, `enum`
//!   one of the declared values, `list` a list of objects whose members are checked against
//!   the declared item fields, `object` an object. `null` stands for "no value" in any field
//!   but `key`.
//!
//! Every violation is a [`ContractViolation`] naming the adapter, the entity and the field;
//! each is logged as a warning and counted on the connection
//! ([`Connection::contract_violations`](super::Connection::contract_violations)).
//!
//! **What a violation does to the call** is the connection's [`OutputPolicy`]. By default
//! ([`OutputPolicy::DropInvalid`]) a wrong-typed or undeclared member is removed and the
//! record is handed on: one bad timestamp in a page of two hundred records must not make the
//! page (and every page after it, whose cursor it carries) unreachable, and a caller that
//! reads a field always gets the declared type or nothing. [`OutputPolicy::Strict`] fails the
//! call instead, for conformance runs and adapter development.
//!
//! An `action` returns "the record after it" (contract 0.2), but its result shape is not
//! declared per action. A result without `key` is therefore counted as a violation and
//! handed on unchanged under [`OutputPolicy::DropInvalid`] (refused under `Strict`); a result
//! with `key` is checked as a record of the entity.
//!
//! This module must never hand on a member the declaration does not allow, nor a declared
//! member of the wrong type.

use plantwire_sdk::{EntityInfo, FieldType, ItemField};
use serde_json::{Map, Value};

/// What a violation of the declaration does to the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputPolicy {
    /// Remove the offending member, count and log the violation, hand the record on. A
    /// record without a valid `key` still fails the call.
    #[default]
    DropInvalid,
    /// Fail the call on the first violation.
    Strict,
}

/// One place where an adapter's output breaks its declaration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("adapter `{adapter}`, entity `{entity}`, field `{field}`: {problem}")]
pub struct ContractViolation {
    /// The adapter's system id.
    pub adapter: String,
    /// The entity the record belongs to.
    pub entity: String,
    /// The member at fault (`lineItems[2].price` for an item field).
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Whether a violation removes a member (the record survives) or makes the record unusable.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Severity {
    /// The member was removed.
    Dropped,
    /// The record cannot be handed on under any policy.
    Fatal,
}

/// Checks `record` against `decl` in place: removes what the declaration does not allow and
/// returns every violation found, with its severity. `include_raw` keeps a `raw` object.
pub(super) fn check_record(
    adapter: &str,
    decl: &EntityInfo,
    record: &mut Map<String, Value>,
    include_raw: bool,
) -> Vec<(ContractViolation, Severity)> {
    let mut found = Vec::new();
    let violation = |field: &str, problem: String| ContractViolation {
        adapter: adapter.to_owned(),
        entity: decl.name.clone(),
        field: field.to_owned(),
        problem,
    };
    match record.get("key") {
        Some(Value::String(k)) if !k.is_empty() => {}
        Some(other) => found.push((
            violation(
                "key",
                format!("must be a non-empty string, not {}", kind(other)),
            ),
            Severity::Fatal,
        )),
        None => found.push((
            violation(
                "key",
                "is missing; every record has a string `key`".to_owned(),
            ),
            Severity::Fatal,
        )),
    }
    let mut remove = Vec::new();
    for (name, value) in record.iter_mut() {
        if name == "key" {
            continue;
        }
        if name == "raw" && include_raw {
            if !value.is_object() {
                found.push((
                    violation(
                        "raw",
                        "the system's payload must be a JSON object".to_owned(),
                    ),
                    Severity::Dropped,
                ));
                remove.push(name.clone());
            }
            continue;
        }
        if name == "raw" {
            // Not asked for: removed by shaping, not a violation.
            continue;
        }
        let Some(field) = decl.field(name) else {
            found.push((
                violation(name, "is not declared by the entity".to_owned()),
                Severity::Dropped,
            ));
            remove.push(name.clone());
            continue;
        };
        let enum_values: Vec<&str> = field.enum_values.iter().map(|v| v.value.as_str()).collect();
        let mut nested = Vec::new();
        if let Err(problem) = check_value(
            &field.ty,
            &enum_values,
            &field.item_fields,
            name,
            value,
            &mut nested,
        ) {
            found.push((violation(name, problem), Severity::Dropped));
            remove.push(name.clone());
        }
        for (path, problem) in nested {
            found.push((violation(&path, problem), Severity::Dropped));
        }
    }
    for name in remove {
        record.remove(&name);
    }
    found
}

/// A short name of a JSON value's kind, for messages (never the value: it may be anything).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn is_rfc3339(s: &str) -> bool {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

fn is_date(s: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    s.len() == 10 && time::Date::parse(s, &format).is_ok()
}

/// Checks one value against its declared type. `Err` when the value as a whole is wrong
/// (the member is removed); problems inside list items go to `nested` (the offending item
/// member is removed, the list stays).
fn check_value(
    ty: &FieldType,
    enum_values: &[&str],
    item_fields: &[ItemField],
    path: &str,
    value: &mut Value,
    nested: &mut Vec<(String, String)>,
) -> Result<(), String> {
    if value.is_null() {
        return Ok(());
    }
    let wrong =
        |expected: &str, value: &Value| Err(format!("must be {expected}, not {}", kind(value)));
    match ty {
        FieldType::String | FieldType::Text => match value {
            Value::String(_) => Ok(()),
            other => wrong("a string", other),
        },
        FieldType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(()),
            other => wrong("an integer", other),
        },
        FieldType::Decimal => match value {
            Value::Number(_) => Ok(()),
            other => wrong("a number", other),
        },
        FieldType::Boolean => match value {
            Value::Bool(_) => Ok(()),
            other => wrong("a boolean", other),
        },
        FieldType::Timestamp => match value {
            Value::String(s) if is_rfc3339(s) => Ok(()),
            Value::String(_) => Err("must be an RFC 3339 timestamp".to_owned()),
            other => wrong("an RFC 3339 timestamp", other),
        },
        FieldType::Date => match value {
            Value::String(s) if is_date(s) => Ok(()),
            Value::String(_) => Err("must be a date (YYYY-MM-DD)".to_owned()),
            other => wrong("a date (YYYY-MM-DD)", other),
        },
        FieldType::Reference(target) => match value {
            Value::String(s) if !s.is_empty() => Ok(()),
            other => wrong(&format!("the key (a string) of a {target}"), other),
        },
        FieldType::References(target) => match value {
            Value::Array(items)
                if items
                    .iter()
                    .all(|i| matches!(i, Value::String(s) if !s.is_empty())) =>
            {
                Ok(())
            }
            other => wrong(&format!("a list of {target} keys (strings)"), other),
        },
        FieldType::Enumeration => match value {
            Value::String(s) if enum_values.contains(&s.as_str()) => Ok(()),
            Value::String(_) => Err(format!(
                "is not one of the declared values ({})",
                enum_values.join(", ")
            )),
            other => wrong("one of the declared values", other),
        },
        FieldType::Object => match value {
            Value::Object(_) => Ok(()),
            other => wrong("an object", other),
        },
        FieldType::List => {
            let Value::Array(items) = value else {
                return wrong("a list of objects", value);
            };
            if items.iter().any(|i| !i.is_object()) {
                return Err("must be a list of objects".to_owned());
            }
            for (i, item) in items.iter_mut().enumerate() {
                let Value::Object(members) = item else {
                    continue;
                };
                let mut remove = Vec::new();
                for (name, member) in members.iter_mut() {
                    let at = format!("{path}[{i}].{name}");
                    let Some(decl) = item_fields.iter().find(|f| &f.name == name) else {
                        nested.push((at, "is not a declared item field".to_owned()));
                        remove.push(name.clone());
                        continue;
                    };
                    // Item fields declare no enum values or items of their own: an
                    // enumeration or list there is checked only for its JSON kind.
                    let ok = match (&decl.ty, &*member) {
                        (_, Value::Null) => Ok(()),
                        (FieldType::Enumeration, Value::String(_)) => Ok(()),
                        (FieldType::Enumeration, other) => wrong("a string", other),
                        (FieldType::List, Value::Array(_)) => Ok(()),
                        (FieldType::List, other) => wrong("a list", other),
                        (ty, _) => check_value(ty, &[], &[], &at, member, nested),
                    };
                    if let Err(problem) = ok {
                        nested.push((at, problem));
                        remove.push(name.clone());
                    }
                }
                for name in remove {
                    members.remove(&name);
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plantwire_sdk::{EnumValue, Field, FieldFlags, Support};
    use serde_json::json;

    fn decl() -> EntityInfo {
        let mut status = Field::new("status", FieldType::Enumeration, FieldFlags::READ);
        status.enum_values = ["open", "done"]
            .iter()
            .map(|v| EnumValue {
                value: (*v).to_owned(),
                native: v.to_uppercase(),
                label: None,
            })
            .collect();
        let mut lines = Field::new("lineItems", FieldType::List, FieldFlags::READ);
        lines.item_fields = vec![
            ItemField {
                name: "lineNo".into(),
                ty: FieldType::Integer,
                flags: FieldFlags::READ,
                native_name: None,
                note: None,
            },
            ItemField {
                name: "price".into(),
                ty: FieldType::Decimal,
                flags: FieldFlags::READ,
                native_name: None,
                note: None,
            },
        ];
        EntityInfo {
            name: "purchase-order".into(),
            native_name: "po".into(),
            list: Support::Supported,
            get: Support::Supported,
            create: Support::no("no"),
            update: Support::no("no"),
            delete: Support::no("no"),
            actions: vec![],
            fields: vec![
                Field::new("key", FieldType::String, FieldFlags::READ),
                Field::new("title", FieldType::String, FieldFlags::READ),
                Field::new("quantity", FieldType::Integer, FieldFlags::READ),
                Field::new("total", FieldType::Decimal, FieldFlags::READ),
                Field::new("isActive", FieldType::Boolean, FieldFlags::READ),
                Field::new("updatedAt", FieldType::Timestamp, FieldFlags::READ),
                Field::new("orderDate", FieldType::Date, FieldFlags::READ),
                Field::new(
                    "vendorKey",
                    FieldType::Reference("vendor".into()),
                    FieldFlags::READ,
                ),
                Field::new(
                    "assetKeys",
                    FieldType::References("asset".into()),
                    FieldFlags::READ,
                ),
                Field::new("customFields", FieldType::Object, FieldFlags::READ),
                status,
                lines,
            ],
            default_page_size: 10,
            max_page_size: 10,
            max_batch_size: 10,
            concurrency_token: false,
            note: None,
        }
    }

    fn check(record: Value, include_raw: bool) -> (Value, Vec<(ContractViolation, Severity)>) {
        let Value::Object(mut map) = record else {
            unreachable!("tests pass objects")
        };
        let found = check_record("demo", &decl(), &mut map, include_raw);
        (Value::Object(map), found)
    }

    fn fields(found: &[(ContractViolation, Severity)]) -> Vec<String> {
        found.iter().map(|(v, _)| v.field.clone()).collect()
    }

    #[test]
    fn a_record_that_keeps_its_declaration_passes_unchanged() {
        let good = json!({
            "key": "PO-1", "title": "Pumps", "quantity": 3, "total": 12.5, "isActive": true,
            "updatedAt": "2024-03-01T10:00:00Z", "orderDate": "2024-03-01",
            "vendorKey": "V-9", "assetKeys": ["A-1", "A-2"], "customFields": {"x": 1},
            "status": "open", "lineItems": [{"lineNo": 1, "price": 4.25}],
            "title2": null
        });
        let (mut expected, _) = (good.clone(), ());
        let (out, found) = check(good, false);
        assert_eq!(fields(&found), vec!["title2".to_owned()]);
        if let Value::Object(m) = &mut expected {
            m.remove("title2");
        }
        assert_eq!(out, expected);
        let (_, found) = check(json!({"key": "1", "title": null, "status": null}), false);
        assert!(found.is_empty(), "null is no value: {found:?}");
    }

    #[test]
    fn wrong_types_are_removed_and_named() {
        let (out, found) = check(
            json!({
                "key": "PO-1",
                "quantity": 2.5, "total": "12.50", "isActive": "yes",
                "updatedAt": "yesterday", "orderDate": "2024-13-01",
                "vendorKey": 9, "assetKeys": ["A-1", 2], "customFields": [],
                "status": "lost", "title": {"nested": true},
                "lineItems": [{"lineNo": "one", "price": 2, "secret": "x"}],
                "evil": "<script>"
            }),
            false,
        );
        let names = fields(&found);
        for f in [
            "quantity",
            "total",
            "isActive",
            "updatedAt",
            "orderDate",
            "vendorKey",
            "assetKeys",
            "customFields",
            "status",
            "title",
            "lineItems[0].lineNo",
            "lineItems[0].secret",
            "evil",
        ] {
            assert!(names.contains(&f.to_owned()), "{f}: {names:?}");
        }
        assert!(found.iter().all(|(_, s)| *s == Severity::Dropped));
        assert_eq!(out, json!({"key": "PO-1", "lineItems": [{"price": 2}]}));
        let status = found.iter().find(|(v, _)| v.field == "status").unwrap();
        assert_eq!(
            status.0.to_string(),
            "adapter `demo`, entity `purchase-order`, field `status`: is not one of the declared values (open, done)"
        );
    }

    #[test]
    fn a_record_without_a_string_key_is_fatal() {
        for record in [json!({"title": "x"}), json!({"key": 7}), json!({"key": ""})] {
            let (_, found) = check(record.clone(), false);
            assert!(
                found
                    .iter()
                    .any(|(v, s)| v.field == "key" && *s == Severity::Fatal),
                "{record}: {found:?}"
            );
        }
    }

    #[test]
    fn raw_is_kept_only_when_asked_and_only_as_an_object() {
        let (out, found) = check(json!({"key": "1", "raw": {"ID": 1}}), true);
        assert!(found.is_empty());
        assert_eq!(out["raw"], json!({"ID": 1}));
        let (out, found) = check(json!({"key": "1", "raw": "text"}), true);
        assert_eq!(fields(&found), vec!["raw".to_owned()]);
        assert!(out.get("raw").is_none());
        // Not asked for: left to shaping (which removes it), not a violation.
        let (_, found) = check(json!({"key": "1", "raw": {"ID": 1}}), false);
        assert!(found.is_empty());
    }
}
