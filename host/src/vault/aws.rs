//! A backend over AWS Secrets Manager ([`AwsSecretsManagerVault`]), for hosts that keep their
//! secrets in AWS rather than in a sealed file.
//!
//! # Layout
//!
//! Credential `<id>` is the secret named `<prefix><id>` (prefix `plantwire/` by default, so
//! `maintainx.prod` is `plantwire/maintainx.prod`). Its `SecretString` is the credential as
//! JSON, the same shape a sealed entry holds once opened:
//! `{"kind":"basic","user":"…","password":"…"}`. Secrets Manager encrypts it under the
//! account's default key `aws/secretsmanager`, or under `kms_key_id` when one is configured
//! (used when a secret is created; changing it later does not re-encrypt existing secrets).
//! Other secrets under the prefix whose rest is not a valid credential id are skipped by
//! [`Vault::list`], with a warning naming them.
//!
//! # Configuration
//!
//! ```no_run
//! # async fn demo() -> Result<(), plantwire::vault::VaultError> {
//! use plantwire::vault::{AwsSecretsManagerConfig, AwsSecretsManagerVault, DeletePolicy};
//!
//! let mut config = AwsSecretsManagerConfig::from_env(); // region from AWS_REGION
//! config.region = Some("eu-central-1".into());
//! config.prefix = "plantwire/prod/".into();
//! config.kms_key_id = Some("alias/plantwire".into());
//! config.delete = DeletePolicy::RecoveryWindowDays(7);
//! let vault = AwsSecretsManagerVault::open(config).await?; // reachability and credentials checked here
//! # Ok(()) }
//! ```
//!
//! - `region` is required: [`AwsSecretsManagerConfig::from_env`] takes it from `AWS_REGION` or
//!   `AWS_DEFAULT_REGION`; nothing else guesses it.
//! - `endpoint_url` overrides the regional endpoint: a VPC interface endpoint
//!   (`https://vpce-….secretsmanager.eu-central-1.vpce.amazonaws.com`) or an emulator. Plain
//!   `http` is accepted only to a loopback address. Without it, the SDK's usual settings apply
//!   (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, FIPS and dual-stack settings of the profile).
//! - `credentials` are the SDK's standard provider chain ([`AwsCredentials::ProviderChain`]):
//!   environment variables, the shared `~/.aws` files (static keys, assume-role), web identity
//!   tokens (EKS), the ECS container endpoint and EC2 instance metadata. SSO and
//!   `credential_process` profiles are not compiled in. [`AwsCredentials::Static`] gives keys
//!   directly (emulators, tests).
//! - `delete` says what [`Vault::delete`] does; see [`DeletePolicy`]. The default is AWS's own:
//!   the secret is scheduled for deletion after a 30-day recovery window, during which it can
//!   be restored, and the vault treats it as absent.
//!
//! [`AwsSecretsManagerVault::open`] sends one `ListSecrets` (one result, no retry, within
//! `check_timeout`), so an unreachable endpoint, refused credentials or a missing permission
//! is an error at start, naming which, not at the first request.
//!
//! # IAM permissions
//!
//! On the secrets `arn:aws:secretsmanager:<region>:<account>:secret:<prefix>*`:
//!
//! | permission | used by |
//! |---|---|
//! | `secretsmanager:ListSecrets` (resource `*`) | `open` (the start check) and `list` |
//! | `secretsmanager:GetSecretValue` | `get` |
//! | `secretsmanager:DescribeSecret` | `get`, `put` and `delete` (existence, planned deletion) |
//! | `secretsmanager:PutSecretValue` | `put` of an existing credential |
//! | `secretsmanager:CreateSecret` | `put` of a new credential |
//! | `secretsmanager:RestoreSecret` | `put` of a credential scheduled for deletion |
//! | `secretsmanager:DeleteSecret` | `delete` |
//! | `kms:Decrypt`, `kms:GenerateDataKey` | on `kms_key_id`, when one is configured |
//!
//! A read-only host needs `ListSecrets`, `GetSecretValue` and `DescribeSecret`; but OAuth 2.0
//! connections whose refresh token rotates write it back with `put`.
//!
//! # What must never leave
//!
//! This module must never log a secret, put one into an error, or `Debug`-print one. Credentials
//! stay in [`secrecy::SecretString`]s; the JSON text of a credential exists only in buffers
//! zeroed on drop (the value read from AWS is taken out of the SDK's output and zeroed after
//! parsing). Two kinds of copies are outside this module's reach and are not zeroed: the
//! request the SDK serializes and signs for `PutSecretValue`/`CreateSecret`, and the response
//! buffer it reads a `GetSecretValue` from. Errors carry the service's error code, and its
//! message only for requests that carried no secret (a validation message may quote the
//! input). The SDK's own log events are silenced during the vault's calls: with
//! `LOG_SIGNABLE_BODY` or `LOG_SENSITIVE_BODIES` set it prints request and response bodies at
//! trace level, and at debug level it prints raw error responses, which may quote a request.
//! The vault logs each operation itself (id, outcome, never a value).

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::Region;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use aws_smithy_http_client::tls;
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument::WithSubscriber;
use zeroize::Zeroizing;

