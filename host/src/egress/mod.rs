//! Egress: the only way out of the host. Every request an adapter builds passes through an
//! [`Egress`], which resolves it against the connection's base URL, refuses anything that
//! leaves the connection's origin, refuses headers the host controls, applies the
//! credentials, caps time and response size, never follows redirects, and scrubs every secret
//! of the connection, in every form ([`scrub`]), from whatever comes back before the adapter
//! sees it.
//!
//! Deny by default, each policy beside its denial test:
//! - content negotiation is the host's: the adapter may not set `accept-encoding`, `range`,
//!   `if-range`, `te`, … ([`FORBIDDEN_HEADERS`]); the host asks for identity encoding, and an
//!   answer the scrubber could not see whole (compressed, partial, UTF-16) is refused unread;
//! - the credential's own names and the base URL's parameters are the host's ([`names`]);
//! - where a password or client secret is sent (login path, token URL) is what the operator
//!   confirmed ([`EgressConfig::confirmed_endpoints`], [`credential_endpoints`]);
//! - cookies live in the host's jar ([`cookies`]) and are scrubbed like credentials.
//!
//! This module must never put a credential into an error message, a log line or a response.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use plantwire_sdk::{AuthScheme, HttpError, Request, Response};

use crate::governor::{Governor, GovernorConfig, GovernorError};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::SecretString;
use url::Url;

mod auth;
mod cookies;
mod names;
mod paths;
pub mod ranges;
mod scrub;

pub use auth::{RefreshTokenStore, credential_endpoints};

/// Sends an adapter's request to its system. Implemented by [`Egress`]; benchmarks and tests
/// may provide canned responses.
#[async_trait]
pub trait Upstream: Send + Sync {
    async fn send(&self, req: Request) -> Result<Response, HttpError>;
}

/// A connection's secret, held by the host alone.
#[derive(Clone)]
pub enum Credential {
    /// No credential (a system that needs none, or a test).
    None,
    /// A bearer token or an API key, depending on the adapter's auth scheme.
    Token(SecretString),
    /// User name and password (HTTP basic, or a session login).
    Basic {
        user: String,
        password: SecretString,
    },
    /// OAuth 2.0 client credentials, with the refresh token when the system issues one and
    /// the store that persists a rotated refresh token before it is used.
    OAuth2 {
        client_id: String,
        client_secret: SecretString,
        refresh_token: Option<SecretString>,
        store: Option<Arc<dyn RefreshTokenStore>>,
    },
    /// Keys for per-request HMAC URL signatures (Fiix).
    Hmac {
        access_key: String,
        app_key: String,
        secret_key: SecretString,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::None => f.write_str("Credential::None"),
            Credential::Token(_) => f.write_str("Credential::Token([REDACTED])"),
            Credential::Basic { user, .. } => {
                write!(
                    f,
                    "Credential::Basic {{ user: {user:?}, password: [REDACTED] }}"
                )
            }
            Credential::OAuth2 { client_id, .. } => write!(
                f,
                "Credential::OAuth2 {{ client_id: {client_id:?}, secrets: [REDACTED] }}"
            ),
            Credential::Hmac { .. } => f.write_str("Credential::Hmac([REDACTED])"),
        }
    }
}

/// Settings of one connection's egress.
#[derive(Debug, Clone)]
pub struct EgressConfig {
    /// The connection's base URL; requests are relative to it and may not leave its origin.
    pub base_url: Url,
    /// Whether the base URL may point at loopback, private-network or shared addresses (an
    /// on-premises system, or a local simulator). Off by default. Link-local and the other
    /// special-purpose ranges stay refused either way ([`ranges`]).
    pub allow_private_network: bool,
    /// Time for one request, connection and body included.
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_response_bytes: u64,
    /// Origins besides the base URL's that the operator grants this connection. A request
    /// goes to one only if the adapter also declares it (`adapter-info.extra-origins`).
    pub granted_origins: Vec<Url>,
    /// Rate budget, concurrency and retries of all traffic to the connection.
    pub governor: GovernorConfig,
    /// Where the credential goes, as the operator confirmed it when the connection was made
    /// ([`credential_endpoints`] of the adapter's scheme then). When set, an adapter whose
    /// scheme now sends the password or client secret elsewhere (another login path, other
    /// field names, another token URL) is refused until the operator confirms again. `None`
    /// leaves it unchecked: for embedders that build the scheme themselves.
    pub confirmed_endpoints: Option<String>,
}

impl EgressConfig {
    /// Defaults for a base URL: public addresses only, 30 s, 16 MiB.
    pub fn new(base_url: Url) -> EgressConfig {
        EgressConfig {
            base_url,
            allow_private_network: false,
            timeout: Duration::from_secs(30),
            max_response_bytes: 16 << 20,
            granted_origins: Vec::new(),
            // Requests wait for the rate budget at most 20 s, inside the runtime's default
            // 30 s call deadline; a longer wait reaches the adapter as `rate-limited`.
            governor: GovernorConfig {
                max_wait: Duration::from_secs(20),
                ..GovernorConfig::default()
            },
            confirmed_endpoints: None,
        }
    }
}

