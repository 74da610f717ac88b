//! The simulated controller process: the production [`Controller`] core hosted over the store's
//! [`InMemoryEventLog`] (group commit, crash model), the read model, the simulated bus and the
//! clients' requests.
//!
//! Its contract is the controller actor's: an invocation is sent to its invoker, and acknowledged
//! to the client, only once its `InvocationAccepted` is durable; every `Record`/`RecordLost` appends
//! one `ActivationRecorded`; entity changes are acknowledged once durable. A trigger fire is
//! modelled the way the rules core will do it: one invocation per rule active at fire time, the
//! trigger's activation and the rules' invocations appended together.
//!
//! On a crash, everything in memory is lost and the log keeps only what was flushed. On restart,
//! the read model is restored from its persisted copy and caught up from its checkpoint, checked
//! against a replay from zero, and the core is rebuilt with [`Controller::recover`] from the
//! invocations accepted but not recorded.

use crate::config::{SimConfig, EPOCH_MS};
use crate::invariants::{Invariant, RuleTruth, ThrottleLedger, Violation};
use crate::messages::{Message, Node, SimEvent};
use crate::outbox::Outbox;
use crate::read_model::ReadModel;
use actors::core::action::ActionLimits as CoreLimits;
use actors::core::controller::{
    Controller, ControllerConfig, ControllerEffect, ControllerInput, InvocationRequest,
    PendingInvocation,
};
use actors::core::invoker::RunSpec;
use actors::core::lifecycle::{ActivationOutcome, ActivationStatus as CoreStatus};
use actors::core::{ActionKey, ActivationId as CoreId, InvokerId, Kind, Millis, SplitMix64};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use store::audit::{replay_into_memory, Until};
use store::envelope::RecordHash;
use store::projection::keys::TreeId;
use store::{
    ActionDoc, ActionLimits, ActivationDoc, ActivationId, ActivationStatus, AppendTicket,
    ChangedBy, Clock, CommitMode, Committed, Event, EventLog, Exec, FullyQualifiedName,
    InMemoryEventLog, InvocationAccepted, JsonText, NamespaceDoc, NamespaceLimits, Receipt,
    RuleDoc, RuleStatus, SemVer, TriggerDoc,
};

/// The invoker recorded for invocations recovered from the log: the log does not say where an
/// invocation was sent, so only its completion or its deadline can end it.
pub const UNKNOWN_INVOKER: InvokerId = InvokerId(u32::MAX);

/// The first byte of the store's pending-invocation rows in the activations tree (see
/// `store::projection::keys`); used to compare the store's own projection with the read model.
const PENDING_ROW_PREFIX: u8 = b'p';

/// The log's clock: the simulated time in unix milliseconds.
#[derive(Debug, Default)]
pub struct SimClock(AtomicU64);

impl SimClock {
    /// Moves the clock.
    pub fn set(&self, now: Millis) {
        self.0.store(now.0, Ordering::SeqCst);
    }
}

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a client was told once an append became durable.
#[derive(Clone, Debug)]
pub struct Ack {
    pub receipts: Vec<Receipt>,
    /// A rule change that is now acknowledged.
    pub rule: Option<(String, String, RuleStatus)>,
}

/// What to do once an append is durable.
#[derive(Clone, Debug)]
enum AfterDurable {
    /// Send these accepted activations to their invokers.
    Send(Vec<String>),
    /// A record is durable; the waiter is answered.
    Recorded,
    /// An entity change is acknowledged.
    Entity,
    /// A rule change is acknowledged.
    Rule(String, String, RuleStatus),
}

/// An invocation the controller accepted, as it needs it to send and to record it.
#[derive(Clone, Debug)]
struct Accepted {
    store_id: ActivationId,
    namespace: String,
    name: String,
    version: SemVer,
    cause: Option<ActivationId>,
    run: RunSpec,
}

/// What the clients' request came to (for the trace).
pub type ClientResult = String;

