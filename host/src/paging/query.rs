//! The query of a listing: one small filter language, a field selection, a sort and a page
//! size, validated against what the entity declares before anything is sent.
//!
//! Filters, as written on the command line and in the API (`field OP value`):
//!
//! | form | meaning |
//! |---|---|
//! | `status=open` | equal |
//! | `status!=cancelled` | not equal |
//! | `updatedAt>=2024-06-01T00:00:00Z`, `>`, `<`, `<=` | comparisons (numbers, dates, times, text) |
//! | `status in (open, on-hold)` | one of; values may be `"quoted"` to hold commas or spaces |
//! | `title~pump` | contains (text) |
//!
//! A value may be `"quoted"` (with `\"` and `\\` escapes) to keep leading or trailing spaces.
//! Every value is checked against the field's type (a timestamp must be RFC 3339, an enum one
//! of its values, ...) and every operator against what the system can do for that field: what
//! the system cannot filter is refused with the reason, never filtered in memory behind the
//! caller's back.

use plantwire_sdk::{EntityInfo, Field, FieldType};
pub use plantwire_sdk::{Filter, FilterOp};
use sha2::{Digest, Sha256};

/// Why a query was refused. Each is the caller's error (HTTP 400) and names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("filter `{text}`: {reason}")]
    Syntax { text: String, reason: String },
    #[error("{entity} has no field `{field}`")]
    UnknownField { entity: String, field: String },
    #[error("{entity}.{field} cannot be filtered with `{op}`: {reason}")]
    Unsupported {
        entity: String,
        field: String,
        op: FilterOp,
        reason: String,
    },
    #[error("{entity}.{field}: `{value}` is not {expected}")]
    BadValue {
        entity: String,
        field: String,
        value: String,
        expected: String,
    },
    #[error("{entity} cannot be sorted by `{field}`{reason}")]
    Sort {
        entity: String,
        field: String,
        reason: String,
    },
    #[error("{entity}.{field} cannot be selected: {reason}")]
    Select {
        entity: String,
        field: String,
        reason: String,
    },
}

/// Most values an `in` filter may list.
pub const MAX_IN_VALUES: usize = 100;
/// Longest filter text accepted.
pub const MAX_FILTER_LEN: usize = 4096;

