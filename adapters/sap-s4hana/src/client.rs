//! The HTTP conversations behind each operation: which SAP requests are sent, in which order,
//! and how their answers become unified records or typed errors. The host sends them, adding
//! HTTP basic authentication and keeping the session cookies; the adapter handles the CSRF
//! token itself.
//!
//! * Reads: `GET` with `Accept: application/json`.
//! * Every write first fetches a CSRF token (`X-CSRF-Token: Fetch` on a read it needs anyway:
//!   the record being changed, or the service document before a create). A server that sends
//!   no token (CSRF protection off, or a proxy in front that handles it) gets the write
//!   without one. A write answered `403` with `x-csrf-token: Required` (the session lapsed, or
//!   the server wants a token after all) fetches a new token and is sent once more; a second
//!   refusal, or a fetch that still yields no token, is `forbidden`.
//! * Updates send `If-Match`: the caller's concurrency token, or the ETag just read.

use plantwire_sdk::contract::{ListRequest, Page};
use plantwire_sdk::{AdapterError, Http, Request, Response, UpstreamError, WriteResult};
use serde_json::{Map, Value};

use crate::describe::MAX_BATCH_SIZE;
use crate::errors::{self, from_response};
use crate::mapping::read::{object_status, order_status, record, text, to_unified};
use crate::mapping::write::{Mode, json_object, to_native};
use crate::odata::{
    self, BatchRequest, BatchResponse, batch_body, batch_responses, datetime_literal, entity, etag,
    string_literal,
};
use crate::paging;
use crate::resources::{EQUIPMENT_VALIDITY_END_MS, Resource};

/// Sends `req` (asking for JSON).
fn send(http: &dyn Http, req: Request) -> Result<Response, AdapterError> {
    Ok(http.send(req.header("accept", "application/json"))?)
}

/// Sends a read; a non-2xx answer becomes the matching error.
fn read(http: &dyn Http, res: Resource, req: Request) -> Result<Response, AdapterError> {
    let resp = send(http, req)?;
    if resp.is_success() {
        Ok(resp)
    } else {
        Err(from_response(res, &resp))
    }
}

fn body_json(resp: &Response) -> Result<Value, AdapterError> {
    resp.json()
}

fn upstream(status: u16, message: &str) -> AdapterError {
    AdapterError::Upstream(UpstreamError {
        status,
        code: None,
        message: message.to_owned(),
    })
}

/// The token SAP sent with a fetch, if it sent one.
fn token_of(resp: &Response) -> Option<String> {
    resp.header("x-csrf-token")
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("required"))
        .map(str::to_owned)
}

/// A fresh CSRF token (read from the service document); `None` when the server sent none
/// (CSRF protection switched off, or handled by a proxy in front of the Gateway).
fn fetch_token(http: &dyn Http, res: Resource) -> Result<Option<String>, AdapterError> {
    let resp = read(
        http,
        res,
        Request::get(res.service_root()).header("x-csrf-token", "Fetch"),
    )?;
    Ok(token_of(&resp))
}

/// `req` with the CSRF token, when there is one.
fn with_token(req: Request, token: Option<&str>) -> Request {
    match token {
        Some(t) => req.header("x-csrf-token", t),
        None => req,
    }
}

fn csrf_refused(resp: &Response) -> bool {
    resp.status == 403
        && resp
            .header("x-csrf-token")
            .is_some_and(|v| v.eq_ignore_ascii_case("required"))
}

/// Sends a modifying request built for `token` (none when the server issued none); on
/// `403 x-csrf-token: Required` fetches a new token and sends it once more. Returns the
/// answer, successful or not.
fn write(
    http: &dyn Http,
    res: Resource,
    token: &mut Option<String>,
    build: &dyn Fn(Option<&str>) -> Request,
) -> Result<Response, AdapterError> {
    let resp = send(http, build(token.as_deref()))?;
    if !csrf_refused(&resp) {
        return Ok(resp);
    }
    *token = fetch_token(http, res)?;
    if token.is_none() {
        return Err(AdapterError::Forbidden(
            "SAP asks for a CSRF token (403 x-csrf-token: Required) but sends none on a fetch"
                .to_owned(),
        ));
    }
    let resp = send(http, build(token.as_deref()))?;
    if csrf_refused(&resp) {
        return Err(AdapterError::Forbidden(
            "SAP refused the CSRF token twice (403 x-csrf-token: Required): the session cookie \
             is not kept, or the user lacks the authorization for the write"
                .to_owned(),
        ));
    }
    Ok(resp)
}

