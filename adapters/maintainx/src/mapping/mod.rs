//! The pure mapping core: MaintainX JSON ⇄ unified JSON, one module per entity, no I/O.
//!
//! Reading (`from_native`) turns one MaintainX record into the unified struct: ids become key
//! strings, `<x>Id` references become `<x>Key`, timestamps are normalized to RFC 3339 UTC,
//! enums are translated (the native value is kept beside as `nativeStatus`), and whatever
//! MaintainX did not send is omitted, never invented.
//!
//! Writing (`to_native`) takes a caller's unified JSON, parses it with
//! [`plantwire_sdk::model::parse_record`] (unknown fields and wrong types are `invalid`), checks
//! every field against the flags this adapter declares in `describe()` (a field that is not
//! creatable, not updatable, or missing while required is `invalid`, naming the field), and
//! builds the MaintainX request body. In a patch, `null` clears a field.

pub mod asset;
pub mod material;
pub mod party;
pub mod purchase_order;
pub mod work_order;

use plantwire_sdk::contract::{EntityInfo, FieldFlags, FieldType};
use plantwire_sdk::dates;
use plantwire_sdk::model::{
    Asset, Material, Party, PurchaseOrder, WorkOrder, parse_record, to_json,
};
use plantwire_sdk::{AdapterError, FieldError};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::resources::Resource;

/// Work order statuses: unified value, MaintainX value (`SKIPPED` last: see below).
pub const WO_STATUSES: &[(&str, &str)] = &[
    ("open", "OPEN"),
    ("in-progress", "IN_PROGRESS"),
    ("on-hold", "ON_HOLD"),
    ("completed", "DONE"),
    ("cancelled", "CANCELED"),
    ("skipped", "SKIPPED"),
];

/// Work order statuses `PATCH /workorders/{id}/status` accepts: all but the last, `SKIPPED`.
pub const WO_SETTABLE_STATUSES: &[(&str, &str)] = WO_STATUSES.split_at(WO_STATUSES.len() - 1).0;

/// Work order priorities → unified `severity`.
pub const WO_PRIORITIES: &[(&str, &str)] = &[
    ("none", "NONE"),
    ("low", "LOW"),
    ("medium", "MEDIUM"),
    ("high", "HIGH"),
];

/// Purchase order statuses (`REQUESTED` is the state of a new purchase order, before it is
/// submitted for approval: unified `draft`; it comes first, see below).
pub const PO_STATUSES: &[(&str, &str)] = &[
    ("draft", "REQUESTED"),
    ("pending", "PENDING"),
    ("approved", "APPROVED"),
    ("declined", "DECLINED"),
    ("partially-received", "PARTIALLY_FULFILLED"),
    ("received", "COMPLETED"),
    ("cancelled", "CANCELED"),
];

/// Purchase order statuses `PATCH /purchaseorders/{id}/status` accepts: all but the first,
/// `REQUESTED`.
pub const PO_SETTABLE_STATUSES: &[(&str, &str)] = PO_STATUSES.split_at(1).1;

/// Asset statuses (`status.status` of an asset).
pub const ASSET_STATUSES: &[(&str, &str)] = &[
    ("online", "ONLINE"),
    ("offline", "OFFLINE"),
    ("not-tracked", "IGNORE"),
];

/// Maps one MaintainX record of `res` to unified JSON text.
pub fn to_unified(res: Resource, native: &Value) -> String {
    to_unified_with(res, native, false)
}

/// Maps one MaintainX record of `res` to unified JSON text; with `include_raw`, the record
/// carries `native` itself (MaintainX's record as it was sent) under `raw`.
pub fn to_unified_with(res: Resource, native: &Value, include_raw: bool) -> String {
    let raw = include_raw.then(|| native.clone());
    match res {
        Resource::WorkOrder => to_json(&WorkOrder {
            raw,
            ..work_order::from_native(native)
        }),
        Resource::Asset => to_json(&Asset {
            raw,
            ..asset::from_native(native)
        }),
        Resource::PurchaseOrder => to_json(&PurchaseOrder {
            raw,
            ..purchase_order::from_native(native)
        }),
        Resource::Part => to_json(&Material {
            raw,
            ..material::from_native(native)
        }),
        Resource::Location => to_json(&Party {
            raw,
            ..party::location_from_native(native)
        }),
        Resource::Vendor => to_json(&Party {
            raw,
            ..party::vendor_from_native(native)
        }),
        Resource::User => to_json(&Party {
            raw,
            ..party::user_from_native(native)
        }),
    }
}

