//! The writer of a sled log, with pipelined group commit: the state one log thread at a time holds
//! ([`super::threads`]) to apply a group. It gives the group's events seqs and chained hashes and
//! applies them in one sled insert, then queues the group for a flush; the thread that applied it
//! flushes once for every group queued so far, publishes the new head and only then acknowledges
//! those appends. While a flush runs, another thread takes, applies and flushes the next group
//! beside it, so the disk and the CPU work at the same time; once every thread is busy, appends
//! gather in the intake into a bigger group.

use super::frame;
use super::retention::{self, RetentionReport};
use super::shared::SledLogShared;
use super::stats::LogWriterStats;
use super::threads::{FlushJob, LogThreads, PendingAppend};
use super::ticket::ReplySender;
use super::{Clock, Receipt};
use crate::envelope::{self, EnvelopeHeader, RecordHash};
use crate::error::{Error, Result};
use crate::event::{encode_payload, Event, CURRENT_SCHEMA_VERSION};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;
use tokio::sync::oneshot;

/// A request to the writer thread.
pub(crate) enum WriterRequest {
    Append {
        events: Vec<Event>,
        reply: ReplySender,
        /// When the append was handed to the writer (for the append latency).
        enqueued: Instant,
    },
    Retain {
        cutoff_ms: u64,
        reply: oneshot::Sender<Result<RetentionReport>>,
    },
}

/// The end of the chain as the writer knows it (durable or about to be).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChainEnd {
    pub(crate) seq: u64,
    pub(crate) hash: RecordHash,
    pub(crate) time_ms: u64,
}

impl ChainEnd {
    pub(crate) fn from_head(head: Option<Receipt>) -> Self {
        match head {
            Some(receipt) => Self {
                seq: receipt.seq,
                hash: receipt.hash,
                time_ms: receipt.time_ms,
            },
            None => Self {
                seq: 0,
                hash: RecordHash::GENESIS,
                time_ms: 0,
            },
        }
    }

    /// Encodes `payload` as the next record; times never go backwards along the chain.
    pub(crate) fn next_record(
        &mut self,
        now_ms: u64,
        schema_version: u16,
        payload: &[u8],
    ) -> (Vec<u8>, Receipt) {
        self.seq += 1;
        self.time_ms = self.time_ms.max(now_ms);
        let header = EnvelopeHeader {
            seq: self.seq,
            time_ms: self.time_ms,
            schema_version,
            prev_hash: self.hash,
        };
        let record = envelope::encode(&header, payload);
        self.hash = RecordHash::of(&record);
        (
            record,
            Receipt {
                seq: self.seq,
                time_ms: self.time_ms,
                hash: self.hash,
            },
        )
    }
}

pub(crate) struct Writer {
    pub(crate) shared: Arc<SledLogShared>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) chain: ChainEnd,
    pub(crate) failed: Arc<Mutex<Option<String>>>,
    pub(crate) threads: Arc<LogThreads>,
    pub(crate) stats: Arc<LogWriterStats>,
    /// The number of the next group to apply (groups are numbered as the intake hands them out).
    pub(crate) next_group: u64,
    /// Threads waiting for their group's turn.
    pub(crate) turn_waiters: usize,
}

impl Writer {
    /// Applies a group taken from the intake (a retention runs in its turn, between appends).
    pub(crate) fn handle_group(&mut self, group: Vec<WriterRequest>) {
        let mut appends = Vec::new();
        for request in group {
            match request {
                WriterRequest::Append {
                    events,
                    reply,
                    enqueued,
                } => appends.push((events, reply, enqueued)),
                WriterRequest::Retain { cutoff_ms, reply } => {
                    self.commit(std::mem::take(&mut appends));
                    let outcome = self.retain(cutoff_ms);
                    let _ = reply.send(outcome);
                }
            }
        }
        self.commit(appends);
    }

