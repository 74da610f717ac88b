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

use crate::controller_actor::{ControllerActor, Deliver, InvokeError, QueuedOutcome};
use crate::convert;
use crate::core::retry::{AfterFailure, RetryPolicy};
use crate::core::time::Millis;
use actix::Addr;
use bridge::bus::{BusError, InvocationQueue, QueuedDelivery};
use std::sync::Arc;
use std::time::Duration;
use store::{Clock, Event, EventLog, Store};
use tokio::sync::oneshot;

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
        }
    }

    /// Takes `queue`'s deliveries and settles each in a task of its own, for the life of the
    /// process.
    pub async fn start(self, queue: Arc<dyn InvocationQueue>) -> Result<(), BusError> {
        let mut deliveries = queue.deliveries().await?;
        let consumer = Arc::new(self);
        tokio::spawn(async move {
            while let Some(delivery) = deliveries.recv().await {
                let consumer = consumer.clone();
                tokio::spawn(async move { consumer.settle(delivery).await });
            }
            tracing::warn!("the invocation queue's deliveries ended");
        });
        Ok(())
    }

    async fn settle(&self, delivery: QueuedDelivery) {
        let activation_id = delivery.message.activation_id;
        let attempt = delivery.attempt;
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
