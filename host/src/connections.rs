//! Connections: one adapter bound to one customer system, and the checks the host makes on
//! every call before the adapter runs and on everything the adapter returns.
//!
//! An operation the adapter declared unsupported, a field it declared read-only, a filter on
//! a field it cannot filter: each is refused here, with the adapter's own reason, and nothing
//! is sent upstream. Output is checked against the declaration before a caller sees it
//! ([`output`]): a record that is not a JSON object or has no string `key` is refused;
//! undeclared and wrong-typed members are removed (or refused, under
//! [`OutputPolicy::Strict`]), and every violation is logged and counted.

mod output;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use plantwire_sdk::{
    AdapterError, AdapterInfo, EntityInfo, FieldError, Filter, GetRequest, ListRequest, Operation,
    Support,
};
use serde_json::{Map, Value};

use crate::adapter::{Adapter, CallError};
use crate::health::HealthMonitor;
pub use output::{ContractViolation, OutputPolicy};

/// A page of unified records.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPage {
    pub records: Vec<Map<String, Value>>,
    /// The system's continuation for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    pub total: Option<u64>,
}

/// Options of a `list` call.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub cursor: Option<String>,
    /// Clamped to the entity's declared limits; the entity's default when `None`.
    pub page_size: Option<u32>,
    /// Conditions, each on a declared `filterable` field with one of its declared operators
    /// (see [`crate::paging::parse_filter`] for the text form).
    pub filters: Vec<Filter>,
    pub sort: Option<String>,
    /// The fields to return (`key` always comes); every field when empty.
    pub fields: Vec<String>,
    /// Whether each record carries the system's own payload under `raw`.
    pub include_raw: bool,
}

/// Keeps `key`, the selected fields (all when `fields` is empty) and, when asked for, `raw`
/// (which must then be an object); removes `raw` when it was not asked for.
fn shape(
    record: &mut Map<String, Value>,
    fields: &[String],
    include_raw: bool,
) -> Result<(), CallError> {
    match record.get("raw") {
        Some(Value::Object(_)) | None => {}
        Some(_) if include_raw => {
            return Err(CallError::InvalidOutput(
                "a record's `raw` payload is not a JSON object".into(),
            ));
        }
        Some(_) => {}
    }
    if !include_raw {
        record.remove("raw");
    }
    if !fields.is_empty() {
        record.retain(|name, _| {
            name == "key" || (include_raw && name == "raw") || fields.iter().any(|f| f == name)
        });
    }
    Ok(())
}

/// The outcome of one record of a batch write.
pub type RecordResult = Result<Map<String, Value>, AdapterError>;

/// An adapter bound to one connection, with the host's checks around every call.
#[derive(Clone)]
pub struct Connection {
    id: String,
    adapter: Arc<dyn Adapter>,
    health: Option<HealthMonitor>,
    policy: OutputPolicy,
    /// Contract violations in the adapter's output, shared by every clone.
    violations: Arc<AtomicU64>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.id)
            .field("system", &self.adapter.info().system)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn refused(e: AdapterError) -> CallError {
    CallError::Refused(e)
}

fn invalid(field: &str, message: impl Into<String>) -> CallError {
    refused(AdapterError::invalid(field, message))
}

fn to_object(json: &str) -> Result<Map<String, Value>, CallError> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CallError::InvalidOutput(
            "a record is not a JSON object".into(),
        )),
        Err(e) => Err(CallError::InvalidOutput(format!(
            "a record is not valid JSON: {e}"
        ))),
    }
}

impl Connection {
    pub fn new(id: impl Into<String>, adapter: Arc<dyn Adapter>) -> Connection {
        Connection {
            id: id.into(),
            adapter,
            health: None,
            policy: OutputPolicy::default(),
            violations: Arc::new(AtomicU64::new(0)),
        }
    }

    /// What a violation of the declaration in the adapter's output does to the call
    /// ([`OutputPolicy::DropInvalid`] unless set).
    pub fn with_output_policy(mut self, policy: OutputPolicy) -> Connection {
        self.policy = policy;
        self
    }

    /// How many contract violations the adapter's output has had on this connection (each
    /// undeclared member, wrong-typed member and record without `key` counts once).
    pub fn contract_violations(&self) -> u64 {
        self.violations.load(Ordering::Relaxed)
    }

