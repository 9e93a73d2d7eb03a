//! On-disk cache of compiled components, keyed by the component's SHA-256 and the engine's
//! compatibility hash (wasmtime version and compilation settings).
//!
//! Cache files are native code that wasmtime maps without re-validation: whoever can write
//! one can run code in the host. So the room keeps three rules:
//!
//! * **Private directory.** The directory is created with mode 0700; an existing one must be
//!   owned by the user the host runs as (else the cache is refused) and is narrowed to 0700
//!   when it is open to group or others. Entries and the key are files of mode 0600 owned by
//!   that user; an entry that is not is a miss and is replaced.
//! * **Authenticated entries.** Every entry carries an HMAC-SHA256, under a 32-byte key that
//!   only the host holds (`cache.key` in the directory, mode 0600, created on first use and
//!   replaced when it is found readable by others), over a domain tag, the component's
//!   digest, the engine's compatibility hash and the serialized bytes. The MAC is checked, in
//!   constant time, *before* the bytes reach `Component::deserialize`; a planted or modified
//!   entry (garbage, flipped bytes, or another component's valid entry renamed) is a miss,
//!   and the component is compiled again from its own bytes.
//! * **No names from input.** Access goes through one `cap-std` handle opened at start-up;
//!   file names are derived from hashes, never from input.
//!
//! This module must never deserialize bytes whose MAC it has not verified.

use std::hash::{Hash, Hasher};
use std::io::{Read, Write};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::Engine;
use wasmtime::component::Component;
use zeroize::Zeroizing;

use super::LoadError;

/// The name of the host-held MAC key inside the cache directory.
const KEY_FILE: &str = "cache.key";
/// Length of the MAC key and of the MAC.
const KEY_LEN: usize = 32;
const MAC_LEN: usize = 32;
/// The first bytes of every entry: format and version.
const MAGIC: &[u8; 8] = b"PWCACHE1";
/// Separates this MAC from any other use of the key.
const DOMAIN: &[u8] = b"plantwire compiled-component cache v1\0";

type HmacSha256 = Hmac<Sha256>;

pub(crate) struct ComponentCache {
    dir: Dir,
    compat: String,
    key: Zeroizing<[u8; KEY_LEN]>,
}

fn cache_err(what: &str, e: impl std::fmt::Display) -> LoadError {
    LoadError::Cache(format!("{what}: {e}"))
}

/// Options that create a new file readable and writable by its owner only.
fn private_new_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

