//! `ControllerActor`: hosts the [`Controller`] core under `actix::Supervisor`.
//!
//! It accepts invocations (throttle, place, append `InvocationAccepted`, send over the [`Bus`];
//! a blocking one, `InvokeBlocking`, appends nothing before its record unless its caller sends
//! `Detach`), receives completions and invoker pings (forwarded from the bus into its mailbox by tasks that
//! outlive it, so a restart loses no message), appends exactly one `ActivationRecorded` per accepted
//! invocation, and answers blocking callers once that record is durable. On a restart it rebuilds its
//! core from the invocations the log holds as accepted but not recorded, plus the ones it holds in
//! memory that are not in the log (blocking, or delivered by a queue).
//!
//! Invocations a durable queue delivers (`Deliver`, multi-node non-blocking ones) are not appended
//! as accepted (the queue holds them); a platform failure of theirs is not recorded but handed back
//! to the queue's consumer ([`crate::queue_consumer`]), which retries or dead-letters it.

mod messages;

pub use messages::{
    Accepted, AcceptedBlocking, AdmitFire, AdmitQueued, ControllerStats, Deliver, Detach, Detached,
    Invoke, InvokeBlocking, InvokeError, InvokeForRecord, QueuedOutcome, SetNamespaceLimits, Stats,
};

use crate::bus_intake;
use crate::convert;
use crate::core::controller::{
    Controller, ControllerConfig, ControllerEffect, ControllerInput, InvocationRequest,
    PendingInvocation,
};
use crate::core::ids::{ActivationId as CoreActivationId, InvokerId};
use crate::core::random::SplitMix64;
use crate::core::time::Millis;
use actix::prelude::*;
use bridge::bus::{ActivationMessage, ActivationStarted, Bus, CompletionMessage, InvokerPing};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use store::{ActivationDoc, Clock, Event, EventLog, InvocationAccepted, Store};
use tokio::sync::{mpsc, oneshot};

/// The name an invoker has on the bus.
pub fn invoker_name(invoker: InvokerId) -> String {
    invoker.to_string()
}

/// Parses an invoker's bus name (`invoker<N>`).
pub fn parse_invoker_name(name: &str) -> Option<InvokerId> {
    name.strip_prefix("invoker")?.parse().ok().map(InvokerId)
}

/// One accepted activation: the message that was sent, and who waits for its record.
struct Pending {
    message: ActivationMessage,
    waiters: Vec<oneshot::Sender<ActivationDoc>>,
    /// Set when a durable queue delivered it: platform failures go back to the queue's consumer
    /// (to retry) instead of being recorded.
    queued: Option<oneshot::Sender<QueuedOutcome>>,
    /// Whether `InvocationAccepted` is in the log (false: accepted with [`InvokeBlocking`] and not
    /// detached, or delivered by a queue).
    in_log: bool,
}

/// The supervised host of the controller core.
pub struct ControllerActor {
    config: ControllerConfig,
    core: Controller,
    store: Store,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
    rng: SplitMix64,
    pending: BTreeMap<CoreActivationId, Pending>,
    outbound: Outbound,
    tick: Duration,
    stats: Stats,
    /// Namespace-specific throttle limits, re-applied after a rebuild.
    namespace_limits: BTreeMap<String, crate::core::throttle::NamespaceLimits>,
}

impl ControllerActor {
    /// A controller on `store` and `bus`. Call [`ControllerActor::start_supervised`] to run it.
    pub fn new(
        config: ControllerConfig,
        store: Store,
        bus: Arc<dyn Bus>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let outbound = Outbound::spawn(bus.clone());
        let seed = clock.now_ms() ^ u64::from(std::process::id());
        ControllerActor {
            core: Controller::new(config.clone()),
            config,
            store,
            bus,
            clock,
            rng: SplitMix64::new(seed),
            pending: BTreeMap::new(),
            outbound,
            tick: Duration::from_secs(1),
            stats: Stats::default(),
            namespace_limits: BTreeMap::new(),
        }
    }

    /// How often health and deadlines are checked (default 1 s).
    pub fn with_tick(mut self, tick: Duration) -> Self {
        self.tick = tick;
        self
    }

