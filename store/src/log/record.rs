//! Decoding one stored record (key + bytes) into a `Committed`, naming the log and seq on failure.

use super::{Committed, CommittedEvent};
use crate::envelope::{self, RecordHash};
use crate::error::{Error, Result};
use crate::event::{decode_payload, PayloadError, CURRENT_SCHEMA_VERSION};
use std::path::Path;

/// The seq a record key holds (keys are big-endian u64).
pub(crate) fn seq_of_key(path: &Path, key: &[u8]) -> Result<u64> {
    let bytes: [u8; 8] = key.try_into().map_err(|_| Error::CorruptRecord {
        path: path.to_path_buf(),
        seq: 0,
        reason: format!("record key is {} bytes, not an 8-byte seq", key.len()),
    })?;
    Ok(u64::from_be_bytes(bytes))
}

/// The key of the record at `seq`.
pub(crate) fn key_of_seq(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// Checks and decodes the record stored under seq `key_seq`.
pub(crate) fn decode_record(path: &Path, key_seq: u64, bytes: &[u8]) -> Result<Committed> {
    let event = decode_event(path, key_seq, bytes)?;
    Ok(Committed {
        seq: event.seq,
        time_ms: event.time_ms,
        schema_version: event.schema_version,
        hash: RecordHash::of(bytes),
        event: event.event,
    })
}

/// Checks (CRC, seq, schema version) and decodes the record stored under seq `key_seq`, without
/// hashing it: what appliers need.
pub(crate) fn decode_event(path: &Path, key_seq: u64, bytes: &[u8]) -> Result<CommittedEvent> {
    let corrupt = |reason: String| Error::CorruptRecord {
        path: path.to_path_buf(),
        seq: key_seq,
        reason,
    };
    let (header, payload) = envelope::decode(bytes).map_err(|fault| corrupt(fault.to_string()))?;
    if header.seq != key_seq {
        return Err(corrupt(format!(
            "stored under seq {key_seq} but the envelope says seq {}",
            header.seq
        )));
    }
    let event = decode_payload(header.schema_version, payload).map_err(|error| match error {
        PayloadError::UnknownVersion { version } => Error::UnknownSchemaVersion {
            path: path.to_path_buf(),
            seq: key_seq,
            version,
            supported: CURRENT_SCHEMA_VERSION,
        },
        other => corrupt(other.to_string()),
    })?;
    Ok(CommittedEvent {
        seq: header.seq,
        time_ms: header.time_ms,
        schema_version: header.schema_version,
        event,
    })
}
