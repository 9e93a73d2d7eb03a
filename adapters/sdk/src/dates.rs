//! Date and time conversions between system encodings and the unified RFC 3339 UTC form.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Normalizes any RFC 3339 / ISO-8601 timestamp with an offset to UTC (`2024-03-01T08:00:00Z`,
/// keeping sub-second digits when present). `None` when the text is not such a timestamp.
pub fn to_utc(text: &str) -> Option<String> {
    let dt = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    dt.to_offset(UtcOffset::UTC).format(&Rfc3339).ok()
}

/// Formats Unix milliseconds as RFC 3339 UTC.
pub fn from_unix_millis(ms: i64) -> Option<String> {
    let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    dt.format(&Rfc3339).ok()
}

/// Formats Unix seconds as RFC 3339 UTC.
pub fn from_unix_seconds(s: i64) -> Option<String> {
    let dt = OffsetDateTime::from_unix_timestamp(s).ok()?;
    dt.format(&Rfc3339).ok()
}

/// Parses RFC 3339 into Unix milliseconds.
pub fn to_unix_millis(text: &str) -> Option<i64> {
    let dt = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_offsets_to_utc() {
        assert_eq!(
            to_utc("2024-03-01T10:00:00+02:00").as_deref(),
            Some("2024-03-01T08:00:00Z")
        );
        assert_eq!(
            to_utc("2024-03-01T08:00:00.123Z").as_deref(),
            Some("2024-03-01T08:00:00.123Z")
        );
        assert_eq!(to_utc("yesterday"), None);
    }

    #[test]
    fn unix_round_trip() {
        let text = from_unix_millis(1_709_280_000_000).unwrap_or_default();
        assert_eq!(text, "2024-03-01T08:00:00Z");
        assert_eq!(to_unix_millis(&text), Some(1_709_280_000_000));
        assert_eq!(
            from_unix_seconds(0).as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
    }
}
