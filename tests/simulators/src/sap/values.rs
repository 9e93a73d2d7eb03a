//! Property values: how each EDM type is kept in memory, written in OData V2 JSON, read from a
//! request body, read from a URI literal (`$filter`, key predicates, function import
//! parameters) and compared.
//!
//! In memory: strings as strings, decimals as canonical decimal strings with the property's
//! scale (`"61.050"`), `Edm.DateTime` / `Edm.DateTimeOffset` as milliseconds since the epoch,
//! booleans as booleans, and `null` for an initial value.
//!
//! On the wire (OData V2 JSON, as SAP Gateway writes it): `Edm.DateTime` as `"/Date(ms)/"`,
//! `Edm.DateTimeOffset` as `"/Date(ms+0000)/"`, `Edm.Decimal` as a string. Request bodies may
//! use the same forms, or ISO-8601 text for dates (Gateway accepts both).

use std::cmp::Ordering;

use serde_json::Value;

use super::model::{Edm, Prop};
use crate::clock::{format_ms, parse_ms};

/// A value as written in a JSON response.
pub(crate) fn render(edm: Edm, value: &Value) -> Value {
    match (edm, value) {
        (Edm::DateTime, Value::Number(n)) => {
            Value::String(format!("/Date({})/", n.as_i64().unwrap_or(0)))
        }
        (Edm::DateTimeOffset, Value::Number(n)) => {
            Value::String(format!("/Date({}+0000)/", n.as_i64().unwrap_or(0)))
        }
        (_, v) => v.clone(),
    }
}

/// Parses a JSON request value for `prop`; the message says what is wrong.
pub(crate) fn from_json(prop: &Prop, value: &Value) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let bad = || {
        format!(
            "Property '{}' has invalid value '{}'",
            prop.name,
            short(&value.to_string())
        )
    };
    match prop.edm {
        Edm::String(max) => {
            let text = value.as_str().ok_or_else(bad)?;
            if text.chars().count() > max {
                return Err(format!(
                    "Property '{}' is longer than {max} characters",
                    prop.name
                ));
            }
            Ok(Value::String(text.to_owned()))
        }
        Edm::Decimal(precision, scale) => {
            // Gateway reads Edm.Decimal from JSON strings only.
            let text = value.as_str().ok_or_else(bad)?;
            decimal(text, precision, scale)
                .map(Value::String)
                .ok_or_else(bad)
        }
        Edm::DateTime | Edm::DateTimeOffset => {
            let text = value.as_str().ok_or_else(bad)?;
            let ms = wire_date(text).ok_or_else(bad)?;
            Ok(Value::from(if prop.edm == Edm::DateTime {
                // `sap:display-format="Date"`: the time of day is not kept.
                ms.div_euclid(86_400_000) * 86_400_000
            } else {
                ms
            }))
        }
        Edm::Boolean => value.as_bool().map(Value::Bool).ok_or_else(bad),
    }
}

/// `/Date(ms)/`, `/Date(ms+0000)/`, `/Date(ms-0130)/` or ISO-8601 (`2024-03-01T08:00:00`,
/// with or without an offset) as milliseconds since the epoch, UTC.
pub(crate) fn wire_date(text: &str) -> Option<i64> {
    if let Some(inner) = text
        .strip_prefix("/Date(")
        .and_then(|t| t.strip_suffix(")/"))
    {
        let (digits, offset) = match inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
        {
            Some((at, _)) => inner.split_at(at),
            None => (inner, ""),
        };
        let ms: i64 = digits.parse().ok()?;
        if offset.is_empty() {
            return Some(ms);
        }
        // The offset only says in which zone the instant was entered; the number is UTC.
        let sign = &offset[..1];
        let hhmm = &offset[1..];
        if hhmm.len() != 4
            || !hhmm.bytes().all(|b| b.is_ascii_digit())
            || !["+", "-"].contains(&sign)
        {
            return None;
        }
        return Some(ms);
    }
    iso_ms(text)
}

