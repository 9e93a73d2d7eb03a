//! The pager and the export over a fake system that pages in each of the styles real systems
//! use, with pages that come back short (filtered), cursors that repeat, and counting of every
//! upstream call.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use plantwire_sdk::{
    AdapterInfo, AuthScheme, EntityInfo, Field, FieldFlags, FieldType, ListRequest,
    Page as SdkPage, Support, WriteResult,
};
use time::OffsetDateTime;

use super::*;
use crate::adapter::Adapter;

/// How the fake system continues a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// An opaque cursor: the last id seen (MaintainX, UpKeep).
    Keyset,
    /// An offset (`$skip`, Fiix `startIndex`).
    Offset,
    /// A page number (Maximo `pageno`, Limble `page`).
    PageNumber,
    /// A next link (OData `__next` with `$skiptoken`, Maximo `nextPage.href`).
    NextLink,
}

struct Fake {
    info: AdapterInfo,
    style: Style,
    total: usize,
    /// Records whose id is a multiple of this are filtered out upstream (short pages).
    drop_every: Option<usize>,
    /// The page (by call number) after which the same cursor comes back forever.
    repeat_after: Option<usize>,
    /// Each continuation starts this many records before the end of the page it follows
    /// (an offset system whose windows overlap).
    overlap: usize,
    calls: AtomicUsize,
}

fn info(max_page_size: u32) -> AdapterInfo {
    let flags = FieldFlags::READ;
    AdapterInfo {
        system: "fake".into(),
        display_name: "Fake".into(),
        adapter_version: "0".into(),
        api_version: "0".into(),
        default_base_url: None,
        auth: AuthScheme::None,
        extra_origins: vec![],
        entities: vec![EntityInfo {
            name: "work-order".into(),
            native_name: "orders".into(),
            list: Support::Supported,
            get: Support::no("not here"),
            create: Support::no("not here"),
            update: Support::no("not here"),
            delete: Support::no("not here"),
            actions: vec![],
            fields: vec![
                Field::new("key", FieldType::String, flags),
                Field::new("title", FieldType::String, flags.filterable().sortable()),
                Field::new("status", FieldType::Enumeration, flags.filterable())
                    .values(&[("open", "O"), ("completed", "C")]),
                Field::new("updatedAt", FieldType::Timestamp, flags.sortable()),
                Field::new("description", FieldType::Text, flags.detail_only()),
            ],
            default_page_size: 10,
            max_page_size,
            max_batch_size: 1,
            concurrency_token: false,
            note: None,
        }],
    }
}

