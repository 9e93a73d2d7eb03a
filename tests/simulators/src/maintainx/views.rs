//! Shapes stored records into what the API sends: the fields a list item or a single record
//! carries per the spec, plus the fields `expand=` asks for (some computed from other records,
//! such as a work order's `asset` or `assignees`).

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use super::resources::{Expand, Kind};
use super::store::{Record, Store};

/// A record shaped for the wire: its fields in the spec's order, serialized as a JSON object
/// without building an intermediate map.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shaped(Vec<(&'static str, Value)>);

impl Shaped {
    /// The shaped record as a JSON value.
    pub(crate) fn into_value(self) -> Value {
        Value::Object(
            self.0
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
}

impl Serialize for Shaped {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A list item of `kind` with the given `expand` values.
pub(crate) fn list_item(store: &Store, kind: Kind, record: Record, expand: &[String]) -> Shaped {
    shape(
        store,
        kind,
        record,
        kind.list_fields(),
        kind.list_expands(),
        expand,
    )
}

/// A single record of `kind` (`GET /{id}`, `PATCH` replies) with the given `expand` values.
pub(crate) fn single(store: &Store, kind: Kind, record: Record, expand: &[String]) -> Shaped {
    shape(
        store,
        kind,
        record,
        kind.get_fields(),
        kind.get_expands(),
        expand,
    )
}

fn shape(
    store: &Store,
    kind: Kind,
    mut record: Record,
    base: &[&'static str],
    expands: &[Expand],
    requested: &[String],
) -> Shaped {
    // Computed fields first, while the record is whole; then the stored ones are moved out.
    let expanded: Vec<(&'static str, Value)> = expands
        .iter()
        .filter(|e| requested.iter().any(|r| r == e.param))
        .filter_map(|e| e.field)
        .map(|field| (field, field_value(store, kind, &record, field, requested)))
        .collect();
    let children = (matches!(kind, Kind::Asset | Kind::Location) && base.contains(&"childrenIds"))
        .then(|| field_value(store, kind, &record, "childrenIds", requested));
    let mut out = Vec::with_capacity(base.len() + expanded.len());
    for &field in base {
        let value = match (&children, field) {
            (Some(children), "childrenIds") => children.clone(),
            _ => record.remove(field).unwrap_or(Value::Null),
        };
        out.push((field, value));
    }
    out.extend(expanded);
    Shaped(out)
}

/// The value of `field`: stored, or computed from other records.
fn field_value(
    store: &Store,
    kind: Kind,
    record: &Record,
    field: &str,
    requested: &[String],
) -> Value {
    let wants = |param: &str| requested.iter().any(|r| r == param);
    match (kind, field) {
        (Kind::Asset | Kind::Location, "childrenIds") => {
            let id = record.get("id").and_then(Value::as_u64).unwrap_or(0);
            json!(store.children(kind, id))
        }
        (Kind::WorkOrder, "assignees") => {
            // The spec allows an assignee id as an integer or a string.
            let id_of = |id| {
                if store.assignee_ids_as_strings {
                    json!(format!("{id}"))
                } else {
                    json!(id)
                }
            };
            let users =
                ids(record, "assigneeIds").map(|id| json!({ "type": "USER", "id": id_of(id) }));
            let teams = ids(record, "teamIds").map(|id| json!({ "type": "TEAM", "id": id_of(id) }));
            Value::Array(users.chain(teams).collect())
        }
        (Kind::WorkOrder, "asset") => record
            .get("assetId")
            .and_then(Value::as_u64)
            .and_then(|id| store.get(Kind::Asset, id))
            .map_or(Value::Null, |asset| {
                let mut summary = pick(
                    &asset,
                    &[
                        "id",
                        "name",
                        "description",
                        "parentId",
                        "criticalityId",
                        "locationId",
                        "serialNumber",
                        "createdAt",
                        "updatedAt",
                        "creatorId",
                    ],
                );
                if wants("asset_extra_fields") {
                    summary.insert("assetExtraFields".into(), extra(&asset));
                }
                Value::Object(summary)
            }),
        (Kind::WorkOrder, "location") => record
            .get("locationId")
            .and_then(Value::as_u64)
            .and_then(|id| store.get(Kind::Location, id))
            .map_or(Value::Null, |location| {
                let mut summary = pick(
                    &location,
                    &[
                        "id",
                        "name",
                        "description",
                        "address",
                        "parentId",
                        "createdAt",
                        "updatedAt",
                    ],
                );
                if wants("location_extra_fields") {
                    summary.insert("locationExtraFields".into(), extra(&location));
                }
                Value::Object(summary)
            }),
        (Kind::WorkOrder, "parts") => {
            let used = record
                .get("partsUsed")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            Value::Array(
                used.iter()
                    .filter_map(|u| {
                        let part_id = u.get("partId").and_then(Value::as_u64)?;
                        let part = store.get(Kind::Part, part_id)?;
                        let mut summary = pick(
                            &part,
                            &[
                                "id",
                                "name",
                                "description",
                                "area",
                                "unitCost",
                                "availableQuantity",
                                "minimumQuantity",
                                "barcode",
                                "locationId",
                            ],
                        );
                        summary.insert(
                            "quantityUsed".into(),
                            u.get("quantityUsed").cloned().unwrap_or(json!(0)),
                        );
                        summary.insert(
                            "copyOnRecurring".into(),
                            u.get("copyOnRecurring")
                                .cloned()
                                .unwrap_or(json!("Default")),
                        );
                        if let Some(location) = u.get("locationId").filter(|l| !l.is_null()) {
                            summary.insert("locationId".into(), location.clone());
                        }
                        if wants("part_extra_fields") {
                            summary.insert("partExtraFields".into(), extra(&part));
                        }
                        Some(Value::Object(summary))
                    })
                    .collect(),
            )
        }
        (Kind::WorkOrder, "times" | "timeItems" | "expenditures") => json!([]),
        _ => record.get(field).cloned().unwrap_or(Value::Null),
    }
}

fn ids<'r>(record: &'r Record, field: &str) -> impl Iterator<Item = u64> + 'r {
    record
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
}

fn pick(record: &Record, fields: &[&str]) -> Map<String, Value> {
    fields
        .iter()
        .map(|f| {
            (
                (*f).to_string(),
                record.get(*f).cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

fn extra(record: &Record) -> Value {
    record
        .get("extraFields")
        .cloned()
        .unwrap_or_else(|| json!({}))
}
