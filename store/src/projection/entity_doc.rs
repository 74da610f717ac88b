//! `EntityDoc`: the current state of one entity as the entities projection stores it.

use crate::model::{ActionDoc, EntityKind, FeedDoc, NamespaceDoc, PackageDoc, RuleDoc, TriggerDoc};
use serde::{Deserialize, Serialize};

/// A feed and how far it has fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedState {
    pub feed: FeedDoc,
    /// Every occurrence up to this time (unix ms) has fired: resume after it.
    pub fired_up_to_ms: Option<u64>,
}

/// One entity's current state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityDoc {
    Namespace(NamespaceDoc),
    Action(ActionDoc),
    Package(PackageDoc),
    Trigger(TriggerDoc),
    Rule(RuleDoc),
    Feed(FeedState),
}

impl EntityDoc {
    pub fn kind(&self) -> EntityKind {
        match self {
            EntityDoc::Namespace(_) => EntityKind::Namespace,
            EntityDoc::Action(_) => EntityKind::Action,
            EntityDoc::Package(_) => EntityKind::Package,
            EntityDoc::Trigger(_) => EntityKind::Trigger,
            EntityDoc::Rule(_) => EntityKind::Rule,
            EntityDoc::Feed(_) => EntityKind::Feed,
        }
    }
}
