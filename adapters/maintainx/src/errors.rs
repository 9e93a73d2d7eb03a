//! MaintainX error responses → the contract's typed errors.
//!
//! What the spec documents:
//!
//! * `400 {"errors":[{"error","fieldPath","fieldValue"}]}` (write validation) → `invalid`, the
//!   `fieldPath` translated back to unified field names (`priority` → `severity`,
//!   `items[0].partId` → `lineItems[0].materialKey`); an entry without a path is reported on
//!   `(request)`. The one 400 that is not the caller's input, "Missing x-organization-id
//!   header." (a multi-organization API key), is `upstream` with a hint.
//! * `400 {"error": "..."}` (query errors) → `invalid` on `(request)`.
//! * `401` "Invalid token" (no body) → `unauthorized`; `403` (e.g. "Failed to update the
//!   Purchase Order": permissions or workflow state) → `forbidden`; `404` → `not-found`.
//! * `429` → `rate-limited`, retry after `X-Rate-Limit-Reset` seconds, or the "retry in N
//!   seconds" of the body.
//! * `502`/`503`/`504` → `transient`; anything else → `upstream` with status and message.
//!
//! Messages are built from the response status and body only; nothing of the request (and so
//! none of its headers) can end up in them.

use plantwire_sdk::{AdapterError, FieldError, Response, UpstreamError};
use serde_json::Value;

use crate::resources::Resource;

/// The longest message taken from a response body.
const MAX_MESSAGE: usize = 300;

/// The typed error for a non-2xx MaintainX response to a request on `res`.
pub fn from_response(res: Resource, resp: &Response) -> AdapterError {
    let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let message = message_of(resp, body.as_ref());
    match resp.status {
        400 => bad_request(res, body.as_ref(), message),
        401 => AdapterError::Unauthorized(format!("MaintainX refused the API key: {message}")),
        403 => AdapterError::Forbidden(message),
        404 => AdapterError::NotFound(message),
        409 => AdapterError::Conflict(message),
        429 => AdapterError::RateLimited(retry_after_ms(resp, &message)),
        502..=504 => {
            AdapterError::Transient(format!("MaintainX answered {}: {message}", resp.status))
        }
        status => AdapterError::Upstream(UpstreamError {
            status,
            code: None,
            message,
        }),
    }
}

/// The human message of an error body: `error`, or the `errors[].error` joined, or the text.
fn message_of(resp: &Response, body: Option<&Value>) -> String {
    if let Some(body) = body {
        if let Some(m) = body.get("error").and_then(Value::as_str) {
            return truncate(m);
        }
        if let Some(list) = body.get("errors").and_then(Value::as_array) {
            let joined: Vec<&str> = list
                .iter()
                .filter_map(|e| e.get("error").and_then(Value::as_str))
                .collect();
            if !joined.is_empty() {
                return truncate(&joined.join("; "));
            }
        }
        if let Some(m) = body.get("message").and_then(Value::as_str) {
            return truncate(m);
        }
    }
    let text = resp.text();
    let text = text.trim();
    if text.is_empty() {
        match resp.status {
            401 => "Invalid token".to_owned(),
            429 => "Too many requests".to_owned(),
            status => format!("HTTP {status} with an empty body"),
        }
    } else {
        truncate(text)
    }
}

fn truncate(text: &str) -> String {
    if text.len() <= MAX_MESSAGE {
        return text.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn bad_request(res: Resource, body: Option<&Value>, message: String) -> AdapterError {
    if message.contains("x-organization-id") {
        return AdapterError::Upstream(UpstreamError {
            status: 400,
            code: None,
            message: format!(
                "{message} (the connection's API key spans several organizations: MaintainX \
                 needs the x-organization-id header for it)"
            ),
        });
    }
    let Some(body) = body else {
        return AdapterError::Upstream(UpstreamError {
            status: 400,
            code: None,
            message,
        });
    };
    let Some(list) = body.get("errors").and_then(Value::as_array) else {
        return AdapterError::invalid("(request)", message);
    };
    let errors: Vec<FieldError> = list
        .iter()
        .map(|e| {
            let text = e
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("rejected by MaintainX");
            let path = e
                .get("fieldPath")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty());
            let message = match e.get("fieldValue") {
                Some(Value::String(s)) => truncate(&format!("{text} (got `{s}`)")),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                    truncate(&format!("{text} (got `{v}`)"))
                }
                _ => truncate(text),
            };
            match path {
                // MaintainX's `assignees` holds both the users and the team of a work order.
                Some(p) if res == Resource::WorkOrder && p.starts_with("assignees") => FieldError {
                    field: "assigneeKeys".to_owned(),
                    message: format!(
                        "{message} (at MaintainX `{p}`; assignees holds both assigneeKeys and \
                         teamKey)"
                    ),
                },
                Some(p) => FieldError {
                    field: unified_path(res, p),
                    message,
                },
                None => FieldError {
                    field: "(request)".to_owned(),
                    message,
                },
            }
        })
        .collect();
    if errors.is_empty() {
        AdapterError::invalid("(request)", message)
    } else {
        AdapterError::Invalid(errors)
    }
}

