//! The engine against an in-process system that keeps its records in memory and counts every
//! write call, so the batching, the keys and the settling after a crash can be checked
//! record by record. The real adapters and simulators are exercised by the CLI tests.

use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use plantwire_sdk::{
    ActionInfo, AdapterInfo, AuthScheme, Field, FieldFlags, FieldType, ItemField, ListRequest,
    Page as SdkPage, WriteResult,
};
use serde_json::json;

use super::*;
use crate::adapter::Adapter;
use crate::bulk::sqlite::SqliteJobStore;
use crate::runtime::SandboxError;

/// An in-memory system: work orders with a required `title`, optionally an `externalId`.
struct Shelf {
    info: AdapterInfo,
    records: Mutex<Vec<Map<String, Value>>>,
    /// Sizes of the create calls received.
    create_calls: Mutex<Vec<usize>>,
    updates: AtomicUsize,
    actions: AtomicUsize,
    /// The next create call writes its records and then ends as if the sandbox killed it.
    die_after_write: AtomicBool,
}

fn shelf_info(external_id: bool, max_batch: u32) -> AdapterInfo {
    let w = FieldFlags::WRITE;
    let mut fields = vec![
        Field::new("key", FieldType::String, FieldFlags::READ),
        Field::new("title", FieldType::String, w.required()),
        Field::new("priority", FieldType::Integer, w),
    ];
    if external_id {
        fields.push(
            Field::new("externalId", FieldType::String, w).ops(&[FilterOp::Eq, FilterOp::In]),
        );
    }
    AdapterInfo {
        system: "shelf".into(),
        display_name: "Shelf".into(),
        adapter_version: "0".into(),
        api_version: "0".into(),
        default_base_url: None,
        auth: AuthScheme::None,
        extra_origins: vec![],
        entities: vec![EntityInfo {
            name: "work-order".into(),
            native_name: "orders".into(),
            list: Support::Supported,
            get: Support::no("not here"),
            create: Support::Supported,
            update: Support::Supported,
            delete: Support::no("not here"),
            actions: vec![ActionInfo {
                name: "close".into(),
                description: "closes it".into(),
                input_fields: vec![ItemField {
                    name: "memo".into(),
                    ty: FieldType::String,
                    flags: FieldFlags::WRITE,
                    native_name: None,
                    note: None,
                }],
            }],
            fields,
            default_page_size: 10,
            max_page_size: 7,
            max_batch_size: max_batch,
            concurrency_token: false,
            note: None,
        }],
    }
}

impl Shelf {
    fn new(external_id: bool, max_batch: u32) -> Arc<Shelf> {
        Arc::new(Shelf {
            info: shelf_info(external_id, max_batch),
            records: Mutex::new(Vec::new()),
            create_calls: Mutex::new(Vec::new()),
            updates: AtomicUsize::new(0),
            actions: AtomicUsize::new(0),
            die_after_write: AtomicBool::new(false),
        })
    }

