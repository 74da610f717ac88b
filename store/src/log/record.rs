//! Decoding one stored record (key + bytes) into a `Committed`, naming the log and seq on failure.

use super::{Committed, CommittedEvent};
use crate::envelope::{self, RecordHash};
use crate::error::{Error, Result};
use crate::event::{decode_payload, payload_is_activation, PayloadError, CURRENT_SCHEMA_VERSION};
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
    let (header, payload) = checked_envelope(path, key_seq, bytes)?;
    decode_checked(path, header, payload)
}

/// [`decode_event`] for readers of entities: an activation's record is checked (CRC, seq) but its
/// payload, most of a busy log, is left undecoded (`None`), told apart by its variant tag.
pub(crate) fn decode_entity_event(
    path: &Path,
    key_seq: u64,
    bytes: &[u8],
) -> Result<(u64, Option<CommittedEvent>)> {
    let (header, payload) = checked_envelope(path, key_seq, bytes)?;
    if payload_is_activation(header.schema_version, payload) == Some(true) {
        return Ok((key_seq, None));
    }
    let event = decode_checked(path, header, payload)?;
    Ok((key_seq, (!event.event.is_activation()).then_some(event)))
}

fn corrupt(path: &Path, seq: u64, reason: String) -> Error {
    Error::CorruptRecord {
        path: path.to_path_buf(),
        seq,
        reason,
    }
}

/// The record's envelope, its CRC checked and its seq the one it is stored under.
fn checked_envelope<'a>(
    path: &Path,
    key_seq: u64,
    bytes: &'a [u8],
) -> Result<(envelope::EnvelopeHeader, &'a [u8])> {
    let (header, payload) =
        envelope::decode(bytes).map_err(|fault| corrupt(path, key_seq, fault.to_string()))?;
    if header.seq != key_seq {
        return Err(corrupt(
            path,
            key_seq,
            format!(
                "stored under seq {key_seq} but the envelope says seq {}",
                header.seq
            ),
        ));
    }
    Ok((header, payload))
}

fn decode_checked(
    path: &Path,
    header: envelope::EnvelopeHeader,
    payload: &[u8],
) -> Result<CommittedEvent> {
    let event = decode_payload(header.schema_version, payload).map_err(|error| match error {
        PayloadError::UnknownVersion { version } => Error::UnknownSchemaVersion {
            path: path.to_path_buf(),
            seq: header.seq,
            version,
            supported: CURRENT_SCHEMA_VERSION,
        },
        other => corrupt(path, header.seq, other.to_string()),
    })?;
    Ok(CommittedEvent {
        seq: header.seq,
        time_ms: header.time_ms,
        schema_version: header.schema_version,
        event,
    })
}
