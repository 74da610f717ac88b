//! One simulated run: the controller, the invokers, the bus and the clients, driven by the
//! scheduler from one seed, with the invariants checked after every event and once more when the
//! run has drained.
//!
//! A run has two phases. Until `time_ms`, clients act and faults strike. Then the world heals
//! (clients stop, the bus and the driver stop misbehaving, crashed processes come back) and runs
//! until every accepted invocation has ended, within a drain limit.

use crate::bus::SimBus;
use crate::config::{RunLimits, SimConfig, EPOCH_MS};
use crate::controller_host::ControllerHost;
use crate::invariants::{AckLedger, Invariant, RecordLedger, RuleTruth, Violation};
use crate::invoker_host::InvokerHost;
use crate::messages::{Node, SimEvent};
use crate::outbox::Outbox;
use crate::random::Draw;
use crate::read_model::ReadModel;
use crate::scheduler::Scheduler;
use crate::trace::Trace;
use actors::core::{InvokerId, Millis, SplitMix64};
use store::RuleStatus;

/// Counts of what happened in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    pub events: u64,
    pub client_ops: u64,
    pub invocations_accepted: usize,
    pub records: usize,
    pub acknowledged_appends: usize,
    pub controller_crashes: u64,
    pub invoker_crashes: u64,
    pub messages_sent: u64,
    /// Simulated milliseconds from start to the end of the drain.
    pub simulated_ms: u64,
}

/// How a run ended.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    pub seed: u64,
    /// FNV-1a 64 over the canonical rendering of every processed event.
    pub trace_hash: u64,
    pub stats: RunStats,
    /// The first invariant broken, if any.
    pub violation: Option<Violation>,
    /// The last trace lines (to explain a violation).
    pub recent: Vec<String>,
}

impl RunOutcome {
    /// Whether every invariant held.
    pub fn passed(&self) -> bool {
        self.violation.is_none()
    }
}

/// Extra time after the heal for everything in flight to end: the longest action time limit, the
/// controller's grace, restarts and a margin.
const DRAIN_MARGIN_MS: u64 = 30_000;

/// An invoker holding work must finish something at least this often after the heal.
const INVOKER_STALL_MS: u64 = 60_000;

/// Events that show an invoker making progress.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EventKind {
    InvokerProgress,
    Other,
}

struct World {
    sim: SimConfig,
    limits: RunLimits,
    sched: Scheduler<SimEvent>,
    rng: SplitMix64,
    trace: Trace,
    bus: SimBus,
    controller: ControllerHost,
    invokers: Vec<InvokerHost>,
    records: RecordLedger,
    acks: AckLedger,
    truth: RuleTruth,
    healed: bool,
    drain_deadline: Millis,
    last_invoker_progress: Millis,
    stats: RunStats,
}

/// Runs the simulation of `seed`.
pub fn run_seed(seed: u64, limits: &RunLimits) -> RunOutcome {
    let sim = SimConfig::from_seed(seed);
    run_config(sim, limits)
}

/// Runs one simulation of `sim`.
pub fn run_config(sim: SimConfig, limits: &RunLimits) -> RunOutcome {
    let mut world = World::new(sim, limits.clone());
    let violation = world.run().err();
    world.fill_stats();
    RunOutcome {
        seed: world.sim.seed,
        trace_hash: world.trace.hash(),
        stats: world.stats.clone(),
        violation,
        recent: world.trace.recent(),
    }
}

impl World {
    fn new(sim: SimConfig, limits: RunLimits) -> Self {
        let invokers = (0..sim.invokers)
            .map(|i| InvokerHost::new(InvokerId(i), &sim))
            .collect();
        World {
            rng: SplitMix64::new(sim.seed),
            trace: Trace::new(limits.keep_lines, limits.verbose),
            bus: SimBus::new(sim.bus.clone()),
            controller: ControllerHost::new(&sim),
            invokers,
            records: RecordLedger::new(&sim.triggers),
            acks: AckLedger::default(),
            truth: RuleTruth::default(),
            healed: false,
            drain_deadline: Millis(u64::MAX),
            last_invoker_progress: Millis(EPOCH_MS),
            stats: RunStats::default(),
            sched: Scheduler::new(Millis(EPOCH_MS)),
            sim,
            limits,
        }
    }

