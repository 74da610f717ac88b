//! `QueueConsumer`: the controller's side of the durable invocation queue (multi-node
//! non-blocking invocations). It takes each delivery to the [`ControllerActor`] (`Deliver`), keeps
//! the delivery alive while the activation runs, and settles it:
//! - the activation has its record → done (never delivered again);
//! - a platform failure (no invoker, invoker lost, no completion in time) → back to the queue after
//!   the [`RetryPolicy`]'s backoff, or, after the last attempt, a dead-letter activation record that
//!   says why, then done;
//! - the namespace is at its concurrency limit → held here and tried again (not an attempt).
//!
//! A delivery whose record is already in the log (the controller crashed after the record was
//! durable and before the queue heard "done") is settled at once, so an invocation is recorded once
//! however often the queue delivers it. A controller that crashes mid-run settles nothing; the
//! queue delivers again after its ack wait, to whichever controller pulls next.
//!
//! An invocation may also start here ahead of its delivery ([`crate::local_first_queue`]: the
//! controller that stored it runs it at once instead of waiting for the queue to bring it back).
//! The queue's delivery of such an invocation waits for that local run: recorded → settled
//! without running; failed → run as the delivery's own attempt. So it is recorded once either way.

use crate::controller_actor::{ControllerActor, Deliver, InvokeError, QueuedOutcome};
use crate::convert;
use crate::core::retry::{AfterFailure, RetryPolicy};
use crate::core::time::Millis;
use actix::Addr;
use bridge::bus::{ActivationMessage, BusError, InvocationQueue, QueuedDelivery};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use store::{ActivationId, Clock, Event, EventLog, Store};
use tokio::sync::{oneshot, watch};

/// How a [`QueueConsumer`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConsumerConfig {
    pub retry: RetryPolicy,
    /// How often a running delivery tells the queue it is still being worked on (well under the
    /// queue's ack wait).
    pub working_every: Duration,
    /// How long a delivery refused by its namespace's concurrency limit waits before it tries again.
    pub throttled_wait: Duration,
}

impl Default for QueueConsumerConfig {
    fn default() -> Self {
        QueueConsumerConfig {
            retry: RetryPolicy::default(),
            working_every: Duration::from_secs(5),
            throttled_wait: Duration::from_millis(100),
        }
    }
}

/// Consumes the durable invocation queue for one controller.
pub struct QueueConsumer {
    controller: Addr<ControllerActor>,
    store: Store,
    clock: Arc<dyn Clock>,
    config: QueueConsumerConfig,
    /// Invocations started on this controller ahead of their delivery by the queue, until their
    /// local run ended (by then a record is durable, or the queue's delivery must run them).
    local: Mutex<BTreeMap<ActivationId, watch::Receiver<LocalRun>>>,
}

/// Where an invocation started ahead of its queue's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LocalRun {
    Running,
    /// Its record is durable: the queue's delivery is settled without running.
    Recorded,
    /// It did not end with a record here: the queue's delivery runs it.
    Ended,
}

/// How one attempt ended, for the settlement.
enum Attempt {
    Recorded,
    Superseded,
    Failed(String),
}

impl QueueConsumer {
    pub fn new(
        controller: Addr<ControllerActor>,
        store: Store,
        clock: Arc<dyn Clock>,
        config: QueueConsumerConfig,
    ) -> Self {
        QueueConsumer {
            controller,
            store,
            clock,
            config,
            local: Mutex::new(BTreeMap::new()),
        }
    }

    /// Takes `queue`'s deliveries and settles each in a task of its own, for the life of the
    /// process; returns the consumer, which can also start invocations ahead of their delivery
    /// ([`crate::local_first_queue::LocalFirstQueue`]).
    pub async fn start(self, queue: Arc<dyn InvocationQueue>) -> Result<Arc<Self>, BusError> {
        let mut deliveries = queue.deliveries().await?;
        let consumer = Arc::new(self);
        let settling = consumer.clone();
        tokio::spawn(async move {
            while let Some(delivery) = deliveries.recv().await {
                let consumer = settling.clone();
                tokio::spawn(async move { consumer.settle(delivery).await });
            }
            tracing::warn!("the invocation queue's deliveries ended");
        });
        Ok(consumer)
    }