/// The entity `key` of `res` (with its navigation expanded), and the CSRF token SAP sent
/// when `fetch` asks for one (`None` when it sent none).
fn get_entity(
    http: &dyn Http,
    res: Resource,
    key: &str,
    fetch: bool,
) -> Result<(Map<String, Value>, Option<String>), AdapterError> {
    let mut path = res.entity_path(key)?;
    if let Some(expand) = res.expand() {
        path.push_str(&format!("?$expand={expand}"));
    }
    let mut req = Request::get(path);
    if fetch {
        req = req.header("x-csrf-token", "Fetch");
    }
    let resp = read(http, res, req)?;
    let body = body_json(&resp)?;
    let entity = entity(&body).cloned().ok_or_else(|| {
        upstream(
            resp.status,
            "the answer is not an OData V2 entity ({\"d\":{…}})",
        )
    })?;
    let token = if fetch { token_of(&resp) } else { None };
    Ok((entity, token))
}

fn unified_text(res: Resource, entity: &Map<String, Value>) -> String {
    Value::Object(to_unified(res, entity)).to_string()
}

/// One page of records.
pub(crate) fn list(http: &dyn Http, req: &ListRequest) -> Result<Page, AdapterError> {
    let res = Resource::for_entity(&req.entity)?;
    let (path, window) = match &req.cursor {
        Some(cursor) => paging::check_cursor(res, cursor)?,
        None => paging::first_path(res, req)?,
    };
    let resp = read(http, res, Request::get(path.clone()))?;
    paging::parse_page(
        res,
        &path,
        window,
        &body_json(&resp)?,
        resp.status,
        req.include_raw,
    )
}

/// One record by key, with SAP's entity under `raw` when `include_raw` asks for it.
pub(crate) fn get(
    http: &dyn Http,
    entity: &str,
    key: &str,
    include_raw: bool,
) -> Result<String, AdapterError> {
    let res = Resource::for_entity(entity)?;
    let (entity, _) = get_entity(http, res, key, false)?;
    Ok(Value::Object(record(res, &entity, include_raw)).to_string())
}

/// The unified record in a `201 Created` answer.
fn created(res: Resource, resp: &Response) -> WriteResult {
    errors::log_messages(resp.header("sap-message"));
    let body = body_json(resp)?;
    let entity = entity(&body).ok_or_else(|| {
        upstream(
            resp.status,
            "SAP created the record but its answer has no entity",
        )
    })?;
    Ok(unified_text(res, entity))
}