/// Maps a caller's unified record of `res` to a MaintainX request body. `current` is the
/// record as MaintainX has it, needed only when [`needs_current`] says so.
pub fn to_native(
    res: Resource,
    json: &str,
    mode: Mode,
    current: Option<&Value>,
) -> Result<Value, AdapterError> {
    match res {
        Resource::WorkOrder => work_order::to_native(&parse_input(res, json, mode)?, current),
        Resource::Asset => asset::to_native(&parse_input(res, json, mode)?),
        Resource::PurchaseOrder => purchase_order::to_native(&parse_input(res, json, mode)?),
        Resource::Part => material::to_native(&parse_input(res, json, mode)?),
        Resource::Location => party::location_to_native(&parse_input(res, json, mode)?),
        Resource::Vendor => party::vendor_to_native(&parse_input(res, json, mode)?),
        Resource::User => party::user_to_native(&parse_input(res, json, mode)?),
    }
}

/// A record known only by its key (created, but not readable right after).
pub(crate) fn key_only(id: u64) -> String {
    Value::Object(Map::from_iter([(
        "key".to_owned(),
        Value::String(id.to_string()),
    )]))
    .to_string()
}

/// Whether writing `json` needs the current MaintainX record first: a work order patch that
/// sets only one of `teamKey` / `assigneeKeys` must keep the other half of `assignees`.
pub fn needs_current(res: Resource, json: &str) -> bool {
    res == Resource::WorkOrder && work_order::needs_current(json)
}

// ---------------------------------------------------------------------------------------------
// Reading helpers.

/// An integer id rendered as a key string (`"assetId": 42` → `"42"`); `null`, absent or a
/// non-integer value give `None`.
pub(crate) fn id_of(v: &Value, field: &str) -> Option<String> {
    id_value(v.get(field)?)
}

/// An id value as a key string.
pub(crate) fn id_value(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(u.to_string())
            } else {
                // Ids are declared `number` on some resources: accept 135.0, never 13.5.
                let f = n.as_f64()?;
                (f.fract() == 0.0 && f > 0.0 && f < 9.0e15).then(|| format!("{f:.0}"))
            }
        }
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(s.clone())
        }
        _ => None,
    }
}

/// The key strings of an array of ids (`"assigneeIds": [1, 2]`).
pub(crate) fn ids_of(v: &Value, field: &str) -> Option<Vec<String>> {
    let items = v.get(field)?.as_array()?;
    Some(items.iter().filter_map(id_value).collect())
}

/// A string field; `null` and absent give `None`.
pub(crate) fn text_of(v: &Value, field: &str) -> Option<String> {
    v.get(field)?.as_str().map(str::to_owned)
}

/// A timestamp field normalized to RFC 3339 UTC; a value that is not a timestamp is omitted
/// (and logged) rather than passed on unnormalized.
pub(crate) fn ts_of(v: &Value, field: &str) -> Option<String> {
    let text = v.get(field)?.as_str()?;
    let utc = dates::to_utc(text);
    if utc.is_none() {
        plantwire_sdk::log(
            plantwire_sdk::Level::Warn,
            &format!("MaintainX sent `{field}` that is not an RFC 3339 timestamp; omitted"),
        );
    }
    utc
}

/// An amount in cents as a decimal (`120` → `1.2`).
pub(crate) fn cents_of(v: &Value, field: &str) -> Option<f64> {
    let cents = v.get(field)?.as_f64()?;
    Some(cents / 100.0)
}

/// The unified spelling of a native enum value.
pub(crate) fn unified_value(
    table: &[(&'static str, &'static str)],
    native: &str,
) -> Option<&'static str> {
    table.iter().find(|(_, n)| *n == native).map(|(u, _)| *u)
}

