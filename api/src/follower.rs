//! `LogFollower`: a thread that reads every record committed to the log after start-up and keeps
//! the API's in-memory tables (the key table, the action and package caches) in step with it,
//! whoever wrote it.

use crate::auth::KeyTable;
use crate::cache::EntityCaches;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use store::{EventLog, Store};

/// Stops and joins the follower thread when dropped.
pub struct LogFollower {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl LogFollower {
    /// Follows `store`'s log from `from_seq` on.
    pub fn start(
        store: &Store,
        from_seq: u64,
        keys: Arc<KeyTable>,
        caches: Arc<EntityCaches>,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut subscription = store.log().subscribe(from_seq);
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("whirl-api-follower".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match subscription.next_batch(1024, Duration::from_millis(100)) {
                            Ok(batch) => {
                                for record in &batch {
                                    keys.apply(&record.event);
                                    caches.apply(record.seq, &record.event);
                                }
                            }
                            Err(error) => {
                                tracing::error!(%error, "the API's log follower stopped; changes by other writers are no longer seen");
                                return;
                            }
                        }
                    }
                })?
        };
        Ok(Self {
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
                tracing::error!("the API's log follower panicked");
            }
        }
    }
}
