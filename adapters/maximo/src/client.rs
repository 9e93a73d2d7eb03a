//! The HTTP conversations behind each operation: which Maximo requests are sent, in which
//! order, and how their answers become unified records or typed errors. Paths are relative to
//! the connection's base URL, the API root (`https://host/maximo/oslc` or `.../maximo/api`);
//! the host adds the `apikey` header.

use std::collections::HashMap;

use plantwire_sdk::contract::{GetRequest, ListRequest, Page};
use plantwire_sdk::query::PathQuery;
use plantwire_sdk::{
    AdapterError, Http, Level, Request, Response, UpstreamError, WriteResult, log,
};
use serde_json::{Map, Value, json};

use crate::describe::{MAX_BATCH_SIZE, MAX_PAGE_SIZE};
use crate::errors::{self, Doing};
use crate::mapping::purchase_order::{PO_NATIVE_SETTABLE, PO_STATUSES};
use crate::mapping::work_order::{WO_SETTABLE, WO_STATUSES};
use crate::mapping::{self, Extras, Mode, accepted, field_error, json_object};
use crate::query;
use crate::restid;
use crate::structures::Os;

/// Sends `req`; a non-2xx answer becomes the matching [`AdapterError`].
fn send(http: &dyn Http, os: Os, doing: Doing, req: Request) -> Result<Response, AdapterError> {
    let resp = http.send(req.header("accept", "application/json"))?;
    if resp.is_success() {
        Ok(resp)
    } else {
        Err(errors::from_response(os, doing, &resp))
    }
}

/// The path of record `key` with the lean selection `select`.
fn record_query(os: Os, key: &str, select: &str) -> Result<String, AdapterError> {
    Ok(PathQuery::new(os.record_path(key)?)
        .param("lean", 1)
        .param("oslc.select", select)
        .build())
}

/// What records returned by writes carry beyond the mapped fields: `customFields` (writes
/// ask for every attribute back), never `raw`.
const READ_BACK: Extras = Extras {
    custom: true,
    raw: false,
};

/// `GET` of one record as Maximo JSON, with every attribute.
fn fetch(http: &dyn Http, os: Os, key: &str) -> Result<Value, AdapterError> {
    fetch_selected(http, os, key, &os.select_all())
}

/// `GET` of one record as Maximo JSON, with the attributes of `select`.
fn fetch_selected(http: &dyn Http, os: Os, key: &str, select: &str) -> Result<Value, AdapterError> {
    let path = record_query(os, key, select)?;
    let resp = send(http, os, Doing::Read, Request::get(path))?;
    match resp.json()? {
        v @ Value::Object(_) => Ok(v),
        _ => Err(AdapterError::Upstream(UpstreamError {
            status: resp.status,
            code: None,
            message: format!("the {} record is not a JSON object", os.name()),
        })),
    }
}

/// The record a write answered with (`properties` sent), or a fresh read when the answer has
/// no body (`204`, or a server that ignores `properties`).
fn record_after_write(
    http: &dyn Http,
    os: Os,
    key: &str,
    resp: &Response,
) -> Result<String, AdapterError> {
    if !resp.body.iter().all(u8::is_ascii_whitespace)
        && let Ok(v @ Value::Object(_)) = resp.json()
        && mapping::key_from(&v, os.pk()).is_some()
    {
        return Ok(mapping::to_unified_with(os, &v, READ_BACK));
    }
    Ok(mapping::to_unified_with(
        os,
        &fetch(http, os, key)?,
        READ_BACK,
    ))
}

/// One page of records.
pub(crate) fn list(http: &dyn Http, req: &ListRequest) -> Result<Page, AdapterError> {
    let os = Os::for_entity(&req.entity)?;
    let (path, page) = query::build(os, req)?;
    let resp = send(http, os, Doing::List, Request::get(path))?;
    query::parse_page(os, &resp.body, page, query::extras(req))
}

/// One record by key, with every attribute (`customFields`) and, when asked, the record as
/// Maximo sent it (`raw`); a key that is not of the entity's form is not found without a
/// request.
pub(crate) fn get(http: &dyn Http, req: &GetRequest) -> Result<String, AdapterError> {
    let os = Os::for_entity(&req.entity)?;
    let native = fetch_selected(http, os, &req.key, &os.select_all())?;
    let extras = Extras {
        custom: true,
        raw: req.include_raw,
    };
    Ok(mapping::to_unified_with(os, &native, extras))
}