    /// Starts the actor under a supervisor and forwards the bus's completions and pings into it.
    pub async fn start_supervised(self) -> Result<Addr<ControllerActor>, bridge::bus::BusError> {
        let bus = self.bus.clone();
        let completions = bus.subscribe_completions().await?;
        let pings = bus.subscribe_pings().await?;
        let started = bus.subscribe_started().await?;
        let addr = Supervisor::start(move |_| self);
        bus_intake::forward(started, addr.clone(), Started);
        bus_intake::forward(completions, addr.clone(), Completion);
        bus_intake::forward(pings, addr.clone(), Ping);
        Ok(addr)
    }

    fn now(&self) -> Millis {
        Millis(self.clock.now_ms())
    }

    fn apply(
        &mut self,
        input: ControllerInput,
        completion: Option<CompletionMessage>,
    ) -> Vec<ControllerEffect> {
        let now = self.now();
        let random = self.rng.next_u64();
        let effects = self.core.handle(input, now, random);
        let mut completion = completion;
        for effect in &effects {
            match effect {
                ControllerEffect::Record { activation } => match completion.take() {
                    // A queued activation that ended by the platform's fault (the invoker could not
                    // run it, or lost it in a restart) is retried, not recorded.
                    Some(done) if platform_failure(&done) && self.is_queued(activation) => {
                        let reason = failure_reason(&done.record);
                        self.fail(activation, reason);
                    }
                    Some(done) => self.record(activation, done.record),
                    None => {
                        tracing::error!(activation_id = %activation, "record asked for without a completion")
                    }
                },
                ControllerEffect::RecordLost { activation, reason } => {
                    if self.is_queued(activation) {
                        self.fail(activation, reason.to_string());
                    } else if let Some(pending) = self.pending.get(activation) {
                        let record =
                            convert::lost_record(&pending.message, &reason.to_string(), now);
                        self.stats.lost += 1;
                        self.record(activation, record);
                    }
                }
                ControllerEffect::Redispatch {
                    activation,
                    invoker,
                } => {
                    let redispatched = self.pending.get_mut(activation).map(|pending| {
                        pending.message.invoker = invoker_name(*invoker);
                        pending.message.clone()
                    });
                    if let Some(message) = redispatched {
                        self.send_out(message);
                    }
                }
                ControllerEffect::Ignore { activation } => {
                    tracing::debug!(activation_id = %activation, "completion ignored");
                }
                ControllerEffect::Dispatch { .. } | ControllerEffect::Refuse { .. } => {}
            }
        }
        effects
    }

    fn is_queued(&self, activation: &CoreActivationId) -> bool {
        self.pending
            .get(activation)
            .is_some_and(|pending| pending.queued.is_some())
    }

    /// Ends this attempt of a queued activation without a record: its consumer retries it.
    fn fail(&mut self, activation: &CoreActivationId, reason: String) {
        if let Some(pending) = self.pending.remove(activation) {
            tracing::warn!(activation_id = %pending.message.activation_id, %reason, "queued activation failed; back to its queue");
            if let Some(queued) = pending.queued {
                let _ = queued.send(QueuedOutcome::Failed(reason));
            }
        }
    }

    /// Appends the record; once durable, answers every waiter (from the log's thread, so a
    /// waiting HTTP worker is woken directly, not through this actor).
    fn record(&mut self, activation: &CoreActivationId, record: ActivationDoc) {
        let (waiters, queued) = self
            .pending
            .remove(activation)
            .map(|p| (p.waiters, p.queued))
            .unwrap_or_default();
        self.stats.recorded += 1;
        let event = Event::ActivationRecorded(record.clone());
        self.store.log().append_then(
            vec![event],
            Box::new(move |outcome| match outcome {
                Ok(_) => {
                    for waiter in waiters {
                        let _ = waiter.send(record.clone());
                    }
                    if let Some(queued) = queued {
                        let _ = queued.send(QueuedOutcome::Recorded(Box::new(record)));
                    }
                }
                Err(error) => {
                    tracing::error!(activation_id = %record.activation_id, %error, "activation record not durable")
                }
            }),
        );
    }

