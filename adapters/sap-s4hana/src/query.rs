//! A unified list query as OData V2 system query options: each filter as a `$filter` clause,
//! the field selection as `$select`.
//!
//! Operators, per kind of field (the same table drives `describe()`, so what is declared is
//! exactly what is pushed down):
//!
//! | unified field | SAP property | operators | `$filter` |
//! |---|---|---|---|
//! | text (`Edm.String`) | one property | `= != < <= > >= in ~` | `P eq 'v'` (quote doubled), `P lt 'v'`, `(P eq 'a' or P eq 'b')`, `substringof('v',P) eq true` |
//! | reference | one property | `= != in` | as text |
//! | timestamp (`Edm.DateTimeOffset`) | one property | `= != < <= > >= in` | `P ge datetimeoffset'2024-06-01T00:00:00Z'` |
//! | timestamp kept as a date (`Edm.DateTime`) | one property | `= != < <= > >= in` | `P gt datetime'2024-06-01T00:00:00'`; bounds between midnights are moved to the day exactly |
//! | date (`Edm.DateTime`) | one property | `= != < <= > >= in` | `P le datetime'2024-06-01T00:00:00'` |
//! | decimal (`Edm.Decimal`) | one property | `= != < <= > >= in` | `P gt 12.5M` |
//! | enum | one code property | `= != in` | each unified value expanded to its SAP codes |
//! | `isActive` | two flags (or one) | `= !=` | `(A eq false and B eq false)` / `(A eq true or B eq true)` |
//! | `status` of assets, locations | the INAC and DLFL flags | `= != in` | one conjunction of flags per status, `or`-ed |
//! | `status` of purchase orders | processing status and deletion code | `= != in` | `(PurchasingDocumentDeletionCode ne 'L' and (PurchasingProcessingStatus eq '02' or …))` |
//! | `locationKey` of stock | Plant, StorageLocation | `= != in` | `(Plant eq '1010' and StorageLocation eq '101A')` |
//!
//! Only properties the EDMX leaves filterable are used (`SystemStatusText` is
//! `sap:filterable="false"`, so a work order's status cannot be filtered). Everything else is
//! refused (`invalid`, naming the field): nothing is ever filtered in memory.

use plantwire_sdk::contract::{Field, FieldType, Filter, FilterOp};
use plantwire_sdk::{AdapterError, dates};

use crate::describe;
use crate::mapping::{Conv, PO_STATUSES, simple_fields};
use crate::odata::{datetime_literal, datetimeoffset_literal, string_literal};
use crate::resources::{Resource, STOCK_KEYS};

/// Comparisons, `in` and contains: text.
const TEXT_OPS: &[FilterOp] = &FilterOp::ALL;
/// Comparisons and `in`: times, dates, decimals.
const ORDERED_OPS: &[FilterOp] = &[
    FilterOp::Eq,
    FilterOp::Ne,
    FilterOp::Lt,
    FilterOp::Le,
    FilterOp::Gt,
    FilterOp::Ge,
    FilterOp::In,
];
/// Equality, inequality and `in`: references, enums, composite values.
const MATCH_OPS: &[FilterOp] = &[FilterOp::Eq, FilterOp::Ne, FilterOp::In];
/// Booleans.
const BOOL_OPS: &[FilterOp] = &[FilterOp::Eq, FilterOp::Ne];

/// The SAP property holding an entity's key (`None` for stock rows, whose key has eleven).
pub fn key_native(res: Resource) -> Option<&'static str> {
    match res {
        Resource::WorkOrder => Some("MaintenanceOrder"),
        Resource::Asset => Some("Equipment"),
        Resource::Location => Some("FunctionalLocation"),
        Resource::PurchaseOrder => Some("PurchaseOrder"),
        Resource::Vendor => Some("Supplier"),
        Resource::Inventory => None,
    }
}

/// `MaxLength` of the key property.
fn key_length(res: Resource) -> usize {
    match res {
        Resource::WorkOrder => 12,
        Resource::Asset => 18,
        Resource::PurchaseOrder | Resource::Vendor => 10,
        Resource::Location => 30,
        Resource::Inventory => 0,
    }
}

