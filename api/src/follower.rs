//! `LogFollower`: a named thread that reads every record committed to the log from a seq on and
//! hands each one to its owner's function, whoever wrote it. The API keeps its in-memory tables
//! (the key table, the action and package caches) in step with it, and `/metrics` counts
//! activations with it. Stops and joins when dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use store::{Committed, EventLog, Store};

/// Stops and joins the follower thread when dropped.
pub struct LogFollower {
    name: &'static str,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl LogFollower {
    /// Follows `store`'s log from `from_seq` on in a thread called `name`, calling `apply` with
    /// each committed record in order.
    pub fn start(
        store: &Store,
        from_seq: u64,
        name: &'static str,
        mut apply: impl FnMut(&Committed) + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut subscription = store.log().subscribe(from_seq);
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new().name(name.into()).spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match subscription.next_batch(1024, Duration::from_millis(100)) {
                        Ok(batch) => batch.iter().for_each(&mut apply),
                        Err(error) => {
                            tracing::error!(follower = name, %error, "log follower stopped; what it keeps no longer moves");
                            return;
                        }
                    }
                }
            })?
        };
        Ok(Self {
            name,
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }
}

impl Drop for LogFollower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            if thread.join().is_err() {
                tracing::error!(follower = self.name, "log follower panicked");
            }
        }
    }
}