/// The unified spelling of a native enum value MaintainX sent, owned; a value the table does
/// not know is omitted rather than guessed.
pub(crate) fn unified_of(
    table: &[(&'static str, &'static str)],
    native: Option<&str>,
) -> Option<String> {
    native
        .and_then(|n| unified_value(table, n))
        .map(str::to_owned)
}

/// The native spelling of a unified enum value.
pub(crate) fn native_value(
    table: &[(&'static str, &'static str)],
    unified: &str,
) -> Option<&'static str> {
    table.iter().find(|(u, _)| *u == unified).map(|(_, n)| *n)
}

/// `extraFields` (custom fields by label) when MaintainX sent them.
pub(crate) fn custom_fields_of(v: &Value) -> Option<Value> {
    v.get("extraFields").filter(|x| x.is_object()).cloned()
}

// ---------------------------------------------------------------------------------------------
// Writing: input parsing and validation against describe().

/// Whether a record is being created or patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

impl Mode {
    fn verb(self) -> &'static str {
        match self {
            Mode::Create => "create",
            Mode::Update => "update",
        }
    }
}

/// A caller's record, parsed and checked against the declared field flags.
#[derive(Debug)]
pub(crate) struct Input<T> {
    /// The record as the unified struct.
    pub(crate) record: T,
    /// Fields given as `null` in a patch (to be cleared).
    pub(crate) nulls: Vec<String>,
}

impl<T> Input<T> {
    /// Whether the patch clears `field`.
    pub(crate) fn clears(&self, field: &str) -> bool {
        self.nulls.iter().any(|n| n == field)
    }

    /// A writer for the native body.
    pub(crate) fn writer(&self) -> Writer<'_> {
        Writer::new(&self.nulls)
    }
}

/// Parses `json` as a unified record of `res` and checks it against `describe()`.
pub(crate) fn parse_input<T: DeserializeOwned>(
    res: Resource,
    json: &str,
    mode: Mode,
) -> Result<Input<T>, AdapterError> {
    let raw = json_object(json, "(record)", "a record must be a JSON object")?;
    let entity = crate::describe::entity(res);
    let errors = check_fields(entity, &raw, mode);
    if !errors.is_empty() {
        return Err(AdapterError::Invalid(errors));
    }
    let record = parse_record::<T>(json)?;
    let nulls = match mode {
        // A null on create is the same as leaving the field out.
        Mode::Create => Vec::new(),
        Mode::Update => raw
            .iter()
            .filter(|(_, v)| v.is_null())
            .map(|(k, _)| k.clone())
            .collect(),
    };
    Ok(Input { record, nulls })
}

/// `json` parsed as a JSON object; text that is not JSON, or JSON that is not an object, is
/// `invalid` under `field` (`not_an_object` says what was expected).
pub(crate) fn json_object(
    json: &str,
    field: &str,
    not_an_object: &str,
) -> Result<Map<String, Value>, AdapterError> {
    let raw: Value = serde_json::from_str(json)
        .map_err(|e| AdapterError::invalid(field, format!("not valid JSON: {e}")))?;
    match raw {
        Value::Object(raw) => Ok(raw),
        _ => Err(AdapterError::invalid(field, not_an_object)),
    }
}

/// One problem with `field`.
pub(crate) fn field_error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn with_note(message: String, note: Option<&String>) -> String {
    match note {
        Some(note) => format!("{message} ({note})"),
        None => message,
    }
}