/// The operators the adapter pushes down for `field` of `res`; empty when the field is not
/// declared filterable or cannot be pushed down.
pub fn ops(res: Resource, field: &Field) -> &'static [FilterOp] {
    if !field.flags.filterable {
        return &[];
    }
    match (res, field.name.as_str()) {
        (Resource::Inventory, "key") => &[],
        (_, "key") => TEXT_OPS,
        (Resource::Asset | Resource::Location | Resource::Vendor, "isActive") => BOOL_OPS,
        (Resource::Asset | Resource::Location | Resource::PurchaseOrder, "status") => MATCH_OPS,
        (Resource::Inventory, "locationKey") => MATCH_OPS,
        (_, name) => match simple_fields(res).iter().find(|s| s.field == name) {
            Some(s) => match s.conv {
                Conv::Text(_) if matches!(field.ty, FieldType::Reference(_)) => MATCH_OPS,
                Conv::Text(_) => TEXT_OPS,
                Conv::Enum(_) => MATCH_OPS,
                Conv::Timestamp | Conv::DateAsTimestamp | Conv::Date | Conv::Decimal(..) => {
                    ORDERED_OPS
                }
            },
            None => &[],
        },
    }
}

fn bad(field: &str, message: impl Into<String>) -> AdapterError {
    AdapterError::invalid(field, message)
}

/// The `$filter` of a list request: every condition, joined with `and`; `None` without any.
pub fn filter(res: Resource, filters: &[Filter]) -> Result<Option<String>, AdapterError> {
    let mut clauses = Vec::with_capacity(filters.len());
    for f in filters {
        clauses.push(clause(res, f)?);
    }
    Ok((!clauses.is_empty()).then(|| clauses.join(" and ")))
}

/// `parts` joined with `op`, in parentheses when there are several.
fn group(parts: Vec<String>, op: &str) -> String {
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", parts.join(&format!(" {op} ")))
    }
}

/// One condition as a self-contained `$filter` clause (an `or` is always parenthesized).
pub fn clause(res: Resource, f: &Filter) -> Result<String, AdapterError> {
    let field = f.field.as_str();
    let declared = describe::entity(res)
        .field(field)
        .ok_or_else(|| bad(field, format!("{} has no field `{field}`", res.entity())))?;
    if !declared.filter_ops.contains(&f.op) {
        let offered: Vec<&str> = declared.filter_ops.iter().map(|o| o.symbol()).collect();
        return Err(bad(
            field,
            if offered.is_empty() {
                format!("`{field}` cannot be filtered in SAP")
            } else {
                format!(
                    "`{}` is not pushed down to SAP for `{field}` (offered: {})",
                    f.op,
                    offered.join(" ")
                )
            },
        ));
    }
    let values = match f.op {
        FilterOp::In if f.values.is_empty() => {
            return Err(bad(field, "`in` needs at least one value"));
        }
        FilterOp::In => f.values.as_slice(),
        _ if f.values.len() != 1 => {
            return Err(bad(field, format!("`{}` takes exactly one value", f.op)));
        }
        _ => f.values.as_slice(),
    };
    match (res, field) {
        (_, "key") => {
            let native = key_native(res).ok_or_else(|| bad(field, "not filterable"))?;
            let max = key_length(res);
            plain(native, f.op, values, &|v| text_literal(field, v, max))
        }
        (_, "isActive") => is_active(res, f.op, values[0].as_str()),
        (_, "status") => status(res, f.op, values),
        (Resource::Inventory, "locationKey") => stock_location(f.op, values),
        _ => {
            let s = simple_fields(res)
                .iter()
                .find(|s| s.field == field)
                .ok_or_else(|| bad(field, "not filterable"))?;
            match s.conv {
                Conv::Text(max) => plain(s.native, f.op, values, &|v| text_literal(field, v, max)),
                Conv::Timestamp => plain(s.native, f.op, values, &|v| timestamp_literal(field, v)),
                Conv::Date => plain(s.native, f.op, values, &|v| date_literal(field, v)),
                Conv::Decimal(..) => plain(s.native, f.op, values, &|v| decimal_literal(field, v)),
                Conv::DateAsTimestamp => day_bound(field, s.native, f.op, values),
                Conv::Enum(table) => {
                    let codes = codes_of(field, table, f.op, values)?;
                    let parts: Vec<String> = codes
                        .iter()
                        .map(|c| format!("{} eq {}", s.native, string_literal(c)))
                        .collect();
                    if parts.is_empty() {
                        return Err(bad(field, "no SAP value matches"));
                    }
                    Ok(group(parts, "or"))
                }
            }
        }
    }
}

