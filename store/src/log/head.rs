//! `HeadSignal`: the committed head of a log, published after each flush, which blocking readers
//! wait on (condvar) and async readers await (watch channel). It also keeps the seq of the last
//! durable record that is not an activation's ([`Event::is_activation`](crate::Event::is_activation)),
//! with its own condvar, so readers that only follow entity changes sleep through the stream of
//! activation records; and the highest seq a reader of the projections demanded, which wakes the
//! projector on that same condvar.

use super::Receipt;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The last durable record, shared between the writer and readers.
pub(crate) struct HeadSignal {
    head: Mutex<Heads>,
    changed: Condvar,
    entity_changed: Condvar,
    watch: watch::Sender<u64>,
}

/// Which condvar a blocking reader waits on.
#[derive(Clone, Copy)]
enum Waiters {
    Head,
    Entity,
}

/// The durable head, and the last durable record that changed an entity.
#[derive(Clone, Copy)]
struct Heads {
    head: Option<Receipt>,
    entity_seq: u64,
    /// The highest seq a reader needs the projections to have applied.
    demanded_seq: u64,
    /// Threads blocked on `changed` and on `entity_changed`: a publish with nobody waiting makes
    /// no futex call (the log threads publish once per flush).
    head_waiters: usize,
    entity_waiters: usize,
}

impl Heads {
    fn seq(&self) -> u64 {
        self.head.map_or(0, |receipt| receipt.seq)
    }
}

