//! The pool's per-action scaling table: what it knows about actions that carry a [`Scaling`]
//! (their kind, memory and concurrency, so it can create containers for them without an
//! activation), the replica count a scale request set, and the floor and ceiling that follow.

use crate::core::action::{ActionKey, Kind};
use crate::core::pool::messages::{ActivationRequest, ScaleRequest, Scaling};
use std::collections::BTreeMap;

/// One scaled action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScaledAction {
    pub(crate) kind: Kind,
    pub(crate) memory_mb: u64,
    pub(crate) concurrency: u32,
    pub(crate) scaling: Scaling,
    /// The replica count a scale request set (wins over `scaling.min`).
    pub(crate) replicas: Option<u32>,
}

impl ScaledAction {
    /// Containers kept warm.
    pub(crate) fn floor(&self) -> u32 {
        self.replicas.unwrap_or(self.scaling.min)
    }

    /// Most containers at once (`None`: no ceiling); never below a requested replica count.
    pub(crate) fn ceiling(&self) -> Option<u32> {
        match self.scaling.max {
            0 => None,
            max => Some(max.max(self.replicas.unwrap_or(0))),
        }
    }
}

/// Every scaled action of the pool, by key. Only the newest version of an action is kept: a new
/// version's scaling replaces the old one (whose containers then expire as usual).
#[derive(Clone, Debug, Default)]
pub(crate) struct ScalingTable {
    actions: BTreeMap<ActionKey, ScaledAction>,
}

impl ScalingTable {
    fn forget_other_versions(&mut self, key: &ActionKey) {
        self.actions.retain(|other, _| {
            other == key || other.namespace != key.namespace || other.action != key.action
        });
    }

    /// Learns (or refreshes) an action from an activation that carries its scaling.
    pub(crate) fn learn(&mut self, request: &ActivationRequest) {
        let Some(scaling) = request.scaling else {
            return;
        };
        self.forget_other_versions(&request.action);
        let replicas = self.actions.get(&request.action).and_then(|a| a.replicas);
        self.actions.insert(
            request.action.clone(),
            ScaledAction {
                kind: request.kind.clone(),
                memory_mb: request.memory_mb,
                concurrency: request.concurrency.max(1),
                scaling,
                replicas,
            },
        );
    }

    /// Applies a scale request.
    pub(crate) fn scale(&mut self, request: &ScaleRequest) {
        self.forget_other_versions(&request.action);
        self.actions.insert(
            request.action.clone(),
            ScaledAction {
                kind: request.kind.clone(),
                memory_mb: request.memory_mb,
                concurrency: request.concurrency.max(1),
                scaling: request.scaling,
                replicas: Some(request.replicas),
            },
        );
    }

    pub(crate) fn get(&self, key: &ActionKey) -> Option<&ScaledAction> {
        self.actions.get(key)
    }

    /// Every scaled action, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&ActionKey, &ScaledAction)> {
        self.actions.iter()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::core::ids::ActivationId;

    fn request(version: &str, scaling: Option<Scaling>) -> ActivationRequest {
        ActivationRequest {
            activation: ActivationId::new("a"),
            action: ActionKey::new("ns", "/ns/f", version),
            kind: Kind::new("exec"),
            memory_mb: 128,
            concurrency: 1,
            scaling,
        }
    }

    #[test]
    fn floors_and_ceilings_follow_labels_then_scale_requests() {
        let mut table = ScalingTable::default();
        table.learn(&request("0.0.1", None));
        assert_eq!(table.iter().count(), 0, "unscaled actions are not tracked");
        let labels = Scaling {
            min: 2,
            max: 5,
            idle_ms: None,
        };
        table.learn(&request("0.0.1", Some(labels)));
        let key = ActionKey::new("ns", "/ns/f", "0.0.1");
        let scaled = table.get(&key).unwrap();
        assert_eq!((scaled.floor(), scaled.ceiling()), (2, Some(5)));
        table.scale(&ScaleRequest {
            action: key.clone(),
            kind: Kind::new("exec"),
            memory_mb: 128,
            concurrency: 1,
            scaling: labels,
            replicas: 7,
        });
        let scaled = table.get(&key).unwrap();
        assert_eq!((scaled.floor(), scaled.ceiling()), (7, Some(7)));
        // A later activation keeps the requested replicas; a new version replaces the old one.
        table.learn(&request("0.0.1", Some(labels)));
        assert_eq!(table.get(&key).unwrap().floor(), 7);
        table.learn(&request("0.0.2", Some(labels)));
        assert!(table.get(&key).is_none());
        let unbounded = Scaling {
            min: 0,
            max: 0,
            idle_ms: Some(5),
        };
        table.learn(&request("0.0.2", Some(unbounded)));
        let key2 = ActionKey::new("ns", "/ns/f", "0.0.2");
        assert_eq!(table.get(&key2).unwrap().ceiling(), None);
    }
}
