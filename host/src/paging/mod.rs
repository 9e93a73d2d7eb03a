//! Reads at scale: one opaque continuation token for callers whatever the system's own paging
//! style, loop guards, and streaming exports whose memory is bounded by one page.
//!
//! * [`Pager::page`] serves one caller page. The caller's page size is clamped to the
//!   entity's declared limits; the host reads as many upstream pages as it takes to fill the
//!   page (a system whose pages come back short after filtering), and when it stops inside an
//!   upstream page the token remembers how many of that page's records were already handed
//!   out, so nothing is lost or repeated. The token ([`token`]) is sealed and bound to the
//!   tenant, connection, entity and query; a forged, expired or misapplied one is refused
//!   before anything is sent upstream.
//! * [`Export`] walks every record, one upstream page at a time, for `plantwire export` and
//!   bulk reads.
//! * Both stop with a [`LoopError`] when a system hands back a cursor it already gave (a
//!   listing that would never end) or a listing runs past the page cap.
//! * Both refuse a page holding a record the listing already returned ([`SeenKeys`]): a
//!   system whose own paging overlaps (an offset window read twice, a cursor that restarts)
//!   is a contract error, not duplicates passed on silently.

pub mod query;
pub mod token;

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use serde_json::{Map, Value};
use time::OffsetDateTime;

pub use query::{Filter, FilterOp, Query, QueryError, parse_filter};
pub use token::{Binding, Position, TokenError, TokenSealer};

use crate::adapter::CallError;
use crate::connections::{Connection, ListOptions, RecordPage};
use plantwire_sdk::{AdapterError, EntityInfo, Operation};

/// Why a listing stopped although the system did not say it was done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoopError {
    #[error(
        "the system returned a continuation it had already returned (cursor digest {digest}): the listing would never end"
    )]
    RepeatedCursor { digest: String },
    #[error(
        "the listing read {pages} upstream pages, the configured cap (`PagingConfig::max_pages`); narrow the query or raise the cap"
    )]
    PageCap { pages: u64 },
}

/// Why a page could not be served.
#[derive(Debug, thiserror::Error)]
pub enum PagingError {
    /// The continuation token was refused (HTTP 400); nothing was sent.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The query was refused (HTTP 400); nothing was sent.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The system misbehaved; what was already returned stands.
    #[error(transparent)]
    Loop(#[from] LoopError),
    /// The call failed.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// Key digests a continuation token carries from one caller page to the next.
pub const TOKEN_KEYS: usize = 64;

/// Key digests one listing remembers in memory (an export, or one caller page's upstream
/// reads): 100,000 digests are about 3 MiB.
pub const REMEMBERED_KEYS: usize = 100_000;

/// The keys a listing has returned, as 64-bit digests (FNV-1a: fast, and stable across
/// processes so that tokens carry them), to refuse a page that repeats one.
///
/// The memory is bounded: the newest [`REMEMBERED_KEYS`] digests in one process, the newest
/// [`TOKEN_KEYS`] across caller pages. A repeat of a record returned longer ago than that is
/// not detected (duplicates from overlapping pages repeat recent records: the rows on either
/// side of a page boundary).
#[derive(Debug)]
pub struct SeenKeys {
    order: VecDeque<u64>,
    set: HashSet<u64>,
    capacity: usize,
}

impl SeenKeys {
    /// A guard remembering at most `capacity` keys, starting with `recent` (oldest first).
    pub fn new(capacity: usize, recent: &[u64]) -> SeenKeys {
        let mut seen = SeenKeys {
            order: VecDeque::new(),
            set: HashSet::new(),
            capacity: capacity.max(1),
        };
        for d in recent {
            seen.remember(*d);
        }
        seen
    }

    fn digest(key: &str) -> u64 {
        key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    fn remember(&mut self, digest: u64) {
        if self.set.insert(digest) {
            self.order.push_back(digest);
            if self.order.len() > self.capacity
                && let Some(old) = self.order.pop_front()
            {
                self.set.remove(&old);
            }
        }
    }

    /// Checks the keys of `records` (a page about to be returned) against those returned
    /// before and against each other, then remembers them. Records without a string `key`
    /// are not checked (the connection has refused them already).
    pub fn admit(&mut self, records: &[Map<String, Value>]) -> Result<(), CallError> {
        let mut page = HashSet::with_capacity(records.len());
        for record in records {
            let Some(key) = record.get("key").and_then(Value::as_str) else {
                continue;
            };
            let digest = SeenKeys::digest(key);
            if self.set.contains(&digest) || !page.insert(digest) {
                return Err(CallError::InvalidOutput(format!(
                    "the listing returned the record with key `{key}` a second time: the \
                     system's paging overlaps, and the listing stops rather than pass on \
                     duplicates"
                )));
            }
        }
        for record in records {
            if let Some(key) = record.get("key").and_then(Value::as_str) {
                self.remember(SeenKeys::digest(key));
            }
        }
        Ok(())
    }

    /// The newest `n` digests, oldest first (for a continuation token).
    pub fn recent(&self, n: usize) -> Vec<u64> {
        let skip = self.order.len().saturating_sub(n);
        self.order.iter().skip(skip).copied().collect()
    }
}

/// Limits of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagingConfig {
    /// Upstream pages one listing may read in all.
    pub max_pages: u64,
    /// Upstream pages one caller page may read to fill itself; a page that is still short
    /// then is returned short, with a token (only a missing token means the end).
    pub max_fetches_per_page: u32,
}

impl Default for PagingConfig {
    fn default() -> Self {
        PagingConfig {
            max_pages: 100_000,
            max_fetches_per_page: 20,
        }
    }
}

/// One caller page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub records: Vec<Map<String, Value>>,
    /// Pass it back for the next page; `None` on the last page.
    pub next_token: Option<String>,
    /// Total records matching, when the system reports it.
    pub total: Option<u64>,
}

/// The declaration of `entity` on `connection`, if it can be listed.
fn listable<'c>(connection: &'c Connection, entity: &str) -> Result<&'c EntityInfo, PagingError> {
    let info = connection.info();
    let decl = info.entity(entity).ok_or_else(|| {
        CallError::Refused(AdapterError::Unsupported(format!(
            "{} does not serve `{entity}`",
            info.display_name
        )))
    })?;
    if let plantwire_sdk::Support::Unsupported(reason) = decl.support(Operation::List) {
        return Err(CallError::Refused(AdapterError::Unsupported(format!(
            "{} cannot list {entity}: {reason}",
            info.display_name
        )))
        .into());
    }
    Ok(decl)
}

