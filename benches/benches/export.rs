//! Export benchmarks against the MaintainX simulator on loopback:
//! - `export/plantwire`: every work order through the wasm adapter, the host's egress and the
//!   streaming [`Export`], written as JSON Lines;
//! - `export/reqwest_loop`: the same records fetched by a hand-written reqwest + serde_json
//!   loop over the same API, written as JSON Lines too (no mapping, no sandbox: the floor).
//!
//! The ratio of the two is printed at the end. Before them, one export of a large listing
//! (1,000,000 records unless `PLANTWIRE_BENCH_EXPORT_RECORDS` says otherwise) reports its
//! throughput and the peak growth of the heap while it ran, measured by a counting allocator:
//! memory must stay bounded by a page, whatever the total.

#![allow(
    clippy::expect_used,
    reason = "a benchmark that cannot set up should stop loudly"
)]
#![allow(
    unsafe_code,
    reason = "the counting allocator implements GlobalAlloc, an unsafe trait"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use plantwire::paging::{Export, PagingConfig, Query, write_jsonl};
use plantwire::{Connection, Credential, Egress, EgressConfig, Runtime, RuntimeConfig};
use plantwire_benches::{adapter_bytes, estimate_ns};
use plantwire_simulators::maintainx::{Config as SimConfig, MaintainxSim};

/// The system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counters are only
// bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which is passed on as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Records per page on both paths (MaintainX's maximum `limit`).
const PAGE: u32 = 200;
/// Records in the throughput comparison.
const COMPARED: usize = 20_000;

fn connection(rt: &tokio::runtime::Runtime, runtime: &Runtime, sim: &MaintainxSim) -> Connection {
    let bytes = adapter_bytes("maintainx").expect("run `cargo xtask bench` to build the adapters");
    let component = rt.block_on(runtime.load(&bytes)).expect("load");
    let mut config = EgressConfig::new(url::Url::parse(&sim.base_url()).expect("url"));
    config.allow_private_network = true;
    // The bench measures the host against a raw loop: the default local request budget
    // (100 requests a second) would measure the budget instead.
    config.governor.requests_per_window = None;
    let egress = Egress::new(
        config,
        component.info().auth.clone(),
        Credential::Token(sim.token().to_owned().into()),
    )
    .expect("egress");
    Connection::new("bench", Arc::new(component.bind("bench", Arc::new(egress))))
}

async fn plantwire_export(conn: &Connection) -> u64 {
    let query = Query {
        page_size: Some(PAGE),
        ..Query::default()
    };
    let mut export =
        Export::new(conn, "work-order", query, PagingConfig::default()).expect("export");
    let mut sink = std::io::sink();
    write_jsonl(&mut export, &mut sink, |_| {})
        .await
        .expect("export")
        .records
}

/// The floor: the API paged by hand, each item written as one JSON line. It asks for what
/// the adapter asks for (`show_upcoming`, the asset and assignees expanded), so both read the
/// same bytes.
async fn reqwest_loop(client: &reqwest::Client, sim: &MaintainxSim) -> u64 {
    let mut cursor: Option<String> = None;
    let mut records = 0u64;
    let mut sink = std::io::sink();
    let mut line = Vec::with_capacity(1024);
    loop {
        let mut url = format!(
            "{}/workorders?limit={PAGE}&show_upcoming=true&expand=asset&expand=assignees",
            sim.base_url()
        );
        if let Some(c) = &cursor {
            url.push_str("&cursor=");
            url.push_str(c);
        }
        let body = client
            .get(&url)
            .bearer_auth(sim.token())
            .send()
            .await
            .expect("send")
            .error_for_status()
            .expect("status")
            .bytes()
            .await
            .expect("body");
        let page: serde_json::Value = serde_json::from_slice(&body).expect("json");
        for item in page["workOrders"].as_array().expect("workOrders") {
            line.clear();
            serde_json::to_writer(&mut line, item).expect("serialize");
            line.push(b'\n');
            sink.write_all(&line).expect("write");
            records += 1;
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return records,
        }
    }
}

fn large_export(rt: &tokio::runtime::Runtime, runtime: &Runtime) {
    let total: usize = std::env::var("PLANTWIRE_BENCH_EXPORT_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let sim = rt
        .block_on(MaintainxSim::start(SimConfig {
            work_orders: total,
            ..SimConfig::default()
        }))
        .expect("simulator");
    let conn = connection(rt, runtime, &sim);
    // Warm the compile cache and the connection before measuring.
    rt.block_on(async {
        conn.list("work-order", plantwire::ListOptions::default())
            .await
            .expect("warm-up")
    });
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let started = Instant::now();
    let exported = rt.block_on(plantwire_export(&conn));
    let elapsed = started.elapsed();
    let growth = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    assert_eq!(exported as usize, total, "every record exported once");
    println!(
        "export of {exported} work orders: {:.1} s, {:.0} records/s, peak heap growth {:.1} MiB",
        elapsed.as_secs_f64(),
        exported as f64 / elapsed.as_secs_f64(),
        growth as f64 / (1024.0 * 1024.0)
    );
    rt.block_on(sim.shutdown());
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    large_export(&rt, &runtime);

    let sim = rt
        .block_on(MaintainxSim::start(SimConfig {
            work_orders: COMPARED,
            ..SimConfig::default()
        }))
        .expect("simulator");
    let conn = connection(&rt, &runtime, &sim);
    let client = reqwest::Client::new();
    let mut group = c.benchmark_group("export");
    group.sample_size(10);
    group.throughput(criterion::Throughput::Elements(COMPARED as u64));
    group.bench_function("plantwire", |b| {
        b.to_async(&rt).iter(|| async {
            assert_eq!(plantwire_export(&conn).await, COMPARED as u64);
        })
    });
    group.bench_function("reqwest_loop", |b| {
        b.to_async(&rt).iter(|| async {
            assert_eq!(reqwest_loop(&client, &sim).await, COMPARED as u64);
        })
    });
    group.finish();
}

criterion_group!(export, benches);

fn main() {
    export();
    Criterion::default().configure_from_args().final_summary();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    if let (Some(ours), Some(floor)) = (
        estimate_ns(&target, "export", "plantwire"),
        estimate_ns(&target, "export", "reqwest_loop"),
    ) {
        println!(
            "export of {COMPARED} work orders: plantwire {:.0} ms, hand-written reqwest loop {:.0} ms; plantwire runs at {:.0}% of the loop's throughput ({:.2}x its time)",
            ours / 1e6,
            floor / 1e6,
            100.0 * floor / ours,
            ours / floor
        );
    }
}