    fn run(&mut self) -> Result<(), Violation> {
        self.start()?;
        while let Some((now, event)) = self.sched.pop() {
            self.stats.events += 1;
            if self.stats.events > self.limits.max_steps {
                return Err(Violation::new(
                    Invariant::Progress,
                    now,
                    format!("the run exceeded {} steps", self.limits.max_steps),
                ));
            }
            self.controller.set_time(now);
            self.trace
                .record(format!("{} {}", now.0 - EPOCH_MS, event.render()));
            let event_kind = match event {
                SimEvent::ExecutionDone { .. } | SimEvent::ContainerReady { .. } => {
                    EventKind::InvokerProgress
                }
                _ => EventKind::Other,
            };
            self.handle(event, now)?;
            if matches!(event_kind, EventKind::InvokerProgress) {
                self.last_invoker_progress = now;
            }
            if self.healed {
                if self.controller_drained() {
                    if self
                        .invokers
                        .iter()
                        .all(|h| h.is_up() && h.in_flight() == 0)
                    {
                        return self.final_checks(now);
                    }
                    // The controller is done; invokers may still work off a backlog of activations
                    // already recorded as lost. They must keep making progress.
                    if now.since(self.last_invoker_progress) > INVOKER_STALL_MS {
                        return Err(Violation::new(
                            Invariant::Progress,
                            now,
                            format!(
                                "invokers stalled for {INVOKER_STALL_MS} ms holding {:?} activations",
                                self.invokers.iter().map(InvokerHost::in_flight).collect::<Vec<_>>()
                            ),
                        ));
                    }
                } else if now >= self.drain_deadline {
                    return Err(Violation::new(
                        Invariant::Progress,
                        now,
                        format!(
                            "not drained {DRAIN_MARGIN_MS} ms after the heal: controller up={} in flight={} appends={}, invokers in flight={:?}, unrecorded={}",
                            self.controller.is_up(),
                            self.controller.in_flight(),
                            self.controller.pending_appends(),
                            self.invokers.iter().map(InvokerHost::in_flight).collect::<Vec<_>>(),
                            self.records.unrecorded().len()
                        ),
                    ));
                }
            }
        }
        Err(Violation::new(
            Invariant::Progress,
            self.sched.now(),
            "the scheduler ran out of events",
        ))
    }

    fn start(&mut self) -> Result<(), Violation> {
        let now = self.sched.now();
        let mut out = Outbox::default();
        let events = self.controller.bootstrap(&self.sim, &mut self.truth);
        self.controller.append_bootstrap(events, &mut out);
        self.flush(now, &mut out)?;
        self.sched.after(0, SimEvent::ControllerTick);
        for i in 0..self.sim.invokers {
            let offset = self.rng.below(1_000);
            self.sched
                .after(offset, SimEvent::InvokerTick(InvokerId(i)));
        }
        let gap = self.rng.between(1, 2 * self.sim.client_gap_ms);
        self.sched.after(gap, SimEvent::ClientOp);
        self.sched
            .after(self.sim.checkpoint_every_ms, SimEvent::Checkpoint);
        self.schedule_controller_crash();
        for i in 0..self.sim.invokers {
            self.schedule_invoker_crash(InvokerId(i));
        }
        self.sched.after(self.limits.time_ms, SimEvent::Heal);
        self.apply(out);
        Ok(())
    }

    fn schedule_controller_crash(&mut self) {
        let mean = self.sim.crashes.controller_mean_ms;
        if mean > 0 && !self.healed {
            let at = self.rng.between(mean / 4, mean * 7 / 4);
            self.sched.after(at, SimEvent::ControllerCrash);
        }
    }

    fn schedule_invoker_crash(&mut self, invoker: InvokerId) {
        let mean = self.sim.crashes.invoker_mean_ms;
        if mean > 0 && !self.healed {
            let at = self.rng.between(mean / 4, mean * 7 / 4);
            self.sched.after(at, SimEvent::InvokerCrash(invoker));
        }
    }

    fn downtime(&mut self) -> u64 {
        let (lo, hi) = self.sim.crashes.downtime_ms;
        self.rng.between(lo, hi)
    }