use super::{CredentialId, MAX_ID_LEN, StoredCredential, Vault, VaultError};

/// This backend's name, in logs and errors.
const BACKEND: &str = "aws-secrets-manager";

/// Largest `SecretString` Secrets Manager stores, in bytes.
pub const MAX_SECRET_BYTES: usize = 65_536;

/// Longest secret name Secrets Manager accepts.
const MAX_NAME_LEN: usize = 512;

/// Longest prefix: a prefix plus the longest id must still be a valid name.
const MAX_PREFIX_LEN: usize = MAX_NAME_LEN - MAX_ID_LEN;

/// Attempts per operation (the SDK's standard retry mode, with its backoff and retry quota).
const MAX_ATTEMPTS: u32 = 3;

/// Page size of `ListSecrets` (the service's maximum).
const LIST_PAGE: i32 = 100;

/// Longest service error message an error carries, in characters.
const MAX_MESSAGE_CHARS: usize = 300;

/// Error codes meaning the credentials themselves were refused.
const CREDENTIAL_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "ExpiredTokenException",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "AuthFailure",
];

/// Error codes meaning the credentials are valid but lack a permission.
const PERMISSION_CODES: &[&str] = &["AccessDeniedException", "AccessDenied"];

/// Where the vault's AWS credentials come from.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum AwsCredentials {
    /// The SDK's standard provider chain: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`
    /// (and `AWS_SESSION_TOKEN`), the shared `~/.aws` files with `AWS_PROFILE`, web identity
    /// tokens, the ECS container endpoint, EC2 instance metadata. Resolved, and refreshed when
    /// they expire, by the SDK.
    #[default]
    ProviderChain,
    /// Fixed keys: for emulators and tests, or where the keys come from another store.
    Static {
        /// The access key id (`AKIA…`); not a secret on its own, it shows in `Debug`.
        access_key_id: String,
        /// The secret access key.
        secret_access_key: SecretString,
        /// The session token of temporary credentials.
        session_token: Option<SecretString>,
    },
}

/// What [`Vault::delete`] does with the secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeletePolicy {
    /// AWS's default: the secret is scheduled for deletion after a 30-day recovery window.
    /// Until then it can be restored (`aws secretsmanager restore-secret`), its name stays
    /// taken, and the vault treats it as absent; a `put` under its id restores it and writes
    /// the new value.
    #[default]
    AwsDefault,
    /// Scheduled for deletion after this many days, 7 to 30; otherwise as
    /// [`DeletePolicy::AwsDefault`].
    RecoveryWindowDays(u8),
    /// Deleted at once, without a recovery window (`ForceDeleteWithoutRecovery`): the value
    /// cannot be brought back.
    WithoutRecovery,
}

/// How to reach Secrets Manager and where the credentials live there. Built with
/// [`AwsSecretsManagerConfig::from_env`], then adjusted field by field; checked by
/// [`AwsSecretsManagerVault::open`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AwsSecretsManagerConfig {
    /// The AWS region (`eu-central-1`). Required.
    pub region: Option<String>,
    /// An endpoint instead of the region's: a VPC endpoint, or an emulator. `http` only to a
    /// loopback address.
    pub endpoint_url: Option<String>,
    /// Prepended to each credential id to make the secret's name; `/_+=.@-`, letters and
    /// digits. End it with `/` so that it reads as a path and lists nothing else.
    pub prefix: String,
    /// The KMS key (id, ARN or alias) new secrets are encrypted with; the account's
    /// `aws/secretsmanager` key when `None`.
    pub kms_key_id: Option<String>,
    /// Where the AWS credentials come from.
    pub credentials: AwsCredentials,
    /// What `delete` does.
    pub delete: DeletePolicy,
    /// Limit for opening a connection.
    pub connect_timeout: Duration,
    /// Limit for one request attempt; an operation makes up to 3 attempts.
    pub request_timeout: Duration,
    /// Limit for the check at open, which makes one attempt.
    pub check_timeout: Duration,
}