    /// Marks `id` as started here ahead of its delivery; call before the queue may deliver it.
    pub(crate) fn register_local(&self, id: ActivationId) -> watch::Sender<LocalRun> {
        let (sender, receiver) = watch::channel(LocalRun::Running);
        self.local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, receiver);
        sender
    }

    /// Ends the local run of `id`: whoever waits for it learns how it ended.
    pub(crate) fn end_local(
        &self,
        id: &ActivationId,
        run: &watch::Sender<LocalRun>,
        end: LocalRun,
    ) {
        self.local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        run.send_replace(end);
    }

    /// Hands `message` to the controller as a local run (placed like a delivery: it takes a
    /// concurrent slot; the rate was counted when it was admitted).
    pub(crate) async fn start_local(
        &self,
        message: &ActivationMessage,
    ) -> Result<oneshot::Receiver<QueuedOutcome>, InvokeError> {
        let deliver = Deliver {
            message: message.clone(),
        };
        match self.controller.send(deliver).await {
            Ok(started) => started,
            Err(error) => Err(InvokeError::Internal(format!(
                "the controller could not take it: {error}"
            ))),
        }
    }

    /// Waits for the end of a local run and tells the queue's delivery (if it waits) how it went.
    /// `stored`: the queue holds the invocation (false: it is only here, so a platform failure
    /// ends it with an error record, as nothing else would run it).
    pub(crate) async fn finish_local(
        &self,
        message: &ActivationMessage,
        run: watch::Sender<LocalRun>,
        receiver: oneshot::Receiver<QueuedOutcome>,
        stored: bool,
    ) {
        let activation_id = message.activation_id;
        let end = match receiver.await {
            Ok(QueuedOutcome::Recorded(_)) => LocalRun::Recorded,
            Ok(QueuedOutcome::Superseded) => LocalRun::Ended,
            Ok(QueuedOutcome::Failed(reason)) if !stored => {
                let now = Millis(self.clock.now_ms());
                let record = convert::lost_record(message, &reason, now);
                tracing::error!(%activation_id, %reason, "invocation not in the queue failed; recorded as lost");
                match self
                    .store
                    .log()
                    .append(vec![Event::ActivationRecorded(record)])
                    .await
                {
                    Ok(_) => LocalRun::Recorded,
                    Err(error) => {
                        tracing::error!(%activation_id, %error, "lost record not durable");
                        LocalRun::Ended
                    }
                }
            }
            Ok(QueuedOutcome::Failed(reason)) => {
                tracing::debug!(%activation_id, %reason, "local run failed; the queue's delivery runs it");
                LocalRun::Ended
            }
            Err(_) => LocalRun::Ended,
        };
        self.end_local(&activation_id, &run, end);
    }

    /// The local run of `id`, if one is under way.
    fn local_run(&self, id: &ActivationId) -> Option<watch::Receiver<LocalRun>> {
        self.local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// Waits for a local run to end, keeping the delivery alive meanwhile.
    async fn wait_local(
        &self,
        mut run: watch::Receiver<LocalRun>,
        delivery: &QueuedDelivery,
    ) -> LocalRun {
        loop {
            let now = *run.borrow_and_update();
            if now != LocalRun::Running {
                return now;
            }
            tokio::select! {
                changed = run.changed() => {
                    if changed.is_err() {
                        // The local run's sender is gone without an end: treat it as ended.
                        let end = *run.borrow();
                        return if end == LocalRun::Running { LocalRun::Ended } else { end };
                    }
                }
                _ = tokio::time::sleep(self.config.working_every) => self.keep_alive(delivery).await,
            }
        }
    }

    async fn settle(&self, delivery: QueuedDelivery) {
        let activation_id = delivery.message.activation_id;
        let attempt = delivery.attempt;
        if let Some(run) = self.local_run(&activation_id) {
            if self.wait_local(run, &delivery).await == LocalRun::Recorded {
                tracing::debug!(%activation_id, attempt, "queued activation recorded by its local run; settled");
                self.report(delivery.settlement.done().await, &delivery);
                return;
            }
        }
        if self.already_recorded(&delivery).await {
            tracing::info!(%activation_id, attempt, "queued activation already recorded; settled");
            self.report(delivery.settlement.done().await, &delivery);
            return;
        }
        match self.attempt(&delivery).await {
            Attempt::Recorded => self.report(delivery.settlement.done().await, &delivery),
            Attempt::Superseded => {
                tracing::debug!(%activation_id, attempt, "delivery superseded by a newer one")
            }
            Attempt::Failed(reason) => match self.config.retry.after_failure(attempt) {
                AfterFailure::RetryAfter(delay_ms) => {
                    tracing::warn!(%activation_id, attempt, delay_ms, %reason, "queued activation failed; retrying");
                    let settled = delivery
                        .settlement
                        .retry_after(Duration::from_millis(delay_ms))
                        .await;
                    self.report(settled, &delivery);
                }
                AfterFailure::DeadLetter { attempts } => {
                    self.dead_letter(&delivery, &reason, attempts).await
                }
            },
        }
    }

    /// Whether the log already holds this activation's record (read once the projections have
    /// applied what the log holds now; awaited, so the runtime's thread is never blocked).
    async fn already_recorded(&self, delivery: &QueuedDelivery) -> bool {
        let projections = self.store.projections();
        let caught_up = tokio::time::timeout(
            Duration::from_secs(5),
            projections.wait_applied_async(self.store.head_seq()),
        )
        .await;
        match caught_up {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "projections failed while checking a delivery")
            }
            Err(_) => tracing::warn!("projections behind the log while checking a delivery"),
        }
        matches!(
            projections.activation(&delivery.message.activation_id),
            Ok(Some(_))
        )
    }

    /// One attempt: hand it to the controller and wait for its end, keeping the delivery alive.
    async fn attempt(&self, delivery: &QueuedDelivery) -> Attempt {
        loop {
            let deliver = Deliver {
                message: delivery.message.clone(),
            };
            match self.controller.send(deliver).await {
                Ok(Ok(receiver)) => return self.wait(receiver, delivery).await,
                Ok(Err(InvokeError::Throttled(reason))) => {
                    tracing::debug!(activation_id = %delivery.message.activation_id, %reason, "queued activation held");
                    self.keep_alive(delivery).await;
                    tokio::time::sleep(self.config.throttled_wait).await;
                }
                Ok(Err(error)) => return Attempt::Failed(error.to_string()),
                Err(error) => {
                    return Attempt::Failed(format!("the controller could not take it: {error}"))
                }
            }
        }
    }

    async fn wait(
        &self,
        mut receiver: oneshot::Receiver<QueuedOutcome>,
        delivery: &QueuedDelivery,
    ) -> Attempt {
        loop {
            tokio::select! {
                outcome = &mut receiver => {
                    return match outcome {
                        Ok(QueuedOutcome::Recorded(_)) => Attempt::Recorded,
                        Ok(QueuedOutcome::Superseded) => Attempt::Superseded,
                        Ok(QueuedOutcome::Failed(reason)) => Attempt::Failed(reason),
                        Err(_) => Attempt::Failed("the controller restarted while it ran".into()),
                    };
                }
                _ = tokio::time::sleep(self.config.working_every) => self.keep_alive(delivery).await,
            }
        }
    }

    async fn keep_alive(&self, delivery: &QueuedDelivery) {
        if let Err(error) = delivery.settlement.working().await {
            tracing::warn!(activation_id = %delivery.message.activation_id, %error, "cannot extend a delivery's ack wait");
        }
    }

    /// Records the invocation as dead-lettered, then settles it.
    async fn dead_letter(&self, delivery: &QueuedDelivery, reason: &str, attempts: u32) {
        let now = Millis(self.clock.now_ms());
        let record = convert::dead_letter_record(&delivery.message, reason, attempts, now);
        tracing::error!(activation_id = %record.activation_id, attempts, %reason, "queued activation dead-lettered");
        let appended = self
            .store
            .log()
            .append(vec![Event::ActivationRecorded(record)])
            .await;
        match appended {
            Ok(_) => self.report(delivery.settlement.done().await, delivery),
            // Not durable: leave it to the queue, which delivers it again.
            Err(error) => {
                tracing::error!(activation_id = %delivery.message.activation_id, %error, "dead-letter record not durable")
            }
        }
    }

    fn report(&self, settled: Result<(), BusError>, delivery: &QueuedDelivery) {
        if let Err(error) = settled {
            // The queue delivers it again; the record already in the log ends it then.
            tracing::warn!(activation_id = %delivery.message.activation_id, %error, "cannot settle a delivery");
        }
    }
}