    fn handle(&mut self, event: SimEvent, now: Millis) -> Result<(), Violation> {
        let mut out = Outbox::default();
        match event {
            SimEvent::ClientOp => self.client_op(now, &mut out)?,
            SimEvent::Deliver { to, message } => match to {
                Node::Controller => {
                    self.controller
                        .deliver(message, now, &mut self.rng, &mut out)?
                }
                Node::Invoker(i) => {
                    if let Some(host) = self.invokers.get_mut(i.0 as usize) {
                        host.deliver(message, now, &mut self.rng, &mut out)?;
                    }
                }
            },
            SimEvent::Flush => self.flush(now, &mut out)?,
            SimEvent::Checkpoint => {
                self.controller.checkpoint();
                self.sched
                    .after(self.sim.checkpoint_every_ms, SimEvent::Checkpoint);
            }
            SimEvent::ControllerTick => self.controller.tick(now, &mut self.rng, &mut out)?,
            SimEvent::InvokerTick(i) => {
                if let Some(host) = self.invokers.get_mut(i.0 as usize) {
                    host.tick(now, &mut self.rng, &mut out)?;
                }
            }
            SimEvent::ContainerReady {
                invoker,
                epoch,
                container,
            } => {
                if let Some(host) = self.invokers.get_mut(invoker.0 as usize) {
                    host.container_ready(epoch, container, now, &mut self.rng, &mut out)?;
                }
            }
            SimEvent::ExecutionDone {
                invoker,
                epoch,
                executed,
            } => {
                if let Some(host) = self.invokers.get_mut(invoker.0 as usize) {
                    host.execution_done(epoch, *executed, now, &mut self.rng, &mut out)?;
                }
            }
            SimEvent::DriverOpFailed {
                invoker,
                epoch,
                container,
            } => {
                if let Some(host) = self.invokers.get_mut(invoker.0 as usize) {
                    host.driver_op_failed(epoch, container, now, &mut self.rng, &mut out)?;
                }
            }
            SimEvent::ControllerCrash => {
                if !self.healed && self.controller.is_up() {
                    self.stats.controller_crashes += 1;
                    self.controller.crash(now)?;
                    self.truth.all_changes_failed();
                    self.acks
                        .check(&self.controller.durable_hashes(), now, "after a crash")?;
                    let downtime = self.downtime();
                    self.sched.after(downtime, SimEvent::ControllerRestart);
                }
            }
            SimEvent::ControllerRestart => {
                self.controller.restart(&self.sim, now, &mut out)?;
                self.acks
                    .check(&self.controller.durable_hashes(), now, "after a recovery")?;
                self.schedule_controller_crash();
            }
            SimEvent::InvokerCrash(i) => {
                if !self.healed {
                    self.stats.invoker_crashes += 1;
                    let actor_only = self.rng.per_mille(self.sim.crashes.actor_restart_per_mille);
                    let downtime = self.downtime();
                    if let Some(host) = self.invokers.get_mut(i.0 as usize) {
                        if actor_only {
                            host.restart_actor(now, &mut self.rng, &mut out)?;
                            self.schedule_invoker_crash(i);
                        } else if host.is_up() {
                            host.crash_process();
                            self.sched.after(downtime, SimEvent::InvokerRestart(i));
                        }
                    }
                }
            }
            SimEvent::InvokerRestart(i) => {
                if let Some(host) = self.invokers.get_mut(i.0 as usize) {
                    host.start_process(now, &mut out)?;
                }
                self.schedule_invoker_crash(i);
            }
            SimEvent::Heal => self.heal(now, &mut out)?,
        }
        self.apply(out);
        Ok(())
    }

    fn heal(&mut self, now: Millis, out: &mut Outbox) -> Result<(), Violation> {
        self.healed = true;
        self.bus.heal();
        for host in &mut self.invokers {
            host.heal();
        }
        let longest_timeout = self
            .sim
            .actions
            .iter()
            .map(|a| a.timeout_ms)
            .max()
            .unwrap_or(0);
        let grace = self.sim.controller.completion_grace_ms.unwrap_or(0);
        let max_downtime = self.sim.crashes.downtime_ms.1;
        self.drain_deadline = now.plus(longest_timeout + grace + max_downtime + DRAIN_MARGIN_MS);
        // Crashed processes come back now.
        if !self.controller.is_up() {
            self.controller.restart(&self.sim, now, out)?;
            self.acks
                .check(&self.controller.durable_hashes(), now, "after a recovery")?;
        }
        for host in &mut self.invokers {
            host.start_process(now, out)?;
        }
        Ok(())
    }

    fn flush(&mut self, now: Millis, out: &mut Outbox) -> Result<(), Violation> {
        let (acks, records) = self.controller.flush(now, out)?;
        for record in &records {
            self.records.see(record, now)?;
        }
        for ack in acks {
            for receipt in &ack.receipts {
                self.acks.acknowledged(receipt.seq, receipt.hash);
            }
            if let Some((ns, rule, status)) = ack.rule {
                self.truth.change_ended(&ns, &rule, Some(status));
            }
        }
        Ok(())
    }

