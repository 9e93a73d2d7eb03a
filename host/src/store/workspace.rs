//! The [`Workspace`]: the state directory opened, and the connection lifecycle carried out on
//! it. Live connections are assembled here from what the store and the vault hold; `connect`
//! and `reauthorize` probe the system with the credential they were given before anything is
//! written; every health change of a live connection is written back to the store, and its
//! events go into the outbox for the endpoints stored next to the connections.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use plantwire_sdk::{AdapterError, Operation};
use secrecy::SecretString;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::credentials::CredentialKind;
use super::records::{
    ConnectionRecord, EndpointRecord, VaultBackend, check_id, check_origin, check_webhook_url,
};
use super::{ConnectionStore, StoreError};
use crate::adapter::CallError;
use crate::connections::{Connection, ListOptions};
use crate::egress::{Credential, Egress, EgressError, RefreshTokenStore};
use crate::health::{HealthConfig, HealthMonitor, HealthState};
use crate::registry::Registry;
use crate::runtime::{AdapterComponent, SandboxError};
use crate::vault::{
    AwsSecretsManagerConfig, AwsSecretsManagerVault, CredentialId, EnvVault, MasterKey,
    SealedFileVault, StoredCredential, Vault, VaultError, VaultRefreshTokens,
};
use crate::webhooks::{
    Dispatcher, DispatcherConfig, Endpoint, EndpointRegistry, EndpointSecret, Event, EventSink,
    Outbox, WebhookError, sanitize_reason,
};

/// The environment variable holding the sealed vault's master key as 64 hex characters.
pub const MASTER_KEY_VAR: &str = "PLANTWIRE_MASTER_KEY";

/// The state directory by default: `$XDG_STATE_HOME/plantwire` (an absolute
/// `XDG_STATE_HOME` only, as the XDG spec says), else `~/.local/state/plantwire`.
pub fn default_state_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".local").join("state"))
        })
        .map(|d| d.join("plantwire"))
}

/// Where the sealed vault's master key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    /// A key file: 64 hex characters or 32 raw bytes, mode 0600.
    File(PathBuf),
    /// An environment variable holding 64 hex characters.
    Env(String),
    /// None configured: the sealed vault cannot be opened.
    Unset,
}

impl MasterKeySource {
    /// The key file if one is given, else [`MASTER_KEY_VAR`] if it is set, else none.
    pub fn resolve(file: Option<PathBuf>) -> MasterKeySource {
        match file {
            Some(path) => MasterKeySource::File(path),
            None if std::env::var_os(MASTER_KEY_VAR).is_some() => {
                MasterKeySource::Env(MASTER_KEY_VAR.to_owned())
            }
            None => MasterKeySource::Unset,
        }
    }

    fn load(&self) -> Result<MasterKey, WorkspaceError> {
        match self {
            MasterKeySource::File(path) => Ok(MasterKey::from_file(path)?),
            MasterKeySource::Env(var) => Ok(MasterKey::from_env(var)?),
            MasterKeySource::Unset => Err(WorkspaceError::NoMasterKey),
        }
    }
}

/// How to open a workspace.
#[derive(Debug, Clone)]
pub struct WorkspaceConfig {
    /// The state directory.
    pub state_dir: PathBuf,
    /// The backend new credentials and signing secrets go to.
    pub vault: VaultBackend,
    /// The sealed vault file; `vault.json` in the state directory by default.
    pub vault_file: Option<PathBuf>,
    /// The sealed vault's master key.
    pub master_key: MasterKeySource,
    /// Where AWS Secrets Manager is, for credentials kept there.
    pub aws: AwsSecretsManagerConfig,
}

/// Why a workspace operation failed. No variant carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkspaceError {
    /// No state directory was given and none could be derived.
    #[error("no state directory: set --state-dir or PLANTWIRE_STATE_DIR (or HOME)")]
    NoStateDir,
    /// The state directory could not be created or is not a directory.
    #[error("cannot use the state directory {path}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The vault refused or failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The webhook outbox or an endpoint refused or failed.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// The connection's egress could not be set up (base URL policy, credential kind).
    #[error(transparent)]
    Egress(#[from] EgressError),
    /// The credential input was refused.
    #[error(transparent)]
    Credential(#[from] super::CredentialInputError),
    /// The sealed vault is needed and no master key is configured.
    #[error(
        "the sealed vault needs its master key: set {MASTER_KEY_VAR} to its 64 hex characters or pass --master-key-file FILE; `plantwire vault keygen FILE` creates a key"
    )]
    NoMasterKey,
    /// No loaded adapter serves the system.
    #[error("no adapter for system `{system}` is loaded (loaded: {loaded})")]
    UnknownSystem {
        /// The system asked for.
        system: String,
        /// The systems loaded, comma-separated.
        loaded: String,
    },
    /// A granted origin is not one the adapter declares.
    #[error("the {system} adapter does not declare the origin {origin} (it declares: {declared})")]
    OriginNotDeclared {
        /// The system.
        system: String,
        /// The origin refused.
        origin: String,
        /// The origins declared, comma-separated.
        declared: String,
    },
    /// The system needs a credential and none was given.
    #[error("{system} needs a {kind} credential: pass --credential-file FILE (or - for standard input) holding {}", kind.form())]
    MissingCredential {
        /// The system.
        system: String,
        /// The kind it takes.
        kind: CredentialKind,
    },
    /// The credential's kind does not fit the adapter's auth scheme.
    #[error("{system} takes a {expected} credential, not a {given} one")]
    WrongCredentialKind {
        /// The system.
        system: String,
        /// The kind it takes.
        expected: CredentialKind,
        /// The kind given.
        given: CredentialKind,
    },
    /// A secret was given for a backend that cannot store it.
    #[error(
        "the {backend} vault is read-only: {what} cannot be written to it; set it in the environment ({hint}) or choose a writable vault"
    )]
    ReadOnlyVault {
        /// The backend.
        backend: VaultBackend,
        /// What was to be written.
        what: &'static str,
        /// Where the backend reads it from.
        hint: String,
    },
    /// The probe of the system failed; nothing was stored or changed.
    #[error("{system} at {origin}: {error}; {outcome}")]
    Probe {
        /// The system's display name.
        system: String,
        /// The origin probed.
        origin: String,
        /// What went wrong (part of the message, so not a `source`).
        error: ProbeError,
        /// What became of the request (`nothing was stored`, `nothing was changed`).
        outcome: &'static str,
    },
}

