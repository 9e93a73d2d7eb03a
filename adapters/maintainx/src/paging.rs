//! `list`: building `GET /<resource>?limit=&cursor=&…` from a unified list request, and reading
//! a MaintainX page back.
//!
//! MaintainX pages with an opaque cursor: the response's `nextCursor` is handed to the host as
//! the continuation, and the host hands it back as `cursor=` (null on the last page). Unified
//! filters are equality on declared `filterable` fields and map to the list endpoint's own
//! query parameters; `sort` maps to the endpoint's `sort` values. Where MaintainX matches
//! loosely (work order `title`, location `name` prefix), the adapter keeps exact matches only.

use plantwire_sdk::contract::{ListRequest, Page};
use plantwire_sdk::query::PathQuery;
use plantwire_sdk::{AdapterError, UpstreamError};
use serde_json::Value;

use crate::describe::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::mapping::{self, WO_PRIORITIES, WO_STATUSES, accepted, field_error, native_enum};
use crate::resources::Resource;

/// How a filter value is sent.
#[derive(Debug, Clone, Copy)]
pub enum FilterKind {
    /// A key of another record, sent as its integer id.
    Id,
    /// Text as given.
    Text,
    /// A unified enum value, sent in MaintainX's spelling.
    Enum(&'static [(&'static str, &'static str)]),
}

/// One unified filter and the query parameter it becomes.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    /// The unified field.
    pub field: &'static str,
    /// The MaintainX query parameter.
    pub param: &'static str,
    pub kind: FilterKind,
    /// The native field the adapter compares for an exact match, where MaintainX's own match
    /// is looser than equality.
    pub exact_on: Option<&'static str>,
}

const fn filter(field: &'static str, param: &'static str, kind: FilterKind) -> Filter {
    Filter {
        field,
        param,
        kind,
        exact_on: None,
    }
}