    /// Rebuilds the core from the log: every invocation accepted and not yet recorded.
    fn rebuild(&mut self) {
        let now = self.now();
        let head = self.store.head_seq();
        if let Err(error) = self
            .store
            .projections()
            .wait_applied(head, Duration::from_secs(10))
        {
            tracing::warn!(%error, "projections behind the log while rebuilding the controller");
        }
        let pending = match self.store.projections().pending_invocations() {
            Ok(pending) => pending,
            Err(error) => {
                tracing::error!(%error, "cannot read pending invocations; rebuilding from memory");
                Vec::new()
            }
        };
        // What the log holds as accepted, and what is accepted without being in the log: delivered
        // by a durable queue (the queue holds those), or waited for by a blocking caller.
        let mut ids: Vec<CoreActivationId> = pending
            .iter()
            .map(|accepted| convert::core_id(&accepted.activation_id))
            .collect();
        ids.extend(
            self.pending
                .iter()
                .filter(|(_, p)| !p.in_log)
                .map(|(id, _)| id.clone()),
        );
        let recovered: Vec<PendingInvocation> = ids
            .iter()
            .filter_map(|id| {
                let message = &self.pending.get(id)?.message;
                Some(PendingInvocation {
                    request: request(message),
                    invoker: parse_invoker_name(&message.invoker)?,
                    accepted_at: Millis(message.accepted_at_ms),
                })
            })
            .collect();
        tracing::info!(pending = recovered.len(), "controller rebuilt from the log");
        let invokers = self.core.dispatcher().snapshot().invokers;
        self.core = Controller::recover(self.config.clone(), invokers, recovered, now);
        for (namespace, limits) in &self.namespace_limits {
            self.core
                .throttles_mut()
                .set_limits(namespace, limits.clone());
        }
    }
}

/// Whether a completion reports a failure of the platform rather than of the action.
fn platform_failure(done: &CompletionMessage) -> bool {
    done.system_error || done.record.status == store::ActivationStatus::WhiskInternalError
}

/// What a whisk internal error record says went wrong.
fn failure_reason(record: &ActivationDoc) -> String {
    record
        .result
        .to_value()
        .ok()
        .and_then(|value| {
            value
                .get("error")
                .and_then(|e| e.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| "the invoker could not run the activation".to_owned())
}

fn request(message: &ActivationMessage) -> InvocationRequest {
    let limits = convert::run_limits(&message.action);
    InvocationRequest {
        activation: convert::core_id(&message.activation_id),
        action: convert::invocation_key(message),
        memory_mb: limits.memory_mb,
        concurrency: limits.concurrency,
        timeout_ms: limits.timeout_ms,
    }
}

impl ControllerActor {
    /// Sends an activation on the bus: at once when the bus can and nothing is queued before it,
    /// else through the sender task (which keeps the order of a bus that must be awaited).
    fn send_out(&self, message: ActivationMessage) {
        let message = if self.outbound.is_empty() {
            match self.bus.send_activation_now(message) {
                Ok(None) => return,
                Ok(Some(message)) => message,
                Err(error) => {
                    // The controller's deadline turns this into a lost-activation record.
                    tracing::error!(%error, "cannot send activation");
                    return;
                }
            }
        } else {
            message
        };
        self.outbound.queue(message);
    }
}

/// The activations waiting for the sender task, which sends them in the order the controller
/// decided them; while any waits, later ones queue behind it instead of going out at once.
struct Outbound {
    sender: mpsc::UnboundedSender<ActivationMessage>,
    queued: Arc<AtomicUsize>,
}

impl Outbound {
    fn spawn(bus: Arc<dyn Bus>) -> Self {
        let (sender, mut receiver) = mpsc::unbounded_channel::<ActivationMessage>();
        let queued = Arc::new(AtomicUsize::new(0));
        let sent = Arc::clone(&queued);
        tokio::spawn(async move {
            while let Some(message) = receiver.recv().await {
                let activation_id = message.activation_id;
                if let Err(error) = bus.send_activation(message).await {
                    // The controller's deadline turns this into a lost-activation record.
                    tracing::error!(%activation_id, %error, "cannot send activation");
                }
                sent.fetch_sub(1, Ordering::AcqRel);
            }
        });
        Self { sender, queued }
    }

    fn is_empty(&self) -> bool {
        self.queued.load(Ordering::Acquire) == 0
    }

    fn queue(&self, message: ActivationMessage) {
        self.queued.fetch_add(1, Ordering::AcqRel);
        if self.sender.send(message).is_err() {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            tracing::error!("the activation sender task is gone");
        }
    }
}

impl Actor for ControllerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.tick, |actor, _| {
            actor.apply(ControllerInput::Tick, None);
        });
    }
}

impl Supervised for ControllerActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.stats.restarts += 1;
        tracing::warn!(restarts = self.stats.restarts, "controller restarting");
        self.rebuild();
    }
}

