//! The trust boundary against a hostile adapter, tried as an attacker would: the `hostile`
//! fixture (built from source) runs in the real runtime against a reflecting upstream on
//! `127.0.0.1:0` that sends back every byte it received — raw, percent- and form-encoded,
//! base64, JSON-escaped, case-folded, gzip-compressed, as partial content, in UTF-16 — and
//! after each attack every byte the adapter received, every log line at trace level (the
//! dependencies' `log` records included) and every error is searched for every form of every
//! secret ([`plantwire_integration_tests::leaks`]).
//!
//! Classes: compressed and partial answers, every encoded form of every secret kind (token,
//! API key in a header or the query, basic password, HMAC keys, session password and token,
//! OAuth client secret, refresh and access tokens), the credential's own names and the base
//! URL's parameters in every spelling, login and token endpoints pointed at the reflector,
//! cookies reflected, and credential endpoints changed by a later adapter version.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use plantwire::egress::{EgressError, credential_endpoints};
use plantwire::sdk::AuthScheme;
use plantwire::sdk::contract::{OAuth2, SessionLogin};
use plantwire::{AdapterComponent, Credential, Egress, EgressConfig, Runtime};
use plantwire_integration_tests::{
    LogCapture, Recording, assert_no_leak, connect, load, test_config,
};
use secrecy::SecretString;
use serde_json::{Value, json};

const TOKEN: &str = "pw-bearer-token+/=9f3a";
const API_KEY: &str = "pw-api-key/7c2e+b1\"x";
const USER: &str = "maint-user";
const PASSWORD: &str = "pw-password \\ with/odd+chars=";
const CLIENT_ID: &str = "pw-client-42";
const CLIENT_SECRET: &str = "pw-client-secret/5c1e+==";
const REFRESH_TOKEN: &str = "pw-refresh-token-a8d1/+";
const ACCESS_KEY: &str = "pw-hmac-access-key-2211";
const APP_KEY: &str = "pw-hmac-app-key-9090";
const SECRET_KEY: &str = "pw-hmac-secret-key-7c7c";
const COOKIE: &str = "pw-cookie-session-0d9e8f7a6b5c";

// ---------------------------------------------------------------------------------------------
// The reflecting upstream.

#[derive(Default)]
struct Reflector {
    /// Every request received, as text (request line, headers, body).
    received: Mutex<Vec<String>>,
}

impl Reflector {
    fn all(&self) -> String {
        self.received.lock().expect("lock").join("\n")
    }
}

