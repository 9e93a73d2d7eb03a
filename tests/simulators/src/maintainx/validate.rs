//! Write validation: checks a `POST` / `PATCH` body against the request schema of the spec and
//! applies it to a record.
//!
//! Errors use the vendor's write-validation shape, collected for the whole body:
//! `400 {"errors": [{"error": "...", "fieldPath": "...", "fieldValue": ...}]}`. Messages follow
//! the spec's examples: `"should have required property 'title'"`, `"Invalid priority"` for an
//! enum, `"should be integer"` for a type, `"parentId is not valid"` for a reference to a record
//! that does not exist.
//!
//! Unknown properties are ignored, as the spec's request schemas do not forbid them — with one
//! deliberate exception: `status` in a plain work order or purchase order body (`POST` or
//! `PATCH /{id}`) is refused with 400. Neither the work order create/update schema lists
//! `status`, and the purchase order update schema documents it only as "Please use the
//! `PATCH /purchaseorders/{id}/status` endpoint instead"; status changes go through the
//! `/status` endpoints only, and an adapter that tries otherwise must learn it here rather than
//! have its change silently dropped.

use serde_json::{Map, Value, json};

use super::resources::{
    Kind, PO_COST_TYPES, USER_AUTH_TYPES, USER_INVITE_TYPES, USER_ROLES, WO_PRIORITIES,
    WO_WRITABLE_TYPES,
};
use super::seed::cents_decimal;
use super::store::{Record, Store};
use crate::clock::{format_ms, parse_ms};

/// Create or update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Create,
    Update,
}

/// The type a body field must have.
#[derive(Debug, Clone, Copy)]
enum T {
    /// Any string.
    Str,
    /// A string with at least one non-blank character.
    Text,
    Int,
    Num,
    Bool,
    /// An RFC 3339 date-time, normalized to `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    Date,
    Enum(&'static [&'static str]),
    /// An integer id of an existing record of that kind.
    Ref(Kind),
    IntArray,
    NumArray,
    RefArray(Kind),
    StrArray,
    /// An object whose values are strings (`extraFields`).
    StrMap,
    Object,
    Any,
}

/// Collects errors while reading a body.
struct Check<'s> {
    store: &'s Store,
    errors: Vec<Value>,
}