impl Fake {
    fn new(style: Style, total: usize) -> Fake {
        Fake {
            info: info(50),
            style,
            total,
            drop_every: None,
            repeat_after: None,
            overlap: 0,
            calls: AtomicUsize::new(0),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The ids the listing holds, in order.
    fn expected(&self) -> Vec<usize> {
        (0..self.total)
            .filter(|i| self.drop_every.is_none_or(|n| i % n != 0))
            .collect()
    }

    /// Where `cursor` starts, as an index into the unfiltered ids.
    fn start(&self, cursor: Option<&str>, size: usize) -> usize {
        let Some(c) = cursor else { return 0 };
        match self.style {
            Style::Keyset => c
                .strip_prefix("after:")
                .and_then(|v| v.parse::<usize>().ok())
                .map_or(0, |v| v + 1),
            Style::Offset => c.parse().unwrap_or(0),
            Style::PageNumber => c.parse::<usize>().map_or(0, |p| (p - 1) * size),
            Style::NextLink => c
                .split("$skiptoken=")
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        }
    }
}

#[async_trait]
impl Adapter for Fake {
    fn info(&self) -> &AdapterInfo {
        &self.info
    }

    async fn list(&self, req: ListRequest) -> Result<SdkPage, CallError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let size = req.page_size as usize;
        let start = self.start(req.cursor.as_deref(), size);
        let end = (start + size).min(self.total);
        // The upstream page covers ids start..end; filtering makes it short.
        let records = (start..end)
            .filter(|i| self.drop_every.is_none_or(|n| i % n != 0))
            .map(|i| {
                serde_json::json!({"key": i.to_string(), "title": format!("order {i}"), "status": "open"})
                    .to_string()
            })
            .collect();
        let next_cursor = if let Some(n) = self.repeat_after
            && call > n
        {
            req.cursor.clone()
        } else if end >= self.total {
            None
        } else {
            Some(match self.style {
                Style::Keyset => format!("after:{}", end - 1),
                Style::Offset => end.saturating_sub(self.overlap).to_string(),
                Style::PageNumber => (end / size + 1).to_string(),
                Style::NextLink => format!("https://fake.example/orders?$skiptoken={end}"),
            })
        };
        Ok(SdkPage {
            records,
            next_cursor,
            total: Some(self.expected().len() as u64),
        })
    }

    async fn get(&self, _: plantwire_sdk::GetRequest) -> Result<String, CallError> {
        unreachable!("not declared")
    }
    async fn create(&self, _: &str, _: Vec<String>) -> Result<Vec<WriteResult>, CallError> {
        unreachable!("not declared")
    }
    async fn update(
        &self,
        _: &str,
        _: &str,
        _: String,
        _: Option<String>,
    ) -> Result<String, CallError> {
        unreachable!("not declared")
    }
    async fn delete(&self, _: &str, _: &str) -> Result<(), CallError> {
        unreachable!("not declared")
    }
    async fn action(&self, _: &str, _: &str, _: &str, _: String) -> Result<String, CallError> {
        unreachable!("not declared")
    }
}

fn connect(fake: Fake) -> (Connection, Arc<Fake>) {
    let fake = Arc::new(fake);
    (Connection::new("conn-a", fake.clone()), fake)
}

fn pager() -> Pager {
    Pager::new(TokenSealer::ephemeral(), PagingConfig::default())
}

fn query(page_size: u32) -> Query {
    Query {
        page_size: Some(page_size),
        ..Query::default()
    }
}

fn keys(page: &Page) -> Vec<usize> {
    page.records
        .iter()
        .map(|r| r["key"].as_str().and_then(|k| k.parse().ok()).expect("key"))
        .collect()
}

/// Pages through everything with `page_size`; the keys in order and the number of pages.
async fn walk(pager: &Pager, conn: &Connection, q: &Query) -> (Vec<usize>, usize) {
    let mut all = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = pager
            .page(conn, Some("acme"), "work-order", q, token.as_deref())
            .await
            .expect("page");
        pages += 1;
        all.extend(keys(&page));
        match page.next_token {
            Some(t) => token = Some(t),
            None => return (all, pages),
        }
        assert!(pages < 10_000, "runaway");
    }
}

#[tokio::test]
async fn every_paging_style_and_page_size_gives_every_record_once_in_order() {
    for style in [
        Style::Keyset,
        Style::Offset,
        Style::PageNumber,
        Style::NextLink,
    ] {
        for drop_every in [None, Some(3), Some(2)] {
            for size in [1, 3, 7, 10, 50, 500] {
                let mut fake = Fake::new(style, 137);
                fake.drop_every = drop_every;
                let expected = fake.expected();
                let (conn, _) = connect(fake);
                let (got, pages) = walk(&pager(), &conn, &query(size)).await;
                assert_eq!(got, expected, "{style:?} drop {drop_every:?} size {size}");
                let unique: BTreeSet<_> = got.iter().collect();
                assert_eq!(unique.len(), got.len());
                // Clamped to the declared maximum of 50: never more than that per page.
                let per_page = size.min(50) as usize;
                assert!(
                    pages >= expected.len().div_ceil(per_page),
                    "{style:?} {size}"
                );
            }
        }
    }
}

