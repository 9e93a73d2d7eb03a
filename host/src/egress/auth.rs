//! Applying a connection's credential to each request, for every auth scheme the contract
//! names: static tokens and keys, HTTP basic, session login with one re-login on 401, OAuth 2.0
//! client credentials with single-flight refresh and persisted refresh-token rotation, and
//! per-request HMAC URL signatures.
//!
//! Tokens this module obtains (session tokens, access tokens) are secrets too: they are added
//! to the connection's scrubber the moment they are received, so no response can hand them
//! to the adapter. Nothing here logs a secret or puts one in an error.
//!
//! A login or token endpoint decides where a password or client secret is sent, so it is not
//! the adapter's to choose at run time: [`credential_endpoints`] summarises it, the operator
//! confirms that summary when the connection is made, and the egress refuses a scheme whose
//! summary differs. A refusal from such an endpoint reaches the adapter only as a synthetic
//! answer made here ([`refused`]): never that endpoint's status line, headers or body, which
//! may echo what it was sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use plantwire_sdk::contract::{OAuth2, SessionLogin};
use plantwire_sdk::{AuthScheme, HttpError, Response};
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use url::Url;

use super::scrub::Scrubber;
use super::{Credential, Egress, EgressError};

/// Where a rotated OAuth 2.0 refresh token is persisted before it is used (the vault).
#[async_trait]
pub trait RefreshTokenStore: Send + Sync {
    /// Persists the new refresh token; an error stops the host from using it.
    async fn persist(&self, refresh_token: &SecretString) -> Result<(), String>;
}

/// A credential obtained for one request: which generation it belongs to (so a 401 only
/// invalidates the token that failed), and the value to send.
pub(crate) struct Ticket {
    generation: u64,
    token: Option<SecretString>,
}

/// Why a credential could not be obtained.
pub(crate) enum PrepareError {
    /// Sending the login or token request failed.
    Http(HttpError),
    /// The system refused the credentials; the host's synthetic answer ([`refused`]) goes to
    /// the adapter as the response.
    Refused(Response),
}

impl From<HttpError> for PrepareError {
    fn from(e: HttpError) -> Self {
        PrepareError::Http(e)
    }
}

struct Obtained {
    generation: u64,
    token: SecretString,
    expires: Option<Instant>,
}

struct SessionState {
    config: SessionLogin,
    header: HeaderName,
    user: String,
    password: SecretString,
    current: tokio::sync::Mutex<Option<Obtained>>,
}

struct OAuthState {
    config: OAuth2,
    client_id: String,
    client_secret: SecretString,
    refresh_token: tokio::sync::Mutex<Option<SecretString>>,
    store: Option<Arc<dyn RefreshTokenStore>>,
    current: tokio::sync::Mutex<Option<Obtained>>,
}

enum Kind {
    None,
    Bearer(SecretString),
    HeaderKey(HeaderName, SecretString),
    QueryKey(String, SecretString),
    Basic(String, SecretString),
    Session(SessionState),
    OAuth2(OAuthState),
    Hmac {
        access_key: String,
        app_key: String,
        secret_key: SecretString,
    },
}

/// A connection's credential, applied per its adapter's auth scheme.
pub(crate) struct Auth {
    kind: Kind,
    generation: AtomicU64,
    /// The connection's scrubber: the credential's secrets, and the tokens obtained with it.
    scrubber: Arc<Scrubber>,
}

fn header_name(name: &str) -> Result<HeaderName, EgressError> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| EgressError::Credential(format!("`{name}` is not a header name")))
}

fn sensitive(value: &str) -> Result<HeaderValue, HttpError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        HttpError::InvalidRequest("a credential is not a valid header value".into())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