/// Why an egress could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EgressError {
    /// The base URL is not usable (scheme, host, credentials in it).
    #[error("base URL refused: {0}")]
    BaseUrl(String),
    /// The base URL points at a loopback, private-network or shared address and the
    /// connection is not marked as on-premises.
    #[error(
        "base URL points at a private, loopback or shared address: {0}; set `allow_private_network` on the connection to allow it"
    )]
    PrivateAddress(ranges::Denial),
    /// The base URL points at an address no connection may reach (link-local, documentation,
    /// benchmarking, multicast, reserved, …), whatever its settings.
    #[error("base URL points at an address that is never reachable: {0}")]
    SpecialAddress(ranges::Denial),
    /// The credential does not fit the adapter's auth scheme.
    #[error("the credential does not fit the auth scheme: {0}")]
    Credential(String),
    /// The adapter's auth scheme is declared in the contract but not applied by this host.
    #[error("this host does not apply {0} yet")]
    UnsupportedScheme(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
    /// The adapter now sends the credential to other endpoints than the operator confirmed.
    #[error(
        "the adapter now sends the credential to `{declared}`, but the operator confirmed `{confirmed}` for this connection; review it and confirm again (`plantwire reauthorize <connection> --confirm-endpoints`)"
    )]
    EndpointsChanged {
        /// What the operator confirmed.
        confirmed: String,
        /// What the adapter declares now.
        declared: String,
    },
}

/// The host-controlled egress of one connection.
pub struct Egress {
    client: reqwest::Client,
    config: EgressConfig,
    /// The base URL without its query and trailing slash; adapter paths are appended to it.
    base: String,
    /// The base URL's query parameters (decoded), added to every request; the adapter cannot
    /// override them.
    base_query: Vec<(String, String)>,
    /// Origins both declared by the adapter and granted by the operator.
    extra_origins: Vec<url::Origin>,
    scheme: AuthScheme,
    auth: auth::Auth,
    /// The connection's rate budget and retry policy, shared by all its traffic.
    governor: Governor,
    /// Header names the adapter may not set (the auth scheme's own included).
    forbidden: Vec<String>,
    /// Names the credential and the base URL own, normalised ([`names::normalize`]): no
    /// query parameter, matrix parameter or header of the adapter may carry one.
    protected: names::Protected,
    /// Every secret of the connection in every form; applied to every response.
    scrubber: Arc<scrub::Scrubber>,
}

impl std::fmt::Debug for Egress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Egress")
            .field("base", &self.base)
            .field("auth", &self.scheme)
            .finish_non_exhaustive()
    }
}

/// Headers the host alone sets: credentials, cookies, routing and framing, and content
/// negotiation (the host must see the answer as the adapter will: whole and uncompressed).
const FORBIDDEN_HEADERS: &[&str] = &[
    "accept-encoding",
    "accept-charset",
    "range",
    "if-range",
    "request-range",
    "expect",
    "authorization",
    "proxy-authorization",
    "cookie",
    "cookie2",
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "keep-alive",
    "forwarded",
    "via",
];

const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// Whether an address is not on the public internet: it falls in an entry of the IANA
/// special-purpose registries, directly or as an IPv4 address embedded in IPv6 (see
/// [`ranges`]).
pub fn is_private(ip: IpAddr) -> bool {
    ranges::classify(ip).is_some()
}

impl Egress {
    /// Sets up a connection's egress. Refuses base URLs with embedded credentials, other
    /// schemes than http(s), and private addresses unless allowed.
    pub fn new(
        config: EgressConfig,
        auth: AuthScheme,
        credential: Credential,
    ) -> Result<Egress, EgressError> {
        Egress::with_declared_origins(config, auth, credential, &[])
    }

