//! Bulk-write benchmarks: records created through the wasm adapters and the host's egress
//! against simulators on loopback that answer every request after 20 ms of injected latency.
//!
//! The spec's measurement is one-shot, printed before the criterion group: a criterion sample
//! of 10,000 records takes seconds, and ten of them minutes. Each one-shot run starts from a
//! fresh simulator and reports records, batches, requests, elapsed time, the ideal and the
//! ratio of the two:
//!
//! * **Maximo**, 10,000 work orders (`PLANTWIRE_BENCH_BULK_MAXIMO_RECORDS`): native BULK, one
//!   request per batch of 50;
//! * **MaintainX**, 1,000 work orders (`PLANTWIRE_BENCH_BULK_MAINTAINX_RECORDS`): no bulk
//!   endpoint, one `POST` per record, so 10,000 records would take over 200 s of latency alone.
//!   The simulator enforces no rate limit unless `PLANTWIRE_BENCH_BULK_MAINTAINX_LIMIT` sets
//!   one (requests per 60 s; MaintainX documents 500).
//!
//! Each runs twice: through the in-memory [`bulk::run`], and as a durable job
//! ([`bulk::submit`] and a [`Runner`] over an SQLite store in a fresh temporary directory,
//! submit included in the time), so the cost of the job store shows. The same runs at zero
//! latency follow: their elapsed time is what the host (engine, sandbox, mapping, store) and
//! the simulator cost besides the latency. The mean time of a batch in the first and in the
//! last tenth of each run shows whether that cost grows with the records already written
//! (the engine does the same work for every batch). A calibration line then reports what one
//! request at the injected latency costs a bare reqwest client on this machine.
//!
//! The ideal is what batch size, concurrency and the rate limit allow: the engine sends one
//! batch at a time and the adapter sends its requests one after another inside one call, so
//! at most one write request is in flight; the ideal is the write requests the batches need
//! (Maximo: one per batch; MaintainX: one per record) times the latency, or the time the rate
//! limit needs to let them through, whichever is longer. Requests an adapter sends besides
//! the writes (reading created records back) are counted separately, and the table shows the
//! floor of every request actually sent as well.
//!
//! Every run is checked: every record reported created with a distinct key, and the
//! simulator holding exactly that many new records, none twice.
//!
//! The criterion group `bulk` then measures 1,000 Maximo work orders at 20 ms, in memory and
//! as a durable job (10 samples, each on a fresh simulator started outside the timed part),
//! and a summary line compares their medians with the ideal.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark that cannot set up, or whose records are lost or duplicated, should stop loudly"
)]

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use plantwire::bulk::{
    self, BulkOp, BulkOptions, BulkRequest, FixedConnections, JobStatus, RecordOutcome, Runner,
    SqliteJobStore,
};
use plantwire::webhooks::DiscardEvents;
use plantwire::{
    AdapterComponent, Connection, Credential, Egress, EgressConfig, Runtime, RuntimeConfig,
};
use plantwire_benches::{adapter_bytes, estimate_ns};
use plantwire_simulators::maintainx::{Config as MxConfig, MaintainxSim};
use plantwire_simulators::maximo::{Config as MaximoConfig, MaximoSim};
use plantwire_simulators::{Faults, RecordedRequest};
use serde_json::{Value, json};

/// The latency injected into every request.
const LATENCY: Duration = Duration::from_millis(20);
/// The entity written.
const ENTITY: &str = "work-order";
/// Write requests in flight at once: the engine sends one batch at a time, and both adapters
/// send a batch's requests one after another inside one call.
const CONCURRENCY: u32 = 1;
/// Records per criterion iteration.
const SAMPLED: usize = 1_000;
/// The window of a simulator's rate limit.
const RATE_WINDOW: Duration = Duration::from_secs(60);

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum System {
    Maximo,
    Maintainx,
}

