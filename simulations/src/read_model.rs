//! The controller's read model in the simulator: the part of the projections it needs (actions,
//! triggers, rules, accepted and recorded activations), applied from durable log records in seq
//! order, with a persisted copy and its checkpoint to recover from after a crash.
//!
//! The store's live projections run on sled with a follower thread, which a deterministic
//! simulation cannot host; this read model follows the same contract (rows and checkpoint written
//! together, catch up from the checkpoint on start) so the invariant "projections after recovery
//! equal a replay from zero" can be checked on every recovery. The store's own `apply` is checked
//! separately with `store::audit::replay_into_memory` (see [`crate::invariants`]).

use std::collections::{BTreeMap, BTreeSet};
use store::{ActionDoc, ActivationId, Committed, Event, InvocationAccepted, RuleDoc, RuleStatus};

/// An accepted invocation without a record yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRow {
    /// The seq of its `InvocationAccepted`.
    pub seq: u64,
    /// When it was accepted (the record's time).
    pub time_ms: u64,
    pub accepted: InvocationAccepted,
}

/// What the controller reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadModel {
    /// Actions by (namespace, name).
    pub actions: BTreeMap<(String, String), ActionDoc>,
    /// Triggers by (namespace, name).
    pub triggers: BTreeSet<(String, String)>,
    /// Rules by (namespace, name).
    pub rules: BTreeMap<(String, String), RuleDoc>,
    /// Invocations accepted and not yet recorded.
    pub pending: BTreeMap<ActivationId, PendingRow>,
    /// Activations recorded, with their seq.
    pub recorded: BTreeMap<ActivationId, u64>,
    /// The last seq applied.
    pub applied_seq: u64,
}

impl ReadModel {
    /// Applies one durable record. Records at or below the checkpoint are skipped, so a catch-up
    /// may safely start early.
    pub fn apply(&mut self, record: &Committed) {
        if record.seq <= self.applied_seq {
            return;
        }
        match &record.event {
            Event::ActionPut { action, .. } => {
                self.actions.insert(
                    (action.namespace.clone(), action.name_in_namespace()),
                    action.clone(),
                );
            }
            Event::ActionDeleted { action, .. } => {
                self.actions
                    .remove(&(action.namespace.clone(), action.name_in_namespace()));
            }
            Event::TriggerPut { trigger, .. } => {
                self.triggers
                    .insert((trigger.namespace.clone(), trigger.name.clone()));
            }
            Event::TriggerDeleted {
                namespace, name, ..
            } => {
                self.triggers.remove(&(namespace.clone(), name.clone()));
            }
            Event::RulePut { rule, .. } => {
                self.rules
                    .insert((rule.namespace.clone(), rule.name.clone()), rule.clone());
            }
            Event::RuleStatusChanged {
                namespace,
                name,
                status,
                ..
            } => {
                if let Some(rule) = self.rules.get_mut(&(namespace.clone(), name.clone())) {
                    rule.status = *status;
                }
            }
            Event::RuleDeleted {
                namespace, name, ..
            } => {
                self.rules.remove(&(namespace.clone(), name.clone()));
            }
            Event::InvocationAccepted(accepted)
                if !self.recorded.contains_key(&accepted.activation_id) =>
            {
                self.pending.insert(
                    accepted.activation_id,
                    PendingRow {
                        seq: record.seq,
                        time_ms: record.time_ms,
                        accepted: accepted.clone(),
                    },
                );
            }
            Event::ActivationRecorded(doc) => {
                self.pending.remove(&doc.activation_id);
                self.recorded.insert(doc.activation_id, record.seq);
            }
            _ => {}
        }
        self.applied_seq = record.seq;
    }

    /// A read model rebuilt from zero over `records`.
    pub fn replay<'a>(records: impl IntoIterator<Item = &'a Committed>) -> Self {
        let mut model = ReadModel::default();
        for record in records {
            model.apply(record);
        }
        model
    }

    /// The active rules of a trigger, in rule-name order.
    pub fn active_rules(&self, namespace: &str, trigger: &str) -> Vec<RuleDoc> {
        self.rules
            .values()
            .filter(|r| {
                r.namespace == namespace
                    && r.trigger.namespace == namespace
                    && r.trigger.name == trigger
                    && r.status == RuleStatus::Active
            })
            .cloned()
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use store::{ChangedBy, FullyQualifiedName, JsonText, SemVer};

    fn committed(seq: u64, event: Event) -> Committed {
        Committed {
            seq,
            time_ms: seq,
            schema_version: 1,
            hash: Default::default(),
            event,
        }
    }

    fn rule(name: &str, status: RuleStatus) -> RuleDoc {
        RuleDoc {
            namespace: "ns".into(),
            name: name.into(),
            version: SemVer::INITIAL,
            publish: false,
            annotations: JsonText::empty_array(),
            trigger: FullyQualifiedName::new("ns", "t"),
            action: FullyQualifiedName::new("ns", "a"),
            status,
            updated_ms: 0,
        }
    }

    fn accepted(id: u8) -> InvocationAccepted {
        InvocationAccepted {
            activation_id: ActivationId([id; 16]),
            action: FullyQualifiedName::new("ns", "a"),
            version: SemVer::INITIAL,
            params: JsonText::empty_object(),
            blocking: false,
            cause: None,
            by: ChangedBy::System,
        }
    }

    #[test]
    fn rules_follow_status_changes_and_pending_follows_records() {
        let records = vec![
            committed(
                1,
                Event::RulePut {
                    rule: rule("r1", RuleStatus::Active),
                    by: ChangedBy::Admin,
                },
            ),
            committed(
                2,
                Event::RulePut {
                    rule: rule("r2", RuleStatus::Active),
                    by: ChangedBy::Admin,
                },
            ),
            committed(
                3,
                Event::RuleStatusChanged {
                    namespace: "ns".into(),
                    name: "r1".into(),
                    status: RuleStatus::Inactive,
                    by: ChangedBy::Admin,
                },
            ),
            committed(4, Event::InvocationAccepted(accepted(1))),
            committed(5, Event::InvocationAccepted(accepted(2))),
        ];
        let model = ReadModel::replay(&records);
        let active: Vec<String> = model
            .active_rules("ns", "t")
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(active, vec!["r2".to_string()]);
        assert_eq!(model.pending.len(), 2);
        assert_eq!(model.applied_seq, 5);
        // Applying again is a no-op (catch-up may start early).
        let mut again = model.clone();
        for r in &records {
            again.apply(r);
        }
        assert_eq!(again, model);
    }
}
