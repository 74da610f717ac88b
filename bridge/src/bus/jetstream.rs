//! [`JetStreamQueue`]: the [`InvocationQueue`] of a multi-node Whirl on NATS JetStream. One
//! work-queue stream (`WHIRL_INVOCATIONS`, subject `whirl.async.invocations`, file storage,
//! replicated over the cluster when asked) and one durable pull consumer (`whirl-controller`,
//! explicit acks) that every controller shares. Payloads are bincode of [`ActivationMessage`];
//! the activation id is the message id, so a publish retried by a client is stored once.

use super::queue::{DeliverySettlement, InvocationQueue, QueuedDelivery};
use super::{ActivationMessage, BusError, BusReceiver};
use async_nats::jetstream::{self, consumer, stream, AckKind};
use async_trait::async_trait;
use futures::StreamExt;
use std::time::Duration;

/// The subject queued invocations are published on.
pub const QUEUE_SUBJECT: &str = "whirl.async.invocations";
/// The stream that holds them.
pub const QUEUE_STREAM: &str = "WHIRL_INVOCATIONS";
/// The durable consumer every controller pulls from.
pub const QUEUE_CONSUMER: &str = "whirl-controller";

/// How the stream and its consumer are set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JetStreamQueueConfig {
    /// Copies of the stream in the cluster (1 for a single server; 3 survives one node's loss).
    pub replicas: usize,
    /// How long a delivery may stay unsettled (without `working`) before it is delivered again.
    pub ack_wait: Duration,
    /// Deliveries a controller holds unsettled at most.
    pub max_ack_pending: i64,
    /// How long a duplicate publish of the same activation id is recognized.
    pub duplicate_window: Duration,
    /// How long [`JetStreamQueue::open`] waits for JetStream to answer (a cluster elects its
    /// leader in the first seconds after it starts).
    pub open_timeout: Duration,
}

impl Default for JetStreamQueueConfig {
    fn default() -> Self {
        JetStreamQueueConfig {
            replicas: 1,
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 10_000,
            duplicate_window: Duration::from_secs(120),
            open_timeout: Duration::from_secs(30),
        }
    }
}

/// A durable invocation queue on JetStream.
#[derive(Clone)]
pub struct JetStreamQueue {
    context: jetstream::Context,
    stream: stream::Stream,
    config: JetStreamQueueConfig,
}

impl std::fmt::Debug for JetStreamQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamQueue")
            .field("config", &self.config)
            .finish()
    }
}

fn transport(subject: &str, what: &str, error: impl std::fmt::Display) -> BusError {
    BusError::Transport {
        subject: subject.to_owned(),
        reason: format!("{what}: {error}"),
    }
}

impl JetStreamQueue {
    /// Opens (creating when missing) the stream on `client`'s JetStream. A cluster that is still
    /// electing its JetStream leader is waited for (up to `config.open_timeout`); then this fails
    /// with a clear error, e.g. when the servers run without JetStream.
    pub async fn open(
        client: async_nats::Client,
        config: JetStreamQueueConfig,
    ) -> Result<Self, BusError> {
        let context = jetstream::new(client);
        let deadline = tokio::time::Instant::now() + config.open_timeout;
        let stream = loop {
            let opened = context
                .get_or_create_stream(stream::Config {
                    name: QUEUE_STREAM.to_owned(),
                    subjects: vec![QUEUE_SUBJECT.to_owned()],
                    retention: stream::RetentionPolicy::WorkQueue,
                    storage: stream::StorageType::File,
                    num_replicas: config.replicas.max(1),
                    duplicate_window: config.duplicate_window,
                    ..Default::default()
                })
                .await;
            match opened {
                Ok(stream) => break stream,
                Err(error) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!(%error, "JetStream not ready for the invocation queue; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(error) => {
                    return Err(transport(
                        QUEUE_STREAM,
                        "cannot open the JetStream stream (is nats-server running with \
                         --jetstream, with enough servers for the replicas asked?)",
                        error,
                    ))
                }
            }
        };
        tracing::info!(
            stream = QUEUE_STREAM,
            replicas = config.replicas,
            "durable invocation queue open"
        );
        Ok(JetStreamQueue {
            context,
            stream,
            config,
        })
    }