/// The controller process.
pub struct ControllerHost {
    config: ControllerConfig,
    flush_every_ms: u64,
    clock: Arc<SimClock>,
    log: InMemoryEventLog,
    core: Option<Controller>,
    appends: Vec<(AppendTicket, AfterDurable)>,
    flush_scheduled: bool,
    read_model: ReadModel,
    persisted: ReadModel,
    accepted: BTreeMap<String, Accepted>,
    awaiting_durable: BTreeSet<String>,
    next_versions: BTreeMap<(String, String), SemVer>,
    throttle_ledger: ThrottleLedger,
    incarnation: u64,
}

fn store_status(status: CoreStatus) -> ActivationStatus {
    match status {
        CoreStatus::Success => ActivationStatus::Success,
        CoreStatus::ApplicationError => ActivationStatus::ApplicationError,
        CoreStatus::DeveloperError => ActivationStatus::ActionDeveloperError,
        CoreStatus::WhiskError => ActivationStatus::WhiskInternalError,
    }
}

fn core_limits(limits: &ActionLimits) -> CoreLimits {
    CoreLimits {
        timeout_ms: limits.timeout_ms,
        memory_mb: u64::from(limits.memory_mb),
        logs_mb: u64::from(limits.logs_mb),
        concurrency: limits.concurrency,
    }
}

fn store_violation(now: Millis, what: &str, error: store::Error) -> Violation {
    Violation::new(
        Invariant::AcknowledgedDurable,
        now,
        format!("{what}: {error}"),
    )
}

impl ControllerHost {
    /// A controller with an empty log.
    pub fn new(sim: &SimConfig) -> Self {
        let clock = Arc::new(SimClock::default());
        clock.set(Millis(EPOCH_MS));
        let log = InMemoryEventLog::new(
            "simulated-log",
            Arc::clone(&clock) as Arc<dyn Clock>,
            CommitMode::Manual,
        );
        ControllerHost {
            config: sim.controller.clone(),
            flush_every_ms: sim.flush_every_ms,
            clock,
            log,
            core: Some(Controller::new(sim.controller.clone())),
            appends: Vec::new(),
            flush_scheduled: false,
            read_model: ReadModel::default(),
            persisted: ReadModel::default(),
            accepted: BTreeMap::new(),
            awaiting_durable: BTreeSet::new(),
            next_versions: BTreeMap::new(),
            throttle_ledger: ThrottleLedger::default(),
            incarnation: 1,
        }
    }

    /// Whether the process is up.
    pub fn is_up(&self) -> bool {
        self.core.is_some()
    }

    /// Activations the controller waits on.
    pub fn in_flight(&self) -> usize {
        self.core.as_ref().map_or(0, |c| c.in_flight().len())
    }

    /// Appends waiting for the next flush.
    pub fn pending_appends(&self) -> usize {
        self.appends.len()
    }

    /// Moves the log's clock.
    pub fn set_time(&self, now: Millis) {
        self.clock.set(now);
    }

