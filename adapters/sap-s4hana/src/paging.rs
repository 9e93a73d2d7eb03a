//! `list`: a unified list request as an OData V2 query (`$filter`, `$orderby`, `$top`,
//! `$skip`, `$inlinecount=allpages`, `$expand`), and SAP's page back.
//!
//! Paging: the adapter asks for a window of `page_size` records (`$top`, `$skip`). SAP may
//! page inside the window on its own (server-driven paging: fewer records and a `__next` link
//! with `$skiptoken`); the adapter then hands `__next` back as the continuation. When a window
//! is exhausted and `__count` says more records match, the continuation is the next window.
//! A continuation is the relative request path itself, checked to stay on the entity set.

use plantwire_sdk::contract::{ListRequest, Page};
use plantwire_sdk::{AdapterError, UpstreamError};
use serde_json::Value;

use crate::describe::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::mapping::read::record;
use crate::mapping::simple_fields;
use crate::odata::{self, collection, relative_next};
use crate::query::{self, key_native};
use crate::resources::{Resource, SERVICES};

fn bad(field: &str, message: impl Into<String>) -> AdapterError {
    AdapterError::invalid(field, message)
}

/// The `$orderby` value for a unified sort (`-` prefix for descending).
fn orderby(res: Resource, sort: &str) -> Result<String, AdapterError> {
    let (field, desc) = match sort.strip_prefix('-') {
        Some(f) => (f, true),
        None => (sort, false),
    };
    let natives: Vec<&str> = if field == "key" {
        key_native(res).into_iter().collect()
    } else if res == Resource::Inventory && field == "locationKey" {
        vec!["Plant", "StorageLocation"]
    } else {
        simple_fields(res)
            .iter()
            .filter(|s| s.field == field)
            .map(|s| s.native)
            .collect()
    };
    if natives.is_empty() {
        return Err(bad(field, "not sortable"));
    }
    let dir = if desc { " desc" } else { "" };
    Ok(natives
        .iter()
        .map(|n| format!("{n}{dir}"))
        .collect::<Vec<_>>()
        .join(","))
}

/// The request path of the first page of a list.
pub fn first_path(res: Resource, req: &ListRequest) -> Result<String, AdapterError> {
    let top = match req.page_size {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    };
    let filter = query::filter(res, &req.filters)?;
    // Raw records are SAP's whole entities, so a selection is not passed on with them.
    let selection = query::select(res, &req.fields)?;
    let selection = if req.include_raw {
        query::select(res, &[])?
    } else {
        selection
    };
    let mut pairs: Vec<(&str, String)> = vec![
        ("$top", top.to_string()),
        ("$skip", "0".to_owned()),
        ("$inlinecount", "allpages".to_owned()),
    ];
    if let Some(filter) = filter {
        pairs.push(("$filter", filter));
    }
    if let Some(sort) = &req.sort {
        pairs.push(("$orderby", orderby(res, sort)?));
    }
    if let Some(select) = selection.select {
        pairs.push(("$select", select));
    }
    if selection.expand
        && let Some(expand) = res.expand()
    {
        pairs.push(("$expand", expand.to_owned()));
    }
    Ok(format!(
        "{}?{}",
        res.collection_path(),
        odata::query(&pairs)
    ))
}

/// Checks a continuation handed back by the host: it must be a query of this entity set.
pub fn check_cursor(res: Resource, cursor: &str) -> Result<String, AdapterError> {
    let prefix = format!("{}?", res.collection_path());
    let valid = cursor.starts_with(&prefix)
        && cursor.len() <= 8_192
        && !cursor.contains("sap-client")
        && !cursor
            .chars()
            .any(|c| c.is_control() || c == ' ' || c == '#');
    if valid {
        Ok(cursor.to_owned())
    } else {
        Err(bad("cursor", "not a continuation of this list"))
    }
}

/// The value of query parameter `name` in a path.
fn param(path: &str, name: &str) -> Option<String> {
    let query = path.split_once('?')?.1;
    query.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

/// `path` with `$skip` set to `skip` and no `$skiptoken`.
fn with_skip(path: &str, skip: u64) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("$skip=") && !p.starts_with("$skiptoken="))
        .map(str::to_owned)
        .collect();
    parts.push(format!("$skip={skip}"));
    format!("{base}?{}", parts.join("&"))
}

/// The query parameters of a path, sorted (to compare two requests of the same page).
fn sorted_params(path: &str) -> Vec<&str> {
    let mut params: Vec<&str> = path
        .split_once('?')
        .map_or("", |(_, q)| q)
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    params.sort_unstable();
    params
}