/// A `transactionid` for a create body: a 128-bit FNV-1a digest of the object structure and
/// the body. The same create replayed (a retry after a lost answer, a resumed bulk job) carries
/// the same id, and Maximo refuses it with 409 instead of creating the record twice.
pub fn transaction_id(os: Os, body: &[u8]) -> String {
    fn fnv(seed: u64, parts: &[&[u8]]) -> u64 {
        let mut h = seed;
        for part in parts {
            for b in *part {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0000_0100_0000_01B3);
            }
            h ^= 0xFF;
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        h
    }
    let parts: [&[u8]; 2] = [os.name().as_bytes(), body];
    format!(
        "pw-{:016x}{:016x}",
        fnv(0xCBF2_9CE4_8422_2325, &parts),
        fnv(0x8422_2325_CBF2_9CE4, &parts)
    )
}

/// A create request with its `transactionid` (also sent as `idempotency-key`, which lets the
/// host retry it after a transient failure: a retry of a committed create is then refused by
/// Maximo with 409 rather than written twice).
fn create_request(os: Os, body: &Value, bulk: bool) -> Request {
    let text = body.to_string();
    let txn = transaction_id(os, text.as_bytes());
    let path = PathQuery::new(os.path()).param("lean", 1).build();
    let mut req = Request::json("POST", path, body)
        .header("transactionid", &txn)
        .header("idempotency-key", &txn);
    req = if bulk {
        req.header("x-method-override", "BULK")
    } else {
        req.header("properties", &os.select_all())
    };
    req
}

/// Creates a batch: one record with a plain `POST`, several with one BULK request; results in
/// input order.
pub(crate) fn create(
    http: &dyn Http,
    entity: &str,
    records: Vec<String>,
) -> Result<Vec<WriteResult>, AdapterError> {
    let os = Os::for_entity(entity)?;
    if records.len() > MAX_BATCH_SIZE as usize {
        return Err(AdapterError::invalid(
            "(batch)",
            format!(
                "{} records in one create call; the adapter sends at most {MAX_BATCH_SIZE} per BULK request",
                records.len()
            ),
        ));
    }
    let mut results: Vec<Option<WriteResult>> = Vec::with_capacity(records.len());
    let mut pending: Vec<(usize, Value)> = Vec::new();
    for (i, record) in records.iter().enumerate() {
        match mapping::to_native(os, record, Mode::Create, None) {
            Ok(body) => {
                results.push(None);
                pending.push((i, body));
            }
            Err(e) => results.push(Some(Err(e))),
        }
    }
    match pending.len() {
        0 => {}
        1 => {
            let (i, body) = &pending[0];
            results[*i] = Some(create_one(http, os, body));
        }
        _ => {
            let outcomes = create_bulk(http, os, pending.iter().map(|(_, b)| b.clone()).collect())?;
            for ((i, _), outcome) in pending.iter().zip(outcomes) {
                results[*i] = Some(outcome);
            }
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(AdapterError::Transient("not attempted".into()))))
        .collect())
}

fn create_one(http: &dyn Http, os: Os, body: &Value) -> WriteResult {
    let resp = send(http, os, Doing::Write, create_request(os, body, false))?;
    let key = resp
        .header("location")
        .and_then(restid::key_of_href)
        .or_else(|| {
            resp.json()
                .ok()
                .and_then(|v| mapping::key_from(&v, os.pk()))
        });
    let Some(key) = key else {
        return Err(AdapterError::Upstream(UpstreamError {
            status: resp.status,
            code: None,
            message: "Maximo created the record but sent no Location".to_owned(),
        }));
    };
    match record_after_write(http, os, &key, &resp) {
        Ok(record) => Ok(record),
        Err(e) => {
            // The record exists: reporting a failure would invite a second create.
            log(
                Level::Warn,
                &format!(
                    "created {} {key} but could not read it back: {e}",
                    os.entity()
                ),
            );
            Ok(key_only(&key))
        }
    }
}

fn key_only(key: &str) -> String {
    json!({ "key": key }).to_string()
}

