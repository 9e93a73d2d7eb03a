//! List endpoints: query parameters, filters, sorting and cursor paging, as the MaintainX spec
//! documents them for `GET /<resource>`.
//!
//! * `limit`: 1–200, default 100; anything else is a 400 `{"error": …}`.
//! * `cursor`: opaque (base64url of the position after the last record served); a cursor that
//!   does not decode, or was issued for another `sort`, is a 400.
//! * Records come in ascending id order unless `sort` says otherwise; records created while a
//!   client pages appear on later pages (their ids are higher), never twice and never skipped.
//! * Repeated parameters are arrays (`statuses=OPEN&statuses=DONE`); an unknown enum value or a
//!   malformed number or date is a 400. Parameters the spec does not list are ignored.

use serde_json::Value;

use super::resources::{Kind, WO_HIERARCHY_TYPES, WO_PART_STATUSES, WO_PRIORITIES, WO_STATUSES};
use super::store::{Record, Store};
use crate::clock::parse_ms;

/// Default and maximum page sizes.
pub(crate) const DEFAULT_LIMIT: usize = 100;
pub(crate) const MAX_LIMIT: usize = 200;

/// A 400 on a list query: the message goes into `{"error": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryError(pub(crate) String);

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sort {
    /// By id, ascending (the default).
    IdAscending,
    /// `sort=-id`.
    IdDescending,
    /// By a timestamp field; `param` is the `sort` value without `-`, `field` the record key.
    Field {
        param: &'static str,
        field: &'static str,
        descending: bool,
    },
}

/// Where the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cursor {
    /// After this id (id orders).
    Id(u64),
    /// After this (sort key, id) pair (field orders).
    Keyed(i64, u64),
}

/// A parsed list query.
#[derive(Debug, Clone)]
pub(crate) struct ListQuery {
    pub(crate) limit: usize,
    pub(crate) cursor: Option<Cursor>,
    pub(crate) sort: Sort,
    /// Validated `expand` values.
    pub(crate) expand: Vec<String>,
    pub(crate) filters: Filters,
    /// The query parameters except `cursor`, in order, to build `nextPageUrl`.
    pub(crate) carry: Vec<(String, String)>,
}

/// Filters of a list query. Empty vectors and `None`s do not filter.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filters {
    statuses: Vec<String>,
    priorities: Vec<String>,
    part_statuses: Vec<String>,
    hierarchy: Vec<String>,
    assets: Vec<u64>,
    not_assets: Vec<u64>,
    locations: Vec<u64>,
    not_locations: Vec<u64>,
    parts: Vec<u64>,
    not_parts: Vec<u64>,
    vendors: Vec<u64>,
    not_vendors: Vec<u64>,
    assignees: Vec<u64>,
    teams: Vec<u64>,
    categories: Vec<String>,
    not_categories: Vec<String>,
    title: Option<String>,
    show_upcoming: bool,
    updated_gte: Option<i64>,
    updated_lte: Option<i64>,
    created_gte: Option<i64>,
    created_lte: Option<i64>,
    location_id: Option<u64>,
    manufacturers: Vec<String>,
    models: Vec<String>,
    part_numbers: Vec<String>,
    name_prefix: Option<String>,
    emails: Vec<String>,
    only_assignable: bool,
}