impl AwsSecretsManagerConfig {
    /// The defaults: region from `AWS_REGION` (else `AWS_DEFAULT_REGION`), the regional
    /// endpoint, prefix `plantwire/`, the account's default KMS key, the standard credential
    /// chain, AWS's default deletion, 3 s to connect, 10 s per attempt, 5 s for the start check.
    pub fn from_env() -> AwsSecretsManagerConfig {
        let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|r| !r.is_empty()));
        AwsSecretsManagerConfig {
            region,
            endpoint_url: None,
            prefix: "plantwire/".into(),
            kms_key_id: None,
            credentials: AwsCredentials::ProviderChain,
            delete: DeletePolicy::AwsDefault,
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            check_timeout: Duration::from_secs(5),
        }
    }

    /// The configuration with `region` set and everything else at its default.
    pub fn new(region: impl Into<String>) -> AwsSecretsManagerConfig {
        AwsSecretsManagerConfig {
            region: Some(region.into()),
            ..AwsSecretsManagerConfig::from_env()
        }
    }

    /// Checks every field; returns the region and the endpoint URL to use.
    fn validate(&self) -> Result<(String, Option<String>), VaultError> {
        let config = |msg: String| Err(VaultError::Config(format!("{BACKEND}: {msg}")));
        let Some(region) = self.region.as_deref() else {
            return config(
                "no AWS region is configured; set the vault's region (or AWS_REGION)".into(),
            );
        };
        if let Err(why) = check_region(region) {
            return config(why);
        }
        let endpoint = match self.endpoint_url.as_deref() {
            None => None,
            Some(url) => match check_endpoint(url) {
                Ok(url) => Some(url),
                Err(why) => return config(why),
            },
        };
        if let Err(why) = check_prefix(&self.prefix) {
            return config(why);
        }
        if let Some(key) = &self.kms_key_id {
            let graphic = key.bytes().all(|b| b.is_ascii_graphic());
            if key.is_empty() || key.len() > 2048 || !graphic {
                return config(
                    "the KMS key id must be 1 to 2048 printable ASCII characters without spaces"
                        .into(),
                );
            }
        }
        if let AwsCredentials::Static {
            access_key_id,
            secret_access_key,
            session_token,
        } = &self.credentials
        {
            let id_ok = (1..=128).contains(&access_key_id.len())
                && access_key_id.bytes().all(|b| b.is_ascii_alphanumeric());
            if !id_ok {
                return config(
                    "the static access key id must be 1 to 128 ASCII letters and digits".into(),
                );
            }
            if secret_access_key.expose_secret().is_empty() {
                return config("the static secret access key is empty".into());
            }
            if session_token
                .as_ref()
                .is_some_and(|t| t.expose_secret().is_empty())
            {
                return config("the static session token is empty".into());
            }
        }
        if let DeletePolicy::RecoveryWindowDays(days) = self.delete
            && !(7..=30).contains(&days)
        {
            return config(format!(
                "the recovery window is {days} days; Secrets Manager takes 7 to 30"
            ));
        }
        for (name, value) in [
            ("connect", self.connect_timeout),
            ("request", self.request_timeout),
            ("check", self.check_timeout),
        ] {
            if value.is_zero() {
                return config(format!("the {name} timeout is zero"));
            }
        }
        Ok((region.to_owned(), endpoint))
    }
}

/// A region name: lower-case letters, digits and inner hyphens, as in `us-gov-west-1`.
fn check_region(region: &str) -> Result<(), String> {
    let chars_ok = region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if region.is_empty()
        || region.len() > 63
        || !chars_ok
        || region.starts_with('-')
        || region.ends_with('-')
    {
        let shown = if region.len() <= 63 {
            format!("{region:?}")
        } else {
            "(too long)".into()
        };
        return Err(format!(
            "the region {shown} is not a region name; use one such as `eu-central-1`"
        ));
    }
    Ok(())
}

/// An endpoint URL: `https`, or `http` to loopback; no user info, query or fragment. The URL is
/// not quoted in errors, since a malformed one could hold a password.
fn check_endpoint(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|e| {
        format!("the endpoint URL does not parse ({e}); give one such as https://host")
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the endpoint URL must not carry a user name or password".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the endpoint URL must not have a query or a fragment".into());
    }
    let scheme = url.scheme();
    if scheme != "https" && scheme != "http" {
        return Err(format!(
            "the endpoint URL has scheme `{scheme}`; use https (or http to loopback)"
        ));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err("the endpoint URL has no host".into()),
    };
    if scheme == "http" && !loopback {
        return Err(format!(
            "the endpoint {url} is plain http to a host that is not loopback; use https"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A secret-name prefix: 1 to 384 of Secrets Manager's name characters.
fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty() {
        return Err(
            "the secret-name prefix is empty; give one such as `plantwire/`, so the vault lists \
             only its own secrets"
                .into(),
        );
    }
    if prefix.len() > MAX_PREFIX_LEN {
        return Err(format!(
            "the secret-name prefix is {} bytes long; at most {MAX_PREFIX_LEN} leave room for an id",
            prefix.len()
        ));
    }
    if let Some(c) = prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "/_+=.@-".contains(*c)))
    {
        return Err(format!(
            "the secret-name prefix {prefix:?} has {c:?}; use letters, digits and /_+=.@-"
        ));
    }
    Ok(())
}