impl ControllerActor {
    /// Places `message` through `input`: returns where it went (the message's `invoker` set), or
    /// why it was refused.
    fn place(
        &mut self,
        input: ControllerInput,
        message: &mut ActivationMessage,
    ) -> Result<CoreActivationId, InvokeError> {
        for effect in self.apply(input, None) {
            match effect {
                ControllerEffect::Refuse { refusal, .. } => return Err(InvokeError::from(refusal)),
                ControllerEffect::Dispatch {
                    activation,
                    invoker,
                } => {
                    message.invoker = invoker_name(invoker);
                    return Ok(activation);
                }
                _ => {}
            }
        }
        Err(InvokeError::Internal(
            "the controller neither accepted nor refused the invocation".into(),
        ))
    }
}

impl Handler<Invoke> for ControllerActor {
    type Result = Result<Accepted, InvokeError>;

    fn handle(&mut self, invoke: Invoke, _: &mut Self::Context) -> Self::Result {
        let mut message = invoke.message;
        let activation = self.accept(&mut message)?;
        let durable = self.append_accepted(&message);
        let (result, waiters) = if invoke.wait_for_record {
            let (sender, receiver) = oneshot::channel();
            (Some(receiver), vec![sender])
        } else {
            (None, Vec::new())
        };
        let activation_id = message.activation_id;
        self.dispatch(activation, message, waiters, true);
        Ok(Accepted {
            activation_id,
            durable,
            result,
        })
    }
}

impl Handler<InvokeBlocking> for ControllerActor {
    type Result = Result<AcceptedBlocking, InvokeError>;

    fn handle(&mut self, invoke: InvokeBlocking, _: &mut Self::Context) -> Self::Result {
        let mut message = invoke.message;
        let activation = self.accept(&mut message)?;
        let (sender, result) = oneshot::channel();
        let activation_id = message.activation_id;
        self.dispatch(activation, message, vec![sender], false);
        Ok(AcceptedBlocking {
            activation_id,
            result,
        })
    }
}

impl Handler<InvokeForRecord> for ControllerActor {
    type Result = ();

    fn handle(&mut self, invoke: InvokeForRecord, _: &mut Self::Context) {
        let mut message = invoke.message;
        match self.accept(&mut message) {
            Ok(activation) => self.dispatch(activation, message, vec![invoke.record], false),
            Err(refusal) => {
                let _ = invoke.refused.send(refusal);
            }
        }
    }
}

impl ControllerActor {
    /// Throttles and places an invocation (the message's `accepted_at_ms` and `invoker` set).
    fn accept(&mut self, message: &mut ActivationMessage) -> Result<CoreActivationId, InvokeError> {
        message.accepted_at_ms = self.now().as_u64();
        self.place(ControllerInput::Invoke(request(message)), message)
    }

    /// Sends a placed invocation to its invoker and remembers who waits for its record.
    fn dispatch(
        &mut self,
        activation: CoreActivationId,
        message: ActivationMessage,
        waiters: Vec<oneshot::Sender<ActivationDoc>>,
        in_log: bool,
    ) {
        self.stats.accepted += 1;
        self.send_out(message.clone());
        self.pending.insert(
            activation,
            Pending {
                message,
                waiters,
                queued: None,
                in_log,
            },
        );
    }
}

impl ControllerActor {
    /// Appends `InvocationAccepted` for `message`.
    fn append_accepted(&self, message: &ActivationMessage) -> store::AppendTicket {
        let accepted = InvocationAccepted {
            activation_id: message.activation_id,
            action: store::FullyQualifiedName {
                namespace: message.action.namespace.clone(),
                package: message.action.package.clone(),
                name: message.action.name.clone(),
            },
            version: message.action.version,
            params: message.params.clone(),
            blocking: message.blocking,
            cause: message.cause,
            by: message.by,
        };
        self.store
            .log()
            .append(vec![Event::InvocationAccepted(accepted)])
    }
}

impl Handler<Detach> for ControllerActor {
    type Result = MessageResult<Detach>;

    fn handle(&mut self, detach: Detach, _: &mut Self::Context) -> Self::Result {
        let id = convert::core_id(&detach.activation_id);
        let Some(pending) = self.pending.get(&id) else {
            // `record` removes the pending entry as it appends the record.
            return MessageResult(Detached::AlreadyRecorded);
        };
        if pending.in_log || pending.queued.is_some() {
            return MessageResult(Detached::AlreadyAccepted);
        }
        let ticket = self.append_accepted(&pending.message);
        if let Some(pending) = self.pending.get_mut(&id) {
            pending.in_log = true;
        }
        MessageResult(Detached::Accepted(ticket))
    }
}

