//! What a container pool is told (inputs) and what it asks for (effects).

use crate::core::action::{ActionKey, Kind};
use crate::core::ids::{ActivationId, ContainerId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One activation for the pool to run.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActivationRequest {
    /// The activation.
    pub activation: ActivationId,
    /// The action and version; containers are reused only for an equal key.
    pub action: ActionKey,
    /// The runtime kind (matches stem cells).
    pub kind: Kind,
    /// The action's memory in MB (the container's size).
    pub memory_mb: u64,
    /// How many activations one container of this action may run at once (0 is taken as 1).
    pub concurrency: u32,
    /// The action's own scaling (OpenFaaS functions), if it has one.
    #[serde(default)]
    pub scaling: Option<Scaling>,
}

/// An action's scaling (OpenFaaS's `com.openfaas.scale.*` labels): a warm floor, a ceiling, and
/// how long containers above the floor stay idle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scaling {
    /// Containers kept for the action once the pool knows it: they are never expired for
    /// idleness, and the pool creates them (as memory allows) when fewer exist. 0: all may go.
    pub min: u32,
    /// Most containers of the action at once (0: no ceiling); activations beyond it wait for a
    /// free one without holding up other actions.
    pub max: u32,
    /// Idle time after which a container above the floor is removed (`None`: the pool's
    /// keep-alive policy).
    pub idle_ms: Option<u64>,
}

/// Set an action's replica count (OpenFaaS's `/system/scale-function`): it becomes the action's
/// floor (and raises its ceiling if needed); idle containers above it are removed now and missing
/// ones created (as memory allows).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScaleRequest {
    /// The action and version the replicas are for.
    pub action: ActionKey,
    /// Its runtime kind, memory and concurrency (for the containers the pool creates).
    pub kind: Kind,
    pub memory_mb: u64,
    pub concurrency: u32,
    /// Its scaling labels.
    pub scaling: Scaling,
    /// The replicas wanted.
    pub replicas: u32,
}

/// Inputs of the container pool.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PoolInput {
    /// Run an activation.
    Schedule(ActivationRequest),
    /// The driver finished creating a container the pool asked for with [`PoolEffect::Create`].
    Created {
        /// The container.
        container: ContainerId,
    },
    /// The driver could not create the container (the host has cleaned up whatever was left). Its
    /// activations go back to the head of the queue, or are rejected after too many attempts.
    CreateFailed {
        /// The container.
        container: ContainerId,
        /// The driver's error, for the rejection message.
        error: String,
    },
    /// The container cannot be created because the action's image does not exist: the action's
    /// fault, so its activations are rejected at once (no retries) as developer errors.
    ImageUnavailable {
        /// The container.
        container: ContainerId,
        /// The driver's error, naming the image.
        error: String,
    },
    /// An activation ended normally and its container may be reused.
    RunFinished {
        /// The container.
        container: ContainerId,
        /// The activation.
        activation: ActivationId,
    },
    /// The container is broken (crashed, out of memory, init failed, timed out, developer error):
    /// the pool removes it, and the next activation gets a fresh one.
    ContainerFailed {
        /// The container.
        container: ContainerId,
        /// Why, for logs.
        reason: String,
    },
    /// Time passed: pause idle containers, remove expired ones, replenish stem cells.
    Tick,
    /// Set an action's replica count.
    Scale(ScaleRequest),
}

/// Why the pool removes a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RemovalReason {
    /// Idle longer than the keep-alive policy allows.
    Expired,
    /// Idle and evicted (least recently used) to make room for another action.
    Evicted,
    /// Reported failed by the host.
    Failed,
    /// Found at restart but not reusable (uninitialized, or over the pool's memory).
    NotAdopted,
    /// Reported created but the pool did not ask for it (or no longer knows it).
    Stray,
    /// Idle and above the replica count its action was scaled to.
    ScaledDown,
}

/// Why the pool refuses an activation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RejectReason {
    /// The action needs more memory than the whole pool has.
    MemoryExceedsPool {
        /// The action's memory in MB.
        requested_mb: u64,
        /// The pool's user memory in MB.
        pool_mb: u64,
    },
    /// The action's image does not exist on the invoker's host.
    ImageUnavailable {
        /// The driver's error, naming the image.
        error: String,
    },
    /// Creating a container for it failed too many times.
    ContainerCreateFailed {
        /// How many creations failed.
        attempts: u32,
        /// The last driver error.
        error: String,
    },
}

impl RejectReason {
    /// True when the action is to blame (its image is missing), not the platform.
    pub fn is_developer_error(&self) -> bool {
        matches!(self, RejectReason::ImageUnavailable { .. })
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::MemoryExceedsPool {
                requested_mb,
                pool_mb,
            } => write!(
                f,
                "the action needs {requested_mb} MB but the container pool has {pool_mb} MB"
            ),
            RejectReason::ImageUnavailable { error } => f.write_str(error),
            RejectReason::ContainerCreateFailed { attempts, error } => write!(
                f,
                "failed to provision a container after {attempts} attempts: {error}"
            ),
        }
    }
}

/// Effects of the container pool. The host carries out the effects of one container in the order
/// given (a `Pause` before a later `Unpause`, an `Init` before its `Run`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PoolEffect {
    /// Create a container; answer with [`PoolInput::Created`] or [`PoolInput::CreateFailed`].
    Create {
        /// The handle the pool chose for it.
        container: ContainerId,
        /// The runtime kind (image) to start.
        kind: Kind,
        /// Its memory limit in MB.
        memory_mb: u64,
        /// The action it is created for, or `None` for a stem cell.
        for_action: Option<ActionKey>,
    },
    /// Initialize the container with the action of `activation` (the first run in this container;
    /// the host reports the init time for the `initTime` annotation).
    Init {
        /// The container.
        container: ContainerId,
        /// The activation whose action code to load.
        activation: ActivationId,
    },
    /// Run the activation in the container; answer with [`PoolInput::RunFinished`] or
    /// [`PoolInput::ContainerFailed`].
    Run {
        /// The container.
        container: ContainerId,
        /// The activation.
        activation: ActivationId,
    },
    /// Pause the idle container.
    Pause {
        /// The container.
        container: ContainerId,
    },
    /// Unpause the container (a `Run` on it follows).
    Unpause {
        /// The container.
        container: ContainerId,
    },
    /// Destroy the container.
    Remove {
        /// The container.
        container: ContainerId,
        /// Why.
        reason: RemovalReason,
    },
    /// The pool will not run the activation: the host records a whisk internal error for it.
    Reject {
        /// The activation.
        activation: ActivationId,
        /// Why.
        reason: RejectReason,
    },
    /// The activation was running in a container reported failed; the pool forgot it. The host makes
    /// sure it ends with exactly one record (normally the failure its run already reported).
    Lost {
        /// The activation.
        activation: ActivationId,
        /// The failed container.
        container: ContainerId,
    },
}