#[tokio::test]
async fn short_upstream_pages_are_filled_and_a_split_page_resumes_where_it_stopped() {
    let mut fake = Fake::new(Style::Offset, 100);
    fake.drop_every = Some(2); // upstream pages of 10 hold 5 records
    let (conn, fake) = connect(fake);
    let pager = pager();
    let q = query(10);
    let first = pager
        .page(&conn, Some("acme"), "work-order", &q, None)
        .await
        .expect("page");
    assert_eq!(keys(&first), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    assert_eq!(
        fake.calls(),
        2,
        "two short upstream pages fill one caller page"
    );
    assert_eq!(first.total, Some(50));

    // Caller pages of 7 over upstream pages of 7 records each: the host splits them.
    let q = query(7);
    let mut fake = Fake::new(Style::Keyset, 30);
    fake.drop_every = Some(3);
    let expected = fake.expected();
    let (conn, _) = connect(fake);
    let (got, _) = walk(&pager, &conn, &q).await;
    assert_eq!(got, expected);
}

#[tokio::test]
async fn an_upstream_page_of_nothing_but_filtered_records_does_not_end_the_listing() {
    let mut fake = Fake::new(Style::PageNumber, 60);
    fake.drop_every = Some(1); // everything filtered out: every upstream page is empty
    let (conn, fake) = connect(fake);
    let pager = Pager::new(
        TokenSealer::ephemeral(),
        PagingConfig {
            max_fetches_per_page: 2,
            ..PagingConfig::default()
        },
    );
    let page = pager
        .page(&conn, None, "work-order", &query(10), None)
        .await
        .expect("page");
    assert!(page.records.is_empty());
    assert!(
        page.next_token.is_some(),
        "an empty page with a token is not the end"
    );
    assert_eq!(fake.calls(), 2, "bounded by max_fetches_per_page");
    let (got, _) = walk(&pager, &conn, &query(10)).await;
    assert!(got.is_empty());
}

#[tokio::test]
async fn a_token_is_refused_on_another_connection_tenant_entity_or_query_and_nothing_is_sent() {
    let (conn, fake) = connect(Fake::new(Style::Keyset, 100));
    let pager = pager();
    let q = query(10);
    let first = pager
        .page(&conn, Some("acme"), "work-order", &q, None)
        .await
        .expect("page");
    let token = first.next_token.expect("token");
    let sent = fake.calls();

    let other = Connection::new("conn-b", fake.clone());
    let err = pager
        .page(&other, Some("acme"), "work-order", &q, Some(&token))
        .await
        .expect_err("another connection");
    assert!(
        matches!(err, PagingError::Token(TokenError::OtherConnection)),
        "{err}"
    );
    let err = pager
        .page(&conn, Some("globex"), "work-order", &q, Some(&token))
        .await
        .expect_err("another tenant");
    assert!(
        matches!(err, PagingError::Token(TokenError::OtherConnection)),
        "{err}"
    );
    for changed in [
        query(11),
        Query {
            sort: Some("title".into()),
            ..query(10)
        },
        Query {
            fields: Some(vec!["title".into()]),
            ..query(10)
        },
        Query {
            filters: vec![parse_filter("status=open").expect("filter")],
            ..query(10)
        },
    ] {
        let err = pager
            .page(&conn, Some("acme"), "work-order", &changed, Some(&token))
            .await
            .expect_err("another query");
        assert!(
            matches!(err, PagingError::Token(TokenError::OtherQuery)),
            "{err}"
        );
    }
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("utf8");
    let err = pager
        .page(&conn, Some("acme"), "work-order", &q, Some(&tampered))
        .await
        .expect_err("tampered");
    assert!(
        matches!(err, PagingError::Token(TokenError::Forged)),
        "{err}"
    );
    let err = pager
        .page(&conn, Some("acme"), "work-order", &q, Some("after:9"))
        .await
        .expect_err("a raw system cursor is not a token");
    assert!(
        matches!(err, PagingError::Token(TokenError::Malformed)),
        "{err}"
    );
    let err = pager
        .page_at(
            &conn,
            Some("acme"),
            "work-order",
            &q,
            Some(&token),
            OffsetDateTime::now_utc() + time::Duration::hours(2),
        )
        .await
        .expect_err("expired");
    assert!(
        matches!(err, PagingError::Token(TokenError::Expired { .. })),
        "{err}"
    );
    assert_eq!(fake.calls(), sent, "no refused token reached the system");

    // The right token still works, and a query written in another order is the same query.
    let q1 = Query {
        filters: vec![
            parse_filter("status=open").expect("filter"),
            parse_filter("title=order 12").expect("filter"),
        ],
        ..query(10)
    };
    let q2 = Query {
        filters: q1.filters.iter().rev().cloned().collect(),
        ..query(10)
    };
    let page = pager
        .page(&conn, Some("acme"), "work-order", &q1, None)
        .await
        .expect("page");
    if let Some(t) = page.next_token {
        pager
            .page(&conn, Some("acme"), "work-order", &q2, Some(&t))
            .await
            .expect("same query, other order");
    }
}

#[tokio::test]
async fn queries_the_system_cannot_run_are_refused_before_anything_is_sent() {
    let (conn, fake) = connect(Fake::new(Style::Keyset, 10));
    let pager = pager();
    for (filters, fields, sort, needle) in [
        (vec!["nothing=1"], None, None, "has no field `nothing`"),
        (
            vec!["updatedAt>=2024-01-01T00:00:00Z"],
            None,
            None,
            "cannot filter on it",
        ),
        (vec!["title~pump"], None, None, "offers ="),
        (vec!["status=closed"], None, None, "one of: open, completed"),
        (
            vec![],
            Some(vec!["description"]),
            None,
            "not returned by list",
        ),
        (vec![], None, Some("status"), "cannot be sorted by `status`"),
        (vec![], None, Some("-nothing"), "no such field"),
    ] {
        let q = Query {
            filters: filters
                .iter()
                .map(|f| parse_filter(f).expect("parse"))
                .collect(),
            fields: fields.map(|f| f.into_iter().map(String::from).collect()),
            sort: sort.map(String::from),
            page_size: None,
            include_raw: false,
        };
        let err = pager
            .page(&conn, None, "work-order", &q, None)
            .await
            .expect_err(needle);
        assert!(err.to_string().contains(needle), "{needle}: {err}");
        assert!(Export::new(&conn, "work-order", q, PagingConfig::default()).is_err());
    }
    let err = pager
        .page(&conn, None, "asset", &query(10), None)
        .await
        .expect_err("not served");
    assert!(err.to_string().contains("does not serve `asset`"), "{err}");
    assert_eq!(fake.calls(), 0);
}

#[tokio::test]
async fn fields_are_projected_and_key_always_comes() {
    let (conn, _) = connect(Fake::new(Style::Offset, 5));
    let q = Query {
        fields: Some(vec!["title".into()]),
        ..query(5)
    };
    let page = pager()
        .page(&conn, None, "work-order", &q, None)
        .await
        .expect("page");
    for r in &page.records {
        let mut names: Vec<&str> = r.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["key", "title"]);
    }
}

