//! `Subscription`: committed records in seq order from a starting point, first the stored ones and
//! then new ones as they become durable; blocking and async.

use super::{Committed, CommittedEvent};
use crate::error::Result;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Read access to the durable part of a log, as subscriptions and audits need it.
pub trait CommittedRecords: Send + Sync {
    /// The seq of the last durable record (0 when empty).
    fn head_seq(&self) -> u64;
    /// Up to `max` durable records with seq >= `from`, in order.
    fn read_committed(&self, from: u64, max: usize) -> Result<Vec<Committed>>;
    /// [`CommittedRecords::read_committed`] without the records' hashes.
    fn read_events(&self, from: u64, max: usize) -> Result<Vec<CommittedEvent>> {
        Ok(self
            .read_committed(from, max)?
            .into_iter()
            .map(CommittedEvent::from)
            .collect())
    }
    /// Up to `max` records from `from` on, as [`CommittedRecords::read_events`] reads them, without
    /// the activations' ([`Event::is_activation`](crate::Event::is_activation)); with the seq of
    /// the last record read (`None` when none was).
    fn read_entity_events(
        &self,
        from: u64,
        max: usize,
    ) -> Result<(Vec<CommittedEvent>, Option<u64>)> {
        let events = self.read_events(from, max)?;
        let last = events.last().map(|event| event.seq);
        let entities = events
            .into_iter()
            .filter(|event| !event.event.is_activation())
            .collect();
        Ok((entities, last))
    }
    /// Blocks until the head reaches `seq` or the timeout passes; returns the head seq.
    fn wait_for_head(&self, seq: u64, timeout: Duration) -> u64;
    /// Blocks until a record at or after `seq` that is not an activation's
    /// ([`Event::is_activation`](crate::Event::is_activation)) is durable, or the timeout passes;
    /// true when one is. A log that does not tell them apart waits for any record.
    fn wait_for_entity_change(&self, seq: u64, timeout: Duration) -> bool {
        self.wait_for_head(seq, timeout) >= seq
    }
    /// Tells whoever applies the log to the projections that a reader needs them applied up to
    /// `seq`: it wakes from [`CommittedRecords::wait_for_entity_change_or_demand`].
    fn demand(&self, _seq: u64) {}
    /// Blocks until a record at or after `seq` that is not an activation's is durable, a reader
    /// [demanded](CommittedRecords::demand) a seq beyond `applied`, or the timeout passes.
    fn wait_for_entity_change_or_demand(&self, seq: u64, _applied: u64, timeout: Duration) {
        self.wait_for_entity_change(seq, timeout);
    }
    /// A receiver of head changes, for async waiting.
    fn watch_head(&self) -> watch::Receiver<u64>;
}

/// Committed records in order, starting at a given seq.
pub struct Subscription {
    source: Arc<dyn CommittedRecords>,
    next_seq: u64,
}

impl Subscription {
    pub(crate) fn new(source: Arc<dyn CommittedRecords>, from_seq: u64) -> Self {
        Self {
            source,
            next_seq: from_seq.max(1),
        }
    }

    /// The seq the next record will have at least.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Up to `max` records already durable, without waiting (empty when caught up).
    pub fn try_next_batch(&mut self, max: usize) -> Result<Vec<Committed>> {
        self.try_next_with(|source, from| source.read_committed(from, max), |r| r.seq)
    }

    /// Reads what follows `next_seq` up to the head with `read`, and moves past it.
    fn try_next_with<T>(
        &mut self,
        read: impl FnOnce(&dyn CommittedRecords, u64) -> Result<Vec<T>>,
        seq_of: impl Fn(&T) -> u64,
    ) -> Result<Vec<T>> {
        let head = self.source.head_seq();
        if head < self.next_seq {
            return Ok(Vec::new());
        }
        let batch = read(self.source.as_ref(), self.next_seq)?;
        match batch.last() {
            Some(last) => self.next_seq = seq_of(last) + 1,
            // Records up to the head were dropped by retention: nothing to deliver below it.
            None => self.next_seq = head + 1,
        }
        Ok(batch)
    }

