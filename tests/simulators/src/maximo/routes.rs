//! The HTTP surface of the Maximo simulator: routes, the request pipeline and the handlers.
//!
//! Pipeline, in order: record the request → decide faults → injected latency → dropped
//! connection → forced status → authentication (`apikey` header or query parameter, or
//! `maxauth`) → handler; a response picked for truncation is cut in half on the way out.
//!
//! Every route exists under both API roots, `/maximo/oslc` and `/maximo/api`:
//!
//! | request | answer |
//! |---|---|
//! | `GET /os/{os}` | 200 `{"member": [...], "href", "responseInfo": {...}}`; `count=1` → `{"totalCount"}`; 400 on a bad query or a page larger than the maximum |
//! | `GET /os/{os}/{restid}` | 200 the record, `ETag`; 404 |
//! | `POST /os/{os}` | 201, `Location`; the record when `properties` is sent |
//! | `POST /os/{os}` + `x-method-override: BULK` | 200, one `_responsemeta` (and `_responsedata` on error) per item |
//! | `POST /os/{os}/{restid}` + `x-method-override: PATCH` | 204, or 200 with the record when `properties` is sent; 412 on a stale `If-Match` |
//! | `POST /os/{os}/{restid}?action=wsmethod:changeStatus` + `x-method-override: PATCH` | as PATCH; 400 on an invalid transition |
//! | `DELETE /os/{os}/{restid}` | 200 |
//!
//! Writes carrying a `transactionid` already seen within the window answer 409.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::ListTamper;
use super::query::{OrderBy, Select, Where};
use super::schema::Os;
use super::store::{Record, Store, key_of};
use super::views::{href, key_of_rest_id, member, namespaced};
use super::write::{self, MaxError, Writer};
use crate::clock::now_ms;
use crate::faults::{Faults, dropped_response, truncate_response};
use crate::recorder::{RecordedRequest, Recorder};

/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// State shared by the handlers and the [`super::MaximoSim`] handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) apikey: String,
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) default_site: String,
    pub(crate) max_page_size: usize,
    pub(crate) transaction_window: Duration,
    pub(crate) store: RwLock<Store>,
    pub(crate) recorder: Recorder,
    pub(crate) faults: Faults,
    /// `transactionid`s of committed writes, with when they were committed.
    pub(crate) transactions: Mutex<HashMap<String, Instant>>,
    /// How collection answers are spoiled, if they are.
    pub(crate) list_tamper: Mutex<Option<ListTamper>>,
}

impl Shared {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn writer(&self) -> Writer<'_> {
        Writer {
            user: &self.user,
            default_site: &self.default_site,
            now: now_ms(),
        }
    }

    /// Whether `id` was committed within the window (expired ids are forgotten).
    fn seen_transaction(&self, id: &str) -> bool {
        let mut seen = self
            .transactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let window = self.transaction_window;
        seen.retain(|_, at| at.elapsed() < window);
        seen.contains_key(id)
    }

    fn commit_transaction(&self, id: Option<&str>) {
        if let Some(id) = id {
            self.transactions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id.to_owned(), Instant::now());
        }
    }
}

/// The simulator's router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/maximo/{root}/os/{os}", get(list).post(post_collection))
        .route(
            "/maximo/{root}/os/{os}/{id}",
            get(get_one).post(post_member).delete(delete_one),
        )
        .fallback(not_found_route)
        .layer(middleware::from_fn_with_state(shared.clone(), pipeline))
        .with_state(shared)
}

// ---------------------------------------------------------------------------------- pipeline

async fn pipeline(State(s): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let (bytes, too_large) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => (bytes, false),
        Err(_) => (Bytes::new(), true),
    };
    s.recorder.push(RecordedRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: bytes.to_vec(),
    });

    let plan = s.faults.plan();
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    if plan.drop {
        return dropped_response();
    }
    let base = api_base(&parts.headers, parts.uri.path());
    let response = if let Some(status) = plan.fail {
        forced(status, &base)
    } else if !authenticated(&s, &parts.headers, parts.uri.query()) {
        error(
            &base,
            &MaxError::plain(
                401,
                Some("BMXAA0021E"),
                "BMXAA0021E - User name and password combination are not valid. Try again."
                    .to_owned(),
            ),
        )
    } else if too_large {
        error(
            &base,
            &MaxError::plain(413, None, "The request body is too large.".to_owned()),
        )
    } else {
        next.run(Request::from_parts(parts, Body::from(bytes)))
            .await
    };
    if plan.truncate {
        truncate_response(response).await
    } else {
        response
    }
}

