//! The AWS Secrets Manager vault against a real emulator: moto in server mode, started from the
//! test venv's interpreter (`PLANTWIRE_PYTHON`, prepared by `cargo xtask test`) on a free
//! loopback port, one server per test, killed when the test ends. The venv's boto3 (a moto
//! dependency) plays the other AWS client: it reads what the vault wrote, plants secrets the
//! vault did not write, and sets up IAM users when moto enforces IAM.
//!
//! Every kind round-trips; list pages through the prefix and skips what is not a credential;
//! put replaces, creates, and restores a secret scheduled for deletion; each delete policy does
//! what it says; a rotated OAuth refresh token lands in AWS; an unreachable endpoint, a server
//! that is not Secrets Manager, a bad configuration, refused credentials and a missing
//! permission all fail at open, naming what is wrong; no secret shows in errors, `Debug` or
//! logs. Without `PLANTWIRE_PYTHON` the emulator tests say loudly that they skipped; with it
//! but without moto they fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use plantwire::vault::{
    AwsCredentials, AwsSecretsManagerConfig, AwsSecretsManagerVault, CredentialId, DeletePolicy,
    MAX_SECRET_BYTES, StoredCredential, Vault, VaultError, VaultRefreshTokens,
};
use plantwire_integration_tests::{LogCapture, contains};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// Every secret used below; none may ever show outside the vault's memory.
const SECRETS: &[&str] = &[
    "tok-3e9a1c7f-AWSSECRET",
    "pw-8b2d4f6a-AWSSECRET",
    "cs-5c7e9a1b-AWSSECRET",
    "rt-2f4a6c8e-AWSSECRET",
    "ak-9d1b3f5a-AWSSECRET",
    "sk-6e8a0c2d-AWSSECRET",
];

/// The static AWS key pair the emulator is called with (any pair works until IAM is enforced).
const AWS_KEY_ID: &str = "AKIDPLANTWIRETEST";
const AWS_SECRET_KEY: &str = "aws-secret-key-7f3a-AWSSECRET";

