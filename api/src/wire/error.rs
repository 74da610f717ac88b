//! The error body of every non-2xx answer (`{"error", "code"}`), and [`WireError`]: why a request
//! body does not describe a valid entity.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// OpenWhisk's error body: a message and the request id (`X-Request-ID`) as `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    pub error: String,
    pub code: String,
}

/// A request body that parses as JSON but does not describe a valid entity. The message names the
/// field and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("{field} is required{context}")]
    Missing {
        field: &'static str,
        context: String,
    },
    #[error("{field} is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("kind '{kind}' is not supported (known kinds: {known})")]
    UnknownKind { kind: String, known: String },
}