/// Credentials kept in AWS Secrets Manager: one secret per credential, named
/// `<prefix><id>`. The module docs give the layout, the configuration and the IAM permissions.
///
/// Every call goes to the service, so a credential written elsewhere (the CLI, another host)
/// is seen at once. `put` checks the secret first (`DescribeSecret`), then writes a new version
/// (`PutSecretValue`), creates the secret (`CreateSecret`), or restores one scheduled for
/// deletion and then writes; the SDK adds an idempotency token to each write, so a retried
/// write does not make two versions.
pub struct AwsSecretsManagerVault {
    client: Client,
    prefix: String,
    kms_key_id: Option<String>,
    delete: DeletePolicy,
    region: String,
    /// Where the service is, for messages: the endpoint URL, or the region's endpoint.
    target: String,
    /// The limit of one attempt, for messages.
    request_timeout: Duration,
}

impl fmt::Debug for AwsSecretsManagerVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSecretsManagerVault")
            .field("region", &self.region)
            .field("endpoint", &self.target)
            .field("prefix", &self.prefix)
            .field("kms_key_id", &self.kms_key_id)
            .field("delete", &self.delete)
            .finish_non_exhaustive()
    }
}

impl AwsSecretsManagerVault {
    /// Checks `config`, then checks with one `ListSecrets` that the service answers and
    /// accepts the credentials. Every failure is an error here, naming what is wrong: a bad
    /// field ([`VaultError::Config`]), an endpoint that cannot be reached
    /// ([`VaultError::Unreachable`]), refused credentials or a missing permission
    /// ([`VaultError::Denied`]), or an endpoint that is not Secrets Manager
    /// ([`VaultError::Remote`]).
    pub async fn open(
        config: AwsSecretsManagerConfig,
    ) -> Result<AwsSecretsManagerVault, VaultError> {
        let (region, endpoint) = config.validate()?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .http_client(http)
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(config.connect_timeout)
                    .operation_attempt_timeout(config.request_timeout)
                    .operation_timeout(config.request_timeout * (MAX_ATTEMPTS + 1))
                    .build(),
            );
        if let Some(url) = &endpoint {
            loader = loader.endpoint_url(url.clone());
        }
        if let AwsCredentials::Static {
            access_key_id,
            secret_access_key,
            session_token,
        } = &config.credentials
        {
            loader = loader.credentials_provider(Credentials::new(
                access_key_id.clone(),
                secret_access_key.expose_secret(),
                session_token.as_ref().map(|t| t.expose_secret().to_owned()),
                None,
                "plantwire-vault-config",
            ));
        }
        let sdk = quiet(loader.load()).await;
        let target = endpoint
            .clone()
            .unwrap_or_else(|| format!("the regional endpoint of {region}"));
        let vault = AwsSecretsManagerVault {
            client: Client::new(&sdk),
            prefix: config.prefix.clone(),
            kms_key_id: config.kms_key_id.clone(),
            delete: config.delete,
            region,
            target,
            request_timeout: config.request_timeout,
        };

