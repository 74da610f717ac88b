//! Carries a bus subscription into a supervised actor's mailbox. The task outlives the actor's
//! restarts (the supervisor keeps the same address), so no message is lost to a restart.
//!
//! A message goes in with `try_send`, which does not wait for the actor to handle it: waiting for
//! the handler's answer (`send(..).await`) cost a wake-up of this task per message. When the
//! mailbox is full the task falls back to `send(..).await`, which waits for room; the order of
//! the messages is kept either way.

use actix::dev::ToEnvelope;
use actix::prelude::*;
use bridge::bus::BusReceiver;

/// Spawns the task that hands every item of `from` to `to` as `wrap(item)`, until the bus closes
/// the subscription or the actor is gone for good.
pub(crate) fn forward<A, M, T>(mut from: BusReceiver<T>, to: Addr<A>, wrap: fn(T) -> M)
where
    A: Actor + Handler<M>,
    A::Context: ToEnvelope<A, M>,
    M: Message + Send + 'static,
    M::Result: Send,
    T: Send + 'static,
{
    tokio::spawn(async move {
        while let Some(item) = from.recv().await {
            match to.try_send(wrap(item)) {
                Ok(()) => {}
                Err(SendError::Full(message)) => {
                    if to.send(message).await.is_err() {
                        break;
                    }
                }
                Err(SendError::Closed(_)) => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    /// Records what it handles; a small mailbox, so that a burst overflows it.
    struct Recorder {
        seen: Vec<u32>,
        done: Option<tokio::sync::oneshot::Sender<Vec<u32>>>,
        expected: usize,
    }

    impl Actor for Recorder {
        type Context = Context<Self>;

        fn started(&mut self, ctx: &mut Self::Context) {
            ctx.set_mailbox_capacity(2);
        }
    }

    #[derive(Message)]
    #[rtype(result = "()")]
    struct Item(u32);

    impl Handler<Item> for Recorder {
        type Result = ();

        fn handle(&mut self, Item(n): Item, ctx: &mut Self::Context) {
            if self.expected == 0 {
                ctx.stop();
                return;
            }
            self.seen.push(n);
            if self.seen.len() == self.expected {
                if let Some(done) = self.done.take() {
                    let _ = done.send(std::mem::take(&mut self.seen));
                }
            }
        }
    }

    #[actix_rt::test]
    async fn a_burst_larger_than_the_mailbox_arrives_whole_and_in_order() {
        let (done, seen) = tokio::sync::oneshot::channel();
        let recorder = Recorder {
            seen: Vec::new(),
            done: Some(done),
            expected: 500,
        }
        .start();
        let (sender, receiver) = unbounded_channel();
        for n in 0..500 {
            sender.send(n).unwrap();
        }
        forward(receiver, recorder, Item);
        let seen = tokio::time::timeout(std::time::Duration::from_secs(10), seen)
            .await
            .expect("every item handled")
            .unwrap();
        assert_eq!(seen, (0..500).collect::<Vec<_>>());
    }

    #[actix_rt::test]
    async fn the_task_ends_when_the_actor_is_gone() {
        // This recorder stops at its first item.
        let recorder = Recorder {
            seen: Vec::new(),
            done: None,
            expected: 0,
        }
        .start();
        let (sender, receiver) = unbounded_channel();
        let probe = sender.clone();
        forward(receiver, recorder, Item);
        // The actor stops at the first item; the forwarding task, finding its mailbox closed,
        // ends and drops the receiver, so sending fails.
        for n in 0.. {
            if probe.send(n).is_err() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            assert!(n < 5_000, "the forwarding task never ended");
        }
        drop(sender);
    }
}
