//! The pure mapping core: Maximo lean JSON ⇄ unified JSON, one module per entity, no I/O.
//!
//! Reading turns one Maximo member into the unified struct: the primary-key values become the
//! `key`, reference attributes become `<entity>Key`s of the same form, DATETIMEs are normalized
//! to RFC 3339 UTC, statuses are translated (Maximo's value kept as `nativeStatus`), and the
//! record's `_rowstamp` is passed on as `concurrencyToken` (what `update` sends back as
//! `If-Match`). What Maximo did not send is omitted, never invented.
//!
//! Writing takes a caller's unified JSON, checks every field against the flags declared in
//! `describe()` (not creatable, not updatable, missing while required, wrong JSON type: each is
//! `invalid`, naming the field), parses it into the unified struct, and builds the lean body
//! Maximo takes. In a patch, `null` clears a field.

pub mod asset;
pub mod party;
pub mod purchase_order;
pub mod stock;
pub mod work_order;

use plantwire_sdk::contract::{EntityInfo, FieldFlags, FieldType};
use plantwire_sdk::dates;
use plantwire_sdk::model::{parse_record, to_json};
use plantwire_sdk::{AdapterError, FieldError, Level, log};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::external_id;
use crate::structures::Os;

/// The name of the field carrying `_rowstamp`.
pub const CONCURRENCY_TOKEN: &str = "concurrencyToken";
/// The name of the field carrying the attributes the adapter does not map.
pub const CUSTOM_FIELDS: &str = "customFields";
/// The name of the field carrying Maximo's own record.
pub const RAW: &str = "raw";

/// What a read returns beyond the mapped fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// `customFields`: the attributes of the record the adapter does not map.
    pub custom: bool,
    /// `raw`: the record as Maximo sent it.
    pub raw: bool,
}

/// The attributes of Maximo record `native` of `os` that the adapter does not map to a
/// unified field, by Maximo's (lower-case) name: standard ones (`worktype`, `wopriority`,
/// `orgid`, …) and those a customer added to the object (Database Configuration) alike.
/// Only plain values count: API metadata (`href`, `_rowstamp`, `localref`, `*_collectionref`,
/// domain descriptions `<attr>_description` and `<attr>_maxvalue`, aliases), child objects,
/// related objects and nulls are left out.
pub fn custom_fields(os: Os, native: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(record) = native.as_object() else {
        return out;
    };
    let mapped = os.mapped_attrs();
    let derived = |name: &str| {
        ["_description", "_maxvalue"].iter().any(|suffix| {
            name.strip_suffix(suffix)
                .is_some_and(|base| record.contains_key(base))
        })
    };
    for (name, value) in record {
        let plain = matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_));
        if !plain
            || mapped.contains(&name.as_str())
            || os.pk().contains(&name.as_str())
            || name == "href"
            || name == "localref"
            || name.starts_with('_')
            || name.contains('$')
            || name.ends_with("_collectionref")
            || derived(name)
        {
            continue;
        }
        out.insert(name.clone(), value.clone());
    }
    out
}

/// [`to_unified`] plus what `extras` asks for: `customFields` and `raw` (the record as sent).
pub fn to_unified_with(os: Os, native: &Value, extras: Extras) -> String {
    let mut json = to_unified(os, native);
    if extras.custom {
        append(
            &mut json,
            CUSTOM_FIELDS,
            &Value::Object(custom_fields(os, native)),
        );
    }
    if extras.raw {
        append(&mut json, RAW, native);
    }
    json
}

/// Appends `"name": value` to the JSON object text `json`.
fn append(json: &mut String, name: &str, value: &Value) {
    if !json.ends_with('}') {
        return;
    }
    json.pop();
    if json.len() > 1 {
        json.push(',');
    }
    json.push_str(&Value::String(name.to_owned()).to_string());
    json.push(':');
    json.push_str(&value.to_string());
    json.push('}');
}

