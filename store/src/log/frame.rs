//! Frames: how records sit in sled. One sled value per group commit (a frame) holds that group's
//! records, each as `u32 LE length` + the record's bytes (a full envelope with its own CRC). The
//! frame's key is the big-endian seq of its first record. sled's cost is per key, so a frame of a
//! thousand records costs about what one record would.

use crate::envelope::HEADER_LEN;

/// The most records one frame holds (a larger group is split into several frames).
pub(crate) const MAX_RECORDS: usize = 4096;

/// Appends one record to a frame being built.
pub(crate) fn push_record(frame: &mut Vec<u8>, record: &[u8]) {
    frame.extend_from_slice(&(record.len() as u32).to_le_bytes());
    frame.extend_from_slice(record);
}

/// One record found in a frame: its seq (from the frame key for the first record, else from its
/// envelope, or the previous seq + 1 when the envelope is too damaged to say) and its bytes.
pub(crate) type FrameRecord<'a> = Result<(u64, &'a [u8]), (u64, String)>;

/// Splits a frame stored under `first_seq` into its records. A malformed length ends the frame
/// with an error naming the seq the damaged record would have had.
pub(crate) fn records(first_seq: u64, frame: &[u8]) -> Vec<FrameRecord<'_>> {
    let mut out = Vec::new();
    let mut rest = frame;
    let mut previous: Option<u64> = None;
    while !rest.is_empty() {
        let expected = previous.map_or(first_seq, |seq| seq + 1);
        if rest.len() < 4 {
            out.push(Err((
                expected,
                format!(
                    "frame at seq {first_seq} ends with {} stray bytes",
                    rest.len()
                ),
            )));
            break;
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len > rest.len() - 4 {
            out.push(Err((
                expected,
                format!("frame at seq {first_seq}: record length {len} runs past the frame's end"),
            )));
            break;
        }
        let record = &rest[4..4 + len];
        rest = &rest[4 + len..];
        let seq = if previous.is_none() {
            first_seq
        } else {
            match claimed_seq(record) {
                // The usual case needs no CRC: trusting the claim or not gives the same seq.
                Some(claimed) if claimed == expected => expected,
                claimed => claimed
                    .filter(|seq| *seq > expected - 1 && crc_ok(record))
                    .unwrap_or(expected),
            }
        };
        previous = Some(seq);
        out.push(Ok((seq, record)));
    }
    out
}

fn claimed_seq(record: &[u8]) -> Option<u64> {
    if record.len() < HEADER_LEN {
        return None;
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&record[6..14]);
    Some(u64::from_le_bytes(seq))
}

fn crc_ok(record: &[u8]) -> bool {
    record.len() >= 4
        && crc32fast::hash(&record[4..])
            == u32::from_le_bytes([record[0], record[1], record[2], record[3]])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::envelope::{encode, EnvelopeHeader, RecordHash};

    fn record(seq: u64) -> Vec<u8> {
        encode(
            &EnvelopeHeader {
                seq,
                time_ms: 1,
                schema_version: 1,
                prev_hash: RecordHash::GENESIS,
            },
            b"x",
        )
    }

    #[test]
    fn records_keep_their_seqs_including_gaps() {
        let mut frame = Vec::new();
        for seq in [5, 6, 9] {
            push_record(&mut frame, &record(seq));
        }
        let seqs: Vec<u64> = records(5, &frame)
            .into_iter()
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(seqs, [5, 6, 9]);
    }

    #[test]
    fn a_bad_length_is_an_error_naming_the_next_seq() {
        let mut frame = Vec::new();
        push_record(&mut frame, &record(5));
        push_record(&mut frame, &record(6));
        let second = 4 + record(5).len();
        frame[second + 2] = 0xff;
        let found = records(5, &frame);
        assert!(found[0].is_ok());
        assert_eq!(found[1].as_ref().unwrap_err().0, 6);
    }
}