    /// Like [`Egress::new`], for an adapter that declares extra origins: those the operator
    /// also granted (`EgressConfig::granted_origins`) become reachable.
    pub fn with_declared_origins(
        config: EgressConfig,
        auth: AuthScheme,
        credential: Credential,
        declared: &[String],
    ) -> Result<Egress, EgressError> {
        let url = &config.base_url;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(EgressError::BaseUrl(format!(
                "scheme `{}` is not http or https",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EgressError::BaseUrl(
                "credentials in the URL are not allowed; use the connection's credential".into(),
            ));
        }
        if url.fragment().is_some() {
            return Err(EgressError::BaseUrl(
                "the base URL may not carry a fragment".into(),
            ));
        }
        // Query parameters of the base URL (SAP's `?sap-client=100`) go on every request.
        let base_query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        if let AuthScheme::ApiKeyQuery(param) = &auth
            && base_query.iter().any(|(k, _)| k == param)
        {
            return Err(EgressError::BaseUrl(format!(
                "the base URL may not carry the credential parameter `{param}`; use the connection's credential"
            )));
        }
        check_host(url, config.allow_private_network)?;
        let mut extra_origins = Vec::new();
        for granted in &config.granted_origins {
            check_host(granted, config.allow_private_network)?;
            let declared_too = declared
                .iter()
                .filter_map(|d| Url::parse(d).ok())
                .any(|d| d.origin() == granted.origin());
            if declared_too {
                extra_origins.push(granted.origin());
            }
        }

        if let Some(confirmed) = &config.confirmed_endpoints {
            let declared = credential_endpoints(&auth);
            if *confirmed != declared {
                return Err(EgressError::EndpointsChanged {
                    confirmed: confirmed.clone(),
                    declared,
                });
            }
        }
        let mut forbidden: Vec<String> =
            FORBIDDEN_HEADERS.iter().map(|h| (*h).to_owned()).collect();
        let scrubber = Arc::new(scrub::Scrubber::default());
        let auth_state = auth::Auth::new(&auth, credential, &mut forbidden, scrubber.clone())?;
        let protected = names::Protected::new(
            auth_state.query_names(),
            base_query.iter().map(|(k, _)| k.as_str()),
            &forbidden,
        );
        let governor = Governor::new(config.governor.clone())
            .map_err(|e| EgressError::Client(format!("rate governor: {e}")))?;

        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Host names are resolved by the policy resolver: a name that points at a
            // private address is refused like an IP literal would be (no DNS rebinding to
            // the metadata service).
            .dns_resolver(Arc::new(PolicyResolver {
                allow_private_network: config.allow_private_network,
            }))
            // One cookie jar per connection (session cookies such as SAP's CSRF session);
            // the adapter never reads or sets cookies, and every value is scrubbed.
            .cookie_provider(Arc::new(cookies::CookieJar::new(
                scrubber.clone(),
                base_query.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            )))
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .no_proxy()
            .build()
            .map_err(|e| EgressError::Client(e.without_url().to_string()))?;
        let mut bare = config.base_url.clone();
        bare.set_query(None);
        let base = bare.as_str().trim_end_matches('/').to_owned();
        Ok(Egress {
            client,
            config,
            base,
            base_query,
            extra_origins,
            scheme: auth,
            auth: auth_state,
            governor,
            forbidden,
            protected,
            scrubber,
        })
    }

    /// Resolves an adapter's relative path; refuses anything that leaves the base URL.
    fn resolve(&self, path: &str) -> Result<Url, HttpError> {
        let refuse = |why: &str| {
            HttpError::ForbiddenDestination(format!("`{}`: {why}", truncate(path, 200)))
        };
        paths::check(path).map_err(|why| refuse(&why))?;
        if path.starts_with("https://") || path.starts_with("http://") {
            let url = Url::parse(path)
                .map_err(|e| HttpError::InvalidRequest(format!("not a URL: {e}")))?;
            if !url.username().is_empty() || url.password().is_some() {
                return Err(refuse("credentials in URLs are not allowed"));
            }
            if self.extra_origins.contains(&url.origin()) {
                return Ok(url);
            }
            return Err(refuse(
                "the origin is not the connection's; an extra origin must be declared by the adapter and listed in the connection's `granted_origins`",
            ));
        }
        if !path.starts_with('/') {
            return Err(refuse(
                "the path must be relative to the base URL and start with `/`",
            ));
        }
        if path.starts_with("//") {
            return Err(refuse("protocol-relative URLs are not allowed"));
        }
        if path
            .chars()
            .any(|c| c.is_control() || c == '\\' || c == ' ' || c == '#')
        {
            return Err(HttpError::InvalidRequest(
                "the path contains whitespace, control characters, `\\` or `#`".into(),
            ));
        }
        let url = Url::parse(&format!("{}{}", self.base, path))
            .map_err(|e| HttpError::InvalidRequest(format!("the path does not form a URL: {e}")))?;
        let base = &self.config.base_url;
        if url.origin() != base.origin() {
            return Err(refuse("the request leaves the connection's origin"));
        }
        let base_path = base.path().trim_end_matches('/');
        let under_base = url.path() == base_path
            || url
                .path()
                .strip_prefix(base_path)
                .is_some_and(|rest| rest.starts_with('/'));
        if !under_base {
            return Err(refuse("the request leaves the connection's base path"));
        }
        self.protected.check_url(&url, &self.base_query)?;
        self.with_base_query(url)
    }

    /// Adds the base URL's query parameters to an adapter's URL, after the adapter's own. A
    /// parameter the adapter also sends is kept once when the values agree and refused when
    /// they differ: the operator's choice (such as SAP's `sap-client`) is never overridden.
    fn with_base_query(&self, mut url: Url) -> Result<Url, HttpError> {
        if self.base_query.is_empty() {
            return Ok(url);
        }
        let mut kept: Vec<&str> = Vec::new();
        for raw in url
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let Some((name, value)) = url::form_urlencoded::parse(raw.as_bytes()).next() else {
                continue;
            };
            match self.base_query.iter().find(|(k, _)| *k == name) {
                None => kept.push(raw),
                Some((_, fixed)) if *fixed == value => {}
                Some((k, _)) => {
                    return Err(HttpError::ForbiddenDestination(format!(
                        "the query parameter `{}` is set by the connection's base URL and may not be changed",
                        truncate(k, 100)
                    )));
                }
            }
        }
        let mut query = kept.join("&");
        let mut base = url::form_urlencoded::Serializer::new(String::new());
        base.extend_pairs(self.base_query.iter());
        let base = base.finish();
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&base);
        url.set_query(Some(&query));
        Ok(url)
    }

    fn headers(&self, req: &Request) -> Result<HeaderMap, HttpError> {
        let mut map = HeaderMap::new();
        for (name, value) in &req.headers {
            let lower = name.to_ascii_lowercase();
            if self.forbidden.contains(&lower)
                || lower.starts_with("proxy-")
                || self.protected.is_protected(&lower)
            {
                return Err(HttpError::ForbiddenHeader(truncate(&lower, 100).to_owned()));
            }
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                HttpError::InvalidRequest(format!(
                    "`{}` is not a valid header name",
                    truncate(name, 100)
                ))
            })?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                HttpError::InvalidRequest(format!(
                    "the value of `{name}` is not a valid header value"
                ))
            })?;
            map.append(name, value);
        }
        Ok(map)
    }

    fn scrub(&self, bytes: Vec<u8>) -> Vec<u8> {
        self.scrubber.scrub(bytes)
    }
}