/// Native field names → unified ones, per resource.
fn unified_field(res: Resource, native: &str) -> Option<&'static str> {
    let table: &[(&str, &str)] = match res {
        Resource::WorkOrder => &[
            ("title", "title"),
            ("description", "description"),
            ("status", "status"),
            ("priority", "severity"),
            ("assetId", "assetKey"),
            ("locationId", "locationKey"),
            ("assignees", "assigneeKeys"),
            ("startDate", "scheduledAt"),
            ("dueDate", "dueAt"),
            ("extraFields", "customFields"),
        ],
        Resource::Asset => &[
            ("name", "name"),
            ("description", "description"),
            ("locationId", "locationKey"),
            ("parentId", "parentKey"),
            ("serialNumber", "serialNumber"),
            ("manufacturer", "makeName"),
            ("model", "modelName"),
            ("extraFields", "customFields"),
        ],
        Resource::PurchaseOrder => &[
            ("overrideNumber", "orderNo"),
            ("title", "title"),
            ("vendorId", "vendorKey"),
            ("status", "status"),
            ("reviewNote", "reviewNote"),
            ("dueDate", "dueAt"),
            ("items", "lineItems"),
            ("extraFields", "customFields"),
        ],
        Resource::Part => &[
            ("name", "name"),
            ("description", "description"),
            ("unitCost", "unitCost"),
            ("extraFields", "customFields"),
        ],
        Resource::Location => &[
            ("name", "name"),
            ("description", "description"),
            ("address", "address"),
            ("parentId", "parentKey"),
            ("extraFields", "customFields"),
        ],
        Resource::Vendor => &[
            ("name", "name"),
            ("description", "description"),
            ("emails", "email"),
            ("phoneNumbers", "phone"),
            ("extraFields", "customFields"),
        ],
        Resource::User => &[
            ("firstName", "name"),
            ("lastName", "name"),
            ("email", "email"),
            ("phoneNumber", "phone"),
            ("extraFields", "customFields"),
        ],
    };
    table.iter().find(|(n, _)| *n == native).map(|(_, u)| *u)
}

/// Purchase order item fields → unified line item fields.
fn unified_item_field(native: &str) -> Option<&'static str> {
    match native {
        "id" => Some("key"),
        "partId" => Some("materialKey"),
        "name" => Some("description"),
        "quantityOrdered" => Some("quantity"),
        "unitCost" => Some("price"),
        _ => None,
    }
}

/// Translates a MaintainX `fieldPath` (`priority`, `items[0].partId`, `items.0.partId`) into
/// the unified field path; unknown names are kept as MaintainX spelled them.
pub fn unified_path(res: Resource, path: &str) -> String {
    let split = path.find(['.', '[']).unwrap_or(path.len());
    let (head, rest) = path.split_at(split);
    let Some(unified) = unified_field(res, head) else {
        return path.to_owned();
    };
    if res == Resource::PurchaseOrder && head == "items" && !rest.is_empty() {
        let rest = rest.trim_start_matches(['.', '[']);
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (index, sub) = rest.split_at(digits);
        let sub = sub.trim_start_matches([']', '.']);
        if !index.is_empty() {
            return match (sub.is_empty(), unified_item_field(sub)) {
                (true, _) => format!("lineItems[{index}]"),
                (false, Some(item)) => format!("lineItems[{index}].{item}"),
                (false, None) => format!("lineItems[{index}].{sub}"),
            };
        }
    }
    if rest.is_empty() {
        unified.to_owned()
    } else {
        format!("{unified}{rest}")
    }
}