impl System {
    fn name(self) -> &'static str {
        match self {
            System::Maximo => "maximo",
            System::Maintainx => "maintainx",
        }
    }

    /// Write requests for a batch of `n` records.
    fn writes_per_batch(self, n: u64) -> u64 {
        match self {
            System::Maximo => 1,
            System::Maintainx => n,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Memory,
    Durable,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Memory => "in-memory",
            Path::Durable => "durable",
        }
    }
}

/// A running simulator of either system.
enum Sim {
    Maximo(MaximoSim),
    Maintainx(MaintainxSim),
}

impl Sim {
    async fn start(system: System, rate_limit: Option<u32>) -> Sim {
        match system {
            System::Maximo => Sim::Maximo(
                MaximoSim::start(MaximoConfig {
                    work_orders: 50,
                    ..MaximoConfig::default()
                })
                .await
                .expect("maximo simulator"),
            ),
            System::Maintainx => Sim::Maintainx(
                MaintainxSim::start(MxConfig {
                    work_orders: 50,
                    rate_limit,
                    ..MxConfig::default()
                })
                .await
                .expect("maintainx simulator"),
            ),
        }
    }

    fn base_url(&self) -> String {
        match self {
            Sim::Maximo(s) => s.base_url(),
            Sim::Maintainx(s) => s.base_url(),
        }
    }

    fn secret(&self) -> String {
        match self {
            Sim::Maximo(s) => s.apikey().to_owned(),
            Sim::Maintainx(s) => s.token().to_owned(),
        }
    }

    fn faults(&self) -> &Faults {
        match self {
            Sim::Maximo(s) => s.faults(),
            Sim::Maintainx(s) => s.faults(),
        }
    }

    fn requests(&self) -> Vec<RecordedRequest> {
        match self {
            Sim::Maximo(s) => s.requests(),
            Sim::Maintainx(s) => s.requests(),
        }
    }

    fn clear_requests(&self) {
        match self {
            Sim::Maximo(s) => s.clear_requests(),
            Sim::Maintainx(s) => s.clear_requests(),
        }
    }

    /// The work orders the simulator holds now, by key.
    fn work_orders(&self) -> Vec<String> {
        match self {
            Sim::Maximo(s) => s.keys("mxapiwo"),
            Sim::Maintainx(s) => s
                .ids("workorders")
                .into_iter()
                .map(|id| id.to_string())
                .collect(),
        }
    }

    /// The title of work order `key`.
    fn title(&self, key: &str) -> Option<String> {
        let record = match self {
            Sim::Maximo(s) => s.record("mxapiwo", key)?,
            Sim::Maintainx(s) => s.record("workorders", key.parse().ok()?)?,
        };
        let field = match self {
            Sim::Maximo(_) => "description",
            Sim::Maintainx(_) => "title",
        };
        record.get(field).and_then(Value::as_str).map(str::to_owned)
    }

    async fn shutdown(self) {
        match self {
            Sim::Maximo(s) => s.shutdown().await,
            Sim::Maintainx(s) => s.shutdown().await,
        }
    }
}

/// A simulator and a connection to it through the adapter component.
struct Target {
    system: System,
    sim: Sim,
    conn: Connection,
    rate_limit: Option<u32>,
}

impl Target {
    async fn start(
        system: System,
        component: &AdapterComponent,
        rate_limit: Option<u32>,
    ) -> Target {
        let sim = Sim::start(system, rate_limit).await;
        let mut config = EgressConfig::new(url::Url::parse(&sim.base_url()).expect("url"));
        config.allow_private_network = true;
        let egress = Egress::new(
            config,
            component.info().auth.clone(),
            Credential::Token(sim.secret().into()),
        )
        .expect("egress");
        let id = format!("bench-{}", system.name());
        let conn = Connection::new(id.clone(), Arc::new(component.bind(&id, Arc::new(egress))));
        // Warm the instance and the HTTP connection before anything is measured.
        conn.list(ENTITY, plantwire::ListOptions::default())
            .await
            .expect("warm-up list");
        Target {
            system,
            sim,
            conn,
            rate_limit,
        }
    }
}

