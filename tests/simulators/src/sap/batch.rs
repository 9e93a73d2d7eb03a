//! `$batch` bodies (`multipart/mixed`, OData V2): reading a batch request into its parts
//! (retrievals and change sets, each holding `application/http` requests) and writing the
//! batch response (a part per retrieval and per change set; a failed change set answers with
//! one error response in place of its parts).

/// One HTTP request inside a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InnerRequest {
    pub(crate) method: String,
    /// The request target as written (`A_PurchaseOrder`, `A_PurchaseOrder('1')?$format=json`).
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// The part's `Content-ID`, if it has one.
    pub(crate) content_id: Option<String>,
}

/// A part of a batch request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// A retrieval (`GET`) outside any change set.
    Query(InnerRequest),
    /// A change set: its requests succeed or fail together.
    ChangeSet(Vec<InnerRequest>),
}

/// One HTTP response inside a batch.
#[derive(Debug, Clone)]
pub(crate) struct InnerResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Echoed in the part's MIME headers when set.
    pub(crate) content_id: Option<String>,
}

/// The answer to one part.
#[derive(Debug, Clone)]
pub(crate) enum PartResponse {
    Single(InnerResponse),
    ChangeSet(Vec<InnerResponse>),
}

/// The `boundary` parameter of a `multipart/mixed` content type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

/// Where the delimiter line `--<boundary>` (alone on its line, or the closing one) next
/// starts in `text` at or after `from`.
fn delimiter_at(text: &str, boundary: &str, from: usize) -> Option<usize> {
    let delimiter = format!("--{boundary}");
    let mut at = from;
    while let Some(found) = text.get(at..)?.find(&delimiter) {
        let start = at + found;
        let line_start = start == 0 || text[..start].ends_with('\n');
        let rest = text[start + delimiter.len()..].trim_start_matches([' ', '\t']);
        if line_start && (rest.is_empty() || rest.starts_with('\n') || rest.starts_with("--")) {
            return Some(start);
        }
        at = start + delimiter.len();
    }
    None
}

/// The parts of a multipart body with `boundary` (each part's raw bytes, headers included).
fn split(body: &[u8], boundary: &str) -> Result<Vec<Vec<u8>>, String> {
    let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
    let len = boundary.len() + 2;
    let Some(mut at) = delimiter_at(&text, boundary, 0) else {
        return Err(format!("the body has no boundary '{boundary}'"));
    };
    let mut parts = Vec::new();
    loop {
        if text[at + len..]
            .trim_start_matches([' ', '\t'])
            .starts_with("--")
        {
            return Ok(parts);
        }
        let Some(next) = delimiter_at(&text, boundary, at + len) else {
            return Err("a part is not terminated by its boundary".to_owned());
        };
        let part = text[at + len..next].split_once('\n').map_or("", |(_, p)| p);
        parts.push(part.trim_end_matches('\n').as_bytes().to_vec());
        at = next;
    }
}

