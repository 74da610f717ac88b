//! One simulated invoker process: the production [`Invoker`] core, hosted the way the invoker
//! actor hosts it, over the simulated driver and bus.
//!
//! A crash either restarts only the hosting actor (the core's memory survives and
//! [`Invoker::restart`] rebuilds it from the containers still there) or kills the process (a new
//! core with a new incarnation; the containers it cannot adopt are removed, and in-flight driver
//! callbacks of the old process are dropped by their epoch).

use crate::config::SimConfig;
use crate::driver::{CreateAnswer, SimDriver};
use crate::invariants::Violation;
use crate::messages::{Message, Node, SimEvent};
use crate::outbox::Outbox;
use actors::core::invoker::{Executed, Invoker, InvokerEffect, InvokerInput, RunSpec};
use actors::core::pool::PoolConfig;
use actors::core::{ActivationId, ContainerId, InvokerId, Millis, SplitMix64};
use std::collections::BTreeMap;

/// An invoker process and its driver.
pub struct InvokerHost {
    id: InvokerId,
    config: PoolConfig,
    core: Invoker,
    driver: SimDriver,
    /// Changes when the process restarts (the controller ends what the old one held).
    incarnation: u64,
    /// Tags driver callbacks with the process that asked for them.
    epoch: u64,
    up: bool,
    /// The activations this process received, for the driver's checks.
    specs: BTreeMap<ActivationId, RunSpec>,
    /// Run time range of each action by (namespace, fully qualified name).
    run_ms: BTreeMap<(String, String), (u64, u64)>,
}

impl InvokerHost {
    /// A running invoker with an empty pool.
    pub fn new(id: InvokerId, sim: &SimConfig) -> Self {
        let run_ms = sim
            .actions
            .iter()
            .map(|a| {
                (
                    (a.namespace.clone(), format!("{}/{}", a.namespace, a.name)),
                    a.run_ms,
                )
            })
            .collect();
        InvokerHost {
            id,
            config: sim.pool.clone(),
            core: Invoker::new(sim.pool.clone()),
            driver: SimDriver::new(sim.pool.user_memory_mb, sim.driver.clone()),
            incarnation: 1,
            epoch: 1,
            up: true,
            specs: BTreeMap::new(),
            run_ms,
        }
    }

    /// Whether the process is up.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Activations this invoker holds.
    pub fn in_flight(&self) -> usize {
        if self.up {
            self.core.in_flight()
        } else {
            0
        }
    }

    /// Stops the driver's faults.
    pub fn heal(&mut self) {
        self.driver.heal();
    }

    /// A bus message arrived.
    pub fn deliver(
        &mut self,
        message: Message,
        now: Millis,
        rng: &mut SplitMix64,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        if !self.up {
            return Ok(());
        }
        if let Message::Run(spec) = message {
            self.specs
                .entry(spec.activation.clone())
                .or_insert_with(|| (*spec).clone());
            let effects = self.core.handle(InvokerInput::Run(*spec), now);
            self.carry_out(effects, now, rng, out)?;
        }
        Ok(())
    }

    /// The once-a-second tick: the core's tick and a ping to the controller.
    pub fn tick(
        &mut self,
        now: Millis,
        rng: &mut SplitMix64,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        if !self.up {
            return Ok(());
        }
        out.after(1_000, SimEvent::InvokerTick(self.id));
        out.send(
            Node::Controller,
            Message::Ping {
                invoker: self.id,
                user_memory_mb: self.config.user_memory_mb,
                incarnation: self.incarnation,
            },
        );
        let effects = self.core.handle(InvokerInput::Tick, now);
        self.carry_out(effects, now, rng, out)
    }

    /// A create finished.
    pub fn container_ready(
        &mut self,
        epoch: u64,
        container: ContainerId,
        now: Millis,
        rng: &mut SplitMix64,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        if !self.up || epoch != self.epoch {
            return Ok(());
        }
        let input = match self.driver.create_finished(container) {
            CreateAnswer::Created => InvokerInput::Created { container },
            CreateAnswer::Failed => InvokerInput::CreateFailed {
                container,
                error: format!("simulated create failure of {container}"),
            },
            CreateAnswer::Gone => return Ok(()),
        };
        let effects = self.core.handle(input, now);
        self.carry_out(effects, now, rng, out)
    }

