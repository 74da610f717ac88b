//! Namespaces on the wire: `GET /namespaces/{ns}/limits` and the `count=true` bodies.

use serde::{Deserialize, Serialize};

/// `GET /namespaces/{ns}/limits`: the limits in force for the namespace (OpenWhisk's
/// `UserLimits` with the system's action limits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceLimitsBody {
    pub invocations_per_minute: u32,
    pub concurrent_invocations: u32,
    pub fires_per_minute: u32,
    pub min_action_memory: u32,
    pub max_action_memory: u32,
    pub min_action_timeout: u64,
    pub max_action_timeout: u64,
    pub min_action_logs: u32,
    pub max_action_logs: u32,
    pub min_action_concurrency: u32,
    pub max_action_concurrency: u32,
    /// Bytes.
    pub max_parameter_size: u64,
    /// Bytes.
    pub max_payload_size: u64,
}

/// `{"<collection>": N}`, the answer of a list with `count=true`.
pub fn count_body(collection: &str, count: usize) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    body.insert(collection.to_owned(), serde_json::Value::from(count));
    serde_json::Value::Object(body)
}