impl Check<'_> {
    fn error(&mut self, message: impl Into<String>, path: &str, value: Option<&Value>) {
        let mut e = Map::new();
        e.insert("error".into(), Value::String(message.into()));
        if !path.is_empty() {
            e.insert("fieldPath".into(), Value::String(path.to_string()));
        }
        if let Some(v) = value.filter(|v| v.is_string() || v.is_number() || v.is_boolean()) {
            e.insert("fieldValue".into(), v.clone());
        }
        self.errors.push(Value::Object(e));
    }

    fn required(&mut self, obj: &Map<String, Value>, prefix: &str, keys: &[&str]) {
        for key in keys {
            if !obj.contains_key(*key) {
                let path = join(prefix, key);
                self.error(
                    format!("should have required property '{key}'"),
                    &path,
                    None,
                );
            }
        }
    }

    /// Reads `key` of `obj`: `None` if absent or invalid (the error is recorded), else the
    /// normalized value.
    fn field(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
        t: T,
        nullable: bool,
    ) -> Option<Value> {
        let value = obj.get(key)?;
        let path = join(prefix, key);
        if value.is_null() {
            if nullable {
                return Some(Value::Null);
            }
            self.error(format!("should be {}", type_name(t)), &path, None);
            return None;
        }
        self.value(value, key, &path, t)
    }

    fn value(&mut self, value: &Value, key: &str, path: &str, t: T) -> Option<Value> {
        let ok = match t {
            T::Str => value.as_str().map(|s| json!(s)),
            T::Text => match value.as_str() {
                Some(s) if s.trim().is_empty() => {
                    self.error("should NOT be shorter than 1 characters", path, Some(value));
                    return None;
                }
                Some(s) => Some(json!(s)),
                None => None,
            },
            T::Int => as_integer(value).map(Value::from),
            T::Num => value.is_number().then(|| value.clone()),
            T::Bool => value.as_bool().map(Value::from),
            T::Date => match value.as_str() {
                Some(s) => match parse_ms(s) {
                    Some(ms) => Some(json!(format_ms(ms))),
                    None => {
                        self.error("should match format \"date-time\"", path, Some(value));
                        return None;
                    }
                },
                None => None,
            },
            T::Enum(allowed) => match value.as_str() {
                Some(s) if allowed.contains(&s) => Some(json!(s)),
                _ => {
                    self.error(format!("Invalid {key}"), path, Some(value));
                    return None;
                }
            },
            T::Ref(kind) => match as_integer(value) {
                Some(id) if id >= 0 && self.store.exists(kind, id.unsigned_abs()) => {
                    Some(json!(id))
                }
                Some(_) => {
                    self.error(format!("{key} is not valid"), path, Some(value));
                    return None;
                }
                None => None,
            },
            T::IntArray | T::NumArray | T::RefArray(_) | T::StrArray => {
                let Some(items) = value.as_array() else {
                    self.error("should be array", path, None);
                    return None;
                };
                let item_type = match t {
                    T::IntArray => T::Int,
                    T::NumArray => T::Num,
                    T::RefArray(kind) => T::Ref(kind),
                    _ => T::Str,
                };
                // Every `None` from `value` comes with a recorded error.
                let before = self.errors.len();
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    if let Some(v) = self.value(item, key, &format!("{path}[{i}]"), item_type) {
                        out.push(v);
                    }
                }
                return (self.errors.len() == before).then_some(Value::Array(out));
            }
            T::StrMap => match value.as_object() {
                Some(map) => {
                    let mut bad = false;
                    for (k, v) in map {
                        if !v.is_string() {
                            self.error("should be string", &format!("{path}.{k}"), Some(v));
                            bad = true;
                        }
                    }
                    if bad {
                        return None;
                    }
                    Some(value.clone())
                }
                None => None,
            },
            T::Object => value.is_object().then(|| value.clone()),
            T::Any => Some(value.clone()),
        };
        if ok.is_none() {
            self.error(format!("should be {}", type_name(t)), path, Some(value));
        }
        ok
    }

    /// Reads the simple fields of `fields` into `record` (same key in body and record).
    fn simple(
        &mut self,
        body: &Map<String, Value>,
        record: &mut Record,
        fields: &[(&str, T, bool)],
    ) {
        for &(key, t, nullable) in fields {
            if let Some(v) = self.field(body, "", key, t, nullable) {
                record.insert(key.to_string(), v);
            }
        }
    }

    /// Refuses `status` in a plain body.
    fn no_status(&mut self, body: &Map<String, Value>, endpoint: &str) {
        if let Some(v) = body.get("status") {
            self.error(
                format!("status cannot be changed here; use the PATCH {endpoint} endpoint"),
                "status",
                Some(v),
            );
        }
    }
}

/// Validates `body` as a create or update of `kind` and applies it to `record`.
///
/// `record` is only meaningful if this returns `Ok`; on `Err` it may be half-applied and must
/// be thrown away. Purchase order lines and costs without an id get `"id": null`; the caller
/// assigns them with [`assign_line_ids`].
pub(crate) fn apply(
    store: &Store,
    kind: Kind,
    op: Op,
    body: &Map<String, Value>,
    record: &mut Record,
) -> Result<(), Vec<Value>> {
    let mut c = Check {
        store,
        errors: Vec::new(),
    };
    match kind {
        Kind::WorkOrder => work_order(&mut c, op, body, record),
        Kind::Asset => asset(&mut c, op, body, record),
        Kind::Part => part(&mut c, op, body, record),
        Kind::PurchaseOrder => purchase_order(&mut c, op, body, record),
        Kind::Location => location(&mut c, op, body, record),
        Kind::Vendor => vendor(&mut c, op, body, record),
        Kind::User => user(&mut c, op, body, record),
    }
    if c.errors.is_empty() {
        Ok(())
    } else {
        Err(c.errors)
    }
}

/// Gives purchase order items and costs that have `"id": null` a fresh id.
pub(crate) fn assign_line_ids(store: &mut Store, record: &mut Record) {
    for key in ["items", "costs"] {
        if let Some(lines) = record.get_mut(key).and_then(Value::as_array_mut) {
            for line in lines {
                if let Some(obj) = line.as_object_mut()
                    && obj.get("id").is_none_or(Value::is_null)
                {
                    obj.insert("id".into(), Value::from(store.next_item_id()));
                }
            }
        }
    }
}