/// Maps one Maximo member of `os` to unified JSON text (fields in the unified struct's order,
/// then `externalId`, `concurrencyToken` last).
pub fn to_unified(os: Os, native: &Value) -> String {
    let mut json = match os {
        Os::WorkOrder => to_json(&work_order::from_native(native)),
        Os::Asset => to_json(&asset::from_native(native)),
        Os::Po => to_json(&purchase_order::from_native(native)),
        Os::Item => to_json(&stock::material_from_native(native)),
        Os::Inventory => to_json(&stock::inventory_from_native(native)),
        Os::Location => to_json(&party::location_from_native(native)),
        Os::Vendor => to_json(&party::vendor_from_native(native)),
    };
    if let Some(external) = text_of(native, external_id::ATTR) {
        append(&mut json, external_id::FIELD, &Value::String(external));
    }
    if crate::describe::entity(os).concurrency_token
        && let Some(stamp) = text_of(native, "_rowstamp")
    {
        append(&mut json, CONCURRENCY_TOKEN, &Value::String(stamp));
    }
    json
}

/// Maps a caller's unified record of `os` to a Maximo body. `key` is the record's key in an
/// update (its site decides which references are valid). `externalId` becomes `externalrefid`
/// (checked by [`external_id::check`]; `null` clears it in an update).
pub fn to_native(os: Os, json: &str, mode: Mode, key: Option<&str>) -> Result<Value, AdapterError> {
    let external = external_input(json, mode);
    match (entity_to_native(os, json, mode, key), external) {
        (Ok(Value::Object(mut body)), Ok(Some(value))) => {
            body.insert(external_id::ATTR.to_owned(), value);
            Ok(Value::Object(body))
        }
        (Ok(body), Ok(_)) => Ok(body),
        (Ok(_), Err(e)) => Err(AdapterError::Invalid(vec![e])),
        (Err(AdapterError::Invalid(mut errors)), Err(e)) => {
            if !errors.iter().any(|x| x.field == e.field) {
                errors.push(e);
            }
            Err(AdapterError::Invalid(errors))
        }
        (Err(e), _) => Err(e),
    }
}

/// The `externalrefid` value a caller's record gives: `None` when it has no `externalId` (or
/// one of the wrong JSON type, which the field check reports), `null` to clear it in an
/// update, else the checked text.
fn external_input(json: &str, mode: Mode) -> Result<Option<Value>, FieldError> {
    let Ok(Value::Object(raw)) = serde_json::from_str::<Value>(json) else {
        return Ok(None);
    };
    match raw.get(external_id::FIELD) {
        Some(Value::String(v)) => external_id::check(v)
            .map(|()| Some(Value::String(v.clone())))
            .map_err(|m| field_error(external_id::FIELD, m)),
        Some(Value::Null) if mode == Mode::Update => Ok(Some(Value::Null)),
        _ => Ok(None),
    }
}

