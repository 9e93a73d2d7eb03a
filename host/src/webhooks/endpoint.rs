//! Webhook endpoints: where events are delivered and the secret each delivery is signed with.
//!
//! Endpoints come from configuration (and their secrets from the vault); the outbox stores
//! only an endpoint's id, so no secret ever reaches the database. A secret is held in a
//! `secrecy` type, is never logged, never serialized and never shown by `Debug`; an
//! endpoint's URL is shown by its origin only, since webhook URLs often carry a token.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use standardwebhooks::Webhook;
use url::Url;

use super::WebhookError;

const SECRET_PREFIX: &str = "whsec_";

/// A Standard Webhooks signing secret, `whsec_<base64>` of 24 to 64 random bytes.
#[derive(Clone)]
pub struct EndpointSecret(SecretString);

impl fmt::Debug for EndpointSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EndpointSecret(whsec_[redacted])")
    }
}

impl EndpointSecret {
    /// Checks the secret's form: the `whsec_` prefix, then base64 of 24 to 64 bytes (the
    /// Standard Webhooks spec's range). The error never repeats the secret.
    pub fn new(secret: SecretString) -> Result<EndpointSecret, WebhookError> {
        let text = secret.expose_secret();
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(WebhookError::InvalidSecret)?;
        let padding = encoded.bytes().rev().take_while(|&b| b == b'=').count();
        let bytes = (encoded.len() / 4 * 3).saturating_sub(padding);
        if encoded.len() % 4 != 0 || !(24..=64).contains(&bytes) {
            return Err(WebhookError::InvalidSecret);
        }
        Webhook::new(text).map_err(|_| WebhookError::InvalidSecret)?;
        Ok(EndpointSecret(secret))
    }

    /// The Standard Webhooks signature of one delivery: `v1,<base64 HMAC-SHA256 over
    /// "{msg_id}.{timestamp}.{payload}">`, computed by the `standardwebhooks` crate.
    pub fn sign(
        &self,
        msg_id: &str,
        timestamp: i64,
        payload: &str,
    ) -> Result<String, WebhookError> {
        let signer =
            Webhook::new(self.0.expose_secret()).map_err(|_| WebhookError::InvalidSecret)?;
        signer
            .sign(msg_id, timestamp, payload.as_bytes())
            .map_err(|_| WebhookError::Signing)
    }
}

/// One subscriber to the host's events.
#[derive(Clone)]
pub struct Endpoint {
    /// Stable id, stored with every message for this endpoint.
    pub id: String,
    /// Where deliveries are POSTed (`http` or `https`).
    pub url: Url,
    /// The signing secret, shared with the receiver.
    pub secret: EndpointSecret,
    /// When set, the endpoint receives only that tenant's events; when unset, every event
    /// (an operator's endpoint).
    pub tenant: Option<String>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("url", &redacted_url(&self.url))
            .field("secret", &self.secret)
            .field("tenant", &self.tenant)
            .finish()
    }
}

impl Endpoint {
    /// An operator's endpoint (receiving every event); refuses URLs that are not `http(s)`
    /// or that carry a username or password.
    pub fn new(
        id: impl Into<String>,
        url: Url,
        secret: EndpointSecret,
    ) -> Result<Endpoint, WebhookError> {
        let id = id.into();
        if !matches!(url.scheme(), "http" | "https")
            || url.host().is_none()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(WebhookError::InvalidUrl { endpoint_id: id });
        }
        Ok(Endpoint {
            id,
            url,
            secret,
            tenant: None,
        })
    }

    /// The same endpoint, receiving only `tenant`'s events.
    #[must_use]
    pub fn for_tenant(mut self, tenant: impl Into<String>) -> Endpoint {
        self.tenant = Some(tenant.into());
        self
    }

    /// Whether an event owned by `tenant` goes to this endpoint.
    pub fn receives(&self, tenant: Option<&str>) -> bool {
        match &self.tenant {
            None => true,
            Some(mine) => tenant == Some(mine.as_str()),
        }
    }
}

