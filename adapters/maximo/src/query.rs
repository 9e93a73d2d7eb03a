//! `list`: building `GET /os/{os}?lean=1&oslc.select=…&oslc.where=…&oslc.orderBy=…
//! &oslc.pageSize=…&pageno=…` from a unified list request, and reading a page back.
//!
//! Unified filters are pushed down into `oslc.where` (IBM REST API guide, `query/filtering`):
//! conditions joined by `and` (OSLC has no `or`), text and ISO-8601 dates in double quotes,
//! numbers and booleans bare, `in [..]` for a set. Operator by operator:
//!
//! | unified | `oslc.where` |
//! |---|---|
//! | `=`, `!=` | `attr="v"`, `attr!="v"` |
//! | `<`, `<=`, `>`, `>=` | `attr<"2024-09-23T13:00:00+00:00"`, `attr>=12.5` |
//! | `in` | `attr in ["a","b"]` |
//! | contains (`~`) | `attr="%v%"` (Maximo's LIKE) |
//!
//! A unified `status` becomes `status in [..]` over every Maximo status it stands for (`!=`:
//! the documented not-in form `status!="[A,B]"`); a reference key becomes one condition per
//! key attribute (`assetnum="11430" and siteid="BEDFORD"`; `in` over keys that differ in one
//! attribute only). Inside a quoted value Maximo reads `%` as a LIKE wildcard, a lone `*` as
//! "not null" and `[a,b]` after `!=` as "not in", and the guide gives no escape for `"`: a
//! value with any of them is refused, so an equality never silently becomes a pattern and a
//! contains never matches more than its text. A contains value with `_` is refused too: the
//! LIKE Maximo generates reads it as "any one character" and offers no escape for it.
//!
//! The guide documents one condition per attribute, or a range (`installdate>=".." and
//! installdate<".."`); the adapter sends nothing else: two conditions on one attribute that
//! are not a lower and an upper bound are refused rather than sent with an unknown meaning.
//!
//! Paging follows `responseInfo.nextPage.href` (an object): its `pageno` is the continuation
//! handed to the host. Every `oslc.orderBy` ends with the object's unique id, so pages are
//! stable (Maximo has no default order). The link itself is never followed: the next request
//! is rebuilt under the connection's base URL, so a link naming another host cannot send
//! anything elsewhere. A link that does not continue this collection (another origin than the
//! collection's own `href`, another object structure, a page number that does not move
//! forward) or an empty page that claims a next one is refused as a malformed answer, so a
//! misbehaving server cannot keep a caller paging forever.

use plantwire_sdk::contract::{Filter, FilterOp, ListRequest, Page};
use plantwire_sdk::query::PathQuery;
use plantwire_sdk::{AdapterError, FieldError, UpstreamError, dates};
use serde_json::Value;

use crate::describe::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::mapping::purchase_order::PO_STATUSES;
use crate::mapping::work_order::WO_STATUSES;
use crate::mapping::{self, Extras, accepted, field_error};
use crate::structures::Os;

