//! OData V2 as SAP Gateway speaks it: URI literals and key predicates, `/Date(ms)/` dates,
//! decimals as strings, the JSON envelope (`d`, `d.results`, `__count`, `__next`,
//! `__metadata.etag`), the error body and the `sap-message` header, and `$batch` bodies.
//!
//! Everything here is pure and tested natively.

use plantwire_sdk::dates;
use serde_json::{Map, Value};

// ------------------------------------------------------------------------------ literals

/// A string URI literal: `'text'` with a quote doubled.
pub fn string_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Percent-encodes text for a path segment or a query value (RFC 3986 unreserved characters
/// and the OData punctuation SAP reads unencoded — `'`, `(`, `)`, `,`, `=`, `$` — pass).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'\''
            | b'('
            | b')'
            | b','
            | b'='
            | b'$'
            | b':' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query string from `(name, value)` pairs, values encoded.
pub fn query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `datetime'2024-03-01T00:00:00'` for epoch milliseconds (SAP's `Edm.DateTime` literal).
pub fn datetime_literal(ms: i64) -> Option<String> {
    let text = dates::from_unix_millis(ms)?;
    Some(format!("datetime'{}'", text.get(..19)?))
}

/// `datetimeoffset'2024-03-01T08:00:00Z'` for an RFC 3339 timestamp.
pub fn datetimeoffset_literal(rfc3339: &str) -> Option<String> {
    let utc = dates::to_utc(rfc3339)?;
    Some(format!("datetimeoffset'{utc}'"))
}

// --------------------------------------------------------------------------------- dates

/// `/Date(1700697600000)/` or `/Date(1700697600000+0000)/` as epoch milliseconds (the number
/// is UTC; the offset only records the zone it was entered in).
pub fn wire_ms(text: &str) -> Option<i64> {
    let inner = text.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let digits_end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(i, _)| i);
    let (digits, offset) = inner.split_at(digits_end);
    if !offset.is_empty() {
        let hhmm = &offset[1..];
        if hhmm.len() != 4 || !hhmm.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    digits.parse().ok()
}

/// An `Edm.DateTimeOffset` value as RFC 3339 UTC.
pub fn timestamp_of(v: &Value) -> Option<String> {
    dates::from_unix_millis(wire_ms(v.as_str()?)?)
}

/// An `Edm.DateTime` date (`sap:display-format="Date"`) as `YYYY-MM-DD`.
pub fn date_of(v: &Value) -> Option<String> {
    let ms = wire_ms(v.as_str()?)?;
    dates::from_unix_millis(ms).and_then(|t| t.get(..10).map(str::to_owned))
}

/// An `Edm.DateTime` date as an RFC 3339 timestamp at midnight UTC.
pub fn date_as_timestamp(v: &Value) -> Option<String> {
    let ms = wire_ms(v.as_str()?)?;
    dates::from_unix_millis(ms.div_euclid(86_400_000) * 86_400_000)
}

/// An RFC 3339 timestamp written as `Edm.DateTimeOffset` (`/Date(ms+0000)/`).
pub fn wire_timestamp(rfc3339: &str) -> Option<String> {
    let ms = dates::to_unix_millis(rfc3339)?;
    Some(format!("/Date({ms}+0000)/"))
}

/// A `YYYY-MM-DD` date written as `Edm.DateTime` (`/Date(ms)/` at midnight UTC).
pub fn wire_date(date: &str) -> Option<String> {
    if date.len() != 10 {
        return None;
    }
    let ms = dates::to_unix_millis(&format!("{date}T00:00:00Z"))?;
    Some(format!("/Date({ms})/"))
}

// ------------------------------------------------------------------------------ decimals

/// An `Edm.Decimal` string as a number, when the number keeps every digit: the decimal read
/// back from the `f64` must be the same decimal (trailing zeros aside). `Err` with the text
/// when it would not (more than 15 to 17 significant digits).
pub fn decimal_of(v: &Value) -> Option<Result<f64, String>> {
    let text = match v {
        Value::String(s) => s.as_str(),
        Value::Null => return None,
        other => return Some(Err(other.to_string())),
    };
    let n: f64 = match text.parse() {
        Ok(n) => n,
        Err(_) => return Some(Err(text.to_owned())),
    };
    if normalize_decimal(text) == normalize_decimal(&format_f64(n)) {
        Some(Ok(n))
    } else {
        Some(Err(text.to_owned()))
    }
}

/// A decimal string without a sign on zero, leading zeros or trailing fractional zeros.
fn normalize_decimal(text: &str) -> String {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let zero = int == "0" && frac.is_empty();
    let mut out = String::new();
    if negative && !zero {
        out.push('-');
    }
    out.push_str(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// The shortest decimal text that reads back as `n` (never in exponent form).
pub fn format_f64(n: f64) -> String {
    let text = n.to_string();
    if text.contains('e') || text.contains('E') {
        // `to_string` never uses exponents for finite f64, but stay safe.
        format!("{n:.20}")
    } else {
        text
    }
}

/// A caller's number written as an `Edm.Decimal` string of the given precision and scale;
/// `Err` says why it does not fit without loss (too many fractional digits, too large).
pub fn wire_decimal(n: f64, precision: u32, scale: u32) -> Result<String, String> {
    if !n.is_finite() {
        return Err(format!("{n} is not a number"));
    }
    let text = normalize_decimal(&format_f64(n));
    let digits = text.trim_start_matches('-');
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if frac.len() > scale as usize {
        return Err(format!(
            "{text} has more than {scale} decimal places, which SAP would round"
        ));
    }
    if int.trim_start_matches('0').len() > (precision - scale) as usize {
        return Err(format!(
            "{text} is too large for SAP (at most {} digits before the point)",
            precision - scale
        ));
    }
    Ok(text)
}

// ------------------------------------------------------------------------------ envelope

/// A collection answer: `{"d": {"results": [...], "__count": "N", "__next": "..."}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    pub results: Vec<Value>,
    pub count: Option<u64>,
    pub next: Option<String>,
}

/// Reads a collection answer; `None` when it does not have the V2 shape.
pub fn collection(body: &Value) -> Option<Collection> {
    let d = body.get("d")?;
    let results = d.get("results")?.as_array()?.clone();
    let count = match d.get("__count") {
        Some(Value::String(s)) => s.parse().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    };
    let next = d.get("__next").and_then(Value::as_str).map(str::to_owned);
    Some(Collection {
        results,
        count,
        next,
    })
}

/// The entity in a single-entity answer (`{"d": {...}}`).
pub fn entity(body: &Value) -> Option<&Map<String, Value>> {
    body.get("d")?.as_object()
}

/// The ETag of an entity (`__metadata.etag`).
pub fn etag(entity: &Map<String, Value>) -> Option<String> {
    entity
        .get("__metadata")?
        .get("etag")?
        .as_str()
        .map(str::to_owned)
}

/// The inline results of an expanded navigation property (`{"results": [...]}`).
pub fn expanded<'a>(entity: &'a Map<String, Value>, nav: &str) -> Option<&'a Vec<Value>> {
    entity.get(nav)?.get("results")?.as_array()
}

/// The origin (`scheme://authority`) of an absolute `http(s)` link, `Ok(None)` for a link
/// relative to the server (`/…`); `Err` for anything else (another scheme, user info in the
/// authority, no authority).
pub fn link_origin(link: &str) -> Result<Option<&str>, &'static str> {
    if link.starts_with('/') && !link.starts_with("//") {
        return Ok(None);
    }
    let lower = link.get(..8).unwrap_or(link).to_ascii_lowercase();
    let scheme_len = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        return Err("not an http(s) link");
    };
    let end = link[scheme_len..]
        .find(['/', '?', '#'])
        .map_or(link.len(), |i| scheme_len + i);
    let authority = &link[scheme_len..end];
    if authority.is_empty() || authority.contains('@') {
        return Err("no host, or user info in the authority");
    }
    Ok(Some(&link[..end]))
}

