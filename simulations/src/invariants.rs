//! The invariants a run must keep, what a violation says, and the ledgers that check the
//! invariants spanning many events (records, acknowledgements, throttles, rules).
//!
//! Checks local to one component live with it (the driver checks memory and container identity
//! when asked to create or execute); the ledgers here see the durable log, the acknowledgements
//! given to clients and the controller's decisions.

use actors::core::Millis;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use store::envelope::RecordHash;
use store::{ActivationId, Committed, Event, RuleStatus};

/// The invariants of issue #5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Invariant {
    /// Every accepted invocation ends with exactly one activation record (and nothing else is
    /// recorded but trigger activations).
    ExactlyOneRecord,
    /// Nothing acknowledged (or durable) is lost across crashes.
    AcknowledgedDurable,
    /// The memory of an invoker's containers never exceeds its user memory.
    InvokerMemory,
    /// A container never serves two namespaces or two action versions.
    ContainerIdentity,
    /// A namespace is never admitted more than its limits.
    ThrottlesHold,
    /// A trigger fire yields one invocation per active rule.
    OneInvocationPerActiveRule,
    /// Projections after recovery equal a replay from zero.
    ProjectionsMatchReplay,
    /// Components follow their host contracts (no run in a paused, starting or uninitialized
    /// container, no removal of a busy container for expiry or eviction, one answer per invoke).
    Protocol,
    /// The run finished: everything accepted ended before the drain limit, within the step bound.
    Progress,
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Invariant::ExactlyOneRecord => {
                "every accepted invocation ends with exactly one activation record"
            }
            Invariant::AcknowledgedDurable => "nothing acknowledged is lost across crashes",
            Invariant::InvokerMemory => "memory capacity of an invoker is never exceeded",
            Invariant::ContainerIdentity => {
                "a container never serves two namespaces or two action versions"
            }
            Invariant::ThrottlesHold => "throttles hold",
            Invariant::OneInvocationPerActiveRule => {
                "a trigger fire yields one invocation per active rule"
            }
            Invariant::ProjectionsMatchReplay => {
                "projections after recovery equal a replay from zero"
            }
            Invariant::Protocol => "components follow their host contracts",
            Invariant::Progress => "the run makes progress and drains",
        })
    }
}

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub invariant: Invariant,
    /// Simulated time.
    pub at: Millis,
    /// What exactly, naming ids.
    pub detail: String,
}

impl Violation {
    /// A violation of `invariant` at `at`.
    pub fn new(invariant: Invariant, at: Millis, detail: impl Into<String>) -> Self {
        Violation {
            invariant,
            at,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at {}): {}", self.invariant, self.at, self.detail)
    }
}

/// Follows the durable log across crashes: which invocations were accepted and recorded.
#[derive(Debug, Default)]
pub struct RecordLedger {
    accepted: BTreeMap<ActivationId, u64>,
    recorded: BTreeMap<ActivationId, u64>,
    triggers: BTreeSet<(String, String)>,
    next_seq: u64,
}

impl RecordLedger {
    /// A ledger that treats records named after these triggers as trigger activations.
    pub fn new(triggers: &[(String, String)]) -> Self {
        RecordLedger {
            triggers: triggers.iter().cloned().collect(),
            next_seq: 1,
            ..RecordLedger::default()
        }
    }

