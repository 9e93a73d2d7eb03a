//! The host's persistent state: which connections exist, where their credentials are, how
//! healthy each was last seen, and which webhook endpoints subscribe to their events.
//!
//! Everything lives in one state directory (`--state-dir`, `PLANTWIRE_STATE_DIR`, by default
//! `$XDG_STATE_HOME/plantwire` or `~/.local/state/plantwire`), created with mode 0700:
//!
//! | file | what it holds |
//! |---|---|
//! | `plantwire.db` | the [`ConnectionStore`]: connections, their last known health, webhook endpoints (SQLite, WAL) |
//! | `outbox.db` | the durable webhook [`Outbox`](crate::webhooks::Outbox) |
//! | `vault.json` | the default [`SealedFileVault`](crate::vault::SealedFileVault), when the sealed backend is used |
//!
//! A [`Workspace`] opens the directory and assembles live [`Connection`](crate::Connection)s
//! from it: the adapter from the registry, egress from the stored settings and the vault's
//! credential, a health monitor restored from the stored state that writes every change back,
//! and events into the outbox. It also carries out the lifecycle the CLI offers: `connect`
//! (probe first, store nothing on refusal), `reauthorize` (probe the new credentials first,
//! change nothing on refusal), `disconnect`, webhook endpoints and delivery.
//!
//! What this module must never do: store a secret outside the vault, or put one into an
//! error, a log line, a table or an event. The database holds ids, URLs, settings and
//! sanitized reasons; credentials and signing secrets are referenced by vault id.

mod credentials;
mod db;
mod records;
mod workspace;

pub use credentials::{
    CREDENTIAL_FORMS, CredentialInputError, CredentialKind, MAX_CREDENTIAL_BYTES, parse_credential,
};
pub use db::{ConnectionStore, SCHEMA_VERSION};
pub use records::{
    ConnectionRecord, EndpointRecord, MAX_ID_LEN, VaultBackend, check_base_url, check_id,
    check_origin, check_webhook_url,
};
pub use workspace::{
    CheckOutcome, ConnectRequest, DeliveryPass, MASTER_KEY_VAR, MasterKeySource, ProbeError,
    ProbeReport, Reauthorized, Workspace, WorkspaceConfig, WorkspaceError, default_state_dir,
    generate_webhook_secret, probe,
};

use std::path::PathBuf;

/// Why the store refused an input or could not do its work. No variant carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An id (connection, tenant, endpoint) breaks the naming rules; the message says which.
    #[error("invalid {what}: {reason}")]
    InvalidId {
        /// What the id names.
        what: &'static str,
        /// Which rule it breaks.
        reason: String,
    },
    /// A URL (base URL, origin, webhook URL) is not acceptable; the message says why.
    #[error("invalid {what}: {reason}")]
    InvalidUrl {
        /// What the URL is for.
        what: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// A setting is out of range.
    #[error("invalid {what}: {reason}")]
    InvalidSetting {
        /// The setting.
        what: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// Something with this id already exists.
    #[error("{what} `{id}` already exists")]
    AlreadyExists {
        /// What kind of thing.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// Nothing with this id exists.
    #[error("no {what} `{id}`")]
    NotFound {
        /// What kind of thing.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The database file or its directory could not be opened or created.
    #[error("cannot open the state database at {path}")]
    Open {
        /// The database path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused an operation.
    #[error("state database error")]
    Database(#[from] rusqlite::Error),
    /// The database was written by a newer Plantwire.
    #[error(
        "the state database has schema version {found}; this Plantwire knows up to {supported}: upgrade Plantwire"
    )]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A stored value does not parse.
    #[error("the state database is corrupt: {0}")]
    Corrupt(String),
}
