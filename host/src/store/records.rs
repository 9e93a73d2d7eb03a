//! What the store keeps about a connection and a webhook endpoint, and the checks every value
//! passes before it is stored (and again when it is read back).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use time::OffsetDateTime;
use url::Url;

use super::StoreError;
use crate::egress::EgressConfig;
use crate::vault::CredentialId;

/// Longest connection, tenant or endpoint id, in characters. A connection's credential id is
/// `conn.` and its id, an endpoint's `webhook.` and its id; both stay within the vault's limit.
pub const MAX_ID_LEN: usize = 64;

/// Longest URL accepted.
const MAX_URL_LEN: usize = 2048;

/// Shortest and longest per-request timeout of a connection.
const TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 1..=300;

/// Checks an id (connection, tenant, webhook endpoint): 1 to 64 characters of
/// `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`. The vault's credential ids follow the
/// same character rules, so an id can name its credential.
pub fn check_id(what: &'static str, id: &str) -> Result<(), StoreError> {
    let invalid = |reason: String| Err(StoreError::InvalidId { what, reason });
    if id.is_empty() {
        return invalid("it is empty".into());
    }
    if id.chars().count() > MAX_ID_LEN {
        return invalid(format!(
            "it is {} characters long; at most {MAX_ID_LEN} are allowed",
            id.chars().count()
        ));
    }
    if let Some((pos, c)) = id
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return invalid(format!(
            "{id:?} has {c:?} at byte {pos}; use only A-Z, a-z, 0-9, '.', '_' and '-'"
        ));
    }
    if id.starts_with(['.', '-']) {
        return invalid(format!("{id:?} starts with {:?}", &id[..1]));
    }
    Ok(())
}

/// Parses a URL and applies the checks every stored URL passes: `http` or `https`, a host,
/// no user name or password, no fragment, at most 2048 bytes.
fn parse_url(what: &'static str, text: &str) -> Result<Url, StoreError> {
    let invalid = |reason: &str| StoreError::InvalidUrl {
        what,
        reason: reason.to_owned(),
    };
    if text.len() > MAX_URL_LEN {
        return Err(invalid("it is longer than 2048 bytes"));
    }
    let url = Url::parse(text).map_err(|e| StoreError::InvalidUrl {
        what,
        reason: format!("not a URL ({e})"),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(StoreError::InvalidUrl {
            what,
            reason: format!("the scheme is `{}`; use http or https", url.scheme()),
        });
    }
    if url.host().is_none() {
        return Err(invalid("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "it carries a user name or password; credentials go in the vault",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid("it carries a fragment (`#…`)"));
    }
    Ok(url)
}

/// Checks a connection's base URL: the rules of every stored URL. A query is kept (SAP's
/// `?sap-client=100`); egress decides what it may hold.
pub fn check_base_url(text: &str) -> Result<Url, StoreError> {
    parse_url("base URL", text)
}

/// Checks an origin granted to a connection (`https://auth.example.com`, a port allowed, no
/// path) and returns it in its canonical form.
pub fn check_origin(text: &str) -> Result<Url, StoreError> {
    let url = parse_url("origin", text)?;
    if url.path() != "/" || url.query().is_some() {
        return Err(StoreError::InvalidUrl {
            what: "origin",
            reason: format!(
                "{} has a path or query; an origin is scheme, host and port only",
                url.origin().ascii_serialization()
            ),
        });
    }
    Url::parse(&url.origin().ascii_serialization()).map_err(|e| StoreError::InvalidUrl {
        what: "origin",
        reason: e.to_string(),
    })
}

/// Checks a webhook endpoint's URL: the rules of every stored URL (a query is allowed: receivers
/// often authenticate with a token in it).
pub fn check_webhook_url(text: &str) -> Result<Url, StoreError> {
    parse_url("webhook URL", text)
}

/// The vault backend that holds a credential. Each connection and endpoint records its own,
/// so changing the default for new entries leaves existing ones readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VaultBackend {
    /// The sealed file in the state directory ([`crate::vault::SealedFileVault`]).
    Sealed,
    /// `PLANTWIRE_CRED_*` environment variables, read-only ([`crate::vault::EnvVault`]).
    Env,
    /// AWS Secrets Manager ([`crate::vault::AwsSecretsManagerVault`]).
    Aws,
}

impl VaultBackend {
    /// Every backend, in the order `--help` lists them.
    pub const ALL: [VaultBackend; 3] = [VaultBackend::Sealed, VaultBackend::Env, VaultBackend::Aws];

    /// The backend's name as stored and typed: `sealed`, `env`, `aws`.
    pub const fn as_str(self) -> &'static str {
        match self {
            VaultBackend::Sealed => "sealed",
            VaultBackend::Env => "env",
            VaultBackend::Aws => "aws",
        }
    }

    /// Whether the host can write credentials to it.
    pub const fn writable(self) -> bool {
        match self {
            VaultBackend::Sealed | VaultBackend::Aws => true,
            VaultBackend::Env => false,
        }
    }
}

impl fmt::Display for VaultBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VaultBackend {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VaultBackend::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| StoreError::InvalidSetting {
                what: "vault backend",
                reason: format!("`{s}` is not one of sealed, env"),
            })
    }
}

