//! The connection lifecycle as an operator drives it: the real `plantwire` binary, one process
//! per command, against a MaintainX simulator and a webhook receiver running in this test
//! process. Each command is a fresh process, so every step is also a restart: the health
//! state and the one-event-per-episode guarantee have to survive on disk.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod common;

use common::{Run, Scratch, adapters};

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use plantwire_simulators::maintainx::{Config as SimConfig, MaintainxSim};
use serde_json::Value;

/// The operator's environment: a state directory, a master key, the adapters.
struct Operator {
    scratch: Scratch,
    key: Option<PathBuf>,
    /// Variables set for every run (the environment vault's credentials).
    env: Vec<(String, String)>,
    /// Every output of every run, to check that no secret ever appeared.
    transcript: Mutex<String>,
}

impl Operator {
    fn new(name: &str) -> Operator {
        Operator {
            scratch: Scratch::new(name),
            key: None,
            env: Vec::new(),
            transcript: Mutex::new(String::new()),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.scratch.0.join(name)
    }

    fn state_dir(&self) -> PathBuf {
        self.path("state")
    }

    /// Runs `plantwire` with `args`, feeding `stdin` if given.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let cache =
            std::env::temp_dir().join(format!("plantwire-cli-cache-{}", std::process::id()));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plantwire"));
        cmd.arg("--adapters")
            .arg(adapters())
            .arg("--cache-dir")
            .arg(&cache)
            .arg("--state-dir")
            .arg(self.state_dir());
        if let Some(key) = &self.key {
            cmd.arg("--master-key-file").arg(key);
        }
        for var in [
            "PLANTWIRE_MASTER_KEY",
            "PLANTWIRE_MASTER_KEY_FILE",
            "PLANTWIRE_STATE_DIR",
            "PLANTWIRE_VAULT_FILE",
            "PLANTWIRE_VAULT",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run plantwire");
        {
            let mut input = child.stdin.take().expect("stdin");
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).expect("write stdin");
            }
        }
        let out = child.wait_with_output().expect("plantwire exits");
        let run = Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.transcript
            .lock()
            .expect("transcript")
            .push_str(&run.both());
        run
    }

    /// Runs and expects success.
    fn ok(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let run = self.run(args, stdin);
        assert!(run.ok, "plantwire {args:?} failed:\n{}", run.both());
        run
    }

    /// Runs and expects failure with an `error: ` line.
    fn fails(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let run = self.run(args, stdin);
        assert!(!run.ok, "plantwire {args:?} succeeded:\n{}", run.both());
        assert!(run.stderr.contains("error: "), "{}", run.stderr);
        run
    }

    /// Creates a master key with `plantwire vault keygen` and uses it from then on.
    fn keygen(&mut self, name: &str) -> PathBuf {
        let file = self.path(name);
        let file_arg = file.to_str().expect("path");
        let run = self.ok(&["vault", "keygen", file_arg], None);
        assert!(
            run.stdout.contains("wrote a new master key"),
            "{}",
            run.stdout
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).expect("key").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = self.fails(&["vault", "keygen", file_arg], None);
        assert!(
            again.stderr.contains("creating the master key file"),
            "{}",
            again.stderr
        );
        self.key = Some(file.clone());
        file
    }

    /// Writes a credential file, readable by its owner only.
    fn credential_file(&self, name: &str, json: &str) -> PathBuf {
        let file = self.path(name);
        std::fs::write(&file, json).expect("credential file");
        file
    }

    fn connections_json(&self) -> Vec<Value> {
        let run = self.ok(&["connections", "--format", "json"], None);
        serde_json::from_str::<Value>(&run.stdout)
            .expect("JSON")
            .as_array()
            .expect("array")
            .clone()
    }

    fn health(&self, id: &str) -> Value {
        self.connections_json()
            .into_iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no connection {id}"))["health"]
            .clone()
    }
}

