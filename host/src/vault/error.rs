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