/// The part of a `__next` link from the service name on (`/API_X/Set?...$skiptoken=100`),
/// without `sap-client` (the host adds the connection's own). `None` when the link does not
/// name one of `services`.
pub fn relative_next(link: &str, services: &[&str]) -> Option<String> {
    let at = services
        .iter()
        .filter_map(|s| link.find(&format!("/{s}/")))
        .min()?;
    let rest = &link[at..];
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("sap-client="))
        .collect();
    if kept.is_empty() {
        Some(path.to_owned())
    } else {
        Some(format!("{path}?{}", kept.join("&")))
    }
}

// -------------------------------------------------------------------------------- errors

/// SAP's error as it reported it: `error.code`, `error.message.value` and the
/// `innererror.errordetails` (code, message, `propertyref`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SapError {
    pub code: Option<String>,
    pub message: Option<String>,
    pub details: Vec<(String, String, String)>,
}

/// Reads SAP's error body (JSON); `None` when the body is not one.
pub fn error_body(body: &[u8]) -> Option<SapError> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let e = v.get("error")?;
    let code = e.get("code").and_then(Value::as_str).map(str::to_owned);
    let message = match e.get("message") {
        Some(Value::Object(m)) => m.get("value").and_then(Value::as_str).map(str::to_owned),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let details = e
        .get("innererror")
        .and_then(|i| i.get("errordetails"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|d| {
                    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    (s("code"), s("message"), s("propertyref"))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(SapError {
        code,
        message,
        details,
    })
}

/// A `sap-message` header: `(severity, code, message)` of the message and its details.
pub fn sap_messages(header: &str) -> Vec<(String, String, String)> {
    let Ok(v) = serde_json::from_str::<Value>(header) else {
        return Vec::new();
    };
    let one = |m: &Value| {
        let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        (s("severity"), s("code"), s("message"))
    };
    let mut out = vec![one(&v)];
    if let Some(details) = v.get("details").and_then(Value::as_array) {
        out.extend(details.iter().map(one));
    }
    out
}

// --------------------------------------------------------------------------------- batch

/// One request of a `$batch` change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRequest {
    pub method: &'static str,
    /// Relative to the service root (`A_PurchaseOrder`).
    pub target: String,
    pub body: String,
}

/// A `$batch` body with one change set per request, so that each fails on its own. Each
/// request carries `Content-ID: <its index>`, which servers that echo it in their answer
/// parts let the adapter match answers to requests by ([`BatchResponse::content_id`]).
pub fn batch_body(boundary: &str, requests: &[BatchRequest]) -> String {
    let mut out = String::new();
    for (i, r) in requests.iter().enumerate() {
        let cs = format!("{boundary}_cs{i}");
        out.push_str(&format!(
            "--{boundary}\r\nContent-Type: multipart/mixed; boundary={cs}\r\n\r\n--{cs}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {i}\r\n\r\n{} {} HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{}\r\n--{cs}--\r\n\r\n",
            r.method,
            r.target,
            r.body.len(),
            r.body
        ));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out
}

/// One response inside a `$batch` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The `Content-ID` of the request it answers, where the server echoed it (in the part's
    /// MIME headers or the response's own).
    pub content_id: Option<String>,
}

impl BatchResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The `boundary` of a `multipart/mixed` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Where the delimiter line `--<boundary>` (alone on its line, or the closing `--<boundary>--`)
/// next starts in `text`, searching from `from`: the byte offset of the dashes.
fn delimiter_at(text: &str, boundary: &str, from: usize) -> Option<usize> {
    let delimiter = format!("--{boundary}");
    let mut at = from;
    while let Some(found) = text.get(at..)?.find(&delimiter) {
        let start = at + found;
        let line_start = start == 0 || text[..start].ends_with('\n');
        let rest = &text[start + delimiter.len()..];
        let rest = rest.trim_start_matches([' ', '\t']);
        if line_start && (rest.is_empty() || rest.starts_with('\n') || rest.starts_with("--")) {
            return Some(start);
        }
        at = start + delimiter.len();
    }
    None
}

/// The parts of a multipart body (`\n` line ends).
fn parts(body: &str, boundary: &str) -> Option<Vec<String>> {
    let len = boundary.len() + 2;
    let mut at = delimiter_at(body, boundary, 0)?;
    let mut out = Vec::new();
    loop {
        let after = &body[at + len..];
        if after.trim_start_matches([' ', '\t']).starts_with("--") {
            return Some(out);
        }
        let next = delimiter_at(body, boundary, at + len)?;
        let part = &body[at + len..next];
        let part = part.split_once('\n').map_or("", |(_, p)| p);
        out.push(part.trim_end_matches('\n').to_owned());
        at = next;
    }
}

fn split_head(text: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let headers = head
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    (headers, body)
}

fn http_response(part: &str) -> Option<BatchResponse> {
    let (mime, http) = split_head(part);
    let (status_line, rest) = http.split_once('\n')?;
    let status = status_line.split_whitespace().nth(1)?.parse().ok()?;
    let (headers, body) = split_head(rest);
    let content_id = mime
        .iter()
        .chain(headers.iter())
        .find(|(k, _)| k == "content-id")
        .map(|(_, v)| v.clone());
    Some(BatchResponse {
        status,
        headers,
        body: body.trim_end_matches('\n').as_bytes().to_vec(),
        content_id,
    })
}

/// Reads a `$batch` answer into one result per part: a change set's responses, or the single
/// error response that replaced a failed change set. `None` when the body is not multipart.
pub fn batch_responses(content_type: &str, body: &[u8]) -> Option<Vec<Vec<BatchResponse>>> {
    let boundary = boundary(content_type)?;
    let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
    let mut out = Vec::new();
    for part in parts(&text, &boundary)? {
        let (headers, content) = split_head(&part);
        let ct = headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map_or("", |(_, v)| v.as_str());
        if let Some(inner) = self::boundary(ct) {
            let responses = parts(content, &inner)?
                .iter()
                .map(|p| http_response(p))
                .collect::<Option<Vec<_>>>()?;
            out.push(responses);
        } else {
            out.push(vec![http_response(&part)?]);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_and_encoding() {
        assert_eq!(string_literal("O'Neil"), "'O''Neil'");
        assert_eq!(encode("a b/c'"), "a%20b%2Fc'");
        assert_eq!(
            datetime_literal(253_402_214_400_000).as_deref(),
            Some("datetime'9999-12-31T00:00:00'")
        );
        assert_eq!(
            datetimeoffset_literal("2024-03-01T10:00:00+02:00").as_deref(),
            Some("datetimeoffset'2024-03-01T08:00:00Z'")
        );
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(wire_ms("/Date(1700697600000)/"), Some(1_700_697_600_000));
        assert_eq!(
            wire_ms("/Date(1700697600000+0000)/"),
            Some(1_700_697_600_000)
        );
        assert_eq!(wire_ms("/Date(1700697600000+01)/"), None);
        assert_eq!(wire_ms("2023-11-23"), None);
        assert_eq!(
            timestamp_of(&json!("/Date(1709280000000+0000)/")).as_deref(),
            Some("2024-03-01T08:00:00Z")
        );
        assert_eq!(
            date_of(&json!("/Date(1709251200000)/")).as_deref(),
            Some("2024-03-01")
        );
        assert_eq!(
            wire_date("2024-03-01").as_deref(),
            Some("/Date(1709251200000)/")
        );
        assert_eq!(
            wire_timestamp("2024-03-01T10:00:00+02:00").as_deref(),
            Some("/Date(1709280000000+0000)/")
        );
        assert_eq!(wire_date("2024-3-1"), None);
    }

    #[test]
    fn decimals_are_exact_or_refused() {
        assert_eq!(decimal_of(&json!("61.050")), Some(Ok(61.05)));
        assert_eq!(decimal_of(&json!("10.000")), Some(Ok(10.0)));
        assert_eq!(decimal_of(&json!("125.00000000000000")), Some(Ok(125.0)));
        assert!(matches!(
            decimal_of(&json!("12345678901234567.123")),
            Some(Err(_))
        ));
        assert_eq!(decimal_of(&Value::Null), None);
        assert_eq!(wire_decimal(61.05, 12, 3).as_deref(), Ok("61.05"));
        assert_eq!(wire_decimal(4.0, 13, 3).as_deref(), Ok("4"));
        assert!(wire_decimal(1.2345, 13, 3).is_err());
        assert!(wire_decimal(1e12, 12, 3).is_err());
        assert!(wire_decimal(f64::NAN, 12, 3).is_err());
        assert_eq!(wire_decimal(-0.5, 13, 3).as_deref(), Ok("-0.5"));
    }

    #[test]
    fn envelopes() {
        let body = json!({"d": {"results": [{"__metadata": {"etag": "W/\"x\""}, "A": 1}], "__count": "2500", "__next": "http://h/sap/opu/odata/sap/API_X/Set?$top=5&sap-client=100&$skiptoken=100"}});
        let c = collection(&body).unwrap();
        assert_eq!(c.count, Some(2500));
        assert_eq!(
            relative_next(c.next.as_deref().unwrap(), &["API_X"]).as_deref(),
            Some("/API_X/Set?$top=5&$skiptoken=100")
        );
        assert_eq!(relative_next("http://h/other/Set", &["API_X"]), None);
        assert_eq!(
            link_origin("https://s4h.example:44300/sap/opu/odata/sap/API_X/Set?$skiptoken=1"),
            Ok(Some("https://s4h.example:44300"))
        );
        assert_eq!(link_origin("/sap/opu/odata/sap/API_X/Set"), Ok(None));
        assert!(link_origin("//other.example/sap/opu/odata/sap/API_X/Set").is_err());
        assert!(link_origin("ftp://h/API_X/Set").is_err());
        assert!(link_origin("http://user@h/API_X/Set").is_err());
        assert!(link_origin("API_X/Set").is_err());
        let e = c.results[0].as_object().unwrap();
        assert_eq!(etag(e).as_deref(), Some("W/\"x\""));
    }

    #[test]
    fn errors_and_messages() {
        let body = br#"{"error":{"code":"BS/013","message":{"lang":"en","value":"System status REL is active (ORD 4000001)"},"innererror":{"errordetails":[{"code":"BS/013","message":"m","propertyref":"","severity":"error","target":""}]}}}"#;
        let e = error_body(body).unwrap();
        assert_eq!(e.code.as_deref(), Some("BS/013"));
        assert_eq!(e.details.len(), 1);
        assert!(error_body(b"<html/>").is_none());
        let m = sap_messages(
            r#"{"code":"06/017","message":"Standard PO created under the number 4500000301","severity":"success","details":[{"code":"W/1","message":"w","severity":"warning"}]}"#,
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].0, "warning");
    }

    #[test]
    fn batch_round_trip() {
        let body = batch_body(
            "b1",
            &[BatchRequest {
                method: "POST",
                target: "A_PurchaseOrder".into(),
                body: "{}".into(),
            }],
        );
        assert!(body.contains("POST A_PurchaseOrder HTTP/1.1\r\n"));
        assert!(body.ends_with("--b1--\r\n"));
        let answer = "--r\r\nContent-Type: multipart/mixed; boundary=r_cs0\r\n\r\n--r_cs0\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 201 Created\r\nContent-Type: application/json\r\nsap-message: {\"code\":\"06/017\"}\r\n\r\n{\"d\":{\"PurchaseOrder\":\"1\"}}\r\n--r_cs0--\r\n--r\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{\"error\":{\"code\":\"X\",\"message\":{\"lang\":\"en\",\"value\":\"bad\"}}}\r\n--r--\r\n";
        let parts = batch_responses("multipart/mixed; boundary=r", answer.as_bytes()).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0][0].status, 201);
        assert!(parts[0][0].header("sap-message").is_some());
        assert_eq!(parts[0][0].body, br#"{"d":{"PurchaseOrder":"1"}}"#);
        assert_eq!(parts[1][0].status, 400);
        assert!(batch_responses("application/json", b"{}").is_none());
    }
}
