//! Maximo error responses → the contract's typed errors.
//!
//! Maximo answers errors with `{"Error": {"reasonCode", "message", "errorattrname",
//! "errorobjpath", "statusCode" (a string), "extendedError"}}` (IBM REST API guide). The
//! mapping depends on the status and on what was being done:
//!
//! * `400` with `errorattrname` → `invalid` on the unified field of that attribute (the
//!   attribute's own name when no unified field carries it); a refused status transition of
//!   the change-status action, or a business rule refusing a delete, → `conflict` with
//!   Maximo's message; a refused page size on a list → `invalid` on `pageSize`; another 400 →
//!   `invalid` on `(request)`.
//! * `401` → `unauthorized`; `403` → `forbidden`; `404` → `not-found`.
//! * `409` (a `transactionid` already processed) → `conflict`; `412` (a stale `If-Match`) →
//!   `conflict`.
//! * `429` → `rate-limited` (after `Retry-After` seconds when sent); `502`–`504` →
//!   `transient`; anything else → `upstream` with the status, the reason code and the message.
//!
//! Messages come from the response only; nothing of the request can end up in them.

use plantwire_sdk::{AdapterError, FieldError, Response, UpstreamError};
use serde_json::Value;

use crate::structures::Os;

/// The longest message taken from a response body.
const MAX_MESSAGE: usize = 400;

/// What the failed request was doing (decides what a 400 means).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doing {
    List,
    Read,
    Write,
    Delete,
    ChangeStatus,
}

/// The `Error` object of a Maximo error body, if there is one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaximoError {
    pub reason: Option<String>,
    pub message: String,
    pub attr: Option<String>,
}

impl MaximoError {
    /// Reads `{"Error": {...}}` from `body`; the text of the body when it is not one.
    pub fn parse(body: &[u8]) -> MaximoError {
        let v: Option<Value> = serde_json::from_slice(body).ok();
        let e = v.as_ref().and_then(|v| v.get("Error"));
        let text = |k: &str| {
            e.and_then(|e| e.get(k))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let message = text("message").unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(body);
            if raw.trim().is_empty() {
                "(no message)".to_owned()
            } else {
                raw.into_owned()
            }
        });
        MaximoError {
            reason: text("reasonCode"),
            message: truncate(&message),
            attr: text("errorattrname").map(|a| a.to_ascii_lowercase()),
        }
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_MESSAGE {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX_MESSAGE).collect();
    out.push('…');
    out
}

/// The unified field an attribute of `os` maps to, when there is one.
pub fn unified_field(os: Os, attr: &str) -> Option<&'static str> {
    let table: &[(&str, &str)] = match os {
        Os::WorkOrder => &[
            ("description", "title"),
            ("description_longdescription", "description"),
            ("status", "status"),
            ("assetnum", "assetKey"),
            ("location", "locationKey"),
            ("siteid", "siteKey"),
            ("persongroup", "teamKey"),
            ("schedstart", "scheduledAt"),
            ("targcompdate", "dueAt"),
        ],
        Os::Asset => &[
            ("description", "name"),
            ("description_longdescription", "description"),
            ("siteid", "siteKey"),
            ("location", "locationKey"),
            ("parent", "parentKey"),
            ("serialnum", "serialNumber"),
            ("manufacturer", "makeName"),
        ],
        Os::Po => &[
            ("ponum", "orderNo"),
            ("description", "title"),
            ("vendor", "vendorKey"),
            ("siteid", "siteKey"),
            ("status", "status"),
            ("orderdate", "orderDate"),
            ("requireddate", "dueAt"),
            ("currencycode", "currencyKey"),
            ("poline", "lineItems"),
            ("itemnum", "lineItems"),
            ("orderqty", "lineItems"),
            ("unitcost", "lineItems"),
            ("polinenum", "lineItems"),
        ],
        Os::Item => &[
            ("itemnum", "code"),
            ("description", "name"),
            ("description_longdescription", "description"),
            ("issueunit", "uomKey"),
        ],
        Os::Inventory => &[
            ("itemnum", "materialKey"),
            ("itemsetid", "materialKey"),
            ("location", "locationKey"),
            ("siteid", "locationKey"),
        ],
        Os::Location => &[
            ("location", "code"),
            ("description", "name"),
            ("siteid", "siteKey"),
        ],
        Os::Vendor => &[
            ("company", "code"),
            ("name", "name"),
            ("phone1", "phone"),
            ("address1", "address"),
            ("disabled", "isActive"),
        ],
    };
    table.iter().find(|(a, _)| *a == attr).map(|(_, u)| *u)
}