    /// The durable records, in seq order.
    pub fn durable(&self, now: Millis) -> Result<Vec<Committed>, Violation> {
        self.log
            .read_from(1)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| store_violation(now, "reading the durable log", e))
    }

    /// The durable records as seq → record hash (blake3 of the stored bytes, without decoding).
    pub fn durable_hashes(&self) -> BTreeMap<u64, RecordHash> {
        self.log
            .durable_records()
            .into_iter()
            .map(|(seq, bytes)| (seq, RecordHash::of(&bytes)))
            .collect()
    }

    /// The entities every run starts with: namespaces, actions, triggers, and rules (all active),
    /// appended and flushed before the clients start.
    pub fn bootstrap(&mut self, sim: &SimConfig, truth: &mut RuleTruth) -> Vec<Event> {
        let mut events = Vec::new();
        for ns in &sim.namespaces {
            events.push(Event::NamespaceCreated {
                namespace: NamespaceDoc {
                    name: ns.clone(),
                    limits: NamespaceLimits::default(),
                    created_ms: EPOCH_MS,
                },
                by: ChangedBy::Admin,
            });
        }
        for a in &sim.actions {
            events.push(Event::ActionPut {
                action: action_doc(a, SemVer::INITIAL),
                by: ChangedBy::Admin,
            });
            self.next_versions
                .insert((a.namespace.clone(), a.name.clone()), SemVer::INITIAL);
        }
        for (ns, name) in &sim.triggers {
            events.push(Event::TriggerPut {
                trigger: TriggerDoc {
                    namespace: ns.clone(),
                    name: name.clone(),
                    version: SemVer::INITIAL,
                    publish: false,
                    annotations: JsonText::empty_array(),
                    parameters: JsonText::empty_array(),
                    updated_ms: EPOCH_MS,
                },
                by: ChangedBy::Admin,
            });
        }
        for r in &sim.rules {
            events.push(Event::RulePut {
                rule: RuleDoc {
                    namespace: r.namespace.clone(),
                    name: r.name.clone(),
                    version: SemVer::INITIAL,
                    publish: false,
                    annotations: JsonText::empty_array(),
                    trigger: FullyQualifiedName::new(&r.namespace, &r.trigger),
                    action: FullyQualifiedName::new(&r.namespace, &r.action),
                    status: RuleStatus::Active,
                    updated_ms: EPOCH_MS,
                },
                by: ChangedBy::Admin,
            });
            truth.change_started(&r.namespace, &r.name);
            truth.change_ended(&r.namespace, &r.name, Some(RuleStatus::Active));
        }
        events
    }

    fn append(&mut self, events: Vec<Event>, after: AfterDurable, out: &mut Outbox) {
        let ticket = self.log.append(events);
        self.appends.push((ticket, after));
        if !self.flush_scheduled {
            self.flush_scheduled = true;
            out.after(self.flush_every_ms, SimEvent::Flush);
        }
    }

    /// Appends the bootstrap entities.
    pub fn append_bootstrap(&mut self, events: Vec<Event>, out: &mut Outbox) {
        self.append(events, AfterDurable::Entity, out);
    }

    /// The group commit: flushes, acknowledges what became durable, sends accepted activations to
    /// their invokers and applies the new records to the read model. Returns the acknowledgements
    /// and the newly durable records.
    pub fn flush(
        &mut self,
        now: Millis,
        out: &mut Outbox,
    ) -> Result<(Vec<Ack>, Vec<Committed>), Violation> {
        self.flush_scheduled = false;
        if self.core.is_none() {
            return Ok((Vec::new(), Vec::new()));
        }
        self.log.flush();
        let mut acks = Vec::new();
        let mut sends = Vec::new();
        for (ticket, after) in std::mem::take(&mut self.appends) {
            let receipts = ticket
                .wait()
                .map_err(|e| store_violation(now, "an append of a live log failed", e))?;
            let rule = match after {
                AfterDurable::Send(ids) => {
                    sends.extend(ids);
                    None
                }
                AfterDurable::Rule(ns, name, status) => Some((ns, name, status)),
                AfterDurable::Recorded | AfterDurable::Entity => None,
            };
            acks.push(Ack { receipts, rule });
        }
        let new_records: Vec<Committed> = self
            .log
            .read_from(self.read_model.applied_seq + 1)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| store_violation(now, "reading newly durable records", e))?;
        for record in &new_records {
            self.read_model.apply(record);
        }
        for id in sends {
            self.awaiting_durable.remove(&id);
            self.send_run(&id, out);
        }
        Ok((acks, new_records))
    }

    fn send_run(&self, id: &str, out: &mut Outbox) {
        let Some(core) = &self.core else { return };
        let Some(accepted) = self.accepted.get(id) else {
            return;
        };
        let core_id = CoreId::new(id);
        let invoker = core.dispatcher().placement_of(&core_id).or_else(|| {
            core.in_flight()
                .into_iter()
                .find(|f| f.activation == core_id)
                .map(|f| f.invoker)
        });
        if let Some(invoker) = invoker.filter(|i| *i != UNKNOWN_INVOKER) {
            out.send(
                Node::Invoker(invoker),
                Message::Run(Box::new(accepted.run.clone())),
            );
        }
    }

    /// Persists the read model with its checkpoint (as the projections write rows and checkpoint
    /// in one batch).
    pub fn checkpoint(&mut self) {
        if self.core.is_some() {
            self.persisted = self.read_model.clone();
        }
    }

    /// A client invokes an action.
    pub fn invoke(
        &mut self,
        namespace: &str,
        action: &str,
        blocking: bool,
        now: Millis,
        rng: &mut SplitMix64,
        out: &mut Outbox,
    ) -> Result<ClientResult, Violation> {
        if self.core.is_none() {
            return Ok("503 controller down".to_string());
        }
        let Some(doc) = self
            .read_model
            .actions
            .get(&(namespace.to_string(), action.to_string()))
            .cloned()
        else {
            return Ok("404".to_string());
        };
        let (id, store_id) = new_activation_id(rng);
        match self.place(&doc, &id, store_id, None, now, rng)? {
            Err(refusal) => Ok(refusal),
            Ok(accepted) => {
                let event = Event::InvocationAccepted(accepted);
                self.append(vec![event], AfterDurable::Send(vec![id.clone()]), out);
                Ok(format!(
                    "accepted {id} ({})",
                    if blocking { "blocking" } else { "async" }
                ))
            }
        }
    }

    /// Admits and dispatches one invocation through the core; `Err` holds the refusal text.
    fn place(
        &mut self,
        doc: &ActionDoc,
        id: &str,
        store_id: ActivationId,
        cause: Option<ActivationId>,
        now: Millis,
        rng: &mut SplitMix64,
    ) -> Result<Result<InvocationAccepted, String>, Violation> {
        let Some(core) = self.core.as_mut() else {
            return Ok(Err("503 controller down".to_string()));
        };
        let key = ActionKey::new(
            &doc.namespace,
            format!("{}/{}", doc.namespace, doc.name),
            doc.version.to_string(),
        );
        let request = InvocationRequest {
            activation: CoreId::new(id),
            action: key.clone(),
            memory_mb: u64::from(doc.limits.memory_mb),
            concurrency: doc.limits.concurrency,
            timeout_ms: doc.limits.timeout_ms,
        };
        let effects = core.handle(ControllerInput::Invoke(request), now, rng.next_u64());
        match effects.into_iter().next() {
            Some(ControllerEffect::Refuse { refusal, .. }) => {
                Ok(Err(format!("refused: {refusal}")))
            }
            Some(ControllerEffect::Dispatch { .. }) => {
                let limits = self.config.throttles.clone();
                self.throttle_ledger.admitted(
                    &doc.namespace,
                    id,
                    now,
                    limits.invocations_per_minute,
                    limits.concurrent_invocations,
                )?;
                let run = RunSpec {
                    activation: CoreId::new(id),
                    action: key.clone(),
                    path: format!("{}/{}", doc.namespace, doc.name),
                    kind: Kind::new(doc.exec.kind()),
                    limits: core_limits(&doc.limits),
                    max_result_bytes: 1024 * 1024,
                    accepted_at: now,
                    scaling: None,
                };
                self.accepted.insert(
                    id.to_string(),
                    Accepted {
                        store_id,
                        namespace: doc.namespace.clone(),
                        name: doc.name.clone(),
                        version: doc.version,
                        cause,
                        run,
                    },
                );
                self.awaiting_durable.insert(id.to_string());
                Ok(Ok(InvocationAccepted {
                    activation_id: store_id,
                    action: FullyQualifiedName::new(&doc.namespace, &doc.name),
                    version: doc.version,
                    params: JsonText::empty_object(),
                    blocking: false,
                    cause,
                    by: ChangedBy::System,
                }))
            }
            other => Err(Violation::new(
                Invariant::Protocol,
                now,
                format!("controller answered the invoke of {id} with {other:?}"),
            )),
        }
    }

    /// A client fires a trigger: one invocation per rule active now, recorded together with the
    /// trigger's activation.
    pub fn fire(
        &mut self,
        namespace: &str,
        trigger: &str,
        truth: &RuleTruth,
        now: Millis,
        rng: &mut SplitMix64,
        out: &mut Outbox,
    ) -> Result<ClientResult, Violation> {
        if self.core.is_none() {
            return Ok("503 controller down".to_string());
        }
        if !self
            .read_model
            .triggers
            .contains(&(namespace.to_string(), trigger.to_string()))
        {
            return Ok("404".to_string());
        }
        {
            let Some(core) = self.core.as_mut() else {
                return Ok("503 controller down".to_string());
            };
            if let Err(throttled) = core.throttles_mut().admit_fire(namespace, now) {
                return Ok(format!("refused: {throttled}"));
            }
        }
        self.throttle_ledger.fire_admitted(
            namespace,
            now,
            self.config.throttles.fires_per_minute,
        )?;
        let (trigger_id, trigger_store_id) = new_activation_id(rng);
        let rules = self.read_model.active_rules(namespace, trigger);
        let mut events = Vec::new();
        let mut logs = Vec::new();
        let mut sends = Vec::new();
        let mut invoked = BTreeSet::new();
        for rule in &rules {
            invoked.insert(rule.name.clone());
            let action = rule.action.name_in_namespace();
            let Some(doc) = self
                .read_model
                .actions
                .get(&(rule.action.namespace.clone(), action.clone()))
                .cloned()
            else {
                logs.push(format!("rule {}: action {action} not found", rule.name));
                continue;
            };
            let (id, store_id) = new_activation_id(rng);
            match self.place(&doc, &id, store_id, Some(trigger_store_id), now, rng)? {
                Ok(accepted) => {
                    logs.push(format!("rule {}: activation {id}", rule.name));
                    events.push(Event::InvocationAccepted(accepted));
                    sends.push(id);
                }
                Err(refusal) => logs.push(format!("rule {}: {refusal}", rule.name)),
            }
        }
        let rules_of_trigger: Vec<(String, String)> = self
            .read_model
            .rules
            .values()
            .filter(|r| r.namespace == namespace && r.trigger.name == trigger)
            .map(|r| (r.namespace.clone(), r.name.clone()))
            .collect();
        truth.check_fire(&rules_of_trigger, &invoked, trigger, now)?;
        let record = ActivationDoc {
            activation_id: trigger_store_id,
            namespace: namespace.to_string(),
            name: trigger.to_string(),
            package: None,
            subject: namespace.to_string(),
            version: SemVer::INITIAL,
            start_ms: now.0,
            end_ms: now.0,
            duration_ms: 0,
            cause: None,
            status: ActivationStatus::Success,
            result: JsonText::empty_object(),
            logs,
            annotations: JsonText::empty_array(),
        };
        let mut batch = vec![Event::ActivationRecorded(record)];
        batch.extend(events);
        let summary = format!(
            "fired {trigger_id}: {} rules, {} invocations",
            rules.len(),
            sends.len()
        );
        self.append(batch, AfterDurable::Send(sends), out);
        Ok(summary)
    }

    /// A client updates an action (a new version with new code).
    pub fn update_action(
        &mut self,
        sim: &SimConfig,
        namespace: &str,
        action: &str,
        out: &mut Outbox,
    ) -> ClientResult {
        if self.core.is_none() {
            return "503 controller down".to_string();
        }
        let Some(spec) = sim.action(namespace, action) else {
            return "404".to_string();
        };
        let key = (namespace.to_string(), action.to_string());
        let current = self
            .next_versions
            .get(&key)
            .copied()
            .or_else(|| self.read_model.actions.get(&key).map(|d| d.version))
            .unwrap_or(SemVer::INITIAL);
        let version = current.next_patch();
        self.next_versions.insert(key, version);
        self.append(
            vec![Event::ActionPut {
                action: action_doc(spec, version),
                by: ChangedBy::Admin,
            }],
            AfterDurable::Entity,
            out,
        );
        format!("updating {namespace}/{action} to {version}")
    }

    /// A client enables or disables a rule.
    pub fn set_rule(
        &mut self,
        namespace: &str,
        rule: &str,
        status: RuleStatus,
        truth: &mut RuleTruth,
        out: &mut Outbox,
    ) -> ClientResult {
        if self.core.is_none() {
            return "503 controller down".to_string();
        }
        if !self
            .read_model
            .rules
            .contains_key(&(namespace.to_string(), rule.to_string()))
        {
            return "404".to_string();
        }
        truth.change_started(namespace, rule);
        self.append(
            vec![Event::RuleStatusChanged {
                namespace: namespace.to_string(),
                name: rule.to_string(),
                status,
                by: ChangedBy::Admin,
            }],
            AfterDurable::Rule(namespace.to_string(), rule.to_string(), status),
            out,
        );
        format!("setting rule {namespace}/{rule} {}", status.as_str())
    }

    /// A bus message arrived.
    pub fn deliver(
        &mut self,
        message: Message,
        now: Millis,
        rng: &mut SplitMix64,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        let Some(core) = self.core.as_mut() else {
            return Ok(());
        };
        let effects = match message {
            Message::Run(_) => Vec::new(),
            Message::Started { activation, .. } => {
                core.started(&activation, now);
                Vec::new()
            }
            Message::Ping {
                invoker,
                user_memory_mb,
                incarnation,
            } => core.handle(
                ControllerInput::Ping {
                    invoker,
                    user_memory_mb,
                    incarnation,
                },
                now,
                rng.next_u64(),
            ),
            Message::Completed {
                invoker,
                outcome,
                system_error,
            } => {
                let id = outcome.activation.clone();
                let effects = core.handle(
                    ControllerInput::Completed {
                        activation: id,
                        invoker,
                        system_error,
                    },
                    now,
                    rng.next_u64(),
                );
                return self.carry_out(effects, Some(&outcome), now, out);
            }
        };
        self.carry_out(effects, None, now, out)
    }

    /// The once-a-second tick.
    pub fn tick(
        &mut self,
        now: Millis,
        rng: &mut SplitMix64,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        let Some(core) = self.core.as_mut() else {
            return Ok(());
        };
        out.after(1_000, SimEvent::ControllerTick);
        let effects = core.handle(ControllerInput::Tick, now, rng.next_u64());
        self.carry_out(effects, None, now, out)
    }

    fn carry_out(
        &mut self,
        effects: Vec<ControllerEffect>,
        outcome: Option<&ActivationOutcome>,
        now: Millis,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        for effect in effects {
            match effect {
                ControllerEffect::Record { activation } => {
                    let id = activation.as_str().to_string();
                    let record = match (self.accepted.remove(&id), outcome) {
                        (Some(accepted), Some(outcome)) => record_of(&accepted, outcome),
                        (Some(accepted), None) => lost_record(&accepted, "no outcome", now),
                        (None, _) => {
                            return Err(Violation::new(
                                Invariant::ExactlyOneRecord,
                                now,
                                format!("controller recorded {id}, which the host never accepted"),
                            ))
                        }
                    };
                    self.throttle_ledger.ended(&record.namespace, &id);
                    self.append(
                        vec![Event::ActivationRecorded(record)],
                        AfterDurable::Recorded,
                        out,
                    );
                }
                ControllerEffect::RecordLost { activation, reason } => {
                    let id = activation.as_str().to_string();
                    let Some(accepted) = self.accepted.remove(&id) else {
                        return Err(Violation::new(
                            Invariant::ExactlyOneRecord,
                            now,
                            format!("controller lost {id}, which the host never accepted"),
                        ));
                    };
                    let record = lost_record(&accepted, &reason.to_string(), now);
                    self.throttle_ledger.ended(&record.namespace, &id);
                    self.awaiting_durable.remove(&id);
                    self.append(
                        vec![Event::ActivationRecorded(record)],
                        AfterDurable::Recorded,
                        out,
                    );
                }
                ControllerEffect::Redispatch { activation, .. } => {
                    let id = activation.as_str().to_string();
                    if !self.awaiting_durable.contains(&id) {
                        self.send_run(&id, out);
                    }
                }
                ControllerEffect::Ignore { .. }
                | ControllerEffect::Refuse { .. }
                | ControllerEffect::Dispatch { .. } => {}
            }
        }
        Ok(())
    }

    /// The process dies: memory is lost, the log keeps what was flushed.
    pub fn crash(&mut self, now: Millis) -> Result<(), Violation> {
        if self.core.is_none() {
            return Ok(());
        }
        let before = self.log.durable_records();
        self.log = self.log.crash();
        let after = self.log.durable_records();
        if before != after {
            return Err(Violation::new(
                Invariant::AcknowledgedDurable,
                now,
                format!(
                    "the crash changed the durable log ({} records before, {} after)",
                    before.len(),
                    after.len()
                ),
            ));
        }
        self.core = None;
        self.appends.clear();
        self.flush_scheduled = false;
        self.read_model = ReadModel::default();
        self.accepted.clear();
        self.awaiting_durable.clear();
        self.next_versions.clear();
        Ok(())
    }

    /// The process starts again and recovers from the log.
    pub fn restart(
        &mut self,
        sim: &SimConfig,
        now: Millis,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        if self.core.is_some() {
            return Ok(());
        }
        let durable = self.durable(now)?;
        let mut model = self.persisted.clone();
        let catch_up: Vec<Committed> = self
            .log
            .read_from(model.applied_seq + 1)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| store_violation(now, "catching up the read model", e))?;
        for record in &catch_up {
            model.apply(record);
        }
        let replayed = ReadModel::replay(&durable);
        if model != replayed {
            return Err(Violation::new(
                Invariant::ProjectionsMatchReplay,
                now,
                format!(
                    "read model caught up from checkpoint {} differs from a replay of {} records (pending {} vs {}, rules {:?} vs {:?})",
                    self.persisted.applied_seq,
                    durable.len(),
                    model.pending.len(),
                    replayed.pending.len(),
                    model.rules.values().map(|r| (&r.name, r.status)).collect::<Vec<_>>(),
                    replayed.rules.values().map(|r| (&r.name, r.status)).collect::<Vec<_>>(),
                ),
            ));
        }
        let (rows, _, _) = replay_into_memory(
            durable.iter().cloned().map(Ok),
            Until::End,
            durable.len() as u64,
            &mut |_| {},
        )
        .map_err(|e| store_violation(now, "replaying the log into memory", e))?;
        let store_pending: BTreeSet<Vec<u8>> = rows
            .sorted_rows(TreeId::Activations)
            .into_iter()
            .filter(|(k, _)| k.first() == Some(&PENDING_ROW_PREFIX))
            .map(|(k, _)| k[1..].to_vec())
            .collect();
        let model_pending: BTreeSet<Vec<u8>> =
            model.pending.keys().map(|id| id.0.to_vec()).collect();
        if store_pending != model_pending {
            return Err(Violation::new(
                Invariant::ProjectionsMatchReplay,
                now,
                format!(
                    "the store's replay holds {} pending invocations, the read model {}",
                    store_pending.len(),
                    model_pending.len()
                ),
            ));
        }
        let mut pending = Vec::new();
        self.accepted.clear();
        for row in model.pending.values() {
            let a = &row.accepted;
            let Some(doc) = model
                .actions
                .get(&(a.action.namespace.clone(), a.action.name_in_namespace()))
            else {
                continue;
            };
            let id = a.activation_id.to_string();
            let key = ActionKey::new(
                &a.action.namespace,
                format!("{}/{}", a.action.namespace, a.action.name_in_namespace()),
                a.version.to_string(),
            );
            let run = RunSpec {
                activation: CoreId::new(&id),
                action: key.clone(),
                path: format!("{}/{}", a.action.namespace, a.action.name_in_namespace()),
                kind: Kind::new(doc.exec.kind()),
                limits: core_limits(&doc.limits),
                max_result_bytes: 1024 * 1024,
                accepted_at: Millis(row.time_ms),
                scaling: None,
            };
            pending.push(PendingInvocation {
                request: InvocationRequest {
                    activation: CoreId::new(&id),
                    action: key,
                    memory_mb: u64::from(doc.limits.memory_mb),
                    concurrency: doc.limits.concurrency,
                    timeout_ms: doc.limits.timeout_ms,
                },
                invoker: UNKNOWN_INVOKER,
                accepted_at: Millis(row.time_ms),
            });
            self.accepted.insert(
                id,
                Accepted {
                    store_id: a.activation_id,
                    namespace: a.action.namespace.clone(),
                    name: a.action.name_in_namespace(),
                    version: a.version,
                    cause: a.cause,
                    run,
                },
            );
        }
        for a in &sim.actions {
            let key = (a.namespace.clone(), a.name.clone());
            if let Some(doc) = model.actions.get(&key) {
                self.next_versions.insert(key, doc.version);
            }
        }
        self.read_model = model;
        self.core = Some(Controller::recover(
            self.config.clone(),
            Vec::new(),
            pending,
            now,
        ));
        self.throttle_ledger.reset();
        self.incarnation += 1;
        out.after(0, SimEvent::ControllerTick);
        Ok(())
    }

    /// The read model (for the end-of-run checks).
    pub fn read_model(&self) -> &ReadModel {
        &self.read_model
    }

    /// How many times the controller started.
    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }
}

