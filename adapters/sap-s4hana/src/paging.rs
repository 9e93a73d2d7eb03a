//! `list`: a unified list request as an OData V2 query (`$filter`, `$orderby`, `$top`,
//! `$skip`, `$inlinecount=allpages`, `$expand`), and SAP's page back.
//!
//! Paging: the adapter asks for a window of `page_size` records (`$top`, `$skip`), always in
//! a total order (the caller's sort, then the key: [`stable_order`]). SAP may page inside the
//! window on its own (server-driven paging: fewer records and a `__next` link with
//! `$skiptoken`); the adapter then follows `__next`, counting the rows the chain delivered
//! against the window ([`Window`]). A chain that runs past the window, or a page with more
//! rows than asked, is cut at the window's end; a window that ends short without a link while
//! `__count` says more rows match continues right after the rows it gave. So every row is
//! returned once, whatever the server's own paging.
//!
//! A continuation is the relative request path, checked to stay on the entity set, with the
//! window's state after a `#` (never sent).

use plantwire_sdk::contract::{ListRequest, Page};
use plantwire_sdk::{AdapterError, UpstreamError};
use serde_json::{Map, Value};

use crate::describe::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::mapping::read::record;
use crate::mapping::simple_fields;
use crate::odata::{self, collection, relative_next};
use crate::query::{self, key_native};
use crate::resources::{Resource, SERVICES, STOCK_KEYS};

fn bad(field: &str, message: impl Into<String>) -> AdapterError {
    AdapterError::invalid(field, message)
}

/// The request path of the first page of a list, and its window.
pub fn first_path(res: Resource, req: &ListRequest) -> Result<(String, Window), AdapterError> {
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
    pairs.push(("$orderby", stable_order(res, req.sort.as_deref())?));
    if let Some(select) = selection.select {
        pairs.push(("$select", select));
    }
    if selection.expand
        && let Some(expand) = res.expand()
    {
        pairs.push(("$expand", expand.to_owned()));
    }
    let path = format!("{}?{}", res.collection_path(), odata::query(&pairs));
    Ok((path, Window::first(top)))
}

/// The `$orderby` of every listing: the caller's sort (if any), then the entity's key
/// properties, so that the order is total. `$skip` counts rows in that order: without it a
/// server is free to return rows in another order on the next request, and a row could move
/// from one window into the next (read twice) or out of both (never read).
fn stable_order(res: Resource, sort: Option<&str>) -> Result<String, AdapterError> {
    let keys: Vec<&str> = match key_native(res) {
        Some(k) => vec![k],
        None => STOCK_KEYS.to_vec(),
    };
    let mut parts: Vec<String> = Vec::new();
    let mut used: Vec<String> = Vec::new();
    if let Some(sort) = sort {
        let (field, desc) = match sort.strip_prefix('-') {
            Some(f) => (f, true),
            None => (sort, false),
        };
        let natives: Vec<&str> = if field == "key" {
            keys.clone()
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
        for n in natives {
            parts.push(format!("{n}{dir}"));
            used.push(n.to_owned());
        }
    }
    for k in keys {
        if !used.iter().any(|u| u == k) {
            parts.push(k.to_owned());
        }
    }
    Ok(parts.join(","))
}

/// Where a listing stands inside the `$skip`/`$top` window it asked for: the window starts
/// at row `skip`, holds `top` rows, and `delivered` of them have been returned so far
/// (across the pages of a server-driven `__next` chain inside it).
///
/// The window is counted by the adapter, not left to the server: an OData V2 server may
/// page on its own inside a window (fewer rows than `$top`, and a `__next` link), and some
/// keep following `$skiptoken` past the window's end, or answer more rows than `$top`. Rows
/// past the window are dropped here (the next window reads them), and the next window starts
/// exactly where this one's delivered rows end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub skip: u64,
    pub top: u64,
    pub delivered: u64,
}

/// Marks the window state at the end of a continuation (`<path>#w<skip>.<top>.<delivered>`).
/// It is never sent: [`check_cursor`] takes it off again.
const STATE: &str = "#w";

impl Window {
    fn first(top: u32) -> Window {
        Window {
            skip: 0,
            top: u64::from(top),
            delivered: 0,
        }
    }

    /// The continuation: the request path and this window's state.
    fn cursor(self, path: &str) -> String {
        format!("{path}{STATE}{}.{}.{}", self.skip, self.top, self.delivered)
    }

    fn parse(state: &str) -> Option<Window> {
        let mut parts = state.split('.').map(|p| p.parse::<u64>().ok());
        let (skip, top, delivered) = (parts.next()??, parts.next()??, parts.next()??);
        let valid = parts.next().is_none()
            && (1..=u64::from(MAX_PAGE_SIZE)).contains(&top)
            && delivered < top;
        valid.then_some(Window {
            skip,
            top,
            delivered,
        })
    }
}