/// A comparison of one property with literals.
fn plain(
    native: &str,
    op: FilterOp,
    values: &[String],
    literal: &dyn Fn(&str) -> Result<String, AdapterError>,
) -> Result<String, AdapterError> {
    let one = |v: &str| literal(v);
    Ok(match op {
        FilterOp::Eq => format!("{native} eq {}", one(&values[0])?),
        FilterOp::Ne => format!("{native} ne {}", one(&values[0])?),
        FilterOp::Lt => format!("{native} lt {}", one(&values[0])?),
        FilterOp::Le => format!("{native} le {}", one(&values[0])?),
        FilterOp::Gt => format!("{native} gt {}", one(&values[0])?),
        FilterOp::Ge => format!("{native} ge {}", one(&values[0])?),
        FilterOp::In => {
            let mut parts = Vec::with_capacity(values.len());
            for v in values {
                parts.push(format!("{native} eq {}", one(v)?));
            }
            group(parts, "or")
        }
        FilterOp::Contains => {
            // OData V2 has no `contains`; SAP Gateway reads `substringof` (case-sensitive).
            let needle = one(&values[0])?;
            format!("substringof({needle},{native}) eq true")
        }
    })
}

/// A string literal, refused when it is longer than the property can hold (it could never
/// match, and SAP refuses literals longer than `MaxLength`) or holds control characters.
fn text_literal(field: &str, value: &str, max: usize) -> Result<String, AdapterError> {
    if value.chars().count() > max {
        return Err(bad(
            field,
            format!(
                "at most {max} characters in SAP (got {})",
                value.chars().count()
            ),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(bad(field, "control characters are not allowed"));
    }
    Ok(string_literal(value))
}

/// `datetimeoffset'…Z'` for an RFC 3339 timestamp (at most 7 fractional digits, SAP's
/// precision).
fn timestamp_literal(field: &str, value: &str) -> Result<String, AdapterError> {
    let literal = datetimeoffset_literal(value)
        .ok_or_else(|| bad(field, format!("`{value}` is not an RFC 3339 timestamp")))?;
    let fraction = literal
        .split_once('.')
        .map_or(0, |(_, f)| f.trim_end_matches(['Z', '\'']).len());
    if fraction > 7 {
        return Err(bad(
            field,
            "SAP keeps time stamps to 7 decimal places of a second",
        ));
    }
    Ok(literal)
}

/// `datetime'YYYY-MM-DDT00:00:00'` for a `YYYY-MM-DD` date.
fn date_literal(field: &str, value: &str) -> Result<String, AdapterError> {
    let ms = dates::to_unix_millis(&format!("{value}T00:00:00Z"))
        .filter(|_| value.len() == 10)
        .ok_or_else(|| bad(field, format!("`{value}` is not a date (YYYY-MM-DD)")))?;
    datetime_literal(ms).ok_or_else(|| bad(field, "out of range"))
}

/// `12.5M` for a decimal written in plain digits (no exponent), unchanged otherwise: the
/// value reaches SAP digit for digit.
fn decimal_literal(field: &str, value: &str) -> Result<String, AdapterError> {
    let not = || bad(field, format!("`{value}` is not a decimal number"));
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || int.len() + frac.len() > 40
    {
        return Err(not());
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    let zero = int == "0" && frac.is_empty();
    let sign = if negative && !zero { "-" } else { "" };
    Ok(if frac.is_empty() {
        format!("{sign}{int}M")
    } else {
        format!("{sign}{int}.{frac}M")
    })
}

const DAY_MS: i64 = 86_400_000;

/// A timestamp filter on an `Edm.DateTime` property that keeps the date only (the unified
/// value is midnight UTC of that day). A bound between two midnights is moved to the day that
/// gives exactly the same records: `> t` is `> day(t)`, `>= t` is `> day(t)`, `< t` is
/// `<= day(t)`, `<= t` is `<= day(t)`. Equality with a time that is not midnight could never
/// hold and is refused.
fn day_bound(
    field: &str,
    native: &str,
    op: FilterOp,
    values: &[String],
) -> Result<String, AdapterError> {
    let day = |v: &str| -> Result<(String, bool), AdapterError> {
        let ms = dates::to_unix_millis(v)
            .ok_or_else(|| bad(field, format!("`{v}` is not an RFC 3339 timestamp")))?;
        let floor = ms.div_euclid(DAY_MS) * DAY_MS;
        let literal = datetime_literal(floor).ok_or_else(|| bad(field, "out of range"))?;
        Ok((literal, floor == ms))
    };
    let exact = |v: &str| -> Result<String, AdapterError> {
        match day(v)? {
            (literal, true) => Ok(literal),
            (_, false) => Err(bad(
                field,
                format!(
                    "SAP keeps the date only: `{v}` is not midnight UTC, so it can never be equal"
                ),
            )),
        }
    };
    Ok(match op {
        FilterOp::Eq => format!("{native} eq {}", exact(&values[0])?),
        FilterOp::Ne => format!("{native} ne {}", exact(&values[0])?),
        FilterOp::In => {
            let mut parts = Vec::with_capacity(values.len());
            for v in values {
                parts.push(format!("{native} eq {}", exact(v)?));
            }
            group(parts, "or")
        }
        FilterOp::Gt => format!("{native} gt {}", day(&values[0])?.0),
        FilterOp::Le => format!("{native} le {}", day(&values[0])?.0),
        FilterOp::Ge => match day(&values[0])? {
            (literal, true) => format!("{native} ge {literal}"),
            (literal, false) => format!("{native} gt {literal}"),
        },
        FilterOp::Lt => match day(&values[0])? {
            (literal, true) => format!("{native} lt {literal}"),
            (literal, false) => format!("{native} le {literal}"),
        },
        FilterOp::Contains => return Err(bad(field, "a date has no text to search")),
    })
}

/// The unified enum values a filter admits: the value (`=`), every other declared value
/// (`!=`), or the listed ones (`in`).
fn admitted<'a>(
    field: &str,
    all: &[&'a str],
    op: FilterOp,
    values: &[String],
) -> Result<Vec<&'a str>, AdapterError> {
    for v in values {
        if !all.contains(&v.as_str()) {
            return Err(bad(
                field,
                format!("`{v}` is not one of {}", all.join(", ")),
            ));
        }
    }
    Ok(match op {
        FilterOp::Eq | FilterOp::In => all
            .iter()
            .copied()
            .filter(|a| values.iter().any(|v| v == a))
            .collect(),
        FilterOp::Ne => all.iter().copied().filter(|a| *a != values[0]).collect(),
        other => {
            return Err(bad(field, format!("`{other}` does not apply to a status")));
        }
    })
}

/// The unified values of an enum table, each once, in table order.
fn unique(table: &[(&'static str, &'static str)]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (u, _) in table {
        if !out.contains(u) {
            out.push(u);
        }
    }
    out
}

/// The SAP codes of the unified values a filter admits (a unified value may stand for
/// several codes: `approved` is `02` and `05`).
fn codes_of(
    field: &str,
    table: &'static [(&'static str, &'static str)],
    op: FilterOp,
    values: &[String],
) -> Result<Vec<&'static str>, AdapterError> {
    let unified = unique(table);
    let admitted = admitted(field, &unified, op, values)?;
    Ok(table
        .iter()
        .filter(|(u, _)| admitted.contains(u))
        .map(|(_, n)| *n)
        .collect())
}

/// The two flags that make an object inactive (or that block a supplier).
fn flags(res: Resource) -> Option<[&'static str; 2]> {
    match res {
        Resource::Asset => Some(["EquipmentIsInactive", "EquipmentIsMarkedForDeletion"]),
        Resource::Location => Some(["FuncnlLocIsDeactivated", "FuncnlLocIsMarkedForDeletion"]),
        Resource::Vendor => Some(["PurchasingIsBlocked", "DeletionIndicator"]),
        _ => None,
    }
}

fn is_active(res: Resource, op: FilterOp, value: &str) -> Result<String, AdapterError> {
    let wanted = match value {
        "true" => true,
        "false" => false,
        _ => return Err(bad("isActive", "must be `true` or `false`")),
    };
    let active = match op {
        FilterOp::Eq => wanted,
        FilterOp::Ne => !wanted,
        other => return Err(bad("isActive", format!("`{other}` does not apply"))),
    };
    if res == Resource::Location {
        return Ok(format!("FunctionalLocationIsActive eq {active}"));
    }
    let [a, b] = flags(res).ok_or_else(|| bad("isActive", "not filterable"))?;
    Ok(if active {
        format!("({a} eq false and {b} eq false)")
    } else {
        format!("({a} eq true or {b} eq true)")
    })
}

fn status(res: Resource, op: FilterOp, values: &[String]) -> Result<String, AdapterError> {
    match res {
        Resource::Asset | Resource::Location => {
            let [inactive, deleted] = flags(res).ok_or_else(|| bad("status", "not filterable"))?;
            let all = ["active", "inactive", "marked-for-deletion"];
            let parts: Vec<String> = admitted("status", &all, op, values)?
                .into_iter()
                .map(|s| match s {
                    "active" => format!("({inactive} eq false and {deleted} eq false)"),
                    "inactive" => format!("({inactive} eq true and {deleted} eq false)"),
                    _ => format!("{deleted} eq true"),
                })
                .collect();
            if parts.is_empty() {
                return Err(bad("status", "no status matches"));
            }
            Ok(group(parts, "or"))
        }
        Resource::PurchaseOrder => {
            let all = unique(PO_STATUSES);
            let admitted = admitted("status", &all, op, values)?;
            let deletion = "PurchasingDocumentDeletionCode";
            let codes: Vec<String> = PO_STATUSES
                .iter()
                .filter(|(u, n)| *u != "cancelled" && *n != "L" && admitted.contains(u))
                .map(|(_, n)| format!("PurchasingProcessingStatus eq {}", string_literal(n)))
                .collect();
            let cancelled = admitted.contains(&"cancelled");
            Ok(match (cancelled, codes.is_empty()) {
                (true, true) => format!("{deletion} eq 'L'"),
                (true, false) => {
                    let mut parts = vec![format!("{deletion} eq 'L'")];
                    parts.extend(codes);
                    group(parts, "or")
                }
                (false, false) => format!("({deletion} ne 'L' and {})", group(codes, "or")),
                (false, true) => return Err(bad("status", "no status matches")),
            })
        }
        _ => Err(bad("status", "cannot be filtered in SAP")),
    }
}

/// `plant/storage location` of a stock row.
fn stock_location(op: FilterOp, values: &[String]) -> Result<String, AdapterError> {
    let field = "locationKey";
    let split = |v: &str| -> Result<(String, String), AdapterError> {
        let (plant, sloc) = v.split_once('/').ok_or_else(|| {
            bad(
                field,
                "a stock location is written `<plant>/<storage location>`, e.g. 1010/101A",
            )
        })?;
        Ok((
            text_literal(field, plant, 4)?,
            text_literal(field, sloc, 4)?,
        ))
    };
    let eq = |v: &str| -> Result<String, AdapterError> {
        let (p, s) = split(v)?;
        Ok(format!("(Plant eq {p} and StorageLocation eq {s})"))
    };
    Ok(match op {
        FilterOp::Eq => eq(&values[0])?,
        FilterOp::Ne => {
            let (p, s) = split(&values[0])?;
            format!("(Plant ne {p} or StorageLocation ne {s})")
        }
        FilterOp::In => {
            let mut parts = Vec::with_capacity(values.len());
            for v in values {
                parts.push(eq(v)?);
            }
            group(parts, "or")
        }
        other => return Err(bad(field, format!("`{other}` does not apply"))),
    })
}

// ------------------------------------------------------------------------------- $select

/// The SAP properties (and navigation properties) a unified field is read from; `None` when
/// they cannot be listed (customer extension fields, which only the service's `$metadata`
/// names).
fn natives(res: Resource, field: &str) -> Result<Option<Vec<&'static str>>, AdapterError> {
    let v: Vec<&'static str> = match (res, field) {
        (_, "key") | (_, "concurrencyToken") => Vec::new(),
        (_, "customFields") => return Ok(None),
        (Resource::WorkOrder, "status" | "nativeStatus") => vec!["SystemStatusText"],
        (Resource::Asset, "status" | "nativeStatus" | "isActive") => {
            vec!["EquipmentIsInactive", "EquipmentIsMarkedForDeletion"]
        }
        (Resource::Location, "status" | "nativeStatus" | "isActive") => vec![
            "FuncnlLocIsDeactivated",
            "FuncnlLocIsMarkedForDeletion",
            "FunctionalLocationIsActive",
        ],
        (Resource::PurchaseOrder, "status") => vec![
            "PurchasingProcessingStatus",
            "PurchasingDocumentDeletionCode",
        ],
        (Resource::PurchaseOrder, "nativeStatus") => vec!["PurchasingProcessingStatus"],
        (Resource::PurchaseOrder, "lineItems") => vec!["to_PurchaseOrderItem"],
        (Resource::Inventory, "locationKey") => vec!["Plant", "StorageLocation"],
        (Resource::Vendor, "isActive") => vec!["PurchasingIsBlocked", "DeletionIndicator"],
        (_, name) => match simple_fields(res).iter().find(|s| s.field == name) {
            Some(s) => vec![s.native],
            None => {
                return Err(bad(
                    "fields",
                    format!("{} has no field `{name}`", res.entity()),
                ));
            }
        },
    };
    Ok(Some(v))
}

