//! The guest SDK for Plantwire adapters.
//!
//! An adapter is a WebAssembly component that maps one maintenance or ERP system onto
//! Plantwire's unified model. This crate gives an adapter author everything but the mapping:
//!
//! - [`contract`]: what `describe()` returns (entities, operations, fields, flags, limits);
//! - [`model`]: the unified entities as serde structs;
//! - [`http`]: requests relative to the connection's base URL (the host adds credentials);
//! - [`query`], [`dates`], [`json`]: helpers for query strings, timestamps and JSON mapping;
//! - [`Adapter`] and [`export_adapter!`]: implement the trait, export it, build for
//!   `wasm32-wasip2`.
//!
//! Everything but the export glue compiles natively, so an adapter's mapping core is tested
//! with plain `cargo test`.

pub mod adapter;
pub mod contract;
pub mod dates;
pub mod error;
pub mod http;
pub mod json;
pub mod model;
pub mod query;

#[cfg(target_arch = "wasm32")]
pub mod guest;

pub use adapter::{Adapter, Level, WriteResult, log};
pub use contract::*;
pub use error::{AdapterError, FieldError, UpstreamError};
pub use http::{Http, HttpError, Request, Response};

/// Exports an [`Adapter`] implementation as the component's `plantwire:adapter/adapter`
/// interface. Does nothing when compiled natively.
///
/// ```ignore
/// struct MySystem;
/// impl plantwire_sdk::Adapter for MySystem { /* ... */ }
/// plantwire_sdk::export_adapter!(MySystem);
/// ```
#[macro_export]
macro_rules! export_adapter {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        type __PlantwireExport = $crate::guest::Export<$ty>;
        #[cfg(target_arch = "wasm32")]
        $crate::guest::bindings::export!(__PlantwireExport with_types_in $crate::guest::bindings);
    };
}
