//! Reading what one response says about the connection's rate limit: `Retry-After`, the
//! MaintainX and Limble budget headers, Fiix's in-body throttle code, and MaintainX's 429 text.
//!
//! Pure functions over status, headers, body and the wall clock the caller passes in: no state,
//! no caps (the governor caps), no I/O. A value that does not parse is ignored, never an error:
//! a malformed header must not stop a response from reaching the adapter.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The Fiix error code `THROTTLED_CLIENT_SHOULD_AUTO_RETRY` (`com.ma.cmms.api.Error`).
pub(super) const FIIX_THROTTLED: i64 = 1100;
/// The wait the official Fiix Java client uses when a throttle carries no advisory.
pub(super) const FIIX_DEFAULT_WAIT: Duration = Duration::from_millis(4000);
/// How deep the body is searched for Fiix's `error` object (a `BatchResponse` nests one per
/// request in `responses`).
const FIIX_MAX_DEPTH: usize = 4;

/// The budgets a system reports; each is tracked separately and the strictest one governs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WindowKind {
    /// MaintainX `X-Rate-Limit-*` (one fixed window; 100 or 500 requests per 60 s).
    MaintainX,
    /// Limble `X-RateLimit-*` (sliding per-hour window).
    LimbleHour,
    /// Limble `X-RateLimit-Minute-*` (sliding per-minute window).
    LimbleMinute,
}

impl WindowKind {
    /// All kinds, in the order of the governor's window table.
    pub(super) const ALL: [WindowKind; 3] = [
        WindowKind::MaintainX,
        WindowKind::LimbleHour,
        WindowKind::LimbleMinute,
    ];

    /// The index of this kind in the governor's window table.
    pub(super) fn index(self) -> usize {
        match self {
            WindowKind::MaintainX => 0,
            WindowKind::LimbleHour => 1,
            WindowKind::LimbleMinute => 2,
        }
    }

    /// The documented length of the window, used when the server does not say when it resets.
    pub(super) fn nominal(self) -> Duration {
        match self {
            WindowKind::MaintainX | WindowKind::LimbleMinute => Duration::from_secs(60),
            WindowKind::LimbleHour => Duration::from_secs(3600),
        }
    }
}

/// One budget as a response reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WindowReport {
    pub kind: WindowKind,
    /// The window's full budget, when reported.
    pub limit: Option<u32>,
    /// Requests left in the window, as the server counted them when it answered.
    pub remaining: u32,
    /// Time until the window resets (or, for a sliding window, until a request frees up),
    /// when the server said so; `None` when it did not.
    pub reset: Option<Duration>,
}

/// Everything one response says about the rate limit, uncapped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Signals {
    /// `Retry-After`, as a wait from `now`.
    pub retry_after: Option<Duration>,
    /// A Fiix in-body throttle (code 1100) with its advisory wait (or Fiix's default).
    pub fiix_throttle: Option<Duration>,
    /// MaintainX's 429 body `{"error": "Too many requests. Please retry in N seconds"}`.
    pub body_hint: Option<Duration>,
    /// The budgets reported by headers.
    pub windows: Vec<WindowReport>,
}

impl Signals {
    /// Reads a response.
    pub(super) fn read(
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
        now: SystemTime,
    ) -> Signals {
        let get = |name: &str| header(headers, name);
        let retry_after = if matches!(status, 429 | 503) {
            get("retry-after").and_then(|v| parse_retry_after(v, now))
        } else {
            None
        };
        let mut windows = Vec::new();
        // MaintainX: `X-Rate-Limit-Reset` is the number of seconds until the window resets.
        if let Some(remaining) = get("x-rate-limit-remaining").and_then(parse_count) {
            windows.push(WindowReport {
                kind: WindowKind::MaintainX,
                limit: get("x-rate-limit-limit").and_then(parse_count),
                remaining,
                reset: get("x-rate-limit-reset").and_then(parse_seconds),
            });
        }
        for (kind, prefix) in [
            (WindowKind::LimbleHour, "x-ratelimit-"),
            (WindowKind::LimbleMinute, "x-ratelimit-minute-"),
        ] {
            let field = |name: &str| get(&format!("{prefix}{name}"));
            let Some(remaining) = field("remaining").and_then(parse_count) else {
                continue;
            };
            let nominal = kind.nominal();
            // `-TTL` only when limited; otherwise the sliding window's oldest call
            // (`-First-Call`, unix seconds) leaves it one window length later.
            let reset = field("ttl")
                .and_then(|v| parse_limble_ttl(v, nominal))
                .or_else(|| {
                    field("first-call")
                        .and_then(parse_unix_time)
                        .map(|first| (first + nominal).duration_since(now).unwrap_or_default())
                });
            windows.push(WindowReport {
                kind,
                limit: field("limit").and_then(parse_count),
                remaining,
                reset,
            });
        }
        let fiix_throttle = fiix_throttle(body);
        let body_hint = if status == 429 {
            maintainx_body_hint(body)
        } else {
            None
        };
        Signals {
            retry_after,
            fiix_throttle,
            body_hint,
            windows,
        }
    }
}

