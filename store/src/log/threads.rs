//! The log's threads ([`LogThreads`]): each takes the next group of appends from the intake,
//! applies it with the [`Writer`] (one thread at a time, groups in the order they were taken),
//! then flushes sled once for every group queued so far, publishes the new head and answers the
//! appends. With two threads, a
//! group applied while a flush runs is flushed beside it instead of after it (sled writes and syncs
//! each sealed buffer on the thread that flushes it), so an append waits for about one flush, not
//! two; acknowledgements still leave in the order the groups were applied, through [`AckOrder`].
//! The thread that applies a group flushes it itself: an append wakes one thread, not a writer
//! that then wakes a flusher.

use super::intake::Intake;
use super::shared::SledLogShared;
use super::stats::LogWriterStats;
use super::ticket::ReplySender;
use super::writer::{ChainEnd, Writer};
use super::Receipt;
use crate::error::Error;
use std::collections::BTreeMap;
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

/// An append applied to the tree, waiting for a flush to cover it.
pub(crate) struct PendingAppend {
    pub(crate) reply: ReplySender,
    pub(crate) receipts: Vec<Receipt>,
    /// When the append was handed to the log (for the append latency).
    pub(crate) enqueued: Instant,
}

/// Work for a flush.
pub(crate) enum FlushJob {
    /// Appends applied to the tree, to acknowledge once a flush covers them; `head` is the end of
    /// the chain after them.
    Group {
        appends: Vec<PendingAppend>,
        head: ChainEnd,
        records: usize,
        /// The last record of the group that is not an activation's, if any.
        last_entity_seq: Option<u64>,
    },
    /// Answered once every earlier group is flushed and acknowledged.
    Barrier(mpsc::Sender<()>),
}

/// What the threads of one log share besides the writer.
pub(crate) struct LogThreads {
    shared: Arc<SledLogShared>,
    /// Set when a write or flush failed: the log takes no more appends.
    failed: Arc<Mutex<Option<String>>>,
    stats: Arc<LogWriterStats>,
    /// Groups applied and not yet taken by a flush, in the order they were applied.
    jobs: Mutex<JobQueue>,
    acks: Mutex<AckOrder<Vec<FlushJob>>>,
    /// Signalled (with the writer's lock) when a group is applied, for a thread holding the
    /// next group's number.
    turn: Condvar,
}

/// A batch a thread took for its flush. Acknowledged when the flush returns; if the thread
/// unwinds out of the flush instead (a panic), dropping it fails the batch in its turn, so that
/// the appends after it are answered instead of waiting forever for its number.
struct TakenBatch<'a> {
    threads: &'a LogThreads,
    number: u64,
    batch: Option<Vec<FlushJob>>,
}

impl TakenBatch<'_> {
    fn jobs(&self) -> &[FlushJob] {
        self.batch.as_deref().unwrap_or_default()
    }

    fn acknowledge(mut self, outcome: Result<(), String>) {
        if let Some(batch) = self.batch.take() {
            self.threads.acknowledge(self.number, batch, outcome);
        }
    }
}

impl Drop for TakenBatch<'_> {
    fn drop(&mut self) {
        if let Some(batch) = self.batch.take() {
            let reason = "an event log thread panicked while flushing";
            *self
                .threads
                .failed
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(reason.to_owned());
            self.threads
                .acknowledge(self.number, batch, Err(reason.to_owned()));
        }
    }
}

/// Applied groups, taken in batches numbered in the order they were taken.
#[derive(Default)]
struct JobQueue {
    jobs: Vec<FlushJob>,
    taken: u64,
}

/// Flushed batches waiting for the earlier ones, so that heads are published and appends answered
/// in log order whichever flush returns first.
struct AckOrder<B> {
    next: u64,
    flushed: BTreeMap<u64, (B, Result<(), String>)>,
    /// A flush failed: nothing after it is durable either (recovery stops at the gap).
    failure: Option<String>,
}

impl<B> Default for AckOrder<B> {
    fn default() -> Self {
        Self {
            next: 0,
            flushed: BTreeMap::new(),
            failure: None,
        }
    }
}

impl<B> AckOrder<B> {
    /// Batch `number` is flushed (or failed): the batches now ready, in order, each with the
    /// outcome to report (a failure also fails every batch after it).
    fn complete(
        &mut self,
        number: u64,
        batch: B,
        outcome: Result<(), String>,
    ) -> Vec<(B, Result<(), String>)> {
        self.flushed.insert(number, (batch, outcome));
        let mut ready = Vec::new();
        while let Some((batch, outcome)) = self.flushed.remove(&self.next) {
            self.next += 1;
            if let Err(error) = outcome {
                self.failure.get_or_insert(error);
            }
            let outcome = match &self.failure {
                Some(error) => Err(error.clone()),
                None => Ok(()),
            };
            ready.push((batch, outcome));
        }
        ready
    }
}

