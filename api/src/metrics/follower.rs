//! `FunctionMetricsFollower`: a thread that follows the log from the head at start-up and feeds
//! every committed event to [`FunctionMetrics`] (like the API's `LogFollower`, so records written
//! by any controller of the log count). Stops and joins when dropped.

use super::functions::FunctionMetrics;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use store::{EventLog, Store};

pub struct FunctionMetricsFollower {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl FunctionMetricsFollower {
    /// Follows `store`'s log from `from_seq` on.
    pub fn start(
        store: &Store,
        from_seq: u64,
        metrics: Arc<FunctionMetrics>,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut subscription = store.log().subscribe(from_seq);
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("whirl-metrics-follower".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match subscription.next_batch(1024, Duration::from_millis(100)) {
                            Ok(batch) => {
                                for record in &batch {
                                    metrics.apply(&record.event);
                                }
                            }
                            Err(error) => {
                                tracing::error!(%error, "the metrics' log follower stopped; function metrics no longer move");
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

impl Drop for FunctionMetricsFollower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            if thread.join().is_err() {
                tracing::error!("the metrics' log follower panicked");
            }
        }
    }
}
