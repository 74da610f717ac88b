//! `stats`: record counts and sizes by event type, head seq, times and generations.

use super::progress::{self, Progress};
use crate::error::Result;
use crate::log::record::decode_record;
use crate::log::RawLog;
use std::collections::BTreeMap;

/// Counts and sizes of one event type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventStats {
    pub records: u64,
    pub bytes: u64,
    pub max_bytes: u64,
}

/// Statistics of a log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogStats {
    pub generation: u64,
    /// Generation trees present (more than one only while a retention is unfinished).
    pub generation_trees: Vec<String>,
    pub records: u64,
    pub bytes: u64,
    pub first_seq: Option<u64>,
    pub head_seq: Option<u64>,
    pub first_time_ms: Option<u64>,
    pub last_time_ms: Option<u64>,
    pub by_event: BTreeMap<&'static str, EventStats>,
    pub size_on_disk: u64,
}

/// Reads every record of the current generation and tallies them.
pub fn log_stats(log: &RawLog, progress: &mut dyn FnMut(Progress)) -> Result<LogStats> {
    let total = log.head_seq_hint();
    let mut stats = LogStats {
        generation: log.generation(),
        generation_trees: log.generation_trees(),
        size_on_disk: log.size_on_disk()?,
        ..LogStats::default()
    };
    for entry in log.records() {
        let (seq, bytes) = entry?;
        let committed = decode_record(log.path(), seq, &bytes)?;
        let size = bytes.len() as u64;
        let tally = stats.by_event.entry(committed.event.name()).or_default();
        tally.records += 1;
        tally.bytes += size;
        tally.max_bytes = tally.max_bytes.max(size);
        stats.records += 1;
        stats.bytes += size;
        stats.first_seq.get_or_insert(seq);
        stats.head_seq = Some(seq);
        stats.first_time_ms.get_or_insert(committed.time_ms);
        stats.last_time_ms = Some(committed.time_ms);
        progress::report(progress, "stats", stats.records, total);
    }
    Ok(stats)
}
