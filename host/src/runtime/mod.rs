//! The sandbox: wasmtime engine, compiled-component cache, and one fresh store per call.
//!
//! An adapter component is compiled once (and cached on disk by its hash and the engine's
//! compatibility hash), checked for imports beyond the contract, pre-instantiated once, and
//! asked to `describe()` itself. Every later call gets a new `Store` with a memory ceiling, a
//! wall-clock deadline (enforced by epoch interruption inside wasm and by a timer around the
//! whole call, host imports included) and a cap on the bytes it may return. A hostile or
//! broken adapter ends its own call with a [`SandboxError`]; it never takes the host down.
//!
//! This module must never hand credentials to a guest: requests go out through the
//! [`Upstream`](crate::egress::Upstream) bound to the call.

mod bindings;
mod cache;
mod imports;
mod limits;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use plantwire_sdk as sdk;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{Component, Linker, types::ComponentItem};
use wasmtime::{
    Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline,
};

pub use imports::CallLabels;
pub use limits::RuntimeConfig;

use crate::adapter::{Adapter, CallError};
use crate::egress::Upstream;
use crate::validate;
use bindings::{PlantwireAdapter, PlantwireAdapterPre};
use imports::CallState;

/// The contract versions this host implements: `plantwire:adapter@0.1.x`.
pub const CONTRACT_PACKAGE: &str = "plantwire:adapter";
pub const CONTRACT_VERSION: &str = sdk::contract::CONTRACT_VERSION;

/// How often the epoch advances; the granularity of the in-wasm deadline.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// A call that the sandbox ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The call ran past its wall-clock deadline.
    #[error("the adapter call exceeded its deadline of {0:?}")]
    Deadline(Duration),
    /// The adapter tried to grow its memory past the ceiling.
    #[error("the adapter exceeded its memory limit of {0} bytes")]
    MemoryLimit(usize),
    /// The adapter returned more bytes than a call may.
    #[error("the adapter returned {size} bytes, more than the limit of {limit}")]
    ResultTooLarge { size: usize, limit: usize },
    /// The adapter overflowed its stack.
    #[error("the adapter overflowed its stack")]
    StackOverflow,
    /// The adapter trapped (a panic, an abort, an out-of-bounds access).
    #[error("the adapter trapped: {0}")]
    Trap(String),
    /// No instance slot was free or instantiation failed.
    #[error("the adapter could not be instantiated: {0}")]
    Instantiate(String),
    /// The connection (or the adapter) already ran its quota of concurrent calls, and none
    /// finished within the configured wait.
    #[error(
        "the {scope} already runs {limit} concurrent calls (its share of the instance pool); this call waited {waited:?} for one to finish"
    )]
    Busy {
        /// `connection `<id>`` or `adapter `<system>``.
        scope: String,
        /// The quota.
        limit: u32,
        /// How long the call waited for a slot.
        waited: Duration,
    },
}

/// Why an adapter component was not loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The bytes are not a WebAssembly component (a core module, or garbage).
    #[error("not a valid WebAssembly component: {0}")]
    NotAComponent(String),
    /// The component imports something the contract does not provide.
    #[error("the component imports `{0}`, which is not part of the adapter contract")]
    ForbiddenImport(String),
    /// The component targets a contract version this host does not implement.
    #[error("the component targets `{found}`; this host implements {CONTRACT_PACKAGE}@0.1.x")]
    UnsupportedVersion { found: String },
    /// The component does not export the adapter interface.
    #[error("the component does not export `{CONTRACT_PACKAGE}/adapter@0.1.x`")]
    MissingExport,
    /// Linking against the host's imports failed.
    #[error("the component cannot be linked: {0}")]
    Link(String),
    /// `describe()` failed.
    #[error("describe() failed: {0}")]
    Describe(#[source] SandboxError),
    /// `describe()` returned a declaration larger than the host accepts.
    #[error("describe() returned {size} bytes, more than the limit of {limit}")]
    DescribeTooLarge { size: usize, limit: usize },
    /// `describe()` returned an invalid declaration.
    #[error("describe() is invalid:\n  - {}", .0.join("\n  - "))]
    InvalidDescription(Vec<String>),
    /// The compiled-component cache could not be used.
    #[error("compiled-component cache: {0}")]
    Cache(String),
}

