//! A simulator of the auth rituals the host applies on the adapters' behalf, each checked for
//! real: a session login in UpKeep's shape (`POST /api/v2/auth` → `Session-Token`), an OAuth 2.0
//! token endpoint with client credentials and rotating refresh tokens, and Fiix-style HMAC
//! request signatures. Each protected route answers 401 to a wrong, expired or missing
//! credential, and every request is recorded.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::recorder::{RecordedRequest, Recorder};
use crate::server::Server;

/// The session login's user (an e-mail address, as UpKeep expects).
pub const SESSION_USER: &str = "planner@example.com";
/// The session login's password.
pub const SESSION_PASSWORD: &str = "correct horse battery staple";
/// The OAuth client id.
pub const OAUTH_CLIENT_ID: &str = "plantwire-client";
/// The OAuth client secret.
pub const OAUTH_CLIENT_SECRET: &str = "oauth-client-secret-5c1e";
/// Fiix access key, app key and secret key.
pub const FIIX_ACCESS_KEY: &str = "fiix-access-key-2211";
pub const FIIX_APP_KEY: &str = "fiix-app-key-9090";
pub const FIIX_SECRET_KEY: &str = "fiix-secret-key-7c7c";

#[derive(Debug, Default)]
struct AuthState {
    sessions: HashSet<String>,
    access_tokens: HashSet<String>,
    /// The one refresh token that is currently valid (rotated on every use).
    refresh_token: Option<String>,
    issued: u64,
    logins: usize,
    logouts: usize,
    token_requests: usize,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<AuthState>,
    recorder: Recorder,
}

impl Shared {
    fn with<R>(&self, f: impl FnOnce(&mut AuthState) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }
}

/// A running auth simulator.
#[derive(Debug, Clone)]
pub struct AuthSim {
    shared: Arc<Shared>,
    server: Arc<Server>,
}

fn unauthorized(message: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [("content-type", "application/json")],
        json!({"success": false, "message": message}).to_string(),
    )
        .into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = header(headers, "authorization")?.strip_prefix("Basic ")?;
    let decoded = decode_base64(value)?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0u32;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

async fn login(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let ok = parsed["email"] == SESSION_USER && parsed["password"] == SESSION_PASSWORD;
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            json!({"success": false, "message": "Invalid email or password"}).to_string(),
        )
            .into_response();
    }
    let token = s.with(|st| {
        st.logins += 1;
        st.issued += 1;
        let token = format!("r:session-{}", st.issued);
        st.sessions.insert(token.clone());
        token
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        json!({"success": true, "result": {"sessionToken": token, "expiresAt": "2030-01-01T00:00:00.000Z"}}).to_string(),
    )
        .into_response()
}

async fn logout(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = header(&headers, "session-token")
        .unwrap_or_default()
        .to_owned();
    let known = s.with(|st| {
        let known = st.sessions.remove(&token);
        if known {
            st.logouts += 1;
        }
        known
    });
    if !known {
        return unauthorized("Invalid session token");
    }
    Json(json!({"success": true, "message": "session deleted"})).into_response()
}

use axum::Json;

async fn session_data(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = header(&headers, "session-token")
        .unwrap_or_default()
        .to_owned();
    if !s.with(|st| st.sessions.contains(&token)) {
        return unauthorized("Invalid session token");
    }
    Json(json!({"success": true, "results": [{"id": "fjQXLsOvG7", "title": "Inspect chiller"}]}))
        .into_response()
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if basic_credentials(&headers)
        != Some((OAUTH_CLIENT_ID.to_owned(), OAUTH_CLIENT_SECRET.to_owned()))
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let issued = s.with(|st| {
        st.token_requests += 1;
        match field("grant_type").as_deref() {
            Some("client_credentials") => {}
            Some("refresh_token") => {
                if field("refresh_token") != st.refresh_token || st.refresh_token.is_none() {
                    return None;
                }
            }
            _ => return None,
        }
        st.issued += 1;
        let access = format!("at-{}", st.issued);
        let refresh = format!("rt-{}", st.issued);
        st.access_tokens.insert(access.clone());
        st.refresh_token = Some(refresh.clone());
        Some((access, refresh))
    });
    match issued {
        Some((access, refresh)) => Json(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": refresh,
        }))
        .into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response(),
    }
}