impl Auth {
    /// Pairs the scheme with the credential; adds the headers the scheme uses to `forbidden`.
    pub(crate) fn new(
        scheme: &AuthScheme,
        credential: Credential,
        forbidden: &mut Vec<String>,
        scrubber: Arc<Scrubber>,
    ) -> Result<Auth, EgressError> {
        let keep = |s: &str| scrubber.add_fixed(s);
        let kind = match (scheme, credential) {
            (AuthScheme::None, _) => Kind::None,
            (AuthScheme::Bearer, Credential::Token(t)) => {
                keep(t.expose_secret());
                Kind::Bearer(t)
            }
            (AuthScheme::ApiKeyHeader(h), Credential::Token(t)) => {
                let name = header_name(h)?;
                forbidden.push(name.as_str().to_owned());
                keep(t.expose_secret());
                Kind::HeaderKey(name, t)
            }
            (AuthScheme::ApiKeyQuery(q), Credential::Token(t)) => {
                keep(t.expose_secret());
                Kind::QueryKey(q.clone(), t)
            }
            (AuthScheme::Basic, Credential::Basic { user, password }) => {
                scrubber.add_pair(&user, password.expose_secret());
                Kind::Basic(user, password)
            }
            (AuthScheme::SessionLogin(config), Credential::Basic { user, password }) => {
                let header = header_name(&config.token_header)?;
                forbidden.push(header.as_str().to_owned());
                keep(password.expose_secret());
                Kind::Session(SessionState {
                    config: config.clone(),
                    header,
                    user,
                    password,
                    current: tokio::sync::Mutex::new(None),
                })
            }
            (
                AuthScheme::Oauth2ClientCredentials(config),
                Credential::OAuth2 {
                    client_id,
                    client_secret,
                    refresh_token,
                    store,
                },
            ) => {
                scrubber.add_pair(&client_id, client_secret.expose_secret());
                if let Some(rt) = &refresh_token {
                    keep(rt.expose_secret());
                }
                Kind::OAuth2(OAuthState {
                    config: config.clone(),
                    client_id,
                    client_secret,
                    refresh_token: tokio::sync::Mutex::new(refresh_token),
                    store,
                    current: tokio::sync::Mutex::new(None),
                })
            }
            (
                AuthScheme::HmacUrlSignature,
                Credential::Hmac {
                    access_key,
                    app_key,
                    secret_key,
                },
            ) => {
                keep(secret_key.expose_secret());
                keep(&access_key);
                keep(&app_key);
                Kind::Hmac {
                    access_key,
                    app_key,
                    secret_key,
                }
            }
            (scheme, _) => {
                return Err(EgressError::Credential(format!(
                    "the adapter uses {} but the connection's credential is of another kind",
                    scheme.describe()
                )));
            }
        };
        Ok(Auth {
            kind,
            generation: AtomicU64::new(1),
            scrubber,
        })
    }

    fn remember(&self, token: &SecretString) {
        self.scrubber.add_obtained(token.expose_secret());
    }

    /// The query parameters the host sets to carry the credential; the adapter may not.
    pub(crate) fn query_names(&self) -> Vec<String> {
        match &self.kind {
            Kind::QueryKey(param, _) => vec![param.clone()],
            Kind::Hmac { .. } => [
                "accessKey",
                "appKey",
                "timestamp",
                "signatureVersion",
                "signatureMethod",
                "signature",
            ]
            .map(str::to_owned)
            .to_vec(),
            _ => Vec::new(),
        }
    }

    /// Whether a 401 may be cured by obtaining a new token.
    pub(crate) fn renewable(&self) -> bool {
        matches!(self.kind, Kind::Session(_) | Kind::OAuth2(_))
    }