/// One BULK request for several creates; each item's `_responsemeta` is its result.
fn create_bulk(
    http: &dyn Http,
    os: Os,
    bodies: Vec<Value>,
) -> Result<Vec<WriteResult>, AdapterError> {
    let n = bodies.len();
    let items: Vec<Value> = bodies
        .into_iter()
        .map(|b| {
            let mut m = match b {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            m.insert("_action".to_owned(), json!("Add"));
            Value::Object(m)
        })
        .collect();
    let resp = match send(
        http,
        os,
        Doing::Write,
        create_request(os, &Value::Array(items), true),
    ) {
        Ok(resp) => resp,
        // The whole request was refused (a duplicate transactionid, credentials, ...): every
        // record gets the reason.
        Err(e) => return Ok(vec![Err(e); n]),
    };
    let answers = match resp.json()? {
        Value::Array(a) if a.len() == n => a,
        other => {
            let got = other.as_array().map_or(0, Vec::len);
            return Err(AdapterError::Upstream(UpstreamError {
                status: resp.status,
                code: None,
                message: format!("the BULK answer has {got} items for {n} records"),
            }));
        }
    };
    let mut outcomes: Vec<Result<String, AdapterError>> = Vec::with_capacity(n);
    for answer in &answers {
        let meta = answer.get("_responsemeta");
        let status = meta
            .and_then(|m| m.get("status"))
            .and_then(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .or_else(|| s.as_u64().map(|n| n.to_string()))
            })
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        if (200..300).contains(&status) {
            let key = meta
                .and_then(|m| m.get("Location"))
                .and_then(Value::as_str)
                .and_then(restid::key_of_href);
            outcomes.push(key.ok_or_else(|| {
                AdapterError::Upstream(UpstreamError {
                    status,
                    code: None,
                    message: "Maximo created the record but its BULK answer has no Location"
                        .to_owned(),
                })
            }));
        } else {
            let data = answer.get("_responsedata").cloned().unwrap_or(Value::Null);
            let item = Response {
                status: if status == 0 { 400 } else { status },
                headers: Vec::new(),
                body: data.to_string().into_bytes(),
            };
            outcomes.push(Err(errors::from_response(os, Doing::Write, &item)));
        }
    }
    let created: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok())
        .map(String::as_str)
        .collect();
    let found = fetch_many(http, os, &created);
    Ok(outcomes
        .into_iter()
        .map(|o| {
            o.map(|key| match found.get(&key) {
                Some(native) => mapping::to_unified_with(os, native, READ_BACK),
                None => {
                    log(
                        Level::Warn,
                        &format!("created {} {key} but could not read it back", os.entity()),
                    );
                    key_only(&key)
                }
            })
        })
        .collect())
}

/// Reads several records by key with one collection query (`attr in [..]` per key
/// attribute), then one `GET` for any the query did not return.
fn fetch_many(http: &dyn Http, os: Os, keys: &[&str]) -> HashMap<String, Value> {
    let mut found = HashMap::new();
    if keys.is_empty() {
        return found;
    }
    let mut conds = Vec::new();
    let mut quotable = true;
    for (at, attr) in os.pk().iter().enumerate() {
        let mut values: Vec<String> = Vec::new();
        for key in keys {
            let Some(v) = os.key_parts(key).and_then(|p| p.get(at).copied()) else {
                quotable = false;
                continue;
            };
            let lit = if *attr == "revisionnum" && v.parse::<u64>().is_ok() {
                v.to_owned()
            } else {
                match query::quote(v) {
                    Ok(q) => q,
                    Err(_) => {
                        quotable = false;
                        continue;
                    }
                }
            };
            if !values.contains(&lit) {
                values.push(lit);
            }
        }
        conds.push(format!("{attr} in [{}]", values.join(",")));
    }
    if quotable {
        let path = PathQuery::new(os.path())
            .param("lean", 1)
            .param("oslc.select", os.select_all())
            .param("oslc.where", conds.join(" and "))
            .param("oslc.pageSize", MAX_PAGE_SIZE)
            .build();
        match send(http, os, Doing::List, Request::get(path)).and_then(|r| r.json()) {
            Ok(body) => {
                for m in body
                    .get("member")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(k) = mapping::key_from(m, os.pk())
                        && keys.contains(&k.as_str())
                    {
                        found.insert(k, m.clone());
                    }
                }
            }
            Err(e) => log(
                Level::Warn,
                &format!("reading created {} records back failed: {e}", os.entity()),
            ),
        }
    }
    for key in keys {
        if !found.contains_key(*key)
            && let Ok(native) = fetch(http, os, key)
        {
            found.insert((*key).to_owned(), native);
        }
    }
    found
}