    fn client_op(&mut self, now: Millis, out: &mut Outbox) -> Result<(), Violation> {
        if self.healed {
            return Ok(());
        }
        self.stats.client_ops += 1;
        let gap = self.rng.between(1, 2 * self.sim.client_gap_ms);
        self.sched.after(gap, SimEvent::ClientOp);
        let result = match self.rng.weighted(&self.sim.op_weights) {
            0 => {
                // Popularity is skewed: earlier actions are invoked more often.
                let weights: Vec<u64> =
                    (0..self.sim.actions.len()).map(|i| 64 >> (i % 4)).collect();
                let a = self.sim.actions[self.rng.weighted(&weights)].clone();
                let blocking = self.rng.per_mille(500);
                let r = self.controller.invoke(
                    &a.namespace,
                    &a.name,
                    blocking,
                    now,
                    &mut self.rng,
                    out,
                )?;
                format!("invoke {}/{}: {r}", a.namespace, a.name)
            }
            1 => {
                let i = self.rng.below(self.sim.triggers.len() as u64) as usize;
                let (ns, t) = self.sim.triggers[i].clone();
                let r = self
                    .controller
                    .fire(&ns, &t, &self.truth, now, &mut self.rng, out)?;
                format!("fire {ns}/{t}: {r}")
            }
            2 => {
                let i = self.rng.below(self.sim.actions.len() as u64) as usize;
                let a = self.sim.actions[i].clone();
                let r = self
                    .controller
                    .update_action(&self.sim, &a.namespace, &a.name, out);
                format!("update {}/{}: {r}", a.namespace, a.name)
            }
            _ => {
                if self.sim.rules.is_empty() {
                    return Ok(());
                }
                let i = self.rng.below(self.sim.rules.len() as u64) as usize;
                let rule = self.sim.rules[i].clone();
                let status = if self.rng.per_mille(500) {
                    RuleStatus::Active
                } else {
                    RuleStatus::Inactive
                };
                let r = self.controller.set_rule(
                    &rule.namespace,
                    &rule.name,
                    status,
                    &mut self.truth,
                    out,
                );
                format!("rule {}/{}: {r}", rule.namespace, rule.name)
            }
        };
        self.trace
            .record(format!("{} client {result}", now.0 - EPOCH_MS));
        Ok(())
    }

    /// Carries out what a process asked for: bus sends (through the bus's faults) and timers.
    fn apply(&mut self, out: Outbox) {
        for (to, message) in out.sends {
            self.stats.messages_sent += 1;
            let deliveries = self.bus.deliveries(&mut self.rng);
            if let Some((last, rest)) = deliveries.split_last() {
                for &delay in rest {
                    let message = message.clone();
                    self.sched.after(delay, SimEvent::Deliver { to, message });
                }
                self.sched.after(*last, SimEvent::Deliver { to, message });
            }
        }
        for (delay, event) in out.timers {
            if self.healed && matches!(event, SimEvent::ControllerCrash | SimEvent::InvokerCrash(_))
            {
                continue;
            }
            self.sched.after(delay, event);
        }
    }

    fn controller_drained(&self) -> bool {
        self.controller.is_up()
            && self.controller.in_flight() == 0
            && self.controller.pending_appends() == 0
            && self.records.unrecorded().is_empty()
    }

    fn fill_stats(&mut self) {
        let (accepted, recorded) = self.records.counts();
        self.stats.invocations_accepted = accepted;
        self.stats.records = recorded;
        self.stats.acknowledged_appends = self.acks.len();
        self.stats.simulated_ms = self.sched.now().0 - EPOCH_MS;
    }

    fn final_checks(&mut self, now: Millis) -> Result<(), Violation> {
        if let Some(missing) = self.records.unrecorded().first() {
            return Err(Violation::new(
                Invariant::ExactlyOneRecord,
                now,
                format!("accepted activation {missing} never recorded"),
            ));
        }
        let durable = self.controller.durable(now)?;
        let hashes = durable.iter().map(|c| (c.seq, c.hash)).collect();
        self.acks.check(&hashes, now, "at the end")?;
        let replayed = ReadModel::replay(&durable);
        if &replayed != self.controller.read_model() {
            return Err(Violation::new(
                Invariant::ProjectionsMatchReplay,
                now,
                format!(
                    "the live read model (seq {}) differs from a replay of {} records",
                    self.controller.read_model().applied_seq,
                    durable.len()
                ),
            ));
        }
        Ok(())
    }
}