/// Every problem with the fields of `raw` against the flags declared for `entity`.
pub(crate) fn check_fields(
    entity: &EntityInfo,
    raw: &Map<String, Value>,
    mode: Mode,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, value) in raw {
        let Some(field) = entity.field(name) else {
            errors.push(field_error(
                name,
                format!("MaintainX cannot express `{name}` on a {}", entity.name),
            ));
            continue;
        };
        if let Some(message) = refusal(
            name,
            value,
            &field.ty,
            &field.flags,
            field.note.as_ref(),
            mode,
        ) {
            errors.push(field_error(name, message));
            continue;
        }
        if value.is_null() && mode == Mode::Update && field.flags.required_on_create {
            errors.push(field_error(
                name,
                format!("`{name}` cannot be cleared: MaintainX requires it"),
            ));
            continue;
        }
        if field.ty == FieldType::List
            && !field.item_fields.is_empty()
            && let Value::Array(items) = value
        {
            for (i, item) in items.iter().enumerate() {
                if let Value::Object(item) = item {
                    check_item(field, i, item, mode, &mut errors);
                }
            }
        }
    }
    if mode == Mode::Create {
        for field in &entity.fields {
            if field.flags.required_on_create && raw.get(&field.name).is_none_or(Value::is_null) {
                errors.push(field_error(
                    &field.name,
                    format!("`{}` is required to create a {}", field.name, entity.name),
                ));
            }
        }
    }
    errors
}

/// Why `value` cannot be given for field (or item field) `name` in `mode`, if it cannot: the
/// field is not settable then, or the value is not of its type (`null` fits every type).
fn refusal(
    name: &str,
    value: &Value,
    ty: &FieldType,
    flags: &FieldFlags,
    note: Option<&String>,
    mode: Mode,
) -> Option<String> {
    let allowed = match mode {
        Mode::Create => flags.creatable,
        Mode::Update => flags.updatable,
    };
    if !allowed {
        Some(with_note(
            format!("`{name}` cannot be set on {}", mode.verb()),
            note,
        ))
    } else if !value.is_null() && !type_fits(ty, value) {
        Some(format!("`{name}` must be {}", type_phrase(ty)))
    } else {
        None
    }
}

/// Whether a JSON value has the shape of a field type (`null` is handled by the caller).
fn type_fits(ty: &FieldType, value: &Value) -> bool {
    match ty {
        FieldType::String
        | FieldType::Text
        | FieldType::Timestamp
        | FieldType::Date
        | FieldType::Reference(_)
        | FieldType::Enumeration => value.is_string(),
        FieldType::Integer => value.is_i64() || value.is_u64(),
        FieldType::Decimal => value.is_number(),
        FieldType::Boolean => value.is_boolean(),
        FieldType::List => value.is_array(),
        FieldType::References(_) => value
            .as_array()
            .is_some_and(|keys| keys.iter().all(Value::is_string)),
        FieldType::Object => value.is_object(),
    }
}

/// "a string", "a list", … for error messages.
fn type_phrase(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::String | FieldType::Text | FieldType::Enumeration => "a string",
        FieldType::Timestamp => "an RFC 3339 timestamp string",
        FieldType::Date => "a date string",
        FieldType::Reference(_) => "a key string",
        FieldType::Integer => "an integer",
        FieldType::Decimal => "a number",
        FieldType::Boolean => "true or false",
        FieldType::List => "a list",
        FieldType::References(_) => "a list of key strings",
        FieldType::Object => "an object",
    }
}

/// Checks one item of a list field (a purchase order line). In an update, an item without a
/// `key` is a new item, so the item fields required on create apply to it.
fn check_item(
    field: &plantwire_sdk::contract::Field,
    index: usize,
    item: &Map<String, Value>,
    mode: Mode,
    errors: &mut Vec<FieldError>,
) {
    let path = |name: &str| format!("{}[{index}].{name}", field.name);
    for (name, value) in item {
        let Some(spec) = field.item_fields.iter().find(|f| &f.name == name) else {
            errors.push(field_error(
                path(name),
                format!("MaintainX cannot express `{name}` on a {} item", field.name),
            ));
            continue;
        };
        if let Some(message) = refusal(name, value, &spec.ty, &spec.flags, spec.note.as_ref(), mode)
        {
            errors.push(field_error(path(name), message));
        }
    }
    let is_new = mode == Mode::Create || item.get("key").is_none_or(Value::is_null);
    if is_new {
        for spec in &field.item_fields {
            if spec.flags.required_on_create && item.get(&spec.name).is_none_or(Value::is_null) {
                errors.push(field_error(
                    path(&spec.name),
                    format!("`{}` is required on every new item", spec.name),
                ));
            }
        }
    }
}