/// How a unified filter becomes `oslc.where` conditions.
#[derive(Debug, Clone, Copy)]
pub enum FilterKind {
    /// A text attribute: `attr="value"`.
    Text(&'static str),
    /// A DATETIME attribute: `attr>="<ISO-8601>"`.
    Date(&'static str),
    /// A numeric attribute: `attr>=12.5`.
    Number(&'static str),
    /// A reference key: one `attr="part"` per key part.
    Ref(&'static [&'static str]),
    /// A unified status: `status in [every Maximo value it stands for]`.
    Status(&'static [(&'static str, &'static str)]),
    /// `isActive`: `status="<value>"` when true, `status!="<value>"` when false.
    ActiveIfStatus(&'static str),
    /// `isActive`: `status!="<value>"` when true, `status="<value>"` when false.
    ActiveUnlessStatus(&'static str),
    /// `isActive`: `<attr>=0` when true, `<attr>=1` when false.
    ActiveUnlessFlag(&'static str),
    /// `externalId`: `externalrefid="v"` / `externalrefid in [..]`, each value checked like a
    /// written one (a value that cannot have been written is refused, not sent to match
    /// nothing).
    ExternalRef,
}

/// Text compared whole or as a part: `=`, `!=`, `in`, contains.
pub const TEXT_OPS: &[FilterOp] = &[FilterOp::Eq, FilterOp::Ne, FilterOp::In, FilterOp::Contains];
/// Codes compared whole: `=`, `!=`, `in`.
pub const CODE_OPS: &[FilterOp] = &[FilterOp::Eq, FilterOp::Ne, FilterOp::In];
/// Date-times: the range operators (an equality on a DATETIME would have to hit the second).
pub const DATE_OPS: &[FilterOp] = &[FilterOp::Lt, FilterOp::Le, FilterOp::Gt, FilterOp::Ge];
/// Numbers: every comparison.
pub const NUMBER_OPS: &[FilterOp] = &FilterOp::COMPARE;
/// Reference keys: `=`, and `in` over keys that differ in one key attribute.
pub const REF_OPS: &[FilterOp] = &[FilterOp::Eq, FilterOp::In];
/// Booleans: `=`.
pub const BOOL_OPS: &[FilterOp] = &[FilterOp::Eq];
/// `externalId`: `=` and `in` (what a host needs to find the records it created).
pub const EXTERNAL_ID_OPS: &[FilterOp] = &[FilterOp::Eq, FilterOp::In];
/// The `externalId` filter, the same on every object structure.
const EXTERNAL_ID: FilterSpec = (
    crate::external_id::FIELD,
    FilterKind::ExternalRef,
    EXTERNAL_ID_OPS,
);

/// Most values one `in` may carry (each becomes part of the request URL).
pub const MAX_IN_VALUES: usize = 100;

/// A filterable unified field: its name, how it is pushed down, the operators it takes.
pub type FilterSpec = (&'static str, FilterKind, &'static [FilterOp]);

/// The filters each object structure supports.
pub fn filters(os: Os) -> &'static [FilterSpec] {
    use FilterKind::{
        ActiveIfStatus, ActiveUnlessFlag, ActiveUnlessStatus, Date, Number, Ref, Status, Text,
    };
    match os {
        Os::WorkOrder => &[
            ("title", Text("description"), TEXT_OPS),
            ("status", Status(WO_STATUSES), CODE_OPS),
            ("nativeStatus", Text("status"), CODE_OPS),
            ("assetKey", Ref(&["assetnum", "siteid"]), REF_OPS),
            ("locationKey", Ref(&["location", "siteid"]), REF_OPS),
            ("siteKey", Text("siteid"), CODE_OPS),
            ("teamKey", Text("persongroup"), CODE_OPS),
            ("scheduledAt", Date("schedstart"), DATE_OPS),
            ("dueAt", Date("targcompdate"), DATE_OPS),
            ("completedAt", Date("actfinish"), DATE_OPS),
            ("createdAt", Date("reportdate"), DATE_OPS),
            ("updatedAt", Date("changedate"), DATE_OPS),
            EXTERNAL_ID,
        ],
        Os::Asset => &[
            ("name", Text("description"), TEXT_OPS),
            ("siteKey", Text("siteid"), CODE_OPS),
            ("locationKey", Ref(&["location", "siteid"]), REF_OPS),
            ("parentKey", Ref(&["parent", "siteid"]), REF_OPS),
            ("serialNumber", Text("serialnum"), TEXT_OPS),
            ("makeName", Text("manufacturer"), CODE_OPS),
            ("isActive", ActiveUnlessStatus("DECOMMISSIONED"), BOOL_OPS),
            ("nativeStatus", Text("status"), CODE_OPS),
            ("updatedAt", Date("changedate"), DATE_OPS),
            EXTERNAL_ID,
        ],
        Os::Po => &[
            ("orderNo", Text("ponum"), TEXT_OPS),
            ("title", Text("description"), TEXT_OPS),
            ("vendorKey", Ref(&["vendor", "orgid"]), REF_OPS),
            ("siteKey", Text("siteid"), CODE_OPS),
            ("status", Status(PO_STATUSES), CODE_OPS),
            ("nativeStatus", Text("status"), CODE_OPS),
            ("orderDate", Date("orderdate"), DATE_OPS),
            ("dueAt", Date("requireddate"), DATE_OPS),
            ("totalNetValue", Number("totalcost"), NUMBER_OPS),
            ("updatedAt", Date("changedate"), DATE_OPS),
            EXTERNAL_ID,
        ],
        Os::Item => &[
            ("code", Text("itemnum"), TEXT_OPS),
            ("name", Text("description"), TEXT_OPS),
            ("uomKey", Text("issueunit"), CODE_OPS),
            ("isActive", ActiveIfStatus("ACTIVE"), BOOL_OPS),
            ("updatedAt", Date("changedate"), DATE_OPS),
            EXTERNAL_ID,
        ],
        Os::Inventory => &[
            ("materialKey", Ref(&["itemnum", "itemsetid"]), REF_OPS),
            ("locationKey", Ref(&["location", "siteid"]), REF_OPS),
            ("quantity", Number("curbaltotal"), NUMBER_OPS),
            ("unitCost", Number("avgcost"), NUMBER_OPS),
            EXTERNAL_ID,
        ],
        Os::Location => &[
            ("code", Text("location"), TEXT_OPS),
            ("name", Text("description"), TEXT_OPS),
            ("siteKey", Text("siteid"), CODE_OPS),
            ("isActive", ActiveUnlessStatus("DECOMMISSIONED"), BOOL_OPS),
            ("updatedAt", Date("changedate"), DATE_OPS),
            EXTERNAL_ID,
        ],
        Os::Vendor => &[
            ("code", Text("company"), TEXT_OPS),
            ("name", Text("name"), TEXT_OPS),
            ("isActive", ActiveUnlessFlag("disabled"), BOOL_OPS),
            ("updatedAt", Date("changedate"), DATE_OPS),
            EXTERNAL_ID,
        ],
    }
}

/// The operators `field` of `os` takes (empty when it is not filterable).
pub fn ops(os: Os, field: &str) -> &'static [FilterOp] {
    filters(os)
        .iter()
        .find(|(f, _, _)| *f == field)
        .map_or(&[], |(_, _, ops)| ops)
}

/// The sorts each object structure supports: unified field, Maximo attribute.
pub fn sorts(os: Os) -> &'static [(&'static str, &'static str)] {
    match os {
        Os::WorkOrder => &[
            ("title", "description"),
            ("nativeStatus", "status"),
            ("siteKey", "siteid"),
            ("scheduledAt", "schedstart"),
            ("dueAt", "targcompdate"),
            ("completedAt", "actfinish"),
            ("createdAt", "reportdate"),
            ("updatedAt", "changedate"),
        ],
        Os::Asset => &[
            ("name", "description"),
            ("siteKey", "siteid"),
            ("serialNumber", "serialnum"),
            ("nativeStatus", "status"),
            ("updatedAt", "changedate"),
        ],
        Os::Po => &[
            ("orderNo", "ponum"),
            ("title", "description"),
            ("siteKey", "siteid"),
            ("nativeStatus", "status"),
            ("orderDate", "orderdate"),
            ("dueAt", "requireddate"),
            ("totalNetValue", "totalcost"),
            ("updatedAt", "changedate"),
        ],
        Os::Item => &[
            ("code", "itemnum"),
            ("name", "description"),
            ("updatedAt", "changedate"),
        ],
        Os::Inventory => &[("quantity", "curbaltotal"), ("unitCost", "avgcost")],
        Os::Location => &[
            ("code", "location"),
            ("name", "description"),
            ("siteKey", "siteid"),
            ("updatedAt", "changedate"),
        ],
        Os::Vendor => &[
            ("code", "company"),
            ("name", "name"),
            ("updatedAt", "changedate"),
        ],
    }
}

/// Why `value` cannot be sent inside a quoted `oslc.where` value, if it cannot.
fn unquotable(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some(
            "an empty value cannot be matched (Maximo compares quoted values only)".to_owned(),
        );
    }
    if value.contains('"') {
        return Some("oslc.where offers no escape for `\"` inside a quoted value".to_owned());
    }
    if value.contains('%') {
        return Some(
            "`%` is Maximo's LIKE wildcard inside a quoted value and cannot be escaped".to_owned(),
        );
    }
    None
}

/// `value` as an OSLC quoted string for an exact comparison; values Maximo would read as a
/// pattern (`%`), a null test (`*`) or a not-in list (`[a,b]`) are refused.
pub fn quote(value: &str) -> Result<String, String> {
    if let Some(why) = unquotable(value) {
        return Err(why);
    }
    if value == "*" {
        return Err("`*` alone means \"has any value\" in oslc.where, not the text `*`".to_owned());
    }
    if value.starts_with('[') && value.ends_with(']') {
        return Err("a value in [ ] is Maximo's not-in list in oslc.where".to_owned());
    }
    Ok(format!("\"{value}\""))
}

/// The LIKE pattern `"%value%"` of a contains filter; what LIKE cannot take literally is
/// refused.
pub fn contains_pattern(value: &str) -> Result<String, String> {
    if let Some(why) = unquotable(value) {
        return Err(why);
    }
    if value.contains('_') {
        return Err(
            "`_` matches any one character in the LIKE Maximo generates and cannot be escaped; \
             filter with `=` or a shorter text"
                .to_owned(),
        );
    }
    Ok(format!("\"%{value}%\""))
}

/// A unified timestamp as an `oslc.where` date literal: quoted ISO-8601 in UTC, whole seconds.
pub fn date_literal(value: &str) -> Result<String, String> {
    let not = || format!("`{value}` is not an RFC 3339 timestamp");
    let ms = dates::to_unix_millis(value).ok_or_else(not)?;
    if ms.rem_euclid(1000) != 0 {
        return Err(format!(
            "`{value}` has fractions of a second; Maximo date-times are whole seconds"
        ));
    }
    let utc = dates::from_unix_seconds(ms.div_euclid(1000)).ok_or_else(not)?;
    let iso = utc
        .strip_suffix('Z')
        .map_or(utc.clone(), |t| format!("{t}+00:00"));
    Ok(format!("\"{iso}\""))
}

/// A unified decimal as a bare, non-localized `oslc.where` number.
pub fn number_literal(value: &str) -> Result<String, String> {
    let plain = {
        let digits = value.strip_prefix('-').unwrap_or(value);
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, "0"));
        !whole.is_empty()
            && !frac.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
    };
    if plain {
        return Ok(value.to_owned());
    }
    match value.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(format!("{n}")),
        _ => Err(format!("`{value}` is not a decimal number")),
    }
}

