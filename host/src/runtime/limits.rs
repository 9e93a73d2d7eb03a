//! Per-call limits: the configuration of the sandbox and the store limiter that enforces the
//! memory ceiling and remembers that it did, so a trap can be reported as what it was.

use std::time::Duration;

/// Limits and sizes of the sandbox. Every field has a safe default.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Ceiling on each linear memory of one adapter instance, in bytes.
    pub memory_limit: usize,
    /// Wall-clock deadline of one call, including time spent in host imports (`http.send`).
    pub call_timeout: Duration,
    /// Cap on the bytes one call may return (records, errors).
    pub max_return_bytes: usize,
    /// Cap on the body of one outbound request built by the adapter.
    pub max_request_bytes: usize,
    /// Cap on `http.send` calls during one adapter call.
    pub max_requests_per_call: u32,
    /// Cap on log lines per call and on the length of one line.
    pub max_log_lines: u32,
    pub max_log_line_bytes: usize,
    /// Concurrent adapter instances the pooling allocator reserves slots for.
    pub max_instances: u32,
    /// Calls one connection may run at once: its share of the instance pool, so one
    /// connection (an adapter looping, a caller flooding) cannot take every slot. Held below
    /// `max_instances` (at most `max_instances - 1`; with a one-slot pool there is nothing to
    /// share and no quota applies).
    pub max_calls_per_connection: u32,
    /// Calls all connections of one adapter component may run at once, held below
    /// `max_instances` like the connection quota, so one system's adapter leaves room for
    /// the others.
    pub max_calls_per_adapter: u32,
    /// How long a call beyond a quota waits for a running call to finish before it fails
    /// with [`SandboxError::Busy`](super::SandboxError::Busy).
    pub quota_wait: Duration,
    /// Cap on the size of a `describe()` result (every string of the declaration summed),
    /// checked before the declaration is validated or kept.
    pub max_describe_bytes: usize,
    /// Where compiled components are cached (keyed by component hash and engine version).
    /// `None` compiles on every load.
    pub cache_dir: Option<std::path::PathBuf>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            memory_limit: 64 << 20,
            call_timeout: Duration::from_secs(30),
            max_return_bytes: 16 << 20,
            max_request_bytes: 16 << 20,
            max_requests_per_call: 1_000,
            max_log_lines: 1_000,
            max_log_line_bytes: 8 << 10,
            max_instances: 128,
            max_calls_per_connection: 16,
            max_calls_per_adapter: 96,
            quota_wait: Duration::from_secs(5),
            max_describe_bytes: 1 << 20,
            cache_dir: None,
        }
    }
}

impl RuntimeConfig {
    /// The quota a `configured` limit becomes under a pool of `max_instances` slots: below
    /// the pool size, `None` when the pool has a single slot.
    pub(crate) fn quota(&self, configured: u32) -> Option<u32> {
        let below_pool = self.max_instances.saturating_sub(1);
        let quota = configured.max(1).min(below_pool);
        (quota > 0).then_some(quota)
    }
}

/// Store limiter: refuses memory growth past the ceiling and records the refusal.
#[derive(Debug)]
pub(crate) struct Limiter {
    memory_limit: usize,
    pub(crate) memory_exceeded: bool,
}

impl Limiter {
    pub(crate) fn new(memory_limit: usize) -> Limiter {
        Limiter {
            memory_limit,
            memory_exceeded: false,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            self.memory_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