/// The list options of one upstream read at `cursor`: every filter is pushed down (the
/// query was checked against the declared operators); the connection removes unrequested
/// fields.
fn options(query: &Query, page_size: u32, cursor: Option<String>) -> ListOptions {
    ListOptions {
        cursor,
        page_size: Some(page_size),
        filters: query.filters.clone(),
        sort: query.sort.clone(),
        fields: query.fields.clone().unwrap_or_default(),
        include_raw: query.include_raw,
    }
}

/// Advances `position` past a fully read upstream page whose continuation is `next`;
/// refuses a continuation seen before.
fn advance(position: &mut Position, next: String) -> Result<(), LoopError> {
    let digest = token::cursor_digest(&next);
    let current = position.cursor.as_deref().map(token::cursor_digest);
    if current.as_deref() == Some(digest.as_str()) || position.recent.contains(&digest) {
        return Err(LoopError::RepeatedCursor { digest });
    }
    if let Some(current) = current {
        position.recent.push(current);
        if position.recent.len() > token::RECENT_CURSORS {
            position.recent.remove(0);
        }
    }
    position.cursor = Some(next);
    position.skip = 0;
    Ok(())
}

/// Serves caller pages with sealed continuation tokens.
#[derive(Debug)]
pub struct Pager {
    sealer: TokenSealer,
    config: PagingConfig,
}

impl Pager {
    /// A pager sealing its tokens with `sealer`.
    pub fn new(sealer: TokenSealer, config: PagingConfig) -> Pager {
        Pager { sealer, config }
    }

    /// One page of `entity` on `connection` for `query`, continuing from `token` (the first
    /// page when `None`). `tenant` is the caller's tenant, which the token is bound to.
    pub async fn page(
        &self,
        connection: &Connection,
        tenant: Option<&str>,
        entity: &str,
        query: &Query,
        token: Option<&str>,
    ) -> Result<Page, PagingError> {
        self.page_at(
            connection,
            tenant,
            entity,
            query,
            token,
            OffsetDateTime::now_utc(),
        )
        .await
    }

    /// [`Pager::page`] at the time `now` (for tests of expiry).
    pub async fn page_at(
        &self,
        connection: &Connection,
        tenant: Option<&str>,
        entity: &str,
        query: &Query,
        token: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Page, PagingError> {
        let decl = listable(connection, entity)?;
        query.validate(decl)?;
        let binding = Binding {
            tenant: tenant.map(str::to_owned),
            connection: connection.id().to_owned(),
            entity: entity.to_owned(),
            query: query.fingerprint(decl),
        };
        let mut position = match token {
            Some(t) => self.sealer.open(t, &binding, now)?,
            None => Position::default(),
        };
        let want = query.effective_page_size(decl) as usize;
        let mut seen = SeenKeys::new(REMEMBERED_KEYS, &position.seen);
        let mut records = Vec::with_capacity(want);
        let mut total = None;
        let mut fetches = 0u32;
        let done = loop {
            if position.pages >= self.config.max_pages {
                return Err(LoopError::PageCap {
                    pages: position.pages,
                }
                .into());
            }
            let RecordPage {
                records: upstream,
                next_cursor,
                total: upstream_total,
            } = connection
                .list(entity, options(query, want as u32, position.cursor.clone()))
                .await?;
            position.pages += 1;
            fetches += 1;
            total = total.or(upstream_total);
            let skip = (position.skip as usize).min(upstream.len());
            let room = want - records.len();
            let available = upstream.len() - skip;
            let take = available.min(room);
            let taken: Vec<Map<String, Value>> =
                upstream.into_iter().skip(skip).take(take).collect();
            seen.admit(&taken)?;
            records.extend(taken);
            if take < available {
                // The caller page is full inside this upstream page: come back to it.
                position.skip = u32::try_from(skip + take).unwrap_or(u32::MAX);
                break false;
            }
            match next_cursor {
                None => break true,
                Some(next) => advance(&mut position, next)?,
            }
            if records.len() == want || fetches >= self.config.max_fetches_per_page.max(1) {
                break false;
            }
        };
        position.seen = seen.recent(TOKEN_KEYS);
        let next_token = (!done).then(|| self.sealer.seal(&binding, &position, now));
        Ok(Page {
            records,
            next_token,
            total,
        })
    }

    /// How long the tokens this pager issues stay valid.
    pub fn token_ttl(&self) -> Duration {
        self.sealer.ttl()
    }
}

/// Progress of an export, after each page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub records: u64,
    pub pages: u64,
    /// Total records matching, when the system reports it.
    pub total: Option<u64>,
}

