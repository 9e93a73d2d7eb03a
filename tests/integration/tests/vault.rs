//! The vault: every policy has a test that tries to break it. Credentials round-trip; a sealed
//! entry moved to another id, a flipped byte or a wrong master key do not open (the last one at
//! start); a rotation re-seals everything and a crash in the middle loses nothing; secrets never
//! show in the vault file, in `Debug`, in errors or in logs; ids cannot name paths; the env
//! backend names what is missing without quoting a value; loose key files are refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use std::path::{Path, PathBuf};

use plantwire::vault::{
    CredentialId, EnvVault, MasterKey, SealedFileVault, StoredCredential, Vault, VaultError,
};
use plantwire_integration_tests::{LogCapture, contains};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// Every secret used below; none may ever show outside the vault's memory.
const SECRETS: &[&str] = &[
    "tok-9f1c2e7a-SECRET",
    "pw-4d8b0c1f-SECRET",
    "cs-7a2e9d3b-SECRET",
    "rt-1b5f8e0c-SECRET",
    "ak-6c3a7f2d-SECRET",
    "sk-0e9b4c8a-SECRET",
];

use plantwire_integration_tests::Scratch;

fn scratch(name: &str) -> Scratch {
    Scratch::new(&format!("vault-it-{name}"))
}

