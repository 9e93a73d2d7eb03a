//! Auth schemes applied by the host, each against a simulator that checks it for real:
//! session login (one login for concurrent requests, one re-login on 401, logout on
//! shutdown), OAuth 2.0 client credentials (one token request in flight, refresh on 401,
//! rotated refresh tokens persisted before use), and HMAC URL signatures.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use plantwire::egress::RefreshTokenStore;
use plantwire::sdk::contract::{OAuth2, SessionLogin};
use plantwire::sdk::{AuthScheme, HttpError, Request};
use plantwire::{Credential, Egress, EgressConfig, Upstream};
use plantwire_simulators::auth::{self, AuthSim};
use secrecy::{ExposeSecret, SecretString};

fn config(base: &str) -> EgressConfig {
    let mut config = EgressConfig::new(url::Url::parse(base).expect("url"));
    config.allow_private_network = true;
    config
}

fn session_scheme() -> AuthScheme {
    AuthScheme::SessionLogin(SessionLogin {
        login_path: "/api/v2/auth".into(),
        username_field: "email".into(),
        password_field: "password".into(),
        token_pointer: "/result/sessionToken".into(),
        token_header: "Session-Token".into(),
        logout_path: Some("/api/v2/auth".into()),
    })
}

fn session_egress(sim: &AuthSim, password: &str) -> Arc<Egress> {
    Arc::new(
        Egress::new(
            config(&sim.origin()),
            session_scheme(),
            Credential::Basic {
                user: auth::SESSION_USER.into(),
                password: SecretString::from(password.to_owned()),
            },
        )
        .expect("egress"),
    )
}

#[tokio::test]
async fn session_login_once_relogin_on_401_and_logout() {
    let sim = AuthSim::start().await.expect("sim");
    let egress = session_egress(&sim, auth::SESSION_PASSWORD);

    // Twenty concurrent first requests share one login.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let e = egress.clone();
        tasks.push(tokio::spawn(async move {
            e.send(Request::get("/api/v2/work-orders")).await
        }));
    }
    for t in tasks {
        let resp = t.await.expect("join").expect("send");
        assert_eq!(resp.status, 200);
    }
    assert_eq!(sim.logins(), 1);

    // An expired session is cured by exactly one re-login.
    sim.expire_sessions();
    let resp = egress
        .send(Request::get("/api/v2/work-orders"))
        .await
        .expect("send");
    assert_eq!(resp.status, 200);
    assert_eq!(sim.logins(), 2);

    // The adapter cannot set the session header itself.
    let err = egress
        .send(Request::get("/api/v2/work-orders").header("Session-Token", "r:forged"))
        .await
        .expect_err("forbidden");
    assert_eq!(err, HttpError::ForbiddenHeader("session-token".into()));

    egress.shutdown().await;
    assert_eq!(sim.logouts(), 1);
}

#[tokio::test]
async fn a_wrong_password_reaches_the_adapter_as_the_hosts_synthetic_refusal() {
    let sim = AuthSim::start().await.expect("sim");
    let egress = session_egress(&sim, "wrong password");
    let resp = egress
        .send(Request::get("/api/v2/work-orders"))
        .await
        .expect("send");
    // The login endpoint answered 400 with its own message; the adapter gets the host's.
    assert_eq!(resp.status, 401);
    let body = String::from_utf8_lossy(&resp.body);
    assert!(body.contains("credential_refused"), "{body}");
    assert!(!body.contains("Invalid email or password"), "{body}");
    assert!(!body.contains("wrong password"));
    assert!(
        resp.headers
            .iter()
            .all(|(k, _)| k == "content-type" || k == "x-plantwire-synthetic"),
        "{:?}",
        resp.headers
    );
    assert_eq!(sim.logins(), 0);
    // No request reached the protected route.
    assert!(sim.requests().iter().all(|r| r.path == "/api/v2/auth"));
}

#[derive(Default)]
struct Persisted(Mutex<Vec<String>>);

#[async_trait]
impl RefreshTokenStore for Persisted {
    async fn persist(&self, token: &SecretString) -> Result<(), String> {
        self.0
            .lock()
            .expect("lock")
            .push(token.expose_secret().to_owned());
        Ok(())
    }
}