impl ListQuery {
    /// Parses the raw query string of `GET /<kind>`.
    pub(crate) fn parse(kind: Kind, raw: Option<&str>) -> Result<Self, QueryError> {
        let pairs: Vec<(String, String)> = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();

        let mut limit = DEFAULT_LIMIT;
        let mut raw_cursor = None;
        let mut sort = Sort::IdAscending;
        let mut expand = Vec::new();
        let mut f = Filters::default();
        let wo = kind == Kind::WorkOrder;

        for (key, value) in &pairs {
            let value = value.as_str();
            match key.as_str() {
                "limit" => limit = parse_limit(value)?,
                "cursor" if !value.is_empty() => raw_cursor = Some(value.to_string()),
                "sort" if !kind.sorts().is_empty() => sort = parse_sort(kind, value)?,
                "expand" if !kind.list_expands().is_empty() => {
                    if !kind.list_expands().iter().any(|e| e.param == value) {
                        return Err(QueryError(format!(
                            "querystring/expand must be equal to one of the allowed values: {}",
                            kind.list_expands()
                                .iter()
                                .map(|e| e.param)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                    expand.push(value.to_string());
                }
                "updatedAt[gte]" if kind.has_date_filters() => {
                    f.updated_gte = Some(date(key, value)?);
                }
                "updatedAt[lte]" if kind.has_date_filters() => {
                    f.updated_lte = Some(date(key, value)?);
                }
                "createdAt[gte]" if kind.has_date_filters() => {
                    f.created_gte = Some(date(key, value)?);
                }
                "createdAt[lte]" if kind.has_date_filters() => {
                    f.created_lte = Some(date(key, value)?);
                }
                "statuses" if wo => f.statuses.push(member(key, value, WO_STATUSES)?),
                "priorities" if wo => f.priorities.push(member(key, value, WO_PRIORITIES)?),
                "partStatuses" if wo => {
                    f.part_statuses.push(member(key, value, WO_PART_STATUSES)?);
                }
                "parentSubWorkOrderTypes" if wo => {
                    f.hierarchy.push(member(key, value, WO_HIERARCHY_TYPES)?);
                }
                "assets" if wo => f.assets.push(integer(key, value)?),
                "notAssets" if wo => f.not_assets.push(integer(key, value)?),
                "locations" if wo => f.locations.push(integer(key, value)?),
                "notLocations" if wo => f.not_locations.push(integer(key, value)?),
                "parts" if wo => f.parts.push(integer(key, value)?),
                "notParts" if wo => f.not_parts.push(integer(key, value)?),
                "vendors" if wo => f.vendors.push(integer(key, value)?),
                "notVendors" if wo => f.not_vendors.push(integer(key, value)?),
                "assignees" if wo => f.assignees.push(integer(key, value)?),
                "teams" if wo => f.teams.push(integer(key, value)?),
                "categories" if wo => f.categories.push(value.to_string()),
                "notCategories" if wo => f.not_categories.push(value.to_string()),
                "title" if wo => f.title = Some(value.to_lowercase()),
                "show_upcoming" if wo => f.show_upcoming = boolean(key, value)?,
                "locationId" if kind == Kind::Asset => f.location_id = Some(integer(key, value)?),
                "manufacturer" if kind == Kind::Asset => f.manufacturers.push(value.to_string()),
                "model" if kind == Kind::Asset => f.models.push(value.to_string()),
                "partNumber" if kind == Kind::Part => f.part_numbers.push(value.to_string()),
                "name" if kind == Kind::Location => f.name_prefix = Some(value.to_lowercase()),
                "email" if kind == Kind::User => f.emails.push(value.to_lowercase()),
                "onlyAssignable" if kind == Kind::User => {
                    f.only_assignable = boolean(key, value)?;
                }
                _ => {}
            }
        }

        let cursor = raw_cursor.map(|c| decode_cursor(&c, sort)).transpose()?;
        let carry = pairs.into_iter().filter(|(k, _)| k != "cursor").collect();
        Ok(Self {
            limit,
            cursor,
            sort,
            expand,
            filters: f,
            carry,
        })
    }

    /// The cursor that continues after `last`.
    pub(crate) fn cursor_after(&self, last: &Record) -> String {
        let id = last.get("id").and_then(Value::as_u64).unwrap_or(0);
        match self.sort {
            Sort::IdAscending | Sort::IdDescending => encode_cursor(&format!("v1:i:{id}")),
            Sort::Field {
                param,
                field,
                descending,
            } => {
                let sign = if descending { "-" } else { "" };
                let key = sort_key(last, field);
                encode_cursor(&format!("v1:s:{sign}{param}:{key}:{id}"))
            }
        }
    }
}

/// One page of `kind`: at most `limit` records and the cursor of the next page, if any.
pub(crate) fn page(store: &Store, kind: Kind, q: &ListQuery, now: i64) -> (Vec<Record>, bool) {
    let want = q.limit + 1;
    let mut out = Vec::with_capacity(want.min(256));
    match q.sort {
        Sort::IdAscending | Sort::IdDescending => {
            let after = match q.cursor {
                Some(Cursor::Id(id)) => Some(id),
                _ => None,
            };
            let ids = if q.sort == Sort::IdAscending {
                store.ids_ascending(kind, after)
            } else {
                store.ids_descending(kind, after)
            };
            for id in ids {
                if let Some(record) = store.get(kind, id)
                    && q.filters.matches(kind, &record, now)
                {
                    out.push(record);
                    if out.len() == want {
                        break;
                    }
                }
            }
        }
        Sort::Field {
            field, descending, ..
        } => {
            let mut keyed: Vec<(i64, u64)> = store
                .ids_ascending(kind, None)
                .filter_map(|id| {
                    let record = store.get(kind, id)?;
                    q.filters
                        .matches(kind, &record, now)
                        .then(|| (sort_key(&record, field), id))
                })
                .collect();
            keyed.sort_unstable();
            if descending {
                keyed.reverse();
            }
            let start = match q.cursor {
                Some(Cursor::Keyed(key, id)) if descending => {
                    keyed.partition_point(|&entry| entry >= (key, id))
                }
                Some(Cursor::Keyed(key, id)) => keyed.partition_point(|&entry| entry <= (key, id)),
                _ => 0,
            };
            out.extend(
                keyed
                    .iter()
                    .skip(start)
                    .take(want)
                    .filter_map(|&(_, id)| store.get(kind, id)),
            );
        }
    }
    let more = out.len() > q.limit;
    out.truncate(q.limit);
    (out, more)
}

impl Filters {
    /// `true` if `record` of `kind` passes every filter.
    pub(crate) fn matches(&self, kind: Kind, record: &Record, now: i64) -> bool {
        if self.is_empty() {
            // Only the hidden-until-started rule applies without filters.
            return kind != Kind::WorkOrder
                || self.show_upcoming
                || record
                    .get("startDate")
                    .and_then(Value::as_str)
                    .and_then(parse_ms)
                    .is_none_or(|s| s <= now);
        }
        let ts = |field: &str| record.get(field).and_then(Value::as_str).and_then(parse_ms);
        if kind.has_date_filters() {
            let updated = ts("updatedAt").unwrap_or(0);
            let created = ts("createdAt").unwrap_or(0);
            if self.updated_gte.is_some_and(|t| updated < t)
                || self.updated_lte.is_some_and(|t| updated > t)
                || self.created_gte.is_some_and(|t| created < t)
                || self.created_lte.is_some_and(|t| created > t)
            {
                return false;
            }
        }
        match kind {
            Kind::WorkOrder => self.matches_work_order(record, now, ts("startDate")),
            Kind::Asset => {
                self.location_id
                    .is_none_or(|l| u64_field(record, "locationId") == Some(l))
                    && one_of(&self.manufacturers, str_field(record, "manufacturer"))
                    && one_of(&self.models, str_field(record, "model"))
            }
            Kind::Part => {
                self.part_numbers.is_empty()
                    || array(record, "vendors").iter().any(|v| {
                        v.get("partNumber")
                            .and_then(Value::as_str)
                            .is_some_and(|p| self.part_numbers.iter().any(|n| n == p))
                    })
            }
            Kind::Location => self.name_prefix.as_ref().is_none_or(|prefix| {
                str_field(record, "name").is_some_and(|n| n.to_lowercase().starts_with(prefix))
            }),
            Kind::User => {
                let email = str_field(record, "email").map(str::to_lowercase);
                (self.emails.is_empty() || email.as_ref().is_some_and(|e| self.emails.contains(e)))
                    && (!self.only_assignable
                        || (str_field(record, "role") != Some("REQUESTER")
                            && record.get("removedFromOrganization") != Some(&Value::Bool(true))))
            }
            Kind::PurchaseOrder | Kind::Vendor => true,
        }
    }

    /// `true` if no filter is set (`show_upcoming` aside).
    fn is_empty(&self) -> bool {
        let Self {
            statuses,
            priorities,
            part_statuses,
            hierarchy,
            assets,
            not_assets,
            locations,
            not_locations,
            parts,
            not_parts,
            vendors,
            not_vendors,
            assignees,
            teams,
            categories,
            not_categories,
            title,
            show_upcoming: _,
            updated_gte,
            updated_lte,
            created_gte,
            created_lte,
            location_id,
            manufacturers,
            models,
            part_numbers,
            name_prefix,
            emails,
            only_assignable,
        } = self;
        [
            statuses,
            priorities,
            part_statuses,
            hierarchy,
            categories,
            not_categories,
        ]
        .iter()
        .all(|v| v.is_empty())
            && [
                assets,
                not_assets,
                locations,
                not_locations,
                parts,
                not_parts,
                vendors,
                not_vendors,
                assignees,
                teams,
            ]
            .iter()
            .all(|v| v.is_empty())
            && [manufacturers, models, part_numbers, emails]
                .iter()
                .all(|v| v.is_empty())
            && title.is_none()
            && name_prefix.is_none()
            && location_id.is_none()
            && [updated_gte, updated_lte, created_gte, created_lte]
                .iter()
                .all(|t| t.is_none())
            && !only_assignable
    }

    fn matches_work_order(&self, record: &Record, now: i64, start: Option<i64>) -> bool {
        let ids = |field: &str| -> Vec<u64> {
            array(record, field)
                .iter()
                .filter_map(Value::as_u64)
                .collect()
        };
        let any_of = |wanted: &[u64], have: &[u64]| {
            wanted.is_empty() || wanted.iter().any(|w| have.contains(w))
        };
        let none_of = |unwanted: &[u64], have: &[u64]| !unwanted.iter().any(|u| have.contains(u));
        let asset: Vec<u64> = u64_field(record, "assetId").into_iter().collect();
        let location: Vec<u64> = u64_field(record, "locationId").into_iter().collect();
        let parts: Vec<u64> = array(record, "partsUsed")
            .iter()
            .filter_map(|p| p.get("partId").and_then(Value::as_u64))
            .collect();
        let vendors = ids("vendorIds");
        let categories: Vec<&str> = array(record, "categories")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let hierarchy = if record.get("isParent") == Some(&Value::Bool(true)) {
            "PARENT"
        } else if u64_field(record, "parentId").is_some() {
            "SUB_WORK_ORDER"
        } else {
            "STANDALONE"
        };
        one_of(&self.statuses, str_field(record, "status"))
            && one_of(&self.priorities, str_field(record, "priority"))
            && one_of(&self.part_statuses, str_field(record, "partStatus"))
            && one_of(&self.hierarchy, Some(hierarchy))
            && any_of(&self.assets, &asset)
            && none_of(&self.not_assets, &asset)
            && any_of(&self.locations, &location)
            && none_of(&self.not_locations, &location)
            && any_of(&self.parts, &parts)
            && none_of(&self.not_parts, &parts)
            && any_of(&self.vendors, &vendors)
            && none_of(&self.not_vendors, &vendors)
            && any_of(&self.assignees, &ids("assigneeIds"))
            && any_of(&self.teams, &ids("teamIds"))
            && (self.categories.is_empty()
                || self.categories.iter().any(|c| categories.contains(&c.as_str())))
            && !self
                .not_categories
                .iter()
                .any(|c| categories.contains(&c.as_str()))
            && self.title.as_ref().is_none_or(|t| {
                str_field(record, "title").is_some_and(|title| title.to_lowercase().contains(t))
            })
            // Work orders whose start date is still ahead are hidden unless `show_upcoming`.
            && (self.show_upcoming || start.is_none_or(|s| s <= now))
    }
}

/// The sort key of `record` for a timestamp `field`: milliseconds, nulls last (ascending).
fn sort_key(record: &Record, field: &str) -> i64 {
    if field == "id" {
        return record
            .get("id")
            .and_then(Value::as_u64)
            .and_then(|i| i64::try_from(i).ok())
            .unwrap_or(0);
    }
    record
        .get(field)
        .and_then(Value::as_str)
        .and_then(parse_ms)
        .unwrap_or(i64::MAX)
}

fn one_of(wanted: &[String], have: Option<&str>) -> bool {
    wanted.is_empty() || have.is_some_and(|h| wanted.iter().any(|w| w == h))
}

fn str_field<'r>(record: &'r Record, field: &str) -> Option<&'r str> {
    record.get(field).and_then(Value::as_str)
}

fn u64_field(record: &Record, field: &str) -> Option<u64> {
    record.get(field).and_then(Value::as_u64)
}

fn array<'r>(record: &'r Record, field: &str) -> &'r [Value] {
    record
        .get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn parse_limit(value: &str) -> Result<usize, QueryError> {
    let n: i64 = value
        .parse()
        .map_err(|_| QueryError("querystring/limit must be integer".into()))?;
    if n < 1 {
        return Err(QueryError("querystring/limit must be >= 1".into()));
    }
    if n > MAX_LIMIT as i64 {
        return Err(QueryError(format!(
            "querystring/limit must be <= {MAX_LIMIT}"
        )));
    }
    usize::try_from(n).map_err(|_| QueryError("querystring/limit must be integer".into()))
}

fn parse_sort(kind: Kind, value: &str) -> Result<Sort, QueryError> {
    let (descending, name) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let Some(&param) = kind.sorts().iter().find(|s| **s == name) else {
        let allowed: Vec<String> = kind
            .sorts()
            .iter()
            .flat_map(|s| [(*s).to_string(), format!("-{s}")])
            .collect();
        return Err(QueryError(format!(
            "querystring/sort must be equal to one of the allowed values: {}",
            allowed.join(", ")
        )));
    };
    Ok(match (param, descending) {
        ("id", false) => Sort::IdAscending,
        ("id", true) => Sort::IdDescending,
        _ => Sort::Field {
            param,
            // The spec's `startedAt` sorts by the work order's `startDate`.
            field: if param == "startedAt" {
                "startDate"
            } else {
                param
            },
            descending,
        },
    })
}

fn member(key: &str, value: &str, allowed: &[&str]) -> Result<String, QueryError> {
    if allowed.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(QueryError(format!(
            "querystring/{key} must be equal to one of the allowed values: {}",
            allowed.join(", ")
        )))
    }
}

