//! The NATS bus: the [`Bus`] of a multi-node Whirl, on core NATS (async-nats). Each invoker
//! subscribes to its own subject; completions, start notices and pings go to subjects every
//! controller subscribes to. Payloads are bincode of the message types (internal subjects, one
//! Whirl version on both ends); the public subjects (trigger fires, activation records) are JSON
//! and live in the API layer. Subjects and the delivery contract: docs/nats.md.

use async_trait::async_trait;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::mpsc::unbounded_channel;

use super::{
    ActivationMessage, ActivationStarted, Bus, BusError, BusReceiver, CompletionMessage,
    InvokerPing,
};

/// Where Whirl's internal subjects start.
pub const SUBJECT_PREFIX: &str = "whirl.internal";

/// A bus over a NATS connection (which reconnects by itself, to any server of a cluster).
#[derive(Clone)]
pub struct NatsBus {
    client: async_nats::Client,
}

impl std::fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NatsBus")
    }
}

/// The subject of one invoker's activations.
pub fn activations_subject(invoker: &str) -> String {
    format!("{SUBJECT_PREFIX}.invoker.{invoker}.activations")
}

fn completions_subject() -> String {
    format!("{SUBJECT_PREFIX}.completions")
}

fn pings_subject() -> String {
    format!("{SUBJECT_PREFIX}.pings")
}

fn started_subject() -> String {
    format!("{SUBJECT_PREFIX}.started")
}

impl NatsBus {
    /// Connects to `servers` (`nats://host:port`, comma-separated for a cluster) as `name`.
    pub async fn connect(servers: &str, name: &str) -> Result<Self, BusError> {
        let addresses: Vec<async_nats::ServerAddr> = servers
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse().map_err(|e| BusError::Transport {
                    subject: s.to_owned(),
                    reason: format!("not a NATS server address: {e}"),
                })
            })
            .collect::<Result<_, _>>()?;
        let client = async_nats::ConnectOptions::new()
            .name(name)
            .retry_on_initial_connect()
            .connection_timeout(std::time::Duration::from_secs(5))
            .event_callback(|event| async move {
                tracing::info!(%event, "nats connection event");
            })
            .connect(addresses)
            .await
            .map_err(|e| BusError::Transport {
                subject: servers.to_owned(),
                reason: format!("cannot connect: {e}"),
            })?;
        Ok(NatsBus { client })
    }

    /// The underlying client (for the API's public subjects).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    async fn publish<T: Serialize>(
        &self,
        subject: String,
        message: &'static str,
        value: &T,
    ) -> Result<(), BusError> {
        let payload = bincode::serialize(value).map_err(|e| BusError::Codec {
            operation: "encode",
            message,
            reason: e.to_string(),
        })?;
        self.client
            .publish(subject.clone(), payload.into())
            .await
            .map_err(|e| BusError::Transport {
                subject,
                reason: e.to_string(),
            })
    }

    async fn subscribe<T: DeserializeOwned + Send + 'static>(
        &self,
        subject: String,
        message: &'static str,
    ) -> Result<BusReceiver<T>, BusError> {
        let mut subscription =
            self.client
                .subscribe(subject.clone())
                .await
                .map_err(|e| BusError::Transport {
                    subject: subject.clone(),
                    reason: e.to_string(),
                })?;
        let (sender, receiver) = unbounded_channel();
        tokio::spawn(async move {
            while let Some(delivered) = subscription.next().await {
                match bincode::deserialize::<T>(&delivered.payload) {
                    Ok(value) => {
                        if sender.send(value).is_err() {
                            break;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%subject, message, %error, "dropping an undecodable bus message")
                    }
                }
            }
        });
        Ok(receiver)
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn send_activation(&self, msg: ActivationMessage) -> Result<(), BusError> {
        self.publish(activations_subject(&msg.invoker), "activation", &msg)
            .await
    }

    async fn subscribe_activations(
        &self,
        invoker: &str,
    ) -> Result<BusReceiver<ActivationMessage>, BusError> {
        self.subscribe(activations_subject(invoker), "activation")
            .await
    }

    async fn publish_completion(&self, msg: CompletionMessage) -> Result<(), BusError> {
        self.publish(completions_subject(), "completion", &msg)
            .await
    }

    async fn subscribe_completions(&self) -> Result<BusReceiver<CompletionMessage>, BusError> {
        self.subscribe(completions_subject(), "completion").await
    }

    async fn publish_ping(&self, ping: InvokerPing) -> Result<(), BusError> {
        self.publish(pings_subject(), "ping", &ping).await
    }

    async fn subscribe_pings(&self) -> Result<BusReceiver<InvokerPing>, BusError> {
        self.subscribe(pings_subject(), "ping").await
    }

    async fn publish_started(&self, msg: ActivationStarted) -> Result<(), BusError> {
        self.publish(started_subject(), "start notice", &msg).await
    }

    async fn subscribe_started(&self) -> Result<BusReceiver<ActivationStarted>, BusError> {
        self.subscribe(started_subject(), "start notice").await
    }
}
