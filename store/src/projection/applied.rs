//! `AppliedSignal`: how far the projections have applied the log, for `wait_applied`; it also
//! carries the projector's failure so waiters learn of it instead of timing out, and the highest
//! seq a reader waits for, so the projector commits at once instead of gathering more records.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

#[derive(Debug, Clone, Default)]
pub(crate) struct AppliedState {
    pub(crate) seq: u64,
    pub(crate) failure: Option<String>,
}

pub(crate) struct AppliedSignal {
    state: Mutex<AppliedState>,
    changed: Condvar,
    watch: watch::Sender<u64>,
    /// The highest seq a reader has waited for.
    wanted: AtomicU64,
}

impl AppliedSignal {
    pub(crate) fn new(seq: u64) -> Self {
        Self {
            state: Mutex::new(AppliedState { seq, failure: None }),
            changed: Condvar::new(),
            watch: watch::channel(seq).0,
            wanted: AtomicU64::new(seq),
        }
    }

    /// Tells the projector a reader waits for `seq` to be applied.
    pub(crate) fn want(&self, seq: u64) {
        self.wanted.fetch_max(seq, Ordering::AcqRel);
    }

    /// Whether a reader waits for a seq beyond the applied one.
    pub(crate) fn is_wanted_beyond(&self, applied: u64) -> bool {
        self.wanted.load(Ordering::Acquire) > applied
    }

    pub(crate) fn get(&self) -> AppliedState {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn publish(&self, seq: u64) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .seq = seq;
        self.changed.notify_all();
        self.watch.send_replace(seq);
    }

    pub(crate) fn fail(&self, reason: String) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failure = Some(reason);
        self.changed.notify_all();
        self.watch.send_modify(|_| {});
    }

    /// Waits until `seq` is applied, the projector failed, or the timeout passed.
    pub(crate) fn wait_for(&self, seq: u64, timeout: Duration) -> AppliedState {
        self.want(seq);
        let deadline = Instant::now() + timeout;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            if state.seq >= seq || state.failure.is_some() || now >= deadline {
                return state.clone();
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.watch.subscribe()
    }
}