fn token_json(token: &str) -> String {
    format!(r#"{{"token": "{token}"}}"#)
}

/// One webhook delivery as the receiver got it.
#[derive(Debug, Clone)]
struct Delivery {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A webhook receiver on loopback that records every delivery and answers 204 (or 503 to
/// as many deliveries as `fail_next` says).
#[derive(Clone, Default)]
struct Receiver {
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    fail_next: Arc<AtomicUsize>,
}

async fn hook(
    State(receiver): State<Receiver>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    receiver
        .deliveries
        .lock()
        .expect("deliveries")
        .push(Delivery {
            path: format!("/hooks/{name}"),
            headers,
            body,
        });
    let fail = receiver
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if fail {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::NO_CONTENT
    }
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let app = Router::new()
            .route("/hooks/{name}", post(hook))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        (receiver, format!("http://{addr}"))
    }

    fn deliveries(&self, path: &str) -> Vec<Delivery> {
        self.deliveries
            .lock()
            .expect("deliveries")
            .iter()
            .filter(|d| d.path == path)
            .cloned()
            .collect()
    }

    /// The event types delivered to `path`, each verified against `secret` with the
    /// `standardwebhooks` crate.
    fn verified_types(&self, path: &str, secret: &str) -> Vec<String> {
        let verifier = standardwebhooks::Webhook::new(secret).expect("secret");
        self.deliveries(path)
            .iter()
            .map(|d| {
                verifier
                    .verify(&d.body, &d.headers)
                    .unwrap_or_else(|e| panic!("signature does not verify: {e:?}"));
                let v: Value = serde_json::from_slice(&d.body).expect("JSON payload");
                v["type"].as_str().expect("type").to_owned()
            })
            .collect()
    }
}

/// A small simulator: the probe lists one record.
fn sim_config(token: &str) -> SimConfig {
    SimConfig {
        token: token.to_owned(),
        work_orders: 5,
        assets: 5,
        parts: 5,
        purchase_orders: 5,
        locations: 5,
        vendors: 5,
        users: 5,
        ..SimConfig::default()
    }
}

fn file_contains(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_connection_lives_through_revocation_and_reauthorization_across_processes() {
    const TOKEN: &str = "mx-prod-tok3n-9f2c41d7";
    const WRONG: &str = "mx-wrong-tok3n-51aa0e";
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(MaintainxSim::start(sim_config(TOKEN)))
        .expect("simulator");
    let (receiver, hooks) = rt.block_on(Receiver::start());
    let mut op = Operator::new("lifecycle");
    op.keygen("master.key");

    // Two endpoints: one for every tenant (its secret generated and shown once), one for
    // another tenant, which must hear nothing of this connection.
    let run = op.ok(
        &["webhooks", "add", "ops", &format!("{hooks}/hooks/ops")],
        None,
    );
    let secret = run
        .stdout
        .lines()
        .find(|l| l.starts_with("whsec_"))
        .unwrap_or_else(|| panic!("no secret shown:\n{}", run.stdout))
        .to_owned();
    op.ok(
        &[
            "webhooks",
            "add",
            "globex",
            &format!("{hooks}/hooks/globex"),
            "--tenant",
            "globex",
            "--secret-file",
            "-",
        ],
        Some("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\n"),
    );
    let listed = op.ok(&["webhooks", "list"], None);
    assert!(listed.stdout.contains("ops") && listed.stdout.contains("globex"));
    assert!(
        !listed.stdout.contains("/hooks/"),
        "URLs are shown by origin"
    );

    let connect = |token_file: &Path, extra: &[&str]| {
        let mut args = vec!["connect", "mx-prod", "--system", "maintainx", "--base-url"];
        let base = sim.base_url();
        let file = token_file.to_str().expect("path").to_owned();
        let mut owned: Vec<String> = vec![base, "--allow-private-network".into()];
        owned.extend(["--tenant".into(), "acme".into()]);
        owned.extend(["--credential-file".into(), file]);
        owned.extend(extra.iter().map(|s| (*s).to_owned()));
        args.extend(owned.iter().map(String::as_str));
        op.run(&args, None)
    };

    // A refused token stores nothing.
    let wrong = op.credential_file("wrong.json", &token_json(WRONG));
    let run = connect(&wrong, &[]);
    assert!(!run.ok, "{}", run.both());
    assert!(
        run.stderr.contains(
            "the credentials were refused (HTTP 401): MaintainX refused the API key: Invalid token; nothing was stored\n"
        ),
        "{}",
        run.stderr
    );
    assert!(op.connections_json().is_empty());

    // The good token, from a file: stored, healthy.
    let good = op.credential_file("good.json", &token_json(TOKEN));
    let run = connect(&good, &[]);
    assert!(run.ok, "{}", run.both());
    assert!(
        run.stdout.contains("connected mx-prod (maintainx at"),
        "{}",
        run.stdout
    );
    let conns = op.connections_json();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["system"], "maintainx");
    assert_eq!(conns[0]["tenant"], "acme");
    assert_eq!(conns[0]["vault"], "sealed");
    assert_eq!(conns[0]["health"]["state"], "healthy");
    let table = op.ok(&["connections"], None);
    assert!(table.stdout.contains("mx-prod"), "{}", table.stdout);
    assert!(table.stdout.contains("healthy"), "{}", table.stdout);

    // The same id again is refused, with the way forward.
    let run = connect(&good, &[]);
    assert!(!run.ok);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert!(
        run.stderr.contains("plantwire reauthorize mx-prod"),
        "{}",
        run.stderr
    );

    // The token is sealed: not in the clear anywhere in the state directory.
    let state = op.state_dir();
    for file in ["vault.json", "plantwire.db", "outbox.db"] {
        assert!(state.join(file).exists(), "{file}");
        assert!(!file_contains(&state.join(file), TOKEN), "{file}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state)
            .expect("state")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    // The token is revoked upstream: the check finds out, once.
    sim.faults().revoke_token();
    let run = op.ok(&["connections", "--check"], None);
    assert!(
        run.stdout.contains("mx-prod: needs-reauthorization"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("webhooks: 1 delivered"),
        "{}",
        run.stderr
    );
    assert_eq!(
        receiver.verified_types("/hooks/ops", &secret),
        ["connection.reauthorization_required"]
    );
    let event: Value =
        serde_json::from_slice(&receiver.deliveries("/hooks/ops")[0].body).expect("payload");
    assert_eq!(event["data"]["connectionId"], "mx-prod");
    assert_eq!(event["data"]["tenant"], "acme");
    assert_eq!(event["data"]["status"], 401);
    let health = op.health("mx-prod");
    assert_eq!(health["state"], "needsReauthorization");
    assert_eq!(health["status"], 401);
    assert!(
        health["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Invalid token")),
        "{health}"
    );

    // Another process, the same episode: no second event.
    let run = op.ok(&["connections", "--check"], None);
    assert!(
        run.stdout.contains("needs-reauthorization"),
        "{}",
        run.stdout
    );
    assert_eq!(receiver.deliveries("/hooks/ops").len(), 1);
    let outbox: Value = serde_json::from_str(
        &op.ok(&["webhooks", "list", "--format", "json"], None)
            .stdout,
    )
    .expect("JSON");
    assert_eq!(outbox["outbox"]["pending"], 0);
    assert_eq!(outbox["outbox"]["delivered"], 1);

    // The system takes the token again; a wrong new token is still refused, and changes
    // nothing: the stored token is the one the check uses, and it works.
    sim.faults().restore_token();
    let run = op.fails(
        &["reauthorize", "mx-prod", "--credential-file", "-"],
        Some(&token_json(WRONG)),
    );
    assert!(
        run.stderr.contains("credentials were refused"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    let run = op.ok(&["connections", "--check"], None);
    assert!(
        run.stdout
            .contains("mx-prod: needs-reauthorization (listed 1 work-order)"),
        "{}",
        run.stdout
    );
    assert_eq!(receiver.deliveries("/hooks/ops").len(), 1);

    // The good token ends the episode with one recovery.
    let run = op.ok(
        &[
            "reauthorize",
            "mx-prod",
            "--credential-file",
            good.to_str().expect("path"),
        ],
        None,
    );
    assert!(
        run.stdout
            .contains("reauthorized mx-prod: needs-reauthorization -> healthy"),
        "{}",
        run.stdout
    );
    assert_eq!(
        receiver.verified_types("/hooks/ops", &secret),
        [
            "connection.reauthorization_required",
            "connection.recovered"
        ]
    );
    assert_eq!(op.health("mx-prod")["state"], "healthy");
    op.ok(
        &["reauthorize", "mx-prod", "--credential-file", "-"],
        Some(&token_json(TOKEN)),
    );
    op.ok(&["connections", "--check"], None);
    assert_eq!(
        receiver.deliveries("/hooks/ops").len(),
        2,
        "no event without a change"
    );
    assert!(
        receiver.deliveries("/hooks/globex").is_empty(),
        "another tenant's endpoint hears nothing"
    );

    // Disconnect removes the connection and its credential.
    let run = op.ok(&["disconnect", "mx-prod"], None);
    assert!(
        run.stdout.contains("removed from the sealed vault"),
        "{}",
        run.stdout
    );
    assert!(op.connections_json().is_empty());
    let vault: Value =
        serde_json::from_slice(&std::fs::read(state.join("vault.json")).expect("vault"))
            .expect("vault JSON");
    let entries: Vec<&String> = vault["entries"]
        .as_object()
        .expect("entries")
        .keys()
        .collect();
    assert_eq!(entries, ["webhook.globex", "webhook.ops"]);
    op.fails(&["disconnect", "mx-prod"], None);

    let transcript = op.transcript.lock().expect("transcript").clone();
    assert!(!transcript.contains(TOKEN), "the token was printed");
    assert!(!transcript.contains(WRONG), "a token was printed");
    assert!(
        !transcript.contains("C2FVsBQIhrscChlQIMV"),
        "a secret was printed"
    );
    assert_eq!(
        transcript.matches(&secret).count(),
        1,
        "the generated secret is shown once"
    );
    rt.block_on(sim.shutdown());
}

#[test]
fn bad_input_is_refused_clearly_and_stores_nothing() {
    const TOKEN: &str = "mx-input-tok3n-77e0c2";
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(MaintainxSim::start(sim_config(TOKEN)))
        .expect("simulator");
    let base = sim.base_url();
    let mut op = Operator::new("input");

    // Without a master key, the message says how to make one.
    let run = op.fails(
        &[
            "connect",
            "mx",
            "--system",
            "maintainx",
            "--base-url",
            &base,
            "--allow-private-network",
            "--credential-file",
            "-",
        ],
        Some(&token_json(TOKEN)),
    );
    assert!(
        run.stderr.contains("PLANTWIRE_MASTER_KEY"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("plantwire vault keygen"),
        "{}",
        run.stderr
    );
    op.keygen("master.key");

    let connect = |op: &Operator, extra: &[&str], stdin: Option<&str>| {
        let mut args = vec!["connect"];
        args.extend_from_slice(extra);
        op.fails(&args, stdin)
    };
    let cases: Vec<(Vec<&str>, Option<String>, &str)> = vec![
        (
            vec!["mx", "--system", "no-such-system", "--base-url", &base],
            None,
            "no adapter for system `no-such-system` is loaded (loaded: ",
        ),
        (
            vec!["../mx", "--system", "maintainx", "--base-url", &base],
            None,
            "invalid connection id",
        ),
        (
            vec![
                "mx",
                "--system",
                "maintainx",
                "--base-url",
                "ftp://example.com/",
            ],
            None,
            "invalid base URL: the scheme is `ftp`",
        ),
        (
            vec![
                "mx",
                "--system",
                "maintainx",
                "--base-url",
                "https://user:pw@example.com/v1",
            ],
            None,
            "credentials go in the vault",
        ),
        (
            vec![
                "mx",
                "--system",
                "maintainx",
                "--base-url",
                &base,
                "--grant-origin",
                "https://exfil.example.com",
                "--credential-file",
                "-",
            ],
            Some(token_json(TOKEN)),
            "does not declare the origin https://exfil.example.com",
        ),
        (
            vec!["mx", "--system", "maintainx", "--base-url", &base],
            None,
            "needs a token credential: pass --credential-file",
        ),
        (
            vec![
                "mx",
                "--system",
                "maintainx",
                "--base-url",
                &base,
                "--credential-file",
                "-",
            ],
            Some(format!(r#"{{"user": "api", "password": "{TOKEN}"}}"#)),
            "field `user` does not belong to it",
        ),
        (
            vec![
                "mx",
                "--system",
                "maintainx",
                "--base-url",
                &base,
                "--credential-file",
                "-",
            ],
            Some(format!(r#"{{"token": {TOKEN}}}"#)),
            "it is not valid JSON (line 1, column 11)",
        ),
        // A loopback base URL needs the operator's say-so.
        (
            vec![
                "mx",
                "--system",
                "maintainx",
                "--base-url",
                &base,
                "--credential-file",
                "-",
            ],
            Some(token_json(TOKEN)),
            "private, loopback or shared address",
        ),
        (
            vec![
                "mx",
                "--system",
                "maintainx",
                "--base-url",
                &base,
                "--timeout",
                "0",
            ],
            None,
            "--timeout",
        ),
    ];
    for (args, stdin, expected) in &cases {
        let run = connect(&op, args, stdin.as_deref());
        assert!(
            run.stderr.contains(expected),
            "connect {args:?}: expected {expected:?} in\n{}",
            run.stderr
        );
    }

    // An unreachable system: nothing stored, and the message says which failure it was.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}/v1", closed.local_addr().expect("addr"));
    drop(closed);
    let started = std::time::Instant::now();
    let run = op.fails(
        &[
            "connect",
            "mx",
            "--system",
            "maintainx",
            "--base-url",
            &dead,
            "--allow-private-network",
            "--credential-file",
            "-",
        ],
        Some(&token_json(TOKEN)),
    );
    assert!(
        run.stderr.contains("the system is unreachable"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was stored"), "{}", run.stderr);
    eprintln!("unreachable probe took {:?}", started.elapsed());

    assert!(op.connections_json().is_empty());
    let run = op.fails(
        &["reauthorize", "ghost", "--credential-file", "-"],
        Some("{}"),
    );
    assert!(
        run.stderr.contains("no connection `ghost`"),
        "{}",
        run.stderr
    );
    let run = op.fails(
        &["webhooks", "add", "ops", "ftp://hooks.example.com/"],
        None,
    );
    assert!(run.stderr.contains("invalid webhook URL"), "{}", run.stderr);
    let run = op.fails(
        &[
            "webhooks",
            "add",
            "ops",
            "https://hooks.example.com/in",
            "--secret-file",
            "-",
        ],
        Some("not-a-whsec-secret"),
    );
    assert!(run.stderr.contains("whsec_"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-a-whsec-secret"), "{}", run.stderr);
    let listed = op.ok(&["webhooks", "list"], None);
    assert!(
        listed.stdout.contains("no webhook endpoints"),
        "{}",
        listed.stdout
    );

    let transcript = op.transcript.lock().expect("transcript").clone();
    assert!(!transcript.contains(TOKEN), "the token was printed");
    rt.block_on(sim.shutdown());
}

#[test]
fn a_rotated_vault_opens_only_with_the_new_key() {
    const TOKEN: &str = "mx-rotate-tok3n-3c9d";
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(MaintainxSim::start(sim_config(TOKEN)))
        .expect("simulator");
    let mut op = Operator::new("rotate");
    let old = op.keygen("old.key");
    op.ok(
        &[
            "connect",
            "mx",
            "--system",
            "maintainx",
            "--base-url",
            &sim.base_url(),
            "--allow-private-network",
            "--credential-file",
            "-",
        ],
        Some(&token_json(TOKEN)),
    );
    let new = op.keygen("new.key");
    op.key = Some(old.clone());
    let run = op.ok(
        &[
            "vault",
            "rotate",
            "--new-key-file",
            new.to_str().expect("path"),
        ],
        None,
    );
    assert!(run.stdout.contains("re-sealed"), "{}", run.stdout);

    // The old key no longer opens it, and the check says so for that connection.
    let run = op.fails(&["connections", "--check"], None);
    assert!(
        run.stdout.contains("mx: healthy (cannot check it"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("sealed with key"), "{}", run.stdout);
    assert!(
        run.stderr.contains("could not be checked"),
        "{}",
        run.stderr
    );
    op.key = Some(new);
    let run = op.ok(&["connections", "--check"], None);
    assert!(
        run.stdout.contains("mx: healthy (listed 1 work-order)"),
        "{}",
        run.stdout
    );
    let transcript = op.transcript.lock().expect("transcript").clone();
    assert!(!transcript.contains(TOKEN), "the token was printed");
    rt.block_on(sim.shutdown());
}

#[test]
fn the_environment_vault_needs_no_key_and_undelivered_events_wait_in_the_outbox() {
    const TOKEN: &str = "mx-env-tok3n-0b7e11";
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(MaintainxSim::start(sim_config(TOKEN)))
        .expect("simulator");
    let (receiver, hooks) = rt.block_on(Receiver::start());
    let mut op = Operator::new("env");
    op.env = vec![
        ("PLANTWIRE_CRED_CONN_MX_TOKEN".into(), TOKEN.into()),
        ("PLANTWIRE_CRED_WEBHOOK_OPS_TOKEN".into(), SECRET.into()),
    ];

    // No master key anywhere: the environment vault does not need one.
    let run = op.fails(
        &[
            "--vault",
            "env",
            "webhooks",
            "add",
            "ops",
            &format!("{hooks}/hooks/ops"),
            "--secret-file",
            "-",
        ],
        Some(SECRET),
    );
    assert!(
        run.stderr.contains("the env vault is read-only"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("PLANTWIRE_CRED_WEBHOOK_OPS_*"),
        "{}",
        run.stderr
    );
    op.ok(
        &[
            "--vault",
            "env",
            "webhooks",
            "add",
            "ops",
            &format!("{hooks}/hooks/ops"),
        ],
        None,
    );
    let base = sim.base_url();
    let connect = [
        "--vault",
        "env",
        "connect",
        "mx",
        "--system",
        "maintainx",
        "--base-url",
        &base,
        "--allow-private-network",
    ];
    let run = op.fails(
        &[&connect[..], &["--credential-file", "-"]].concat(),
        Some(&token_json(TOKEN)),
    );
    assert!(
        run.stderr.contains("the env vault is read-only"),
        "{}",
        run.stderr
    );
    let run = op.ok(&connect, None);
    assert!(run.stdout.contains("in the env vault"), "{}", run.stdout);
    assert_eq!(op.connections_json()[0]["vault"], "env");
    assert!(!op.state_dir().join("vault.json").exists());

    // The receiver is down when the token is revoked: the event waits in the outbox, and
    // the command says so.
    receiver.fail_next.store(1, Ordering::SeqCst);
    sim.faults().revoke_token();
    let run = op.ok(&["connections", "--check"], None);
    assert!(
        run.stdout.contains("mx: needs-reauthorization"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("1 pending in the outbox"),
        "{}",
        run.stderr
    );
    // The first retry is due 5 s after the failed attempt.
    std::thread::sleep(std::time::Duration::from_millis(5_500));
    let run = op.ok(&["webhooks", "deliver"], None);
    assert!(
        run.stderr.contains("webhooks: 1 delivered"),
        "{}",
        run.stderr
    );
    let deliveries = receiver.deliveries("/hooks/ops");
    assert_eq!(deliveries.len(), 2, "one failed attempt, one delivery");
    assert_eq!(
        deliveries[0].headers.get("webhook-id"),
        deliveries[1].headers.get("webhook-id"),
        "a retry keeps its webhook-id"
    );
    assert_eq!(
        receiver.verified_types("/hooks/ops", SECRET),
        [
            "connection.reauthorization_required",
            "connection.reauthorization_required"
        ]
    );

    // New credentials arrive through the environment; reauthorize picks them up.
    sim.faults().restore_token();
    let run = op.ok(&["reauthorize", "mx"], None);
    assert!(
        run.stdout.contains("needs-reauthorization -> healthy"),
        "{}",
        run.stdout
    );
    assert_eq!(receiver.deliveries("/hooks/ops").len(), 3);
    let run = op.ok(&["disconnect", "mx"], None);
    assert!(
        run.stdout.contains("stays in the env vault"),
        "{}",
        run.stdout
    );

    let transcript = op.transcript.lock().expect("transcript").clone();
    assert!(!transcript.contains(TOKEN), "the token was printed");
    assert!(!transcript.contains(SECRET), "the secret was printed");
    rt.block_on(sim.shutdown());
}

/// `plantwire export` streams JSON Lines: a pushed-down filter gives exactly the records the
/// full export holds with that value; a field selection and `--raw` shape each line; piped
/// output carries no progress bar; bad filters and unknown connections are clear errors.
#[test]
fn export_streams_json_lines_with_filters_fields_and_raw() {
    const TOKEN: &str = "mx-export-tok3n-77c1";
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(MaintainxSim::start(SimConfig {
            work_orders: 240,
            ..sim_config(TOKEN)
        }))
        .expect("simulator");
    let mut op = Operator::new("export");
    op.keygen("master.key");
    let token_file = op.credential_file("token.json", &token_json(TOKEN));
    op.ok(
        &[
            "connect",
            "mx",
            "--system",
            "maintainx",
            "--base-url",
            &sim.base_url(),
            "--allow-private-network",
            "--credential-file",
            token_file.to_str().expect("path"),
        ],
        None,
    );
    let lines = |run: &Run| -> Vec<Value> {
        run.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };

    let all = op.ok(&["export", "mx", "work-order", "--page-size", "35"], None);
    assert!(
        all.stderr.is_empty(),
        "piped output is quiet: {}",
        all.stderr
    );
    let all = lines(&all);
    assert_eq!(all.len(), 240);
    let keys: std::collections::BTreeSet<&str> = all
        .iter()
        .map(|r| r["key"].as_str().expect("key"))
        .collect();
    assert_eq!(keys.len(), 240, "no record twice");

    let open: Vec<&str> = all
        .iter()
        .filter(|r| r["status"] == "open")
        .map(|r| r["key"].as_str().expect("key"))
        .collect();
    assert!(!open.is_empty() && open.len() < 240);
    let filtered = op.ok(
        &[
            "export",
            "mx",
            "work-order",
            "--filter",
            "status=open",
            "--fields",
            "title,status",
        ],
        None,
    );
    let filtered = lines(&filtered);
    let got: Vec<&str> = filtered
        .iter()
        .map(|r| r["key"].as_str().expect("key"))
        .collect();
    assert_eq!(
        got, open,
        "the pushed-down filter selects what the full export holds"
    );
    for r in &filtered {
        let mut names: Vec<&str> = r
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["key", "status", "title"]);
    }
    let requests = sim.requests();
    let last = requests.last().expect("a request");
    assert!(
        last.query
            .as_deref()
            .unwrap_or("")
            .contains("statuses=OPEN"),
        "pushed down: {:?}",
        last.query
    );

    let out = op.path("raw.jsonl");
    op.ok(
        &[
            "export",
            "mx",
            "work-order",
            "--raw",
            "--page-size",
            "100",
            "--output",
            out.to_str().expect("path"),
        ],
        None,
    );
    let text = std::fs::read_to_string(&out).expect("output file");
    let raw: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(raw.len(), 240);
    for r in &raw {
        assert_eq!(
            r["raw"]["id"].to_string(),
            r["key"].as_str().expect("key"),
            "raw is MaintainX's own record: {r}"
        );
    }

    for (args, needle) in [
        (
            vec!["export", "mx", "work-order", "--filter", "colour=red"],
            "work-order has no field `colour`",
        ),
        (
            vec!["export", "mx", "work-order", "--filter", "status open"],
            "expected an operator",
        ),
        (
            vec!["export", "mx", "work-order", "--filter", "status=closed"],
            "one of:",
        ),
        (vec!["export", "nope", "work-order"], "nope"),
        (vec!["export", "mx", "spaceship"], "spaceship"),
    ] {
        let run = op.fails(&args, None);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?} wrote records");
    }
    assert!(!op.transcript.lock().expect("transcript").contains(TOKEN));
}