    /// Obtains what the next request needs (logging in or fetching a token when none is
    /// held; concurrent callers wait for the one request in flight).
    pub(crate) async fn prepare(&self, egress: &Egress) -> Result<Ticket, PrepareError> {
        match &self.kind {
            Kind::Session(s) => {
                let mut current = s.current.lock().await;
                if let Some(held) = current.as_ref() {
                    return Ok(Ticket {
                        generation: held.generation,
                        token: Some(held.token.clone()),
                    });
                }
                let token = self.login(egress, s).await?;
                self.remember(&token);
                let generation = self.generation.fetch_add(1, Ordering::SeqCst);
                *current = Some(Obtained {
                    generation,
                    token: token.clone(),
                    expires: None,
                });
                Ok(Ticket {
                    generation,
                    token: Some(token),
                })
            }
            Kind::OAuth2(o) => {
                let mut current = o.current.lock().await;
                if let Some(held) = current.as_ref()
                    && held.expires.is_none_or(|at| Instant::now() < at)
                {
                    return Ok(Ticket {
                        generation: held.generation,
                        token: Some(held.token.clone()),
                    });
                }
                let (token, expires) = self.fetch_token(egress, o).await?;
                self.remember(&token);
                let generation = self.generation.fetch_add(1, Ordering::SeqCst);
                *current = Some(Obtained {
                    generation,
                    token: token.clone(),
                    expires,
                });
                Ok(Ticket {
                    generation,
                    token: Some(token),
                })
            }
            _ => Ok(Ticket {
                generation: 0,
                token: None,
            }),
        }
    }

    /// Drops the token of `ticket` after a 401, unless a newer one replaced it already.
    pub(crate) async fn invalidate(&self, ticket: &Ticket) {
        let slot = match &self.kind {
            Kind::Session(s) => &s.current,
            Kind::OAuth2(o) => &o.current,
            _ => return,
        };
        let mut current = slot.lock().await;
        if current
            .as_ref()
            .is_some_and(|held| held.generation == ticket.generation)
        {
            *current = None;
        }
    }

    /// Adds the credential to a request.
    pub(crate) fn apply(
        &self,
        ticket: &Ticket,
        url: &mut Url,
        mut headers: reqwest::header::HeaderMap,
    ) -> Result<reqwest::header::HeaderMap, HttpError> {
        match &self.kind {
            Kind::None => {}
            Kind::Bearer(t) => {
                headers.insert(
                    reqwest::header::AUTHORIZATION,
                    sensitive(&format!("Bearer {}", t.expose_secret()))?,
                );
            }
            Kind::HeaderKey(name, t) => {
                headers.insert(name.clone(), sensitive(t.expose_secret())?);
            }
            Kind::QueryKey(param, t) => {
                url.query_pairs_mut().append_pair(param, t.expose_secret());
            }
            Kind::Basic(user, password) => {
                let encoded =
                    super::base64_encode(format!("{user}:{}", password.expose_secret()).as_bytes());
                headers.insert(
                    reqwest::header::AUTHORIZATION,
                    sensitive(&format!("Basic {encoded}"))?,
                );
            }
            Kind::Session(s) => {
                if let Some(token) = &ticket.token {
                    headers.insert(s.header.clone(), sensitive(token.expose_secret())?);
                }
            }
            Kind::OAuth2(_) => {
                if let Some(token) = &ticket.token {
                    headers.insert(
                        reqwest::header::AUTHORIZATION,
                        sensitive(&format!("Bearer {}", token.expose_secret()))?,
                    );
                }
            }
            Kind::Hmac {
                access_key,
                app_key,
                secret_key,
            } => {
                let millis = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or_default();
                url.query_pairs_mut()
                    .append_pair("accessKey", access_key)
                    .append_pair("appKey", app_key)
                    .append_pair("timestamp", &millis.to_string())
                    .append_pair("signatureVersion", "1")
                    .append_pair("signatureMethod", "HmacSHA256");
                let signature = hmac_url_signature(secret_key, url)?;
                headers.insert(reqwest::header::AUTHORIZATION, sensitive(&signature)?);
            }
        }
        Ok(headers)
    }

    async fn login(&self, egress: &Egress, s: &SessionState) -> Result<SecretString, PrepareError> {
        let url = egress.resolve(&s.config.login_path)?;
        let body = serde_json::json!({
            s.config.username_field.clone(): s.user,
            s.config.password_field.clone(): s.password.expose_secret(),
        });
        let request = egress
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let json = exchange(egress, request, Endpoint::Login).await?;
        match json
            .pointer(&s.config.token_pointer)
            .and_then(|v| v.as_str())
        {
            Some(token) if !token.is_empty() => Ok(SecretString::from(token.to_owned())),
            _ => Err(PrepareError::Http(HttpError::Connection(format!(
                "the login response has no session token at `{}`",
                s.config.token_pointer
            )))),
        }
    }

