//! `HeadSignal`: the committed head of a log, published after each flush, which blocking readers
//! wait on (condvar) and async readers await (watch channel).

use super::Receipt;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The last durable record, shared between the writer and readers.
pub(crate) struct HeadSignal {
    head: Mutex<Option<Receipt>>,
    changed: Condvar,
    watch: watch::Sender<u64>,
}

impl HeadSignal {
    pub(crate) fn new(head: Option<Receipt>) -> Self {
        let (watch, _) = watch::channel(head.map_or(0, |receipt| receipt.seq));
        Self {
            head: Mutex::new(head),
            changed: Condvar::new(),
            watch,
        }
    }

    /// The last durable record, if any.
    pub(crate) fn get(&self) -> Option<Receipt> {
        *self.head.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The seq of the last durable record (0 when the log is empty).
    pub(crate) fn seq(&self) -> u64 {
        self.get().map_or(0, |receipt| receipt.seq)
    }

    /// Publishes a new durable head and wakes every waiter.
    pub(crate) fn publish(&self, head: Receipt) {
        *self.head.lock().unwrap_or_else(PoisonError::into_inner) = Some(head);
        self.changed.notify_all();
        self.watch.send_replace(head.seq);
    }

    /// Blocks until the head reaches `seq` or `timeout` passes; returns the head seq then.
    pub(crate) fn wait_for(&self, seq: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        let mut head = self.head.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let current = head.map_or(0, |receipt| receipt.seq);
            let now = Instant::now();
            if current >= seq || now >= deadline {
                return current;
            }
            head = self
                .changed
                .wait_timeout(head, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// A receiver that sees every new head seq (for async waiters).
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.watch.subscribe()
    }
}
