//! Namespaces on the wire: `GET /namespaces/{ns}/limits` and the `count=true` bodies.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `GET /namespaces/{ns}/limits`: the limits in force for the namespace (OpenWhisk's
/// `UserLimits` with the system's action limits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

/// Per-namespace throttle overrides, as the operator sets them (absent: the system default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceThrottles {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocations_per_minute: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent_invocations: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fires_per_minute: Option<u32>,
}

impl From<store::NamespaceLimits> for NamespaceThrottles {
    fn from(limits: store::NamespaceLimits) -> Self {
        Self {
            invocations_per_minute: limits.invocations_per_minute,
            concurrent_invocations: limits.concurrent_invocations,
            fires_per_minute: limits.fires_per_minute,
        }
    }
}

impl From<NamespaceThrottles> for store::NamespaceLimits {
    fn from(limits: NamespaceThrottles) -> Self {
        Self {
            invocations_per_minute: limits.invocations_per_minute,
            concurrent_invocations: limits.concurrent_invocations,
            fires_per_minute: limits.fires_per_minute,
        }
    }
}

/// `POST /admin/v1/namespaces`: a namespace to create, with optional throttle overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NamespaceCreate {
    #[schemars(pattern(crate::names::NAME_PATTERN))]
    pub name: String,
    /// `null` or left out: the server's defaults.
    #[serde(default, deserialize_with = "super::strict::object_or_default")]
    #[schemars(with = "Option<NamespaceThrottles>")]
    pub limits: NamespaceThrottles,
}

/// The answer of a namespace creation: its first key, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IssuedNamespaceKey {
    pub namespace: String,
    pub uuid: String,
    pub key: String,
}

impl IssuedNamespaceKey {
    /// `uuid:key`.
    pub fn credentials(&self) -> String {
        format!("{}:{}", self.uuid, self.key)
    }
}

/// One namespace of `GET /admin/v1/namespaces`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NamespaceListing {
    pub namespace: String,
    /// The uuids of its keys.
    pub keys: Vec<String>,
    pub limits: NamespaceThrottles,
    pub created: u64,
}