/// Builds a native request body field by field, collecting conversion errors.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    nulls: &'a [String],
    pub(crate) body: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Writer<'a> {
    /// A writer that clears the fields named in `nulls` (none for a list item: a new body).
    pub(crate) fn new(nulls: &'a [String]) -> Self {
        Writer {
            nulls,
            body: Map::new(),
            errors: Vec::new(),
        }
    }

    /// Writes unified `field` as native `native`: converted when given, `null` when the patch
    /// clears it, nothing when absent.
    pub(crate) fn put<V: ?Sized>(
        &mut self,
        field: &str,
        native: &str,
        value: Option<&V>,
        convert: impl FnOnce(&V) -> Result<Value, String>,
    ) {
        match value {
            Some(v) => match convert(v) {
                Ok(native_value) => {
                    self.body.insert(native.to_owned(), native_value);
                }
                Err(message) => self.errors.push(field_error(field, message)),
            },
            None if self.nulls.iter().any(|n| n == field) => {
                self.body.insert(native.to_owned(), Value::Null);
            }
            None => {}
        }
    }

    /// Writes `name` and `description`, plain text under the same names in MaintainX.
    pub(crate) fn name_and_description(&mut self, name: Option<&str>, description: Option<&str>) {
        self.put("name", "name", name, text);
        self.put("description", "description", description, text);
    }

    /// Writes unified `customFields` as MaintainX's `extraFields`.
    pub(crate) fn custom_fields(&mut self, value: Option<&Value>) {
        self.put("customFields", "extraFields", value, custom_fields);
    }

    /// Records a conversion problem with `field`.
    pub(crate) fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(field_error(field, message));
    }

    /// The body `part` (a list item) built, its problems kept with this body's.
    pub(crate) fn absorb(&mut self, part: Writer<'_>) -> Value {
        self.errors.extend(part.errors);
        Value::Object(part.body)
    }

    /// The body, or every problem found.
    pub(crate) fn finish(self) -> Result<Value, AdapterError> {
        if self.errors.is_empty() {
            Ok(Value::Object(self.body))
        } else {
            Err(AdapterError::Invalid(self.errors))
        }
    }
}

// Converters for `Writer::put`.

/// A string as is.
pub(crate) fn text(v: &str) -> Result<Value, String> {
    Ok(Value::String(v.to_owned()))
}

/// A timestamp, normalized to UTC.
pub(crate) fn timestamp(v: &str) -> Result<Value, String> {
    dates::to_utc(v)
        .map(Value::String)
        .ok_or_else(|| format!("`{v}` is not an RFC 3339 timestamp"))
}

/// A key of another record, sent as MaintainX's integer id.
pub(crate) fn reference(v: &str) -> Result<Value, String> {
    parse_id(v).map(Value::from)
}

/// A key string as an integer id.
pub(crate) fn parse_id(v: &str) -> Result<u64, String> {
    v.parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("`{v}` is not a MaintainX key (a positive integer id)"))
}

/// A decimal amount, sent in cents (rounded to the cent).
pub(crate) fn cents(v: &f64) -> Result<Value, String> {
    let c = (v * 100.0).round();
    if !c.is_finite() || c.abs() > 9.0e15 {
        return Err(format!("{v} is not an amount MaintainX can store"));
    }
    Ok(Value::from(c as i64))
}

/// A quantity: an integer when it is whole, a decimal otherwise.
pub(crate) fn number(v: &f64) -> Result<Value, String> {
    if !v.is_finite() {
        return Err(format!("{v} is not a number"));
    }
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        return Ok(Value::from(*v as i64));
    }
    serde_json::Number::from_f64(*v)
        .map(Value::Number)
        .ok_or_else(|| format!("{v} is not a number"))
}

/// A converter for an enum: unified value → native spelling, listing the accepted values when
/// the value is not one of them.
pub(crate) fn enumeration(
    table: &'static [(&'static str, &'static str)],
) -> impl Fn(&str) -> Result<Value, String> {
    move |v: &str| native_enum(table, v).map(|n| Value::String(n.to_owned()))
}

/// The native spelling of a unified enum value, or a message listing the accepted values.
pub(crate) fn native_enum(
    table: &[(&'static str, &'static str)],
    unified: &str,
) -> Result<&'static str, String> {
    native_value(table, unified)
        .ok_or_else(|| format!("`{unified}` is not one of {}", accepted(table)))
}

