//! An action's `limits` object: `{timeout (ms), memory (MB), logs (MB), concurrency}`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::ActionLimits;

/// The limits of an action as responses show them (every field set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionLimitsBody {
    pub timeout: u64,
    pub memory: u32,
    pub logs: u32,
    pub concurrency: u32,
}

impl From<&ActionLimits> for ActionLimitsBody {
    fn from(limits: &ActionLimits) -> Self {
        Self {
            timeout: limits.timeout_ms,
            memory: limits.memory_mb,
            logs: limits.logs_mb,
            concurrency: limits.concurrency,
        }
    }
}

/// The limits a `PUT` may set; a field left out keeps its current (or default) value. Ranges are
/// checked by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionLimitsPut {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

impl ActionLimitsPut {
    /// `base` with the fields this request sets.
    pub fn applied_to(&self, base: ActionLimits) -> ActionLimits {
        ActionLimits {
            timeout_ms: self.timeout.unwrap_or(base.timeout_ms),
            memory_mb: self.memory.unwrap_or(base.memory_mb),
            logs_mb: self.logs.unwrap_or(base.logs_mb),
            concurrency: self.concurrency.unwrap_or(base.concurrency),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_partial_put_keeps_the_other_limits() {
        let put: ActionLimitsPut = serde_json::from_str(r#"{"memory":512}"#).unwrap();
        let limits = put.applied_to(ActionLimits::default());
        assert_eq!(limits.memory_mb, 512);
        assert_eq!(limits.timeout_ms, 60_000);
        assert_eq!(
            serde_json::to_string(&ActionLimitsBody::from(&limits)).unwrap(),
            r#"{"timeout":60000,"memory":512,"logs":10,"concurrency":1}"#
        );
    }
}