/// Creates a batch: one `POST` for a single record, one `$batch` with a change set per record
/// otherwise. Records the mapping refuses are not sent.
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
                "{} records in one create call; the adapter takes at most {MAX_BATCH_SIZE}",
                records.len()
            ),
        ));
    }
    let mut results: Vec<Option<WriteResult>> = Vec::with_capacity(records.len());
    let mut bodies = Vec::new();
    for record in &records {
        match to_native(res, record, Mode::Create) {
            Ok(body) => {
                bodies.push((results.len(), Value::Object(body).to_string()));
                results.push(None);
            }
            Err(e) => results.push(Some(Err(e))),
        }
    }
    if bodies.is_empty() {
        return Ok(results.into_iter().flatten().collect());
    }
    let mut token = fetch_token(http, res)?;
    if let [(index, body)] = bodies.as_slice() {
        let build = |t: Option<&str>| {
            with_token(
                Request::new("POST", res.collection_path())
                    .header("content-type", "application/json"),
                t,
            )
        };
        let resp = write(http, res, &mut token, &|t| {
            let mut r = build(t);
            r.body = Some(body.clone().into_bytes());
            r
        })?;
        results[*index] = Some(if resp.status == 201 || resp.is_success() {
            created(res, &resp)
        } else {
            Err(from_response(res, &resp))
        });
    } else {
        let requests: Vec<BatchRequest> = bodies
            .iter()
            .map(|(_, body)| BatchRequest {
                method: "POST",
                target: res.set().to_owned(),
                body: body.clone(),
            })
            .collect();
        let boundary = format!("batch_plantwire_{}", bodies.len());
        let payload = batch_body(&boundary, &requests);
        let resp = write(http, res, &mut token, &|t| {
            let mut r = with_token(
                Request::new("POST", format!("/{}/$batch", res.service())).header(
                    "content-type",
                    &format!("multipart/mixed; boundary={boundary}"),
                ),
                t,
            );
            r.body = Some(payload.clone().into_bytes());
            r
        })?;
        if !resp.is_success() {
            // The batch as a whole was refused: every record reports it.
            let e = from_response(res, &resp);
            for (index, _) in &bodies {
                results[*index] = Some(Err(e.clone()));
            }
        } else {
            for ((index, _), outcome) in bodies.iter().zip(batch_outcomes(res, &resp, bodies.len()))
            {
                results[*index] = Some(outcome);
            }
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(upstream(0, "not attempted"))))
        .collect())
}

/// The outcome of each of `n` change sets (one create each) from SAP's `$batch` answer.
///
/// SAP ran the change sets before answering, so an answer that cannot be matched to them
/// leaves records whose fate is not known: each such record is reported
/// [`AdapterError::outcome_unknown`] (never failed, which would invite a retry that creates
/// it twice). Matching: by the `Content-ID` each request carries where the server echoes
/// it; otherwise by position, which is unambiguous only when there is exactly one part per
/// change set (servers that stop at the first failing change set answer fewer parts).
fn batch_outcomes(res: Resource, resp: &Response, n: usize) -> Vec<WriteResult> {
    let content_type = resp.header("content-type").unwrap_or("").to_owned();
    let unknown = |why: &str| {
        AdapterError::outcome_unknown(
            resp.status,
            format!(
                "SAP's $batch answer {why}, so whether this record was created is unknown; \
                 read it back before retrying"
            ),
        )
    };
    let Some(parts) = batch_responses(&content_type, &resp.body) else {
        let why = format!(
            "is not a multipart/mixed body with the boundary of its Content-Type (`{}`)",
            content_type.chars().take(120).collect::<String>()
        );
        return (0..n).map(|_| Err(unknown(&why))).collect();
    };
    let count = parts.len();
    let mut matched: Vec<Option<BatchResponse>> = vec![None; n];
    let by_id = parts.iter().flatten().any(|p| p.content_id.is_some());
    if by_id {
        for answer in parts.into_iter().flat_map(|p| p.into_iter().next()) {
            let slot = answer
                .content_id
                .as_deref()
                .and_then(|id| id.trim().parse::<usize>().ok())
                .filter(|i| *i < n);
            if let Some(i) = slot
                && matched[i].is_none()
            {
                matched[i] = Some(answer);
            }
        }
    } else if parts.len() == n {
        for (slot, part) in matched.iter_mut().zip(parts) {
            *slot = part.into_iter().next();
        }
    }
    let why = if by_id {
        "has no part with this record's Content-ID".to_owned()
    } else {
        format!("has {count} parts for {n} change sets")
    };
    matched
        .into_iter()
        .map(|answer| match answer {
            None => Err(unknown(&why)),
            Some(answer) => {
                let inner = Response {
                    status: answer.status,
                    headers: answer.headers,
                    body: answer.body,
                };
                if inner.status == 201 {
                    created(res, &inner)
                } else {
                    Err(from_response(res, &inner))
                }
            }
        })
        .collect()
}

/// Whether SAP will refuse changes to this purchase order because of its state (release
/// completed, or deleted): such a `400` is reported as a conflict.
fn po_locked(entity: &Map<String, Value>) -> bool {
    text(entity, "PurchasingProcessingStatus").is_some_and(|s| s == "05")
        || text(entity, "PurchasingDocumentDeletionCode").is_some_and(|c| c == "L")
}

