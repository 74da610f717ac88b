//! `InMemoryEventLog`: the event log in memory, for the deterministic simulator. Records are
//! encoded exactly as on disk. Its crash model: only flushed records survive `crash()`; appends
//! waiting for a flush fail.

use super::head::HeadSignal;
use super::record::decode_record;
use super::subscription::{CommittedRecords, RecordIter, Subscription};
use super::ticket::{AppendTicket, OnDurable, ReplySender};
use super::writer::ChainEnd;
use super::{Clock, Committed, EventLog, Receipt};
use crate::error::{Error, Result};
use crate::event::{encode_payload, Event, CURRENT_SCHEMA_VERSION};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

/// When appends to an [`InMemoryEventLog`] become durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMode {
    /// Every append is flushed at once.
    Immediate,
    /// Appends wait until [`InMemoryEventLog::flush`] (the simulator decides when flushes happen).
    Manual,
}

/// An event log held in memory.
#[derive(Clone)]
pub struct InMemoryEventLog {
    shared: Arc<MemoryShared>,
}

struct MemoryShared {
    name: Arc<PathBuf>,
    clock: Arc<dyn Clock>,
    mode: CommitMode,
    state: Mutex<MemoryState>,
    head: HeadSignal,
}

struct MemoryState {
    durable: BTreeMap<u64, Vec<u8>>,
    chain: ChainEnd,
    pending: Vec<PendingAppend>,
    crashed: bool,
}

struct PendingAppend {
    records: Vec<(u64, Vec<u8>)>,
    receipts: Vec<Receipt>,
    reply: ReplySender,
}

impl InMemoryEventLog {
    /// An empty log; `name` only appears in errors.
    pub fn new(name: &str, clock: Arc<dyn Clock>, mode: CommitMode) -> Self {
        Self::from_durable(Arc::new(PathBuf::from(name)), clock, mode, BTreeMap::new())
    }

    fn from_durable(
        name: Arc<PathBuf>,
        clock: Arc<dyn Clock>,
        mode: CommitMode,
        durable: BTreeMap<u64, Vec<u8>>,
    ) -> Self {
        let head = durable
            .iter()
            .next_back()
            .and_then(|(seq, bytes)| decode_record(&name, *seq, bytes).ok())
            .map(|committed| committed.receipt());
        let state = MemoryState {
            durable,
            chain: ChainEnd::from_head(head),
            pending: Vec::new(),
            crashed: false,
        };
        Self {
            shared: Arc::new(MemoryShared {
                name,
                clock,
                mode,
                state: Mutex::new(state),
                head: HeadSignal::new(head),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, MemoryState> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes every pending append durable and acknowledges it; returns how many records.
    pub fn flush(&self) -> usize {
        let mut state = self.lock();
        let pending = std::mem::take(&mut state.pending);
        let mut flushed = 0;
        let mut acks = Vec::with_capacity(pending.len());
        for append in pending {
            flushed += append.records.len();
            state.durable.extend(append.records);
            acks.push((append.reply, append.receipts));
        }
        if let Some((seq, bytes)) = state.durable.iter().next_back() {
            if let Ok(committed) = decode_record(&self.shared.name, *seq, bytes) {
                self.shared.head.publish(committed.receipt());
            }
        }
        drop(state);
        for (reply, receipts) in acks {
            reply.send(Ok(receipts));
        }
        flushed
    }

    /// Appends waiting for a flush.
    pub fn pending_appends(&self) -> usize {
        self.lock().pending.len()
    }

    /// Simulates a crash: this instance stops (its pending appends fail) and the returned log
    /// holds only what was flushed.
    pub fn crash(&self) -> InMemoryEventLog {
        let mut state = self.lock();
        state.crashed = true;
        state.pending.clear();
        let durable = state.durable.clone();
        drop(state);
        Self::from_durable(
            Arc::clone(&self.shared.name),
            Arc::clone(&self.shared.clock),
            self.shared.mode,
            durable,
        )
    }

    /// The stored bytes of every durable record (for verification in tests).
    pub fn durable_records(&self) -> Vec<(u64, Vec<u8>)> {
        self.lock()
            .durable
            .iter()
            .map(|(seq, bytes)| (*seq, bytes.clone()))
            .collect()
    }
}

impl InMemoryEventLog {
    /// Encodes and queues an append (flushed at once in `Immediate` mode); errors go to `reply`.
    fn append_with(&self, events: Vec<Event>, reply: ReplySender) {
        let name = Arc::clone(&self.shared.name);
        let mut payloads = Vec::with_capacity(events.len());
        for event in &events {
            match encode_payload(event) {
                Ok(payload) => payloads.push(payload),
                Err(source) => {
                    return reply.send(Err(Error::Encode {
                        what: format!("event {}", event.name()),
                        source,
                    }))
                }
            }
        }
        let mut state = self.lock();
        if state.crashed {
            drop(state);
            return reply.send(Err(Error::Closed {
                path: name.as_ref().clone(),
            }));
        }
        let now_ms = self.shared.clock.now_ms();
        let mut records = Vec::with_capacity(payloads.len());
        let mut receipts = Vec::with_capacity(payloads.len());
        for payload in payloads {
            let (record, receipt) =
                state
                    .chain
                    .next_record(now_ms, CURRENT_SCHEMA_VERSION, &payload);
            records.push((receipt.seq, record));
            receipts.push(receipt);
        }
        state.pending.push(PendingAppend {
            records,
            receipts,
            reply,
        });
        drop(state);
        if self.shared.mode == CommitMode::Immediate {
            self.flush();
        }
    }
}

impl EventLog for InMemoryEventLog {
    fn append(&self, events: Vec<Event>) -> AppendTicket {
        let (reply, ticket) = AppendTicket::channel(Arc::clone(&self.shared.name));
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

impl CommittedRecords for MemoryShared {
    fn head_seq(&self) -> u64 {
        self.head.seq()
    }

    fn read_committed(&self, from: u64, max: usize) -> Result<Vec<Committed>> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .durable
            .range(from..)
            .take(max)
            .map(|(seq, bytes)| decode_record(&self.name, *seq, bytes))
            .collect()
    }

    fn wait_for_head(&self, seq: u64, timeout: Duration) -> u64 {
        self.head.wait_for(seq, timeout)
    }

    fn wait_for_entity_change(&self, seq: u64, timeout: Duration) -> bool {
        self.head.wait_for_entity_change(seq, timeout)
    }

    fn demand(&self, seq: u64) {
        self.head.demand(seq);
    }

    fn wait_for_entity_change_or_demand(&self, seq: u64, applied: u64, timeout: Duration) {
        self.head
            .wait_for_entity_change_or_demand(seq, applied, timeout);
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.head.watch()
    }
}
