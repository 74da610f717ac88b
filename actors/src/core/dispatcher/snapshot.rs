//! The dispatcher's state as plain data, to persist or hand to a restarted dispatcher.

use crate::core::action::ActionKey;
use crate::core::dispatcher::health::Health;
use crate::core::ids::{ActivationId, InvokerId};
use crate::core::time::Millis;
use serde::{Deserialize, Serialize};

/// One invoker as the dispatcher knew it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InvokerSnapshot {
    /// The invoker.
    pub invoker: InvokerId,
    /// Its user memory in MB.
    pub user_memory_mb: u64,
    /// When it last pinged.
    pub last_ping: Millis,
    /// Its health.
    pub health: Health,
    /// Until when an unhealthy invoker stays unhealthy.
    pub unhealthy_until: Millis,
}

/// One activation in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InFlightSnapshot {
    /// The activation.
    pub activation: ActivationId,
    /// Where it was placed.
    pub invoker: InvokerId,
    /// Its action.
    pub action: ActionKey,
    /// Its memory in MB.
    pub memory_mb: u64,
    /// Its action's concurrency.
    pub concurrency: u32,
    /// Whether the invoker reported it started.
    pub started: bool,
}

/// Everything a dispatcher needs to resume (bookings are recomputed from `in_flight`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DispatcherSnapshot {
    /// Registered invokers in id order.
    pub invokers: Vec<InvokerSnapshot>,
    /// Activations in flight in activation-id order.
    pub in_flight: Vec<InFlightSnapshot>,
}