impl Handler<Deliver> for ControllerActor {
    type Result = Result<oneshot::Receiver<QueuedOutcome>, InvokeError>;

    fn handle(&mut self, deliver: Deliver, _: &mut Self::Context) -> Self::Result {
        let mut message = deliver.message;
        let id = convert::core_id(&message.activation_id);
        let (sender, receiver) = oneshot::channel();
        if let Some(pending) = self.pending.get_mut(&id) {
            // Delivered again while it still runs here (its ack wait ran out): the newer delivery
            // takes over; the activation is not run twice.
            if let Some(older) = pending.queued.replace(sender) {
                let _ = older.send(QueuedOutcome::Superseded);
            }
            return Ok(receiver);
        }
        let activation = self.place(ControllerInput::Deliver(request(&message)), &mut message)?;
        self.stats.accepted += 1;
        self.send_out(message.clone());
        self.pending.insert(
            activation,
            Pending {
                message,
                waiters: Vec::new(),
                queued: Some(sender),
                in_log: false,
            },
        );
        Ok(receiver)
    }
}

impl Handler<AdmitQueued> for ControllerActor {
    type Result = Result<(), InvokeError>;

    fn handle(&mut self, admit: AdmitQueued, _: &mut Self::Context) -> Self::Result {
        let now = self.now();
        self.core
            .throttles_mut()
            .admit_queued(&admit.namespace, now)
            .map(|_| ())
            .map_err(|throttled| InvokeError::Throttled(throttled.to_string()))
    }
}

/// A completion from the bus.
#[derive(Message)]
#[rtype(result = "()")]
struct Completion(CompletionMessage);

impl Handler<Completion> for ControllerActor {
    type Result = ();

    fn handle(&mut self, Completion(done): Completion, _: &mut Self::Context) {
        let Some(invoker) = parse_invoker_name(&done.invoker) else {
            tracing::warn!(invoker = %done.invoker, "completion from an invoker with a foreign name");
            return;
        };
        let activation = convert::core_id(&done.record.activation_id);
        let system_error = done.system_error;
        self.apply(
            ControllerInput::Completed {
                activation,
                invoker,
                system_error,
            },
            Some(done),
        );
    }
}

/// A ping from the bus.
#[derive(Message)]
#[rtype(result = "()")]
struct Ping(InvokerPing);

impl Handler<Ping> for ControllerActor {
    type Result = ();

    fn handle(&mut self, Ping(ping): Ping, _: &mut Self::Context) {
        let Some(invoker) = parse_invoker_name(&ping.invoker) else {
            return;
        };
        self.apply(
            ControllerInput::Ping {
                invoker,
                user_memory_mb: u64::from(ping.user_memory_mb),
                incarnation: ping.incarnation,
            },
            None,
        );
    }
}

/// An invoker began running an activation.
#[derive(Message)]
#[rtype(result = "()")]
struct Started(ActivationStarted);

impl Handler<Started> for ControllerActor {
    type Result = ();

    fn handle(&mut self, Started(notice): Started, _: &mut Self::Context) {
        let now = self.now();
        self.core
            .started(&convert::core_id(&notice.activation_id), now);
    }
}

impl Handler<AdmitFire> for ControllerActor {
    type Result = Result<(), InvokeError>;

    fn handle(&mut self, fire: AdmitFire, _: &mut Self::Context) -> Self::Result {
        let now = self.now();
        self.core
            .throttles_mut()
            .admit_fire(&fire.namespace, now)
            .map(|_| ())
            .map_err(|throttled| InvokeError::Throttled(throttled.to_string()))
    }
}

impl Handler<SetNamespaceLimits> for ControllerActor {
    type Result = ();

    fn handle(&mut self, set: SetNamespaceLimits, _: &mut Self::Context) {
        self.core
            .throttles_mut()
            .set_limits(&set.namespace, set.limits.clone());
        self.namespace_limits.insert(set.namespace, set.limits);
    }
}

impl Handler<ControllerStats> for ControllerActor {
    type Result = MessageResult<ControllerStats>;

    fn handle(&mut self, _: ControllerStats, _: &mut Self::Context) -> Self::Result {
        let mut stats = self.stats.clone();
        stats.in_flight = self.core.in_flight().len();
        MessageResult(stats)
    }
}

impl Handler<crate::Restart> for ControllerActor {
    type Result = ();

    fn handle(&mut self, _: crate::Restart, ctx: &mut Self::Context) {
        tracing::warn!("controller asked to restart");
        ctx.stop();
    }
}
