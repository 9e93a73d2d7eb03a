//! Bulk writes and durable jobs as an operator drives them: the real `plantwire` binary, one
//! process per command, against MaintainX and Maximo simulators running in this test process
//! that count every record and every write request. The crash tests kill the binary with
//! SIGKILL while a batch is in flight and restart it: every record must end up written
//! exactly once, or be reported as unknown, never duplicated.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use common::{Run, Scratch, adapters};

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use plantwire::bulk::{JobId, JobInfo, JobStore, SqliteJobStore};
use plantwire_simulators::RecordedRequest;
use plantwire_simulators::maintainx::{Config as MxConfig, MaintainxSim};
use plantwire_simulators::maximo::{Config as MaximoConfig, MaximoSim};
use serde_json::{Value, json};

/// The operator's environment: a state directory, a master key, the adapters.
struct Operator {
    scratch: Scratch,
    key: PathBuf,
}

impl Operator {
    fn new(name: &str) -> Operator {
        let scratch = Scratch::new(name);
        let key = scratch.0.join("master.key");
        let op = Operator { scratch, key };
        let out = op
            .command(&["vault", "keygen", op.key.to_str().expect("path")])
            .output()
            .expect("keygen");
        assert!(out.status.success(), "{out:?}");
        op
    }

    fn path(&self, name: &str) -> PathBuf {
        self.scratch.0.join(name)
    }

    fn state_dir(&self) -> PathBuf {
        self.path("state")
    }

    fn command(&self, args: &[&str]) -> Command {
        let cache =
            std::env::temp_dir().join(format!("plantwire-cli-cache-{}", std::process::id()));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plantwire"));
        cmd.arg("--adapters")
            .arg(adapters())
            .arg("--cache-dir")
            .arg(&cache)
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
        cmd.args(args);
        cmd
    }

    /// Runs `plantwire` with `args`, feeding `stdin` if given.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run plantwire");
        {
            let mut input = child.stdin.take().expect("stdin");
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).expect("write stdin");
            }
        }
        let out = child.wait_with_output().expect("plantwire exits");
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args, None);
        assert!(run.ok, "plantwire {args:?} failed:\n{}", run.both());
        run
    }

    fn fails(&self, args: &[&str]) -> Run {
        let run = self.run(args, None);
        assert!(!run.ok, "plantwire {args:?} succeeded:\n{}", run.both());
        assert!(run.stderr.contains("error: "), "{}", run.stderr);
        run
    }

    /// Starts `plantwire` in the background, its output going to files.
    fn spawn(&self, args: &[&str]) -> Child {
        let out = std::fs::File::create(self.path("child.out")).expect("child.out");
        let err = std::fs::File::create(self.path("child.err")).expect("child.err");
        self.command(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn plantwire")
    }

    fn child_stderr(&self) -> String {
        std::fs::read_to_string(self.path("child.err")).unwrap_or_default()
    }

    fn connect(&self, id: &str, system: &str, base_url: &str, token: &str) {
        let file = self.path(&format!("{id}.json"));
        std::fs::write(&file, json!({ "token": token }).to_string()).expect("credential");
        self.ok(&[
            "connect",
            id,
            "--system",
            system,
            "--base-url",
            base_url,
            "--allow-private-network",
            "--credential-file",
            file.to_str().expect("path"),
        ]);
    }

    fn write_jsonl(&self, name: &str, lines: &[Value]) -> PathBuf {
        let file = self.path(name);
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&file, text).expect("input");
        file
    }

    fn jobs_json(&self) -> Vec<Value> {
        let run = self.ok(&["jobs", "--format", "json"]);
        serde_json::from_str::<Value>(&run.stdout)
            .expect("JSON")
            .as_array()
            .expect("array")
            .clone()
    }

    fn job_store(&self) -> SqliteJobStore {
        SqliteJobStore::open(self.state_dir().join("jobs.db")).expect("job store")
    }
}