/// Whether a `400` is SAP refusing the object's status (message class BS, "System status …
/// is active") rather than the input.
fn status_refusal(resp: &Response) -> bool {
    errors::code_and_message(resp)
        .0
        .is_some_and(|code| code.starts_with("BS/"))
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
    let body = to_native(res, patch, Mode::Update)?;
    let (current, token) = get_entity(http, res, key, !body.is_empty())?;
    if body.is_empty() {
        return Ok(unified_text(res, &current));
    }
    let if_match = match concurrency_token {
        Some(t) => Some(t.to_owned()),
        None => etag(&current),
    };
    let mut token = token;
    let path = res.entity_path(key)?;
    let payload = Value::Object(body).to_string();
    let resp = write(http, res, &mut token, &|t| {
        let mut r = with_token(
            Request::new("PATCH", path.clone()).header("content-type", "application/json"),
            t,
        );
        if let Some(m) = &if_match {
            r = r.header("if-match", m);
        }
        r.body = Some(payload.clone().into_bytes());
        r
    })?;
    if !resp.is_success() {
        let locked = res == Resource::PurchaseOrder && po_locked(&current);
        return Err(if resp.status == 400 && (locked || status_refusal(&resp)) {
            errors::conflict(&resp)
        } else {
            from_response(res, &resp)
        });
    }
    errors::log_messages(resp.header("sap-message"));
    get(http, entity, key, false)
}

/// Deletes a record (purchase orders: SAP sets the deletion indicator on every item).
pub(crate) fn delete(http: &dyn Http, entity: &str, key: &str) -> Result<(), AdapterError> {
    let res = Resource::for_entity(entity)?;
    if res != Resource::PurchaseOrder {
        let reason = match &crate::describe::entity(res).delete {
            plantwire_sdk::contract::Support::Unsupported(r) => r.clone(),
            plantwire_sdk::contract::Support::Supported => "not deletable".to_owned(),
        };
        return Err(AdapterError::Unsupported(reason));
    }
    let (current, token) = get_entity(http, res, key, true)?;
    let if_match = etag(&current);
    let mut token = token;
    let path = res.entity_path(key)?;
    let resp = write(http, res, &mut token, &|t| {
        let mut r = with_token(Request::delete(path.clone()), t);
        if let Some(m) = &if_match {
            r = r.header("if-match", m);
        }
        r
    })?;
    if resp.is_success() {
        Ok(())
    } else if resp.status == 400 && po_locked(&current) {
        Err(errors::conflict(&resp))
    } else {
        Err(from_response(res, &resp))
    }
}