/// Milliseconds to wait after a 429: `X-Rate-Limit-Reset` (seconds), else the "retry in N
/// seconds" of the message.
fn retry_after_ms(resp: &Response, message: &str) -> Option<u64> {
    let from_header = resp
        .header("x-rate-limit-reset")
        .and_then(|v| v.trim().parse::<f64>().ok());
    let from_body = || {
        let lower = message.to_ascii_lowercase();
        let after = &lower[lower.find("retry in ")? + "retry in ".len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(after.len());
        after[..end].parse::<f64>().ok()
    };
    let seconds = from_header.or_else(from_body)?;
    if !(0.0..=86_400.0).contains(&seconds) {
        return None;
    }
    Some((seconds * 1000.0).ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn validation_errors_name_unified_fields() {
        let e = from_response(
            Resource::WorkOrder,
            &resp(
                400,
                r#"{"errors":[{"error":"Invalid priority","fieldPath":"priority","fieldValue":"Happy Birthday"},{"error":"Invalid dueDate","fieldPath":"dueDate","fieldValue":null},{"error":"procedure is invalid"}]}"#,
            ),
        );
        let AdapterError::Invalid(errors) = e else {
            panic!("expected invalid, got {e:?}")
        };
        assert_eq!(errors[0].field, "severity");
        assert_eq!(errors[0].message, "Invalid priority (got `Happy Birthday`)");
        assert_eq!(errors[1].field, "dueAt");
        assert_eq!(errors[2].field, "(request)");

        let e = from_response(
            Resource::WorkOrder,
            &resp(
                400,
                r#"{"errors":[{"error":"id is not valid","fieldPath":"assignees[1].id","fieldValue":5}]}"#,
            ),
        );
        let AdapterError::Invalid(errors) = e else {
            panic!("expected invalid, got {e:?}")
        };
        assert_eq!(errors[0].field, "assigneeKeys");
        assert!(errors[0].message.contains("assignees[1].id"));
    }

    #[test]
    fn line_item_paths_are_translated() {
        let p = |path| unified_path(Resource::PurchaseOrder, path);
        assert_eq!(p("items[0].partId"), "lineItems[0].materialKey");
        assert_eq!(p("items.2.quantityOrdered"), "lineItems[2].quantity");
        assert_eq!(p("items[1]"), "lineItems[1]");
        assert_eq!(
            p("items[1].lineExtraFields"),
            "lineItems[1].lineExtraFields"
        );
        assert_eq!(p("vendorId"), "vendorKey");
        assert_eq!(p("shippingAddress.city"), "shippingAddress.city");
        assert_eq!(unified_path(Resource::User, "lastName"), "name");
        assert_eq!(unified_path(Resource::Asset, "parentId"), "parentKey");
    }

    #[test]
    fn query_errors_and_missing_organization() {
        let e = from_response(
            Resource::Part,
            &resp(400, r#"{"error":"limit must be <= 200"}"#),
        );
        assert_eq!(
            e,
            AdapterError::invalid("(request)", "limit must be <= 200")
        );
        let e = from_response(
            Resource::WorkOrder,
            &resp(
                400,
                r#"{"errors":[{"error":"Missing x-organization-id header."}]}"#,
            ),
        );
        let AdapterError::Upstream(u) = e else {
            panic!("expected upstream, got {e:?}")
        };
        assert_eq!(u.status, 400);
        assert!(u.message.contains("x-organization-id"));
        let e = from_response(Resource::WorkOrder, &resp(400, "<html>Bad Request</html>"));
        assert_eq!(e.kind(), "upstream");
    }

    #[test]
    fn status_codes_map_to_kinds() {
        let cases = [
            (401, "", "unauthorized"),
            (
                403,
                r#"{"errors":[{"error":"User doesn't have the right permissions"}]}"#,
                "forbidden",
            ),
            (404, r#"{"error":"Work Order Not Found"}"#, "not-found"),
            (409, r#"{"error":"conflict"}"#, "conflict"),
            (500, r#"{"error":"Internal server error."}"#, "upstream"),
            (502, "<html>Bad gateway</html>", "transient"),
            (503, "", "transient"),
            (504, "", "transient"),
            (418, "teapot", "upstream"),
        ];
        for (status, body, kind) in cases {
            assert_eq!(
                from_response(Resource::WorkOrder, &resp(status, body)).kind(),
                kind,
                "{status}"
            );
        }
        assert_eq!(
            from_response(Resource::WorkOrder, &resp(401, "")),
            AdapterError::Unauthorized("MaintainX refused the API key: Invalid token".into())
        );
        assert_eq!(
            from_response(
                Resource::PurchaseOrder,
                &resp(
                    403,
                    r#"{"errors":[{"error":"User doesn't have the right permissions"}]}"#
                )
            ),
            AdapterError::Forbidden("User doesn't have the right permissions".into())
        );
        assert_eq!(
            from_response(
                Resource::WorkOrder,
                &resp(500, r#"{"error":"Internal server error."}"#)
            ),
            AdapterError::Upstream(UpstreamError {
                status: 500,
                code: None,
                message: "Internal server error.".into()
            })
        );
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        let mut r = resp(
            429,
            r#"{"error":"Too many requests. Please retry in 10 seconds"}"#,
        );
        assert_eq!(
            from_response(Resource::WorkOrder, &r),
            AdapterError::RateLimited(Some(10_000))
        );
        r.headers.push(("X-Rate-Limit-Reset".into(), "3".into()));
        assert_eq!(
            from_response(Resource::WorkOrder, &r),
            AdapterError::RateLimited(Some(3_000))
        );
        let r = resp(429, "");
        assert_eq!(
            from_response(Resource::WorkOrder, &r),
            AdapterError::RateLimited(None)
        );
    }

    #[test]
    fn long_bodies_are_truncated() {
        let body = "é".repeat(400);
        let AdapterError::Upstream(u) = from_response(Resource::Asset, &resp(500, &body)) else {
            panic!("expected upstream")
        };
        assert!(u.message.len() <= MAX_MESSAGE + 3);
    }
}