/// The engine and linker shared by every adapter.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

struct RuntimeInner {
    engine: Engine,
    linker: Linker<CallState>,
    config: RuntimeConfig,
    cache: Option<cache::ComponentCache>,
    ticker_stop: Arc<AtomicBool>,
    /// Concurrency quotas by connection id and by adapter digest, shared by every binding
    /// of the same connection (or component); entries nobody holds are pruned.
    quotas: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl RuntimeInner {
    /// The quota semaphore under `name`, created with `limit` permits when missing.
    fn quota(&self, name: String, limit: Option<u32>) -> Option<Arc<Semaphore>> {
        let limit = limit?;
        let mut quotas = self.quotas.lock().unwrap_or_else(PoisonError::into_inner);
        quotas.retain(|_, s| Arc::strong_count(s) > 1);
        let semaphore = quotas
            .entry(name)
            .or_insert_with(|| Arc::new(Semaphore::new(limit as usize)));
        Some(semaphore.clone())
    }
}

/// One quota a call must fit in: its semaphore, its limit and how to name it in an error.
#[derive(Clone)]
struct Quota {
    semaphore: Arc<Semaphore>,
    limit: u32,
    scope: String,
}

impl Quota {
    async fn acquire(&self, wait: Duration) -> Result<OwnedSemaphorePermit, SandboxError> {
        let started = Instant::now();
        let busy = || SandboxError::Busy {
            scope: self.scope.clone(),
            limit: self.limit,
            waited: started.elapsed(),
        };
        match tokio::time::timeout(wait, self.semaphore.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => {
                tracing::warn!(
                    scope = %self.scope,
                    limit = self.limit,
                    "call refused: the concurrency quota stayed full for {wait:?}"
                );
                Err(busy())
            }
        }
    }
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the adapter runtime: {0}")]
pub struct RuntimeStartError(String);

impl Runtime {
    /// Builds the engine (component model, pooling allocator, epoch interruption) and the
    /// linker (the contract's imports plus WASI with an empty context).
    pub fn new(config: RuntimeConfig) -> Result<Runtime, RuntimeStartError> {
        let err = |e: wasmtime::Error| RuntimeStartError(format!("{e:#}"));
        let mut pool = PoolingAllocationConfig::default();
        let slots = config.max_instances.max(1);
        pool.total_component_instances(slots)
            .total_core_instances(slots.saturating_mul(8))
            .total_memories(slots.saturating_mul(2))
            .total_tables(slots.saturating_mul(4))
            .total_stacks(slots)
            .max_memory_size(config.memory_limit);
        let mut wcfg = wasmtime::Config::new();
        wcfg.wasm_component_model(true)
            .epoch_interruption(true)
            .max_wasm_stack(1 << 20)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wcfg).map_err(err)?;

        let mut linker = Linker::<CallState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(err)?;
        PlantwireAdapter::add_to_linker::<_, wasmtime::component::HasSelf<_>>(
            &mut linker,
            |s: &mut CallState| s,
        )
        .map_err(err)?;

        let cache = match &config.cache_dir {
            Some(dir) => Some(
                cache::ComponentCache::open(dir, &engine)
                    .map_err(|e| RuntimeStartError(e.to_string()))?,
            ),
            None => None,
        };

        let ticker_stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = ticker_stop.clone();
            std::thread::Builder::new()
                .name("plantwire-epoch".to_owned())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| RuntimeStartError(format!("epoch thread: {e}")))?;
        }

