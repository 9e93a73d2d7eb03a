//! On-disk cache of compiled components, keyed by the component's SHA-256 and the engine's
//! compatibility hash (wasmtime version and compilation settings).
//!
//! Cache files are native code that wasmtime maps without re-validation, so the cache
//! directory must be writable by the host alone. Access goes through one `cap-std` handle
//! opened at start-up; file names are derived from hashes, never from input.

use std::hash::{Hash, Hasher};
use std::io::Write;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use wasmtime::Engine;
use wasmtime::component::Component;

use super::LoadError;

pub(crate) struct ComponentCache {
    dir: Dir,
    compat: String,
}

impl ComponentCache {
    pub(crate) fn open(path: &std::path::Path, engine: &Engine) -> Result<Self, LoadError> {
        std::fs::create_dir_all(path)
            .map_err(|e| LoadError::Cache(format!("cannot create the cache directory: {e}")))?;
        let dir = Dir::open_ambient_dir(path, ambient_authority())
            .map_err(|e| LoadError::Cache(format!("cannot open the cache directory: {e}")))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(ComponentCache {
            dir,
            compat: format!("{:016x}", hasher.finish()),
        })
    }

    fn name(&self, digest: &str) -> String {
        format!("{digest}-{}.cwasm", self.compat)
    }

    /// The cached component, if present and loadable; a stale or corrupt entry is a miss.
    pub(crate) fn get(
        &self,
        engine: &Engine,
        digest: &str,
    ) -> Result<Option<Component>, LoadError> {
        let name = self.name(digest);
        let bytes = match self.dir.read(&name) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LoadError::Cache(format!("cannot read {name}: {e}"))),
        };
        #[expect(
            unsafe_code,
            reason = "deserializing precompiled code; the cache directory is host-owned and entries are written only by this module"
        )]
        // SAFETY: the bytes were produced by `Component::serialize` of an engine with the same
        // compatibility hash (the file name carries it); wasmtime still checks the header.
        let component = unsafe { Component::deserialize(engine, &bytes) };
        match component {
            Ok(c) => Ok(Some(c)),
            Err(e) => {
                tracing::warn!(entry = %name, "ignoring unusable cache entry: {e:#}");
                Ok(None)
            }
        }
    }

    /// Stores a compiled component (write to a temporary name, then rename into place).
    pub(crate) fn put(&self, digest: &str, component: &Component) -> Result<(), LoadError> {
        let bytes = component
            .serialize()
            .map_err(|e| LoadError::Cache(format!("cannot serialize: {e:#}")))?;
        let name = self.name(digest);
        let tmp = format!("{name}.{}.tmp", std::process::id());
        let write = || -> std::io::Result<()> {
            let mut file = self.dir.create(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            self.dir.rename(&tmp, &self.dir, &name)
        };
        write().map_err(|e| LoadError::Cache(format!("cannot write {name}: {e}")))
    }
}