fn work_order(c: &mut Check<'_>, op: Op, body: &Map<String, Value>, rec: &mut Record) {
    if op == Op::Create {
        c.required(body, "", &["title"]);
    }
    c.no_status(body, "/workorders/{id}/status");
    c.simple(
        body,
        rec,
        &[
            ("title", T::Text, false),
            ("description", T::Str, true),
            ("priority", T::Enum(WO_PRIORITIES), false),
            ("type", T::Enum(WO_WRITABLE_TYPES), false),
            ("assetId", T::Ref(Kind::Asset), true),
            ("locationId", T::Ref(Kind::Location), true),
            ("categories", T::StrArray, false),
            ("dueDate", T::Date, true),
            ("startDate", T::Date, true),
            ("estimatedTime", T::Int, true),
            ("externalData", T::Any, true),
            ("extraFields", T::StrMap, false),
            ("vendorIds", T::RefArray(Kind::Vendor), false),
            ("procedure", T::Object, true),
        ],
    );
    // Accepted and type-checked, but they only steer the vendor's templating.
    for (key, t) in [
        ("procedureTemplateId", T::Num),
        ("workRequestId", T::Int),
        ("workOrderTemplateId", T::Int),
    ] {
        c.field(body, "", key, t, true);
    }
    match op {
        Op::Create => {
            c.simple(
                body,
                rec,
                &[
                    ("parentId", T::Ref(Kind::WorkOrder), true),
                    ("isParent", T::Bool, true),
                ],
            );
            if let Some(v) = c.field(body, "", "repeatability", T::Object, true) {
                rec.insert("recurrenceInfo".into(), v);
            }
        }
        Op::Update => c.simple(body, rec, &[("recurrenceInfo", T::Object, true)]),
    }
    if let Some(assignees) = body.get("assignees") {
        assign(c, assignees, rec);
    }
    if let Some(requester) = body.get("requesterId") {
        let id = match requester {
            Value::Null => Some(Value::Null),
            Value::String(email) => match find_user_by_email(c.store, email) {
                Some(id) => Some(json!(id)),
                None => {
                    c.error("requesterId is not valid", "requesterId", Some(requester));
                    None
                }
            },
            _ => c.field(body, "", "requesterId", T::Ref(Kind::User), true),
        };
        if let Some(id) = id {
            rec.insert("requesterId".into(), id);
        }
    }
    if let Some(parts) = body.get("partsUsed") {
        parts_used(c, op, parts, rec);
    }
    let has = |k: &str| rec.get(k).is_some_and(|v| !v.is_null());
    if has("startDate") && !has("dueDate") {
        let start = rec.get("startDate").cloned();
        c.error(
            "startDate is only valid when dueDate is set",
            "startDate",
            start.as_ref(),
        );
    }
}

fn assign(c: &mut Check<'_>, assignees: &Value, rec: &mut Record) {
    let Some(items) = assignees.as_array() else {
        c.error("should be array", "assignees", None);
        return;
    };
    let mut users = Vec::new();
    let mut teams = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("assignees[{i}]");
        let Some(obj) = item.as_object() else {
            c.error("should be object", &prefix, None);
            continue;
        };
        c.required(obj, &prefix, &["type", "id"]);
        let kind = c.field(obj, &prefix, "type", T::Enum(&["USER", "TEAM"]), false);
        let Some(id) = obj.get("id") else { continue };
        let path = join(&prefix, "id");
        match (kind.as_ref().and_then(Value::as_str), id) {
            (Some("USER"), Value::String(email)) => match find_user_by_email(c.store, email) {
                Some(user) => users.push(user),
                None => c.error("id is not valid", &path, Some(id)),
            },
            (Some("USER"), _) => match as_integer(id) {
                Some(user) if user >= 0 && c.store.exists(Kind::User, user.unsigned_abs()) => {
                    users.push(user.unsigned_abs());
                }
                _ => c.error("id is not valid", &path, Some(id)),
            },
            // Teams are not simulated: any integer team id is accepted.
            (Some("TEAM"), _) => match as_integer(id) {
                Some(team) if team >= 0 => teams.push(team.unsigned_abs()),
                _ => c.error("id is not valid", &path, Some(id)),
            },
            _ => {}
        }
    }
    rec.insert("assigneeIds".into(), json!(users));
    rec.insert("teamIds".into(), json!(teams));
}

