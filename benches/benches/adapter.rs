//! Adapter benchmarks:
//! - `instantiate/describe`: a fresh store and instance from `InstancePre` plus `describe()`;
//! - `instantiate/get`: a fresh store and instance plus one small call;
//! - `mapping/wasm` vs `mapping/native`: one page of 100 MaintainX work orders mapped to the
//!   unified model through the component and through the same crate compiled natively, over a
//!   canned upstream. The ratio of the two is printed at the end.

#![allow(
    clippy::expect_used,
    reason = "a benchmark that cannot set up should stop loudly"
)]

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group};
use plantwire::sdk::{Adapter as _, Http, HttpError, ListRequest, Request, Response};
use plantwire::{Adapter as _, Runtime, RuntimeConfig};
use plantwire_adapter_maintainx::{MaintainX, fixtures};
use plantwire_benches::{Canned, adapter_bytes, estimate_ns};

fn list_request() -> ListRequest {
    ListRequest {
        entity: "work-order".to_owned(),
        cursor: None,
        page_size: 100,
        ..ListRequest::default()
    }
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let bytes = adapter_bytes("maintainx").expect("run `cargo xtask bench` to build the adapters");
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let component = rt.block_on(runtime.load(&bytes)).expect("load");
    let page = fixtures::sample_work_orders_page(100);
    let wasm = component.bind("bench", Arc::new(Canned::json(page.clone())));

    let mut group = c.benchmark_group("instantiate");
    group.bench_function("describe", |b| {
        b.to_async(&rt)
            .iter(|| async { component.probe().await.expect("describe") })
    });
    let one = Arc::new(Canned::json(
        br#"{"workOrder":{"id":1,"title":"x"}}"#.to_vec(),
    ));
    let small = component.bind("bench", one);
    group.bench_function("get", |b| {
        b.to_async(&rt).iter(|| async {
            small
                .get(plantwire::sdk::GetRequest {
                    entity: "work-order".into(),
                    key: "1".into(),
                    include_raw: false,
                })
                .await
                .expect("get")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("mapping");
    group.bench_function("wasm", |b| {
        b.to_async(&rt)
            .iter(|| async { wasm.list(list_request()).await.expect("list") })
    });
    let canned = page.clone();
    let http = move |_req: Request| -> Result<Response, HttpError> {
        Ok(Response {
            status: 200,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: canned.clone(),
        })
    };
    group.bench_function("native", |b| {
        b.iter(|| MaintainX::list(&http as &dyn Http, list_request()).expect("list"))
    });
    group.finish();
}

criterion_group!(adapter, benches);

fn main() {
    adapter();
    Criterion::default().configure_from_args().final_summary();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    if let (Some(wasm), Some(native)) = (
        estimate_ns(&target, "mapping", "wasm"),
        estimate_ns(&target, "mapping", "native"),
    ) {
        println!(
            "mapping a page of 100 work orders: wasm {:.1} µs, native {:.1} µs, ratio {:.2}x",
            wasm / 1000.0,
            native / 1000.0,
            wasm / native
        );
    }
    if let Some(describe) = estimate_ns(&target, "instantiate", "describe") {
        println!(
            "instantiate + describe: {:.1} µs (median)",
            describe / 1000.0
        );
    }
    if let Some(get) = estimate_ns(&target, "instantiate", "get") {
        println!(
            "instantiate + one get call: {:.1} µs (median)",
            get / 1000.0
        );
    }
}