        Ok(Runtime {
            inner: Arc::new(RuntimeInner {
                engine,
                linker,
                config,
                cache,
                ticker_stop,
                quotas: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The sandbox configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// Compiles (or loads from the cache), checks, pre-instantiates and describes a component.
    pub async fn load(&self, bytes: &[u8]) -> Result<AdapterComponent, LoadError> {
        let digest = hex::encode(Sha256::digest(bytes));
        let component = self.compile(bytes, &digest)?;
        let (imports, contract_version) = check_contract(&self.inner.engine, &component)?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let pre = PlantwireAdapterPre::new(pre).map_err(|e| LoadError::Link(format!("{e:#}")))?;
        let config = &self.inner.config;
        let adapter_quota = config.quota(config.max_calls_per_adapter);
        let adapter_quota = self
            .inner
            .quota(format!("adapter:{digest}"), adapter_quota)
            .zip(adapter_quota)
            .map(|(semaphore, limit)| Quota {
                semaphore,
                limit,
                scope: "adapter".to_owned(),
            });
        let mut loaded = AdapterComponent {
            runtime: self.inner.clone(),
            pre,
            info: Arc::new(placeholder_info()),
            digest,
            imports,
            contract_version,
            adapter_quota,
        };
        let info = loaded.probe().await.map_err(|e| match e {
            SandboxError::Instantiate(why) => LoadError::Link(why),
            other => LoadError::Describe(other),
        })?;
        let size = validate::declaration_size(&info);
        if size > config.max_describe_bytes {
            return Err(LoadError::DescribeTooLarge {
                size,
                limit: config.max_describe_bytes,
            });
        }
        if let Some(quota) = &mut loaded.adapter_quota {
            quota.scope = format!("adapter `{}`", info.system);
        }
        let problems = validate::adapter_info(&info);
        if !problems.is_empty() {
            return Err(LoadError::InvalidDescription(problems));
        }
        loaded.info = Arc::new(info);
        Ok(loaded)
    }

    fn compile(&self, bytes: &[u8], digest: &str) -> Result<Component, LoadError> {
        if let Some(cache) = &self.inner.cache
            && let Some(component) = cache.get(&self.inner.engine, digest)?
        {
            return Ok(component);
        }
        let component = Component::new(&self.inner.engine, bytes)
            .map_err(|e| LoadError::NotAComponent(format!("{e:#}")))?;
        if let Some(cache) = &self.inner.cache {
            cache.put(digest, &component)?;
        }
        Ok(component)
    }
}

/// WASI interfaces a Rust guest imports through `std`; linked with an empty context.
const ALLOWED_WASI: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
];

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg/iface`, `1.2.3`).
fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (name, None),
    }
}

fn contract_version_ok(version: Option<&str>) -> bool {
    // 0.x semver: 0.2.z is compatible with this host's 0.2.0; 0.1 is not.
    version.is_some_and(|v| v.starts_with("0.2.") && v[4..].chars().all(|c| c.is_ascii_digit()))
}

/// Checks a component's imports and exports against the contract; returns its import names
/// and the contract version it exports (`0.2.0`).
fn check_contract(
    engine: &Engine,
    component: &Component,
) -> Result<(Vec<String>, String), LoadError> {
    let ty = component.component_type();
    let mut names = Vec::new();
    for (name, _) in ty.imports(engine) {
        let (base, version) = split_version(name);
        if let Some(iface) = base.strip_prefix("plantwire:adapter/") {
            if !contract_version_ok(version) {
                return Err(LoadError::UnsupportedVersion {
                    found: name.to_owned(),
                });
            }
            if !matches!(iface, "types" | "http" | "log") {
                return Err(LoadError::ForbiddenImport(name.to_owned()));
            }
        } else if !ALLOWED_WASI.contains(&base) || !version.is_some_and(|v| v.starts_with("0.2.")) {
            return Err(LoadError::ForbiddenImport(name.to_owned()));
        }
        names.push(name.to_owned());
    }
    let mut exported = None;
    for (name, item) in ty.exports(engine) {
        let (base, version) = split_version(name);
        if base == "plantwire:adapter/adapter"
            && matches!(item.ty, ComponentItem::ComponentInstance(_))
        {
            if !contract_version_ok(version) {
                return Err(LoadError::UnsupportedVersion {
                    found: name.to_owned(),
                });
            }
            exported = version.map(str::to_owned);
        }
    }
    let Some(version) = exported else {
        return Err(LoadError::MissingExport);
    };
    Ok((names, version))
}

fn placeholder_info() -> sdk::AdapterInfo {
    sdk::AdapterInfo {
        system: String::new(),
        display_name: String::new(),
        adapter_version: String::new(),
        api_version: String::new(),
        default_base_url: None,
        auth: sdk::AuthScheme::None,
        extra_origins: Vec::new(),
        entities: Vec::new(),
    }
}

/// A compiled, checked, pre-instantiated adapter and its declaration. Cheap to clone; shared
/// by every connection of its system.
#[derive(Clone)]
pub struct AdapterComponent {
    runtime: Arc<RuntimeInner>,
    pre: PlantwireAdapterPre<CallState>,
    info: Arc<sdk::AdapterInfo>,
    digest: String,
    imports: Vec<String>,
    contract_version: String,
    /// The share of the instance pool all connections of this component may use at once.
    adapter_quota: Option<Quota>,
}

impl std::fmt::Debug for AdapterComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdapterComponent")
            .field("system", &self.info.system)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

type GuestFuture<'a, R> = std::pin::Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

impl AdapterComponent {
    /// What the adapter declared.
    pub fn info(&self) -> &sdk::AdapterInfo {
        &self.info
    }

    /// SHA-256 of the component bytes, hex.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The contract version the component was built against (`0.2.0`).
    pub fn contract_version(&self) -> &str {
        &self.contract_version
    }

    /// The component's import names (contract interfaces and the WASI it links).
    pub fn imports(&self) -> &[String] {
        &self.imports
    }

    /// Instantiates the adapter in a fresh store and asks it to describe itself: a health
    /// check that runs the whole call path without touching a connection.
    pub async fn probe(&self) -> Result<sdk::AdapterInfo, SandboxError> {
        let labels = CallLabels {
            adapter: self.info.system.clone(),
            op: "describe",
            ..CallLabels::default()
        };
        let info = self
            .call(None, None, labels, |guest, store| {
                Box::pin(async move { guest.call_describe(store).await })
            })
            .await?;
        Ok(bindings::info_from_wit(info))
    }

    /// Binds the adapter to one connection's upstream: the [`Adapter`] callers use.
    ///
    /// Every binding of the same connection id shares one concurrency quota
    /// ([`RuntimeConfig::max_calls_per_connection`]).
    pub fn bind(&self, connection: &str, upstream: Arc<dyn Upstream>) -> WasmAdapter {
        let config = &self.runtime.config;
        let limit = config.quota(config.max_calls_per_connection);
        let quota = self
            .runtime
            .quota(format!("connection:{connection}"), limit)
            .zip(limit)
            .map(|(semaphore, limit)| Quota {
                semaphore,
                limit,
                scope: format!("connection `{connection}`"),
            });
        WasmAdapter {
            component: self.clone(),
            connection: connection.to_owned(),
            upstream,
            quota,
        }
    }

    /// Runs one export in a fresh store under the call's limits.
    ///
    /// The call first takes a slot of its connection's quota (when bound) and of its
    /// adapter's, waiting at most [`RuntimeConfig::quota_wait`] for each; the slots are held
    /// until the call ends. The deadline starts once both are held.
    async fn call<R, F>(
        &self,
        upstream: Option<Arc<dyn Upstream>>,
        connection_quota: Option<&Quota>,
        labels: CallLabels,
        f: F,
    ) -> Result<R, SandboxError>
    where
        F: for<'a> FnOnce(
                &'a bindings::guest::Guest,
                &'a mut Store<CallState>,
            ) -> GuestFuture<'a, R>
            + Send,
        R: Send,
    {
        let config = &self.runtime.config;
        // The connection's slot first: a flooding connection then queues on its own quota
        // and never holds adapter slots while it waits.
        let _connection_slot = match connection_quota {
            Some(quota) => Some(quota.acquire(config.quota_wait).await?),
            None => None,
        };
        let _adapter_slot = match &self.adapter_quota {
            Some(quota) => Some(quota.acquire(config.quota_wait).await?),
            None => None,
        };
        let timeout = config.call_timeout;
        let deadline = Instant::now() + timeout;
        let mut store = Store::new(
            &self.runtime.engine,
            CallState::new(config, upstream, labels, deadline),
        );
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut ctx| {
            if Instant::now() >= ctx.data().deadline {
                ctx.data_mut().timed_out = true;
                Ok(UpdateDeadline::Interrupt)
            } else {
                // tokio's `yield_now` lets the scheduler poll I/O and timers before this call
                // resumes, so a guest that computes for long never starves other tasks on
                // its worker.
                Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::task::yield_now()),
                ))
            }
        });

        let pre = self.pre.clone();
        let run = async {
            // Instantiation also type-checks the exports against the contract.
            let instance = match pre.instantiate_async(&mut store).await {
                Ok(instance) => instance,
                Err(e) => return Err((true, e)),
            };
            let guest = instance.plantwire_adapter_adapter();
            f(guest, &mut store).await.map_err(|e| (false, e))
        };
        let outcome = tokio::time::timeout(timeout, run).await;
        let data = store.data();
        match outcome {
            Err(_) => Err(SandboxError::Deadline(timeout)),
            Ok(Ok(value)) => Ok(value),
            Ok(Err((true, e))) if e.downcast_ref::<wasmtime::Trap>().is_none() => {
                Err(SandboxError::Instantiate(format!("{e:#}")))
            }
            Ok(Err((_, e))) => Err(classify_trap(&e, data, config)),
        }
    }
}

fn classify_trap(e: &wasmtime::Error, data: &CallState, config: &RuntimeConfig) -> SandboxError {
    if data.limiter.memory_exceeded {
        return SandboxError::MemoryLimit(config.memory_limit);
    }
    if data.timed_out {
        return SandboxError::Deadline(config.call_timeout);
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::StackOverflow) => SandboxError::StackOverflow,
        Some(wasmtime::Trap::Interrupt) => SandboxError::Deadline(config.call_timeout),
        Some(wasmtime::Trap::AllocationTooLarge) => SandboxError::MemoryLimit(config.memory_limit),
        Some(trap) => SandboxError::Trap(trap.to_string()),
        None => SandboxError::Trap(format!("{e:#}")),
    }
}

/// Sums the bytes of returned strings and refuses the result past the cap.
fn check_size(size: usize, config: &RuntimeConfig) -> Result<(), SandboxError> {
    if size > config.max_return_bytes {
        return Err(SandboxError::ResultTooLarge {
            size,
            limit: config.max_return_bytes,
        });
    }
    Ok(())
}

fn error_size(e: &bindings::t::AdapterError) -> usize {
    use bindings::t::AdapterError as E;
    match e {
        E::Unsupported(s)
        | E::NotFound(s)
        | E::Conflict(s)
        | E::Unauthorized(s)
        | E::Forbidden(s)
        | E::Transient(s) => s.len(),
        E::Invalid(list) => list.iter().map(|f| f.field.len() + f.message.len()).sum(),
        E::RateLimited(_) => 8,
        E::Upstream(u) => u.message.len() + u.code.as_ref().map_or(0, String::len),
    }
}

/// An adapter component bound to one connection.
#[derive(Clone)]
pub struct WasmAdapter {
    component: AdapterComponent,
    connection: String,
    upstream: Arc<dyn Upstream>,
    /// The connection's share of the instance pool, shared by every binding of its id.
    quota: Option<Quota>,
}

impl std::fmt::Debug for WasmAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmAdapter")
            .field("system", &self.component.info.system)
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

impl WasmAdapter {
    fn labels(&self, entity: &str, op: &'static str) -> CallLabels {
        CallLabels {
            adapter: self.component.info.system.clone(),
            connection: self.connection.clone(),
            entity: entity.to_owned(),
            op,
        }
    }

    async fn run<R, F>(&self, entity: &str, op: &'static str, f: F) -> Result<R, CallError>
    where
        F: for<'a> FnOnce(
                &'a bindings::guest::Guest,
                &'a mut Store<CallState>,
            ) -> GuestFuture<'a, Result<R, bindings::t::AdapterError>>
            + Send,
        R: Send,
    {
        let result = self
            .component
            .call(
                Some(self.upstream.clone()),
                self.quota.as_ref(),
                self.labels(entity, op),
                f,
            )
            .await?;
        result.map_err(
            |e| match check_size(error_size(&e), &self.component.runtime.config) {
                Ok(()) => CallError::Adapter(bindings::error_from_wit(e)),
                Err(too_large) => CallError::Sandbox(too_large),
            },
        )
    }

    fn limit(&self) -> &RuntimeConfig {
        &self.component.runtime.config
    }
}

#[async_trait]
impl Adapter for WasmAdapter {
    fn info(&self) -> &sdk::AdapterInfo {
        &self.component.info
    }

    async fn list(&self, req: sdk::ListRequest) -> Result<sdk::Page, CallError> {
        let entity = req.entity.clone();
        let req = bindings::guest::ListRequest {
            entity: req.entity,
            cursor: req.cursor,
            page_size: req.page_size,
            filters: req
                .filters
                .into_iter()
                .map(|f| bindings::guest::Filter {
                    field: f.field,
                    op: bindings::op_to_wit(f.op),
                    values: f.values,
                })
                .collect(),
            sort: req.sort,
            fields: req.fields,
            include_raw: req.include_raw,
        };
        let page = self
            .run(&entity, "list", move |g, s| {
                Box::pin(async move { g.call_list(s, &req).await })
            })
            .await?;
        let size = page.records.iter().map(String::len).sum::<usize>()
            + page.next_cursor.as_ref().map_or(0, String::len);
        check_size(size, self.limit())?;
        Ok(sdk::Page {
            records: page.records,
            next_cursor: page.next_cursor,
            total: page.total,
        })
    }

    async fn get(&self, req: sdk::GetRequest) -> Result<String, CallError> {
        let entity = req.entity.clone();
        let req = bindings::guest::GetRequest {
            entity: req.entity,
            key: req.key,
            include_raw: req.include_raw,
        };
        let record = self
            .run(&entity, "get", move |g, s| {
                Box::pin(async move { g.call_get(s, &req).await })
            })
            .await?;
        check_size(record.len(), self.limit())?;
        Ok(record)
    }

    async fn create(
        &self,
        entity: &str,
        records: Vec<String>,
    ) -> Result<Vec<sdk::WriteResult>, CallError> {
        let e = entity.to_owned();
        let results = self
            .run(entity, "create", move |g, s| {
                Box::pin(async move { g.call_create(s, &e, &records).await })
            })
            .await?;
        let size = results
            .iter()
            .map(|r| match r {
                Ok(s) => s.len(),
                Err(e) => error_size(e),
            })
            .sum();
        check_size(size, self.limit())?;
        Ok(results
            .into_iter()
            .map(|r| r.map_err(bindings::error_from_wit))
            .collect())
    }

    async fn update(
        &self,
        entity: &str,
        key: &str,
        patch: String,
        concurrency_token: Option<String>,
    ) -> Result<String, CallError> {
        let (e, k) = (entity.to_owned(), key.to_owned());
        let record = self
            .run(entity, "update", move |g, s| {
                Box::pin(async move {
                    g.call_update(s, &e, &k, &patch, concurrency_token.as_deref())
                        .await
                })
            })
            .await?;
        check_size(record.len(), self.limit())?;
        Ok(record)
    }

    async fn delete(&self, entity: &str, key: &str) -> Result<(), CallError> {
        let (e, k) = (entity.to_owned(), key.to_owned());
        self.run(entity, "delete", move |g, s| {
            Box::pin(async move { g.call_delete(s, &e, &k).await })
        })
        .await
    }

    async fn action(
        &self,
        entity: &str,
        key: &str,
        name: &str,
        input: String,
    ) -> Result<String, CallError> {
        let (e, k, n) = (entity.to_owned(), key.to_owned(), name.to_owned());
        let record = self
            .run(entity, "action", move |g, s| {
                Box::pin(async move { g.call_action(s, &e, &k, &n, &input).await })
            })
            .await?;
        check_size(record.len(), self.limit())?;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_versions() {
        assert!(contract_version_ok(Some("0.2.0")));
        assert!(contract_version_ok(Some("0.2.7")));
        assert!(!contract_version_ok(Some("0.1.0")));
        assert!(!contract_version_ok(Some("0.3.0")));
        assert!(!contract_version_ok(Some("1.2.0")));
        assert!(!contract_version_ok(Some("0.2.x")));
        assert!(!contract_version_ok(None));
    }
}