/// Parses one filter (see the module documentation).
pub fn parse_filter(text: &str) -> Result<Filter, QueryError> {
    let syntax = |reason: &str| QueryError::Syntax {
        text: text.chars().take(80).collect(),
        reason: reason.to_owned(),
    };
    if text.len() > MAX_FILTER_LEN {
        return Err(syntax("too long"));
    }
    let s = text.trim_start();
    let name_len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(s.len());
    if name_len == 0 {
        return Err(syntax("it must start with a field name"));
    }
    let field = s[..name_len].to_owned();
    let rest = s[name_len..].trim_start();
    let (op, value) = if let Some(v) = rest.strip_prefix("!=") {
        (FilterOp::Ne, v)
    } else if let Some(v) = rest.strip_prefix("<=") {
        (FilterOp::Le, v)
    } else if let Some(v) = rest.strip_prefix(">=") {
        (FilterOp::Ge, v)
    } else if let Some(v) = rest.strip_prefix('=') {
        (FilterOp::Eq, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (FilterOp::Lt, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (FilterOp::Gt, v)
    } else if let Some(v) = rest.strip_prefix('~') {
        (FilterOp::Contains, v)
    } else if let Some(v) = rest.strip_prefix("in")
        && v.starts_with(|c: char| c == '(' || c.is_whitespace())
    {
        (FilterOp::In, v)
    } else {
        return Err(syntax(
            "expected an operator after the field: = != < <= > >= ~ or in (...)",
        ));
    };
    let values = if op == FilterOp::In {
        let inner = value
            .trim()
            .strip_prefix('(')
            .and_then(|v| v.strip_suffix(')'))
            .ok_or_else(|| syntax("`in` takes a parenthesised list: status in (open, on-hold)"))?;
        let values = split_list(inner).map_err(|r| syntax(&r))?;
        if values.is_empty() {
            return Err(syntax("`in` needs at least one value"));
        }
        if values.len() > MAX_IN_VALUES {
            return Err(syntax(&format!(
                "`in` takes at most {MAX_IN_VALUES} values"
            )));
        }
        values
    } else {
        vec![unquote(value.trim()).map_err(|r| syntax(&r))?]
    };
    Ok(Filter { field, op, values })
}

/// The value, with surrounding double quotes removed and `\"`, `\\` unescaped.
fn unquote(v: &str) -> Result<String, String> {
    let Some(inner) = v.strip_prefix('"') else {
        return Ok(v.to_owned());
    };
    let inner = inner
        .strip_suffix('"')
        .ok_or_else(|| "an unterminated quoted value".to_owned())?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                _ => return Err("only \\\" and \\\\ may be escaped".to_owned()),
            },
            '"' => return Err("a quote inside a quoted value must be escaped".to_owned()),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Splits `a, "b, c", d` into its values.
fn split_list(inner: &str) -> Result<Vec<String>, String> {
    let mut values = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in inner.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                current.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => {
                values.push(unquote(current.trim())?);
                current.clear();
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err("an unterminated quoted value".to_owned());
    }
    if !current.trim().is_empty() || !values.is_empty() {
        values.push(unquote(current.trim())?);
    }
    if values.iter().any(String::is_empty) {
        return Err("an empty value in the list".to_owned());
    }
    Ok(values)
}

impl QueryError {
    /// The field the refusal is about (empty for a syntax error).
    pub fn field(&self) -> &str {
        match self {
            QueryError::Syntax { .. } => "",
            QueryError::UnknownField { field, .. }
            | QueryError::Unsupported { field, .. }
            | QueryError::BadValue { field, .. }
            | QueryError::Sort { field, .. }
            | QueryError::Select { field, .. } => field,
        }
    }
}

/// What a listing asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub filters: Vec<Filter>,
    /// The fields to return (`key` always comes); all readable fields when `None`.
    pub fields: Option<Vec<String>>,
    /// A field to sort by, `-` first for descending.
    pub sort: Option<String>,
    /// Records per page; the entity's default when `None`, clamped to its limits.
    pub page_size: Option<u32>,
    /// Whether each record carries the system's own payload under `raw`.
    pub include_raw: bool,
}

impl Query {
    /// Checks every part against `entity`'s declaration; the first problem is the error.
    pub fn validate(&self, entity: &EntityInfo) -> Result<(), QueryError> {
        for filter in &self.filters {
            validate_filter(entity, filter)?;
        }
        if let Some(sort) = &self.sort {
            validate_sort(entity, sort)?;
        }
        validate_fields(entity, self.fields.as_deref().unwrap_or_default())
    }

    /// The page size used with `entity`: the caller's, or the entity's default, within
    /// 1 ..= the entity's maximum.
    pub fn effective_page_size(&self, entity: &EntityInfo) -> u32 {
        let max = entity.max_page_size.max(1);
        self.page_size
            .unwrap_or(entity.default_page_size)
            .clamp(1, max)
    }

    /// A digest of everything that shapes the result (filters, fields, sort, page size), in a
    /// canonical form: the same query always gives the same digest.
    pub fn fingerprint(&self, entity: &EntityInfo) -> [u8; 32] {
        let mut h = Sha256::new();
        let mut part = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        part(b"plantwire.query.v1");
        let mut filters: Vec<String> = self
            .filters
            .iter()
            .map(|f| {
                let mut values = f.values.clone();
                if f.op == FilterOp::In {
                    values.sort();
                    values.dedup();
                }
                serde_json::json!([f.field, f.op.symbol(), values]).to_string()
            })
            .collect();
        filters.sort();
        for f in &filters {
            part(f.as_bytes());
        }
        part(b"fields");
        match &self.fields {
            None => part(b"*"),
            Some(fields) => {
                let mut fields = fields.clone();
                fields.sort();
                fields.dedup();
                for f in &fields {
                    part(f.as_bytes());
                }
            }
        }
        part(b"sort");
        part(self.sort.as_deref().unwrap_or("").as_bytes());
        part(if self.include_raw { b"raw" } else { b"unified" });
        part(&self.effective_page_size(entity).to_be_bytes());
        h.finalize().into()
    }
}

/// Checks a sort (`field` or `-field`) against the entity's `sortable` flags.
pub fn validate_sort(entity: &EntityInfo, sort: &str) -> Result<(), QueryError> {
    let name = sort.strip_prefix('-').unwrap_or(sort);
    let err = |reason: String| QueryError::Sort {
        entity: entity.name.clone(),
        field: name.to_owned(),
        reason,
    };
    match entity.field(name) {
        None => Err(err(": there is no such field".into())),
        Some(f) if !f.flags.sortable => Err(err(f.note.as_deref().map_or_else(
            || ": the system does not sort by it".to_owned(),
            |n| format!(" ({n})"),
        ))),
        Some(_) => Ok(()),
    }
}

/// Checks a field selection: each a field returned by `list`.
pub fn validate_fields(entity: &EntityInfo, fields: &[String]) -> Result<(), QueryError> {
    for name in fields {
        match entity.field(name) {
            None => {
                return Err(QueryError::UnknownField {
                    entity: entity.name.clone(),
                    field: name.clone(),
                });
            }
            Some(f) if !f.flags.read_list => {
                return Err(QueryError::Select {
                    entity: entity.name.clone(),
                    field: name.clone(),
                    reason: "it is not returned by list (read it with get)".into(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Checks one filter: a declared field, an operator the system applies to it, values of
/// the field's type.
pub fn validate_filter(entity: &EntityInfo, filter: &Filter) -> Result<(), QueryError> {
    let field = entity
        .field(&filter.field)
        .ok_or_else(|| QueryError::UnknownField {
            entity: entity.name.clone(),
            field: filter.field.clone(),
        })?;
    let unsupported = |reason: String| QueryError::Unsupported {
        entity: entity.name.clone(),
        field: filter.field.clone(),
        op: filter.op,
        reason,
    };
    let ops = &field.filter_ops;
    if !ops.contains(&filter.op) {
        let what = if ops.is_empty() {
            "the system cannot filter on it".to_owned()
        } else {
            let offered: Vec<&str> = ops.iter().map(|o| o.symbol()).collect();
            format!("the system offers {} for it", offered.join(" "))
        };
        return Err(unsupported(match &field.note {
            Some(note) => format!("{what} ({note})"),
            None => what,
        }));
    }
    let ordered = matches!(
        field.ty,
        FieldType::Integer
            | FieldType::Decimal
            | FieldType::Timestamp
            | FieldType::Date
            | FieldType::String
    );
    let count_ok = match filter.op {
        FilterOp::In => (1..=MAX_IN_VALUES).contains(&filter.values.len()),
        _ => filter.values.len() == 1,
    };
    if !count_ok {
        return Err(QueryError::Syntax {
            text: filter.field.clone(),
            reason: format!(
                "`{}` takes {}",
                filter.op,
                if filter.op == FilterOp::In {
                    "1 to 100 values"
                } else {
                    "exactly one value"
                }
            ),
        });
    }
    if filter.op.is_range() && !ordered {
        return Err(unsupported("its values have no order".into()));
    }
    if filter.op == FilterOp::Contains && !matches!(field.ty, FieldType::String | FieldType::Text) {
        return Err(unsupported("it is not text".into()));
    }
    for value in &filter.values {
        check_value(entity, field, value)?;
    }
    Ok(())
}

fn check_value(entity: &EntityInfo, field: &Field, value: &str) -> Result<(), QueryError> {
    let bad = |expected: &str| QueryError::BadValue {
        entity: entity.name.clone(),
        field: field.name.clone(),
        value: value.chars().take(80).collect(),
        expected: expected.to_owned(),
    };
    if value.chars().any(char::is_control) {
        return Err(bad("text without control characters"));
    }
    match &field.ty {
        FieldType::Integer => value
            .parse::<i64>()
            .map(drop)
            .map_err(|_| bad("an integer")),
        FieldType::Decimal => {
            let ok = value.parse::<f64>().is_ok_and(f64::is_finite)
                && value
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'));
            if ok {
                Ok(())
            } else {
                Err(bad("a decimal number"))
            }
        }
        FieldType::Boolean => match value {
            "true" | "false" => Ok(()),
            _ => Err(bad("`true` or `false`")),
        },
        FieldType::Timestamp => {
            time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
                .map(drop)
                .map_err(|_| bad("an RFC 3339 timestamp (2024-06-01T00:00:00Z)"))
        }
        FieldType::Date => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(value, &format)
                .map(drop)
                .map_err(|_| bad("a date (2024-06-01)"))
        }
        FieldType::Enumeration => {
            if field.enum_values.iter().any(|e| e.value == value) {
                Ok(())
            } else {
                let mut values: Vec<&str> =
                    field.enum_values.iter().map(|e| e.value.as_str()).collect();
                values.dedup();
                Err(bad(&format!("one of: {}", values.join(", "))))
            }
        }
        FieldType::Reference(_) | FieldType::References(_) | FieldType::String => {
            if value.is_empty() {
                Err(bad("a non-empty value"))
            } else {
                Ok(())
            }
        }
        FieldType::Text | FieldType::List | FieldType::Object => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_parses() {
        let cases = [
            ("status=open", FilterOp::Eq, vec!["open"]),
            ("status != cancelled", FilterOp::Ne, vec!["cancelled"]),
            (
                "updatedAt>=2024-06-01T00:00:00Z",
                FilterOp::Ge,
                vec!["2024-06-01T00:00:00Z"],
            ),
            (
                "updatedAt<2024-06-01T00:00:00Z",
                FilterOp::Lt,
                vec!["2024-06-01T00:00:00Z"],
            ),
            ("quantity<=5", FilterOp::Le, vec!["5"]),
            ("quantity>5", FilterOp::Gt, vec!["5"]),
            ("title~pump", FilterOp::Contains, vec!["pump"]),
            (
                "status in (open, on-hold)",
                FilterOp::In,
                vec!["open", "on-hold"],
            ),
            ("status in(open)", FilterOp::In, vec!["open"]),
            (
                r#"title in ("a, b", "c \"d\"")"#,
                FilterOp::In,
                vec!["a, b", "c \"d\""],
            ),
            (r#"title=" padded ""#, FilterOp::Eq, vec![" padded "]),
            ("title=a=b", FilterOp::Eq, vec!["a=b"]),
            ("title=", FilterOp::Eq, vec![""]),
        ];
        for (text, op, values) in cases {
            let f = parse_filter(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(f.op, op, "{text}");
            assert_eq!(f.values, values, "{text}");
        }
    }

    #[test]
    fn malformed_filters_are_refused_with_the_reason() {
        for (text, reason) in [
            ("", "field name"),
            ("=open", "field name"),
            ("status open", "operator"),
            ("status in open", "parenthesised"),
            ("status in ()", "at least one"),
            ("status in (a,,b)", "empty value"),
            (r#"title="unterminated"#, "unterminated"),
            (r#"title="a"b""#, "escaped"),
            ("inventory", "operator"),
        ] {
            let err = parse_filter(text).expect_err(text).to_string();
            assert!(err.contains(reason), "{text}: {err}");
        }
        let many = format!(
            "status in ({})",
            (0..=MAX_IN_VALUES)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(parse_filter(&many).is_err());
        assert!(parse_filter(&"a".repeat(MAX_FILTER_LEN + 1)).is_err());
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "status=open",
            "updatedAt>=2024-06-01T00:00:00Z",
            "status in (open, on-hold)",
        ] {
            assert_eq!(parse_filter(text).expect("parse").to_string(), text);
        }
    }
}