    /// [`Subscription::try_next_batch`] without the records' hashes (see [`CommittedEvent`]).
    pub fn try_next_events(&mut self, max: usize) -> Result<Vec<CommittedEvent>> {
        self.try_next_with(|source, from| source.read_events(from, max), |e| e.seq)
    }

    /// Waits up to `timeout` for at least one record, then returns up to `max` (empty on timeout).
    pub fn next_batch(&mut self, max: usize, timeout: Duration) -> Result<Vec<Committed>> {
        self.source.wait_for_head(self.next_seq, timeout);
        self.try_next_batch(max)
    }

    /// Waits up to `timeout` for a record that is not an activation's
    /// ([`Event::is_activation`](crate::Event::is_activation)), then reads up to `max` records and
    /// returns those that are not activations', without their hashes. For readers that only care
    /// about entities: they sleep through a stream of activation records, then move past them in
    /// bulk without decoding them (the sled log tells them apart by their variant tag).
    pub fn next_entity_events(
        &mut self,
        max: usize,
        timeout: Duration,
    ) -> Result<Vec<CommittedEvent>> {
        self.source.wait_for_entity_change(self.next_seq, timeout);
        self.try_next_entity_events(max)
    }

    /// [`Subscription::next_entity_events`] without waiting: reads up to `max` records already
    /// durable and returns those that are not activations' ([`Subscription::next_seq`] tells how
    /// far it read, since the batch may be empty with records read past).
    pub fn try_next_entity_events(&mut self, max: usize) -> Result<Vec<CommittedEvent>> {
        let head = self.source.head_seq();
        if head < self.next_seq {
            return Ok(Vec::new());
        }
        let (events, last_read) = self.source.read_entity_events(self.next_seq, max)?;
        // None: records up to the head were dropped by retention, nothing to deliver below it.
        self.next_seq = last_read.unwrap_or(head) + 1;
        Ok(events)
    }

    /// [`Subscription::next_batch`] without the records' hashes (see [`CommittedEvent`]).
    pub fn next_events(&mut self, max: usize, timeout: Duration) -> Result<Vec<CommittedEvent>> {
        self.source.wait_for_head(self.next_seq, timeout);
        self.try_next_events(max)
    }

    /// Awaits at least one record, then returns up to `max`. Ends with an empty batch when the
    /// log is closed.
    pub async fn next_batch_async(&mut self, max: usize) -> Result<Vec<Committed>> {
        let mut watch = self.source.watch_head();
        loop {
            let batch = self.try_next_batch(max)?;
            if !batch.is_empty() {
                return Ok(batch);
            }
            if watch.changed().await.is_err() {
                return self.try_next_batch(max);
            }
        }
    }
}

/// Reads committed records lazily, in chunks, from a seq on.
pub struct RecordIter {
    source: Arc<dyn CommittedRecords>,
    next_seq: u64,
    chunk: std::vec::IntoIter<Committed>,
    failed: bool,
}

const CHUNK: usize = 4096;

impl RecordIter {
    pub(crate) fn new(source: Arc<dyn CommittedRecords>, from_seq: u64) -> Self {
        Self {
            source,
            next_seq: from_seq.max(1),
            chunk: Vec::new().into_iter(),
            failed: false,
        }
    }
}

impl Iterator for RecordIter {
    type Item = Result<Committed>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(record) = self.chunk.next() {
            return Some(Ok(record));
        }
        if self.failed {
            return None;
        }
        match self.source.read_committed(self.next_seq, CHUNK) {
            Ok(batch) => {
                let last = batch.last()?.seq;
                self.next_seq = last + 1;
                self.chunk = batch.into_iter();
                self.chunk.next().map(Ok)
            }
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}
