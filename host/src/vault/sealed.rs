//! The default backend: one sealed JSON file ([`SealedFileVault`], whose docs give the format).
//!
//! This module must never log, serialize in the clear, or put into an error message a
//! credential's secret or a byte of the master key.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use chacha20poly1305::aead::{Aead, AeadCore, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use zeroize::Zeroizing;

use super::{CredentialId, MasterKey, StoredCredential, Vault, VaultError};

/// The one file format version this host reads and writes.
const VERSION: u32 = 1;

/// Prefix of every entry's associated data; the credential id follows it.
const AAD_PREFIX: &[u8] = b"plantwire-vault-v1\0";

/// Length of an XChaCha20 nonce.
const NONCE_LEN: usize = 24;

/// Largest vault file read, so a wrong path cannot make the host read a huge file.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// A credential vault in one sealed file:
///
/// ```json
/// { "version": 1, "keyId": "3f2a…", "entries": { "<id>": { "nonce": "<hex>", "ciphertext": "<hex>" } } }
/// ```
///
/// Each entry is the credential's JSON sealed with XChaCha20-Poly1305 under the master key,
/// a fresh random 24-byte nonce per write, and the associated data
/// `b"plantwire-vault-v1\0" || id`: an entry copied to another id does not open. `keyId`
/// names the master key (see [`MasterKey::id`]) so that a wrong key is reported when the
/// vault is opened, not at the first read.
///
/// Writes go to a temporary file (`.<name>.tmp` next to the vault file) that is synced and
/// renamed over the vault file, so a crash leaves either the old file or the new one; a
/// temporary file left by a crash is ignored and replaced by the next write. Within a process,
/// writes are serialized by a lock; several processes writing one vault file are not supported.
/// The file is created with mode 0600 (unix) and only reached through a `cap_std` handle of its
/// directory. Every operation reads the file afresh, so a credential written by another process
/// (the CLI) is seen at once.
pub struct SealedFileVault {
    files: Arc<Files>,
    /// The master key, behind the lock that serializes writes (and a rotation) against reads.
    key: Arc<RwLock<MasterKey>>,
}

impl fmt::Debug for SealedFileVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedFileVault")
            .field("path", &self.files.path)
            .finish_non_exhaustive()
    }
}

impl SealedFileVault {
    /// Opens the vault file at `path` and checks it against `key`: the file exists and parses,
    /// it was sealed with this key, and its first entry opens. Any misconfiguration is an error
    /// here, before the first request.
    pub fn open(path: impl AsRef<Path>, key: MasterKey) -> Result<SealedFileVault, VaultError> {
        let files = Files::new(path.as_ref())?;
        let doc = files.load()?.ok_or_else(|| {
            VaultError::Config(format!(
                "the vault file {} does not exist; create it first (`plantwire vault init`)",
                files.path.display()
            ))
        })?;
        doc.check_key(&key)?;
        if let Some(id) = doc.entries.keys().next() {
            doc.open_entry(&key, id)?;
        }
        #[cfg(unix)]
        files.warn_if_shared();
        tracing::debug!(
            path = %files.path.display(),
            key_id = key.id(),
            entries = doc.entries.len(),
            "vault opened"
        );
        Ok(SealedFileVault {
            files: Arc::new(files),
            key: Arc::new(RwLock::new(key)),
        })
    }

    /// Creates an empty vault file at `path`, sealed with `key`. Refuses to replace an
    /// existing file.
    pub fn create(path: impl AsRef<Path>, key: MasterKey) -> Result<SealedFileVault, VaultError> {
        let files = Files::new(path.as_ref())?;
        if files.load_bytes()?.is_some() {
            return Err(VaultError::Config(format!(
                "the vault file {} already exists",
                files.path.display()
            )));
        }
        let doc = VaultFile {
            version: VERSION,
            key_id: key.id().to_owned(),
            entries: BTreeMap::new(),
        };
        files.store(&doc)?;
        tracing::info!(
            path = %files.path.display(),
            key_id = key.id(),
            "vault created"
        );
        Ok(SealedFileVault {
            files: Arc::new(files),
            key: Arc::new(RwLock::new(key)),
        })
    }

    /// The path of the vault file.
    pub fn path(&self) -> &Path {
        &self.files.path
    }

    /// The id of the key the vault is sealed with now.
    pub async fn key_id(&self) -> String {
        self.key.read().await.id().to_owned()
    }