/// `apikey` (header or query parameter) or `maxauth: base64(user:password)`; a revoked
/// credential is refused like a wrong one. (The 401 code is Maximo's login failure message;
/// the code for a bad API key is not documented [U].)
fn authenticated(s: &Shared, headers: &HeaderMap, query: Option<&str>) -> bool {
    if s.faults.token_revoked() {
        return false;
    }
    let header_key = headers.get("apikey").and_then(|v| v.to_str().ok());
    let query_key = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "apikey")
        .map(|(_, v)| v.into_owned());
    if header_key == Some(s.apikey.as_str()) || query_key.as_deref() == Some(s.apikey.as_str()) {
        return true;
    }
    let expected = base64(format!("{}:{}", s.user, s.password).as_bytes());
    headers
        .get("maxauth")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == expected)
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `http://<host>/maximo/<root>` for the request (hrefs point at the root the client used).
fn api_base(headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let root = if path.starts_with("/maximo/api") {
        "api"
    } else {
        "oslc"
    };
    format!("http://{host}/maximo/{root}")
}

/// The answer to a request picked by [`Faults::fail_next`], in Maximo's error shape.
fn forced(status: u16, base: &str) -> Response {
    let message = match status {
        401 => "BMXAA0021E - User name and password combination are not valid. Try again.",
        429 => "Too many requests.",
        _ => "BMXAA4214E - An unknown error has occurred. Contact your system administrator.",
    };
    let reason = match status {
        401 => Some("BMXAA0021E"),
        500..=599 => Some("BMXAA4214E"),
        _ => None,
    };
    error(base, &MaxError::plain(status, reason, message.to_owned()))
}

// --------------------------------------------------------------------------------- responses

fn respond(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(serde_json::to_vec(body).unwrap_or_default()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

fn error(base: &str, e: &MaxError) -> Response {
    respond(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        &e.body(base),
    )
}

fn etag_of(r: &Record) -> String {
    format!(
        "\"{}\"",
        r.get("_rowstamp").and_then(Value::as_str).unwrap_or("0")
    )
}

fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, v);
    }
    response
}

async fn not_found_route(headers: HeaderMap, request: Request) -> Response {
    let base = api_base(&headers, request.uri().path());
    error(
        &base,
        &MaxError::plain(
            404,
            None,
            "The requested resource does not exist.".to_owned(),
        ),
    )
}

// ---------------------------------------------------------------------------------- requests

/// An early answer of a handler (boxed: a `Response` is large).
struct Reject(Box<Response>);

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// What handlers return.
type Handled = Result<Response, Reject>;

struct Ctx {
    base: String,
    os: Os,
    params: Vec<(String, String)>,
}

impl Ctx {
    fn new(headers: &HeaderMap, root: &str, os: &str, raw: Option<&str>) -> Result<Ctx, Reject> {
        let base = api_base(headers, &format!("/maximo/{root}"));
        if root != "oslc" && root != "api" {
            return Err(Reject(Box::new(error(
                &base,
                &MaxError::plain(
                    404,
                    None,
                    "The requested resource does not exist.".to_owned(),
                ),
            ))));
        }
        let Some(os) = Os::parse(os) else {
            return Err(Reject(Box::new(error(
                &base,
                &MaxError::plain(
                    404,
                    None,
                    format!(
                        "The object structure {} was not found.",
                        os.to_ascii_uppercase()
                    ),
                ),
            ))));
        };
        let params = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(Ctx { base, os, params })
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.param(name), Some("1" | "true"))
    }

    fn fail(&self, e: &MaxError) -> Reject {
        Reject(Box::new(error(&self.base, e)))
    }

    fn bad(&self, message: String) -> Reject {
        self.fail(&MaxError::plain(400, None, message))
    }

    /// The body rendered lean or namespaced, as asked.
    fn render(&self, status: StatusCode, body: Value) -> Response {
        if self.flag("lean") {
            respond(status, &body)
        } else {
            respond(status, &namespaced(body))
        }
    }

    /// The primary key a rest id names, when it names an existing record.
    fn existing(&self, store: &Store, id: &str) -> Result<String, Reject> {
        match key_of_rest_id(id) {
            Some(key) if store.exists(self.os, &key) => Ok(key),
            _ => Err(self.fail(&MaxError::plain(
                404,
                None,
                format!(
                    "The {} record {id} does not exist.",
                    self.os.name().to_ascii_uppercase()
                ),
            ))),
        }
    }
}

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The `properties` header as a selection (`*` or a list), if sent.
fn properties(ctx: &Ctx, headers: &HeaderMap) -> Result<Option<Select>, Reject> {
    match header_text(headers, "properties") {
        None | Some("") => Ok(None),
        Some(text) => Select::parse(ctx.os, text)
            .map(Some)
            .map_err(|e| ctx.bad(e.0)),
    }
}

