//! The four activation statuses of OpenWhisk.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How an activation ended (`response.status` / `response.statusCode` of the record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ActivationStatus {
    /// 0, "success": the action returned a JSON object without `error`.
    Success,
    /// 1, "application error": the action returned a JSON object holding `error`.
    ApplicationError,
    /// 2, "action developer error": init failed, the action crashed, timed out, ran out of memory,
    /// or answered something that is not a JSON object (or too large).
    DeveloperError,
    /// 3, "whisk internal error": the platform failed.
    WhiskError,
}

impl ActivationStatus {
    /// The numeric `statusCode`.
    pub fn code(self) -> u8 {
        match self {
            ActivationStatus::Success => 0,
            ActivationStatus::ApplicationError => 1,
            ActivationStatus::DeveloperError => 2,
            ActivationStatus::WhiskError => 3,
        }
    }

    /// The `status` text of the record.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivationStatus::Success => "success",
            ActivationStatus::ApplicationError => "application error",
            ActivationStatus::DeveloperError => "action developer error",
            ActivationStatus::WhiskError => "whisk internal error",
        }
    }

    /// `response.success`: true only for [`ActivationStatus::Success`].
    pub fn is_success(self) -> bool {
        self == ActivationStatus::Success
    }
}

impl fmt::Display for ActivationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_texts_match_openwhisk() {
        let all = [
            (ActivationStatus::Success, 0, "success"),
            (ActivationStatus::ApplicationError, 1, "application error"),
            (
                ActivationStatus::DeveloperError,
                2,
                "action developer error",
            ),
            (ActivationStatus::WhiskError, 3, "whisk internal error"),
        ];
        for (status, code, text) in all {
            assert_eq!(status.code(), code);
            assert_eq!(status.to_string(), text);
            assert_eq!(status.is_success(), code == 0);
        }
    }
}
