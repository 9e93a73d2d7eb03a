use std::sync::atomic::{AtomicUsize, Ordering};

use plantwire_sdk::AdapterError;

use super::*;
use crate::bulk::store::BulkOptions;

/// A fresh database file, removed (with its WAL files) on drop.
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> TempDb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "plantwire-jobs-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDb(dir)
    }

    fn path(&self) -> PathBuf {
        self.0.join("jobs.db")
    }

    fn open(&self) -> SqliteJobStore {
        SqliteJobStore::open(self.path()).unwrap()
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn t(s: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000 + s).unwrap()
}

const LEASE: Duration = Duration::from_secs(30);

fn spec(op: BulkOp) -> JobSpec {
    JobSpec {
        connection: "mx".into(),
        tenant: None,
        entity: "work-order".into(),
        op,
        options: BulkOptions::default(),
    }
}

fn records(n: u64, tag: &str) -> Vec<InputRecord> {
    (0..n)
        .map(|i| InputRecord {
            index: i,
            idempotency_key: format!("{tag}-{i}"),
            payload: format!(r#"{{"title":"{tag} {i}"}}"#),
        })
        .collect()
}

fn created(i: u64) -> RecordOutcome {
    RecordOutcome::Created {
        key: format!("K{i}"),
    }
}

#[tokio::test]
async fn a_job_runs_through_the_protocol_and_its_outcomes_come_back_in_order() {
    let db = TempDb::new("protocol");
    let store = db.open();
    let id = store
        .create_job(&spec(BulkOp::Create), &records(5, "a"), t(0))
        .await
        .unwrap();
    assert!(id.0.starts_with("job_") && id.0.len() == 30, "{id}");
    let job = store.job(&id).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.total, job.done, job.batches),
        (JobStatus::Queued, 5, 0, 0)
    );

    let claimed = store.claim("r1", LEASE, t(1)).await.unwrap().unwrap();
    assert_eq!(claimed.status, JobStatus::Running);
    assert_eq!(claimed.lease_owner.as_deref(), Some("r1"));
    assert_eq!(claimed.lease_until, Some(t(31)));

    let first = store.pending(&id, 3).await.unwrap();
    assert_eq!(first.iter().map(|r| r.index).collect::<Vec<_>>(), [0, 1, 2]);
    let n = store
        .begin_batch(&id, "r1", &[0, 1, 2], t(2))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let flight = store.in_flight(&id).await.unwrap().unwrap();
    assert_eq!(flight.batch, 1);
    assert_eq!(flight.records, first);
    // In-flight records are not pending; a second batch cannot begin.
    assert_eq!(
        store
            .pending(&id, 10)
            .await
            .unwrap()
            .iter()
            .map(|r| r.index)
            .collect::<Vec<_>>(),
        [3, 4]
    );
    assert!(matches!(
        store.begin_batch(&id, "r1", &[3], t(2)).await,
        Err(StoreError::State { .. })
    ));
    // Every record of the batch needs an outcome, and only those.
    assert!(matches!(
        store
            .commit_batch(&id, "r1", 1, &[(0, created(0)), (1, created(1))], t(3))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .commit_batch(
                &id,
                "r1",
                1,
                &[(0, created(0)), (1, created(1)), (3, created(3))],
                t(3)
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.commit_batch(&id, "r1", 2, &[], t(3)).await,
        Err(StoreError::State { .. })
    ));
    let failure = RecordOutcome::Failed {
        error: AdapterError::invalid("title", "required on create"),
    };
    let job = store
        .commit_batch(
            &id,
            "r1",
            1,
            &[(0, created(0)), (1, failure.clone()), (2, created(2))],
            t(3),
        )
        .await
        .unwrap();
    assert_eq!((job.done, job.failed, job.batches), (3, 1, 1));
    assert!(store.in_flight(&id).await.unwrap().is_none());

    let n = store.begin_batch(&id, "r1", &[3, 4], t(4)).await.unwrap();
    assert_eq!(n, 2);
    store
        .commit_batch(&id, "r1", 2, &[(4, created(4)), (3, created(3))], t(5))
        .await
        .unwrap();
    let job = store
        .finish(&id, "r1", JobStatus::Completed, "done", t(6))
        .await
        .unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!((job.done, job.failed, job.batches), (5, 1, 2));
    assert_eq!(job.lease_owner, None);
    let outcomes = store.outcomes(&id).await.unwrap();
    assert_eq!(outcomes.len(), 5);
    assert_eq!(outcomes[1], (1, "a-1".to_owned(), Some(failure)));
    assert_eq!(outcomes[4], (4, "a-4".to_owned(), Some(created(4))));
    // A finished job is not claimable.
    assert!(store.claim("r2", LEASE, t(100)).await.unwrap().is_none());
    assert!(
        store
            .claim_job(&id, "r2", LEASE, t(100))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn two_claimants_never_get_the_same_job_and_an_expired_lease_is_taken_over() {
    let db = TempDb::new("claims");
    let a = db.open();
    // A second connection to the same file: another process, as far as SQLite knows.
    let b = db.open();
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            a.create_job(&spec(BulkOp::Create), &records(2, &format!("j{i}")), t(i))
                .await
                .unwrap(),
        );
    }
    let mut tasks = Vec::new();
    for (n, store) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let owner = format!("r{n}");
            let mut got = Vec::new();
            while let Some(job) = store.claim(&owner, LEASE, t(10)).await.unwrap() {
                got.push(job.id);
            }
            got
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    claimed.sort();
    assert_eq!(claimed, ids, "every job claimed exactly once");

    // Leases run to t(40): r9 cannot take any before then, and takes the oldest after.
    assert!(a.claim("r9", LEASE, t(39)).await.unwrap().is_none());
    let taken = a.claim("r9", LEASE, t(41)).await.unwrap().unwrap();
    assert_eq!(taken.id, ids[0]);
    assert_eq!(taken.lease_owner.as_deref(), Some("r9"));
}

