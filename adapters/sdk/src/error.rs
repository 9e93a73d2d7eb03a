//! Errors an adapter reports (the contract's `adapter-error`).

use serde::{Deserialize, Serialize};

/// One validation problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An error the system reported, as it reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamError {
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
}

/// Typed errors that cross the contract; the host maps them to API errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "detail")]
pub enum AdapterError {
    /// The operation is not available; the reason says why.
    Unsupported(String),
    /// The record does not exist.
    NotFound(String),
    /// The input is invalid, field by field.
    Invalid(Vec<FieldError>),
    /// A stale concurrency token or a state that forbids the change.
    Conflict(String),
    /// The credentials were refused.
    Unauthorized(String),
    /// The credentials lack the permission.
    Forbidden(String),
    /// The system asked to slow down; retry after this many milliseconds when known.
    RateLimited(Option<u64>),
    /// The system answered with an error.
    Upstream(UpstreamError),
    /// A temporary failure; the call may be retried.
    Transient(String),
}

/// The `code` of an [`UpstreamError`] that says the system may or may not have applied the
/// write: the request went out and its answer could not be matched to the record (an
/// unreadable or incomplete `$batch` answer, say). The host reports such a record as
/// *unknown* rather than failed, so that a caller retrying failures cannot write it twice.
/// The `plantwire.` prefix is reserved: no vendor code starts with it.
pub const OUTCOME_UNKNOWN: &str = "plantwire.outcome-unknown";

impl AdapterError {
    /// A record whose write may or may not have happened ([`OUTCOME_UNKNOWN`]).
    pub fn outcome_unknown(status: u16, message: impl Into<String>) -> AdapterError {
        AdapterError::Upstream(UpstreamError {
            status,
            code: Some(OUTCOME_UNKNOWN.to_owned()),
            message: message.into(),
        })
    }

    /// Whether this is [`AdapterError::outcome_unknown`].
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, AdapterError::Upstream(u) if u.code.as_deref() == Some(OUTCOME_UNKNOWN))
    }

    /// A single-field validation error.
    pub fn invalid(field: &str, message: impl Into<String>) -> AdapterError {
        AdapterError::Invalid(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    /// A short machine-readable name of the variant.
    pub fn kind(&self) -> &'static str {
        match self {
            AdapterError::Unsupported(_) => "unsupported",
            AdapterError::NotFound(_) => "not-found",
            AdapterError::Invalid(_) => "invalid",
            AdapterError::Conflict(_) => "conflict",
            AdapterError::Unauthorized(_) => "unauthorized",
            AdapterError::Forbidden(_) => "forbidden",
            AdapterError::RateLimited(_) => "rate-limited",
            AdapterError::Upstream(_) => "upstream",
            AdapterError::Transient(_) => "transient",
        }
    }
}

impl std::fmt::Display for AdapterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdapterError::Unsupported(r) => write!(f, "unsupported: {r}"),
            AdapterError::NotFound(r) => write!(f, "not found: {r}"),
            AdapterError::Invalid(errors) => {
                f.write_str("invalid input:")?;
                for (i, e) in errors.iter().enumerate() {
                    let sep = if i == 0 { " " } else { "; " };
                    write!(f, "{sep}{}: {}", e.field, e.message)?;
                }
                Ok(())
            }
            AdapterError::Conflict(r) => write!(f, "conflict: {r}"),
            AdapterError::Unauthorized(r) => write!(f, "unauthorized: {r}"),
            AdapterError::Forbidden(r) => write!(f, "forbidden: {r}"),
            AdapterError::RateLimited(Some(ms)) => write!(f, "rate limited; retry after {ms} ms"),
            AdapterError::RateLimited(None) => f.write_str("rate limited"),
            AdapterError::Upstream(u) => match &u.code {
                Some(code) => write!(f, "upstream error {} ({code}): {}", u.status, u.message),
                None => write!(f, "upstream error {}: {}", u.status, u.message),
            },
            AdapterError::Transient(r) => write!(f, "transient failure: {r}"),
        }
    }
}

impl std::error::Error for AdapterError {}
