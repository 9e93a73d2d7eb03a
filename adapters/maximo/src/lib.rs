//! The Plantwire adapter for **IBM Maximo** (7.6 REST/JSON "NextGen" API over OSLC, lean JSON;
//! also Maximo Application Suite Manage), built as a `wasm32-wasip2` component.
//!
//! It serves seven unified entities from Maximo object structures: `work-order` (`MXAPIWO`),
//! `asset` (`MXAPIASSET`), `purchase-order` (`MXAPIPO` with its `POLINE`s), `material`
//! (`MXAPIITEM`), `inventory` (`MXAPIINVENTORY`), `location` (`MXAPILOCATIONS`) and `vendor`
//! (`MXAPIVENDOR`, the companies), plus the `change-status` action (Maximo's
//! `wsmethod:changeStatus`) on work orders and purchase orders. `site`, `user` and
//! `service-request` are declared unsupported, with the reason. See the crate's README for the
//! capability summary and its sources.
//!
//! The connection's base URL is the API root (`https://host/maximo/oslc`, or the
//! `https://host/maximo/api` alias used with API keys on MAS); the host sends the API key in
//! the `apikey` header and the adapter never sees it.
//!
//! The crate is a pure mapping core plus thin WIT glue:
//!
//! - [`describe`]: the capability declaration (every operation, field, flag, limit, reason);
//! - [`structures`]: object structures, primary keys, the attributes selected;
//! - [`restid`]: rest ids (`_` + base64 of the key values) ⇄ unified keys;
//! - [`mapping`]: Maximo lean JSON ⇄ unified JSON, one module per entity, no I/O (plus
//!   `customFields`, the attributes it does not map, and `raw`, the record as sent);
//! - [`query`]: `oslc.where` (every filter operator), `oslc.select` (field selections),
//!   `oslc.orderBy` and paging from unified list requests;
//! - [`errors`]: Maximo's `{"Error": {...}}` bodies → typed adapter errors;
//! - [`external_id`]: the unified `externalId` (Maximo's `EXTERNALREFID`, 10 characters);
//! - `client`: the HTTP conversation of each operation (BULK creates, PATCH with MERGE and
//!   If-Match, the changeStatus action);
//! - [`fixtures`]: realistic Maximo members for tests and benchmarks.

pub mod describe;
pub mod errors;
pub mod external_id;
pub mod fixtures;
pub mod mapping;
pub mod query;
pub mod restid;
pub mod structures;

mod client;

pub use client::transaction_id;

use plantwire_sdk::contract::{AdapterInfo, GetRequest, ListRequest, Page};
use plantwire_sdk::{Adapter, AdapterError, Http, WriteResult};

/// The Maximo adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Maximo;

impl Adapter for Maximo {
    fn describe() -> AdapterInfo {
        describe::adapter_info()
    }

    fn list(http: &dyn Http, req: ListRequest) -> Result<Page, AdapterError> {
        client::list(http, &req)
    }

    fn get(http: &dyn Http, req: GetRequest) -> Result<String, AdapterError> {
        client::get(http, &req)
    }

    fn create(
        http: &dyn Http,
        entity: &str,
        records: Vec<String>,
    ) -> Result<Vec<WriteResult>, AdapterError> {
        client::create(http, entity, records)
    }

    fn update(
        http: &dyn Http,
        entity: &str,
        key: &str,
        patch: String,
        concurrency_token: Option<String>,
    ) -> Result<String, AdapterError> {
        client::update(http, entity, key, &patch, concurrency_token.as_deref())
    }

    fn delete(http: &dyn Http, entity: &str, key: &str) -> Result<(), AdapterError> {
        client::delete(http, entity, key)
    }

    fn action(
        http: &dyn Http,
        entity: &str,
        key: &str,
        name: &str,
        input: String,
    ) -> Result<String, AdapterError> {
        client::action(http, entity, key, name, &input)
    }
}

#[cfg(test)]
mod tests;

plantwire_sdk::export_adapter!(Maximo);
