//! The wasm-free face of an adapter: what the CLI, the service and tests call.
//!
//! [`WasmAdapter`](crate::runtime::WasmAdapter) is the production implementation;
//! [`NativeAdapter`] runs an adapter crate compiled natively behind the same trait (fast unit
//! tests, and the native-vs-wasm benchmark).

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use plantwire_sdk as sdk;

use crate::egress::Upstream;
use crate::runtime::SandboxError;

/// Why a call did not produce a result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The host refused the call before the adapter ran (unsupported operation, invalid input).
    #[error("refused: {0}")]
    Refused(sdk::AdapterError),
    /// The adapter (or the system behind it) reported a typed error.
    #[error(transparent)]
    Adapter(sdk::AdapterError),
    /// The sandbox ended the call.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The adapter returned output that breaks the contract (e.g. a record that is not a JSON
    /// object).
    #[error("the adapter returned invalid output: {0}")]
    InvalidOutput(String),
}

impl CallError {
    /// The typed error, when the call ended with one (refused or reported by the adapter).
    pub fn adapter_error(&self) -> Option<&sdk::AdapterError> {
        match self {
            CallError::Refused(e) | CallError::Adapter(e) => Some(e),
            _ => None,
        }
    }
}

/// One system's operations, bound to one connection. Records are unified JSON text.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// What the adapter declared in `describe()` (validated at load).
    fn info(&self) -> &sdk::AdapterInfo;

    async fn list(&self, req: sdk::ListRequest) -> Result<sdk::Page, CallError>;

    async fn get(&self, req: sdk::GetRequest) -> Result<String, CallError>;

    async fn create(
        &self,
        entity: &str,
        records: Vec<String>,
    ) -> Result<Vec<sdk::WriteResult>, CallError>;

    async fn update(
        &self,
        entity: &str,
        key: &str,
        patch: String,
        concurrency_token: Option<String>,
    ) -> Result<String, CallError>;

    async fn delete(&self, entity: &str, key: &str) -> Result<(), CallError>;

    async fn action(
        &self,
        entity: &str,
        key: &str,
        name: &str,
        input: String,
    ) -> Result<String, CallError>;
}

/// An adapter crate compiled into the host, behind the same trait as a component. Its
/// blocking mapping code runs on tokio's blocking pool; its requests go through the same
/// [`Upstream`].
pub struct NativeAdapter<A> {
    info: sdk::AdapterInfo,
    upstream: Arc<dyn Upstream>,
    _adapter: PhantomData<fn() -> A>,
}

impl<A> std::fmt::Debug for NativeAdapter<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeAdapter")
            .field("system", &self.info.system)
            .finish_non_exhaustive()
    }
}

impl<A: sdk::Adapter> NativeAdapter<A> {
    /// Binds the adapter to a connection's upstream.
    pub fn new(upstream: Arc<dyn Upstream>) -> Self {
        NativeAdapter {
            info: A::describe(),
            upstream,
            _adapter: PhantomData,
        }
    }
}

/// Bridges the adapter's blocking `Http` to the async upstream from a blocking thread.
struct BlockingHttp {
    upstream: Arc<dyn Upstream>,
    handle: tokio::runtime::Handle,
}

impl sdk::Http for BlockingHttp {
    fn send(&self, req: sdk::Request) -> Result<sdk::Response, sdk::HttpError> {
        self.handle.block_on(self.upstream.send(req))
    }
}

impl<A: sdk::Adapter + 'static> NativeAdapter<A> {
    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn sdk::Http) -> Result<R, sdk::AdapterError> + Send + 'static,
    ) -> Result<R, CallError> {
        let http = BlockingHttp {
            upstream: self.upstream.clone(),
            handle: tokio::runtime::Handle::current(),
        };
        tokio::task::spawn_blocking(move || f(&http))
            .await
            .map_err(|e| CallError::Sandbox(SandboxError::Trap(format!("native adapter: {e}"))))?
            .map_err(CallError::Adapter)
    }
}

#[async_trait]
impl<A: sdk::Adapter + 'static> Adapter for NativeAdapter<A> {
    fn info(&self) -> &sdk::AdapterInfo {
        &self.info
    }

    async fn list(&self, req: sdk::ListRequest) -> Result<sdk::Page, CallError> {
        self.run(move |h| A::list(h, req)).await
    }

    async fn get(&self, req: sdk::GetRequest) -> Result<String, CallError> {
        self.run(move |h| A::get(h, req)).await
    }

    async fn create(
        &self,
        entity: &str,
        records: Vec<String>,
    ) -> Result<Vec<sdk::WriteResult>, CallError> {
        let e = entity.to_owned();
        self.run(move |h| A::create(h, &e, records)).await
    }

    async fn update(
        &self,
        entity: &str,
        key: &str,
        patch: String,
        concurrency_token: Option<String>,
    ) -> Result<String, CallError> {
        let (e, k) = (entity.to_owned(), key.to_owned());
        self.run(move |h| A::update(h, &e, &k, patch, concurrency_token))
            .await
    }

    async fn delete(&self, entity: &str, key: &str) -> Result<(), CallError> {
        let (e, k) = (entity.to_owned(), key.to_owned());
        self.run(move |h| A::delete(h, &e, &k)).await
    }

    async fn action(
        &self,
        entity: &str,
        key: &str,
        name: &str,
        input: String,
    ) -> Result<String, CallError> {
        let (e, k, n) = (entity.to_owned(), key.to_owned(), name.to_owned());
        self.run(move |h| A::action(h, &e, &k, &n, input)).await
    }
}