/// Why a probe of a system failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The system refused the credentials.
    #[error("the credentials were refused (HTTP {status}): {reason}")]
    Refused {
        /// 401 or 403.
        status: u16,
        /// The system's reason (sanitized).
        reason: String,
    },
    /// The system could not be reached or did not answer in time.
    #[error("the system is unreachable: {reason}")]
    Unreachable {
        /// Why (sanitized).
        reason: String,
    },
    /// The system answered, but not with a page of records.
    #[error("the probe failed: {reason}")]
    Failed {
        /// Why (sanitized).
        reason: String,
    },
    /// The adapter declares nothing that can be listed.
    #[error(
        "the adapter declares no entity that can be listed, so the connection cannot be probed (skip the probe with --no-check)"
    )]
    NothingToProbe,
}

/// What a successful probe did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// The entity listed.
    pub entity: String,
    /// Records returned (at most one).
    pub records: usize,
}

/// Probes a connection with the cheapest call every adapter has: one page of one record of
/// the first entity it can list. A call through a connection with a health monitor feeds it.
pub async fn probe(connection: &Connection) -> Result<ProbeReport, ProbeError> {
    let entity = connection
        .info()
        .entities
        .iter()
        .find(|e| e.support(Operation::List).is_supported())
        .map(|e| e.name.clone())
        .ok_or(ProbeError::NothingToProbe)?;
    let options = ListOptions {
        page_size: Some(1),
        ..ListOptions::default()
    };
    match connection.list(&entity, options).await {
        Ok(page) => Ok(ProbeReport {
            entity,
            records: page.records.len(),
        }),
        Err(e) => Err(classify(e)),
    }
}

/// Sorts a call's failure into refused credentials, an unreachable system, or anything else.
fn classify(e: CallError) -> ProbeError {
    let reason = |text: &str| sanitize_reason(text);
    match e {
        CallError::Adapter(AdapterError::Unauthorized(r)) => ProbeError::Refused {
            status: 401,
            reason: reason(&r),
        },
        // The host's own policy refusals reach the adapter as forbidden too; they are not
        // about the credentials.
        CallError::Adapter(AdapterError::Forbidden(r)) if r.contains("destination refused") => {
            ProbeError::Failed { reason: reason(&r) }
        }
        CallError::Adapter(AdapterError::Forbidden(r)) => ProbeError::Refused {
            status: 403,
            reason: reason(&r),
        },
        CallError::Adapter(AdapterError::Transient(r)) => {
            ProbeError::Unreachable { reason: reason(&r) }
        }
        CallError::Adapter(AdapterError::RateLimited(_)) => ProbeError::Unreachable {
            reason: "the system asks to slow down (rate limited); try again later".into(),
        },
        CallError::Adapter(AdapterError::Upstream(u)) if u.status >= 500 => {
            ProbeError::Unreachable {
                reason: reason(&format!("HTTP {}: {}", u.status, u.message)),
            }
        }
        CallError::Sandbox(SandboxError::Deadline(d)) => ProbeError::Unreachable {
            reason: format!("no answer within {d:?}"),
        },
        other => ProbeError::Failed {
            reason: reason(&other.to_string()),
        },
    }
}

/// What `connect` is asked to do.
#[derive(Debug, Clone)]
pub struct ConnectRequest {
    /// The new connection's id.
    pub id: String,
    /// The adapter's system id.
    pub system: String,
    /// The system's base URL.
    pub base_url: String,
    /// The tenant owning the connection.
    pub tenant: Option<String>,
    /// Whether the base URL may be a private address.
    pub allow_private_network: bool,
    /// Origins to grant besides the base URL's; each must be declared by the adapter.
    pub granted_origins: Vec<String>,
    /// Per-request timeout; 30 s when `None`.
    pub timeout: Option<Duration>,
    /// The credential, for a writable vault; `None` for the environment vault (which holds
    /// it) or a system that needs none.
    pub credential: Option<StoredCredential>,
    /// Whether to probe the system before storing anything.
    pub check: bool,
}