/// The continuation a `__next` link gives after the page answered to `path`, or why it cannot
/// be followed. SAP writes `__next` as an absolute URL on the server it was called on: a link
/// to another server (told by the origin of the entities' own `__metadata.uri`), outside SAP's
/// OData root, onto another entity set, or one that would read the same page again (a
/// repeated `$skiptoken`, or no records with more promised) is refused rather than followed —
/// the continuation is only ever sent to the connection's own base URL by the host.
fn next_of(
    res: Resource,
    path: &str,
    link: &str,
    results: &[Value],
) -> Result<String, &'static str> {
    let origin = odata::link_origin(link).map_err(|_| "is not an http(s) URL of the system")?;
    if let Some(origin) = origin {
        let rest = &link[origin.len()..];
        if !rest.starts_with(&format!("/sap/opu/odata/sap/{}/", res.service())) {
            return Err("does not continue on SAP's OData root of this service");
        }
        let entity_origins = results
            .iter()
            .filter_map(|r| r.get("__metadata")?.get("uri")?.as_str())
            .filter_map(|uri| odata::link_origin(uri).ok().flatten());
        for other in entity_origins {
            if !other.eq_ignore_ascii_case(origin) {
                return Err("points to another server than the records it came with");
            }
        }
    }
    let next = relative_next(link, &SERVICES)
        .and_then(|n| check_cursor(res, &n).ok())
        .ok_or("does not continue this entity set")?;
    if sorted_params(&next) == sorted_params(path) {
        return Err("repeats the page just read (same $skiptoken)");
    }
    if results.is_empty() {
        return Err("promises more records after a page without any");
    }
    Ok(next)
}

