//! A simulator of the IBM Maximo REST/JSON API (7.6 "NextGen" OSLC API, also MAS Manage),
//! built from IBM's REST API guide and its published examples.
//!
//! It serves the object structures `mxapiwo`, `mxapiasset`, `mxapipo` (with `poline`),
//! `mxapiinventory`, `mxapiitem`, `mxapilocations` and `mxapivendor` (companies; also as
//! `mxvendor`) under `/maximo/oslc/os/...` and the `/maximo/api/os/...` alias. See
//! [`MaximoSim`] for what is simulated.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use plantwire_simulators::maximo::{Config, MaximoSim};
//!
//! let sim = MaximoSim::start(Config::default()).await?;
//! // GET {base_url}/os/mxapiwo?lean=1&oslc.select=*&oslc.pageSize=100 with "apikey: {apikey}"
//! println!("{} {}", sim.base_url(), sim.apikey());
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Modules: `schema` (object structures, keys, attributes, status domains), `seed`
//! (deterministic data), `store` (records and row stamps), `query` (`oslc.where`, `oslc.select`,
//! `oslc.orderBy`), `write` (validation, defaults, status transitions), `views` (rest ids,
//! lean and namespaced JSON), `routes` (HTTP).

mod query;
mod routes;
mod schema;
mod seed;
mod store;
mod views;
mod write;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::Value;

use crate::faults::Faults;
use crate::recorder::{RecordedRequest, Recorder};
use crate::server::Server;
use routes::Shared;
use schema::Os;
use seed::SeedPlan;

pub use views::rest_id;

/// A way to spoil the answers to collection queries (`GET /os/{os}`), to test what a client
/// does with a malformed page. Set with [`MaximoSim::tamper_lists`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListTamper {
    /// `200` with an HTML error page instead of JSON (a proxy or app-server page).
    NotJson,
    /// The collection without its `member` array.
    NoMember,
    /// `member` holds values that are not records (`[1, "x", null]`).
    MembersNotRecords,
    /// `responseInfo.nextPage.href` names the next page on another host.
    ForeignNextPage,
    /// `responseInfo.nextPage.href` names the page just answered, again and again.
    RepeatedNextPage,
    /// `responseInfo.nextPage` is a bare string instead of an object with `href`.
    NextPageAsString,
}

/// How to start a [`MaximoSim`]: credentials, seed sizes, the server's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The API key accepted in the `apikey` header (or query parameter).
    pub apikey: String,
    /// The Maximo user for `maxauth: base64(user:password)`; also `changeby` of writes.
    pub user: String,
    pub password: String,
    /// The user's default insert site, used when a create gives no `siteid`.
    pub default_site: String,
    /// `mxe.oslc.maxpagesize`: a larger `oslc.pageSize` is an error (and the auto-paging size
    /// when none is given). Default 1,000.
    pub max_page_size: usize,
    /// How long a committed `transactionid` is remembered (the `OSLCTXN` escalation; Maximo's
    /// default is 5 minutes).
    pub transaction_window: Duration,
    /// Seeded work orders (default 2,500).
    pub work_orders: usize,
    /// Seeded assets (default 600).
    pub assets: usize,
    /// Seeded purchase orders (default 300).
    pub purchase_orders: usize,
    /// Seeded items (default 400); each has inventory in CENTRAL, every third in TXSTORE too.
    pub items: usize,
    /// Seeded locations (default 120; the first two are the storerooms).
    pub locations: usize,
    /// Seeded companies (default 80).
    pub vendors: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            apikey: "mx-sim-apikey".to_owned(),
            user: "MAXADMIN".to_owned(),
            password: "maxadmin".to_owned(),
            default_site: "BEDFORD".to_owned(),
            max_page_size: 1_000,
            transaction_window: Duration::from_secs(300),
            work_orders: 2_500,
            assets: 600,
            purchase_orders: 300,
            items: 400,
            locations: 120,
            vendors: 80,
        }
    }
}

