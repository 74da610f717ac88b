//! Throttle limits: the platform defaults and the per-namespace overrides.

use serde::{Deserialize, Serialize};

/// The default limits of every namespace (OpenWhisk's shipped defaults: 60 invocations per minute,
/// 30 concurrent invocations, 60 trigger fires per minute).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ThrottleConfig {
    /// Action invocations per calendar minute.
    pub invocations_per_minute: u32,
    /// Action invocations in flight at once.
    pub concurrent_invocations: u32,
    /// Trigger fires per calendar minute.
    pub fires_per_minute: u32,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            invocations_per_minute: 60,
            concurrent_invocations: 30,
            fires_per_minute: 60,
        }
    }
}

/// The limits of one namespace; a `None` field means "use the default". This is also the shape of
/// OpenWhisk's namespace `limits` document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NamespaceLimits {
    /// Action invocations per calendar minute.
    pub invocations_per_minute: Option<u32>,
    /// Action invocations in flight at once.
    pub concurrent_invocations: Option<u32>,
    /// Trigger fires per calendar minute.
    pub fires_per_minute: Option<u32>,
}
