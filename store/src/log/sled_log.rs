//! `SledEventLog`: the event log on sled, with group commit by its log threads: each takes the
//! next group from the intake, applies it with the writer (groups in the order they were taken)
//! and flushes it (`threads.rs`, `writer.rs`).

use super::head::HeadSignal;
use super::intake::Intake;
use super::raw::{RawLog, DEFAULT_CACHE_BYTES};
use super::record::decode_record;
use super::retention::RetentionReport;
use super::shared::{CurrentGeneration, SledLogShared};
use super::stats::LogWriterStats;
use super::subscription::{CommittedRecords, RecordIter, Subscription};
use super::threads::LogThreads;
use super::ticket::{AppendTicket, OnDurable, ReplySender};
use super::writer::{ChainEnd, Writer, WriterRequest};
use super::{Clock, EventLog, Receipt, SystemClock};
use crate::error::{Error, Result};
use crate::event::Event;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// How to open a [`SledEventLog`].
#[derive(Clone)]
pub struct LogOptions {
    /// Where record times come from.
    pub clock: Arc<dyn Clock>,
    /// The most events one group commit takes before flushing.
    pub max_batch_events: usize,
    /// How many flushes may run at once (one log thread each; at least 1). With 2, a group
    /// applied while a flush runs is flushed beside it instead of after it.
    pub flushes_in_flight: usize,
    /// sled's page cache, in bytes.
    pub cache_bytes: u64,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            max_batch_events: 8192,
            flushes_in_flight: 2,
            cache_bytes: DEFAULT_CACHE_BYTES,
        }
    }
}

impl std::fmt::Debug for LogOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogOptions")
            .field("max_batch_events", &self.max_batch_events)
            .field("flushes_in_flight", &self.flushes_in_flight)
            .field("cache_bytes", &self.cache_bytes)
            .finish_non_exhaustive()
    }
}

/// The durable event log. Cheap to clone; the log threads stop when the last clone is dropped.
#[derive(Clone)]
pub struct SledEventLog {
    shared: Arc<SledLogShared>,
    threads: Arc<ThreadHandles>,
    stats: Arc<LogWriterStats>,
}

/// The intake and the log threads: dropping the last handle closes the intake, and the threads
/// end once they have written and flushed what was queued.
struct ThreadHandles {
    path: Arc<PathBuf>,
    intake: Arc<Intake>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Fails the log when a log thread panics: the intake is closed and what waits in it or in the
/// flush queue is answered with an error instead of waiting forever; the other threads end.
struct PanicGuard {
    intake: Arc<Intake>,
    threads: Arc<LogThreads>,
    stats: Arc<LogWriterStats>,
    path: PathBuf,
}

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        tracing::error!(path = %self.path.display(), "an event log thread panicked; the log takes no more appends");
        self.threads.fail_queued("an event log thread panicked");
        for request in self.intake.close_and_take() {
            if request.events() > 0 {
                self.stats.append_failed();
            }
            request.fail(&self.path);
        }
    }
}

impl Drop for ThreadHandles {
    fn drop(&mut self) {
        self.intake.close();
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for thread in threads {
            if thread.join().is_err() {
                tracing::error!(path = %self.path.display(), "an event log thread panicked");
            }
        }
    }
}

