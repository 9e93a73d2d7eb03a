//! Caller paging over the real adapters and their simulators, one per paging style: MaintainX
//! (an opaque cursor), Maximo (page numbers in `responseInfo.nextPage`) and SAP (server-driven
//! `__next` links with `$skiptoken`). For caller page sizes that do not match the system's
//! pages, every record comes exactly once; a token works only for the connection, entity and
//! query it was issued for; an export streams everything.

#![allow(clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

use std::collections::BTreeSet;
use std::sync::Arc;

use plantwire::paging::{
    Export, Pager, PagingConfig, PagingError, Query, TokenError, TokenSealer, parse_filter,
    write_jsonl,
};
use plantwire::sdk::AuthScheme;
use plantwire::{Connection, Credential, Egress, EgressConfig};
use plantwire_integration_tests::{connect, load, runtime};
use plantwire_simulators::maintainx::{Config as MxConfig, MaintainxSim};
use plantwire_simulators::maximo::{Config as MaximoConfig, MaximoSim};
use plantwire_simulators::sap::{Config as SapConfig, SapSim};
use secrecy::SecretString;

/// A loopback egress to `base` with `auth` and `credential`.
fn egress(base: &str, auth: AuthScheme, credential: Credential) -> Arc<Egress> {
    let mut config = EgressConfig::new(url::Url::parse(base).expect("url"));
    config.allow_private_network = true;
    Arc::new(Egress::new(config, auth, credential).expect("egress"))
}

async fn system(name: &str, id: &str, upstream: Arc<Egress>) -> Connection {
    let rt = runtime();
    let component = load(&rt, "adapter", name).await;
    connect(&component, id, upstream)
}

fn pager() -> Pager {
    Pager::new(TokenSealer::ephemeral(), PagingConfig::default())
}

/// Every key of `entity` through caller pages of `size`, in order, and the number of pages.
async fn walk(conn: &Connection, entity: &str, query: &Query) -> (Vec<String>, usize) {
    let pager = pager();
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = pager
            .page(conn, Some("acme"), entity, query, token.as_deref())
            .await
            .expect("page");
        pages += 1;
        keys.extend(
            page.records
                .iter()
                .map(|r| r["key"].as_str().expect("key").to_owned()),
        );
        match page.next_token {
            Some(t) => token = Some(t),
            None => return (keys, pages),
        }
        assert!(pages < 100_000, "runaway listing");
    }
}

fn sized(size: u32) -> Query {
    Query {
        page_size: Some(size),
        ..Query::default()
    }
}

/// Walks with several caller page sizes and checks each against the reference listing (one
/// page size the system takes whole).
async fn every_record_once(conn: &Connection, entity: &str, expected: usize, sizes: &[u32]) {
    let (reference, _) = walk(conn, entity, &sized(100)).await;
    assert_eq!(reference.len(), expected, "{entity}: the reference listing");
    let unique: BTreeSet<&String> = reference.iter().collect();
    assert_eq!(
        unique.len(),
        expected,
        "{entity}: duplicates in the reference"
    );
    for &size in sizes {
        let (keys, pages) = walk(conn, entity, &sized(size)).await;
        assert_eq!(keys, reference, "{entity}: caller pages of {size}");
        assert!(
            pages
                >= expected
                    .div_ceil(size as usize)
                    .min(expected.div_ceil(1000))
        );
    }
}

#[tokio::test]
async fn maintainx_cursor_paging_gives_every_record_once_at_any_caller_page_size() {
    let sim = MaintainxSim::start(MxConfig {
        work_orders: 457,
        ..MxConfig::default()
    })
    .await
    .expect("sim");
    let conn = system(
        "maintainx",
        "mx",
        egress(
            &sim.base_url(),
            AuthScheme::Bearer,
            Credential::Token(SecretString::from(sim.token().to_owned())),
        ),
    )
    .await;
    every_record_once(&conn, "work-order", 457, &[7, 64, 5000]).await;
}

#[tokio::test]
async fn maximo_page_numbers_give_every_record_once_at_any_caller_page_size() {
    let sim = MaximoSim::start(MaximoConfig {
        work_orders: 433,
        ..MaximoConfig::default()
    })
    .await
    .expect("sim");
    let conn = system(
        "maximo",
        "maximo",
        egress(
            &sim.base_url(),
            AuthScheme::ApiKeyHeader("apikey".into()),
            Credential::Token(SecretString::from(sim.apikey().to_owned())),
        ),
    )
    .await;
    every_record_once(&conn, "work-order", 433, &[9, 150]).await;
}

