//! The host side of the contract's imports (`http`, `log`) and the per-call store state.
//!
//! Every import call is counted and capped, carries the adapter and connection ids in its
//! tracing span, and goes through the connection's [`Upstream`] — the egress layer that holds
//! the credentials. Nothing here ever sees a secret.

use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{self, wit_http, wit_log};
use super::limits::Limiter;
use crate::egress::Upstream;

/// Ids that label a call in logs and traces.
#[derive(Debug, Clone, Default)]
pub struct CallLabels {
    pub adapter: String,
    pub connection: String,
    pub entity: String,
    pub op: &'static str,
}

/// Everything one call's store holds. A fresh one per call.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) deadline: Instant,
    pub(crate) timed_out: bool,
    upstream: Option<Arc<dyn Upstream>>,
    labels: CallLabels,
    requests: u32,
    max_requests: u32,
    max_request_bytes: usize,
    log_lines: u32,
    max_log_lines: u32,
    max_log_line_bytes: usize,
}

impl CallState {
    pub(crate) fn new(
        config: &super::RuntimeConfig,
        upstream: Option<Arc<dyn Upstream>>,
        labels: CallLabels,
        deadline: Instant,
    ) -> CallState {
        CallState {
            // No preopens, no environment, no arguments, no network: the empty context.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(config.memory_limit),
            deadline,
            timed_out: false,
            upstream,
            labels,
            requests: 0,
            max_requests: config.max_requests_per_call,
            max_request_bytes: config.max_request_bytes,
            log_lines: 0,
            max_log_lines: config.max_log_lines,
            max_log_line_bytes: config.max_log_line_bytes,
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl bindings::plantwire::adapter::types::Host for CallState {}

impl wit_http::Host for CallState {
    async fn send(
        &mut self,
        req: wit_http::Request,
    ) -> Result<wit_http::Response, wit_http::HttpError> {
        self.requests += 1;
        if self.requests > self.max_requests {
            return Err(wit_http::HttpError::InvalidRequest(format!(
                "more than {} requests in one call",
                self.max_requests
            )));
        }
        if req
            .body
            .as_ref()
            .is_some_and(|b| b.len() > self.max_request_bytes)
        {
            return Err(wit_http::HttpError::InvalidRequest(format!(
                "request body larger than {} bytes",
                self.max_request_bytes
            )));
        }
        let Some(upstream) = self.upstream.clone() else {
            return Err(wit_http::HttpError::ForbiddenDestination(
                "no connection is bound to this call (describe() may not send requests)".to_owned(),
            ));
        };
        let span = tracing::debug_span!(
            "http.send",
            adapter = %self.labels.adapter,
            connection = %self.labels.connection,
            entity = %self.labels.entity,
            op = self.labels.op,
            method = %req.method,
        );
        let result = upstream
            .send(bindings::request_from_wit(req))
            .instrument(span)
            .await;
        result
            .map(bindings::response_to_wit)
            .map_err(bindings::http_error_to_wit)
    }
}

impl wit_log::Host for CallState {
    async fn log(&mut self, level: wit_log::Level, message: String) {
        self.log_lines += 1;
        if self.log_lines > self.max_log_lines {
            if self.log_lines == self.max_log_lines + 1 {
                tracing::warn!(
                    adapter = %self.labels.adapter,
                    connection = %self.labels.connection,
                    "adapter log limit reached; further lines of this call are dropped"
                );
            }
            return;
        }
        let mut message = message;
        if message.len() > self.max_log_line_bytes {
            let mut cut = self.max_log_line_bytes;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(" [truncated]");
        }
        let (adapter, connection) = (&self.labels.adapter, &self.labels.connection);
        match level {
            wit_log::Level::Trace => {
                tracing::trace!(target: "plantwire::adapter", %adapter, %connection, "{message}")
            }
            wit_log::Level::Debug => {
                tracing::debug!(target: "plantwire::adapter", %adapter, %connection, "{message}")
            }
            wit_log::Level::Info => {
                tracing::info!(target: "plantwire::adapter", %adapter, %connection, "{message}")
            }
            wit_log::Level::Warn => {
                tracing::warn!(target: "plantwire::adapter", %adapter, %connection, "{message}")
            }
            wit_log::Level::Error => {
                tracing::error!(target: "plantwire::adapter", %adapter, %connection, "{message}")
            }
        }
    }
}
