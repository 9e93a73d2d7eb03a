//! The HTTP conversations behind each operation: which MaintainX requests are sent, in which
//! order, and how their answers become unified records or typed errors. The mapping itself
//! lives in [`crate::mapping`]; the host sends the requests (adding the API key).

use plantwire_sdk::contract::{GetRequest, ListRequest, Page};
use plantwire_sdk::json::integer_key;
use plantwire_sdk::{
    AdapterError, Http, Level, Request, Response, UpstreamError, WriteResult, log,
};
use serde_json::{Map, Value, json};

use crate::describe::MAX_BATCH_SIZE;
use crate::errors;
use crate::mapping::{
    self, Mode, PO_SETTABLE_STATUSES, WO_SETTABLE_STATUSES, field_error, id_of, json_object,
    native_enum,
};
use crate::paging::{self, Plan};
use crate::resources::{CreateReply, Resource, with_expands};

/// Sends `req`; a non-2xx answer becomes the matching [`AdapterError`].
fn send(http: &dyn Http, res: Resource, req: Request) -> Result<Response, AdapterError> {
    let resp = http.send(req.header("accept", "application/json"))?;
    if resp.is_success() {
        Ok(resp)
    } else {
        Err(errors::from_response(res, &resp))
    }
}

/// The record inside a single-record answer (`{"workOrder": {...}}`).
fn unwrap_single(res: Resource, resp: &Response) -> Result<Value, AdapterError> {
    let mut body = resp.json()?;
    match body.get_mut(res.single_key()).map(Value::take) {
        Some(record @ Value::Object(_)) => Ok(record),
        _ => Err(AdapterError::Upstream(UpstreamError {
            status: resp.status,
            code: None,
            message: format!("the answer has no `{}` object", res.single_key()),
        })),
    }
}

/// `GET /<resource>/{id}` as MaintainX JSON.
fn fetch(http: &dyn Http, res: Resource, id: u64) -> Result<Value, AdapterError> {
    let path = with_expands(res.record_path(id), res.get_expands());
    let resp = send(http, res, Request::get(path))?;
    unwrap_single(res, &resp)
}

/// One page of records; conditions no record can meet give an empty last page without a
/// request.
pub(crate) fn list(http: &dyn Http, req: &ListRequest) -> Result<Page, AdapterError> {
    let res = Resource::for_entity(&req.entity)?;
    match paging::build(res, req)? {
        Plan::Fetch(query) => {
            let resp = send(http, res, Request::get(query.path))?;
            paging::parse_page(res, &resp.body, &query.exact, req.include_raw)
        }
        Plan::Nothing => Ok(Page {
            records: Vec::new(),
            next_cursor: None,
            total: None,
        }),
    }
}

/// One record by key (with MaintainX's record under `raw` when asked); a key that is not a
/// MaintainX id is not found without a request.
pub(crate) fn get(http: &dyn Http, req: &GetRequest) -> Result<String, AdapterError> {
    let res = Resource::for_entity(&req.entity)?;
    let id = integer_key(&req.key)?;
    let native = fetch(http, res, id)?;
    Ok(mapping::to_unified_with(res, &native, req.include_raw))
}

/// Creates a batch, one `POST` per record (MaintainX has no bulk endpoint), results in input
/// order. After a failure that will hit every later record too (refused credentials, rate
/// limit, unreachable system) the rest of the batch is not attempted and reports the same
/// kind of error.
pub(crate) fn create(
    http: &dyn Http,
    entity: &str,
    records: Vec<String>,
) -> Result<Vec<WriteResult>, AdapterError> {
    let res = Resource::for_entity(entity)?;
    if records.len() > MAX_BATCH_SIZE as usize {
        return Err(AdapterError::invalid(
            "(batch)",
            format!(
                "{} records in one create call; MaintainX takes at most {MAX_BATCH_SIZE}",
                records.len()
            ),
        ));
    }
    let mut results = Vec::with_capacity(records.len());
    let mut stop: Option<AdapterError> = None;
    for record in &records {
        if let Some(cause) = &stop {
            results.push(Err(not_attempted(cause)));
            continue;
        }
        let result = create_one(http, res, record);
        if let Err(
            e @ (AdapterError::Unauthorized(_)
            | AdapterError::RateLimited(_)
            | AdapterError::Transient(_)),
        ) = &result
        {
            stop = Some(e.clone());
        }
        results.push(result);
    }
    Ok(results)
}

/// The error reported for a record not attempted because of `cause`.
fn not_attempted(cause: &AdapterError) -> AdapterError {
    let why = format!("not attempted: an earlier record of the batch failed ({cause})");
    match cause {
        AdapterError::RateLimited(ms) => AdapterError::RateLimited(*ms),
        AdapterError::Unauthorized(_) => AdapterError::Unauthorized(why),
        _ => AdapterError::Transient(why),
    }
}

