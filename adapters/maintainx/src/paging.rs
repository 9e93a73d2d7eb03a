//! `list`: building `GET /<resource>?limit=&cursor=&…` from a unified list request, and reading
//! a MaintainX page back.
//!
//! MaintainX pages with an opaque cursor: the response's `nextCursor` is handed to the host as
//! the continuation, and the host hands it back as `cursor=` (null on the last page).
//!
//! MaintainX has no query language: each list endpoint takes a fixed set of query parameters,
//! and every unified filter becomes one of them ([`filters`] says which, per field):
//!
//! - a **single** parameter (`title`, `locationId`, `name`) takes `=` only;
//! - a **repeated** parameter (`statuses=OPEN&statuses=DONE`) is a set of values, any of which
//!   matches: `=` and `in`; `!=` where a `not…` parameter exists (`notAssets`), or, on an enum,
//!   as the set of every other value;
//! - a **range** pair (`updatedAt[gte]` / `updatedAt[lte]`, both inclusive) takes `=`, `<`,
//!   `<=`, `>`, `>=`. MaintainX keeps times to the millisecond (`2024-01-01T00:00:00.000Z`),
//!   so a bound is rounded to the millisecond in the direction that keeps its meaning, and a
//!   strict bound moves by one millisecond (`> t` is `[gte] = t + 1 ms`).
//!
//! Several conditions on one field are intersected where the field holds one value (`status
//! != completed` and `status != cancelled`; two lower time bounds keep the later one); where
//! it holds several (a work order's assignees) MaintainX cannot say "both", and a second
//! condition is refused. Conditions that no record can meet give an empty page without a
//! request. Whatever MaintainX cannot apply is `invalid`, never filtered here — except that
//! where MaintainX matches loosely (work order `title`, location `name` prefix) the adapter
//! keeps its exact matches only, as the fields' notes say.
//!
//! `sort` maps to the endpoint's `sort` values; the field selection decides which `expand=`
//! values are sent (an unselected expansion is not asked for).

use plantwire_sdk::contract::{FilterOp, ListRequest, Page};
use plantwire_sdk::query::PathQuery;
use plantwire_sdk::{AdapterError, FieldError, Filter, UpstreamError};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::describe::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::mapping::{self, WO_PRIORITIES, WO_STATUSES, accepted, field_error, native_enum};
use crate::resources::Resource;

