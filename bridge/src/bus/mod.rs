//! The `Bus` trait: how controllers and invokers talk. Activations go controller → invoker,
//! completions, start notices and health pings go invoker → every controller.
//! [`InProcessBus`] is the embedded default (one process); [`NatsBus`] implements the same trait
//! over NATS for multi-node deployments (subjects and payloads in docs/nats.md).
//! [`InvocationQueue`] is the durable queue of accepted non-blocking invocations in multi-node
//! mode, implemented on JetStream by [`JetStreamQueue`].

mod in_process;
mod jetstream;
mod messages;
mod nats;
mod queue;

pub use in_process::InProcessBus;
pub use jetstream::{
    JetStreamQueue, JetStreamQueueConfig, QUEUE_CONSUMER, QUEUE_STREAM, QUEUE_SUBJECT,
};
pub use messages::{ActivationMessage, ActivationStarted, CompletionMessage, InvokerPing};
pub use nats::{BusMessageKind, NatsBus, NatsBusStats, PROBE_INTERVAL, SUBJECT_PREFIX};
pub use queue::{DeliverySettlement, InvocationQueue, QueuedDelivery};

use async_trait::async_trait;

/// What a bus subscription yields: messages in the order the bus delivered them.
pub type BusReceiver<T> = tokio::sync::mpsc::UnboundedReceiver<T>;

/// Errors of a bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The bus is closed (shut down or its connection is gone for good).
    #[error("the bus is closed: {0}")]
    Closed(String),
    /// A message could not be encoded or decoded.
    #[error("cannot {operation} a {message} message: {reason}")]
    Codec {
        operation: &'static str,
        message: &'static str,
        reason: String,
    },
    /// The transport failed (e.g. the NATS connection).
    #[error("bus transport error on {subject}: {reason}")]
    Transport { subject: String, reason: String },
}

/// Messaging between controllers and invokers.
///
/// Delivery contract: activations for one invoker are delivered to that invoker's single
/// subscription in the order sent; completions and pings are delivered to every subscriber.
/// A subscription should be taken once and kept for the life of the process (the hosting code
/// forwards it into a supervised actor's mailbox, so an actor restart loses nothing).
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Hands an activation to the invoker named in `msg.invoker`.
    async fn send_activation(&self, msg: ActivationMessage) -> Result<(), BusError>;
    /// The activations addressed to `invoker`.
    async fn subscribe_activations(
        &self,
        invoker: &str,
    ) -> Result<BusReceiver<ActivationMessage>, BusError>;
    /// Announces the end of an activation (its record is in the message).
    async fn publish_completion(&self, msg: CompletionMessage) -> Result<(), BusError>;
    /// Every completion, from every invoker.
    async fn subscribe_completions(&self) -> Result<BusReceiver<CompletionMessage>, BusError>;
    /// Announces that an invoker is alive, with its capacity.
    async fn publish_ping(&self, ping: InvokerPing) -> Result<(), BusError>;
    /// Every invoker's pings.
    async fn subscribe_pings(&self) -> Result<BusReceiver<InvokerPing>, BusError>;
    /// Announces that an invoker began running an activation.
    async fn publish_started(&self, msg: ActivationStarted) -> Result<(), BusError>;
    /// Every invoker's start notices.
    async fn subscribe_started(&self) -> Result<BusReceiver<ActivationStarted>, BusError>;

    /// Hands an activation over at once when this bus can without waiting: `Ok(None)` when it
    /// did, `Ok(Some(msg))` when the caller must use [`Bus::send_activation`] (the default).
    /// The in-process bus always can; the NATS bus can while its client's queue has room. Saves
    /// a host a task hop per message. A host that falls back to a queue of its own must keep
    /// using that queue while anything is in it, or a later message would overtake an earlier.
    fn send_activation_now(
        &self,
        msg: ActivationMessage,
    ) -> Result<Option<ActivationMessage>, BusError> {
        Ok(Some(msg))
    }
    /// [`Bus::send_activation_now`] for [`Bus::publish_completion`].
    fn publish_completion_now(
        &self,
        msg: CompletionMessage,
    ) -> Result<Option<CompletionMessage>, BusError> {
        Ok(Some(msg))
    }
    /// [`Bus::send_activation_now`] for [`Bus::publish_started`].
    fn publish_started_now(
        &self,
        msg: ActivationStarted,
    ) -> Result<Option<ActivationStarted>, BusError> {
        Ok(Some(msg))
    }
}
