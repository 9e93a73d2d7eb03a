//! HTTP simulators of the maintenance systems Plantwire adapters talk to.
//!
//! Real vendor instances are not reachable from tests, so every adapter is developed and tested
//! against an in-process simulator of its system: an axum server on `127.0.0.1:0` that
//! reproduces the vendor's documented API — URL shapes, envelopes, field names, pagination,
//! auth, error bodies, rate-limit signalling — over deterministic, realistic seed data. The
//! simulators power the integration tests, `plantwire demo` and the benchmarks.
//!
//! Every simulator
//! * records every request it receives, before any auth check ([`RecordedRequest`]), so tests
//!   can assert exactly-once writes and that no credential reached the adapter;
//! * injects faults on demand ([`Faults`]): latency, forced statuses (429 with the vendor's own
//!   headers, 5xx), revoked credentials, truncated bodies, dropped connections.
//!
//! Simulators:
//! * [`maintainx`] — MaintainX REST API v1.
//! * [`sap`] — SAP S/4HANA OData V2 APIs (maintenance orders, equipment, functional locations,
//!   purchase orders, material stock, suppliers).
//! * [`maximo`] — IBM Maximo REST/JSON (OSLC) API.
//! * [`auth`] — the auth rituals the host applies: session login, OAuth 2.0, HMAC signatures.
//!
//! Layout: `recorder` (request log), `faults` (fault injection), `rate_limit` (fixed-window
//! budgets), `clock` (timestamps), `server` (serving a router on an ephemeral port), and one
//! module per simulated system.

pub mod auth;
mod clock;
pub mod faults;
pub mod maintainx;
pub mod maximo;
mod rate_limit;
pub mod recorder;
pub mod sap;
mod server;

pub use faults::Faults;
pub use maintainx::{Config as MaintainxConfig, MaintainxSim};
pub use maximo::{Config as MaximoConfig, MaximoSim};
pub use recorder::RecordedRequest;
pub use sap::{Config as SapConfig, SapSim, ServerPaging as SapServerPaging};
