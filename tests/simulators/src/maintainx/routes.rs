//! The HTTP surface of the MaintainX simulator: routes, the request pipeline every request goes
//! through, and the handlers.
//!
//! Pipeline, in order: record the request (headers and body as received) → decide faults →
//! injected latency → dropped connection → forced status → bearer token (401) → multi-org
//! headers → rate limit (429) → handler. Every response carries `X-Rate-Limit-Limit`,
//! `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset`; a response picked for truncation is cut
//! in half on the way out.
//!
//! Endpoints (all under `/v1`, all seven resources unless noted), with the spec's answers:
//!
//! | request | answer |
//! |---|---|
//! | `GET /<r>` | 200 `{"<plural>": [...], "nextCursor", "nextPageUrl"}`; 400 `{"error"}` on a bad query |
//! | `GET /<r>/{id}` | 200 `{"<singular>": {...}}`; 404 `{"error": "Not Found."}` |
//! | `POST /<r>` | work orders, locations: 200 `{"id"}`; assets, parts, vendors, users: 201 `{"id"}`; purchase orders: 201 with the full record |
//! | `PATCH /<r>/{id}` | 200 `{"<singular>": {...}}`; 400 `{"errors": [...]}`; 404 |
//! | `PATCH /workorders/{id}/status` | 200 `{"workOrder": {...}}` |
//! | `PATCH /purchaseorders/{id}/status` | 200 `{"purchaseOrder": {...}}`; 403 on a transition the spec does not allow |
//! | `DELETE /<r>/{id}` | 204; 404 `{"error": "<noun> Not Found"}` |

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use super::query::{ListQuery, page};
use super::resources::{
    CreateReply, Kind, PO_SETTABLE_STATUSES, WO_SETTABLE_STATUSES, po_transition_allowed,
};
use super::seed::{API_USER_ID, ORGANIZATION_ID};
use super::store::{Record, Store};
use super::validate::{self, Op};
use super::views::{self, Shaped};
use crate::clock::{format_ms, now_ms, parse_ms};
use crate::faults::{Faults, dropped_response, truncate_response};
use crate::rate_limit::{FixedWindow, RateStatus};
use crate::recorder::{RecordedRequest, Recorder};

/// Largest request body accepted (the vendor documents 1 MB for attachments; JSON bodies are
/// far smaller).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// State shared by the handlers and the [`super::MaintainxSim`] handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) token: String,
    pub(crate) store: RwLock<Store>,
    pub(crate) recorder: Recorder,
    pub(crate) faults: Faults,
    pub(crate) rate: FixedWindow,
}

impl Shared {
    /// Read access to the store (never held across an `.await`).
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The simulator's router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/{resource}", get(list).post(create))
        .route(
            "/v1/{resource}/{id}",
            get(get_one).patch(update).delete(delete),
        )
        .route("/v1/{resource}/{id}/status", patch(change_status))
        .fallback(route_not_found)
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
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
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

    let response = if let Some(status) = plan.fail {
        forced(&s, status)
    } else if !authorized(&s, &parts.headers) {
        with_rate_headers(
            error(StatusCode::UNAUTHORIZED, "Invalid token"),
            s.rate.peek(),
        )
    } else if let Some(refusal) = organization_header_error(&parts.headers) {
        with_rate_headers(refusal, s.rate.peek())
    } else {
        let budget = s.rate.take();
        if !budget.allowed {
            too_many_requests(budget)
        } else if too_large {
            with_rate_headers(
                errors(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large"),
                budget,
            )
        } else {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            with_rate_headers(response, budget)
        }
    };

    if plan.truncate {
        truncate_response(response).await
    } else {
        response
    }
}

/// `Authorization: Bearer <token>` with the configured token, while it is not revoked.
fn authorized(s: &Shared, headers: &HeaderMap) -> bool {
    if s.faults.token_revoked() {
        return false;
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token.trim() == s.token
        })
}