/// The function import that takes a maintenance order to `target`, `None` when it is there
/// already.
fn order_import(
    entity: &Map<String, Value>,
    target: &str,
) -> Result<Option<&'static str>, AdapterError> {
    let (_, line) = order_status(entity);
    // Which import applies depends on the status SAP reports; a status it did not report is
    // not guessed (an order without `SystemStatusText` is not taken to be CRTD).
    let line = line
        .filter(|l| !l.trim().is_empty())
        .ok_or_else(status_unreported)?;
    let codes: Vec<&str> = line.split_whitespace().collect();
    let has = |c: &str| codes.contains(&c);
    let base = ["CLSD", "TECO", "REL", "CRTD"]
        .into_iter()
        .find(|c| has(c))
        .ok_or_else(|| {
            AdapterError::Upstream(UpstreamError {
                status: 200,
                code: None,
                message: format!(
                    "SAP reports the system status `{line}`, which has none of CRTD, REL, TECO \
                     or CLSD; change-status cannot tell which function import applies"
                ),
            })
        })?;
    let (dlfl, lkd) = (has("DLFL"), has("LKD"));
    let plain = !dlfl && !lkd;
    Ok(match target {
        "open" if base != "CRTD" => {
            return Err(AdapterError::Conflict(format!(
                "SAP has no function import that takes a {base} order back to created (CRTD)"
            )));
        }
        "open" if dlfl => Some("ResetMaintOrdStsMrkdForDeltn"),
        "open" if lkd => Some("SetMaintOrderStatusToUnlocked"),
        "open" => None,
        "in-progress" if dlfl => Some("ResetMaintOrdStsMrkdForDeltn"),
        "in-progress" if lkd => Some("SetMaintOrderStatusToUnlocked"),
        "in-progress" if base == "REL" => None,
        "in-progress" if base == "CRTD" => Some("ReleaseMaintenanceOrder"),
        // A closed order is reopened in two steps: CLSD → TECO → released.
        "in-progress" if base == "CLSD" => Some("ResetMaintOrderStatusClosed"),
        "in-progress" => Some("ResetMaintOrdStsTechCompleted"),
        "on-hold" if lkd => None,
        "on-hold" => Some("SetMaintOrderStatusToLocked"),
        "completed" if plain && base == "TECO" => None,
        "completed" if base == "CLSD" => Some("ResetMaintOrderStatusClosed"),
        "completed" => Some("SetMaintOrdToTechCompleted"),
        "closed" if plain && base == "CLSD" => None,
        "closed" => Some("SetMaintOrderStatusToClosed"),
        "cancelled" if dlfl => None,
        "cancelled" => Some("SetMaintOrdStsToMrkdForDeltn"),
        other => {
            return Err(AdapterError::invalid(
                "status",
                format!("`{other}` is not a status change-status offers"),
            ));
        }
    })
}

fn status_unreported() -> AdapterError {
    AdapterError::Upstream(UpstreamError {
        status: 200,
        code: None,
        message: "SAP did not report the maintenance order's system status (SystemStatusText), \
                  read twice; change-status cannot tell which function import applies"
            .to_owned(),
    })
}

/// `entity`, read once more when SAP left out a maintenance order's system status (some
/// services and field-level authorizations omit it from one answer but not the next).
fn with_status(
    http: &dyn Http,
    res: Resource,
    key: &str,
    entity: Map<String, Value>,
) -> Result<Map<String, Value>, AdapterError> {
    let reported = |e: &Map<String, Value>| order_status(e).1.is_some_and(|l| !l.trim().is_empty());
    if res != Resource::WorkOrder || reported(&entity) {
        return Ok(entity);
    }
    Ok(get_entity(http, res, key, false)?.0)
}

/// The function import that takes an equipment or functional location to `target`.
fn object_import(
    res: Resource,
    entity: &Map<String, Value>,
    target: &str,
) -> Result<Option<&'static str>, AdapterError> {
    let (inactive, deleted) = object_status(res, entity);
    let names = match res {
        Resource::Asset => [
            "SetEquipmentToInactive",
            "ResetEquipmentFromInactive",
            "SetEquipToMarkedForDeletion",
            "RsetEquipFromMarkedForDeletion",
        ],
        _ => [
            "SetFuncnlLocationToInactive",
            "RsetFuncnlLocationFromInactive",
            "SetFuncLocToMarkedForDeletion",
            "RsetFuncLocFromMrkdForDeletion",
        ],
    };
    Ok(match target {
        "active" if deleted => Some(names[3]),
        "active" if inactive => Some(names[1]),
        "active" => None,
        "inactive" if inactive && !deleted => None,
        "inactive" => Some(names[0]),
        "marked-for-deletion" if deleted => None,
        "marked-for-deletion" => Some(names[2]),
        other => {
            return Err(AdapterError::invalid(
                "status",
                format!("`{other}` is not a status change-status offers"),
            ));
        }
    })
}

