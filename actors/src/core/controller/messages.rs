//! What the controller core is told (inputs) and what it asks its host to do (effects).

use crate::core::action::ActionKey;
use crate::core::dispatcher::NoInvoker;
use crate::core::ids::{ActivationId, InvokerId};
use crate::core::throttle::Throttled;
use serde::{Deserialize, Serialize};

/// One invocation a client asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InvocationRequest {
    /// The id the activation will have.
    pub activation: ActivationId,
    /// The action and version to run (the namespace is the one throttled).
    pub action: ActionKey,
    /// The action's memory in MB.
    pub memory_mb: u64,
    /// Activations one container of the action may run at once.
    pub concurrency: u32,
    /// The action's time limit; with the controller's grace it bounds how long the controller waits
    /// for a completion before it declares the activation lost.
    pub timeout_ms: u64,
}

/// An invocation accepted before a restart and not yet recorded, found in the log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PendingInvocation {
    /// The request as it was accepted.
    pub request: InvocationRequest,
    /// The invoker it was sent to.
    pub invoker: InvokerId,
    /// When it was accepted.
    pub accepted_at: crate::core::time::Millis,
}

/// Inputs of the controller core.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ControllerInput {
    /// A client invokes an action.
    Invoke(InvocationRequest),
    /// A durable queue delivers an invocation it accepted earlier (its rate was counted then,
    /// through [`crate::core::throttle::Throttles::admit_queued`]): it takes a concurrent slot and
    /// is placed like `Invoke`. A `Refuse` tells the host to hold it and deliver it again later
    /// (throttled) or to count a failed attempt (no invoker); nothing is recorded either way.
    Deliver(InvocationRequest),
    /// An invoker says an activation ended (its record travels with the host's message).
    Completed {
        /// The activation.
        activation: ActivationId,
        /// The invoker that ran it.
        invoker: InvokerId,
        /// Whether it ended with a whisk internal error (counts against the invoker's health).
        system_error: bool,
    },
    /// An invoker is alive.
    Ping {
        /// The invoker.
        invoker: InvokerId,
        /// Its user memory in MB.
        user_memory_mb: u64,
        /// Changes when the invoker process restarts.
        incarnation: u64,
    },
    /// Time passed: invoker health, lost activations.
    Tick,
}

/// Why an invocation ended without running.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Refusal {
    /// Over a namespace limit (HTTP 429).
    Throttled(Throttled),
    /// No invoker can take it (HTTP 503).
    NoInvoker(NoInvoker),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Throttled(throttled) => throttled.fmt(f),
            Refusal::NoInvoker(_) => f.write_str("No invokers available."),
        }
    }
}

/// Why an accepted activation is given up on (it ends with a whisk internal error record).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LostReason {
    /// The invoker went offline after it had started the activation.
    InvokerOffline(InvokerId),
    /// The invoker restarted (a new incarnation) while the activation was on it.
    InvokerRestarted(InvokerId),
    /// No completion arrived within the action's time limit plus the controller's grace.
    NoCompletion {
        /// How long the controller waited, in ms.
        waited_ms: u64,
    },
}

impl std::fmt::Display for LostReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LostReason::InvokerOffline(invoker) => {
                write!(f, "The activation was lost: {invoker} went offline while running it.")
            }
            LostReason::InvokerRestarted(invoker) => {
                write!(f, "The activation was lost: {invoker} restarted while running it.")
            }
            LostReason::NoCompletion { waited_ms } => write!(
                f,
                "The activation was lost: no invoker reported its end within {waited_ms} milliseconds."
            ),
        }
    }
}

/// Effects of the controller core, to be carried out in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ControllerEffect {
    /// Refuse the invocation; nothing is recorded.
    Refuse {
        /// The activation that will not exist.
        activation: ActivationId,
        /// Why.
        refusal: Refusal,
    },
    /// Record the invocation as accepted and send it to `invoker`.
    Dispatch {
        /// The activation.
        activation: ActivationId,
        /// Where it runs.
        invoker: InvokerId,
    },
    /// Send an accepted activation again, to another invoker (its first one went offline before
    /// starting it). The host re-sends the same message; the log is not touched.
    Redispatch {
        /// The activation.
        activation: ActivationId,
        /// Where it runs now.
        invoker: InvokerId,
    },
    /// Record the completion the invoker reported (exactly once per activation) and answer anyone
    /// waiting for it.
    Record {
        /// The activation.
        activation: ActivationId,
    },
    /// Record a whisk internal error for the activation and answer anyone waiting for it.
    RecordLost {
        /// The activation.
        activation: ActivationId,
        /// Why it is lost.
        reason: LostReason,
    },
    /// Drop a completion that is not (or no longer) expected: a duplicate, or a late report for an
    /// activation already recorded.
    Ignore {
        /// The activation.
        activation: ActivationId,
    },
}
