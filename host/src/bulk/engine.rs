//! The bulk engine: turns N input records into batches the system can take, sends them
//! through a [`Connection`] (so every host check, the rate governor and the retries apply),
//! and reports every record's fate in input order.
//!
//! Two ways to run:
//!
//! * [`run`]: in memory, for small inputs (below [`DEFAULT_JOB_THRESHOLD`] records): nothing
//!   is stored, so a crash loses the run's results and a replay writes again;
//! * [`submit`] and a [`Runner`]: a durable job in a [`JobStore`], resumed after a crash from
//!   its last committed batch without losing or duplicating a record (the protocol is in
//!   [`super::store`]).
//!
//! Idempotency keys. Each record gets one: a create's key is its `externalId` where the
//! entity declares that field (creatable and filterable with `in` or `=`); otherwise the
//! caller's key (the reserved input member `_idempotencyKey`, removed before sending, which
//! also becomes the `externalId` where there is one); otherwise a key derived from the
//! connection, entity, operation, the canonical JSON payload and the payload's occurrence
//! number in the input (so two identical records in one input are two records, and the same
//! input replayed derives the same keys). The job store's ledger refuses a key reused with
//! another payload and answers a replayed success without sending anything.
//!
//! Settling a batch that was in flight when a runner died: creates are looked up by
//! `externalId` (found: created; not found: never reached the system, sent now); where the
//! entity has no such field they become [`RecordOutcome::Unknown`]; updates are sent again
//! (the same values again change nothing); actions become unknown.
//!
//! What this module must never do: send a record twice when it cannot know the first one
//! failed, report a partial failure as success, or put a record's payload in an event or a
//! log line.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use plantwire_sdk::{AdapterError, EntityInfo, Filter, FilterOp, Operation, Support};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::sqlite::{MAX_KEY_BYTES, check_records, op_scope};
use super::store::{
    BulkOp, BulkOptions, InputRecord, JobId, JobInfo, JobSpec, JobStatus, JobStore, RecordOutcome,
    StoreError,
};
use crate::adapter::CallError;
use crate::connections::{Connection, ListOptions};
use crate::webhooks::{Event, EventKind, EventSink, JobSummary};

/// Records above which the CLI makes a bulk operation a durable job by default.
pub const DEFAULT_JOB_THRESHOLD: usize = 1_000;

/// The largest batch, whatever the options or the adapter say.
pub const MAX_BATCH_SIZE: u32 = 100;

/// The unified field that carries a record's external reference (Maximo `externalrefid`).
pub const EXTERNAL_ID: &str = "externalId";

/// The reserved input member holding a caller's idempotency key; removed before sending.
pub const KEY_MEMBER: &str = "_idempotencyKey";

/// What a bulk operation does, without the connection (which the caller holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRequest {
    pub entity: String,
    pub op: BulkOp,
    pub options: BulkOptions,
}

/// How far a run is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Input records.
    pub total: u64,
    /// Records with an outcome.
    pub done: u64,
    /// Records that failed (or whose fate is unknown).
    pub failed: u64,
    /// Batches sent and answered.
    pub batches: u64,
}

/// One input record's result.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordResult {
    /// Its position in the input, from 0.
    pub index: u64,
    pub idempotency_key: String,
    pub outcome: RecordOutcome,
}

/// Why a bulk operation could not start or go on. A record's own failure is never one of
/// these: it is that record's [`RecordOutcome::Failed`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BulkError {
    /// The operation is refused as a whole (unknown entity, unsupported operation, bad
    /// options); nothing was sent.
    #[error("{0}")]
    Refused(AdapterError),
    /// The job store refused or failed (a reused key, a lost lease, a database error).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job's connection could not be opened.
    #[error("connection `{id}`: {reason}")]
    Connection { id: String, reason: String },
}

/// The entity's declaration, when `op` is supported on it; the whole operation is refused
/// otherwise.
pub fn entity_for<'a>(
    connection: &'a Connection,
    entity: &str,
    op: &BulkOp,
) -> Result<&'a EntityInfo, BulkError> {
    let info = connection.info();
    let Some(decl) = info.entity(entity) else {
        return Err(BulkError::Refused(AdapterError::Unsupported(format!(
            "{} does not declare the entity `{entity}`",
            info.display_name
        ))));
    };
    let operation = match op {
        BulkOp::Create => Operation::Create,
        BulkOp::Update => Operation::Update,
        BulkOp::Action(_) => Operation::Action,
    };
    if let Support::Unsupported(reason) = decl.support(operation) {
        return Err(BulkError::Refused(AdapterError::Unsupported(format!(
            "{} cannot {operation} {entity}: {reason}",
            info.display_name
        ))));
    }
    if let BulkOp::Action(name) = op
        && decl.action(name).is_none()
    {
        let known: Vec<&str> = decl.actions.iter().map(|a| a.name.as_str()).collect();
        return Err(BulkError::Refused(AdapterError::Unsupported(format!(
            "{entity} has no action `{name}` (it has: {})",
            known.join(", ")
        ))));
    }
    Ok(decl)
}