    fn titles(&self) -> Vec<String> {
        self.records
            .lock()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_owned())
            .collect()
    }

    fn calls(&self) -> Vec<usize> {
        self.create_calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl Adapter for Shelf {
    fn info(&self) -> &AdapterInfo {
        &self.info
    }

    async fn list(&self, req: ListRequest) -> Result<SdkPage, CallError> {
        let start: usize = req.cursor.as_deref().map_or(0, |c| c.parse().unwrap());
        let matching: Vec<String> = self
            .records
            .lock()
            .unwrap()
            .iter()
            .filter(|r| {
                req.filters.iter().all(|f| {
                    let v = r.get(&f.field).and_then(Value::as_str).unwrap_or("");
                    f.values.iter().any(|x| x == v)
                })
            })
            .map(|r| Value::Object(r.clone()).to_string())
            .collect();
        let end = (start + req.page_size as usize).min(matching.len());
        Ok(SdkPage {
            records: matching[start..end].to_vec(),
            next_cursor: (end < matching.len()).then(|| end.to_string()),
            total: None,
        })
    }

    async fn get(&self, _: plantwire_sdk::GetRequest) -> Result<String, CallError> {
        unreachable!("not declared")
    }

    async fn create(
        &self,
        _entity: &str,
        records: Vec<String>,
    ) -> Result<Vec<WriteResult>, CallError> {
        assert!(records.len() as u32 <= self.info.entities[0].max_batch_size);
        self.create_calls.lock().unwrap().push(records.len());
        let mut out = Vec::new();
        for text in records {
            let mut record: Map<String, Value> = serde_json::from_str(&text).unwrap();
            if record["title"].as_str() == Some("refuse me") {
                out.push(Err(AdapterError::Conflict("the system said no".into())));
                continue;
            }
            let mut all = self.records.lock().unwrap();
            let key = format!("WO-{}", all.len() + 1);
            record.insert("key".into(), json!(key));
            all.push(record.clone());
            out.push(Ok(Value::Object(record).to_string()));
        }
        if self.die_after_write.swap(false, Ordering::SeqCst) {
            return Err(CallError::Sandbox(SandboxError::Trap("killed".into())));
        }
        Ok(out)
    }

    async fn update(
        &self,
        _: &str,
        key: &str,
        patch: String,
        _: Option<String>,
    ) -> Result<String, CallError> {
        self.updates.fetch_add(1, Ordering::SeqCst);
        let patch: Map<String, Value> = serde_json::from_str(&patch).unwrap();
        let mut all = self.records.lock().unwrap();
        let Some(r) = all.iter_mut().find(|r| r["key"] == key) else {
            return Err(CallError::Adapter(AdapterError::NotFound(key.into())));
        };
        r.extend(patch);
        Ok(Value::Object(r.clone()).to_string())
    }

    async fn delete(&self, _: &str, _: &str) -> Result<(), CallError> {
        unreachable!("not declared")
    }

    async fn action(&self, _: &str, key: &str, _: &str, _: String) -> Result<String, CallError> {
        self.actions.fetch_add(1, Ordering::SeqCst);
        Ok(json!({"key": key}).to_string())
    }
}

fn request(op: BulkOp, batch_size: u32) -> BulkRequest {
    BulkRequest {
        entity: "work-order".into(),
        op,
        options: BulkOptions {
            batch_size,
            ..BulkOptions::default()
        },
    }
}

fn orders(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"title": format!("order {i}")}))
        .collect()
}

#[derive(Default)]
struct Events(Mutex<Vec<Event>>);

