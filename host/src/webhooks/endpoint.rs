//! Webhook endpoints: where events are delivered and the secret each delivery is signed with.
//!
//! Endpoints come from configuration (and their secrets from the vault); the outbox stores
//! only an endpoint's id, so no secret ever reaches the database. A secret is held in a
//! `secrecy` type, is never logged, never serialized and never shown by `Debug`; an
//! endpoint's URL is shown by its origin only, since webhook URLs often carry a token.
//!
//! An endpoint's address is held to the egress policy ([`crate::egress::ranges`]): an IP
//! literal or `localhost` in the URL is checked when the endpoint is made, and every address
//! its name resolves to is checked again on each delivery. Loopback, private-network and
//! shared addresses need the explicit opt-in [`Endpoint::on_private_network`]; link-local,
//! documentation, benchmarking, multicast, reserved, this-network and broadcast addresses
//! are refused always. What this module must never do: accept an endpoint the policy
//! refuses, or show its full URL.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use standardwebhooks::Webhook;
use url::Url;

use super::WebhookError;
use crate::egress::ranges;

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
    /// Whether the endpoint may be on loopback, a private network or shared address space
    /// (set by [`Endpoint::on_private_network`] only, so the URL check cannot be bypassed).
    allow_private_network: bool,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("url", &redacted_url(&self.url))
            .field("secret", &self.secret)
            .field("tenant", &self.tenant)
            .field("allow_private_network", &self.allow_private_network)
            .finish()
    }
}

impl Endpoint {
    /// An operator's endpoint (receiving every event) on the public internet; refuses URLs
    /// that are not `http(s)`, that carry a username or password, or whose address the
    /// egress policy refuses (loopback and private networks included).
    pub fn new(
        id: impl Into<String>,
        url: Url,
        secret: EndpointSecret,
    ) -> Result<Endpoint, WebhookError> {
        Endpoint::checked(id.into(), url, secret, false)
    }

    /// Like [`Endpoint::new`], for a receiver on loopback, a private network or shared
    /// address space (a relay next to the host, a test receiver). Addresses that are never
    /// reachable (link-local, documentation, multicast, …) are refused all the same.
    pub fn on_private_network(
        id: impl Into<String>,
        url: Url,
        secret: EndpointSecret,
    ) -> Result<Endpoint, WebhookError> {
        Endpoint::checked(id.into(), url, secret, true)
    }

    fn checked(
        id: String,
        url: Url,
        secret: EndpointSecret,
        allow_private_network: bool,
    ) -> Result<Endpoint, WebhookError> {
        if !matches!(url.scheme(), "http" | "https")
            || url.host().is_none()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(WebhookError::InvalidUrl { endpoint_id: id });
        }
        if let Err(denial) = check_address(&url, allow_private_network) {
            let reason = if denial.opt_in() {
                format!(
                    "{denial}; a receiver on loopback or a private network must be added as such"
                )
            } else {
                format!("{denial}, which no endpoint may use")
            };
            return Err(WebhookError::RefusedAddress {
                endpoint_id: id,
                reason,
            });
        }
        Ok(Endpoint {
            id,
            url,
            secret,
            tenant: None,
            allow_private_network,
        })
    }

    /// Whether deliveries may go to loopback, private-network or shared addresses (the
    /// dispatcher resolves the endpoint's name under the same policy).
    pub fn allows_private_network(&self) -> bool {
        self.allow_private_network
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

/// The policy on the address in an endpoint's URL: an IP literal (any form the URL parser
/// accepts) or a `localhost` name; other names are checked when they are resolved.
fn check_address(url: &Url, allow_private_network: bool) -> Result<(), ranges::Denial> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => std::net::IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => std::net::IpAddr::V6(v6),
        Some(url::Host::Domain(d)) => {
            let d = d.strip_suffix('.').unwrap_or(d).to_ascii_lowercase();
            if d != "localhost" && !d.ends_with(".localhost") {
                return Ok(());
            }
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        }
        None => return Ok(()),
    };
    ranges::check(ip, allow_private_network)
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
    fn endpoint_addresses_follow_the_egress_policy() {
        let s = secret(SPEC_SECRET).expect("valid");
        let url = |u: &str| Url::parse(u).expect("url");
        // Loopback and private networks need the opt-in: each with its denial twin.
        for opt_in in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://hooks.localhost./hook",
            "http://[::1]/hook",
            "http://[::ffff:7f00:1]/hook",
            "http://2130706433/hook",
            "http://10.0.0.7/hook",
            "http://192.168.1.20/hook",
            "http://100.64.0.1/hook",
            "http://[fd00::7]/hook",
        ] {
            match Endpoint::new("ops", url(opt_in), s.clone()) {
                Err(WebhookError::RefusedAddress {
                    endpoint_id,
                    reason,
                }) => {
                    assert_eq!(endpoint_id, "ops");
                    assert!(reason.contains("added as such"), "{opt_in}: {reason}");
                }
                other => panic!("{opt_in}: {other:?}"),
            }
            let e = Endpoint::on_private_network("ops", url(opt_in), s.clone())
                .expect("with the opt-in");
            assert!(e.allows_private_network());
        }
        // Never, opt-in or not: the metadata service in every spelling, and the ranges no
        // receiver lives in.
        for never in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:169.254.169.254]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[fe80::1]/",
            "http://0.0.0.0/",
            "http://192.0.2.1/",
            "http://198.51.100.1/",
            "http://203.0.113.1/",
            "http://198.18.0.1/",
            "http://239.0.0.1/",
            "http://240.0.0.1/",
            "http://255.255.255.255/",
            "http://[2001:db8::1]/",
            "http://[ff05::1]/",
        ] {
            for result in [
                Endpoint::new("ops", url(never), s.clone()),
                Endpoint::on_private_network("ops", url(never), s.clone()),
            ] {
                match result {
                    Err(WebhookError::RefusedAddress { reason, .. }) => {
                        assert!(reason.contains("no endpoint may use"), "{never}: {reason}")
                    }
                    other => panic!("{never}: {other:?}"),
                }
            }
        }
        // Public addresses and names pass without the opt-in.
        for public in ["https://hooks.example.com/in", "https://93.184.215.14/in"] {
            let e = Endpoint::new("ops", url(public), s.clone()).expect(public);
            assert!(!e.allows_private_network());
        }
        // The error shows the origin's address, never the URL's path or token.
        let err = Endpoint::new("ops", url("http://127.0.0.1/T000/tok3n"), s)
            .expect_err("loopback")
            .to_string();
        assert!(!err.contains("tok3n"), "{err}");
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