impl LogThreads {
    pub(crate) fn new(
        shared: Arc<SledLogShared>,
        failed: Arc<Mutex<Option<String>>>,
        stats: Arc<LogWriterStats>,
    ) -> Self {
        Self {
            shared,
            failed,
            stats,
            jobs: Mutex::new(JobQueue::default()),
            acks: Mutex::new(AckOrder::default()),
            turn: Condvar::new(),
        }
    }

    /// Queues an applied group (or a barrier) for the next flush. Called with the writer held, so
    /// jobs queue in the order their groups were applied.
    pub(crate) fn push(&self, job: FlushJob) {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .jobs
            .push(job);
    }

    /// One log thread: until the intake is closed and empty, takes the next group, applies it
    /// with the writer in the order groups were taken, then flushes whatever is queued (its own
    /// group, unless another thread's flush, which started after the group was applied, took it
    /// first). The intake is waited on without the writer, so an append wakes exactly one thread.
    pub(crate) fn run(&self, writer: &Mutex<Writer>, intake: &Intake, max_events: usize) {
        while let Some((number, group)) = intake.next_group(max_events) {
            let mut writer = writer.lock().unwrap_or_else(PoisonError::into_inner);
            // Another thread took the group before this one and has not applied it yet (rare).
            while writer.next_group != number && !self.has_failed() {
                writer.turn_waiters += 1;
                writer = self
                    .turn
                    .wait(writer)
                    .unwrap_or_else(PoisonError::into_inner);
                writer.turn_waiters -= 1;
            }
            writer.handle_group(group);
            // `max`: once the log has failed, groups may go through out of turn (they all fail).
            writer.next_group = writer.next_group.max(number + 1);
            let wake = writer.turn_waiters > 0;
            drop(writer);
            if wake {
                self.turn.notify_all();
            }
            self.flush_queued();
        }
    }

    fn has_failed(&self) -> bool {
        self.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Flushes and acknowledges every job queued now, if any.
    pub(crate) fn flush_queued(&self) {
        if let Some((number, batch)) = self.take() {
            let taken = TakenBatch {
                threads: self,
                number,
                batch: Some(batch),
            };
            let outcome = self.flush(taken.jobs());
            taken.acknowledge(outcome);
        }
    }

    /// A log thread panicked: whatever is queued is answered with `reason`, in its turn.
    pub(crate) fn fail_queued(&self, reason: &str) {
        *self.failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason.to_owned());
        // A thread waiting for the dead thread's group to be applied stops waiting (its group
        // fails, as the log has failed).
        self.turn.notify_all();
        if let Some((number, batch)) = self.take() {
            self.acknowledge(number, batch, Err(reason.to_owned()));
        }
    }

    /// Every job queued now, with the batch's number; `None` when nothing is queued.
    fn take(&self) -> Option<(u64, Vec<FlushJob>)> {
        let mut queue = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.jobs.is_empty() {
            return None;
        }
        let batch = std::mem::take(&mut queue.jobs);
        let number = queue.taken;
        queue.taken += 1;
        Some((number, batch))
    }

    /// One sled flush covering every group of `batch` (and anything applied before it).
    fn flush(&self, batch: &[FlushJob]) -> Result<(), String> {
        if !batch
            .iter()
            .any(|job| matches!(job, FlushJob::Group { .. }))
        {
            return Ok(());
        }
        let started = Instant::now();
        let flushed = self
            .shared
            .db
            .flush()
            .map(|_| ())
            .map_err(|e| Error::storage("flush the log", &self.shared.path)(e).to_string());
        self.stats.flush_latency.observe(started.elapsed());
        if let Err(error) = &flushed {
            tracing::error!(path = %self.shared.path.display(), %error, "flush failed; the log takes no more appends");
            *self.failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
        }
        flushed
    }

    /// Queues `batch` for acknowledgement and acknowledges every batch whose turn has come. The
    /// answers go out under the lock, so two log threads never answer out of order.
    fn acknowledge(&self, number: u64, batch: Vec<FlushJob>, outcome: Result<(), String>) {
        let mut order = self.acks.lock().unwrap_or_else(PoisonError::into_inner);
        for (batch, outcome) in order.complete(number, batch, outcome) {
            self.answer(batch, outcome.as_ref().map_err(String::as_str).copied());
        }
    }