#[tokio::test]
async fn a_repeated_cursor_or_the_page_cap_ends_the_listing_with_a_typed_error() {
    let mut fake = Fake::new(Style::NextLink, 1000);
    fake.repeat_after = Some(3);
    let (conn, fake) = connect(fake);
    let pager = pager();
    let q = query(10);
    let mut token = None;
    let err = loop {
        match pager
            .page(&conn, None, "work-order", &q, token.as_deref())
            .await
        {
            Ok(page) => token = Some(page.next_token.expect("not the end")),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(err, PagingError::Loop(LoopError::RepeatedCursor { .. })),
        "{err}"
    );
    assert!(fake.calls() <= 5, "{}", fake.calls());

    // A cursor that comes back after another one (A, B, A) is caught too.
    let mut position = Position::default();
    advance(&mut position, "A".into()).expect("A");
    advance(&mut position, "B".into()).expect("B");
    assert!(advance(&mut position, "A".into()).is_err());

    let (conn, _) = connect(Fake::new(Style::Offset, 1000));
    let capped = Pager::new(
        TokenSealer::ephemeral(),
        PagingConfig {
            max_pages: 4,
            ..PagingConfig::default()
        },
    );
    let mut token = None;
    let err = loop {
        match capped
            .page(&conn, None, "work-order", &q, token.as_deref())
            .await
        {
            Ok(page) => token = Some(page.next_token.expect("not the end")),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(err, PagingError::Loop(LoopError::PageCap { pages: 4 })),
        "{err}"
    );
}

#[tokio::test]
async fn an_export_streams_every_record_one_page_at_a_time() {
    for style in [
        Style::Keyset,
        Style::Offset,
        Style::PageNumber,
        Style::NextLink,
    ] {
        let mut fake = Fake::new(style, 1234);
        fake.drop_every = Some(5);
        let expected = fake.expected();
        let (conn, _) = connect(fake);
        let mut export =
            Export::new(&conn, "work-order", query(50), PagingConfig::default()).expect("export");
        let mut got = Vec::new();
        while let Some(records) = export.next_page().await.expect("page") {
            assert!(records.len() <= 50);
            got.extend(
                records
                    .iter()
                    .map(|r| r["key"].as_str().expect("key").parse::<usize>().expect("n")),
            );
        }
        assert_eq!(got, expected, "{style:?}");
        let progress = export.progress();
        assert_eq!(progress.records, expected.len() as u64);
        assert_eq!(progress.pages, 1234_u64.div_ceil(50));
        assert_eq!(progress.total, Some(expected.len() as u64));
        assert!(export.next_page().await.expect("after the end").is_none());
    }

    // A loop: the page that repeats its cursor is still returned, then the error.
    let mut fake = Fake::new(Style::Keyset, 1000);
    fake.repeat_after = Some(2);
    let (conn, _) = connect(fake);
    let mut export =
        Export::new(&conn, "work-order", query(10), PagingConfig::default()).expect("export");
    let mut pages = 0;
    let err = loop {
        match export.next_page().await {
            Ok(Some(_)) => pages += 1,
            Ok(None) => panic!("a looping system does not end"),
            Err(e) => break e,
        }
    };
    assert_eq!(pages, 3);
    assert!(
        matches!(err, PagingError::Loop(LoopError::RepeatedCursor { .. })),
        "{err}"
    );
    assert!(export.next_page().await.expect("done").is_none());
}

/// The error a listing ends with when the system's pages overlap.
fn repeats(e: &PagingError) -> bool {
    matches!(e, PagingError::Call(CallError::InvalidOutput(m)) if m.contains("a second time"))
}

#[tokio::test]
async fn a_page_repeating_records_already_returned_is_a_contract_error() {
    // Across upstream pages inside one caller page, and across caller pages (the token
    // carries the newest keys), at sizes below and above the system's page.
    for (size, upstream_pages_per_caller_page) in [(10u32, 1usize), (30, 3), (7, 1)] {
        let mut fake = Fake::new(Style::Offset, 100);
        fake.overlap = 2;
        let (conn, _) = connect(fake);
        let pager = pager();
        let q = query(size);
        let mut token: Option<String> = None;
        let mut returned = Vec::new();
        let failure = loop {
            match pager
                .page(&conn, Some("acme"), "work-order", &q, token.as_deref())
                .await
            {
                Ok(page) => {
                    returned.extend(keys(&page));
                    match page.next_token {
                        Some(t) => token = Some(t),
                        None => panic!("an overlapping listing ended without an error"),
                    }
                }
                Err(e) => break e,
            }
        };
        assert!(repeats(&failure), "{failure:?}");
        let unique: BTreeSet<usize> = returned.iter().copied().collect();
        assert_eq!(
            unique.len(),
            returned.len(),
            "nothing was returned twice: {returned:?}"
        );
        assert!(returned.len() <= 10 * upstream_pages_per_caller_page + 10);
    }
    // An export stops at the first page that repeats a record, after the pages before it.
    let mut fake = Fake::new(Style::Offset, 100);
    fake.overlap = 1;
    let (conn, _) = connect(fake);
    let mut export = Export::new(&conn, "work-order", query(10), PagingConfig::default()).unwrap();
    let first = export.next_page().await.unwrap().unwrap();
    assert_eq!(first.len(), 10);
    let e = export.next_page().await.unwrap_err();
    assert!(repeats(&e), "{e:?}");
    assert!(
        export.next_page().await.unwrap().is_none(),
        "the export has ended"
    );
    // A page that holds the same key twice.
    let mut seen = SeenKeys::new(4, &[]);
    let page = |ks: &[&str]| -> Vec<Map<String, Value>> {
        ks.iter()
            .map(|k| serde_json::json!({"key": k}).as_object().cloned().unwrap())
            .collect()
    };
    assert!(seen.admit(&page(&["a", "a"])).is_err());
    assert!(seen.admit(&page(&["a", "b"])).is_ok());
    assert!(seen.admit(&page(&["c", "b"])).is_err());
    // The memory is bounded: the oldest digests are forgotten.
    assert!(seen.admit(&page(&["c", "d", "e", "f"])).is_ok());
    assert!(seen.admit(&page(&["a"])).is_ok(), "a was forgotten");
    assert_eq!(seen.recent(2).len(), 2);
}