    /// Re-seals every entry with `new_key` and from then on uses it.
    ///
    /// Every entry is opened with the current key and sealed with the new one into a new file
    /// that replaces the old one atomically: a crash leaves the old file (opened by the old key)
    /// or the new one (opened by the new key), never a mix. Keep the old key until the new one
    /// is in place where the host reads it at start; an entry that does not open aborts the
    /// rotation and leaves the vault as it was.
    pub async fn rotate(&self, new_key: MasterKey) -> Result<(), VaultError> {
        let mut key = Arc::clone(&self.key).write_owned().await;
        let files = Arc::clone(&self.files);
        let (old_id, new_id) = (key.id().to_owned(), new_key.id().to_owned());
        let count = blocking(move || {
            let doc = files.load_checked(&key)?;
            let rotated = doc.rotated(&key, &new_key)?;
            files.store(&rotated)?;
            *key = new_key;
            Ok(rotated.entries.len())
        })
        .await?;
        tracing::info!(from = %old_id, to = %new_id, entries = count, "vault key rotated");
        Ok(())
    }
}

#[async_trait]
impl Vault for SealedFileVault {
    async fn get(&self, id: &CredentialId) -> Result<StoredCredential, VaultError> {
        let key = Arc::clone(&self.key).read_owned().await;
        let files = Arc::clone(&self.files);
        let owned = id.clone();
        let result = blocking(move || files.load_checked(&key)?.open_entry(&key, &owned)).await;
        log_op("get", id, &result);
        result
    }

    async fn put(&self, id: &CredentialId, cred: &StoredCredential) -> Result<(), VaultError> {
        let key = Arc::clone(&self.key).write_owned().await;
        let files = Arc::clone(&self.files);
        let owned = id.clone();
        let cred = cred.clone();
        let result = blocking(move || {
            let mut doc = files.load_checked(&key)?;
            let entry = Entry::seal(&key, &owned, &cred)?;
            doc.entries.insert(owned, entry);
            files.store(&doc)
        })
        .await;
        log_op("put", id, &result);
        result
    }

    async fn delete(&self, id: &CredentialId) -> Result<(), VaultError> {
        let key = Arc::clone(&self.key).write_owned().await;
        let files = Arc::clone(&self.files);
        let owned = id.clone();
        let result = blocking(move || {
            let mut doc = files.load_checked(&key)?;
            if doc.entries.remove(&owned).is_none() {
                return Err(VaultError::NotFound(owned));
            }
            files.store(&doc)
        })
        .await;
        log_op("delete", id, &result);
        result
    }

    async fn list(&self) -> Result<Vec<CredentialId>, VaultError> {
        let key = Arc::clone(&self.key).read_owned().await;
        let files = Arc::clone(&self.files);
        blocking(move || Ok(files.load_checked(&key)?.entries.into_keys().collect())).await
    }

    fn backend(&self) -> &'static str {
        "sealed-file"
    }
}

/// Logs one operation: the id and the outcome, never the credential.
fn log_op<T>(op: &'static str, id: &CredentialId, result: &Result<T, VaultError>) {
    match result {
        Ok(_) => tracing::debug!(credential = %id, backend = "sealed-file", op, "vault"),
        Err(e) => {
            tracing::debug!(credential = %id, backend = "sealed-file", op, error = %e, "vault")
        }
    }
}

/// Runs file I/O and crypto off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, VaultError> + Send + 'static,
) -> Result<T, VaultError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| VaultError::Io {
            context: "the vault's worker task failed".into(),
            source: std::io::Error::other(e.to_string()),
        })?
}

/// The vault file's place: its directory handle and its name.
struct Files {
    dir: Dir,
    name: String,
    /// The temporary file a write goes to before it is renamed over `name`.
    tmp: String,
    /// The configured path, for messages.
    path: PathBuf,
}