    /// Logs the session out (on shutdown); errors are ignored, there is nothing to retry.
    pub(crate) async fn logout(&self, egress: &Egress) {
        let Kind::Session(s) = &self.kind else { return };
        let Some(path) = &s.config.logout_path else {
            return;
        };
        let Some(held) = s.current.lock().await.take() else {
            return;
        };
        let Ok(url) = egress.resolve(path) else {
            return;
        };
        let Ok(value) = sensitive(held.token.expose_secret()) else {
            return;
        };
        let _ = egress
            .client
            .delete(url)
            .header(s.header.clone(), value)
            .header(reqwest::header::ACCEPT_ENCODING, "identity")
            .send()
            .await;
    }

    async fn fetch_token(
        &self,
        egress: &Egress,
        o: &OAuthState,
    ) -> Result<(SecretString, Option<Instant>), PrepareError> {
        let url = egress.resolve(&o.config.token_url)?;
        let mut refresh = o.refresh_token.lock().await;
        let mut form: Vec<(&str, String)> = Vec::new();
        match refresh.as_ref() {
            Some(rt) => {
                form.push(("grant_type", "refresh_token".to_owned()));
                form.push(("refresh_token", rt.expose_secret().to_owned()));
            }
            None => form.push(("grant_type", "client_credentials".to_owned())),
        }
        if !o.config.scopes.is_empty() {
            form.push(("scope", o.config.scopes.join(" ")));
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", plantwire_sdk::query::encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let basic = super::base64_encode(
            format!("{}:{}", o.client_id, o.client_secret.expose_secret()).as_bytes(),
        );
        let request = egress
            .client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(
                reqwest::header::AUTHORIZATION,
                sensitive(&format!("Basic {basic}"))?,
            )
            .body(body);
        let json = exchange(egress, request, Endpoint::Token).await?;
        let Some(access) = json.get("access_token").and_then(|v| v.as_str()) else {
            return Err(PrepareError::Http(HttpError::Connection(
                "the token response has no access_token".to_owned(),
            )));
        };
        let access = SecretString::from(access.to_owned());
        if let Some(rotated) = json.get("refresh_token").and_then(|v| v.as_str()) {
            let rotated = SecretString::from(rotated.to_owned());
            self.remember(&rotated);
            // A rotated refresh token is persisted before it is used: losing it would lock
            // the connection out at the next refresh.
            if let Some(store) = &o.store {
                store.persist(&rotated).await.map_err(|why| {
                    HttpError::Connection(format!(
                        "the rotated refresh token could not be persisted: {why}"
                    ))
                })?;
            }
            *refresh = Some(rotated);
        }
        // Refresh a little before the system's expiry.
        let expires = json
            .get("expires_in")
            .and_then(serde_json::Value::as_u64)
            .map(|secs| Instant::now() + Duration::from_secs(secs.saturating_sub(30).max(1)));
        Ok((access, expires))
    }
}

/// Which credential endpoint an exchange is with.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Login,
    Token,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::Login => "login",
            Endpoint::Token => "token",
        }
    }
}

/// Sends a login or token request and parses its JSON answer; a refusal becomes the host's
/// synthetic answer ([`refused`]).
async fn exchange(
    egress: &Egress,
    request: reqwest::RequestBuilder,
    endpoint: Endpoint,
) -> Result<serde_json::Value, PrepareError> {
    let request = request.header(reqwest::header::ACCEPT_ENCODING, "identity");
    let resp = request.send().await.map_err(super::map_reqwest)?;
    let response = egress.read(resp).await?;
    if !(200..300).contains(&response.status) {
        return Err(PrepareError::Refused(refused(endpoint, response.status)));
    }
    serde_json::from_slice(&response.body).map_err(|_| {
        PrepareError::Http(HttpError::Connection(format!(
            "the {} response is not JSON",
            endpoint.name()
        )))
    })
}