/// Checks a continuation handed back by the host: it must be a query of this entity set,
/// with the window it belongs to. Returns the request path and the window.
pub fn check_cursor(res: Resource, cursor: &str) -> Result<(String, Window), AdapterError> {
    let refused = || bad("cursor", "not a continuation of this list");
    let (path, state) = cursor.rsplit_once(STATE).ok_or_else(refused)?;
    let window = Window::parse(state).ok_or_else(refused)?;
    if on_entity_set(res, path) {
        Ok((path.to_owned(), window))
    } else {
        Err(refused())
    }
}

/// Whether `path` is a query of the entity set of `res` (and sets no `sap-client`: the
/// connection's base URL chooses the client).
fn on_entity_set(res: Resource, path: &str) -> bool {
    path.starts_with(&format!("{}?", res.collection_path()))
        && path.len() <= 8_192
        && !path.contains("sap-client")
        && !path.chars().any(|c| c.is_control() || c == ' ' || c == '#')
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
        .filter(|n| on_entity_set(res, n))
        .ok_or("does not continue this entity set")?;
    if sorted_params(&next) == sorted_params(path) {
        return Err("repeats the page just read (same $skiptoken)");
    }
    if results.is_empty() {
        return Err("promises more records after a page without any");
    }
    Ok(next)
}

/// The path of the window of `top` rows at `skip`, built from `path` (the request just
/// answered: the window's first request or a `__next` link inside it).
fn window_path(path: &str, skip: u64, top: u64) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|p| {
            !p.is_empty()
                && !p.starts_with("$skip=")
                && !p.starts_with("$top=")
                && !p.starts_with("$skiptoken=")
        })
        .map(str::to_owned)
        .collect();
    parts.insert(0, format!("$top={top}"));
    parts.push(format!("$skip={skip}"));
    format!("{base}?{}", parts.join("&"))
}