fn request() -> BulkRequest {
    BulkRequest {
        entity: ENTITY.to_owned(),
        op: BulkOp::Create,
        options: BulkOptions::default(),
    }
}

/// `n` new work orders whose titles are unique to this run (`tag`), so that no run replays
/// another's idempotency keys or Maximo transaction ids.
fn inputs(tag: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({ "title": format!("bulk {tag} {i:05}") }))
        .collect()
}

/// A unique tag per run.
fn next_tag() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("plantwire-bench-bulk-{}", next_tag()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One measured run.
struct Measured {
    elapsed: Duration,
    /// Of which storing the job (durable path only).
    submit: Duration,
    /// Every record's outcome, in input order.
    outcomes: Vec<RecordOutcome>,
    /// Batches the engine reported.
    batches: u64,
    /// How long each batch took, from the previous batch's end (or the start of sending).
    batch_times: Vec<Duration>,
}

/// Records the time of each batch from the engine's progress reports.
struct Clock {
    last: Instant,
    batches: u64,
    times: Vec<Duration>,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            last: Instant::now(),
            batches: 0,
            times: Vec::new(),
        }
    }

    fn report(&mut self, batches: u64) {
        if batches > self.batches {
            let now = Instant::now();
            self.times.push(now - self.last);
            self.last = now;
            self.batches = batches;
        }
    }
}

/// Runs `inputs` through `path`; the job store (if any) lives in `scratch`.
async fn run_path(target: &Target, path: Path, inputs: &[Value], scratch: &Scratch) -> Measured {
    let request = request();
    match path {
        Path::Memory => {
            let started = Instant::now();
            let mut clock = Clock::new();
            let results = bulk::run(&target.conn, &request, inputs, |p| clock.report(p.batches))
                .await
                .expect("bulk run");
            let elapsed = started.elapsed();
            Measured {
                elapsed,
                submit: Duration::ZERO,
                outcomes: results.into_iter().map(|r| r.outcome).collect(),
                batches: clock.batches,
                batch_times: clock.times,
            }
        }
        Path::Durable => {
            let store = SqliteJobStore::open(scratch.0.join("jobs.db")).expect("job store");
            let connections = FixedConnections(HashMap::from([(
                target.conn.id().to_owned(),
                target.conn.clone(),
            )]));
            let runner = Runner::new(
                Arc::new(store.clone()),
                Arc::new(connections),
                Arc::new(DiscardEvents),
            );
            let started = Instant::now();
            let id = bulk::submit(&store, &target.conn, None, &request, inputs)
                .await
                .expect("submit");
            let submit = started.elapsed();
            let mut clock = Clock::new();
            let job = runner
                .run_job(&id, &mut |p| clock.report(p.progress.batches))
                .await
                .expect("job runs")
                .expect("job claimable");
            let elapsed = started.elapsed();
            assert_eq!(job.status, JobStatus::Completed, "{job:?}");
            let outcomes = bulk::JobStore::outcomes(&store, &id)
                .await
                .expect("outcomes")
                .into_iter()
                .map(|(_, _, o)| o.expect("every record has an outcome"))
                .collect();
            Measured {
                elapsed,
                submit,
                outcomes,
                batches: job.batches,
                batch_times: clock.times,
            }
        }
    }
}

/// Requests the simulator received during a run: writes (`POST`) and the rest.
fn count_requests(requests: &[RecordedRequest]) -> (u64, u64) {
    let writes = requests.iter().filter(|r| r.method == "POST").count() as u64;
    (writes, requests.len() as u64 - writes)
}

