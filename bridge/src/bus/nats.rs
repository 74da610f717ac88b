//! The NATS bus: the [`Bus`] of a multi-node Whirl, on core NATS (async-nats). Each invoker
//! subscribes to its own subject; completions, start notices and pings go to subjects every
//! controller subscribes to. Payloads are bincode of the message types (internal subjects, one
//! Whirl version on both ends); the public subjects (trigger fires, activation records) are JSON
//! and live in the API layer. Subjects and the delivery contract: docs/nats.md. The bus counts
//! what it carries and probes its round trip to the server ([`NatsBusStats`]).

mod probe;
mod stats;

pub use probe::PROBE_INTERVAL;
pub use stats::{BusMessageKind, NatsBusStats};

use async_trait::async_trait;
use futures::{FutureExt, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
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
    stats: Arc<NatsBusStats>,
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
        let stats = Arc::new(NatsBusStats::default());
        probe::start_round_trip_probe(client.clone(), &stats);
        Ok(NatsBus { client, stats })
    }

    /// What this bus has carried, and its round trips to the server.
    pub fn stats(&self) -> &Arc<NatsBusStats> {
        &self.stats
    }

    /// The underlying client (for the API's public subjects).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    fn encode<T: Serialize>(kind: BusMessageKind, value: &T) -> Result<Vec<u8>, BusError> {
        bincode::serialize(value).map_err(|e| BusError::Codec {
            operation: "encode",
            message: kind.as_str(),
            reason: e.to_string(),
        })
    }

    fn published(
        &self,
        subject: String,
        kind: BusMessageKind,
        outcome: Result<(), async_nats::PublishError>,
    ) -> Result<(), BusError> {
        match outcome {
            Ok(()) => {
                self.stats.count_published(kind);
                Ok(())
            }
            Err(e) => {
                self.stats.count_publish_failure();
                Err(BusError::Transport {
                    subject,
                    reason: e.to_string(),
                })
            }
        }
    }

    async fn publish<T: Serialize>(
        &self,
        subject: String,
        kind: BusMessageKind,
        value: &T,
    ) -> Result<(), BusError> {
        let payload = Self::encode(kind, value)?;
        let outcome = self.client.publish(subject.clone(), payload.into()).await;
        self.published(subject, kind, outcome)
    }

    /// Hands a message to the client's queue if it has room now (the client's connection task
    /// writes it out): `Ok(true)` when it did, `Ok(false)` when the queue is full and the caller
    /// must fall back to [`NatsBus::publish`]. Nothing is queued in the `false` case (a tokio
    /// channel's send is cancel-safe), so the fallback does not send it twice.
    fn publish_now<T: Serialize>(
        &self,
        subject: String,
        kind: BusMessageKind,
        value: &T,
    ) -> Result<bool, BusError> {
        let payload = Self::encode(kind, value)?;
        match self
            .client
            .publish(subject.clone(), payload.into())
            .now_or_never()
        {
            Some(outcome) => self.published(subject, kind, outcome).map(|()| true),
            None => Ok(false),
        }
    }

    async fn subscribe<T: DeserializeOwned + Send + 'static>(
        &self,
        subject: String,
        kind: BusMessageKind,
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
        let stats = Arc::clone(&self.stats);
        tokio::spawn(async move {
            while let Some(delivered) = subscription.next().await {
                match bincode::deserialize::<T>(&delivered.payload) {
                    Ok(value) => {
                        stats.count_received(kind);
                        if sender.send(value).is_err() {
                            break;
                        }
                    }
                    Err(error) => {
                        stats.count_decode_failure();
                        let message = kind.as_str();
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
        self.publish(
            activations_subject(&msg.invoker),
            BusMessageKind::Activation,
            &msg,
        )
        .await
    }

    async fn subscribe_activations(
        &self,
        invoker: &str,
    ) -> Result<BusReceiver<ActivationMessage>, BusError> {
        self.subscribe(activations_subject(invoker), BusMessageKind::Activation)
            .await
    }

    async fn publish_completion(&self, msg: CompletionMessage) -> Result<(), BusError> {
        self.publish(completions_subject(), BusMessageKind::Completion, &msg)
            .await
    }

    async fn subscribe_completions(&self) -> Result<BusReceiver<CompletionMessage>, BusError> {
        self.subscribe(completions_subject(), BusMessageKind::Completion)
            .await
    }

    async fn publish_ping(&self, ping: InvokerPing) -> Result<(), BusError> {
        self.publish(pings_subject(), BusMessageKind::Ping, &ping)
            .await
    }

    async fn subscribe_pings(&self) -> Result<BusReceiver<InvokerPing>, BusError> {
        self.subscribe(pings_subject(), BusMessageKind::Ping).await
    }

    async fn publish_started(&self, msg: ActivationStarted) -> Result<(), BusError> {
        self.publish(started_subject(), BusMessageKind::StartNotice, &msg)
            .await
    }

    async fn subscribe_started(&self) -> Result<BusReceiver<ActivationStarted>, BusError> {
        self.subscribe(started_subject(), BusMessageKind::StartNotice)
            .await
    }

    fn send_activation_now(
        &self,
        msg: ActivationMessage,
    ) -> Result<Option<ActivationMessage>, BusError> {
        let subject = activations_subject(&msg.invoker);
        let sent = self.publish_now(subject, BusMessageKind::Activation, &msg)?;
        Ok((!sent).then_some(msg))
    }

    fn publish_completion_now(
        &self,
        msg: CompletionMessage,
    ) -> Result<Option<CompletionMessage>, BusError> {
        let sent = self.publish_now(completions_subject(), BusMessageKind::Completion, &msg)?;
        Ok((!sent).then_some(msg))
    }

    fn publish_started_now(
        &self,
        msg: ActivationStarted,
    ) -> Result<Option<ActivationStarted>, BusError> {
        let sent = self.publish_now(started_subject(), BusMessageKind::StartNotice, &msg)?;
        Ok((!sent).then_some(msg))
    }
}