    fn fail_reason(&self) -> Option<Error> {
        self.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|reason| Error::WriterFailed {
                path: self.shared.path.clone(),
                reason: reason.clone(),
            })
    }

    /// Waits until every group applied so far is flushed and acknowledged: flushes what is still
    /// queued itself, then waits for the flushes other threads have running.
    fn drain_flushes(&self) {
        let (done, wait) = mpsc::channel();
        self.threads.push(FlushJob::Barrier(done));
        self.threads.flush_queued();
        let _ = wait.recv();
    }

    /// One group: encode, apply in one batch, queue it for a flush (which acknowledges).
    fn commit(&mut self, appends: Vec<(Vec<Event>, ReplySender, Instant)>) {
        if appends.is_empty() {
            return;
        }
        if let Some(error) = self.fail_reason() {
            for (_, reply, _) in appends {
                self.stats.append_failed();
                reply.send(Err(Error::WriterFailed {
                    path: self.shared.path.clone(),
                    reason: error.to_string(),
                }));
            }
            return;
        }
        let now_ms = self.clock.now_ms();
        let mut frames = FrameBatch::default();
        let mut chain = self.chain;
        let mut pending = Vec::with_capacity(appends.len());
        let mut record_count = 0usize;
        let mut last_entity_seq = None;
        for (events, reply, enqueued) in appends {
            match encode_all(&events) {
                Ok(payloads) => {
                    let mut receipts = Vec::with_capacity(payloads.len());
                    for (payload, event) in payloads.into_iter().zip(&events) {
                        let (record, receipt) =
                            chain.next_record(now_ms, CURRENT_SCHEMA_VERSION, &payload);
                        frames.push(receipt.seq, &record);
                        if !event.is_activation() {
                            last_entity_seq = Some(receipt.seq);
                        }
                        receipts.push(receipt);
                    }
                    record_count += receipts.len();
                    pending.push(PendingAppend {
                        reply,
                        receipts,
                        enqueued,
                    });
                }
                Err(error) => {
                    self.stats.append_failed();
                    reply.send(Err(error));
                }
            }
        }
        if record_count == 0 {
            for append in pending {
                append.reply.send(Ok(append.receipts));
            }
            return;
        }
        let applied = {
            let current = self
                .shared
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            frames
                .write_to(&current.tree)
                .map_err(Error::storage("append to the log", &self.shared.path))
        };
        match applied {
            Ok(()) => {
                self.chain = chain;
                let job = FlushJob::Group {
                    appends: pending,
                    head: chain,
                    records: record_count,
                    last_entity_seq,
                };
                self.threads.push(job);
            }
            Err(error) => {
                tracing::error!(path = %self.shared.path.display(), %error, "append failed; the log takes no more appends");
                *self.failed.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(error.to_string());
                for append in pending {
                    self.stats.append_failed();
                    append.reply.send(Err(Error::WriterFailed {
                        path: self.shared.path.clone(),
                        reason: error.to_string(),
                    }));
                }
            }
        }
    }

    fn retain(&mut self, cutoff_ms: u64) -> Result<RetentionReport> {
        self.drain_flushes();
        if let Some(error) = self.fail_reason() {
            return Err(error);
        }
        let now_ms = self.clock.now_ms();
        let (report, chain) =
            retention::rewrite_generation(&self.shared, self.chain, cutoff_ms, now_ms)?;
        self.chain = chain;
        if report.snapshot_seq.is_some() {
            self.shared.head.publish(Receipt {
                seq: chain.seq,
                time_ms: chain.time_ms,
                hash: chain.hash,
            });
        }
        Ok(report)
    }
}

/// Records gathered into frames of at most `frame::MAX_RECORDS`, each keyed by its first seq.
#[derive(Default)]
pub(crate) struct FrameBatch {
    batch: sled::Batch,
    /// Frames closed into `batch` so far.
    closed: usize,
    current: Option<(u64, Vec<u8>, usize)>,
}

impl FrameBatch {
    pub(crate) fn push(&mut self, seq: u64, record: &[u8]) {
        if let Some((_, _, count)) = &self.current {
            if *count >= frame::MAX_RECORDS {
                self.close();
            }
        }
        let (_, bytes, count) = self
            .current
            .get_or_insert_with(|| (seq, Vec::with_capacity(64 * 1024), 0));
        frame::push_record(bytes, record);
        *count += 1;
    }

    fn close(&mut self) {
        if let Some((first_seq, bytes, _)) = self.current.take() {
            self.batch.insert(&first_seq.to_be_bytes(), bytes);
            self.closed += 1;
        }
    }

    /// Writes the frames to `tree` atomically. A group of one frame (every group of up to
    /// `frame::MAX_RECORDS` records) is one `insert`, which sled applies atomically by itself;
    /// only several frames need a `sled::Batch`, and sled seals its I/O buffer for every batch
    /// (one more write and sync of the file per group than the flush that follows).
    pub(crate) fn write_to(mut self, tree: &sled::Tree) -> sled::Result<()> {
        if self.closed == 0 {
            if let Some((first_seq, bytes, _)) = self.current.take() {
                tree.insert(first_seq.to_be_bytes(), bytes)?;
            }
            return Ok(());
        }
        tree.apply_batch(self.into_batch())
    }

    pub(crate) fn into_batch(mut self) -> sled::Batch {
        self.close();
        self.batch
    }
}

fn encode_all(events: &[Event]) -> Result<Vec<Vec<u8>>> {
    events
        .iter()
        .map(|event| {
            encode_payload(event).map_err(|source| Error::Encode {
                what: format!("event {}", event.name()),
                source,
            })
        })
        .collect()
}

impl WriterRequest {
    /// Answers a request the writer will never take: the log at `path` is closed.
    pub(crate) fn fail(self, path: &std::path::Path) {
        let closed = || Error::Closed {
            path: path.to_path_buf(),
        };
        match self {
            WriterRequest::Append { reply, .. } => reply.send(Err(closed())),
            WriterRequest::Retain { reply, .. } => {
                let _ = reply.send(Err(closed()));
            }
        }
    }

    /// The events an append carries (none for other requests).
    pub(crate) fn events(&self) -> usize {
        match self {
            WriterRequest::Append { events, .. } => events.len(),
            WriterRequest::Retain { .. } => 0,
        }
    }
}
