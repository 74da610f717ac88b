//! Triggers and rules: a fired trigger invokes the action of every active rule that names it.

use super::{FullyQualifiedName, JsonText, SemVer};
use serde::{Deserialize, Serialize};

/// A trigger as persisted by `TriggerPut`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerDoc {
    pub namespace: String,
    pub name: String,
    pub version: SemVer,
    pub publish: bool,
    /// JSON array of `{key, value}`.
    pub annotations: JsonText,
    /// JSON array of `{key, value}`.
    pub parameters: JsonText,
    pub updated_ms: u64,
}

/// Whether a rule fires its action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RuleStatus {
    Active,
    Inactive,
}

impl RuleStatus {
    /// OpenWhisk's spelling: `active` or `inactive`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Active => "active",
            RuleStatus::Inactive => "inactive",
        }
    }
}

/// A rule as persisted by `RulePut`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDoc {
    pub namespace: String,
    pub name: String,
    pub version: SemVer,
    pub publish: bool,
    /// JSON array of `{key, value}`.
    pub annotations: JsonText,
    pub trigger: FullyQualifiedName,
    pub action: FullyQualifiedName,
    pub status: RuleStatus,
    pub updated_ms: u64,
}
