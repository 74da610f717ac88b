//! The durable invocation queue of a multi-node controller: its options, and opening the JetStream
//! queue and starting its consumer. With it, a non-blocking invocation is accepted (202) once
//! JetStream holds it, a controller or invoker crash loses none, platform failures are retried with
//! backoff and the last one ends in a dead-letter record (docs/nats.md, "Durable async"). The API
//! enqueues through a [`LocalFirstQueue`]: this controller starts each invocation itself as soon as
//! it may, and the queue's delivery of it only settles it (or runs it if the local run failed).

use crate::error::{Error, Result};
use actix::Addr;
use actors::controller_actor::ControllerActor;
use actors::core::retry::RetryPolicy;
use actors::local_first_queue::LocalFirstQueue;
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
    /// Start each queued invocation on this controller as soon as it may ([`LocalFirstQueue`]);
    /// off, it runs only when the queue delivers it. Turn it off when several controllers (each
    /// with its own log) share the queue: another controller could take the queue's delivery of
    /// an invocation started here and run and record it a second time, in its own log.
    pub local_start: bool,
}

impl Default for DurableAsyncOptions {
    fn default() -> Self {
        DurableAsyncOptions {
            enabled: true,
            replicas: 1,
            ack_wait: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            local_start: true,
        }
    }
}

/// Opens the queue on `client` and starts its consumer for `controller`; returns the queue the
/// API enqueues into (the JetStream queue behind a [`LocalFirstQueue`] on that consumer).
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
    let consumer = consumer
        .start(queue.clone())
        .await
        .map_err(|e| startup(e.to_string()))?;
    if !options.local_start {
        return Ok(queue);
    }
    Ok(Arc::new(LocalFirstQueue::new(queue, consumer)))
}
