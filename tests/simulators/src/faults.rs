//! Fault injection shared by every simulator.
//!
//! A [`Faults`] handle lets a test make the next requests slow, failing, refused, cut short or
//! dropped, the way real systems misbehave in production. Each simulator consults it once per
//! request (`Faults::plan`) and applies the plan in its own request pipeline, so the vendor
//! specific parts (the exact 401 or 429 a system sends) stay in the simulator's module while the
//! mechanics (cutting a body short, closing a connection without an answer) live here.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use http_body::Frame;

/// How long a cut-short body waits, after sending its first half, before the connection is
/// aborted — long enough for the server to flush the half that was sent.
const CUT_DELAY: Duration = Duration::from_millis(30);

/// Faults to inject into the next requests a simulator receives.
///
/// All methods take `&self`; the handle is shared with the running server.
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    latency: Duration,
    /// Pending forced statuses: `(remaining, status)`, consumed front first.
    fail: VecDeque<(usize, u16)>,
    token_revoked: bool,
    truncate: usize,
    drop: usize,
}

/// What to do to one request, decided (and the counters consumed) when it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct FaultPlan {
    /// Delay before answering (or dropping).
    pub(crate) latency: Duration,
    /// Close the connection without any response.
    pub(crate) drop: bool,
    /// Answer with this status instead of handling the request.
    pub(crate) fail: Option<u16>,
    /// Send the headers and half of the body, then abort the connection.
    pub(crate) truncate: bool,
}

impl Faults {
    /// Adds `d` of latency to every response from now on (`Duration::ZERO` to stop).
    pub fn set_latency(&self, d: Duration) {
        self.lock().latency = d;
    }

    /// The next `n` requests are answered with `status` instead of being handled.
    ///
    /// Each simulator answers with the vendor's own body for that status: MaintainX's 429 body
    /// and rate-limit headers for 429, a JSON error body for 5xx. Successive calls queue up.
    pub fn fail_next(&self, n: usize, status: u16) {
        if n > 0 {
            self.lock().fail.push_back((n, status));
        }
    }

    /// From now on the simulator refuses its credential as the vendor does (401), until
    /// [`Faults::restore_token`].
    pub fn revoke_token(&self) {
        self.lock().token_revoked = true;
    }

    /// Accepts the credential again after [`Faults::revoke_token`].
    pub fn restore_token(&self) {
        self.lock().token_revoked = false;
    }

    /// The next `n` responses promise their full `Content-Length` but only half of the body is
    /// sent before the connection is closed.
    pub fn truncate_next(&self, n: usize) {
        self.lock().truncate += n;
    }

    /// The next `n` requests are read (and recorded) but the connection is then closed without
    /// any response.
    pub fn drop_next(&self, n: usize) {
        self.lock().drop += n;
    }

    /// Removes every fault: no latency, no pending failures, token accepted.
    pub fn clear(&self) {
        *self.lock() = FaultState::default();
    }

    /// `true` while the credential is revoked.
    pub fn token_revoked(&self) -> bool {
        self.lock().token_revoked
    }

    /// The latency currently added to every response.
    pub fn latency(&self) -> Duration {
        self.lock().latency
    }

    /// Decides what happens to the request that just arrived, consuming the counters it uses.
    ///
    /// A dropped request consumes nothing else; otherwise a forced status and a truncation may
    /// both apply (the forced error response is then cut short).
    pub(crate) fn plan(&self) -> FaultPlan {
        let mut state = self.lock();
        let mut plan = FaultPlan {
            latency: state.latency,
            ..FaultPlan::default()
        };
        if state.drop > 0 {
            state.drop -= 1;
            plan.drop = true;
            return plan;
        }
        if let Some((remaining, status)) = state.fail.front_mut() {
            plan.fail = Some(*status);
            *remaining -= 1;
            if *remaining == 0 {
                state.fail.pop_front();
            }
        }
        if state.truncate > 0 {
            state.truncate -= 1;
            plan.truncate = true;
        }
        plan
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A response whose body fails before a single byte is written: the server aborts the
/// connection and the client sees it closed without any response.
pub(crate) fn dropped_response() -> Response {
    Response::new(Body::new(CutBody {
        chunk: None,
        delay: None,
    }))
}

/// Rewrites `response` so that its headers announce the full body length but only the first
/// half of the body is sent before the connection is aborted.
pub(crate) async fn truncate_response(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let full = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
    let half = full.slice(..full.len() / 2);
    Response::from_parts(
        parts,
        Body::new(CutBody {
            chunk: Some(half),
            delay: Some(Box::pin(tokio::time::sleep(CUT_DELAY))),
        }),
    )
}

/// A body that yields `chunk` (if any), waits `delay` (if any), then fails.
struct CutBody {
    chunk: Option<Bytes>,
    delay: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for CutBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Some(chunk) = this.chunk.take()
            && !chunk.is_empty()
        {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if let Some(delay) = this.delay.as_mut() {
            if delay.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.delay = None;
        }
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "simulated fault: connection closed",
        ))))
    }
}
