//! `list`: building `GET /os/{os}?lean=1&oslc.select=…&oslc.where=…&oslc.orderBy=…
//! &oslc.pageSize=…&pageno=…` from a unified list request, and reading a page back.
//!
//! Unified filters are pushed down into `oslc.where` (IBM REST API guide, `query/filtering`):
//! conditions joined by `and`, text and dates in double quotes, numbers and booleans bare,
//! `in [..]` for a set. A unified `status` becomes `status in [..]` over every Maximo status
//! it stands for; a reference key becomes one condition per key attribute
//! (`assetnum="11430" and siteid="BEDFORD"`). Inside a quoted value Maximo reads `%` as a LIKE
//! wildcard and a lone `*` as "not null", and the guide gives no escape for `"`: a filter value
//! with any of them is refused, so an equality filter never silently becomes a pattern.
//!
//! Paging follows `responseInfo.nextPage.href` (an object): its `pageno` is the continuation
//! handed to the host. Every `oslc.orderBy` ends with the object's unique id, so pages are
//! stable (Maximo has no default order). The link itself is never followed: the next request
//! is rebuilt under the connection's base URL, so a link naming another host cannot send
//! anything elsewhere. A link that does not continue this collection (another origin than the
//! collection's own `href`, another object structure, a page number that does not move
//! forward) or an empty page that claims a next one is refused as a malformed answer, so a
//! misbehaving server cannot keep a caller paging forever.

use plantwire_sdk::contract::{ListRequest, Page};
use plantwire_sdk::query::PathQuery;
use plantwire_sdk::{AdapterError, UpstreamError};
use serde_json::Value;

use crate::describe::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::mapping::purchase_order::PO_STATUSES;
use crate::mapping::work_order::WO_STATUSES;
use crate::mapping::{self, accepted, field_error};
use crate::structures::Os;

/// How a unified filter becomes `oslc.where` conditions.
#[derive(Debug, Clone, Copy)]
pub enum FilterKind {
    /// `attr="value"`.
    Text(&'static str),
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
}

/// The filters each object structure supports: unified field and how it is pushed down.
pub fn filters(os: Os) -> &'static [(&'static str, FilterKind)] {
    use FilterKind::{ActiveIfStatus, ActiveUnlessFlag, ActiveUnlessStatus, Ref, Status, Text};
    match os {
        Os::WorkOrder => &[
            ("title", Text("description")),
            ("status", Status(WO_STATUSES)),
            ("nativeStatus", Text("status")),
            ("assetKey", Ref(&["assetnum", "siteid"])),
            ("locationKey", Ref(&["location", "siteid"])),
            ("siteKey", Text("siteid")),
            ("teamKey", Text("persongroup")),
        ],
        Os::Asset => &[
            ("name", Text("description")),
            ("siteKey", Text("siteid")),
            ("locationKey", Ref(&["location", "siteid"])),
            ("parentKey", Ref(&["parent", "siteid"])),
            ("serialNumber", Text("serialnum")),
            ("makeName", Text("manufacturer")),
            ("isActive", ActiveUnlessStatus("DECOMMISSIONED")),
            ("nativeStatus", Text("status")),
        ],
        Os::Po => &[
            ("orderNo", Text("ponum")),
            ("title", Text("description")),
            ("vendorKey", Ref(&["vendor", "orgid"])),
            ("siteKey", Text("siteid")),
            ("status", Status(PO_STATUSES)),
            ("nativeStatus", Text("status")),
        ],
        Os::Item => &[
            ("code", Text("itemnum")),
            ("name", Text("description")),
            ("uomKey", Text("issueunit")),
            ("isActive", ActiveIfStatus("ACTIVE")),
        ],
        Os::Inventory => &[
            ("materialKey", Ref(&["itemnum", "itemsetid"])),
            ("locationKey", Ref(&["location", "siteid"])),
        ],
        Os::Location => &[
            ("code", Text("location")),
            ("name", Text("description")),
            ("siteKey", Text("siteid")),
            ("isActive", ActiveUnlessStatus("DECOMMISSIONED")),
        ],
        Os::Vendor => &[
            ("code", Text("company")),
            ("name", Text("name")),
            ("isActive", ActiveUnlessFlag("disabled")),
        ],
    }
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

/// `value` as an OSLC quoted string; values Maximo would read as a pattern are refused.
pub fn quote(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err(
            "an empty value cannot be matched (Maximo compares quoted values only)".to_owned(),
        );
    }
    if value == "*" {
        return Err("`*` alone means \"has any value\" in oslc.where, not the text `*`".to_owned());
    }
    if value.contains('%') {
        return Err(
            "`%` is a wildcard in oslc.where; an equality filter cannot contain it".to_owned(),
        );
    }
    if value.contains('"') {
        return Err("oslc.where offers no escape for `\"` inside a quoted value".to_owned());
    }
    Ok(format!("\"{value}\""))
}