#[tokio::test]
async fn oauth_one_token_request_in_flight_and_rotation_persisted_before_use() {
    let sim = AuthSim::start().await.expect("sim");
    let store = Arc::new(Persisted::default());
    let egress = Arc::new(
        Egress::new(
            config(&sim.origin()),
            AuthScheme::Oauth2ClientCredentials(OAuth2 {
                token_url: "/oauth/token".into(),
                scopes: vec!["read".into()],
            }),
            Credential::OAuth2 {
                client_id: auth::OAUTH_CLIENT_ID.into(),
                client_secret: SecretString::from(auth::OAUTH_CLIENT_SECRET.to_owned()),
                refresh_token: None,
                store: Some(store.clone()),
            },
        )
        .expect("egress"),
    );
    let burst = |n: usize| {
        let egress = egress.clone();
        async move {
            let mut tasks = Vec::new();
            for _ in 0..n {
                let e = egress.clone();
                tasks.push(tokio::spawn(async move {
                    e.send(Request::get("/oauth-api/items")).await
                }));
            }
            for t in tasks {
                assert_eq!(t.await.expect("join").expect("send").status, 200);
            }
        }
    };
    burst(20).await;
    assert_eq!(
        sim.token_requests(),
        1,
        "one token request for 20 concurrent calls"
    );

    // Revoked access tokens: concurrent 401s produce one refresh, with the rotated refresh
    // token persisted before it is used.
    sim.revoke_access_tokens();
    burst(10).await;
    assert_eq!(
        sim.token_requests(),
        2,
        "one refresh for 10 concurrent 401s"
    );
    let persisted = store.0.lock().expect("lock").clone();
    assert_eq!(persisted.len(), 2);
    assert_eq!(persisted.last().cloned(), sim.current_refresh_token());
}

#[tokio::test]
async fn hmac_signatures_are_checked_and_a_wrong_key_is_refused() {
    let sim = AuthSim::start().await.expect("sim");
    let hmac = |secret: &str| {
        Egress::new(
            config(&format!("{}/fiix", sim.origin())),
            AuthScheme::HmacUrlSignature,
            Credential::Hmac {
                access_key: auth::FIIX_ACCESS_KEY.into(),
                app_key: auth::FIIX_APP_KEY.into(),
                secret_key: SecretString::from(secret.to_owned()),
            },
        )
        .expect("egress")
    };
    let path = "/api/?action=FindRequest&service=cmms";
    let good = hmac(auth::FIIX_SECRET_KEY);
    let resp = good.send(Request::get(path)).await.expect("send");
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let bad = hmac("not the secret");
    let resp = bad.send(Request::get(path)).await.expect("send");
    assert_eq!(resp.status, 401);
    // The signature went in the Authorization header; the adapter's request had none.
    let last = sim.requests().pop().expect("request");
    assert!(
        last.query
            .unwrap_or_default()
            .contains("signatureMethod=HmacSHA256")
    );
}

#[tokio::test]
async fn a_rotated_refresh_token_lands_in_the_sealed_vault() {
    use plantwire::vault::{
        CredentialId, MasterKey, SealedFileVault, StoredCredential, Vault, VaultRefreshTokens,
    };

    let sim = AuthSim::start().await.expect("sim");
    let dir = plantwire_integration_tests::Scratch::new("auth-vault");
    let vault: Arc<dyn Vault> = Arc::new(
        SealedFileVault::create(dir.join("vault.json"), MasterKey::generate()).expect("vault"),
    );
    let id = CredentialId::new("oauth-conn").expect("id");
    vault
        .put(
            &id,
            &StoredCredential::OAuth2 {
                client_id: auth::OAUTH_CLIENT_ID.into(),
                client_secret: SecretString::from(auth::OAUTH_CLIENT_SECRET.to_owned()),
                refresh_token: None,
            },
        )
        .await
        .expect("put");
    let credential = VaultRefreshTokens::credential(vault.clone(), &id)
        .await
        .expect("credential");
    let egress = Egress::new(
        config(&sim.origin()),
        AuthScheme::Oauth2ClientCredentials(OAuth2 {
            token_url: "/oauth/token".into(),
            scopes: vec![],
        }),
        credential,
    )
    .expect("egress");
    assert_eq!(
        egress
            .send(Request::get("/oauth-api/items"))
            .await
            .expect("send")
            .status,
        200
    );
    sim.revoke_access_tokens();
    assert_eq!(
        egress
            .send(Request::get("/oauth-api/items"))
            .await
            .expect("send")
            .status,
        200
    );
    let StoredCredential::OAuth2 { refresh_token, .. } = vault.get(&id).await.expect("get") else {
        panic!("kind changed");
    };
    assert_eq!(
        refresh_token.map(|t| t.expose_secret().to_owned()),
        sim.current_refresh_token(),
        "the vault holds the refresh token the system will accept next"
    );
}
