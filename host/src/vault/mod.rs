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
//! | [`AwsSecretsManagerVault`] | one AWS Secrets Manager secret per credential, named `<prefix><id>` |
//!
//! Every backend checks its configuration when it is opened, so a missing key, file or
//! variable, an unreachable endpoint or refused credentials is an error at start, not at the
//! first request.
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

mod aws;
mod credential;
mod env;
mod error;
mod key;
mod sealed;

pub use aws::{
    AwsCredentials, AwsSecretsManagerConfig, AwsSecretsManagerVault, DeletePolicy, MAX_SECRET_BYTES,
};
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

/// Persists rotated OAuth 2.0 refresh tokens into the connection's vault entry, so egress can
/// store a new refresh token before it uses it (a lost rotation would lock the connection out).
#[derive(Debug, Clone)]
pub struct VaultRefreshTokens {
    vault: std::sync::Arc<dyn Vault>,
    id: CredentialId,
}

impl VaultRefreshTokens {
    /// Writes rotated refresh tokens into the OAuth 2.0 entry `id` of `vault`.
    pub fn new(vault: std::sync::Arc<dyn Vault>, id: CredentialId) -> Self {
        VaultRefreshTokens { vault, id }
    }

    /// The entry `id` of `vault` as egress applies it; an OAuth 2.0 credential comes with this
    /// store attached.
    pub async fn credential(
        vault: std::sync::Arc<dyn Vault>,
        id: &CredentialId,
    ) -> Result<crate::egress::Credential, VaultError> {
        let stored = vault.get(id).await?;
        Ok(match stored.to_credential() {
            crate::egress::Credential::OAuth2 {
                client_id,
                client_secret,
                refresh_token,
                ..
            } => crate::egress::Credential::OAuth2 {
                client_id,
                client_secret,
                refresh_token,
                store: Some(std::sync::Arc::new(VaultRefreshTokens::new(
                    vault.clone(),
                    id.clone(),
                ))),
            },
            other => other,
        })
    }
}

#[async_trait]
impl crate::egress::RefreshTokenStore for VaultRefreshTokens {
    async fn persist(&self, refresh_token: &secrecy::SecretString) -> Result<(), String> {
        let current = self.vault.get(&self.id).await.map_err(|e| e.to_string())?;
        let StoredCredential::OAuth2 {
            client_id,
            client_secret,
            ..
        } = current
        else {
            return Err(format!(
                "vault entry `{}` is not an OAuth 2.0 credential",
                self.id
            ));
        };
        let updated = StoredCredential::OAuth2 {
            client_id,
            client_secret,
            refresh_token: Some(refresh_token.clone()),
        };
        self.vault
            .put(&self.id, &updated)
            .await
            .map_err(|e| e.to_string())
    }
}
