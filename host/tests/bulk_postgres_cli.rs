//! Several host replicas sharing one PostgreSQL job queue, as they run in production: each
//! replica is a `plantwire` process with a state directory of its own (its own vault and master
//! key) holding the same connection definition, and every replica names the same job store
//! (`--job-store postgres://...` or `PLANTWIRE_JOB_STORE`). Jobs are queued through the library
//! (what a front end embedding the host does, with the very `submit` the CLI calls); two
//! `plantwire jobs run` processes then drain the queue against a Maximo simulator that counts
//! every record and every write. No record may be written twice, and both replicas must have
//! worked. Then a replica is killed with SIGKILL while a batch the system has already written
//! is in flight: the other replica takes the job over when the dead one's lease runs out,
//! settles the batch by looking its records up by `externalId`, and finishes the job with
//! every record written exactly once.
//!
//! The database is the one at `PLANTWIRE_TEST_DATABASE_URL` (CI sets it); each test keeps its
//! tables in a schema of its own (`--job-store-schema`), dropped when it ends. Without the
//! variable these tests print that they were skipped and pass.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use common::adapters;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use plantwire::bulk::postgres::{PostgresJobStore, PostgresOptions};
use plantwire::bulk::{
    BulkOp, BulkOptions, BulkRequest, JobId, JobInfo, JobStatus, JobStore, RecordOutcome,
};
use plantwire::store::{MasterKeySource, VaultBackend, Workspace, WorkspaceConfig};
use plantwire::vault::AwsSecretsManagerConfig;
use plantwire::{Registry, Runtime, RuntimeConfig};
use plantwire_simulators::RecordedRequest;
use plantwire_simulators::maximo::{Config as MaximoConfig, MaximoSim};
use serde_json::{Value, json};

const URL_VAR: &str = "PLANTWIRE_TEST_DATABASE_URL";

/// The test database, or `None` after a loud notice that `test` was skipped.
fn database_url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!();
            eprintln!("************************************************************************");
            eprintln!("SKIPPED PostgreSQL job queue test `{test}`:");
            eprintln!("  set {URL_VAR}=postgres://USER@HOST:PORT/DATABASE to run it");
            eprintln!("  two replicas sharing one PostgreSQL job queue were NOT tested");
            eprintln!("************************************************************************");
            None
        }
    }
}

/// Compiled components, shared by every process of every run (entries are keyed by the
/// component's hash and the engine's version, and written by rename).
fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("plantwire-pg-cli-cache")
}

/// A unique name for a test's directory or schema.
fn unique(name: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{name}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A schema of the test's own on the test database, dropped when the test ends (even when it
/// fails).
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(rt: &tokio::runtime::Runtime, url: String, test: &str) -> Schema {
        let schema = Schema {
            url,
            name: unique(&format!("pwcli_{test}")),
        };
        assert!(schema.name.len() <= 63, "{}", schema.name);
        rt.block_on(schema.drop_it());
        schema
    }

    /// A store on the schema, as a replica opens it.
    fn store(&self, rt: &tokio::runtime::Runtime) -> PostgresJobStore {
        rt.block_on(PostgresJobStore::connect_with(
            &self.url,
            PostgresOptions::default().schema(&self.name),
        ))
        .expect("the job store on the test database")
    }

    async fn drop_it(&self) {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("{URL_VAR} is set but the server is unreachable: {e}"));
        let connection = tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name))
            .await
            .expect("drop the test schema");
        drop(client);
        let _ = connection.await;
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // A runtime of its own: the test's may be gone or inside a panic.
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(async {
                if let Ok((client, connection)) =
                    tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await
                {
                    let connection = tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name))
                        .await;
                    drop(client);
                    let _ = connection.await;
                }
            });
        }
    }
}

/// How a replica names the shared job store.
#[derive(Clone, Copy)]
enum StoreArgs {
    /// `--job-store URL --job-store-schema NAME`.
    Flags,
    /// `PLANTWIRE_JOB_STORE` and `PLANTWIRE_JOB_STORE_SCHEMA`.
    Environment,
}