impl Files {
    fn new(path: &Path) -> Result<Files, VaultError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.starts_with('.'))
            .ok_or_else(|| {
                VaultError::Config(format!(
                    "the vault path {} must end in a UTF-8 file name not starting with '.'",
                    path.display()
                ))
            })?
            .to_owned();
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = Dir::open_ambient_dir(parent, ambient_authority())
            .map_err(|e| VaultError::io("opening the vault directory", parent, e))?;
        Ok(Files {
            dir,
            tmp: format!(".{name}.tmp"),
            name,
            path: path.to_owned(),
        })
    }

    /// The file's bytes, or `None` if it does not exist.
    fn load_bytes(&self) -> Result<Option<Vec<u8>>, VaultError> {
        let file = match self.dir.open(&self.name) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(VaultError::io("opening the vault file", &self.path, e)),
        };
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| VaultError::io("reading the vault file", &self.path, e))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(VaultError::Corrupt(format!(
                "the vault file {} is larger than {MAX_FILE_BYTES} bytes",
                self.path.display()
            )));
        }
        Ok(Some(bytes))
    }

    /// The parsed file, or `None` if it does not exist.
    fn load(&self) -> Result<Option<VaultFile>, VaultError> {
        let Some(bytes) = self.load_bytes()? else {
            return Ok(None);
        };
        let doc: VaultFile = serde_json::from_slice(&bytes).map_err(|e| {
            // Position only: the parser's message may quote the file.
            VaultError::Corrupt(format!(
                "the vault file {} does not parse ({:?} error at line {}, column {})",
                self.path.display(),
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        if doc.version != VERSION {
            return Err(VaultError::Corrupt(format!(
                "the vault file {} has format version {}; this host reads version {VERSION}",
                self.path.display(),
                doc.version
            )));
        }
        Ok(Some(doc))
    }

    /// The parsed file, which must exist and be sealed with `key`.
    fn load_checked(&self, key: &MasterKey) -> Result<VaultFile, VaultError> {
        let doc = self.load()?.ok_or_else(|| {
            VaultError::Config(format!(
                "the vault file {} has disappeared",
                self.path.display()
            ))
        })?;
        doc.check_key(key)?;
        Ok(doc)
    }

    /// Replaces the file with `doc`, atomically.
    fn store(&self, doc: &VaultFile) -> Result<(), VaultError> {
        let bytes = serde_json::to_vec_pretty(doc)
            .map_err(|_| VaultError::Corrupt("the vault could not be serialized".into()))?;
        self.write_temp(&bytes)?;
        self.commit()
    }

    /// First half of a write: the new contents in the temporary file, synced to disk.
    fn write_temp(&self, bytes: &[u8]) -> Result<(), VaultError> {
        // A temporary file left by a crash is stale: start afresh, with our own mode.
        match self.dir.remove_file(&self.tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(VaultError::io(
                    "removing the stale temporary file of",
                    &self.path,
                    e,
                ));
            }
        }
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use cap_std::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = self
            .dir
            .open_with(&self.tmp, &options)
            .map_err(|e| VaultError::io("creating the temporary file of", &self.path, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| VaultError::io("writing the temporary file of", &self.path, e))
    }

    /// Second half of a write: the temporary file renamed over the vault file.
    fn commit(&self) -> Result<(), VaultError> {
        self.dir
            .rename(&self.tmp, &self.dir, &self.name)
            .map_err(|e| VaultError::io("replacing the vault file", &self.path, e))?;
        // Make the rename durable. The new contents are in place either way; a failure here
        // only means a crash could bring back the previous (valid) file.
        if let Err(e) = self.dir.open(".").and_then(|d| d.sync_all()) {
            tracing::warn!(
                path = %self.path.display(),
                error = %e,
                "could not sync the vault directory"
            );
        }
        Ok(())
    }

    /// Warns when the vault file is open to group or others: it is sealed, but still.
    #[cfg(unix)]
    fn warn_if_shared(&self) {
        use cap_std::fs::PermissionsExt;
        if let Ok(meta) = self.dir.metadata(&self.name) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %self.path.display(),
                    mode = format!("{mode:04o}"),
                    "the vault file is open to group or others"
                );
            }
        }
    }
}

/// The vault file as stored.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VaultFile {
    version: u32,
    key_id: String,
    entries: BTreeMap<CredentialId, Entry>,
}

/// One sealed credential.
#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Entry {
    /// The entry's nonce, in hex.
    nonce: String,
    /// The sealed credential with its tag, in hex.
    ciphertext: String,
}

/// The associated data an entry is sealed with: it binds the entry to its id.
fn aad(id: &CredentialId) -> Vec<u8> {
    [AAD_PREFIX, id.as_str().as_bytes()].concat()
}

impl VaultFile {
    fn check_key(&self, key: &MasterKey) -> Result<(), VaultError> {
        if self.key_id != key.id() {
            return Err(VaultError::WrongKey {
                sealed_with: self.key_id.clone(),
                configured: key.id().to_owned(),
            });
        }
        Ok(())
    }