        // The start check: one attempt, a short limit, the cheapest call that needs valid
        // credentials and a permission the vault cannot work without.
        let check = Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(&sdk)
                .retry_config(RetryConfig::disabled())
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(config.connect_timeout.min(config.check_timeout))
                        .operation_timeout(config.check_timeout)
                        .build(),
                )
                .build(),
        );
        let checked = quiet(
            check
                .list_secrets()
                .max_results(1)
                .filters(vault.prefix_filter())
                .send(),
        )
        .await;
        if let Err(e) = checked {
            let e = vault.call_error(e, false, config.check_timeout);
            let hint = match e.kind {
                Kind::Unreachable => " (check the endpoint URL, the region and the network)",
                Kind::Credentials => " (check the configured AWS credentials)",
                Kind::Permission => " (grant secretsmanager:ListSecrets)",
                _ => "",
            };
            let mut err = vault.failure("ListSecrets (the check at start)".into(), e);
            if let VaultError::Unreachable { reason, .. }
            | VaultError::Denied { reason, .. }
            | VaultError::Remote { reason, .. } = &mut err
            {
                reason.push_str(hint);
            }
            tracing::warn!(backend = BACKEND, endpoint = %vault.target, error = %err, "vault check failed");
            return Err(err);
        }
        tracing::info!(
            backend = BACKEND,
            region = %vault.region,
            endpoint = %vault.target,
            prefix = %vault.prefix,
            "vault opened"
        );
        Ok(vault)
    }

    /// The secret name of `id`.
    fn name(&self, id: &CredentialId) -> String {
        format!("{}{}", self.prefix, id)
    }

    /// `ListSecrets`' filter on the prefix (a prefix match on the name).
    fn prefix_filter(&self) -> Filter {
        Filter::builder()
            .key(FilterNameStringType::Name)
            .values(self.prefix.clone())
            .build()
    }

    /// The credential of `id`.
    async fn fetch(&self, id: &CredentialId) -> Result<StoredCredential, VaultError> {
        let name = self.name(id);
        let sent = quiet(self.client.get_secret_value().secret_id(&name).send()).await;
        let mut out = match sent {
            Ok(out) => out,
            Err(e) => {
                let e = self.call_error(e, false, self.request_timeout);
                return Err(match e.kind {
                    Kind::NotFound => VaultError::NotFound(id.clone()),
                    // What a secret scheduled for deletion answers.
                    Kind::InvalidRequest if self.state(id, &name).await? != State::Live => {
                        VaultError::NotFound(id.clone())
                    }
                    _ => self.failure(format!("GetSecretValue of `{id}` ({name})"), e),
                });
            }
        };
        // Take the value out of the SDK's output so that it is zeroed after parsing.
        let binary = out
            .secret_binary
            .take()
            .map(|b| Zeroizing::new(b.into_inner()));
        let text = out.secret_string.take().map(Zeroizing::new);
        drop(out);
        let Some(text) = text else {
            let what = if binary.is_some() { "binary" } else { "no" };
            return Err(VaultError::Corrupt(format!(
                "the secret {name} holds a {what} value, not a credential"
            )));
        };
        StoredCredential::from_plaintext(text.as_bytes()).ok_or_else(|| {
            VaultError::Corrupt(format!(
                "the secret {name} does not hold a credential in the vault's JSON form"
            ))
        })
    }

    /// Whether the secret of `id` exists, and whether it is scheduled for deletion.
    async fn state(&self, id: &CredentialId, name: &str) -> Result<State, VaultError> {
        let sent = quiet(self.client.describe_secret().secret_id(name).send()).await;
        match sent {
            Ok(out) if out.deleted_date().is_some() => Ok(State::Deleted),
            Ok(_) => Ok(State::Live),
            Err(e) => {
                let e = self.call_error(e, false, self.request_timeout);
                match e.kind {
                    Kind::NotFound => Ok(State::Absent),
                    _ => Err(self.failure(format!("DescribeSecret of `{id}` ({name})"), e)),
                }
            }
        }
    }

    /// Writes `cred` as the new value of `id`'s secret, creating or restoring it as needed.
    async fn store(&self, id: &CredentialId, cred: &StoredCredential) -> Result<(), VaultError> {
        let plaintext = cred.to_plaintext()?;
        if plaintext.len() > MAX_SECRET_BYTES {
            return Err(VaultError::TooLarge {
                id: id.clone(),
                len: plaintext.len(),
                max: MAX_SECRET_BYTES,
                backend: BACKEND,
            });
        }
        // The JSON is ASCII-safe UTF-8; each request gets its own copy, which the SDK owns.
        let value = || String::from_utf8_lossy(&plaintext).into_owned();
        let name = self.name(id);
        match self.state(id, &name).await? {
            State::Live => {}
            State::Absent => {
                if self.create(id, &name, value()).await? {
                    return Ok(());
                }
                // Created by someone else in the meantime: write a new version.
            }
            State::Deleted => {
                let sent = quiet(self.client.restore_secret().secret_id(&name).send()).await;
                if let Err(e) = sent {
                    let e = self.call_error(e, false, self.request_timeout);
                    return Err(self.failure(format!("RestoreSecret of `{id}` ({name})"), e));
                }
                tracing::info!(credential = %id, backend = BACKEND, "restored a secret scheduled for deletion");
            }
        }
        let sent = quiet(
            self.client
                .put_secret_value()
                .secret_id(&name)
                .secret_string(value())
                .send(),
        )
        .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = self.call_error(e, true, self.request_timeout);
                // Deleted without recovery in the meantime: create it afresh.
                if e.kind == Kind::NotFound && self.create(id, &name, value()).await? {
                    return Ok(());
                }
                Err(self.failure(format!("PutSecretValue of `{id}` ({name})"), e))
            }
        }
    }

    /// Creates the secret; `false` if one of that name appeared in the meantime.
    async fn create(
        &self,
        id: &CredentialId,
        name: &str,
        value: String,
    ) -> Result<bool, VaultError> {
        let sent = quiet(
            self.client
                .create_secret()
                .name(name)
                .description(format!("Plantwire credential `{id}`"))
                .set_kms_key_id(self.kms_key_id.clone())
                .secret_string(value)
                .send(),
        )
        .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = self.call_error(e, true, self.request_timeout);
                if e.kind == Kind::Exists {
                    return Ok(false);
                }
                Err(self.failure(format!("CreateSecret of `{id}` ({name})"), e))
            }
        }
    }

    /// Deletes `id`'s secret as the [`DeletePolicy`] says.
    async fn remove(&self, id: &CredentialId) -> Result<(), VaultError> {
        let name = self.name(id);
        // A deletion without recovery succeeds on a missing secret, and a second scheduled
        // deletion is refused: look first, so that both report NotFound.
        if self.state(id, &name).await? != State::Live {
            return Err(VaultError::NotFound(id.clone()));
        }
        let request = self.client.delete_secret().secret_id(&name);
        let request = match self.delete {
            DeletePolicy::AwsDefault => request,
            DeletePolicy::RecoveryWindowDays(days) => {
                request.recovery_window_in_days(i64::from(days))
            }
            DeletePolicy::WithoutRecovery => request.force_delete_without_recovery(true),
        };
        match quiet(request.send()).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = self.call_error(e, false, self.request_timeout);
                match e.kind {
                    Kind::NotFound | Kind::InvalidRequest => Err(VaultError::NotFound(id.clone())),
                    _ => Err(self.failure(format!("DeleteSecret of `{id}` ({name})"), e)),
                }
            }
        }
    }

    /// Every credential id under the prefix, in order.
    async fn ids(&self) -> Result<Vec<CredentialId>, VaultError> {
        let mut ids = BTreeSet::new();
        let mut pages = self
            .client
            .list_secrets()
            .filters(self.prefix_filter())
            .max_results(LIST_PAGE)
            .into_paginator()
            .send();
        while let Some(page) = quiet(pages.next()).await {
            let page = page.map_err(|e| {
                let e = self.call_error(e, false, self.request_timeout);
                self.failure("ListSecrets".into(), e)
            })?;
            for entry in page.secret_list() {
                let Some(name) = entry.name() else { continue };
                // The service's name filter is a prefix match; check it exactly all the same.
                let Some(rest) = name.strip_prefix(&self.prefix) else {
                    continue;
                };
                match CredentialId::new(rest) {
                    Ok(id) => {
                        ids.insert(id);
                    }
                    Err(_) => tracing::warn!(
                        backend = BACKEND,
                        secret = name,
                        "a secret under the vault's prefix is not named after a credential id; skipped"
                    ),
                }
            }
        }
        Ok(ids.into_iter().collect())
    }

    /// Reduces a failed call to what may be shown. `carries_secret`: the request held a
    /// credential, so the service's message (which may quote the input) is left out.
    fn call_error<E>(&self, err: SdkError<E>, carries_secret: bool, limit: Duration) -> CallError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if let Some(cause) = credentials_cause(&err) {
            return CallError {
                kind: Kind::NoCredentials,
                reason: error_chain(cause),
            };
        }
        match &err {
            SdkError::ServiceError(service) => {
                let status = service.raw().status().as_u16();
                let meta = service.err();
                // Gateways and some emulators answer with an XML error envelope, which the
                // JSON protocol does not read: take the code and message from it instead.
                let xml = match meta.code() {
                    Some(_) => None,
                    None => service.raw().body().bytes().and_then(xml_error),
                };
                let code = meta.code().or(xml.as_ref().map(|(c, _)| c.as_str()));
                let message = meta
                    .message()
                    .or(xml.as_ref().and_then(|(_, m)| m.as_deref()));
                let Some(code) = code else {
                    if status == 401 || status == 403 {
                        return CallError {
                            kind: Kind::Credentials,
                            reason: format!("HTTP {status}, without an error code"),
                        };
                    }
                    return CallError {
                        kind: Kind::Other,
                        reason: format!(
                            "the answer (HTTP {status}) has no Secrets Manager error code; is {} a Secrets Manager endpoint?",
                            self.target
                        ),
                    };
                };
                let kind = match code {
                    "ResourceNotFoundException" => Kind::NotFound,
                    "ResourceExistsException" => Kind::Exists,
                    "InvalidRequestException" => Kind::InvalidRequest,
                    c if CREDENTIAL_CODES.contains(&c) => Kind::Credentials,
                    c if PERMISSION_CODES.contains(&c) => Kind::Permission,
                    _ => Kind::Other,
                };
                let mut reason = format!("{code} (HTTP {status})");
                match message {
                    Some(m) if !carries_secret => {
                        reason.push_str(": ");
                        reason.push_str(&clean_message(m));
                    }
                    Some(_) => reason.push_str(" (message withheld: the request carried a secret)"),
                    None => {}
                }
                CallError { kind, reason }
            }
            SdkError::TimeoutError(_) => CallError {
                kind: Kind::Unreachable,
                reason: format!("no answer within {}", seconds(limit)),
            },
            SdkError::DispatchFailure(failure) => {
                let chain = failure
                    .as_connector_error()
                    .map(|c| error_chain(c))
                    .unwrap_or_else(|| "the request could not be sent".into());
                if failure.is_timeout() {
                    CallError {
                        kind: Kind::Unreachable,
                        reason: format!("connecting timed out ({chain})"),
                    }
                } else if failure.is_user() {
                    CallError {
                        kind: Kind::Request,
                        reason: chain,
                    }
                } else {
                    CallError {
                        kind: Kind::Unreachable,
                        reason: chain,
                    }
                }
            }
            SdkError::ResponseError(response) => CallError {
                kind: Kind::Other,
                reason: format!(
                    "the answer (HTTP {}) is not a Secrets Manager response; is {} a Secrets Manager endpoint?",
                    response.raw().status().as_u16(),
                    self.target
                ),
            },
            SdkError::ConstructionFailure(_) => CallError {
                kind: Kind::Request,
                reason: error_chain(&err),
            },
            _ => CallError {
                kind: Kind::Other,
                reason: "the SDK reported an unknown kind of failure".into(),
            },
        }
    }

    /// The error for a failed `operation`.
    fn failure(&self, operation: String, e: CallError) -> VaultError {
        match e.kind {
            Kind::Unreachable => VaultError::Unreachable {
                backend: BACKEND,
                endpoint: self.target.clone(),
                reason: e.reason,
            },
            Kind::Credentials => VaultError::Denied {
                backend: BACKEND,
                operation,
                reason: format!("the credentials were refused: {}", e.reason),
            },
            Kind::Permission => VaultError::Denied {
                backend: BACKEND,
                operation,
                reason: format!("a permission is missing: {}", e.reason),
            },
            Kind::NoCredentials => VaultError::Config(format!(
                "{BACKEND}: no AWS credentials for {operation}: {} (give them to the standard \
                 chain, as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or a role, or \
                 configure static keys)",
                e.reason
            )),
            Kind::Request => VaultError::Config(format!(
                "{BACKEND}: {operation} could not be sent: {}",
                e.reason
            )),
            Kind::NotFound | Kind::Exists | Kind::InvalidRequest | Kind::Other => {
                VaultError::Remote {
                    backend: BACKEND,
                    operation,
                    reason: e.reason,
                }
            }
        }
    }
}

