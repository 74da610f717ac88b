//! What the invoker core is told (inputs) and what it asks its host to do (effects).

use crate::core::action::{ActionKey, ActionLimits, Kind};
use crate::core::ids::{ActivationId, ContainerId};
use crate::core::lifecycle::{ActivationOutcome, InitResult, PhaseFacts, RunResult};
use crate::core::pool::{RemovalReason, ScaleRequest, Scaling};
use crate::core::time::Millis;
use serde::{Deserialize, Serialize};

/// One activation for this invoker.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunSpec {
    pub activation: ActivationId,
    /// The action and version (containers are reused only for an equal key).
    pub action: ActionKey,
    /// The fully qualified name, for the `path` annotation.
    pub path: String,
    pub kind: Kind,
    pub limits: ActionLimits,
    /// The largest result accepted, in bytes.
    pub max_result_bytes: u64,
    /// When the controller accepted it (for `waitTime`).
    pub accepted_at: Millis,
    /// The action's own scaling (OpenFaaS functions), for the pool.
    #[serde(default)]
    pub scaling: Option<Scaling>,
}

/// What one execution (init when asked, then run) did.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Executed {
    pub container: ContainerId,
    pub activation: ActivationId,
    /// The init, when the execution included one.
    pub init: Option<PhaseFacts<InitResult>>,
    /// The run, unless the init failed (or the platform failed first).
    pub run: Option<PhaseFacts<RunResult>>,
    /// A platform failure (the driver could not do its part).
    pub platform_error: Option<String>,
    /// The log lines of the init and run, formatted.
    pub logs: Vec<String>,
    /// Whether the container is gone (killed on timeout, crashed): it must not be reused.
    pub container_lost: bool,
}

/// Inputs of the invoker core.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InvokerInput {
    /// Run an activation.
    Run(RunSpec),
    /// Set an action's replica count (passed to the pool).
    Scale(ScaleRequest),
    /// A container the core asked for exists.
    Created { container: ContainerId },
    /// A container the core asked for could not be created.
    CreateFailed {
        container: ContainerId,
        error: String,
    },
    /// A container could not be created because the action's image does not exist.
    ImageUnavailable {
        container: ContainerId,
        error: String,
    },
    /// An execution ended.
    Executed(Executed),
    /// A pause, unpause or remove failed: the container is treated as broken.
    DriverFailed {
        container: ContainerId,
        error: String,
    },
    /// Time passed.
    Tick,
}

/// Effects of the invoker core. The host carries out the effects of one container in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InvokerEffect {
    /// Create a container (a stem cell when `for_action` is `None`).
    Create {
        container: ContainerId,
        kind: Kind,
        memory_mb: u64,
        for_action: Option<ActionKey>,
    },
    /// Init the container with the activation's action when `init`, then run the activation.
    Execute {
        container: ContainerId,
        activation: ActivationId,
        init: bool,
    },
    Pause {
        container: ContainerId,
    },
    Unpause {
        container: ContainerId,
    },
    Remove {
        container: ContainerId,
        reason: RemovalReason,
    },
    /// The activation ended: record it and publish its completion. `system_error` is true when it
    /// failed through a fault of this invoker that persists (a container could not be created or
    /// driven), false otherwise (including activations lost to a restart the invoker recovered from).
    Complete {
        outcome: Box<ActivationOutcome>,
        system_error: bool,
    },
}