fn parts_used(c: &mut Check<'_>, op: Op, parts: &Value, rec: &mut Record) {
    let Some(items) = parts.as_array() else {
        c.error("should be array", "partsUsed", None);
        return;
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("partsUsed[{i}]");
        let Some(obj) = item.as_object() else {
            c.error("should be object", &prefix, None);
            continue;
        };
        let required: &[&str] = match op {
            Op::Create => &["partId", "quantityUsed"],
            Op::Update => &["partId"],
        };
        c.required(obj, &prefix, required);
        let part = c.field(obj, &prefix, "partId", T::Ref(Kind::Part), false);
        let quantity = c.field(obj, &prefix, "quantityUsed", T::Int, false);
        let location = c.field(obj, &prefix, "locationId", T::Ref(Kind::Location), true);
        let copy = c.field(
            obj,
            &prefix,
            "copyOnRecurring",
            T::Enum(&["NoCopy", "Copy", "Default"]),
            false,
        );
        out.push(json!({
            "partId": part,
            "quantityUsed": quantity.unwrap_or(json!(0)),
            "locationId": location,
            "copyOnRecurring": copy.unwrap_or(json!("Default")),
        }));
    }
    let any = !out.is_empty();
    rec.insert("partsUsed".into(), Value::Array(out));
    let status = rec.get("partStatus").and_then(Value::as_str);
    if any && status == Some("NO_PARTS") {
        rec.insert("partStatus".into(), json!("ASSIGNED"));
    } else if !any {
        rec.insert("partStatus".into(), json!("NO_PARTS"));
    }
}

fn asset(c: &mut Check<'_>, op: Op, body: &Map<String, Value>, rec: &mut Record) {
    if op == Op::Create {
        c.required(body, "", &["name"]);
    }
    c.simple(
        body,
        rec,
        &[
            ("name", T::Text, false),
            ("description", T::Str, true),
            ("barcode", T::Str, true),
            ("criticalityId", T::Int, true),
            ("parentId", T::Ref(Kind::Asset), true),
            ("locationId", T::Ref(Kind::Location), true),
            ("teamIds", T::IntArray, false),
            ("assetTypes", T::StrArray, false),
            ("extraFields", T::StrMap, false),
            ("vendorIds", T::RefArray(Kind::Vendor), false),
            ("serialNumber", T::Str, true),
            ("depreciation", T::Object, true),
        ],
    );
    no_self_parent(c, body, rec);
    // Requests name the manufacturer and model by object; records carry their names.
    for key in ["manufacturer", "model"] {
        match c.field(body, "", key, T::Object, true) {
            Some(Value::Object(obj)) => {
                let name = c.field(&obj, key, "name", T::Text, true);
                let id = c.field(&obj, key, "id", T::Int, true);
                match (name, id) {
                    (Some(Value::String(name)), _) => {
                        rec.insert(key.to_string(), json!(name));
                    }
                    (_, Some(id)) if !id.is_null() => {
                        // Manufacturers and models are not simulated: no id resolves.
                        c.error(
                            format!("{key}.id is not valid"),
                            &join(key, "id"),
                            Some(&id),
                        );
                    }
                    _ => c.error(
                        "should have required property 'name'",
                        &join(key, "name"),
                        None,
                    ),
                }
            }
            Some(_) => {
                rec.insert(key.to_string(), Value::Null);
            }
            None => {}
        }
    }
}

fn no_self_parent(c: &mut Check<'_>, body: &Map<String, Value>, rec: &Record) {
    let id = rec.get("id").and_then(Value::as_u64);
    if id.is_some() && body.get("parentId").and_then(Value::as_u64) == id {
        c.error("parentId is not valid", "parentId", body.get("parentId"));
    }
}

