//! A simulator of SAP S/4HANA's OData V2 "A2X" APIs for plant maintenance and purchasing,
//! built from the services' EDMX `$metadata`, the SAP API Hub OpenAPI files and SAP's
//! published documentation of the OData V2 conventions.
//!
//! Services (under `/sap/opu/odata/sap/`): `API_MAINTENANCEORDER` (`MaintenanceOrder`,
//! `MaintenanceOrderOperation`, status function imports), `API_EQUIPMENT` (`Equipment`, with
//! its time-dependent key), `API_FUNCTIONALLOCATION` (`FunctionalLocation`),
//! `API_PURCHASEORDER_PROCESS_SRV` (`A_PurchaseOrder`, `A_PurchaseOrderItem`, deep insert),
//! `API_MATERIAL_STOCK_SRV` (`A_MatlStkInAcctMod`, read-only) and `API_BUSINESS_PARTNER`
//! (`A_Supplier`). See [`SapSim`] for what is simulated.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use plantwire_simulators::sap::{Config, SapSim};
//!
//! let sim = SapSim::start(Config::default()).await?;
//! // GET {base_url}/API_MAINTENANCEORDER/MaintenanceOrder?$top=10 with basic auth
//! println!("{} {} {}", sim.base_url(), sim.user(), sim.password());
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Modules: `model` (entity sets, properties, flags, function imports), `values` (EDM values
//! on the wire), `query` (system query options), `store` (records and business rules), `seed`
//! (deterministic data), `errors` (SAP's error body and `sap-message`), `batch` (multipart
//! `$batch`), `metadata` (EDMX), `malform` (broken answers for tests), `routes` (HTTP).

mod batch;
mod errors;
mod malform;
mod metadata;
mod model;
mod query;
mod routes;
mod seed;
mod store;
mod values;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use serde_json::{Map, Value};

use crate::faults::Faults;
use crate::recorder::{RecordedRequest, Recorder};
use crate::server::Server;
pub use malform::{FOREIGN_ORIGIN, Malformation};
use model::{Service, Set};
use routes::{Sessions, Settings, Shared};
use store::{SeedPlan, Store};

/// How to start a [`SapSim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The communication user (HTTP basic). SAP user names are case-insensitive.
    pub user: String,
    pub password: String,
    /// The client used when a request names none (the user's default client).
    pub default_client: String,
    /// Every client of the system; a request naming another one is refused at logon.
    pub clients: Vec<String>,
    /// The system id in cookie names (`SAP_SESSIONID_<SID>_<client>`).
    pub system_id: String,
    /// Server-driven page size: a collection read returns at most this many entities and a
    /// `__next` link with `$skiptoken` for the rest. [U: SAP's value depends on the service]
    pub page_size: usize,
    /// How server-driven paging treats the `$top` window (default: pages inside it).
    pub paging: ServerPaging,
    /// Whether rows come back in an order that changes from one read to the next wherever
    /// `$orderby` does not make it total (no `$orderby`, or ties): OData promises no order
    /// then, and a database without `ORDER BY` gives none. Default `false` (key order).
    pub unstable_order: bool,
    /// Whether writes need a CSRF token. `false`: CSRF protection switched off (or handled by
    /// a proxy in front): a fetch answers no token and writes need none. Default `true`.
    pub csrf: bool,
    /// Whether a `$batch` answer stops at the first failing change set (later change sets
    /// are not run and get no part) instead of running them all. Default `false`.
    pub batch_stops_at_first_failure: bool,
    /// Whether `$batch` answer parts echo the `Content-ID` of their request. Default `false`.
    pub batch_echoes_content_id: bool,
    /// Whether maintenance orders leave out `SystemStatusText` (an optional display
    /// property some releases and field-level authorizations omit). Default `false`.
    pub omit_status_text: bool,
    /// Whether `PATCH` / `PUT` / `DELETE` of an entity with an ETag require `If-Match`
    /// (`428` without it). [U: per service and release] Default `true`.
    pub etag_required: bool,
    /// Whether a purchase order whose release is completed may still be changed (a release
    /// indicator that permits changes). Default `false`: changes are refused.
    pub released_po_changeable: bool,
    /// Seeded maintenance orders (default 2,500, each with one or two operations).
    pub maintenance_orders: usize,
    /// Seeded equipment (default 600).
    pub equipment: usize,
    /// Seeded functional locations (default 130: two plants, four systems each, units).
    pub functional_locations: usize,
    /// Seeded purchase orders (default 300, one to three items each).
    pub purchase_orders: usize,
    /// Seeded stock rows (default 400).
    pub stock_rows: usize,
    /// Seeded suppliers (default 80).
    pub suppliers: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            user: "PLANTWIRE_COMM".to_owned(),
            password: "Welcome-S4H-2024!".to_owned(),
            default_client: "100".to_owned(),
            clients: vec!["100".to_owned(), "200".to_owned()],
            system_id: "S4H".to_owned(),
            page_size: 100,
            paging: ServerPaging::WithinWindow,
            unstable_order: false,
            csrf: true,
            batch_stops_at_first_failure: false,
            batch_echoes_content_id: false,
            omit_status_text: false,
            etag_required: true,
            released_po_changeable: false,
            maintenance_orders: 2_500,
            equipment: 600,
            functional_locations: 130,
            purchase_orders: 300,
            stock_rows: 400,
            suppliers: 80,
        }
    }
}

