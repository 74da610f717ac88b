//! `InvokerActor`: hosts the [`Invoker`] core (container pool + activation lifecycle) under
//! `actix::Supervisor`, and drives containers through a [`ContainerDriver`].
//!
//! Activations arrive from the [`Bus`] (forwarded into the mailbox by a task that outlives the
//! actor); each container gets one worker task that carries out its operations in order
//! (create, execute, pause, unpause, remove) and reports back. Outcomes become activation records,
//! published as completions for the controller to record. On a restart the actor asks the driver
//! which containers still exist and lets the core adopt the idle ones, end the executing activations
//! with a whisk internal error, and run the waiting ones again.

mod execution;
mod worker;

use crate::bus_intake;
use crate::convert;
use crate::core::ids::{
    ActivationId as CoreActivationId, ContainerId as CoreContainerId, InvokerId,
};
use crate::core::invoker::{Invoker, InvokerEffect, InvokerInput, RunSpec};
use crate::core::pool::{ContainerState, PoolConfig, PoolCounters};
use crate::core::time::Millis;
use actix::prelude::*;
use bridge::bus::{ActivationMessage, ActivationStarted, Bus, CompletionMessage, InvokerPing};
use bridge::{ContainerDriver, ContainerImage, ContainerSpec, Isolation, RuntimeKind};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use store::{Clock, Exec};
use worker::{ContainerOp, ContainerWorker};

pub use execution::Execution;

/// Configuration of one invoker.
#[derive(Debug, Clone)]
pub struct InvokerConfig {
    pub id: InvokerId,
    pub pool: PoolConfig,
    /// Largest result accepted, in bytes (OpenWhisk: 1 MB).
    pub max_result_bytes: u64,
    /// How often the pool's timers are checked.
    pub tick: Duration,
    /// How often the invoker announces itself on the bus.
    pub ping_every: Duration,
    /// Labels every container with this instance name (`whirl.instance`).
    pub instance: String,
}

impl InvokerConfig {
    pub fn new(id: InvokerId, pool: PoolConfig) -> Self {
        InvokerConfig {
            id,
            pool,
            max_result_bytes: 1024 * 1024,
            tick: Duration::from_millis(500),
            ping_every: Duration::from_secs(1),
            instance: "whirl".to_owned(),
        }
    }
}

/// The supervised host of one invoker core.
pub struct InvokerActor {
    config: InvokerConfig,
    core: Invoker,
    driver: Arc<dyn ContainerDriver>,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
    /// The message of each activation the core holds, shared with its execution (an action's
    /// code travels in it, so it is not copied per run).
    messages: BTreeMap<CoreActivationId, Arc<ActivationMessage>>,
    workers: BTreeMap<CoreContainerId, ContainerWorker>,
    /// The driver's id of each container the core knows, once created.
    driver_ids: BTreeMap<CoreContainerId, bridge::ContainerId>,
    incarnation: u64,
    restarts: u64,
    recovering: bool,
}

impl InvokerActor {
    pub fn new(
        config: InvokerConfig,
        driver: Arc<dyn ContainerDriver>,
        bus: Arc<dyn Bus>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let incarnation = clock.now_ms();
        InvokerActor {
            core: Invoker::new(config.pool.clone()),
            config,
            driver,
            bus,
            clock,
            messages: BTreeMap::new(),
            workers: BTreeMap::new(),
            driver_ids: BTreeMap::new(),
            incarnation,
            restarts: 0,
            recovering: false,
        }
    }

    /// Starts the actor under a supervisor and forwards its bus queue into it.
    pub async fn start_supervised(self) -> Result<Addr<InvokerActor>, bridge::bus::BusError> {
        let name = self.config.id.to_string();
        let activations = self.bus.subscribe_activations(&name).await?;
        let addr = Supervisor::start(move |_| self);
        bus_intake::forward(activations, addr.clone(), Activation);
        Ok(addr)
    }

    fn now(&self) -> Millis {
        Millis(self.clock.now_ms())
    }

    fn step(&mut self, input: InvokerInput, ctx: &mut Context<Self>) {
        let now = self.now();
        let effects = self.core.handle(input, now);
        self.carry_out(effects, ctx);
    }