/// Checks that every record was created exactly once: each reported created with a distinct
/// key, each key a new work order in the simulator with the record's title, and no other new
/// work order.
fn verify(target: &Target, before: &BTreeSet<String>, inputs: &[Value], measured: &Measured) {
    assert_eq!(
        measured.outcomes.len(),
        inputs.len(),
        "one outcome per record"
    );
    let mut keys = BTreeSet::new();
    for (i, outcome) in measured.outcomes.iter().enumerate() {
        let RecordOutcome::Created { key } = outcome else {
            panic!("record {i} was not created: {outcome:?}");
        };
        assert!(keys.insert(key.clone()), "key {key} reported twice");
        let title = target.sim.title(key);
        assert_eq!(
            title.as_deref(),
            inputs[i]["title"].as_str(),
            "record {i} is stored under {key}"
        );
    }
    let after: BTreeSet<String> = target.sim.work_orders().into_iter().collect();
    let new: BTreeSet<String> = after.difference(before).cloned().collect();
    assert_eq!(
        new.len(),
        inputs.len(),
        "the simulator holds exactly one new work order per record (lost or duplicated ones otherwise)"
    );
    assert_eq!(new, keys, "the new work orders are the ones reported");
    if let Sim::Maximo(s) = &target.sim {
        assert!(
            s.duplicate_externalrefids("mxapiwo").is_empty(),
            "no externalrefid written twice"
        );
    }
}

/// One row of the report.
struct Row {
    system: System,
    path: Path,
    latency: Duration,
    records: u64,
    batch_size: u64,
    batches: u64,
    writes: u64,
    others: u64,
    elapsed: Duration,
    submit: Duration,
    ideal: Duration,
    /// Mean time of a batch in the first and in the last tenth of the run.
    first_batches: Duration,
    last_batches: Duration,
}

/// The mean of the first and of the last tenth (at least one) of `times`.
fn ends(times: &[Duration]) -> (Duration, Duration) {
    let n = (times.len() / 10).max(1).min(times.len());
    let mean = |part: &[Duration]| {
        if part.is_empty() {
            Duration::ZERO
        } else {
            part.iter().sum::<Duration>() / u32::try_from(part.len()).unwrap_or(u32::MAX)
        }
    };
    (mean(&times[..n]), mean(&times[times.len() - n..]))
}

/// The ideal for `records` in batches of `size`: write requests × latency ÷ concurrency, or
/// the time the rate limit needs for them, whichever is longer.
fn ideal(
    system: System,
    records: u64,
    size: u64,
    latency: Duration,
    rate_limit: Option<u32>,
) -> (u64, u64, Duration) {
    let batches = records.div_ceil(size);
    let full = records / size;
    let rest = records % size;
    let writes = full * system.writes_per_batch(size)
        + if rest > 0 {
            system.writes_per_batch(rest)
        } else {
            0
        };
    let by_latency = latency * u32::try_from(writes).unwrap_or(u32::MAX) / CONCURRENCY;
    // A fixed window lets `limit` requests through per window: the last one goes out in
    // window number ceil(writes / limit) - 1.
    let by_rate = rate_limit.map_or(Duration::ZERO, |limit| {
        RATE_WINDOW
            * u32::try_from(writes.div_ceil(u64::from(limit)).saturating_sub(1)).unwrap_or(u32::MAX)
    });
    (batches, writes, by_latency.max(by_rate))
}

async fn measure(target: &Target, path: Path, records: usize, latency: Duration) -> Row {
    target.sim.faults().set_latency(latency);
    let inputs = inputs(&next_tag(), records);
    let scratch = Scratch::new();
    let before: BTreeSet<String> = target.sim.work_orders().into_iter().collect();
    target.sim.clear_requests();
    let measured = run_path(target, path, &inputs, &scratch).await;
    let (writes, others) = count_requests(&target.sim.requests());
    target.sim.faults().set_latency(Duration::ZERO);
    verify(target, &before, &inputs, &measured);
    let decl = bulk::engine::entity_for(&target.conn, ENTITY, &BulkOp::Create).expect("entity");
    let size = u64::from(bulk::engine::batch_size(decl, &BulkOptions::default()));
    let (batches, ideal_writes, ideal) = ideal(
        target.system,
        records as u64,
        size,
        latency,
        target.rate_limit,
    );
    assert_eq!(
        measured.batches, batches,
        "the engine sent the batches expected"
    );
    assert_eq!(
        writes, ideal_writes,
        "one write request per batch or record"
    );
    let (first_batches, last_batches) = ends(&measured.batch_times);
    Row {
        system: target.system,
        path,
        latency,
        records: records as u64,
        batch_size: size,
        batches,
        writes,
        others,
        elapsed: measured.elapsed,
        submit: measured.submit,
        ideal,
        first_batches,
        last_batches,
    }
}