/// Where a secret stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Absent,
    Live,
    /// Scheduled for deletion: it still exists, but the vault treats it as absent.
    Deleted,
}

/// A failed call, reduced to what may be shown.
#[derive(Debug)]
struct CallError {
    kind: Kind,
    /// What went wrong: the service's error code and, if allowed, its message; or the
    /// transport's reason.
    reason: String,
}

/// What a failed call means to the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    NotFound,
    Exists,
    /// The service refused the request as it stands (a secret scheduled for deletion, say).
    InvalidRequest,
    Credentials,
    Permission,
    Unreachable,
    /// No credentials could be had from the configured source.
    NoCredentials,
    /// The request could not be built or sent.
    Request,
    Other,
}

/// The messages of an error and its sources on one line, repeated ones left out.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// A credential provider's failure among the causes of `err`.
fn credentials_cause<'e>(
    err: &'e (dyn std::error::Error + 'static),
) -> Option<&'e (dyn std::error::Error + 'static)> {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.is::<aws_credential_types::provider::error::CredentialsError>() {
            return Some(e);
        }
        next = e.source();
    }
    None
}

/// The code and message of an XML error envelope (`<Error><Code>…</Code><Message>…</Message>`).
/// The code must look like one (letters, digits, `.`, `_`); the message is unescaped.
fn xml_error(body: &[u8]) -> Option<(String, Option<String>)> {
    let body = std::str::from_utf8(body).ok()?;
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&format!("</{name}>"))? + start;
        Some(&body[start..end])
    };
    let code = element("Code")?;
    let code_ok = (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
    if !code_ok {
        return None;
    }
    let message = element("Message").map(|m| {
        m.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    });
    Some((code.to_owned(), message))
}