fn part(c: &mut Check<'_>, op: Op, body: &Map<String, Value>, rec: &mut Record) {
    if op == Op::Create {
        c.required(body, "", &["name"]);
    }
    const DEPRECATED: [&str; 4] = ["area", "availableQuantity", "minimumQuantity", "locationId"];
    if body.contains_key("locations") && DEPRECATED.iter().any(|k| body.contains_key(*k)) {
        c.error(
            "locations cannot be sent together with the deprecated area, availableQuantity, \
             minimumQuantity or locationId",
            "locations",
            None,
        );
    }
    c.simple(
        body,
        rec,
        &[
            ("name", T::Text, false),
            ("description", T::Str, true),
            ("unitCost", T::Int, true),
            ("barcode", T::Str, true),
            ("partTypes", T::StrArray, false),
            ("assetIds", T::RefArray(Kind::Asset), false),
            ("teamIds", T::IntArray, false),
            ("extraFields", T::StrMap, false),
            ("vendorIds", T::RefArray(Kind::Vendor), false),
            ("assignedQuantity", T::Int, false),
        ],
    );
    if let Some(Value::Object(q)) = c.field(body, "", "committedQuantities", T::Object, false) {
        let mut committed = rec
            .get("committedQuantities")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for key in ["kitted", "reserved", "staged"] {
            if let Some(v) = c.field(&q, "committedQuantities", key, T::Int, false) {
                committed.insert(key.to_string(), v);
            }
        }
        rec.insert("committedQuantities".into(), Value::Object(committed));
    }
    if let Some(vendors) = body.get("vendors") {
        part_vendors(c, body, vendors, rec);
    }
    // Locations: the list is canonical; the deprecated top-level fields mirror its first entry.
    let mut locations: Vec<Value> = rec
        .get("locations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match (op, body.get("locations")) {
        (_, None) => {}
        (Op::Create, Some(list)) => {
            if let Some(list) = part_locations(c, "locations", list) {
                locations = list;
            }
        }
        (Op::Update, Some(change)) => match change.as_object() {
            Some(change) => {
                if let Some(removed) = c.field(
                    change,
                    "locations",
                    "removedLocationIds",
                    T::IntArray,
                    false,
                ) {
                    let removed: Vec<u64> = removed
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_u64)
                        .collect();
                    locations.retain(|l| {
                        l.get("locationId")
                            .and_then(Value::as_u64)
                            .is_none_or(|id| !removed.contains(&id))
                    });
                }
                if let Some(list) = change.get("addedUpdated")
                    && let Some(list) = part_locations(c, "locations.addedUpdated", list)
                {
                    for entry in list {
                        let id = entry.get("locationId").and_then(Value::as_u64);
                        match locations
                            .iter_mut()
                            .find(|l| l.get("locationId").and_then(Value::as_u64) == id)
                        {
                            Some(existing) => merge(existing, &entry),
                            None => locations.push(entry),
                        }
                    }
                }
            }
            None => c.error("should be object", "locations", None),
        },
    }
    let deprecated =
        |c: &mut Check<'_>, key: &str, t: T, nullable: bool| c.field(body, "", key, t, nullable);
    let location_id = deprecated(c, "locationId", T::Ref(Kind::Location), true);
    let available = deprecated(c, "availableQuantity", T::Int, false);
    let minimum = deprecated(c, "minimumQuantity", T::Int, false);
    let area = deprecated(c, "area", T::Str, true);
    if locations.is_empty()
        && let Some(id) = location_id.as_ref().filter(|v| !v.is_null())
    {
        locations.push(json!({
            "locationId": id,
            "availableQuantity": rec.get("availableQuantity").cloned().unwrap_or(json!(0)),
            "minimumQuantity": rec.get("minimumQuantity").cloned().unwrap_or(json!(0)),
            "maximumQuantity": null,
            "area": rec.get("area").cloned().unwrap_or(Value::Null),
        }));
    }
    for (key, value) in [
        ("locationId", location_id),
        ("availableQuantity", available),
        ("minimumQuantity", minimum),
        ("area", area),
    ] {
        if let Some(value) = value {
            match locations.first_mut().and_then(Value::as_object_mut) {
                Some(first) if !(key == "locationId" && value.is_null()) => {
                    first.insert(key.to_string(), value);
                }
                _ => {
                    rec.insert(key.to_string(), value);
                }
            }
        }
    }
    if body.contains_key("locations") || !locations.is_empty() {
        derive_part_totals(rec, &mut locations);
    } else {
        let available = rec.get("availableQuantity").cloned().unwrap_or(json!(0));
        rec.insert("inStockQuantity".into(), available);
    }
    rec.insert("locations".into(), Value::Array(locations));
}

fn part_vendors(c: &mut Check<'_>, body: &Map<String, Value>, vendors: &Value, rec: &mut Record) {
    let Some(items) = vendors.as_array() else {
        c.error("should be array", "vendors", None);
        return;
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("vendors[{i}]");
        let Some(obj) = item.as_object() else {
            c.error("should be object", &prefix, None);
            continue;
        };
        c.required(obj, &prefix, &["vendorId"]);
        let vendor = c.field(obj, &prefix, "vendorId", T::Ref(Kind::Vendor), false);
        let number = c.field(obj, &prefix, "partNumber", T::Str, true);
        out.push(json!({ "vendorId": vendor, "partNumber": number }));
    }
    if !body.contains_key("vendorIds") {
        let ids: Vec<Value> = out
            .iter()
            .filter_map(|v| v.get("vendorId").cloned())
            .collect();
        rec.insert("vendorIds".into(), Value::Array(ids));
    }
    rec.insert("vendors".into(), Value::Array(out));
}