fn print_rows(rows: &[Row]) {
    println!(
        "{:<10} {:<10} {:>7} {:>8} {:>6} {:>8} {:>7} {:>7} {:>10} {:>9} {:>9} {:>7} {:>10} {:>7} {:>11} {:>11}",
        "system",
        "path",
        "latency",
        "records",
        "batch",
        "batches",
        "writes",
        "others",
        "elapsed",
        "(submit)",
        "ideal",
        "ratio",
        "floor",
        "ratio",
        "batch 1st",
        "batch last"
    );
    for r in rows {
        // The floor of every request actually sent, one at a time.
        let floor = r.latency * u32::try_from(r.writes + r.others).unwrap_or(u32::MAX);
        let ratio = |d: Duration| {
            if d.is_zero() {
                "-".to_owned()
            } else {
                format!("{:.2}x", r.elapsed.as_secs_f64() / d.as_secs_f64())
            }
        };
        println!(
            "{:<10} {:<10} {:>5}ms {:>8} {:>6} {:>8} {:>7} {:>7} {:>8.3} s {:>7.3} s {:>7.3} s {:>7} {:>8.3} s {:>7} {:>8.1} ms {:>8.1} ms",
            r.system.name(),
            r.path.name(),
            r.latency.as_millis(),
            r.records,
            r.batch_size,
            r.batches,
            r.writes,
            r.others,
            r.elapsed.as_secs_f64(),
            r.submit.as_secs_f64(),
            r.ideal.as_secs_f64(),
            ratio(r.ideal),
            floor.as_secs_f64(),
            ratio(floor),
            r.first_batches.as_secs_f64() * 1e3,
            r.last_batches.as_secs_f64() * 1e3,
        );
    }
    for r in rows.iter().filter(|r| !r.latency.is_zero()) {
        let sent = r.writes + r.others;
        let floor = r.latency * u32::try_from(sent).unwrap_or(u32::MAX);
        let beyond = r.elapsed.saturating_sub(floor).as_secs_f64() * 1e3;
        println!(
            "{} {}: {} records, {} batches, {} write + {} other requests, {:.2} s for an ideal of {:.2} s ({:.2}x; the target is at most 1.2x); beyond the latency of the {sent} requests sent: {:.2} ms per request, {:.1} ms per batch; none lost, none duplicated",
            r.system.name(),
            r.path.name(),
            r.records,
            r.batches,
            r.writes,
            r.others,
            r.elapsed.as_secs_f64(),
            r.ideal.as_secs_f64(),
            r.elapsed.as_secs_f64() / r.ideal.as_secs_f64(),
            beyond / sent.max(1) as f64,
            beyond / r.batches.max(1) as f64,
        );
    }
}

fn one_shot(rt: &tokio::runtime::Runtime, runtime: &Runtime) {
    let maximo_records = env_count("PLANTWIRE_BENCH_BULK_MAXIMO_RECORDS", 10_000);
    let mx_records = env_count("PLANTWIRE_BENCH_BULK_MAINTAINX_RECORDS", 1_000);
    let mx_limit = std::env::var("PLANTWIRE_BENCH_BULK_MAINTAINX_LIMIT")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| *n > 0);
    let mut rows = Vec::new();
    for (system, records, limit) in [
        (System::Maximo, maximo_records, None),
        (System::Maintainx, mx_records, mx_limit),
    ] {
        let component = load(rt, runtime, system);
        for latency in [LATENCY, Duration::ZERO] {
            for path in [Path::Memory, Path::Durable] {
                // A fresh simulator per run: its rate window and request log start empty.
                let target = rt.block_on(Target::start(system, &component, limit));
                rows.push(rt.block_on(measure(&target, path, records, latency)));
                rt.block_on(target.sim.shutdown());
            }
        }
    }
    print_rows(&rows);
    rt.block_on(calibrate());
}

