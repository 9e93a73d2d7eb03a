//! Applying a connection's credential to each request, for every auth scheme the contract
//! names: static tokens and keys, HTTP basic, session login with one re-login on 401, OAuth 2.0
//! client credentials with single-flight refresh and persisted refresh-token rotation, and
//! per-request HMAC URL signatures.
//!
//! Tokens this module obtains (session tokens, access tokens) are secrets too: they are added
//! to the connection's scrub list the moment they are received, so no response can hand them
//! to the adapter. Nothing here logs a secret or puts one in an error.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use plantwire_sdk::contract::{OAuth2, SessionLogin};
use plantwire_sdk::{AuthScheme, HttpError, Response};
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use url::Url;

use super::{Credential, Egress, EgressError};

/// Where a rotated OAuth 2.0 refresh token is persisted before it is used (the vault).
#[async_trait]
pub trait RefreshTokenStore: Send + Sync {
    /// Persists the new refresh token; an error stops the host from using it.
    async fn persist(&self, refresh_token: &SecretString) -> Result<(), String>;
}

/// At most this many obtained tokens are kept for scrubbing (the newest ones).
const MAX_SCRUBBED_TOKENS: usize = 16;

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
    /// The system refused the credentials; its answer goes to the adapter as the response.
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
    /// Byte strings scrubbed from responses: the secret in every form it is sent, plus the
    /// tokens obtained with it.
    secrets: RwLock<Vec<Vec<u8>>>,
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
    ) -> Result<Auth, EgressError> {
        let mut secrets: Vec<Vec<u8>> = Vec::new();
        let mut keep = |s: &str| {
            if !s.is_empty() {
                secrets.push(s.as_bytes().to_vec());
            }
        };
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
                keep(password.expose_secret());
                keep(&super::base64_encode(
                    format!("{user}:{}", password.expose_secret()).as_bytes(),
                ));
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
                keep(client_secret.expose_secret());
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
            secrets: RwLock::new(secrets),
        })
    }

    /// The byte strings to scrub from responses.
    pub(crate) fn secrets(&self) -> Vec<Vec<u8>> {
        self.secrets.read().map(|s| s.clone()).unwrap_or_default()
    }

    fn remember(&self, token: &SecretString) {
        if let Ok(mut secrets) = self.secrets.write() {
            secrets.push(token.expose_secret().as_bytes().to_vec());
            let fixed = secrets.len().saturating_sub(MAX_SCRUBBED_TOKENS);
            if fixed > 0 && secrets.len() > MAX_SCRUBBED_TOKENS * 2 {
                secrets.drain(..fixed);
            }
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
        let json = exchange(egress, request, "login").await?;
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
        let json = exchange(egress, request, "token").await?;
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

/// Sends a login or token request and parses its JSON answer; a refusal is handed back as
/// the system's response.
async fn exchange(
    egress: &Egress,
    request: reqwest::RequestBuilder,
    what: &str,
) -> Result<serde_json::Value, PrepareError> {
    let resp = request.send().await.map_err(super::map_reqwest)?;
    let response = egress.read(resp).await?;
    if !(200..300).contains(&response.status) {
        return Err(PrepareError::Refused(response));
    }
    serde_json::from_slice(&response.body).map_err(|_| {
        PrepareError::Http(HttpError::Connection(format!(
            "the {what} response is not JSON"
        )))
    })
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