fn read_results(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("results file")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn outcome(line: &Value) -> &str {
    line["outcome"].as_str().expect("outcome")
}

const MX_TOKEN: &str = "mx-bulk-tok3n-5d1e";

fn mx_config() -> MxConfig {
    MxConfig {
        token: MX_TOKEN.to_owned(),
        work_orders: 3,
        assets: 3,
        parts: 3,
        purchase_orders: 3,
        locations: 3,
        vendors: 3,
        users: 3,
        ..MxConfig::default()
    }
}

/// Create requests MaintainX received (one record each).
fn mx_creates(requests: &[RecordedRequest]) -> usize {
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/workorders"))
        .count()
}

/// The titles of MaintainX's work orders, with how often each occurs.
fn mx_titles(sim: &MaintainxSim) -> BTreeMap<String, usize> {
    let mut titles = BTreeMap::new();
    for id in sim.ids("workorders") {
        let record = sim.record("workorders", id).expect("record");
        *titles
            .entry(record["title"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    titles
}

/// Waits (polling the job store the child writes) until `ready` holds for the newest job, its
/// in-flight batch and the simulator; panics after a minute.
fn wait_for(
    rt: &tokio::runtime::Runtime,
    op: &Operator,
    child: &mut Child,
    mut ready: impl FnMut(&JobInfo, bool) -> bool,
) -> JobId {
    let started = Instant::now();
    let db = op.state_dir().join("jobs.db");
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the job never reached the state wanted:\n{}",
            op.child_stderr()
        );
        if let Ok(Some(status)) = child.try_wait() {
            let out = std::fs::read_to_string(op.path("child.out")).unwrap_or_default();
            panic!(
                "plantwire ended ({status}) before the kill:\n{}\n{}",
                op.child_stderr(),
                out.lines().next().unwrap_or_default()
            );
        }
        if db.exists() {
            let store = op.job_store();
            if let Some(job) = rt.block_on(store.jobs(1)).expect("jobs").into_iter().next() {
                let in_flight = rt
                    .block_on(store.in_flight(&job.id))
                    .expect("in flight")
                    .is_some();
                if ready(&job, in_flight) {
                    return job.id;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A webhook receiver on loopback that keeps every body.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<Value>>>);

async fn hook(State(receiver): State<Receiver>, body: Bytes) -> StatusCode {
    if let Ok(v) = serde_json::from_slice(&body) {
        receiver.0.lock().expect("bodies").push(v);
    }
    StatusCode::NO_CONTENT
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let app = Router::new()
            .route("/hooks", post(hook))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        (receiver, format!("http://{addr}/hooks"))
    }
}

/// (a) A few hundred MaintainX work orders, some invalid: one result per input record in
/// input order, with the system's key or the typed error naming the field; a non-zero exit;
/// the simulator holds exactly the valid ones, each created by exactly one request.
#[test]
fn bulk_create_reports_every_record_in_input_order() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(MaintainxSim::start(mx_config()))
        .expect("simulator");
    let op = Operator::new("create");
    op.connect("mx", "maintainx", &sim.base_url(), MX_TOKEN);
    let before = sim.count("workorders");
    sim.clear_requests();

    let n = 260;
    let mut expected_field: BTreeMap<usize, &str> = BTreeMap::new();
    let inputs: Vec<Value> = (0..n)
        .map(|i| match i % 50 {
            7 => {
                expected_field.insert(i, "title");
                json!({"description": format!("no title {i}")})
            }
            19 => {
                expected_field.insert(i, "colour");
                json!({"title": format!("bulk {i}"), "colour": "red"})
            }
            33 => {
                expected_field.insert(i, "status");
                json!({"title": format!("bulk {i}"), "status": "open"})
            }
            41 => {
                expected_field.insert(i, "(record)");
                json!(["not", "an", "object"])
            }
            3 => json!({"title": format!("bulk {i}"), "severity": "high",
                        "_idempotencyKey": format!("caller-{i}")}),
            _ => json!({"title": format!("bulk {i}"), "description": "from a bulk file"}),
        })
        .collect();
    let input = op.write_jsonl("orders.jsonl", &inputs);
    let results_file = op.path("results.jsonl");
    let run = op.fails(&[
        "bulk",
        "mx",
        "work-order",
        "create",
        input.to_str().expect("path"),
        "--batch-size",
        "40",
        "--results",
        results_file.to_str().expect("path"),
    ]);
    let invalid = expected_field.len();
    assert!(
        run.stderr.contains(&format!(
            "{invalid} of {n} records failed or have an unknown outcome"
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\u{1b}'), "no progress bar when piped");

    let results = read_results(&results_file);
    assert_eq!(results.len(), n);
    let mut keys = BTreeSet::new();
    for (i, line) in results.iter().enumerate() {
        assert_eq!(line["index"], json!(i), "input order");
        let key = line["idempotencyKey"].as_str().expect("idempotency key");
        assert!(keys.insert(key.to_owned()), "keys are distinct");
        if i % 50 == 3 {
            assert_eq!(key, format!("caller-{i}"));
        }
        match expected_field.get(&i) {
            Some(field) => {
                assert_eq!(outcome(line), "failed", "{line}");
                assert_eq!(line["error"]["kind"], "invalid", "{line}");
                let fields: Vec<&str> = line["error"]["detail"]
                    .as_array()
                    .expect("field errors")
                    .iter()
                    .map(|e| e["field"].as_str().expect("field"))
                    .collect();
                assert!(fields.contains(field), "{i}: {line}");
            }
            None => {
                assert_eq!(outcome(line), "created", "{line}");
                let id: u64 = line["key"]
                    .as_str()
                    .expect("key")
                    .parse()
                    .expect("numeric id");
                let stored = sim.record("workorders", id).expect("stored record");
                assert_eq!(stored["title"], json!(format!("bulk {i}")));
            }
        }
    }
    assert_eq!(sim.count("workorders"), before + n - invalid);
    assert_eq!(mx_creates(&sim.requests()), n - invalid, "one request each");
    assert!(mx_titles(&sim).values().all(|&c| c == 1), "no record twice");

    // Bad input is refused before anything is sent.
    let broken = op.path("broken.jsonl");
    std::fs::write(&broken, "{\"title\": \"ok\"}\n{not json\n").expect("write");
    sim.clear_requests();
    for (args, needle) in [
        (
            vec![
                "bulk",
                "mx",
                "work-order",
                "create",
                broken.to_str().expect("p"),
            ],
            "line 2 is not valid JSON; nothing was sent",
        ),
        (
            vec![
                "bulk",
                "mx",
                "spaceship",
                "create",
                input.to_str().expect("p"),
            ],
            "spaceship",
        ),
        (
            vec![
                "bulk",
                "nope",
                "work-order",
                "create",
                input.to_str().expect("p"),
            ],
            "no connection `nope`",
        ),
        (
            vec![
                "bulk",
                "mx",
                "work-order",
                "action",
                "explode",
                input.to_str().expect("p"),
            ],
            "no action `explode`",
        ),
        (
            vec![
                "bulk",
                "mx",
                "work-order",
                "create",
                input.to_str().expect("p"),
                "--batch-size",
                "500",
            ],
            "500",
        ),
    ] {
        let run = op.fails(&args);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
    assert!(sim.requests().is_empty(), "nothing was sent");
    rt.block_on(sim.shutdown());
}

/// Whether the Maximo adapter declares `externalId` on work orders.
fn maximo_has_external_id(op: &Operator) -> bool {
    let run = op.ok(&[
        "capabilities",
        "maximo",
        "--entity",
        "work-order",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    v[0]["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .filter(|e| e["name"] == "work-order")
        .flat_map(|e| e["fields"].as_array().cloned().unwrap_or_default())
        .any(|f| f["name"] == "externalId")
}

/// Records carried by the create requests Maximo received (a BULK body is an array).
fn maximo_records_sent(requests: &[RecordedRequest]) -> usize {
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

/// (b) The kill -9 test against Maximo: the job is killed after its first batches committed,
/// while a batch the simulator has already written is in flight; `plantwire jobs run` takes
/// the job over when the lease runs out and completes it. Every record exists exactly once,
/// and no record was ever sent twice.
#[test]
fn a_job_killed_mid_batch_resumes_and_writes_every_record_exactly_once() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(MaximoSim::start(MaximoConfig {
            work_orders: 20,
            assets: 10,
            purchase_orders: 5,
            items: 5,
            locations: 6,
            vendors: 5,
            ..MaximoConfig::default()
        }))
        .expect("simulator");
    let op = Operator::new("kill-maximo");
    let apikey = sim.apikey().to_owned();
    op.connect("mxm", "maximo", &sim.base_url(), &apikey);
    let external_id = maximo_has_external_id(&op);
    let seeded = sim.count("mxapiwo");
    sim.clear_requests();
    sim.faults().set_latency(Duration::from_millis(120));

    let (n, size) = (60usize, 6usize);
    let inputs: Vec<Value> = (0..n)
        .map(|i| json!({"title": format!("crash test {i:03}")}))
        .collect();
    let input = op.write_jsonl("orders.jsonl", &inputs);
    let mut child = op.spawn(&[
        "--job-lease",
        "2",
        "bulk",
        "mxm",
        "work-order",
        "create",
        input.to_str().expect("path"),
        "--job",
        "--batch-size",
        &size.to_string(),
    ]);
    // At least one batch committed, the next one in flight and already written by Maximo
    // (the adapter is reading it back): the worst moment to die.
    let id = wait_for(&rt, &op, &mut child, |job, in_flight| {
        let batches = usize::try_from(job.batches).expect("batches");
        in_flight && batches >= 1 && sim.count("mxapiwo") >= seeded + (batches + 1) * size
    });
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let store = op.job_store();
    let job = rt.block_on(store.job(&id)).expect("job").expect("exists");
    assert_eq!(
        job.status.as_str(),
        "running",
        "the killed runner never finished"
    );
    assert!(job.batches >= 1 && job.done < job.total, "{job:?}");
    let flight = rt
        .block_on(store.in_flight(&id))
        .expect("in flight")
        .expect("a batch was in flight at the kill");
    let in_flight: BTreeSet<u64> = flight.records.iter().map(|r| r.index).collect();
    let listed = op.jobs_json();
    assert_eq!(listed[0]["id"], json!(id.0));
    assert_eq!(listed[0]["status"], "running");

    // Before the lease runs out the job is not claimable; after, `jobs run` takes it over.
    sim.faults().set_latency(Duration::ZERO);
    let sent_before_restart = sim.requests().len();
    let early = op.ok(&["--job-lease", "2", "jobs", "run"]);
    assert!(early.stderr.contains("no job to run"), "{}", early.both());
    std::thread::sleep(Duration::from_millis(2_200));
    let resumed = op.ok(&["--job-lease", "2", "jobs", "run"]);
    assert!(
        resumed.stderr.contains(&format!("job {id} completed")),
        "{}",
        resumed.both()
    );

    let listed = op.jobs_json();
    assert_eq!(listed[0]["status"], "completed");
    assert_eq!(listed[0]["done"], json!(n));
    let results_file = op.path("results.jsonl");
    op.ok(&[
        "jobs",
        "results",
        &id.0,
        "--output",
        results_file.to_str().expect("path"),
    ]);
    let results = read_results(&results_file);
    assert_eq!(results.len(), n, "results complete");
    for (i, line) in results.iter().enumerate() {
        assert_eq!(line["index"], json!(i));
        let o = outcome(line);
        if external_id || !in_flight.contains(&(i as u64)) {
            assert_eq!(o, "created", "{line}");
            let key = line["key"].as_str().expect("key");
            let record = sim.record("mxapiwo", key).expect("stored");
            assert_eq!(record["description"], json!(format!("crash test {i:03}")));
        } else {
            assert_eq!(o, "unknown", "{line}");
        }
    }

    // Exactly once: the simulator holds each record once, and no record was sent twice.
    assert_eq!(sim.count("mxapiwo"), seeded + n);
    let mut descriptions: BTreeMap<String, usize> = BTreeMap::new();
    for key in sim.keys("mxapiwo") {
        let record = sim.record("mxapiwo", &key).expect("record");
        *descriptions
            .entry(
                record["description"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
            .or_default() += 1;
    }
    for i in 0..n {
        assert_eq!(
            descriptions.get(&format!("crash test {i:03}")),
            Some(&1),
            "record {i}"
        );
    }
    assert_eq!(
        maximo_records_sent(&sim.requests()),
        n,
        "no record sent twice"
    );
    if external_id {
        // Settling looked the in-flight batch up by its external reference.
        let lookups = sim.requests()[sent_before_restart..]
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
    }
    rt.block_on(sim.shutdown());
}

/// (c) The same crash against MaintainX, which has no external reference to look records up
/// by: the in-flight batch's records are reported unknown (some of them were written), never
/// sent again; the job completes and nothing is duplicated.
#[test]
fn without_an_external_reference_the_in_flight_batch_is_unknown_and_never_duplicated() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(MaintainxSim::start(mx_config()))
        .expect("simulator");
    let op = Operator::new("kill-maintainx");
    op.connect("mx", "maintainx", &sim.base_url(), MX_TOKEN);
    let seeded = sim.count("workorders");
    sim.clear_requests();
    sim.faults().set_latency(Duration::from_millis(40));

    let (n, size) = (24usize, 4usize);
    let inputs: Vec<Value> = (0..n)
        .map(|i| json!({"title": format!("mx crash {i:02}")}))
        .collect();
    let input = op.write_jsonl("orders.jsonl", &inputs);
    let mut child = op.spawn(&[
        "--job-lease",
        "2",
        "bulk",
        "mx",
        "work-order",
        "create",
        input.to_str().expect("path"),
        "--job",
        "--batch-size",
        &size.to_string(),
    ]);
    // One batch committed; the next in flight with at least one of its records written.
    let id = wait_for(&rt, &op, &mut child, |job, in_flight| {
        let batches = usize::try_from(job.batches).expect("batches");
        in_flight && batches >= 1 && sim.count("workorders") > seeded + batches * size
    });
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let store = op.job_store();
    let flight = rt
        .block_on(store.in_flight(&id))
        .expect("in flight")
        .expect("a batch in flight");
    let in_flight: BTreeSet<u64> = flight.records.iter().map(|r| r.index).collect();
    let written_before_restart = sim.count("workorders") - seeded;

    sim.faults().set_latency(Duration::ZERO);
    std::thread::sleep(Duration::from_millis(2_200));
    op.ok(&["--job-lease", "2", "jobs", "run", &id.0]);
    let listed = op.jobs_json();
    assert_eq!(listed[0]["status"], "completed");

    let results_file = op.path("results.jsonl");
    op.ok(&[
        "jobs",
        "results",
        &id.0,
        "--output",
        results_file.to_str().expect("path"),
    ]);
    let results = read_results(&results_file);
    assert_eq!(results.len(), n);
    let mut created = 0;
    for (i, line) in results.iter().enumerate() {
        if in_flight.contains(&(i as u64)) {
            assert_eq!(outcome(line), "unknown", "{line}");
            assert!(
                line["reason"]
                    .as_str()
                    .expect("reason")
                    .contains("no `externalId`"),
                "{line}"
            );
        } else {
            assert_eq!(outcome(line), "created", "{line}");
            created += 1;
        }
    }
    assert_eq!(created, n - in_flight.len());
    let titles = mx_titles(&sim);
    assert!(
        titles.values().all(|&c| c == 1),
        "no duplicates: {titles:?}"
    );
    let in_flight_written = (0..n)
        .filter(|i| in_flight.contains(&(*i as u64)))
        .filter(|i| titles.contains_key(&format!("mx crash {i:02}")))
        .count();
    assert!(
        in_flight_written >= 1,
        "some of the in-flight batch was written"
    );
    // Nothing of the in-flight batch was sent after the restart.
    assert_eq!(
        sim.count("workorders") - seeded,
        created + in_flight_written
    );
    assert!(written_before_restart <= created + in_flight_written);
    assert_eq!(mx_creates(&sim.requests()), created + in_flight_written);
    rt.block_on(sim.shutdown());
}

/// (d) The failure limit, key reuse, replay and cancel, and the `job.completed` webhook.
#[test]
fn limits_keys_replays_cancel_and_the_completion_event() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(MaintainxSim::start(mx_config()))
        .expect("simulator");
    let (receiver, hook_url) = rt.block_on(Receiver::start());
    let op = Operator::new("limits");
    op.connect("mx", "maintainx", &sim.base_url(), MX_TOKEN);
    op.ok(&["webhooks", "add", "ops", &hook_url]);
    let p = |path: &PathBuf| path.to_str().expect("path").to_owned();

    // Stop after 2 failures: the first batch holds three, the rest is skipped.
    let before = sim.count("workorders");
    let mut inputs: Vec<Value> = (0..20)
        .map(|i| json!({"title": format!("limit {i}")}))
        .collect();
    for i in [1, 2, 3] {
        inputs[i] = json!({"description": "no title"});
    }
    let input = op.write_jsonl("limit.jsonl", &inputs);
    let results_file = op.path("limit-results.jsonl");
    op.fails(&[
        "bulk",
        "mx",
        "work-order",
        "create",
        &p(&input),
        "--batch-size",
        "5",
        "--stop-after-failures",
        "2",
        "--delay-ms",
        "10",
        "--results",
        &p(&results_file),
    ]);
    let results = read_results(&results_file);
    let kinds: Vec<&str> = results.iter().map(outcome).collect();
    assert_eq!(
        &kinds[..5],
        ["created", "failed", "failed", "failed", "created"]
    );
    assert!(kinds[5..].iter().all(|k| *k == "skipped"), "{kinds:?}");
    assert_eq!(sim.count("workorders"), before + 2);

    // A durable job with a caller's key, then the same key with another record: refused,
    // nothing stored or sent.
    let keyed = op.write_jsonl(
        "keyed.jsonl",
        &[
            json!({"title": "keyed one", "_idempotencyKey": "po-4711"}),
            json!({"title": "keyed two", "_idempotencyKey": "po-4712"}),
        ],
    );
    let first = op.ok(&["bulk", "mx", "work-order", "create", &p(&keyed), "--job"]);
    let first_results: Vec<Value> = first
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(first_results.len(), 2);
    assert_eq!(first_results[0]["idempotencyKey"], "po-4711");
    assert_eq!(outcome(&first_results[0]), "created");
    let count = sim.count("workorders");
    let jobs = op.jobs_json().len();
    let reused = op.write_jsonl(
        "reused.jsonl",
        &[json!({"title": "something else", "_idempotencyKey": "po-4711"})],
    );
    let run = op.fails(&["bulk", "mx", "work-order", "create", &p(&reused), "--job"]);
    assert!(
        run.stderr
            .contains("idempotency key `po-4711` was already used for a different payload"),
        "{}",
        run.stderr
    );
    assert_eq!(sim.count("workorders"), count);
    assert_eq!(op.jobs_json().len(), jobs, "no job stored");

    // The same input replayed: the results come from the ledger; nothing is sent.
    sim.clear_requests();
    let again = op.ok(&["bulk", "mx", "work-order", "create", &p(&keyed), "--job"]);
    assert_eq!(again.stdout, first.stdout, "the same results");
    assert_eq!(sim.count("workorders"), count);
    assert_eq!(mx_creates(&sim.requests()), 0);

    // job.completed went to the endpoint, with the job's counts and no record data.
    let events = receiver.0.lock().expect("events").clone();
    let completed: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "job.completed")
        .collect();
    assert_eq!(completed.len(), 2, "{events:?}");
    assert_eq!(completed[0]["data"]["connectionId"], "mx");
    assert_eq!(completed[0]["data"]["job"]["created"], 2);
    assert_eq!(completed[0]["data"]["job"]["status"], "completed");
    assert!(!completed[0].to_string().contains("keyed one"));

    // Cancel a running job: it stops after its current batch; the rest is skipped.
    sim.faults().set_latency(Duration::from_millis(60));
    let many: Vec<Value> = (0..40)
        .map(|i| json!({"title": format!("cancel {i}")}))
        .collect();
    let input = op.write_jsonl("cancel.jsonl", &many);
    let results_file = op.path("cancel-results.jsonl");
    let mut child = op.spawn(&[
        "bulk",
        "mx",
        "work-order",
        "create",
        &p(&input),
        "--job",
        "--batch-size",
        "4",
        "--results",
        &p(&results_file),
    ]);
    let id = wait_for(&rt, &op, &mut child, |job, _| {
        job.total == 40 && job.batches >= 1
    });
    let run = op.ok(&["jobs", "cancel", &id.0]);
    assert!(run.stdout.contains("cancel requested"), "{}", run.stdout);
    let status = child.wait().expect("child ends");
    assert!(!status.success(), "a cancelled job is not a success");
    assert!(
        op.child_stderr().contains("the job was cancelled"),
        "{}",
        op.child_stderr()
    );
    sim.faults().set_latency(Duration::ZERO);
    let results = read_results(&results_file);
    assert_eq!(results.len(), 40);
    let created = results.iter().filter(|l| outcome(l) == "created").count();
    let skipped = results.iter().filter(|l| outcome(l) == "skipped").count();
    assert_eq!(created + skipped, 40);
    assert!(
        created >= 4 && skipped >= 4,
        "{created} created, {skipped} skipped"
    );
    assert_eq!(created % 4, 0, "stopped between batches");
    let watch = op.ok(&["jobs", "watch", &id.0]);
    assert!(watch.stdout.contains("cancelled"), "{}", watch.stdout);
    let run = op.ok(&["jobs", "cancel", &id.0]);
    assert!(run.stdout.contains("already cancelled"), "{}", run.stdout);
    let table = op.ok(&["jobs"]);
    assert!(table.stdout.contains(&id.0) && table.stdout.contains("cancelled"));
    for (args, needle) in [
        (vec!["jobs", "cancel", "job_nope"], "no job `job_nope`"),
        (vec!["jobs", "results", "job_nope"], "no job `job_nope`"),
        (
            vec!["--job-store", "mysql://x", "jobs"],
            "unknown job store `mysql`",
        ),
    ] {
        let run = op.fails(&args);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
    rt.block_on(sim.shutdown());
}

/// `bulk --queue` stores the job and sends nothing; `jobs run` runs it later.
#[test]
fn a_queued_job_waits_for_a_runner() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(MaintainxSim::start(mx_config()))
        .expect("simulator");
    let op = Operator::new("queue");
    op.connect("mx", "maintainx", &sim.base_url(), MX_TOKEN);
    let before = sim.count("workorders");
    sim.clear_requests();
    let inputs: Vec<Value> = (0..12)
        .map(|i| json!({"title": format!("queued {i}")}))
        .collect();
    let input = op.write_jsonl("queued.jsonl", &inputs);
    let run = op.ok(&[
        "bulk",
        "mx",
        "work-order",
        "create",
        input.to_str().expect("path"),
        "--queue",
    ]);
    let id = run.stdout.trim().to_owned();
    assert!(id.starts_with("job_"), "{}", run.both());
    assert_eq!(mx_creates(&sim.requests()), 0, "queuing sends nothing");
    let jobs = op.jobs_json();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["status"], "queued", "{jobs:?}");

    op.ok(&["jobs", "run"]);
    let jobs = op.jobs_json();
    assert_eq!(jobs[0]["status"], "completed", "{jobs:?}");
    assert_eq!(sim.count("workorders"), before + 12);
    assert_eq!(mx_creates(&sim.requests()), 12);
}