/// Which side of a range a condition bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `>` or `>=`.
    Lower,
    /// `<` or `<=`.
    Upper,
    /// Anything else.
    None,
}

/// One `oslc.where` condition on one Maximo attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    pub attr: &'static str,
    pub bound: Bound,
    pub text: String,
}

impl Cond {
    fn new(attr: &'static str, op: &str, literal: &str) -> Cond {
        let bound = match op {
            ">" | ">=" => Bound::Lower,
            "<" | "<=" => Bound::Upper,
            _ => Bound::None,
        };
        let text = if op == "in" {
            format!("{attr} in {literal}")
        } else {
            format!("{attr}{op}{literal}")
        };
        Cond { attr, bound, text }
    }
}

fn comparison(op: FilterOp) -> &'static str {
    match op {
        FilterOp::Eq => "=",
        FilterOp::Ne => "!=",
        FilterOp::Lt => "<",
        FilterOp::Le => "<=",
        FilterOp::Gt => ">",
        FilterOp::Ge => ">=",
        FilterOp::In => "in",
        FilterOp::Contains => "=",
    }
}

/// `[a,b]` of already-formed literals, each once.
fn list(literals: Vec<String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for l in literals {
        if !seen.contains(&l) {
            seen.push(l);
        }
    }
    format!("[{}]", seen.join(","))
}

/// Every `oslc.where` condition of unified filter `f` on `os`, or why it cannot be sent.
pub fn conditions(os: Os, f: &Filter) -> Result<Vec<Cond>, String> {
    let field = f.field.as_str();
    let Some((_, kind, ops)) = filters(os).iter().find(|(name, _, _)| *name == field) else {
        let list: Vec<String> = filters(os)
            .iter()
            .map(|(f, _, _)| format!("`{f}`"))
            .collect();
        return Err(format!(
            "Maximo cannot filter {} by `{field}`; filterable: {}",
            os.entity(),
            list.join(", ")
        ));
    };
    if !ops.contains(&f.op) {
        let list: Vec<&str> = ops.iter().map(|o| o.symbol()).collect();
        return Err(format!(
            "`{field}` takes {} in a Maximo filter, not `{}`",
            list.join(" "),
            f.op.symbol()
        ));
    }
    let values: &[String] = &f.values;
    match (f.op, values.len()) {
        (FilterOp::In, 0) => return Err("`in` needs at least one value".to_owned()),
        (FilterOp::In, n) if n > MAX_IN_VALUES => {
            return Err(format!(
                "`in` takes at most {MAX_IN_VALUES} values in one Maximo request, not {n}"
            ));
        }
        (FilterOp::In, _) | (_, 1) => {}
        (op, n) => return Err(format!("`{}` takes one value, not {n}", op.symbol())),
    }
    let value = f.value();
    let op = comparison(f.op);
    let boolean = || match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("`{value}` is not `true` or `false`")),
    };
    Ok(match *kind {
        FilterKind::Text(attr) => match f.op {
            FilterOp::In => {
                let quoted: Result<Vec<String>, String> = values.iter().map(|v| quote(v)).collect();
                vec![Cond::new(attr, "in", &list(quoted?))]
            }
            FilterOp::Contains => vec![Cond::new(attr, op, &contains_pattern(value)?)],
            _ => vec![Cond::new(attr, op, &quote(value)?)],
        },
        FilterKind::Date(attr) => vec![Cond::new(attr, op, &date_literal(value)?)],
        FilterKind::Number(attr) => vec![Cond::new(attr, op, &number_literal(value)?)],
        FilterKind::Ref(attrs) => ref_conditions(attrs, f.op, values)?,
        FilterKind::Status(table) => {
            let mut natives: Vec<&str> = Vec::new();
            for v in values {
                let mut found = false;
                for (_, n) in table.iter().filter(|(u, _)| u == v) {
                    found = true;
                    if !natives.contains(n) {
                        natives.push(n);
                    }
                }
                if !found {
                    return Err(format!("`{v}` is not one of {}", accepted(table)));
                }
            }
            match (f.op, natives.as_slice()) {
                (FilterOp::Ne, [one]) => vec![Cond::new("status", "!=", &format!("\"{one}\""))],
                // The guide's not-in form (text attributes only): status!="[A,B]".
                (FilterOp::Ne, many) => vec![Cond::new(
                    "status",
                    "!=",
                    &format!("\"[{}]\"", many.join(",")),
                )],
                (_, many) => vec![Cond::new(
                    "status",
                    "in",
                    &list(many.iter().map(|n| format!("\"{n}\"")).collect()),
                )],
            }
        }
        FilterKind::ActiveIfStatus(v) => {
            let op = if boolean()? { "=" } else { "!=" };
            vec![Cond::new("status", op, &format!("\"{v}\""))]
        }
        FilterKind::ActiveUnlessStatus(v) => {
            let op = if boolean()? { "!=" } else { "=" };
            vec![Cond::new("status", op, &format!("\"{v}\""))]
        }
        FilterKind::ActiveUnlessFlag(attr) => {
            let flag = if boolean()? { "0" } else { "1" };
            vec![Cond::new(attr, "=", flag)]
        }
        FilterKind::ExternalRef => {
            let attr = crate::external_id::ATTR;
            let mut quoted = Vec::with_capacity(values.len());
            for v in values {
                crate::external_id::check(v)?;
                quoted.push(quote(v)?);
            }
            match f.op {
                FilterOp::In => vec![Cond::new(attr, "in", &list(quoted))],
                _ => vec![Cond::new(attr, op, &quoted.concat())],
            }
        }
    })
}