impl SledEventLog {
    /// Opens the log in `dir` (created if missing) and starts its writer thread.
    ///
    /// Fails with a typed error if `dir` is not a Whirl log, was written by a newer Whirl, or its
    /// last record does not decode.
    pub fn open(dir: impl AsRef<Path>, options: LogOptions) -> Result<Self> {
        let raw = RawLog::open_with_cache(dir.as_ref(), options.cache_bytes)?;
        let head = match raw.last_record()? {
            Some((seq, bytes)) => Some(decode_record(&raw.path, seq, &bytes)?.receipt()),
            None => None,
        };
        let RawLog {
            path,
            db,
            generation,
            tree,
        } = raw;
        let shared = Arc::new(SledLogShared {
            path: path.clone(),
            db,
            current: RwLock::new(CurrentGeneration { generation, tree }),
            head: HeadSignal::new(head),
        });
        let failed = Arc::new(Mutex::new(None));
        let stats = Arc::new(LogWriterStats::default());
        let thread_count = options.flushes_in_flight.max(1);
        let max_events = options.max_batch_events.max(1);
        let intake = Arc::new(Intake::default());
        let threads = Arc::new(LogThreads::new(
            Arc::clone(&shared),
            Arc::clone(&failed),
            Arc::clone(&stats),
        ));
        let writer = Arc::new(Mutex::new(Writer {
            shared: Arc::clone(&shared),
            clock: Arc::clone(&options.clock),
            chain: ChainEnd::from_head(head),
            failed,
            threads: Arc::clone(&threads),
            stats: Arc::clone(&stats),
            next_group: 0,
            turn_waiters: 0,
        }));
        let mut handles = ThreadHandles {
            path: Arc::new(path.clone()),
            intake: Arc::clone(&intake),
            threads: Mutex::new(Vec::with_capacity(thread_count)),
        };
        for n in 0..thread_count {
            let (writer, intake, threads) = (
                Arc::clone(&writer),
                Arc::clone(&intake),
                Arc::clone(&threads),
            );
            let guard = PanicGuard {
                intake: Arc::clone(&intake),
                threads: Arc::clone(&threads),
                stats: Arc::clone(&stats),
                path: path.clone(),
            };
            // On an error, `handles` is dropped: it closes the intake and joins the threads
            // already started.
            let thread = std::thread::Builder::new()
                .name(format!("whirl-log-{n}"))
                .spawn(move || {
                    let _guard = guard;
                    threads.run(&writer, &intake, max_events);
                })
                .map_err(Error::io("start the log threads for", &path))?;
            handles
                .threads
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .push(thread);
        }
        tracing::info!(path = %path.display(), generation, head_seq = head.map_or(0, |h| h.seq), "event log open");
        Ok(Self {
            shared,
            threads: Arc::new(handles),
            stats,
        })
    }

    /// What the log threads have done: appends, records, groups, append and flush latencies.
    pub fn stats(&self) -> &Arc<LogWriterStats> {
        &self.stats
    }

    /// Where the log lives.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The current generation (1 until the first retention).
    pub fn generation(&self) -> u64 {
        self.shared.generation()
    }

    fn send(&self, request: WriterRequest) -> std::result::Result<(), WriterRequest> {
        self.threads.intake.push(request)
    }

    /// Drops activation records that ended before `cutoff_ms` (and their invocations) through a
    /// new generation ending in a `SnapshotTaken` record. Appends wait while it runs.
    pub fn retain_before(&self, cutoff_ms: u64) -> Result<RetentionReport> {
        let (reply, outcome) = oneshot::channel();
        if self
            .send(WriterRequest::Retain { cutoff_ms, reply })
            .is_err()
        {
            return Err(Error::Closed {
                path: self.shared.path.clone(),
            });
        }
        outcome.blocking_recv().unwrap_or_else(|_| {
            Err(Error::Closed {
                path: self.shared.path.clone(),
            })
        })
    }
}

impl SledEventLog {
    /// Hands an append to the log threads; if the log is closed, answers `reply` with the error.
    fn append_with(&self, events: Vec<Event>, reply: ReplySender) {
        let request = WriterRequest::Append {
            events,
            reply,
            enqueued: std::time::Instant::now(),
        };
        if let Err(WriterRequest::Append { reply, .. }) = self.send(request) {
            self.stats.append_failed();
            reply.send(Err(Error::Closed {
                path: self.shared.path.clone(),
            }));
        }
    }
}

impl EventLog for SledEventLog {
    fn append(&self, events: Vec<Event>) -> AppendTicket {
        let (reply, ticket) = AppendTicket::channel(Arc::clone(&self.threads.path));
        self.append_with(events, reply);
        ticket
    }

    fn append_then(&self, events: Vec<Event>, on_durable: OnDurable) {
        self.append_with(events, ReplySender::Call(on_durable));
    }

    fn head(&self) -> Option<Receipt> {
        self.shared.head.get()
    }

    fn read_from(&self, seq: u64) -> RecordIter {
        RecordIter::new(self.shared.clone(), seq)
    }

    fn subscribe(&self, from_seq: u64) -> Subscription {
        Subscription::new(self.shared.clone(), from_seq)
    }

    fn committed_records(&self) -> Arc<dyn CommittedRecords> {
        self.shared.clone()
    }
}
