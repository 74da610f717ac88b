//! The dispatcher's configuration, requests, inputs, effects and refusal.

use crate::core::action::ActionKey;
use crate::core::dispatcher::health::Health;
use crate::core::ids::{ActivationId, InvokerId};
use serde::{Deserialize, Serialize};

/// Tuning of the dispatcher.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DispatcherConfig {
    /// An invoker silent for this long is offline (default 3 000 ms; OpenWhisk uses 10 s).
    pub offline_after_ms: u64,
    /// How many recent completions per invoker are remembered for health (default 10).
    pub health_window: usize,
    /// This many whisk internal errors within the window make an invoker unhealthy (default 3).
    pub unhealthy_after_system_errors: usize,
    /// An unhealthy invoker becomes healthy again at its first ping after this long (default 10 000 ms).
    pub unhealthy_hold_ms: u64,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            offline_after_ms: 3_000,
            health_window: 10,
            unhealthy_after_system_errors: 3,
            unhealthy_hold_ms: 10_000,
        }
    }
}

/// One activation to place on an invoker.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DispatchRequest {
    /// The activation.
    pub activation: ActivationId,
    /// The action; namespace and action name pick the home invoker.
    pub action: ActionKey,
    /// The action's memory limit in MB.
    pub memory_mb: u64,
    /// The action's per-container concurrency (1 when it runs one activation per container).
    pub concurrency: u32,
}

/// Where an activation was placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Placement {
    /// The chosen invoker.
    pub invoker: InvokerId,
    /// `true` when no healthy invoker had capacity and a random healthy one was chosen anyway
    /// (the system is overloaded; the invoker's pool will queue the activation).
    pub forced: bool,
}

/// What the dispatcher is told.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DispatcherInput {
    /// An invoker announced itself (registers it on the first ping) with its user memory.
    Ping {
        /// The invoker.
        invoker: InvokerId,
        /// Memory its container pool may use, in MB.
        user_memory_mb: u64,
    },
    /// The invoker started running the activation (a container was assigned): if the invoker goes
    /// offline now, the activation must not be run again elsewhere.
    ActivationStarted {
        /// The activation.
        activation: ActivationId,
    },
    /// The activation ended; its booking is returned. `system_error` is `true` when it ended with a
    /// whisk internal error (counts against the invoker's health).
    ActivationCompleted {
        /// The activation.
        activation: ActivationId,
        /// Whether the status was "whisk internal error".
        system_error: bool,
    },
    /// Time passed: invokers silent for `offline_after_ms` go offline.
    Tick,
}

/// Which report about an activation the dispatcher did not expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReportKind {
    /// An `ActivationStarted`.
    Started,
    /// An `ActivationCompleted`.
    Completed,
}

/// What the dispatcher asks its host to do or to know.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DispatcherEffect {
    /// An invoker's health changed (log it, export it as a metric).
    HealthChanged {
        /// The invoker.
        invoker: InvokerId,
        /// Health before.
        from: Health,
        /// Health now.
        to: Health,
    },
    /// An invoker went offline holding these activations. The dispatcher has forgotten them and
    /// returned their bookings. The host schedules `not_started` again and records a whisk internal
    /// error for each of `started` (they may have run; running them again could run them twice).
    InvokerOffline {
        /// The invoker.
        invoker: InvokerId,
        /// Activations sent to it that had not reported a start, in activation-id order.
        not_started: Vec<ActivationId>,
        /// Activations it had started, in activation-id order.
        started: Vec<ActivationId>,
    },
    /// A report about an activation the dispatcher does not hold (already completed, or handed back
    /// when its invoker went offline). The host must not record it a second time.
    StaleReport {
        /// The activation.
        activation: ActivationId,
        /// Which report it was.
        kind: ReportKind,
    },
}

/// No healthy invoker could take the activation (HTTP 503).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[error(
    "no healthy invoker for activation {activation} of action {action} ({registered} invokers registered)"
)]
pub struct NoInvoker {
    /// The activation that could not be placed.
    pub activation: ActivationId,
    /// The fully qualified action name.
    pub action: String,
    /// How many invokers are registered (in any health).
    pub registered: usize,
}
