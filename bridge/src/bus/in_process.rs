//! The in-process bus: unbounded channels between the actors of one process. Messages sent to an
//! invoker before it subscribes wait in its queue.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

use super::{
    ActivationMessage, ActivationStarted, Bus, BusError, BusReceiver, CompletionMessage,
    InvokerPing,
};

/// A bus whose subscribers all live in this process.
#[derive(Default)]
pub struct InProcessBus {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Per invoker: the sender of its queue, and the receiver until the invoker subscribes.
    invokers: BTreeMap<String, InvokerQueue>,
    completions: Vec<UnboundedSender<CompletionMessage>>,
    pings: Vec<UnboundedSender<InvokerPing>>,
    started: Vec<UnboundedSender<ActivationStarted>>,
}

struct InvokerQueue {
    sender: UnboundedSender<ActivationMessage>,
    unclaimed: Option<BusReceiver<ActivationMessage>>,
}

impl InvokerQueue {
    fn new() -> Self {
        let (sender, receiver) = unbounded_channel();
        InvokerQueue {
            sender,
            unclaimed: Some(receiver),
        }
    }
}

impl std::fmt::Debug for InProcessBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcessBus")
    }
}

impl InProcessBus {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the maps half-updated (every update is a
        // single insert or retain), so a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Sends to every live subscriber, forgetting those that went away.
/// Sends `msg` to every subscriber, dropping those that are gone. The last one gets `msg` itself:
/// with one subscriber (the controller, in a server) nothing is copied.
fn fan_out<T: Clone>(subscribers: &mut Vec<UnboundedSender<T>>, msg: T) {
    let last = subscribers.len().saturating_sub(1);
    let mut msg = Some(msg);
    let mut index = 0;
    subscribers.retain(|subscriber| {
        let copy = if index == last {
            msg.take()
        } else {
            msg.clone()
        };
        index += 1;
        copy.is_some_and(|copy| subscriber.send(copy).is_ok())
    });
}

#[async_trait]
impl Bus for InProcessBus {
    async fn send_activation(&self, msg: ActivationMessage) -> Result<(), BusError> {
        self.send_activation_now(msg).map(|_| ())
    }

    fn send_activation_now(
        &self,
        msg: ActivationMessage,
    ) -> Result<Option<ActivationMessage>, BusError> {
        let mut state = self.state();
        let queue = state
            .invokers
            .entry(msg.invoker.clone())
            .or_insert_with(InvokerQueue::new);
        if let Err(returned) = queue.sender.send(msg) {
            let fresh = InvokerQueue::new();
            let invoker = returned.0.invoker.clone();
            fresh
                .sender
                .send(returned.0)
                .map_err(|_| BusError::Closed(format!("queue of invoker {invoker}")))?;
            state.invokers.insert(invoker, fresh);
        }
        Ok(None)
    }

    async fn subscribe_activations(
        &self,
        invoker: &str,
    ) -> Result<BusReceiver<ActivationMessage>, BusError> {
        let mut state = self.state();
        let queue = state
            .invokers
            .entry(invoker.to_owned())
            .or_insert_with(InvokerQueue::new);
        match queue.unclaimed.take() {
            Some(receiver) => Ok(receiver),
            None => {
                // A second subscription replaces the first (whose undelivered messages stay there).
                let mut fresh = InvokerQueue::new();
                let receiver = fresh.unclaimed.take();
                state.invokers.insert(invoker.to_owned(), fresh);
                receiver.ok_or_else(|| BusError::Closed(format!("queue of invoker {invoker}")))
            }
        }
    }

    async fn publish_completion(&self, msg: CompletionMessage) -> Result<(), BusError> {
        self.publish_completion_now(msg).map(|_| ())
    }

    fn publish_completion_now(
        &self,
        msg: CompletionMessage,
    ) -> Result<Option<CompletionMessage>, BusError> {
        fan_out(&mut self.state().completions, msg);
        Ok(None)
    }

    async fn subscribe_completions(&self) -> Result<BusReceiver<CompletionMessage>, BusError> {
        let (sender, receiver) = unbounded_channel();
        self.state().completions.push(sender);
        Ok(receiver)
    }

    async fn publish_ping(&self, ping: InvokerPing) -> Result<(), BusError> {
        fan_out(&mut self.state().pings, ping);
        Ok(())
    }

    async fn subscribe_pings(&self) -> Result<BusReceiver<InvokerPing>, BusError> {
        let (sender, receiver) = unbounded_channel();
        self.state().pings.push(sender);
        Ok(receiver)
    }

    async fn publish_started(&self, msg: ActivationStarted) -> Result<(), BusError> {
        self.publish_started_now(msg).map(|_| ())
    }

    fn publish_started_now(
        &self,
        msg: ActivationStarted,
    ) -> Result<Option<ActivationStarted>, BusError> {
        fan_out(&mut self.state().started, msg);
        Ok(None)
    }

    async fn subscribe_started(&self) -> Result<BusReceiver<ActivationStarted>, BusError> {
        let (sender, receiver) = unbounded_channel();
        self.state().started.push(sender);
        Ok(receiver)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use store::{ActionDoc, ActionLimits, ActivationId, Exec, JsonText, SemVer};

    fn activation(invoker: &str, n: u8) -> ActivationMessage {
        ActivationMessage {
            activation_id: ActivationId([n; 16]),
            transaction_id: format!("tx{n}"),
            invoker: invoker.into(),
            action: ActionDoc {
                namespace: "guest".into(),
                package: None,
                name: "hello".into(),
                version: SemVer::default(),
                publish: false,
                exec: Exec::Command {
                    command: "cat".into(),
                },
                annotations: JsonText::empty_array(),
                parameters: JsonText::empty_array(),
                limits: ActionLimits::default(),
                updated_ms: 0,
            },
            params: JsonText::empty_object(),
            subject: "guest".into(),
            by: store::ChangedBy::System,
            api_key: None,
            blocking: true,
            cause: None,
            accepted_at_ms: 0,
            caused_by: None,
        }
    }

    #[tokio::test]
    async fn activations_wait_for_their_invoker_and_keep_order() {
        let bus = InProcessBus::new();
        bus.send_activation(activation("invoker0", 1))
            .await
            .unwrap();
        bus.send_activation(activation("invoker1", 2))
            .await
            .unwrap();
        bus.send_activation(activation("invoker0", 3))
            .await
            .unwrap();
        let mut zero = bus.subscribe_activations("invoker0").await.unwrap();
        assert_eq!(zero.recv().await.unwrap().transaction_id, "tx1");
        assert_eq!(zero.recv().await.unwrap().transaction_id, "tx3");
        assert!(
            zero.try_recv().is_err(),
            "invoker0 must not see invoker1's work"
        );
        let mut one = bus.subscribe_activations("invoker1").await.unwrap();
        assert_eq!(one.recv().await.unwrap().transaction_id, "tx2");
    }

    #[tokio::test]
    async fn a_dropped_subscription_does_not_lose_later_messages() {
        let bus = InProcessBus::new();
        drop(bus.subscribe_activations("invoker0").await.unwrap());
        bus.send_activation(activation("invoker0", 7))
            .await
            .unwrap();
        let mut again = bus.subscribe_activations("invoker0").await.unwrap();
        assert_eq!(again.recv().await.unwrap().transaction_id, "tx7");
    }

    #[tokio::test]
    async fn pings_reach_every_subscriber() {
        let bus = InProcessBus::new();
        let mut a = bus.subscribe_pings().await.unwrap();
        let mut b = bus.subscribe_pings().await.unwrap();
        let ping = InvokerPing {
            invoker: "invoker0".into(),
            incarnation: 1,
            user_memory_mb: 2048,
            sent_at_ms: 5,
        };
        bus.publish_ping(ping.clone()).await.unwrap();
        assert_eq!(a.recv().await.unwrap(), ping);
        assert_eq!(b.recv().await.unwrap(), ping);
        drop(a);
        bus.publish_ping(ping.clone()).await.unwrap();
        assert_eq!(b.recv().await.unwrap(), ping);
    }

    #[test]
    fn fan_out_reaches_every_live_subscriber_whichever_are_gone() {
        for gone in [vec![], vec![0], vec![2], vec![0, 2], vec![0, 1, 2]] {
            let (senders, mut receivers): (Vec<_>, Vec<_>) =
                (0..3).map(|_| unbounded_channel::<u32>()).unzip();
            let mut subscribers = senders;
            for &index in &gone {
                receivers[index].close();
            }
            fan_out(&mut subscribers, 7);
            assert_eq!(subscribers.len(), 3 - gone.len(), "gone {gone:?}");
            for (index, receiver) in receivers.iter_mut().enumerate() {
                let got = receiver.try_recv().ok();
                let expected = (!gone.contains(&index)).then_some(7);
                assert_eq!(got, expected, "subscriber {index}, gone {gone:?}");
            }
        }
        let mut none: Vec<UnboundedSender<u32>> = Vec::new();
        fan_out(&mut none, 7);
    }
}