/// One check of `connections --check`.
#[derive(Debug)]
pub struct CheckOutcome {
    /// The connection.
    pub id: String,
    /// What the probe found; `Err` also when the connection could not be assembled.
    pub result: Result<ProbeReport, String>,
    /// The health after the check.
    pub health: HealthState,
}

/// What `reauthorize` did.
#[derive(Debug)]
pub struct Reauthorized {
    /// The health before.
    pub before: HealthState,
    /// The health after.
    pub after: HealthState,
    /// The probe with the new credential.
    pub probe: ProbeReport,
}

/// What a webhook delivery pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryPass {
    /// Messages delivered.
    pub delivered: usize,
    /// Failed attempts that will be retried.
    pub retrying: usize,
    /// Messages given up on.
    pub failed: usize,
    /// Messages still pending after the pass (scheduled retries, or not reached in time).
    pub pending: u64,
    /// Endpoints left out of the pass, with the reason (their secret could not be read).
    pub skipped: Vec<(String, String)>,
}

/// Writes each event to the outbox once for every stored endpoint that receives it. The
/// endpoints are read when the sink is made: it is called while the store is locked.
struct OutboxEvents {
    outbox: Outbox,
    subscribers: Vec<EndpointRecord>,
}

impl EventSink for OutboxEvents {
    fn emit(&self, event: Event) {
        let ids: Vec<&str> = self
            .subscribers
            .iter()
            .filter(|e| e.receives(event.tenant.as_deref()))
            .map(|e| e.id.as_str())
            .collect();
        if ids.is_empty() {
            return;
        }
        if let Err(error) = self
            .outbox
            .enqueue_many(ids, &event, OffsetDateTime::now_utc())
        {
            tracing::error!(
                event = %event.kind,
                connection = %event.connection_id,
                error = %error,
                "webhook event could not be written to the outbox"
            );
        }
    }
}

/// Keeps a refresh token rotated during a probe, so the credential stored afterwards is the
/// one that still works.
#[derive(Default)]
struct RotatedRefreshToken(Mutex<Option<SecretString>>);

#[async_trait]
impl RefreshTokenStore for RotatedRefreshToken {
    async fn persist(&self, refresh_token: &SecretString) -> Result<(), String> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(refresh_token.clone());
        Ok(())
    }
}

/// The state directory opened: the connection store, the outbox and (when first needed) the
/// sealed vault.
#[derive(Debug)]
pub struct Workspace {
    config: WorkspaceConfig,
    store: ConnectionStore,
    outbox: Outbox,
    sealed: tokio::sync::OnceCell<Arc<SealedFileVault>>,
    aws: tokio::sync::OnceCell<Arc<AwsSecretsManagerVault>>,
}

const STORE_FILE: &str = "plantwire.db";
const OUTBOX_FILE: &str = "outbox.db";
const VAULT_FILE: &str = "vault.json";

impl Workspace {
    /// Opens the workspace, creating the state directory (mode 0700) and its databases when
    /// they do not exist.
    pub fn open(config: WorkspaceConfig) -> Result<Workspace, WorkspaceError> {
        ensure_dir(&config.state_dir)?;
        let store = ConnectionStore::open(config.state_dir.join(STORE_FILE))?;
        let outbox = Outbox::open(config.state_dir.join(OUTBOX_FILE))?;
        Ok(Workspace {
            config,
            store,
            outbox,
            sealed: tokio::sync::OnceCell::new(),
            aws: tokio::sync::OnceCell::new(),
        })
    }

    /// Opens the workspace if it exists; `None` when nothing was ever stored (for commands
    /// that only read).
    pub fn open_existing(config: WorkspaceConfig) -> Result<Option<Workspace>, WorkspaceError> {
        if !config.state_dir.join(STORE_FILE).exists() {
            return Ok(None);
        }
        Workspace::open(config).map(Some)
    }

    /// The connection store.
    pub fn store(&self) -> &ConnectionStore {
        &self.store
    }