/// Reads one page of `res` answered to `path`.
pub fn parse_page(
    res: Resource,
    path: &str,
    body: &Value,
    status: u16,
    raw: bool,
) -> Result<Page, AdapterError> {
    let c = collection(body).ok_or_else(|| {
        AdapterError::Upstream(UpstreamError {
            status,
            code: None,
            message: "the answer is not an OData V2 collection ({\"d\":{\"results\":[…]}})"
                .to_owned(),
        })
    })?;
    let records = c
        .results
        .iter()
        .filter_map(Value::as_object)
        .map(|e| Value::Object(record(res, e, raw)).to_string())
        .collect();
    let next_cursor = match &c.next {
        Some(link) => Some(next_of(res, path, link, &c.results).map_err(|why| {
            AdapterError::Upstream(UpstreamError {
                status,
                code: None,
                message: format!("SAP's __next link {why}; the list stops here"),
            })
        })?),
        None => {
            let skip: u64 = param(path, "$skip")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let top: Option<u64> = param(path, "$top").and_then(|v| v.parse().ok());
            match (top, c.count) {
                (Some(top), Some(count)) if skip + top < count => Some(with_skip(path, skip + top)),
                _ => None,
            }
        }
    };
    Ok(Page {
        records,
        next_cursor,
        total: c.count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use plantwire_sdk::contract::Filter;
    use serde_json::json;

    fn req(filters: &[(&str, &str)], sort: Option<&str>, size: u32) -> ListRequest {
        ListRequest {
            entity: String::new(),
            cursor: None,
            page_size: size,
            filters: filters.iter().map(|(a, b)| Filter::eq(a, b)).collect(),
            sort: sort.map(str::to_owned),
            fields: Vec::new(),
            include_raw: false,
        }
    }

    #[test]
    fn builds_queries() {
        let path = first_path(
            Resource::WorkOrder,
            &req(
                &[
                    ("siteKey", "1010"),
                    ("severity", "urgent"),
                    ("title", "O'Neil"),
                ],
                Some("-updatedAt"),
                50,
            ),
        )
        .unwrap();
        assert_eq!(
            path,
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=50&$skip=0&$inlinecount=allpages&$filter=MaintenancePlanningPlant%20eq%20'1010'%20and%20MaintPriority%20eq%20'1'%20and%20MaintenanceOrderDesc%20eq%20'O''Neil'&$orderby=LastChangeDateTime%20desc"
        );
        let path = first_path(
            Resource::PurchaseOrder,
            &req(&[("orderDate", "2024-03-01")], None, 5000),
        )
        .unwrap();
        assert!(path.contains("$top=1000&"));
        assert!(path.contains("PurchaseOrderDate%20eq%20datetime'2024-03-01T00:00:00'"));
        assert!(path.ends_with("$expand=to_PurchaseOrderItem"));
        let path = first_path(
            Resource::Asset,
            &req(&[("isActive", "false")], Some("key"), 0),
        )
        .unwrap();
        assert!(path.contains("$top=100&"));
        assert!(path.contains(
            "(EquipmentIsInactive%20eq%20true%20or%20EquipmentIsMarkedForDeletion%20eq%20true)"
        ));
        let path = first_path(
            Resource::Inventory,
            &req(&[("locationKey", "1010/101A")], Some("-locationKey"), 10),
        )
        .unwrap();
        assert!(path.contains("Plant%20eq%20'1010'%20and%20StorageLocation%20eq%20'101A'"));
        assert!(path.contains("$orderby=Plant%20desc,StorageLocation%20desc"));
        assert!(
            first_path(
                Resource::WorkOrder,
                &req(&[("severity", "extreme")], None, 1)
            )
            .is_err()
        );
        assert!(
            first_path(
                Resource::Inventory,
                &req(&[("locationKey", "1010")], None, 1)
            )
            .is_err()
        );
        assert!(
            first_path(
                Resource::Asset,
                &req(&[("createdAt", "2024-01-01T10:00:00Z")], None, 1)
            )
            .is_err()
        );
    }

    #[test]
    fn pages_follow_next_links_then_windows() {
        let path = "/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages";
        let body = json!({"d": {"results": [{"MaintenanceOrder": "4000001"}], "__count": "450",
            "__next": "http://h:1/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages&sap-client=100&$skiptoken=100"}});
        let page = parse_page(Resource::WorkOrder, path, &body, 200, false).unwrap();
        assert_eq!(page.total, Some(450));
        let next = page.next_cursor.unwrap();
        assert_eq!(
            next,
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages&$skiptoken=100"
        );
        // The window is exhausted: the next window starts at $skip=200.
        let body = json!({"d": {"results": [], "__count": "450"}});
        let page = parse_page(Resource::WorkOrder, &next, &body, 200, false).unwrap();
        assert_eq!(
            page.next_cursor.as_deref(),
            Some("/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$inlinecount=allpages&$skip=200")
        );
        let last =
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$inlinecount=allpages&$skip=400";
        assert_eq!(
            parse_page(Resource::WorkOrder, last, &body, 200, false)
                .unwrap()
                .next_cursor,
            None
        );
        // A __next elsewhere is refused, and so are foreign cursors.
        let body = json!({"d": {"results": [], "__next": "http://h/sap/opu/odata/sap/API_EQUIPMENT/Equipment?$skiptoken=1"}});
        assert!(parse_page(Resource::WorkOrder, path, &body, 200, false).is_err());
        assert!(check_cursor(Resource::WorkOrder, "/API_EQUIPMENT/Equipment?$top=1").is_err());
        assert!(
            check_cursor(
                Resource::WorkOrder,
                "/API_MAINTENANCEORDER/MaintenanceOrder?sap-client=200"
            )
            .is_err()
        );
        assert!(parse_page(Resource::WorkOrder, path, &json!({"value": []}), 200, false).is_err());
    }

    #[test]
    fn hostile_next_links_are_refused() {
        let path = "/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages";
        let record = |origin: &str| json!({"__metadata": {"uri": format!("{origin}/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder('4000001')")}, "MaintenanceOrder": "4000001"});
        let page =
            |next: &str, results: Vec<Value>| json!({"d": {"results": results, "__next": next}});
        let message =
            |body: &Value, at: &str| match parse_page(Resource::WorkOrder, at, body, 200, false) {
                Err(AdapterError::Upstream(u)) => u.message,
                other => panic!("{other:?}"),
            };
        let same = "https://s4h:44300/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages&$skiptoken=100";
        let ok = parse_page(
            Resource::WorkOrder,
            path,
            &page(same, vec![record("https://s4h:44300")]),
            200,
            false,
        )
        .unwrap();
        assert!(ok.next_cursor.unwrap().ends_with("$skiptoken=100"));
        // Another origin than the records' own.
        let foreign = same.replace("https://s4h:44300", "http://other.example");
        assert!(
            message(&page(&foreign, vec![record("https://s4h:44300")]), path)
                .contains("another server")
        );
        // Outside SAP's OData root, or not http(s).
        let outside = "http://other.example/x/API_MAINTENANCEORDER/MaintenanceOrder?$skiptoken=1";
        assert!(
            message(&page(outside, vec![record("http://other.example")]), path)
                .contains("OData root")
        );
        assert!(
            message(
                &page("javascript:alert(1)", vec![record("https://s4h:44300")]),
                path
            )
            .contains("http(s)")
        );
        // The same page again: the first page's own URL, or the same $skiptoken in another order.
        let repeat = "https://s4h:44300/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages&sap-client=100";
        assert!(
            message(&page(repeat, vec![record("https://s4h:44300")]), path).contains("repeats")
        );
        let second = "/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages&$skiptoken=100";
        let shuffled = "https://s4h:44300/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder?$skiptoken=100&$top=200&$skip=0&$inlinecount=allpages";
        assert!(
            message(&page(shuffled, vec![record("https://s4h:44300")]), second).contains("repeats")
        );
        // More promised after an empty page.
        assert!(message(&page(same, Vec::new()), path).contains("without any"));
    }
}