impl HeadSignal {
    pub(crate) fn new(head: Option<Receipt>) -> Self {
        let seq = head.map_or(0, |receipt| receipt.seq);
        let (watch, _) = watch::channel(seq);
        Self {
            // What was durable before opening counts as changed: a reader from an older seq
            // must read it.
            head: Mutex::new(Heads {
                head,
                entity_seq: seq,
                demanded_seq: 0,
                head_waiters: 0,
                entity_waiters: 0,
            }),
            changed: Condvar::new(),
            entity_changed: Condvar::new(),
            watch,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Heads> {
        self.head.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last durable record, if any.
    pub(crate) fn get(&self) -> Option<Receipt> {
        self.lock().head
    }

    /// The seq of the last durable record (0 when the log is empty).
    pub(crate) fn seq(&self) -> u64 {
        self.get().map_or(0, |receipt| receipt.seq)
    }

    /// Publishes a new durable head that may have changed any entity, and wakes every waiter.
    pub(crate) fn publish(&self, head: Receipt) {
        self.publish_group(head, Some(head.seq));
    }

    /// Publishes a new durable head; `last_entity_seq` is the last record up to it that is not an
    /// activation's (`None`: they all are). Entity waiters wake only when it is `Some`.
    pub(crate) fn publish_group(&self, head: Receipt, last_entity_seq: Option<u64>) {
        let (wake_head, wake_entity) = {
            let mut heads = self.lock();
            heads.head = Some(head);
            if let Some(seq) = last_entity_seq {
                heads.entity_seq = heads.entity_seq.max(seq);
            }
            (
                heads.head_waiters > 0,
                last_entity_seq.is_some() && heads.entity_waiters > 0,
            )
        };
        if wake_head {
            self.changed.notify_all();
        }
        if wake_entity {
            self.entity_changed.notify_all();
        }
        self.watch.send_replace(head.seq);
    }

    /// Blocks until the head reaches `seq` or `timeout` passes; returns the head seq then.
    pub(crate) fn wait_for(&self, seq: u64, timeout: Duration) -> u64 {
        self.wait_until(Waiters::Head, timeout, |heads| heads.seq() >= seq)
            .seq()
    }

    /// Blocks until a record at or after `seq` that is not an activation's is durable, or
    /// `timeout` passes; true when one is.
    pub(crate) fn wait_for_entity_change(&self, seq: u64, timeout: Duration) -> bool {
        self.wait_until(Waiters::Entity, timeout, |heads| heads.entity_seq >= seq)
            .entity_seq
            >= seq
    }

    /// Records that a reader needs the projections applied up to `seq`, and wakes the waiters of
    /// entity changes (the projector among them; the others go back to sleep).
    pub(crate) fn demand(&self, seq: u64) {
        {
            let mut heads = self.lock();
            if seq <= heads.demanded_seq {
                return;
            }
            heads.demanded_seq = seq;
            if heads.entity_waiters == 0 {
                return;
            }
        }
        self.entity_changed.notify_all();
    }

    /// Blocks until a record at or after `seq` that is not an activation's is durable, a reader
    /// demanded a seq beyond `applied`, or `timeout` passes.
    pub(crate) fn wait_for_entity_change_or_demand(
        &self,
        seq: u64,
        applied: u64,
        timeout: Duration,
    ) {
        self.wait_until(Waiters::Entity, timeout, |heads| {
            heads.entity_seq >= seq || heads.demanded_seq > applied
        });
    }

    fn wait_until(
        &self,
        waiters: Waiters,
        timeout: Duration,
        done: impl Fn(&Heads) -> bool,
    ) -> Heads {
        let (condvar, count): (&Condvar, fn(&mut Heads) -> &mut usize) = match waiters {
            Waiters::Head => (&self.changed, |heads| &mut heads.head_waiters),
            Waiters::Entity => (&self.entity_changed, |heads| &mut heads.entity_waiters),
        };
        let deadline = Instant::now() + timeout;
        let mut heads = self.lock();
        loop {
            let now = Instant::now();
            if done(&heads) || now >= deadline {
                return *heads;
            }
            *count(&mut heads) += 1;
            heads = condvar
                .wait_timeout(heads, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            *count(&mut heads) -= 1;
        }
    }

    /// A receiver that sees every new head seq (for async waiters).
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.watch.subscribe()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;

    fn receipt(seq: u64) -> Receipt {
        Receipt {
            seq,
            time_ms: 0,
            hash: crate::envelope::RecordHash([0; 32]),
        }
    }

    fn waiting(signal: &HeadSignal) -> (usize, usize) {
        let heads = signal.lock();
        (heads.head_waiters, heads.entity_waiters)
    }

    fn until_waiting(signal: &HeadSignal, expected: (usize, usize)) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while waiting(signal) != expected {
            assert!(Instant::now() < deadline, "waiters never blocked");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn blocked_readers_are_counted_and_woken_by_the_publish_they_wait_for() {
        let signal = Arc::new(HeadSignal::new(None));
        let head_reader = {
            let signal = Arc::clone(&signal);
            std::thread::spawn(move || signal.wait_for(3, Duration::from_secs(30)))
        };
        let entity_reader = {
            let signal = Arc::clone(&signal);
            std::thread::spawn(move || signal.wait_for_entity_change(3, Duration::from_secs(30)))
        };
        until_waiting(&signal, (1, 1));
        // Activation records only: the entity reader sleeps on.
        signal.publish_group(receipt(3), None);
        assert_eq!(head_reader.join().unwrap(), 3);
        until_waiting(&signal, (0, 1));
        signal.publish_group(receipt(4), Some(4));
        assert!(entity_reader.join().unwrap());
        assert_eq!(waiting(&signal), (0, 0));
    }

    #[test]
    fn a_demand_wakes_a_blocked_projector_and_a_reader_that_timed_out_is_no_longer_counted() {
        let signal = Arc::new(HeadSignal::new(None));
        assert_eq!(signal.wait_for(1, Duration::from_millis(5)), 0);
        assert_eq!(waiting(&signal), (0, 0));
        let projector = {
            let signal = Arc::clone(&signal);
            std::thread::spawn(move || {
                signal.wait_for_entity_change_or_demand(1, 0, Duration::from_secs(30));
            })
        };
        until_waiting(&signal, (0, 1));
        signal.demand(1);
        projector.join().unwrap();
        assert_eq!(waiting(&signal), (0, 0));
    }
}