#[tokio::test]
async fn a_lost_lease_refuses_every_write() {
    let db = TempDb::new("lease");
    let store = db.open();
    let id = store
        .create_job(&spec(BulkOp::Create), &records(3, "l"), t(0))
        .await
        .unwrap();
    store
        .claim_job(&id, "old", LEASE, t(0))
        .await
        .unwrap()
        .unwrap();
    store.begin_batch(&id, "old", &[0], t(1)).await.unwrap();
    // The old runner stalls past its lease; a new one takes the job over.
    assert!(
        store
            .claim_job(&id, "new", LEASE, t(20))
            .await
            .unwrap()
            .is_none()
    );
    let renewed = store.renew(&id, "old", LEASE, t(20)).await.unwrap();
    assert_eq!(renewed.lease_until, Some(t(50)));
    store
        .claim_job(&id, "new", LEASE, t(51))
        .await
        .unwrap()
        .unwrap();
    fn lost<T>(r: Result<T, StoreError>) -> bool {
        matches!(r, Err(StoreError::LeaseLost(_)))
    }
    assert!(lost(store.renew(&id, "old", LEASE, t(52)).await));
    assert!(lost(
        store
            .commit_batch(&id, "old", 1, &[(0, created(0))], t(52))
            .await
    ));
    assert!(lost(store.begin_batch(&id, "old", &[1], t(52)).await));
    assert!(lost(
        store
            .finish(&id, "old", JobStatus::Completed, "x", t(52))
            .await
    ));
    // An expired lease refuses writes even before anyone else claims.
    assert!(lost(store.renew(&id, "new", LEASE, t(200)).await));
    // The in-flight batch is still there for the new owner to settle.
    let flight = store.in_flight(&id).await.unwrap().unwrap();
    assert_eq!(flight.records.len(), 1);
    assert_eq!(store.job(&id).await.unwrap().unwrap().done, 0);
}

#[tokio::test]
async fn an_in_flight_batch_survives_reopening_the_file() {
    let db = TempDb::new("reopen");
    let id = {
        let store = db.open();
        let id = store
            .create_job(&spec(BulkOp::Create), &records(4, "r"), t(0))
            .await
            .unwrap();
        store.claim("r1", LEASE, t(0)).await.unwrap().unwrap();
        store.begin_batch(&id, "r1", &[0, 1], t(1)).await.unwrap();
        store
            .commit_batch(&id, "r1", 1, &[(0, created(0)), (1, created(1))], t(2))
            .await
            .unwrap();
        store.begin_batch(&id, "r1", &[2, 3], t(3)).await.unwrap();
        id
        // Dropped without finishing: the process died.
    };
    let store = db.open();
    let job = store.job(&id).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.done, job.batches),
        (JobStatus::Running, 2, 1)
    );
    let flight = store.in_flight(&id).await.unwrap().unwrap();
    assert_eq!(flight.batch, 2);
    assert_eq!(
        flight.records.iter().map(|r| r.index).collect::<Vec<_>>(),
        [2, 3]
    );
    assert!(store.pending(&id, 10).await.unwrap().is_empty());
    let again = store.claim("r2", LEASE, t(40)).await.unwrap().unwrap();
    assert_eq!(again.id, id);
    let unknown = RecordOutcome::Unknown {
        reason: "sent before a crash".into(),
    };
    let job = store
        .commit_batch(&id, "r2", 2, &[(2, unknown.clone()), (3, unknown)], t(41))
        .await
        .unwrap();
    assert_eq!((job.done, job.failed, job.batches), (4, 2, 2));
}