    fn carry_out(&mut self, effects: Vec<InvokerEffect>, ctx: &mut Context<Self>) {
        for effect in effects {
            match effect {
                InvokerEffect::Create {
                    container,
                    kind,
                    memory_mb,
                    for_action,
                } => {
                    let spec =
                        self.container_spec(container, &kind, memory_mb, for_action.is_some());
                    let worker = ContainerWorker::spawn(
                        container,
                        self.driver.clone(),
                        self.clock.clone(),
                        ctx.address().recipient(),
                    );
                    worker.send(ContainerOp::Create(spec));
                    self.workers.insert(container, worker);
                }
                InvokerEffect::Execute {
                    container,
                    activation,
                    init,
                } => {
                    let Some(message) = self.messages.get(&activation).cloned() else {
                        tracing::error!(activation_id = %activation, "execute for an activation without message");
                        continue;
                    };
                    let notice = ActivationStarted {
                        activation_id: message.activation_id,
                        invoker: self.config.id.to_string(),
                    };
                    match self.bus.publish_started_now(notice) {
                        Ok(None) => {}
                        Ok(Some(notice)) => {
                            let bus = self.bus.clone();
                            tokio::spawn(async move {
                                if let Err(error) = bus.publish_started(notice).await {
                                    tracing::warn!(%error, "cannot publish a start notice");
                                }
                            });
                        }
                        Err(error) => tracing::warn!(%error, "cannot publish a start notice"),
                    }
                    let execution = Execution {
                        container,
                        activation,
                        message,
                        init,
                        max_result_bytes: self.config.max_result_bytes,
                    };
                    self.worker(container, ctx)
                        .send(ContainerOp::Execute(Box::new(execution)));
                }
                InvokerEffect::Pause { container } => {
                    self.worker(container, ctx).send(ContainerOp::Pause)
                }
                InvokerEffect::Unpause { container } => {
                    self.worker(container, ctx).send(ContainerOp::Unpause)
                }
                InvokerEffect::Remove { container, reason } => {
                    tracing::debug!(%container, ?reason, "removing container");
                    match self.workers.remove(&container) {
                        Some(worker) => worker.send(ContainerOp::Remove),
                        None => {
                            // Adopted from before a restart: no worker, remove through the driver.
                            if let Some(id) = self.driver_ids.get(&container).cloned() {
                                let driver = self.driver.clone();
                                tokio::spawn(async move {
                                    if let Err(error) = driver.remove(&id).await {
                                        tracing::warn!(container = %id, %error, "cannot remove container");
                                    }
                                });
                            }
                        }
                    }
                    self.driver_ids.remove(&container);
                }
                InvokerEffect::Complete {
                    outcome,
                    system_error,
                } => {
                    let Some(message) = self.messages.remove(&outcome.activation) else {
                        tracing::error!(activation_id = %outcome.activation, "outcome without message");
                        continue;
                    };
                    let record = convert::record(&message, &outcome);
                    tracing::debug!(activation_id = %record.activation_id, status = record.status.as_str(), "activation complete");
                    let completion = CompletionMessage {
                        invoker: self.config.id.to_string(),
                        record,
                        recorded: false,
                        system_error,
                    };
                    match self.bus.publish_completion_now(completion) {
                        Ok(None) => {}
                        Ok(Some(completion)) => {
                            let bus = self.bus.clone();
                            tokio::spawn(async move {
                                if let Err(error) = bus.publish_completion(completion).await {
                                    tracing::error!(%error, "cannot publish completion");
                                }
                            });
                        }
                        Err(error) => tracing::error!(%error, "cannot publish completion"),
                    }
                }
            }
        }
    }

    /// The worker of a container; a container the core adopted after a restart gets one now.
    fn worker(&mut self, container: CoreContainerId, ctx: &mut Context<Self>) -> &ContainerWorker {
        let driver = self.driver.clone();
        let clock = self.clock.clone();
        let known = self.driver_ids.get(&container).cloned();
        self.workers.entry(container).or_insert_with(|| {
            let worker =
                ContainerWorker::spawn(container, driver, clock, ctx.address().recipient());
            if let Some(id) = known {
                worker.send(ContainerOp::Adopt(id));
            }
            worker
        })
    }

