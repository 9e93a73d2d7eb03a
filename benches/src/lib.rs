//! Shared pieces of the benchmarks: locating built components and a canned upstream, so that
//! a benchmark measures the host and the mapping, not a network.

use std::path::PathBuf;

use async_trait::async_trait;
use plantwire::Upstream;
use plantwire::sdk::{HttpError, Request, Response};

/// Reads a built adapter component (built by `cargo xtask bench`).
pub fn adapter_bytes(name: &str) -> std::io::Result<Vec<u8>> {
    let dir = std::env::var_os("PLANTWIRE_ADAPTERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/adapters"));
    std::fs::read(dir.join(format!("{name}.wasm")))
}

/// An upstream that answers every request with the same response.
#[derive(Debug, Clone)]
pub struct Canned {
    pub response: Response,
}

impl Canned {
    /// A 200 JSON response with `body`.
    pub fn json(body: Vec<u8>) -> Canned {
        Canned {
            response: Response {
                status: 200,
                headers: vec![("content-type".to_owned(), "application/json".to_owned())],
                body,
            },
        }
    }
}

#[async_trait]
impl Upstream for Canned {
    async fn send(&self, _req: Request) -> Result<Response, HttpError> {
        Ok(self.response.clone())
    }
}

/// Reads criterion's point estimate (mean, ns) of one benchmark from its output directory.
pub fn estimate_ns(target: &std::path::Path, group: &str, name: &str) -> Option<f64> {
    let path = target
        .join("criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("median")?.get("point_estimate")?.as_f64()
}