/// One connection: a system reached at a base URL with a credential from the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// The connection's id ([`check_id`]).
    pub id: String,
    /// The adapter's system id (`maintainx`, …).
    pub system: String,
    /// Where the system is reached ([`check_base_url`]).
    pub base_url: Url,
    /// The vault entry holding the credential; `None` for a system that needs none.
    pub credential_id: Option<CredentialId>,
    /// The backend holding that entry.
    pub vault: VaultBackend,
    /// The tenant owning the connection; its events go to that tenant's endpoints only.
    pub tenant: Option<String>,
    /// Whether the base URL may be a loopback, private or link-local address (on-premises).
    pub allow_private_network: bool,
    /// Origins besides the base URL's that the operator grants ([`check_origin`]).
    pub granted_origins: Vec<Url>,
    /// Time for one upstream request (1 s to 300 s).
    pub timeout: Duration,
    /// Where the adapter sends the credential (login path and fields, token URL), as the
    /// operator confirmed it ([`crate::egress::credential_endpoints`]); an adapter that now
    /// declares other endpoints is refused until the operator confirms again. `None` for a
    /// connection stored before this was kept: taken as `none`.
    pub credential_endpoints: Option<String>,
    /// When the connection was made.
    pub created_at: OffsetDateTime,
    /// When its settings or credential last changed.
    pub updated_at: OffsetDateTime,
}

impl ConnectionRecord {
    /// The vault id of connection `id`'s credential: `conn.<id>`.
    pub fn credential_id_for(id: &str) -> Result<CredentialId, StoreError> {
        CredentialId::new(format!("conn.{id}")).map_err(|e| StoreError::InvalidId {
            what: "connection id",
            reason: e.to_string(),
        })
    }

    /// A new connection with the default settings (public addresses only, 30 s timeout, no
    /// granted origins, no tenant), created now; its id and base URL are checked.
    pub fn new(
        id: &str,
        system: &str,
        base_url: &str,
        credential_id: Option<CredentialId>,
        vault: VaultBackend,
    ) -> Result<ConnectionRecord, StoreError> {
        check_id("connection id", id)?;
        let now = OffsetDateTime::now_utc();
        let record = ConnectionRecord {
            id: id.to_owned(),
            system: system.to_owned(),
            base_url: check_base_url(base_url)?,
            credential_id,
            vault,
            tenant: None,
            allow_private_network: false,
            granted_origins: Vec::new(),
            timeout: Duration::from_secs(30),
            credential_endpoints: None,
            created_at: now,
            updated_at: now,
        };
        record.check()?;
        Ok(record)
    }

    /// Checks every field; the store calls it before writing and after reading.
    pub fn check(&self) -> Result<(), StoreError> {
        check_id("connection id", &self.id)?;
        check_id("system id", &self.system)?;
        check_base_url(self.base_url.as_str())?;
        if let Some(tenant) = &self.tenant {
            check_id("tenant", tenant)?;
        }
        for origin in &self.granted_origins {
            check_origin(origin.as_str())?;
        }
        let secs = self.timeout.as_secs();
        if !TIMEOUT_RANGE.contains(&secs) || self.timeout.subsec_nanos() != 0 {
            return Err(StoreError::InvalidSetting {
                what: "timeout",
                reason: format!(
                    "{:?} is not a whole number of seconds from {} to {}",
                    self.timeout,
                    TIMEOUT_RANGE.start(),
                    TIMEOUT_RANGE.end()
                ),
            });
        }
        Ok(())
    }

    /// The connection's egress settings.
    pub fn egress_config(&self) -> EgressConfig {
        let mut config = EgressConfig::new(self.base_url.clone());
        config.allow_private_network = self.allow_private_network;
        config.granted_origins.clone_from(&self.granted_origins);
        config.timeout = self.timeout;
        config.confirmed_endpoints = Some(
            self.credential_endpoints
                .clone()
                .unwrap_or_else(|| "none".to_owned()),
        );
        config
    }
}

