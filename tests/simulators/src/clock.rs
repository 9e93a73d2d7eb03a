//! Timestamps as the simulated systems write them: milliseconds since the Unix epoch inside,
//! ISO-8601 UTC with milliseconds on the wire (`2024-03-01T08:00:00.000Z`).

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Formats `ms` (since the epoch) as `YYYY-MM-DDTHH:MM:SS.mmmZ` (years 0–9999).
pub(crate) fn format_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let secs = in_day / 1000;
    let mut s = String::with_capacity(24);
    for (n, width, separator) in [
        (y, 4, '-'),
        (m, 2, '-'),
        (d, 2, 'T'),
        (secs / 3600, 2, ':'),
        ((secs / 60) % 60, 2, ':'),
        (secs % 60, 2, '.'),
        (in_day % 1000, 3, 'Z'),
    ] {
        push_digits(&mut s, n, width);
        s.push(separator);
    }
    s
}

fn push_digits(out: &mut String, n: i64, width: u32) {
    for p in (0..width).rev() {
        let digit = (n / 10i64.pow(p)).rem_euclid(10);
        out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
    }
}

/// Parses an RFC 3339 date-time (any offset, any sub-second precision) into milliseconds since
/// the epoch. Our own format is parsed on a fast path.
pub(crate) fn parse_ms(s: &str) -> Option<i64> {
    if let Some(ms) = parse_own_format(s) {
        return Some(ms);
    }
    let dt = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(dt.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}

/// Milliseconds since the epoch of a calendar date at midnight UTC.
pub(crate) const fn date_ms(y: i64, m: i64, d: i64) -> i64 {
    days_from_civil(y, m, d) * 86_400_000
}

fn parse_own_format(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let mut n = 0i64;
        for &c in &b[from..to] {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(c - b'0');
        }
        Some(n)
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, se, ms) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    if civil_from_days(days_from_civil(y, mo, d)) != (y, mo, d) {
        return None; // 31 February and friends
    }
    Some(days_from_civil(y, mo, d) * 86_400_000 + ((h * 60 + mi) * 60 + se) * 1000 + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
const fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let ms = date_ms(2024, 3, 1) + 8 * 3_600_000 + 123;
        assert_eq!(format_ms(ms), "2024-03-01T08:00:00.123Z");
        assert_eq!(parse_ms("2024-03-01T08:00:00.123Z"), Some(ms));
        assert_eq!(parse_ms("2024-03-01T09:00:00.123+01:00"), Some(ms));
        assert_eq!(parse_ms("2024-03-01T08:00:00Z"), Some(ms - 123));
        assert_eq!(parse_ms("2024-02-30T08:00:00.000Z"), None);
        assert_eq!(parse_ms("yesterday"), None);
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
    }
}
