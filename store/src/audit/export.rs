//! `export --jsonl`: one JSON object per record (seq, time, schema version, hashes, event).

use super::progress::{self, Progress};
use crate::envelope;
use crate::error::{Error, Result};
use crate::log::record::decode_record;
use crate::log::RawLog;
use crate::time_format::format_ms;
use serde_json::json;
use std::io::Write;

/// Writes every record of the log's current generation to `out`, one JSON object per line;
/// returns how many records were written.
pub fn export_jsonl(
    log: &RawLog,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(Progress),
) -> Result<u64> {
    let total = log.head_seq_hint();
    let mut written = 0u64;
    for entry in log.records() {
        let (seq, bytes) = entry?;
        let committed = decode_record(log.path(), seq, &bytes)?;
        let prev_hash = envelope::decode(&bytes)
            .map(|(header, _)| header.prev_hash.to_string())
            .map_err(|fault| Error::CorruptRecord {
                path: log.path().to_path_buf(),
                seq,
                reason: fault.to_string(),
            })?;
        let line = json!({
            "seq": committed.seq,
            "time": format_ms(committed.time_ms),
            "time_ms": committed.time_ms,
            "version": committed.schema_version,
            "hash": committed.hash.to_string(),
            "prev_hash": prev_hash,
            "event": committed.event,
        });
        let write = |out: &mut dyn Write| -> std::io::Result<()> {
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")
        };
        write(out).map_err(Error::io("write the export of", log.path()))?;
        written += 1;
        progress::report(progress, "export", written, total);
    }
    out.flush()
        .map_err(Error::io("flush the export of", log.path()))?;
    Ok(written)
}