/// The filters each list endpoint supports (from its query parameters in the spec).
pub fn filters(res: Resource) -> &'static [Filter] {
    const WORK_ORDER: &[Filter] = &[
        Filter {
            exact_on: Some("title"),
            ..filter("title", "title", FilterKind::Text)
        },
        filter("status", "statuses", FilterKind::Enum(WO_STATUSES)),
        filter("severity", "priorities", FilterKind::Enum(WO_PRIORITIES)),
        filter("assetKey", "assets", FilterKind::Id),
        filter("locationKey", "locations", FilterKind::Id),
        filter("teamKey", "teams", FilterKind::Id),
        filter("assigneeKeys", "assignees", FilterKind::Id),
    ];
    const ASSET: &[Filter] = &[
        filter("locationKey", "locationId", FilterKind::Id),
        filter("modelName", "model", FilterKind::Text),
        filter("makeName", "manufacturer", FilterKind::Text),
    ];
    const PART: &[Filter] = &[filter("partNumber", "partNumber", FilterKind::Text)];
    const LOCATION: &[Filter] = &[Filter {
        exact_on: Some("name"),
        ..filter("name", "name", FilterKind::Text)
    }];
    const USER: &[Filter] = &[filter("email", "email", FilterKind::Text)];
    match res {
        Resource::WorkOrder => WORK_ORDER,
        Resource::Asset => ASSET,
        Resource::Part => PART,
        Resource::Location => LOCATION,
        Resource::User => USER,
        Resource::PurchaseOrder | Resource::Vendor => &[],
    }
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
pub struct ListQuery {
    /// Path and query of the `GET`.
    pub path: String,
    /// Exact matches to keep: (native field, value).
    pub exact: Vec<(&'static str, String)>,
}

/// Translates a unified list request; an unknown or unfilterable field, a bad value, or an
/// unsortable field is `invalid` before any request is made.
pub fn build(res: Resource, req: &ListRequest) -> Result<ListQuery, AdapterError> {
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
    for expand in res.list_expands() {
        q = q.param("expand", expand);
    }

    let mut errors = Vec::new();
    let mut exact = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (field, value) in &req.filters {
        let Some(spec) = filters(res).iter().find(|f| f.field == field) else {
            errors.push(field_error(
                field,
                format!(
                    "MaintainX cannot filter {} by `{field}`; filterable: {}",
                    res.entity(),
                    filterable_list(res)
                ),
            ));
            continue;
        };
        if seen.contains(&spec.field) {
            errors.push(field_error(
                field,
                format!("`{field}` is filtered more than once; filters are equality"),
            ));
            continue;
        }
        seen.push(spec.field);
        let native = match spec.kind {
            FilterKind::Id => mapping::parse_id(value).map(|id| id.to_string()),
            FilterKind::Text => Ok(value.clone()),
            FilterKind::Enum(table) => native_enum(table, value).map(str::to_owned),
        };
        match native {
            Ok(native) => {
                q = q.param(spec.param, &native);
                if let Some(on) = spec.exact_on {
                    exact.push((on, native));
                }
            }
            Err(message) => errors.push(field_error(field, message)),
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

    if errors.is_empty() {
        Ok(ListQuery {
            path: q.build(),
            exact,
        })
    } else {
        Err(AdapterError::Invalid(errors))
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

/// Reads a list response body into a page of unified records.
pub fn parse_page(
    res: Resource,
    body: &[u8],
    exact: &[(&str, String)],
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
        .map(|item| mapping::to_unified(res, item))
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

    #[test]
    fn work_order_filters_map_to_query_parameters() {
        let mut r = req("work-order");
        r.cursor = Some("eyJpZCI6MTAwfQ==".to_owned());
        r.filters = vec![
            ("status".into(), "in-progress".into()),
            ("severity".into(), "high".into()),
            ("assetKey".into(), "963".into()),
            ("locationKey".into(), "611".into()),
            ("teamKey".into(), "112".into()),
            ("assigneeKeys".into(), "23494".into()),
            ("title".into(), "Fix pump".into()),
        ];
        r.sort = Some("-dueAt".to_owned());
        let q = build(Resource::WorkOrder, &r).unwrap();
        assert_eq!(
            q.path,
            "/workorders?limit=50&cursor=eyJpZCI6MTAwfQ%3D%3D&show_upcoming=true\
             &expand=asset&expand=assignees&statuses=IN_PROGRESS&priorities=HIGH&assets=963\
             &locations=611&teams=112&assignees=23494&title=Fix%20pump&sort=-dueDate"
        );
        assert_eq!(q.exact, vec![("title", "Fix pump".to_owned())]);
    }

    #[test]
    fn other_resources_map_their_own_parameters() {
        let mut r = req("material");
        r.page_size = 1000;
        r.filters = vec![("partNumber".into(), "XC230".into())];
        r.sort = Some("key".into());
        assert_eq!(
            build(Resource::Part, &r).unwrap().path,
            "/parts?limit=200&expand=vendors&partNumber=XC230&sort=id"
        );
        let mut r = req("asset");
        r.page_size = 0;
        r.filters = vec![
            ("locationKey".into(), "852".into()),
            ("makeName".into(), "ACME".into()),
            ("modelName".into(), "X-2000".into()),
        ];
        r.sort = Some("-updatedAt".into());
        assert_eq!(
            build(Resource::Asset, &r).unwrap().path,
            "/assets?limit=100&expand=manufacturer&expand=model&expand=status&locationId=852\
             &manufacturer=ACME&model=X-2000&sort=-updatedAt"
        );
        let mut r = req("user");
        r.filters = vec![("email".into(), "jane.doe@example.com".into())];
        assert_eq!(
            build(Resource::User, &r).unwrap().path,
            "/users?limit=50&email=jane.doe%40example.com"
        );
        let mut r = req("location");
        r.filters = vec![("name".into(), "Warehouse B".into())];
        let q = build(Resource::Location, &r).unwrap();
        assert_eq!(q.path, "/locations?limit=50&name=Warehouse%20B");
        assert_eq!(q.exact, vec![("name", "Warehouse B".to_owned())]);
        assert_eq!(
            build(Resource::PurchaseOrder, &req("purchase-order"))
                .unwrap()
                .path,
            "/purchaseorders?limit=50"
        );
    }

    #[test]
    fn bad_filters_and_sorts_are_invalid() {
        let mut r = req("work-order");
        r.filters = vec![
            ("siteKey".into(), "1".into()),
            ("status".into(), "done".into()),
            ("assetKey".into(), "pump".into()),
            ("description".into(), "x".into()),
        ];
        r.sort = Some("title".into());
        assert_eq!(
            invalid_fields(build(Resource::WorkOrder, &r).unwrap_err()),
            vec!["siteKey", "status", "assetKey", "description", "title"]
        );
        let mut r = req("work-order");
        r.filters = vec![
            ("status".into(), "open".into()),
            ("status".into(), "completed".into()),
        ];
        assert_eq!(
            invalid_fields(build(Resource::WorkOrder, &r).unwrap_err()),
            vec!["status"]
        );
        let mut r = req("vendor");
        r.sort = Some("name".into());
        let err = build(Resource::Vendor, &r).unwrap_err();
        assert!(
            err.to_string().contains("cannot sort vendor lists"),
            "{err}"
        );
        let mut r = req("purchase-order");
        r.filters = vec![("status".into(), "approved".into())];
        assert_eq!(
            invalid_fields(build(Resource::PurchaseOrder, &r).unwrap_err()),
            vec!["status"]
        );
    }

    #[test]
    fn filters_and_sorts_match_the_declared_flags() {
        for res in Resource::ALL {
            let e = describe::entity(res);
            for f in &e.fields {
                let has_filter = filters(res).iter().any(|x| x.field == f.name);
                assert_eq!(
                    f.flags.filterable, has_filter,
                    "{}.{} filterable",
                    e.name, f.name
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
        }
    }

    #[test]
    fn pages_pass_the_cursor_through() {
        let body = fixtures::sample_work_orders_page(3);
        let page = parse_page(Resource::WorkOrder, &body, &[]).unwrap();
        assert_eq!(page.records.len(), 3);
        assert_eq!(
            page.next_cursor.as_deref(),
            Some(fixtures::SAMPLE_NEXT_CURSOR)
        );
        assert_eq!(page.total, None);
        let first: Value = serde_json::from_str(&page.records[0]).unwrap();
        assert_eq!(first["key"], "1000001");

        let last = br#"{"workOrders":[],"nextCursor":null,"nextPageUrl":null}"#;
        let page = parse_page(Resource::WorkOrder, last, &[]).unwrap();
        assert!(page.records.is_empty() && page.next_cursor.is_none());

        let err = parse_page(Resource::WorkOrder, br#"{"assets":[]}"#, &[]).unwrap_err();
        assert_eq!(err.kind(), "upstream");
        let err = parse_page(Resource::WorkOrder, b"<html>", &[]).unwrap_err();
        assert_eq!(err.kind(), "upstream");
    }

    #[test]
    fn loose_matches_are_narrowed_to_exact_ones() {
        let body = br#"{"locations":[{"id":1,"name":"Warehouse B"},{"id":2,"name":"Warehouse B2"}],"nextCursor":"c2"}"#;
        let exact = vec![("name", "Warehouse B".to_owned())];
        let page = parse_page(Resource::Location, body, &exact).unwrap();
        assert_eq!(
            page.records,
            vec![r#"{"key":"1","name":"Warehouse B"}"#.to_owned()]
        );
        assert_eq!(page.next_cursor.as_deref(), Some("c2"));
    }
}