/// The unified values of an enum table, for error messages.
pub(crate) fn accepted(table: &[(&str, &str)]) -> String {
    table
        .iter()
        .map(|(u, _)| format!("`{u}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Custom fields: an object of label → string (MaintainX stores every value as a string, so
/// numbers and booleans are sent as their text).
pub(crate) fn custom_fields(v: &Value) -> Result<Value, String> {
    let Value::Object(map) = v else {
        return Err("custom fields must be an object of label → value".to_owned());
    };
    let mut out = Map::new();
    for (label, value) in map {
        let text = match value {
            Value::String(s) => Value::String(s.clone()),
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            Value::Null => Value::Null,
            _ => {
                return Err(format!(
                    "custom field `{label}`: MaintainX custom field values are text"
                ));
            }
        };
        out.insert(label.clone(), text);
    }
    Ok(Value::Object(out))
}

/// Helpers for the mapping tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// `native` mapped to unified JSON, parsed back.
    pub(crate) fn unified(res: Resource, native: &Value) -> Value {
        serde_json::from_str(&to_unified(res, native)).unwrap()
    }

    /// The fields an `invalid` error names, in its order.
    pub(crate) fn invalid_fields(e: AdapterError) -> Vec<String> {
        match e {
            AdapterError::Invalid(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    pub(crate) fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_render_as_strings() {
        let v = json!({"a": 42, "b": 135.0, "c": 1.5, "d": null, "e": "77", "f": "x"});
        assert_eq!(id_of(&v, "a").as_deref(), Some("42"));
        assert_eq!(id_of(&v, "b").as_deref(), Some("135"));
        assert_eq!(id_of(&v, "c"), None);
        assert_eq!(id_of(&v, "d"), None);
        assert_eq!(id_of(&v, "e").as_deref(), Some("77"));
        assert_eq!(id_of(&v, "f"), None);
        assert_eq!(id_of(&v, "zz"), None);
    }

    #[test]
    fn converters() {
        assert_eq!(cents(&12.5), Ok(json!(1250)));
        assert_eq!(cents(&0.005), Ok(json!(1)));
        assert!(cents(&f64::NAN).is_err());
        assert_eq!(number(&4.0), Ok(json!(4)));
        assert_eq!(number(&4.5), Ok(json!(4.5)));
        assert_eq!(reference("12"), Ok(json!(12)));
        assert!(reference("abc").is_err());
        assert!(reference("0").is_err());
        assert_eq!(
            timestamp("2024-03-01T10:00:00+02:00"),
            Ok(json!("2024-03-01T08:00:00Z"))
        );
        assert!(timestamp("tomorrow").is_err());
        let e = enumeration(WO_PRIORITIES)("urgent");
        assert!(e.is_err_and(|m| m.contains("`high`")));
        assert_eq!(
            custom_fields(&json!({"Budget": 250, "Ok": true, "Note": "x"})),
            Ok(json!({"Budget": "250", "Ok": "true", "Note": "x"}))
        );
        assert!(custom_fields(&json!([1])).is_err());
    }

    #[test]
    fn settable_statuses_leave_out_only_the_unsettable_one() {
        fn left_out(
            all: &[(&'static str, &'static str)],
            settable: &[(&str, &str)],
        ) -> Vec<&'static str> {
            all.iter()
                .filter(|pair| !settable.contains(pair))
                .map(|(_, native)| *native)
                .collect()
        }
        assert_eq!(left_out(WO_STATUSES, WO_SETTABLE_STATUSES), ["SKIPPED"]);
        assert_eq!(left_out(PO_STATUSES, PO_SETTABLE_STATUSES), ["REQUESTED"]);
    }

    #[test]
    fn timestamps_normalize_to_utc() {
        let v = json!({"t": "2022-01-01T10:00:00.000+02:00", "bad": "soon"});
        assert_eq!(ts_of(&v, "t").as_deref(), Some("2022-01-01T08:00:00Z"));
        assert_eq!(ts_of(&v, "bad"), None);
    }
}