    /// Publishes the heads of a flushed batch's groups and answers their appends.
    fn answer(&self, batch: Vec<FlushJob>, outcome: Result<(), &str>) {
        let mut records = 0;
        for job in batch {
            match job {
                FlushJob::Group {
                    appends,
                    head,
                    records: count,
                    last_entity_seq,
                } => {
                    records += count;
                    match outcome {
                        Ok(()) => {
                            self.shared.head.publish_group(
                                Receipt {
                                    seq: head.seq,
                                    time_ms: head.time_ms,
                                    hash: head.hash,
                                },
                                last_entity_seq,
                            );
                            self.stats.group_written(count);
                            for append in appends {
                                self.stats.append_acknowledged(append.enqueued.elapsed());
                                append.reply.send(Ok(append.receipts));
                            }
                        }
                        Err(reason) => {
                            for append in appends {
                                self.stats.append_failed();
                                append.reply.send(Err(Error::WriterFailed {
                                    path: self.shared.path.clone(),
                                    reason: reason.to_owned(),
                                }));
                            }
                        }
                    }
                }
                FlushJob::Barrier(done) => {
                    let _ = done.send(());
                }
            }
        }
        tracing::trace!(path = %self.shared.path.display(), records, "acknowledged");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::log::head::HeadSignal;
    use crate::log::shared::CurrentGeneration;
    use crate::log::ticket::AppendTicket;
    use std::path::PathBuf;
    use std::sync::RwLock;

    fn log_threads(dir: &std::path::Path) -> LogThreads {
        let db = sled::Config::new().path(dir).open().unwrap();
        let tree = db.open_tree("log.1").unwrap();
        let shared = Arc::new(SledLogShared {
            path: dir.to_path_buf(),
            db,
            current: RwLock::new(CurrentGeneration {
                generation: 1,
                tree,
            }),
            head: HeadSignal::new(None),
        });
        LogThreads::new(
            shared,
            Arc::new(Mutex::new(None)),
            Arc::new(LogWriterStats::default()),
        )
    }

    fn group(reply: ReplySender, seq: u64) -> FlushJob {
        let receipt = Receipt {
            seq,
            time_ms: 0,
            hash: crate::envelope::RecordHash([0; 32]),
        };
        FlushJob::Group {
            appends: vec![PendingAppend {
                reply,
                receipts: vec![receipt],
                enqueued: Instant::now(),
            }],
            head: ChainEnd::from_head(Some(receipt)),
            records: 1,
            last_entity_seq: None,
        }
    }

    #[test]
    fn a_batch_dropped_without_its_acknowledgement_fails_in_its_turn_and_fails_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let threads = log_threads(dir.path());
        let path = Arc::new(PathBuf::from("log"));
        let (first_reply, first) = AppendTicket::channel(Arc::clone(&path));
        let (second_reply, second) = AppendTicket::channel(path);
        threads.push(group(first_reply, 1));
        let (number, batch) = threads.take().unwrap();
        threads.push(group(second_reply, 2));
        // The thread that took the first batch unwinds out of its flush.
        drop(TakenBatch {
            threads: &threads,
            number,
            batch: Some(batch),
        });
        assert!(first.wait().is_err());
        assert!(threads.has_failed());
        // The next batch is not held back by the lost one; it fails too (the log has failed).
        threads.flush_queued();
        assert!(second.wait().is_err());
    }

    #[test]
    fn a_flushed_batch_is_acknowledged_once() {
        let dir = tempfile::tempdir().unwrap();
        let threads = log_threads(dir.path());
        let (reply, ticket) = AppendTicket::channel(Arc::new(PathBuf::from("log")));
        threads.push(group(reply, 1));
        threads.flush_queued();
        assert_eq!(ticket.wait().unwrap()[0].seq, 1);
        assert!(!threads.has_failed());
    }

    #[test]
    fn batches_are_released_in_order_whichever_flush_returns_first() {
        let mut order = AckOrder::default();
        assert!(order.complete(1, "second", Ok(())).is_empty());
        assert!(order.complete(2, "third", Ok(())).is_empty());
        let ready = order.complete(0, "first", Ok(()));
        assert_eq!(
            ready,
            vec![("first", Ok(())), ("second", Ok(())), ("third", Ok(()))]
        );
        assert_eq!(
            order.complete(3, "fourth", Ok(())),
            vec![("fourth", Ok(()))]
        );
    }

    #[test]
    fn a_failed_flush_fails_every_later_batch() {
        let mut order = AckOrder::default();
        assert!(order.complete(1, "after", Ok(())).is_empty());
        let ready = order.complete(0, "failed", Err("disk full".to_owned()));
        assert_eq!(
            ready,
            vec![
                ("failed", Err("disk full".to_owned())),
                ("after", Err("disk full".to_owned()))
            ]
        );
        assert_eq!(
            order.complete(2, "later", Ok(())),
            vec![("later", Err("disk full".to_owned()))]
        );
    }
}
