//! The throttle refusal, whose text is OpenWhisk's 429 message.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which throttle refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ThrottleKind {
    /// Action invocations per minute.
    InvocationsPerMinute,
    /// Concurrent action invocations.
    ConcurrentInvocations,
    /// Trigger fires per minute.
    FiresPerMinute,
}

/// A request refused by a throttle (HTTP 429). `Display` gives OpenWhisk's exact messages:
/// "Too many requests in the last minute (count: N, allowed: M)." for the per-minute throttles and
/// "Too many concurrent requests in flight (count: N, allowed: M)." for concurrency.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
pub struct Throttled {
    /// The namespace that was refused (not part of the message, for logs and metrics).
    pub namespace: String,
    /// The throttle that refused.
    pub kind: ThrottleKind,
    /// Requests this minute including the refused one, or invocations in flight.
    pub count: u32,
    /// The namespace's limit.
    pub allowed: u32,
}

impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ThrottleKind::InvocationsPerMinute | ThrottleKind::FiresPerMinute => write!(
                f,
                "Too many requests in the last minute (count: {}, allowed: {}).",
                self.count, self.allowed
            ),
            ThrottleKind::ConcurrentInvocations => write!(
                f,
                "Too many concurrent requests in flight (count: {}, allowed: {}).",
                self.count, self.allowed
            ),
        }
    }
}
