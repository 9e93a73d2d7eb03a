//! The HTTP surface of the SAP simulator: the request pipeline and the OData V2 resource
//! handlers, shared by direct requests and the requests inside a `$batch`.
//!
//! Pipeline, in order: record the request (as received) → faults (latency, dropped connection,
//! forced status) → `sap-client` (absent: the user's default client; unknown: logon refused) →
//! HTTP basic authentication (`401`) → session cookie and CSRF (`X-CSRF-Token: Fetch` on a read
//! issues a token bound to the session; a modifying request without the token and the session
//! cookie gets `403` with `x-csrf-token: Required`) → the resource.
//!
//! Resources under `/sap/opu/odata/sap/<SERVICE>/`:
//!
//! | request | answer |
//! |---|---|
//! | `GET /` | service document `{"d":{"EntitySets":[…]}}` |
//! | `GET /$metadata` | EDMX with the simulated entity sets and their `sap:` flags |
//! | `GET /<Set>` | `{"d":{"results":[…],"__count":"N","__next":"…$skiptoken=…"}}` |
//! | `GET /<Set>(<key>)` | `{"d":{…}}` with `ETag` |
//! | `GET /<Set>(<key>)/<nav>` | `{"d":{"results":[…]}}` |
//! | `POST /<Set>` (deep insert allowed) | `201` `{"d":{…}}`, `Location`, `sap-message` |
//! | `POST /<Set>(<key>)/<nav>` | `201` (items of a purchase order, operations of an order) |
//! | `PATCH` / `MERGE` / `PUT /<Set>(<key>)` | `204`; `428` without `If-Match`, `412` on a stale one |
//! | `DELETE /<Set>(<key>)` | `204`; `501` where `sap:deletable="false"` |
//! | `POST /<FunctionImport>?<params>` | `200` `{"d":{"IsInvalid":false}}`; `400` when the status forbids it |
//! | `POST /$batch` | `202` `multipart/mixed`, one part per retrieval and per change set |
//!
//! Errors carry SAP's body (`{"error":{"code","message":{"lang","value"},"innererror"}}`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::batch::{self, InnerRequest, InnerResponse, Part, PartResponse};
use super::errors::SapError;
use super::malform::{Answer, Malformations};
use super::model::{Edm, FunctionImport, Service, Set, function_import};
use super::query::{self, Options};
use super::store::{Key, Store, key_of, key_text, not_implemented};
use super::values::{from_literal, render};
use crate::clock::{format_ms, now_ms};
use crate::faults::{Faults, dropped_response, truncate_response};
use crate::recorder::{RecordedRequest, Recorder};

/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// The path prefix of every OData V2 service.
pub(crate) const PREFIX: &str = "/sap/opu/odata/sap/";

/// Settings the pipeline needs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) default_client: String,
    pub(crate) clients: Vec<String>,
    pub(crate) system_id: String,
    pub(crate) page_size: usize,
    pub(crate) paging: super::ServerPaging,
    pub(crate) unstable_order: bool,
    pub(crate) csrf: bool,
    pub(crate) batch_stops_at_first_failure: bool,
    pub(crate) batch_echoes_content_id: bool,
    pub(crate) omit_status_text: bool,
    pub(crate) etag_required: bool,
}

/// A login session with its CSRF token.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    tokens: HashMap<String, String>,
    issued: u64,
    /// Modifying requests that will find their session expired (fault injection).
    pub(crate) expire_on_write: usize,
}

/// State shared by the handlers and the [`super::SapSim`] handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    pub(crate) store: RwLock<Store>,
    pub(crate) recorder: Recorder,
    pub(crate) faults: Faults,
    pub(crate) sessions: Mutex<Sessions>,
    pub(crate) malformations: Mutex<Malformations>,
    /// Collection reads served (salts the order of [`Settings::unstable_order`]).
    pub(crate) reads: std::sync::atomic::AtomicU64,
}

impl Shared {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn malformations(&self) -> std::sync::MutexGuard<'_, Malformations> {
        self.malformations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(entry).with_state(shared)
}

/// A response before it becomes an axum response (also the form of a `$batch` part).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.to_string().into_bytes(),
        }
    }

    fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn text(status: u16, content_type: &str, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn error(e: &SapError) -> Reply {
        let now = now_ms();
        let transaction = format!("{:032X}", now.unsigned_abs() as u128 * 2_654_435_761);
        let stamp: String = format_ms(now)
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        Reply::json(
            e.status,
            &e.body(
                &transaction,
                &format!("{}0000", &stamp[..stamp.len().min(17)]),
            ),
        )
        .with("dataserviceversion", "1.0")
    }

    fn with(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (k, v) in self.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
                response.headers_mut().append(k, v);
            }
        }
        response
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