/// A service message, single-line and bounded.
fn clean_message(message: &str) -> String {
    let mut out: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_MESSAGE_CHARS)
        .collect();
    if message.chars().count() > MAX_MESSAGE_CHARS {
        out.push('…');
    }
    out
}

/// A duration for messages.
fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Runs an SDK call with its log events silenced: the SDK can be made to print request and
/// response bodies (see the module docs), and a `PutSecretValue` body is the credential.
async fn quiet<F: Future>(call: F) -> F::Output {
    call.with_subscriber(tracing::Dispatch::none()).await
}

/// Logs one operation: the id and the outcome, never the credential.
fn log_op<T>(op: &'static str, id: &CredentialId, result: &Result<T, VaultError>) {
    match result {
        Ok(_) => tracing::debug!(credential = %id, backend = BACKEND, op, "vault"),
        Err(e) => tracing::debug!(credential = %id, backend = BACKEND, op, error = %e, "vault"),
    }
}

#[async_trait]
impl Vault for AwsSecretsManagerVault {
    async fn get(&self, id: &CredentialId) -> Result<StoredCredential, VaultError> {
        let result = self.fetch(id).await;
        log_op("get", id, &result);
        result
    }

    async fn put(&self, id: &CredentialId, cred: &StoredCredential) -> Result<(), VaultError> {
        let result = self.store(id, cred).await;
        log_op("put", id, &result);
        result
    }

    async fn delete(&self, id: &CredentialId) -> Result<(), VaultError> {
        let result = self.remove(id).await;
        log_op("delete", id, &result);
        result
    }