    async fn consumer(&self) -> Result<consumer::PullConsumer, BusError> {
        self.stream
            .get_or_create_consumer(
                QUEUE_CONSUMER,
                consumer::pull::Config {
                    durable_name: Some(QUEUE_CONSUMER.to_owned()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.config.ack_wait,
                    max_deliver: -1,
                    max_ack_pending: self.config.max_ack_pending,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| transport(QUEUE_STREAM, "cannot open the queue's consumer", e))
    }
}

#[async_trait]
impl InvocationQueue for JetStreamQueue {
    async fn enqueue(&self, message: &ActivationMessage) -> Result<(), BusError> {
        let payload = bincode::serialize(message).map_err(|e| BusError::Codec {
            operation: "encode",
            message: "queued activation",
            reason: e.to_string(),
        })?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            message.activation_id.to_string().as_str(),
        );
        let ack = self
            .context
            .publish_with_headers(QUEUE_SUBJECT, headers, payload.into())
            .await
            .map_err(|e| transport(QUEUE_SUBJECT, "cannot publish", e))?
            .await
            .map_err(|e| transport(QUEUE_SUBJECT, "not stored", e))?;
        tracing::debug!(
            activation_id = %message.activation_id,
            sequence = ack.sequence,
            duplicate = ack.duplicate,
            "invocation queued"
        );
        Ok(())
    }

    async fn deliveries(&self) -> Result<BusReceiver<QueuedDelivery>, BusError> {
        let consumer = self.consumer().await?;
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let mut messages = match consumer.messages().await {
                    Ok(messages) => messages,
                    Err(error) => {
                        tracing::warn!(%error, "cannot pull from the invocation queue; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                };
                while let Some(next) = messages.next().await {
                    let message = match next {
                        Ok(message) => message,
                        Err(error) => {
                            // Missed heartbeats or a leader change: the stream goes on; do not
                            // spin if errors repeat.
                            tracing::warn!(%error, "invocation queue pull error");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let attempt = message
                        .info()
                        .map(|info| u32::try_from(info.delivered).unwrap_or(u32::MAX))
                        .unwrap_or(1);
                    match bincode::deserialize::<ActivationMessage>(&message.payload) {
                        Ok(activation) => {
                            let delivery = QueuedDelivery {
                                message: activation,
                                attempt,
                                settlement: Box::new(JetStreamSettlement(message)),
                            };
                            if sender.send(delivery).is_err() {
                                return;
                            }
                        }
                        Err(error) => {
                            // Never decodable, so never deliverable: drop it for good.
                            tracing::error!(%error, "undecodable queued invocation terminated");
                            let _ = message.ack_with(AckKind::Term).await;
                        }
                    }
                }
                if sender.is_closed() {
                    return;
                }
                tracing::warn!("invocation queue pull stream ended; reopening");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Ok(receiver)
    }
}

/// Settles one JetStream delivery.
struct JetStreamSettlement(jetstream::Message);

#[async_trait]
impl DeliverySettlement for JetStreamSettlement {
    async fn done(&self) -> Result<(), BusError> {
        // Wait for the server's confirmation: an ack lost on the way means a redelivery, which
        // the consumer recognizes by the record it already has.
        self.0
            .double_ack()
            .await
            .map_err(|e| transport(QUEUE_STREAM, "cannot ack", e))
    }

    async fn retry_after(&self, delay: Duration) -> Result<(), BusError> {
        self.0
            .ack_with(AckKind::Nak(Some(delay)))
            .await
            .map_err(|e| transport(QUEUE_STREAM, "cannot nak", e))
    }

    async fn working(&self) -> Result<(), BusError> {
        self.0
            .ack_with(AckKind::Progress)
            .await
            .map_err(|e| transport(QUEUE_STREAM, "cannot extend the ack wait", e))
    }
}