fn part_locations(c: &mut Check<'_>, path: &str, list: &Value) -> Option<Vec<Value>> {
    let Some(items) = list.as_array() else {
        c.error("should be array", path, None);
        return None;
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("{path}[{i}]");
        let Some(obj) = item.as_object() else {
            c.error("should be object", &prefix, None);
            continue;
        };
        c.required(obj, &prefix, &["locationId"]);
        let mut entry = Map::new();
        for (key, t, nullable) in [
            ("locationId", T::Ref(Kind::Location), false),
            ("availableQuantity", T::Int, false),
            ("minimumQuantity", T::Int, true),
            ("maximumQuantity", T::Int, true),
            ("area", T::Str, true),
        ] {
            if let Some(v) = c.field(obj, &prefix, key, t, nullable) {
                entry.insert(key.to_string(), v);
            }
        }
        let min = entry.get("minimumQuantity").and_then(Value::as_i64);
        let max = entry.get("maximumQuantity").and_then(Value::as_i64);
        if let (Some(min), Some(max)) = (min, max)
            && max < min
        {
            c.error(
                "maximumQuantity must be greater than or equal to minimumQuantity",
                &join(&prefix, "maximumQuantity"),
                entry.get("maximumQuantity"),
            );
        }
        out.push(Value::Object(entry));
    }
    Some(out)
}

fn merge(existing: &mut Value, update: &Value) {
    if let (Some(target), Some(source)) = (existing.as_object_mut(), update.as_object()) {
        for (k, v) in source {
            target.insert(k.clone(), v.clone());
        }
    }
}

/// Fills per-location defaults and the part's totals from its locations.
fn derive_part_totals(rec: &mut Record, locations: &mut [Value]) {
    let committed = rec
        .get("committedQuantities")
        .cloned()
        .unwrap_or_else(|| json!({ "kitted": 0, "reserved": 0, "staged": 0 }));
    let (mut available, mut minimum, mut maximum, mut any_max) = (0i64, 0i64, 0i64, false);
    for location in locations.iter_mut() {
        if let Some(obj) = location.as_object_mut() {
            for (key, default) in [
                ("availableQuantity", json!(0)),
                ("minimumQuantity", json!(0)),
                ("maximumQuantity", Value::Null),
                ("area", Value::Null),
                ("reservedQuantity", json!(0)),
                (
                    "committedQuantities",
                    json!({ "kitted": 0, "reserved": 0, "staged": 0 }),
                ),
                ("assignedQuantity", json!(0)),
            ] {
                obj.entry(key).or_insert(default);
            }
            available += obj
                .get("availableQuantity")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            minimum += obj
                .get("minimumQuantity")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if let Some(max) = obj.get("maximumQuantity").and_then(Value::as_i64) {
                maximum += max;
                any_max = true;
            }
        }
    }
    let first = locations.first().and_then(Value::as_object);
    let first_field = |k: &str| first.and_then(|f| f.get(k)).cloned().unwrap_or(Value::Null);
    rec.insert("locationId".into(), first_field("locationId"));
    rec.insert("area".into(), first_field("area"));
    rec.insert("availableQuantity".into(), json!(available));
    rec.insert("inStockQuantity".into(), json!(available));
    rec.insert("minimumQuantity".into(), json!(minimum));
    rec.insert(
        "maximumQuantity".into(),
        if any_max { json!(maximum) } else { Value::Null },
    );
    rec.insert(
        "reservedQuantity".into(),
        committed.get("reserved").cloned().unwrap_or(json!(0)),
    );
}

fn purchase_order(c: &mut Check<'_>, op: Op, body: &Map<String, Value>, rec: &mut Record) {
    if op == Op::Create {
        c.required(body, "", &["vendorId", "items"]);
    }
    c.no_status(body, "/purchaseorders/{id}/status");
    c.simple(
        body,
        rec,
        &[
            ("note", T::Str, true),
            ("dueDate", T::Date, true),
            ("vendorId", T::Ref(Kind::Vendor), true),
            ("overrideNumber", T::Str, true),
            ("vendorContactIds", T::NumArray, false),
            ("extraFields", T::StrMap, false),
            ("title", T::Str, true),
        ],
    );
    if op == Op::Update {
        c.simple(body, rec, &[("reviewNote", T::Str, true)]);
    }
    for key in ["shippingAddressId", "billingAddressId"] {
        c.field(body, "", key, T::Num, true);
    }
    for key in ["shippingAddress", "billingAddress"] {
        if let Some(address) = c.field(body, "", key, T::Object, true) {
            let value = match address.as_object() {
                Some(obj) => po_address(c, key, obj),
                None => Some(Value::Null),
            };
            if let Some(value) = value {
                rec.insert(key.to_string(), value);
            }
        }
    }
    if let Some(costs) = body.get("costs") {
        po_costs(c, costs, rec);
    }
    if let Some(items) = body.get("items") {
        po_items(c, op, items, rec);
    }
}