    fn open_entry(
        &self,
        key: &MasterKey,
        id: &CredentialId,
    ) -> Result<StoredCredential, VaultError> {
        let entry = self
            .entries
            .get(id)
            .ok_or_else(|| VaultError::NotFound(id.clone()))?;
        entry.open(key, id)
    }

    /// A copy with every entry re-sealed from `old` to `new`.
    fn rotated(&self, old: &MasterKey, new: &MasterKey) -> Result<VaultFile, VaultError> {
        let mut entries = BTreeMap::new();
        for (id, entry) in &self.entries {
            let cred = entry.open(old, id)?;
            entries.insert(id.clone(), Entry::seal(new, id, &cred)?);
        }
        Ok(VaultFile {
            version: VERSION,
            key_id: new.id().to_owned(),
            entries,
        })
    }
}

impl Entry {
    fn seal(
        key: &MasterKey,
        id: &CredentialId,
        cred: &StoredCredential,
    ) -> Result<Entry, VaultError> {
        let plaintext = cred.to_plaintext()?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = key
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: &plaintext,
                    aad: &aad(id),
                },
            )
            .map_err(|_| VaultError::Corrupt(format!("credential `{id}` could not be sealed")))?;
        Ok(Entry {
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        })
    }

    fn open(&self, key: &MasterKey, id: &CredentialId) -> Result<StoredCredential, VaultError> {
        let malformed = || VaultError::Corrupt(format!("the entry of `{id}` is malformed"));
        let mut nonce = [0u8; NONCE_LEN];
        hex::decode_to_slice(&self.nonce, &mut nonce).map_err(|_| malformed())?;
        let ciphertext = hex::decode(&self.ciphertext).map_err(|_| malformed())?;
        let plaintext = Zeroizing::new(
            key.cipher()
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: &ciphertext,
                        aad: &aad(id),
                    },
                )
                .map_err(|_| VaultError::Tampered { id: id.clone() })?,
        );
        StoredCredential::from_plaintext(&plaintext).ok_or_else(|| {
            VaultError::Corrupt(format!("the entry of `{id}` opens but holds no credential"))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests fail loudly"
    )]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use secrecy::{ExposeSecret, SecretString};

    use super::*;

    /// A fresh, empty directory for one test, removed on drop.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn scratch(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "plantwire-vault-unit-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn id(s: &str) -> CredentialId {
        CredentialId::new(s).unwrap()
    }

    fn token(t: &str) -> StoredCredential {
        StoredCredential::Token {
            token: SecretString::from(t),
        }
    }

    fn token_of(c: &StoredCredential) -> String {
        match c {
            StoredCredential::Token { token } => token.expose_secret().to_owned(),
            other => panic!("not a token: {other:?}"),
        }
    }

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_hex(&hex::encode([byte; 32])).unwrap()
    }

    #[tokio::test]
    async fn a_crash_before_the_rename_leaves_the_old_vault() {
        let dir = scratch("crash");
        let path = dir.0.join("vault.json");
        let vault = SealedFileVault::create(&path, key(1)).unwrap();
        vault.put(&id("a"), &token("tok-a-1")).await.unwrap();
        vault.put(&id("b"), &token("tok-b-1")).await.unwrap();
        let before = std::fs::read(&path).unwrap();

        // Rotation up to the crash: the re-sealed file is written and synced, not renamed.
        let files = Files::new(&path).unwrap();
        let doc = files.load_checked(&key(1)).unwrap();
        let rotated = doc.rotated(&key(1), &key(2)).unwrap();
        files
            .write_temp(&serde_json::to_vec(&rotated).unwrap())
            .unwrap();
        drop(vault);

        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the vault file is untouched"
        );
        let err = SealedFileVault::open(&path, key(2)).unwrap_err();
        assert!(matches!(err, VaultError::WrongKey { .. }), "{err}");
        let vault = SealedFileVault::open(&path, key(1)).unwrap();
        assert_eq!(token_of(&vault.get(&id("a")).await.unwrap()), "tok-a-1");
        assert_eq!(token_of(&vault.get(&id("b")).await.unwrap()), "tok-b-1");

        // The next write replaces the stale temporary file and leaves none behind.
        vault.put(&id("c"), &token("tok-c-1")).await.unwrap();
        assert!(!path.with_file_name(".vault.json.tmp").exists());
        assert_eq!(vault.list().await.unwrap(), vec![id("a"), id("b"), id("c")]);
    }

    #[tokio::test]
    async fn a_failed_rotation_keeps_the_old_key() {
        let dir = scratch("failed-rotation");
        let path = dir.0.join("vault.json");
        let vault = SealedFileVault::create(&path, key(1)).unwrap();
        vault.put(&id("a"), &token("tok-a")).await.unwrap();
        vault.put(&id("b"), &token("tok-b")).await.unwrap();
        // Entry b is damaged behind the vault's back.
        let mut doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        doc["entries"]["b"] = doc["entries"]["a"].clone();
        std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
        let before = std::fs::read(&path).unwrap();

        let err = vault.rotate(key(2)).await.unwrap_err();
        assert!(
            matches!(err, VaultError::Tampered { ref id } if id.as_str() == "b"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(vault.key_id().await, key(1).id());
        assert_eq!(token_of(&vault.get(&id("a")).await.unwrap()), "tok-a");
    }

    #[tokio::test]
    async fn concurrent_writes_are_not_lost() {
        let dir = scratch("concurrent");
        let path = dir.0.join("vault.json");
        let vault = Arc::new(SealedFileVault::create(&path, key(1)).unwrap());
        let mut tasks = Vec::new();
        for i in 0..24 {
            let vault = Arc::clone(&vault);
            tasks.push(tokio::spawn(async move {
                vault
                    .put(&id(&format!("c{i:02}")), &token(&format!("tok-{i}")))
                    .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let ids = vault.list().await.unwrap();
        assert_eq!(ids.len(), 24);
        for i in 0..24 {
            let got = vault.get(&id(&format!("c{i:02}"))).await.unwrap();
            assert_eq!(token_of(&got), format!("tok-{i}"));
        }
    }

    #[tokio::test]
    async fn every_write_uses_a_fresh_nonce() {
        let dir = scratch("nonce");
        let path = dir.0.join("vault.json");
        let vault = SealedFileVault::create(&path, key(1)).unwrap();
        let mut nonces = std::collections::HashSet::new();
        for _ in 0..16 {
            vault.put(&id("a"), &token("same")).await.unwrap();
            let doc: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            assert!(nonces.insert(doc["entries"]["a"]["nonce"].as_str().unwrap().to_owned()));
        }
    }

    #[test]
    fn a_corrupt_file_is_named_without_quoting_it() {
        let dir = scratch("corrupt");
        let path = dir.0.join("vault.json");
        std::fs::write(
            &path,
            br#"{"version": 1, "keyId": "s3cr3t-looking-text", "entries": 7}"#,
        )
        .unwrap();
        let err = SealedFileVault::open(&path, key(1)).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, VaultError::Corrupt(_)), "{msg}");
        assert!(msg.contains("line 1"), "{msg}");
        assert!(!msg.contains("s3cr3t"), "{msg}");

        std::fs::write(&path, br#"{"version": 2, "keyId": "x", "entries": {}}"#).unwrap();
        let msg = SealedFileVault::open(&path, key(1))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("version 2"), "{msg}");
    }

    #[test]
    fn an_entry_that_opens_to_garbage_is_corrupt_and_not_quoted() {
        let k = key(1);
        let cid = id("a");
        let plaintext = br#"{"kind":"token","token":"leaky-secret","extra":"x"}"#;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = k
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad(&cid),
                },
            )
            .unwrap();
        let entry = Entry {
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        };
        let msg = entry.open(&k, &cid).unwrap_err().to_string();
        assert!(msg.contains("holds no credential"), "{msg}");
        assert!(!msg.contains("leaky"), "{msg}");
    }

    #[test]
    fn a_missing_file_or_directory_is_a_start_error() {
        let scratch = scratch("missing");
        let dir = &scratch.0;
        let err = SealedFileVault::open(dir.join("vault.json"), key(1)).unwrap_err();
        assert!(matches!(err, VaultError::Config(_)), "{err}");
        assert!(err.to_string().contains("does not exist"), "{err}");
        let err = SealedFileVault::open(dir.join("nope").join("vault.json"), key(1)).unwrap_err();
        assert!(err.to_string().contains("vault directory"), "{err}");
        SealedFileVault::create(dir.join("vault.json"), key(1)).unwrap();
        let err = SealedFileVault::create(dir.join("vault.json"), key(1)).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_vault_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("mode");
        let path = dir.0.join("vault.json");
        SealedFileVault::create(&path, key(1)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
