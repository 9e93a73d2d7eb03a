//! A simulator of the MaintainX REST API v1 (`https://api.getmaintainx.com/v1`), built from the
//! vendor's OpenAPI document (`specs/maintainx-openapi.json`) and `reference/SYSTEMS.md` card A4.
//!
//! It serves work orders, assets, parts, purchase orders, locations, vendors and users with the
//! vendor's URL shapes, envelopes, field names, cursor paging, filters, write validation, error
//! bodies, bearer authentication and rate-limit signalling. See [`MaintainxSim`] for what is
//! simulated and how.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use plantwire_simulators::maintainx::{Config, MaintainxSim};
//!
//! let sim = MaintainxSim::start(Config::default()).await?;
//! // GET {base_url}/workorders?limit=200 with "Authorization: Bearer {token}"
//! println!("{} {}", sim.base_url(), sim.token());
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Modules: `resources` (what the spec says per resource), `seed` (deterministic data),
//! `store` (records in memory), `query` (list parameters, filters, cursors), `validate`
//! (write bodies), `views` (shaping records and `expand`), `routes` (HTTP).

mod query;
mod resources;
mod routes;
mod seed;
mod store;
mod validate;
mod views;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::Value;

use crate::faults::Faults;
use crate::rate_limit::FixedWindow;
use crate::recorder::{RecordedRequest, Recorder};
use crate::server::Server;
use resources::Kind;
use routes::Shared;
use seed::SeedPlan;
use store::Store;

pub use seed::{API_USER_ID, ORGANIZATION_ID};

/// The rate-limit window MaintainX documents ("500 requests / 60 seconds").
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// How to start a [`MaintainxSim`]: the token it accepts, how many records of each resource
/// to seed, and the rate limit to enforce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The bearer token the simulator accepts (`Authorization: Bearer <token>`).
    pub token: String,
    /// Seeded work orders (default 2,500).
    pub work_orders: usize,
    /// Seeded assets (default 600).
    pub assets: usize,
    /// Seeded parts (default 400).
    pub parts: usize,
    /// Seeded purchase orders (default 300).
    pub purchase_orders: usize,
    /// Seeded locations (default 120; the first four are plants, the rest areas in them).
    pub locations: usize,
    /// Seeded vendors (default 80).
    pub vendors: usize,
    /// Seeded users (default 60; the first is the token's owner).
    pub users: usize,
    /// Requests allowed per 60-second window; `None` (the default) enforces nothing, though
    /// the `X-Rate-Limit-*` headers are still sent, with a very large limit. MaintainX's
    /// documented organization limit is `Some(500)`.
    pub rate_limit: Option<u32>,
    /// Whether expanded `assignees` give their ids as strings (`"id": "23494"`) rather than
    /// integers; the spec allows both (`oneOf: integer, string`). Default `false`.
    pub assignee_ids_as_strings: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            token: "mx-sim-token".to_string(),
            work_orders: 2_500,
            assets: 600,
            parts: 400,
            purchase_orders: 300,
            locations: 120,
            vendors: 80,
            users: 60,
            rate_limit: None,
            assignee_ids_as_strings: false,
        }
    }
}