fn percent(text: &str, plus: bool) -> String {
    text.bytes()
        .map(|b| match b {
            b' ' if plus => "+".to_owned(),
            b if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => char::from(b).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// `text` in every form the reflector sends it back in.
fn reflections(text: &str) -> Value {
    let unicode: String = text.encode_utf16().map(|u| format!("\\u{u:04X}")).collect();
    json!({
        "raw": text,
        "upper": text.to_uppercase(),
        "lower": text.to_lowercase(),
        "percent": percent(text, false),
        "form": percent(text, true),
        "base64": STANDARD.encode(text),
        "base64url": URL_SAFE_NO_PAD.encode(text),
        "unicode": unicode,
        "slashed": serde_json::to_string(text).expect("json").replace('/', "\\/"),
    })
}

/// A real gzip stream (one fixed-Huffman deflate block of literals): the bytes of `data` do
/// not appear in it, so a host that passed it on unread would pass the secret on.
fn gzip(data: &[u8]) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u32,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u32, len: u32) {
            for i in 0..len {
                self.acc |= ((value >> i) & 1) << self.n;
                self.n += 1;
                if self.n == 8 {
                    self.out.push(self.acc as u8);
                    self.acc = 0;
                    self.n = 0;
                }
            }
        }
        /// Huffman codes go most significant bit first.
        fn code(&mut self, code: u32, len: u32) {
            for i in (0..len).rev() {
                self.put((code >> i) & 1, 1);
            }
        }
    }
    let mut bits = Bits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // final block
    bits.put(1, 2); // fixed Huffman codes
    for &b in data {
        if b < 144 {
            bits.code(0x30 + u32::from(b), 8);
        } else {
            bits.code(0x190 + u32::from(b) - 144, 9);
        }
    }
    bits.code(0, 7); // end of block
    if bits.n > 0 {
        bits.out.push(bits.acc as u8);
    }
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend_from_slice(&bits.out);
    out.extend_from_slice(&(!crc).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

async fn reflect(
    State(r): State<Arc<Reflector>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut text = format!("{method} {uri}\n");
    for (name, value) in &headers {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text.push_str(&String::from_utf8_lossy(&body));
    r.received.lock().expect("lock").push(text.clone());

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
    // Login and token endpoints pointed here get a "token" that is the request itself.
    let token = URL_SAFE_NO_PAD.encode(&text);
    let doc = json!({
        "received": reflections(&text),
        "result": {"sessionToken": token},
        "access_token": token,
        "refresh_token": format!("{token}-rt"),
        "workOrders": [],
    });
    let body = doc.to_string().into_bytes();
    let status = param("status")
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);

    let mut out = HeaderMap::new();
    for (i, (name, value)) in headers.iter().enumerate() {
        let raw = value.clone();
        let b64 = HeaderValue::from_str(&STANDARD.encode(value.as_bytes())).expect("b64");
        let pct =
            HeaderValue::from_str(&percent(&String::from_utf8_lossy(value.as_bytes()), false))
                .expect("pct");
        for (kind, v) in [("raw", raw), ("b64", b64), ("pct", pct)] {
            let h =
                HeaderName::from_bytes(format!("x-reflect-{i}-{kind}").as_bytes()).expect("name");
            out.insert(h, v);
        }
        let _ = name;
    }
    out.insert("content-type", HeaderValue::from_static("application/json"));
    if uri.path().ends_with("/set-cookie") {
        out.insert(
            "set-cookie",
            HeaderValue::from_str(&format!("pw_session={COOKIE}; Path=/; HttpOnly"))
                .expect("cookie"),
        );
    }
    if let Some(coding) = param("encoding") {
        out.insert(
            "content-encoding",
            HeaderValue::from_str(coding).expect("coding"),
        );
        return (status, out, gzip(&body)).into_response();
    }
    if let Some(coding) = param("transfer") {
        out.insert(
            "transfer-encoding",
            HeaderValue::from_str(&format!("{coding}, chunked")).expect("te"),
        );
        return (status, out, gzip(&body)).into_response();
    }
    if let Some(half) = param("partial") {
        // A secret split across two ranges is whole in neither.
        let mid = body.len() / 2;
        let (range, part) = if half == "first" {
            (
                format!("bytes 0-{}/{}", mid - 1, body.len()),
                body[..mid].to_vec(),
            )
        } else {
            (
                format!("bytes {mid}-{}/{}", body.len() - 1, body.len()),
                body[mid..].to_vec(),
            )
        };
        out.insert(
            "content-range",
            HeaderValue::from_str(&range).expect("range"),
        );
        return (StatusCode::PARTIAL_CONTENT, out, part).into_response();
    }
    if param("content-range").is_some() {
        out.insert(
            "content-range",
            HeaderValue::from_str(&format!("bytes 0-{}/{}", body.len() - 1, body.len() * 2))
                .expect("range"),
        );
        return (status, out, body).into_response();
    }
    if let Some(charset) = param("charset") {
        out.insert(
            "content-type",
            HeaderValue::from_str(&format!("application/json; charset={charset}")).expect("ct"),
        );
        let utf16: Vec<u8> = String::from_utf8_lossy(&body)
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        return (status, out, utf16).into_response();
    }
    (status, out, body).into_response()
}

/// Starts a reflector on `127.0.0.1:0`; returns it and its base URL (`…/v1`).
async fn reflector() -> (Arc<Reflector>, String) {
    let state = Arc::new(Reflector::default());
    let app = Router::new().fallback(reflect).with_state(state.clone());
    let addr = plantwire_integration_tests::serve(app).await;
    (state, format!("http://{addr}/v1"))
}

// ---------------------------------------------------------------------------------------------
// Connections.

fn config(base: &str) -> EgressConfig {
    let mut config = EgressConfig::new(url::Url::parse(base).expect("url"));
    config.allow_private_network = true;
    config
}

/// The hostile component on a bearer-token connection to a fresh reflector (the runtime is
/// returned so that it outlives the attack).
async fn bearer_attack() -> (Runtime, Arc<Reflector>, Attack) {
    let (upstream, base) = reflector().await;
    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "fixture", "hostile").await;
    let egress = Egress::new(
        config(&base),
        AuthScheme::Bearer,
        Credential::Token(SecretString::from(TOKEN)),
    )
    .expect("egress");
    let a = attack(&component, egress);
    (rt, upstream, a)
}

struct Attack {
    recording: Arc<Recording>,
    conn: plantwire::Connection,
}

fn attack(component: &AdapterComponent, egress: Egress) -> Attack {
    let recording = Recording::new(Arc::new(egress));
    let conn = connect(component, "attack", recording.clone());
    Attack { recording, conn }
}

impl Attack {
    /// Runs `action`; returns its output (or its error, as text) for searching.
    async fn run(&self, action: &str, input: Value) -> Value {
        match self.conn.action("work-order", "1", action, input).await {
            Ok(out) => Value::Object(out),
            Err(e) => json!({ "call-error": e.to_string(), "debug": format!("{e:?}") }),
        }
    }

    /// Every byte the adapter sent and received.
    fn transcript(&self) -> Vec<u8> {
        self.recording.transcript().concat()
    }
}

fn attempts(out: &Value) -> Vec<Value> {
    out["attempts"]
        .as_array()
        .unwrap_or_else(|| panic!("no attempts in {out}"))
        .clone()
}

/// The secrets of every kind, each with the user names it is sent with.
const ALL_SECRETS: &[(&str, &[&str])] = &[
    (TOKEN, &[]),
    (API_KEY, &[]),
    (PASSWORD, &[USER]),
    (CLIENT_SECRET, &[CLIENT_ID]),
    (REFRESH_TOKEN, &[]),
    (ACCESS_KEY, &[]),
    (APP_KEY, &[]),
    (SECRET_KEY, &[]),
    (COOKIE, &[]),
];

fn check_everything(
    what: &str,
    attack: &Attack,
    outputs: &[&Value],
    logs: &LogCapture,
    extra: &[(&str, &[&str])],
) {
    let mut secrets = ALL_SECRETS.to_vec();
    secrets.extend_from_slice(extra);
    assert_no_leak(
        &format!("{what}: the adapter's transcript"),
        &attack.transcript(),
        &secrets,
    );
    for out in outputs {
        assert_no_leak(
            &format!("{what}: the adapter's output"),
            out.to_string().as_bytes(),
            &secrets,
        );
    }
    assert_no_leak(&format!("{what}: the trace logs"), &logs.bytes(), &secrets);
}

// ---------------------------------------------------------------------------------------------
// 1. Transfer encodings and partial content.

#[tokio::test(flavor = "current_thread")]
async fn compressed_partial_and_utf16_answers_never_reach_the_adapter() {
    let (logs, _guard) = LogCapture::install();
    let (_rt, upstream, a) = bearer_attack().await;

    let compressed = a.run("compressed", json!({})).await;
    let partial = a.run("partial", json!({})).await;
    let charset = a.run("charset", json!({})).await;
    for out in [&compressed, &partial, &charset] {
        for attempt in attempts(out) {
            let label = attempt["request"].as_str().unwrap_or_default().to_owned();
            let kind = attempt["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("{label} was answered: {attempt}"));
            let error = attempt["error"].as_str().unwrap_or_default();
            if ["accept-encoding: gzip", "te: gzip", "range", "if-range"].contains(&label.as_str())
            {
                assert_eq!(kind, "forbidden-header", "{label}: {attempt}");
            } else {
                assert_eq!(kind, "connection", "{label}: {attempt}");
                // A transfer coding the client cannot frame may fail before the host reads it.
                if label != "gzip transfer coding" {
                    assert!(error.contains("refused unread"), "{label}: {error}");
                }
            }
            assert!(
                attempt.get("body").is_none(),
                "{label}: a body reached the adapter"
            );
        }
    }
    // The requests the host did send asked for identity encoding, whole.
    let received = upstream.all();
    assert!(received.contains("accept-encoding: identity"), "{received}");
    assert!(
        !received.to_ascii_lowercase().contains("range: bytes"),
        "{received}"
    );
    assert!(
        !received.contains("accept-encoding: gzip") && !received.contains("te: gzip"),
        "the adapter's own negotiation left: {received}"
    );
    check_everything(
        "compressed/partial",
        &a,
        &[&compressed, &partial, &charset],
        &logs,
        &[],
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Every form of every secret.

/// One connection per credential kind, with the secrets it holds.
fn every_kind(base: &str) -> Vec<(&'static str, Egress, Vec<&'static str>)> {
    vec![
        (
            "bearer",
            Egress::new(
                config(base),
                AuthScheme::Bearer,
                Credential::Token(SecretString::from(TOKEN)),
            )
            .expect("bearer"),
            vec![TOKEN],
        ),
        (
            "api key header",
            Egress::new(
                config(base),
                AuthScheme::ApiKeyHeader("x-api-key".into()),
                Credential::Token(SecretString::from(API_KEY)),
            )
            .expect("header key"),
            vec![API_KEY],
        ),
        (
            "api key query",
            Egress::new(
                config(base),
                AuthScheme::ApiKeyQuery("api_key".into()),
                Credential::Token(SecretString::from(API_KEY)),
            )
            .expect("query key"),
            vec![API_KEY],
        ),
        (
            "basic",
            Egress::new(
                config(base),
                AuthScheme::Basic,
                Credential::Basic {
                    user: USER.into(),
                    password: SecretString::from(PASSWORD),
                },
            )
            .expect("basic"),
            vec![PASSWORD],
        ),
        (
            "hmac",
            Egress::new(
                config(base),
                AuthScheme::HmacUrlSignature,
                Credential::Hmac {
                    access_key: ACCESS_KEY.into(),
                    app_key: APP_KEY.into(),
                    secret_key: SecretString::from(SECRET_KEY),
                },
            )
            .expect("hmac"),
            vec![ACCESS_KEY, APP_KEY],
        ),
    ]
}

#[tokio::test(flavor = "current_thread")]
async fn every_encoded_form_of_every_secret_kind_is_scrubbed() {
    let (logs, _guard) = LogCapture::install();
    let (upstream, base) = reflector().await;
    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "fixture", "hostile").await;
    for (kind, egress, sent) in every_kind(&base) {
        let a = attack(&component, egress);
        let out = a.run("echo-encoded", json!({})).await;
        for attempt in attempts(&out) {
            assert_eq!(attempt["status"], 200, "{kind}: {attempt}");
            assert!(
                attempt["body"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("[REDACTED]"),
                "{kind}: nothing was scrubbed"
            );
        }
        // Not vacuous: the upstream did receive the secret the host sent (raw or in the
        // encoding its scheme uses).
        let received = upstream.all();
        for secret in &sent {
            let seen = received.contains(secret)
                || received.contains(&percent(secret, true))
                || received.contains(&STANDARD.encode(format!("{USER}:{secret}")));
            assert!(seen, "{kind}: the upstream never got the credential");
        }
        check_everything(kind, &a, &[&out], &logs, &[]);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. The credential's own names and the base URL's parameters.

#[tokio::test(flavor = "current_thread")]
async fn the_credentials_names_and_base_parameters_cannot_be_set_in_any_spelling() {
    let (logs, _guard) = LogCapture::install();
    let (upstream, base) = reflector().await;
    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "fixture", "hostile").await;

    // An API key in the query, on a base URL that fixes `sap-client`.
    let egress = Egress::new(
        config(&format!("{base}?sap-client=100")),
        AuthScheme::ApiKeyQuery("api_key".into()),
        Credential::Token(SecretString::from(API_KEY)),
    )
    .expect("egress");
    let a = attack(&component, egress);
    let out = a
        .run(
            "credential-names",
            json!({"names": ["api_key", "sap-client"]}),
        )
        .await;
    let all = attempts(&out);
    assert!(all.len() >= 30, "{out}");
    for attempt in &all {
        let label = attempt["request"].as_str().unwrap_or_default();
        let kind = attempt["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{label} went out: {attempt}"));
        assert!(
            ["forbidden-destination", "forbidden-header"].contains(&kind),
            "{label}: {attempt}"
        );
    }
    assert!(
        !upstream.all().contains("stolen"),
        "a refused name reached the upstream"
    );

    // An API key in a header: the header's name in any case or with `_` for `-`.
    let egress = Egress::new(
        config(&base),
        AuthScheme::ApiKeyHeader("x-api-key".into()),
        Credential::Token(SecretString::from(API_KEY)),
    )
    .expect("egress");
    let a2 = attack(&component, egress);
    let out2 = a2
        .run("credential-names", json!({"names": ["x-api-key"]}))
        .await;
    let headers: Vec<Value> = attempts(&out2)
        .into_iter()
        .filter(|a| {
            a["request"]
                .as_str()
                .is_some_and(|r| r.starts_with("header"))
        })
        .collect();
    assert_eq!(headers.len(), 3);
    for attempt in &headers {
        assert_eq!(attempt["kind"], "forbidden-header", "{attempt}");
    }
    assert!(
        !upstream.all().contains("x-api-key: stolen")
            && !upstream.all().contains("x_api_key: stolen")
    );
    check_everything("credential names", &a, &[&out, &out2], &logs, &[]);
}

// ---------------------------------------------------------------------------------------------
// 4. Login and token endpoints.

fn session(login_path: &str) -> AuthScheme {
    AuthScheme::SessionLogin(SessionLogin {
        login_path: login_path.into(),
        username_field: "email".into(),
        password_field: "password".into(),
        token_pointer: "/result/sessionToken".into(),
        token_header: "Session-Token".into(),
        logout_path: None,
    })
}

fn oauth(token_url: &str) -> AuthScheme {
    AuthScheme::Oauth2ClientCredentials(OAuth2 {
        token_url: token_url.into(),
        scopes: vec![],
    })
}

fn session_credential() -> Credential {
    Credential::Basic {
        user: USER.into(),
        password: SecretString::from(PASSWORD),
    }
}

fn oauth_credential() -> Credential {
    Credential::OAuth2 {
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(CLIENT_SECRET),
        refresh_token: Some(SecretString::from(REFRESH_TOKEN)),
        store: None,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn login_and_token_endpoints_that_echo_leak_nothing_and_refusals_are_synthetic() {
    let (logs, _guard) = LogCapture::install();
    let (upstream, base) = reflector().await;
    let rt = Runtime::new(test_config()).expect("runtime");
    let component = load(&rt, "fixture", "hostile").await;

    // A hostile adapter version declares its login path and token URL on the reflector: the
    // password and the client secret are sent there, and what comes back is taken as the
    // session or access token — which then comes back again in every form.
    for (what, scheme, credential) in [
        ("session", session("/reflect-login"), session_credential()),
        ("oauth", oauth("/reflect-token"), oauth_credential()),
    ] {
        let a = attack(
            &component,
            Egress::new(config(&base), scheme, credential).expect("egress"),
        );
        let out = a.run("echo-encoded", json!({})).await;
        for attempt in attempts(&out) {
            assert_eq!(attempt["status"], 200, "{what}: {attempt}");
        }
        // The obtained token is the reflection of the login or token request, password or
        // client secret included.
        let tokens: Vec<String> = upstream
            .received
            .lock()
            .expect("lock")
            .iter()
            .filter(|r| r.contains("/reflect-login") || r.contains("/reflect-token"))
            .map(|r| URL_SAFE_NO_PAD.encode(r))
            .collect();
        assert!(
            !tokens.is_empty(),
            "{what}: the credential endpoint was not used"
        );
        let token_refs: Vec<(&str, &[&str])> =
            tokens.iter().map(|t| (t.as_str(), &[][..])).collect();
        check_everything(what, &a, &[&out], &logs, &token_refs);
    }
    assert!(
        upstream.all().contains("grant_type=refresh_token"),
        "the token endpoint was really used"
    );

    // Refused: the endpoint answers 400/401 with everything it received; the adapter gets the
    // host's synthetic answer and nothing of the endpoint's.
    for (what, scheme, credential) in [
        (
            "session",
            session("/reflect?status=400"),
            session_credential(),
        ),
        ("oauth", oauth("/reflect?status=401"), oauth_credential()),
    ] {
        let a = attack(
            &component,
            Egress::new(config(&base), scheme, credential).expect("egress"),
        );
        let out = a.run("echo-encoded", json!({})).await;
        for attempt in attempts(&out) {
            assert_eq!(attempt["status"], 401, "{what}: {attempt}");
            let body: Value = serde_json::from_str(attempt["body"].as_str().unwrap_or_default())
                .expect("json body");
            assert_eq!(body["synthetic"], true, "{what}: {body}");
            assert_eq!(body["error"], "credential_refused");
            assert!(
                body.get("received").is_none(),
                "{what}: the endpoint's body reached the adapter"
            );
            let headers = attempt["headers"].to_string();
            assert!(
                !headers.contains("x-reflect"),
                "{what}: the endpoint's headers reached the adapter: {headers}"
            );
        }
        check_everything(what, &a, &[&out], &logs, &[]);
    }
}

#[tokio::test]
async fn a_later_version_that_moves_the_credential_endpoints_is_refused_until_confirmed() {
    let (_upstream, base) = reflector().await;
    for (confirmed, later) in [
        (session("/api/v2/auth"), session("/api/v2/work-orders")),
        (
            session("/api/v2/auth"),
            AuthScheme::SessionLogin(SessionLogin {
                password_field: "title".into(),
                ..match session("/api/v2/auth") {
                    AuthScheme::SessionLogin(s) => s,
                    _ => unreachable!(),
                }
            }),
        ),
        (oauth("/oauth/token"), oauth("/reflect")),
        (AuthScheme::Bearer, session("/api/v2/auth")),
    ] {
        let mut cfg = config(&base);
        cfg.confirmed_endpoints = Some(credential_endpoints(&confirmed));
        let credential = match &later {
            AuthScheme::Oauth2ClientCredentials(_) => oauth_credential(),
            _ => session_credential(),
        };
        match Egress::new(cfg.clone(), later.clone(), credential) {
            Err(EgressError::EndpointsChanged {
                confirmed: c,
                declared,
            }) => {
                assert_eq!(c, credential_endpoints(&confirmed));
                assert_eq!(declared, credential_endpoints(&later));
                let message = EgressError::EndpointsChanged {
                    confirmed: c,
                    declared,
                }
                .to_string();
                assert!(message.contains("--confirm-endpoints"), "{message}");
                assert!(!message.contains(PASSWORD));
            }
            other => panic!("{later:?}: {other:?}"),
        }
        // Once confirmed, it runs.
        cfg.confirmed_endpoints = Some(credential_endpoints(&later));
        let credential = match &later {
            AuthScheme::Oauth2ClientCredentials(_) => oauth_credential(),
            _ => session_credential(),
        };
        assert!(Egress::new(cfg, later, credential).is_ok());
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Cookies.

#[tokio::test(flavor = "current_thread")]
async fn cookie_values_never_reach_the_adapter_or_the_logs() {
    let (logs, _guard) = LogCapture::install();
    let (_rt, upstream, a) = bearer_attack().await;
    let out = a.run("cookie-echo", json!({})).await;
    let all = attempts(&out);
    assert_eq!(all.len(), 2);
    for attempt in &all {
        assert_eq!(attempt["status"], 200, "{attempt}");
        let headers = attempt["headers"].to_string().to_ascii_lowercase();
        assert!(!headers.contains("set-cookie"), "{headers}");
    }
    // The jar works: the second request carried the cookie to the upstream.
    assert!(
        upstream
            .all()
            .contains(&format!("cookie: pw_session={COOKIE}")),
        "{}",
        upstream.all()
    );
    // The adapter cannot send a cookie of its own either.
    let own = a.run("cookie-header", json!({})).await;
    assert_eq!(own["kind"], "forbidden-header", "{own}");
    check_everything("cookies", &a, &[&out, &own], &logs, &[]);
}

#[test]
fn the_gzip_stream_is_real() {
    // A stored secret does not appear in the stream; the container framing is gzip's.
    let data = format!("{{\"token\": \"{TOKEN}\"}}");
    let z = gzip(data.as_bytes());
    assert_eq!(&z[..3], &[0x1f, 0x8b, 8]);
    assert!(!plantwire_integration_tests::contains(&z, TOKEN.as_bytes()));
    assert_eq!(
        u32::from_le_bytes(z[z.len() - 4..].try_into().expect("4")) as usize,
        data.len()
    );
}