fn entity_to_native(
    os: Os,
    json: &str,
    mode: Mode,
    key: Option<&str>,
) -> Result<Value, AdapterError> {
    match os {
        Os::WorkOrder => work_order::to_native(&parse_input(os, json, mode)?, key),
        Os::Asset => asset::to_native(&parse_input(os, json, mode)?, key),
        Os::Po => purchase_order::to_native(&parse_input(os, json, mode)?, key),
        Os::Item => stock::material_to_native(&parse_input(os, json, mode)?),
        Os::Inventory => stock::inventory_to_native(&parse_input(os, json, mode)?),
        Os::Location => party::location_to_native(&parse_input(os, json, mode)?),
        Os::Vendor => party::vendor_to_native(&parse_input(os, json, mode)?),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading helpers.

/// A text attribute; `null`, absent or empty give `None`. Numbers are rendered as text.
pub(crate) fn text_of(v: &Value, attr: &str) -> Option<String> {
    match v.get(attr)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A numeric attribute (Maximo sends numbers; decimal text is accepted too).
pub(crate) fn num_of(v: &Value, attr: &str) -> Option<f64> {
    match v.get(attr)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A DATETIME normalized to RFC 3339 UTC; a value that is not one is omitted (and logged).
pub(crate) fn ts_of(v: &Value, attr: &str) -> Option<String> {
    let text = v.get(attr)?.as_str()?;
    let utc = dates::to_utc(text);
    if utc.is_none() {
        log(
            Level::Warn,
            &format!("Maximo sent `{attr}` that is not an ISO-8601 date-time; omitted"),
        );
    }
    utc
}

/// A reference key: the attributes' values joined by `/`, when all are present.
pub(crate) fn key_from(v: &Value, attrs: &[&str]) -> Option<String> {
    let parts: Option<Vec<String>> = attrs.iter().map(|a| text_of(v, a)).collect();
    parts.map(|p| p.join("/"))
}

/// The unified value of a native enum value (the first pair that has it).
pub(crate) fn unified_of(
    table: &[(&'static str, &'static str)],
    native: Option<&str>,
) -> Option<String> {
    let native = native?;
    table
        .iter()
        .find(|(_, n)| *n == native)
        .map(|(u, _)| (*u).to_owned())
}

// ---------------------------------------------------------------------------------------------
// Writing: input parsing and validation against describe().

/// Whether a record is being created or patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// A caller's record, parsed and checked against the declared field flags.
#[derive(Debug)]
pub(crate) struct Input<T> {
    pub(crate) record: T,
    /// Fields given as `null` in a patch (to be cleared).
    pub(crate) nulls: Vec<String>,
    pub(crate) mode: Mode,
}

impl<T> Input<T> {
    pub(crate) fn writer(&self) -> Writer<'_> {
        Writer::new(&self.nulls)
    }
}

/// Parses `json` as a unified record of `os` and checks it against `describe()`.
pub(crate) fn parse_input<T: DeserializeOwned>(
    os: Os,
    json: &str,
    mode: Mode,
) -> Result<Input<T>, AdapterError> {
    let raw = json_object(json, "(record)", "a record must be a JSON object")?;
    let entity = crate::describe::entity(os);
    let errors = check_fields(entity, &raw, mode);
    if !errors.is_empty() {
        return Err(AdapterError::Invalid(errors));
    }
    // `externalId` is not a member of the unified structs: `to_native` writes it.
    let record = if raw.contains_key(external_id::FIELD) {
        let mut rest = raw.clone();
        rest.remove(external_id::FIELD);
        parse_record::<T>(&Value::Object(rest).to_string())?
    } else {
        parse_record::<T>(json)?
    };
    let nulls = match mode {
        Mode::Create => Vec::new(),
        Mode::Update => raw
            .iter()
            .filter(|(_, v)| v.is_null())
            .map(|(k, _)| k.clone())
            .collect(),
    };
    Ok(Input {
        record,
        nulls,
        mode,
    })
}

/// `json` as a JSON object, or `invalid` under `field`.
pub(crate) fn json_object(
    json: &str,
    field: &str,
    not_an_object: &str,
) -> Result<Map<String, Value>, AdapterError> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AdapterError::invalid(field, not_an_object)),
        Err(e) => Err(AdapterError::invalid(field, format!("not valid JSON: {e}"))),
    }
}

