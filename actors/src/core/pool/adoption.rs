//! Containers a restarted pool finds (reported by the driver) and may take over.

use crate::core::action::{ActionKey, Kind};
use crate::core::ids::ContainerId;
use crate::core::pool::container::{ContainerState, ContainerView};
use serde::{Deserialize, Serialize};

/// A container the driver still has, as labelled by this invoker.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AdoptedContainer {
    /// The pool's handle for it.
    pub container: ContainerId,
    /// Its runtime kind.
    pub kind: Kind,
    /// Its memory in MB.
    pub memory_mb: u64,
    /// The action it was dedicated to (`None` for a stem cell).
    pub action: Option<ActionKey>,
    /// Activations it may run at once.
    pub max_concurrent: u32,
    /// Whether the action was loaded into it (an uninitialized action container is not adopted).
    pub initialized: bool,
    /// Whether it is paused.
    pub paused: bool,
}

impl From<&ContainerView> for AdoptedContainer {
    fn from(view: &ContainerView) -> Self {
        AdoptedContainer {
            container: view.container,
            kind: view.kind.clone(),
            memory_mb: view.memory_mb,
            action: view.action.clone(),
            max_concurrent: view.max_concurrent,
            initialized: view.initialized,
            paused: view.state == ContainerState::Paused,
        }
    }
}