#[tokio::test]
async fn keys_are_checked_and_the_ledger_answers_replays() {
    let db = TempDb::new("ledger");
    let store = db.open();
    // Within one job: the same key twice is refused, with or without the same payload.
    let mut dup = records(2, "d");
    dup[1].idempotency_key = "d-0".into();
    assert!(matches!(
        store.create_job(&spec(BulkOp::Create), &dup, t(0)).await,
        Err(StoreError::KeyReused { index: 1, .. })
    ));
    dup[1].payload = dup[0].payload.clone();
    assert!(matches!(
        store.create_job(&spec(BulkOp::Create), &dup, t(0)).await,
        Err(StoreError::Invalid(_))
    ));
    let mut bad_index = records(2, "b");
    bad_index[1].index = 5;
    assert!(matches!(
        store
            .create_job(&spec(BulkOp::Create), &bad_index, t(0))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store.jobs(10).await.unwrap().is_empty(), "nothing stored");

    let id = store
        .create_job(&spec(BulkOp::Create), &records(3, "k"), t(0))
        .await
        .unwrap();
    store
        .claim_job(&id, "r", LEASE, t(0))
        .await
        .unwrap()
        .unwrap();
    store.begin_batch(&id, "r", &[0, 1, 2], t(1)).await.unwrap();
    let failure = RecordOutcome::Failed {
        error: AdapterError::Conflict("no".into()),
    };
    store
        .commit_batch(
            &id,
            "r",
            1,
            &[(0, created(0)), (1, failure), (2, created(2))],
            t(2),
        )
        .await
        .unwrap();
    store
        .finish(&id, "r", JobStatus::Completed, "done", t(3))
        .await
        .unwrap();

    // Another payload under a used key: refused, nothing stored.
    let mut other = records(3, "k");
    other[2].payload = r#"{"title":"something else"}"#.into();
    match store.create_job(&spec(BulkOp::Create), &other, t(4)).await {
        Err(StoreError::KeyReused { key, index }) => assert_eq!((key.as_str(), index), ("k-2", 2)),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.jobs(10).await.unwrap().len(), 1);

    // The same input again: the successes are known at once; the failure is to be retried.
    let replay = store
        .create_job(&spec(BulkOp::Create), &records(3, "k"), t(5))
        .await
        .unwrap();
    let job = store.job(&replay).await.unwrap().unwrap();
    assert_eq!(job.done, 2);
    let pending = store.pending(&replay, 10).await.unwrap();
    assert_eq!(pending.iter().map(|r| r.index).collect::<Vec<_>>(), [1]);
    let outcomes = store.outcomes(&replay).await.unwrap();
    assert_eq!(outcomes[0].2, Some(created(0)));
    assert_eq!(outcomes[1].2, None);
    assert_eq!(outcomes[2].2, Some(created(2)));

    // The ledger is scoped by connection, entity and operation.
    let mut elsewhere = spec(BulkOp::Create);
    elsewhere.connection = "other".into();
    let free = store.create_job(&elsewhere, &other, t(6)).await.unwrap();
    assert_eq!(store.job(&free).await.unwrap().unwrap().done, 0);
    let updates = store
        .create_job(&spec(BulkOp::Update), &other, t(6))
        .await
        .unwrap();
    assert_eq!(store.job(&updates).await.unwrap().unwrap().done, 0);
}

#[tokio::test]
async fn cancel_ends_a_queued_job_at_once_and_a_running_one_at_its_next_batch() {
    let db = TempDb::new("cancel");
    let store = db.open();
    let queued = store
        .create_job(&spec(BulkOp::Create), &records(3, "q"), t(0))
        .await
        .unwrap();
    assert!(store.cancel(&queued, t(1)).await.unwrap());
    let job = store.job(&queued).await.unwrap().unwrap();
    assert_eq!((job.status, job.done), (JobStatus::Cancelled, 3));
    assert!(
        store
            .outcomes(&queued)
            .await
            .unwrap()
            .iter()
            .all(|(_, _, o)| matches!(o, Some(RecordOutcome::Skipped { .. })))
    );
    assert!(!store.cancel(&queued, t(2)).await.unwrap(), "already over");
    assert!(store.claim("r", LEASE, t(2)).await.unwrap().is_none());

    let running = store
        .create_job(&spec(BulkOp::Create), &records(3, "w"), t(3))
        .await
        .unwrap();
    store.claim("r", LEASE, t(3)).await.unwrap().unwrap();
    store.begin_batch(&running, "r", &[0], t(4)).await.unwrap();
    assert!(store.cancel(&running, t(4)).await.unwrap());
    let job = store.job(&running).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Running);
    assert!(job.cancel_requested);
    // The batch in flight still commits; the finish skips the rest.
    let job = store
        .commit_batch(&running, "r", 1, &[(0, created(0))], t(5))
        .await
        .unwrap();
    assert!(job.cancel_requested);
    let job = store
        .finish(&running, "r", JobStatus::Cancelled, "cancelled", t(6))
        .await
        .unwrap();
    assert_eq!((job.status, job.done), (JobStatus::Cancelled, 3));
    let outcomes = store.outcomes(&running).await.unwrap();
    assert_eq!(outcomes[0].2, Some(created(0)));
    assert_eq!(
        outcomes[2].2,
        Some(RecordOutcome::Skipped {
            reason: "cancelled".into()
        })
    );
    assert!(matches!(
        store.cancel(&JobId("job_nope".into()), t(7)).await,
        Err(StoreError::NoJob(_))
    ));
}