impl Egress {
    /// Reads a response under the size cap, refuses what the scrubber could not see whole
    /// ([`unreadable`]), drops cookies (the jar keeps them) and scrubs every secret of the
    /// connection from header names, header values and body.
    pub(crate) async fn read(&self, mut resp: reqwest::Response) -> Result<Response, HttpError> {
        let limit = self.config.max_response_bytes;
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(HttpError::ResponseTooLarge(limit));
        }
        let status = resp.status().as_u16();
        if let Some(why) = unreadable(status, resp.headers()) {
            return Err(HttpError::Connection(format!(
                "the upstream's answer was refused unread: {why}"
            )));
        }
        let mut headers = Vec::with_capacity(resp.headers().len());
        for (name, value) in resp.headers() {
            if name == reqwest::header::SET_COOKIE || name.as_str() == "set-cookie2" {
                continue;
            }
            let name = self.scrub(name.as_str().as_bytes().to_vec());
            let value = self.scrub(value.as_bytes().to_vec());
            headers.push((
                String::from_utf8_lossy(&name).into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(map_reqwest)? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(HttpError::ResponseTooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body: self.scrub(body),
        })
    }

    /// One attempt: credential applied, sent, read. A 401 with a renewable credential
    /// (session, OAuth) drops that token and tries once more with a new one.
    async fn send_once(
        &self,
        method: &reqwest::Method,
        req: &Request,
        headers: &HeaderMap,
    ) -> Result<Response, HttpError> {
        let mut renewed = false;
        loop {
            let ticket = match self.auth.prepare(self).await {
                Ok(ticket) => ticket,
                Err(auth::PrepareError::Http(e)) => return Err(e),
                Err(auth::PrepareError::Refused(answer)) => return Ok(answer),
            };
            let mut url = self.resolve(&req.path)?;
            let mut headers = self.auth.apply(&ticket, &mut url, headers.clone())?;
            identity_only(&mut headers);
            let mut builder = self.client.request(method.clone(), url).headers(headers);
            if let Some(body) = &req.body {
                builder = builder.body(body.clone());
            }
            let resp = builder.send().await.map_err(map_reqwest)?;
            let response = self.read(resp).await?;
            if response.status == 401 && self.auth.renewable() && !renewed {
                self.auth.invalidate(&ticket).await;
                renewed = true;
                continue;
            }
            return Ok(response);
        }
    }

    /// Logs out of a session-login system (call when the host shuts down).
    pub async fn shutdown(&self) {
        self.auth.logout(self).await;
    }
}

#[async_trait]
impl Upstream for Egress {
    async fn send(&self, req: Request) -> Result<Response, HttpError> {
        let method = req.method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(HttpError::InvalidRequest(format!(
                "method `{}` is not allowed",
                truncate(&method, 20)
            )));
        }
        // Policy checks come before any budget is spent or credential obtained.
        self.resolve(&req.path)?;
        let headers = self.headers(&req)?;
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| HttpError::InvalidRequest("bad method".into()))?;
        let idempotency_key = req
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("idempotency-key"));
        let result = self
            .governor
            .run(method.as_str(), idempotency_key, || {
                self.send_once(&method, &req, &headers)
            })
            .await;
        match result {
            Ok(response) => Ok(response),
            Err(GovernorError::Upstream { error, .. }) => Err(error),
            Err(GovernorError::BudgetWait { waited, needed, .. }) => Err(HttpError::RateLimited(
                u64::try_from(needed.saturating_sub(waited).as_millis()).unwrap_or(u64::MAX),
            )),
            Err(e) => Err(HttpError::Connection(format!("rate governor: {e}"))),
        }
    }
}

/// Asks for the answer whole and uncompressed: the scrubber must see what the adapter will.
pub(crate) fn identity_only(headers: &mut HeaderMap) {
    headers.insert(
        reqwest::header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
}

/// Why an answer cannot be scrubbed as it stands, if it cannot: a content coding the host did
/// not ask for (a compressed secret is invisible to the scrubber), partial content (a secret
/// split across two ranges is invisible in each), or a charset in which ASCII text is not
/// ASCII bytes (UTF-16, UTF-32, UTF-7).
fn unreadable(status: u16, headers: &HeaderMap) -> Option<&'static str> {
    for value in headers.get_all(reqwest::header::CONTENT_ENCODING) {
        let coded = value
            .to_str()
            .map(|v| {
                v.split(',')
                    .any(|c| !c.trim().is_empty() && !c.trim().eq_ignore_ascii_case("identity"))
            })
            .unwrap_or(true);
        if coded {
            return Some("it is content-encoded, and the host asked for identity encoding");
        }
    }
    for value in headers.get_all(reqwest::header::TRANSFER_ENCODING) {
        let coded = value
            .to_str()
            .map(|v| {
                v.split(',').any(|c| {
                    let c = c.trim();
                    !c.is_empty()
                        && !c.eq_ignore_ascii_case("chunked")
                        && !c.eq_ignore_ascii_case("identity")
                })
            })
            .unwrap_or(true);
        if coded {
            return Some("it is transfer-encoded with a coding the host does not decode");
        }
    }
    if status == 206 || headers.contains_key(reqwest::header::CONTENT_RANGE) {
        return Some("it is partial content, and the host asks for whole responses");
    }
    for value in headers.get_all(reqwest::header::CONTENT_TYPE) {
        let lower = String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase();
        if lower.contains("multipart/byteranges") {
            return Some("it is partial content, and the host asks for whole responses");
        }
        let charset = lower
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("charset="))
            .map(|c| c.trim_matches('"').trim().to_owned())
            .next();
        if charset.is_some_and(|c| {
            c.starts_with("utf-16")
                || c.starts_with("utf-32")
                || c.starts_with("utf16")
                || c.starts_with("utf32")
                || c.starts_with("ucs")
                || c == "utf-7"
                || c == "utf7"
        }) {
            return Some("its charset is not ASCII-compatible");
        }
    }
    None
}