/// Runs `change-status` (the only action) through SAP's status function imports.
pub(crate) fn action(
    http: &dyn Http,
    entity: &str,
    key: &str,
    name: &str,
    input: &str,
) -> Result<String, AdapterError> {
    let res = Resource::for_entity(entity)?;
    let decl = crate::describe::entity(res);
    if decl.action(name).is_none() {
        let known: Vec<&str> = decl.actions.iter().map(|a| a.name.as_str()).collect();
        return Err(AdapterError::Unsupported(format!(
            "no action `{name}` on {entity} (available: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    let input = json_object(input, "(input)")?;
    let target = match input.get("status") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(AdapterError::invalid("status", "must be a string")),
        None => return Err(AdapterError::invalid("status", "is required")),
    };
    if let Some(other) = input.keys().find(|k| *k != "status") {
        return Err(AdapterError::invalid(
            other,
            "change-status takes only `status`",
        ));
    }
    let (mut current, mut token) = get_entity(http, res, key, true)?;
    // One function import sets or resets one status, so a target can take several (a
    // closed order back in progress: ResetMaintOrderStatusClosed, then
    // ResetMaintOrdStsTechCompleted; an inactive equipment marked for deletion back to
    // active: both resets). Each step is chosen from the status SAP reports after the last.
    let mut done: Vec<&'static str> = Vec::new();
    loop {
        current = with_status(http, res, key, current).map_err(|e| after_steps(e, &done))?;
        let import = match res {
            Resource::WorkOrder => order_import(&current, &target),
            _ => object_import(res, &current, &target),
        }
        .map_err(|e| after_steps(e, &done))?;
        let Some(import) = import else {
            return Ok(unified_text(res, &current));
        };
        if done.last() == Some(&import) || done.len() >= MAX_STATUS_STEPS {
            return Err(after_steps(
                AdapterError::Conflict(format!(
                    "SAP accepted {import} but the status is not `{target}` after it"
                )),
                &done,
            ));
        }
        call_import(http, res, key, import, &mut token).map_err(|e| after_steps(e, &done))?;
        done.push(import);
        current = get_entity(http, res, key, false)?.0;
    }
}

/// The most function imports one change-status runs (a locked, deletion-flagged, closed order
/// back in progress takes four).
const MAX_STATUS_STEPS: usize = 5;

/// `e`, saying which function imports SAP already ran before it.
fn after_steps(e: AdapterError, done: &[&str]) -> AdapterError {
    if done.is_empty() {
        return e;
    }
    let before = format!("after SAP ran {}: ", done.join(", "));
    match e {
        AdapterError::Conflict(m) => AdapterError::Conflict(format!("{before}{m}")),
        AdapterError::Invalid(mut errors) => {
            for f in &mut errors {
                f.message = format!("{before}{}", f.message);
            }
            AdapterError::Invalid(errors)
        }
        AdapterError::Forbidden(m) => AdapterError::Forbidden(format!("{before}{m}")),
        AdapterError::Unauthorized(m) => AdapterError::Unauthorized(format!("{before}{m}")),
        AdapterError::Unsupported(m) => AdapterError::Unsupported(format!("{before}{m}")),
        AdapterError::NotFound(m) => AdapterError::NotFound(format!("{before}{m}")),
        AdapterError::Transient(m) => AdapterError::Transient(format!("{before}{m}")),
        AdapterError::Upstream(mut u) => {
            u.message = format!("{before}{}", u.message);
            AdapterError::Upstream(u)
        }
        other => other,
    }
}

/// Calls the status function import `import` on `key`.
fn call_import(
    http: &dyn Http,
    res: Resource,
    key: &str,
    import: &str,
    token: &mut Option<String>,
) -> Result<(), AdapterError> {
    let params = match res {
        Resource::WorkOrder => vec![("MaintenanceOrder", string_literal(key))],
        Resource::Asset => vec![
            ("Equipment", string_literal(key)),
            (
                "ValidityEndDate",
                datetime_literal(EQUIPMENT_VALIDITY_END_MS).unwrap_or_default(),
            ),
        ],
        _ => vec![("FunctionalLocation", string_literal(key))],
    };
    let path = format!("/{}/{import}?{}", res.service(), odata::query(&params));
    let resp = write(http, res, token, &|t| {
        with_token(Request::new("POST", path.clone()), t)
    })?;
    if !resp.is_success() {
        // SAP refusing a status change for the object's current status is a conflict.
        return Err(if resp.status == 400 {
            errors::conflict(&resp)
        } else {
            from_response(res, &resp)
        });
    }
    errors::log_messages(resp.header("sap-message"));
    Ok(())
}
