//! The vault: where the host keeps customers' credentials. A connection names its credential
//! by [`CredentialId`]; the host asks a [`Vault`] for the [`StoredCredential`] when it sets up
//! the connection's egress, and writes back what rotates (an OAuth2 refresh token).
//!
//! Backends sit behind the one async [`Vault`] trait:
//!
//! | backend | what it is |
//! |---|---|
//! | [`SealedFileVault`] | the default: one file, each entry sealed with XChaCha20-Poly1305 under a [`MasterKey`], bound to its id |
//! | [`EnvVault`] | read-only, from `PLANTWIRE_CRED_*` environment variables |
//!
//! Every backend checks its configuration when it is opened, so a missing key, file or
//! variable is an error at start, not at the first request.
//!
//! ```no_run
//! # async fn demo() -> Result<(), plantwire::vault::VaultError> {
//! use plantwire::vault::{CredentialId, MasterKey, SealedFileVault, StoredCredential, Vault};
//! use secrecy::SecretString;
//!
//! let key = MasterKey::from_file("/etc/plantwire/master.key".as_ref())?;
//! let vault = SealedFileVault::open("/var/lib/plantwire/vault.json", key)?; // checked here
//! let id = CredentialId::new("maintainx.prod")?;
//! let token = SecretString::from(String::from("token from the operator"));
//! vault.put(&id, &StoredCredential::Token { token }).await?;
//! let for_egress = vault.get(&id).await?.to_credential();
//! # Ok(()) }
//! ```
//!
//! This module must never log, serialize in the clear, or `Debug`-print a secret, nor put one
//! into an error message. Secrets stay in [`secrecy::SecretString`]s (zeroed on drop, no
//! `Debug`, no `Serialize`) and are exposed only while they are sealed or applied.

use async_trait::async_trait;

mod credential;
mod env;
mod error;
mod key;
mod sealed;

pub use credential::{CredentialId, MAX_ID_LEN, StoredCredential};
pub use env::EnvVault;
pub use error::VaultError;
pub use key::{KEY_LEN, MasterKey};
pub use sealed::SealedFileVault;

/// A credential store. Methods are async so that a remote backend (a secrets manager) fits
/// behind the same trait as the local ones.
#[async_trait]
pub trait Vault: Send + Sync + std::fmt::Debug {
    /// The credential stored under `id`.
    async fn get(&self, id: &CredentialId) -> Result<StoredCredential, VaultError>;
    /// Stores `cred` under `id`, replacing what was there.
    async fn put(&self, id: &CredentialId, cred: &StoredCredential) -> Result<(), VaultError>;
    /// Removes the credential stored under `id`; [`VaultError::NotFound`] if there is none.
    async fn delete(&self, id: &CredentialId) -> Result<(), VaultError>;
    /// The ids of the stored credentials, in order.
    async fn list(&self) -> Result<Vec<CredentialId>, VaultError>;
    /// The backend's name, for logs and `plantwire doctor`.
    fn backend(&self) -> &'static str;
}