/// Refuses a write whose `transactionid` was already committed (409).
fn check_transaction(s: &Shared, ctx: &Ctx, headers: &HeaderMap) -> Result<Option<String>, Reject> {
    let Some(id) = header_text(headers, "transactionid") else {
        return Ok(None);
    };
    if s.seen_transaction(id) {
        return Err(ctx.fail(&MaxError::plain(
            409,
            None,
            format!("The transaction {id} has already been processed."),
        )));
    }
    Ok(Some(id.to_owned()))
}

fn json_body(ctx: &Ctx, body: &Bytes) -> Result<Value, Reject> {
    serde_json::from_slice(body)
        .map_err(|e| ctx.bad(format!("The request body is not valid JSON: {e}")))
}

// ---------------------------------------------------------------------------------- handlers

async fn list(
    State(s): State<Arc<Shared>>,
    Path((root, os)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Handled {
    let ctx = Ctx::new(&headers, &root, &os, raw.as_deref())?;
    let os = ctx.os;
    let filter = match ctx.param("oslc.where") {
        Some(w) if !w.trim().is_empty() => Where::parse(os, w).map_err(|e| ctx.bad(e.0))?,
        _ => Where::default(),
    };
    let select = match ctx.param("oslc.select") {
        Some(sel) if !sel.trim().is_empty() => Select::parse(os, sel).map_err(|e| ctx.bad(e.0))?,
        _ => Select::HrefOnly,
    };
    let order = match ctx.param("oslc.orderBy") {
        Some(o) if !o.is_empty() => Some(OrderBy::parse(os, o).map_err(|e| ctx.bad(e.0))?),
        _ => None,
    };
    let page_size = match ctx.param("oslc.pageSize") {
        None => s.max_page_size, // auto-paging at the threshold
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if n >= 1 && n <= s.max_page_size => n,
            Ok(n) if n > s.max_page_size => {
                return Err(ctx.bad(format!(
                    "The requested page size {n} exceeds the maximum page size {} set by mxe.oslc.maxpagesize.",
                    s.max_page_size
                )));
            }
            _ => return Err(ctx.bad(format!("oslc.pageSize {raw} is not a positive number."))),
        },
    };
    let page_no = match ctx.param("pageno") {
        None => 1,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ctx.bad(format!("pageno {raw} is not a positive number.")))?,
    };
    let keep_nulls = ctx.param("_dropnulls") == Some("0");

    let body = {
        let store = s.read();
        let mut hits: Vec<&Record> = store.iter(os).filter(|r| filter.matches(os, r)).collect();
        if ctx.flag("count") {
            return Ok(respond(StatusCode::OK, &json!({"totalCount": hits.len()})));
        }
        if let Some(order) = &order {
            hits.sort_by(|a, b| order.cmp(os, a, b));
        }
        let total = hits.len();
        let pages = total.div_ceil(page_size);
        let start = (page_no - 1).saturating_mul(page_size).min(total);
        let end = start.saturating_add(page_size).min(total);
        let members: Vec<Value> = hits[start..end]
            .iter()
            .map(|r| {
                let key = key_of(os, r).unwrap_or_default();
                Value::Object(member(&ctx.base, os, &key, r, &select, keep_nulls))
            })
            .collect();
        let here = page_href(&ctx, page_no);
        let mut info = Map::new();
        info.insert("href".into(), json!(here));
        info.insert("pagenum".into(), json!(page_no));
        if page_no < pages {
            info.insert(
                "nextPage".into(),
                json!({"href": page_href(&ctx, page_no + 1)}),
            );
        }
        if page_no > 1 {
            info.insert(
                "previousPage".into(),
                json!({"href": page_href(&ctx, page_no - 1)}),
            );
        }
        if ctx.flag("collectioncount") {
            info.insert("totalCount".into(), json!(total));
            info.insert("totalPages".into(), json!(pages));
        }
        json!({
            "member": members,
            "href": format!("{}/os/{}", ctx.base, os.name()),
            "responseInfo": info,
        })
    };
    let tamper = *s.list_tamper.lock().unwrap_or_else(PoisonError::into_inner);
    match tamper {
        Some(tamper) => Ok(tampered(&ctx, tamper, body, page_no)),
        None => Ok(ctx.render(StatusCode::OK, body)),
    }
}

