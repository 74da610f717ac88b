//! What the log hands back: receipts for appends and committed records for readers.

use crate::envelope::RecordHash;
use crate::event::Event;

/// The acknowledgement of one appended event: it is durable at this seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub seq: u64,
    pub time_ms: u64,
    pub hash: RecordHash,
}

/// A durable record of the log, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub seq: u64,
    pub time_ms: u64,
    pub schema_version: u16,
    /// This record's hash (blake3 of its bytes).
    pub hash: RecordHash,
    pub event: Event,
}

impl Committed {
    pub fn receipt(&self) -> Receipt {
        Receipt {
            seq: self.seq,
            time_ms: self.time_ms,
            hash: self.hash,
        }
    }
}

/// A durable record's event without the record's hash: what the projections apply (hashing
/// every record is a good part of reading a log, and only audits need the hashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedEvent {
    pub seq: u64,
    pub time_ms: u64,
    pub schema_version: u16,
    pub event: Event,
}

impl From<Committed> for CommittedEvent {
    fn from(record: Committed) -> Self {
        Self {
            seq: record.seq,
            time_ms: record.time_ms,
            schema_version: record.schema_version,
            event: record.event,
        }
    }
}
