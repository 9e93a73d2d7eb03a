//! The vault's one error type. Its messages name credential ids, variables, files and key ids,
//! never a secret's bytes: a message may end up in a log or an API response.

use std::io;
use std::path::Path;

use super::CredentialId;

/// Why a vault operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// No credential is stored under this id.
    #[error("no credential `{0}` in the vault")]
    NotFound(CredentialId),
    /// A credential id is malformed; the reason says which rule it breaks.
    #[error("invalid credential id: {0}")]
    InvalidId(String),
    /// An entry did not open: a wrong key, a changed byte, or a ciphertext moved from another id.
    #[error(
        "credential `{id}` could not be opened: it was tampered with, sealed under another id, or sealed with another key"
    )]
    Tampered {
        /// The id whose entry failed to open.
        id: CredentialId,
    },
    /// The vault file was sealed with another master key than the configured one.
    #[error(
        "the vault was sealed with key {sealed_with}, the configured key is {configured}; configure the key the vault was sealed with"
    )]
    WrongKey {
        /// Key id recorded in the vault file.
        sealed_with: String,
        /// Key id of the configured master key.
        configured: String,
    },
    /// The backend cannot store or delete credentials (the environment, for instance).
    #[error("the {backend} vault is read-only")]
    ReadOnly {
        /// The backend that refused the write.
        backend: &'static str,
    },
    /// Reading or writing the backend's storage failed.
    #[error("{context}")]
    Io {
        /// What the vault was doing, with the file concerned.
        context: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The backend is misconfigured (missing key, file or variable); reported at start.
    #[error("vault misconfigured: {0}")]
    Config(String),
    /// The vault's storage exists but cannot be parsed.
    #[error("vault storage is corrupt: {0}")]
    Corrupt(String),
    /// A remote backend could not be reached: connection refused, name resolution, TLS, or no
    /// answer in time.
    #[error("the {backend} vault at {endpoint} cannot be reached: {reason}")]
    Unreachable {
        /// The backend, as [`Vault::backend`](super::Vault::backend) names it.
        backend: &'static str,
        /// Where the backend was looked for (an endpoint URL or a region).
        endpoint: String,
        /// What failed, from the transport.
        reason: String,
    },
    /// A remote backend refused the configured credentials, or they lack a permission.
    #[error("the {backend} vault refused {operation}: {reason}")]
    Denied {
        /// The backend that refused.
        backend: &'static str,
        /// The refused operation, with the credential it concerned.
        operation: String,
        /// The service's error code and message.
        reason: String,
    },
    /// A remote backend failed an operation for another reason.
    #[error("the {backend} vault failed {operation}: {reason}")]
    Remote {
        /// The backend that failed.
        backend: &'static str,
        /// The failed operation, with the credential it concerned.
        operation: String,
        /// The service's error code (and its message when the request carried no secret).
        reason: String,
    },
    /// A credential is larger than the backend stores.
    #[error("credential `{id}` is {len} bytes as stored; the {backend} vault holds at most {max}")]
    TooLarge {
        /// The credential.
        id: CredentialId,
        /// Its size as the backend would store it.
        len: usize,
        /// The backend's limit.
        max: usize,
        /// The backend.
        backend: &'static str,
    },
}

impl VaultError {
    /// An I/O error while doing `what` on `path`.
    pub(crate) fn io(what: &str, path: &Path, source: io::Error) -> VaultError {
        VaultError::Io {
            context: format!("{what} {}", path.display()),
            source,
        }
    }
}
