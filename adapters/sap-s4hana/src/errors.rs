//! SAP's answers → the contract's typed errors.
//!
//! * `400` with SAP's error body: `invalid`, each `errordetails` entry with a `propertyref`
//!   reported on the unified field it maps to (`MaintenanceOrderDesc` → `title`), the rest on
//!   `(request)`, every message prefixed with SAP's code (`BS/013: System status …`). Callers
//!   turn a `400` into a `conflict` where SAP refuses a state (status function imports, a
//!   released purchase order).
//! * `401` (logon refused, unknown `sap-client`) → `unauthorized`; `403` → `forbidden` (the
//!   CSRF `Required` answer is handled by the client before it gets here); `404` →
//!   `not-found`; `405` / `501` (an operation the entity set does not offer) → `unsupported`;
//!   `409` → `conflict`; `412` (stale ETag) and `428` (missing `If-Match`) → `conflict`;
//!   `429` → `rate-limited` (honouring `Retry-After`); `502`–`504` → `transient`; others →
//!   `upstream` with SAP's code and message.
//!
//! Messages come from the response only; nothing of the request ends up in them.

use plantwire_sdk::{AdapterError, FieldError, Level, Response, UpstreamError, log};

use crate::mapping::unified_field;
use crate::odata::{error_body, sap_messages};
use crate::resources::Resource;

const MAX_MESSAGE: usize = 400;

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

/// SAP's code and message of an error answer (the text of an HTML error page otherwise).
pub fn code_and_message(resp: &Response) -> (Option<String>, String) {
    if let Some(e) = error_body(&resp.body) {
        let message = e.message.unwrap_or_else(|| format!("HTTP {}", resp.status));
        return (e.code, truncate(&message));
    }
    let text = resp.text();
    // The ICF answers logon errors and gateway timeouts with HTML: keep the visible text.
    let mut visible = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                visible.push(' ');
            }
            c if !in_tag => visible.push(c),
            _ => {}
        }
    }
    let visible = visible.split_whitespace().collect::<Vec<_>>().join(" ");
    if visible.is_empty() {
        (None, format!("HTTP {} with an empty body", resp.status))
    } else {
        (None, truncate(&visible))
    }
}

/// `code: message` (or the message alone).
pub fn describe(code: Option<&str>, message: &str) -> String {
    match code {
        Some(code) if !code.is_empty() => format!("{code}: {message}"),
        _ => message.to_owned(),
    }
}

/// The typed error for a non-2xx SAP answer to a request about `res`.
pub fn from_response(res: Resource, resp: &Response) -> AdapterError {
    let (code, message) = code_and_message(resp);
    let text = describe(code.as_deref(), &message);
    match resp.status {
        400 => invalid(res, resp, &text),
        401 => AdapterError::Unauthorized(format!("SAP refused the logon: {text}")),
        403 => AdapterError::Forbidden(format!("SAP refused the request: {text}")),
        404 => AdapterError::NotFound(text),
        405 | 501 => {
            AdapterError::Unsupported(format!("SAP does not offer this operation: {text}"))
        }
        409 => AdapterError::Conflict(text),
        412 => AdapterError::Conflict(format!(
            "the {} changed since the concurrency token was read (SAP answered 412: {text}); read it again",
            res.entity()
        )),
        428 => AdapterError::Conflict(format!(
            "SAP requires the record's ETag in If-Match (428: {text}); read the record and retry with its concurrencyToken"
        )),
        429 => AdapterError::RateLimited(
            resp.header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| s.saturating_mul(1000)),
        ),
        502..=504 => AdapterError::Transient(format!("SAP answered {}: {text}", resp.status)),
        status => AdapterError::Upstream(UpstreamError {
            status,
            code,
            message,
        }),
    }
}

fn invalid(res: Resource, resp: &Response, text: &str) -> AdapterError {
    let Some(body) = error_body(&resp.body) else {
        return AdapterError::invalid("(request)", text);
    };
    let mut errors: Vec<FieldError> = body
        .details
        .iter()
        .filter(|(_, _, property)| !property.is_empty())
        .map(|(code, message, property)| FieldError {
            field: unified_field(res, property).unwrap_or_else(|| format!("(SAP {property})")),
            message: truncate(&describe(Some(code), message)),
        })
        .collect();
    if errors.is_empty() {
        errors.push(FieldError {
            field: "(request)".to_owned(),
            message: text.to_owned(),
        });
    }
    AdapterError::Invalid(errors)
}

/// A `400` that means SAP refused the record's state: a `conflict` with SAP's message.
pub fn conflict(resp: &Response) -> AdapterError {
    let (code, message) = code_and_message(resp);
    AdapterError::Conflict(describe(code.as_deref(), &message))
}

/// Logs the `sap-message` header of a successful answer (warnings at warn level).
pub fn log_messages(resp_header: Option<&str>) {
    let Some(header) = resp_header else { return };
    for (severity, code, message) in sap_messages(header) {
        let level = match severity.as_str() {
            "error" | "warning" => Level::Warn,
            _ => Level::Info,
        };
        log(level, &format!("SAP: {}", describe(Some(&code), &message)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("retry-after".into(), "3".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn maps_statuses() {
        let body = r#"{"error":{"code":"/IWBEP/CM_MGW_RT/022","message":{"lang":"en","value":"Make an entry in all required fields"},"innererror":{"errordetails":[{"code":"X/1","message":"Enter a value for MaintenanceOrderDesc","propertyref":"MaintenanceOrderDesc"},{"code":"X/2","message":"Type","propertyref":"MaintenanceOrderType"}]}}}"#;
        match from_response(Resource::WorkOrder, &resp(400, body)) {
            AdapterError::Invalid(e) => {
                assert_eq!(e[0].field, "title");
                assert_eq!(e[1].field, "customFields.MaintenanceOrderType");
                assert!(e[0].message.starts_with("X/1: "));
            }
            other => panic!("{other:?}"),
        }
        let status = r#"{"error":{"code":"BS/013","message":{"lang":"en","value":"System status TECO is active (ORD 4000001)"}}}"#;
        assert_eq!(
            conflict(&resp(400, status)),
            AdapterError::Conflict("BS/013: System status TECO is active (ORD 4000001)".into())
        );
        assert_eq!(
            from_response(Resource::WorkOrder, &resp(404, "{}")).kind(),
            "not-found"
        );
        assert_eq!(
            from_response(Resource::WorkOrder, &resp(412, "{}")).kind(),
            "conflict"
        );
        assert_eq!(
            from_response(Resource::WorkOrder, &resp(428, "{}")).kind(),
            "conflict"
        );
        assert_eq!(
            from_response(Resource::WorkOrder, &resp(501, "{}")).kind(),
            "unsupported"
        );
        assert_eq!(
            from_response(Resource::WorkOrder, &resp(429, "")),
            AdapterError::RateLimited(Some(3000))
        );
        assert_eq!(
            from_response(Resource::WorkOrder, &resp(503, "<html>down</html>")).kind(),
            "transient"
        );
        match from_response(
            Resource::WorkOrder,
            &resp(
                401,
                "<html><body><p>Client 999 is not available in this system</p></body></html>",
            ),
        ) {
            AdapterError::Unauthorized(m) => {
                assert!(m.contains("Client 999 is not available"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        match from_response(
            Resource::WorkOrder,
            &resp(
                500,
                r#"{"error":{"code":"C/1","message":{"lang":"en","value":"dump"}}}"#,
            ),
        ) {
            AdapterError::Upstream(u) => {
                assert_eq!((u.status, u.code.as_deref()), (500, Some("C/1")))
            }
            other => panic!("{other:?}"),
        }
    }
}