/// The conditions of a reference filter: one per key attribute; an `in` sends `attr in [..]`
/// for the one attribute in which its keys differ (OSLC has no `or` to pair them otherwise).
fn ref_conditions(
    attrs: &'static [&'static str],
    op: FilterOp,
    values: &[String],
) -> Result<Vec<Cond>, String> {
    let mut keys: Vec<Vec<&str>> = Vec::new();
    for value in values {
        let parts: Vec<&str> = value.split('/').collect();
        if parts.len() != attrs.len() || parts.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "`{value}` is not a key of the form {}",
                attrs.join("/")
            ));
        }
        keys.push(parts);
    }
    let varying: Vec<usize> = (0..attrs.len())
        .filter(|&i| keys.iter().any(|k| k[i] != keys[0][i]))
        .collect();
    if varying.len() > 1 {
        return Err(format!(
            "the keys differ in {}; Maximo's oslc.where has no `or`, so an `in` takes keys that \
             differ in one of {} only",
            varying
                .iter()
                .map(|&i| attrs[i])
                .collect::<Vec<_>>()
                .join(" and "),
            attrs.join(", ")
        ));
    }
    let mut out = Vec::new();
    for (i, attr) in attrs.iter().enumerate() {
        if op == FilterOp::In && varying.contains(&i) {
            let quoted: Result<Vec<String>, String> = keys.iter().map(|k| quote(k[i])).collect();
            out.push(Cond::new(attr, "in", &list(quoted?)));
        } else {
            out.push(Cond::new(attr, "=", &quote(keys[0][i])?));
        }
    }
    Ok(out)
}

