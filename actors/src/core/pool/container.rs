//! One container as the pool tracks it, and its read-only view.

use crate::core::action::{ActionKey, Kind};
use crate::core::ids::{ActivationId, ContainerId};
use crate::core::pool::messages::ActivationRequest;
use crate::core::time::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The observable state of a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ContainerState {
    /// Being created by the driver.
    Starting,
    /// A stem cell: created, not yet dedicated to an action.
    Prewarmed,
    /// Dedicated to an action and running at least one activation.
    Running,
    /// Dedicated to an action, idle and unpaused (warm).
    Ready,
    /// Dedicated to an action, idle and paused.
    Paused,
}

/// Where a container is in its life (the rest of [`ContainerState`] follows from what runs in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Starting,
    Up,
    Paused,
}

/// An activation waiting in the queue or for its container to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Queued {
    pub(crate) request: ActivationRequest,
    pub(crate) create_failures: u32,
}

/// One container of the pool.
#[derive(Clone, Debug)]
pub(crate) struct Container {
    pub(crate) id: ContainerId,
    pub(crate) kind: Kind,
    pub(crate) memory_mb: u64,
    /// `None` for a stem cell.
    pub(crate) action: Option<ActionKey>,
    pub(crate) max_concurrent: u32,
    pub(crate) initialized: bool,
    pub(crate) phase: Phase,
    /// Activations assigned while the container is starting.
    pub(crate) pending: Vec<Queued>,
    /// Activations running in it.
    pub(crate) active: BTreeSet<ActivationId>,
    /// When it was last used (created, or an activation started or ended in it).
    pub(crate) last_used: Millis,
}

impl Container {
    pub(crate) fn state(&self) -> ContainerState {
        match (self.phase, &self.action) {
            (Phase::Starting, _) => ContainerState::Starting,
            (Phase::Paused, _) => ContainerState::Paused,
            (Phase::Up, None) => ContainerState::Prewarmed,
            (Phase::Up, Some(_)) if self.active.is_empty() => ContainerState::Ready,
            (Phase::Up, Some(_)) => ContainerState::Running,
        }
    }

    /// Activations running or waiting in it.
    pub(crate) fn load(&self) -> u32 {
        (self.pending.len() + self.active.len()) as u32
    }

    /// Dedicated to an action, nothing running or waiting, not starting: may be paused, expired or evicted.
    pub(crate) fn is_idle_warm(&self) -> bool {
        self.action.is_some() && self.phase != Phase::Starting && self.load() == 0
    }

    pub(crate) fn view(&self) -> ContainerView {
        ContainerView {
            container: self.id,
            kind: self.kind.clone(),
            memory_mb: self.memory_mb,
            action: self.action.clone(),
            state: self.state(),
            max_concurrent: self.max_concurrent,
            initialized: self.initialized,
            running: self.active.len() as u32,
            waiting: self.pending.len() as u32,
            last_used: self.last_used,
        }
    }
}

/// A read-only view of one container, for tests, metrics and adoption after a restart.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerView {
    /// The container.
    pub container: ContainerId,
    /// Its runtime kind.
    pub kind: Kind,
    /// Its memory in MB.
    pub memory_mb: u64,
    /// The action it is dedicated to (`None` for a stem cell).
    pub action: Option<ActionKey>,
    /// Its state.
    pub state: ContainerState,
    /// Activations it may run at once.
    pub max_concurrent: u32,
    /// Whether the action was loaded into it.
    pub initialized: bool,
    /// Activations running in it.
    pub running: u32,
    /// Activations waiting for it to start.
    pub waiting: u32,
    /// When it was last used.
    pub last_used: Millis,
}