fn po_address(c: &mut Check<'_>, key: &str, obj: &Map<String, Value>) -> Option<Value> {
    let before = c.errors.len();
    c.required(
        obj,
        key,
        &["city", "country", "postalCode", "state", "street"],
    );
    let mut out = Map::new();
    for field in ["street", "city", "state", "postalCode", "country"] {
        if let Some(v) = c.field(obj, key, field, T::Str, false) {
            out.insert(field.to_string(), v);
        }
    }
    let label = c.field(obj, key, "label", T::Str, true);
    if c.errors.len() > before {
        return None;
    }
    let text = |k: &str| {
        out.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let label = match label {
        Some(Value::String(label)) => label,
        _ => format!(
            "{}, {}, {} {}, {}",
            text("street"),
            text("city"),
            text("state"),
            text("postalCode"),
            text("country")
        ),
    };
    out.insert("label".into(), json!(label));
    Some(Value::Object(out))
}

fn po_costs(c: &mut Check<'_>, costs: &Value, rec: &mut Record) {
    let Some(items) = costs.as_array() else {
        c.error("should be array", "costs", None);
        return;
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("costs[{i}]");
        let Some(obj) = item.as_object() else {
            c.error("should be object", &prefix, None);
            continue;
        };
        c.required(obj, &prefix, &["name", "type", "amount"]);
        out.push(json!({
            "id": c.field(obj, &prefix, "id", T::Num, true).unwrap_or(Value::Null),
            "name": c.field(obj, &prefix, "name", T::Str, false),
            "type": c.field(obj, &prefix, "type", T::Enum(PO_COST_TYPES), false),
            "amount": c.field(obj, &prefix, "amount", T::Num, false),
        }));
    }
    rec.insert("costs".into(), Value::Array(out));
}

fn po_items(c: &mut Check<'_>, op: Op, items: &Value, rec: &mut Record) {
    let Some(list) = items.as_array() else {
        c.error("should be array", "items", None);
        return;
    };
    let existing: Vec<Value> = rec
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let prefix = format!("items[{i}]");
        let Some(obj) = item.as_object() else {
            c.error("should be object", &prefix, None);
            continue;
        };
        c.required(obj, &prefix, &["quantityOrdered"]);
        // On update an item with an `id` replaces that line of this order; others are new.
        let previous = match (op, obj.get("id")) {
            (Op::Update, Some(id)) if !id.is_null() => {
                match existing.iter().find(|e| e.get("id") == Some(id)) {
                    Some(found) => found.as_object().cloned(),
                    None => {
                        c.error("id is not valid", &join(&prefix, "id"), Some(id));
                        continue;
                    }
                }
            }
            _ => None,
        };
        let mut line = previous.unwrap_or_else(|| {
            let mut fresh = Map::new();
            fresh.insert("id".into(), Value::Null);
            fresh.insert("fulfillments".into(), json!([]));
            for key in ["extraFields", "lineExtraFields", "partExtraFields"] {
                fresh.insert(key.into(), json!({}));
            }
            fresh
        });
        for (key, t) in [
            ("partId", T::Ref(Kind::Part)),
            ("name", T::Str),
            ("partNumber", T::Str),
            ("price", T::Num),
            ("quantityReceived", T::Num),
            ("unitCost", T::Num),
        ] {
            if let Some(v) = c.field(obj, &prefix, key, t, true) {
                line.insert(key.to_string(), v);
            }
        }
        if let Some(v) = c.field(obj, &prefix, "quantityOrdered", T::Num, false) {
            line.insert("quantityOrdered".into(), v);
        }
        for key in ["extraFields", "lineExtraFields"] {
            if let Some(v) = c.field(obj, &prefix, key, T::StrMap, false) {
                line.insert(key.to_string(), v);
            }
        }
        fill_po_line(c.store, &mut line, obj.contains_key("price"));
        out.push(Value::Object(line));
    }
    rec.insert("items".into(), Value::Array(out));
}

