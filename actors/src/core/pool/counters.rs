//! Cumulative counters of a container pool, for metrics.

use serde::{Deserialize, Serialize};

/// What the pool has done since it was built (never reset; a restored pool starts from zero).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PoolCounters {
    /// Activations that caused a new container to be created for their action.
    pub cold_starts: u64,
    /// Activations placed on a container already dedicated to their action (ready, running with a
    /// spare slot, paused, or still starting for an earlier activation).
    pub warm_starts: u64,
    /// Activations that took a stem cell.
    pub prewarm_starts: u64,
    /// Idle containers removed to make room.
    pub evictions: u64,
    /// Idle containers removed by the keep-alive policy.
    pub expirations: u64,
    /// Containers paused.
    pub pauses: u64,
    /// Container creations that failed.
    pub create_failures: u64,
    /// Containers reported failed.
    pub container_failures: u64,
    /// Activations rejected.
    pub rejections: u64,
}
