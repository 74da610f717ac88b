//! `verify`: checks every record of the current generation (CRC, seq under its key and in order,
//! hash chain, known schema version, decodable payload, time order) and names the first bad one.

use super::progress::{self, Progress};
use crate::envelope::{self, RecordHash};
use crate::error::{Error, Result};
use crate::event::{decode_payload, Event};
use crate::log::RawLog;

/// A summary of a verified log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub generation: u64,
    pub records: u64,
    pub first_seq: Option<u64>,
    pub head_seq: Option<u64>,
    pub head_hash: Option<RecordHash>,
    /// `SnapshotTaken` records seen (retention runs still in this generation's history).
    pub snapshots: u64,
}

/// The first record that failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    pub seq: u64,
    pub problem: String,
}

/// The outcome of `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyOutcome {
    Valid(VerifyReport),
    /// Verification stopped at `bad`; `checked` covers the records before it.
    Invalid {
        checked: VerifyReport,
        bad: BadRecord,
    },
}

/// Verifies the current generation of an opened log.
pub fn verify_log(log: &RawLog, progress: &mut dyn FnMut(Progress)) -> Result<VerifyOutcome> {
    let total = log.head_seq_hint();
    let mut report = VerifyReport {
        generation: log.generation(),
        ..VerifyReport::default()
    };
    let outcome = verify_records(log.records(), &mut report, &mut |done| {
        progress::report(progress, "verify", done, total)
    })?;
    Ok(match outcome {
        None => VerifyOutcome::Valid(report),
        Some(bad) => VerifyOutcome::Invalid {
            checked: report,
            bad,
        },
    })
}

/// Verifies records given as (seq, bytes) in stored order, filling `report`; returns the first bad one.
pub fn verify_records(
    records: impl Iterator<Item = Result<(u64, Vec<u8>)>>,
    report: &mut VerifyReport,
    progress: &mut dyn FnMut(u64),
) -> Result<Option<BadRecord>> {
    let mut previous: Option<(u64, RecordHash, u64)> = None;
    // Seq gaps must be explained by a later snapshot (retention) attesting a head at or past them.
    let mut gap_ends: Vec<u64> = Vec::new();
    let mut covered_up_to = 0u64;
    for entry in records {
        let (seq, bytes) = match entry {
            Ok(record) => record,
            Err(Error::CorruptRecord { seq, reason, .. }) => {
                return Ok(Some(BadRecord {
                    seq,
                    problem: reason,
                }))
            }
            Err(error) => return Err(error),
        };
        let bad = |problem: String| Ok(Some(BadRecord { seq, problem }));
        let (header, payload) = match envelope::decode(&bytes) {
            Ok(decoded) => decoded,
            Err(fault) => return bad(fault.to_string()),
        };
        if header.seq != seq {
            return bad(format!(
                "stored under seq {seq} but its envelope says seq {}",
                header.seq
            ));
        }
        let (expected_prev, previous_seq, previous_time) = match previous {
            Some((previous_seq, hash, time)) => (hash, previous_seq, time),
            None => (RecordHash::GENESIS, 0, 0),
        };
        if seq <= previous_seq {
            return bad(format!(
                "seq does not increase (previous record is seq {previous_seq})"
            ));
        }
        if header.prev_hash != expected_prev {
            return bad(match previous {
                Some((previous_seq, ..)) => format!(
                    "hash chain broken: it names {} as the previous record's hash but record {previous_seq} hashes to {expected_prev} (record {previous_seq} was altered, or records were removed)",
                    header.prev_hash
                ),
                None => format!("first record of the generation but its previous hash is {}, not zeros", header.prev_hash),
            });
        }
        if header.time_ms < previous_time {
            return bad(format!(
                "time {} is before the previous record's {previous_time}",
                header.time_ms
            ));
        }
        let event = match decode_payload(header.schema_version, payload) {
            Ok(event) => event,
            Err(error) => return bad(error.to_string()),
        };
        if seq > previous_seq + 1 {
            gap_ends.push(seq - 1);
        }
        if let Event::SnapshotTaken(snapshot) = &event {
            report.snapshots += 1;
            covered_up_to = covered_up_to.max(snapshot.previous_head_seq);
        }
        report.records += 1;
        report.first_seq.get_or_insert(seq);
        report.head_seq = Some(seq);
        let hash = RecordHash::of(&bytes);
        report.head_hash = Some(hash);
        previous = Some((seq, hash, header.time_ms));
        progress(report.records);
    }
    if let Some(gap_end) = gap_ends
        .into_iter()
        .find(|gap_end| *gap_end > covered_up_to)
    {
        {
            return Ok(Some(BadRecord {
                seq: gap_end + 1,
                problem: format!(
                    "records before seq {} are missing and no snapshot accounts for them (snapshots cover up to seq {covered_up_to})",
                    gap_end + 1
                ),
            }));
        }
    }
    Ok(None)
}