/// What a field selection asks of SAP.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// `$select`, `None` for every property.
    pub select: Option<String>,
    /// Whether the entity's navigation (`$expand`) is needed.
    pub expand: bool,
}

/// The `$select` for a field selection: the key properties always, the properties of each
/// requested field, and the navigation property when it is expanded (SAP leaves out an
/// expanded navigation that `$select` does not name). No `$select` for an empty selection,
/// or when `customFields` is asked for (extension fields cannot be listed without the
/// service's `$metadata`). The navigation is expanded only when a requested field needs it.
pub fn select(res: Resource, fields: &[String]) -> Result<Selection, AdapterError> {
    let expand_all = Selection {
        select: None,
        expand: res.expand().is_some(),
    };
    if fields.is_empty() {
        return Ok(expand_all);
    }
    let mut props: Vec<&'static str> = match res {
        Resource::Inventory => STOCK_KEYS.to_vec(),
        _ => key_native(res).into_iter().collect(),
    };
    let mut all = false;
    for f in fields {
        match natives(res, f)? {
            Some(list) => {
                for p in list {
                    if !props.contains(&p) {
                        props.push(p);
                    }
                }
            }
            None => all = true,
        }
    }
    if all {
        return Ok(expand_all);
    }
    let expand = res.expand().is_some_and(|nav| props.contains(&nav));
    Ok(Selection {
        select: Some(props.join(",")),
        expand,
    })
}