/// A running Maximo simulator on `127.0.0.1:<random port>`; clones share the server, which
/// stops on [`MaximoSim::shutdown`] or when the last handle is dropped.
///
/// What it simulates:
///
/// * **Auth**: `apikey` header or `?apikey=`, or `maxauth: base64(user:password)`; anything
///   else (or a key revoked with [`Faults::revoke_token`]) → `401` with Maximo's
///   `{"Error": {...}}` body.
/// * **Queries**: `oslc.select` (without it collection members carry only `href`),
///   `oslc.where` (`= != > >= < <=`, quoted strings and dates, `%` LIKE, `"*"` not-null,
///   `in [..]`, `!="[..]"`), `oslc.orderBy` (`+`/`-` on every attribute), `oslc.pageSize` with
///   `pageno` and `responseInfo.nextPage.href` (an object), `collectioncount=1`, `count=1`,
///   `_dropnulls=0`, `lean=1` (otherwise namespaced `spi:` JSON); a page larger than
///   `max_page_size` is an error.
/// * **Test hooks**: [`MaximoSim::tamper_lists`] spoils collection answers ([`ListTamper`]).
/// * **Records**: rest ids `_` + base64 of the key values; `_rowstamp` on every record, `ETag`
///   on reads and writes, `If-Match` → `412` when stale; `status_description`; dates with the
///   server's offset.
/// * **Writes**: create → `201` + `Location` (the record when `properties` is sent); update via
///   `POST` + `x-method-override: PATCH` (`patchtype: MERGE` merges `poline` by `polinenum`,
///   without it the lines are replaced); `x-method-override: BULK` with per-item
///   `_responsemeta`; `?action=wsmethod:changeStatus` with the work order transition errors
///   (`BMXAA4679E`, `BMXAA4638E`); `DELETE` → `200` (work orders and purchase orders only while
///   `WAPPR`, inventory only at zero balance, nothing another record refers to: an asset or
///   location on a work order, a location with assets or stock, an item in a storeroom or on a
///   purchase order line, a company that is a purchase order's vendor); a `transactionid` seen
///   within the window → `409`.
/// * **External references**: every object carries `externalrefid` (`ALN(10)`, as in Maximo):
///   stored, returned, filtered (`=`, `in [..]`); a longer value is refused with `400`
///   `BMXAA4049E`; values are not kept unique. [`MaximoSim::created`],
///   [`MaximoSim::keys_by_externalrefid`] and [`MaximoSim::duplicate_externalrefids`] let a
///   test count the records written and find any written twice.
#[derive(Clone)]
pub struct MaximoSim {
    inner: Arc<Handle>,
}

struct Handle {
    shared: Arc<Shared>,
    server: Server,
    origin: String,
}

impl fmt::Debug for MaximoSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaximoSim")
            .field("origin", &self.inner.origin)
            .finish_non_exhaustive()
    }
}

impl MaximoSim {
    /// Seeds the data and starts serving on `127.0.0.1:0` in the current tokio runtime.
    pub async fn start(config: Config) -> io::Result<MaximoSim> {
        let plan = SeedPlan {
            work_orders: config.work_orders,
            assets: config.assets,
            purchase_orders: config.purchase_orders,
            items: config.items,
            locations: config.locations,
            vendors: config.vendors,
        };
        let store = tokio::task::spawn_blocking(move || seed::seeded(plan))
            .await
            .map_err(io::Error::other)?;
        let shared = Arc::new(Shared {
            apikey: config.apikey,
            user: config.user,
            password: config.password,
            default_site: config.default_site,
            max_page_size: config.max_page_size.max(1),
            transaction_window: config.transaction_window,
            store: RwLock::new(store),
            recorder: Recorder::default(),
            faults: Faults::default(),
            transactions: Mutex::new(HashMap::new()),
            list_tamper: Mutex::new(None),
        });
        let server = Server::spawn(routes::router(shared.clone())).await?;
        let origin = format!("http://{}", server.addr());
        Ok(MaximoSim {
            inner: Arc::new(Handle {
                shared,
                server,
                origin,
            }),
        })
    }