/// The token is single-organization: `x-organization-id` is accepted but not required. The
/// spec forbids sending it together with `x-organization-ids`.
fn organization_header_error(headers: &HeaderMap) -> Option<Response> {
    let one = headers.get("x-organization-id");
    let many = headers.get("x-organization-ids");
    if one.is_some() && many.is_some() {
        return Some(errors(
            StatusCode::BAD_REQUEST,
            "You cannot use both x-organization-id and x-organization-ids headers.",
        ));
    }
    if let Some(value) = one
        && value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_none()
    {
        return Some(errors(
            StatusCode::BAD_REQUEST,
            "Invalid x-organization-id header.",
        ));
    }
    None
}

/// The answer to a request picked by [`Faults::fail_next`].
fn forced(s: &Shared, status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let budget = s.rate.peek();
    match code {
        StatusCode::TOO_MANY_REQUESTS => too_many_requests(RateStatus {
            remaining: 0,
            ..budget
        }),
        StatusCode::UNAUTHORIZED => with_rate_headers(error(code, "Invalid token"), budget),
        StatusCode::INTERNAL_SERVER_ERROR => {
            with_rate_headers(error(code, "Internal server error."), budget)
        }
        _ => {
            let reason = code.canonical_reason().unwrap_or("Error");
            with_rate_headers(error(code, reason), budget)
        }
    }
}

/// The vendor's 429: `{"error": "Too many requests. Please retry in N seconds"}`.
fn too_many_requests(budget: RateStatus) -> Response {
    let body = json!({
        "error": format!("Too many requests. Please retry in {} seconds", budget.reset_secs)
    });
    with_rate_headers(respond(StatusCode::TOO_MANY_REQUESTS, &body), budget)
}

fn with_rate_headers(mut response: Response, budget: RateStatus) -> Response {
    let headers = response.headers_mut();
    headers.insert("x-rate-limit-limit", HeaderValue::from(budget.limit));
    headers.insert(
        "x-rate-limit-remaining",
        HeaderValue::from(budget.remaining),
    );
    headers.insert("x-rate-limit-reset", HeaderValue::from(budget.reset_secs));
    response
}

// --------------------------------------------------------------------------------- responses

fn respond(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// `{"error": message}`: query errors, 401, 404, 5xx.
fn error(status: StatusCode, message: &str) -> Response {
    respond(status, &json!({ "error": message }))
}

/// `{"errors": [{"error": message}]}`: write errors without a field.
fn errors(status: StatusCode, message: &str) -> Response {
    respond(status, &json!({ "errors": [{ "error": message }] }))
}

/// `400 {"errors": [...]}` with field errors.
fn invalid(field_errors: Vec<Value>) -> Response {
    respond(StatusCode::BAD_REQUEST, &json!({ "errors": field_errors }))
}

fn no_content() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

async fn route_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

// ---------------------------------------------------------------------------------- requests

/// An early answer of a handler (boxed: a `Response` is large).
struct Reject(Box<Response>);

impl From<Response> for Reject {
    fn from(response: Response) -> Self {
        Self(Box::new(response))
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// What handlers return.
type Handled = Result<Response, Reject>;

/// The resource named by the first path segment, or the 404 to answer.
fn resource(segment: &str) -> Result<Kind, Reject> {
    Kind::parse(segment)
        .filter(|k| k.segment() == segment)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "Not Found").into())
}

/// The integer id of the path, or the 400 to answer.
fn record_id(raw: &str) -> Result<u64, Reject> {
    raw.parse()
        .map_err(|_| error(StatusCode::BAD_REQUEST, "params/id must be integer").into())
}

/// The JSON object of a write body, or the 400 to answer.
fn json_object(body: &[u8]) -> Result<Map<String, Value>, Reject> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid(vec![json!({ "error": "body should be object" })]).into()),
        Err(e) => Err(invalid(vec![
            json!({ "error": format!("Unexpected token in JSON body: {e}") }),
        ])
        .into()),
    }
}