/// Whether `name` is a customer extension field (key-user custom fields: `YY1_…`, and
/// `ZZ1_…` for those created in on-premise systems).
pub fn is_extension(name: &str) -> bool {
    (name.starts_with("YY1_") || name.starts_with("ZZ1_"))
        && name.len() > 4
        && name.len() <= 30
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(field: &str, op: FilterOp, values: &[&str]) -> Filter {
        Filter {
            field: field.to_owned(),
            op,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn ok(res: Resource, field: &str, op: FilterOp, values: &[&str]) -> String {
        clause(res, &f(field, op, values)).unwrap()
    }

    fn refused(res: Resource, field: &str, op: FilterOp, values: &[&str]) -> String {
        match clause(res, &f(field, op, values)) {
            Err(AdapterError::Invalid(errors)) => {
                assert_eq!(errors[0].field, field);
                errors[0].message.clone()
            }
            other => panic!("{field} {op} {values:?}: {other:?}"),
        }
    }

    #[test]
    fn every_declared_operator_is_pushed_down() {
        use FilterOp::*;
        let sample = |ty: &FieldType, field: &str, res: Resource| -> &'static str {
            match (res, field, ty) {
                (Resource::Inventory, "locationKey", _) => "1010/101A",
                (_, "isActive", _) => "true",
                (Resource::PurchaseOrder, "status", _) => "approved",
                (_, "status", _) => "inactive",
                (_, "severity", _) => "high",
                (_, _, FieldType::Timestamp) => "2024-06-01T00:00:00Z",
                (_, _, FieldType::Date) => "2024-06-01",
                (_, _, FieldType::Decimal) => "12.5",
                _ => "PC",
            }
        };
        let mut count = 0;
        for res in Resource::ALL {
            for field in &describe::entity(res).fields {
                assert_eq!(
                    field.filter_ops,
                    ops(res, field),
                    "{}.{}",
                    res.entity(),
                    field.name
                );
                for op in &field.filter_ops {
                    let v = sample(&field.ty, &field.name, res);
                    let values = if *op == In { vec![v, v] } else { vec![v] };
                    let text = ok(res, &field.name, *op, &values);
                    assert!(!text.is_empty());
                    count += 1;
                }
            }
        }
        assert!(count > 100, "{count}");
        // A work order's status is not filterable in SAP (sap:filterable="false").
        assert!(
            describe::entity(Resource::WorkOrder)
                .field("status")
                .unwrap()
                .filter_ops
                .is_empty()
        );
        let _ = (Eq, Ne, Lt, Le, Gt, Ge, In, Contains);
    }

    #[test]
    fn text_comparisons_quote_and_escape() {
        use FilterOp::*;
        let wo = Resource::WorkOrder;
        assert_eq!(
            ok(wo, "title", Eq, &["O'Neil"]),
            "MaintenanceOrderDesc eq 'O''Neil'"
        );
        assert_eq!(
            ok(wo, "siteKey", Ne, &["1010"]),
            "MaintenancePlanningPlant ne '1010'"
        );
        assert_eq!(ok(wo, "teamKey", Lt, &["M"]), "MainWorkCenter lt 'M'");
        assert_eq!(ok(wo, "teamKey", Le, &["M"]), "MainWorkCenter le 'M'");
        assert_eq!(ok(wo, "teamKey", Gt, &["M"]), "MainWorkCenter gt 'M'");
        assert_eq!(ok(wo, "teamKey", Ge, &["M"]), "MainWorkCenter ge 'M'");
        assert_eq!(
            ok(wo, "teamKey", In, &["MECHANIK", "ELEKTRIK"]),
            "(MainWorkCenter eq 'MECHANIK' or MainWorkCenter eq 'ELEKTRIK')"
        );
        assert_eq!(
            ok(wo, "teamKey", In, &["MECHANIK"]),
            "MainWorkCenter eq 'MECHANIK'"
        );
        assert_eq!(
            ok(wo, "title", Contains, &["it's"]),
            "substringof('it''s',MaintenanceOrderDesc) eq true"
        );
        assert_eq!(
            ok(wo, "key", Ge, &["4000100"]),
            "MaintenanceOrder ge '4000100'"
        );
        assert_eq!(
            ok(wo, "assetKey", In, &["10000001", "10000002"]),
            "(Equipment eq '10000001' or Equipment eq '10000002')"
        );
        assert!(refused(wo, "title", Eq, &[&"x".repeat(41)]).contains("40 characters"));
        assert!(refused(wo, "key", Eq, &["1234567890123"]).contains("12 characters"));
        assert!(refused(wo, "title", Eq, &["a\u{7}b"]).contains("control"));
        // References take no ranges and no contains: they are not text in the unified model.
        assert!(refused(wo, "assetKey", Gt, &["1"]).contains("offered: = != in"));
        assert!(refused(wo, "assetKey", Contains, &["1"]).contains("not pushed down"));
    }

    #[test]
    fn times_dates_and_decimals() {
        use FilterOp::*;
        let wo = Resource::WorkOrder;
        assert_eq!(
            ok(wo, "updatedAt", Ge, &["2024-06-01T02:00:00+02:00"]),
            "LastChangeDateTime ge datetimeoffset'2024-06-01T00:00:00Z'"
        );
        assert_eq!(
            ok(wo, "updatedAt", Lt, &["2024-06-01T00:00:00.25Z"]),
            "LastChangeDateTime lt datetimeoffset'2024-06-01T00:00:00.25Z'"
        );
        assert!(
            refused(wo, "updatedAt", Gt, &["2024-06-01T00:00:00.123456789Z"]).contains("7 decimal")
        );
        assert!(refused(wo, "updatedAt", Gt, &["yesterday"]).contains("RFC 3339"));
        let po = Resource::PurchaseOrder;
        assert_eq!(
            ok(po, "orderDate", Le, &["2024-03-01"]),
            "PurchaseOrderDate le datetime'2024-03-01T00:00:00'"
        );
        assert!(refused(po, "orderDate", Eq, &["2024-3-1"]).contains("not a date"));
        // createdAt of a purchase order is a date in SAP: bounds move to the day exactly.
        let mid = "2024-03-01T00:00:00Z";
        let noon = "2024-03-01T12:00:00Z";
        let day = "datetime'2024-03-01T00:00:00'";
        assert_eq!(
            ok(po, "createdAt", Gt, &[noon]),
            format!("CreationDate gt {day}")
        );
        assert_eq!(
            ok(po, "createdAt", Ge, &[noon]),
            format!("CreationDate gt {day}")
        );
        assert_eq!(
            ok(po, "createdAt", Ge, &[mid]),
            format!("CreationDate ge {day}")
        );
        assert_eq!(
            ok(po, "createdAt", Lt, &[noon]),
            format!("CreationDate le {day}")
        );
        assert_eq!(
            ok(po, "createdAt", Lt, &[mid]),
            format!("CreationDate lt {day}")
        );
        assert_eq!(
            ok(po, "createdAt", Le, &[noon]),
            format!("CreationDate le {day}")
        );
        assert_eq!(
            ok(po, "createdAt", Eq, &[mid]),
            format!("CreationDate eq {day}")
        );
        assert!(refused(po, "createdAt", Eq, &[noon]).contains("midnight"));
        assert!(refused(po, "createdAt", In, &[mid, noon]).contains("midnight"));
        let stock = Resource::Inventory;
        assert_eq!(
            ok(stock, "quantity", Gt, &["12.50"]),
            "MatlWrhsStkQtyInMatlBaseUnit gt 12.5M"
        );
        assert_eq!(
            ok(stock, "quantity", Le, &["-007"]),
            "MatlWrhsStkQtyInMatlBaseUnit le -7M"
        );
        assert_eq!(
            ok(stock, "quantity", Eq, &["+.5"]),
            "MatlWrhsStkQtyInMatlBaseUnit eq 0.5M"
        );
        assert!(refused(stock, "quantity", Eq, &["1e3"]).contains("decimal"));
        assert!(refused(stock, "quantity", Eq, &["."]).contains("decimal"));
    }

    #[test]
    fn statuses_and_flags_expand_to_every_sap_value() {
        use FilterOp::*;
        let po = Resource::PurchaseOrder;
        assert_eq!(
            ok(po, "status", Eq, &["approved"]),
            "(PurchasingDocumentDeletionCode ne 'L' and (PurchasingProcessingStatus eq '02' or PurchasingProcessingStatus eq '05'))"
        );
        assert_eq!(
            ok(po, "status", Ne, &["approved"]),
            "(PurchasingDocumentDeletionCode eq 'L' or PurchasingProcessingStatus eq '01' or PurchasingProcessingStatus eq '03' or PurchasingProcessingStatus eq '04' or PurchasingProcessingStatus eq '08')"
        );
        assert_eq!(
            ok(po, "status", Eq, &["cancelled"]),
            "PurchasingDocumentDeletionCode eq 'L'"
        );
        assert_eq!(
            ok(po, "status", In, &["draft", "declined"]),
            "(PurchasingDocumentDeletionCode ne 'L' and (PurchasingProcessingStatus eq '01' or PurchasingProcessingStatus eq '08'))"
        );
        assert!(refused(po, "status", Eq, &["shipped"]).contains("not one of"));
        let asset = Resource::Asset;
        assert_eq!(
            ok(asset, "status", Eq, &["inactive"]),
            "(EquipmentIsInactive eq true and EquipmentIsMarkedForDeletion eq false)"
        );
        assert_eq!(
            ok(asset, "status", Ne, &["active"]),
            "((EquipmentIsInactive eq true and EquipmentIsMarkedForDeletion eq false) or EquipmentIsMarkedForDeletion eq true)"
        );
        assert_eq!(
            ok(asset, "isActive", Eq, &["false"]),
            "(EquipmentIsInactive eq true or EquipmentIsMarkedForDeletion eq true)"
        );
        assert_eq!(
            ok(asset, "isActive", Ne, &["false"]),
            "(EquipmentIsInactive eq false and EquipmentIsMarkedForDeletion eq false)"
        );
        assert_eq!(
            ok(Resource::Location, "isActive", Ne, &["true"]),
            "FunctionalLocationIsActive eq false"
        );
        assert_eq!(
            ok(Resource::WorkOrder, "severity", In, &["urgent", "low"]),
            "(MaintPriority eq '1' or MaintPriority eq '4')"
        );
        assert_eq!(
            ok(Resource::WorkOrder, "severity", Ne, &["urgent"]),
            "(MaintPriority eq '2' or MaintPriority eq '3' or MaintPriority eq '4')"
        );
        assert!(
            refused(Resource::WorkOrder, "status", Eq, &["open"]).contains("cannot be filtered")
        );
        let stock = Resource::Inventory;
        assert_eq!(
            ok(stock, "locationKey", Ne, &["1010/101A"]),
            "(Plant ne '1010' or StorageLocation ne '101A')"
        );
        assert_eq!(
            ok(stock, "locationKey", In, &["1010/101A", "1710/171A"]),
            "((Plant eq '1010' and StorageLocation eq '101A') or (Plant eq '1710' and StorageLocation eq '171A'))"
        );
        assert!(refused(stock, "locationKey", Eq, &["1010"]).contains("<plant>/"));
        assert!(refused(stock, "key", Eq, &["x"]).contains("cannot be filtered"));
        assert!(refused(Resource::Asset, "nope", Eq, &["x"]).contains("no field"));
        assert!(refused(Resource::Asset, "name", Eq, &["a", "b"]).contains("exactly one"));
    }

    #[test]
    fn selections_keep_keys_and_expanded_navigation() {
        let s = |res: Resource, fields: &[&str]| {
            select(
                res,
                &fields.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>(),
            )
            .unwrap()
        };
        assert_eq!(
            s(
                Resource::WorkOrder,
                &["title", "status", "concurrencyToken"]
            ),
            Selection {
                select: Some("MaintenanceOrder,MaintenanceOrderDesc,SystemStatusText".into()),
                expand: false
            }
        );
        assert_eq!(
            s(Resource::PurchaseOrder, &["lineItems", "status"]),
            Selection {
                select: Some(
                    "PurchaseOrder,to_PurchaseOrderItem,PurchasingProcessingStatus,PurchasingDocumentDeletionCode"
                        .into()
                ),
                expand: true
            }
        );
        assert_eq!(
            s(Resource::PurchaseOrder, &["orderDate"]),
            Selection {
                select: Some("PurchaseOrder,PurchaseOrderDate".into()),
                expand: false
            }
        );
        assert_eq!(
            s(Resource::PurchaseOrder, &["customFields"]),
            Selection {
                select: None,
                expand: true
            }
        );
        assert_eq!(s(Resource::Asset, &[]).select, None);
        let stock = s(Resource::Inventory, &["locationKey"]).select.unwrap();
        assert!(stock.starts_with("Material,Plant,StorageLocation,Batch"));
        assert!(select(Resource::Asset, &["nope".to_owned()]).is_err());
        assert!(is_extension("YY1_SafetyPermit_ORD"));
        assert!(is_extension("ZZ1_ShutdownRequired_ORD"));
        assert!(!is_extension("YY1_"));
        assert!(!is_extension("MaintenanceOrderType"));
        assert!(!is_extension("YY1_a-b"));
    }
}