/// The configured endpoints, by id: cheap to clone and share.
#[derive(Clone, Debug, Default)]
pub struct EndpointRegistry {
    endpoints: Arc<BTreeMap<String, Endpoint>>,
}

impl EndpointRegistry {
    /// A registry of `endpoints`; refuses two endpoints with one id.
    pub fn new(
        endpoints: impl IntoIterator<Item = Endpoint>,
    ) -> Result<EndpointRegistry, WebhookError> {
        let mut map = BTreeMap::new();
        for endpoint in endpoints {
            if map.contains_key(&endpoint.id) {
                return Err(WebhookError::DuplicateEndpoint(endpoint.id));
            }
            map.insert(endpoint.id.clone(), endpoint);
        }
        Ok(EndpointRegistry {
            endpoints: Arc::new(map),
        })
    }

    /// The endpoint with this id.
    pub fn get(&self, id: &str) -> Option<&Endpoint> {
        self.endpoints.get(id)
    }

    /// Every endpoint, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.values()
    }

    /// The endpoints that receive an event owned by `tenant`.
    pub fn subscribers<'a>(
        &'a self,
        tenant: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Endpoint> {
        self.iter().filter(move |e| e.receives(tenant))
    }

    /// How many endpoints there are.
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }
}

/// The URL as it may appear in logs and errors: scheme, host and port only.
pub(crate) fn redacted_url(url: &Url) -> String {
    format!("{}/…", url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    const SPEC_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn secret(s: &str) -> Result<EndpointSecret, WebhookError> {
        EndpointSecret::new(SecretString::from(s.to_owned()))
    }

    #[test]
    fn signs_like_the_reference_vector() {
        let s = secret(SPEC_SECRET).expect("valid");
        let sig = s
            .sign(
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1_649_367_553,
                r#"{"email":"test@example.com","username":"test_user"}"#,
            )
            .expect("sign");
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn malformed_secrets_are_refused_without_echo() {
        for bad in [
            "C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "whsec_short",
            "whsec_not base64 at all!!!!!!!!!",
            "whsec_",
        ] {
            let err = secret(bad).expect_err(bad).to_string();
            let body = bad.strip_prefix(SECRET_PREFIX).unwrap_or(bad);
            assert!(body.is_empty() || !err.contains(body), "{err}");
        }
        let s = secret(SPEC_SECRET).expect("valid");
        assert!(!format!("{s:?}").contains("C2FV"));
    }

    #[test]
    fn urls_are_checked_and_shown_by_origin_only() {
        let s = secret(SPEC_SECRET).expect("valid");
        let url = Url::parse("https://hooks.example.com/T000/B000/tok3n?x=1").expect("url");
        let e = Endpoint::new("ops", url, s.clone()).expect("endpoint");
        let shown = format!("{e:?}");
        assert!(
            !shown.contains("tok3n") && !shown.contains("C2FV"),
            "{shown}"
        );
        for bad in ["ftp://example.com/", "https://user:pw@example.com/"] {
            let url = Url::parse(bad).expect("url");
            assert!(Endpoint::new("x", url, s.clone()).is_err());
        }
    }

    #[test]
    fn tenant_endpoints_receive_only_their_tenants_events() {
        let s = secret(SPEC_SECRET).expect("valid");
        let url = Url::parse("https://example.com/hook").expect("url");
        let ops = Endpoint::new("ops", url.clone(), s.clone()).expect("endpoint");
        let acme = Endpoint::new("acme", url, s)
            .expect("endpoint")
            .for_tenant("acme");
        let reg = EndpointRegistry::new([ops.clone(), acme]).expect("registry");
        let ids = |t| reg.subscribers(t).map(|e| e.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(Some("acme")), ["acme", "ops"]);
        assert_eq!(ids(Some("globex")), ["ops"]);
        assert_eq!(ids(None), ["ops"]);
        assert!(EndpointRegistry::new([ops.clone(), ops]).is_err());
    }
}
