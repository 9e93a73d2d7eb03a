//! Building relative request paths with correctly encoded query strings.

use std::fmt::Write;

/// Percent-encodes a query component (RFC 3986 unreserved characters pass through).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A path plus query parameters, rendered with [`PathQuery::build`].
#[derive(Debug, Clone, Default)]
pub struct PathQuery {
    path: String,
    params: Vec<(String, String)>,
}

impl PathQuery {
    /// Starts from a path such as `/workorders`.
    pub fn new(path: impl Into<String>) -> PathQuery {
        PathQuery {
            path: path.into(),
            params: Vec::new(),
        }
    }

    /// Appends a parameter (repeat the call for array parameters).
    pub fn param(mut self, name: &str, value: impl ToString) -> PathQuery {
        self.params.push((name.to_owned(), value.to_string()));
        self
    }

    /// Appends a parameter when `value` is `Some`.
    pub fn opt(self, name: &str, value: Option<impl ToString>) -> PathQuery {
        match value {
            Some(v) => self.param(name, v),
            None => self,
        }
    }

    /// The path with its encoded query string.
    pub fn build(&self) -> String {
        let mut out = self.path.clone();
        for (i, (k, v)) in self.params.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(&encode(k));
            out.push('=');
            out.push_str(&encode(v));
        }
        out
    }
}

/// Encodes one path segment (an id that came from a caller).
pub fn segment(value: &str) -> String {
    encode(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_characters() {
        let q = PathQuery::new("/workorders")
            .param("statuses", "OPEN")
            .param("statuses", "IN_PROGRESS")
            .param("updatedAt[gte]", "2024-01-01T00:00:00Z")
            .opt("cursor", None::<String>)
            .build();
        assert_eq!(
            q,
            "/workorders?statuses=OPEN&statuses=IN_PROGRESS&updatedAt%5Bgte%5D=2024-01-01T00%3A00%3A00Z"
        );
        assert_eq!(segment("../etc"), "..%2Fetc");
    }
}
