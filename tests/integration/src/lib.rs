//! Shared support for the integration tests: where the built components are, a runtime with
//! test-sized limits, and connections to simulators.
//!
//! Components are built from source by `cargo xtask test` (or `cargo xtask build`), which
//! points `PLANTWIRE_ADAPTERS` and `PLANTWIRE_FIXTURES` at them.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test support: failing loudly is the point"
)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use plantwire::sdk::{HttpError, Request, Response};
use plantwire::{
    AdapterComponent, Connection, Credential, Egress, EgressConfig, Runtime, RuntimeConfig,
    Upstream,
};
use secrecy::SecretString;

fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).map(PathBuf::from).unwrap_or(here)
}

fn component_dir(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target").join(default))
}

/// Reads a built component; fails with the command that builds it.
pub fn component_bytes(kind: &str, name: &str) -> Vec<u8> {
    let (var, dir) = match kind {
        "adapter" => (
            "PLANTWIRE_ADAPTERS",
            component_dir("PLANTWIRE_ADAPTERS", "adapters"),
        ),
        _ => (
            "PLANTWIRE_FIXTURES",
            component_dir("PLANTWIRE_FIXTURES", "fixtures"),
        ),
    };
    let path = dir.join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); the components are built by `cargo xtask test` (or set {var})",
            path.display()
        )
    })
}

/// Limits small enough for tests to hit quickly.
pub fn test_config() -> RuntimeConfig {
    RuntimeConfig {
        memory_limit: 96 << 20,
        call_timeout: Duration::from_secs(10),
        max_return_bytes: 4 << 20,
        max_instances: 32,
        ..RuntimeConfig::default()
    }
}

/// A runtime with [`test_config`].
pub fn runtime() -> Runtime {
    Runtime::new(test_config()).expect("runtime starts")
}

/// Loads a built component.
pub async fn load(runtime: &Runtime, kind: &str, name: &str) -> AdapterComponent {
    runtime
        .load(&component_bytes(kind, name))
        .await
        .unwrap_or_else(|e| panic!("{name} loads: {e}"))
}

/// An egress to a loopback base URL with a bearer token.
pub fn egress(base_url: &str, token: &str) -> Egress {
    let mut config = EgressConfig::new(url::Url::parse(base_url).expect("base URL"));
    config.allow_private_network = true;
    Egress::new(
        config,
        plantwire::sdk::AuthScheme::Bearer,
        Credential::Token(SecretString::from(token.to_owned())),
    )
    .expect("egress")
}

/// Records every request as the adapter built it and every response as the adapter received
/// it, then forwards to the inner upstream.
pub struct Recording {
    inner: Arc<dyn Upstream>,
    pub seen: Mutex<Vec<(Request, Result<Response, HttpError>)>>,
}

impl Recording {
    pub fn new(inner: Arc<dyn Upstream>) -> Arc<Recording> {
        Arc::new(Recording {
            inner,
            seen: Mutex::new(Vec::new()),
        })
    }

    /// Everything the adapter sent and received, as one byte string per exchange.
    pub fn transcript(&self) -> Vec<Vec<u8>> {
        let seen = self.seen.lock().expect("lock");
        seen.iter()
            .map(|(req, resp)| {
                let mut bytes =
                    format!("{} {} {:?}\n", req.method, req.path, req.headers).into_bytes();
                bytes.extend_from_slice(req.body.as_deref().unwrap_or_default());
                match resp {
                    Ok(r) => {
                        bytes.extend_from_slice(
                            format!("{} {:?}\n", r.status, r.headers).as_bytes(),
                        );
                        bytes.extend_from_slice(&r.body);
                    }
                    Err(e) => bytes.extend_from_slice(e.to_string().as_bytes()),
                }
                bytes
            })
            .collect()
    }
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording").finish_non_exhaustive()
    }
}

#[async_trait]
impl Upstream for Recording {
    async fn send(&self, req: Request) -> Result<Response, HttpError> {
        let result = self.inner.send(req.clone()).await;
        self.seen.lock().expect("lock").push((req, result.clone()));
        result
    }
}

