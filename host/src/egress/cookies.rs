//! The connection's cookie jar. Cookies are secrets: a session cookie is as good as the
//! password that obtained it. The jar keeps the cookies an upstream sets (host-only, by
//! host name), sends them back on later requests to the same host, and hands every value to
//! the scrubber the moment it arrives, so no response can carry it to the adapter.
//!
//! It is the host's own rather than reqwest's `Jar` because that jar's storage logs cookie
//! values at debug level; this one never logs, and never shows a value in `Debug`. Domain and
//! path attributes are not honoured (every cookie is host-only and sent on every path of its
//! host: one connection talks to one system), `Secure` cookies go over https only, and
//! `Max-Age=0` or an empty value removes a cookie. Expiry dates are not tracked.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use reqwest::header::HeaderValue;
use url::Url;

use super::scrub::Scrubber;

/// At most this many cookies per host, and this many hosts.
const MAX_COOKIES_PER_HOST: usize = 50;
const MAX_HOSTS: usize = 8;

struct Stored {
    value: String,
    secure: bool,
}

/// One connection's cookies.
pub(crate) struct CookieJar {
    hosts: RwLock<BTreeMap<String, BTreeMap<String, Stored>>>,
    scrubber: Arc<Scrubber>,
    /// The base URL's query parameters as `name=value`: a cookie with one of these as its
    /// value (SAP's `sap-usercontext=sap-client=100`) is public, kept but not scrubbed.
    public: Vec<String>,
}

impl std::fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieJar([REDACTED])")
    }
}

impl CookieJar {
    pub(crate) fn new(scrubber: Arc<Scrubber>, public: Vec<String>) -> CookieJar {
        CookieJar {
            hosts: RwLock::new(BTreeMap::new()),
            scrubber,
            public,
        }
    }

    fn store(&self, header: &[u8], url: &Url) {
        let Some(host) = url.host_str() else { return };
        let Ok(text) = std::str::from_utf8(header) else {
            return;
        };
        let mut parts = text.split(';');
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
            return;
        };
        let name = name.trim();
        let value = value.trim().trim_matches('"');
        if name.is_empty() {
            return;
        }
        // The value is a secret from the moment it arrives, removed or not.
        if !self.public.iter().any(|p| p == value) {
            self.scrubber.add_cookie(value.as_bytes());
        }
        let mut secure = false;
        let mut remove = value.is_empty();
        for attribute in parts {
            let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
            let key = key.trim();
            if key.eq_ignore_ascii_case("secure") {
                secure = true;
            } else if key.eq_ignore_ascii_case("max-age") {
                remove |= val.trim().parse::<i64>().is_ok_and(|age| age <= 0);
            }
        }
        let Ok(mut hosts) = self.hosts.write() else {
            return;
        };
        if !hosts.contains_key(host) && hosts.len() >= MAX_HOSTS {
            return;
        }
        let jar = hosts.entry(host.to_owned()).or_default();
        if remove {
            jar.remove(name);
        } else if jar.contains_key(name) || jar.len() < MAX_COOKIES_PER_HOST {
            jar.insert(
                name.to_owned(),
                Stored {
                    value: value.to_owned(),
                    secure,
                },
            );
        }
    }
}

impl reqwest::cookie::CookieStore for CookieJar {
    fn set_cookies(&self, cookie_headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        for header in cookie_headers {
            self.store(header.as_bytes(), url);
        }
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        let host = url.host_str()?;
        let https = url.scheme() == "https";
        let hosts = self.hosts.read().ok()?;
        let line = hosts
            .get(host)?
            .iter()
            .filter(|(_, c)| https || !c.secure)
            .map(|(name, c)| format!("{name}={}", c.value))
            .collect::<Vec<_>>()
            .join("; ");
        if line.is_empty() {
            return None;
        }
        let mut value = HeaderValue::from_str(&line).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::cookie::CookieStore;

    fn set(jar: &CookieJar, url: &str, headers: &[&str]) {
        let values: Vec<HeaderValue> = headers
            .iter()
            .map(|h| HeaderValue::from_str(h).unwrap())
            .collect();
        jar.set_cookies(&mut values.iter(), &Url::parse(url).unwrap());
    }

    fn sent(jar: &CookieJar, url: &str) -> Option<String> {
        jar.cookies(&Url::parse(url).unwrap())
            .map(|v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn cookies_are_kept_per_host_sent_back_and_scrubbed() {
        let scrubber = Arc::new(Scrubber::default());
        let jar = CookieJar::new(scrubber.clone(), vec!["sap-client=100".to_owned()]);
        set(
            &jar,
            "http://127.0.0.1:9/sap/x",
            &[
                "SAP_SESSIONID_S4H_100=sess-0123456789abcdef; path=/; HttpOnly",
                "sap-usercontext=sap-client=100; path=/",
                "tls-only=secure-value-123456; Secure",
            ],
        );
        assert_eq!(
            sent(&jar, "http://127.0.0.1:9/other").as_deref(),
            Some("SAP_SESSIONID_S4H_100=sess-0123456789abcdef; sap-usercontext=sap-client=100")
        );
        assert_eq!(sent(&jar, "http://localhost:9/other"), None);
        assert!(
            sent(&jar, "https://127.0.0.1:9/")
                .unwrap()
                .contains("tls-only=")
        );
        let out = scrubber.scrub(b"echo sess-0123456789abcdef, ?sap-client=100".to_vec());
        assert_eq!(out, b"echo [REDACTED], ?sap-client=100");
        // Removal.
        set(
            &jar,
            "http://127.0.0.1:9/",
            &["SAP_SESSIONID_S4H_100=gone; Max-Age=0"],
        );
        assert_eq!(
            sent(&jar, "http://127.0.0.1:9/").as_deref(),
            Some("sap-usercontext=sap-client=100")
        );
        assert_eq!(format!("{jar:?}"), "CookieJar([REDACTED])");
    }
}