fn id(s: &str) -> CredentialId {
    CredentialId::new(s).expect("valid id")
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

/// The interpreter of the test venv, or `None` after a loud notice that `test` was skipped.
fn python(test: &str) -> Option<OsString> {
    let python = std::env::var_os("PLANTWIRE_PYTHON");
    if python.is_none() {
        eprintln!();
        eprintln!("************************************************************************");
        eprintln!("SKIPPED {test}: PLANTWIRE_PYTHON not set (run through cargo xtask test)");
        eprintln!("  the AWS Secrets Manager vault was NOT tested against the emulator");
        eprintln!("************************************************************************");
    }
    python
}

/// A moto server on a free loopback port, killed on drop.
struct Moto {
    child: Child,
    addr: SocketAddr,
    python: OsString,
}

impl Moto {
    /// Starts moto from `PLANTWIRE_PYTHON`; `None` (with a notice) when that is not set. Panics
    /// when it is set but moto does not start: the venv is then broken, not absent.
    fn start(test: &str) -> Option<Moto> {
        let python = python(test)?;
        let mut child = Command::new(&python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.to_string_lossy()));
        // The server logs its address, then every request, to stderr: read the one, drain the
        // rest so that the pipe never fills.
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut before = Vec::new();
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let Some(sender) = &tx else { continue };
                match port_in(&line) {
                    Some(port) => {
                        let _ = sender.send(Ok(port));
                        tx = None;
                    }
                    None => before.push(line),
                }
            }
            if let Some(sender) = tx {
                let _ = sender.send(Err(before.join("\n")));
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(port)) => port,
            outcome => {
                let _ = child.kill();
                let _ = child.wait();
                let said = match outcome {
                    Ok(Err(output)) => output,
                    _ => "(no address within 60 s)".into(),
                };
                panic!(
                    "PLANTWIRE_PYTHON={} is set, but `python -m moto.server` did not start; \
                     install moto[server] in that venv (cargo xtask test does):\n{said}",
                    python.to_string_lossy()
                );
            }
        };
        let moto = Moto {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            python,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while moto.http("GET", "/moto-api/data.json", "").0 != 200 {
            assert!(
                Instant::now() < deadline,
                "moto does not answer on {}",
                moto.addr
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(moto)
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One plain HTTP/1.1 request to the server's own API; (status, body), status 0 when the
    /// server could not be reached.
    fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let Ok(mut stream) = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)) else {
            return (0, String::new());
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return (0, String::new());
        }
        let mut response = String::new();
        if stream.read_to_string(&mut response).is_err() {
            return (0, String::new());
        }
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// Runs `script` in the venv's interpreter with the endpoint as its argument and `input`
    /// on stdin; returns its stdout parsed as JSON.
    fn python(&self, script: &str, input: &Value) -> Value {
        let mut child = Command::new(&self.python)
            .args(["-c", script, &self.endpoint()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.to_string().as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("python");
        assert!(
            out.status.success(),
            "python failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("python prints JSON")
    }

    /// Secrets Manager calls through boto3, as another client of the same account would make
    /// them: `[{"op": "get_secret_value", "args": {...}}, ...]`; one response each.
    fn boto(&self, calls: Value) -> Vec<Value> {
        let out = self.python(BOTO_CALLS, &calls);
        out.as_array().expect("array").clone()
    }

    /// Days from now until the secret `name` is deleted (it must be scheduled).
    fn days_to_deletion(&self, name: &str) -> f64 {
        self.python(DAYS_TO_DELETION, &json!(name))
            .as_f64()
            .expect("days")
    }

    /// The `SecretString` of `name`, as AWS holds it.
    fn raw_secret(&self, name: &str) -> String {
        let out = self.boto(json!([{"op": "get_secret_value", "args": {"SecretId": name}}]));
        out[0]["SecretString"].as_str().expect("string").to_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in werkzeug's ` * Running on http://127.0.0.1:PORT` line.
fn port_in(line: &str) -> Option<u16> {
    let rest = line.split("Running on http://127.0.0.1:").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// boto3 calls from a JSON list on stdin; prints the responses as JSON.
const BOTO_CALLS: &str = r#"
import json, sys, boto3
sm = boto3.client("secretsmanager", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="AKIDBOTO", aws_secret_access_key="boto")
out = []
for call in json.load(sys.stdin):
    resp = getattr(sm, call["op"])(**call.get("args", {}))
    resp.pop("ResponseMetadata", None)
    out.append(resp)
print(json.dumps(out, default=str))
"#;

/// Days until the secret named on stdin is deleted.
const DAYS_TO_DELETION: &str = r#"
import datetime, json, sys, boto3
sm = boto3.client("secretsmanager", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="AKIDBOTO", aws_secret_access_key="boto")
when = sm.describe_secret(SecretId=json.load(sys.stdin))["DeletedDate"]
print((when - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400)
"#;

/// Creates IAM users with the given Secrets Manager actions; prints their key pairs.
const IAM_USERS: &str = r#"
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIDBOOTSTRAP", aws_secret_access_key="bootstrap")
out = {}
for user, actions in json.load(sys.stdin).items():
    iam.create_user(UserName=user)
    if actions:
        doc = {"Version": "2012-10-17",
               "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
        iam.put_user_policy(UserName=user, PolicyName="vault", PolicyDocument=json.dumps(doc))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    out[user] = [key["AccessKeyId"], key["SecretAccessKey"]]
print(json.dumps(out))
"#;

/// A configuration for `endpoint` with the test key pair.
fn config_at(endpoint: &str, prefix: &str) -> AwsSecretsManagerConfig {
    let mut config = AwsSecretsManagerConfig::new("us-east-1");
    config.endpoint_url = Some(endpoint.to_owned());
    config.prefix = prefix.to_owned();
    config.credentials = AwsCredentials::Static {
        access_key_id: AWS_KEY_ID.into(),
        secret_access_key: secret(AWS_SECRET_KEY),
        session_token: None,
    };
    config
}

async fn open(moto: &Moto, prefix: &str) -> AwsSecretsManagerVault {
    AwsSecretsManagerVault::open(config_at(&moto.endpoint(), prefix))
        .await
        .expect("the vault opens")
}

/// One credential of every kind, under ids named after the kind.
fn every_kind() -> Vec<(CredentialId, StoredCredential)> {
    plantwire_integration_tests::every_credential_kind(SECRETS)
}

/// Every field of a credential, secrets exposed, for comparisons.
fn fields(c: &StoredCredential) -> Vec<String> {
    plantwire_integration_tests::credential_fields(c)
}

fn token(t: &str) -> StoredCredential {
    StoredCredential::Token { token: secret(t) }
}

/// Panics if any secret, or the AWS secret key, occurs in `haystack`.
fn assert_no_secret(haystack: &[u8], what: &str) {
    for s in SECRETS.iter().chain([&AWS_SECRET_KEY]) {
        assert!(
            !contains(haystack, s.as_bytes()),
            "{what} contains the secret {s}"
        );
    }
}

#[tokio::test]
async fn every_kind_round_trips_in_the_sealed_vaults_json_form() {
    let Some(moto) = Moto::start("every_kind_round_trips_in_the_sealed_vaults_json_form") else {
        return;
    };
    let vault = open(&moto, "plantwire/").await;
    assert_eq!(vault.backend(), "aws-secrets-manager");
    for (cid, cred) in every_kind() {
        vault.put(&cid, &cred).await.expect("put");
    }
    // A fresh handle, as after a restart: everything comes from AWS.
    let reopened = open(&moto, "plantwire/").await;
    for (cid, cred) in every_kind() {
        assert_eq!(fields(&vault.get(&cid).await.unwrap()), fields(&cred));
        assert_eq!(fields(&reopened.get(&cid).await.unwrap()), fields(&cred));
    }

    // What AWS holds is the credential's JSON under `<prefix><id>`, the shape of a sealed
    // entry once opened; another client reads it as such.
    let raw: Value = serde_json::from_str(&moto.raw_secret("plantwire/basic")).expect("JSON");
    assert_eq!(
        raw,
        json!({"kind": "basic", "user": "maint-user", "password": SECRETS[1]})
    );
    let raw: Value = serde_json::from_str(&moto.raw_secret("plantwire/hmac")).expect("JSON");
    assert_eq!(
        raw,
        json!({"kind": "hmac", "accessKey": SECRETS[4], "appKey": "app-7", "secretKey": SECRETS[5]})
    );
    // And a secret written by another client in that shape is read by the vault.
    moto.boto(json!([{"op": "create_secret", "args": {
        "Name": "plantwire/written-elsewhere",
        "SecretString": "{\"kind\":\"token\",\"token\":\"from-the-console\"}",
    }}]));
    assert_eq!(
        fields(&vault.get(&id("written-elsewhere")).await.unwrap()),
        ["token", "from-the-console"]
    );

    // A missing id is NotFound, not an error of the service.
    let err = vault.get(&id("absent")).await.unwrap_err();
    assert!(
        matches!(err, VaultError::NotFound(ref c) if c.as_str() == "absent"),
        "{err}"
    );
}

#[tokio::test]
async fn list_pages_through_the_prefix_and_skips_what_is_not_a_credential() {
    let Some(moto) =
        Moto::start("list_pages_through_the_prefix_and_skips_what_is_not_a_credential")
    else {
        return;
    };
    let vault = open(&moto, "plantwire/").await;
    assert_eq!(vault.list().await.unwrap(), Vec::<CredentialId>::new());

    // More than one page (the vault asks for 100 per page), written by another client.
    let mut calls = Vec::new();
    let mut want = Vec::new();
    for i in 0..130 {
        let cid = format!("bulk-{i:03}");
        calls.push(json!({"op": "create_secret", "args": {
            "Name": format!("plantwire/{cid}"),
            "SecretString": "{\"kind\":\"token\",\"token\":\"t\"}",
        }}));
        want.push(id(&cid));
    }
    // Beside the prefix, and under it without a valid id: never listed.
    for name in [
        "other/bulk-999",
        "plantwire-other",
        "PLANTWIRE/upper",
        "plantwire/nested/x",
        "plantwire/.hidden",
    ] {
        calls.push(json!({"op": "create_secret", "args": {"Name": name, "SecretString": "{}"}}));
    }
    moto.boto(Value::Array(calls));
    // One more through the vault itself.
    vault.put(&id("via-vault"), &token("x")).await.unwrap();
    want.push(id("via-vault"));
    want.sort();
    assert_eq!(vault.list().await.unwrap(), want);

    // Another prefix sees only its own.
    let other = open(&moto, "other/").await;
    assert_eq!(other.list().await.unwrap(), vec![id("bulk-999")]);
}

#[tokio::test]
async fn put_replaces_and_delete_follows_the_policy() {
    let Some(moto) = Moto::start("put_replaces_and_delete_follows_the_policy") else {
        return;
    };
    let vault = open(&moto, "plantwire/").await;
    let cid = id("maintainx.prod");
    vault.put(&cid, &token("first")).await.unwrap();
    vault.put(&cid, &token("second")).await.unwrap();
    assert_eq!(fields(&vault.get(&cid).await.unwrap()), ["token", "second"]);
    // An update is a new version of the same secret, not a second secret.
    assert_eq!(vault.list().await.unwrap(), vec![cid.clone()]);
    let versions = moto.boto(json!([{"op": "list_secret_version_ids",
        "args": {"SecretId": "plantwire/maintainx.prod"}}]));
    assert_eq!(versions[0]["Versions"].as_array().unwrap().len(), 2);

    // AWS's default: scheduled for deletion in 30 days; the vault sees it gone.
    vault.delete(&cid).await.unwrap();
    assert!(matches!(
        vault.get(&cid).await,
        Err(VaultError::NotFound(_))
    ));
    assert!(matches!(
        vault.delete(&cid).await,
        Err(VaultError::NotFound(_))
    ));
    assert_eq!(vault.list().await.unwrap(), Vec::<CredentialId>::new());
    let days = moto.days_to_deletion("plantwire/maintainx.prod");
    assert!((29.9..=30.0).contains(&days), "scheduled in {days} days");
    // A put under the id restores the secret and writes the new value.
    vault.put(&cid, &token("third")).await.unwrap();
    assert_eq!(fields(&vault.get(&cid).await.unwrap()), ["token", "third"]);
    assert_eq!(vault.list().await.unwrap(), vec![cid.clone()]);

    // A chosen recovery window.
    let mut config = config_at(&moto.endpoint(), "plantwire/");
    config.delete = DeletePolicy::RecoveryWindowDays(7);
    let week = AwsSecretsManagerVault::open(config).await.unwrap();
    week.put(&id("weekly"), &token("w")).await.unwrap();
    week.delete(&id("weekly")).await.unwrap();
    let days = moto.days_to_deletion("plantwire/weekly");
    assert!((6.9..=7.0).contains(&days), "scheduled in {days} days");

    // Without recovery: the secret is gone at once, and a put creates it afresh.
    let mut config = config_at(&moto.endpoint(), "plantwire/");
    config.delete = DeletePolicy::WithoutRecovery;
    let now = AwsSecretsManagerVault::open(config).await.unwrap();
    now.delete(&cid).await.unwrap();
    let listed =
        moto.boto(json!([{"op": "list_secrets", "args": {"IncludePlannedDeletion": true}}]));
    let names: Vec<&str> = listed[0]["SecretList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"plantwire/maintainx.prod"), "{names:?}");
    assert!(
        names.contains(&"plantwire/weekly"),
        "scheduled ones stay: {names:?}"
    );
    let err = now.delete(&cid).await.unwrap_err();
    assert!(
        matches!(err, VaultError::NotFound(ref c) if *c == cid),
        "{err}"
    );
    assert!(matches!(
        vault.get(&cid).await,
        Err(VaultError::NotFound(_))
    ));
    now.put(&cid, &token("fourth")).await.unwrap();
    assert_eq!(fields(&vault.get(&cid).await.unwrap()), ["token", "fourth"]);
}

#[tokio::test]
async fn a_rotated_refresh_token_lands_in_secrets_manager() {
    use plantwire::sdk::contract::OAuth2;
    use plantwire::sdk::{AuthScheme, Request};
    use plantwire::{Egress, EgressConfig, Upstream};
    use plantwire_simulators::auth::{self, AuthSim};

    let Some(moto) = Moto::start("a_rotated_refresh_token_lands_in_secrets_manager") else {
        return;
    };
    let sim = AuthSim::start().await.expect("sim");
    let vault: Arc<dyn Vault> = Arc::new(open(&moto, "plantwire/").await);
    let cid = id("oauth-conn");
    vault
        .put(
            &cid,
            &StoredCredential::OAuth2 {
                client_id: auth::OAUTH_CLIENT_ID.into(),
                client_secret: SecretString::from(auth::OAUTH_CLIENT_SECRET.to_owned()),
                refresh_token: None,
            },
        )
        .await
        .expect("put");
    let credential = VaultRefreshTokens::credential(vault.clone(), &cid)
        .await
        .expect("credential");
    let mut config = EgressConfig::new(url::Url::parse(&sim.origin()).expect("url"));
    config.allow_private_network = true;
    let egress = Egress::new(
        config,
        AuthScheme::Oauth2ClientCredentials(OAuth2 {
            token_url: "/oauth/token".into(),
            scopes: vec![],
        }),
        credential,
    )
    .expect("egress");
    let status = async |egress: &Egress| {
        egress
            .send(Request::get("/oauth-api/items"))
            .await
            .expect("send")
            .status
    };
    assert_eq!(status(&egress).await, 200);
    let first = sim
        .current_refresh_token()
        .expect("a refresh token was issued");
    sim.revoke_access_tokens();
    assert_eq!(status(&egress).await, 200);
    let rotated = sim.current_refresh_token().expect("rotated");
    assert_ne!(first, rotated, "the refresh grant rotated the token");

    // Another host, opening the same secrets afresh, gets the token the system accepts next.
    let other = open(&moto, "plantwire/").await;
    let StoredCredential::OAuth2 {
        refresh_token,
        client_secret,
        ..
    } = other.get(&cid).await.expect("get")
    else {
        panic!("kind changed");
    };
    assert_eq!(
        refresh_token.map(|t| t.expose_secret().to_owned()),
        Some(rotated)
    );
    assert_eq!(client_secret.expose_secret(), auth::OAUTH_CLIENT_SECRET);
}

/// Variables the SDK's configuration and credential chain read; the children of the test below
/// get only the ones it sets.
const AWS_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
];

/// Set in a child process of the test below: which environment it was given.
const CHAIN_CHILD: &str = "PLANTWIRE_TEST_AWS_CHAIN";

/// The region and the keys from the environment, through the SDK's standard chain. The test
/// runs itself again as child processes with chosen variables (instance metadata switched
/// off, profile files that do not exist, so nothing is looked for off this machine).
#[tokio::test]
async fn the_environment_gives_region_and_keys_and_their_absence_is_named_at_open() {
    const NAME: &str = "the_environment_gives_region_and_keys_and_their_absence_is_named_at_open";
    match std::env::var(CHAIN_CHILD).as_deref() {
        Ok("none") => {
            // Neither a region nor keys anywhere.
            let config = AwsSecretsManagerConfig::from_env();
            assert_eq!(config.region, None);
            let err = AwsSecretsManagerVault::open(config).await.unwrap_err();
            assert!(
                err.to_string().contains("no AWS region is configured"),
                "{err}"
            );

            let mut config = AwsSecretsManagerConfig::new("eu-west-1");
            config.endpoint_url = Some("http://127.0.0.1:9".into());
            let started = Instant::now();
            let err = AwsSecretsManagerVault::open(config).await.unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, VaultError::Config(_)), "{msg}");
            assert!(
                msg.contains("no AWS credentials for ListSecrets (the check at start)"),
                "{msg}"
            );
            assert!(msg.contains("AWS_ACCESS_KEY_ID"), "{msg}");
            assert!(started.elapsed() < Duration::from_secs(5), "at once");
            return;
        }
        Ok("keys") => {
            let config = AwsSecretsManagerConfig::from_env();
            assert_eq!(config.region.as_deref(), Some("eu-west-1"));
            assert!(matches!(config.credentials, AwsCredentials::ProviderChain));
            let Some(moto) = Moto::start(NAME) else {
                return;
            };
            let mut config = config;
            config.endpoint_url = Some(moto.endpoint());
            let vault = AwsSecretsManagerVault::open(config).await.expect("opens");
            vault.put(&id("from-env"), &token("t")).await.unwrap();
            assert_eq!(vault.list().await.unwrap(), vec![id("from-env")]);
            // moto keeps each region apart: the vault used the region from the environment.
            let mut elsewhere = config_at(&moto.endpoint(), "plantwire/");
            elsewhere.region = Some("us-east-1".into());
            let elsewhere = AwsSecretsManagerVault::open(elsewhere).await.unwrap();
            assert_eq!(elsewhere.list().await.unwrap(), Vec::<CredentialId>::new());
            return;
        }
        _ => {}
    }
    let nowhere = plantwire_integration_tests::Scratch::new("vault-aws-chain");
    for (mode, vars) in [
        ("none", vec![]),
        (
            "keys",
            vec![
                ("AWS_ACCESS_KEY_ID", AWS_KEY_ID),
                ("AWS_SECRET_ACCESS_KEY", AWS_SECRET_KEY),
                ("AWS_REGION", "eu-west-1"),
            ],
        ),
    ] {
        let mut child = Command::new(std::env::current_exe().expect("test binary"));
        child.args(["--exact", NAME, "--test-threads=1"]);
        for var in AWS_VARS {
            child.env_remove(var);
        }
        child
            .env(CHAIN_CHILD, mode)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", nowhere.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", nowhere.join("credentials"))
            .envs(vars);
        let out = child.output().expect("the test binary runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "environment `{mode}`:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_at_open_at_once() {
    // A port nobody listens on: refused at once, without waiting for the (long) timeout.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let endpoint = format!("http://{closed}");
    let mut config = config_at(&endpoint, "plantwire/");
    config.check_timeout = Duration::from_secs(30);
    let started = Instant::now();
    let err = AwsSecretsManagerVault::open(config).await.unwrap_err();
    let elapsed = started.elapsed();
    let msg = err.to_string();
    assert!(
        matches!(err, VaultError::Unreachable { ref endpoint, .. } if *endpoint == format!("http://{closed}")),
        "{msg}"
    );
    assert!(msg.contains(&endpoint), "{msg}");
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
    assert!(msg.contains("check the endpoint URL"), "{msg}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_no_secret(format!("{msg} {err:?}").as_bytes(), "unreachable error");

    // A listener that never answers: an error after the check's limit, naming it.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", silent.local_addr().expect("addr"));
    let mut config = config_at(&endpoint, "plantwire/");
    config.check_timeout = Duration::from_secs(1);
    let started = Instant::now();
    let err = AwsSecretsManagerVault::open(config).await.unwrap_err();
    let elapsed = started.elapsed();
    let msg = err.to_string();
    assert!(matches!(err, VaultError::Unreachable { .. }), "{msg}");
    assert!(msg.contains("no answer within 1.0 s"), "{msg}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    drop(silent);
}

#[tokio::test]
async fn a_server_that_is_not_secrets_manager_is_named_at_open() {
    let app = axum::Router::new().fallback(|| async {
        (
            axum::http::StatusCode::NOT_FOUND,
            "<html><body>no such page</body></html>",
        )
    });
    let addr = plantwire_integration_tests::serve(app).await;
    let endpoint = format!("http://{addr}");
    let err = AwsSecretsManagerVault::open(config_at(&endpoint, "plantwire/"))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, VaultError::Remote { .. }), "{msg}");
    assert!(msg.contains("HTTP 404"), "{msg}");
    assert!(
        msg.contains(&format!("is {endpoint} a Secrets Manager endpoint?")),
        "{msg}"
    );
}

#[tokio::test]
async fn a_bad_region_or_endpoint_is_refused_at_open() {
    let base = || config_at("http://127.0.0.1:9", "plantwire/");
    type Change = fn(&mut AwsSecretsManagerConfig);
    let cases: &[(Change, &str)] = &[
        (|c| c.region = None, "no AWS region is configured"),
        (
            |c| c.region = Some("Frankfurt".into()),
            "\"Frankfurt\" is not a region name",
        ),
        (
            |c| c.region = Some("eu central 1".into()),
            "not a region name",
        ),
        (
            |c| c.endpoint_url = Some("localhost:4566".into()),
            "scheme `localhost`",
        ),
        (
            |c| c.endpoint_url = Some("http://169.254.169.254".into()),
            "plain http to a host that is not loopback",
        ),
        (
            |c| c.endpoint_url = Some(format!("https://AKID:{AWS_SECRET_KEY}@example.com")),
            "must not carry a user name or password",
        ),
        (
            |c| c.endpoint_url = Some("https://".into()),
            "does not parse",
        ),
        (|c| c.prefix = "plant wire/".into(), "secret-name prefix"),
    ];
    for (change, needle) in cases {
        let mut config = base();
        change(&mut config);
        let started = Instant::now();
        let err = AwsSecretsManagerVault::open(config).await.unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, VaultError::Config(_)), "{msg}");
        assert!(msg.contains(needle), "{msg} lacks {needle}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "checked before any call"
        );
        assert_no_secret(format!("{msg} {err:?}").as_bytes(), "config error");
    }
}

#[tokio::test]
async fn refused_credentials_and_missing_permissions_are_named() {
    let Some(moto) = Moto::start("refused_credentials_and_missing_permissions_are_named") else {
        return;
    };
    let users = moto.python(
        IAM_USERS,
        &json!({
            "vault-full": ["secretsmanager:*"],
            "vault-readonly": [
                "secretsmanager:ListSecrets",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
            ],
            "vault-nothing": [],
        }),
    );
    let keys = |user: &str| -> (String, String) {
        (
            users[user][0].as_str().unwrap().to_owned(),
            users[user][1].as_str().unwrap().to_owned(),
        )
    };
    // From now on moto checks every request against IAM.
    let (status, body) = moto.http("POST", "/moto-api/reset-auth", "0");
    assert_eq!(status, 200, "{body}");
    let config_for = |key_id: &str, key: &str| {
        let mut config = config_at(&moto.endpoint(), "plantwire/");
        config.credentials = AwsCredentials::Static {
            access_key_id: key_id.to_owned(),
            secret_access_key: secret(key),
            session_token: None,
        };
        config
    };

    // The test key pair is unknown to IAM now.
    let err = AwsSecretsManagerVault::open(config_at(&moto.endpoint(), "plantwire/"))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, VaultError::Denied { .. }), "{msg}");
    assert!(msg.contains("the credentials were refused"), "{msg}");
    assert!(msg.contains("ListSecrets (the check at start)"), "{msg}");
    assert!(
        msg.contains("check the configured AWS credentials"),
        "{msg}"
    );
    assert_no_secret(format!("{msg} {err:?}").as_bytes(), "credentials error");

    // A known key id with the wrong secret key.
    let (full_id, full_key) = keys("vault-full");
    let err = AwsSecretsManagerVault::open(config_for(&full_id, AWS_SECRET_KEY))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, VaultError::Denied { .. }), "{msg}");
    assert!(msg.contains("the credentials were refused"), "{msg}");
    assert_no_secret(format!("{msg} {err:?}").as_bytes(), "signature error");

    // Valid credentials without the permission the check needs.
    let (none_id, none_key) = keys("vault-nothing");
    let err = AwsSecretsManagerVault::open(config_for(&none_id, &none_key))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, VaultError::Denied { .. }), "{msg}");
    assert!(msg.contains("a permission is missing"), "{msg}");
    assert!(msg.contains("grant secretsmanager:ListSecrets"), "{msg}");

    // The right key pair works.
    let full = AwsSecretsManagerVault::open(config_for(&full_id, &full_key))
        .await
        .expect("opens with IAM enforced");
    full.put(&id("token"), &token(SECRETS[0])).await.unwrap();
    assert_eq!(
        fields(&full.get(&id("token")).await.unwrap()),
        ["token", SECRETS[0]]
    );

    // Read-only: it opens and reads; a write is refused, the refusal names the operation,
    // and the service's message is withheld since the request carried the credential.
    let (ro_id, ro_key) = keys("vault-readonly");
    let ro = AwsSecretsManagerVault::open(config_for(&ro_id, &ro_key))
        .await
        .expect("read-only opens");
    assert_eq!(ro.list().await.unwrap(), vec![id("token")]);
    assert!(ro.get(&id("token")).await.is_ok());
    let err = ro.put(&id("token"), &token(SECRETS[1])).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, VaultError::Denied { .. }), "{msg}");
    assert!(msg.contains("PutSecretValue of `token`"), "{msg}");
    assert!(msg.contains("message withheld"), "{msg}");
    assert_no_secret(format!("{msg} {err:?}").as_bytes(), "denied put");
    let err = ro.delete(&id("token")).await.unwrap_err();
    assert!(matches!(err, VaultError::Denied { .. }), "{err}");
    // Nothing changed.
    assert_eq!(
        fields(&full.get(&id("token")).await.unwrap()),
        ["token", SECRETS[0]]
    );
}