/// A running MaintainX simulator on `127.0.0.1:<random port>`.
///
/// A cheap-to-clone handle: clones share the server. The server stops on
/// [`MaintainxSim::shutdown`], or when the last handle is dropped.
///
/// What it simulates, per the vendor's spec:
///
/// * **Auth**: every route requires `Authorization: Bearer <token>`; anything else (or a token
///   revoked with [`Faults::revoke_token`]) gets `401 {"error": "Invalid token"}`.
///   `x-organization-id` is accepted and not required; sending it together with
///   `x-organization-ids` is a 400, as documented.
/// * **Resources**: `/workorders`, `/assets`, `/parts`, `/purchaseorders`, `/locations`,
///   `/vendors`, `/users`, each with list, get, create, update (`PATCH`) and delete — the spec
///   has all five for all seven, users included (`DELETE /users/{id}` removes the user from
///   the organization). Status changes only via `PATCH /workorders/{id}/status` and
///   `PATCH /purchaseorders/{id}/status` (the latter enforces the spec's transition table).
/// * **Creates** answer as the spec says: work orders and locations `200 {"id"}`; assets,
///   parts, vendors and users `201 {"id"}`; purchase orders `201` with the full record.
/// * **Lists**: cursor paging (`limit` 1–200, default 100), `{"<plural>": [...], "nextCursor",
///   "nextPageUrl"}`; list items carry only the fields of the spec's list schema (a purchase
///   order list item is just `id`, `status`, `createdAt`, `updatedAt`; a work order list item
///   has no `assetId` unless `expand=asset`), and `expand=` adds the fields the spec gates
///   behind it.
/// * **Rate limiting**: `X-Rate-Limit-Limit` / `-Remaining` / `-Reset` on every response;
///   past the budget, `429 {"error": "Too many requests. Please retry in N seconds"}`.
#[derive(Clone)]
pub struct MaintainxSim {
    inner: Arc<Handle>,
}

struct Handle {
    shared: Arc<Shared>,
    server: Server,
    base_url: String,
}

impl fmt::Debug for MaintainxSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaintainxSim")
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl MaintainxSim {
    /// Seeds the data and starts serving on `127.0.0.1:0` in the current tokio runtime.
    pub async fn start(config: Config) -> io::Result<MaintainxSim> {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let plan = SeedPlan {
            work_orders: count(config.work_orders),
            assets: count(config.assets),
            parts: count(config.parts),
            purchase_orders: count(config.purchase_orders),
            locations: count(config.locations),
            vendors: count(config.vendors),
            users: count(config.users),
        };
        let shared = Arc::new(Shared {
            token: config.token,
            store: RwLock::new({
                let mut store = Store::new(plan);
                store.assignee_ids_as_strings = config.assignee_ids_as_strings;
                store
            }),
            recorder: Recorder::default(),
            faults: Faults::default(),
            rate: FixedWindow::new(config.rate_limit, RATE_WINDOW),
        });
        let server = Server::spawn(routes::router(shared.clone())).await?;
        let base_url = format!("http://{}/v1", server.addr());
        Ok(MaintainxSim {
            inner: Arc::new(Handle {
                shared,
                server,
                base_url,
            }),
        })
    }

    /// The API base URL, `http://127.0.0.1:PORT/v1` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// The socket address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.server.addr()
    }

    /// The bearer token the simulator accepts.
    pub fn token(&self) -> &str {
        &self.inner.shared.token
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

    /// The current number of records of `resource` (`"workorders"`, `"assets"`, `"parts"`,
    /// `"purchaseorders"`, `"locations"`, `"vendors"`, `"users"`; the camelCase list keys such
    /// as `"workOrders"` work too). 0 for an unknown resource.
    pub fn count(&self, resource: &str) -> usize {
        Kind::parse(resource).map_or(0, |kind| {
            usize::try_from(self.inner.shared.read().count(kind)).unwrap_or(usize::MAX)
        })
    }

    /// The current stored JSON of record `id` of `resource`, with every field the simulator
    /// keeps (a superset of what `GET /{id}` returns).
    pub fn record(&self, resource: &str, id: u64) -> Option<Value> {
        let kind = Kind::parse(resource)?;
        self.inner.shared.read().get(kind, id).map(Value::Object)
    }

    /// The ids of the records of `resource`, ascending (seeded ids first, then created ones).
    pub fn ids(&self, resource: &str) -> Vec<u64> {
        Kind::parse(resource).map_or_else(Vec::new, |kind| {
            self.inner.shared.read().ids_ascending(kind, None).collect()
        })
    }

    /// Stops the server: no new connections, in-flight requests finish (within a few
    /// seconds). Other clones of this handle then point at a stopped server.
    pub async fn shutdown(self) {
        self.inner.server.shutdown().await;
    }
}