    fn container_spec(
        &self,
        container: CoreContainerId,
        kind: &crate::core::action::Kind,
        memory_mb: u64,
        dedicated: bool,
    ) -> ContainerSpec {
        let (kind, isolation) = Isolation::split_kind(kind.as_str());
        let image = match kind.strip_prefix("blackbox:") {
            Some(image) => ContainerImage::Blackbox(image.to_owned()),
            None => ContainerImage::Runtime(kind.parse().unwrap_or(RuntimeKind::Exec)),
        };
        let mut labels = BTreeMap::new();
        labels.insert("whirl.instance".to_owned(), self.config.instance.clone());
        labels.insert("whirl.invoker".to_owned(), self.config.id.to_string());
        labels.insert("whirl.container".to_owned(), container.0.to_string());
        labels.insert("whirl.dedicated".to_owned(), dedicated.to_string());
        ContainerSpec {
            image,
            isolation,
            memory_mb: u32::try_from(memory_mb).unwrap_or(u32::MAX),
            env: BTreeMap::new(),
            labels,
        }
    }
}

fn run_spec(message: &ActivationMessage, max_result_bytes: u64) -> RunSpec {
    RunSpec {
        activation: convert::core_id(&message.activation_id),
        action: convert::invocation_key(message),
        path: convert::path(&message.action),
        kind: convert::kind(&message.action),
        limits: convert::run_limits(&message.action),
        max_result_bytes,
        accepted_at: Millis(message.accepted_at_ms),
        scaling: convert::scaling(&message.action),
    }
}

impl Actor for InvokerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.config.tick, |actor, ctx| {
            actor.step(InvokerInput::Tick, ctx)
        });
        ctx.run_interval(self.config.ping_every, |actor, _| actor.ping());
        self.ping();
        if self.recovering {
            self.recovering = false;
            // Hold the mailbox until the driver says which containers survived.
            let driver = self.driver.clone();
            ctx.wait(
                async move { driver.list().await }
                    .into_actor(self)
                    .map(|listed, actor, ctx| actor.recover(listed, ctx)),
            );
        }
    }
}

impl InvokerActor {
    fn ping(&self) {
        let ping = InvokerPing {
            invoker: self.config.id.to_string(),
            incarnation: self.incarnation,
            user_memory_mb: u32::try_from(self.config.pool.user_memory_mb).unwrap_or(u32::MAX),
            sent_at_ms: self.clock.now_ms(),
        };
        let bus = self.bus.clone();
        tokio::spawn(async move {
            if let Err(error) = bus.publish_ping(ping).await {
                tracing::warn!(%error, "cannot publish invoker ping");
            }
        });
    }

    fn recover(
        &mut self,
        listed: bridge::Result<Vec<bridge::ContainerInfo>>,
        ctx: &mut Context<Self>,
    ) {
        let listed = match listed {
            Ok(listed) => listed,
            Err(error) => {
                tracing::error!(%error, "cannot list containers after a restart; adopting none");
                Vec::new()
            }
        };
        let alive: BTreeSet<bridge::ContainerId> = listed.into_iter().map(|info| info.id).collect();
        let still_there: BTreeSet<CoreContainerId> = self
            .driver_ids
            .iter()
            .filter(|(_, id)| alive.contains(*id))
            .map(|(container, _)| *container)
            .collect();
        let now = self.now();
        let effects = self.core.restart(&still_there, now);
        tracing::warn!(
            restarts = self.restarts,
            adopted = self.core.pool().containers().len(),
            waiting = self.core.in_flight(),
            "invoker rebuilt from its driver"
        );
        self.carry_out(effects, ctx);
    }
}

impl Supervised for InvokerActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.restarts += 1;
        self.recovering = true;
        tracing::warn!(invoker = %self.config.id, restarts = self.restarts, "invoker restarting");
    }
}

/// An activation from the bus.
#[derive(Message)]
#[rtype(result = "()")]
struct Activation(ActivationMessage);

impl Handler<Activation> for InvokerActor {
    type Result = ();

    fn handle(&mut self, Activation(message): Activation, ctx: &mut Self::Context) {
        let spec = run_spec(&message, self.config.max_result_bytes);
        if matches!(message.action.exec, Exec::Sequence { .. }) {
            tracing::error!(activation_id = %message.activation_id, "a sequence reached an invoker");
        }
        self.messages
            .insert(spec.activation.clone(), Arc::new(message));
        self.step(InvokerInput::Run(spec), ctx);
    }
}

impl Handler<worker::WorkerReport> for InvokerActor {
    type Result = ();