/// Records per batch: the options' size, never above the entity's declared limit nor
/// [`MAX_BATCH_SIZE`], at least 1.
pub fn batch_size(decl: &EntityInfo, options: &BulkOptions) -> u32 {
    options
        .batch_size
        .clamp(1, decl.max_batch_size.clamp(1, MAX_BATCH_SIZE))
}

/// Whether the entity carries an external reference the engine can set on create and look
/// records up by.
pub fn has_external_id(decl: &EntityInfo) -> bool {
    decl.field(EXTERNAL_ID).is_some_and(|f| {
        f.flags.creatable
            && f.flags.filterable
            && (f.filter_ops.contains(&FilterOp::In) || f.filter_ops.contains(&FilterOp::Eq))
    })
}

/// `value` with every object's members in sorted order, as compact text: the same record
/// always gives the same text.
pub fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut names: Vec<&String> = map.keys().collect();
                names.sort();
                let mut out = Map::new();
                for name in names {
                    if let Some(v) = map.get(name) {
                        out.insert(name.clone(), sorted(v));
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// The length of a derived key that becomes a record's `externalId`: external-reference
/// attributes are short (Maximo's EXTERNALREFID is ALN(10)), so such a key is 10 characters
/// of Crockford base32 (50 bits of the digest).
pub const SHORT_KEY_CHARS: usize = 10;

/// A key derived from what the record is: SHA-256 over the connection, entity, operation,
/// canonical payload and its occurrence number; `pw-` and 32 hex digits, or, when it becomes
/// the `externalId`, [`SHORT_KEY_CHARS`] base32 characters.
fn derived_key(
    connection: &str,
    entity: &str,
    op: &BulkOp,
    payload: &str,
    nth: u64,
    short: bool,
) -> String {
    const BASE32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut h = Sha256::new();
    for part in [connection, entity, &op_scope(op), payload] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update(nth.to_be_bytes());
    let digest = h.finalize();
    if short {
        let mut bits = [0u8; 8];
        bits.copy_from_slice(&digest[..8]);
        let n = u64::from_be_bytes(bits);
        (0..SHORT_KEY_CHARS)
            .map(|i| BASE32[((n >> (59 - 5 * i)) & 31) as usize] as char)
            .collect()
    } else {
        format!("pw-{}", &hex::encode(digest)[..32])
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_BYTES && !key.chars().any(char::is_control)
}

/// Gives each input record its idempotency key and the payload to store and send, in input
/// order. A record whose key member is unusable keeps it, so that sending it reports why
/// ([`decode`]); nothing is refused here.
pub fn prepare(
    connection_id: &str,
    decl: &EntityInfo,
    op: &BulkOp,
    inputs: &[Value],
) -> Vec<InputRecord> {
    let external = *op == BulkOp::Create && has_external_id(decl);
    let mut occurrences: HashMap<String, u64> = HashMap::new();
    let mut derive = |payload: &str| {
        let nth = occurrences.entry(payload.to_owned()).or_insert(0);
        let key = derived_key(connection_id, &decl.name, op, payload, *nth, external);
        *nth += 1;
        key
    };
    inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let index = i as u64;
            let Value::Object(map) = input else {
                let payload = canonical_json(input);
                return InputRecord {
                    index,
                    idempotency_key: derive(&payload),
                    payload,
                };
            };
            let mut map = map.clone();
            let caller = match map.get(KEY_MEMBER) {
                None => None,
                Some(Value::String(k)) if valid_key(k) => Some(k.clone()),
                Some(_) => {
                    // Kept in the payload: sending it reports the bad key.
                    let payload = canonical_json(&Value::Object(map));
                    return InputRecord {
                        index,
                        idempotency_key: derive(&payload),
                        payload,
                    };
                }
            };
            if external {
                match (map.get(EXTERNAL_ID).cloned(), &caller) {
                    (Some(Value::String(ext)), Some(k)) if &ext != k => {
                        // Two different keys: kept, so that sending it reports the clash.
                        let payload = canonical_json(&Value::Object(map));
                        return InputRecord {
                            index,
                            idempotency_key: derive(&payload),
                            payload,
                        };
                    }
                    (Some(Value::String(ext)), _) if valid_key(&ext) => {
                        map.remove(KEY_MEMBER);
                        let key = ext;
                        let payload = canonical_json(&Value::Object(map));
                        return InputRecord {
                            index,
                            idempotency_key: key,
                            payload,
                        };
                    }
                    (Some(_), _) => {
                        // An unusable externalId: the host's checks or the system refuse it.
                        map.remove(KEY_MEMBER);
                        let payload = canonical_json(&Value::Object(map));
                        return InputRecord {
                            index,
                            idempotency_key: derive(&payload),
                            payload,
                        };
                    }
                    (None, _) => {}
                }
            }
            map.remove(KEY_MEMBER);
            let key = match caller {
                Some(k) => k,
                None => derive(&canonical_json(&Value::Object(map.clone()))),
            };
            if external {
                map.insert(EXTERNAL_ID.to_owned(), Value::String(key.clone()));
            }
            InputRecord {
                index,
                idempotency_key: key,
                payload: canonical_json(&Value::Object(map)),
            }
        })
        .collect()
}

/// One record, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Create(Value),
    Update {
        key: String,
        patch: Value,
        concurrency_token: Option<String>,
    },
    Action {
        key: String,
        input: Value,
    },
}