impl EventSink for Events {
    fn emit(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

struct Temp(std::path::PathBuf);

impl Temp {
    fn new(name: &str) -> Temp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "plantwire-engine-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Temp(dir)
    }

    fn store(&self) -> Arc<SqliteJobStore> {
        Arc::new(SqliteJobStore::open(self.0.join("jobs.db")).unwrap())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn runner(store: &Arc<SqliteJobStore>, connection: &Connection, events: &Arc<Events>) -> Runner {
    let mut map = HashMap::new();
    map.insert(connection.id().to_owned(), connection.clone());
    Runner::new(
        store.clone(),
        Arc::new(FixedConnections(map)),
        events.clone(),
    )
}

#[tokio::test]
async fn an_in_memory_run_batches_within_every_limit_and_reports_in_input_order() {
    let shelf = Shelf::new(false, 4);
    let conn = Connection::new("c", shelf.clone());
    let mut inputs = orders(10);
    inputs[3] = json!({"priority": 2});
    inputs[6] = json!({"title": "x", "colour": "red"});
    inputs[8] = json!("not an object");
    let mut seen = Vec::new();
    let results = run(&conn, &request(BulkOp::Create, 50), &inputs, |p| {
        seen.push(*p)
    })
    .await
    .unwrap();
    assert_eq!(results.len(), 10);
    assert_eq!(
        results.iter().map(|r| r.index).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    // Batches of 4 (the adapter's limit, below the options' 50); invalid records not sent.
    assert_eq!(shelf.calls(), [3, 3, 1]);
    let field = |i: usize| match &results[i].outcome {
        RecordOutcome::Failed {
            error: AdapterError::Invalid(errors),
        } => errors[0].field.clone(),
        other => panic!("{i}: {other:?}"),
    };
    assert_eq!(field(3), "title");
    assert_eq!(field(6), "colour");
    assert_eq!(field(8), "(record)");
    assert_eq!(
        results[9].outcome,
        RecordOutcome::Created { key: "WO-7".into() }
    );
    assert_eq!(
        shelf.titles(),
        [
            "order 0", "order 1", "order 2", "order 4", "order 5", "order 7", "order 9"
        ]
    );
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[2],
        Progress {
            total: 10,
            done: 10,
            failed: 3,
            batches: 3
        }
    );
    // A batch size of 0 still sends one at a time; an unknown entity refuses the whole run.
    assert_eq!(
        batch_size(
            &shelf.info.entities[0],
            &BulkOptions {
                batch_size: 0,
                ..BulkOptions::default()
            }
        ),
        1
    );
    let mut bad = request(BulkOp::Create, 5);
    bad.entity = "spaceship".into();
    assert!(matches!(
        run(&conn, &bad, &orders(2), |_| {}).await,
        Err(BulkError::Refused(AdapterError::Unsupported(_)))
    ));
    let action = request(BulkOp::Action("explode".into()), 5);
    assert!(matches!(
        run(&conn, &action, &orders(2), |_| {}).await,
        Err(BulkError::Refused(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn the_failure_limit_skips_the_rest_and_batches_are_spaced_by_the_delay() {
    let shelf = Shelf::new(false, 100);
    let conn = Connection::new("c", shelf.clone());
    let mut inputs = orders(12);
    for i in [1, 2, 5] {
        inputs[i] = json!({"title": "refuse me"});
    }
    // Identical refused records are distinct records with distinct keys.
    let mut req = request(BulkOp::Create, 3);
    req.options.stop_after_failures = Some(3);
    req.options.delay = Duration::from_millis(250);
    let started = tokio::time::Instant::now();
    let results = run(&conn, &req, &inputs, |_| {}).await.unwrap();
    // Batch 1 fails two, batch 2 the third: the limit is reached and batches 3-4 are skipped.
    assert_eq!(shelf.calls(), [3, 3]);
    assert_eq!(started.elapsed(), Duration::from_millis(250));
    let kinds: Vec<&str> = results
        .iter()
        .map(|r| match r.outcome {
            RecordOutcome::Created { .. } => "c",
            RecordOutcome::Failed { .. } => "f",
            RecordOutcome::Skipped { .. } => "s",
            _ => "?",
        })
        .collect();
    assert_eq!(
        kinds,
        ["c", "f", "f", "c", "c", "f", "s", "s", "s", "s", "s", "s"]
    );
    let keys: std::collections::HashSet<&str> =
        results.iter().map(|r| r.idempotency_key.as_str()).collect();
    assert_eq!(keys.len(), 12);
}

#[test]
fn keys_come_from_external_id_the_callers_member_or_the_payload() {
    let with = shelf_info(true, 10).entities.remove(0);
    let without = shelf_info(false, 10).entities.remove(0);
    let inputs = vec![
        json!({"title": "a", "externalId": "EXT-1"}),
        json!({"title": "b", "_idempotencyKey": "mine-2"}),
        json!({"title": "c"}),
        json!({"title": "c"}),
        json!({"title": "d", "_idempotencyKey": 7}),
        json!({"title": "e", "externalId": "EXT-5", "_idempotencyKey": "other"}),
        json!({"priority": 1, "title": "c"}),
    ];
    let r = prepare("conn", &with, &BulkOp::Create, &inputs);
    assert_eq!(r[0].idempotency_key, "EXT-1");
    assert_eq!(r[0].payload, r#"{"externalId":"EXT-1","title":"a"}"#);
    assert_eq!(r[1].idempotency_key, "mine-2");
    assert_eq!(r[1].payload, r#"{"externalId":"mine-2","title":"b"}"#);
    assert_eq!(
        r[2].idempotency_key.len(),
        SHORT_KEY_CHARS,
        "it fits short attributes"
    );
    assert_ne!(
        r[2].idempotency_key, r[3].idempotency_key,
        "two identical records"
    );
    assert_eq!(
        r[2].payload,
        format!(r#"{{"externalId":"{}","title":"c"}}"#, r[2].idempotency_key)
    );
    // The same input derives the same keys; member order does not matter.
    let again = prepare("conn", &with, &BulkOp::Create, &inputs);
    assert_eq!(again, r);
    assert_ne!(r[6].idempotency_key, r[2].idempotency_key);
    assert_ne!(
        prepare("other-conn", &with, &BulkOp::Create, &inputs)[2].idempotency_key,
        r[2].idempotency_key
    );
    // Unusable keys stay in the payload and are reported when it is sent.
    for (i, needle) in [(4, "printable"), (5, "differs from `externalId`")] {
        match decode(&BulkOp::Create, &r[i].payload) {
            Err(AdapterError::Invalid(e)) => {
                assert_eq!(e[0].field, KEY_MEMBER);
                assert!(e[0].message.contains(needle), "{}", e[0].message);
            }
            other => panic!("{i}: {other:?}"),
        }
    }
    // Without externalId the caller's key is only a key; the member never reaches the system.
    let r = prepare("conn", &without, &BulkOp::Create, &inputs);
    assert_eq!(r[1].idempotency_key, "mine-2");
    assert_eq!(r[1].payload, r#"{"title":"b"}"#);
    assert_eq!(r[0].idempotency_key.len(), 35);

    let updates = vec![
        json!({"key": "WO-1", "patch": {"priority": 2}, "_idempotencyKey": "u1"}),
        json!({"key": "WO-1", "patch": {"priority": 2}}),
        json!({"key": "WO-1"}),
        json!({"key": "WO-1", "patch": {"priority": 2}, "extra": true}),
    ];
    let r = prepare("conn", &without, &BulkOp::Update, &updates);
    assert_eq!(r[0].idempotency_key, "u1");
    assert_eq!(r[0].payload, r[1].payload);
    assert!(matches!(
        decode(&BulkOp::Update, &r[1].payload),
        Ok(Decoded::Update { ref key, .. }) if key == "WO-1"
    ));
    for (i, field) in [(2, "patch"), (3, "extra")] {
        match decode(&BulkOp::Update, &r[i].payload) {
            Err(AdapterError::Invalid(e)) => assert_eq!(e[0].field, field),
            other => panic!("{i}: {other:?}"),
        }
    }
}

/// The runner dies after the system wrote a batch and before the batch was committed: the
/// new runner finds those records by `externalId` and sends only what never arrived.
#[tokio::test]
async fn a_crashed_batch_is_settled_by_external_id_and_nothing_is_written_twice() {
    let temp = Temp::new("settle-ext");
    let store = temp.store();
    let shelf = Shelf::new(true, 10);
    let conn = Connection::new("c", shelf.clone());
    let events = Arc::new(Events::default());
    let id = submit(
        store.as_ref(),
        &conn,
        Some("acme".into()),
        &request(BulkOp::Create, 4),
        &orders(10),
    )
    .await
    .unwrap();

    // The runner that dies: one batch committed, the second sent (half of it written).
    let past = OffsetDateTime::now_utc() - time::Duration::minutes(5);
    store
        .claim_job(&id, "dead", Duration::from_secs(1), past)
        .await
        .unwrap()
        .unwrap();
    let first = store.pending(&id, 4).await.unwrap();
    let n = store
        .begin_batch(&id, "dead", &[0, 1, 2, 3], past)
        .await
        .unwrap();
    let outcomes = send_batch(&conn, "work-order", &BulkOp::Create, &first).await;
    store
        .commit_batch(&id, "dead", n, &outcomes, past)
        .await
        .unwrap();
    let second = store.pending(&id, 4).await.unwrap();
    store
        .begin_batch(&id, "dead", &[4, 5, 6, 7], past)
        .await
        .unwrap();
    send_batch(&conn, "work-order", &BulkOp::Create, &second[..2]).await;
    assert_eq!(shelf.titles().len(), 6);

    let runner = runner(&store, &conn, &events);
    let mut reports = Vec::new();
    let done = runner
        .run_next(&mut |p: &JobProgress| reports.push(p.progress))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!((done.total, done.done, done.failed), (10, 10, 0));
    let mut titles = shelf.titles();
    titles.sort();
    let mut expected: Vec<String> = (0..10).map(|i| format!("order {i}")).collect();
    expected.sort();
    assert_eq!(titles, expected, "every record exactly once");
    let outcomes = store.outcomes(&id).await.unwrap();
    for (i, key, outcome) in &outcomes {
        let Some(RecordOutcome::Created { key: system_key }) = outcome else {
            panic!("{i}: {outcome:?}");
        };
        let record = shelf
            .records
            .lock()
            .unwrap()
            .iter()
            .find(|r| &r["key"] == system_key)
            .cloned()
            .unwrap();
        assert_eq!(record["externalId"], json!(key));
        assert_eq!(record["title"], json!(format!("order {i}")));
    }
    // Settling sent the two missing records; the last batch the remaining two.
    assert_eq!(shelf.calls(), [4, 2, 2, 2]);
    assert_eq!(reports.last().map(|p| p.done), Some(10));

    let events = events.0.lock().unwrap();
    assert_eq!(events.len(), 1);
    let payload = events[0].payload();
    assert_eq!(payload["type"], "job.completed");
    assert_eq!(payload["data"]["tenant"], "acme");
    assert_eq!(payload["data"]["job"]["id"], json!(id.0));
    assert_eq!(payload["data"]["job"]["created"], 10);
    assert!(!payload.to_string().contains("order 1"), "no payloads");
}

#[tokio::test]
async fn without_external_id_a_crashed_batch_is_unknown_and_never_resent() {
    let temp = Temp::new("settle-unknown");
    let store = temp.store();
    let shelf = Shelf::new(false, 10);
    let conn = Connection::new("c", shelf.clone());
    let events = Arc::new(Events::default());
    let id = submit(
        store.as_ref(),
        &conn,
        None,
        &request(BulkOp::Create, 3),
        &orders(7),
    )
    .await
    .unwrap();
    let past = OffsetDateTime::now_utc() - time::Duration::minutes(5);
    store
        .claim_job(&id, "dead", Duration::from_secs(1), past)
        .await
        .unwrap()
        .unwrap();
    let batch = store.pending(&id, 3).await.unwrap();
    store
        .begin_batch(&id, "dead", &[0, 1, 2], past)
        .await
        .unwrap();
    send_batch(&conn, "work-order", &BulkOp::Create, &batch).await;

    let done = runner(&store, &conn, &events)
        .run_next(&mut |_: &JobProgress| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(done.failed, 3, "unknown counts as a failure");
    assert_eq!(shelf.titles().len(), 7, "nothing written twice");
    let outcomes = store.outcomes(&id).await.unwrap();
    for (i, _, o) in &outcomes[..3] {
        match o {
            Some(RecordOutcome::Unknown { reason }) => {
                assert!(reason.contains("no `externalId`"), "{i}: {reason}")
            }
            other => panic!("{i}: {other:?}"),
        }
    }
    assert!(
        outcomes[3..]
            .iter()
            .all(|(_, _, o)| matches!(o, Some(RecordOutcome::Created { .. })))
    );
}

#[tokio::test]
async fn a_call_killed_after_writing_is_resolved_by_external_id() {
    let shelf = Shelf::new(true, 10);
    let conn = Connection::new("c", shelf.clone());
    shelf.die_after_write.store(true, Ordering::SeqCst);
    let results = run(&conn, &request(BulkOp::Create, 5), &orders(5), |_| {})
        .await
        .unwrap();
    assert!(
        results
            .iter()
            .all(|r| matches!(r.outcome, RecordOutcome::Created { .. })),
        "{results:?}"
    );
    let plain = Shelf::new(false, 10);
    let conn = Connection::new("c", plain.clone());
    plain.die_after_write.store(true, Ordering::SeqCst);
    let results = run(&conn, &request(BulkOp::Create, 5), &orders(2), |_| {})
        .await
        .unwrap();
    assert!(
        results
            .iter()
            .all(|r| matches!(r.outcome, RecordOutcome::Unknown { .. }))
    );
}

#[tokio::test]
async fn in_flight_updates_are_sent_again_and_in_flight_actions_are_unknown() {
    let temp = Temp::new("settle-update");
    let store = temp.store();
    let shelf = Shelf::new(false, 10);
    let conn = Connection::new("c", shelf.clone());
    run(&conn, &request(BulkOp::Create, 10), &orders(3), |_| {})
        .await
        .unwrap();
    let events = Arc::new(Events::default());
    let past = OffsetDateTime::now_utc() - time::Duration::minutes(5);
    let updates: Vec<Value> = (1..=3)
        .map(|i| json!({"key": format!("WO-{i}"), "patch": {"priority": i}}))
        .collect();
    let up = submit(
        store.as_ref(),
        &conn,
        None,
        &request(BulkOp::Update, 2),
        &updates,
    )
    .await
    .unwrap();
    store
        .claim_job(&up, "dead", Duration::from_secs(1), past)
        .await
        .unwrap()
        .unwrap();
    store.begin_batch(&up, "dead", &[0, 1], past).await.unwrap();
    let done = runner(&store, &conn, &events)
        .run_job(&up, &mut |_: &JobProgress| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!((done.status, done.failed), (JobStatus::Completed, 0));
    assert_eq!(shelf.updates.load(Ordering::SeqCst), 3);

    let acts: Vec<Value> = (1..=3)
        .map(|i| json!({"key": format!("WO-{i}"), "input": {"memo": "done"}}))
        .collect();
    let act = submit(
        store.as_ref(),
        &conn,
        None,
        &request(BulkOp::Action("close".into()), 2),
        &acts,
    )
    .await
    .unwrap();
    store
        .claim_job(&act, "dead", Duration::from_secs(1), past)
        .await
        .unwrap()
        .unwrap();
    store
        .begin_batch(&act, "dead", &[0, 1], past)
        .await
        .unwrap();
    let done = runner(&store, &conn, &events)
        .run_job(&act, &mut |_: &JobProgress| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!((done.status, done.failed), (JobStatus::Completed, 2));
    assert_eq!(
        shelf.actions.load(Ordering::SeqCst),
        1,
        "only the third ran"
    );
}

#[tokio::test]
async fn a_cancelled_job_stops_between_batches_and_a_replay_sends_nothing() {
    let temp = Temp::new("cancel");
    let store = temp.store();
    let shelf = Shelf::new(true, 10);
    let conn = Connection::new("c", shelf.clone());
    let events = Arc::new(Events::default());
    let id = submit(
        store.as_ref(),
        &conn,
        None,
        &request(BulkOp::Create, 2),
        &orders(8),
    )
    .await
    .unwrap();
    let runner = runner(&store, &conn, &events);
    // Cancel as soon as the second batch is committed.
    let cancel_store = store.clone();
    let cancel_id = id.clone();
    let done = runner
        .run_job(&id, &mut move |p: &JobProgress| {
            if p.progress.batches == 2 {
                let (s, i) = (cancel_store.clone(), cancel_id.clone());
                // The cancel lands before the runner's next check.
                std::thread::spawn(move || {
                    tokio::runtime::Runtime::new()
                        .unwrap()
                        .block_on(s.cancel(&i, OffsetDateTime::now_utc()))
                        .unwrap()
                })
                .join()
                .unwrap();
            }
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Cancelled);
    assert_eq!(shelf.titles().len(), 4);
    let skipped = store
        .outcomes(&id)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, _, o)| matches!(o, Some(RecordOutcome::Skipped { .. })))
        .count();
    assert_eq!(skipped, 4);
    assert_eq!(
        events.0.lock().unwrap()[0].payload()["data"]["job"]["status"],
        "cancelled"
    );

    // The same input again: the four created are known from the ledger; only four are sent.
    let again = submit(
        store.as_ref(),
        &conn,
        None,
        &request(BulkOp::Create, 2),
        &orders(8),
    )
    .await
    .unwrap();
    let done = runner
        .run_job(&again, &mut |_: &JobProgress| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(shelf.titles().len(), 8);
    // A third time: everything is known, nothing is sent.
    let calls = shelf.calls().len();
    let third = submit(
        store.as_ref(),
        &conn,
        None,
        &request(BulkOp::Create, 2),
        &orders(8),
    )
    .await
    .unwrap();
    let done = runner
        .run_job(&third, &mut |_: &JobProgress| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (done.status, done.done, done.batches),
        (JobStatus::Completed, 8, 0)
    );
    assert_eq!(shelf.calls().len(), calls);
    // Another payload under a used key is refused before anything is stored or sent.
    let mut changed = orders(8);
    changed[0] = json!({"title": "changed", "externalId": prepare("c", &shelf.info.entities[0], &BulkOp::Create, &orders(8))[0].idempotency_key});
    assert!(matches!(
        submit(
            store.as_ref(),
            &conn,
            None,
            &request(BulkOp::Create, 2),
            &changed
        )
        .await,
        Err(BulkError::Store(StoreError::KeyReused { index: 0, .. }))
    ));
}