/// A fresh, empty directory for one test, removed when dropped. Dereferences to its path.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// Creates `<tmp>/plantwire-<name>-<pid>-<n>`; `n` makes each call unique in a process.
    pub fn new(name: &str) -> Scratch {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "plantwire-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for Scratch {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Serves `app` on `127.0.0.1:0` for the rest of the test; returns its address.
pub async fn serve(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// A connection through `component` to `upstream`.
pub fn connect(component: &AdapterComponent, id: &str, upstream: Arc<dyn Upstream>) -> Connection {
    Connection::new(id, Arc::new(component.bind(id, upstream)))
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A `tracing` writer that keeps every line, so tests can search the logs.
#[derive(Debug, Clone, Default)]
pub struct LogCapture(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl LogCapture {
    /// Installs a subscriber at trace level for the current thread; returns the capture and
    /// the guard that keeps it installed.
    ///
    /// Records of the `log` crate (reqwest, its cookie store and other dependencies that
    /// handle requests log through it) are forwarded into the same subscriber, at every
    /// level; the compiler's own (Cranelift, wasmtime, their parsers) are left out: they see
    /// no request, and at trace level they log every instruction of every component.
    pub fn install() -> (LogCapture, tracing::subscriber::DefaultGuard) {
        // Once per process; later calls find it installed.
        let _ = tracing_log::LogTracer::builder()
            .ignore_all([
                "cranelift",
                "wasmtime",
                "regalloc2",
                "wasmparser",
                "wasm_encoder",
                "wit_",
                "object",
                "gimli",
            ])
            .init();
        let capture = LogCapture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(capture.clone())
            .with_ansi(false)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (capture, guard)
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().expect("lock").clone()
    }
}

/// Calls every operation (list, get, create, update, delete) that `conn`'s adapter declares
/// unsupported, on every entity, with `key` where one is needed, and checks that the host
/// refuses each before the adapter runs, with the adapter's declared reason. Returns how many
/// were tried.
pub async fn refuse_every_unsupported(conn: &Connection, key: &str) -> usize {
    use plantwire::sdk::{AdapterError, Operation, Support};
    use plantwire::{CallError, ListOptions};

    let info = conn.info().clone();
    let mut tried = 0;
    for entity in &info.entities {
        for op in [
            Operation::List,
            Operation::Get,
            Operation::Create,
            Operation::Update,
            Operation::Delete,
        ] {
            let Support::Unsupported(reason) = entity.support(op) else {
                continue;
            };
            let result = match op {
                Operation::List => conn
                    .list(&entity.name, ListOptions::default())
                    .await
                    .map(|_| ()),
                Operation::Get => conn.get(&entity.name, key).await.map(|_| ()),
                Operation::Create => conn
                    .create(&entity.name, vec![serde_json::json!({})])
                    .await
                    .map(|_| ()),
                Operation::Update => conn
                    .update(&entity.name, key, serde_json::json!({"name": "x"}), None)
                    .await
                    .map(|_| ()),
                Operation::Delete => conn.delete(&entity.name, key).await,
                Operation::Action => continue,
            };
            match result {
                Err(CallError::Refused(AdapterError::Unsupported(message))) => assert!(
                    message.contains(&reason),
                    "{message} carries the adapter's reason"
                ),
                other => panic!("{} {op}: expected a refusal, got {other:?}", entity.name),
            }
            tried += 1;
        }
    }
    tried
}

/// One credential of every kind, under ids named after the kind, holding `secrets` (six
/// distinct strings: token, password, client secret, refresh token, access key, secret key).
pub fn every_credential_kind(
    secrets: &[&str],
) -> Vec<(
    plantwire::vault::CredentialId,
    plantwire::vault::StoredCredential,
)> {
    use plantwire::vault::{CredentialId, StoredCredential};
    use secrecy::SecretString;

    assert_eq!(secrets.len(), 6, "six secrets");
    let id = |s: &str| CredentialId::new(s).expect("valid id");
    let secret = |i: usize| SecretString::from(secrets[i]);
    vec![
        (id("token"), StoredCredential::Token { token: secret(0) }),
        (
            id("basic"),
            StoredCredential::Basic {
                user: "maint-user".into(),
                password: secret(1),
            },
        ),
        (
            id("oauth2"),
            StoredCredential::OAuth2 {
                client_id: "client-42".into(),
                client_secret: secret(2),
                refresh_token: Some(secret(3)),
            },
        ),
        (
            id("oauth2.norefresh"),
            StoredCredential::OAuth2 {
                client_id: "client-43".into(),
                client_secret: secret(2),
                refresh_token: None,
            },
        ),
        (
            id("hmac"),
            StoredCredential::Hmac {
                access_key: secret(4),
                app_key: "app-7".into(),
                secret_key: secret(5),
            },
        ),
    ]
}

/// Every field of a credential, secrets exposed, for comparisons.
pub fn credential_fields(c: &plantwire::vault::StoredCredential) -> Vec<String> {
    use plantwire::vault::StoredCredential;
    use secrecy::ExposeSecret;

    match c {
        StoredCredential::Token { token } => vec!["token".into(), token.expose_secret().into()],
        StoredCredential::Basic { user, password } => {
            vec![
                "basic".into(),
                user.clone(),
                password.expose_secret().into(),
            ]
        }
        StoredCredential::OAuth2 {
            client_id,
            client_secret,
            refresh_token,
        } => vec![
            "oauth2".into(),
            client_id.clone(),
            client_secret.expose_secret().into(),
            refresh_token
                .as_ref()
                .map_or("-".into(), |t| t.expose_secret().into()),
        ],
        StoredCredential::Hmac {
            access_key,
            app_key,
            secret_key,
        } => vec![
            "hmac".into(),
            access_key.expose_secret().into(),
            app_key.clone(),
            secret_key.expose_secret().into(),
        ],
        other => panic!("unknown kind {other:?}"),
    }
}

/// Lists every record of `entity` through `conn` in pages of `page_size`, following the
/// system's continuation; calls `check(page_number, page)` on each page (numbered from 1),
/// fails on a key seen twice or a listing longer than `max_pages`, and returns the keys in
/// order and the number of pages.
pub async fn list_everything(
    conn: &Connection,
    entity: &str,
    page_size: u32,
    max_pages: usize,
    mut check: impl FnMut(usize, &plantwire::RecordPage),
) -> (Vec<String>, usize) {
    let mut seen = std::collections::HashSet::new();
    let mut keys = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = conn
            .list(
                entity,
                plantwire::ListOptions {
                    cursor: cursor.take(),
                    page_size: Some(page_size),
                    ..plantwire::ListOptions::default()
                },
            )
            .await
            .expect("list");
        pages += 1;
        check(pages, &page);
        for r in &page.records {
            let key = r
                .get("key")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_else(|| panic!("a record without a string key: {r:?}"));
            assert!(seen.insert(key.to_owned()), "duplicate {key}");
            keys.push(key.to_owned());
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return (keys, pages),
        }
        assert!(pages < max_pages, "paging does not end");
    }
}

/// Every form of `secret` an upstream or a log line might carry it in, labelled: raw and
/// case-folded, percent- and form-encoded (either hex case, every byte encoded too),
/// JSON-escaped (`\"`, `\\`, `\/`, `\uXXXX`), base64 in both alphabets (whole, and the
/// characters fixed by the secret at each alignment inside a longer base64 text), and base64 of
/// `user:secret` for each of `users`, raw and percent-encoded. Written independently of the
/// host's scrubber, so a test that uses it checks the scrubber rather than repeating it.
pub fn every_form(secret: &str, users: &[&str]) -> Vec<(String, String)> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};

    let pct = |bytes: &[u8], plus: bool, all: bool| -> String {
        bytes
            .iter()
            .map(|&b| match b {
                b' ' if plus && !all => "+".to_owned(),
                b if !all && (b.is_ascii_alphanumeric() || b"-._~".contains(&b)) => {
                    char::from(b).to_string()
                }
                b => format!("%{b:02X}"),
            })
            .collect()
    };
    let json = serde_json::to_string(secret).expect("json");
    let json = json[1..json.len() - 1].to_owned();
    let unicode: String = secret
        .encode_utf16()
        .map(|u| format!("\\u{u:04x}"))
        .collect();
    let mut forms = vec![
        ("raw".to_owned(), secret.to_owned()),
        ("percent".to_owned(), pct(secret.as_bytes(), false, false)),
        ("form".to_owned(), pct(secret.as_bytes(), true, false)),
        (
            "percent, every byte".to_owned(),
            pct(secret.as_bytes(), false, true),
        ),
        ("json".to_owned(), json.clone()),
        ("json, \\/".to_owned(), json.replace('/', "\\/")),
        ("json, \\u".to_owned(), unicode),
        ("base64".to_owned(), STANDARD.encode(secret)),
        ("base64url".to_owned(), URL_SAFE_NO_PAD.encode(secret)),
    ];
    for offset in 1..3usize {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(secret.as_bytes());
        let encoded = STANDARD_NO_PAD.encode(&padded);
        let first = (offset * 8).div_ceil(6);
        let end = ((offset + secret.len()) * 8) / 6;
        if let Some(fragment) = encoded.get(first..end) {
            forms.push((format!("base64 at offset {offset}"), fragment.to_owned()));
        }
    }
    for user in users {
        let basic = STANDARD.encode(format!("{user}:{secret}"));
        forms.push((
            format!("percent-encoded base64 of {user}:secret"),
            pct(basic.as_bytes(), false, false),
        ));
        forms.push((format!("base64 of {user}:secret"), basic));
    }
    forms.retain(|(_, f)| f.len() >= 8.min(secret.len()));
    forms
}

/// Which forms ([`every_form`]) of which secrets occur in `haystack`, compared
/// ASCII-case-insensitively; each secret comes with the user names it is sent with. Empty when
/// nothing leaked.
pub fn leaks(haystack: &[u8], secrets: &[(&str, &[&str])]) -> Vec<String> {
    let folded = haystack.to_ascii_lowercase();
    let mut found = Vec::new();
    for (secret, users) in secrets {
        for (label, form) in every_form(secret, users) {
            if contains(&folded, form.to_ascii_lowercase().as_bytes()) {
                found.push(format!("{label} of `{secret}`"));
            }
        }
    }
    found
}

/// Fails, naming what leaked and where, when any form of any secret occurs in `haystack`.
pub fn assert_no_leak(where_: &str, haystack: &[u8], secrets: &[(&str, &[&str])]) {
    let found = leaks(haystack, secrets);
    assert!(found.is_empty(), "{where_} carries {}", found.join(", "));
}