/// One webhook endpoint: where events are POSTed, and the vault entry of its signing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRecord {
    /// The endpoint's id ([`check_id`]).
    pub id: String,
    /// Where deliveries go ([`check_webhook_url`]); shown by its origin only.
    pub url: Url,
    /// When set, the endpoint receives only that tenant's events; otherwise every event.
    pub tenant: Option<String>,
    /// The vault entry holding the `whsec_…` signing secret (a token credential).
    pub secret_id: CredentialId,
    /// The backend holding that entry.
    pub vault: VaultBackend,
    /// When the endpoint was added.
    pub created_at: OffsetDateTime,
}

impl EndpointRecord {
    /// The vault id of endpoint `id`'s signing secret: `webhook.<id>`.
    pub fn secret_id_for(id: &str) -> Result<CredentialId, StoreError> {
        CredentialId::new(format!("webhook.{id}")).map_err(|e| StoreError::InvalidId {
            what: "endpoint id",
            reason: e.to_string(),
        })
    }

    /// Checks every field; the store calls it before writing and after reading.
    pub fn check(&self) -> Result<(), StoreError> {
        check_id("endpoint id", &self.id)?;
        check_webhook_url(self.url.as_str())?;
        if let Some(tenant) = &self.tenant {
            check_id("tenant", tenant)?;
        }
        Ok(())
    }

    /// Whether an event owned by `tenant` goes to this endpoint (the rule of
    /// [`crate::webhooks::Endpoint::receives`]).
    pub fn receives(&self, tenant: Option<&str>) -> bool {
        match &self.tenant {
            None => true,
            Some(mine) => tenant == Some(mine.as_str()),
        }
    }

    /// The URL as it may be shown: its origin only, since webhook URLs often carry a token.
    pub fn shown_url(&self) -> String {
        format!("{}/…", self.url.origin().ascii_serialization())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_vault_rules_and_refuse_option_lookalikes() {
        for good in ["a", "mx-prod", "acme.maximo_2", &"a".repeat(MAX_ID_LEN)] {
            check_id("connection id", good).expect(good);
            ConnectionRecord::credential_id_for(good).expect(good);
            EndpointRecord::secret_id_for(good).expect(good);
        }
        let long = "a".repeat(MAX_ID_LEN + 1);
        for bad in [
            "", ".x", "-x", "--help", "a/b", "a b", "é", "a\0", "../x", &long,
        ] {
            let err = check_id("connection id", bad).expect_err(bad);
            assert!(
                err.to_string().starts_with("invalid connection id"),
                "{err}"
            );
        }
    }

    #[test]
    fn urls_are_http_without_credentials() {
        check_base_url("https://api.getmaintainx.com/v1").expect("ok");
        check_base_url("https://s4.example.com/sap/opu/odata/sap?sap-client=100").expect("ok");
        for bad in [
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "https://example.com/#x",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(check_base_url(&long).is_err());
        assert!(check_webhook_url("https://hooks.example.com/x?token=abc").is_ok());
        assert!(check_webhook_url("https://u:p@hooks.example.com/").is_err());
    }

    #[test]
    fn origins_are_canonical_and_pathless() {
        assert_eq!(
            check_origin("https://Auth.Example.com:443")
                .expect("ok")
                .as_str(),
            "https://auth.example.com/"
        );
        assert_eq!(
            check_origin("http://127.0.0.1:8080/").expect("ok").as_str(),
            "http://127.0.0.1:8080/"
        );
        assert!(check_origin("https://auth.example.com/oauth/token").is_err());
        assert!(check_origin("https://auth.example.com/?a=1").is_err());
    }

    #[test]
    fn records_check_their_settings() {
        let mut r = ConnectionRecord::new(
            "mx",
            "maintainx",
            "https://api.getmaintainx.com/v1",
            None,
            VaultBackend::Sealed,
        )
        .expect("record");
        r.timeout = Duration::from_secs(0);
        assert!(r.check().is_err());
        r.timeout = Duration::from_millis(1500);
        assert!(r.check().is_err());
        r.timeout = Duration::from_secs(300);
        r.check().expect("ok");
        r.tenant = Some("acme corp".into());
        assert!(r.check().is_err());
        assert_eq!(
            "env".parse::<VaultBackend>().expect("env"),
            VaultBackend::Env
        );
        assert!("aws2".parse::<VaultBackend>().is_err());
    }
}
