//! The Plantwire adapter for **SAP S/4HANA** (OData V2 "A2X" APIs under
//! `/sap/opu/odata/sap/`), built as a `wasm32-wasip2` component.
//!
//! The connection's base URL is the OData root, `https://<host>:<port>/sap/opu/odata/sap`;
//! a specific client is selected with `?sap-client=NNN` on that base URL (the host adds it to
//! every request and the adapter never changes it; without it SAP uses the user's default
//! client). The host authenticates every request with HTTP basic (the communication user) and
//! keeps the session cookies; the adapter fetches CSRF tokens itself.
//!
//! Entities: `work-order` (API_MAINTENANCEORDER/MaintenanceOrder), `asset`
//! (API_EQUIPMENT/Equipment), `location` (API_FUNCTIONALLOCATION/FunctionalLocation),
//! `purchase-order` (API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder with its items),
//! `inventory` (API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod, read-only) and `vendor`
//! (API_BUSINESS_PARTNER/A_Supplier, read-only here), plus the `change-status` action on
//! orders, equipment and functional locations, mapped to SAP's status function imports.
//! See the crate's README for every operation and what is not supported, and why.
//!
//! The crate is a pure mapping core plus thin WIT glue:
//!
//! - [`describe`]: the capability declaration, from the EDMX flags;
//! - [`mapping`]: SAP JSON ⇄ unified JSON (dates, decimals, statuses), no I/O;
//! - [`odata`]: OData V2 literals, envelopes, errors, `sap-message`, `$batch` bodies;
//! - [`query`]: filters as `$filter` clauses (every declared operator), fields as `$select`;
//! - [`paging`]: `$orderby` / `$top` / `$skip` and server-driven paging;
//! - [`errors`]: SAP's answers → typed adapter errors;
//! - [`resources`]: services, entity sets and key predicates;
//! - `client`: the HTTP conversation of each operation (CSRF, `If-Match`, `$batch`);
//! - [`fixtures`]: realistic SAP bodies for tests and benchmarks.

pub mod describe;
pub mod errors;
pub mod fixtures;
pub mod mapping;
pub mod odata;
pub mod paging;
pub mod query;
pub mod resources;

mod client;

use plantwire_sdk::contract::{AdapterInfo, GetRequest, ListRequest, Page};
use plantwire_sdk::{Adapter, AdapterError, Http, WriteResult};

/// The SAP S/4HANA adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct SapS4Hana;

impl Adapter for SapS4Hana {
    fn describe() -> AdapterInfo {
        describe::adapter_info()
    }

    fn list(http: &dyn Http, req: ListRequest) -> Result<Page, AdapterError> {
        client::list(http, &req)
    }

    fn get(http: &dyn Http, req: GetRequest) -> Result<String, AdapterError> {
        client::get(http, &req.entity, &req.key, req.include_raw)
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

plantwire_sdk::export_adapter!(SapS4Hana);