#[tokio::test]
async fn finish_refuses_an_in_flight_batch_and_skips_the_rest() {
    let db = TempDb::new("finish");
    let store = db.open();
    let id = store
        .create_job(
            &spec(BulkOp::Action("close".into())),
            &records(4, "f"),
            t(0),
        )
        .await
        .unwrap();
    store.claim("r", LEASE, t(0)).await.unwrap().unwrap();
    store.begin_batch(&id, "r", &[0, 1], t(1)).await.unwrap();
    assert!(matches!(
        store
            .finish(&id, "r", JobStatus::Stopped, "limit", t(2))
            .await,
        Err(StoreError::State { .. })
    ));
    assert!(matches!(
        store.finish(&id, "r", JobStatus::Running, "x", t(2)).await,
        Err(StoreError::Invalid(_))
    ));
    let failure = RecordOutcome::Failed {
        error: AdapterError::Forbidden("no".into()),
    };
    store
        .commit_batch(&id, "r", 1, &[(0, failure.clone()), (1, failure)], t(2))
        .await
        .unwrap();
    let job = store
        .finish(&id, "r", JobStatus::Stopped, "the failure limit", t(3))
        .await
        .unwrap();
    assert_eq!(
        (job.status, job.done, job.failed),
        (JobStatus::Stopped, 4, 2)
    );
    let skipped: Vec<u64> = store
        .outcomes(&id)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, _, o)| matches!(o, Some(RecordOutcome::Skipped { .. })))
        .map(|(i, _, _)| i)
        .collect();
    assert_eq!(skipped, [2, 3]);
    // Jobs come newest first.
    let later = store
        .create_job(&spec(BulkOp::Create), &records(1, "z"), t(10))
        .await
        .unwrap();
    let list = store.jobs(10).await.unwrap();
    assert_eq!(
        list.iter().map(|j| j.id.clone()).collect::<Vec<_>>(),
        [later, id]
    );
    assert_eq!(store.jobs(1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_file_is_private_and_a_newer_schema_is_refused() {
    let db = TempDb::new("schema");
    drop(db.open());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    {
        let conn = Connection::open(db.path()).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        conn.pragma_update(None, "user_version", 9).unwrap();
    }
    match SqliteJobStore::open(db.path()) {
        Err(StoreError::Backend(msg)) => assert!(msg.contains("schema version 9"), "{msg}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        SqliteJobStore::open(db.0.join("missing-dir").join("jobs.db")),
        Err(StoreError::Backend(_))
    ));
    #[cfg(unix)]
    {
        let link = db.0.join("link.db");
        std::os::unix::fs::symlink(db.path(), &link).unwrap();
        assert!(SqliteJobStore::open(&link).is_err(), "symlinks are refused");
    }
}

#[tokio::test]
async fn the_next_batch_and_the_batch_in_flight_are_found_by_index_not_by_scanning() {
    let db = TempDb::new("plan");
    drop(db.open());
    let conn = Connection::open(db.path()).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let plan = |sql: &str| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows: Vec<String> = stmt
            .query_map(["job_x"], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.join("; ")
    };
    let pending = plan(
        "SELECT idx FROM bulk_records WHERE job_id = ?1 AND in_flight = 0 AND outcome IS NULL \
         ORDER BY idx LIMIT 50",
    );
    assert!(pending.contains("bulk_records_pending"), "{pending}");
    let in_flight = plan("SELECT count(*) FROM bulk_records WHERE job_id = ?1 AND in_flight = 1");
    assert!(in_flight.contains("bulk_records_in_flight"), "{in_flight}");
}