    fn handle(&mut self, report: worker::WorkerReport, ctx: &mut Self::Context) {
        let input = match report {
            worker::WorkerReport::Created {
                container,
                driver_id,
            } => {
                self.driver_ids.insert(container, driver_id);
                InvokerInput::Created { container }
            }
            worker::WorkerReport::CreateFailed {
                container,
                error,
                image_unavailable,
            } => {
                self.workers.remove(&container);
                if image_unavailable {
                    InvokerInput::ImageUnavailable { container, error }
                } else {
                    InvokerInput::CreateFailed { container, error }
                }
            }
            worker::WorkerReport::Executed(executed) => InvokerInput::Executed(executed),
            worker::WorkerReport::DriverFailed { container, error } => {
                InvokerInput::DriverFailed { container, error }
            }
        };
        self.step(input, ctx);
    }
}

/// Ask for the invoker's pool state.
#[derive(Message)]
#[rtype(result = "InvokerStats")]
pub struct GetInvokerStats;

/// An invoker's pool state and counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokerStats {
    pub counters: PoolCounters,
    pub containers: BTreeMap<ContainerState, usize>,
    /// Containers dedicated to each action (its fully qualified name, `/ns[/pkg]/name`, any
    /// version and invoking namespace), stem cells left out.
    pub containers_by_action: BTreeMap<String, usize>,
    pub queue_depth: usize,
    pub in_flight: usize,
    pub restarts: u64,
}

impl Handler<GetInvokerStats> for InvokerActor {
    type Result = MessageResult<GetInvokerStats>;

    fn handle(&mut self, _: GetInvokerStats, _: &mut Self::Context) -> Self::Result {
        let pool = self.core.pool();
        let mut containers_by_action = BTreeMap::new();
        for container in pool.containers() {
            if let Some(action) = container.action {
                *containers_by_action.entry(action.action).or_insert(0) += 1;
            }
        }
        MessageResult(InvokerStats {
            counters: pool.counters().clone(),
            containers: pool.containers_by_state(),
            containers_by_action,
            queue_depth: pool.queue_depth(),
            in_flight: self.core.in_flight(),
            restarts: self.restarts,
        })
    }
}

/// Ask how many containers the pool has for one action (`namespace`, fully qualified `action`).
#[derive(Message)]
#[rtype(result = "ActionReplicas")]
pub struct GetActionReplicas {
    pub namespace: String,
    pub action: String,
}

/// The containers of one action: all of them, and those ready to serve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionReplicas {
    pub replicas: usize,
    pub available: usize,
}

impl Handler<GetActionReplicas> for InvokerActor {
    type Result = MessageResult<GetActionReplicas>;

    fn handle(&mut self, asked: GetActionReplicas, _: &mut Self::Context) -> Self::Result {
        let (replicas, available) = self
            .core
            .pool()
            .replicas_of(&asked.namespace, &asked.action);
        MessageResult(ActionReplicas {
            replicas,
            available,
        })
    }
}

/// Set the replica count of an action in this invoker's pool (OpenFaaS's scale-function): its
/// containers in `namespace` for the action's current version.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct ScaleAction {
    pub namespace: String,
    pub action: store::ActionDoc,
    pub replicas: u32,
}

impl Handler<ScaleAction> for InvokerActor {
    type Result = ();

    fn handle(&mut self, scale: ScaleAction, ctx: &mut Self::Context) {
        let limits = convert::run_limits(&scale.action);
        let request = crate::core::pool::ScaleRequest {
            action: crate::core::action::ActionKey::new(
                scale.namespace,
                convert::fully_qualified(&scale.action),
                scale.action.version.to_string(),
            ),
            kind: convert::kind(&scale.action),
            memory_mb: limits.memory_mb,
            concurrency: limits.concurrency,
            scaling: convert::scaling(&scale.action).unwrap_or_default(),
            replicas: scale.replicas,
        };
        tracing::info!(action = %request.action, replicas = scale.replicas, "scaling an action");
        self.step(InvokerInput::Scale(request), ctx);
    }
}

impl Handler<crate::Restart> for InvokerActor {
    type Result = ();

    fn handle(&mut self, _: crate::Restart, ctx: &mut Self::Context) {
        tracing::warn!(invoker = %self.config.id, "invoker asked to restart");
        ctx.stop();
    }
}