#[tokio::test]
async fn secrets_never_leave_in_errors_debug_or_logs() {
    let Some(moto) = Moto::start("secrets_never_leave_in_errors_debug_or_logs") else {
        return;
    };
    let (logs, _guard) = LogCapture::install();
    let config = config_at(&moto.endpoint(), "plantwire/");
    let mut debug = format!("{config:?} {config:#?}");
    let vault = AwsSecretsManagerVault::open(config).await.expect("open");

    // Every operation, at trace level.
    for (cid, cred) in every_kind() {
        vault.put(&cid, &cred).await.unwrap();
        vault.put(&cid, &cred).await.unwrap();
        let back = vault.get(&cid).await.unwrap();
        debug += &format!("{back:?} {back:#?} {:?}", back.to_credential());
    }
    vault.list().await.unwrap();
    vault.delete(&id("token")).await.unwrap();
    vault.put(&id("token"), &every_kind()[0].1).await.unwrap();
    debug += &format!("{vault:?} {vault:#?}");
    assert_no_secret(debug.as_bytes(), "Debug output");
    assert!(!debug.contains(AWS_SECRET_KEY));

    // Errors, provoked on purpose: a secret that does not parse (quoting nothing of it), a
    // binary one, one too large to store, one not there.
    moto.boto(json!([
        {"op": "create_secret", "args": {"Name": "plantwire/garbage",
            "SecretString": format!("{{\"kind\":\"token\",\"token\":\"{}\"", SECRETS[0])}},
        {"op": "create_secret", "args": {"Name": "plantwire/binary",
            "SecretBinary": SECRETS[1]}},
        {"op": "create_secret", "args": {"Name": "plantwire/mixed",
            "SecretString": format!("{{\"kind\":\"token\",\"token\":\"{}\",\"password\":\"{}\"}}",
                SECRETS[0], SECRETS[1])}},
    ]));
    let mut errors = Vec::new();
    for (name, needle) in [
        ("garbage", "does not hold a credential"),
        ("binary", "holds a binary value"),
        ("mixed", "does not hold a credential"),
    ] {
        let err = vault.get(&id(name)).await.unwrap_err();
        assert!(matches!(err, VaultError::Corrupt(_)), "{err}");
        assert!(err.to_string().contains(needle), "{err}");
        errors.push(err);
    }
    let huge = StoredCredential::Token {
        token: secret(&format!("{}{}", SECRETS[2], "x".repeat(MAX_SECRET_BYTES))),
    };
    let err = vault.put(&id("huge"), &huge).await.unwrap_err();
    assert!(
        matches!(err, VaultError::TooLarge { ref id, max: MAX_SECRET_BYTES, .. } if id.as_str() == "huge"),
        "{err}"
    );
    assert!(matches!(
        vault.get(&id("huge")).await,
        Err(VaultError::NotFound(_))
    ));
    errors.push(err);
    errors.push(vault.get(&id("absent")).await.unwrap_err());
    let mut text = String::new();
    for e in &errors {
        text += &format!("{e} | {e:?} | ");
    }
    assert_no_secret(text.as_bytes(), "error messages");

    // Logs: no secret in them. That the vault logged its operations at all is checked in the
    // child run below, where this test is alone in its process: here, tests on other threads
    // install and drop their own subscribers, and `tracing`'s process-wide callsite cache may
    // then miss a debug event of this thread.
    let captured = logs.bytes();
    if BODY_LOGGING.iter().any(|v| std::env::var_os(v).is_some()) {
        assert!(
            contains(&captured, b"backend=\"aws-secrets-manager\"")
                || contains(&captured, b"backend=aws-secrets-manager"),
            "the vault logs its operations:\n{}",
            String::from_utf8_lossy(&captured)
        );
        assert!(contains(&captured, b"op=\"put\"") || contains(&captured, b"op=put"));
    }
    assert_no_secret(&captured, "logs");

    // Once more in a child process of this test binary, with the SDK's body logging switched
    // on: the vault must keep its calls' bodies out of the logs all the same.
    if BODY_LOGGING.iter().all(|v| std::env::var_os(v).is_none()) {
        let out = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "secrets_never_leave_in_errors_debug_or_logs",
                "--test-threads=1",
            ])
            .envs(BODY_LOGGING.iter().map(|v| (v, "true")))
            .output()
            .expect("the test binary runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "with {BODY_LOGGING:?} set:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Environment variables that make the SDK print request and response bodies at trace level.
const BODY_LOGGING: &[&str] = &["LOG_SIGNABLE_BODY", "LOG_SENSITIVE_BODIES"];

/// A workspace whose new credentials go to Secrets Manager: `connect` stores the probed
/// credential there (and nothing in the state directory), a live connection reads it back,
/// and `reauthorize` replaces it only once the new one is accepted.
#[tokio::test]
async fn a_connection_keeps_its_credential_in_secrets_manager() {
    use plantwire::Registry;
    use plantwire::store::{
        ConnectRequest, MasterKeySource, VaultBackend, Workspace, WorkspaceConfig,
    };
    use plantwire_simulators::maintainx::{Config as SimConfig, MaintainxSim};

    let Some(moto) = Moto::start("a_connection_keeps_its_credential_in_secrets_manager") else {
        return;
    };
    let sim = MaintainxSim::start(SimConfig::default())
        .await
        .expect("sim");
    let runtime = plantwire_integration_tests::runtime();
    let mut registry = Registry::default();
    registry
        .insert(
            "maintainx.wasm".into(),
            plantwire_integration_tests::load(&runtime, "adapter", "maintainx").await,
        )
        .expect("registry");
    let state = plantwire_integration_tests::Scratch::new("aws-workspace");
    let workspace = Workspace::open(WorkspaceConfig {
        state_dir: state.to_path_buf(),
        vault: VaultBackend::Aws,
        vault_file: None,
        master_key: MasterKeySource::Unset,
        aws: config_at(&moto.endpoint(), "plantwire/"),
    })
    .expect("workspace");
    let request = |token: &str| ConnectRequest {
        id: "mx-aws".into(),
        system: "maintainx".into(),
        base_url: sim.base_url(),
        tenant: None,
        allow_private_network: true,
        granted_origins: vec![],
        timeout: None,
        credential: Some(StoredCredential::Token {
            token: secret(token),
        }),
        check: true,
    };

    // A refused token stores nothing, anywhere.
    workspace
        .connect(&registry, request(SECRETS[0]))
        .await
        .expect_err("a wrong token is refused");
    let vault = workspace.aws_vault().await.expect("aws vault");
    assert!(vault.list().await.expect("list").is_empty());
    assert!(
        workspace
            .store()
            .connection("mx-aws")
            .expect("store")
            .is_none()
    );

    let (record, _) = workspace
        .connect(&registry, request(sim.token()))
        .await
        .expect("connect");
    assert_eq!(record.vault, VaultBackend::Aws);
    let cid = record.credential_id.clone().expect("credential id");
    match vault.get(&cid).await.expect("stored in AWS") {
        StoredCredential::Token { token } => assert_eq!(token.expose_secret(), sim.token()),
        other => panic!("unexpected kind {}", other.kind()),
    }
    // The state directory holds no copy of the token.
    for entry in std::fs::read_dir(&*state).expect("state dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).unwrap_or_default();
        assert!(!contains(&bytes, sim.token().as_bytes()));
    }
    let live = workspace
        .connection(&registry, "mx-aws")
        .await
        .expect("live");
    live.list("work-order", plantwire::ListOptions::default())
        .await
        .expect("a call with the credential read from AWS");

    // Reauthorizing with a wrong token changes nothing; with the right one it succeeds.
    workspace
        .reauthorize(
            &registry,
            "mx-aws",
            Some(StoredCredential::Token {
                token: secret(SECRETS[0]),
            }),
        )
        .await
        .expect_err("a wrong token is refused");
    match vault.get(&cid).await.expect("still there") {
        StoredCredential::Token { token } => assert_eq!(token.expose_secret(), sim.token()),
        other => panic!("unexpected kind {}", other.kind()),
    }
    workspace
        .reauthorize(
            &registry,
            "mx-aws",
            Some(StoredCredential::Token {
                token: secret(sim.token()),
            }),
        )
        .await
        .expect("reauthorized");
    workspace.disconnect("mx-aws").await.expect("disconnect");
    assert!(matches!(
        vault.get(&cid).await,
        Err(VaultError::NotFound(_))
    ));
}
