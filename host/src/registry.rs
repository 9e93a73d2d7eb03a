//! The adapter registry: loads every component of an adapter directory, keeps them by system
//! id, and serves the capability catalogue. A component that fails to load is reported with
//! its file name and does not stop the others.

use std::collections::BTreeMap;
use std::path::Path;

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use crate::runtime::{AdapterComponent, LoadError, Runtime};

/// Why a registry could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The adapter directory cannot be read.
    #[error("cannot read the adapter directory: {0}")]
    Directory(#[source] std::io::Error),
    /// Two components declare the same system id.
    #[error("two adapters declare the system `{system}`: {first} and {second}")]
    Duplicate {
        system: String,
        first: String,
        second: String,
    },
}

/// Loaded adapters by system id.
#[derive(Debug, Default)]
pub struct Registry {
    adapters: BTreeMap<String, (String, AdapterComponent)>,
    failures: Vec<(String, LoadError)>,
}

impl Registry {
    /// Loads every `*.wasm` file of `dir` (not recursive). Files are opened through one
    /// directory handle; names never leave it.
    pub async fn load_dir(runtime: &Runtime, dir: &Path) -> Result<Registry, RegistryError> {
        let handle =
            Dir::open_ambient_dir(dir, ambient_authority()).map_err(RegistryError::Directory)?;
        let mut names: Vec<String> = Vec::new();
        for entry in handle.entries().map_err(RegistryError::Directory)? {
            let entry = entry.map_err(RegistryError::Directory)?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.ends_with(".wasm")
                && entry
                    .file_type()
                    .map_err(RegistryError::Directory)?
                    .is_file()
            {
                names.push(name);
            }
        }
        names.sort();
        let mut registry = Registry::default();
        for name in names {
            let bytes = handle.read(&name).map_err(RegistryError::Directory)?;
            match runtime.load(&bytes).await {
                Ok(component) => registry.insert(name, component)?,
                Err(e) => registry.failures.push((name, e)),
            }
        }
        Ok(registry)
    }

    /// Adds a loaded component under the file (or other) name it came from.
    pub fn insert(
        &mut self,
        origin: String,
        component: AdapterComponent,
    ) -> Result<(), RegistryError> {
        let system = component.info().system.clone();
        if let Some((first, _)) = self.adapters.get(&system) {
            return Err(RegistryError::Duplicate {
                system,
                first: first.clone(),
                second: origin,
            });
        }
        self.adapters.insert(system, (origin, component));
        Ok(())
    }

    /// The adapter for a system id.
    pub fn get(&self, system: &str) -> Option<&AdapterComponent> {
        self.adapters.get(system).map(|(_, c)| c)
    }

    /// All adapters, by system id.
    pub fn adapters(&self) -> impl Iterator<Item = &AdapterComponent> {
        self.adapters.values().map(|(_, c)| c)
    }

    /// System ids, sorted.
    pub fn systems(&self) -> Vec<&str> {
        self.adapters.keys().map(String::as_str).collect()
    }

    /// Files that did not load, with the reason.
    pub fn failures(&self) -> &[(String, LoadError)] {
        &self.failures
    }
}