    /// An execution finished.
    pub fn execution_done(
        &mut self,
        epoch: u64,
        executed: Executed,
        now: Millis,
        rng: &mut SplitMix64,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        if !self.up || epoch != self.epoch {
            return Ok(());
        }
        let executed = self.driver.execution_finished(executed, now);
        let effects = self.core.handle(InvokerInput::Executed(executed), now);
        self.carry_out(effects, now, rng, out)
    }

    /// A pause, unpause or remove failed.
    pub fn driver_op_failed(
        &mut self,
        epoch: u64,
        container: ContainerId,
        now: Millis,
        rng: &mut SplitMix64,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        if !self.up || epoch != self.epoch {
            return Ok(());
        }
        let effects = self.core.handle(
            InvokerInput::DriverFailed {
                container,
                error: format!("simulated driver failure on {container}"),
            },
            now,
        );
        self.carry_out(effects, now, rng, out)
    }

    /// The hosting actor restarts inside a live process: the core rebuilds itself from the
    /// containers the driver still has.
    pub fn restart_actor(
        &mut self,
        now: Millis,
        rng: &mut SplitMix64,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        if !self.up {
            return Ok(());
        }
        let still_there = self.driver.all_containers();
        let effects = self.core.restart(&still_there, now);
        self.carry_out(effects, now, rng, out)
    }

    /// The process dies: nothing it knew survives; its driver callbacks are dropped.
    pub fn crash_process(&mut self) {
        self.up = false;
        self.epoch += 1;
        self.specs.clear();
    }

    /// The process starts again with a new core and a new incarnation; containers it cannot adopt
    /// are removed.
    pub fn start_process(&mut self, now: Millis, out: &mut Outbox) -> Result<(), Violation> {
        if self.up {
            return Ok(());
        }
        self.up = true;
        self.incarnation += 1;
        self.core = Invoker::new(self.config.clone());
        for container in self.driver.all_containers() {
            self.driver.remove(
                container,
                actors::core::pool::RemovalReason::NotAdopted,
                now,
            )?;
        }
        out.after(0, SimEvent::InvokerTick(self.id));
        Ok(())
    }

    fn carry_out(
        &mut self,
        effects: Vec<InvokerEffect>,
        now: Millis,
        rng: &mut SplitMix64,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        for effect in effects {
            match effect {
                InvokerEffect::Create {
                    container,
                    memory_mb,
                    for_action,
                    ..
                } => {
                    let plan = self
                        .driver
                        .create(container, memory_mb, for_action, now, rng)?;
                    out.after(
                        plan.delay_ms,
                        SimEvent::ContainerReady {
                            invoker: self.id,
                            epoch: self.epoch,
                            container,
                        },
                    );
                }
                InvokerEffect::Execute {
                    container,
                    activation,
                    init,
                } => {
                    let Some(spec) = self.specs.get(&activation) else {
                        tracing::warn!(activation_id = %activation, "execute for an activation this process never received");
                        continue;
                    };
                    let run_ms = self
                        .run_ms
                        .get(&(spec.action.namespace.clone(), spec.action.action.clone()))
                        .copied()
                        .unwrap_or((10, 10));
                    let plan = self.driver.execute(
                        container,
                        &activation,
                        &spec.action,
                        init,
                        spec.limits.timeout_ms,
                        run_ms,
                        now,
                        rng,
                    )?;
                    out.send(
                        Node::Controller,
                        Message::Started {
                            activation,
                            invoker: self.id,
                        },
                    );
                    out.after(
                        plan.delay_ms,
                        SimEvent::ExecutionDone {
                            invoker: self.id,
                            epoch: self.epoch,
                            executed: Box::new(plan.executed),
                        },
                    );
                }
                InvokerEffect::Pause { container } => {
                    if !self.driver.pause(container, now, rng)? {
                        self.op_failed(container, out);
                    }
                }
                InvokerEffect::Unpause { container } => {
                    if !self.driver.unpause(container, rng) {
                        self.op_failed(container, out);
                    }
                }
                InvokerEffect::Remove { container, reason } => {
                    self.driver.remove(container, reason, now)?;
                }
                InvokerEffect::Complete {
                    outcome,
                    system_error,
                } => {
                    self.specs.remove(&outcome.activation);
                    out.send(
                        Node::Controller,
                        Message::Completed {
                            invoker: self.id,
                            outcome,
                            system_error,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    fn op_failed(&self, container: ContainerId, out: &mut Outbox) {
        out.after(
            1,
            SimEvent::DriverOpFailed {
                invoker: self.id,
                epoch: self.epoch,
                container,
            },
        );
    }
}