/// One problem with `field`.
pub(crate) fn field_error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
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
                format!("Maximo cannot express `{name}` on a {}", entity.name),
            ));
            continue;
        };
        if let Some(message) = refusal(
            name,
            value,
            &field.ty,
            &field.flags,
            field.note.as_deref(),
            mode,
        ) {
            errors.push(field_error(name, message));
            continue;
        }
        if value.is_null() && mode == Mode::Update && field.flags.required_on_create {
            errors.push(field_error(
                name,
                format!("`{name}` cannot be cleared: Maximo requires it"),
            ));
            continue;
        }
        if let (Value::Array(items), false) = (value, field.item_fields.is_empty()) {
            for (i, item) in items.iter().enumerate() {
                let Value::Object(item) = item else {
                    errors.push(field_error(
                        format!("{name}[{i}]"),
                        "each item must be an object",
                    ));
                    continue;
                };
                for (iname, ivalue) in item {
                    let path = format!("{name}[{i}].{iname}");
                    match field.item_fields.iter().find(|f| &f.name == iname) {
                        None => errors.push(field_error(
                            path,
                            format!("Maximo cannot express `{iname}` on a {name} item"),
                        )),
                        Some(spec) => {
                            if let Some(m) = refusal(
                                iname,
                                ivalue,
                                &spec.ty,
                                &spec.flags,
                                spec.note.as_deref(),
                                mode,
                            ) {
                                errors.push(field_error(path, m));
                            }
                        }
                    }
                }
                let is_new = mode == Mode::Create || item.get("lineNo").is_none_or(Value::is_null);
                if is_new {
                    for spec in field
                        .item_fields
                        .iter()
                        .filter(|f| f.flags.required_on_create)
                    {
                        if item.get(&spec.name).is_none_or(Value::is_null) {
                            errors.push(field_error(
                                format!("{name}[{i}].{}", spec.name),
                                format!("`{}` is required on every new item", spec.name),
                            ));
                        }
                    }
                }
            }
        }
    }
    if mode == Mode::Create {
        for field in entity.fields.iter().filter(|f| f.flags.required_on_create) {
            if raw.get(&field.name).is_none_or(Value::is_null) {
                errors.push(field_error(
                    &field.name,
                    format!("`{}` is required to create a {}", field.name, entity.name),
                ));
            }
        }
    }
    errors
}

/// Why `value` cannot be given for `name` in `mode`, if it cannot.
fn refusal(
    name: &str,
    value: &Value,
    ty: &FieldType,
    flags: &FieldFlags,
    note: Option<&str>,
    mode: Mode,
) -> Option<String> {
    let allowed = match mode {
        Mode::Create => flags.creatable,
        Mode::Update => flags.updatable,
    };
    if !allowed {
        let verb = if mode == Mode::Create {
            "create"
        } else {
            "update"
        };
        let base = format!("`{name}` cannot be set on {verb}");
        return Some(match note {
            Some(n) => format!("{base} ({n})"),
            None => base,
        });
    }
    if value.is_null() {
        return None;
    }
    let fits = match ty {
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
            .is_some_and(|k| k.iter().all(Value::is_string)),
        FieldType::Object => value.is_object(),
    };
    (!fits).then(|| format!("`{name}` must be {}", type_phrase(ty)))
}

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

/// Builds a Maximo body attribute by attribute, collecting conversion errors.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    nulls: &'a [String],
    pub(crate) body: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(nulls: &'a [String]) -> Self {
        Writer {
            nulls,
            body: Map::new(),
            errors: Vec::new(),
        }
    }

    /// Writes unified `field` as attribute `native`: converted when given, `null` when the
    /// patch clears it, nothing when absent.
    pub(crate) fn put<V: ?Sized>(
        &mut self,
        field: &str,
        native: &str,
        value: Option<&V>,
        convert: impl FnOnce(&V) -> Result<Value, String>,
    ) {
        match value {
            Some(v) => match convert(v) {
                Ok(n) => {
                    self.body.insert(native.to_owned(), n);
                }
                Err(m) => self.errors.push(field_error(field, m)),
            },
            None if self.clears(field) => {
                self.body.insert(native.to_owned(), Value::Null);
            }
            None => {}
        }
    }

    /// Whether the patch clears `field`.
    pub(crate) fn clears(&self, field: &str) -> bool {
        self.nulls.iter().any(|n| n == field)
    }

    /// Sets an attribute directly.
    pub(crate) fn set(&mut self, native: &str, value: Value) {
        self.body.insert(native.to_owned(), value);
    }

    /// Records a problem with `field`.
    pub(crate) fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(field_error(field, message));
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

/// Text as is.
pub(crate) fn text(v: &str) -> Result<Value, String> {
    Ok(Value::String(v.to_owned()))
}

