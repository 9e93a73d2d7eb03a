//! Helpers shared by the tests that drive the `plantwire` binary: where the built components
//! are, a scratch directory per test, and what one run of the binary printed.

#![allow(
    dead_code,
    reason = "each test binary uses a part of the shared helpers"
)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The cargo target directory.
pub fn target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The adapter components (`PLANTWIRE_ADAPTERS`, or `<target>/adapters`).
pub fn adapters() -> PathBuf {
    std::env::var_os("PLANTWIRE_ADAPTERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| target().join("adapters"))
}

/// The test fixture components (`PLANTWIRE_FIXTURES`, or `<target>/fixtures`).
pub fn fixtures() -> PathBuf {
    std::env::var_os("PLANTWIRE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| target().join("fixtures"))
}

/// A fresh directory for one test, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// `<tmp>/plantwire-<name>-<pid>-<n>`; `n` makes each call unique in a process.
    pub fn new(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "plantwire-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Standard output then standard error.
    pub fn both(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}
