//! Small helpers for mapping between a system's JSON and unified JSON.

use serde_json::Value;

use crate::error::AdapterError;

/// A string field of `v`, with numbers rendered as text (ids are often integers upstream).
pub fn str_of(v: &Value, field: &str) -> Option<String> {
    match v.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A numeric field of `v`, accepting decimal strings (`"12.50"`) as some systems send them.
pub fn f64_of(v: &Value, field: &str) -> Option<f64> {
    match v.get(field)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A boolean field of `v`.
pub fn bool_of(v: &Value, field: &str) -> Option<bool> {
    v.get(field)?.as_bool()
}

/// Parses a unified key that must be a positive integer id upstream.
pub fn integer_key(key: &str) -> Result<u64, AdapterError> {
    key.parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AdapterError::NotFound(format!("no record has key `{key}`")))
}

/// Parses a unified reference (`assetKey`, ...) that must be an integer id upstream.
pub fn integer_ref(field: &str, key: &str) -> Result<u64, AdapterError> {
    key.parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AdapterError::invalid(field, format!("`{key}` is not a valid key")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_loose_types() {
        let v = json!({"id": 7, "cost": "12.50", "ok": true});
        assert_eq!(str_of(&v, "id").as_deref(), Some("7"));
        assert_eq!(f64_of(&v, "cost"), Some(12.5));
        assert_eq!(bool_of(&v, "ok"), Some(true));
        assert!(integer_key("0").is_err());
        assert!(integer_ref("assetKey", "x").is_err());
    }
}