/// Validated `expand` values of a single-record request (`GET`/`PATCH /{id}`).
fn single_expands(kind: Kind, raw: Option<&str>) -> Result<Vec<String>, Reject> {
    let allowed = kind.get_expands();
    let mut out = Vec::new();
    if allowed.is_empty() {
        return Ok(out);
    }
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if key == "expand" {
            if !allowed.iter().any(|e| e.param == value) {
                let names: Vec<&str> = allowed.iter().map(|e| e.param).collect();
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "querystring/expand must be equal to one of the allowed values: {}",
                        names.join(", ")
                    ),
                )
                .into());
            }
            out.push(value.into_owned());
        }
    }
    Ok(out)
}

fn query_flag(raw: Option<&str>, name: &str) -> bool {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .any(|(k, v)| k == name && matches!(v.as_ref(), "true" | "1" | "yes"))
}

/// Sets `updatedAt` to now, strictly after its previous value.
fn touch(kind: Kind, record: &mut Record, now: i64) {
    if !kind.has_timestamps() {
        return;
    }
    let previous = record
        .get("updatedAt")
        .and_then(Value::as_str)
        .and_then(parse_ms)
        .unwrap_or(i64::MIN);
    let at = now.max(previous.saturating_add(1));
    record.insert("updatedAt".into(), json!(format_ms(at)));
}

fn not_found_for_write(kind: Kind) -> Reject {
    error(
        StatusCode::NOT_FOUND,
        &format!("{} Not Found", kind.not_found_noun()),
    )
    .into()
}

// ---------------------------------------------------------------------------------- handlers

async fn list(
    State(s): State<Arc<Shared>>,
    Path(segment): Path<String>,
    RawQuery(raw): RawQuery,
) -> Handled {
    let kind = resource(&segment)?;
    let query = ListQuery::parse(kind, raw.as_deref())
        .map_err(|e| Reject::from(error(StatusCode::BAD_REQUEST, &e.0)))?;
    let body = {
        let store = s.read();
        let (records, more) = page(&store, kind, &query, now_ms());
        let next = records
            .last()
            .filter(|_| more)
            .map(|last| query.cursor_after(last));
        let items: Vec<Shaped> = records
            .into_iter()
            .map(|r| views::list_item(&store, kind, r, &query.expand))
            .collect();
        let next_url = next.as_ref().map(|cursor| {
            let mut url = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &query.carry {
                url.append_pair(k, v);
            }
            url.append_pair("cursor", cursor);
            format!("/v1/{}?{}", kind.segment(), url.finish())
        });
        ListBody {
            key: kind.list_key(),
            items,
            next_cursor: next,
            next_page_url: next_url,
        }
    };
    Ok(respond(StatusCode::OK, &body))
}

/// `{"<plural>": [...], "nextCursor": ..., "nextPageUrl": ...}`, in that order.
struct ListBody {
    key: &'static str,
    items: Vec<Shaped>,
    next_cursor: Option<String>,
    next_page_url: Option<String>,
}

impl Serialize for ListBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry(self.key, &self.items)?;
        map.serialize_entry("nextCursor", &self.next_cursor)?;
        map.serialize_entry("nextPageUrl", &self.next_page_url)?;
        map.end()
    }
}