/// Reads one page of `res` answered to `path` inside `window`.
pub fn parse_page(
    res: Resource,
    path: &str,
    window: Window,
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
    let stop = |why: String| {
        AdapterError::Upstream(UpstreamError {
            status,
            code: None,
            message: format!("{why}; the list stops here"),
        })
    };
    // Rows past the window's end (a server paging past `$top`, or answering more than it
    // was asked) belong to the next window, which reads them again: they are dropped here.
    let room = window.top - window.delivered;
    let rows: Vec<&Map<String, Value>> = c.results.iter().filter_map(Value::as_object).collect();
    let take = rows.len().min(usize::try_from(room).unwrap_or(usize::MAX));
    let records = rows[..take]
        .iter()
        .map(|e| Value::Object(record(res, e, raw)).to_string())
        .collect();
    let delivered = window.delivered + take as u64;
    let next_window = |start: u64| {
        let next = Window {
            skip: start,
            top: window.top,
            delivered: 0,
        };
        next.cursor(&window_path(path, start, window.top))
    };
    let end = window.skip + delivered;
    let next_cursor = if delivered == window.top {
        // The window is complete: the next one starts after it, unless SAP said no more
        // rows match. Without `__count` an empty window ends the listing.
        let more = match c.count {
            Some(count) => end < count,
            None => true,
        };
        more.then(|| next_window(end))
    } else if let Some(link) = &c.next {
        // SAP pages inside the window: follow its link, counting on.
        let next = next_of(res, path, link, &c.results)
            .map_err(|why| stop(format!("SAP's __next link {why}")))?;
        Some(
            Window {
                delivered,
                ..window
            }
            .cursor(&next),
        )
    } else {
        // The window ended short without a link. Where `__count` says more rows match,
        // the server capped the page on its own: the next window starts right after the
        // rows it gave (not after the window asked for, which would skip rows).
        match c.count {
            Some(count) if end < count => {
                if take == 0 {
                    return Err(stop(format!(
                        "SAP reports {count} matching rows but returned none at row {end}"
                    )));
                }
                Some(next_window(end))
            }
            _ => None,
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

    fn path_of(res: Resource, r: &ListRequest) -> String {
        first_path(res, r).unwrap().0
    }

    #[test]
    fn builds_queries() {
        let path = path_of(
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
        );
        assert_eq!(
            path,
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=50&$skip=0&$inlinecount=allpages&$filter=MaintenancePlanningPlant%20eq%20'1010'%20and%20MaintPriority%20eq%20'1'%20and%20MaintenanceOrderDesc%20eq%20'O''Neil'&$orderby=LastChangeDateTime%20desc,MaintenanceOrder"
        );
        let path = path_of(
            Resource::PurchaseOrder,
            &req(&[("orderDate", "2024-03-01")], None, 5000),
        );
        assert!(path.contains("$top=1000&"));
        assert!(path.contains("PurchaseOrderDate%20eq%20datetime'2024-03-01T00:00:00'"));
        assert!(path.contains("$orderby=PurchaseOrder&"));
        assert!(path.ends_with("$expand=to_PurchaseOrderItem"));
        let path = path_of(
            Resource::Asset,
            &req(&[("isActive", "false")], Some("key"), 0),
        );
        assert!(path.contains("$top=100&"));
        assert!(path.contains("$orderby=Equipment"));
        assert!(!path.contains("Equipment,Equipment"));
        assert!(path.contains(
            "(EquipmentIsInactive%20eq%20true%20or%20EquipmentIsMarkedForDeletion%20eq%20true)"
        ));
        let path = path_of(
            Resource::Inventory,
            &req(&[("locationKey", "1010/101A")], Some("-locationKey"), 10),
        );
        assert!(path.contains("Plant%20eq%20'1010'%20and%20StorageLocation%20eq%20'101A'"));
        assert!(path.contains("$orderby=Plant%20desc,StorageLocation%20desc,Material,Batch,"));
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

    /// A page of `n` numbered records (keys from `from`), with `count` and `next`.
    fn rows(from: u64, n: u64, count: Option<u64>, next: Option<&str>) -> Value {
        let results: Vec<Value> = (from..from + n)
            .map(|i| json!({"MaintenanceOrder": (4_000_000 + i).to_string()}))
            .collect();
        let mut d = json!({"results": results});
        if let Some(c) = count {
            d["__count"] = json!(c.to_string());
        }
        if let Some(n) = next {
            d["__next"] = json!(n);
        }
        json!({ "d": d })
    }

    fn at(cursor: &str) -> (String, Window) {
        check_cursor(Resource::WorkOrder, cursor).unwrap()
    }

    fn keys(page: &Page) -> Vec<u64> {
        page.records
            .iter()
            .map(|r| {
                let v: Value = serde_json::from_str(r).unwrap();
                v["key"].as_str().unwrap().parse::<u64>().unwrap() - 4_000_000
            })
            .collect()
    }

    const SET: &str = "http://h:1/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder";

    #[test]
    fn pages_follow_next_links_inside_the_window_then_the_next_window() {
        let (path, window) = first_path(Resource::WorkOrder, &req(&[], None, 200)).unwrap();
        let link = format!(
            "{SET}?$top=200&$skip=0&$inlinecount=allpages&$orderby=MaintenanceOrder&sap-client=100&$skiptoken=100"
        );
        let page = parse_page(
            Resource::WorkOrder,
            &path,
            window,
            &rows(0, 100, Some(450), Some(&link)),
            200,
            false,
        )
        .unwrap();
        assert_eq!(page.total, Some(450));
        let next = page.next_cursor.unwrap();
        assert_eq!(
            next,
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages&$orderby=MaintenanceOrder&$skiptoken=100#w0.200.100"
        );
        // The rest of the window, without a link: the next window starts at $skip=200.
        let (path, window) = at(&next);
        let page = parse_page(
            Resource::WorkOrder,
            &path,
            window,
            &rows(100, 100, Some(450), None),
            200,
            false,
        )
        .unwrap();
        assert_eq!(keys(&page), (100..200).collect::<Vec<_>>());
        let next = page.next_cursor.unwrap();
        assert_eq!(
            next,
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$inlinecount=allpages&$orderby=MaintenanceOrder&$skip=200#w200.200.0"
        );
        // The last window ends the listing.
        let (path, window) =
            at("/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=400#w400.200.0");
        let page = parse_page(
            Resource::WorkOrder,
            &path,
            window,
            &rows(400, 50, Some(450), None),
            200,
            false,
        )
        .unwrap();
        assert_eq!(page.next_cursor, None);
    }

    #[test]
    fn a_next_chain_past_the_window_is_cut_at_its_end() {
        // Asked for 250 rows; the server pages at 100 and its links go on past row 250.
        let (path, window) = first_path(Resource::WorkOrder, &req(&[], None, 250)).unwrap();
        let mut cursor: Option<String> = None;
        let mut seen = Vec::new();
        let (mut path, mut window) = (path, window);
        for offset in [0u64, 100, 200] {
            let link = format!(
                "{SET}?$top=250&$skip=0&$orderby=MaintenanceOrder&$skiptoken={}",
                offset + 100
            );
            let page = parse_page(
                Resource::WorkOrder,
                &path,
                window,
                &rows(offset, 100, Some(1000), Some(&link)),
                200,
                false,
            )
            .unwrap();
            seen.extend(keys(&page));
            cursor = page.next_cursor;
            if let Some(c) = &cursor {
                (path, window) = at(c);
            }
        }
        assert_eq!(
            seen,
            (0..250).collect::<Vec<_>>(),
            "the third page is cut at row 250"
        );
        assert_eq!(
            cursor.as_deref(),
            Some(
                "/API_MAINTENANCEORDER/MaintenanceOrder?$top=250&$orderby=MaintenanceOrder&$skip=250#w250.250.0"
            ),
            "the next window starts after the rows delivered, not where the server's link points"
        );
    }

    #[test]
    fn a_page_larger_than_asked_is_cut_and_a_short_window_continues_after_its_rows() {
        let (path, window) = first_path(Resource::WorkOrder, &req(&[], None, 10)).unwrap();
        // 30 rows for $top=10: the rest is the next window's.
        let page = parse_page(
            Resource::WorkOrder,
            &path,
            window,
            &rows(0, 30, Some(100), None),
            200,
            false,
        )
        .unwrap();
        assert_eq!(keys(&page), (0..10).collect::<Vec<_>>());
        assert!(page.next_cursor.unwrap().ends_with("$skip=10#w10.10.0"));
        // A server capping the page at 4 rows without a link, while __count says 100 match:
        // the next window starts at row 4, not 10.
        let page = parse_page(
            Resource::WorkOrder,
            &path,
            window,
            &rows(0, 4, Some(100), None),
            200,
            false,
        )
        .unwrap();
        assert!(page.next_cursor.unwrap().ends_with("$skip=4#w4.10.0"));
        // Nothing at a row the count says exists: an error, not a loop.
        let (p, w) = at("/API_MAINTENANCEORDER/MaintenanceOrder?$top=10&$skip=50#w50.10.0");
        assert!(
            parse_page(
                Resource::WorkOrder,
                &p,
                w,
                &rows(0, 0, Some(100), None),
                200,
                false
            )
            .is_err()
        );
        // Without __count: a full window goes on, a short one ends.
        let page = parse_page(
            Resource::WorkOrder,
            &path,
            window,
            &rows(0, 10, None, None),
            200,
            false,
        )
        .unwrap();
        assert!(page.next_cursor.is_some());
        let page = parse_page(
            Resource::WorkOrder,
            &path,
            window,
            &rows(0, 7, None, None),
            200,
            false,
        )
        .unwrap();
        assert!(page.next_cursor.is_none());
    }

    #[test]
    fn cursors_are_checked() {
        for bad in [
            "/API_EQUIPMENT/Equipment?$top=1#w0.1.0",
            "/API_MAINTENANCEORDER/MaintenanceOrder?sap-client=200#w0.1.0",
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=1",
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=1#w0.0.0",
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=1#w0.10.10",
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=1#w0.5000.0",
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=1#w0.10.1.2",
            "/API_MAINTENANCEORDER/MaintenanceOrder?$top=1#w-1.10.1",
        ] {
            assert!(check_cursor(Resource::WorkOrder, bad).is_err(), "{bad}");
        }
        let (path, window) = first_path(Resource::WorkOrder, &req(&[], None, 200)).unwrap();
        let body = json!({"d": {"results": [{"MaintenanceOrder": "1"}], "__next": "http://h/sap/opu/odata/sap/API_EQUIPMENT/Equipment?$skiptoken=1"}});
        assert!(parse_page(Resource::WorkOrder, &path, window, &body, 200, false).is_err());
        assert!(
            parse_page(
                Resource::WorkOrder,
                &path,
                window,
                &json!({"value": []}),
                200,
                false
            )
            .is_err()
        );
    }

    #[test]
    fn hostile_next_links_are_refused() {
        let path = "/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages";
        let window = Window::first(200);
        let record = |origin: &str| json!({"__metadata": {"uri": format!("{origin}/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder('4000001')")}, "MaintenanceOrder": "4000001"});
        let page =
            |next: &str, results: Vec<Value>| json!({"d": {"results": results, "__next": next}});
        let message = |body: &Value, at: &str| match parse_page(
            Resource::WorkOrder,
            at,
            window,
            body,
            200,
            false,
        ) {
            Err(AdapterError::Upstream(u)) => u.message,
            other => panic!("{other:?}"),
        };
        let same = "https://s4h:44300/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder?$top=200&$skip=0&$inlinecount=allpages&$skiptoken=100";
        let ok = parse_page(
            Resource::WorkOrder,
            path,
            window,
            &page(same, vec![record("https://s4h:44300")]),
            200,
            false,
        )
        .unwrap();
        assert!(ok.next_cursor.unwrap().ends_with("$skiptoken=100#w0.200.1"));
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
