//! The Plantwire adapter for **MaintainX** (REST API v1, `https://api.getmaintainx.com/v1`),
//! built as a `wasm32-wasip2` component.
//!
//! It serves seven unified entities from MaintainX resources: `work-order` (`/workorders`),
//! `asset` (`/assets`), `purchase-order` (`/purchaseorders`, with line items), `material`
//! (`/parts`), `location` (`/locations`), `vendor` (`/vendors`) and `user` (`/users`), plus the
//! `change-status` action on work orders and purchase orders. `inventory`, `site` and
//! `service-request` are declared unsupported, with the reason.
//!
//! The crate is a pure mapping core plus thin WIT glue:
//!
//! - [`describe`]: the capability declaration (every operation, field, flag, limit, reason);
//! - [`mapping`]: MaintainX JSON ⇄ unified JSON, one module per entity, no I/O;
//! - [`paging`]: list queries (limit, cursor, typed filters pushed down as MaintainX query
//!   parameters, sort, the expansions a field selection needs) and pages;
//! - [`errors`]: MaintainX error responses → typed adapter errors;
//! - [`resources`]: URL paths and envelope keys of each MaintainX resource;
//! - `client`: the HTTP conversation of each operation (e.g. `POST` then `GET` for a work
//!   order, whose creation answers only its id);
//! - [`fixtures`]: realistic MaintainX bodies for tests and benchmarks.
//!
//! The host authenticates every request with `Authorization: Bearer <API key>`; the adapter
//! never sees the key. MaintainX has no bulk endpoint (a create batch is one `POST` per
//! record) and no concurrency control (updates are last-write-wins).

pub mod describe;
pub mod errors;
pub mod fixtures;
pub mod mapping;
pub mod paging;
pub mod resources;

mod client;

use plantwire_sdk::contract::{AdapterInfo, GetRequest, ListRequest, Page};
use plantwire_sdk::{Adapter, AdapterError, Http, WriteResult};

/// The MaintainX adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct MaintainX;

impl Adapter for MaintainX {
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

plantwire_sdk::export_adapter!(MaintainX);