/// How a filter value is sent.
#[derive(Debug, Clone, Copy)]
pub enum ValueKind {
    /// A key of another record, sent as its integer id.
    Id,
    /// Text as given.
    Text,
    /// A unified enum value, sent in MaintainX's spelling.
    Enum(&'static [(&'static str, &'static str)]),
    /// An RFC 3339 time, sent as MaintainX's UTC millisecond form.
    Time,
}

/// Which query parameters carry a field's conditions.
#[derive(Debug, Clone, Copy)]
pub enum Push {
    /// One single-valued parameter: `=` only. `exact_on` names the native field the adapter
    /// compares for an exact match where MaintainX's own match is looser than equality.
    Single {
        param: &'static str,
        exact_on: Option<&'static str>,
    },
    /// A repeated parameter whose values are alternatives: `=`, `in`; `!=` through `not` (the
    /// parameter that excludes records), or on an enum through the other values. `multi`:
    /// a record holds several values of the field and matches when any one is listed.
    Repeated {
        param: &'static str,
        not: Option<&'static str>,
        multi: bool,
    },
    /// Inclusive lower and upper bound parameters: `=`, `<`, `<=`, `>`, `>=`.
    Range {
        gte: &'static str,
        lte: &'static str,
    },
}

/// One filterable unified field and how its conditions reach MaintainX.
#[derive(Debug, Clone, Copy)]
pub struct FilterSpec {
    /// The unified field.
    pub field: &'static str,
    pub kind: ValueKind,
    pub push: Push,
}

impl FilterSpec {
    /// The operators this field takes, in the contract's order.
    pub fn ops(&self) -> Vec<FilterOp> {
        let mut ops = match self.push {
            Push::Single { .. } => vec![FilterOp::Eq],
            Push::Repeated { not, multi, .. } => {
                let negates = not.is_some() || (!multi && matches!(self.kind, ValueKind::Enum(_)));
                let mut ops = vec![FilterOp::Eq, FilterOp::In];
                if negates {
                    ops.push(FilterOp::Ne);
                }
                ops
            }
            Push::Range { .. } => vec![
                FilterOp::Eq,
                FilterOp::Lt,
                FilterOp::Le,
                FilterOp::Gt,
                FilterOp::Ge,
            ],
        };
        ops.sort_unstable();
        ops
    }
}

const fn single(field: &'static str, param: &'static str, kind: ValueKind) -> FilterSpec {
    FilterSpec {
        field,
        kind,
        push: Push::Single {
            param,
            exact_on: None,
        },
    }
}

const fn loose(field: &'static str, param: &'static str, exact_on: &'static str) -> FilterSpec {
    FilterSpec {
        field,
        kind: ValueKind::Text,
        push: Push::Single {
            param,
            exact_on: Some(exact_on),
        },
    }
}

const fn repeated(field: &'static str, param: &'static str, kind: ValueKind) -> FilterSpec {
    FilterSpec {
        field,
        kind,
        push: Push::Repeated {
            param,
            not: None,
            multi: false,
        },
    }
}

const fn negatable(
    field: &'static str,
    param: &'static str,
    not: &'static str,
    kind: ValueKind,
) -> FilterSpec {
    FilterSpec {
        field,
        kind,
        push: Push::Repeated {
            param,
            not: Some(not),
            multi: false,
        },
    }
}

const fn any_of(field: &'static str, param: &'static str, kind: ValueKind) -> FilterSpec {
    FilterSpec {
        field,
        kind,
        push: Push::Repeated {
            param,
            not: None,
            multi: true,
        },
    }
}

const CREATED: FilterSpec = FilterSpec {
    field: "createdAt",
    kind: ValueKind::Time,
    push: Push::Range {
        gte: "createdAt[gte]",
        lte: "createdAt[lte]",
    },
};
const UPDATED: FilterSpec = FilterSpec {
    field: "updatedAt",
    kind: ValueKind::Time,
    push: Push::Range {
        gte: "updatedAt[gte]",
        lte: "updatedAt[lte]",
    },
};

/// The filters each list endpoint supports (from its query parameters in the spec).
pub fn filters(res: Resource) -> &'static [FilterSpec] {
    const WORK_ORDER: &[FilterSpec] = &[
        loose("title", "title", "title"),
        repeated("status", "statuses", ValueKind::Enum(WO_STATUSES)),
        repeated("severity", "priorities", ValueKind::Enum(WO_PRIORITIES)),
        negatable("assetKey", "assets", "notAssets", ValueKind::Id),
        negatable("locationKey", "locations", "notLocations", ValueKind::Id),
        any_of("teamKey", "teams", ValueKind::Id),
        any_of("assigneeKeys", "assignees", ValueKind::Id),
        CREATED,
        UPDATED,
    ];
    const ASSET: &[FilterSpec] = &[
        single("locationKey", "locationId", ValueKind::Id),
        repeated("modelName", "model", ValueKind::Text),
        repeated("makeName", "manufacturer", ValueKind::Text),
        CREATED,
        UPDATED,
    ];
    const PART: &[FilterSpec] = &[
        any_of("partNumber", "partNumber", ValueKind::Text),
        CREATED,
        UPDATED,
    ];
    const PURCHASE_ORDER: &[FilterSpec] = &[CREATED, UPDATED];
    const LOCATION: &[FilterSpec] = &[loose("name", "name", "name")];
    const USER: &[FilterSpec] = &[repeated("email", "email", ValueKind::Text)];
    match res {
        Resource::WorkOrder => WORK_ORDER,
        Resource::Asset => ASSET,
        Resource::Part => PART,
        Resource::PurchaseOrder => PURCHASE_ORDER,
        Resource::Location => LOCATION,
        Resource::User => USER,
        Resource::Vendor => &[],
    }
}

/// The filter spec of `field` on `res`, if MaintainX can filter it.
pub fn filter_spec(res: Resource, field: &str) -> Option<&'static FilterSpec> {
    filters(res).iter().find(|f| f.field == field)
}

/// The sorts each list endpoint supports: unified field, MaintainX `sort` value.
pub fn sorts(res: Resource) -> &'static [(&'static str, &'static str)] {
    match res {
        Resource::WorkOrder => &[
            ("dueAt", "dueDate"),
            ("completedAt", "completedAt"),
            ("createdAt", "createdAt"),
            ("updatedAt", "updatedAt"),
        ],
        Resource::Asset | Resource::Part | Resource::PurchaseOrder => &[
            ("key", "id"),
            ("createdAt", "createdAt"),
            ("updatedAt", "updatedAt"),
        ],
        Resource::Location | Resource::Vendor | Resource::User => &[],
    }
}

/// A list request translated for MaintainX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Send this query.
    Fetch(ListQuery),
    /// The conditions contradict each other (`status = open` and `status = completed`, an
    /// empty time range): no record can match, and nothing is sent.
    Nothing,
}

/// The request of a [`Plan::Fetch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Path and query of the `GET`.
    pub path: String,
    /// Exact matches to keep: (native field, value).
    pub exact: Vec<(&'static str, String)>,
}

/// What one field's conditions become.
enum Translated {
    /// Query parameters, and exact matches to keep.
    Params(Vec<(&'static str, String)>, Option<(&'static str, String)>),
    /// No record can meet them.
    Nothing,
}