/// ISO-8601 date-time with an optional offset (none means UTC) as epoch milliseconds.
fn iso_ms(text: &str) -> Option<i64> {
    if let Some(ms) = parse_ms(text) {
        return Some(ms);
    }
    // `2024-03-01T08:00:00` or `2024-03-01T08:00` (no offset): UTC.
    let with_seconds = if text.len() == 16 {
        format!("{text}:00Z")
    } else {
        format!("{text}Z")
    };
    parse_ms(&with_seconds)
}

/// A decimal string checked against precision and scale and written with exactly `scale`
/// fractional digits. `None` when it is not a decimal or does not fit.
pub(crate) fn decimal(text: &str, precision: u32, scale: u32) -> Option<String> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_trimmed = frac.trim_end_matches('0');
    if frac_trimmed.len() > scale as usize {
        return None;
    }
    let int = int.trim_start_matches('0');
    if int.len() + scale as usize > precision as usize {
        return None;
    }
    let int = if int.is_empty() { "0" } else { int };
    let mut out = String::new();
    let zero = int == "0" && frac_trimmed.is_empty();
    if negative && !zero {
        out.push('-');
    }
    out.push_str(int);
    if scale > 0 {
        out.push('.');
        out.push_str(frac_trimmed);
        for _ in frac_trimmed.len()..scale as usize {
            out.push('0');
        }
    }
    Some(out)
}

/// A URI literal (`'text'` with `''` for a quote, `datetime'2024-01-01T00:00:00'`,
/// `datetimeoffset'2024-01-01T00:00:00Z'`, `12.5M`, `12`, `true`, `null`) as a value of `edm`.
pub(crate) fn from_literal(edm: Edm, literal: &str) -> Option<Value> {
    if literal == "null" {
        return Some(Value::Null);
    }
    match edm {
        Edm::String(_) => quoted(literal).map(Value::String),
        Edm::Decimal(precision, scale) => {
            let text = literal
                .strip_suffix(['M', 'm'])
                .unwrap_or(literal)
                .trim_matches('\'');
            let _ = precision;
            decimal(text, 64, scale.max(14)).map(Value::String)
        }
        Edm::DateTime => {
            let inner = literal.strip_prefix("datetime").and_then(quoted)?;
            iso_ms(&inner).map(Value::from)
        }
        Edm::DateTimeOffset => {
            let inner = literal
                .strip_prefix("datetimeoffset")
                .or_else(|| literal.strip_prefix("datetime"))
                .and_then(quoted)?;
            iso_ms(&inner).map(Value::from)
        }
        Edm::Boolean => match literal {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
    }
}

/// The content of a `'quoted'` literal, `''` unescaped.
pub(crate) fn quoted(literal: &str) -> Option<String> {
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Inside a literal a quote must be doubled.
            if chars.next() != Some('\'') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

/// Orders two values of the same type (`null` first).
pub(crate) fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::String(x), Value::String(y)) => match (num(x), num(y)) {
            (Some(x), Some(y)) if looks_decimal(a) && looks_decimal(b) => {
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
            _ => x.cmp(y),
        },
        (Value::Number(x), Value::Number(y)) => {
            x.as_i64().unwrap_or(0).cmp(&y.as_i64().unwrap_or(0))
        }
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

fn looks_decimal(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.contains('.')
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    })
}

fn num(s: &str) -> Option<f64> {
    s.parse().ok()
}

/// Compares a stored value with a literal's value, by the property's type: strings
/// character by character (as ABAP compares CHAR fields, `'10' < '9'`), decimals by value,
/// digit for digit, dates by instant.
pub(crate) fn compare_typed(edm: Edm, stored: &Value, literal: &Value) -> Ordering {
    match (edm, stored, literal) {
        (Edm::String(_), Value::String(x), Value::String(y)) => x.cmp(y),
        (Edm::Decimal(..), Value::String(x), Value::String(y)) => {
            match (exact_decimal(x), exact_decimal(y)) {
                (Some(a), Some(b)) => compare_decimals(&a, &b),
                _ => compare(stored, literal),
            }
        }
        _ => compare(stored, literal),
    }
}

/// A decimal as (negative, integer digits without leading zeros, fraction digits without
/// trailing zeros); `None` when the text is not a plain decimal.
fn exact_decimal(text: &str) -> Option<(bool, String, String)> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0').to_owned();
    let frac = frac.trim_end_matches('0').to_owned();
    let zero = int.is_empty() && frac.is_empty();
    Some((negative && !zero, int, frac))
}

