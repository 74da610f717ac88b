//! The durable invocation queue of a multi-node controller: its options, and opening the JetStream
//! queue and starting its consumer. With it, a non-blocking invocation is accepted (202) once
//! JetStream holds it, a controller or invoker crash loses none, platform failures are retried with
//! backoff and the last one ends in a dead-letter record (docs/nats.md, "Durable async").

use crate::error::{Error, Result};
use actix::Addr;
use actors::controller_actor::ControllerActor;
use actors::core::retry::RetryPolicy;
use actors::queue_consumer::{QueueConsumer, QueueConsumerConfig};
use bridge::bus::{InvocationQueue, JetStreamQueue, JetStreamQueueConfig};
use std::sync::Arc;
use std::time::Duration;
use store::{Clock, Store};

/// How non-blocking invocations go through JetStream in multi-node mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurableAsyncOptions {
    /// Use JetStream when NATS is configured (off: non-blocking invocations are durable in the
    /// controller's log only, and a controller crash ends them with an error record).
    pub enabled: bool,
    /// Copies of the queue's stream (1 for a single nats-server; 3 survives the loss of a node).
    pub replicas: usize,
    /// How long a delivery may go without news before JetStream delivers it again (a crashed
    /// controller's deliveries come back after this).
    pub ack_wait: Duration,
    /// Retries after platform failures.
    pub retry: RetryPolicy,
}

impl Default for DurableAsyncOptions {
    fn default() -> Self {
        DurableAsyncOptions {
            enabled: true,
            replicas: 1,
            ack_wait: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

/// Opens the queue on `client` and starts its consumer for `controller`; returns the queue the
/// API enqueues into.
pub async fn start(
    options: &DurableAsyncOptions,
    client: async_nats::Client,
    controller: Addr<ControllerActor>,
    store: Store,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn InvocationQueue>> {
    let startup = |reason: String| Error::Internal {
        what: "open the durable invocation queue",
        reason,
    };
    let queue = JetStreamQueue::open(
        client,
        JetStreamQueueConfig {
            replicas: options.replicas,
            ack_wait: options.ack_wait,
            ..JetStreamQueueConfig::default()
        },
    )
    .await
    .map_err(|e| startup(format!("{e} (or run whirl serve with --no-jetstream)")))?;
    let queue: Arc<dyn InvocationQueue> = Arc::new(queue);
    let consumer = QueueConsumer::new(
        controller,
        store,
        clock,
        QueueConsumerConfig {
            retry: options.retry.clone(),
            // Three times per ack wait, so one lost "working" costs nothing.
            working_every: (options.ack_wait / 3).max(Duration::from_millis(100)),
            ..QueueConsumerConfig::default()
        },
    );
    consumer
        .start(queue.clone())
        .await
        .map_err(|e| startup(e.to_string()))?;
    Ok(queue)
}