    /// The API root `http://127.0.0.1:PORT/maximo/oslc` (no trailing slash); object
    /// structures are under `/os/{name}`.
    pub fn base_url(&self) -> String {
        format!("{}/maximo/oslc", self.inner.origin)
    }

    /// The `/maximo/api` alias of the API root.
    pub fn api_base_url(&self) -> String {
        format!("{}/maximo/api", self.inner.origin)
    }

    /// The socket address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.server.addr()
    }

    /// The API key the simulator accepts.
    pub fn apikey(&self) -> &str {
        &self.inner.shared.apikey
    }

    /// The user and password accepted in `maxauth`.
    pub fn user(&self) -> (&str, &str) {
        (&self.inner.shared.user, &self.inner.shared.password)
    }

    /// The `mxe.oslc.maxpagesize` in force.
    pub fn max_page_size(&self) -> usize {
        self.inner.shared.max_page_size
    }

    /// Every request received so far, in arrival order (refused and faulted ones included).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.shared.recorder.snapshot()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.inner.shared.recorder.clear();
    }

    /// The fault injection handle.
    pub fn faults(&self) -> &Faults {
        &self.inner.shared.faults
    }

    /// Spoils every collection answer from now on as `tamper` says (`None`: answer normally
    /// again). Requests are still recorded and authenticated.
    pub fn tamper_lists(&self, tamper: Option<ListTamper>) {
        *self
            .inner
            .shared
            .list_tamper
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = tamper;
    }

    /// The number of records of object structure `os` (`"mxapiwo"`, ...); 0 for an unknown one.
    pub fn count(&self, os: &str) -> usize {
        Os::parse(os).map_or(0, |os| self.inner.shared.read().count(os))
    }

    /// The stored record of `os` with primary key `key` (`"BEDFORD/1001"`), every attribute
    /// included.
    pub fn record(&self, os: &str, key: &str) -> Option<Value> {
        let os = Os::parse(os)?;
        self.inner
            .shared
            .read()
            .get(os, key)
            .map(|r| Value::Object(r.clone()))
    }

    /// The primary keys of the records of `os`, in creation order.
    pub fn keys(&self, os: &str) -> Vec<String> {
        let Some(os) = Os::parse(os) else {
            return Vec::new();
        };
        self.inner
            .shared
            .read()
            .iter(os)
            .filter_map(|r| store::key_of(os, r))
            .collect()
    }

    /// The number of records of `os` created through the API since the simulator started
    /// (single creates and successful BULK `Add` items; seeded records are not counted): what
    /// a test counts to prove each record was written exactly once.
    pub fn created(&self, os: &str) -> usize {
        Os::parse(os).map_or(0, |os| self.inner.shared.read().created(os))
    }

    /// The primary keys of the records of `os` whose `externalrefid` is `externalrefid`, in
    /// creation order (Maximo does not keep the attribute unique, so there may be several).
    pub fn keys_by_externalrefid(&self, os: &str, externalrefid: &str) -> Vec<String> {
        Os::parse(os).map_or_else(Vec::new, |os| {
            self.inner
                .shared
                .read()
                .keys_where(os, "externalrefid", externalrefid)
        })
    }

    /// Every `externalrefid` that more than one record of `os` carries, with those records'
    /// keys: empty when no record was written twice under one reference.
    pub fn duplicate_externalrefids(&self, os: &str) -> Vec<(String, Vec<String>)> {
        Os::parse(os).map_or_else(Vec::new, |os| {
            self.inner.shared.read().duplicates(os, "externalrefid")
        })
    }

    /// Stops the server: no new connections, in-flight requests finish (within a few
    /// seconds).
    pub async fn shutdown(self) {
        self.inner.server.shutdown().await;
    }
}
