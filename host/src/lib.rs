//! Plantwire: one CRUD API over industrial maintenance and ERP systems.
//!
//! Each system is served by a sandboxed WebAssembly adapter (a component built against the
//! `plantwire:adapter` WIT contract). The host loads adapters ([`runtime`], [`registry`]),
//! routes requests through them ([`connections`]), and alone holds credentials and network
//! access ([`egress`]). Callers use the wasm-free [`Adapter`] trait or a [`Connection`].
//!
//! | module | its one job |
//! |---|---|
//! | [`runtime`] | the sandbox: engine, compile cache, fresh store per call, limits |
//! | [`registry`] | loading adapters from a directory; the capability catalogue |
//! | [`validate`] | checking an adapter's `describe()` at load |
//! | [`egress`] | the only HTTP client: origin policy, credentials, caps, scrubbing |
//! | [`connections`] | per-call checks against the declaration, before and after the adapter |
//! | [`bulk`] | batched writes, per-record results, idempotency, durable jobs (SQLite, PostgreSQL) |
//! | [`paging`] | continuation tokens for callers, loop guards, streaming exports, the filter language |
//! | [`governor`] | one rate budget per connection; retries |
//! | [`vault`] | credential stores: sealed file, environment, AWS Secrets Manager |
//! | [`health`] / [`webhooks`] | connection health and its signed, durable webhook events |
//! | [`store`] | the state directory: connections, health, webhook endpoints |
//! | [`api`] | the HTTP service (`plantwire serve`): reads, capabilities, problem+json errors |
//! | [`capabilities`] | the capability matrix as table, Markdown or JSON |
//! | [`demo`] | the self-contained demo against the MaintainX, Maximo and SAP simulators |

pub mod adapter;
pub mod api;
pub mod bulk;
pub mod capabilities;
pub mod connections;
pub mod demo;
pub mod egress;
pub mod governor;
pub mod health;
pub mod paging;
pub mod registry;
pub mod runtime;
mod sqlite_wal;
pub mod store;
pub mod validate;
pub mod vault;
pub mod webhooks;

pub use adapter::{Adapter, CallError, NativeAdapter};
pub use connections::{Connection, ListOptions, RecordPage};
pub use egress::{Credential, Egress, EgressConfig, Upstream};
pub use plantwire_sdk as sdk;

/// The README's Rust example, compiled as a doctest so it cannot drift from the API.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
pub use registry::Registry;
pub use runtime::{AdapterComponent, LoadError, Runtime, RuntimeConfig, SandboxError, WasmAdapter};
