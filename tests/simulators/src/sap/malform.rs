//! Malformed answers, for testing how a client copes with a broken or hostile OData service:
//! a body that is not JSON, a JSON answer without the V2 `d` envelope, a `__next` link to
//! another origin or repeating the page just served, a `$batch` answer missing a part or whose
//! boundary does not match its content type.
//!
//! Each queued [`Malformation`] applies to the next successful answer it fits (a JSON answer,
//! a collection with `__next`, a `$batch` answer) and is consumed by it; other answers pass
//! unchanged.

use std::collections::VecDeque;

use serde_json::Value;

use super::batch;

/// One way to break the next answer it fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformation {
    /// A `2xx` JSON answer becomes an HTML page (as a misconfigured web dispatcher or proxy
    /// answers), status unchanged.
    NotJson,
    /// A `2xx` JSON answer loses its `{"d": …}` envelope: the content of `d` is the body.
    WithoutD,
    /// A collection's `__next` link points at another origin (`http://other.example`).
    ForeignNext,
    /// A collection's `__next` link is the URL of the request just answered (same
    /// `$skiptoken`, or none), so following it never ends.
    RepeatedNext,
    /// A `$batch` answer loses its last part: fewer parts than the request had.
    BatchPartMissing,
    /// A `$batch` answer's `Content-Type` names a boundary its body does not use.
    BatchBoundaryBroken,
}

/// The origin a [`Malformation::ForeignNext`] link points to.
pub const FOREIGN_ORIGIN: &str = "http://other.example";

/// Pending malformations, in the order they were queued.
#[derive(Debug, Default)]
pub(crate) struct Malformations {
    queue: VecDeque<Malformation>,
}

/// An answer as the pipeline produced it.
pub(crate) struct Answer<'a> {
    pub(crate) status: u16,
    pub(crate) headers: &'a mut Vec<(String, String)>,
    pub(crate) body: &'a mut Vec<u8>,
}

fn content_type(headers: &[(String, String)]) -> &str {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map_or("", |(_, v)| v.as_str())
}

fn set_content_type(headers: &mut [(String, String)], value: &str) {
    for (k, v) in headers.iter_mut() {
        if k.eq_ignore_ascii_case("content-type") {
            value.clone_into(v);
        }
    }
}

impl Malformations {
    pub(crate) fn push(&mut self, m: Malformation, n: usize) {
        self.queue.extend(std::iter::repeat_n(m, n));
    }