    /// Counts and logs violations; the error the call ends with, if one must.
    fn report(
        &self,
        op: &'static str,
        found: Vec<(ContractViolation, output::Severity)>,
    ) -> Result<(), CallError> {
        let mut failure = None;
        for (violation, severity) in found {
            self.violations.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                adapter = %violation.adapter,
                connection = %self.id,
                entity = %violation.entity,
                field = %violation.field,
                op,
                "contract violation in the adapter's output: {}",
                violation.problem
            );
            if failure.is_none()
                && (severity == output::Severity::Fatal || self.policy == OutputPolicy::Strict)
            {
                failure = Some(violation);
            }
        }
        match failure {
            Some(v) => Err(CallError::InvalidOutput(v.to_string())),
            None => Ok(()),
        }
    }

    /// Parses one record the adapter returned and checks it against `decl`.
    fn checked(
        &self,
        decl: &EntityInfo,
        op: &'static str,
        json: &str,
        include_raw: bool,
    ) -> Result<Map<String, Value>, CallError> {
        let mut record = to_object(json)?;
        let found = output::check_record(&self.info().system, decl, &mut record, include_raw);
        self.report(op, found)?;
        Ok(record)
    }

    /// An action's result: checked as a record when it carries `key`; otherwise (the
    /// result's shape is not declared per action in contract 0.2) counted as a violation and
    /// handed on whole, or refused under [`OutputPolicy::Strict`].
    fn checked_action(
        &self,
        decl: &EntityInfo,
        json: &str,
    ) -> Result<Map<String, Value>, CallError> {
        let record = to_object(json)?;
        if record.contains_key("key") {
            return self.checked(decl, "action", json, false);
        }
        let violation = ContractViolation {
            adapter: self.info().system.clone(),
            entity: decl.name.clone(),
            field: "key".to_owned(),
            problem: "the action's result is not a record of the entity (it has no `key`)"
                .to_owned(),
        };
        let severity = output::Severity::Dropped;
        self.report("action", vec![(violation, severity)])?;
        Ok(record)
    }

    /// Feeds the outcome of every call to `monitor` (healthy, degraded, needs
    /// reauthorization).
    pub fn with_health(mut self, monitor: HealthMonitor) -> Connection {
        self.health = Some(monitor);
        self
    }

    /// The connection's health monitor, if it has one.
    pub fn health(&self) -> Option<&HealthMonitor> {
        self.health.as_ref()
    }

    /// Reports a call's outcome to the health monitor. Refusals by the host say nothing about
    /// the system. A 401 that reaches this point could not be cured by a refresh or re-login
    /// (egress tries that first). A 403 is not counted: in these APIs it usually refuses one
    /// record or state (a released purchase order), not the credential.
    fn observe<T>(&self, result: &Result<T, CallError>) {
        let Some(health) = &self.health else { return };
        match result {
            Ok(_) => health.record_success(),
            Err(CallError::Adapter(AdapterError::Unauthorized(reason))) => {
                health.record_auth_failure(401, reason)
            }
            Err(CallError::Adapter(AdapterError::Transient(reason))) => {
                health.record_transient_failure(reason)
            }
            Err(CallError::Sandbox(crate::runtime::SandboxError::Deadline(_))) => {
                health.record_transient_failure("the call ran past its deadline")
            }
            Err(_) => {}
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the adapter declared.
    pub fn info(&self) -> &AdapterInfo {
        self.adapter.info()
    }

    /// The entity's declaration, if the operation is supported on it.
    fn supported(&self, entity: &str, op: Operation) -> Result<&EntityInfo, CallError> {
        let info = self.adapter.info();
        let Some(decl) = info.entity(entity) else {
            return Err(refused(AdapterError::Unsupported(format!(
                "{} does not declare the entity `{entity}`",
                info.display_name
            ))));
        };
        match decl.support(op) {
            Support::Supported => Ok(decl),
            Support::Unsupported(reason) => Err(refused(AdapterError::Unsupported(format!(
                "{} cannot {op} {entity}: {reason}",
                info.display_name
            )))),
        }
    }

    /// One page of records.
    pub async fn list(&self, entity: &str, options: ListOptions) -> Result<RecordPage, CallError> {
        let decl = self.supported(entity, Operation::List)?;
        let page_size = options
            .page_size
            .unwrap_or(decl.default_page_size)
            .clamp(1, decl.max_page_size);
        let refuse = |e: crate::paging::QueryError| invalid(e.field(), e.to_string());
        for filter in &options.filters {
            crate::paging::query::validate_filter(decl, filter).map_err(refuse)?;
        }
        if let Some(sort) = &options.sort {
            crate::paging::query::validate_sort(decl, sort).map_err(refuse)?;
        }
        crate::paging::query::validate_fields(decl, &options.fields).map_err(refuse)?;
        let (fields, include_raw) = (options.fields.clone(), options.include_raw);
        let page = self
            .adapter
            .list(ListRequest {
                entity: entity.to_owned(),
                cursor: options.cursor,
                page_size,
                filters: options.filters,
                sort: options.sort,
                fields: options.fields,
                include_raw: options.include_raw,
            })
            .await;
        self.observe(&page);
        let page = page?;
        let records = page
            .records
            .iter()
            .map(|r| {
                let mut record = self.checked(decl, "list", r, include_raw)?;
                shape(&mut record, &fields, include_raw)?;
                Ok(record)
            })
            .collect::<Result<Vec<_>, CallError>>()?;
        Ok(RecordPage {
            records,
            next_cursor: page.next_cursor,
            total: page.total,
        })
    }

    /// One record by key.
    pub async fn get(&self, entity: &str, key: &str) -> Result<Map<String, Value>, CallError> {
        self.get_with(entity, key, false).await
    }

    /// One record by key; with the system's own payload under `raw` when `include_raw`.
    pub async fn get_with(
        &self,
        entity: &str,
        key: &str,
        include_raw: bool,
    ) -> Result<Map<String, Value>, CallError> {
        let decl = self.supported(entity, Operation::Get)?;
        check_key(key)?;
        let record = self
            .adapter
            .get(GetRequest {
                entity: entity.to_owned(),
                key: key.to_owned(),
                include_raw,
            })
            .await;
        self.observe(&record);
        let mut record = self.checked(decl, "get", &record?, include_raw)?;
        shape(&mut record, &[], include_raw)?;
        Ok(record)
    }

    /// Creates records in batches no larger than the adapter's limit; one result per record,
    /// in input order. Records that fail the declared field checks are not sent.
    pub async fn create(
        &self,
        entity: &str,
        records: Vec<Value>,
    ) -> Result<Vec<RecordResult>, CallError> {
        let decl = self.supported(entity, Operation::Create)?;
        let mut results: Vec<Option<RecordResult>> = Vec::with_capacity(records.len());
        let mut pending: Vec<(usize, String)> = Vec::new();
        for (i, record) in records.iter().enumerate() {
            match check_create(decl, record) {
                Ok(()) => {
                    results.push(None);
                    pending.push((i, record.to_string()));
                }
                Err(errors) => results.push(Some(Err(AdapterError::Invalid(errors)))),
            }
        }
        let batch = decl.max_batch_size.max(1) as usize;
        for chunk in pending.chunks(batch) {
            let (indices, texts): (Vec<usize>, Vec<String>) = chunk.iter().cloned().unzip();
            let outcome = self.adapter.create(entity, texts).await;
            self.observe(&outcome);
            let outcome = outcome?;
            if outcome.len() != indices.len() {
                return Err(CallError::InvalidOutput(format!(
                    "create returned {} results for {} records",
                    outcome.len(),
                    indices.len()
                )));
            }
            for (index, result) in indices.into_iter().zip(outcome) {
                let mapped = match result {
                    Ok(json) => Ok(self.checked(decl, "create", &json, false)?),
                    Err(e) => Err(e),
                };
                if let Some(slot) = results.get_mut(index) {
                    *slot = Some(mapped);
                }
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(AdapterError::Transient("not attempted".into()))))
            .collect())
    }

    /// Applies a partial update.
    pub async fn update(
        &self,
        entity: &str,
        key: &str,
        patch: Value,
        concurrency_token: Option<String>,
    ) -> Result<Map<String, Value>, CallError> {
        let decl = self.supported(entity, Operation::Update)?;
        check_key(key)?;
        let Value::Object(map) = &patch else {
            return Err(invalid("(record)", "a patch must be a JSON object"));
        };
        if map.is_empty() {
            return Err(invalid("(record)", "the patch changes nothing"));
        }
        let mut errors = Vec::new();
        for name in map.keys() {
            match decl.field(name) {
                Some(f) if f.flags.updatable => {}
                Some(f) => errors.push(FieldError {
                    field: name.clone(),
                    message: match &f.note {
                        Some(note) => format!("not updatable: {note}"),
                        None => "not updatable".to_owned(),
                    },
                }),
                None => errors.push(FieldError {
                    field: name.clone(),
                    message: format!("{entity} has no such field"),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(refused(AdapterError::Invalid(errors)));
        }
        if concurrency_token.is_some() && !decl.concurrency_token {
            return Err(invalid(
                "concurrencyToken",
                "this system has no concurrency control for this entity (last write wins)",
            ));
        }
        let record = self
            .adapter
            .update(entity, key, patch.to_string(), concurrency_token)
            .await;
        self.observe(&record);
        self.checked(decl, "update", &record?, false)
    }

    /// Deletes a record.
    pub async fn delete(&self, entity: &str, key: &str) -> Result<(), CallError> {
        self.supported(entity, Operation::Delete)?;
        check_key(key)?;
        let result = self.adapter.delete(entity, key).await;
        self.observe(&result);
        result
    }

    /// Runs a named action on a record.
    pub async fn action(
        &self,
        entity: &str,
        key: &str,
        name: &str,
        input: Value,
    ) -> Result<Map<String, Value>, CallError> {
        let decl = self.supported(entity, Operation::Action)?;
        check_key(key)?;
        let Some(action) = decl.action(name) else {
            let known: Vec<&str> = decl.actions.iter().map(|a| a.name.as_str()).collect();
            return Err(refused(AdapterError::Unsupported(format!(
                "{entity} has no action `{name}` (it has: {})",
                known.join(", ")
            ))));
        };
        let Value::Object(map) = &input else {
            return Err(invalid("(input)", "action input must be a JSON object"));
        };
        for field in map.keys() {
            if !action.input_fields.iter().any(|f| &f.name == field) {
                return Err(invalid(
                    field,
                    format!("action `{name}` takes no field `{field}`"),
                ));
            }
        }
        for f in &action.input_fields {
            if f.flags.required_on_create && !map.contains_key(&f.name) {
                return Err(invalid(
                    &f.name,
                    format!("action `{name}` requires `{}`", f.name),
                ));
            }
        }
        let record = self
            .adapter
            .action(entity, key, name, input.to_string())
            .await;
        self.observe(&record);
        self.checked_action(decl, &record?)
    }
}

fn check_key(key: &str) -> Result<(), CallError> {
    if key.is_empty() || key.len() > 512 || key.chars().any(char::is_control) {
        return Err(refused(AdapterError::NotFound(
            "a key is 1-512 printable characters".into(),
        )));
    }
    Ok(())
}

/// Checks one record against the declared creatable and required fields.
fn check_create(decl: &EntityInfo, record: &Value) -> Result<(), Vec<FieldError>> {
    let Value::Object(map) = record else {
        return Err(vec![FieldError {
            field: "(record)".into(),
            message: "a record must be a JSON object".into(),
        }]);
    };
    let mut errors = Vec::new();
    for name in map.keys() {
        match decl.field(name) {
            Some(f) if f.flags.creatable => {}
            Some(f) => errors.push(FieldError {
                field: name.clone(),
                message: match &f.note {
                    Some(note) => format!("not creatable: {note}"),
                    None => "not creatable".to_owned(),
                },
            }),
            None => errors.push(FieldError {
                field: name.clone(),
                message: format!("{} has no such field", decl.name),
            }),
        }
    }
    for f in &decl.fields {
        if f.flags.required_on_create && map.get(&f.name).is_none_or(Value::is_null) {
            errors.push(FieldError {
                field: f.name.clone(),
                message: "required on create".into(),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