/// Reads a stored payload back for sending; a record that cannot be sent is a validation
/// error naming the member.
pub fn decode(op: &BulkOp, payload: &str) -> Result<Decoded, AdapterError> {
    let value: Value = serde_json::from_str(payload)
        .map_err(|e| AdapterError::invalid("(record)", format!("not valid JSON: {e}")))?;
    let Value::Object(mut map) = value else {
        return Err(AdapterError::invalid(
            "(record)",
            "a record must be a JSON object",
        ));
    };
    if let Some(k) = map.get(KEY_MEMBER) {
        return Err(match k {
            Value::String(k) if valid_key(k) => AdapterError::invalid(
                KEY_MEMBER,
                format!(
                    "differs from `{EXTERNAL_ID}`, which is the record's idempotency key; give one of them, or the same value"
                ),
            ),
            _ => AdapterError::invalid(
                KEY_MEMBER,
                format!("an idempotency key is 1 to {MAX_KEY_BYTES} bytes of printable text"),
            ),
        });
    }
    let take_key = |map: &mut Map<String, Value>| match map.remove("key") {
        Some(Value::String(k)) if !k.is_empty() => Ok(k),
        Some(_) => Err(AdapterError::invalid(
            "key",
            "the record's key must be text",
        )),
        None => Err(AdapterError::invalid(
            "key",
            "each input names the record to change with `key`",
        )),
    };
    let unexpected = |map: &Map<String, Value>, allowed: &str| match map.keys().next() {
        Some(extra) => Err(AdapterError::invalid(
            extra,
            format!("unexpected member; an input has {allowed}"),
        )),
        None => Ok(()),
    };
    match op {
        BulkOp::Create => Ok(Decoded::Create(Value::Object(map))),
        BulkOp::Update => {
            let key = take_key(&mut map)?;
            let patch = match map.remove("patch") {
                Some(p @ Value::Object(_)) => p,
                Some(_) => return Err(AdapterError::invalid("patch", "must be a JSON object")),
                None => {
                    return Err(AdapterError::invalid(
                        "patch",
                        "each update input carries its changes in `patch`",
                    ));
                }
            };
            let concurrency_token = match map.remove("concurrencyToken") {
                None | Some(Value::Null) => None,
                Some(Value::String(t)) => Some(t),
                Some(_) => return Err(AdapterError::invalid("concurrencyToken", "must be text")),
            };
            unexpected(&map, "`key`, `patch` and optionally `concurrencyToken`")?;
            Ok(Decoded::Update {
                key,
                patch,
                concurrency_token,
            })
        }
        BulkOp::Action(_) => {
            let key = take_key(&mut map)?;
            let input = match map.remove("input") {
                Some(i @ Value::Object(_)) => i,
                None | Some(Value::Null) => Value::Object(Map::new()),
                Some(_) => return Err(AdapterError::invalid("input", "must be a JSON object")),
            };
            unexpected(&map, "`key` and optionally `input`")?;
            Ok(Decoded::Action { key, input })
        }
    }
}

/// The outcome of a record the adapter answered with `e`: failed, or unknown where the
/// adapter says the write may have happened ([`AdapterError::outcome_unknown`]).
fn failed(e: AdapterError) -> RecordOutcome {
    if e.is_outcome_unknown() {
        let reason = match &e {
            AdapterError::Upstream(u) => u.message.clone(),
            other => other.to_string(),
        };
        RecordOutcome::Unknown { reason }
    } else {
        RecordOutcome::Failed { error: e }
    }
}