fn integer(key: &str, value: &str) -> Result<u64, QueryError> {
    value
        .parse()
        .map_err(|_| QueryError(format!("querystring/{key} must be integer")))
}

fn boolean(key: &str, value: &str) -> Result<bool, QueryError> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(QueryError(format!("querystring/{key} must be boolean"))),
    }
}

fn date(key: &str, value: &str) -> Result<i64, QueryError> {
    parse_ms(value)
        .ok_or_else(|| QueryError(format!("querystring/{key} must match format \"date-time\"")))
}

fn encode_cursor(text: &str) -> String {
    base64url_encode(text.as_bytes())
}

fn decode_cursor(raw: &str, sort: Sort) -> Result<Cursor, QueryError> {
    let invalid = || QueryError("Invalid cursor".into());
    let bytes = base64url_decode(raw).ok_or_else(invalid)?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.split(':');
    if parts.next() != Some("v1") {
        return Err(invalid());
    }
    match (parts.next(), sort) {
        (Some("i"), Sort::IdAscending | Sort::IdDescending) => {
            let id = parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(invalid)?;
            if parts.next().is_some() {
                return Err(invalid());
            }
            Ok(Cursor::Id(id))
        }
        (
            Some("s"),
            Sort::Field {
                param, descending, ..
            },
        ) => {
            let expected = if descending {
                format!("-{param}")
            } else {
                param.to_string()
            };
            if parts.next() != Some(expected.as_str()) {
                return Err(invalid());
            }
            let key = parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(invalid)?;
            let id = parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(invalid)?;
            if parts.next().is_some() {
                return Err(invalid());
            }
            Ok(Cursor::Keyed(key, id))
        }
        _ => Err(invalid()),
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let index = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap_or(0);
            out.push(char::from(B64[index]));
        }
    }
    out
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut values = Vec::with_capacity(text.len());
    for c in text.bytes() {
        let v = B64.iter().position(|&b| b == c)?;
        values.push(u32::try_from(v).ok()?);
    }
    if values.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(values.len() * 3 / 4);
    for chunk in values.chunks(4) {
        let mut n = 0u32;
        for (i, v) in chunk.iter().enumerate() {
            n |= v << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now_ms;
    use crate::maintainx::seed::SeedPlan;

    fn store() -> Store {
        Store::new(SeedPlan {
            work_orders: 300,
            assets: 60,
            parts: 40,
            purchase_orders: 30,
            locations: 12,
            vendors: 8,
            users: 12,
        })
    }

    /// The ids `GET /<kind>?<query>` returns, every page followed.
    fn listed(store: &Store, kind: Kind, query: &str) -> Vec<u64> {
        let mut out = Vec::new();
        let mut cursor = String::new();
        loop {
            let raw = format!("limit=200&{query}{cursor}");
            let q = ListQuery::parse(kind, Some(&raw)).expect("valid query");
            let (records, more) = page(store, kind, &q, now_ms());
            out.extend(records.iter().filter_map(|r| u64_field(r, "id")));
            match (more, records.last()) {
                (true, Some(last)) => cursor = format!("&cursor={}", q.cursor_after(last)),
                _ => break,
            }
        }
        out
    }

    /// The ids of `kind` meeting `keep`, computed from the stored records directly.
    fn expected(store: &Store, kind: Kind, keep: impl Fn(&Record) -> bool) -> Vec<u64> {
        store
            .ids_ascending(kind, None)
            .filter(|id| store.get(kind, *id).is_some_and(|r| keep(&r)))
            .collect()
    }

    fn ms(r: &Record, field: &str) -> i64 {
        str_field(r, field).and_then(parse_ms).expect("a time")
    }

    #[test]
    fn time_ranges_are_inclusive_on_both_ends() {
        let s = store();
        for kind in [
            Kind::WorkOrder,
            Kind::Asset,
            Kind::Part,
            Kind::PurchaseOrder,
        ] {
            for field in ["updatedAt", "createdAt"] {
                let mut times: Vec<(i64, String)> = s
                    .ids_ascending(kind, None)
                    .filter_map(|id| s.get(kind, id))
                    .map(|r| {
                        (
                            ms(&r, field),
                            str_field(&r, field).unwrap_or("").to_string(),
                        )
                    })
                    .collect();
                times.sort();
                let (lo, lo_text) = times[times.len() / 4].clone();
                let (hi, hi_text) = times[times.len() * 3 / 4].clone();
                let upcoming = if kind == Kind::WorkOrder {
                    "show_upcoming=true&"
                } else {
                    ""
                };
                let got = listed(
                    &s,
                    kind,
                    &format!("{upcoming}{field}[gte]={lo_text}&{field}[lte]={hi_text}"),
                );
                let want = expected(&s, kind, |r| (lo..=hi).contains(&ms(r, field)));
                assert!(!want.is_empty(), "{kind:?} {field}");
                assert_eq!(got, want, "{kind:?} {field}");
                // A bound one millisecond past a record's time leaves that record out.
                let past = crate::clock::format_ms(lo + 1);
                let got = listed(&s, kind, &format!("{upcoming}{field}[gte]={past}"));
                let want = expected(&s, kind, |r| ms(r, field) > lo);
                assert_eq!(got, want, "{kind:?} {field} > {lo_text}");
            }
        }
    }

    #[test]
    fn repeated_and_not_parameters_select_as_documented() {
        let s = store();
        let wo = Kind::WorkOrder;
        let asset = |r: &Record| u64_field(r, "assetId");
        let location = |r: &Record| u64_field(r, "locationId");
        let some_asset = expected(&s, wo, |r| asset(r).is_some())
            .first()
            .and_then(|id| s.get(wo, *id))
            .and_then(|r| asset(&r))
            .expect("a work order with an asset");
        let some_location = expected(&s, wo, |r| location(r).is_some())
            .last()
            .and_then(|id| s.get(wo, *id))
            .and_then(|r| location(&r))
            .expect("a work order with a location");
        type Keep = Box<dyn Fn(&Record) -> bool>;
        let cases: Vec<(String, Keep)> = vec![
            (
                "statuses=OPEN&statuses=ON_HOLD".into(),
                Box::new(|r| matches!(str_field(r, "status"), Some("OPEN" | "ON_HOLD"))),
            ),
            (
                "priorities=NONE&priorities=HIGH".into(),
                Box::new(|r| matches!(str_field(r, "priority"), Some("NONE" | "HIGH"))),
            ),
            (
                format!("assets={some_asset}&assets=999999"),
                Box::new(move |r| asset(r) == Some(some_asset)),
            ),
            // "none of the provided assets": work orders without an asset stay.
            (
                format!("notAssets={some_asset}"),
                Box::new(move |r| asset(r) != Some(some_asset)),
            ),
            (
                format!("notLocations={some_location}&statuses=DONE"),
                Box::new(move |r| {
                    location(r) != Some(some_location) && str_field(r, "status") == Some("DONE")
                }),
            ),
        ];
        for (query, keep) in cases {
            let got = listed(&s, wo, &format!("show_upcoming=true&{query}"));
            let want = expected(&s, wo, |r| keep(r));
            assert!(!want.is_empty(), "{query}");
            assert_eq!(got, want, "{query}");
        }
        assert!(
            expected(&s, wo, |r| asset(r).is_none())
                .iter()
                .all(|id| listed(
                    &s,
                    wo,
                    &format!("show_upcoming=true&notAssets={some_asset}")
                )
                .contains(id)),
            "work orders without an asset pass notAssets"
        );

        let makes: Vec<String> = s
            .ids_ascending(Kind::Asset, None)
            .filter_map(|id| s.get(Kind::Asset, id))
            .filter_map(|r| str_field(&r, "manufacturer").map(str::to_string))
            .collect();
        let (a, b) = (makes[0].clone(), makes[makes.len() - 1].clone());
        let got = listed(
            &s,
            Kind::Asset,
            &format!("manufacturer={a}&manufacturer={b}").replace(' ', "%20"),
        );
        let want = expected(&s, Kind::Asset, |r| {
            str_field(r, "manufacturer").is_some_and(|m| m == a || m == b)
        });
        assert_eq!(got, want);

        let user = s.get(
            Kind::User,
            s.ids_ascending(Kind::User, None).nth(3).unwrap_or(0),
        );
        let email = user
            .as_ref()
            .and_then(|u| str_field(u, "email"))
            .expect("an email")
            .to_string();
        let got = listed(&s, Kind::User, &format!("email={}", email.to_uppercase()));
        assert_eq!(got.len(), 1, "emails match without regard to case");
    }

    #[test]
    fn base64url_round_trips() {
        for text in [
            "",
            "a",
            "ab",
            "abc",
            "v1:i:1000001",
            "v1:s:-updatedAt:1712345678901:42",
        ] {
            let encoded = base64url_encode(text.as_bytes());
            assert_eq!(base64url_decode(&encoded).as_deref(), Some(text.as_bytes()));
        }
        assert_eq!(base64url_decode("a"), None);
        assert_eq!(base64url_decode("a+b="), None);
    }

    #[test]
    fn cursors_are_bound_to_their_sort() {
        let id = encode_cursor("v1:i:5");
        assert_eq!(decode_cursor(&id, Sort::IdAscending), Ok(Cursor::Id(5)));
        let sorted = Sort::Field {
            param: "updatedAt",
            field: "updatedAt",
            descending: true,
        };
        assert!(decode_cursor(&id, sorted).is_err());
        let keyed = encode_cursor("v1:s:-updatedAt:7:5");
        assert_eq!(decode_cursor(&keyed, sorted), Ok(Cursor::Keyed(7, 5)));
        assert!(decode_cursor("!!!", Sort::IdAscending).is_err());
        assert!(decode_cursor(&encode_cursor("v1:i:x"), Sort::IdAscending).is_err());
    }

    #[test]
    fn limits_and_enums_are_validated() {
        assert!(ListQuery::parse(Kind::WorkOrder, Some("limit=201")).is_err());
        assert!(ListQuery::parse(Kind::WorkOrder, Some("limit=0")).is_err());
        assert!(ListQuery::parse(Kind::WorkOrder, Some("limit=abc")).is_err());
        assert!(ListQuery::parse(Kind::WorkOrder, Some("statuses=WHATEVER")).is_err());
        assert!(ListQuery::parse(Kind::WorkOrder, Some("sort=id")).is_err());
        assert!(ListQuery::parse(Kind::Asset, Some("sort=-id")).is_ok());
        let q = ListQuery::parse(
            Kind::WorkOrder,
            Some("limit=200&statuses=OPEN&statuses=DONE"),
        );
        assert!(q.is_ok_and(|q| q.limit == 200 && q.filters.statuses.len() == 2));
    }
}