/// The first value of header `name` (case-insensitive), trimmed.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// The first element of a possibly comma-joined header value (a proxy may fold repeats).
fn first_token(value: &str) -> &str {
    value.split(',').next().unwrap_or_default().trim()
}

/// A non-negative number of seconds, fractions allowed.
fn parse_seconds(value: &str) -> Option<Duration> {
    let n: f64 = first_token(value).parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(n).ok()
}

/// A non-negative integer count, saturated to `u32`.
fn parse_count(value: &str) -> Option<u32> {
    let n: u64 = first_token(value).parse().ok()?;
    Some(u32::try_from(n).unwrap_or(u32::MAX))
}

/// `Retry-After`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3), as a wait from `now`. A
/// date in the past means no wait.
pub(super) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return parse_seconds(value);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// Limble's `-TTL`. The collection does not state the unit; the community clients read it as
/// milliseconds (`LimbleConnector`: `ttl ... # ms`, `ceil(ttl / 1000)`). A value larger than
/// the window's length in seconds can only be milliseconds; a smaller one is read as seconds,
/// which errs on waiting longer, never on sending into a closed window.
fn parse_limble_ttl(value: &str, window: Duration) -> Option<Duration> {
    let n: f64 = first_token(value).parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let secs = if n > window.as_secs_f64() {
        n / 1000.0
    } else {
        n
    };
    Duration::try_from_secs_f64(secs).ok()
}

/// A unix timestamp in seconds (or milliseconds, recognised by its size).
fn parse_unix_time(value: &str) -> Option<SystemTime> {
    let n: u64 = first_token(value).parse().ok()?;
    // Seconds since 1970 pass 10^11 only in the year 5138; anything larger is milliseconds.
    let since_epoch = if n > 100_000_000_000 {
        Duration::from_millis(n)
    } else {
        Duration::from_secs(n)
    };
    UNIX_EPOCH.checked_add(since_epoch)
}

/// A Fiix throttle in the body: an `error` object with `code` 1100 at the top or nested (batch
/// responses), its wait from `P_CLIENT_AUTO_RETRY_WAIT_ADVISORY_MS` in `error.object` (the
/// vendor's Java client), beside the error, or `clientAutoRetryWaitAdvisoryMs` (the .NET port);
/// 4 s (the Java client's default) when none is given.
pub(super) fn fiix_throttle(body: &[u8]) -> Option<Duration> {
    // Cheap prefilter: most bodies are not throttles, and some are large.
    memchr::memmem::find(body, b"1100")?;
    let value: Value = serde_json::from_slice(body).ok()?;
    find_fiix_throttle(&value, 0)
}

fn find_fiix_throttle(value: &Value, depth: usize) -> Option<Duration> {
    if depth > FIIX_MAX_DEPTH {
        return None;
    }
    match value {
        Value::Object(map) => {
            if let Some(error) = map.get("error")
                && as_integer(error.get("code")) == Some(FIIX_THROTTLED)
            {
                let advisory = error
                    .get("object")
                    .and_then(advisory_ms)
                    .or_else(|| advisory_ms(error))
                    .or_else(|| map.get("object").and_then(advisory_ms))
                    .or_else(|| advisory_ms(value));
                return Some(advisory.map_or(FIIX_DEFAULT_WAIT, Duration::from_millis));
            }
            map.values()
                .find_map(|child| find_fiix_throttle(child, depth + 1))
        }
        Value::Array(items) => items
            .iter()
            .find_map(|child| find_fiix_throttle(child, depth + 1)),
        _ => None,
    }
}

fn advisory_ms(value: &Value) -> Option<u64> {
    [
        "P_CLIENT_AUTO_RETRY_WAIT_ADVISORY_MS",
        "clientAutoRetryWaitAdvisoryMs",
    ]
    .iter()
    .find_map(|key| as_integer(value.get(key)))
    .and_then(|n| u64::try_from(n).ok())
}