    /// Applies the first queued malformation that fits `answer` (and drops it from the
    /// queue). `request_url` is the absolute URL of the request being answered.
    pub(crate) fn apply(&mut self, answer: Answer<'_>, request_url: &str) {
        if !(200..300).contains(&answer.status) {
            return;
        }
        let ct = content_type(answer.headers).to_owned();
        let json: Option<Value> = ct
            .contains("json")
            .then(|| serde_json::from_slice(answer.body).ok())
            .flatten();
        let has_next = json
            .as_ref()
            .and_then(|v| v.get("d")?.get("__next"))
            .is_some();
        let multipart = batch::boundary(&ct).is_some();
        let Some(at) = self.queue.iter().position(|m| match m {
            Malformation::NotJson | Malformation::WithoutD => json.is_some(),
            Malformation::ForeignNext | Malformation::RepeatedNext => has_next,
            Malformation::BatchPartMissing | Malformation::BatchBoundaryBroken => multipart,
        }) else {
            return;
        };
        let Some(m) = self.queue.remove(at) else {
            return;
        };
        match m {
            Malformation::NotJson => {
                set_content_type(answer.headers, "text/html; charset=utf-8");
                *answer.body = b"<html><head><title>SAP Web Dispatcher</title></head><body><h1>Service is temporarily unavailable</h1></body></html>".to_vec();
            }
            Malformation::WithoutD => {
                if let Some(d) = json.as_ref().and_then(|v| v.get("d")) {
                    *answer.body = d.to_string().into_bytes();
                }
            }
            Malformation::ForeignNext | Malformation::RepeatedNext => {
                let Some(mut v) = json else { return };
                let Some(next) = v
                    .get_mut("d")
                    .and_then(|d| d.get_mut("__next"))
                    .filter(|n| n.is_string())
                else {
                    return;
                };
                let link = next.as_str().unwrap_or_default().to_owned();
                let replaced = if m == Malformation::ForeignNext {
                    match link.find("/sap/opu/odata/sap/") {
                        Some(i) => format!("{FOREIGN_ORIGIN}{}", &link[i..]),
                        None => link,
                    }
                } else {
                    request_url.to_owned()
                };
                *next = Value::String(replaced);
                *answer.body = v.to_string().into_bytes();
            }
            Malformation::BatchPartMissing => {
                let Some(boundary) = batch::boundary(&ct) else {
                    return;
                };
                let text = String::from_utf8_lossy(answer.body).into_owned();
                let delimiter = format!("--{boundary}\r\n");
                let closing = format!("--{boundary}--");
                // The last part starts at the last delimiter line before the closing one.
                if let (Some(last), Some(end)) = (text.rfind(&delimiter), text.rfind(&closing))
                    && last < end
                {
                    *answer.body = format!("{}{}", &text[..last], &text[end..]).into_bytes();
                }
            }
            Malformation::BatchBoundaryBroken => {
                if let Some(boundary) = batch::boundary(&ct) {
                    set_content_type(
                        answer.headers,
                        &format!("multipart/mixed; boundary={boundary}_other"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(m: Malformation, ct: &str, body: &str) -> (Vec<(String, String)>, String, bool) {
        let mut q = Malformations::default();
        q.push(m, 1);
        let mut headers = vec![("content-type".to_owned(), ct.to_owned())];
        let mut bytes = body.as_bytes().to_vec();
        q.apply(
            Answer {
                status: 200,
                headers: &mut headers,
                body: &mut bytes,
            },
            "http://h:1/sap/opu/odata/sap/API_X/Set?$top=5",
        );
        (
            headers,
            String::from_utf8(bytes).unwrap_or_default(),
            q.queue.is_empty(),
        )
    }

    #[test]
    fn each_malformation_breaks_what_it_fits() {
        let page = json!({"d": {"results": [], "__next": "http://h:1/sap/opu/odata/sap/API_X/Set?$top=5&$skiptoken=5"}}).to_string();
        let (_, body, used) = apply(Malformation::ForeignNext, "application/json", &page);
        assert!(used);
        assert!(
            body.contains("http://other.example/sap/opu/odata/sap/API_X/Set?$top=5&$skiptoken=5")
        );
        let (_, body, _) = apply(Malformation::RepeatedNext, "application/json", &page);
        assert!(body.contains(r#""__next":"http://h:1/sap/opu/odata/sap/API_X/Set?$top=5""#));
        let (_, body, _) = apply(Malformation::WithoutD, "application/json", &page);
        assert!(body.starts_with(r#"{"__next""#) || body.starts_with(r#"{"results""#));
        let (headers, body, _) = apply(Malformation::NotJson, "application/json", &page);
        assert!(body.starts_with("<html>") && headers[0].1.starts_with("text/html"));
        // A malformation that does not fit waits for an answer it fits.
        let (_, body, used) = apply(Malformation::ForeignNext, "application/json", "{\"d\":{}}");
        assert!(!used && body == "{\"d\":{}}");

        let multipart = "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 201 Created\r\n\r\n{}\r\n--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 400 Bad Request\r\n\r\n{}\r\n--b--\r\n";
        let ct = "multipart/mixed; boundary=b";
        let (_, body, used) = apply(Malformation::BatchPartMissing, ct, multipart);
        assert!(used);
        assert_eq!(body.matches("--b\r\n").count(), 1);
        assert!(body.ends_with("--b--\r\n") && body.contains("201 Created"));
        let (headers, body, _) = apply(Malformation::BatchBoundaryBroken, ct, multipart);
        assert_eq!(headers[0].1, "multipart/mixed; boundary=b_other");
        assert_eq!(body, multipart);
    }
}