    /// The first seq not yet seen.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Sees one durable record (in seq order, each once).
    pub fn see(&mut self, record: &Committed, now: Millis) -> Result<(), Violation> {
        if record.seq != self.next_seq {
            return Err(Violation::new(
                Invariant::AcknowledgedDurable,
                now,
                format!(
                    "durable record seq {} follows seq {}",
                    record.seq,
                    self.next_seq.saturating_sub(1)
                ),
            ));
        }
        self.next_seq += 1;
        match &record.event {
            Event::InvocationAccepted(accepted) => {
                if let Some(first) = self.accepted.insert(accepted.activation_id, record.seq) {
                    return Err(Violation::new(
                        Invariant::ExactlyOneRecord,
                        now,
                        format!(
                            "activation {} accepted twice (seq {first} and {})",
                            accepted.activation_id, record.seq
                        ),
                    ));
                }
            }
            Event::ActivationRecorded(doc) => {
                let is_trigger = self
                    .triggers
                    .contains(&(doc.namespace.clone(), doc.name.clone()));
                if !is_trigger && !self.accepted.contains_key(&doc.activation_id) {
                    return Err(Violation::new(
                        Invariant::ExactlyOneRecord,
                        now,
                        format!(
                            "activation {} of {}/{} recorded at seq {} without being accepted",
                            doc.activation_id, doc.namespace, doc.name, record.seq
                        ),
                    ));
                }
                if let Some(first) = self.recorded.insert(doc.activation_id, record.seq) {
                    return Err(Violation::new(
                        Invariant::ExactlyOneRecord,
                        now,
                        format!(
                            "activation {} of {}/{} recorded twice (seq {first} and {})",
                            doc.activation_id, doc.namespace, doc.name, record.seq
                        ),
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Accepted invocations without a record, in id order.
    pub fn unrecorded(&self) -> Vec<ActivationId> {
        self.accepted
            .keys()
            .filter(|id| !self.recorded.contains_key(id))
            .copied()
            .collect()
    }

    /// How many invocations were accepted and how many records were written.
    pub fn counts(&self) -> (usize, usize) {
        (self.accepted.len(), self.recorded.len())
    }
}

/// The receipts of every append acknowledged to a client.
#[derive(Debug, Default)]
pub struct AckLedger {
    acked: BTreeMap<u64, RecordHash>,
}

impl AckLedger {
    /// Notes one acknowledged record.
    pub fn acknowledged(&mut self, seq: u64, hash: RecordHash) {
        self.acked.insert(seq, hash);
    }

    /// Checks that every acknowledged record is in `durable` (seq → hash) unchanged.
    pub fn check(
        &self,
        durable: &BTreeMap<u64, RecordHash>,
        now: Millis,
        when: &str,
    ) -> Result<(), Violation> {
        for (seq, hash) in &self.acked {
            match durable.get(seq) {
                Some(found) if found == hash => {}
                Some(found) => {
                    return Err(Violation::new(
                        Invariant::AcknowledgedDurable,
                        now,
                        format!(
                            "{when}: acknowledged record seq {seq} changed from {hash} to {found}"
                        ),
                    ))
                }
                None => {
                    return Err(Violation::new(
                        Invariant::AcknowledgedDurable,
                        now,
                        format!("{when}: acknowledged record seq {seq} ({hash}) is gone"),
                    ))
                }
            }
        }
        Ok(())
    }

    /// How many records were acknowledged.
    pub fn len(&self) -> usize {
        self.acked.len()
    }

    /// Whether nothing was acknowledged.
    pub fn is_empty(&self) -> bool {
        self.acked.is_empty()
    }
}

/// What clients were told about rules: the last acknowledged status of each, and which have a
/// change on its way (either outcome is then correct).
#[derive(Debug, Default)]
pub struct RuleTruth {
    acked: BTreeMap<(String, String), RuleStatus>,
    changing: BTreeMap<(String, String), u32>,
}

impl RuleTruth {
    /// A change of a rule was sent to the log.
    pub fn change_started(&mut self, namespace: &str, rule: &str) {
        *self
            .changing
            .entry((namespace.to_string(), rule.to_string()))
            .or_default() += 1;
    }

    /// A change ended: acknowledged with `status`, or failed (`None`).
    pub fn change_ended(&mut self, namespace: &str, rule: &str, status: Option<RuleStatus>) {
        let key = (namespace.to_string(), rule.to_string());
        if let Some(n) = self.changing.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.changing.remove(&key);
            }
        }
        if let Some(status) = status {
            self.acked.insert(key, status);
        }
    }

    /// Every change in flight failed (the controller crashed).
    pub fn all_changes_failed(&mut self) {
        self.changing.clear();
    }

    /// Checks the rules a fire of `trigger` invoked against what clients were told: every rule
    /// acknowledged active must be among them, none acknowledged inactive, unless it is changing.
    pub fn check_fire(
        &self,
        rules_of_trigger: &[(String, String)],
        invoked: &BTreeSet<String>,
        trigger: &str,
        now: Millis,
    ) -> Result<(), Violation> {
        for key in rules_of_trigger {
            if self.changing.contains_key(key) {
                continue;
            }
            let active = self.acked.get(key) == Some(&RuleStatus::Active);
            let included = invoked.contains(&key.1);
            if active != included {
                return Err(Violation::new(
                    Invariant::OneInvocationPerActiveRule,
                    now,
                    format!(
                        "fire of trigger {}/{trigger}: rule {} is acknowledged {} but the fire {} it",
                        key.0,
                        key.1,
                        if active { "active" } else { "inactive" },
                        if included { "invoked" } else { "skipped" }
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Admissions of one controller incarnation, per namespace: per calendar minute and in flight.
#[derive(Debug, Default)]
pub struct ThrottleLedger {
    per_minute: BTreeMap<(String, u64), u32>,
    fires_per_minute: BTreeMap<(String, u64), u32>,
    in_flight: BTreeMap<String, BTreeSet<String>>,
}

impl ThrottleLedger {
    /// Forgets everything (a new controller incarnation starts with fresh throttles).
    pub fn reset(&mut self) {
        self.per_minute.clear();
        self.fires_per_minute.clear();
        self.in_flight.clear();
    }

    /// One trigger fire was admitted at `now`.
    pub fn fire_admitted(
        &mut self,
        namespace: &str,
        now: Millis,
        limit: u32,
    ) -> Result<(), Violation> {
        let minute = now.0 / 60_000;
        let count = self
            .fires_per_minute
            .entry((namespace.to_string(), minute))
            .or_default();
        *count += 1;
        if *count > limit {
            return Err(Violation::new(
                Invariant::ThrottlesHold,
                now,
                format!("namespace {namespace} admitted {count} trigger fires in minute {minute} (limit {limit})"),
            ));
        }
        Ok(())
    }

    /// One invocation was admitted (dispatched) at `now`.
    pub fn admitted(
        &mut self,
        namespace: &str,
        activation: &str,
        now: Millis,
        per_minute_limit: u32,
        concurrent_limit: u32,
    ) -> Result<(), Violation> {
        let minute = now.0 / 60_000;
        let count = self
            .per_minute
            .entry((namespace.to_string(), minute))
            .or_default();
        *count += 1;
        if *count > per_minute_limit {
            return Err(Violation::new(
                Invariant::ThrottlesHold,
                now,
                format!("namespace {namespace} admitted {count} invocations in minute {minute} (limit {per_minute_limit})"),
            ));
        }
        let held = self.in_flight.entry(namespace.to_string()).or_default();
        held.insert(activation.to_string());
        if held.len() as u32 > concurrent_limit {
            return Err(Violation::new(
                Invariant::ThrottlesHold,
                now,
                format!(
                    "namespace {namespace} holds {} concurrent invocations (limit {concurrent_limit})",
                    held.len()
                ),
            ));
        }
        Ok(())
    }

    /// An admitted invocation ended (recorded or lost).
    pub fn ended(&mut self, namespace: &str, activation: &str) {
        if let Some(held) = self.in_flight.get_mut(namespace) {
            held.remove(activation);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use store::{
        ActivationDoc, ActivationStatus, ChangedBy, FullyQualifiedName, InvocationAccepted,
        JsonText, SemVer,
    };

    fn committed(seq: u64, event: Event) -> Committed {
        Committed {
            seq,
            time_ms: 0,
            schema_version: 1,
            hash: RecordHash::default(),
            event,
        }
    }

    fn accepted(id: u8) -> Event {
        Event::InvocationAccepted(InvocationAccepted {
            activation_id: ActivationId([id; 16]),
            action: FullyQualifiedName::new("ns", "a"),
            version: SemVer::INITIAL,
            params: JsonText::empty_object(),
            blocking: false,
            cause: None,
            by: ChangedBy::System,
        })
    }

    fn recorded(id: u8, name: &str) -> Event {
        Event::ActivationRecorded(ActivationDoc {
            activation_id: ActivationId([id; 16]),
            namespace: "ns".into(),
            name: name.into(),
            package: None,
            subject: "ns".into(),
            version: SemVer::INITIAL,
            start_ms: 0,
            end_ms: 0,
            duration_ms: 0,
            cause: None,
            status: ActivationStatus::Success,
            result: JsonText::empty_object(),
            logs: Vec::new(),
            annotations: JsonText::empty_array(),
        })
    }

    #[test]
    fn record_ledger_catches_doubles_orphans_and_missing() {
        let mut l = RecordLedger::new(&[("ns".into(), "t".into())]);
        l.see(&committed(1, accepted(1)), Millis(0)).unwrap();
        l.see(&committed(2, accepted(2)), Millis(0)).unwrap();
        l.see(&committed(3, recorded(1, "a")), Millis(0)).unwrap();
        l.see(&committed(4, recorded(9, "t")), Millis(0)).unwrap();
        assert_eq!(l.unrecorded(), vec![ActivationId([2; 16])]);
        let twice = l
            .see(&committed(5, recorded(1, "a")), Millis(0))
            .unwrap_err();
        assert_eq!(twice.invariant, Invariant::ExactlyOneRecord);
        let mut l = RecordLedger::new(&[]);
        let orphan = l
            .see(&committed(1, recorded(3, "a")), Millis(0))
            .unwrap_err();
        assert!(orphan.detail.contains("without being accepted"));
        let mut l = RecordLedger::new(&[]);
        let gap = l.see(&committed(2, accepted(1)), Millis(0)).unwrap_err();
        assert_eq!(gap.invariant, Invariant::AcknowledgedDurable);
    }

    #[test]
    fn ack_ledger_finds_lost_and_changed_records() {
        let mut acks = AckLedger::default();
        acks.acknowledged(1, RecordHash([1; 32]));
        let mut durable = BTreeMap::new();
        assert!(acks.check(&durable, Millis(0), "t").is_err());
        durable.insert(1, RecordHash([2; 32]));
        assert!(acks.check(&durable, Millis(0), "t").is_err());
        durable.insert(1, RecordHash([1; 32]));
        assert!(acks.check(&durable, Millis(0), "t").is_ok());
    }

    #[test]
    fn rule_truth_tolerates_changing_rules_only() {
        let mut truth = RuleTruth::default();
        truth.change_started("ns", "r1");
        truth.change_ended("ns", "r1", Some(RuleStatus::Active));
        truth.change_started("ns", "r2");
        let rules = vec![
            ("ns".to_string(), "r1".to_string()),
            ("ns".to_string(), "r2".to_string()),
        ];
        let none = BTreeSet::new();
        assert!(truth.check_fire(&rules, &none, "t", Millis(0)).is_err());
        let r1: BTreeSet<String> = ["r1".to_string()].into();
        assert!(truth.check_fire(&rules, &r1, "t", Millis(0)).is_ok());
        let both: BTreeSet<String> = ["r1".to_string(), "r2".to_string()].into();
        assert!(truth.check_fire(&rules, &both, "t", Millis(0)).is_ok());
        truth.all_changes_failed();
        assert!(truth.check_fire(&rules, &both, "t", Millis(0)).is_err());
    }

    #[test]
    fn throttle_ledger_counts_minutes_and_flights() {
        let mut t = ThrottleLedger::default();
        t.admitted("ns", "a", Millis(0), 2, 1).unwrap();
        assert!(t.admitted("ns", "b", Millis(1), 2, 1).is_err());
        t.ended("ns", "a");
        t.ended("ns", "b");
        assert!(
            t.admitted("ns", "c", Millis(2), 2, 1).is_err(),
            "third in the minute"
        );
        t.reset();
        t.admitted("ns", "d", Millis(60_000), 2, 1).unwrap();
    }
}