    /// The webhook outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.config.state_dir
    }

    /// The sealed vault file.
    pub fn vault_file(&self) -> PathBuf {
        self.config
            .vault_file
            .clone()
            .unwrap_or_else(|| self.config.state_dir.join(VAULT_FILE))
    }

    /// The sealed vault, opened with the configured key (created empty when `create` and it
    /// does not exist yet).
    pub async fn sealed_vault(&self, create: bool) -> Result<Arc<SealedFileVault>, WorkspaceError> {
        let vault = self
            .sealed
            .get_or_try_init(|| async {
                let key = self.config.master_key.load()?;
                let path = self.vault_file();
                let vault = if create && !path.exists() {
                    SealedFileVault::create(&path, key)?
                } else {
                    SealedFileVault::open(&path, key)?
                };
                Ok::<_, WorkspaceError>(Arc::new(vault))
            })
            .await?;
        Ok(Arc::clone(vault))
    }

    /// The vault `backend`, able to read `ids` (the environment backend checks them at open);
    /// a sealed vault file is created when `create`.
    async fn vault(
        &self,
        backend: VaultBackend,
        ids: &[CredentialId],
        create: bool,
    ) -> Result<Arc<dyn Vault>, WorkspaceError> {
        // A new backend is one more arm here, and one more `VaultBackend` variant.
        match backend {
            VaultBackend::Sealed => Ok(self.sealed_vault(create).await?),
            VaultBackend::Env => Ok(Arc::new(EnvVault::open(ids)?)),
            VaultBackend::Aws => Ok(self.aws_vault().await?),
        }
    }

    /// The AWS Secrets Manager vault, opened (and its endpoint and credentials checked) when
    /// first needed.
    pub async fn aws_vault(&self) -> Result<Arc<AwsSecretsManagerVault>, WorkspaceError> {
        let vault = self
            .aws
            .get_or_try_init(|| async {
                let vault = AwsSecretsManagerVault::open(self.config.aws.clone()).await?;
                Ok::<_, WorkspaceError>(Arc::new(vault))
            })
            .await?;
        Ok(Arc::clone(vault))
    }

    /// The sink of live connections' events: the outbox, once per subscribed endpoint.
    fn event_sink(&self) -> Result<Arc<dyn EventSink>, WorkspaceError> {
        Ok(Arc::new(OutboxEvents {
            outbox: self.outbox.clone(),
            subscribers: self.store.endpoints()?,
        }))
    }

    /// A live connection by id: the adapter from `registry`, egress from the stored settings
    /// and the vault's credential, and a health monitor restored from the store that writes
    /// every change back and sends its events to the outbox.
    pub async fn connection(
        &self,
        registry: &Registry,
        id: &str,
    ) -> Result<Connection, WorkspaceError> {
        let record = self
            .store
            .connection(id)?
            .ok_or_else(|| StoreError::NotFound {
                what: "connection",
                id: id.to_owned(),
            })?;
        self.live(registry, &record, self.event_sink()?).await
    }

    async fn live(
        &self,
        registry: &Registry,
        record: &ConnectionRecord,
        sink: Arc<dyn EventSink>,
    ) -> Result<Connection, WorkspaceError> {
        let component = adapter(registry, &record.system)?;
        let credential = match &record.credential_id {
            None => Credential::None,
            Some(cid) => {
                let vault = self
                    .vault(record.vault, std::slice::from_ref(cid), false)
                    .await?;
                VaultRefreshTokens::credential(vault, cid).await?
            }
        };
        let monitor = HealthMonitor::restore(
            record.id.clone(),
            record.tenant.clone(),
            HealthConfig::default(),
            sink,
            Arc::new(self.store.clone()),
            self.store.health(&record.id)?,
        );
        Ok(bind(component, record, credential)?.with_health(monitor))
    }

    /// Makes a connection: checks the request, probes the system with the credential (unless
    /// `check` is off), and only then stores the credential in the vault and the connection,
    /// healthy. A refused credential, an unreachable system or any invalid input stores
    /// nothing.
    pub async fn connect(
        &self,
        registry: &Registry,
        request: ConnectRequest,
    ) -> Result<(ConnectionRecord, Option<ProbeReport>), WorkspaceError> {
        check_id("connection id", &request.id)?;
        if self.store.connection(&request.id)?.is_some() {
            return Err(StoreError::AlreadyExists {
                what: "connection",
                id: request.id,
            }
            .into());
        }
        let component = adapter(registry, &request.system)?;
        let info = component.info();
        let kind = CredentialKind::for_scheme(&info.auth);
        let backend = self.config.vault;
        let credential_id = match kind {
            CredentialKind::None => None,
            _ => Some(ConnectionRecord::credential_id_for(&request.id)?),
        };
        let mut record = ConnectionRecord::new(
            &request.id,
            &request.system,
            &request.base_url,
            credential_id.clone(),
            backend,
        )?;
        record.tenant = request.tenant;
        record.allow_private_network = request.allow_private_network;
        // Where the credential goes is confirmed by making the connection (the CLI shows it).
        record.credential_endpoints = Some(crate::egress::credential_endpoints(&info.auth));
        if let Some(timeout) = request.timeout {
            record.timeout = timeout;
        }
        for origin in &request.granted_origins {
            let origin = check_origin(origin)?;
            let declared = info
                .extra_origins
                .iter()
                .any(|d| url::Url::parse(d).is_ok_and(|d| d.origin() == origin.origin()));
            if !declared {
                return Err(WorkspaceError::OriginNotDeclared {
                    system: request.system.clone(),
                    origin: origin.origin().ascii_serialization(),
                    declared: list_or_none(&info.extra_origins),
                });
            }
            if !record.granted_origins.contains(&origin) {
                record.granted_origins.push(origin);
            }
        }
        record.check()?;

        let (vault, credential) = self
            .credential_for(component, &record, request.credential, "the credential")
            .await?;
        let (connection, rotated) = probe_connection(component, &record, credential.as_ref())?;
        let report = if request.check {
            Some(
                probe(&connection)
                    .await
                    .map_err(|error| WorkspaceError::Probe {
                        system: info.display_name.clone(),
                        origin: record.base_url.origin().ascii_serialization(),
                        error,
                        outcome: "nothing was stored",
                    })?,
            )
        } else {
            None
        };

        self.store.insert_connection(&record)?;
        if let (Some(vault), Some(cid), Some(credential)) = (vault, &credential_id, credential) {
            let credential = with_rotated(credential, &rotated);
            if let Err(e) = vault.put(cid, &credential).await {
                if let Err(undo) = self.store.remove_connection(&record.id) {
                    tracing::error!(connection = %record.id, error = %undo, "could not undo a connection whose credential was not stored");
                }
                return Err(e.into());
            }
        }
        Ok((record, report))
    }

    /// The vault to write to (writable backends) and the credential to use: the one given
    /// for a writable backend, the one the environment holds for the environment backend.
    async fn credential_for(
        &self,
        component: &AdapterComponent,
        record: &ConnectionRecord,
        given: Option<StoredCredential>,
        what: &'static str,
    ) -> Result<(Option<Arc<dyn Vault>>, Option<StoredCredential>), WorkspaceError> {
        let info = component.info();
        let kind = CredentialKind::for_scheme(&info.auth);
        let Some(cid) = &record.credential_id else {
            if given.is_some() {
                return Err(super::CredentialInputError::NotNeeded.into());
            }
            return Ok((None, None));
        };
        if !record.vault.writable() {
            if given.is_some() {
                return Err(WorkspaceError::ReadOnlyVault {
                    backend: record.vault,
                    what,
                    hint: env_hint(cid),
                });
            }
            let vault = self
                .vault(record.vault, std::slice::from_ref(cid), false)
                .await?;
            let stored = vault.get(cid).await?;
            check_kind(&info.display_name, kind, &stored)?;
            return Ok((None, Some(stored)));
        }
        let Some(given) = given else {
            return Err(WorkspaceError::MissingCredential {
                system: info.display_name.clone(),
                kind,
            });
        };
        check_kind(&info.display_name, kind, &given)?;
        // Opened (or created) before the probe, so a missing key is reported first.
        let vault = self.vault(record.vault, &[], true).await?;
        Ok((Some(vault), Some(given)))
    }

    /// Every connection with its last known health.
    pub fn connections(
        &self,
    ) -> Result<Vec<(ConnectionRecord, crate::health::HealthSnapshot)>, WorkspaceError> {
        let mut out = Vec::new();
        for record in self.store.connections()? {
            let health = self.store.health(&record.id)?;
            out.push((record, health));
        }
        Ok(out)
    }

    /// Probes every connection through its live connection, so its health (and the store,
    /// and the outbox) follow what the probe finds. A connection that cannot be assembled
    /// (its credential is missing, its adapter is not loaded) is reported and left as it was.
    pub async fn check_all(
        &self,
        registry: &Registry,
    ) -> Result<Vec<CheckOutcome>, WorkspaceError> {
        let sink = self.event_sink()?;
        let mut outcomes = Vec::new();
        for record in self.store.connections()? {
            let result = match self.live(registry, &record, sink.clone()).await {
                Ok(connection) => probe(&connection).await.map_err(|e| e.to_string()),
                Err(e) => Err(format!("cannot check it: {}", chain(&e))),
            };
            outcomes.push(CheckOutcome {
                health: self.store.health(&record.id)?.state,
                id: record.id,
                result,
            });
        }
        Ok(outcomes)
    }

    /// Replaces a connection's credential: probes the system with the new one first, and
    /// changes nothing if it is refused or the system is unreachable. Once it is accepted,
    /// the vault entry is replaced and a needs-reauthorization (or degraded) episode ends
    /// with one `connection.recovered`.
    pub async fn reauthorize(
        &self,
        registry: &Registry,
        id: &str,
        credential: Option<StoredCredential>,
    ) -> Result<Reauthorized, WorkspaceError> {
        let record = self
            .store
            .connection(id)?
            .ok_or_else(|| StoreError::NotFound {
                what: "connection",
                id: id.to_owned(),
            })?;
        let component = adapter(registry, &record.system)?;
        let (vault, credential) = self
            .credential_for(component, &record, credential, "the new credential")
            .await?;
        let (connection, rotated) = probe_connection(component, &record, credential.as_ref())?;
        let report = probe(&connection)
            .await
            .map_err(|error| WorkspaceError::Probe {
                system: component.info().display_name.clone(),
                origin: record.base_url.origin().ascii_serialization(),
                error,
                outcome: "nothing was changed",
            })?;
        if let (Some(vault), Some(cid), Some(credential)) =
            (vault, &record.credential_id, credential)
        {
            vault.put(cid, &with_rotated(credential, &rotated)).await?;
        }
        self.store.touch_connection(&record.id)?;
        let before = self.store.health(&record.id)?;
        let monitor = HealthMonitor::restore(
            record.id.clone(),
            record.tenant.clone(),
            HealthConfig::default(),
            self.event_sink()?,
            Arc::new(self.store.clone()),
            before.clone(),
        );
        monitor.reauthorized();
        // The probe succeeded: that also ends a degraded episode.
        monitor.record_success();
        Ok(Reauthorized {
            before: before.state,
            after: self.store.health(&record.id)?.state,
            probe: report,
        })
    }

    /// Where connection `id`'s adapter sends the credential now, and what the operator
    /// confirmed before (`none` when nothing was): `(confirmed, declared)`.
    pub fn credential_endpoints(
        &self,
        registry: &Registry,
        id: &str,
    ) -> Result<(String, String), WorkspaceError> {
        let record = self
            .store
            .connection(id)?
            .ok_or_else(|| StoreError::NotFound {
                what: "connection",
                id: id.to_owned(),
            })?;
        let component = adapter(registry, &record.system)?;
        let declared = crate::egress::credential_endpoints(&component.info().auth);
        let confirmed = record
            .credential_endpoints
            .unwrap_or_else(|| "none".to_owned());
        Ok((confirmed, declared))
    }

    /// The operator confirms where connection `id`'s adapter now sends the credential (after
    /// an adapter update that changed its login path, field names or token URL); returns what
    /// was confirmed. Until this is done the connection refuses to run.
    pub fn confirm_endpoints(
        &self,
        registry: &Registry,
        id: &str,
    ) -> Result<String, WorkspaceError> {
        let (_, declared) = self.credential_endpoints(registry, id)?;
        self.store.confirm_credential_endpoints(id, &declared)?;
        Ok(declared)
    }

    /// Removes a connection, its health and (from a writable vault) its credential. Returns
    /// the removed connection.
    pub async fn disconnect(&self, id: &str) -> Result<ConnectionRecord, WorkspaceError> {
        let record = self
            .store
            .connection(id)?
            .ok_or_else(|| StoreError::NotFound {
                what: "connection",
                id: id.to_owned(),
            })?;
        // The vault first: without its key the credential could not be removed afterwards.
        let vault = match (&record.credential_id, record.vault.writable()) {
            (Some(_), true) => Some(self.vault(record.vault, &[], false).await?),
            _ => None,
        };
        let record = self.store.remove_connection(id)?;
        if let (Some(vault), Some(cid)) = (vault, &record.credential_id) {
            match vault.delete(cid).await {
                Ok(()) | Err(VaultError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(record)
    }

    /// Adds a webhook endpoint. The signing secret goes to the vault (the given one, or a
    /// new one, returned so it can be shown once); the environment backend reads it from
    /// `PLANTWIRE_CRED_WEBHOOK_<ID>_TOKEN` instead.
    pub async fn add_endpoint(
        &self,
        id: &str,
        url: &str,
        tenant: Option<String>,
        secret: Option<SecretString>,
    ) -> Result<(EndpointRecord, Option<SecretString>), WorkspaceError> {
        check_id("endpoint id", id)?;
        let url = check_webhook_url(url)?;
        if let Some(t) = &tenant {
            check_id("tenant", t)?;
        }
        let record = EndpointRecord {
            id: id.to_owned(),
            url: url.clone(),
            tenant,
            secret_id: EndpointRecord::secret_id_for(id)?,
            vault: self.config.vault,
            created_at: OffsetDateTime::now_utc(),
        };
        record.check()?;
        if self.store.endpoints()?.iter().any(|e| e.id == id) {
            return Err(StoreError::AlreadyExists {
                what: "webhook endpoint",
                id: id.to_owned(),
            }
            .into());
        }
        // Checked here too: the URL rules of the dispatcher's endpoints. The record has no
        // private-network flag yet, so an operator's endpoint may be on loopback or a
        // private network; addresses no endpoint may use (link-local, documentation, …)
        // are refused.
        let placeholder = generate_webhook_secret();
        Endpoint::on_private_network(id, url, EndpointSecret::new(placeholder)?)?;

        if !record.vault.writable() {
            if secret.is_some() {
                return Err(WorkspaceError::ReadOnlyVault {
                    backend: record.vault,
                    what: "the signing secret",
                    hint: env_hint(&record.secret_id),
                });
            }
            let vault = self
                .vault(record.vault, std::slice::from_ref(&record.secret_id), false)
                .await?;
            endpoint_secret(&*vault, &record.secret_id).await?;
            self.store.insert_endpoint(&record)?;
            return Ok((record, None));
        }
        let (secret, generated) = match secret {
            Some(s) => (s, false),
            None => (generate_webhook_secret(), true),
        };
        EndpointSecret::new(secret.clone())?;
        let vault = self.vault(record.vault, &[], true).await?;
        self.store.insert_endpoint(&record)?;
        let stored = StoredCredential::Token {
            token: secret.clone(),
        };
        if let Err(e) = vault.put(&record.secret_id, &stored).await {
            if let Err(undo) = self.store.remove_endpoint(&record.id) {
                tracing::error!(endpoint = %record.id, error = %undo, "could not undo an endpoint whose secret was not stored");
            }
            return Err(e.into());
        }
        Ok((record, generated.then_some(secret)))
    }

    /// Removes a webhook endpoint and (from a writable vault) its secret. Messages already
    /// in the outbox for it are retried until they give up.
    pub async fn remove_endpoint(&self, id: &str) -> Result<EndpointRecord, WorkspaceError> {
        let Some(record) = self.store.endpoints()?.into_iter().find(|e| e.id == id) else {
            return Err(StoreError::NotFound {
                what: "webhook endpoint",
                id: id.to_owned(),
            }
            .into());
        };
        let vault = if record.vault.writable() {
            Some(self.vault(record.vault, &[], false).await?)
        } else {
            None
        };
        let record = self.store.remove_endpoint(id)?;
        if let Some(vault) = vault {
            match vault.delete(&record.secret_id).await {
                Ok(()) | Err(VaultError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(record)
    }

    /// A dispatcher for the stored endpoints, their secrets read from the vault. Endpoints
    /// whose secret cannot be read are left out (and returned with the reason); their
    /// messages wait in the outbox.
    pub async fn dispatcher(
        &self,
        config: DispatcherConfig,
    ) -> Result<(Dispatcher, Vec<(String, String)>), WorkspaceError> {
        let mut endpoints = Vec::new();
        let mut skipped = Vec::new();
        for record in self.store.endpoints()? {
            let endpoint = async {
                let vault = self
                    .vault(record.vault, std::slice::from_ref(&record.secret_id), false)
                    .await?;
                let secret = endpoint_secret(&*vault, &record.secret_id).await?;
                let mut endpoint =
                    Endpoint::on_private_network(record.id.clone(), record.url.clone(), secret)?;
                if let Some(t) = &record.tenant {
                    endpoint = endpoint.for_tenant(t.clone());
                }
                Ok::<_, WorkspaceError>(endpoint)
            }
            .await;
            match endpoint {
                Ok(e) => endpoints.push(e),
                Err(e) => skipped.push((record.id.clone(), chain(&e))),
            }
        }
        let registry = EndpointRegistry::new(endpoints)?;
        Ok((
            Dispatcher::new(self.outbox.clone(), registry, config)?,
            skipped,
        ))
    }

    /// One bounded delivery pass: attempts what is due until nothing more is, or `budget`
    /// runs out. What is not delivered stays in the outbox for the next pass.
    pub async fn deliver(&self, budget: Duration) -> Result<DeliveryPass, WorkspaceError> {
        let mut pass = DeliveryPass::default();
        if self.outbox.counts()?.pending == 0 {
            return Ok(pass);
        }
        let config = DispatcherConfig {
            request_timeout: budget.min(Duration::from_secs(10)),
            connect_timeout: budget.min(Duration::from_secs(3)),
            ..DispatcherConfig::default()
        };
        let (dispatcher, skipped) = self.dispatcher(config).await?;
        pass.skipped = skipped;
        let deadline = tokio::time::Instant::now() + budget;
        loop {
            let step = tokio::time::timeout_at(
                deadline,
                dispatcher.deliver_due(OffsetDateTime::now_utc()),
            )
            .await;
            match step {
                Ok(Ok(report)) => {
                    pass.delivered += report.delivered;
                    pass.retrying += report.retrying;
                    pass.failed += report.failed;
                    if report.attempted == 0 {
                        break;
                    }
                }
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => break,
            }
        }
        pass.pending = self.outbox.counts()?.pending;
        Ok(pass)
    }

    /// Re-seals the sealed vault with `new_key`; returns the new key's id.
    pub async fn rotate_vault(&self, new_key: MasterKey) -> Result<String, WorkspaceError> {
        let id = new_key.id().to_owned();
        self.sealed_vault(false).await?.rotate(new_key).await?;
        Ok(id)
    }
}

/// The adapter serving `system`.
fn adapter<'r>(
    registry: &'r Registry,
    system: &str,
) -> Result<&'r AdapterComponent, WorkspaceError> {
    registry
        .get(system)
        .ok_or_else(|| WorkspaceError::UnknownSystem {
            system: system.to_owned(),
            loaded: list_or_none(registry.systems()),
        })
}

/// A connection for probing with `credential`, not yet stored: no health monitor, and a
/// rotated OAuth 2.0 refresh token kept aside for storing afterwards.
fn probe_connection(
    component: &AdapterComponent,
    record: &ConnectionRecord,
    credential: Option<&StoredCredential>,
) -> Result<(Connection, Arc<RotatedRefreshToken>), WorkspaceError> {
    let rotated = Arc::new(RotatedRefreshToken::default());
    let credential = match credential.map(StoredCredential::to_credential) {
        None => Credential::None,
        Some(Credential::OAuth2 {
            client_id,
            client_secret,
            refresh_token,
            ..
        }) => Credential::OAuth2 {
            client_id,
            client_secret,
            refresh_token,
            store: Some(rotated.clone()),
        },
        Some(other) => other,
    };
    Ok((bind(component, record, credential)?, rotated))
}

/// The credential with the refresh token rotated during the probe, if one was.
fn with_rotated(credential: StoredCredential, rotated: &RotatedRefreshToken) -> StoredCredential {
    let token = rotated
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    match (credential, token) {
        (
            StoredCredential::OAuth2 {
                client_id,
                client_secret,
                ..
            },
            Some(token),
        ) => StoredCredential::OAuth2 {
            client_id,
            client_secret,
            refresh_token: Some(token),
        },
        (credential, _) => credential,
    }
}

/// The connection's adapter bound to an egress with `credential`.
fn bind(
    component: &AdapterComponent,
    record: &ConnectionRecord,
    credential: Credential,
) -> Result<Connection, WorkspaceError> {
    let info = component.info();
    let egress = Egress::with_declared_origins(
        record.egress_config(),
        info.auth.clone(),
        credential,
        &info.extra_origins,
    )?;
    let adapter = component.bind(&record.id, Arc::new(egress));
    Ok(Connection::new(record.id.clone(), Arc::new(adapter)))
}

fn check_kind(
    system: &str,
    expected: CredentialKind,
    given: &StoredCredential,
) -> Result<(), WorkspaceError> {
    let given = CredentialKind::of(given);
    if given != expected {
        return Err(WorkspaceError::WrongCredentialKind {
            system: system.to_owned(),
            expected,
            given,
        });
    }
    Ok(())
}

/// An endpoint's signing secret from the vault.
async fn endpoint_secret(
    vault: &dyn Vault,
    id: &CredentialId,
) -> Result<EndpointSecret, WorkspaceError> {
    match vault.get(id).await? {
        StoredCredential::Token { token } => Ok(EndpointSecret::new(token)?),
        other => Err(VaultError::Corrupt(format!(
            "`{id}` holds a {} credential, not a webhook signing secret",
            other.kind()
        ))
        .into()),
    }
}

/// The variables the environment backend reads for `id` (token form).
fn env_hint(id: &CredentialId) -> String {
    let upper: String = id
        .as_str()
        .chars()
        .map(|c| match c {
            '.' | '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("PLANTWIRE_CRED_{upper}_*")
}

fn list_or_none<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| s.as_ref().to_owned()).collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// An error with its sources, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// Creates the state directory (and missing parents) with mode 0700, or checks that the
/// existing one is a directory; warns when it is open to group or others.
fn ensure_dir(path: &Path) -> Result<(), WorkspaceError> {
    let fail = |source| WorkspaceError::StateDir {
        path: path.to_owned(),
        source,
    };
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        path = %path.display(),
                        mode = format!("{mode:04o}"),
                        "the state directory is open to group or others"
                    );
                }
            }
            Ok(())
        }
        Ok(_) => Err(fail(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "it exists and is not a directory",
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder.create(path).map_err(fail)
        }
        Err(e) => Err(fail(e)),
    }
}