/// Every record of a listing, one upstream page at a time: memory is bounded by one page.
#[derive(Debug)]
pub struct Export<'c> {
    connection: &'c Connection,
    entity: String,
    query: Query,
    page_size: u32,
    config: PagingConfig,
    position: Position,
    progress: Progress,
    done: bool,
    /// A loop detected after a page whose records were still returned.
    pending: Option<LoopError>,
    /// Keys returned so far.
    seen: SeenKeys,
}

impl<'c> Export<'c> {
    /// An export of `entity` on `connection` for `query`; the query is checked here, before
    /// anything is sent.
    pub fn new(
        connection: &'c Connection,
        entity: &str,
        query: Query,
        config: PagingConfig,
    ) -> Result<Export<'c>, PagingError> {
        let decl = listable(connection, entity)?;
        query.validate(decl)?;
        let page_size = query.effective_page_size(decl);
        Ok(Export {
            connection,
            entity: entity.to_owned(),
            query,
            page_size,
            config,
            position: Position::default(),
            progress: Progress::default(),
            done: false,
            pending: None,
            seen: SeenKeys::new(REMEMBERED_KEYS, &[]),
        })
    }

    /// The next page's records; `None` when the listing is complete.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Map<String, Value>>>, PagingError> {
        if let Some(e) = self.pending.take() {
            return Err(e.into());
        }
        if self.done {
            return Ok(None);
        }
        if self.position.pages >= self.config.max_pages {
            self.done = true;
            return Err(LoopError::PageCap {
                pages: self.position.pages,
            }
            .into());
        }
        let page = self
            .connection
            .list(
                &self.entity,
                options(&self.query, self.page_size, self.position.cursor.clone()),
            )
            .await;
        let RecordPage {
            records,
            next_cursor,
            total,
        } = match page {
            Ok(p) => p,
            Err(e) => {
                self.done = true;
                return Err(e.into());
            }
        };
        self.position.pages += 1;
        if let Err(e) = self.seen.admit(&records) {
            self.done = true;
            return Err(e.into());
        }
        self.progress.pages += 1;
        self.progress.records += records.len() as u64;
        self.progress.total = self.progress.total.or(total);
        match next_cursor {
            None => self.done = true,
            Some(next) => {
                // The page itself is good: it is returned, and the loop reported next.
                if let Err(e) = advance(&mut self.position, next) {
                    self.done = true;
                    self.pending = Some(e);
                }
            }
        }
        Ok(Some(records))
    }

    /// Records and pages read so far.
    pub fn progress(&self) -> Progress {
        self.progress
    }
}

#[cfg(test)]
mod tests;

/// What [`write_jsonl`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub records: u64,
    pub pages: u64,
}

/// Writes every record of `export` to `out` as JSON Lines (one object per line), page by
/// page, calling `on_page` after each page is written; memory holds one page at a time.
/// An error after some pages leaves those pages written (and flushed).
pub async fn write_jsonl(
    export: &mut Export<'_>,
    out: &mut (dyn std::io::Write + Send),
    mut on_page: impl FnMut(Progress) + Send,
) -> Result<ExportSummary, ExportError> {
    let mut line = Vec::with_capacity(1024);
    loop {
        let page = match export.next_page().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(e) => {
                out.flush().map_err(ExportError::Write)?;
                return Err(e.into());
            }
        };
        for record in &page {
            line.clear();
            serde_json::to_writer(&mut line, record)
                .map_err(|e| ExportError::Write(std::io::Error::other(e)))?;
            line.push(b'\n');
            out.write_all(&line).map_err(ExportError::Write)?;
        }
        on_page(export.progress());
    }
    out.flush().map_err(ExportError::Write)?;
    let progress = export.progress();
    Ok(ExportSummary {
        records: progress.records,
        pages: progress.pages,
    })
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Paging(#[from] PagingError),
    #[error("writing the output failed: {0}")]
    Write(std::io::Error),
}