async fn oauth_data(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = header(&headers, "authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    if !s.with(|st| st.access_tokens.contains(&token)) {
        return unauthorized("invalid_token");
    }
    Json(json!({"items": [{"id": 1}]})).into_response()
}

/// Fiix: lowercase hex HMAC-SHA256 of the full URI without `http(s)://`, in `Authorization`.
async fn fiix(headers: HeaderMap, uri: Uri) -> Response {
    let host = header(&headers, "host").unwrap_or_default();
    let signed = format!("{host}{uri}");
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let keys_ok = param("accessKey") == Some(FIIX_ACCESS_KEY)
        && param("appKey") == Some(FIIX_APP_KEY)
        && param("signatureMethod") == Some("HmacSHA256")
        && param("signatureVersion") == Some("1")
        && param("timestamp").is_some_and(|t| t.parse::<u64>().is_ok());
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(FIIX_SECRET_KEY.as_bytes()) else {
        return unauthorized("signing failed");
    };
    mac.update(signed.as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    if !keys_ok || header(&headers, "authorization") != Some(expected.as_str()) {
        return unauthorized("Invalid signature");
    }
    Json(json!({"objects": [], "totalObjects": 0})).into_response()
}

impl AuthSim {
    /// Starts the simulator on `127.0.0.1:0`.
    pub async fn start() -> std::io::Result<AuthSim> {
        let shared = Arc::new(Shared {
            state: Mutex::new(AuthState::default()),
            recorder: Recorder::default(),
        });
        let record = shared.clone();
        let router = Router::new()
            .route("/api/v2/auth", post(login).delete(logout))
            .route("/api/v2/work-orders", get(session_data))
            .route("/oauth/token", post(token))
            .route("/oauth-api/items", get(oauth_data))
            .route("/fiix/api/", any(fiix))
            .layer(axum::middleware::from_fn(
                move |req: axum::extract::Request, next: axum::middleware::Next| {
                    let record = record.clone();
                    async move {
                        let method: Method = req.method().clone();
                        let uri = req.uri().clone();
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.as_str().to_owned(),
                                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                )
                            })
                            .collect();
                        record.recorder.push(RecordedRequest {
                            method: method.to_string(),
                            path: uri.path().to_owned(),
                            query: uri.query().map(str::to_owned),
                            headers,
                            body: Vec::new(),
                        });
                        next.run(req).await
                    }
                },
            ))
            .with_state(shared.clone());
        let server = Server::spawn(router).await?;
        Ok(AuthSim {
            shared,
            server: Arc::new(server),
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn origin(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorder.snapshot()
    }

    /// Successful logins so far.
    pub fn logins(&self) -> usize {
        self.shared.with(|st| st.logins)
    }

    /// Logouts so far.
    pub fn logouts(&self) -> usize {
        self.shared.with(|st| st.logouts)
    }

    /// Token endpoint requests so far (successful or not).
    pub fn token_requests(&self) -> usize {
        self.shared.with(|st| st.token_requests)
    }

    /// Expires every session (the next request with one gets 401).
    pub fn expire_sessions(&self) {
        self.shared.with(|st| st.sessions.clear());
    }

    /// Revokes every access token (the next request with one gets 401).
    pub fn revoke_access_tokens(&self) {
        self.shared.with(|st| st.access_tokens.clear());
    }

    /// The refresh token currently valid.
    pub fn current_refresh_token(&self) -> Option<String> {
        self.shared.with(|st| st.refresh_token.clone())
    }
}
