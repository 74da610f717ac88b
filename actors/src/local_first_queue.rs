//! `LocalFirstQueue`: the durable invocation queue as a controller's API uses it. An invocation
//! goes into the queue (the durable copy, e.g. JetStream) and is also started on this controller
//! at once, instead of waiting for the queue's consumer to pull it back; the queue's own delivery
//! of it then waits for that local run and settles without running it again
//! ([`QueueConsumer`]'s local runs). So a non-blocking invocation skips one queue round trip and
//! is still recorded exactly once:
//! - local run recorded → the delivery is settled without running;
//! - local run refused or failed by the platform → the delivery runs it (with the queue's retries);
//! - the controller crashed mid-run → the queue delivers it again after its ack wait, and it runs
//!   (or, if its record made it to the log, is settled at once).
//!
//! [`InvocationQueue::enqueue`] (a caller is answered "accepted") starts the local run only once
//! the queue stored the invocation, so nothing runs that was refused.
//! [`InvocationQueue::enqueue_unacknowledged`] (nobody is answered: a trigger fired by a plain NATS
//! publish) starts it first and stores it in the queue while it runs; it returns once the queue
//! answered, so a fire's record never names an invocation the queue has not stored (unless the
//! queue refused it: then it runs here only, and a platform failure of that run is recorded as
//! lost, since no queue retries it).

use crate::queue_consumer::{LocalRun, QueueConsumer};
use async_trait::async_trait;
use bridge::bus::{ActivationMessage, BusError, BusReceiver, InvocationQueue, QueuedDelivery};
use std::sync::Arc;

/// A queue whose invocations start on this controller as soon as they may.
pub struct LocalFirstQueue {
    queue: Arc<dyn InvocationQueue>,
    consumer: Arc<QueueConsumer>,
}

impl LocalFirstQueue {
    /// `consumer` must be the one started on `queue`'s deliveries (so it sees the delivery of
    /// every invocation this starts locally).
    pub fn new(queue: Arc<dyn InvocationQueue>, consumer: Arc<QueueConsumer>) -> Self {
        LocalFirstQueue { queue, consumer }
    }
}

impl std::fmt::Debug for LocalFirstQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalFirstQueue")
    }
}

#[async_trait]
impl InvocationQueue for LocalFirstQueue {
    async fn enqueue(&self, message: &ActivationMessage) -> Result<(), BusError> {
        let activation_id = message.activation_id;
        let run = self.consumer.register_local(activation_id);
        if let Err(error) = self.queue.enqueue(message).await {
            self.consumer
                .end_local(&activation_id, &run, LocalRun::Ended);
            return Err(error);
        }
        let consumer = self.consumer.clone();
        let message = message.clone();
        tokio::spawn(async move {
            match consumer.start_local(&message).await {
                Ok(receiver) => consumer.finish_local(&message, run, receiver, true).await,
                Err(error) => {
                    tracing::debug!(%activation_id, %error, "not started here; the queue's delivery runs it");
                    consumer.end_local(&activation_id, &run, LocalRun::Ended);
                }
            }
        });
        Ok(())
    }

    async fn enqueue_unacknowledged(&self, message: &ActivationMessage) -> Result<(), BusError> {
        let activation_id = message.activation_id;
        let run = self.consumer.register_local(activation_id);
        // Started first (its activation goes out to an invoker), then stored while it runs.
        match self.consumer.start_local(message).await {
            Ok(receiver) => {
                let in_queue = match self.queue.enqueue(message).await {
                    Ok(()) => true,
                    Err(error) => {
                        tracing::warn!(%activation_id, %error, "the queue did not store an unacknowledged invocation; it runs here only");
                        false
                    }
                };
                let consumer = self.consumer.clone();
                let message = message.clone();
                tokio::spawn(async move {
                    consumer
                        .finish_local(&message, run, receiver, in_queue)
                        .await
                });
                Ok(())
            }
            Err(error) => {
                tracing::debug!(%activation_id, %error, "not started here; the queue's delivery runs it");
                self.consumer
                    .end_local(&activation_id, &run, LocalRun::Ended);
                self.queue.enqueue(message).await
            }
        }
    }

    async fn deliveries(&self) -> Result<BusReceiver<QueuedDelivery>, BusError> {
        self.queue.deliveries().await
    }
}
