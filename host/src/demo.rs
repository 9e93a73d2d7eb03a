//! The self-contained demo: simulators of MaintainX, IBM Maximo and SAP S/4HANA on loopback,
//! each system's adapter loaded from its component, and a short tour of the unified API
//! through each: the same calls, three very different APIs underneath.

use std::fmt::Write as _;
use std::sync::Arc;

use plantwire_simulators::maintainx::{Config as SimConfig, MaintainxSim};
use plantwire_simulators::maximo::{Config as MaximoConfig, MaximoSim};
use plantwire_simulators::sap::{Config as SapConfig, SapSim};
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
        "the `{0}` adapter is not in the adapter directory (build it with `cargo xtask build`)"
    )]
    NoAdapter(&'static str),
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

/// A connection named `id` through `system`'s adapter to a simulator at `base_url` (on
/// loopback, hence the private-network allowance), with `credential` held by the host.
fn connect(
    registry: &Registry,
    system: &'static str,
    id: &str,
    base_url: &str,
    credential: Credential,
) -> Result<(Connection, plantwire_sdk::AdapterInfo), DemoError> {
    let component = registry.get(system).ok_or(DemoError::NoAdapter(system))?;
    let base = url::Url::parse(base_url).map_err(|e| DemoError::Unexpected(e.to_string()))?;
    let mut config = EgressConfig::new(base);
    config.allow_private_network = true; // the simulators run on loopback
    let egress = Egress::new(config, component.info().auth.clone(), credential)?;
    let connection = Connection::new(id, Arc::new(component.bind(id, Arc::new(egress))));
    Ok((connection, component.info().clone()))
}

/// Lists the first five work orders matching `filters` and prints `columns` of each under
/// `heading`, with the total when the system reports it.
async fn first_five(
    connection: &Connection,
    filters: Vec<plantwire_sdk::Filter>,
    heading: &str,
    columns: [&str; 4],
    out: &mut String,
) -> Result<(), DemoError> {
    let page = connection
        .list(
            "work-order",
            ListOptions {
                page_size: Some(5),
                filters,
                ..ListOptions::default()
            },
        )
        .await?;
    let total = page.total.map_or_else(|| "?".to_owned(), |t| t.to_string());
    let _ = writeln!(out, "{heading}, first 5 of {total}:");
    for r in &page.records {
        let [a, b, c, d] = columns.map(|c| text(r, c));
        let _ = writeln!(out, "    {a:<16} {b:<12} {c:<8} {d}");
    }
    Ok(())
}

/// The first result of a create call, or why there is none.
fn first_created(
    results: Vec<crate::connections::RecordResult>,
) -> Result<Map<String, Value>, DemoError> {
    match results.into_iter().next() {
        Some(Ok(record)) => Ok(record),
        Some(Err(e)) => Err(DemoError::Unexpected(format!("create failed: {e}"))),
        None => Err(DemoError::Unexpected("create returned no result".into())),
    }
}

/// Runs the tour and writes it to `out`; `pages` pages of MaintainX work orders are listed.
pub async fn run(registry: &Registry, pages: usize, out: &mut String) -> Result<(), DemoError> {
    // Every adapter is checked before any simulator starts.
    for system in ["maintainx", "maximo", "sap-s4hana"] {
        if registry.get(system).is_none() {
            return Err(DemoError::NoAdapter(system));
        }
    }
    maintainx(registry, pages, out).await?;
    maximo(registry, out).await?;
    sap(registry, out).await?;
    let _ = writeln!(
        out,
        "\n== Side by side ==\n\n{}",
        capabilities::render(
            &[
                registry
                    .get("maintainx")
                    .ok_or(DemoError::NoAdapter("maintainx"))?
                    .info(),
                registry
                    .get("maximo")
                    .ok_or(DemoError::NoAdapter("maximo"))?
                    .info(),
                registry
                    .get("sap-s4hana")
                    .ok_or(DemoError::NoAdapter("sap-s4hana"))?
                    .info(),
            ],
            Some("work-order"),
            Format::Table,
        )
    );
    Ok(())
}

async fn maintainx(registry: &Registry, pages: usize, out: &mut String) -> Result<(), DemoError> {
    let sim = MaintainxSim::start(SimConfig::default()).await?;
    let _ = writeln!(
        out,
        "== MaintainX ==\n\nSimulator listening at {}\n",
        sim.base_url()
    );
    let (connection, info) = connect(
        registry,
        "maintainx",
        "demo-maintainx",
        &sim.base_url(),
        Credential::Token(SecretString::from(sim.token().to_owned())),
    )?;

    out.push_str(&capabilities::render(&[&info], None, Format::Table));

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
    let record = first_created(created)?;
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

/// IBM Maximo: OSLC paging, a BULK create, a status change through `wsmethod:changeStatus`,
/// and a concurrency token that goes stale.
async fn maximo(registry: &Registry, out: &mut String) -> Result<(), DemoError> {
    let sim = MaximoSim::start(MaximoConfig::default()).await?;
    let _ = writeln!(
        out,
        "\n== IBM Maximo ==\n\nSimulator listening at {}\n",
        sim.base_url()
    );
    let (connection, _) = connect(
        registry,
        "maximo",
        "demo-maximo",
        &sim.base_url(),
        Credential::Token(SecretString::from(sim.apikey().to_owned())),
    )?;

    first_five(
        &connection,
        vec![plantwire_sdk::Filter::eq("status", "open")],
        "Open work orders (filter pushed down into oslc.where)",
        ["key", "status", "nativeStatus", "title"],
        out,
    )
    .await?;

    let created = connection
        .create(
            "work-order",
            vec![
                json!({"title": "Inspect cooling tower fan gearbox", "siteKey": "BEDFORD"}),
                json!({"title": "Calibrate flow meter FT-204", "siteKey": "BEDFORD"}),
            ],
        )
        .await?;
    let _ = writeln!(
        out,
        "\nCreated {} work orders in one BULK request:",
        created.len()
    );
    let mut keys = Vec::new();
    for result in created {
        match result {
            Ok(r) => {
                let _ = writeln!(
                    out,
                    "    {:<16} {:<8} {}",
                    text(&r, "key"),
                    text(&r, "nativeStatus"),
                    text(&r, "title")
                );
                keys.push((text(&r, "key"), text(&r, "concurrencyToken")));
            }
            Err(e) => return Err(DemoError::Unexpected(format!("create failed: {e}"))),
        }
    }
    let (key, token) = keys
        .into_iter()
        .next()
        .ok_or_else(|| DemoError::Unexpected("create returned no result".into()))?;

    let done = connection
        .action(
            "work-order",
            &key,
            "change-status",
            json!({"nativeStatus": "INPRG", "memo": "crew dispatched"}),
        )
        .await?;
    let _ = writeln!(
        out,
        "Changed {key} to {} through wsmethod:changeStatus.",
        text(&done, "nativeStatus")
    );
    match connection
        .update(
            "work-order",
            &key,
            json!({"description": "edited with an old copy"}),
            Some(token),
        )
        .await
    {
        Err(e) => {
            let _ = writeln!(
                out,
                "An update with the concurrency token read before the change is refused: {e}"
            );
        }
        Ok(_) => {
            return Err(DemoError::Unexpected(
                "a stale concurrency token was accepted".into(),
            ));
        }
    }
    sim.shutdown().await;
    Ok(())
}

/// SAP S/4HANA: OData server-driven paging, a `$batch` create, a release through a function
/// import, and the refusals SAP's service metadata declares.
async fn sap(registry: &Registry, out: &mut String) -> Result<(), DemoError> {
    let sim = SapSim::start(SapConfig::default()).await?;
    let _ = writeln!(
        out,
        "\n== SAP S/4HANA ==\n\nSimulator listening at {}\n",
        sim.base_url()
    );
    let (connection, _) = connect(
        registry,
        "sap-s4hana",
        "demo-sap",
        &sim.base_url(),
        Credential::Basic {
            user: sim.user().to_owned(),
            password: SecretString::from(sim.password().to_owned()),
        },
    )?;

    first_five(
        &connection,
        Vec::new(),
        "Maintenance orders",
        ["key", "status", "siteKey", "title"],
        out,
    )
    .await?;

    let order = |title: &str| {
        json!({
            "title": title,
            "siteKey": "1010",
            "teamKey": "MECHANIK",
            "severity": "high",
            "customFields": {"MaintenanceOrderType": "PM01"}
        })
    };
    let created = connection
        .create(
            "work-order",
            vec![
                order("Replace mechanical seal on pump P-101"),
                order("Check coupling alignment on P-102"),
            ],
        )
        .await?;
    let _ = writeln!(
        out,
        "\nCreated {} maintenance orders in one $batch (one change set each).",
        created.len()
    );
    let record = first_created(created)?;
    let key = text(&record, "key");
    let released = connection
        .action(
            "work-order",
            &key,
            "change-status",
            json!({"status": "in-progress"}),
        )
        .await?;
    let _ = writeln!(
        out,
        "Released order {key}: status {} ({}).",
        text(&released, "status"),
        text(&released, "nativeStatus")
    );
    match connection.delete("work-order", &key).await {
        Err(e) => {
            let _ = writeln!(out, "Deleting it is refused before SAP is called: {e}");
        }
        Ok(()) => {
            return Err(DemoError::Unexpected(
                "a maintenance order was deleted".into(),
            ));
        }
    }
    let sent = sim.requests().len();
    let _ = writeln!(
        out,
        "The simulator received {sent} requests (CSRF token fetch and session cookie included); \
         the adapter never saw the password or the cookie."
    );
    sim.shutdown().await;
    Ok(())
}