/// Collection answer `body` of page `page_no`, spoiled as `tamper` says.
fn tampered(ctx: &Ctx, tamper: ListTamper, mut body: Value, page_no: usize) -> Response {
    fn set_next(body: &mut Value, next: Value) {
        if let Some(info) = body.get_mut("responseInfo").and_then(Value::as_object_mut) {
            info.insert("nextPage".into(), next);
        }
    }
    match tamper {
        ListTamper::NotJson => {
            let mut response = Response::new(Body::from(
                "<html><head><title>Error 500</title></head><body>SRVE0295E: Error reported: 500</body></html>",
            ));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=UTF-8"),
            );
            return response;
        }
        ListTamper::NoMember => {
            if let Some(map) = body.as_object_mut() {
                map.remove("member");
            }
        }
        ListTamper::MembersNotRecords => {
            if let Some(map) = body.as_object_mut() {
                map.insert("member".into(), json!([1, "x", null]));
            }
        }
        ListTamper::ForeignNextPage => {
            let own = page_href(ctx, page_no + 1);
            let path = own
                .find("/maximo/")
                .map_or(own.as_str(), |at| &own[at..])
                .to_owned();
            set_next(
                &mut body,
                json!({ "href": format!("http://mirror.invalid{path}") }),
            );
        }
        ListTamper::RepeatedNextPage => {
            set_next(&mut body, json!({ "href": page_href(ctx, page_no) }));
        }
        ListTamper::NextPageAsString => set_next(&mut body, json!(page_href(ctx, page_no + 1))),
    }
    ctx.render(StatusCode::OK, body)
}

/// The collection URL of page `n`: the request's parameters with `pageno` replaced.
fn page_href(ctx: &Ctx, n: usize) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in ctx
        .params
        .iter()
        .filter(|(k, _)| k != "pageno" && k != "apikey")
    {
        q.append_pair(k, v);
    }
    q.append_pair("pageno", &n.to_string());
    format!("{}/os/{}?{}", ctx.base, ctx.os.name(), q.finish())
}

