//! The `InvocationQueue` trait: a durable queue of accepted non-blocking invocations. An API
//! answers 202 once [`InvocationQueue::enqueue`] returned (the invocation is durable in the
//! queue, not only in one process's memory); a controller takes [`QueuedDelivery`]s and settles
//! each one: done (it has its record), back to the queue after a delay (a platform failure, to be
//! retried), or still working (so the queue does not hand it to another consumer). A delivery
//! neither settled nor kept working comes back by itself after the queue's ack wait, which is
//! what makes a controller crash lose nothing. [`super::JetStreamQueue`] implements it on NATS
//! JetStream (docs/nats.md, "Durable async").

use super::{ActivationMessage, BusError, BusReceiver};
use async_trait::async_trait;
use std::time::Duration;

/// A durable queue of invocations.
#[async_trait]
pub trait InvocationQueue: Send + Sync + 'static {
    /// Stores `message` durably; returns only once the queue has it (a second enqueue of the same
    /// activation id within the queue's duplicate window is dropped by the queue).
    async fn enqueue(&self, message: &ActivationMessage) -> Result<(), BusError>;
    /// Stores `message` for an invocation whose acceptance nobody is told about (a trigger fired
    /// by a plain NATS publish): an implementation may start running it before the queue has it.
    /// The default is [`InvocationQueue::enqueue`].
    async fn enqueue_unacknowledged(&self, message: &ActivationMessage) -> Result<(), BusError> {
        self.enqueue(message).await
    }
    /// The deliveries of the queue for this process's controller (one consumer group for every
    /// controller of the deployment). Take it once and keep it.
    async fn deliveries(&self) -> Result<BusReceiver<QueuedDelivery>, BusError>;
}

/// How a consumer settles one delivery.
#[async_trait]
pub trait DeliverySettlement: Send + Sync + 'static {
    /// The invocation is finished (its record is durable): never deliver it again.
    async fn done(&self) -> Result<(), BusError>;
    /// Deliver it again after `delay` (a new attempt).
    async fn retry_after(&self, delay: Duration) -> Result<(), BusError>;
    /// Still working on it: restart the ack wait.
    async fn working(&self) -> Result<(), BusError>;
}

/// One delivery of a queued invocation.
pub struct QueuedDelivery {
    pub message: ActivationMessage,
    /// Which delivery this is (1 for the first); every redelivery counts, a crashed
    /// consumer's included.
    pub attempt: u32,
    pub settlement: Box<dyn DeliverySettlement>,
}

impl std::fmt::Debug for QueuedDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedDelivery")
            .field("activation_id", &self.message.activation_id)
            .field("attempt", &self.attempt)
            .finish()
    }
}