/// The `oslc.where` of `filters`: every condition, each once, joined by `and`; every filter
/// that cannot be sent is an error naming its field.
pub fn where_clause(os: Os, filters: &[Filter]) -> Result<Option<String>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut conds: Vec<(&str, Cond)> = Vec::new();
    for f in filters {
        let new = match conditions(os, f) {
            Ok(c) => c,
            Err(m) => {
                errors.push(field_error(&f.field, m));
                continue;
            }
        };
        let mut clash = None;
        for c in &new {
            if conds.iter().any(|(_, x)| x == c) {
                continue;
            }
            let same: Vec<&(&str, Cond)> = conds.iter().filter(|(_, x)| x.attr == c.attr).collect();
            let range_pair = match same.as_slice() {
                [] => true,
                [(_, x)] => matches!(
                    (x.bound, c.bound),
                    (Bound::Lower, Bound::Upper) | (Bound::Upper, Bound::Lower)
                ),
                _ => false,
            };
            if !range_pair {
                clash = Some((same.first().map_or("", |(f, _)| *f), c.attr));
                break;
            }
        }
        if let Some((other, attr)) = clash {
            let with = if other == f.field {
                format!("`{other}` is filtered twice")
            } else {
                format!("`{other}` and `{}` both filter `{attr}`", f.field)
            };
            errors.push(field_error(
                &f.field,
                format!(
                    "{with}; the adapter sends one condition per Maximo attribute, or one lower \
                     and one upper bound (the combinations IBM documents for oslc.where)"
                ),
            ));
            continue;
        }
        for c in new {
            if !conds.iter().any(|(_, x)| *x == c) {
                conds.push((f.field.as_str(), c));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((!conds.is_empty()).then(|| {
        conds
            .iter()
            .map(|(_, c)| c.text.as_str())
            .collect::<Vec<_>>()
            .join(" and ")
    }))
}

/// The `oslc.select` for the caller's field selection: the attributes the requested fields
/// read (the key's always), or every attribute (`*`) when custom fields or the raw record are
/// wanted.
pub fn select_for(os: Os, fields: &[String], include_raw: bool) -> Result<String, Vec<FieldError>> {
    let entity = crate::describe::entity(os);
    let errors: Vec<FieldError> = fields
        .iter()
        .filter(|f| entity.field(f).is_none())
        .map(|f| {
            field_error(
                f,
                format!("`{f}` is not a field of {} in Maximo", os.entity()),
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    if include_raw || fields.is_empty() || fields.iter().any(|f| f == mapping::CUSTOM_FIELDS) {
        return Ok(os.select_all());
    }
    let mut wanted: Vec<&str> = os.pk().to_vec();
    for f in fields {
        wanted.extend_from_slice(os.attrs_of(f));
    }
    let terms: Vec<&str> = os
        .select_terms()
        .into_iter()
        .filter(|t| {
            let name = t.split_once('{').map_or(*t, |(n, _)| n);
            wanted.contains(&name)
        })
        .collect();
    Ok(terms.join(","))
}

/// What a list of `req` asks beyond the mapped fields.
pub fn extras(req: &ListRequest) -> Extras {
    Extras {
        custom: req.fields.is_empty() || req.fields.iter().any(|f| f == mapping::CUSTOM_FIELDS),
        raw: req.include_raw,
    }
}

/// The `GET` path of a list request and the page number it asks for; bad filters, sorts or
/// cursors are `invalid` before any request is made.
pub fn build(os: Os, req: &ListRequest) -> Result<(String, u32), AdapterError> {
    let size = match req.page_size {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    };
    let mut errors = Vec::new();
    let page = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 1,
        Some(c) => match c.parse::<u32>() {
            Ok(n) if n >= 2 => n,
            _ => {
                errors.push(field_error(
                    "cursor",
                    "not a continuation of this Maximo list (a page number from nextPage)",
                ));
                1
            }
        },
    };
    let clause = where_clause(os, &req.filters).unwrap_or_else(|e| {
        errors.extend(e);
        None
    });
    let select = select_for(os, &req.fields, req.include_raw).unwrap_or_else(|e| {
        errors.extend(e);
        String::new()
    });
    let mut order = Vec::new();
    if let Some(sort) = req.sort.as_deref().filter(|s| !s.is_empty()) {
        let (sign, field) = match sort.strip_prefix('-') {
            Some(f) => ('-', f),
            None => ('+', sort),
        };
        match sorts(os).iter().find(|(u, _)| *u == field) {
            Some((_, attr)) => order.push(format!("{sign}{attr}")),
            None => {
                let list: Vec<String> = sorts(os).iter().map(|(u, _)| format!("`{u}`")).collect();
                errors.push(field_error(
                    field,
                    format!(
                        "Maximo cannot sort {} by `{field}`; sortable: {}",
                        os.entity(),
                        list.join(", ")
                    ),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(AdapterError::Invalid(errors));
    }
    order.push(format!("+{}", os.unique_id()));
    let mut q = PathQuery::new(os.path())
        .param("lean", 1)
        .param("oslc.select", select)
        .param("oslc.pageSize", size)
        .param("oslc.orderBy", order.join(","));
    if let Some(clause) = clause {
        q = q.param("oslc.where", clause);
    }
    if page == 1 {
        q = q.param("collectioncount", 1);
    } else {
        q = q.param("pageno", page);
    }
    Ok((q.build(), page))
}

/// Reads page `page` of a collection body into a page of unified records. A body that is not
/// a collection of this object structure, or whose `nextPage` does not continue it, is an
/// `upstream` error.
pub fn parse_page(os: Os, body: &[u8], page: u32, extras: Extras) -> Result<Page, AdapterError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        malformed(format!(
            "the {} collection is not valid JSON: {e}",
            os.name()
        ))
    })?;
    let Some(members) = v.get("member").and_then(Value::as_array) else {
        return Err(malformed(format!(
            "the {} collection has no `member` array",
            os.name()
        )));
    };
    let mut records = Vec::with_capacity(members.len());
    for (at, m) in members.iter().enumerate() {
        if !m.is_object() || mapping::key_from(m, os.pk()).is_none() {
            return Err(malformed(format!(
                "member {at} of the {} collection is not a record with its key ({})",
                os.name(),
                os.pk().join(", ")
            )));
        }
        records.push(mapping::to_unified_with(os, m, extras));
    }
    let info = v.get("responseInfo");
    let next_cursor = match info.and_then(|i| i.get("nextPage")) {
        None | Some(Value::Null) => None,
        Some(next) => {
            let href = next.get("href").and_then(Value::as_str).ok_or_else(|| {
                malformed(format!(
                    "the {} collection's responseInfo.nextPage is not an object with an href",
                    os.name()
                ))
            })?;
            let next = next_page(os, href, v.get("href").and_then(Value::as_str), page).map_err(
                |why| {
                    malformed(format!(
                        "the {} collection's nextPage link {} {why}",
                        os.name(),
                        shortened(href)
                    ))
                },
            )?;
            if records.is_empty() {
                return Err(malformed(format!(
                    "page {page} of the {} collection is empty but names a next page",
                    os.name()
                )));
            }
            Some(next.to_string())
        }
    };
    let total = info
        .and_then(|i| i.get("totalCount"))
        .and_then(Value::as_u64);
    Ok(Page {
        records,
        next_cursor,
        total,
    })
}

/// The page number of a `nextPage` link of page `page`, checked to continue the collection
/// of `os` whose own `href` is `collection`; otherwise why not.
fn next_page(os: Os, href: &str, collection: Option<&str>, page: u32) -> Result<u32, String> {
    let (location, query) = href.split_once('?').unwrap_or((href, ""));
    let (origin, path) = split_origin(location);
    if let (Some(theirs), Some((ours, _))) = (origin, collection.map(split_origin)) {
        match ours {
            Some(ours) if !ours.eq_ignore_ascii_case(theirs) => {
                return Err("points at another origin than the collection".to_owned());
            }
            _ => {}
        }
    }
    let suffix = format!("/os/{}", os.name());
    let tail = path
        .trim_end_matches('/')
        .get(
            path.trim_end_matches('/')
                .len()
                .saturating_sub(suffix.len())..,
        )
        .unwrap_or_default();
    if !tail.eq_ignore_ascii_case(&suffix) {
        return Err(format!("does not continue {}", os.name()));
    }
    let numbers: Vec<&str> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| *k == "pageno")
        .map(|(_, v)| v)
        .collect();
    let [number] = numbers.as_slice() else {
        return Err("has no single pageno".to_owned());
    };
    match number.parse::<u32>() {
        Ok(n) if n > page => Ok(n),
        Ok(n) => Err(format!("goes back to page {n} from page {page}")),
        Err(_) => Err(format!(
            "has pageno `{}`, not a page number",
            shortened(number)
        )),
    }
}

/// `(Some("scheme://authority"), path)` of an absolute URL, `(None, path)` of a relative one.
fn split_origin(location: &str) -> (Option<&str>, &str) {
    let Some((scheme, rest)) = location.split_once("://") else {
        return (None, location);
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return (None, location);
    }
    let at = rest
        .find('/')
        .map_or(location.len(), |i| scheme.len() + 3 + i);
    (location.get(..at), location.get(at..).unwrap_or_default())
}

/// At most 120 characters of server-sent text, for a message.
fn shortened(text: &str) -> String {
    let mut out: String = text.chars().take(120).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

fn malformed(message: String) -> AdapterError {
    AdapterError::Upstream(UpstreamError {
        status: 200,
        code: None,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe;
    use crate::mapping::testing::invalid_fields;
    use plantwire_sdk::contract::FieldType;
    use serde_json::json;

    fn req(entity: &str) -> ListRequest {
        ListRequest {
            entity: entity.to_owned(),
            page_size: 50,
            ..ListRequest::default()
        }
    }

    fn decoded(path: &str) -> String {
        let mut out = Vec::new();
        let b = path.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() + 1 {
                out.push(u8::from_str_radix(&path[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    fn f(field: &str, op: FilterOp, values: &[&str]) -> Filter {
        Filter {
            field: field.to_owned(),
            op,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    /// The `oslc.where` built for `filters` on `os`.
    fn clause(os: Os, filters: &[Filter]) -> String {
        where_clause(os, filters).unwrap().unwrap_or_default()
    }

    /// The fields an `invalid` from `filters` on `os` names.
    fn refused(os: Os, filters: &[Filter]) -> Vec<String> {
        let mut r = req(os.entity());
        r.filters = filters.to_vec();
        invalid_fields(build(os, &r).unwrap_err())
    }

    #[test]
    fn filters_become_oslc_where_with_quoting() {
        let mut r = req("work-order");
        r.filters = vec![
            Filter::eq("status", "open"),
            Filter::eq("assetKey", "11430/BEDFORD"),
            Filter::eq("teamKey", "MECH"),
        ];
        r.fields = vec!["title".into(), "status".into()];
        r.sort = Some("-updatedAt".into());
        let (path, page) = build(Os::WorkOrder, &r).unwrap();
        assert_eq!(page, 1);
        assert!(
            path.contains("oslc.orderBy=-changedate%2C%2Bworkorderid"),
            "{path}"
        );
        assert_eq!(
            decoded(&path),
            "/os/mxapiwo?lean=1&oslc.select=wonum,siteid,description,status&oslc.pageSize=50\
             &oslc.orderBy=-changedate,+workorderid\
             &oslc.where=status in [\"WAPPR\",\"APPR\",\"WSCH\"] and assetnum=\"11430\" and siteid=\"BEDFORD\" and persongroup=\"MECH\"\
             &collectioncount=1"
        );
        let mut r = req("vendor");
        r.filters = vec![Filter::eq("isActive", "false")];
        r.cursor = Some("3".into());
        r.page_size = 5000;
        let (path, page) = build(Os::Vendor, &r).unwrap();
        assert_eq!(page, 3);
        let path = decoded(&path);
        assert!(path.contains("oslc.where=disabled=1&pageno=3"), "{path}");
        assert!(path.contains("oslc.pageSize=1000"), "{path}");
        assert!(path.contains("oslc.select=*&"), "{path}");
    }

    #[test]
    fn every_operator_has_its_oslc_form() {
        use FilterOp::{Contains, Eq, Ge, Gt, In, Le, Lt, Ne};
        let wo = Os::WorkOrder;
        for (filter, want) in [
            (f("title", Eq, &["Fix pump"]), r#"description="Fix pump""#),
            (f("title", Ne, &["Fix pump"]), r#"description!="Fix pump""#),
            (
                f("title", In, &["A", "B", "A"]),
                r#"description in ["A","B"]"#,
            ),
            (f("title", Contains, &["pump"]), r#"description="%pump%""#),
            (
                f("updatedAt", Ge, &["2024-09-23T09:00:00-04:00"]),
                r#"changedate>="2024-09-23T13:00:00+00:00""#,
            ),
            (
                f("updatedAt", Gt, &["2024-09-23T13:00:00.000Z"]),
                r#"changedate>"2024-09-23T13:00:00+00:00""#,
            ),
            (
                f("dueAt", Lt, &["2025-01-01T00:00:00Z"]),
                r#"targcompdate<"2025-01-01T00:00:00+00:00""#,
            ),
            (
                f("createdAt", Le, &["2025-01-01T00:00:00Z"]),
                r#"reportdate<="2025-01-01T00:00:00+00:00""#,
            ),
            (f("status", Ne, &["cancelled"]), r#"status!="CAN""#),
            (f("status", Ne, &["open"]), r#"status!="[WAPPR,APPR,WSCH]""#),
            (
                f("status", In, &["on-hold", "cancelled", "on-hold"]),
                r#"status in ["WMATL","WPCOND","CAN"]"#,
            ),
            (f("nativeStatus", Ne, &["COMP"]), r#"status!="COMP""#),
            (
                f("nativeStatus", In, &["COMP", "CLOSE"]),
                r#"status in ["COMP","CLOSE"]"#,
            ),
            (f("siteKey", In, &["BEDFORD"]), r#"siteid in ["BEDFORD"]"#),
            (
                f("assetKey", In, &["11430/BEDFORD", "11200/BEDFORD"]),
                r#"assetnum in ["11430","11200"] and siteid="BEDFORD""#,
            ),
        ] {
            assert_eq!(clause(wo, std::slice::from_ref(&filter)), want, "{filter}");
        }
        for (filter, want) in [
            (f("totalNetValue", Ge, &["1000"]), "totalcost>=1000"),
            (f("totalNetValue", Lt, &["99.50"]), "totalcost<99.50"),
            (f("totalNetValue", Ne, &["-2.5"]), "totalcost!=-2.5"),
            (f("totalNetValue", Eq, &["1e3"]), "totalcost=1000"),
            (
                f("vendorKey", In, &["GRUNDFOS/EAGLENA", "SKF/EAGLENA"]),
                r#"vendor in ["GRUNDFOS","SKF"] and orgid="EAGLENA""#,
            ),
            (f("orderNo", Contains, &["10"]), r#"ponum="%10%""#),
        ] {
            assert_eq!(
                clause(Os::Po, std::slice::from_ref(&filter)),
                want,
                "{filter}"
            );
        }
        assert_eq!(
            clause(
                Os::Inventory,
                &[f("quantity", Gt, &["0"]), f("unitCost", Le, &["12.5"])]
            ),
            "curbaltotal>0 and avgcost<=12.5"
        );
    }

    #[test]
    fn a_range_is_one_lower_and_one_upper_bound_on_an_attribute() {
        use FilterOp::{Contains, Eq, Ge, Gt, Lt, Ne};
        let wo = Os::WorkOrder;
        assert_eq!(
            clause(
                wo,
                &[
                    f("updatedAt", Ge, &["2024-01-01T00:00:00Z"]),
                    f("updatedAt", Lt, &["2024-02-01T00:00:00Z"]),
                ]
            ),
            r#"changedate>="2024-01-01T00:00:00+00:00" and changedate<"2024-02-01T00:00:00+00:00""#
        );
        // The same site named twice is one condition.
        assert_eq!(
            clause(
                wo,
                &[
                    f("siteKey", Eq, &["BEDFORD"]),
                    f("assetKey", Eq, &["11430/BEDFORD"])
                ]
            ),
            r#"siteid="BEDFORD" and assetnum="11430""#
        );
        for filters in [
            vec![
                f("updatedAt", Ge, &["2024-01-01T00:00:00Z"]),
                f("updatedAt", Gt, &["2024-01-02T00:00:00Z"]),
            ],
            vec![
                f("updatedAt", Ge, &["2024-01-01T00:00:00Z"]),
                f("updatedAt", Lt, &["2024-02-01T00:00:00Z"]),
                f("updatedAt", Lt, &["2024-03-01T00:00:00Z"]),
            ],
            vec![
                f("title", Contains, &["pump"]),
                f("title", Contains, &["seal"]),
            ],
            vec![f("status", Eq, &["open"]), f("nativeStatus", Ne, &["WSCH"])],
            vec![
                f("siteKey", Eq, &["TEXAS"]),
                f("assetKey", Eq, &["11430/BEDFORD"]),
            ],
        ] {
            let last = filters.last().unwrap().field.clone();
            assert_eq!(refused(wo, &filters), vec![last], "{filters:?}");
        }
        let err = build(
            wo,
            &ListRequest {
                filters: vec![f("status", Eq, &["open"]), f("nativeStatus", Ne, &["WSCH"])],
                ..req("work-order")
            },
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("`status` and `nativeStatus` both filter `status`"),
            "{err}"
        );
    }

    #[test]
    fn values_maximo_would_read_as_patterns_are_refused() {
        use FilterOp::{Contains, Eq, In, Ne};
        for value in ["50%", "*", "say \"hi\"", "", "[A,B]"] {
            for op in [Eq, Ne] {
                assert_eq!(
                    refused(Os::WorkOrder, &[f("title", op, &[value])]),
                    vec!["title"],
                    "{op} {value}"
                );
            }
            assert_eq!(
                refused(Os::WorkOrder, &[f("title", In, &["ok", value])]),
                vec!["title"],
                "in {value}"
            );
        }
        for value in ["50%", "say \"hi\"", "", "PUMP_01"] {
            assert_eq!(
                refused(Os::WorkOrder, &[f("title", Contains, &[value])]),
                vec!["title"],
                "~ {value}"
            );
        }
        // `*` and brackets are literal inside a LIKE pattern; `_` is literal in an equality.
        assert_eq!(
            clause(Os::WorkOrder, &[f("title", Contains, &["*"])]),
            r#"description="%*%""#
        );
        assert_eq!(
            clause(Os::WorkOrder, &[f("title", Eq, &["PUMP_01"])]),
            r#"description="PUMP_01""#
        );
        let mut r = req("work-order");
        r.filters = vec![
            Filter::eq("severity", "high"),
            Filter::eq("status", "done"),
            Filter::eq("assetKey", "11430"),
        ];
        r.sort = Some("description".into());
        r.cursor = Some("abc".into());
        assert_eq!(
            invalid_fields(build(Os::WorkOrder, &r).unwrap_err()),
            vec!["cursor", "severity", "status", "assetKey", "description"]
        );
    }

    #[test]
    fn operators_values_and_keys_that_cannot_be_sent_are_refused() {
        use FilterOp::{Contains, Eq, Ge, In, Lt, Ne};
        for (os, filter) in [
            // Operators the field does not declare.
            (Os::WorkOrder, f("status", Contains, &["open"])),
            (Os::WorkOrder, f("title", Ge, &["A"])),
            (Os::WorkOrder, f("updatedAt", Eq, &["2024-01-01T00:00:00Z"])),
            (Os::WorkOrder, f("assetKey", Ne, &["11430/BEDFORD"])),
            (Os::Vendor, f("isActive", Ne, &["true"])),
            // Values of the wrong form.
            (Os::WorkOrder, f("updatedAt", Ge, &["yesterday"])),
            (
                Os::WorkOrder,
                f("updatedAt", Ge, &["2024-01-01T00:00:00.5Z"]),
            ),
            (Os::Po, f("totalNetValue", Lt, &["lots"])),
            (Os::Po, f("totalNetValue", Lt, &["NaN"])),
            (Os::Vendor, f("isActive", Eq, &["yes"])),
            (Os::WorkOrder, f("status", In, &["open", "done"])),
            // Value counts.
            (Os::WorkOrder, f("title", Eq, &["a", "b"])),
            (Os::WorkOrder, f("title", Eq, &[])),
            (Os::WorkOrder, f("title", In, &[])),
            // Keys that an `in` cannot pair without `or`.
            (
                Os::WorkOrder,
                f("assetKey", In, &["11430/BEDFORD", "11200/TEXAS"]),
            ),
            (
                Os::WorkOrder,
                f("assetKey", In, &["11430/BEDFORD", "11430"]),
            ),
        ] {
            assert_eq!(
                refused(os, std::slice::from_ref(&filter)),
                vec![filter.field.clone()],
                "{filter}"
            );
        }
        let many: Vec<String> = (0..=MAX_IN_VALUES).map(|i| i.to_string()).collect();
        let filter = Filter {
            field: "title".into(),
            op: In,
            values: many,
        };
        assert_eq!(refused(Os::WorkOrder, &[filter]), vec!["title"]);
    }

    #[test]
    fn the_selection_asks_for_what_the_fields_read_or_everything() {
        let select = |fields: &[&str], raw: bool| {
            select_for(
                Os::Po,
                &fields.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>(),
                raw,
            )
        };
        assert_eq!(
            select(&["title", "vendorKey"], false).unwrap(),
            "ponum,revisionnum,siteid,orgid,description,vendor"
        );
        assert_eq!(
            select(&["lineItems"], false).unwrap(),
            "ponum,revisionnum,siteid,poline{polinenum,itemnum,itemsetid,description,orderqty,orderunit,unitcost}"
        );
        let all = "*,poline{polinenum,itemnum,itemsetid,description,orderqty,orderunit,unitcost}";
        assert_eq!(select(&[], false).unwrap(), all);
        assert_eq!(select(&["title", "customFields"], false).unwrap(), all);
        assert_eq!(select(&["title"], true).unwrap(), all);
        assert_eq!(Os::WorkOrder.select_all(), "*,description_longdescription");
        let err = select(&["title", "severity"], false).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].field, "severity");
        // Every field a caller may select is read from attributes the select names.
        for os in Os::ALL {
            let terms = os.mapped_attrs();
            for field in &describe::entity(os).fields {
                let attrs = os.attrs_of(&field.name);
                let derived = ["key", "concurrencyToken", "customFields"];
                assert_eq!(
                    attrs.is_empty(),
                    derived.contains(&field.name.as_str()),
                    "{}.{}",
                    os.entity(),
                    field.name
                );
                for a in attrs {
                    assert!(
                        terms.contains(a),
                        "{}.{} reads {a}",
                        os.entity(),
                        field.name
                    );
                }
            }
        }
    }

    #[test]
    fn filters_and_sorts_match_the_declared_flags() {
        for os in Os::ALL {
            let e = describe::entity(os);
            for f in &e.fields {
                assert_eq!(
                    f.filter_ops.as_slice(),
                    ops(os, &f.name),
                    "{}.{} operators",
                    e.name,
                    f.name
                );
                assert_eq!(f.flags.filterable, !f.filter_ops.is_empty());
                let has_sort = sorts(os).iter().any(|(u, _)| *u == f.name);
                assert_eq!(f.flags.sortable, has_sort, "{}.{} sortable", e.name, f.name);
            }
            for (x, kind, ops) in filters(os) {
                let field = e
                    .field(x)
                    .unwrap_or_else(|| panic!("{}.{x} declared", e.name));
                let mut sorted = ops.to_vec();
                sorted.sort_unstable();
                assert_eq!(sorted.as_slice(), *ops, "{}.{x} operators in order", e.name);
                if ops.contains(&FilterOp::Contains) {
                    assert!(matches!(field.ty, FieldType::String | FieldType::Text));
                    assert!(matches!(kind, FilterKind::Text(_)));
                }
                if ops.iter().any(|o| o.is_range()) {
                    assert!(matches!(
                        field.ty,
                        FieldType::Timestamp | FieldType::Decimal | FieldType::Integer
                    ));
                }
            }
            if let Some(updated) = e.field("updatedAt") {
                for op in [FilterOp::Lt, FilterOp::Le, FilterOp::Gt, FilterOp::Ge] {
                    assert!(
                        updated.filter_ops.contains(&op),
                        "{}.updatedAt {op}",
                        e.name
                    );
                }
            }
        }
    }

    #[test]
    fn pages_follow_next_page_links() {
        let body = json!({
            "member": [{"href": "h", "siteid": "BEDFORD", "wonum": "1001", "_rowstamp": "5"}],
            "href": "http://h/maximo/oslc/os/mxapiwo",
            "responseInfo": {"pagenum": 1, "totalCount": 240, "totalPages": 3,
                "nextPage": {"href": "http://h/maximo/oslc/os/mxapiwo?lean=1&oslc.pageSize=100&pageno=2"}}
        });
        let page = parse_page(
            Os::WorkOrder,
            body.to_string().as_bytes(),
            1,
            Extras::default(),
        )
        .unwrap();
        assert_eq!(page.next_cursor.as_deref(), Some("2"));
        assert_eq!(page.total, Some(240));
        assert_eq!(
            page.records,
            vec![r#"{"key":"BEDFORD/1001","siteKey":"BEDFORD","concurrencyToken":"5"}"#.to_owned()]
        );
        let last = json!({"member": [], "responseInfo": {"pagenum": 3}});
        let page = parse_page(
            Os::WorkOrder,
            last.to_string().as_bytes(),
            3,
            Extras::default(),
        )
        .unwrap();
        assert!(page.next_cursor.is_none() && page.records.is_empty());
        assert_eq!(
            parse_page(Os::WorkOrder, b"{}", 1, Extras::default())
                .unwrap_err()
                .kind(),
            "upstream"
        );
        assert_eq!(
            parse_page(Os::WorkOrder, b"<html>", 1, Extras::default())
                .unwrap_err()
                .kind(),
            "upstream"
        );
    }

    #[test]
    fn next_page_links_that_do_not_continue_the_collection_are_refused() {
        let member = json!({"href": "h", "siteid": "BEDFORD", "wonum": "1001"});
        let page_with = |next: Value| {
            json!({
                "member": [member.clone()],
                "href": "http://h:1/maximo/oslc/os/mxapiwo",
                "responseInfo": {"pagenum": 2, "nextPage": next}
            })
            .to_string()
        };
        let ok = page_with(
            json!({"href": "http://h:1/maximo/oslc/os/MXAPIWO?oslc.pageSize=5&pageno=3"}),
        );
        assert_eq!(
            parse_page(Os::WorkOrder, ok.as_bytes(), 2, Extras::default())
                .unwrap()
                .next_cursor
                .as_deref(),
            Some("3")
        );
        let relative = page_with(json!({"href": "/maximo/oslc/os/mxapiwo?pageno=3"}));
        assert!(parse_page(Os::WorkOrder, relative.as_bytes(), 2, Extras::default()).is_ok());
        for (next, why) in [
            (
                json!({"href": "http://evil.example/maximo/oslc/os/mxapiwo?pageno=3"}),
                "another origin",
            ),
            (
                json!({"href": "https://h:1/maximo/oslc/os/mxapiwo?pageno=3"}),
                "another origin",
            ),
            (
                json!({"href": "http://h:1/maximo/oslc/os/mxapiasset?pageno=3"}),
                "does not continue",
            ),
            (
                json!({"href": "http://h:1/maximo/oslc/os/mxapiwo?pageno=2"}),
                "goes back",
            ),
            (
                json!({"href": "http://h:1/maximo/oslc/os/mxapiwo?pageno=1"}),
                "goes back",
            ),
            (
                json!({"href": "http://h:1/maximo/oslc/os/mxapiwo?pageno=x"}),
                "not a page number",
            ),
            (
                json!({"href": "http://h:1/maximo/oslc/os/mxapiwo?pageno=3&pageno=4"}),
                "no single pageno",
            ),
            (
                json!({"href": "http://h:1/maximo/oslc/os/mxapiwo"}),
                "no single pageno",
            ),
            (
                json!("http://h:1/maximo/oslc/os/mxapiwo?pageno=3"),
                "not an object",
            ),
            (json!({"link": "x"}), "not an object"),
        ] {
            let err = parse_page(
                Os::WorkOrder,
                page_with(next.clone()).as_bytes(),
                2,
                Extras::default(),
            )
            .unwrap_err();
            assert_eq!(err.kind(), "upstream", "{next}");
            assert!(err.to_string().contains(why), "{next}: {err}");
        }
        let empty =
            json!({"member": [], "responseInfo": {"nextPage": {"href": "/os/mxapiwo?pageno=2"}}});
        let err = parse_page(
            Os::WorkOrder,
            empty.to_string().as_bytes(),
            1,
            Extras::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        for members in [
            json!([1, "x"]),
            json!([{"href": "h", "wonum": "1"}]),
            json!({}),
        ] {
            let body = json!({"member": members}).to_string();
            assert_eq!(
                parse_page(Os::WorkOrder, body.as_bytes(), 1, Extras::default())
                    .unwrap_err()
                    .kind(),
                "upstream",
                "{members}"
            );
        }
    }
}