#[tokio::test]
async fn sap_next_links_give_every_record_once_at_any_caller_page_size() {
    let sim = SapSim::start(SapConfig {
        maintenance_orders: 421,
        page_size: 40, // SAP's server-driven pages are smaller than the caller's
        ..SapConfig::default()
    })
    .await
    .expect("sim");
    let conn = system(
        "sap-s4hana",
        "sap",
        egress(
            &sim.base_url(),
            AuthScheme::Basic,
            Credential::Basic {
                user: sim.user().to_owned(),
                password: SecretString::from(sim.password().to_owned()),
            },
        ),
    )
    .await;
    every_record_once(&conn, "work-order", 421, &[11, 250]).await;
}

#[tokio::test]
async fn a_token_is_refused_elsewhere_before_anything_reaches_the_system() {
    let sim = MaintainxSim::start(MxConfig {
        work_orders: 50,
        ..MxConfig::default()
    })
    .await
    .expect("sim");
    let upstream = egress(
        &sim.base_url(),
        AuthScheme::Bearer,
        Credential::Token(SecretString::from(sim.token().to_owned())),
    );
    let a = system("maintainx", "conn-a", upstream.clone()).await;
    let b = system("maintainx", "conn-b", upstream).await;
    let pager = pager();
    let query = sized(10);
    let first = pager
        .page(&a, Some("acme"), "work-order", &query, None)
        .await
        .expect("page");
    let token = first.next_token.expect("more pages");
    let sent = sim.requests().len();

    let refusals: Vec<(PagingError, &str)> = vec![
        (
            pager
                .page(&b, Some("acme"), "work-order", &query, Some(&token))
                .await
                .expect_err("another connection"),
            "another connection",
        ),
        (
            pager
                .page(&a, Some("acme"), "asset", &query, Some(&token))
                .await
                .expect_err("another entity"),
            "another entity",
        ),
        (
            pager
                .page(&a, Some("acme"), "work-order", &sized(20), Some(&token))
                .await
                .expect_err("another query"),
            "another query",
        ),
        (
            Pager::new(TokenSealer::ephemeral(), PagingConfig::default())
                .page(&a, Some("acme"), "work-order", &query, Some(&token))
                .await
                .expect_err("another host key"),
            "not valid",
        ),
    ];
    for (err, needle) in refusals {
        assert!(matches!(err, PagingError::Token(_)), "{err}");
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    let err = pager
        .page(
            &a,
            Some("acme"),
            "work-order",
            &query,
            Some("cursor-from-elsewhere"),
        )
        .await
        .expect_err("garbage");
    assert!(
        matches!(err, PagingError::Token(TokenError::Malformed)),
        "{err}"
    );
    assert_eq!(
        sim.requests().len(),
        sent,
        "nothing was sent for a refused token"
    );

    let next = pager
        .page(&a, Some("acme"), "work-order", &query, Some(&token))
        .await
        .expect("the right place");
    assert_eq!(next.records.len(), 10);
}

#[tokio::test]
async fn an_export_streams_filtered_selected_records_as_json_lines() {
    let sim = MaximoSim::start(MaximoConfig {
        work_orders: 333,
        ..MaximoConfig::default()
    })
    .await
    .expect("sim");
    let conn = system(
        "maximo",
        "maximo",
        egress(
            &sim.base_url(),
            AuthScheme::ApiKeyHeader("apikey".into()),
            Credential::Token(SecretString::from(sim.apikey().to_owned())),
        ),
    )
    .await;
    let query = Query {
        filters: vec![parse_filter("status=open").expect("filter")],
        fields: Some(vec!["title".into(), "status".into()]),
        sort: None,
        page_size: Some(25),
        include_raw: false,
    };
    // The reference: the same query through caller pages.
    let (expected, _) = walk(&conn, "work-order", &query).await;
    assert!(!expected.is_empty() && expected.len() < 333);

    let mut export =
        Export::new(&conn, "work-order", query, PagingConfig::default()).expect("export");
    let mut out = Vec::new();
    let mut seen_pages = Vec::new();
    let summary = write_jsonl(&mut export, &mut out, |p| seen_pages.push(p.pages))
        .await
        .expect("export");
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), expected.len());
    assert_eq!(summary.records as usize, expected.len());
    assert_eq!(seen_pages.len() as u64, summary.pages);
    for (line, key) in lines.iter().zip(&expected) {
        assert_eq!(line["key"], key.as_str());
        assert_eq!(line["status"], "open");
        let mut names: Vec<&str> = line
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["key", "status", "title"]);
    }
}