fn key_of(record: &Map<String, Value>) -> Option<String> {
    match record.get("key") {
        Some(Value::String(k)) if !k.is_empty() => Some(k.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// What a call error means for the records it carried: a typed error (the host refused, or
/// the adapter reported) means the adapter answered for them; anything else (the sandbox
/// ended the call, the answer broke the contract) leaves their fate unknown.
fn call_outcome(error: CallError) -> RecordOutcome {
    match error {
        CallError::Refused(e) | CallError::Adapter(e) => failed(e),
        other => RecordOutcome::Unknown {
            reason: format!("the call ended without a usable answer: {other}"),
        },
    }
}

/// Sends one batch (one create call, or one call per update or action) and returns each
/// record's outcome, in the batch's order.
pub async fn send_batch(
    connection: &Connection,
    entity: &str,
    op: &BulkOp,
    records: &[InputRecord],
) -> Vec<(u64, RecordOutcome)> {
    let mut outcomes: Vec<Option<RecordOutcome>> = vec![None; records.len()];
    match op {
        BulkOp::Create => {
            let mut values = Vec::new();
            let mut positions = Vec::new();
            for (i, r) in records.iter().enumerate() {
                match decode(op, &r.payload) {
                    Ok(Decoded::Create(v)) => {
                        values.push(v);
                        positions.push(i);
                    }
                    Ok(_) => {}
                    Err(e) => outcomes[i] = Some(failed(e)),
                }
            }
            if !values.is_empty() {
                match connection.create(entity, values).await {
                    Ok(results) if results.len() == positions.len() => {
                        for (p, result) in positions.into_iter().zip(results) {
                            outcomes[p] = Some(match result {
                                Ok(record) => match key_of(&record) {
                                    Some(key) => RecordOutcome::Created { key },
                                    None => RecordOutcome::Unknown {
                                        reason: "the system answered the create without a key"
                                            .into(),
                                    },
                                },
                                Err(e) => failed(e),
                            });
                        }
                    }
                    Ok(results) => {
                        let reason = format!(
                            "the create call answered {} results for {} records",
                            results.len(),
                            positions.len()
                        );
                        for p in positions {
                            outcomes[p] = Some(RecordOutcome::Unknown {
                                reason: reason.clone(),
                            });
                        }
                    }
                    Err(e) => {
                        let outcome = call_outcome(e);
                        for p in positions {
                            outcomes[p] = Some(outcome.clone());
                        }
                    }
                }
            }
        }
        BulkOp::Update | BulkOp::Action(_) => {
            for (i, r) in records.iter().enumerate() {
                let outcome = match decode(op, &r.payload) {
                    Err(e) => failed(e),
                    Ok(Decoded::Update {
                        key,
                        patch,
                        concurrency_token,
                    }) => match connection
                        .update(entity, &key, patch, concurrency_token)
                        .await
                    {
                        Ok(record) => RecordOutcome::Updated {
                            key: key_of(&record).unwrap_or(key),
                        },
                        Err(e) => call_outcome(e),
                    },
                    Ok(Decoded::Action { key, input }) => {
                        let BulkOp::Action(name) = op else {
                            continue;
                        };
                        match connection.action(entity, &key, name, input).await {
                            Ok(record) => RecordOutcome::Updated {
                                key: key_of(&record).unwrap_or(key),
                            },
                            Err(e) => call_outcome(e),
                        }
                    }
                    Ok(Decoded::Create(_)) => continue,
                };
                outcomes[i] = Some(outcome);
            }
        }
    }
    records
        .iter()
        .zip(outcomes)
        .map(|(r, o)| {
            (
                r.index,
                o.unwrap_or_else(|| RecordOutcome::Unknown {
                    reason: "the engine produced no outcome".into(),
                }),
            )
        })
        .collect()
}

/// Finds records by `externalId`: key → the system's key. Chunks stay within the `in`
/// filter's limit and one page; further pages are followed.
pub async fn lookup_external(
    connection: &Connection,
    decl: &EntityInfo,
    keys: &[String],
) -> Result<HashMap<String, String>, CallError> {
    let mut found = HashMap::new();
    let use_in = decl
        .field(EXTERNAL_ID)
        .is_some_and(|f| f.filter_ops.contains(&FilterOp::In));
    let chunk = if use_in {
        (crate::paging::query::MAX_IN_VALUES)
            .min(decl.max_page_size.max(1) as usize)
            .max(1)
    } else {
        1
    };
    for keys in keys.chunks(chunk) {
        let filter = Filter {
            field: EXTERNAL_ID.to_owned(),
            op: if use_in { FilterOp::In } else { FilterOp::Eq },
            values: keys.to_vec(),
        };
        let mut cursor = None;
        // A page holds at most `chunk` matches; the guard stops a system whose cursor
        // never ends.
        for _ in 0..1_000 {
            let page = connection
                .list(
                    &decl.name,
                    ListOptions {
                        cursor,
                        page_size: Some(u32::try_from(chunk).unwrap_or(100)),
                        filters: vec![filter.clone()],
                        fields: vec![EXTERNAL_ID.to_owned()],
                        ..ListOptions::default()
                    },
                )
                .await?;
            for record in &page.records {
                if let (Some(Value::String(ext)), Some(key)) =
                    (record.get(EXTERNAL_ID), key_of(record))
                    && keys.contains(ext)
                {
                    found.entry(ext.clone()).or_insert(key);
                }
            }
            match page.next_cursor {
                Some(next) if !page.records.is_empty() => cursor = Some(next),
                _ => break,
            }
        }
    }
    Ok(found)
}

/// Turns unknown create outcomes into `Created` where the record is found by `externalId`
/// (the call failed after the system wrote it). Others stay unknown.
async fn resolve_unknown(
    connection: &Connection,
    decl: &EntityInfo,
    op: &BulkOp,
    records: &[InputRecord],
    outcomes: &mut [(u64, RecordOutcome)],
) {
    if *op != BulkOp::Create || !has_external_id(decl) {
        return;
    }
    let keys: Vec<String> = records
        .iter()
        .zip(outcomes.iter())
        .filter(|(_, (_, o))| matches!(o, RecordOutcome::Unknown { .. }))
        .map(|(r, _)| r.idempotency_key.clone())
        .collect();
    if keys.is_empty() {
        return;
    }
    let Ok(found) = lookup_external(connection, decl, &keys).await else {
        return;
    };
    for (r, (_, o)) in records.iter().zip(outcomes.iter_mut()) {
        if matches!(o, RecordOutcome::Unknown { .. })
            && let Some(key) = found.get(&r.idempotency_key)
        {
            *o = RecordOutcome::Created { key: key.clone() };
        }
    }
}

/// Runs a bulk operation in memory: batches, the delay between them, the failure limit.
/// Returns one result per input record, in input order. Refused as a whole (nothing sent)
/// when the entity or operation is not supported or two records share a key.
pub async fn run(
    connection: &Connection,
    request: &BulkRequest,
    inputs: &[Value],
    mut progress: impl FnMut(&Progress),
) -> Result<Vec<RecordResult>, BulkError> {
    let decl = entity_for(connection, &request.entity, &request.op)?;
    let records = prepare(connection.id(), decl, &request.op, inputs);
    check_records(&records)?;
    let size = batch_size(decl, &request.options) as usize;
    let mut state = Progress {
        total: records.len() as u64,
        ..Progress::default()
    };
    let mut results = Vec::with_capacity(records.len());
    let mut stopped: Option<String> = None;
    let chunks: Vec<&[InputRecord]> = records.chunks(size).collect();
    for (n, chunk) in chunks.iter().enumerate() {
        if let Some(reason) = &stopped {
            for r in *chunk {
                results.push(RecordResult {
                    index: r.index,
                    idempotency_key: r.idempotency_key.clone(),
                    outcome: RecordOutcome::Skipped {
                        reason: reason.clone(),
                    },
                });
            }
            state.done += chunk.len() as u64;
            continue;
        }
        let mut outcomes = send_batch(connection, &request.entity, &request.op, chunk).await;
        resolve_unknown(connection, decl, &request.op, chunk, &mut outcomes).await;
        for (r, (_, outcome)) in chunk.iter().zip(outcomes) {
            if outcome.is_failure() {
                state.failed += 1;
            }
            results.push(RecordResult {
                index: r.index,
                idempotency_key: r.idempotency_key.clone(),
                outcome,
            });
        }
        state.done += chunk.len() as u64;
        state.batches += 1;
        progress(&state);
        if let Some(limit) = request.options.stop_after_failures
            && state.failed >= u64::from(limit)
        {
            stopped = Some(stop_reason(limit));
            continue;
        }
        if n + 1 < chunks.len() && !request.options.delay.is_zero() {
            tokio::time::sleep(request.options.delay).await;
        }
    }
    if stopped.is_some() {
        progress(&state);
    }
    Ok(results)
}

fn stop_reason(limit: u32) -> String {
    format!("the run stopped after {limit} failed records")
}

/// Makes a durable job of a bulk operation: checks the operation, gives each record its key
/// and stores the job with every record. A key reused with another payload refuses the job.
pub async fn submit(
    store: &dyn JobStore,
    connection: &Connection,
    tenant: Option<String>,
    request: &BulkRequest,
    inputs: &[Value],
) -> Result<JobId, BulkError> {
    let decl = entity_for(connection, &request.entity, &request.op)?;
    let records = prepare(connection.id(), decl, &request.op, inputs);
    let spec = JobSpec {
        connection: connection.id().to_owned(),
        tenant,
        entity: request.entity.clone(),
        op: request.op.clone(),
        options: request.options.clone(),
    };
    Ok(store
        .create_job(&spec, &records, OffsetDateTime::now_utc())
        .await?)
}

/// Where a runner gets the live connection a job names.
#[async_trait]
pub trait ConnectionSource: Send + Sync {
    /// The connection `id`, or why it cannot be had.
    async fn connection(&self, id: &str) -> Result<Connection, String>;
}

/// Connections made up front (tests, embedding applications).
#[derive(Debug, Default, Clone)]
pub struct FixedConnections(pub HashMap<String, Connection>);

#[async_trait]
impl ConnectionSource for FixedConnections {
    async fn connection(&self, id: &str) -> Result<Connection, String> {
        self.0
            .get(id)
            .cloned()
            .ok_or_else(|| format!("no connection `{id}`"))
    }
}

/// The state directory's connections, with their adapters from a registry.
pub struct WorkspaceConnections {
    workspace: Arc<crate::store::Workspace>,
    registry: Arc<crate::Registry>,
}

impl std::fmt::Debug for WorkspaceConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkspaceConnections")
            .field("state_dir", &self.workspace.state_dir())
            .finish_non_exhaustive()
    }
}

impl WorkspaceConnections {
    pub fn new(
        workspace: Arc<crate::store::Workspace>,
        registry: Arc<crate::Registry>,
    ) -> WorkspaceConnections {
        WorkspaceConnections {
            workspace,
            registry,
        }
    }
}

#[async_trait]
impl ConnectionSource for WorkspaceConnections {
    async fn connection(&self, id: &str) -> Result<Connection, String> {
        self.workspace
            .connection(&self.registry, id)
            .await
            .map_err(|e| e.to_string())
    }
}

/// The events of a workspace's jobs: written to its outbox once for every stored endpoint
/// that receives the job's tenant. The endpoints are read at each event.
#[derive(Debug)]
pub struct WorkspaceEvents(pub Arc<crate::store::Workspace>);

impl EventSink for WorkspaceEvents {
    fn emit(&self, event: Event) {
        let endpoints = match self.0.store().endpoints() {
            Ok(e) => e,
            Err(error) => {
                tracing::error!(event = %event.kind, error = %error, "cannot read the webhook endpoints");
                return;
            }
        };
        let ids: Vec<&str> = endpoints
            .iter()
            .filter(|e| e.receives(event.tenant.as_deref()))
            .map(|e| e.id.as_str())
            .collect();
        if ids.is_empty() {
            return;
        }
        if let Err(error) = self
            .0
            .outbox()
            .enqueue_many(ids, &event, OffsetDateTime::now_utc())
        {
            tracing::error!(
                event = %event.kind,
                connection = %event.connection_id,
                error = %error,
                "webhook event could not be written to the outbox"
            );
        }
    }
}

/// Progress of one job, for a runner's callback.
#[derive(Debug, Clone)]
pub struct JobProgress {
    pub id: JobId,
    pub progress: Progress,
}

/// Runs durable jobs: claims them under a lease, renews it, settles an in-flight batch left
/// by a runner that died, sends the rest batch by batch, honours cancel and the failure
/// limit between batches, finishes the job and emits `job.completed`.
pub struct Runner {
    store: Arc<dyn JobStore>,
    connections: Arc<dyn ConnectionSource>,
    events: Arc<dyn EventSink>,
    owner: String,
    lease: Duration,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("owner", &self.owner)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// How long a runner's lease lasts by default; it renews at a third of that.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

impl Runner {
    /// A runner named after this process (`pid` and a random suffix).
    pub fn new(
        store: Arc<dyn JobStore>,
        connections: Arc<dyn ConnectionSource>,
        events: Arc<dyn EventSink>,
    ) -> Runner {
        let suffix = super::sqlite::new_job_id(OffsetDateTime::now_utc()).0;
        Runner {
            store,
            connections,
            events,
            owner: format!(
                "runner-{}-{}",
                std::process::id(),
                suffix.get(suffix.len().saturating_sub(8)..).unwrap_or("")
            ),
            lease: DEFAULT_LEASE,
        }
    }

    /// The same runner with another lease length (at least one second).
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Runner {
        self.lease = lease.max(Duration::from_secs(1));
        self
    }

    /// The same runner under another name.
    #[must_use]
    pub fn with_owner(mut self, owner: impl Into<String>) -> Runner {
        self.owner = owner.into();
        self
    }

    /// The runner's name, as stored as the lease owner.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims the oldest claimable job and runs it to its end; `None` when there is none.
    pub async fn run_next(
        &self,
        progress: &mut (dyn FnMut(&JobProgress) + Send),
    ) -> Result<Option<JobInfo>, BulkError> {
        let Some(job) = self
            .store
            .claim(&self.owner, self.lease, OffsetDateTime::now_utc())
            .await?
        else {
            return Ok(None);
        };
        self.drive(job, progress).await.map(Some)
    }

    /// Claims job `id` and runs it to its end; `None` when it is not claimable (over, or
    /// held by a live runner).
    pub async fn run_job(
        &self,
        id: &JobId,
        progress: &mut (dyn FnMut(&JobProgress) + Send),
    ) -> Result<Option<JobInfo>, BulkError> {
        let Some(job) = self
            .store
            .claim_job(id, &self.owner, self.lease, OffsetDateTime::now_utc())
            .await?
        else {
            return Ok(None);
        };
        self.drive(job, progress).await.map(Some)
    }

    /// Runs claimable jobs until none is left; the jobs it ran, and the errors of those it
    /// could not finish (their leases run out and another run picks them up).
    pub async fn run_until_idle(
        &self,
        progress: &mut (dyn FnMut(&JobProgress) + Send),
    ) -> (Vec<JobInfo>, Vec<(JobId, BulkError)>) {
        let mut done = Vec::new();
        let mut errors = Vec::new();
        loop {
            let job = match self
                .store
                .claim(&self.owner, self.lease, OffsetDateTime::now_utc())
                .await
            {
                Ok(Some(job)) => job,
                Ok(None) => break,
                Err(e) => {
                    errors.push((JobId(String::new()), e.into()));
                    break;
                }
            };
            let id = job.id.clone();
            match self.drive(job, progress).await {
                Ok(job) => done.push(job),
                Err(e) => errors.push((id, e)),
            }
        }
        (done, errors)
    }

    async fn drive(
        &self,
        job: JobInfo,
        progress: &mut (dyn FnMut(&JobProgress) + Send),
    ) -> Result<JobInfo, BulkError> {
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = {
            let (store, id, owner, lease, lost) = (
                Arc::clone(&self.store),
                job.id.clone(),
                self.owner.clone(),
                self.lease,
                Arc::clone(&lost),
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    if store
                        .renew(&id, &owner, lease, OffsetDateTime::now_utc())
                        .await
                        .is_err()
                    {
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                }
            })
        };
        let result = self.drive_leased(job, progress, &lost).await;
        renewer.abort();
        result
    }

    async fn drive_leased(
        &self,
        job: JobInfo,
        progress: &mut (dyn FnMut(&JobProgress) + Send),
        lost: &AtomicBool,
    ) -> Result<JobInfo, BulkError> {
        let id = job.id.clone();
        let spec = job.spec.clone();
        let connection = self
            .connections
            .connection(&spec.connection)
            .await
            .map_err(|reason| BulkError::Connection {
                id: spec.connection.clone(),
                reason,
            })?;
        let decl = entity_for(&connection, &spec.entity, &spec.op)?.clone();
        let size = batch_size(&decl, &spec.options);
        let report = |job: &JobInfo, progress: &mut (dyn FnMut(&JobProgress) + Send)| {
            progress(&JobProgress {
                id: job.id.clone(),
                progress: Progress {
                    total: job.total,
                    done: job.done,
                    failed: job.failed,
                    batches: job.batches,
                },
            });
        };
        report(&job, progress);

        if let Some(in_flight) = self.store.in_flight(&id).await? {
            let outcomes = self
                .settle(&connection, &decl, &spec, &in_flight.records)
                .await;
            let job = self
                .store
                .commit_batch(
                    &id,
                    &self.owner,
                    in_flight.batch,
                    &outcomes,
                    OffsetDateTime::now_utc(),
                )
                .await?;
            report(&job, progress);
        }

        let mut first = true;
        let (status, reason) = loop {
            if lost.load(Ordering::SeqCst) {
                return Err(StoreError::LeaseLost(id).into());
            }
            let job = self
                .store
                .renew(&id, &self.owner, self.lease, OffsetDateTime::now_utc())
                .await?;
            if job.cancel_requested {
                break (JobStatus::Cancelled, "the job was cancelled".to_owned());
            }
            if let Some(limit) = spec.options.stop_after_failures
                && job.failed >= u64::from(limit)
            {
                break (JobStatus::Stopped, stop_reason(limit));
            }
            let batch = self.store.pending(&id, size).await?;
            if batch.is_empty() {
                break (
                    JobStatus::Completed,
                    "every record was attempted".to_owned(),
                );
            }
            if !first && !spec.options.delay.is_zero() {
                tokio::time::sleep(spec.options.delay).await;
            }
            first = false;
            let indexes: Vec<u64> = batch.iter().map(|r| r.index).collect();
            let number = self
                .store
                .begin_batch(&id, &self.owner, &indexes, OffsetDateTime::now_utc())
                .await?;
            let mut outcomes = send_batch(&connection, &spec.entity, &spec.op, &batch).await;
            resolve_unknown(&connection, &decl, &spec.op, &batch, &mut outcomes).await;
            let job = self
                .store
                .commit_batch(
                    &id,
                    &self.owner,
                    number,
                    &outcomes,
                    OffsetDateTime::now_utc(),
                )
                .await?;
            report(&job, progress);
        };
        let job = self
            .store
            .finish(&id, &self.owner, status, &reason, OffsetDateTime::now_utc())
            .await?;
        report(&job, progress);
        self.announce(&job).await;
        Ok(job)
    }

    /// The outcomes of a batch that was in flight when its runner stopped.
    async fn settle(
        &self,
        connection: &Connection,
        decl: &EntityInfo,
        spec: &JobSpec,
        records: &[InputRecord],
    ) -> Vec<(u64, RecordOutcome)> {
        let unknown = |why: &str| -> Vec<(u64, RecordOutcome)> {
            records
                .iter()
                .map(|r| {
                    (
                        r.index,
                        RecordOutcome::Unknown {
                            reason: why.to_owned(),
                        },
                    )
                })
                .collect()
        };
        match &spec.op {
            BulkOp::Update => send_batch(connection, &spec.entity, &spec.op, records).await,
            BulkOp::Action(_) => unknown(
                "sent before the job's runner stopped; an action cannot be looked up, so it is not run again",
            ),
            BulkOp::Create if !has_external_id(decl) => unknown(&format!(
                "sent before the job's runner stopped; {} {} has no `{EXTERNAL_ID}` to look it up by, so it is not sent again",
                connection.info().display_name,
                spec.entity
            )),
            BulkOp::Create => {
                let keys: Vec<String> = records.iter().map(|r| r.idempotency_key.clone()).collect();
                let found = match lookup_external(connection, decl, &keys).await {
                    Ok(found) => found,
                    Err(e) => {
                        return unknown(&format!(
                            "sent before the job's runner stopped, and the look-up by `{EXTERNAL_ID}` failed: {e}"
                        ));
                    }
                };
                let missing: Vec<InputRecord> = records
                    .iter()
                    .filter(|r| !found.contains_key(&r.idempotency_key))
                    .cloned()
                    .collect();
                let mut resent: HashMap<u64, RecordOutcome> = HashMap::new();
                if !missing.is_empty() {
                    let mut outcomes =
                        send_batch(connection, &spec.entity, &spec.op, &missing).await;
                    resolve_unknown(connection, decl, &spec.op, &missing, &mut outcomes).await;
                    resent.extend(outcomes);
                }
                records
                    .iter()
                    .map(|r| {
                        let outcome = match found.get(&r.idempotency_key) {
                            Some(key) => RecordOutcome::Created { key: key.clone() },
                            None => resent.remove(&r.index).unwrap_or(RecordOutcome::Unknown {
                                reason: "no outcome after settling".into(),
                            }),
                        };
                        (r.index, outcome)
                    })
                    .collect()
            }
        }
    }

    /// Emits `job.completed` with the job's counts.
    async fn announce(&self, job: &JobInfo) {
        let outcomes = match self.store.outcomes(&job.id).await {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(job = %job.id, error = %e, "cannot count the job's outcomes");
                Vec::new()
            }
        };
        let summary = summarize(job, outcomes.iter().filter_map(|(_, _, o)| o.as_ref()));
        let reason = format!(
            "job {} {}: {} of {} records created, {} updated, {} failed, {} unknown, {} skipped",
            job.id,
            summary.status,
            summary.created,
            summary.total,
            summary.updated,
            summary.failed,
            summary.unknown,
            summary.skipped
        );
        let mut event =
            Event::new(EventKind::JobCompleted, &job.spec.connection, &reason).with_job(summary);
        if let Some(tenant) = &job.spec.tenant {
            event = event.with_tenant(tenant.clone());
        }
        self.events.emit(event);
    }
}