fn new_activation_id(rng: &mut SplitMix64) -> (String, ActivationId) {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    let id = ActivationId(bytes);
    (id.to_string(), id)
}

fn action_doc(spec: &crate::config::ActionSpec, version: SemVer) -> ActionDoc {
    ActionDoc {
        namespace: spec.namespace.clone(),
        package: None,
        name: spec.name.clone(),
        version,
        publish: false,
        exec: Exec::Code {
            kind: spec.kind.as_str().to_string(),
            code: format!("def main(args): return {{'version': '{version}'}}"),
            binary: false,
            main: None,
        },
        annotations: JsonText::empty_array(),
        parameters: JsonText::empty_array(),
        limits: ActionLimits {
            timeout_ms: spec.timeout_ms,
            memory_mb: spec.memory_mb as u32,
            logs_mb: 10,
            concurrency: spec.concurrency,
        },
        updated_ms: EPOCH_MS,
    }
}

fn record_of(accepted: &Accepted, outcome: &ActivationOutcome) -> ActivationDoc {
    ActivationDoc {
        activation_id: accepted.store_id,
        namespace: accepted.namespace.clone(),
        name: accepted.name.clone(),
        package: None,
        subject: accepted.namespace.clone(),
        version: accepted.version,
        start_ms: outcome.start.0,
        end_ms: outcome.end.0,
        duration_ms: outcome.duration_ms,
        cause: accepted.cause,
        status: store_status(outcome.status),
        result: JsonText::parse(&outcome.result).unwrap_or_else(|_| JsonText::empty_object()),
        logs: outcome.logs.clone(),
        annotations: JsonText::empty_array(),
    }
}

fn lost_record(accepted: &Accepted, reason: &str, now: Millis) -> ActivationDoc {
    ActivationDoc {
        activation_id: accepted.store_id,
        namespace: accepted.namespace.clone(),
        name: accepted.name.clone(),
        package: None,
        subject: accepted.namespace.clone(),
        version: accepted.version,
        start_ms: now.0,
        end_ms: now.0,
        duration_ms: 0,
        cause: accepted.cause,
        status: ActivationStatus::WhiskInternalError,
        result: JsonText::from_value(&serde_json::json!({ "error": reason })),
        logs: Vec::new(),
        annotations: JsonText::empty_array(),
    }
}