/// Translates a unified list request; an unknown or unfilterable field, an operator MaintainX
/// cannot apply, a bad value, or an unsortable field is `invalid` before any request is made.
pub fn build(res: Resource, req: &ListRequest) -> Result<Plan, AdapterError> {
    let limit = match req.page_size {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    };
    let mut q = PathQuery::new(res.path()).param("limit", limit);
    if let Some(cursor) = req.cursor.as_deref().filter(|c| !c.is_empty()) {
        q = q.param("cursor", cursor);
    }
    for (name, value) in res.list_params() {
        q = q.param(name, value);
    }
    for (expand, serves) in res.list_expands() {
        let wanted =
            req.fields.is_empty() || serves.iter().any(|f| req.fields.iter().any(|x| x == f));
        if wanted {
            q = q.param("expand", expand);
        }
    }

    let mut errors = Vec::new();
    // The conditions of each field, fields in order of first appearance.
    let mut groups: Vec<(&'static FilterSpec, Vec<&Filter>)> = Vec::new();
    for cond in &req.filters {
        let Some(spec) = filter_spec(res, &cond.field) else {
            errors.push(field_error(
                &cond.field,
                format!(
                    "MaintainX cannot filter {} by `{}`; filterable: {}",
                    res.entity(),
                    cond.field,
                    filterable_list(res)
                ),
            ));
            continue;
        };
        let ops = spec.ops();
        if !ops.contains(&cond.op) {
            errors.push(field_error(
                &cond.field,
                format!(
                    "MaintainX cannot filter {}.{} with `{}`; it offers {}",
                    res.entity(),
                    cond.field,
                    cond.op,
                    op_list(&ops)
                ),
            ));
            continue;
        }
        let count_ok = match cond.op {
            FilterOp::In => !cond.values.is_empty(),
            _ => cond.values.len() == 1,
        };
        if !count_ok {
            errors.push(field_error(
                &cond.field,
                format!(
                    "`{}` takes {}",
                    cond.op,
                    if cond.op == FilterOp::In {
                        "at least one value"
                    } else {
                        "exactly one value"
                    }
                ),
            ));
            continue;
        }
        match groups.iter_mut().find(|(s, _)| s.field == spec.field) {
            Some((_, conds)) => conds.push(cond),
            None => groups.push((spec, vec![cond])),
        }
    }

    let mut exact = Vec::new();
    let mut nothing = false;
    for (spec, conds) in &groups {
        match translate(res, spec, conds) {
            Ok(Translated::Params(params, keep)) => {
                for (name, value) in params {
                    q = q.param(name, value);
                }
                exact.extend(keep);
            }
            Ok(Translated::Nothing) => nothing = true,
            Err(e) => errors.extend(e),
        }
    }

    if let Some(sort) = req.sort.as_deref().filter(|s| !s.is_empty()) {
        let (descending, field) = match sort.strip_prefix('-') {
            Some(field) => (true, field),
            None => (false, sort),
        };
        match sorts(res).iter().find(|(u, _)| *u == field) {
            Some((_, native)) => {
                let value = if descending {
                    format!("-{native}")
                } else {
                    (*native).to_owned()
                };
                q = q.param("sort", value);
            }
            None => errors.push(field_error(
                field,
                match sorts(res) {
                    [] => format!("MaintainX cannot sort {} lists", res.entity()),
                    list => format!(
                        "MaintainX cannot sort {} by `{field}`; sortable: {}",
                        res.entity(),
                        accepted(list)
                    ),
                },
            )),
        }
    }

    if !errors.is_empty() {
        Err(AdapterError::Invalid(errors))
    } else if nothing {
        Ok(Plan::Nothing)
    } else {
        Ok(Plan::Fetch(ListQuery {
            path: q.build(),
            exact,
        }))
    }
}

/// The query parameters for every condition on one field.
fn translate(
    res: Resource,
    spec: &FilterSpec,
    conds: &[&Filter],
) -> Result<Translated, Vec<FieldError>> {
    let field = spec.field;
    let one_condition = |why: String| -> Result<(), Vec<FieldError>> {
        if conds.len() > 1 {
            Err(vec![field_error(field, why)])
        } else {
            Ok(())
        }
    };
    match spec.push {
        Push::Single { param, exact_on } => {
            one_condition(format!(
                "`{field}` takes one condition: MaintainX's `{param}` parameter takes one value"
            ))?;
            let mut params = Vec::new();
            let mut keep = None;
            for cond in conds {
                let native =
                    native_value(spec, cond.value()).map_err(|m| vec![field_error(field, m)])?;
                if let Some(on) = exact_on {
                    keep = Some((on, native.clone()));
                }
                params.push((param, native));
            }
            Ok(Translated::Params(params, keep))
        }
        Push::Repeated { param, not, multi } => {
            if multi {
                one_condition(format!(
                    "`{field}` takes one condition: a {} has several and MaintainX's `{param}` \
                     parameter matches any of the values given, so conditions cannot be \
                     combined (use one `in`)",
                    res.entity()
                ))?;
            }
            let mut errors = Vec::new();
            // `None`: no positive condition yet (every value allowed).
            let mut allowed: Option<Vec<String>> = None;
            let mut excluded: Vec<String> = Vec::new();
            for cond in conds {
                let mut natives = Vec::with_capacity(cond.values.len());
                for value in &cond.values {
                    match native_value(spec, value) {
                        Ok(n) if !natives.contains(&n) => natives.push(n),
                        Ok(_) => {}
                        Err(m) => errors.push(field_error(field, m)),
                    }
                }
                match cond.op {
                    FilterOp::Ne => excluded.extend(natives),
                    _ => {
                        allowed = Some(match allowed {
                            None => natives,
                            Some(before) => {
                                before.into_iter().filter(|v| natives.contains(v)).collect()
                            }
                        });
                    }
                }
            }
            if !errors.is_empty() {
                return Err(errors);
            }
            if let (ValueKind::Enum(table), None) = (spec.kind, not)
                && !excluded.is_empty()
                && allowed.is_none()
            {
                // `!=` on an enum: every other value.
                allowed = Some(table.iter().map(|(_, n)| (*n).to_owned()).collect());
            }
            match allowed {
                Some(mut values) => {
                    values.retain(|v| !excluded.contains(v));
                    if values.is_empty() {
                        return Ok(Translated::Nothing);
                    }
                    Ok(Translated::Params(
                        values.into_iter().map(|v| (param, v)).collect(),
                        None,
                    ))
                }
                // Only `!=` conditions: the `not…` parameter (`ops()` offers `!=` here only
                // where there is one).
                None => match not {
                    Some(not) => {
                        let mut unique: Vec<String> = Vec::with_capacity(excluded.len());
                        for v in excluded {
                            if !unique.contains(&v) {
                                unique.push(v);
                            }
                        }
                        Ok(Translated::Params(
                            unique.into_iter().map(|v| (not, v)).collect(),
                            None,
                        ))
                    }
                    None => Err(vec![field_error(
                        field,
                        format!("MaintainX has no parameter that excludes {field} values"),
                    )]),
                },
            }
        }
        Push::Range { gte, lte } => {
            let mut lower = MIN_MS;
            let mut upper = MAX_MS;
            let mut errors = Vec::new();
            for cond in conds {
                let Some((floor, ceil)) = ms_bounds(cond.value()) else {
                    errors.push(field_error(
                        field,
                        format!(
                            "`{}` is not an RFC 3339 timestamp (2024-06-01T00:00:00Z)",
                            cond.value()
                        ),
                    ));
                    continue;
                };
                // MaintainX times are whole milliseconds: round each bound to the millisecond
                // that admits exactly the same records.
                match cond.op {
                    FilterOp::Ge => lower = lower.max(ceil),
                    FilterOp::Gt => lower = lower.max(floor.saturating_add(1)),
                    FilterOp::Le => upper = upper.min(floor),
                    FilterOp::Lt => upper = upper.min(ceil.saturating_sub(1)),
                    _ => {
                        lower = lower.max(ceil);
                        upper = upper.min(floor);
                    }
                }
            }
            if !errors.is_empty() {
                return Err(errors);
            }
            if lower > upper {
                return Ok(Translated::Nothing);
            }
            let mut params = Vec::new();
            if lower > MIN_MS {
                params.push((gte, format_ms(lower)));
            }
            if upper < MAX_MS {
                params.push((lte, format_ms(upper)));
            }
            Ok(Translated::Params(params, None))
        }
    }
}

/// A unified filter value in MaintainX's form.
fn native_value(spec: &FilterSpec, value: &str) -> Result<String, String> {
    match spec.kind {
        ValueKind::Id => mapping::parse_id(value).map(|id| id.to_string()),
        ValueKind::Text => Ok(value.to_owned()),
        ValueKind::Enum(table) => native_enum(table, value).map(str::to_owned),
        ValueKind::Time => ms_bounds(value)
            .map(|(floor, _)| format_ms(floor))
            .ok_or_else(|| format!("`{value}` is not an RFC 3339 timestamp")),
    }
}

/// `0000-01-01T00:00:00.000Z` and `9999-12-31T23:59:59.999Z`, the times RFC 3339 can write,
/// in Unix milliseconds: every MaintainX time lies between them.
const MIN_MS: i64 = -62_167_219_200_000;
const MAX_MS: i64 = 253_402_300_799_999;

/// An RFC 3339 time as Unix milliseconds rounded down and up (equal when it is a whole
/// millisecond).
fn ms_bounds(text: &str) -> Option<(i64, i64)> {
    let nanos = OffsetDateTime::parse(text, &Rfc3339)
        .ok()?
        .unix_timestamp_nanos();
    let floor = i64::try_from(nanos.div_euclid(1_000_000)).ok()?;
    let ceil = if nanos.rem_euclid(1_000_000) == 0 {
        floor
    } else {
        floor.checked_add(1)?
    };
    Some((floor, ceil))
}

/// Unix milliseconds in MaintainX's form (`2024-01-01T00:00:00.000Z`), clamped to the years
/// RFC 3339 can write.
fn format_ms(ms: i64) -> String {
    let ms = ms.clamp(MIN_MS, MAX_MS);
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        // Unreachable within the clamp; the earliest time keeps the bound harmless.
        Err(_) => "0000-01-01T00:00:00.000Z".to_owned(),
    }
}