async fn get_one(
    State(s): State<Arc<Shared>>,
    Path((root, os, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Handled {
    let ctx = Ctx::new(&headers, &root, &os, raw.as_deref())?;
    let select = match ctx.param("oslc.select").or(ctx.param("oslc.properties")) {
        Some(sel) if !sel.trim().is_empty() => {
            Select::parse(ctx.os, sel).map_err(|e| ctx.bad(e.0))?
        }
        _ => Select::All,
    };
    let keep_nulls = ctx.param("_dropnulls") == Some("0");
    let store = s.read();
    let key = ctx.existing(&store, &id)?;
    let Some(r) = store.get(ctx.os, &key) else {
        return Err(ctx.bad("record vanished".to_owned()));
    };
    let body = Value::Object(member(&ctx.base, ctx.os, &key, r, &select, keep_nulls));
    Ok(with_header(
        ctx.render(StatusCode::OK, body),
        "etag",
        &etag_of(r),
    ))
}

async fn post_collection(
    State(s): State<Arc<Shared>>,
    Path((root, os)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let ctx = Ctx::new(&headers, &root, &os, raw.as_deref())?;
    let txn = check_transaction(&s, &ctx, &headers)?;
    let override_ = header_text(&headers, "x-method-override").map(str::to_ascii_uppercase);
    match override_.as_deref() {
        Some("BULK") => bulk(&s, &ctx, &headers, &body, txn),
        None => create(&s, &ctx, &headers, &body, txn),
        Some(other) => Err(ctx.bad(format!(
            "x-method-override {other} is not supported on a collection."
        ))),
    }
}

fn create(
    s: &Shared,
    ctx: &Ctx,
    headers: &HeaderMap,
    body: &Bytes,
    txn: Option<String>,
) -> Handled {
    let props = properties(ctx, headers)?;
    let Value::Object(map) = json_body(ctx, body)? else {
        return Err(ctx.bad("A create takes one JSON object.".to_owned()));
    };
    let w = s.writer();
    let mut store = s.write();
    let record = write::create(ctx.os, &mut store, &map, &w).map_err(|e| ctx.fail(&e))?;
    let Some(key) = store.insert_created(ctx.os, record) else {
        return Err(ctx.bad("The record already exists.".to_owned()));
    };
    s.commit_transaction(txn.as_deref());
    let Some(stored) = store.get(ctx.os, &key) else {
        return Err(ctx.bad("record vanished".to_owned()));
    };
    let location = href(&ctx.base, ctx.os, &key);
    let response = match props {
        Some(select) => ctx.render(
            StatusCode::CREATED,
            Value::Object(member(&ctx.base, ctx.os, &key, stored, &select, false)),
        ),
        None => empty(StatusCode::CREATED),
    };
    let response = with_header(response, "location", &location);
    Ok(with_header(response, "etag", &etag_of(stored)))
}

fn bulk(s: &Shared, ctx: &Ctx, headers: &HeaderMap, body: &Bytes, txn: Option<String>) -> Handled {
    let Value::Array(items) = json_body(ctx, body)? else {
        return Err(ctx.bad("A BULK request takes a JSON array.".to_owned()));
    };
    let merge = header_text(headers, "patchtype").is_some_and(|p| p.eq_ignore_ascii_case("MERGE"));
    let w = s.writer();
    let mut store = s.write();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let outcome = bulk_item(ctx, &mut store, &item, merge, &w);
        out.push(match outcome {
            Ok((status, location)) => {
                let mut meta = Map::new();
                meta.insert("status".into(), json!(status.to_string()));
                if let Some(l) = location {
                    meta.insert("Location".into(), json!(l));
                }
                json!({ "_responsemeta": meta })
            }
            Err(e) => json!({
                "_responsedata": e.body(&ctx.base),
                "_responsemeta": {"status": e.status.to_string()},
            }),
        });
    }
    s.commit_transaction(txn.as_deref());
    Ok(respond(StatusCode::OK, &Value::Array(out)))
}

/// One item of a BULK request: `(status, Location)` or the error. Each item is committed on
/// its own, as Maximo does.
fn bulk_item(
    ctx: &Ctx,
    store: &mut Store,
    item: &Value,
    merge: bool,
    w: &Writer<'_>,
) -> Result<(u16, Option<String>), MaxError> {
    let Value::Object(map) = item else {
        return Err(MaxError::plain(
            400,
            None,
            "A BULK item must be an object.".to_owned(),
        ));
    };
    let action = map
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("_action"))
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("Add")
        .to_ascii_lowercase();
    let target = || -> Result<String, MaxError> {
        let h = map.get("href").and_then(Value::as_str).unwrap_or_default();
        let id = h.rsplit('/').next().unwrap_or_default();
        key_of_rest_id(id)
            .filter(|k| store.exists(ctx.os, k))
            .ok_or_else(|| MaxError::plain(404, None, format!("The resource {h} does not exist.")))
    };
    match action.as_str() {
        "add" => {
            let record = write::create(ctx.os, store, map, w)?;
            let key = store.insert_created(ctx.os, record).ok_or_else(|| {
                MaxError::plain(400, None, "The record already exists.".to_owned())
            })?;
            Ok((201, Some(href(&ctx.base, ctx.os, &key))))
        }
        "update" => {
            let key = target()?;
            let current = store.get(ctx.os, &key).cloned().unwrap_or_default();
            let next = write::update(ctx.os, store, &current, map, merge, w)?;
            store.replace(ctx.os, &key, next);
            Ok((204, None))
        }
        "delete" => {
            let key = target()?;
            if let Some(refusal) = store
                .get(ctx.os, &key)
                .and_then(|r| write::delete_refusal(ctx.os, store, r))
            {
                return Err(refusal);
            }
            store.remove(ctx.os, &key);
            Ok((204, None))
        }
        other => Err(MaxError::plain(
            400,
            None,
            format!("_action {other} is not supported."),
        )),
    }
}

async fn post_member(
    State(s): State<Arc<Shared>>,
    Path((root, os, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let ctx = Ctx::new(&headers, &root, &os, raw.as_deref())?;
    let override_ = header_text(&headers, "x-method-override").map(str::to_ascii_uppercase);
    if override_.as_deref() != Some("PATCH") {
        return Err(ctx.bad(
            "A POST on a resource needs x-method-override: PATCH (update or action).".to_owned(),
        ));
    }
    let props = properties(&ctx, &headers)?;
    let txn = check_transaction(&s, &ctx, &headers)?;
    let Value::Object(map) = json_body(&ctx, &body)? else {
        return Err(ctx.bad("An update takes one JSON object.".to_owned()));
    };
    let w = s.writer();
    let mut store = s.write();
    let key = ctx.existing(&store, &id)?;
    let current = store.get(ctx.os, &key).cloned().unwrap_or_default();
    if let Some(expected) = header_text(&headers, "if-match")
        && expected != "*"
    {
        let current_tag = etag_of(&current);
        let given = expected.trim_start_matches("W/");
        let matches = given == current_tag || format!("\"{given}\"") == current_tag;
        if !matches {
            return Err(ctx.fail(&MaxError::plain(
                412,
                None,
                format!(
                    "The {} record {key} has been updated by another user; read it again.",
                    ctx.os.mbo().to_ascii_uppercase()
                ),
            )));
        }
    }
    let next = match ctx.param("action") {
        Some(action) => {
            if !action.eq_ignore_ascii_case("wsmethod:changeStatus") || !ctx.os.has_change_status()
            {
                return Err(ctx.bad(format!(
                    "The action {action} is not defined for {}.",
                    ctx.os.name().to_ascii_uppercase()
                )));
            }
            let Some(status) = map.get("status").and_then(Value::as_str) else {
                return Err(ctx.fail(&MaxError::attr(
                    ctx.os,
                    "status",
                    None,
                    "changeStatus needs a status.".to_owned(),
                )));
            };
            let mut r = current.clone();
            write::change_status(ctx.os, &mut r, status, &w).map_err(|e| ctx.fail(&e))?;
            r
        }
        None => {
            let merge =
                header_text(&headers, "patchtype").is_some_and(|p| p.eq_ignore_ascii_case("MERGE"));
            write::update(ctx.os, &mut store, &current, &map, merge, &w)
                .map_err(|e| ctx.fail(&e))?
        }
    };
    store.replace(ctx.os, &key, next);
    s.commit_transaction(txn.as_deref());
    let Some(stored) = store.get(ctx.os, &key) else {
        return Err(ctx.bad("record vanished".to_owned()));
    };
    let response = match props {
        Some(select) => ctx.render(
            StatusCode::OK,
            Value::Object(member(&ctx.base, ctx.os, &key, stored, &select, false)),
        ),
        None => empty(StatusCode::NO_CONTENT),
    };
    Ok(with_header(response, "etag", &etag_of(stored)))
}

async fn delete_one(
    State(s): State<Arc<Shared>>,
    Path((root, os, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Handled {
    let ctx = Ctx::new(&headers, &root, &os, raw.as_deref())?;
    let txn = check_transaction(&s, &ctx, &headers)?;
    let mut store = s.write();
    let key = ctx.existing(&store, &id)?;
    if let Some(refusal) = store
        .get(ctx.os, &key)
        .and_then(|r| write::delete_refusal(ctx.os, &store, r))
    {
        return Err(ctx.fail(&refusal));
    }
    store.remove(ctx.os, &key);
    s.commit_transaction(txn.as_deref());
    Ok(empty(StatusCode::OK))
}