/// A timestamp, sent in UTC (Maximo accepts ISO-8601 with any offset).
pub(crate) fn timestamp(v: &str) -> Result<Value, String> {
    dates::to_utc(v)
        .map(Value::String)
        .ok_or_else(|| format!("`{v}` is not an RFC 3339 timestamp"))
}

/// A decimal.
pub(crate) fn decimal(v: &f64) -> Result<Value, String> {
    serde_json::Number::from_f64(*v)
        .map(Value::Number)
        .ok_or_else(|| format!("{v} is not a number"))
}

/// The parts of reference `key` to an entity served by `target`, or a message.
pub(crate) fn ref_parts(target: Os, key: &str) -> Result<Vec<&str>, String> {
    target.key_parts(key).ok_or_else(|| {
        format!(
            "`{key}` is not a {} key ({} joined by `/`)",
            target.entity(),
            target.pk().join(", ")
        )
    })
}

/// Resolves the site of a write: the site of the record being updated (from its key), else
/// `siteKey`, else the site named by the references; every reference must agree with it.
/// `refs` are (field, site carried by that reference).
pub(crate) fn site_of_write(
    w: &mut Writer<'_>,
    record_site: Option<&str>,
    site_key: Option<&str>,
    refs: &[(&str, Option<&str>)],
) -> Option<String> {
    let mut site = record_site.or(site_key).map(str::to_owned);
    for (field, ref_site) in refs {
        let Some(ref_site) = ref_site else { continue };
        match &site {
            None => site = Some((*ref_site).to_owned()),
            Some(s) if s != ref_site => w.error(
                *field,
                format!(
                    "references a record of site {ref_site}, but the record is in site {s}: \
                     Maximo links records of the same site only"
                ),
            ),
            Some(_) => {}
        }
    }
    site
}

/// The unified values of an enum table, for error messages (duplicates once).
pub(crate) fn accepted(table: &[(&str, &str)]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for (u, _) in table {
        if !seen.contains(u) {
            seen.push(u);
        }
    }
    seen.iter()
        .map(|u| format!("`{u}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Helpers for the mapping tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// `native` mapped to unified JSON, parsed back.
    pub(crate) fn unified(os: Os, native: &Value) -> Value {
        serde_json::from_str(&to_unified(os, native)).unwrap()
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
    fn custom_fields_are_the_plain_attributes_the_adapter_does_not_map() {
        let native = json!({
            "href": "http://host/maximo/oslc/os/mxapiasset/_MTE0MzAvQkVERk9SRA--",
            "_rowstamp": "1207",
            "_imagelibref": "http://host/maximo/oslc/images/109",
            "assetnum": "11430",
            "siteid": "BEDFORD",
            "description": "Pump",
            "status": "OPERATING",
            "status_description": "Operating",
            "status_maxvalue": "OPERATING",
            "assetmeter_collectionref": "http://host/x",
            "$alias_this_attr$location": "BR230",
            "location": {"description": "Boiler room"},
            "assetmeter": [{"metername": "RUNHOURS"}],
            "excriticality": 4,
            "exinspection_description": "customer text with no base attribute",
            "isrunning": true,
            "installdate": "2019-05-01T00:00:00-04:00",
            "vendor": null
        });
        assert_eq!(
            Value::Object(custom_fields(Os::Asset, &native)),
            json!({
                "excriticality": 4,
                "exinspection_description": "customer text with no base attribute",
                "isrunning": true,
                "installdate": "2019-05-01T00:00:00-04:00"
            })
        );
        let with = to_unified_with(
            Os::Asset,
            &native,
            Extras {
                custom: true,
                raw: true,
            },
        );
        let with: Value = serde_json::from_str(&with).unwrap();
        assert_eq!(with["raw"], native);
        assert_eq!(with["customFields"]["excriticality"], 4);
        assert_eq!(with["concurrencyToken"], "1207");
        let plain: Value =
            serde_json::from_str(&to_unified_with(Os::Asset, &native, Extras::default())).unwrap();
        assert!(plain.get("raw").is_none() && plain.get("customFields").is_none());
    }
}