/// Headers and body of a MIME part or an HTTP message (separated by an empty line).
fn head_and_body(raw: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
    let headers = head
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    (headers, body.trim_end_matches('\n').as_bytes().to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads an `application/http` part into its request.
fn inner_request(raw: &[u8]) -> Result<InnerRequest, String> {
    let (mime_headers, http) = head_and_body(raw);
    let content_type = header(&mime_headers, "content-type").unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/http")
    {
        return Err(format!(
            "a batch part has content type '{content_type}', not application/http"
        ));
    }
    let text = String::from_utf8_lossy(&http).into_owned();
    let (request_line, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let mut words = request_line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (words.next(), words.next(), words.next())
    else {
        return Err(format!("invalid request line '{request_line}'"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(format!("invalid request line '{request_line}'"));
    }
    let (headers, body) = head_and_body(rest.as_bytes());
    Ok(InnerRequest {
        method: method.to_ascii_uppercase(),
        target: target.to_owned(),
        headers,
        body,
        content_id: header(&mime_headers, "content-id").map(str::to_owned),
    })
}

/// Reads a batch request body.
pub(crate) fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, String> {
    let mut out = Vec::new();
    for raw in split(body, boundary)? {
        let (headers, content) = head_and_body(&raw);
        let content_type = header(&headers, "content-type").unwrap_or("").to_owned();
        if let Some(changeset) = self::boundary(&content_type) {
            let mut requests = Vec::new();
            for inner in split(&content, &changeset)? {
                let request = inner_request(&inner)?;
                if request.method == "GET" {
                    return Err("a change set may not contain GET requests".to_owned());
                }
                requests.push(request);
            }
            out.push(Part::ChangeSet(requests));
        } else {
            let request = inner_request(&raw)?;
            if request.method != "GET" {
                return Err(format!(
                    "{} outside a change set: modifying requests must be in a change set",
                    request.method
                ));
            }
            out.push(Part::Query(request));
        }
    }
    Ok(out)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        428 => "Precondition Required",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        _ => "",
    }
}

fn write_inner(out: &mut String, r: &InnerResponse) {
    out.push_str("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = &r.content_id {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status)));
    for (k, v) in &r.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", r.body.len()));
    out.push_str(&String::from_utf8_lossy(&r.body));
    out.push_str("\r\n");
}

/// Writes the batch response body for `parts` with `boundary` (change sets get boundaries
/// derived from it).
pub(crate) fn write(parts: &[PartResponse], boundary: &str) -> Vec<u8> {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        out.push_str(&format!("--{boundary}\r\n"));
        match part {
            PartResponse::Single(r) => write_inner(&mut out, r),
            PartResponse::ChangeSet(responses) => {
                let cs = format!("{boundary}_cs{i}");
                out.push_str(&format!(
                    "Content-Type: multipart/mixed; boundary={cs}\r\n\r\n"
                ));
                for r in responses {
                    out.push_str(&format!("--{cs}\r\n"));
                    write_inner(&mut out, r);
                }
                out.push_str(&format!("--{cs}--\r\n"));
            }
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_a\r\n\r\n--changeset_a\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST A_PurchaseOrder HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/json\r\n\r\n{\"Supplier\":\"17300001\"}\r\n--changeset_a--\r\n\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET A_PurchaseOrder('4500000001') HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n--batch_1--\r\n";

    #[test]
    fn reads_change_sets_and_queries() {
        assert_eq!(
            boundary("multipart/mixed; boundary=batch_1").as_deref(),
            Some("batch_1")
        );
        assert_eq!(boundary("application/json"), None);
        let parts = parse(BODY.as_bytes(), "batch_1").unwrap();
        assert_eq!(parts.len(), 2);
        match &parts[0] {
            Part::ChangeSet(requests) => {
                assert_eq!(requests[0].method, "POST");
                assert_eq!(requests[0].target, "A_PurchaseOrder");
                assert_eq!(requests[0].body, b"{\"Supplier\":\"17300001\"}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&parts[1], Part::Query(r) if r.target == "A_PurchaseOrder('4500000001')"));
    }

    #[test]
    fn refuses_malformed_batches() {
        assert!(parse(b"no boundary here", "batch_1").is_err());
        let unterminated = "--batch_1\r\nContent-Type: application/http\r\n\r\nGET X HTTP/1.1\r\n";
        assert!(parse(unterminated.as_bytes(), "batch_1").is_err());
        let post_outside = BODY.replace(
            "GET A_PurchaseOrder('4500000001')",
            "DELETE A_PurchaseOrder('4500000001')",
        );
        assert!(parse(post_outside.as_bytes(), "batch_1").is_err());
    }

    #[test]
    fn writes_responses() {
        let ok = InnerResponse {
            status: 201,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: b"{}".to_vec(),
            content_id: Some("0".into()),
        };
        let err = InnerResponse {
            status: 400,
            headers: vec![],
            body: b"{\"error\":{}}".to_vec(),
            content_id: None,
        };
        let body = String::from_utf8(write(
            &[PartResponse::ChangeSet(vec![ok]), PartResponse::Single(err)],
            "resp",
        ))
        .unwrap();
        assert!(body.contains("HTTP/1.1 201 Created"));
        assert!(body.contains("HTTP/1.1 400 Bad Request"));
        assert_eq!(body.matches("Content-ID: 0\r\n").count(), 1);
        assert!(body.ends_with("--resp--\r\n"));
    }
}