// ---------------------------------------------------------------------------------- pipeline

async fn entry(State(s): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let (bytes, too_large) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => (bytes, false),
        Err(_) => (Bytes::new(), true),
    };
    s.recorder.push(RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
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
    let mut reply = if let Some(status) = plan.fail {
        forced(status)
    } else if too_large {
        Reply::error(&SapError::new(
            413,
            "/IWBEP/CM_MGW_RT/022",
            "Request body too large",
        ))
    } else {
        pipeline(
            &s,
            parts.method.as_str(),
            &parts.uri,
            &parts.headers,
            &bytes,
        )
    };
    let request_url = format!(
        "http://{}{}",
        header(&parts.headers, "host").unwrap_or("localhost"),
        parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path(), |pq| pq.as_str())
    );
    s.malformations().apply(
        Answer {
            status: reply.status,
            headers: &mut reply.headers,
            body: &mut reply.body,
        },
        &request_url,
    );
    let response = reply.into_response();
    if plan.truncate {
        truncate_response(response).await
    } else {
        response
    }
}

/// The answer to a request picked by [`Faults::fail_next`]: the ICM's HTML error page for
/// 5xx, SAP's JSON error otherwise.
fn forced(status: u16) -> Reply {
    if status >= 500 {
        let html = format!(
            "<html><head><title>Service unavailable</title></head><body><h2>{status} Service cannot be reached</h2></body></html>"
        );
        Reply::text(status, "text/html; charset=utf-8", &html)
    } else if status == 429 {
        Reply::error(&SapError::new(
            429,
            "/IWFND/CM_BEC/076",
            "Too many requests",
        ))
        .with("retry-after", "2")
    } else {
        Reply::error(&SapError::new(
            status,
            "/IWBEP/CM_MGW_RT/000",
            "Forced error",
        ))
    }
}

fn pipeline(
    s: &Shared,
    method: &str,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let Some(rest) = uri.path().strip_prefix(PREFIX) else {
        return Reply::text(
            404,
            "text/html; charset=utf-8",
            "<html><body>Service cannot be reached</body></html>",
        );
    };
    let query_pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    // sap-client: the query parameter wins over the header; absent means the default client.
    let client = query_pairs
        .iter()
        .find(|(k, _)| k == "sap-client")
        .map(|(_, v)| v.clone())
        .or_else(|| header(headers, "sap-client").map(str::to_owned));
    let client = match client {
        None => s.settings.default_client.clone(),
        Some(c) if s.settings.clients.contains(&c) => c,
        Some(c) => return logon_refused(s, &format!("Client {c} is not available in this system")),
    };
    if !authenticated(s, headers) {
        return logon_refused(s, "Logon failed");
    }
    let cookie_name = format!("SAP_SESSIONID_{}_{client}", s.settings.system_id);
    let session = cookie(headers, &cookie_name);
    let modifying = !matches!(method, "GET" | "HEAD");
    let mut set_cookie = None;
    let mut issued_token = None;
    if !s.settings.csrf {
        // CSRF protection off: no token is issued, none is checked.
    } else if modifying {
        let mut sessions = s.sessions();
        if sessions.expire_on_write > 0 {
            sessions.expire_on_write -= 1;
            if let Some(id) = &session {
                sessions.tokens.remove(id);
            }
        }
        let sent = header(headers, "x-csrf-token");
        let valid = match (&session, sent) {
            (Some(id), Some(token)) => sessions.tokens.get(id).is_some_and(|t| t == token),
            _ => false,
        };
        if !valid {
            return Reply::text(
                403,
                "text/plain; charset=utf-8",
                "CSRF token validation failed",
            )
            .with("x-csrf-token", "Required");
        }
    } else if header(headers, "x-csrf-token").is_some_and(|v| v.eq_ignore_ascii_case("fetch")) {
        let mut sessions = s.sessions();
        let existing = session
            .as_ref()
            .and_then(|id| sessions.tokens.get(id).cloned().map(|t| (id.clone(), t)));
        let (id, token) = match existing {
            Some(pair) => pair,
            None => {
                sessions.issued += 1;
                let n = sessions.issued;
                let id = format!(
                    "{:016x}{:016x}",
                    now_ms().unsigned_abs().wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    n
                );
                let token = format!(
                    "{:x}{n:04}==",
                    now_ms().unsigned_abs().wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
                );
                sessions.tokens.insert(id.clone(), token.clone());
                set_cookie = Some(format!("{cookie_name}={id}; path=/; HttpOnly"));
                (id, token)
            }
        };
        let _ = id;
        issued_token = Some(token);
    }
    let origin = format!("http://{}", header(headers, "host").unwrap_or("localhost"));
    let ctx = Ctx {
        origin,
        json_accepted: accepts_json(headers),
        omit_status_text: s.settings.omit_status_text,
    };
    let mut reply = dispatch(
        s,
        &ctx,
        method,
        rest,
        uri.query(),
        headers_vec(headers),
        body,
    );
    if let Some(token) = issued_token {
        reply = reply.with("x-csrf-token", &token);
    }
    if let Some(c) = set_cookie {
        reply = reply.with("set-cookie", &c);
    }
    reply.with("sap-client", &client)
}