fn id(s: &str) -> CredentialId {
    CredentialId::new(s).expect("valid id")
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

/// A key written to a private key file, as an operator would configure it.
fn key_file(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let key = MasterKey::generate();
    key.write_to_file(&path).expect("key file");
    (path, key.id().to_owned())
}

fn load_key(path: &Path) -> MasterKey {
    MasterKey::from_file(path).expect("key")
}

/// One credential of every kind, under ids named after the kind.
fn every_kind() -> Vec<(CredentialId, StoredCredential)> {
    plantwire_integration_tests::every_credential_kind(SECRETS)
}

/// Every field of a credential, secrets exposed, for comparisons.
fn fields(c: &StoredCredential) -> Vec<String> {
    plantwire_integration_tests::credential_fields(c)
}

/// Panics if any secret occurs in `haystack`.
fn assert_no_secret(haystack: &[u8], what: &str) {
    for s in SECRETS {
        assert!(
            !contains(haystack, s.as_bytes()),
            "{what} contains the secret {s}"
        );
    }
}

/// A vault holding every kind, with its path, its key file, and its directory.
async fn filled_vault(name: &str) -> (SealedFileVault, PathBuf, PathBuf, Scratch) {
    let dir = scratch(name);
    let (key_path, _) = key_file(&dir, "master.key");
    let path = dir.join("vault.json");
    let vault = SealedFileVault::create(&path, load_key(&key_path)).expect("create");
    for (cid, cred) in every_kind() {
        vault.put(&cid, &cred).await.expect("put");
    }
    (vault, path, key_path, dir)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read vault")).expect("vault json")
}

fn write_json(path: &Path, doc: &Value) {
    std::fs::write(path, serde_json::to_vec(doc).expect("json")).expect("write vault");
}

#[tokio::test]
async fn every_kind_round_trips_through_the_file() {
    let (vault, path, key_path, _dir) = filled_vault("round-trip").await;
    // A fresh handle on the same file, as after a restart.
    let reopened = SealedFileVault::open(&path, load_key(&key_path)).expect("open");
    for (cid, cred) in every_kind() {
        assert_eq!(fields(&vault.get(&cid).await.unwrap()), fields(&cred));
        assert_eq!(fields(&reopened.get(&cid).await.unwrap()), fields(&cred));
    }
    let mut ids: Vec<_> = every_kind().into_iter().map(|(c, _)| c).collect();
    ids.sort();
    assert_eq!(reopened.list().await.unwrap(), ids);
    assert_eq!(reopened.backend(), "sealed-file");

    // Every kind converts to what egress applies.
    let token = reopened.get(&id("token")).await.unwrap();
    assert!(matches!(
        token.to_credential(),
        plantwire::Credential::Token(t) if t.expose_secret() == SECRETS[0]
    ));
    let basic = reopened.get(&id("basic")).await.unwrap();
    assert!(matches!(
        basic.to_credential(),
        plantwire::Credential::Basic { user, password }
            if user == "maint-user" && password.expose_secret() == SECRETS[1]
    ));
    assert!(matches!(
        reopened.get(&id("hmac")).await.unwrap().to_credential(),
        plantwire::Credential::Hmac { .. }
    ));

    // A refresh token rotates: put replaces, and the old value is gone from the file.
    let rotated = StoredCredential::OAuth2 {
        client_id: "client-42".into(),
        client_secret: secret(SECRETS[2]),
        refresh_token: Some(secret("rt-rotated")),
    };
    reopened.put(&id("oauth2"), &rotated).await.unwrap();
    assert_eq!(
        fields(&vault.get(&id("oauth2")).await.unwrap()),
        fields(&rotated)
    );

    reopened.delete(&id("token")).await.unwrap();
    assert!(matches!(
        vault.get(&id("token")).await,
        Err(VaultError::NotFound(ref c)) if c.as_str() == "token"
    ));
    assert!(matches!(
        vault.delete(&id("token")).await,
        Err(VaultError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_id_does_not_open() {
    let (_, path, key_path, _dir) = filled_vault("moved").await;
    let mut doc = read_json(&path);
    // The attacker with write access to the file swaps two connections' credentials.
    let token = doc["entries"]["token"].clone();
    doc["entries"]["basic"] = token.clone();
    // ... and plants one under a new id, too.
    doc["entries"]["zzz-new"] = token;
    write_json(&path, &doc);

    // The first entry ("basic") is checked at open: the move is caught at start.
    let err = SealedFileVault::open(&path, load_key(&key_path)).unwrap_err();
    assert!(
        matches!(err, VaultError::Tampered { ref id } if id.as_str() == "basic"),
        "{err}"
    );

    // Put "basic" back to something sealed under its own id; the planted entry still fails.
    let mut doc = read_json(&path);
    doc["entries"]
        .as_object_mut()
        .unwrap()
        .remove("basic")
        .unwrap();
    write_json(&path, &doc);
    let vault = SealedFileVault::open(&path, load_key(&key_path)).expect("open");
    assert!(vault.get(&id("token")).await.is_ok());
    let err = vault.get(&id("zzz-new")).await.unwrap_err();
    assert!(
        matches!(err, VaultError::Tampered { ref id } if id.as_str() == "zzz-new"),
        "{err}"
    );
}

#[tokio::test]
async fn a_flipped_byte_does_not_open() {
    let (_, path, key_path, _dir) = filled_vault("flipped").await;
    let pristine = read_json(&path);
    for field in ["ciphertext", "nonce"] {
        for position in [0, 7, usize::MAX] {
            let mut doc = pristine.clone();
            let hex = doc["entries"]["token"][field].as_str().unwrap().to_owned();
            let at = position.min(hex.len() - 1);
            let mut bytes = hex.into_bytes();
            // One hex digit to another: one bit pattern of one byte changes.
            bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
            doc["entries"]["token"][field] = Value::String(String::from_utf8(bytes).unwrap());
            write_json(&path, &doc);
            let vault = SealedFileVault::open(&path, load_key(&key_path)).expect("open");
            let err = vault.get(&id("token")).await.unwrap_err();
            assert!(
                matches!(err, VaultError::Tampered { .. }),
                "{field}@{at}: {err}"
            );
        }
    }
    // A truncated ciphertext (the tag cut off) fails the same way.
    let mut doc = pristine.clone();
    let ct = doc["entries"]["token"]["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    doc["entries"]["token"]["ciphertext"] = Value::String(ct[..ct.len() - 32].to_owned());
    write_json(&path, &doc);
    let vault = SealedFileVault::open(&path, load_key(&key_path)).expect("open");
    assert!(matches!(
        vault.get(&id("token")).await,
        Err(VaultError::Tampered { .. })
    ));
    // Forging the key id does not help: the entries still do not open, at start.
    let mut doc = pristine;
    let other = MasterKey::generate();
    doc["keyId"] = Value::String(other.id().to_owned());
    write_json(&path, &doc);
    let err = SealedFileVault::open(&path, other).unwrap_err();
    assert!(matches!(err, VaultError::Tampered { .. }), "{err}");
}

#[tokio::test]
async fn a_wrong_master_key_fails_at_open_naming_both_keys() {
    let (_, path, key_path, _dir) = filled_vault("wrong-key").await;
    let sealed_with = load_key(&key_path).id().to_owned();
    let wrong = MasterKey::generate();
    let configured = wrong.id().to_owned();
    let err = SealedFileVault::open(&path, wrong).unwrap_err();
    assert!(matches!(err, VaultError::WrongKey { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("the vault was sealed with key {sealed_with}")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("the configured key is {configured}")),
        "{msg}"
    );
}

#[tokio::test]
async fn rotation_reseals_every_entry_and_retires_the_old_key() {
    let (vault, path, old_key_path, _dir) = filled_vault("rotate").await;
    let before = read_json(&path);
    let dir = path.parent().unwrap();
    let (new_key_path, new_id) = key_file(dir, "master.key.new");

    vault.rotate(load_key(&new_key_path)).await.expect("rotate");
    assert_eq!(vault.key_id().await, new_id);

    let after = read_json(&path);
    assert_eq!(after["keyId"], Value::String(new_id.clone()));
    let (b, a) = (
        before["entries"].as_object().unwrap(),
        after["entries"].as_object().unwrap(),
    );
    assert_eq!(
        b.keys().collect::<Vec<_>>(),
        a.keys().collect::<Vec<_>>(),
        "same ids"
    );
    for (cid, entry) in a {
        assert_ne!(entry["ciphertext"], b[cid]["ciphertext"], "{cid} re-sealed");
        assert_ne!(entry["nonce"], b[cid]["nonce"], "{cid} fresh nonce");
    }

    // No data lost: every credential reads back, through the live handle and after a restart.
    let reopened = SealedFileVault::open(&path, load_key(&new_key_path)).expect("new key opens");
    for (cid, cred) in every_kind() {
        assert_eq!(fields(&vault.get(&cid).await.unwrap()), fields(&cred));
        assert_eq!(fields(&reopened.get(&cid).await.unwrap()), fields(&cred));
    }
    // The old key no longer opens the vault, and says why.
    let err = SealedFileVault::open(&path, load_key(&old_key_path)).unwrap_err();
    assert!(
        matches!(err, VaultError::WrongKey { ref sealed_with, .. } if *sealed_with == new_id),
        "{err}"
    );
    // Writes after the rotation are sealed with the new key.
    vault
        .put(
            &id("after"),
            &StoredCredential::Token { token: secret("x") },
        )
        .await
        .unwrap();
    assert!(
        SealedFileVault::open(&path, load_key(&new_key_path))
            .unwrap()
            .get(&id("after"))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_crash_mid_rotation_leaves_the_old_valid_vault() {
    let (vault, path, old_key_path, _dir) = filled_vault("crash").await;
    let before = std::fs::read(&path).unwrap();
    drop(vault);

    // What a rotation writes before its rename: the complete re-sealed file, in the vault's
    // temporary file next to it. Build one on a copy, then plant it and "crash".
    let side = scratch("crash-side");
    std::fs::copy(&path, side.join("vault.json")).unwrap();
    let (new_key_path, _) = key_file(&side, "new.key");
    let copy = SealedFileVault::open(side.join("vault.json"), load_key(&old_key_path)).unwrap();
    copy.rotate(load_key(&new_key_path)).await.unwrap();
    let temp = path.with_file_name(".vault.json.tmp");
    std::fs::copy(side.join("vault.json"), &temp).unwrap();
    // A torn temporary file is no worse.
    let torn = path.with_file_name("vault.json.partial");
    std::fs::write(&torn, &std::fs::read(&temp).unwrap()[..40]).unwrap();

    // The vault file is the old one, whole, and the old key opens it with every entry.
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let vault = SealedFileVault::open(&path, load_key(&old_key_path)).expect("old key opens");
    for (cid, cred) in every_kind() {
        assert_eq!(fields(&vault.get(&cid).await.unwrap()), fields(&cred));
    }
    assert!(matches!(
        SealedFileVault::open(&path, load_key(&new_key_path)),
        Err(VaultError::WrongKey { .. })
    ));
    // Rotating again after the crash completes normally.
    vault.rotate(load_key(&new_key_path)).await.unwrap();
    assert!(!temp.exists(), "the stale temporary file was replaced");
    let vault = SealedFileVault::open(&path, load_key(&new_key_path)).expect("new key opens");
    for (cid, cred) in every_kind() {
        assert_eq!(fields(&vault.get(&cid).await.unwrap()), fields(&cred));
    }
}

#[tokio::test]
async fn secrets_never_leave_in_the_clear() {
    let (logs, _guard) = LogCapture::install();
    let (vault, path, key_path, _dir) = filled_vault("leaks").await;
    let dir = path.parent().unwrap().to_owned();

    // The vault file and its directory.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p != key_path {
            assert_no_secret(&std::fs::read(&p).unwrap(), &p.display().to_string());
        }
    }
    // Debug of credentials, the vault, the key.
    let mut debug = String::new();
    for (cid, _) in every_kind() {
        let cred = vault.get(&cid).await.unwrap();
        debug += &format!("{cred:?} {cred:#?} {:?}", cred.to_credential());
    }
    debug += &format!("{vault:?} {:?}", load_key(&key_path));
    assert_no_secret(debug.as_bytes(), "Debug output");
    let key_hex = std::fs::read_to_string(&key_path).unwrap();
    assert!(
        !debug.contains(key_hex.trim()),
        "Debug shows the master key"
    );

    // Errors of every kind, provoked on purpose.
    let mut errors: Vec<VaultError> = Vec::new();
    let mut doc = read_json(&path);
    doc["entries"]["basic"] = doc["entries"]["token"].clone();
    write_json(&path, &doc);
    errors.push(vault.get(&id("basic")).await.unwrap_err());
    errors.push(SealedFileVault::open(&path, MasterKey::generate()).unwrap_err());
    errors.push(MasterKey::from_hex(SECRETS[0]).unwrap_err());
    errors.push(CredentialId::new("../x").unwrap_err());
    let env_err = EnvVault::from_vars(
        [
            ("PLANTWIRE_CRED_X_USER".to_owned(), SECRETS[1].to_owned()),
            ("PLANTWIRE_CRED_X_TOKEN".to_owned(), SECRETS[0].to_owned()),
        ],
        &[id("x")],
    )
    .unwrap_err();
    errors.push(env_err);
    std::fs::write(
        &path,
        format!("{{\"version\":1,\"keyId\":\"{}\"", SECRETS[0]),
    )
    .unwrap();
    errors.push(SealedFileVault::open(&path, load_key(&key_path)).unwrap_err());
    let mut text = String::new();
    for e in &errors {
        text += &format!("{e} | {e:?} | ");
    }
    assert_no_secret(text.as_bytes(), "error messages");

    // Logs, at trace level, of everything above.
    assert!(!logs.bytes().is_empty(), "the vault logs its operations");
    assert_no_secret(&logs.bytes(), "logs");
}

#[test]
fn ids_that_could_name_a_path_are_refused() {
    let long = "a".repeat(200);
    for bad in [
        "../x",
        "",
        long.as_str(),
        "a/b",
        "..",
        ".",
        ".vault.json.tmp",
        "a\\b",
        "/etc/passwd",
        "a\0b",
        "x y",
    ] {
        let err = CredentialId::new(bad).unwrap_err();
        assert!(matches!(err, VaultError::InvalidId(_)), "{bad:?}: {err}");
        assert!(
            serde_json::from_value::<CredentialId>(Value::String(bad.into())).is_err(),
            "{bad:?} deserialized"
        );
    }
    assert!(CredentialId::new("a".repeat(128)).is_ok());
}

#[test]
fn an_invalid_id_planted_in_the_file_is_refused_at_open() {
    let dir = scratch("planted-id");
    let (key_path, key_id) = key_file(&dir, "k");
    let path = dir.join("vault.json");
    let doc = serde_json::json!({
        "version": 1,
        "keyId": key_id,
        "entries": { "../escape": { "nonce": "00", "ciphertext": "00" } }
    });
    write_json(&path, &doc);
    let err = SealedFileVault::open(&path, load_key(&key_path)).unwrap_err();
    assert!(matches!(err, VaultError::Corrupt(_)), "{err}");
}

#[tokio::test]
async fn the_env_backend_names_what_is_missing_and_never_a_value() {
    // Incomplete: a user without a password. The error names the missing variable only.
    let err = EnvVault::from_vars(
        [(
            "PLANTWIRE_CRED_MAINTAINX_PROD_USER".to_owned(),
            SECRETS[1].to_owned(),
        )],
        &[id("maintainx.prod")],
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, VaultError::Config(_)), "{msg}");
    assert!(
        msg.contains("PLANTWIRE_CRED_MAINTAINX_PROD_PASSWORD"),
        "{msg}"
    );
    assert_no_secret(format!("{msg} {err:?}").as_bytes(), "env error");

    // Absent from the real process environment: caught at open, naming the variables to set.
    let err = EnvVault::open(&[id("surely-unset.cred-7f3a")]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("PLANTWIRE_CRED_SURELY_UNSET_CRED_7F3A_TOKEN"),
        "{msg}"
    );

    // Complete: it reads, and it is read-only.
    let vault = EnvVault::from_vars(
        [
            (
                "PLANTWIRE_CRED_MAINTAINX_PROD_TOKEN".to_owned(),
                SECRETS[0].to_owned(),
            ),
            ("PLANTWIRE_CRED_OTHER_TOKEN".to_owned(), "o".to_owned()),
        ],
        &[id("maintainx.prod")],
    )
    .expect("env vault");
    let cred = vault.get(&id("maintainx.prod")).await.unwrap();
    assert_eq!(
        fields(&cred),
        vec!["token".to_owned(), SECRETS[0].to_owned()]
    );
    assert_eq!(vault.list().await.unwrap(), vec![id("maintainx.prod")]);
    let err = vault.put(&id("maintainx.prod"), &cred).await.unwrap_err();
    assert!(
        matches!(err, VaultError::ReadOnly { backend: "env" }),
        "{err}"
    );
    assert_no_secret(format!("{vault:?} {cred:?}").as_bytes(), "env Debug");
    assert_eq!(vault.backend(), "env");

    // The trait is object-safe: the host holds whichever backend is configured.
    let boxed: Box<dyn Vault> = Box::new(vault);
    assert!(boxed.get(&id("other")).await.is_ok());
}

#[test]
fn master_keys_come_from_private_files_and_hex_variables() {
    let dir = scratch("key-files");
    let (path, key_id) = key_file(&dir, "ok.key");
    assert_eq!(load_key(&path).id(), key_id);

    // 32 raw bytes work too.
    let raw = dir.join("raw.key");
    write_private(&raw, &[7u8; 32]);
    assert_eq!(
        MasterKey::from_file(&raw).unwrap().id(),
        MasterKey::from_hex(&"07".repeat(32)).unwrap().id()
    );

    // Anything else is refused without quoting it.
    let short = dir.join("short.key");
    write_private(&short, format!("{}\n", SECRETS[0]).as_bytes());
    let msg = MasterKey::from_file(&short).unwrap_err().to_string();
    assert!(msg.contains("64 hex characters or 32 raw bytes"), "{msg}");
    assert_no_secret(msg.as_bytes(), "key file error");

    let missing = MasterKey::from_file(&dir.join("nope.key"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("does not exist"), "{missing}");

    let unset = MasterKey::from_env("PLANTWIRE_TEST_UNSET_MASTER_KEY_7F3A")
        .unwrap_err()
        .to_string();
    assert!(
        unset.contains("PLANTWIRE_TEST_UNSET_MASTER_KEY_7F3A"),
        "{unset}"
    );
}

#[cfg(unix)]
#[test]
fn a_key_file_open_to_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("key-mode");
    let (path, _) = key_file(&dir, "loose.key");
    for mode in [0o644, 0o640, 0o604, 0o620] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        let err = MasterKey::from_file(&path).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, VaultError::Config(_)), "{mode:o}: {msg}");
        assert!(msg.contains(&format!("{mode:04o}")), "{msg}");
        assert!(msg.contains("chmod 600"), "{msg}");
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(MasterKey::from_file(&path).is_ok());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    assert!(MasterKey::from_file(&path).is_ok());
}

#[cfg(unix)]
#[tokio::test]
async fn the_vault_file_stays_private() {
    use std::os::unix::fs::PermissionsExt;
    let (_, path, _, _dir) = filled_vault("file-mode").await;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// Writes `bytes` to a new file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}