/// An integer given as a JSON number or a string of digits.
fn as_integer(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// MaintainX's 429 text, `Too many requests. Please retry in N seconds`.
fn maintainx_body_hint(body: &[u8]) -> Option<Duration> {
    let text = std::str::from_utf8(body.get(..body.len().min(4096))?).ok()?;
    let at = text.find("retry in ")? + "retry in ".len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let rest = text[at + digits.len()..].trim_start();
    if !rest.starts_with("second") {
        return None;
    }
    digits.parse().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = t0();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn retry_after_only_on_429_and_503() {
        let headers = h(&[("Retry-After", "9")]);
        for status in [429, 503] {
            let s = Signals::read(status, &headers, b"", t0());
            assert_eq!(s.retry_after, Some(Duration::from_secs(9)), "{status}");
        }
        for status in [200, 301, 500] {
            assert_eq!(Signals::read(status, &headers, b"", t0()).retry_after, None);
        }
    }

    #[test]
    fn maintainx_headers() {
        let headers = h(&[
            ("x-rate-limit-limit", "100"),
            ("X-Rate-Limit-Remaining", "0"),
            ("x-rate-limit-reset", "7"),
        ]);
        let s = Signals::read(200, &headers, b"{}", t0());
        assert_eq!(
            s.windows,
            vec![WindowReport {
                kind: WindowKind::MaintainX,
                limit: Some(100),
                remaining: 0,
                reset: Some(Duration::from_secs(7)),
            }]
        );
    }

    #[test]
    fn limble_headers_both_windows() {
        let now = t0();
        let first_call = (now - Duration::from_secs(20))
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .to_string();
        let headers = h(&[
            ("X-RateLimit-Limit", "4000"),
            ("X-RateLimit-Remaining", "3999"),
            ("X-RateLimit-First-Call", &first_call),
            ("X-RateLimit-Minute-Limit", "360"),
            ("X-RateLimit-Minute-Remaining", "0"),
            ("X-RateLimit-Minute-First-Call", &first_call),
            ("X-RateLimit-Minute-TTL", "42000"),
        ]);
        let s = Signals::read(429, &headers, b"", now);
        assert_eq!(
            s.windows,
            vec![
                WindowReport {
                    kind: WindowKind::LimbleHour,
                    limit: Some(4000),
                    remaining: 3999,
                    reset: Some(Duration::from_secs(3580)),
                },
                WindowReport {
                    kind: WindowKind::LimbleMinute,
                    limit: Some(360),
                    remaining: 0,
                    reset: Some(Duration::from_secs(42)),
                },
            ]
        );
    }

    #[test]
    fn limble_ttl_units() {
        let minute = Duration::from_secs(60);
        assert_eq!(
            parse_limble_ttl("42000", minute),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            parse_limble_ttl("42", minute),
            Some(Duration::from_secs(42))
        );
        let hour = Duration::from_secs(3600);
        assert_eq!(
            parse_limble_ttl("600000", hour),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            parse_limble_ttl("600", hour),
            Some(Duration::from_secs(600))
        );
        assert_eq!(parse_limble_ttl("x", hour), None);
    }

    #[test]
    fn fiix_throttle_shapes() {
        // The vendor's shape: the advisory inside `error.object`.
        let vendor =
            br#"{"_maCn":"FindResponse","error":{"leg":"SERVER_REQUEST_PROCESS","code":1100,
            "message":"throttled","object":{"P_CLIENT_AUTO_RETRY_WAIT_ADVISORY_MS":2500}}}"#;
        assert_eq!(fiix_throttle(vendor), Some(Duration::from_millis(2500)));
        // Beside the error, the code as a string.
        let beside = br#"{"error":{"code":"1100"},"object":{"P_CLIENT_AUTO_RETRY_WAIT_ADVISORY_MS":"1200"}}"#;
        assert_eq!(fiix_throttle(beside), Some(Duration::from_millis(1200)));
        // Nested in a batch response, no advisory: the vendor's default.
        let batch = br#"{"responses":[{"objects":[]},{"error":{"code":1100}}]}"#;
        assert_eq!(fiix_throttle(batch), Some(FIIX_DEFAULT_WAIT));
        // The .NET port's name.
        let dotnet = br#"{"error":{"code":1100},"clientAutoRetryWaitAdvisoryMs":300}"#;
        assert_eq!(fiix_throttle(dotnet), Some(Duration::from_millis(300)));
        // Other errors, other codes, and non-JSON are not throttles.
        assert_eq!(fiix_throttle(br#"{"error":{"code":110}}"#), None);
        assert_eq!(
            fiix_throttle(br#"{"objects":[{"id":1100}],"totalObjects":1}"#),
            None
        );
        assert_eq!(fiix_throttle(b"code 1100"), None);
    }

    #[test]
    fn maintainx_429_text() {
        let body = br#"{"error":"Too many requests. Please retry in 10 seconds"}"#;
        assert_eq!(maintainx_body_hint(body), Some(Duration::from_secs(10)));
        assert_eq!(
            Signals::read(429, &[], body, t0()).body_hint,
            Some(Duration::from_secs(10))
        );
        assert_eq!(Signals::read(200, &[], body, t0()).body_hint, None);
        assert_eq!(maintainx_body_hint(b"retry in a bit"), None);
    }

    #[test]
    fn malformed_values_are_ignored() {
        let headers = h(&[
            ("x-rate-limit-remaining", "lots"),
            ("X-RateLimit-Remaining", "-1"),
            ("Retry-After", "Tomorrow-ish"),
        ]);
        assert_eq!(
            Signals::read(429, &headers, b"not json", t0()),
            Signals::default()
        );
    }
}