async fn get_one(
    State(s): State<Arc<Shared>>,
    Path((segment, raw_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Handled {
    let kind = resource(&segment)?;
    let id = record_id(&raw_id)?;
    let expand = single_expands(kind, raw.as_deref())?;
    let body = {
        let store = s.read();
        let record = if kind == Kind::WorkOrder && query_flag(raw.as_deref(), "useSequentialId") {
            by_sequential_id(&store, id)
        } else {
            store.get(kind, id)
        };
        record.map(|r| wrap(kind, views::single(&store, kind, r, &expand)))
    };
    match body {
        Some(body) => Ok(respond(StatusCode::OK, &body)),
        None => Ok(error(StatusCode::NOT_FOUND, "Not Found.")),
    }
}

/// `{"<singular>": {...}}`.
fn wrap(kind: Kind, shaped: Shaped) -> Value {
    json!({ kind.single_key(): shaped.into_value() })
}

/// The work order whose `sequentialId` is `n`.
fn by_sequential_id(store: &Store, n: u64) -> Option<Record> {
    let has = |r: &Record| r.get("sequentialId").and_then(Value::as_u64) == Some(n);
    let seeded_guess = Kind::WorkOrder.id_base() + n;
    if let Some(record) = store.get(Kind::WorkOrder, seeded_guess).filter(has) {
        return Some(record);
    }
    store
        .stored(Kind::WorkOrder)
        .find(|(_, r)| has(r))
        .map(|(_, r)| r.clone())
}

async fn create(State(s): State<Arc<Shared>>, Path(segment): Path<String>, body: Bytes) -> Handled {
    let kind = resource(&segment)?;
    let body = json_object(&body)?;
    let now = now_ms();
    let (status, reply) = {
        let mut store = s.write();
        let mut record = defaults(kind, now);
        validate::apply(&store, kind, Op::Create, &body, &mut record)
            .map_err(|field_errors| Reject::from(invalid(field_errors)))?;
        validate::assign_line_ids(&mut store, &mut record);
        match kind {
            Kind::WorkOrder => {
                let n = store.next_number(kind);
                record.insert("sequentialId".into(), json!(n));
            }
            Kind::PurchaseOrder => {
                let n = store.next_number(kind);
                record.insert("autoGeneratedNumber".into(), json!(n));
            }
            _ => {}
        }
        let id = store.insert(kind, record);
        match kind.create_reply() {
            CreateReply::OkId => (StatusCode::OK, json!({ "id": id })),
            CreateReply::CreatedId => (StatusCode::CREATED, json!({ "id": id })),
            CreateReply::CreatedRecord => {
                let full = store.get(kind, id).map_or(Value::Null, |r| {
                    views::single(&store, kind, r, &[]).into_value()
                });
                (StatusCode::CREATED, full)
            }
        }
    };
    Ok(respond(status, &reply))
}

async fn update(
    State(s): State<Arc<Shared>>,
    Path((segment, raw_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Handled {
    let kind = resource(&segment)?;
    let id = record_id(&raw_id)?;
    let expand = single_expands(kind, raw.as_deref())?;
    let body = json_object(&body)?;
    let now = now_ms();
    let reply = {
        let mut store = s.write();
        let mut record = store
            .get(kind, id)
            .ok_or_else(|| not_found_for_write(kind))?;
        if kind == Kind::PurchaseOrder
            && record.get("status").and_then(Value::as_str) == Some("CANCELED")
        {
            return Err(errors(
                StatusCode::FORBIDDEN,
                "Failed to update the Purchase Order: a canceled Purchase Order cannot be modified",
            )
            .into());
        }
        validate::apply(&store, kind, Op::Update, &body, &mut record)
            .map_err(|field_errors| Reject::from(invalid(field_errors)))?;
        validate::assign_line_ids(&mut store, &mut record);
        touch(kind, &mut record, now);
        let shaped = views::single(&store, kind, record.clone(), &expand);
        store.put(kind, id, record);
        wrap(kind, shaped)
    };
    Ok(respond(StatusCode::OK, &reply))
}

async fn delete(
    State(s): State<Arc<Shared>>,
    Path((segment, raw_id)): Path<(String, String)>,
) -> Handled {
    let kind = resource(&segment)?;
    let id = record_id(&raw_id)?;
    let deleted = s.write().delete(kind, id);
    if deleted {
        Ok(no_content())
    } else {
        Ok(error(
            StatusCode::NOT_FOUND,
            &format!("{} Not Found", kind.delete_noun()),
        ))
    }
}

async fn change_status(
    State(s): State<Arc<Shared>>,
    Path((segment, raw_id)): Path<(String, String)>,
    body: Bytes,
) -> Handled {
    let kind = resource(&segment)?;
    if !kind.has_status_endpoint() {
        return Ok(error(StatusCode::NOT_FOUND, "Not Found"));
    }
    let id = record_id(&raw_id)?;
    let body = json_object(&body)?;
    let allowed = if kind == Kind::WorkOrder {
        WO_SETTABLE_STATUSES
    } else {
        PO_SETTABLE_STATUSES
    };
    let status = match body.get("status") {
        None => {
            return Ok(invalid(vec![json!({
                "error": "should have required property 'status'",
                "fieldPath": "status",
            })]));
        }
        Some(Value::String(v)) if allowed.contains(&v.as_str()) => v.clone(),
        Some(other) => {
            let mut e = json!({ "error": "Invalid status", "fieldPath": "status" });
            if other.is_string() || other.is_number() || other.is_boolean() {
                e["fieldValue"] = other.clone();
            }
            return Ok(invalid(vec![e]));
        }
    };
    let review_note = match body.get("reviewNote") {
        Some(v) if kind == Kind::PurchaseOrder && !(v.is_string() || v.is_null()) => {
            return Ok(invalid(vec![json!({
                "error": "should be string",
                "fieldPath": "reviewNote",
            })]));
        }
        Some(v) if kind == Kind::PurchaseOrder => Some(v.clone()),
        _ => None,
    };

    let now = now_ms();
    let reply = {
        let mut store = s.write();
        let mut record = store
            .get(kind, id)
            .ok_or_else(|| not_found_for_write(kind))?;
        let current = record
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut changed = false;
        if current != status {
            if kind == Kind::PurchaseOrder && !po_transition_allowed(&current, &status) {
                return Ok(errors(
                    StatusCode::FORBIDDEN,
                    &format!(
                        "Failed to update the Purchase Order: cannot change status from {current} to {status}"
                    ),
                ));
            }
            record.insert("status".into(), json!(status));
            status_side_effects(kind, &status, &mut record, now);
            changed = true;
        }
        if let Some(note) = review_note {
            record.insert("reviewNote".into(), note);
            changed = true;
        }
        if changed {
            touch(kind, &mut record, now);
        }
        let shaped = views::single(&store, kind, record.clone(), &[]);
        if changed {
            store.put(kind, id, record);
        }
        wrap(kind, shaped)
    };
    Ok(respond(StatusCode::OK, &reply))
}

/// What a status change does besides the status.
fn status_side_effects(kind: Kind, status: &str, record: &mut Record, now: i64) {
    match (kind, status) {
        // `completedAt` is "the last time the work order was marked as DONE": it is kept when
        // the order is reopened.
        (Kind::WorkOrder, "DONE") => {
            record.insert("completedAt".into(), json!(format_ms(now)));
            record.insert("completerId".into(), json!(API_USER_ID));
        }
        (Kind::PurchaseOrder, "APPROVED") => {
            record.insert("approverId".into(), json!(API_USER_ID));
            record.insert("approvalDate".into(), json!(format_ms(now)));
        }
        (Kind::PurchaseOrder, "COMPLETED") => {
            if let Some(items) = record.get_mut("items").and_then(Value::as_array_mut) {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    let ordered = item.get("quantityOrdered").cloned().unwrap_or(json!(0));
                    item.insert("quantityReceived".into(), ordered);
                }
            }
        }
        _ => {}
    }
}

/// A new record of `kind` before the request body is applied: every field the spec lists,
/// with the server-maintained ones filled in.
fn defaults(kind: Kind, now: i64) -> Record {
    let at = format_ms(now);
    let value = match kind {
        Kind::WorkOrder => json!({
            "sequentialId": null, "title": null, "description": null, "status": "OPEN",
            "priority": "NONE", "type": null, "assetId": null, "locationId": null,
            "assigneeIds": [], "teamIds": [], "categories": [], "dueDate": null,
            "dueDateIsFullDay": false, "startDate": null, "completedAt": null,
            "completerId": null, "createdAt": at, "updatedAt": at, "creatorId": API_USER_ID,
            "requesterId": null, "deletedAt": null, "organizationId": ORGANIZATION_ID,
            "parentId": null, "isParent": false, "estimatedTime": null, "externalData": null,
            "extraFields": {}, "vendorIds": [], "lastMessageSentAt": null, "nextId": null,
            "previousId": null, "partsAvailability": "PARTS_AVAILABLE", "partStatus": "NO_PARTS",
            "partsUsed": [], "recurrenceInfo": null, "thumbnail": null, "attachments": [],
            "procedure": null, "progress": null, "workOrderSummary": null,
        }),
        Kind::Asset => json!({
            "name": null, "globalUuid": null, "currentOwnerId": ORGANIZATION_ID,
            "organizationId": ORGANIZATION_ID, "barcode": null, "description": null,
            "criticalityId": null, "teamIds": [], "assetTypes": [], "parentId": null,
            "locationId": null, "serialNumber": null, "thumbnail": null, "attachments": [],
            "extraFields": {}, "vendorIds": [], "createdAt": at, "updatedAt": at,
            "deletedAt": null, "creatorId": API_USER_ID, "depreciation": null,
            "manufacturer": null, "model": null, "status": null,
        }),
        Kind::Part => json!({
            "name": null, "description": null, "area": null, "unitCost": null,
            "availableQuantity": 0, "inStockQuantity": 0, "minimumQuantity": 0,
            "maximumQuantity": null, "barcode": null, "locationId": null, "locations": [],
            "partTypes": [], "assetIds": [], "teamIds": [], "extraFields": {}, "vendors": [],
            "vendorIds": [], "orderedQuantity": 0, "reservedQuantity": 0,
            "committedQuantities": { "kitted": 0, "reserved": 0, "staged": 0 },
            "assignedQuantity": 0, "thumbnail": null, "attachments": [], "createdAt": at,
            "updatedAt": at, "deletedAt": null, "organizationId": ORGANIZATION_ID,
        }),
        // "REQUESTED: initial state when PO is first created" (status transition table).
        Kind::PurchaseOrder => json!({
            "note": null, "title": null, "reviewNote": null, "status": "REQUESTED",
            "dueDate": null, "creatorId": API_USER_ID, "vendorId": null,
            "autoGeneratedNumber": null, "overrideNumber": null, "approverId": null,
            "approvalDate": null, "createdAt": at, "updatedAt": at, "deletedAt": null,
            "items": [], "costs": [], "thumbnail": null, "attachments": [],
            "vendorContactIds": [], "shippingAddress": null, "billingAddress": null,
            "extraFields": {},
        }),
        Kind::Location => json!({
            "name": null, "description": null, "address": null, "barcode": null,
            "parentId": null, "thumbnail": null, "attachments": [], "extraFields": {},
            "teamIds": [], "vendorIds": [], "createdAt": at, "updatedAt": at,
            "deletedAt": null, "organizationId": ORGANIZATION_ID,
        }),
        Kind::Vendor => json!({
            "name": null, "emails": [], "phoneNumbers": [], "description": null,
            "thumbnail": null, "attachments": [], "contactIds": [], "deletedAt": null,
            "extraFields": {},
        }),
        Kind::User => json!({
            "firstName": null, "lastName": null, "role": "MEMBER", "customRole": null,
            "email": null, "phoneNumber": null, "removedFromOrganization": false,
            "authType": "NORMAL", "hourlyRate": null, "externalData": null,
            "extraFields": {}, "lastVisitedAt": null,
        }),
    };
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
