//! The single writer thread of a sled log, with group commit: it takes every request pending on
//! its channel, gives the events seqs and chained hashes, applies them in one sled batch, flushes
//! once, publishes the new head and only then acknowledges every waiting append.

use super::retention::{self, RetentionReport};
use super::shared::SledLogShared;
use super::ticket::ReplySender;
use super::{Clock, Receipt};
use crate::envelope::{self, EnvelopeHeader, RecordHash};
use crate::error::{Error, Result};
use crate::event::{encode_payload, Event, CURRENT_SCHEMA_VERSION};
use std::sync::mpsc;
use std::sync::{Arc, PoisonError};
use std::time::Instant;
use tokio::sync::oneshot;

/// A request to the writer thread.
pub(crate) enum WriterRequest {
    Append { events: Vec<Event>, reply: ReplySender },
    Retain { cutoff_ms: u64, reply: oneshot::Sender<Result<RetentionReport>> },
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
            Some(receipt) => Self { seq: receipt.seq, hash: receipt.hash, time_ms: receipt.time_ms },
            None => Self { seq: 0, hash: RecordHash::GENESIS, time_ms: 0 },
        }
    }

    /// Encodes `payload` as the next record; times never go backwards along the chain.
    pub(crate) fn next_record(&mut self, now_ms: u64, schema_version: u16, payload: &[u8]) -> (Vec<u8>, Receipt) {
        self.seq += 1;
        self.time_ms = self.time_ms.max(now_ms);
        let header = EnvelopeHeader { seq: self.seq, time_ms: self.time_ms, schema_version, prev_hash: self.hash };
        let record = envelope::encode(&header, payload);
        self.hash = RecordHash::of(&record);
        (record, Receipt { seq: self.seq, time_ms: self.time_ms, hash: self.hash })
    }
}

pub(crate) struct Writer {
    pub(crate) shared: Arc<SledLogShared>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) chain: ChainEnd,
    pub(crate) max_batch_events: usize,
    pub(crate) failed: Option<String>,
}

struct PendingAppend {
    reply: ReplySender,
    receipts: Vec<Receipt>,
}

impl Writer {
    /// Runs until every sender of the channel is gone.
    pub(crate) fn run(mut self, requests: mpsc::Receiver<WriterRequest>) {
        while let Ok(first) = requests.recv() {
            let mut group = vec![first];
            let mut events = group_events(&group);
            while events < self.max_batch_events {
                match requests.try_recv() {
                    Ok(request) => {
                        events += request_events(&request);
                        group.push(request);
                    }
                    Err(_) => break,
                }
            }
            self.handle_group(group);
        }
        tracing::debug!(path = %self.shared.path.display(), "event log writer stopped");
    }

    fn handle_group(&mut self, group: Vec<WriterRequest>) {
        let mut appends = Vec::new();
        for request in group {
            match request {
                WriterRequest::Append { events, reply } => appends.push((events, reply)),
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
        self.failed.as_ref().map(|reason| Error::WriterFailed {
            path: self.shared.path.clone(),
            reason: reason.clone(),
        })
    }

    /// One group commit: encode, one batch, one flush, then acknowledge.
    fn commit(&mut self, appends: Vec<(Vec<Event>, ReplySender)>) {
        if appends.is_empty() {
            return;
        }
        if let Some(error) = self.fail_reason() {
            for (_, reply) in appends {
                let _ = reply.send(Err(Error::WriterFailed {
                    path: self.shared.path.clone(),
                    reason: error.to_string(),
                }));
            }
            return;
        }
        let started = Instant::now();
        let now_ms = self.clock.now_ms();
        let mut batch = sled::Batch::default();
        let mut chain = self.chain;
        let mut pending = Vec::with_capacity(appends.len());
        let mut record_count = 0usize;
        for (events, reply) in appends {
            match encode_all(&events) {
                Ok(payloads) => {
                    let mut receipts = Vec::with_capacity(payloads.len());
                    for payload in payloads {
                        let (record, receipt) = chain.next_record(now_ms, CURRENT_SCHEMA_VERSION, &payload);
                        batch.insert(&receipt.seq.to_be_bytes(), record);
                        receipts.push(receipt);
                    }
                    record_count += receipts.len();
                    pending.push(PendingAppend { reply, receipts });
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
            }
        }
        if record_count == 0 {
            for append in pending {
                let _ = append.reply.send(Ok(append.receipts));
            }
            return;
        }
        let written = {
            let current = self.shared.current.read().unwrap_or_else(PoisonError::into_inner);
            current.tree.apply_batch(batch).map_err(Error::storage("append to the log", &self.shared.path))
        }
        .and_then(|()| self.shared.db.flush().map(|_| ()).map_err(Error::storage("flush the log", &self.shared.path)));
        match written {
            Ok(()) => {
                self.chain = chain;
                self.shared.head.publish(Receipt { seq: chain.seq, time_ms: chain.time_ms, hash: chain.hash });
                tracing::trace!(
                    path = %self.shared.path.display(),
                    records = record_count,
                    appends = pending.len(),
                    head_seq = chain.seq,
                    micros = started.elapsed().as_micros() as u64,
                    "group commit"
                );
                for append in pending {
                    let _ = append.reply.send(Ok(append.receipts));
                }
            }
            Err(error) => {
                tracing::error!(path = %self.shared.path.display(), %error, "group commit failed; the log takes no more appends");
                self.failed = Some(error.to_string());
                for append in pending {
                    let _ = append.reply.send(Err(Error::WriterFailed {
                        path: self.shared.path.clone(),
                        reason: error.to_string(),
                    }));
                }
            }
        }
    }

    fn retain(&mut self, cutoff_ms: u64) -> Result<RetentionReport> {
        if let Some(error) = self.fail_reason() {
            return Err(error);
        }
        let now_ms = self.clock.now_ms();
        let (report, chain) = retention::rewrite_generation(&self.shared, self.chain, cutoff_ms, now_ms)?;
        self.chain = chain;
        if report.snapshot_seq.is_some() {
            self.shared.head.publish(Receipt { seq: chain.seq, time_ms: chain.time_ms, hash: chain.hash });
        }
        Ok(report)
    }
}

fn encode_all(events: &[Event]) -> Result<Vec<Vec<u8>>> {
    events
        .iter()
        .map(|event| {
            encode_payload(event).map_err(|source| Error::Encode { what: format!("event {}", event.name()), source })
        })
        .collect()
}

fn request_events(request: &WriterRequest) -> usize {
    match request {
        WriterRequest::Append { events, .. } => events.len(),
        WriterRequest::Retain { .. } => 0,
    }
}

fn group_events(group: &[WriterRequest]) -> usize {
    group.iter().map(request_events).sum()
}
