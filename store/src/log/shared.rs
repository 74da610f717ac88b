//! `SledLogShared`: what the writer thread and the readers of a sled log share: the database, the
//! current generation tree and the committed head.

use super::frame;
use super::head::HeadSignal;
use super::record::{decode_entity_event, decode_event, decode_record, key_of_seq, seq_of_key};
use super::subscription::CommittedRecords;
use super::{Committed, CommittedEvent};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// The current generation and its tree.
pub(crate) struct CurrentGeneration {
    pub(crate) generation: u64,
    pub(crate) tree: sled::Tree,
}

pub(crate) struct SledLogShared {
    pub(crate) path: PathBuf,
    pub(crate) db: sled::Db,
    pub(crate) current: RwLock<CurrentGeneration>,
    pub(crate) head: HeadSignal,
}

impl SledLogShared {
    pub(crate) fn generation(&self) -> u64 {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .generation
    }
}

impl SledLogShared {
    /// Up to `max` durable records from seq `from` on, each checked and decoded by `decode`.
    fn read_decoded<T>(
        &self,
        from: u64,
        max: usize,
        decode: impl Fn(&Path, u64, &[u8]) -> Result<T>,
    ) -> Result<Vec<T>> {
        let head = self.head.seq();
        if from > head || max == 0 {
            return Ok(Vec::new());
        }
        // Held while reading so retention cannot drop the tree under the reader.
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        let mut records = Vec::with_capacity(max.min(4096));
        // The frame holding `from` starts at or before it.
        let start = match current.tree.range(..=key_of_seq(from)).next_back() {
            Some(entry) => entry.map_err(Error::storage("read the log", &self.path))?.0,
            None => sled::IVec::from(&key_of_seq(from)),
        };
        'frames: for entry in current.tree.range(start..) {
            let (key, frame) = entry.map_err(Error::storage("read the log", &self.path))?;
            let first_seq = seq_of_key(&self.path, &key)?;
            if first_seq > head {
                break;
            }
            for found in frame::records(first_seq, &frame) {
                let decoded = match found {
                    Ok((seq, _)) if seq < from => continue,
                    Ok((seq, _)) if seq > head => break 'frames,
                    Ok((seq, bytes)) => decode(&self.path, seq, bytes),
                    Err((seq, reason)) => Err(Error::CorruptRecord {
                        path: self.path.clone(),
                        seq,
                        reason,
                    }),
                };
                match decoded {
                    Ok(record) => records.push(record),
                    // Deliver the good records first; the next read starts at the bad one and fails.
                    Err(_) if !records.is_empty() => break 'frames,
                    Err(error) => return Err(error),
                }
                if records.len() >= max {
                    break 'frames;
                }
            }
        }
        Ok(records)
    }
}

impl CommittedRecords for SledLogShared {
    fn head_seq(&self) -> u64 {
        self.head.seq()
    }

    fn read_committed(&self, from: u64, max: usize) -> Result<Vec<Committed>> {
        self.read_decoded(from, max, decode_record)
    }

    fn read_events(&self, from: u64, max: usize) -> Result<Vec<CommittedEvent>> {
        self.read_decoded(from, max, decode_event)
    }

    fn read_entity_events(
        &self,
        from: u64,
        max: usize,
    ) -> Result<(Vec<CommittedEvent>, Option<u64>)> {
        let read = self.read_decoded(from, max, decode_entity_event)?;
        let last = read.last().map(|(seq, _)| *seq);
        Ok((
            read.into_iter().filter_map(|(_, event)| event).collect(),
            last,
        ))
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
