//! The self-contained demo: a MaintainX simulator on loopback, the MaintainX adapter loaded
//! from its component, and a short tour of the unified API through it.

use std::fmt::Write as _;
use std::sync::Arc;

use plantwire_simulators::maintainx::{Config as SimConfig, MaintainxSim};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

use crate::capabilities::{self, Format};
use crate::connections::{Connection, ListOptions};
use crate::egress::{Credential, Egress, EgressConfig};
use crate::registry::Registry;

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "the MaintainX adapter is not in the adapter directory (build it with `cargo xtask build`)"
    )]
    NoAdapter,
    #[error("simulator: {0}")]
    Simulator(#[from] std::io::Error),
    #[error("egress: {0}")]
    Egress(#[from] crate::egress::EgressError),
    #[error("call failed: {0}")]
    Call(#[from] crate::adapter::CallError),
    #[error("{0}")]
    Unexpected(String),
}

fn text(record: &Map<String, Value>, field: &str) -> String {
    match record.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".to_owned(),
        Some(other) => other.to_string(),
    }
}

/// Runs the tour and writes it to `out`; `pages` pages of work orders are listed.
pub async fn run(registry: &Registry, pages: usize, out: &mut String) -> Result<(), DemoError> {
    let component = registry.get("maintainx").ok_or(DemoError::NoAdapter)?;
    let sim = MaintainxSim::start(SimConfig::default()).await?;
    let _ = writeln!(out, "MaintainX simulator listening at {}\n", sim.base_url());

    let base =
        url::Url::parse(&sim.base_url()).map_err(|e| DemoError::Unexpected(e.to_string()))?;
    let mut config = EgressConfig::new(base);
    config.allow_private_network = true; // the simulator runs on loopback
    let egress = Egress::new(
        config,
        component.info().auth.clone(),
        Credential::Token(SecretString::from(sim.token().to_owned())),
    )?;
    let connection = Connection::new(
        "demo-maintainx",
        Arc::new(component.bind("demo-maintainx", Arc::new(egress))),
    );

    out.push_str(&capabilities::render(
        &[component.info()],
        None,
        Format::Table,
    ));

    let _ = writeln!(out, "Work orders, {pages} pages of 5:");
    let mut cursor = None;
    for page_no in 1..=pages {
        let page = connection
            .list(
                "work-order",
                ListOptions {
                    cursor: cursor.take(),
                    page_size: Some(5),
                    ..ListOptions::default()
                },
            )
            .await?;
        let _ = writeln!(out, "  page {page_no}:");
        for r in &page.records {
            let _ = writeln!(
                out,
                "    #{:<6} {:<12} {:<8} {}",
                text(r, "key"),
                text(r, "status"),
                text(r, "severity"),
                text(r, "title")
            );
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }

    let created = connection
        .create(
            "work-order",
            vec![json!({
                "title": "Replace drive-end bearing on conveyor C-12",
                "description": "Vibration alarm at 7.1 mm/s; bearing 6204-2RS on hand.",
                "severity": "high"
            })],
        )
        .await?;
    let record = match created.into_iter().next() {
        Some(Ok(record)) => record,
        Some(Err(e)) => return Err(DemoError::Unexpected(format!("create failed: {e}"))),
        None => return Err(DemoError::Unexpected("create returned no result".into())),
    };
    let key = text(&record, "key");
    let _ = writeln!(
        out,
        "\nCreated work order #{key} (status {}).",
        text(&record, "status")
    );

    connection
        .action(
            "work-order",
            &key,
            "change-status",
            json!({"status": "in-progress"}),
        )
        .await?;
    let _ = writeln!(out, "Changed its status to in-progress.");

    let back = connection.get("work-order", &key).await?;
    let pretty = serde_json::to_string_pretty(&Value::Object(back)).unwrap_or_default();
    let _ = writeln!(out, "Read back:\n{pretty}");

    let sent = sim.requests().len();
    let _ = writeln!(
        out,
        "\nThe simulator received {sent} requests; the adapter never saw the token."
    );
    sim.shutdown().await;
    Ok(())
}