/// One host replica: a state directory and master key of its own, the shared job store.
struct Replica {
    dir: PathBuf,
    key: PathBuf,
    url: String,
    schema: String,
    store_args: StoreArgs,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A runner process, killed if the test ends before it does.
struct Running {
    child: Child,
    name: String,
    out: PathBuf,
    err: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Running {
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Waits for the process to end (at most `limit`); whether it succeeded.
    fn wait(&mut self, limit: Duration) -> bool {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.success();
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} still running after {limit:?}:\n{}{}",
                    self.name,
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The jobs this runner reported as completed (`job ID completed: ...` on stderr).
    fn completed(&self) -> BTreeSet<String> {
        self.stderr()
            .lines()
            .filter_map(|line| {
                let (id, rest) = line.strip_prefix("job ")?.split_once(' ')?;
                rest.starts_with("completed:").then(|| id.to_owned())
            })
            .collect()
    }
}

impl Replica {
    fn new(name: &str, schema: &Schema, store_args: StoreArgs) -> Replica {
        let dir = std::env::temp_dir().join(format!("plantwire-pg-cli-{}", unique(name)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("replica dir");
        let replica = Replica {
            key: dir.join("master.key"),
            dir,
            url: schema.url.clone(),
            schema: schema.name.clone(),
            store_args,
        };
        let out = replica
            .command(&["vault", "keygen", replica.key.to_str().expect("path")])
            .output()
            .expect("keygen");
        assert!(out.status.success(), "{out:?}");
        replica
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plantwire"));
        cmd.arg("--adapters")
            .arg(adapters())
            .arg("--cache-dir")
            .arg(cache_dir())
            .arg("--state-dir")
            .arg(self.state_dir())
            .arg("--master-key-file")
            .arg(&self.key);
        for var in [
            "PLANTWIRE_MASTER_KEY",
            "PLANTWIRE_MASTER_KEY_FILE",
            "PLANTWIRE_STATE_DIR",
            "PLANTWIRE_VAULT_FILE",
            "PLANTWIRE_VAULT",
            "PLANTWIRE_JOB_STORE",
            "PLANTWIRE_JOB_STORE_SCHEMA",
            "PLANTWIRE_JOB_LEASE",
        ] {
            cmd.env_remove(var);
        }
        match self.store_args {
            StoreArgs::Flags => {
                cmd.arg("--job-store")
                    .arg(&self.url)
                    .arg("--job-store-schema")
                    .arg(&self.schema);
            }
            StoreArgs::Environment => {
                cmd.env("PLANTWIRE_JOB_STORE", &self.url)
                    .env("PLANTWIRE_JOB_STORE_SCHEMA", &self.schema);
            }
        }
        cmd.args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run plantwire");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> (String, String) {
        let (ok, stdout, stderr) = self.run(args);
        assert!(ok, "plantwire {args:?} failed:\n{stdout}{stderr}");
        (stdout, stderr)
    }

    /// Starts `plantwire args` in the background as `name`, its output going to files.
    fn spawn(&self, name: &str, args: &[&str]) -> Running {
        let out = self.dir.join(format!("{name}.out"));
        let err = self.dir.join(format!("{name}.err"));
        let child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"))
            .spawn()
            .expect("spawn plantwire");
        Running {
            child,
            name: name.to_owned(),
            out,
            err,
        }
    }

    /// `plantwire connect`: the same definition on every replica, the credential sealed in
    /// this replica's own vault.
    fn connect(&self, id: &str, base_url: &str, apikey: &str) {
        let file = self.dir.join(format!("{id}.json"));
        std::fs::write(&file, json!({ "token": apikey }).to_string()).expect("credential");
        self.ok(&[
            "connect",
            id,
            "--system",
            "maximo",
            "--base-url",
            base_url,
            "--allow-private-network",
            "--credential-file",
            file.to_str().expect("path"),
        ]);
        std::fs::remove_file(&file).expect("credential file removed");
    }

    /// The replica's workspace, opened in this process as a front end would open it.
    fn workspace(&self) -> Workspace {
        Workspace::open(WorkspaceConfig {
            state_dir: self.state_dir(),
            vault: VaultBackend::Sealed,
            vault_file: None,
            master_key: MasterKeySource::File(self.key.clone()),
            aws: AwsSecretsManagerConfig::from_env(),
        })
        .expect("workspace")
    }
}

/// The adapters, loaded in this process.
fn registry(rt: &tokio::runtime::Runtime) -> Registry {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache_dir()),
        max_instances: 8,
        ..RuntimeConfig::default()
    })
    .expect("adapter runtime");
    rt.block_on(Registry::load_dir(&runtime, &adapters()))
        .expect("adapters")
}

/// Queues a durable create job of `inputs` on connection `id` of `workspace` without running
/// it, as `plantwire bulk ... --job` does before it runs the job itself.
fn queue(
    rt: &tokio::runtime::Runtime,
    store: &PostgresJobStore,
    workspace: &Workspace,
    registry: &Registry,
    id: &str,
    inputs: &[Value],
    batch_size: u32,
) -> JobId {
    let connection = rt
        .block_on(workspace.connection(registry, id))
        .expect("connection");
    let request = BulkRequest {
        entity: "work-order".to_owned(),
        op: BulkOp::Create,
        options: BulkOptions {
            batch_size,
            delay: Duration::ZERO,
            stop_after_failures: None,
        },
    };
    rt.block_on(plantwire::bulk::submit(
        store,
        &connection,
        None,
        &request,
        inputs,
    ))
    .expect("job queued")
}

fn job(rt: &tokio::runtime::Runtime, store: &PostgresJobStore, id: &JobId) -> JobInfo {
    rt.block_on(store.job(id))
        .expect("job")
        .expect("job exists")
}

fn maximo() -> MaximoConfig {
    MaximoConfig {
        work_orders: 5,
        assets: 3,
        purchase_orders: 2,
        items: 2,
        locations: 3,
        vendors: 2,
        ..MaximoConfig::default()
    }
}

/// Records carried by the work-order create requests Maximo received (a BULK body is an
/// array).
fn records_sent(requests: &[RecordedRequest]) -> usize {
    requests
        .iter()
        .filter(|r| {
            r.method == "POST"
                && r.path.ends_with("/os/mxapiwo")
                && r.header("x-method-override").is_none_or(|m| m == "BULK")
        })
        .map(|r| match r.body_json() {
            Some(Value::Array(items)) => items.len(),
            Some(_) => 1,
            None => 0,
        })
        .sum()
}

/// Checks that job `id` completed with every record created exactly once: each outcome's key
/// names a simulator record carrying the record's `externalId` (its idempotency key) and
/// description, and no other record carries that `externalId`. Returns the keys.
fn assert_created_once(
    rt: &tokio::runtime::Runtime,
    store: &PostgresJobStore,
    sim: &MaximoSim,
    id: &JobId,
    descriptions: &[String],
) -> BTreeSet<String> {
    let info = job(rt, store, id);
    assert_eq!(info.status, JobStatus::Completed, "{info:?}");
    let n = descriptions.len() as u64;
    assert_eq!((info.total, info.done, info.failed), (n, n, 0), "{info:?}");
    let outcomes = rt.block_on(store.outcomes(id)).expect("outcomes");
    assert_eq!(outcomes.len(), descriptions.len());
    let mut keys = BTreeSet::new();
    for ((index, key, outcome), description) in outcomes.iter().zip(descriptions) {
        let Some(RecordOutcome::Created { key: record_key }) = outcome else {
            panic!("job {id} record {index}: {outcome:?}");
        };
        assert!(keys.insert(key.clone()), "job {id}: key {key} twice");
        assert_eq!(
            sim.keys_by_externalrefid("mxapiwo", key),
            vec![record_key.clone()],
            "job {id} record {index}: exactly one record carries externalId {key}"
        );
        let record = sim.record("mxapiwo", record_key).expect("stored record");
        assert_eq!(record["description"], json!(description), "{record}");
    }
    keys
}

/// Whether Maximo's work orders declare `externalId`, which exactly-once after a crash needs.
fn assert_external_id(replica: &Replica) {
    let (stdout, _) = replica.ok(&[
        "capabilities",
        "maximo",
        "--entity",
        "work-order",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&stdout).expect("JSON");
    let declared = v[0]["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .filter(|e| e["name"] == "work-order")
        .flat_map(|e| e["fields"].as_array().cloned().unwrap_or_default())
        .any(|f| f["name"] == "externalId");
    assert!(declared, "Maximo work orders declare externalId");
}

/// Two replicas drain a queue of six jobs at once: each job is run by exactly one of them,
/// both run some, and the simulator receives and holds every record exactly once.
#[test]
fn two_replicas_share_one_queue_without_double_work() {
    let Some(url) = database_url("two_replicas_share_one_queue_without_double_work") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let schema = Schema::new(&rt, url, "queue");
    let sim = rt.block_on(MaximoSim::start(maximo())).expect("simulator");
    let apikey = sim.apikey().to_owned();
    let a = Replica::new("queue-a", &schema, StoreArgs::Flags);
    let b = Replica::new("queue-b", &schema, StoreArgs::Environment);
    a.connect("mxm", &sim.base_url(), &apikey);
    b.connect("mxm", &sim.base_url(), &apikey);
    assert_external_id(&a);
    let seeded = sim.count("mxapiwo");
    sim.clear_requests();

    // Six jobs of 80 records, queued by a front end on replica a; nothing runs them yet.
    let store = schema.store(&rt);
    let registry = registry(&rt);
    let workspace = a.workspace();
    let (jobs, n, size) = (6usize, 80usize, 10u32);
    let mut queued: Vec<(JobId, Vec<String>)> = Vec::new();
    for j in 0..jobs {
        let descriptions: Vec<String> = (0..n).map(|i| format!("queue {j}-{i:02}")).collect();
        let inputs: Vec<Value> = descriptions.iter().map(|d| json!({"title": d})).collect();
        let id = queue(&rt, &store, &workspace, &registry, "mxm", &inputs, size);
        queued.push((id, descriptions));
    }
    drop(workspace);
    let (listed, _) = b.ok(&["jobs", "--format", "json"]);
    let listed: Vec<Value> = serde_json::from_str(&listed).expect("JSON");
    assert_eq!(listed.len(), jobs, "replica b sees the queue: {listed:?}");
    assert!(listed.iter().all(|j| j["status"] == "queued"), "{listed:?}");
    assert!(sim.requests().is_empty(), "queueing sends nothing");

    // Both replicas drain the queue at once. Maximo answers slowly until each replica holds
    // a job (so that neither drains the queue before the other has started), then briskly.
    sim.faults().set_latency(Duration::from_millis(200));
    let started = Instant::now();
    let mut run_a = a.spawn("run-a", &["jobs", "run"]);
    let mut run_b = b.spawn("run-b", &["jobs", "run"]);
    let owners = [
        format!("runner-{}-", run_a.child.id()),
        format!("runner-{}-", run_b.child.id()),
    ];
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the replicas never held jobs at the same time:\n{}\n{}",
            run_a.stderr(),
            run_b.stderr()
        );
        let held: Vec<String> = rt
            .block_on(store.jobs(100))
            .expect("jobs")
            .into_iter()
            .filter(|j| j.status == JobStatus::Running)
            .filter_map(|j| j.lease_owner)
            .collect();
        if owners
            .iter()
            .all(|o| held.iter().any(|h| h.starts_with(o.as_str())))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    sim.faults().set_latency(Duration::from_millis(25));
    let ok_a = run_a.wait(Duration::from_secs(60));
    let ok_b = run_b.wait(Duration::from_secs(60));
    let elapsed = started.elapsed();
    assert!(ok_a, "replica a:\n{}", run_a.stderr());
    assert!(ok_b, "replica b:\n{}", run_b.stderr());
    sim.faults().set_latency(Duration::ZERO);

    let (by_a, by_b) = (run_a.completed(), run_b.completed());
    eprintln!(
        "{jobs} jobs x {n} records drained in {elapsed:?}: replica a ran {}, replica b ran {}",
        by_a.len(),
        by_b.len()
    );
    assert!(
        by_a.is_disjoint(&by_b),
        "a job ran on both replicas: {by_a:?} {by_b:?}"
    );
    assert!(
        !by_a.is_empty() && !by_b.is_empty(),
        "both replicas ran jobs: a {by_a:?}, b {by_b:?}"
    );
    let all: BTreeSet<String> = queued.iter().map(|(id, _)| id.0.clone()).collect();
    let ran: BTreeSet<String> = by_a.union(&by_b).cloned().collect();
    assert_eq!(ran, all, "every job ran");

    // Every record exactly once: one outcome, one record in Maximo, one create sent.
    let mut keys = BTreeSet::new();
    for (id, descriptions) in &queued {
        let job_keys = assert_created_once(&rt, &store, &sim, id, descriptions);
        assert!(keys.is_disjoint(&job_keys), "keys are unique across jobs");
        keys.extend(job_keys);
    }
    assert_eq!(keys.len(), jobs * n);
    assert_eq!(sim.count("mxapiwo"), seeded + jobs * n);
    assert_eq!(sim.created("mxapiwo"), jobs * n);
    assert_eq!(
        records_sent(&sim.requests()),
        jobs * n,
        "no record sent twice"
    );
    assert!(sim.duplicate_externalrefids("mxapiwo").is_empty());
    let mut descriptions: BTreeMap<String, usize> = BTreeMap::new();
    for key in sim.keys("mxapiwo") {
        let record = sim.record("mxapiwo", &key).expect("record");
        if let Some(d) = record["description"].as_str() {
            *descriptions.entry(d.to_owned()).or_default() += 1;
        }
    }
    for (_, expected) in &queued {
        for d in expected {
            assert_eq!(descriptions.get(d), Some(&1), "{d}");
        }
    }

    // Both replicas see the same finished queue; nothing is left to run.
    for replica in [&a, &b] {
        let (listed, _) = replica.ok(&["jobs", "--format", "json"]);
        let listed: Vec<Value> = serde_json::from_str(&listed).expect("JSON");
        assert_eq!(listed.len(), jobs);
        assert!(
            listed
                .iter()
                .all(|j| j["status"] == "completed" && j["done"] == json!(n)),
            "{listed:?}"
        );
        let (_, stderr) = replica.ok(&["jobs", "run"]);
        assert!(stderr.contains("no job to run"), "{stderr}");
    }
    assert_eq!(sim.created("mxapiwo"), jobs * n);
    rt.block_on(sim.shutdown());
}

/// Replica a is killed with SIGKILL in the middle of job X, while a batch Maximo has already
/// written is in flight; replica b, busy with job Y, takes X over once a's lease runs out,
/// settles the in-flight batch by `externalId` and completes X. Every record of both jobs is
/// written exactly once and no record is sent twice.
#[test]
fn a_replica_killed_mid_job_is_taken_over_by_the_other() {
    let Some(url) = database_url("a_replica_killed_mid_job_is_taken_over_by_the_other") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let schema = Schema::new(&rt, url, "crash");
    let sim = rt.block_on(MaximoSim::start(maximo())).expect("simulator");
    let apikey = sim.apikey().to_owned();
    let a = Replica::new("crash-a", &schema, StoreArgs::Flags);
    let b = Replica::new("crash-b", &schema, StoreArgs::Flags);
    a.connect("mxm", &sim.base_url(), &apikey);
    b.connect("mxm", &sim.base_url(), &apikey);
    let seeded = sim.count("mxapiwo");
    sim.clear_requests();

    // X: 60 records in batches of 6. Y: 40 records one at a time, so that b is still busy
    // with it when a's lease on X runs out.
    let store = schema.store(&rt);
    let registry = registry(&rt);
    let workspace = b.workspace();
    let x_descriptions: Vec<String> = (0..60).map(|i| format!("crash x {i:02}")).collect();
    let y_descriptions: Vec<String> = (0..40).map(|i| format!("crash y {i:02}")).collect();
    let inputs = |d: &[String]| -> Vec<Value> { d.iter().map(|d| json!({"title": d})).collect() };
    let x = queue(
        &rt,
        &store,
        &workspace,
        &registry,
        "mxm",
        &inputs(&x_descriptions),
        6,
    );
    let y = queue(
        &rt,
        &store,
        &workspace,
        &registry,
        "mxm",
        &inputs(&y_descriptions),
        1,
    );
    drop(workspace);
    sim.faults().set_latency(Duration::from_millis(100));

    // a claims the oldest job, X; then b starts and claims Y.
    let mut run_a = a.spawn("run-a", &["--job-lease", "2", "jobs", "run"]);
    let started = Instant::now();
    let a_owner = loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "replica a never claimed X:\n{}",
            run_a.stderr()
        );
        assert!(
            run_a.child.try_wait().expect("try_wait").is_none(),
            "replica a ended:\n{}",
            run_a.stderr()
        );
        if let Some(owner) = job(&rt, &store, &x).lease_owner {
            break owner;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(
        a_owner.starts_with(&format!("runner-{}-", run_a.child.id())),
        "{a_owner}"
    );
    let mut run_b = b.spawn("run-b", &["--job-lease", "2", "jobs", "run"]);

    // The worst moment to die: a batch of X committed, the next in flight and already
    // written by Maximo, its outcomes not yet committed.
    let flight = loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "X never reached a written in-flight batch:\n{}",
            run_a.stderr()
        );
        assert!(
            run_a.child.try_wait().expect("try_wait").is_none(),
            "replica a ended before the kill:\n{}",
            run_a.stderr()
        );
        let info = job(&rt, &store, &x);
        if info.batches >= 1
            && let Some(flight) = rt.block_on(store.in_flight(&x)).expect("in flight")
            && flight.records.iter().all(|r| {
                !sim.keys_by_externalrefid("mxapiwo", &r.idempotency_key)
                    .is_empty()
            })
        {
            break flight;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    run_a.child.kill().expect("SIGKILL");
    run_a.child.wait().expect("reaped");
    let killed_at = Instant::now();

    let info = job(&rt, &store, &x);
    assert_eq!(info.status, JobStatus::Running, "{info:?}");
    assert_eq!(info.lease_owner.as_deref(), Some(a_owner.as_str()));
    assert!(info.done < info.total, "{info:?}");
    let in_flight: BTreeSet<u64> = flight.records.iter().map(|r| r.index).collect();
    assert_eq!(in_flight.len(), 6);
    let y_info = job(&rt, &store, &y);
    assert_eq!(y_info.status, JobStatus::Running, "b is working on Y");
    let b_owner = y_info.lease_owner.expect("b holds Y");
    assert!(
        b_owner.starts_with(&format!("runner-{}-", run_b.child.id())),
        "{b_owner}"
    );
    assert!(
        !run_b.completed().contains(&y.0),
        "b must still be busy with Y when a dies: {}",
        run_b.stderr()
    );

    // b finishes Y, finds X claimable once a's lease has run out, and completes it.
    let a_lease_until = info.lease_until.expect("a's lease");
    loop {
        assert!(
            killed_at.elapsed() < Duration::from_secs(40),
            "nobody took X over:\n{}",
            run_b.stderr()
        );
        let info = job(&rt, &store, &x);
        let now = time::OffsetDateTime::now_utc();
        if info.lease_owner.as_deref() == Some(b_owner.as_str()) || info.status.is_final() {
            assert!(
                now >= a_lease_until,
                "X was taken over by {now}, before a's lease ran out at {a_lease_until}"
            );
            break;
        }
        assert_eq!(info.lease_owner.as_deref(), Some(a_owner.as_str()));
        std::thread::sleep(Duration::from_millis(10));
    }
    let ok_b = run_b.wait(Duration::from_secs(40));
    assert!(ok_b, "replica b:\n{}", run_b.stderr());
    let took_over = killed_at.elapsed();
    let by_b = run_b.completed();
    assert_eq!(
        by_b,
        BTreeSet::from([x.0.clone(), y.0.clone()]),
        "b ran Y and took X over:\n{}",
        run_b.stderr()
    );
    eprintln!(
        "replica a killed in batch {} of X; replica b completed Y and X {took_over:?} later",
        flight.batch
    );

    assert_created_once(&rt, &store, &sim, &x, &x_descriptions);
    assert_created_once(&rt, &store, &sim, &y, &y_descriptions);
    let total = x_descriptions.len() + y_descriptions.len();
    assert_eq!(sim.count("mxapiwo"), seeded + total);
    assert_eq!(sim.created("mxapiwo"), total);
    assert_eq!(
        records_sent(&sim.requests()),
        total,
        "no record sent twice: the in-flight batch was found, not re-sent"
    );
    assert!(sim.duplicate_externalrefids("mxapiwo").is_empty());
    let lookups = sim
        .requests()
        .iter()
        .filter(|r| {
            r.method == "GET"
                && r.query
                    .as_deref()
                    .is_some_and(|q| q.contains("externalrefid"))
        })
        .count();
    assert!(
        lookups >= 1,
        "the in-flight batch was looked up by externalrefid"
    );
    rt.block_on(sim.shutdown());
}

/// `--job-store-schema` belongs to a PostgreSQL job store, and takes only a plain schema name;
/// both are refused before anything is opened or contacted. Needs no database.
#[test]
fn the_job_store_schema_is_checked_and_needs_postgres() {
    let dir = std::env::temp_dir().join(format!("plantwire-pg-cli-{}", unique("schema")));
    std::fs::create_dir_all(&dir).expect("dir");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_plantwire"))
            .arg("--state-dir")
            .arg(dir.join("state"))
            .env_remove("PLANTWIRE_JOB_STORE")
            .env_remove("PLANTWIRE_JOB_STORE_SCHEMA")
            .args(args)
            .output()
            .expect("run plantwire");
        assert!(!out.status.success(), "{args:?} succeeded: {out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let sqlite = dir.join("jobs.db");
    for args in [
        vec!["--job-store-schema", "tenant_a", "jobs"],
        vec![
            "--job-store",
            sqlite.to_str().expect("path"),
            "--job-store-schema",
            "tenant_a",
            "jobs",
        ],
    ] {
        let stderr = run(&args);
        assert!(
            stderr.contains("--job-store-schema applies to a PostgreSQL job store only"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!sqlite.exists(), "nothing was opened");
    assert!(!dir.join("state").exists(), "nothing was created");
    // Port 1 on loopback: had the name been accepted, the connection would fail instead.
    for bad in ["Tenant-A", "pg_catalog", "x; DROP TABLE jobs", ""] {
        let stderr = run(&[
            "--job-store",
            "postgres://plantwire@127.0.0.1:1/jobs",
            "--job-store-schema",
            bad,
            "jobs",
        ]);
        assert!(stderr.contains("schema name"), "{bad:?}: {stderr}");
        assert!(!stderr.contains("cannot connect"), "{bad:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
