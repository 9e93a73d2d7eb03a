//! Outbound HTTP as an adapter sees it: requests relative to the connection's base URL, sent
//! by the host, which adds the credentials and enforces the egress policy.

use serde::{Deserialize, Serialize};

use crate::error::{AdapterError, UpstreamError};

/// An HTTP request relative to the connection's base URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub method: String,
    /// Path and query relative to the base URL, starting with `/`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: &str, path: impl Into<String>) -> Request {
        Request {
            method: method.to_owned(),
            path: path.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(path: impl Into<String>) -> Request {
        Request::new("GET", path)
    }

    pub fn delete(path: impl Into<String>) -> Request {
        Request::new("DELETE", path)
    }

    /// A request with a JSON body (and `content-type: application/json`).
    pub fn json(method: &str, path: impl Into<String>, body: &serde_json::Value) -> Request {
        let mut req = Request::new(method, path);
        req.headers
            .push(("content-type".to_owned(), "application/json".to_owned()));
        req.body = Some(body.to_string().into_bytes());
        req
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// An HTTP response as the host hands it to the adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body parsed as JSON; a body that is not JSON is an upstream error.
    pub fn json(&self) -> Result<serde_json::Value, AdapterError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            AdapterError::Upstream(UpstreamError {
                status: self.status,
                code: None,
                message: format!("response body is not valid JSON: {e}"),
            })
        })
    }

    /// The body as text, lossily.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why the host did not deliver a request or its response (the contract's `http-error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "detail")]
pub enum HttpError {
    /// The adapter set a header the host controls.
    ForbiddenHeader(String),
    /// The request left the connection's origin.
    ForbiddenDestination(String),
    /// The request is malformed.
    InvalidRequest(String),
    /// The upstream did not answer in time.
    Timeout,
    /// The response is larger than the host accepts (the limit in bytes).
    ResponseTooLarge(u64),
    /// The connection failed.
    Connection(String),
    /// The connection's rate budget is spent for longer than a call may wait; retry after
    /// this many milliseconds.
    RateLimited(u64),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::ForbiddenHeader(h) => write!(f, "header `{h}` is controlled by the host"),
            HttpError::ForbiddenDestination(d) => write!(f, "destination refused: {d}"),
            HttpError::InvalidRequest(r) => write!(f, "invalid request: {r}"),
            HttpError::Timeout => f.write_str("the upstream did not answer in time"),
            HttpError::ResponseTooLarge(limit) => {
                write!(f, "the response is larger than {limit} bytes")
            }
            HttpError::Connection(r) => write!(f, "connection failed: {r}"),
            HttpError::RateLimited(ms) => {
                write!(
                    f,
                    "the connection's rate budget is spent; retry after {ms} ms"
                )
            }
        }
    }
}

impl std::error::Error for HttpError {}

impl From<HttpError> for AdapterError {
    /// Delivery failures the adapter cannot fix itself: timeouts and connection failures are
    /// transient, policy refusals are reported as forbidden.
    fn from(e: HttpError) -> AdapterError {
        match e {
            HttpError::RateLimited(ms) => AdapterError::RateLimited(Some(ms)),
            HttpError::Timeout | HttpError::Connection(_) => AdapterError::Transient(e.to_string()),
            HttpError::ResponseTooLarge(_) | HttpError::InvalidRequest(_) => {
                AdapterError::Upstream(UpstreamError {
                    status: 0,
                    code: None,
                    message: e.to_string(),
                })
            }
            HttpError::ForbiddenHeader(_) | HttpError::ForbiddenDestination(_) => {
                AdapterError::Forbidden(e.to_string())
            }
        }
    }
}

/// Sends requests to the connection's system. In a component this is the host's `http.send`
/// import; natively (tests, benchmarks) any implementation will do.
pub trait Http {
    fn send(&self, req: Request) -> Result<Response, HttpError>;
}

impl<F> Http for F
where
    F: Fn(Request) -> Result<Response, HttpError>,
{
    fn send(&self, req: Request) -> Result<Response, HttpError> {
        self(req)
    }
}