/// A new Standard Webhooks signing secret: `whsec_` and the base64 of 32 random bytes.
pub fn generate_webhook_secret() -> SecretString {
    let mut bytes = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut bytes[..]);
    let mut text = String::with_capacity(6 + 44);
    text.push_str("whsec_");
    base64_into(&bytes[..], &mut text);
    SecretString::from(text)
}

/// Standard base64 with padding, appended to `out` (which must not reallocate: it holds a
/// secret, so the caller reserves the room).
fn base64_into(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(ALPHABET[(i & 63) as usize]);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn generated_secrets_are_valid_and_distinct() {
        let a = generate_webhook_secret();
        let b = generate_webhook_secret();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(a.expose_secret().len(), 6 + 44);
        EndpointSecret::new(a).expect("valid");
    }

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = String::new();
            base64_into(input.as_bytes(), &mut out);
            assert_eq!(out, expected);
        }
    }

    #[test]
    fn env_hints_name_the_variables() {
        let id = ConnectionRecord::credential_id_for("mx-prod.eu").expect("id");
        assert_eq!(env_hint(&id), "PLANTWIRE_CRED_CONN_MX_PROD_EU_*");
    }

    #[test]
    fn probe_failures_are_sorted() {
        use plantwire_sdk::UpstreamError;
        let refused = classify(CallError::Adapter(AdapterError::Unauthorized(
            "MaintainX refused the API key: Invalid token".into(),
        )));
        assert!(matches!(refused, ProbeError::Refused { status: 401, .. }));
        let down = classify(CallError::Adapter(AdapterError::Transient(
            "connection failed: connection refused".into(),
        )));
        assert!(matches!(down, ProbeError::Unreachable { .. }));
        let policy = classify(CallError::Adapter(AdapterError::Forbidden(
            "destination refused: private address".into(),
        )));
        assert!(matches!(policy, ProbeError::Failed { .. }));
        let five = classify(CallError::Adapter(AdapterError::Upstream(UpstreamError {
            status: 503,
            code: None,
            message: "maintenance".into(),
        })));
        assert!(matches!(five, ProbeError::Unreachable { .. }));
        let secret = classify(CallError::Adapter(AdapterError::Unauthorized(
            "Authorization: Bearer planted-s3cret".into(),
        )));
        assert!(!secret.to_string().contains("planted-s3cret"), "{secret}");
    }
}