/// What one request at the injected latency costs on this machine, without the host: the
/// floor a perfect client would reach (the simulator's sleep is rounded up to the timer's
/// tick, and loopback HTTP adds its own time).
async fn calibrate() {
    const N: u32 = 100;
    let sim = MaintainxSim::start(MxConfig {
        work_orders: 1,
        ..MxConfig::default()
    })
    .await
    .expect("simulator");
    let client = reqwest::Client::new();
    let url = format!("{}/workorders?limit=1", sim.base_url());
    let get = || async {
        client
            .get(&url)
            .bearer_auth(sim.token())
            .send()
            .await
            .expect("send")
            .error_for_status()
            .expect("status")
            .bytes()
            .await
            .expect("body")
    };
    get().await;
    sim.faults().set_latency(LATENCY);
    let started = Instant::now();
    for _ in 0..N {
        get().await;
    }
    let each = started.elapsed() / N;
    println!(
        "calibration: one GET by a bare reqwest client at {} ms injected latency takes {:.2} ms ({:.2} ms beyond the latency)",
        LATENCY.as_millis(),
        each.as_secs_f64() * 1e3,
        (each.saturating_sub(LATENCY)).as_secs_f64() * 1e3
    );
    sim.shutdown().await;
}

fn load(rt: &tokio::runtime::Runtime, runtime: &Runtime, system: System) -> AdapterComponent {
    let bytes =
        adapter_bytes(system.name()).expect("run `cargo xtask bench` to build the adapters");
    rt.block_on(runtime.load(&bytes)).expect("load")
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    one_shot(&rt, &runtime);

    let component = load(&rt, &runtime, System::Maximo);
    let mut group = c.benchmark_group("bulk");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.throughput(criterion::Throughput::Elements(SAMPLED as u64));
    for path in [Path::Memory, Path::Durable] {
        let name = format!("maximo_{SAMPLED}_{}", path.name().replace('-', "_"));
        group.bench_function(name, |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let component = &component;
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        // A fresh simulator per iteration (not timed): the simulator's cost
                        // per created record grows with the records it holds.
                        let target = Target::start(System::Maximo, component, None).await;
                        target.sim.faults().set_latency(LATENCY);
                        let inputs = inputs(&next_tag(), SAMPLED);
                        let scratch = Scratch::new();
                        let measured = run_path(&target, path, &inputs, &scratch).await;
                        assert!(
                            measured
                                .outcomes
                                .iter()
                                .all(|o| matches!(o, RecordOutcome::Created { .. })),
                            "every record created"
                        );
                        total += measured.elapsed;
                        target.sim.shutdown().await;
                    }
                    total
                }
            })
        });
    }
    group.finish();
}

criterion_group!(bulk_group, benches);

fn main() {
    bulk_group();
    Criterion::default().configure_from_args().final_summary();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let (_, _, ideal) = ideal(System::Maximo, SAMPLED as u64, 50, LATENCY, None);
    for path in [Path::Memory, Path::Durable] {
        let name = format!("maximo_{SAMPLED}_{}", path.name().replace('-', "_"));
        if let Some(ns) = estimate_ns(&target, "bulk", &name) {
            println!(
                "bulk {name}: median {:.0} ms for an ideal of {:.0} ms ({:.2}x)",
                ns / 1e6,
                ideal.as_secs_f64() * 1e3,
                ns / 1e9 / ideal.as_secs_f64()
            );
        }
    }
}
