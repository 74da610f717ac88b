//! Configuration of a container pool: memory, pause grace, keep-alive policy and stem cells.

use crate::core::action::Kind;
use crate::core::pool::keep_alive::HistogramPolicy;
use crate::core::time::Millis;
use serde::{Deserialize, Serialize};

/// When an idle action container is removed. A value type, so other policies (per kind, adaptive
/// to the action's invocation pattern) can be added as variants without touching the pool.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeepAlivePolicy {
    /// Remove a container once it has been idle (ready or paused, nothing running) for `idle_ms`
    /// since its last activation ended. OpenWhisk's fixed keep-alive is 10 minutes.
    IdleFor {
        /// Idle time before removal, in milliseconds.
        idle_ms: u64,
    },
    /// Adaptive per action: windows read off a histogram of the action's idle times (see
    /// [`HistogramPolicy`]): containers stay loaded as long as the action's history says an
    /// arrival is worth waiting for, and an action with a regular pattern is unloaded after each
    /// run and pre-warmed (a container created for it) shortly before its next arrival.
    /// [`KeepAlivePolicy::whirl`] is the policy of the keep-alive study (docs/benchmarks.md).
    Histogram(HistogramPolicy),
}

impl KeepAlivePolicy {
    /// OpenWhisk's default: 10 minutes idle.
    pub const DEFAULT: KeepAlivePolicy = KeepAlivePolicy::IdleFor { idle_ms: 600_000 };

    /// Whirl's adaptive policy ([`HistogramPolicy::whirl`]).
    pub fn whirl() -> Self {
        KeepAlivePolicy::Histogram(HistogramPolicy::whirl())
    }

    /// The paper's hybrid histogram policy ([`HistogramPolicy::paper`]).
    pub fn hybrid_histogram() -> Self {
        KeepAlivePolicy::Histogram(HistogramPolicy::paper())
    }

    /// When a container idle since `idle_since` is to be removed, for a container the policy knows
    /// nothing more about (a histogram policy uses its standard keep-alive then).
    pub fn expires_at(&self, idle_since: Millis) -> Millis {
        match self {
            KeepAlivePolicy::IdleFor { idle_ms } => idle_since.plus(*idle_ms),
            KeepAlivePolicy::Histogram(policy) => idle_since.plus(policy.standard_keep_alive_ms),
        }
    }
}

impl Default for KeepAlivePolicy {
    fn default() -> Self {
        KeepAlivePolicy::DEFAULT
    }
}

/// How many stem cells (prewarmed, not yet initialized containers) of one kind and memory the pool
/// keeps ready.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PrewarmSpec {
    /// The runtime kind, e.g. `python:3`.
    pub kind: Kind,
    /// The memory of each stem cell in MB (an action takes a stem cell only with the same memory).
    pub memory_mb: u64,
    /// How many to keep.
    pub count: u32,
}

/// Configuration of one invoker's container pool.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PoolConfig {
    /// Memory all containers together may use, in MB (OpenWhisk's invoker `user-memory`).
    pub user_memory_mb: u64,
    /// Pause an idle action container after this long (OpenWhisk's `pause-grace`, default 10 s);
    /// `None` never pauses (for drivers that cannot pause).
    pub pause_grace_ms: Option<u64>,
    /// When idle action containers are removed.
    pub keep_alive: KeepAlivePolicy,
    /// Stem cells to keep per kind and memory.
    pub prewarm: Vec<PrewarmSpec>,
    /// After this many failed container creations for one activation, it is rejected (default 3).
    pub max_create_attempts: u32,
    /// TEST ONLY (exists with the `planted-bug` feature or in this crate's tests): when `true`, the
    /// pool reuses a warm container for another version of the same action, a known bug the
    /// deterministic simulator must find. Always `false` unless a test sets it.
    #[cfg(any(test, feature = "planted-bug"))]
    #[serde(default)]
    pub planted_bug_reuse_across_versions: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            user_memory_mb: 2048,
            pause_grace_ms: Some(10_000),
            keep_alive: KeepAlivePolicy::DEFAULT,
            prewarm: Vec::new(),
            max_create_attempts: 3,
            #[cfg(any(test, feature = "planted-bug"))]
            planted_bug_reuse_across_versions: false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn fixed_keep_alive_counts_from_idle_start() {
        assert_eq!(
            KeepAlivePolicy::default().expires_at(Millis(5)),
            Millis(600_005)
        );
        let short = KeepAlivePolicy::IdleFor { idle_ms: 100 };
        assert_eq!(short.expires_at(Millis(50)), Millis(150));
        assert_eq!(
            KeepAlivePolicy::whirl().expires_at(Millis(5)),
            Millis(600_005),
            "whirl's standard keep-alive is 10 minutes"
        );
    }
}