/// How a collection read pages on its own within the `$skip`/`$top` window it was asked for.
/// OData V2 leaves server-driven paging to the server; these are the ways servers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerPaging {
    /// Pages of `page_size` inside the window, `__next` until the window ends.
    #[default]
    WithinWindow,
    /// The first page starts at `$skip`; `__next` links keep going past the window's end to
    /// the end of all matching rows (`$top` applies to nothing but the first page).
    PastWindow,
    /// At most `page_size` rows per answer and no `__next` link (a server capping `$top`);
    /// `__count` still tells how many match.
    CapWithoutNext,
    /// `page_size` rows per answer whatever `$top` asks for — more than asked when `$top` is
    /// smaller — with `__next` while rows remain.
    IgnoreTop,
}

/// A running SAP S/4HANA simulator on `127.0.0.1:<random port>`.
///
/// What it simulates:
///
/// * **Logon**: HTTP basic; `sap-client` as query parameter or header selects the client (the
///   default client when absent; an unknown client is refused with `401`). A failed logon
///   answers `401` with `WWW-Authenticate: Basic realm="SAP NetWeaver Application Server
///   [S4H/100]"`.
/// * **CSRF**: a read with `X-CSRF-Token: Fetch` answers `x-csrf-token: <token>` and sets the
///   session cookie `SAP_SESSIONID_<SID>_<client>`; every `POST`, `PUT`, `PATCH`, `MERGE`,
///   `DELETE` (and `$batch`) must send that token and the cookie, otherwise `403`,
///   `x-csrf-token: Required`, body `CSRF token validation failed`.
///   [`SapSim::expire_sessions_on_next_writes`] lets the session lapse.
/// * **Reads**: `$filter` (`eq ne lt le gt ge` typed by the property: strings by character,
///   decimals by value with `12.5M` literals, `datetime'…'` for `Edm.DateTime` and
///   `datetimeoffset'…'` for `Edm.DateTimeOffset`; `and`, `or`, `not`, parentheses;
///   `substringof` / `startswith` / `endswith`, case-sensitive; quotes doubled inside
///   literals), `$orderby`, `$select` (an expanded navigation only when selected too),
///   `$expand`, `$top`, `$skip`, `$inlinecount=allpages` (`__count` as a string),
///   server-driven paging with `__next` and `$skiptoken`, `/Date(ms)/` dates, decimals as
///   strings, `__metadata` with `etag`, deferred navigation properties.
/// * **Extension fields**: maintenance orders, equipment and purchase orders carry customer
///   key-user fields (`YY1_…`, `ZZ1_…`), filterable like other properties.
/// * **Writes**: `POST` (deep insert of purchase order items and order operations) → `201`
///   with `Location` and `sap-message`; `PATCH`/`MERGE`/`PUT` → `204`, `428` without
///   `If-Match`, `412` with a stale one; `DELETE` → `204` on deletable sets (purchase orders
///   and items get the deletion indicator `L`), `501 /IWBEP/CM_MGW_RT/021` on sets with
///   `sap:deletable="false"` (maintenance orders, equipment, functional locations, suppliers,
///   stock). Entity-set and property flags are those of the EDMX.
/// * **Status**: the function imports of maintenance orders (release, technical completion,
///   close, deletion flag, lock and their resets), equipment and functional locations
///   (inactive, marked for deletion), with SAP's `BS/013` "System status … is active" refusals.
///   A purchase order whose release is completed refuses changes.
/// * **`$batch`**: `multipart/mixed` with change sets; each change set succeeds or fails as a
///   whole, later change sets still run.
#[derive(Clone)]
pub struct SapSim {
    inner: Arc<Handle>,
}

struct Handle {
    shared: Arc<Shared>,
    server: Server,
    base_url: String,
}

impl fmt::Debug for SapSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SapSim")
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

/// An entity set by the name the simulator's handle accepts.
fn set_named(name: &str) -> Option<Set> {
    Set::ALL.into_iter().find(|s| s.name() == name)
}