fn filterable_list(res: Resource) -> String {
    match filters(res) {
        [] => "none".to_owned(),
        list => list
            .iter()
            .map(|f| format!("`{}`", f.field))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn op_list(ops: &[FilterOp]) -> String {
    ops.iter()
        .map(|o| format!("`{o}`"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads a list response body into a page of unified records; with `include_raw`, each one
/// carries the MaintainX list item under `raw`.
pub fn parse_page(
    res: Resource,
    body: &[u8],
    exact: &[(&str, String)],
    include_raw: bool,
) -> Result<Page, AdapterError> {
    let mut v: Value = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("the {} list is not valid JSON: {e}", res.segment())))?;
    let Some(Value::Array(items)) = v.get_mut(res.list_key()).map(Value::take) else {
        return Err(malformed(format!(
            "the {} list has no `{}` array",
            res.segment(),
            res.list_key()
        )));
    };
    let records = items
        .iter()
        .filter(|item| {
            exact
                .iter()
                .all(|(field, value)| item.get(*field).and_then(Value::as_str) == Some(value))
        })
        .map(|item| mapping::to_unified_with(res, item, include_raw))
        .collect();
    let next_cursor = v
        .get("nextCursor")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    Ok(Page {
        records,
        next_cursor,
        total: None,
    })
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
    use crate::fixtures;
    use crate::mapping::testing::invalid_fields;

    fn req(entity: &str) -> ListRequest {
        ListRequest {
            entity: entity.to_owned(),
            page_size: 50,
            ..ListRequest::default()
        }
    }

    fn cond(field: &str, op: FilterOp, values: &[&str]) -> Filter {
        Filter {
            field: field.to_owned(),
            op,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn fetch(res: Resource, r: &ListRequest) -> ListQuery {
        match build(res, r).unwrap() {
            Plan::Fetch(q) => q,
            Plan::Nothing => panic!("expected a request for {r:?}"),
        }
    }

    /// The query string after the fixed parameters (limit, show_upcoming, expands).
    fn filter_query(res: Resource, filters: Vec<Filter>) -> String {
        let mut r = req(res.entity());
        r.filters = filters;
        r.fields = vec!["key".to_owned()];
        let path = fetch(res, &r).path;
        path.split('&')
            .filter(|p| {
                !p.contains("limit=") && !p.starts_with("show_upcoming") && !p.starts_with("expand")
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn work_order_filters_map_to_query_parameters() {
        let mut r = req("work-order");
        r.cursor = Some("eyJpZCI6MTAwfQ==".to_owned());
        r.filters = vec![
            Filter::eq("status", "in-progress"),
            Filter::eq("severity", "high"),
            Filter::eq("assetKey", "963"),
            Filter::eq("locationKey", "611"),
            Filter::eq("teamKey", "112"),
            Filter::eq("assigneeKeys", "23494"),
            Filter::eq("title", "Fix pump"),
        ];
        r.sort = Some("-dueAt".to_owned());
        let q = fetch(Resource::WorkOrder, &r);
        assert_eq!(
            q.path,
            "/workorders?limit=50&cursor=eyJpZCI6MTAwfQ%3D%3D&show_upcoming=true\
             &expand=asset&expand=assignees&expand=extra_fields&statuses=IN_PROGRESS\
             &priorities=HIGH&assets=963&locations=611&teams=112&assignees=23494\
             &title=Fix%20pump&sort=-dueDate"
        );
        assert_eq!(q.exact, vec![("title", "Fix pump".to_owned())]);
    }

    #[test]
    fn in_and_not_equal_use_repeated_and_not_parameters() {
        let wo = Resource::WorkOrder;
        assert_eq!(
            filter_query(wo, vec![cond("status", FilterOp::In, &["open", "on-hold"])]),
            "statuses=OPEN&statuses=ON_HOLD"
        );
        // `!=` on an enum: every other value, in MaintainX's spelling.
        assert_eq!(
            filter_query(wo, vec![cond("status", FilterOp::Ne, &["completed"])]),
            "statuses=OPEN&statuses=IN_PROGRESS&statuses=ON_HOLD&statuses=CANCELED\
             &statuses=SKIPPED"
        );
        assert_eq!(
            filter_query(wo, vec![cond("severity", FilterOp::Ne, &["none"])]),
            "priorities=LOW&priorities=MEDIUM&priorities=HIGH"
        );
        assert_eq!(
            filter_query(
                wo,
                vec![cond("assetKey", FilterOp::In, &["12", "007", "12"])]
            ),
            "assets=12&assets=7"
        );
        assert_eq!(
            filter_query(
                wo,
                vec![
                    cond("assetKey", FilterOp::Ne, &["5"]),
                    cond("locationKey", FilterOp::Ne, &["9"]),
                    cond("locationKey", FilterOp::Ne, &["10"]),
                ]
            ),
            "notAssets=5&notLocations=9&notLocations=10"
        );
        assert_eq!(
            filter_query(wo, vec![cond("assigneeKeys", FilterOp::In, &["1", "2"])]),
            "assignees=1&assignees=2"
        );
        assert_eq!(
            filter_query(
                Resource::Asset,
                vec![
                    cond("makeName", FilterOp::In, &["ACME & Sons", "Grundfos"]),
                    cond("modelName", FilterOp::Eq, &["X-2000/B"]),
                ]
            ),
            "manufacturer=ACME%20%26%20Sons&manufacturer=Grundfos&model=X-2000%2FB"
        );
        assert_eq!(
            filter_query(
                Resource::User,
                vec![cond(
                    "email",
                    FilterOp::In,
                    &["a+b@example.com", "c@example.com"]
                )]
            ),
            "email=a%2Bb%40example.com&email=c%40example.com"
        );
        assert_eq!(
            filter_query(
                Resource::Part,
                vec![cond("partNumber", FilterOp::In, &["XC230", "XC231"])]
            ),
            "partNumber=XC230&partNumber=XC231"
        );
    }

    #[test]
    fn conditions_on_one_field_are_intersected() {
        let wo = Resource::WorkOrder;
        assert_eq!(
            filter_query(
                wo,
                vec![
                    cond("status", FilterOp::Ne, &["completed"]),
                    cond("status", FilterOp::Ne, &["cancelled"]),
                    cond("status", FilterOp::Ne, &["skipped"]),
                ]
            ),
            "statuses=OPEN&statuses=IN_PROGRESS&statuses=ON_HOLD"
        );
        assert_eq!(
            filter_query(
                wo,
                vec![
                    cond("status", FilterOp::In, &["open", "completed", "on-hold"]),
                    cond("status", FilterOp::Ne, &["completed"]),
                    cond("status", FilterOp::In, &["on-hold", "completed"]),
                ]
            ),
            "statuses=ON_HOLD"
        );
        // A positive set makes `notAssets` redundant.
        assert_eq!(
            filter_query(
                wo,
                vec![
                    cond("assetKey", FilterOp::In, &["1", "2"]),
                    cond("assetKey", FilterOp::Ne, &["2"]),
                ]
            ),
            "assets=1"
        );
        for contradiction in [
            vec![
                Filter::eq("status", "open"),
                Filter::eq("status", "completed"),
            ],
            vec![
                cond("assetKey", FilterOp::Eq, &["1"]),
                cond("assetKey", FilterOp::Ne, &["1"]),
            ],
            vec![
                cond("severity", FilterOp::Ne, &["none"]),
                cond("severity", FilterOp::In, &["none"]),
            ],
        ] {
            let mut r = req("work-order");
            r.filters = contradiction.clone();
            assert_eq!(build(wo, &r), Ok(Plan::Nothing), "{contradiction:?}");
        }
    }

    #[test]
    fn time_ranges_are_inclusive_millisecond_bounds() {
        let wo = Resource::WorkOrder;
        let t = "2024-06-01T00:00:00Z";
        let q = |op, v: &str| filter_query(wo, vec![cond("updatedAt", op, &[v])]);
        assert_eq!(
            q(FilterOp::Ge, t),
            "updatedAt%5Bgte%5D=2024-06-01T00%3A00%3A00.000Z"
        );
        assert_eq!(
            q(FilterOp::Gt, t),
            "updatedAt%5Bgte%5D=2024-06-01T00%3A00%3A00.001Z"
        );
        assert_eq!(
            q(FilterOp::Le, t),
            "updatedAt%5Blte%5D=2024-06-01T00%3A00%3A00.000Z"
        );
        assert_eq!(
            q(FilterOp::Lt, t),
            "updatedAt%5Blte%5D=2024-05-31T23%3A59%3A59.999Z"
        );
        assert_eq!(
            q(FilterOp::Eq, t),
            "updatedAt%5Bgte%5D=2024-06-01T00%3A00%3A00.000Z\
             &updatedAt%5Blte%5D=2024-06-01T00%3A00%3A00.000Z"
        );
        // Offsets become UTC; sub-millisecond digits round the way that keeps the meaning.
        assert_eq!(
            q(FilterOp::Ge, "2024-06-01T02:00:00.1234+02:00"),
            "updatedAt%5Bgte%5D=2024-06-01T00%3A00%3A00.124Z"
        );
        assert_eq!(
            q(FilterOp::Gt, "2024-06-01T00:00:00.1234Z"),
            "updatedAt%5Bgte%5D=2024-06-01T00%3A00%3A00.124Z"
        );
        assert_eq!(
            q(FilterOp::Le, "2024-06-01T00:00:00.1239Z"),
            "updatedAt%5Blte%5D=2024-06-01T00%3A00%3A00.123Z"
        );
        assert_eq!(
            q(FilterOp::Lt, "2024-06-01T00:00:00.1231Z"),
            "updatedAt%5Blte%5D=2024-06-01T00%3A00%3A00.123Z"
        );
        assert_eq!(
            q(FilterOp::Gt, "1969-12-31T23:59:59.9995Z"),
            "updatedAt%5Bgte%5D=1970-01-01T00%3A00%3A00.000Z"
        );
        // Several bounds: the tightest of each side.
        assert_eq!(
            filter_query(
                Resource::PurchaseOrder,
                vec![
                    cond("createdAt", FilterOp::Ge, &["2024-01-01T00:00:00Z"]),
                    cond("createdAt", FilterOp::Gt, &["2024-02-01T00:00:00Z"]),
                    cond("createdAt", FilterOp::Lt, &["2024-12-01T00:00:00Z"]),
                    cond("createdAt", FilterOp::Le, &["2024-12-31T00:00:00Z"]),
                ]
            ),
            "createdAt%5Bgte%5D=2024-02-01T00%3A00%3A00.001Z\
             &createdAt%5Blte%5D=2024-11-30T23%3A59%3A59.999Z"
        );
        // An empty range, or equality with a time between two milliseconds: nothing matches.
        for empty in [
            vec![
                cond("updatedAt", FilterOp::Gt, &[t]),
                cond("updatedAt", FilterOp::Lt, &["2024-06-01T00:00:00.001Z"]),
            ],
            vec![cond(
                "updatedAt",
                FilterOp::Eq,
                &["2024-06-01T00:00:00.0005Z"],
            )],
            vec![cond("updatedAt", FilterOp::Lt, &["0000-01-01T00:00:00Z"])],
        ] {
            let mut r = req("asset");
            r.filters = empty.clone();
            assert_eq!(build(Resource::Asset, &r), Ok(Plan::Nothing), "{empty:?}");
        }
        // The widest bounds say nothing and are not sent.
        assert_eq!(
            filter_query(
                Resource::Part,
                vec![cond(
                    "updatedAt",
                    FilterOp::Le,
                    &["9999-12-31T23:59:59.9999Z"]
                )]
            ),
            ""
        );
    }

    #[test]
    fn other_resources_map_their_own_parameters() {
        let mut r = req("material");
        r.page_size = 1000;
        r.filters = vec![Filter::eq("partNumber", "XC230")];
        r.sort = Some("key".into());
        assert_eq!(
            fetch(Resource::Part, &r).path,
            "/parts?limit=200&expand=vendors&expand=extra_fields&partNumber=XC230&sort=id"
        );
        let mut r = req("asset");
        r.page_size = 0;
        r.filters = vec![
            Filter::eq("locationKey", "852"),
            Filter::eq("makeName", "ACME"),
            Filter::eq("modelName", "X-2000"),
        ];
        r.sort = Some("-updatedAt".into());
        assert_eq!(
            fetch(Resource::Asset, &r).path,
            "/assets?limit=100&expand=manufacturer&expand=model&expand=status\
             &expand=extra_fields&locationId=852&manufacturer=ACME&model=X-2000&sort=-updatedAt"
        );
        let mut r = req("user");
        r.filters = vec![Filter::eq("email", "jane.doe@example.com")];
        assert_eq!(
            fetch(Resource::User, &r).path,
            "/users?limit=50&expand=extra_fields&email=jane.doe%40example.com"
        );
        let mut r = req("location");
        r.filters = vec![Filter::eq("name", "Warehouse B")];
        let q = fetch(Resource::Location, &r);
        assert_eq!(
            q.path,
            "/locations?limit=50&expand=extra_fields&name=Warehouse%20B"
        );
        assert_eq!(q.exact, vec![("name", "Warehouse B".to_owned())]);
        assert_eq!(
            fetch(Resource::PurchaseOrder, &req("purchase-order")).path,
            "/purchaseorders?limit=50"
        );
    }

    #[test]
    fn the_field_selection_decides_the_expands() {
        let mut r = req("work-order");
        r.fields = vec!["title".into(), "assigneeKeys".into()];
        assert_eq!(
            fetch(Resource::WorkOrder, &r).path,
            "/workorders?limit=50&show_upcoming=true&expand=assignees"
        );
        r.fields = vec!["customFields".into()];
        assert_eq!(
            fetch(Resource::WorkOrder, &r).path,
            "/workorders?limit=50&show_upcoming=true&expand=extra_fields"
        );
        let mut r = req("asset");
        r.fields = vec!["nativeStatus".into(), "name".into()];
        assert_eq!(
            fetch(Resource::Asset, &r).path,
            "/assets?limit=50&expand=status"
        );
    }

    #[test]
    fn bad_filters_and_sorts_are_invalid() {
        let mut r = req("work-order");
        r.filters = vec![
            Filter::eq("siteKey", "1"),
            Filter::eq("status", "done"),
            Filter::eq("assetKey", "pump"),
            Filter::eq("description", "x"),
            cond("title", FilterOp::Contains, &["pump"]),
            cond("dueAt", FilterOp::Ge, &["2024-01-01T00:00:00Z"]),
            cond("teamKey", FilterOp::Ne, &["3"]),
            cond("updatedAt", FilterOp::Ge, &["yesterday"]),
            cond("createdAt", FilterOp::In, &["2024-01-01T00:00:00Z"]),
        ];
        r.sort = Some("title".into());
        assert_eq!(
            invalid_fields(build(Resource::WorkOrder, &r).unwrap_err()),
            vec![
                "siteKey",
                "description",
                "title",
                "dueAt",
                "teamKey",
                "createdAt",
                "status",
                "assetKey",
                "updatedAt",
                "title"
            ]
        );
        // Wrong value counts (the host checks them too).
        let mut r = req("work-order");
        r.filters = vec![
            cond("status", FilterOp::Eq, &["open", "completed"]),
            cond("status", FilterOp::In, &[]),
        ];
        assert_eq!(
            invalid_fields(build(Resource::WorkOrder, &r).unwrap_err()),
            vec!["status", "status"]
        );
        // A second condition where MaintainX cannot combine them.
        for (res, field, a, b) in [
            (Resource::WorkOrder, "title", "Fix", "Pump"),
            (Resource::WorkOrder, "assigneeKeys", "1", "2"),
            (Resource::WorkOrder, "teamKey", "1", "2"),
            (Resource::Part, "partNumber", "A", "B"),
            (Resource::Asset, "locationKey", "1", "2"),
        ] {
            let mut r = req(res.entity());
            r.filters = vec![Filter::eq(field, a), Filter::eq(field, b)];
            let err = build(res, &r).unwrap_err();
            assert!(err.to_string().contains("one condition"), "{field}: {err}");
        }
        let mut r = req("vendor");
        r.sort = Some("name".into());
        let err = build(Resource::Vendor, &r).unwrap_err();
        assert!(
            err.to_string().contains("cannot sort vendor lists"),
            "{err}"
        );
        let mut r = req("purchase-order");
        r.filters = vec![Filter::eq("status", "approved")];
        assert_eq!(
            invalid_fields(build(Resource::PurchaseOrder, &r).unwrap_err()),
            vec!["status"]
        );
        let mut r = req("location");
        r.filters = vec![cond("updatedAt", FilterOp::Ge, &["2024-01-01T00:00:00Z"])];
        assert_eq!(
            invalid_fields(build(Resource::Location, &r).unwrap_err()),
            vec!["updatedAt"]
        );
    }

    #[test]
    fn filters_and_sorts_match_the_declared_flags() {
        for res in Resource::ALL {
            let e = describe::entity(res);
            for f in &e.fields {
                let spec = filter_spec(res, &f.name);
                assert_eq!(
                    f.flags.filterable,
                    spec.is_some(),
                    "{}.{} filterable",
                    e.name,
                    f.name
                );
                assert_eq!(
                    f.filter_ops,
                    spec.map(FilterSpec::ops).unwrap_or_default(),
                    "{}.{} operators",
                    e.name,
                    f.name
                );
                let has_sort = sorts(res).iter().any(|(u, _)| *u == f.name);
                assert_eq!(f.flags.sortable, has_sort, "{}.{} sortable", e.name, f.name);
            }
            for x in filters(res) {
                assert!(
                    e.field(x.field).is_some(),
                    "{}.{} declared",
                    e.name,
                    x.field
                );
            }
            for (_, serves) in res.list_expands() {
                for f in *serves {
                    let decl = e.field(f).unwrap();
                    assert!(decl.flags.read_list, "{}.{f} is read in lists", e.name);
                }
            }
        }
    }

    #[test]
    fn pages_pass_the_cursor_through() {
        let body = fixtures::sample_work_orders_page(3);
        let page = parse_page(Resource::WorkOrder, &body, &[], false).unwrap();
        assert_eq!(page.records.len(), 3);
        assert_eq!(
            page.next_cursor.as_deref(),
            Some(fixtures::SAMPLE_NEXT_CURSOR)
        );
        assert_eq!(page.total, None);
        let first: Value = serde_json::from_str(&page.records[0]).unwrap();
        assert_eq!(first["key"], "1000001");
        assert!(first.get("raw").is_none());

        let last = br#"{"workOrders":[],"nextCursor":null,"nextPageUrl":null}"#;
        let page = parse_page(Resource::WorkOrder, last, &[], false).unwrap();
        assert!(page.records.is_empty() && page.next_cursor.is_none());

        let err = parse_page(Resource::WorkOrder, br#"{"assets":[]}"#, &[], false).unwrap_err();
        assert_eq!(err.kind(), "upstream");
        let err = parse_page(Resource::WorkOrder, b"<html>", &[], false).unwrap_err();
        assert_eq!(err.kind(), "upstream");
    }

    #[test]
    fn raw_carries_the_list_item_as_sent() {
        let body = fixtures::sample_work_orders_page(2);
        let sent: Value = serde_json::from_slice(&body).unwrap();
        let page = parse_page(Resource::WorkOrder, &body, &[], true).unwrap();
        for (i, record) in page.records.iter().enumerate() {
            let record: Value = serde_json::from_str(record).unwrap();
            assert_eq!(record["raw"], sent["workOrders"][i]);
        }
    }

    #[test]
    fn loose_matches_are_narrowed_to_exact_ones() {
        let body = br#"{"locations":[{"id":1,"name":"Warehouse B"},{"id":2,"name":"Warehouse B2"}],"nextCursor":"c2"}"#;
        let exact = vec![("name", "Warehouse B".to_owned())];
        let page = parse_page(Resource::Location, body, &exact, false).unwrap();
        assert_eq!(
            page.records,
            vec![r#"{"key":"1","name":"Warehouse B"}"#.to_owned()]
        );
        assert_eq!(page.next_cursor.as_deref(), Some("c2"));
    }
}