impl ComponentCache {
    /// Opens (creating when missing) the cache directory at `path`, checks that it is private
    /// to this user, and loads or creates the MAC key.
    pub(crate) fn open(path: &std::path::Path, engine: &Engine) -> Result<Self, LoadError> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(path)
            .map_err(|e| cache_err("cannot create the cache directory", e))?;
        let dir = Dir::open_ambient_dir(path, ambient_authority())
            .map_err(|e| cache_err("cannot open the cache directory", e))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let mut cache = ComponentCache {
            dir,
            compat: format!("{:016x}", hasher.finish()),
            key: Zeroizing::new([0u8; KEY_LEN]),
        };
        cache.check_directory()?;
        cache.key = cache.load_or_create_key()?;
        Ok(cache)
    }

    /// The user id files created by this process get: the owner every cache file must have.
    #[cfg(unix)]
    fn own_uid(&self) -> Result<u32, LoadError> {
        use cap_std::fs::MetadataExt;
        let probe = format!(".owner-probe.{}", std::process::id());
        let _ = self.dir.remove_file(&probe);
        let file = self
            .dir
            .open_with(&probe, &private_new_file())
            .map_err(|e| cache_err("cannot write in the cache directory", e))?;
        let uid = file
            .metadata()
            .map_err(|e| cache_err("cannot stat the cache directory", e))?
            .uid();
        drop(file);
        let _ = self.dir.remove_file(&probe);
        Ok(uid)
    }

    /// Refuses a directory owned by another user; narrows a directory open to others to 0700.
    fn check_directory(&self) -> Result<(), LoadError> {
        #[cfg(unix)]
        {
            use cap_std::fs::{MetadataExt, Permissions, PermissionsExt};
            let uid = self.own_uid()?;
            let meta = self
                .dir
                .dir_metadata()
                .map_err(|e| cache_err("cannot stat the cache directory", e))?;
            if meta.uid() != uid {
                return Err(LoadError::Cache(format!(
                    "the cache directory is owned by uid {}, not by the host's uid {uid}; it must be private to the host",
                    meta.uid()
                )));
            }
            let mode = meta.mode() & 0o7777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    mode = format!("{mode:04o}"),
                    "the compiled-component cache directory was open to group or others; narrowing it to 0700"
                );
                self.dir
                    .set_permissions(".", Permissions::from_mode(0o700))
                    .map_err(|e| cache_err("cannot make the cache directory private", e))?;
            }
        }
        Ok(())
    }

    /// Whether `name` is a regular file owned by this user and private to it (0600 or
    /// narrower). Off Unix, only that it is a regular file.
    fn is_private_file(&self, name: &str) -> std::io::Result<bool> {
        let meta = self.dir.symlink_metadata(name)?;
        if !meta.is_file() {
            return Ok(false);
        }
        #[cfg(unix)]
        {
            use cap_std::fs::MetadataExt;
            let uid = self
                .own_uid()
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            if meta.uid() != uid || meta.mode() & 0o077 != 0 || meta.nlink() != 1 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Reads the MAC key; creates a fresh one when it is missing, unreadable, the wrong size,
    /// or not private (a key others could read would let them forge entries; a fresh key
    /// turns every existing entry into a miss).
    fn load_or_create_key(&self) -> Result<Zeroizing<[u8; KEY_LEN]>, LoadError> {
        let existing = match self.is_private_file(KEY_FILE) {
            Ok(true) => self.read_key(),
            Ok(false) => {
                tracing::warn!("the compiled-component cache key is not private; replacing it");
                None
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(cache_err("cannot stat the cache key", e)),
        };
        if let Some(key) = existing {
            return Ok(key);
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        {
            use chacha20poly1305::aead::OsRng;
            use chacha20poly1305::aead::rand_core::RngCore;
            OsRng.fill_bytes(&mut key[..]);
        }
        self.write_private(KEY_FILE, &key[..])
            .map_err(|e| cache_err("cannot write the cache key", e))?;
        Ok(key)
    }

    fn read_key(&self) -> Option<Zeroizing<[u8; KEY_LEN]>> {
        let mut file = self.dir.open(KEY_FILE).ok()?;
        let mut bytes = Zeroizing::new(Vec::with_capacity(KEY_LEN + 1));
        Read::by_ref(&mut file)
            .take(KEY_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return None;
        }
        key.copy_from_slice(&bytes);
        Some(key)
    }

    /// Writes `bytes` to `name` through a fresh 0600 temporary file renamed into place.
    fn write_private(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let tmp = format!("{name}.{}.tmp", std::process::id());
        let _ = self.dir.remove_file(&tmp);
        let mut file = self.dir.open_with(&tmp, &private_new_file())?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        self.dir.rename(&tmp, &self.dir, name)
    }

    fn name(&self, digest: &str) -> String {
        format!("{digest}-{}.cwasm", self.compat)
    }

    /// The MAC of one entry: domain, digest, compatibility hash and serialized bytes, each
    /// length-prefixed so no two inputs share an encoding.
    fn mac(&self, digest: &str, serialized: &[u8]) -> Result<HmacSha256, LoadError> {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key[..])
            .map_err(|e| cache_err("cache key", e))?;
        for part in [
            DOMAIN,
            digest.as_bytes(),
            self.compat.as_bytes(),
            serialized,
        ] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        Ok(mac)
    }

    /// The cached component, if present, private, authentic and loadable; anything else is
    /// a miss.
    pub(crate) fn get(
        &self,
        engine: &Engine,
        digest: &str,
    ) -> Result<Option<Component>, LoadError> {
        let name = self.name(digest);
        match self.is_private_file(&name) {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(entry = %name, "ignoring a cache entry that is not a private file of the host's user");
                return Ok(None);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(cache_err(&format!("cannot stat {name}"), e)),
        }
        let bytes = match self.dir.read(&name) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(cache_err(&format!("cannot read {name}"), e)),
        };
        let Some(serialized) = self.authentic(digest, &bytes)? else {
            tracing::warn!(entry = %name, "ignoring a cache entry that fails authentication; recompiling");
            return Ok(None);
        };
        #[expect(
            unsafe_code,
            reason = "deserializing precompiled code whose HMAC under the host-held key was verified just above"
        )]
        // SAFETY: `authentic` verified the HMAC, under a key only this host holds, over these
        // exact bytes, this component's digest and this engine's compatibility hash; so the
        // bytes are what `put` wrote from `Component::serialize` of this very component.
        let component = unsafe { Component::deserialize(engine, serialized) };
        match component {
            Ok(c) => Ok(Some(c)),
            Err(e) => {
                tracing::warn!(entry = %name, "ignoring unusable cache entry: {e:#}");
                Ok(None)
            }
        }
    }

    /// The serialized bytes of `entry` when its MAC verifies; `None` otherwise.
    fn authentic<'a>(&self, digest: &str, entry: &'a [u8]) -> Result<Option<&'a [u8]>, LoadError> {
        let Some(rest) = entry.strip_prefix(&MAGIC[..]) else {
            return Ok(None);
        };
        let Some((tag, serialized)) = rest.split_at_checked(MAC_LEN) else {
            return Ok(None);
        };
        let ok = self.mac(digest, serialized)?.verify_slice(tag).is_ok();
        Ok(ok.then_some(serialized))
    }

    /// Stores a compiled component with its MAC (written to a private temporary file, then
    /// renamed into place).
    pub(crate) fn put(&self, digest: &str, component: &Component) -> Result<(), LoadError> {
        let serialized = component
            .serialize()
            .map_err(|e| LoadError::Cache(format!("cannot serialize: {e:#}")))?;
        let tag = self.mac(digest, &serialized)?.finalize().into_bytes();
        let mut entry = Vec::with_capacity(MAGIC.len() + MAC_LEN + serialized.len());
        entry.extend_from_slice(MAGIC);
        entry.extend_from_slice(&tag);
        entry.extend_from_slice(&serialized);
        let name = self.name(digest);
        self.write_private(&name, &entry)
            .map_err(|e| cache_err(&format!("cannot write {name}"), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache in a fresh directory under the system's temporary directory.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "plantwire-cache-unit-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn engine() -> Engine {
        Engine::default()
    }

    #[test]
    fn entries_are_bound_to_their_digest_and_bytes() {
        let path = scratch("mac");
        let cache = ComponentCache::open(&path, &engine()).unwrap();
        let serialized = b"pretend native code".to_vec();
        let tag = cache
            .mac("aa", &serialized)
            .unwrap()
            .finalize()
            .into_bytes();
        let mut entry = MAGIC.to_vec();
        entry.extend_from_slice(&tag);
        entry.extend_from_slice(&serialized);
        assert_eq!(
            cache.authentic("aa", &entry).unwrap(),
            Some(&serialized[..])
        );
        // Another component's digest: refused.
        assert_eq!(cache.authentic("bb", &entry).unwrap(), None);
        // Any flipped byte, in the tag or the code: refused.
        for i in MAGIC.len()..entry.len() {
            let mut bad = entry.clone();
            bad[i] ^= 0x01;
            assert_eq!(cache.authentic("aa", &bad).unwrap(), None, "byte {i}");
        }
        // Truncated, or no header at all: refused.
        assert_eq!(cache.authentic("aa", &entry[..20]).unwrap(), None);
        assert_eq!(cache.authentic("aa", &serialized).unwrap(), None);
        // Another host's key: refused.
        let other = scratch("mac-other");
        let foreign = ComponentCache::open(&other, &engine()).unwrap();
        assert_eq!(foreign.authentic("aa", &entry).unwrap(), None);
        let _ = std::fs::remove_dir_all(&path);
        let _ = std::fs::remove_dir_all(&other);
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_and_key_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let path = scratch("private");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let first = ComponentCache::open(&path, &engine()).unwrap();
        assert_eq!(mode(&path), 0o700);
        assert_eq!(mode(&path.join(KEY_FILE)), 0o600);
        let key = *first.key;

        // Reopening keeps the key.
        assert_eq!(*ComponentCache::open(&path, &engine()).unwrap().key, key);

        // A directory opened up to others is narrowed again; a key others can read is
        // replaced (entries under the old key become misses).
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::set_permissions(path.join(KEY_FILE), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let reopened = ComponentCache::open(&path, &engine()).unwrap();
        assert_eq!(mode(&path), 0o700);
        assert_eq!(mode(&path.join(KEY_FILE)), 0o600);
        assert_ne!(*reopened.key, key);
        let _ = std::fs::remove_dir_all(&path);
    }
}
