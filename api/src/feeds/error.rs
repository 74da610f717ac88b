//! `FeedError`: why a feed action or the alarm feed actor refused or failed, with the HTTP-style
//! status the feed action's error result carries (`{"error": ..., "statusCode": N}`).

use serde_json::{json, Value};

/// What went wrong with a feed; each message names the parameter, trigger or step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// A parameter is missing or wrong (400).
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// `authKey` is missing or unknown (401).
    #[error("authKey: {0}")]
    Unauthenticated(String),
    /// The key does not own the trigger's namespace (403).
    #[error("the authKey's namespace {key_namespace} does not own the trigger {trigger}")]
    Forbidden {
        key_namespace: String,
        trigger: String,
    },
    /// The trigger or its feed does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The trigger already has a feed (409).
    #[error("{0}")]
    Conflict(String),
    /// The store or the platform failed (500).
    #[error("{what}: {reason}")]
    Internal { what: &'static str, reason: String },
}

/// `Result` with [`FeedError`].
pub type Result<T, E = FeedError> = std::result::Result<T, E>;

impl FeedError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        FeedError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// Wraps a failure of `what` (a store append, a projection read).
    pub fn internal(what: &'static str) -> impl FnOnce(String) -> Self {
        move |reason| FeedError::Internal { what, reason }
    }

    /// The HTTP-style status of the error.
    pub fn status_code(&self) -> u16 {
        match self {
            FeedError::Invalid { .. } => 400,
            FeedError::Unauthenticated(_) => 401,
            FeedError::Forbidden { .. } => 403,
            FeedError::NotFound(_) => 404,
            FeedError::Conflict(_) => 409,
            FeedError::Internal { .. } => 500,
        }
    }

    /// The feed action's error result.
    pub fn to_result(&self) -> Value {
        json!({"error": self.to_string(), "statusCode": self.status_code()})
    }
}
