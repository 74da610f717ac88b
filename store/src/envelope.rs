//! The record envelope: the fixed header every log record carries around its payload, and the
//! record hash that chains records together.
//!
//! Layout (all integers little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0  | 4  | CRC32 (IEEE) of bytes 4.. |
//! | 4  | 2  | schema version of the payload |
//! | 6  | 8  | seq |
//! | 14 | 8  | time, unix ms |
//! | 22 | 32 | blake3 hash of the previous record's bytes (zeros for the first record) |
//! | 54 | .. | payload: the bincode-encoded `Event` of that schema version |
//!
//! The record hash is blake3 over all the record's bytes, header included.

use std::fmt;

/// Bytes before the payload.
pub const HEADER_LEN: usize = 54;

/// The blake3 hash of one record's bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RecordHash(pub [u8; 32]);

impl RecordHash {
    /// The "previous hash" of the first record of a generation.
    pub const GENESIS: RecordHash = RecordHash([0; 32]);

    /// The hash of a record's bytes.
    pub fn of(record: &[u8]) -> Self {
        Self(*blake3::hash(record).as_bytes())
    }
}

impl fmt::Display for RecordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(blake3::Hash::from(self.0).to_hex().as_str())
    }
}

impl fmt::Debug for RecordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordHash({self})")
    }
}

/// The header fields of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeHeader {
    pub seq: u64,
    pub time_ms: u64,
    pub schema_version: u16,
    pub prev_hash: RecordHash,
}

/// What is wrong with a record's bytes (the caller adds where the record is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeFault {
    #[error("record is {len} bytes, shorter than the {HEADER_LEN}-byte header")]
    TooShort { len: usize },
    #[error("CRC mismatch: stored {stored:08x}, computed {computed:08x}")]
    CrcMismatch { stored: u32, computed: u32 },
}

/// Encodes a record: header plus payload, with the CRC filled in.
pub fn encode(header: &EnvelopeHeader, payload: &[u8]) -> Vec<u8> {
    let mut record = Vec::with_capacity(HEADER_LEN + payload.len());
    record.extend_from_slice(&[0; 4]);
    record.extend_from_slice(&header.schema_version.to_le_bytes());
    record.extend_from_slice(&header.seq.to_le_bytes());
    record.extend_from_slice(&header.time_ms.to_le_bytes());
    record.extend_from_slice(&header.prev_hash.0);
    record.extend_from_slice(payload);
    let crc = crc32fast::hash(&record[4..]);
    record[..4].copy_from_slice(&crc.to_le_bytes());
    record
}

/// Checks the CRC and splits a record into its header and payload.
pub fn decode(record: &[u8]) -> Result<(EnvelopeHeader, &[u8]), EnvelopeFault> {
    if record.len() < HEADER_LEN {
        return Err(EnvelopeFault::TooShort { len: record.len() });
    }
    let stored = u32::from_le_bytes(fixed(&record[0..4]));
    let computed = crc32fast::hash(&record[4..]);
    if stored != computed {
        return Err(EnvelopeFault::CrcMismatch { stored, computed });
    }
    let header = EnvelopeHeader {
        schema_version: u16::from_le_bytes(fixed(&record[4..6])),
        seq: u64::from_le_bytes(fixed(&record[6..14])),
        time_ms: u64::from_le_bytes(fixed(&record[14..22])),
        prev_hash: RecordHash(fixed(&record[22..54])),
    };
    Ok((header, &record[HEADER_LEN..]))
}

/// Copies a slice of known length into an array (lengths are checked by the caller's ranges).
fn fixed<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn header() -> EnvelopeHeader {
        EnvelopeHeader {
            seq: 7,
            time_ms: 1_700_000_000_000,
            schema_version: 1,
            prev_hash: RecordHash([9; 32]),
        }
    }

    #[test]
    fn encode_then_decode_gives_back_header_and_payload() {
        let record = encode(&header(), b"payload");
        let (decoded, payload) = decode(&record).unwrap();
        assert_eq!(decoded, header());
        assert_eq!(payload, b"payload");
    }

    #[test]
    fn any_flipped_byte_fails_the_crc() {
        let record = encode(&header(), b"payload");
        for at in 0..record.len() {
            let mut bad = record.clone();
            bad[at] ^= 0x40;
            assert!(
                matches!(decode(&bad), Err(EnvelopeFault::CrcMismatch { .. })),
                "byte {at}"
            );
        }
        assert_eq!(
            decode(&record[..10]),
            Err(EnvelopeFault::TooShort { len: 10 })
        );
    }
}