/// Applies a partial update (`patchtype: MERGE`); returns the record after it.
pub(crate) fn update(
    http: &dyn Http,
    entity: &str,
    key: &str,
    patch: &str,
    concurrency_token: Option<&str>,
) -> Result<String, AdapterError> {
    let os = Os::for_entity(entity)?;
    let path = PathQuery::new(os.record_path(key)?)
        .param("lean", 1)
        .build();
    let body = mapping::to_native(os, patch, Mode::Update, Some(key))?;
    let mut req = Request::json("POST", path, &body)
        .header("x-method-override", "PATCH")
        .header("patchtype", "MERGE")
        .header("properties", &os.select_all());
    if let Some(token) = concurrency_token {
        let token = token.trim().trim_matches('"');
        if token.is_empty()
            || token.len() > 64
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(AdapterError::invalid(
                "concurrencyToken",
                "not a Maximo concurrency token (the record's _rowstamp, as read)",
            ));
        }
        req = req.header("if-match", &format!("\"{token}\""));
    }
    if body.as_object().is_some_and(Map::is_empty) {
        return Ok(mapping::to_unified_with(
            os,
            &fetch(http, os, key)?,
            READ_BACK,
        ));
    }
    let resp = send(http, os, Doing::Write, req)?;
    record_after_write(http, os, key, &resp)
}

/// Deletes a record (`DELETE` → 200); Maximo's refusal (a business rule) is a conflict.
pub(crate) fn delete(http: &dyn Http, entity: &str, key: &str) -> Result<(), AdapterError> {
    let os = Os::for_entity(entity)?;
    send(
        http,
        os,
        Doing::Delete,
        Request::delete(os.record_path(key)?),
    )?;
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
    let os = Os::for_entity(entity)?;
    if name != "change-status" || !os.has_change_status() {
        return Err(AdapterError::Unsupported(format!(
            "no action `{name}` on {entity} ({})",
            if os.has_change_status() {
                "available: change-status"
            } else {
                "this adapter offers no actions on it"
            }
        )));
    }
    let path = PathQuery::new(os.record_path(key)?)
        .param("action", "wsmethod:changeStatus")
        .param("lean", 1)
        .build();
    let body = status_body(os, input)?;
    let req = Request::json("POST", path, &body)
        .header("x-method-override", "PATCH")
        .header("properties", &os.select_all());
    let resp = send(http, os, Doing::ChangeStatus, req)?;
    record_after_write(http, os, key, &resp)
}

/// The body of `wsmethod:changeStatus` from the action's unified input.
pub(crate) fn status_body(os: Os, input: &str) -> Result<Value, AdapterError> {
    let raw = json_object(input, "(input)", "the input must be a JSON object")?;
    let (table, natives): (&[(&str, &str)], &[&str]) = match os {
        Os::Po => (PO_STATUSES, PO_NATIVE_SETTABLE),
        _ => (
            WO_SETTABLE,
            &[
                "WAPPR", "APPR", "WSCH", "WMATL", "WPCOND", "INPRG", "COMP", "CLOSE", "CAN",
            ],
        ),
    };
    let mut errors = Vec::new();
    for name in raw.keys() {
        if !["status", "nativeStatus", "memo"].contains(&name.as_str()) {
            errors.push(field_error(
                name,
                "change-status takes status or nativeStatus, and memo",
            ));
        }
    }
    let status = match (raw.get("status"), raw.get("nativeStatus")) {
        (Some(Value::String(s)), None) => match table.iter().find(|(u, _)| u == s) {
            Some((_, n)) => Some(*n),
            None => {
                let hint = if os == Os::WorkOrder && WO_STATUSES.iter().any(|(u, _)| u == s) {
                    format!(
                        "`{s}` stands for several Maximo statuses; give nativeStatus (one of {})",
                        natives.join(", ")
                    )
                } else {
                    format!("`{s}` is not one of {}", accepted(table))
                };
                errors.push(field_error("status", hint));
                None
            }
        },
        (None, Some(Value::String(n))) => match natives.iter().find(|x| **x == n.as_str()) {
            Some(n) => Some(*n),
            None => {
                errors.push(field_error(
                    "nativeStatus",
                    format!("`{n}` is not one of {}", natives.join(", ")),
                ));
                None
            }
        },
        (Some(_), Some(_)) => {
            errors.push(field_error(
                "status",
                "give status or nativeStatus, not both",
            ));
            None
        }
        (None, None) => {
            errors.push(field_error("status", "status or nativeStatus is required"));
            None
        }
        (Some(_), None) => {
            errors.push(field_error("status", "must be a string"));
            None
        }
        (None, Some(_)) => {
            errors.push(field_error("nativeStatus", "must be a string"));
            None
        }
    };
    let mut body = Map::new();
    if let Some(s) = status {
        body.insert("status".to_owned(), json!(s));
    }
    match raw.get("memo") {
        Some(Value::String(m)) => {
            body.insert("memo".to_owned(), json!(m));
        }
        Some(Value::Null) | None => {}
        Some(_) => errors.push(field_error("memo", "must be a string")),
    }
    if errors.is_empty() {
        Ok(Value::Object(body))
    } else {
        Err(AdapterError::Invalid(errors))
    }
}