/// A job's counts by outcome.
pub fn summarize<'a>(
    job: &JobInfo,
    outcomes: impl IntoIterator<Item = &'a RecordOutcome>,
) -> JobSummary {
    let mut s = JobSummary {
        id: job.id.0.clone(),
        status: job.status.as_str().to_owned(),
        entity: job.spec.entity.clone(),
        operation: op_scope(&job.spec.op),
        total: job.total,
        ..JobSummary::default()
    };
    for o in outcomes {
        match o {
            RecordOutcome::Created { .. } => s.created += 1,
            RecordOutcome::Updated { .. } => s.updated += 1,
            RecordOutcome::Failed { .. } => s.failed += 1,
            RecordOutcome::Unknown { .. } => s.unknown += 1,
            RecordOutcome::Skipped { .. } => s.skipped += 1,
        }
    }
    s
}

/// One results line: `{"index", "idempotencyKey", "outcome", ...}` with the outcome's own
/// members (`key`, `error`, `reason`).
pub fn result_line(index: u64, key: &str, outcome: Option<&RecordOutcome>) -> Value {
    let mut line = Map::new();
    line.insert("index".into(), Value::from(index));
    line.insert("idempotencyKey".into(), Value::from(key));
    match outcome.map(serde_json::to_value) {
        Some(Ok(Value::Object(o))) => line.extend(o),
        _ => {
            line.insert("outcome".into(), Value::from("pending"));
        }
    }
    Value::Object(line)
}

#[cfg(test)]
mod tests;