/// `401` as the ICF answers a failed logon: a basic-auth challenge and an HTML page.
fn logon_refused(s: &Shared, why: &str) -> Reply {
    let html = format!(
        "<html><head><title>Logon Error Message</title></head><body><p>{why}</p></body></html>"
    );
    Reply::text(401, "text/html; charset=utf-8", &html).with(
        "www-authenticate",
        &format!(
            "Basic realm=\"SAP NetWeaver Application Server [{}/{}]\"",
            s.settings.system_id, s.settings.default_client
        ),
    )
}

fn authenticated(s: &Shared, headers: &HeaderMap) -> bool {
    if s.faults.token_revoked() {
        return false;
    }
    let Some(encoded) = header(headers, "authorization").and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Some(decoded) = decode_base64(encoded.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    text.split_once(':')
        .is_some_and(|(u, p)| u.eq_ignore_ascii_case(&s.settings.user) && p == s.settings.password)
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0u32;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = u32::try_from(ALPHABET.iter().position(|a| *a == c)?).ok()?;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).ok()?);
        }
    }
    Some(out)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

fn accepts_json(headers: &HeaderMap) -> bool {
    header(headers, "accept").is_some_and(|a| a.contains("application/json") || a.contains("*/*"))
}

fn headers_vec(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn hv<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------------- dispatch

/// What a handler needs to know about the request's context.
#[derive(Debug, Clone)]
struct Ctx {
    /// `http://host:port`, for `__metadata.uri`, `__next` and `Location`.
    origin: String,
    json_accepted: bool,
    /// Leave `SystemStatusText` out of maintenance orders ([`Settings::omit_status_text`]).
    omit_status_text: bool,
}

/// A resource path inside a service.
#[derive(Debug)]
enum Resource {
    ServiceDocument,
    Metadata,
    Batch,
    Collection(Set),
    Count(Set),
    Entity(Set, Key),
    Navigation(Set, Key, &'static super::model::Nav),
    Function(&'static FunctionImport),
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Splits `rest` (after the prefix) into the service and its resource.
fn resolve(rest: &str) -> Result<(Service, Resource), SapError> {
    let (service_segment, path) = rest.split_once('/').unwrap_or((rest, ""));
    // `;v=0002` selects a service version; only one version is simulated.
    let service_name = service_segment.split(';').next().unwrap_or("");
    let service = Service::parse(service_name).ok_or_else(|| {
        SapError::new(
            404,
            "/IWFND/MED/170",
            format!("No service found for namespace '', name '{service_name}', version '0001'"),
        )
    })?;
    let path = percent_decode(path).ok_or_else(|| SapError::bad_request("Invalid URI encoding"))?;
    let resource = match path.as_str() {
        "" => Resource::ServiceDocument,
        "$metadata" => Resource::Metadata,
        "$batch" => Resource::Batch,
        _ => resource(service, &path)?,
    };
    Ok((service, resource))
}

fn resource(service: Service, path: &str) -> Result<Resource, SapError> {
    let (first, nav) = match split_segment(path) {
        Some((first, rest)) => (first, Some(rest)),
        None => (path, None),
    };
    let (name, predicate) = match first.find('(') {
        Some(at) if first.ends_with(')') => (&first[..at], Some(&first[at + 1..first.len() - 1])),
        Some(_) => return Err(SapError::bad_request(format!("Invalid segment '{first}'"))),
        None => (first, None),
    };
    if let Some(set) = Set::parse(service, name) {
        return match (predicate, nav) {
            (None, None) => Ok(Resource::Collection(set)),
            (None, Some("$count")) => Ok(Resource::Count(set)),
            (Some(p), None) => Ok(Resource::Entity(set, parse_key(set, p)?)),
            (Some(p), Some(n)) => {
                let key = parse_key(set, p)?;
                let nav = set.nav(n).ok_or_else(|| SapError::not_found(n))?;
                Ok(Resource::Navigation(set, key, nav))
            }
            (None, Some(other)) => Err(SapError::not_found(other)),
        };
    }
    if predicate.is_none()
        && nav.is_none()
        && let Some(f) = function_import(service, name)
    {
        return Ok(Resource::Function(f));
    }
    Err(SapError::not_found(name))
}

/// `Set(...)` and the rest after the first `/` outside quotes.
fn split_segment(path: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in path.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '/' if !quoted => return Some((&path[..i], &path[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Parses a key predicate: `'4000001'` for a single key, `A='x',B=datetime'…'` for composite
/// keys (a single key may be named too).
fn parse_key(set: Set, predicate: &str) -> Result<Key, SapError> {
    let invalid = || {
        SapError::bad_request(format!(
            "Invalid key predicate '({predicate})' for {}",
            set.name()
        ))
    };
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in predicate.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&predicate[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&predicate[start..]);
    let keys = set.keys();
    let mut values: Vec<Option<String>> = vec![None; keys.len()];
    if parts.len() == 1 && keys.len() == 1 && !parts[0].contains('=') {
        let prop = set.prop(keys[0]).ok_or_else(invalid)?;
        let v = from_literal(prop.edm, parts[0].trim()).ok_or_else(invalid)?;
        return Ok(vec![key_text(&v)]);
    }
    for part in parts {
        let (name, literal) = part.split_once('=').ok_or_else(invalid)?;
        let index = keys
            .iter()
            .position(|k| *k == name.trim())
            .ok_or_else(invalid)?;
        let prop = set.prop(keys[index]).ok_or_else(invalid)?;
        let v = from_literal(prop.edm, literal.trim()).ok_or_else(invalid)?;
        if values[index].replace(key_text(&v)).is_some() {
            return Err(invalid());
        }
    }
    values.into_iter().map(|v| v.ok_or_else(invalid)).collect()
}

/// The key predicate of `values` as SAP writes it in URIs.
fn key_predicate(set: Set, values: &Map<String, Value>) -> String {
    let literal = |name: &str| {
        let v = values.get(name).unwrap_or(&Value::Null);
        match set.prop(name).map(|p| p.edm) {
            Some(Edm::DateTime) => {
                let ms = v.as_i64().unwrap_or(0);
                format!("datetime'{}'", &format_ms(ms)[..19])
            }
            _ => format!("'{}'", key_text(v).replace('\'', "''")),
        }
    };
    let keys = set.keys();
    if keys.len() == 1 {
        literal(keys[0])
    } else {
        keys.iter()
            .map(|k| format!("{k}={}", literal(k)))
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn entity_uri(ctx: &Ctx, set: Set, values: &Map<String, Value>) -> String {
    let predicate = key_predicate(set, values)
        .replace('%', "%25")
        .replace(' ', "%20")
        .replace(':', "%3A");
    format!(
        "{}{PREFIX}{}/{}({predicate})",
        ctx.origin,
        set.service().name(),
        set.name()
    )
}

/// One entity in OData V2 JSON: `__metadata`, the (selected) properties, and each navigation
/// inline when expanded, deferred otherwise.
fn render_entity(
    ctx: &Ctx,
    store: &Store,
    set: Set,
    entity: &super::store::Entity,
    o: &Options,
) -> Value {
    let uri = entity_uri(ctx, set, &entity.values);
    let mut metadata = json!({
        "id": uri,
        "uri": uri,
        "type": format!("{}.{}", set.service().namespace(), set.type_name()),
    });
    if set.has_etag()
        && let Some(m) = metadata.as_object_mut()
    {
        m.insert("etag".into(), json!(entity.etag()));
    }
    let mut out = Map::new();
    out.insert("__metadata".into(), metadata);
    let selected = |name: &str| {
        !(ctx.omit_status_text && name == "SystemStatusText")
            && o.select
                .as_ref()
                .is_none_or(|s| s.iter().any(|x| x == name || x == "*"))
    };
    for prop in set.props() {
        if selected(prop.name) {
            out.insert(
                prop.name.into(),
                render(
                    prop.edm,
                    entity.values.get(prop.name).unwrap_or(&Value::Null),
                ),
            );
        }
    }
    for nav in set.navs() {
        // An expanded navigation comes only when `$select` (if any) names it too.
        if o.expand.contains(&nav.name) && selected(nav.name) {
            let children: Vec<Value> = store
                .children(&entity.values, nav.target, nav.link)
                .into_iter()
                .map(|c| render_entity(ctx, store, nav.target, c, &Options::default()))
                .collect();
            out.insert(nav.name.into(), json!({"results": children}));
        } else if selected(nav.name) {
            out.insert(
                nav.name.into(),
                json!({"__deferred": {"uri": format!("{uri}/{}", nav.name)}}),
            );
        }
    }
    Value::Object(out)
}

fn dispatch(
    s: &Shared,
    ctx: &Ctx,
    method: &str,
    rest: &str,
    query: Option<&str>,
    headers: Vec<(String, String)>,
    body: &[u8],
) -> Reply {
    match handle(s, ctx, method, rest, query, &headers, body) {
        Ok(reply) => reply,
        Err(e) => Reply::error(&e),
    }
}

fn handle(
    s: &Shared,
    ctx: &Ctx,
    method: &str,
    rest: &str,
    query: Option<&str>,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Reply, SapError> {
    let (service, resource) = resolve(rest)?;
    let set_of = match &resource {
        Resource::Collection(set) | Resource::Count(set) | Resource::Entity(set, _) => Some(*set),
        Resource::Navigation(_, _, nav) => Some(nav.target),
        _ => None,
    };
    let options = query::parse(query, set_of).map_err(SapError::bad_request)?;
    let wants_json = ctx.json_accepted || options.json;
    let needs_json = !matches!(
        resource,
        Resource::Metadata | Resource::Batch | Resource::Count(_)
    );
    if needs_json && !wants_json && method != "DELETE" {
        return Err(SapError::new(
            406,
            "/IWBEP/CM_MGW_RT/022",
            "The simulator answers OData V2 JSON only: send Accept: application/json or $format=json",
        ));
    }
    match (method, resource) {
        ("GET" | "HEAD", Resource::ServiceDocument) => Ok(Reply::json(
            200,
            &json!({"d": {"EntitySets": service.sets().iter().map(|s| s.name()).collect::<Vec<_>>()}}),
        )),
        ("GET" | "HEAD", Resource::Metadata) => Ok(Reply::text(
            200,
            "application/xml",
            &super::metadata::edmx(service),
        )),
        ("POST", Resource::Batch) => batch(s, ctx, service, headers, body),
        ("GET" | "HEAD", Resource::Collection(set)) => list(s, ctx, set, &options),
        ("GET" | "HEAD", Resource::Count(set)) => {
            let store = s.read();
            let n = store
                .records(set)
                .filter(|(_, e)| options.filter.as_ref().is_none_or(|f| f.matches(&e.values)))
                .count();
            Ok(Reply::text(200, "text/plain", &n.to_string()))
        }
        ("GET" | "HEAD", Resource::Entity(set, key)) => {
            let store = s.read();
            let entity = store
                .get(set, &key)
                .ok_or_else(|| SapError::not_found(set.name()))?;
            let mut reply = Reply::json(
                200,
                &json!({"d": render_entity(ctx, &store, set, entity, &options)}),
            );
            if set.has_etag() {
                reply = reply.with("etag", &entity.etag());
            }
            Ok(reply)
        }
        ("GET" | "HEAD", Resource::Navigation(set, key, nav)) => {
            let store = s.read();
            let parent = store
                .get(set, &key)
                .ok_or_else(|| SapError::not_found(set.name()))?;
            let mut rows: Vec<&Map<String, Value>> = store
                .children(&parent.values, nav.target, nav.link)
                .into_iter()
                .map(|e| &e.values)
                .collect();
            if let Some(f) = &options.filter {
                rows.retain(|r| f.matches(r));
            }
            query::sort(&mut rows, nav.target, &options.orderby);
            let results: Vec<Value> = rows
                .iter()
                .filter_map(|r| store.get(nav.target, &key_of(nav.target, r)))
                .map(|e| render_entity(ctx, &store, nav.target, e, &options))
                .collect();
            Ok(Reply::json(200, &json!({"d": {"results": results}})))
        }
        ("POST", Resource::Collection(set)) => {
            if !set.creatable() {
                return Err(not_implemented(set, "CREATE_ENTITY"));
            }
            create(s, ctx, set, None, body)
        }
        ("POST", Resource::Navigation(set, key, nav)) => {
            if !nav.insertable {
                return Err(not_implemented(nav.target, "CREATE_ENTITY"));
            }
            create(s, ctx, nav.target, Some((set, key, nav)), body)
        }
        ("PATCH" | "MERGE" | "PUT", Resource::Entity(set, key)) => {
            if !set.updatable() {
                return Err(not_implemented(set, "UPDATE_ENTITY"));
            }
            update(s, set, &key, method == "PUT", headers, body)
        }
        ("DELETE", Resource::Entity(set, key)) => {
            if !set.deletable() {
                return Err(not_implemented(set, "DELETE_ENTITY"));
            }
            let mut store = s.write();
            let entity = store
                .get(set, &key)
                .ok_or_else(|| SapError::not_found(set.name()))?;
            check_if_match(s, set, &entity.etag(), headers)?;
            store.delete(set, &key, now_ms())?;
            Ok(Reply::empty(204))
        }
        ("POST", Resource::Function(f)) => call(s, f, &options),
        ("GET", Resource::Function(f)) => Err(SapError::new(
            405,
            "/IWBEP/CM_MGW_RT/022",
            format!("Function import {} can only be called with POST", f.name),
        )),
        (m, _) => Err(SapError::new(
            405,
            "/IWBEP/CM_MGW_RT/022",
            format!("Method {m} is not allowed for this resource"),
        )),
    }
}

/// `__next`: the request URL with `$skiptoken` set to where the next page starts (the other
/// parameters as the client wrote them).
fn next_link(ctx: &Ctx, set: Set, o: &Options, skiptoken: usize) -> String {
    let mut parts: Vec<&str> = o
        .raw
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            url::form_urlencoded::parse(p.as_bytes())
                .next()
                .is_none_or(|(k, _)| k != "$skiptoken")
        })
        .collect();
    let token = format!("$skiptoken={skiptoken}");
    parts.push(&token);
    format!(
        "{}{PREFIX}{}/{}?{}",
        ctx.origin,
        set.service().name(),
        set.name(),
        parts.join("&")
    )
}

/// A collection read: filter, order, `$skip`/`$top` window, then server-driven paging
/// (`$skiptoken` is the offset from `$skip`) as [`Settings::paging`] says.
fn list(s: &Shared, ctx: &Ctx, set: Set, o: &Options) -> Result<Reply, SapError> {
    use super::ServerPaging;
    let store = s.read();
    let mut rows: Vec<&Map<String, Value>> = store.records(set).map(|(_, e)| &e.values).collect();
    if let Some(f) = &o.filter {
        rows.retain(|r| f.matches(r));
    }
    if s.settings.unstable_order {
        // Another arrangement on every read; a stable sort by `$orderby` alone keeps it
        // among ties, as a database does without a total ORDER BY.
        let salt = s.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        rows.sort_by_cached_key(|r| scramble(&key_of(set, r), salt));
        query::sort_by(&mut rows, set, &o.orderby);
    } else {
        query::sort(&mut rows, set, &o.orderby);
    }
    let total = rows.len();
    let window_start = o.skip.min(total);
    let window_end = o
        .top
        .map_or(total, |t| window_start.saturating_add(t).min(total));
    let offset = o.skiptoken.unwrap_or(0);
    let page = s.settings.page_size;
    let (page_start, page_end, linked_end) = match s.settings.paging {
        ServerPaging::WithinWindow => {
            let start = window_start.saturating_add(offset).min(window_end);
            (
                start,
                start.saturating_add(page).min(window_end),
                window_end,
            )
        }
        ServerPaging::PastWindow if o.skiptoken.is_some() => {
            let start = window_start.saturating_add(offset).min(total);
            (start, start.saturating_add(page).min(total), total)
        }
        ServerPaging::PastWindow => {
            let end = window_start.saturating_add(page).min(window_end);
            (window_start, end, total)
        }
        ServerPaging::CapWithoutNext => {
            let start = window_start.saturating_add(offset).min(window_end);
            let end = start.saturating_add(page).min(window_end);
            (start, end, end)
        }
        ServerPaging::IgnoreTop => {
            let start = window_start.saturating_add(offset).min(total);
            (start, start.saturating_add(page).min(total), total)
        }
    };
    let results: Vec<Value> = rows[page_start..page_end]
        .iter()
        .filter_map(|r| store.get(set, &key_of(set, r)))
        .map(|e| render_entity(ctx, &store, set, e, o))
        .collect();
    let mut d = Map::new();
    d.insert("results".into(), Value::Array(results));
    if o.inlinecount {
        d.insert("__count".into(), json!(total.to_string()));
    }
    if page_end < linked_end {
        d.insert(
            "__next".into(),
            json!(next_link(ctx, set, o, page_end - window_start)),
        );
    }
    Ok(Reply::json(200, &json!({"d": d})))
}

/// A number that orders `key` differently for every `salt` (FNV-1a over both).
fn scramble(key: &Key, salt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in format!("{key:?}").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn object(body: &[u8]) -> Result<Map<String, Value>, SapError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(SapError::bad_request(
            "The request body must be a JSON object",
        )),
        Err(e) => Err(SapError::bad_request(format!(
            "Malformed JSON in the request body: {e}"
        ))),
    }
}

fn create(
    s: &Shared,
    ctx: &Ctx,
    set: Set,
    parent: Option<(Set, Key, &'static super::model::Nav)>,
    body: &[u8],
) -> Result<Reply, SapError> {
    let body = object(body)?;
    let mut store = s.write();
    let now = now_ms();
    let (key, message) = match &parent {
        Some((parent_set, parent_key, nav)) => {
            let mut staged = body.clone();
            // The link comes from the parent, whatever the body says.
            for (_, to) in nav.link {
                staged.remove(*to);
            }
            store.create_child(set, &staged, *parent_set, parent_key, nav.link, now)?
        }
        None => store.create(set, &body, now)?,
    };
    let entity = store
        .get(set, &key)
        .ok_or_else(|| SapError::not_found(set.name()))?;
    let expand_all = Options {
        expand: set
            .navs()
            .iter()
            .filter(|n| body.contains_key(n.name))
            .map(|n| n.name)
            .collect(),
        ..Options::default()
    };
    let mut reply = Reply::json(
        201,
        &json!({"d": render_entity(ctx, &store, set, entity, &expand_all)}),
    )
    .with("location", &entity_uri(ctx, set, &entity.values));
    if set.has_etag() {
        reply = reply.with("etag", &entity.etag());
    }
    if let Some(m) = message {
        reply = reply.with("sap-message", &m);
    }
    Ok(reply)
}

fn check_if_match(
    s: &Shared,
    set: Set,
    current: &str,
    headers: &[(String, String)],
) -> Result<(), SapError> {
    if !set.has_etag() {
        return Ok(());
    }
    match hv(headers, "if-match") {
        None if s.settings.etag_required => Err(SapError::new(
            428,
            "SADL_ENTITY_RUNTIME/006",
            format!(
                "Precondition required: send the ETag of the {} in If-Match (If-Match missing)",
                set.name()
            ),
        )),
        None => Ok(()),
        Some("*") => Ok(()),
        Some(sent) if sent.split(',').any(|t| t.trim() == current) => Ok(()),
        // [U: message code]
        Some(_) => Err(SapError::new(
            412,
            "/IWBEP/CM_MGW_RT/098",
            format!(
                "The {} was changed in the meantime: the ETag in If-Match is out of date",
                set.name()
            ),
        )),
    }
}

fn update(
    s: &Shared,
    set: Set,
    key: &Key,
    replace: bool,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Reply, SapError> {
    let mut body = object(body)?;
    let mut store = s.write();
    let entity = store
        .get(set, key)
        .ok_or_else(|| SapError::not_found(set.name()))?;
    check_if_match(s, set, &entity.etag(), headers)?;
    if replace {
        // PUT replaces: updatable properties not sent are reset to their initial value.
        for prop in set.props().iter().filter(|p| p.updatable) {
            body.entry(prop.name.to_owned()).or_insert(Value::Null);
        }
    }
    store.update(set, key, &body, now_ms())?;
    Ok(Reply::empty(204))
}

fn call(s: &Shared, f: &FunctionImport, o: &Options) -> Result<Reply, SapError> {
    let mut params = Map::new();
    for (name, value) in &o.custom {
        if name == "sap-client" {
            continue;
        }
        let Some((_, edm, _)) = f.params.iter().find(|(p, _, _)| p == name) else {
            return Err(SapError::bad_request(format!(
                "Parameter '{name}' is not a parameter of function import {}",
                f.name
            )));
        };
        let v = from_literal(*edm, value).ok_or_else(|| {
            SapError::bad_request(format!("Invalid value {value} for parameter '{name}'"))
        })?;
        params.insert(name.clone(), v);
    }
    for (name, _, required) in f.params {
        if *required && !params.contains_key(*name) {
            return Err(SapError::bad_request(format!(
                "Parameter '{name}' of function import {} is missing",
                f.name
            )));
        }
    }
    let key: Key = f
        .set
        .keys()
        .iter()
        .map(|k| key_text(params.get(*k).unwrap_or(&Value::Null)))
        .collect();
    let mut store = s.write();
    if store.get(f.set, &key).is_none() {
        return Err(SapError::not_found(f.set.name()));
    }
    store.call(f, &key, now_ms())?;
    let ns = f.set.service().namespace();
    Ok(Reply::json(
        200,
        &json!({"d": {"__metadata": {"type": format!("{ns}.DummyFunctionImportResult")}, "IsInvalid": false}}),
    ))
}

// ------------------------------------------------------------------------------------ $batch

fn batch(
    s: &Shared,
    ctx: &Ctx,
    service: Service,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Reply, SapError> {
    let content_type = hv(headers, "content-type").unwrap_or("");
    let boundary = batch::boundary(content_type).ok_or_else(|| {
        SapError::bad_request("A $batch request needs Content-Type multipart/mixed with a boundary")
    })?;
    let parts = batch::parse(body, &boundary).map_err(SapError::bad_request)?;
    let mut answers = Vec::new();
    for part in parts {
        match part {
            Part::Query(r) => answers.push(PartResponse::Single(inner(s, ctx, service, &r))),
            Part::ChangeSet(requests) => {
                // A change set succeeds or fails as a whole.
                let snapshot = (requests.len() > 1).then(|| s.read().clone());
                let mut responses = Vec::new();
                let mut failed = None;
                for r in &requests {
                    let answer = inner(s, ctx, service, r);
                    if answer.status >= 400 {
                        failed = Some(answer);
                        break;
                    }
                    responses.push(answer);
                }
                match failed {
                    Some(error) => {
                        if let Some(snapshot) = snapshot {
                            *s.write() = snapshot;
                        }
                        answers.push(PartResponse::Single(error));
                        if s.settings.batch_stops_at_first_failure {
                            // Later change sets are not run and get no part.
                            break;
                        }
                    }
                    None => answers.push(PartResponse::ChangeSet(responses)),
                }
            }
        }
    }
    let response_boundary = format!(
        "{:X}",
        now_ms().unsigned_abs().wrapping_mul(0x2545_F491_4F6C_DD1D)
    );
    Ok(Reply {
        status: 202,
        headers: vec![(
            "content-type".into(),
            format!("multipart/mixed; boundary={response_boundary}"),
        )],
        body: batch::write(&answers, &response_boundary),
    })
}

/// Runs one request of a batch (relative to the service root, already authenticated).
fn inner(s: &Shared, ctx: &Ctx, service: Service, r: &InnerRequest) -> InnerResponse {
    let target = r.target.trim_start_matches('/');
    let target = target
        .strip_prefix(PREFIX.trim_start_matches('/'))
        .and_then(|t| t.split_once('/').map(|(_, rest)| rest))
        .unwrap_or(target);
    let (path, query) = target
        .split_once('?')
        .map_or((target, None), |(p, q)| (p, Some(q)));
    let rest = format!("{}/{path}", service.name());
    let ctx = Ctx {
        origin: ctx.origin.clone(),
        json_accepted: hv(&r.headers, "accept").is_some_and(|a| a.contains("json"))
            || ctx.json_accepted,
        omit_status_text: ctx.omit_status_text,
    };
    let reply = if path == "$batch" {
        Reply::error(&SapError::bad_request("A $batch may not contain a $batch"))
    } else {
        dispatch(s, &ctx, &r.method, &rest, query, r.headers.clone(), &r.body)
    };
    InnerResponse {
        status: reply.status,
        headers: reply.headers,
        body: reply.body,
        content_id: s
            .settings
            .batch_echoes_content_id
            .then(|| r.content_id.clone())
            .flatten(),
    }
}
