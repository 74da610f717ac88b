//! `SledEventLog`: the event log on sled, with one writer thread doing group commit and flusher
//! threads making its groups durable (`writer.rs`, `flusher.rs`).

use super::flusher::Flushers;
use super::head::HeadSignal;
use super::intake::Intake;
use super::raw::{RawLog, DEFAULT_CACHE_BYTES};
use super::record::decode_record;
use super::retention::RetentionReport;
use super::shared::{CurrentGeneration, SledLogShared};
use super::stats::LogWriterStats;
use super::subscription::{CommittedRecords, RecordIter, Subscription};
use super::ticket::{AppendTicket, OnDurable, ReplySender};
use super::writer::{ChainEnd, Writer, WriterRequest};
use super::{Clock, EventLog, Receipt, SystemClock};
use crate::error::{Error, Result};
use crate::event::Event;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
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
    /// How many flushes may run at once (one flusher thread each; at least 1). With 2, a group
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

/// The durable event log. Cheap to clone; the writer stops when the last clone is dropped.
#[derive(Clone)]
pub struct SledEventLog {
    shared: Arc<SledLogShared>,
    writer: Arc<WriterThread>,
    stats: Arc<LogWriterStats>,
}

struct WriterThread {
    path: Arc<PathBuf>,
    intake: Arc<Intake>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Closes the intake and the flushers when the writer thread ends, by a panic too: appends made
/// after that fail with `Error::Closed` instead of waiting forever, and the flushers end.
struct WriterExit {
    intake: Arc<Intake>,
    flushers: Arc<Flushers>,
    stats: Arc<LogWriterStats>,
    path: PathBuf,
}

impl Drop for WriterExit {
    fn drop(&mut self) {
        for request in self.intake.close_and_take() {
            if request.events() > 0 {
                self.stats.append_failed();
            }
            request.fail(&self.path);
        }
        self.flushers.close();
    }
}

impl Drop for WriterThread {
    fn drop(&mut self) {
        self.intake.close();
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            if thread.join().is_err() {
                tracing::error!(path = %self.path.display(), "the event log writer thread panicked");
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
        let unflushed_groups = Arc::new(AtomicUsize::new(0));
        let stats = Arc::new(LogWriterStats::default());
        let flushes_in_flight = options.flushes_in_flight.max(1);
        let intake = Arc::new(Intake::default());
        let flushers = Arc::new(Flushers::new(
            Arc::clone(&shared),
            Arc::clone(&failed),
            Arc::clone(&unflushed_groups),
            Arc::clone(&stats),
            Arc::clone(&intake),
        ));
        let flusher_threads = (0..flushes_in_flight)
            .map(|n| {
                let flushers = Arc::clone(&flushers);
                std::thread::Builder::new()
                    .name(format!("whirl-log-flusher-{n}"))
                    .spawn(move || flushers.run())
                    .map_err(Error::io("start the log flusher threads for", &path))
            })
            .collect::<Result<Vec<_>>>()
            // The flushers already started end at once.
            .inspect_err(|_| flushers.close())?;
        let writer = Writer {
            shared: Arc::clone(&shared),
            clock: Arc::clone(&options.clock),
            chain: ChainEnd::from_head(head),
            max_batch_events: options.max_batch_events.max(1),
            flushes_in_flight,
            failed,
            flushes: Arc::clone(&flushers),
            unflushed_groups,
            stats: Arc::clone(&stats),
        };
        let exit = WriterExit {
            intake: Arc::clone(&intake),
            flushers: Arc::clone(&flushers),
            stats: Arc::clone(&stats),
            path: path.clone(),
        };
        let closer = Arc::clone(&flushers);
        let thread = std::thread::Builder::new()
            .name("whirl-log-writer".into())
            .spawn(move || {
                writer.run(&exit.intake);
                // The writer is gone: the flushers end after the last flush.
                drop(exit);
                for flusher in flusher_threads {
                    if flusher.join().is_err() {
                        tracing::error!("an event log flusher thread panicked");
                    }
                }
            })
            .map_err(Error::io("start the log writer thread for", &path))
            .inspect_err(|_| {
                intake.close();
                closer.close();
            })?;
        tracing::info!(path = %path.display(), generation, head_seq = head.map_or(0, |h| h.seq), "event log open");
        Ok(Self {
            shared,
            writer: Arc::new(WriterThread {
                path: Arc::new(path),
                intake,
                thread: Mutex::new(Some(thread)),
            }),
            stats,
        })
    }

    /// What the writer has done: appends, records, groups, append and flush latencies.
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
        self.writer.intake.push(request)
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
    /// Hands an append to the writer thread; if it is gone, answers `reply` with the error.
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
        let (reply, ticket) = AppendTicket::channel(Arc::clone(&self.writer.path));
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