/// Refuses a URL whose host is an IP literal (in any encoding the URL parser accepts) or a
/// `localhost` name that the address policy refuses; other names are checked on every
/// resolution by [`PolicyResolver`].
fn check_host(url: &Url, allow_private_network: bool) -> Result<(), EgressError> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(d)) if is_localhost_name(d) => {
            Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        }
        Some(url::Host::Domain(_)) => None,
        None => return Err(EgressError::BaseUrl(format!("`{url}` has no host"))),
    };
    match ip.map(|ip| ranges::check(ip, allow_private_network)) {
        Some(Err(denial)) if denial.opt_in() => Err(EgressError::PrivateAddress(denial)),
        Some(Err(denial)) => Err(EgressError::SpecialAddress(denial)),
        _ => Ok(()),
    }
}

/// `localhost`, `localhost.` and names under it, which resolve to loopback (RFC 6761).
fn is_localhost_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// A name that resolved only to addresses the policy refuses; names the first refusal.
#[derive(Debug)]
struct PrivateResolution {
    name: String,
    denial: ranges::Denial,
}

impl std::fmt::Display for PrivateResolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` resolves only to refused addresses ({})",
            self.name, self.denial
        )?;
        if self.denial.opt_in() {
            f.write_str("; set `allow_private_network` on the connection to allow it")?;
        }
        Ok(())
    }
}

impl std::error::Error for PrivateResolution {}

/// DNS resolution under the egress policy: every resolved address is checked like an IP
/// literal, and refused addresses are dropped; a name left with none is refused.
pub(crate) struct PolicyResolver {
    allow_private_network: bool,
}

impl PolicyResolver {
    /// The policy on the addresses a name resolved to: those allowed, in order, or the
    /// refusal when none is.
    fn allowed(
        &self,
        name: &str,
        resolved: impl IntoIterator<Item = SocketAddr>,
    ) -> Result<Vec<SocketAddr>, PrivateResolution> {
        let mut allowed = Vec::new();
        let mut first_denial = None;
        for addr in resolved {
            match ranges::check(addr.ip(), self.allow_private_network) {
                Ok(()) => allowed.push(addr),
                Err(denial) => {
                    first_denial.get_or_insert(denial);
                }
            }
        }
        match first_denial {
            Some(denial) if allowed.is_empty() => Err(PrivateResolution {
                name: truncate(name, 253).to_owned(),
                denial,
            }),
            _ => Ok(allowed),
        }
    }
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = PolicyResolver {
            allow_private_network: self.allow_private_network,
        };
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = policy
                .allowed(&host, resolved)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The DNS resolver of the egress policy, for the host's other HTTP clients (webhook
/// deliveries): the same checks as a connection's, with or without the opt-in.
pub(crate) fn policy_resolver(allow_private_network: bool) -> Arc<PolicyResolver> {
    Arc::new(PolicyResolver {
        allow_private_network,
    })
}

/// Maps a client error without its URL (which may carry a query-string credential).
fn map_reqwest(e: reqwest::Error) -> HttpError {
    if e.is_timeout() {
        return HttpError::Timeout;
    }
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<PrivateResolution>() {
            return HttpError::ForbiddenDestination(refused.to_string());
        }
        source = s.source();
    }
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    HttpError::Connection(message)
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn egress(base: &str) -> Egress {
        let mut config = EgressConfig::new(Url::parse(base).unwrap());
        config.allow_private_network = true;
        Egress::new(
            config,
            AuthScheme::Bearer,
            Credential::Token(SecretString::from("s3cr3t-token")),
        )
        .unwrap()
    }

    #[test]
    fn resolves_only_under_the_base() {
        let e = egress("http://127.0.0.1:9/v1");
        assert_eq!(
            e.resolve("/workorders?limit=5").unwrap().as_str(),
            "http://127.0.0.1:9/v1/workorders?limit=5"
        );
        for bad in [
            "http://169.254.169.254/latest",
            "//evil.example.com/x",
            "@evil.example.com/x",
            "/../admin",
            "/%2e%2e/admin",
            "workorders",
        ] {
            assert!(e.resolve(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn base_url_query_parameters_go_on_every_request_and_cannot_be_overridden() {
        let e = egress("http://127.0.0.1:9/sap/opu/odata/sap?sap-client=100");
        let resolved = |path: &str| e.resolve(path).map(|u| u.as_str().to_owned());
        assert_eq!(
            resolved("/API_EQUIPMENT/Equipment?$top=5&$filter=Equipment%20eq%20'1'").unwrap(),
            "http://127.0.0.1:9/sap/opu/odata/sap/API_EQUIPMENT/Equipment?$top=5&$filter=Equipment%20eq%20%271%27&sap-client=100"
        );
        assert_eq!(
            resolved("/API_EQUIPMENT/").unwrap(),
            "http://127.0.0.1:9/sap/opu/odata/sap/API_EQUIPMENT/?sap-client=100"
        );
        // The same value is kept once; another value is refused.
        assert_eq!(
            resolved("/API_EQUIPMENT/Equipment?sap-client=100&$top=1").unwrap(),
            "http://127.0.0.1:9/sap/opu/odata/sap/API_EQUIPMENT/Equipment?$top=1&sap-client=100"
        );
        for path in ["/x?sap-client=200", "/x?$top=1&sap%2Dclient=300"] {
            match e.resolve(path) {
                Err(HttpError::ForbiddenDestination(why)) => {
                    assert!(why.contains("sap-client"), "{why}")
                }
                other => panic!("{path}: {other:?}"),
            }
        }
        // Without a base query nothing is added.
        let plain = egress("http://127.0.0.1:9/v1");
        assert_eq!(
            plain.resolve("/x?a=1").unwrap().as_str(),
            "http://127.0.0.1:9/v1/x?a=1"
        );
        // A fragment is still refused, and so is a credential parameter in the base URL.
        let mut config = EgressConfig::new(Url::parse("http://127.0.0.1:9/v1#frag").unwrap());
        config.allow_private_network = true;
        assert!(Egress::new(config, AuthScheme::None, Credential::None).is_err());
        let mut config = EgressConfig::new(Url::parse("http://127.0.0.1:9/v1?api_key=x").unwrap());
        config.allow_private_network = true;
        assert!(matches!(
            Egress::new(
                config,
                AuthScheme::ApiKeyQuery("api_key".into()),
                Credential::Token(SecretString::from("k"))
            ),
            Err(EgressError::BaseUrl(_))
        ));
    }

    #[test]
    fn refuses_host_controlled_headers() {
        let e = egress("http://127.0.0.1:9/v1");
        for h in [
            "Authorization",
            "cookie",
            "Host",
            "Proxy-Foo",
            "content-length",
        ] {
            let req = Request::get("/x").header(h, "v");
            assert_eq!(
                e.headers(&req).unwrap_err(),
                HttpError::ForbiddenHeader(h.to_ascii_lowercase())
            );
        }
        assert!(
            e.headers(&Request::get("/x").header("accept", "application/json"))
                .is_ok()
        );
    }

    #[test]
    fn content_negotiation_is_host_controlled() {
        let e = egress("http://127.0.0.1:9/v1");
        for h in [
            "Accept-Encoding",
            "accept-charset",
            "Range",
            "If-Range",
            "Request-Range",
            "TE",
            "Expect",
        ] {
            let req = Request::get("/x").header(h, "gzip");
            assert_eq!(
                e.headers(&req).unwrap_err(),
                HttpError::ForbiddenHeader(h.to_ascii_lowercase())
            );
        }
        let mut headers = HeaderMap::new();
        headers.insert("accept-encoding", HeaderValue::from_static("gzip"));
        identity_only(&mut headers);
        assert_eq!(headers.get_all("accept-encoding").iter().count(), 1);
        assert_eq!(headers["accept-encoding"], "identity");
    }

    #[test]
    fn answers_the_scrubber_cannot_see_whole_are_refused() {
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(*k, HeaderValue::from_static(v));
            }
            h
        };
        for (status, headers) in [
            (200, with(&[("content-encoding", "gzip")])),
            (200, with(&[("content-encoding", "identity, BR")])),
            (
                200,
                with(&[
                    ("content-encoding", "identity"),
                    ("content-encoding", "deflate"),
                ]),
            ),
            (200, with(&[("transfer-encoding", "gzip, chunked")])),
            (206, with(&[])),
            (200, with(&[("content-range", "bytes 0-9/20")])),
            (
                200,
                with(&[("content-type", "multipart/byteranges; boundary=x")]),
            ),
            (
                200,
                with(&[("content-type", "application/json; charset=UTF-16LE")]),
            ),
            (
                200,
                with(&[("content-type", "text/plain; charset=\"utf-32\"")]),
            ),
            (200, with(&[("content-type", "text/plain;charset=utf-7")])),
        ] {
            assert!(
                unreadable(status, &headers).is_some(),
                "{status} {headers:?}"
            );
        }
        for headers in [
            with(&[]),
            with(&[("content-encoding", "identity")]),
            with(&[("transfer-encoding", "chunked")]),
            with(&[("content-type", "application/json; charset=utf-8")]),
        ] {
            assert!(unreadable(200, &headers).is_none(), "{headers:?}");
        }
    }

    #[test]
    fn credential_and_base_names_are_refused_in_headers_and_urls() {
        let mut config =
            EgressConfig::new(Url::parse("http://127.0.0.1:9/sap?sap-client=100").unwrap());
        config.allow_private_network = true;
        let e = Egress::new(
            config,
            AuthScheme::ApiKeyQuery("api_key".into()),
            Credential::Token(SecretString::from("k-123456789")),
        )
        .unwrap();
        for h in ["SAP-Client", "sap_client", "API_KEY"] {
            assert!(
                matches!(
                    e.headers(&Request::get("/x").header(h, "1")),
                    Err(HttpError::ForbiddenHeader(_))
                ),
                "{h}"
            );
        }
        for path in ["/x?API_KEY=1", "/x;sap-client=200", "/x?SAP-CLIENT=100"] {
            assert!(
                matches!(e.resolve(path), Err(HttpError::ForbiddenDestination(_))),
                "{path}"
            );
        }
        assert!(e.resolve("/x?sap-client=100").is_ok());
    }

    #[test]
    fn confirmed_endpoints_must_match_the_scheme() {
        use plantwire_sdk::contract::SessionLogin;
        let scheme = |path: &str| {
            AuthScheme::SessionLogin(SessionLogin {
                login_path: path.into(),
                username_field: "email".into(),
                password_field: "password".into(),
                token_pointer: "/token".into(),
                token_header: "Session-Token".into(),
                logout_path: None,
            })
        };
        let credential = || Credential::Basic {
            user: "u".into(),
            password: SecretString::from("p"),
        };
        let mut config = EgressConfig::new(Url::parse("http://127.0.0.1:9/v1").unwrap());
        config.allow_private_network = true;
        config.confirmed_endpoints = Some(credential_endpoints(&scheme("/auth")));
        assert!(Egress::new(config.clone(), scheme("/auth"), credential()).is_ok());
        assert!(matches!(
            Egress::new(config.clone(), scheme("/echo"), credential()),
            Err(EgressError::EndpointsChanged { .. })
        ));
        config.confirmed_endpoints = None;
        assert!(Egress::new(config, scheme("/echo"), credential()).is_ok());
    }

    #[test]
    fn private_addresses_need_opt_in() {
        for base in [
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://10.0.0.1/",
            "http://100.64.0.1/",
            "http://[fd00::1]/",
            "http://localhost/",
            "http://LocalHost./",
            "http://api.localhost/",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
            "http://0x7f.1/",
        ] {
            let config = EgressConfig::new(Url::parse(base).unwrap());
            match Egress::new(config, AuthScheme::None, Credential::None) {
                Err(e @ EgressError::PrivateAddress(_)) => {
                    assert!(e.to_string().contains("allow_private_network"), "{e}")
                }
                other => panic!("{base}: {other:?}"),
            }
            // The denial twin: with the opt-in the same base URL is accepted.
            let mut config = EgressConfig::new(Url::parse(base).unwrap());
            config.allow_private_network = true;
            assert!(
                Egress::new(config, AuthScheme::None, Credential::None).is_ok(),
                "{base}"
            );
        }
        let config = EgressConfig::new(Url::parse("https://api.getmaintainx.com/v1").unwrap());
        assert!(Egress::new(config, AuthScheme::None, Credential::None).is_ok());
    }

    #[test]
    fn special_addresses_are_refused_even_with_the_opt_in() {
        for (base, range) in [
            ("http://169.254.169.254/", "Link Local"),
            ("http://[fe80::a9fe:a9fe]/", "Link-Local Unicast"),
            ("http://[::ffff:169.254.169.254]/", "Link Local"),
            ("http://[64:ff9b::a9fe:a9fe]/", "Link Local"),
            ("http://[2002:a9fe:a9fe::1]/", "Link Local"),
            ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "Loopback"),
            ("http://[::7f00:1]/", "Loopback"),
            ("http://0.0.0.0/", "This host on this network"),
            ("http://192.0.2.10/", "TEST-NET-1"),
            ("http://198.18.0.1/", "Benchmarking"),
            ("http://224.0.0.251/", "Multicast"),
            ("http://240.0.0.1/", "Reserved"),
            ("http://255.255.255.255/", "Limited Broadcast"),
            ("http://[2001:db8::1]/", "Documentation"),
            ("http://[ff02::1]/", "Multicast"),
            ("http://[100::1]/", "Discard-Only"),
        ] {
            for allow in [false, true] {
                let mut config = EgressConfig::new(Url::parse(base).unwrap());
                config.allow_private_network = allow;
                match Egress::new(config, AuthScheme::None, Credential::None) {
                    Err(e @ EgressError::SpecialAddress(_)) => {
                        let text = e.to_string();
                        assert!(text.contains(range), "{base}: {text}");
                        assert!(!text.contains("allow_private_network"), "{text}");
                    }
                    other => panic!("{base} (allow {allow}): {other:?}"),
                }
            }
        }
    }

    #[test]
    fn hostile_path_forms_are_refused_before_anything_is_sent() {
        let e = egress("http://127.0.0.1:9/sap/opu/odata/sap");
        for path in [
            "/API/x%2F..%2F..%2Fadmin",
            "/API/%2e%2e/admin",
            "/API/.%2E/admin",
            "/API/%5C..%5Cadmin",
            "/API/..;/admin",
            "/API;sap-client=200/x",
            "/API/x%252F..%252Fadmin",
            "/API/Set('a%2F..%2F..%2Fadmin')",
        ] {
            match e.resolve(path) {
                Err(HttpError::ForbiddenDestination(why)) => {
                    assert!(
                        why.contains("outside") || why.contains("dot segment"),
                        "{why}"
                    )
                }
                other => panic!("{path}: {other:?}"),
            }
        }
        // An SAP key literal with an encoded `/` stays as the adapter wrote it.
        assert_eq!(
            e.resolve("/API_FUNCTIONALLOCATION/FunctionalLocation('1010-SP%2FA%20B')")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/sap/opu/odata/sap/API_FUNCTIONALLOCATION/FunctionalLocation('1010-SP%2FA%20B')"
        );
    }

    #[test]
    fn extra_origins_need_declaration_and_grant() {
        let mut config = EgressConfig::new(Url::parse("http://127.0.0.1:9/v1").unwrap());
        config.allow_private_network = true;
        config.granted_origins = vec![
            Url::parse("https://auth.example.com").unwrap(),
            Url::parse("https://granted-only.example.com").unwrap(),
        ];
        let declared = vec![
            "https://auth.example.com".to_owned(),
            "https://declared-only.example.com".to_owned(),
        ];
        let e =
            Egress::with_declared_origins(config, AuthScheme::None, Credential::None, &declared)
                .unwrap();
        assert!(e.resolve("https://auth.example.com/oauth/token").is_ok());
        for refused in [
            "https://granted-only.example.com/x",
            "https://declared-only.example.com/x",
            "https://user:pw@auth.example.com/x",
            "http://auth.example.com/x",
        ] {
            match e.resolve(refused) {
                Err(HttpError::ForbiddenDestination(why)) => {
                    assert!(
                        why.contains("granted_origins") || why.contains("credentials"),
                        "{why}"
                    )
                }
                other => panic!("{refused}: {other:?}"),
            }
        }
    }

    #[test]
    fn granted_origins_on_private_addresses_need_opt_in() {
        let mut config = EgressConfig::new(Url::parse("https://api.example.com/v1").unwrap());
        config.granted_origins = vec![Url::parse("http://169.254.169.254").unwrap()];
        let result = Egress::with_declared_origins(
            config,
            AuthScheme::None,
            Credential::None,
            &["http://169.254.169.254".to_owned()],
        );
        assert!(matches!(result, Err(EgressError::SpecialAddress(_))));
        let mut config = EgressConfig::new(Url::parse("https://api.example.com/v1").unwrap());
        config.granted_origins = vec![Url::parse("http://10.1.2.3").unwrap()];
        let result = Egress::with_declared_origins(
            config,
            AuthScheme::None,
            Credential::None,
            &["http://10.1.2.3".to_owned()],
        );
        assert!(matches!(result, Err(EgressError::PrivateAddress(_))));
    }

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused() {
        use reqwest::dns::Resolve;
        use std::str::FromStr;
        let strict = PolicyResolver {
            allow_private_network: false,
        };
        let name = reqwest::dns::Name::from_str("localhost").unwrap();
        let err = match strict.resolve(name).await {
            Ok(_) => panic!("localhost must be refused"),
            Err(e) => e,
        };
        assert!(err.to_string().contains("allow_private_network"), "{err}");
        let open = PolicyResolver {
            allow_private_network: true,
        };
        let name = reqwest::dns::Name::from_str("localhost").unwrap();
        let addrs: Vec<SocketAddr> = open.resolve(name).await.unwrap().collect();
        assert!(addrs.iter().any(|a| a.ip().is_loopback()));
    }

    /// The resolver's check on given addresses (nothing is resolved or connected to).
    #[test]
    fn every_resolved_address_is_checked() {
        let sock = |s: &str| SocketAddr::new(s.parse().unwrap(), 443);
        let strict = PolicyResolver {
            allow_private_network: false,
        };
        let open = PolicyResolver {
            allow_private_network: true,
        };
        // A name rebound to the metadata service, in every spelling, is refused either way.
        for metadata in [
            "169.254.169.254",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "fe80::a9fe:a9fe",
            "2002:a9fe:a9fe::",
        ] {
            for policy in [&strict, &open] {
                let err = policy
                    .allowed("rebind.example.com", [sock(metadata)])
                    .unwrap_err();
                let text = err.to_string();
                assert!(text.contains("ink"), "{text}");
                assert!(!text.contains("allow_private_network"), "{text}");
            }
        }
        // Private answers are dropped unless opted in; public ones are kept, in order.
        let mixed = [sock("10.0.0.5"), sock("93.184.215.14"), sock("::1")];
        assert_eq!(
            strict.allowed("mixed.example.com", mixed).unwrap(),
            vec![sock("93.184.215.14")]
        );
        assert_eq!(open.allowed("mixed.example.com", mixed).unwrap(), mixed);
        let err = strict
            .allowed(
                "onprem.example.com",
                [sock("192.168.1.10"), sock("fd00::1")],
            )
            .unwrap_err();
        assert!(err.to_string().contains("allow_private_network"), "{err}");
        assert!(err.to_string().contains("192.168.0.0/16"), "{err}");
        assert_eq!(
            open.allowed("onprem.example.com", [sock("192.168.1.10")])
                .unwrap(),
            vec![sock("192.168.1.10")]
        );
        // Documentation and reserved answers never pass.
        for never in ["203.0.113.9", "2001:db8::1", "240.0.0.1", "0.0.0.0"] {
            assert!(
                open.allowed("x.example.com", [sock(never)]).is_err(),
                "{never}"
            );
        }
    }

    #[test]
    fn scrubs_secrets() {
        let e = egress("http://127.0.0.1:9/v1");
        let out = e.scrub(b"echo: Bearer s3cr3t-token and S3CR3T-TOKEN".to_vec());
        assert_eq!(out, b"echo: Bearer [REDACTED] and [REDACTED]");
    }

    #[test]
    fn base64() {
        assert_eq!(base64_encode(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64_encode(b"a"), "YQ==");
    }
}