/// Completes a purchase order line from its part and recomputes the price fields.
fn fill_po_line(store: &Store, line: &mut Map<String, Value>, explicit_price: bool) {
    let part = line
        .get("partId")
        .and_then(Value::as_u64)
        .and_then(|id| store.get(Kind::Part, id));
    let missing = |line: &Map<String, Value>, k: &str| line.get(k).is_none_or(Value::is_null);
    if let Some(part) = &part {
        if missing(line, "name") {
            line.insert("name".into(), part.get("name").cloned().unwrap_or_default());
        }
        if missing(line, "partNumber") {
            let number = part
                .get("vendors")
                .and_then(Value::as_array)
                .and_then(|v| v.first())
                .and_then(|v| v.get("partNumber"))
                .cloned()
                .unwrap_or(Value::Null);
            line.insert("partNumber".into(), number);
        }
        if missing(line, "unitCost") {
            line.insert(
                "unitCost".into(),
                part.get("unitCost").cloned().unwrap_or(Value::Null),
            );
        }
        if missing(line, "partExtraFields") || line.get("partExtraFields") == Some(&json!({})) {
            line.insert(
                "partExtraFields".into(),
                part.get("extraFields")
                    .cloned()
                    .unwrap_or_else(|| json!({})),
            );
        }
    }
    for key in ["name", "partNumber", "partId", "unitCost", "price"] {
        line.entry(key).or_insert(Value::Null);
    }
    line.entry("quantityReceived").or_insert(json!(0));
    let quantity = line
        .get("quantityOrdered")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let unit = line.get("unitCost").and_then(Value::as_f64);
    if !explicit_price && let Some(unit) = unit {
        line.insert("price".into(), number(unit * quantity));
    }
    let decimal = |v: Option<f64>| {
        v.map_or(Value::Null, |v| {
            if v >= 0.0 && v.fract() == 0.0 && v < 9.0e15 {
                json!(cents_decimal(v as u64))
            } else {
                json!(format!("{:.6}", v / 100.0))
            }
        })
    };
    let price = line.get("price").and_then(Value::as_f64);
    line.insert("priceDecimal".into(), decimal(price));
    line.insert("unitCostDecimal".into(), decimal(unit));
}

fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

fn location(c: &mut Check<'_>, op: Op, body: &Map<String, Value>, rec: &mut Record) {
    if op == Op::Create {
        c.required(body, "", &["name"]);
    }
    c.simple(
        body,
        rec,
        &[
            ("name", T::Text, false),
            ("description", T::Str, true),
            ("address", T::Str, true),
            ("barcode", T::Str, true),
            ("parentId", T::Ref(Kind::Location), true),
            ("extraFields", T::StrMap, false),
            ("vendorIds", T::RefArray(Kind::Vendor), false),
        ],
    );
    no_self_parent(c, body, rec);
}

fn vendor(c: &mut Check<'_>, op: Op, body: &Map<String, Value>, rec: &mut Record) {
    c.simple(
        body,
        rec,
        &[
            ("name", T::Text, false),
            ("description", T::Str, true),
            ("extraFields", T::StrMap, false),
        ],
    );
    if op == Op::Create {
        c.required(body, "", &["name"]);
        // `emails` and `phoneNumbers` are only in the create schema.
        c.simple(
            body,
            rec,
            &[
                ("emails", T::StrArray, false),
                ("phoneNumbers", T::StrArray, false),
            ],
        );
    }
}

fn user(c: &mut Check<'_>, op: Op, body: &Map<String, Value>, rec: &mut Record) {
    if op == Op::Create {
        c.required(body, "", &["firstName", "lastName"]);
        c.field(body, "", "inviteType", T::Enum(USER_INVITE_TYPES), true);
    }
    c.simple(
        body,
        rec,
        &[
            ("firstName", T::Text, false),
            ("lastName", T::Text, false),
            ("email", T::Str, true),
            ("phoneNumber", T::Str, true),
            ("role", T::Enum(USER_ROLES), true),
            ("customRole", T::Str, true),
            ("authType", T::Enum(USER_AUTH_TYPES), true),
            ("externalData", T::Any, true),
            ("extraFields", T::StrMap, false),
            ("hourlyRate", T::Int, true),
        ],
    );
}

/// The id of the live user with `email` (case-insensitive).
pub(crate) fn find_user_by_email(store: &Store, email: &str) -> Option<u64> {
    store.ids_ascending(Kind::User, None).find(|&id| {
        store
            .get(Kind::User, id)
            .and_then(|u| {
                u.get("email")
                    .and_then(Value::as_str)
                    .map(str::to_lowercase)
            })
            .is_some_and(|e| e == email.to_lowercase())
    })
}

fn as_integer(value: &Value) -> Option<i64> {
    if let Some(i) = value.as_i64() {
        return Some(i);
    }
    let f = value.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

fn type_name(t: T) -> &'static str {
    match t {
        T::Str | T::Text | T::Date | T::Enum(_) => "string",
        T::Int | T::Ref(_) => "integer",
        T::Num => "number",
        T::Bool => "boolean",
        T::IntArray | T::NumArray | T::RefArray(_) | T::StrArray => "array",
        T::StrMap | T::Object => "object",
        T::Any => "any",
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}