fn compare_decimals(a: &(bool, String, String), b: &(bool, String, String)) -> Ordering {
    let magnitude = |x: &(bool, String, String), y: &(bool, String, String)| {
        x.1.len()
            .cmp(&y.1.len())
            .then_with(|| x.1.cmp(&y.1))
            .then_with(|| x.2.cmp(&y.2))
    };
    match (a.0, b.0) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => magnitude(a, b),
        (true, true) => magnitude(b, a),
    }
}

/// ISO-8601 text of a stored date (for messages).
pub(crate) fn iso(ms: i64) -> String {
    format_ms(ms)
}

fn short(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimals_keep_their_scale_and_refuse_what_does_not_fit() {
        assert_eq!(decimal("61.05", 12, 3).as_deref(), Some("61.050"));
        assert_eq!(decimal("10", 13, 3).as_deref(), Some("10.000"));
        assert_eq!(decimal("-0.000", 13, 3).as_deref(), Some("0.000"));
        assert_eq!(decimal("007.5", 13, 3).as_deref(), Some("7.500"));
        assert_eq!(decimal("1.2345", 13, 3), None);
        assert_eq!(decimal("1234567890.5", 12, 3), None);
        assert_eq!(decimal("1e3", 13, 3), None);
        assert_eq!(decimal(".", 13, 3), None);
    }

    #[test]
    fn dates_on_the_wire() {
        assert_eq!(
            render(Edm::DateTime, &json!(1_700_697_600_000_i64)),
            json!("/Date(1700697600000)/")
        );
        assert_eq!(
            render(Edm::DateTimeOffset, &json!(1_700_697_600_000_i64)),
            json!("/Date(1700697600000+0000)/")
        );
        assert_eq!(wire_date("/Date(1700697600000)/"), Some(1_700_697_600_000));
        assert_eq!(
            wire_date("/Date(1700697600000+0000)/"),
            Some(1_700_697_600_000)
        );
        assert_eq!(wire_date("/Date(-1000)/"), Some(-1000));
        assert_eq!(wire_date("2023-11-23T00:00:00"), Some(1_700_697_600_000));
        assert_eq!(wire_date("/Date(12x)/"), None);
    }

    #[test]
    fn literals() {
        assert_eq!(
            from_literal(Edm::String(10), "'O''Neil'"),
            Some(json!("O'Neil"))
        );
        assert_eq!(from_literal(Edm::String(10), "'bad'quote'"), None);
        assert_eq!(
            from_literal(Edm::DateTime, "datetime'2023-11-23T00:00:00'"),
            Some(json!(1_700_697_600_000_i64))
        );
        assert_eq!(
            from_literal(Edm::DateTimeOffset, "datetimeoffset'2023-11-23T00:00:00Z'"),
            Some(json!(1_700_697_600_000_i64))
        );
        assert_eq!(from_literal(Edm::Boolean, "true"), Some(json!(true)));
        assert!(from_literal(Edm::Decimal(13, 3), "12.5M").is_some());
    }

    #[test]
    fn comparisons_follow_the_property_type() {
        let dec = Edm::Decimal(31, 14);
        let cmp = |a: &str, b: &str| compare_typed(dec, &json!(a), &json!(b));
        assert_eq!(cmp("12.50000000000000", "12.5"), Ordering::Equal);
        assert_eq!(cmp("9.9", "10"), Ordering::Less);
        assert_eq!(cmp("-2", "-10"), Ordering::Greater);
        assert_eq!(cmp("0.000", "-0"), Ordering::Equal);
        assert_eq!(
            cmp("12345678901234567.00000000000001", "12345678901234567"),
            Ordering::Greater
        );
        // CHAR fields compare as text, even when they hold digits.
        let text = |a: &str, b: &str| compare_typed(Edm::String(10), &json!(a), &json!(b));
        assert_eq!(text("10.5", "9.5"), Ordering::Less);
        assert_eq!(text("1010", "1710"), Ordering::Less);
    }
}
