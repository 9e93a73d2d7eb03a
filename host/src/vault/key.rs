//! The master key of a sealed vault: 32 bytes, from a key file or an environment variable,
//! zeroed on drop. It is identified by its key id (the first 8 bytes of its SHA-256, in hex),
//! which the vault file records so that a wrong key is named at open, not at the first read.
//!
//! This module must never print, log or put into an error any byte of a key or of a key file.

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;

use chacha20poly1305::aead::{KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::VaultError;

/// Length of a master key in bytes.
pub const KEY_LEN: usize = 32;

/// Largest key file read: a hex key with a line ending, and room for whitespace.
const MAX_KEY_FILE: u64 = 256;

/// The 32-byte key a sealed vault is encrypted with. No `Debug` content beyond its key id,
/// no `Clone`, zeroed on drop.
pub struct MasterKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
    id: String,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey {{ id: {}, .. }}", self.id)
    }
}

impl MasterKey {
    /// A fresh random key from the operating system's generator (for `plantwire vault init`).
    pub fn generate() -> MasterKey {
        let mut key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&key);
        zeroize::Zeroize::zeroize(key.as_mut_slice());
        MasterKey::from_array(bytes)
    }

    /// A key from its 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(hex_key: &str) -> Result<MasterKey, VaultError> {
        MasterKey::parse_hex(hex_key.trim().as_bytes())
            .ok_or_else(|| VaultError::Config("a master key must be 64 hex characters".into()))
    }

    /// The key in the environment variable `var`, as 64 hex characters.
    pub fn from_env(var: &str) -> Result<MasterKey, VaultError> {
        let value = match std::env::var(var) {
            Ok(v) => Zeroizing::new(v),
            Err(std::env::VarError::NotPresent) => {
                return Err(VaultError::Config(format!(
                    "the master key variable {var} is not set"
                )));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(VaultError::Config(format!(
                    "the master key variable {var} must hold 64 hex characters"
                )));
            }
        };
        MasterKey::parse_hex(value.trim().as_bytes()).ok_or_else(|| {
            VaultError::Config(format!(
                "the master key variable {var} must hold 64 hex characters"
            ))
        })
    }

    /// The key in the file at `path`: 64 hex characters (surrounding whitespace ignored) or
    /// exactly 32 raw bytes. On unix the file must not be accessible by group or others.
    pub fn from_file(path: &Path) -> Result<MasterKey, VaultError> {
        let file = std::fs::File::open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                VaultError::Config(format!(
                    "the master key file {} does not exist",
                    path.display()
                ))
            } else {
                VaultError::io("opening the master key file", path, e)
            }
        })?;
        // Check the handle just opened, not the path, so the file cannot be swapped between.
        let meta = file
            .metadata()
            .map_err(|e| VaultError::io("reading the metadata of the master key file", path, e))?;
        if !meta.is_file() {
            return Err(VaultError::Config(format!(
                "the master key file {} is not a regular file",
                path.display()
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(VaultError::Config(format!(
                    "the master key file {} has mode {mode:04o}, open to group or others; \
                     restrict it with `chmod 600`",
                    path.display()
                )));
            }
        }
        let mut contents = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE as usize + 1));
        file.take(MAX_KEY_FILE + 1)
            .read_to_end(&mut contents)
            .map_err(|e| VaultError::io("reading the master key file", path, e))?;
        let bad = || {
            VaultError::Config(format!(
                "the master key file {} must hold 64 hex characters or 32 raw bytes",
                path.display()
            ))
        };
        if contents.len() == KEY_LEN {
            let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
            bytes.copy_from_slice(&contents);
            return Ok(MasterKey::from_array(bytes));
        }
        if contents.len() as u64 > MAX_KEY_FILE {
            return Err(bad());
        }
        MasterKey::parse_hex(contents.trim_ascii()).ok_or_else(bad)
    }

    /// Writes the key as hex to a new file at `path`, readable by its owner only (unix). Refuses
    /// to overwrite an existing file.
    pub fn write_to_file(&self, path: &Path) -> Result<(), VaultError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(path)
            .map_err(|e| VaultError::io("creating the master key file", path, e))?;
        let mut text = Zeroizing::new([0u8; 2 * KEY_LEN + 1]);
        hex::encode_to_slice(&self.bytes[..], &mut text[..2 * KEY_LEN])
            .map_err(|_| VaultError::Config("the master key could not be encoded".into()))?;
        text[2 * KEY_LEN] = b'\n';
        file.write_all(&text[..])
            .and_then(|()| file.sync_all())
            .map_err(|e| VaultError::io("writing the master key file", path, e))
    }

    /// The key id: the first 8 bytes of the key's SHA-256, in hex. Not secret.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The AEAD keyed with this key (the cipher zeroes its copy of the key on drop).
    pub(super) fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(&self.bytes[..]))
    }

    fn parse_hex(text: &[u8]) -> Option<MasterKey> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        // The decoder's error would quote the offending character: it is dropped here.
        hex::decode_to_slice(text, &mut bytes[..]).ok()?;
        Some(MasterKey::from_array(bytes))
    }

    fn from_array(bytes: Zeroizing<[u8; KEY_LEN]>) -> MasterKey {
        let digest = Sha256::digest(&bytes[..]);
        let id = hex::encode(&digest[..8]);
        MasterKey { bytes, id }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn hex_keys_parse_and_have_a_stable_id() {
        let a = MasterKey::from_hex(HEX).unwrap();
        let b = MasterKey::from_hex(&format!("  {HEX}\n")).unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().len(), 16);
        assert_ne!(a.id(), MasterKey::generate().id());
    }

    #[test]
    fn malformed_hex_is_refused_without_quoting_it() {
        for bad in [
            "",
            "00",
            &HEX[..63],
            &format!("{}zz", &HEX[..62]),
            &format!("{HEX}00"),
        ] {
            let err = MasterKey::from_hex(bad).unwrap_err().to_string();
            assert!(err.contains("64 hex characters"), "{err}");
            assert!(bad.len() < 8 || !err.contains(bad), "{err}");
        }
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = MasterKey::from_env("PLANTWIRE_TEST_SURELY_UNSET_KEY_VAR")
            .unwrap_err()
            .to_string();
        assert!(err.contains("PLANTWIRE_TEST_SURELY_UNSET_KEY_VAR"), "{err}");
    }

    #[test]
    fn debug_shows_only_the_id() {
        let key = MasterKey::from_hex(HEX).unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains(key.id()));
        assert!(!debug.contains("0102030405"), "{debug}");
    }

    #[test]
    fn generated_keys_round_trip_through_a_file() {
        let dir = std::env::temp_dir().join(format!("plantwire-key-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k");
        let _ = std::fs::remove_file(&path);
        let key = MasterKey::generate();
        key.write_to_file(&path).unwrap();
        assert!(key.write_to_file(&path).is_err(), "must not overwrite");
        assert_eq!(MasterKey::from_file(&path).unwrap().id(), key.id());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