    async fn list(&self) -> Result<Vec<CredentialId>, VaultError> {
        let result = self.ids().await;
        if let Err(e) = &result {
            tracing::debug!(backend = BACKEND, op = "list", error = %e, "vault");
        }
        result
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests fail loudly"
    )]

    use super::*;

    fn config() -> AwsSecretsManagerConfig {
        let mut c = AwsSecretsManagerConfig::new("us-east-1");
        c.endpoint_url = Some("http://127.0.0.1:1".into());
        c.credentials = AwsCredentials::Static {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: SecretString::from("wJalrXUtnFEMI-sekrit"),
            session_token: None,
        };
        c
    }

    /// Opens `c`, which must fail validation; returns the message.
    async fn refused(c: AwsSecretsManagerConfig) -> String {
        let err = AwsSecretsManagerVault::open(c).await.unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, VaultError::Config(_)), "{msg}");
        assert!(!format!("{msg} {err:?}").contains("sekrit"), "{msg}");
        msg
    }

    #[tokio::test]
    async fn every_bad_field_is_named_at_open() {
        type Change = fn(&mut AwsSecretsManagerConfig);
        let cases: &[(Change, &str)] = &[
            (|c| c.region = None, "no AWS region"),
            (|c| c.region = Some(String::new()), "not a region name"),
            (|c| c.region = Some("US East 1".into()), "not a region name"),
            (
                |c| c.region = Some("-us-east-1".into()),
                "not a region name",
            ),
            (
                |c| c.endpoint_url = Some("not a url".into()),
                "does not parse",
            ),
            (
                |c| c.endpoint_url = Some("https://user:sekrit@host".into()),
                "user name or password",
            ),
            (
                |c| c.endpoint_url = Some("http://secretsmanager.example.com".into()),
                "plain http",
            ),
            (
                |c| c.endpoint_url = Some("ftp://127.0.0.1".into()),
                "scheme `ftp`",
            ),
            (
                |c| c.endpoint_url = Some("https://h/?token=sekrit".into()),
                "query",
            ),
            (|c| c.prefix = String::new(), "prefix is empty"),
            (|c| c.prefix = "plant wire/".into(), "' '"),
            (|c| c.prefix = "!plantwire/".into(), "'!'"),
            (|c| c.prefix = "p".repeat(MAX_PREFIX_LEN + 1), "leave room"),
            (|c| c.kms_key_id = Some(String::new()), "KMS key id"),
            (|c| c.kms_key_id = Some("alias/a b".into()), "KMS key id"),
            (
                |c| c.delete = DeletePolicy::RecoveryWindowDays(3),
                "7 to 30",
            ),
            (
                |c| c.check_timeout = Duration::ZERO,
                "check timeout is zero",
            ),
            (
                |c| {
                    c.credentials = AwsCredentials::Static {
                        access_key_id: "AKID".into(),
                        secret_access_key: SecretString::from(""),
                        session_token: None,
                    }
                },
                "secret access key is empty",
            ),
            (
                |c| {
                    c.credentials = AwsCredentials::Static {
                        access_key_id: "AK ID".into(),
                        secret_access_key: SecretString::from("sekrit"),
                        session_token: None,
                    }
                },
                "access key id",
            ),
        ];
        for (change, needle) in cases {
            let mut c = config();
            change(&mut c);
            let msg = refused(c).await;
            assert!(msg.contains(needle), "{msg} lacks {needle}");
            assert!(msg.contains(BACKEND), "{msg}");
        }
    }

    #[test]
    fn endpoints_are_normalized_and_loopback_may_be_plain_http() {
        for (raw, want) in [
            ("http://127.0.0.1:4566", "http://127.0.0.1:4566"),
            ("http://localhost:4566/", "http://localhost:4566"),
            ("http://[::1]:4566", "http://[::1]:4566"),
            (
                "https://vpce-1.secretsmanager.eu-central-1.vpce.amazonaws.com",
                "https://vpce-1.secretsmanager.eu-central-1.vpce.amazonaws.com",
            ),
        ] {
            assert_eq!(check_endpoint(raw).unwrap(), want);
        }
        assert!(check_endpoint("http://10.0.0.1:4566").is_err());
    }

    #[test]
    fn debug_of_the_configuration_hides_the_secret_key() {
        let shown = format!("{:?}", config());
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        assert!(!shown.contains("sekrit"), "{shown}");
    }

    #[test]
    fn xml_error_envelopes_give_their_code_and_message() {
        let body = br#"<?xml version="1.0"?><ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>The token &quot;x&quot; is invalid.</Message></Error></Errors></ErrorResponse>"#;
        let (code, message) = xml_error(body).unwrap();
        assert_eq!(code, "InvalidClientTokenId");
        assert_eq!(message.as_deref(), Some("The token \"x\" is invalid."));
        assert!(xml_error(b"<html>no</html>").is_none());
        assert!(xml_error(b"<Code>not a code</Code>").is_none());
        assert!(xml_error(b"<Code>Unclosed").is_none());
    }

    #[test]
    fn service_messages_are_bounded_and_single_line() {
        let long = "x\n".repeat(400);
        let clean = clean_message(&long);
        assert!(!clean.contains('\n'));
        assert_eq!(clean.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
