//! Activation records: the outcome of one invocation (the bulk of the log).

use super::{ActivationId, JsonText, SemVer};
use serde::{Deserialize, Serialize};

/// The four OpenWhisk activation statuses (status codes 0 to 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActivationStatus {
    Success,
    ApplicationError,
    ActionDeveloperError,
    WhiskInternalError,
}

impl ActivationStatus {
    /// OpenWhisk's `response.status` text.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivationStatus::Success => "success",
            ActivationStatus::ApplicationError => "application error",
            ActivationStatus::ActionDeveloperError => "action developer error",
            ActivationStatus::WhiskInternalError => "whisk internal error",
        }
    }

    /// OpenWhisk's `response.statusCode`.
    pub fn status_code(self) -> u8 {
        match self {
            ActivationStatus::Success => 0,
            ActivationStatus::ApplicationError => 1,
            ActivationStatus::ActionDeveloperError => 2,
            ActivationStatus::WhiskInternalError => 3,
        }
    }
}

/// An activation record as persisted by `ActivationRecorded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationDoc {
    pub activation_id: ActivationId,
    pub namespace: String,
    /// The action (or trigger) name.
    pub name: String,
    pub package: Option<String>,
    /// The namespace of the key that invoked.
    pub subject: String,
    pub version: SemVer,
    pub start_ms: u64,
    pub end_ms: u64,
    pub duration_ms: u64,
    /// The activation that caused this one (a sequence or a trigger fire).
    pub cause: Option<ActivationId>,
    pub status: ActivationStatus,
    /// `response.result`: a JSON object.
    pub result: JsonText,
    pub logs: Vec<String>,
    /// JSON array of `{key, value}`.
    pub annotations: JsonText,
}