/// The typed error for a non-2xx Maximo response to a request on `os`.
pub fn from_response(os: Os, doing: Doing, resp: &Response) -> AdapterError {
    let e = MaximoError::parse(&resp.body);
    let described = match &e.reason {
        Some(code) if !e.message.contains(code.as_str()) => format!("{code} - {}", e.message),
        _ => e.message.clone(),
    };
    match resp.status {
        400 => bad_request(os, doing, e, described),
        401 => AdapterError::Unauthorized(format!("Maximo refused the credentials: {described}")),
        403 => AdapterError::Forbidden(described),
        404 => AdapterError::NotFound(described),
        409 => AdapterError::Conflict(format!(
            "Maximo already processed a request with this transactionid (a duplicate of a \
             committed write): {described}"
        )),
        412 => AdapterError::Conflict(format!(
            "the record changed since the concurrency token was read (If-Match is stale): \
             {described}"
        )),
        429 => AdapterError::RateLimited(
            resp.header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| s.saturating_mul(1000)),
        ),
        502..=504 => {
            AdapterError::Transient(format!("Maximo answered {}: {described}", resp.status))
        }
        status => AdapterError::Upstream(UpstreamError {
            status,
            code: e.reason,
            message: e.message,
        }),
    }
}

fn bad_request(os: Os, doing: Doing, e: MaximoError, described: String) -> AdapterError {
    match doing {
        Doing::ChangeStatus | Doing::Delete => return AdapterError::Conflict(described),
        Doing::List => {
            let field = if described.to_ascii_lowercase().contains("page size") {
                "pageSize"
            } else {
                "(query)"
            };
            return AdapterError::invalid(field, described);
        }
        Doing::Read | Doing::Write => {}
    }
    let field = match e.attr.as_deref() {
        Some(attr) => unified_field(os, attr).unwrap_or(attr).to_owned(),
        None => "(request)".to_owned(),
    };
    // A status change refused inside an update is a state conflict too.
    if field == "status" && e.reason.is_some() {
        return AdapterError::Conflict(described);
    }
    AdapterError::Invalid(vec![FieldError {
        field,
        message: described,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resp(status: u16, body: Value) -> Response {
        Response {
            status,
            headers: vec![("retry-after".into(), "7".into())],
            body: body.to_string().into_bytes(),
        }
    }

    fn error(code: Option<&str>, message: &str, attr: Option<&str>) -> Value {
        json!({"Error": {"reasonCode": code, "message": message, "errorattrname": attr,
                         "statusCode": "400", "correlationid": null}})
    }

    #[test]
    fn attribute_errors_name_the_unified_field() {
        let r = resp(
            400,
            error(
                Some("BMXAA4153E"),
                "BMXAA4153E - BEDFORDXXYY is not a valid site.",
                Some("siteid"),
            ),
        );
        match from_response(Os::WorkOrder, Doing::Write, &r) {
            AdapterError::Invalid(errors) => {
                assert_eq!(errors[0].field, "siteKey");
                assert!(errors[0].message.contains("BMXAA4153E"));
            }
            other => panic!("{other:?}"),
        }
        let r = resp(400, error(None, "nope", Some("binnum")));
        match from_response(Os::Inventory, Doing::Write, &r) {
            AdapterError::Invalid(errors) => assert_eq!(errors[0].field, "binnum"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn statuses_map_by_what_was_being_done() {
        let transition = resp(
            400,
            error(
                Some("BMXAA4679E"),
                "cannot go from COMP to APPR",
                Some("status"),
            ),
        );
        match from_response(Os::WorkOrder, Doing::ChangeStatus, &transition) {
            AdapterError::Conflict(m) => assert!(m.starts_with("BMXAA4679E - "), "{m}"),
            other => panic!("{other:?}"),
        }
        let page = resp(
            400,
            error(
                None,
                "The requested page size 1000 exceeds the maximum page size 200",
                None,
            ),
        );
        match from_response(Os::WorkOrder, Doing::List, &page) {
            AdapterError::Invalid(e) => assert_eq!(e[0].field, "pageSize"),
            other => panic!("{other:?}"),
        }
        let delete = resp(400, error(None, "only WAPPR can be deleted", None));
        assert_eq!(
            from_response(Os::Po, Doing::Delete, &delete).kind(),
            "conflict"
        );
        for (status, kind) in [
            (401, "unauthorized"),
            (403, "forbidden"),
            (404, "not-found"),
            (409, "conflict"),
            (412, "conflict"),
            (503, "transient"),
            (500, "upstream"),
        ] {
            assert_eq!(
                from_response(Os::Asset, Doing::Read, &resp(status, json!({}))).kind(),
                kind
            );
        }
        assert_eq!(
            from_response(Os::Asset, Doing::Read, &resp(429, json!({}))),
            AdapterError::RateLimited(Some(7000))
        );
        let html = Response {
            status: 500,
            headers: vec![],
            body: b"<html>oops</html>".to_vec(),
        };
        match from_response(Os::Asset, Doing::Read, &html) {
            AdapterError::Upstream(u) => assert_eq!(u.message, "<html>oops</html>"),
            other => panic!("{other:?}"),
        }
    }
}
