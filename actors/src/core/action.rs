//! What the cores need to know about an action: its identity for container reuse, its runtime kind
//! and its limits.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The identity under which containers are reused: the invocation namespace, the fully qualified
/// action name and the action version. Two activations share a container only when all three match,
/// so a container never serves two namespaces and an updated action never reuses an old container.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ActionKey {
    /// The namespace the activation runs in (the caller's namespace).
    pub namespace: String,
    /// The fully qualified action name, e.g. `ns/pkg/action`.
    pub action: String,
    /// The action version, e.g. `0.0.2` (bumped on every update).
    pub version: String,
}

impl ActionKey {
    /// Builds a key from its three parts.
    pub fn new(
        namespace: impl Into<String>,
        action: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        ActionKey {
            namespace: namespace.into(),
            action: action.into(),
            version: version.into(),
        }
    }
}

impl fmt::Display for ActionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}@{}", self.namespace, self.action, self.version)
    }
}

/// A runtime kind such as `python:3`, `nodejs:20` or `blackbox`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Kind(pub String);

impl Kind {
    /// Wraps a kind name.
    pub fn new(kind: impl Into<String>) -> Self {
        Kind(kind.into())
    }

    /// The kind name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An action's limits, as OpenWhisk stores them (`limits` of an action document).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActionLimits {
    /// Time limit of one activation in milliseconds (OpenWhisk default 60 000).
    pub timeout_ms: u64,
    /// Memory of the action's container in MB (default 256).
    pub memory_mb: u64,
    /// Log limit in MB (default 10).
    pub logs_mb: u64,
    /// Activations one container may run at once (default 1).
    pub concurrency: u32,
}

impl Default for ActionLimits {
    fn default() -> Self {
        ActionLimits {
            timeout_ms: 60_000,
            memory_mb: 256,
            logs_mb: 10,
            concurrency: 1,
        }
    }
}

impl ActionLimits {
    /// The log limit in bytes (OpenWhisk counts a megabyte as 1024 * 1024 bytes).
    pub fn log_limit_bytes(&self) -> u64 {
        self.logs_mb.saturating_mul(1024 * 1024)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_any_part() {
        let a = ActionKey::new("ns", "ns/a", "0.0.1");
        assert_ne!(a, ActionKey::new("other", "ns/a", "0.0.1"));
        assert_ne!(a, ActionKey::new("ns", "ns/b", "0.0.1"));
        assert_ne!(a, ActionKey::new("ns", "ns/a", "0.0.2"));
        assert_eq!(a.to_string(), "ns:ns/a@0.0.1");
    }

    #[test]
    fn the_log_limit_counts_megabytes_of_1024_squared_bytes() {
        assert_eq!(ActionLimits::default().log_limit_bytes(), 10 * 1024 * 1024);
    }
}