/// The `oslc.where` conditions of unified filter `field = value` on `os`.
pub fn conditions(os: Os, field: &str, value: &str) -> Result<Vec<String>, String> {
    let Some((_, kind)) = filters(os).iter().find(|(f, _)| *f == field) else {
        let list: Vec<String> = filters(os).iter().map(|(f, _)| format!("`{f}`")).collect();
        return Err(format!(
            "Maximo cannot filter {} by `{field}`; filterable: {}",
            os.entity(),
            list.join(", ")
        ));
    };
    let boolean = || match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("`{value}` is not `true` or `false`")),
    };
    Ok(match kind {
        FilterKind::Text(attr) => vec![format!("{attr}={}", quote(value)?)],
        FilterKind::Ref(attrs) => {
            let parts: Vec<&str> = value.split('/').collect();
            if parts.len() != attrs.len() || parts.iter().any(|p| p.is_empty()) {
                return Err(format!(
                    "`{value}` is not a key of the form {}",
                    attrs.join("/")
                ));
            }
            let mut out = Vec::new();
            for (attr, part) in attrs.iter().zip(parts) {
                out.push(format!("{attr}={}", quote(part)?));
            }
            out
        }
        FilterKind::Status(table) => {
            let natives: Vec<String> = table
                .iter()
                .filter(|(u, _)| *u == value)
                .map(|(_, n)| format!("\"{n}\""))
                .collect();
            if natives.is_empty() {
                return Err(format!("`{value}` is not one of {}", accepted(table)));
            }
            vec![format!("status in [{}]", natives.join(","))]
        }
        FilterKind::ActiveIfStatus(v) => {
            let op = if boolean()? { "=" } else { "!=" };
            vec![format!("status{op}\"{v}\"")]
        }
        FilterKind::ActiveUnlessStatus(v) => {
            let op = if boolean()? { "!=" } else { "=" };
            vec![format!("status{op}\"{v}\"")]
        }
        FilterKind::ActiveUnlessFlag(attr) => {
            let flag = if boolean()? { 0 } else { 1 };
            vec![format!("{attr}={flag}")]
        }
    })
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
    let mut conds = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (field, value) in &req.filters {
        if seen.contains(&field.as_str()) {
            errors.push(field_error(
                field,
                format!("`{field}` is filtered more than once; filters are equality"),
            ));
            continue;
        }
        seen.push(field);
        match conditions(os, field, value) {
            Ok(c) => conds.extend(c),
            Err(m) => errors.push(field_error(field, m)),
        }
    }
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
        .param("oslc.select", os.select())
        .param("oslc.pageSize", size)
        .param("oslc.orderBy", order.join(","));
    if !conds.is_empty() {
        q = q.param("oslc.where", conds.join(" and "));
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
pub fn parse_page(os: Os, body: &[u8], page: u32) -> Result<Page, AdapterError> {
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
        records.push(mapping::to_unified(os, m));
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

    #[test]
    fn filters_become_oslc_where_with_quoting() {
        let mut r = req("work-order");
        r.filters = vec![
            ("status".into(), "open".into()),
            ("assetKey".into(), "11430/BEDFORD".into()),
            ("teamKey".into(), "MECH".into()),
        ];
        r.sort = Some("-updatedAt".into());
        let (path, page) = build(Os::WorkOrder, &r).unwrap();
        assert_eq!(page, 1);
        assert!(
            path.contains("oslc.orderBy=-changedate%2C%2Bworkorderid"),
            "{path}"
        );
        assert_eq!(
            decoded(&path),
            format!(
                "/os/mxapiwo?lean=1&oslc.select={}&oslc.pageSize=50&oslc.orderBy=-changedate,+workorderid\
                 &oslc.where=status in [\"WAPPR\",\"APPR\",\"WSCH\"] and assetnum=\"11430\" and siteid=\"BEDFORD\" and persongroup=\"MECH\"\
                 &collectioncount=1",
                Os::WorkOrder.select()
            )
        );
        let mut r = req("vendor");
        r.filters = vec![("isActive".into(), "false".into())];
        r.cursor = Some("3".into());
        r.page_size = 5000;
        let (path, page) = build(Os::Vendor, &r).unwrap();
        assert_eq!(page, 3);
        let path = decoded(&path);
        assert!(path.contains("oslc.where=disabled=1&pageno=3"), "{path}");
        assert!(path.contains("oslc.pageSize=1000"), "{path}");
    }

    #[test]
    fn values_maximo_would_read_as_patterns_are_refused() {
        for value in ["50%", "*", "say \"hi\"", ""] {
            let mut r = req("work-order");
            r.filters = vec![("title".into(), value.into())];
            assert_eq!(
                invalid_fields(build(Os::WorkOrder, &r).unwrap_err()),
                vec!["title"],
                "{value}"
            );
        }
        let mut r = req("work-order");
        r.filters = vec![
            ("severity".into(), "high".into()),
            ("status".into(), "done".into()),
            ("assetKey".into(), "11430".into()),
        ];
        r.sort = Some("description".into());
        r.cursor = Some("abc".into());
        assert_eq!(
            invalid_fields(build(Os::WorkOrder, &r).unwrap_err()),
            vec!["cursor", "severity", "status", "assetKey", "description"]
        );
    }

    #[test]
    fn filters_and_sorts_match_the_declared_flags() {
        for os in Os::ALL {
            let e = describe::entity(os);
            for f in &e.fields {
                let has_filter = filters(os).iter().any(|(x, _)| *x == f.name);
                assert_eq!(
                    f.flags.filterable, has_filter,
                    "{}.{} filterable",
                    e.name, f.name
                );
                let has_sort = sorts(os).iter().any(|(u, _)| *u == f.name);
                assert_eq!(f.flags.sortable, has_sort, "{}.{} sortable", e.name, f.name);
            }
            for (x, _) in filters(os) {
                assert!(e.field(x).is_some(), "{}.{x} declared", e.name);
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
        let page = parse_page(Os::WorkOrder, body.to_string().as_bytes(), 1).unwrap();
        assert_eq!(page.next_cursor.as_deref(), Some("2"));
        assert_eq!(page.total, Some(240));
        assert_eq!(
            page.records,
            vec![r#"{"key":"BEDFORD/1001","siteKey":"BEDFORD","concurrencyToken":"5"}"#.to_owned()]
        );
        let last = json!({"member": [], "responseInfo": {"pagenum": 3}});
        let page = parse_page(Os::WorkOrder, last.to_string().as_bytes(), 3).unwrap();
        assert!(page.next_cursor.is_none() && page.records.is_empty());
        assert_eq!(
            parse_page(Os::WorkOrder, b"{}", 1).unwrap_err().kind(),
            "upstream"
        );
        assert_eq!(
            parse_page(Os::WorkOrder, b"<html>", 1).unwrap_err().kind(),
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
            parse_page(Os::WorkOrder, ok.as_bytes(), 2)
                .unwrap()
                .next_cursor
                .as_deref(),
            Some("3")
        );
        let relative = page_with(json!({"href": "/maximo/oslc/os/mxapiwo?pageno=3"}));
        assert!(parse_page(Os::WorkOrder, relative.as_bytes(), 2).is_ok());
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
            let err = parse_page(Os::WorkOrder, page_with(next.clone()).as_bytes(), 2).unwrap_err();
            assert_eq!(err.kind(), "upstream", "{next}");
            assert!(err.to_string().contains(why), "{next}: {err}");
        }
        let empty =
            json!({"member": [], "responseInfo": {"nextPage": {"href": "/os/mxapiwo?pageno=2"}}});
        let err = parse_page(Os::WorkOrder, empty.to_string().as_bytes(), 1).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        for members in [
            json!([1, "x"]),
            json!([{"href": "h", "wonum": "1"}]),
            json!({}),
        ] {
            let body = json!({"member": members}).to_string();
            assert_eq!(
                parse_page(Os::WorkOrder, body.as_bytes(), 1)
                    .unwrap_err()
                    .kind(),
                "upstream",
                "{members}"
            );
        }
    }
}