/// The answer the adapter gets when a login or token endpoint refuses: made by the host, with
/// nothing of that endpoint's answer but the class of its status. `401` when the credential
/// was refused (400, 401, 403), `502` for anything else.
fn refused(endpoint: Endpoint, status: u16) -> Response {
    let (synthetic, error, message) = if matches!(status, 400 | 401 | 403) {
        (
            401,
            "credential_refused",
            "the system refused the connection's credential; the operator must reauthorize the connection",
        )
    } else {
        (
            502,
            "credential_endpoint_failed",
            "the system's credential endpoint did not answer as expected; try again later",
        )
    };
    let body = serde_json::json!({
        "error": error,
        "endpoint": endpoint.name(),
        "message": message,
        "synthetic": true,
    });
    Response {
        status: synthetic,
        headers: vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            (
                "x-plantwire-synthetic".to_owned(),
                endpoint.name().to_owned(),
            ),
        ],
        body: body.to_string().into_bytes(),
    }
}

/// Where a scheme sends the credential, as one line the operator confirms: the login path, its
/// field names, where the session token is read and sent, the logout path; or the OAuth token
/// URL and scopes. `none` for schemes that send the credential only with each request.
pub fn credential_endpoints(scheme: &AuthScheme) -> String {
    match scheme {
        AuthScheme::SessionLogin(s) => format!(
            "session login: POST {} with {{\"{}\": <user>, \"{}\": <password>}}; token at {} sent in {}; logout {}",
            s.login_path,
            s.username_field,
            s.password_field,
            s.token_pointer,
            s.token_header,
            s.logout_path
                .as_deref()
                .map_or("none".to_owned(), |p| format!("DELETE {p}")),
        ),
        AuthScheme::Oauth2ClientCredentials(o) => format!(
            "OAuth 2.0 token: POST {} (client authentication: basic){}",
            o.token_url,
            if o.scopes.is_empty() {
                String::new()
            } else {
                format!("; scopes {}", o.scopes.join(" "))
            }
        ),
        _ => "none".to_owned(),
    }
}

/// Fiix-style signature: lowercase hex HMAC-SHA256 over the URL without its scheme.
pub(crate) fn hmac_url_signature(secret: &SecretString, url: &Url) -> Result<String, HttpError> {
    let text = url.as_str();
    let unsigned = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .unwrap_or(text);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| HttpError::InvalidRequest("the signing key is unusable".into()))?;
    mac.update(unsigned.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_synthetic() {
        let r = refused(Endpoint::Login, 400);
        assert_eq!(r.status, 401);
        assert!(String::from_utf8_lossy(&r.body).contains("credential_refused"));
        assert_eq!(refused(Endpoint::Token, 500).status, 502);
    }

    #[test]
    fn endpoints_name_every_part_that_decides_where_the_secret_goes() {
        let login = SessionLogin {
            login_path: "/api/v2/auth".into(),
            username_field: "email".into(),
            password_field: "password".into(),
            token_pointer: "/result/sessionToken".into(),
            token_header: "Session-Token".into(),
            logout_path: None,
        };
        let text = credential_endpoints(&AuthScheme::SessionLogin(login.clone()));
        for part in [
            "/api/v2/auth",
            "email",
            "password",
            "/result/sessionToken",
            "Session-Token",
        ] {
            assert!(text.contains(part), "{text}");
        }
        let moved = SessionLogin {
            login_path: "/api/v2/echo".into(),
            ..login
        };
        assert_ne!(credential_endpoints(&AuthScheme::SessionLogin(moved)), text);
        assert_eq!(credential_endpoints(&AuthScheme::Bearer), "none");
        assert!(
            credential_endpoints(&AuthScheme::Oauth2ClientCredentials(OAuth2 {
                token_url: "/oauth/token".into(),
                scopes: vec![],
            }))
            .contains("/oauth/token")
        );
    }
}