impl SapSim {
    /// Seeds the data and starts serving on `127.0.0.1:0` in the current tokio runtime.
    pub async fn start(config: Config) -> io::Result<SapSim> {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let plan = SeedPlan {
            maintenance_orders: count(config.maintenance_orders),
            equipment: count(config.equipment),
            functional_locations: count(config.functional_locations),
            purchase_orders: count(config.purchase_orders),
            stock_rows: count(config.stock_rows),
            suppliers: count(config.suppliers),
        };
        let mut store = Store::new(plan, &config.user);
        store.released_po_changeable = config.released_po_changeable;
        let mut clients = config.clients.clone();
        if !clients.contains(&config.default_client) {
            clients.push(config.default_client.clone());
        }
        let shared = Arc::new(Shared {
            settings: Settings {
                user: config.user,
                password: config.password,
                default_client: config.default_client,
                clients,
                system_id: config.system_id,
                page_size: config.page_size.max(1),
                paging: config.paging,
                unstable_order: config.unstable_order,
                csrf: config.csrf,
                batch_stops_at_first_failure: config.batch_stops_at_first_failure,
                batch_echoes_content_id: config.batch_echoes_content_id,
                omit_status_text: config.omit_status_text,
                etag_required: config.etag_required,
            },
            store: RwLock::new(store),
            recorder: Recorder::default(),
            faults: Faults::default(),
            sessions: Mutex::new(Sessions::default()),
            malformations: Mutex::default(),
            reads: std::sync::atomic::AtomicU64::new(0),
        });
        let server = Server::spawn(routes::router(shared.clone())).await?;
        let base_url = format!("http://{}/sap/opu/odata/sap", server.addr());
        Ok(SapSim {
            inner: Arc::new(Handle {
                shared,
                server,
                base_url,
            }),
        })
    }

    /// `http://127.0.0.1:PORT/sap/opu/odata/sap` (no trailing slash): service names follow.
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// The socket address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.server.addr()
    }

    /// The communication user.
    pub fn user(&self) -> &str {
        &self.inner.shared.settings.user
    }

    /// The communication user's password.
    pub fn password(&self) -> &str {
        &self.inner.shared.settings.password
    }

    /// The default client.
    pub fn default_client(&self) -> &str {
        &self.inner.shared.settings.default_client
    }

    /// The names of the simulated services.
    pub fn services() -> Vec<&'static str> {
        Service::ALL.iter().map(|s| s.name()).collect()
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

    /// The next `n` modifying requests find their session (and so their CSRF token) expired,
    /// as after SAP's security session timeout: they are answered `403` with
    /// `x-csrf-token: Required` until a new token is fetched.
    pub fn expire_sessions_on_next_writes(&self, n: usize) {
        self.inner.shared.sessions().expire_on_write += n;
    }

    /// The next `n` successful answers that `m` fits are malformed that way (see
    /// [`Malformation`]); answers it does not fit pass unchanged. Queued malformations apply in
    /// order.
    pub fn malform_next(&self, m: Malformation, n: usize) {
        self.inner.shared.malformations().push(m, n);
    }

    /// The number of entities of an entity set (`"MaintenanceOrder"`, `"A_PurchaseOrder"`,
    /// `"A_MatlStkInAcctMod"`, …); 0 for an unknown set.
    pub fn count(&self, set: &str) -> usize {
        set_named(set).map_or(0, |s| self.inner.shared.read().count(s))
    }

    /// The stored values of one entity, keys in key order as text (`["4000001"]`,
    /// `["4500000001", "10"]`; an equipment's `ValidityEndDate` as epoch milliseconds
    /// `"253402214400000"`). Dates are epoch milliseconds, decimals canonical strings.
    pub fn entity(&self, set: &str, key: &[&str]) -> Option<Map<String, Value>> {
        let set = set_named(set)?;
        let key: Vec<String> = key.iter().map(|k| (*k).to_owned()).collect();
        self.inner.shared.read().get(set, &key).map(|e| {
            e.values
                .iter()
                .filter(|(k, _)| !k.starts_with('~'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
    }

    /// The keys of every entity of a set, in key order.
    pub fn keys(&self, set: &str) -> Vec<Vec<String>> {
        set_named(set).map_or_else(Vec::new, |s| {
            self.inner
                .shared
                .read()
                .records(s)
                .map(|(k, _)| k.clone())
                .collect()
        })
    }

    /// Stops the server: no new connections, in-flight requests finish (within a few
    /// seconds). Other clones of this handle then point at a stopped server.
    pub async fn shutdown(self) {
        self.inner.server.shutdown().await;
    }
}