fn create_one(http: &dyn Http, res: Resource, record: &str) -> WriteResult {
    let body = mapping::to_native(res, record, Mode::Create, None)?;
    let resp = send(http, res, Request::json("POST", res.path(), &body))?;
    let answer = resp.json()?;
    // Purchase orders come back whole (201, not wrapped); accept a wrapped record as well.
    let answer = match answer.get(res.single_key()) {
        Some(inner) if inner.is_object() => inner.clone(),
        _ => answer,
    };
    let whole = res.create_reply() == CreateReply::Record
        || answer.as_object().is_some_and(|o| o.len() > 1);
    if whole && answer.is_object() {
        return Ok(mapping::to_unified(res, &answer));
    }
    // `{"id": n}`: read the record back.
    let Some(id) = id_of(&answer, "id").and_then(|k| k.parse::<u64>().ok()) else {
        return Err(AdapterError::Upstream(UpstreamError {
            status: resp.status,
            code: None,
            message: "MaintainX created the record but did not return its id".to_owned(),
        }));
    };
    match fetch(http, res, id) {
        Ok(native) => Ok(mapping::to_unified(res, &native)),
        Err(e) => {
            // The record exists: reporting a failure would make the caller create it twice.
            log(
                Level::Warn,
                &format!(
                    "created {} {id} but could not read it back: {e}",
                    res.entity()
                ),
            );
            Ok(mapping::key_only(id))
        }
    }
}

/// Applies a partial update; returns the record after it.
pub(crate) fn update(
    http: &dyn Http,
    entity: &str,
    key: &str,
    patch: &str,
    concurrency_token: Option<&str>,
) -> Result<String, AdapterError> {
    let res = Resource::for_entity(entity)?;
    if concurrency_token.is_some() {
        return Err(AdapterError::Unsupported(
            "MaintainX API v1 has no concurrency token (no ETag or If-Match): updates are \
             last-write-wins"
                .to_owned(),
        ));
    }
    let id = integer_key(key)?;
    let current = if mapping::needs_current(res, patch) {
        Some(fetch(http, res, id)?)
    } else {
        None
    };
    let body = mapping::to_native(res, patch, Mode::Update, current.as_ref())?;
    if body.as_object().is_some_and(Map::is_empty) {
        // Nothing to change: answer with the record as it is, without a write.
        let native = match current {
            Some(native) => native,
            None => fetch(http, res, id)?,
        };
        return Ok(mapping::to_unified(res, &native));
    }
    let path = with_expands(res.record_path(id), res.get_expands());
    send_patch(http, res, id, path, &body)
}

/// Sends `PATCH <path>` with `body` for record `id`; returns the record after it.
fn send_patch(
    http: &dyn Http,
    res: Resource,
    id: u64,
    path: String,
    body: &Value,
) -> Result<String, AdapterError> {
    let resp = send(http, res, Request::json("PATCH", path, body))?;
    let native = match unwrap_single(res, &resp) {
        Ok(native) => native,
        // The spec does not require the wrapper on every PATCH answer: read the record back.
        Err(_) => fetch(http, res, id)?,
    };
    Ok(mapping::to_unified(res, &native))
}

/// Deletes a record (`204`).
pub(crate) fn delete(http: &dyn Http, entity: &str, key: &str) -> Result<(), AdapterError> {
    let res = Resource::for_entity(entity)?;
    let id = integer_key(key)?;
    send(http, res, Request::delete(res.record_path(id)))?;
    Ok(())
}

/// Runs a named action; only `change-status` on work orders and purchase orders exists.
pub(crate) fn action(
    http: &dyn Http,
    entity: &str,
    key: &str,
    name: &str,
    input: &str,
) -> Result<String, AdapterError> {
    let res = Resource::for_entity(entity)?;
    if name != "change-status" || !res.has_status_endpoint() {
        let available = if res.has_status_endpoint() {
            "available: change-status"
        } else {
            "MaintainX offers no named actions on it"
        };
        return Err(AdapterError::Unsupported(format!(
            "no action `{name}` on {entity} ({available})"
        )));
    }
    let id = integer_key(key)?;
    let body = status_body(res, input)?;
    let path = format!("{}/status", res.record_path(id));
    send_patch(http, res, id, path, &body)
}

/// The body of `PATCH /<resource>/{id}/status` from the action's unified input.
pub(crate) fn status_body(res: Resource, input: &str) -> Result<Value, AdapterError> {
    let raw = json_object(input, "(input)", "the input must be a JSON object")?;
    let (table, allowed): (&'static [(&'static str, &'static str)], &[&str]) = match res {
        Resource::PurchaseOrder => (PO_SETTABLE_STATUSES, &["status", "reviewNote"]),
        _ => (WO_SETTABLE_STATUSES, &["status"]),
    };
    let mut errors = Vec::new();
    for name in raw.keys() {
        if !allowed.contains(&name.as_str()) {
            errors.push(field_error(
                name,
                format!("change-status takes {}", allowed.join(" and ")),
            ));
        }
    }
    let mut body = Map::new();
    match raw.get("status") {
        Some(Value::String(s)) => match native_enum(table, s) {
            Ok(native) => {
                body.insert("status".to_owned(), json!(native));
            }
            Err(message) => errors.push(field_error("status", message)),
        },
        Some(_) => errors.push(field_error("status", "must be a string")),
        None => errors.push(field_error("status", "is required")),
    }
    match raw.get("reviewNote") {
        Some(Value::String(note)) if res == Resource::PurchaseOrder => {
            body.insert("reviewNote".to_owned(), json!(note));
        }
        Some(Value::Null) | None => {}
        Some(_) if res == Resource::PurchaseOrder => {
            errors.push(field_error("reviewNote", "must be a string"));
        }
        Some(_) => {}
    }
    if errors.is_empty() {
        Ok(Value::Object(body))
    } else {
        Err(AdapterError::Invalid(errors))
    }
}
