//! Audit functions behind `whirl log ...`: verify the chain, replay the projections from zero and
//! compare them with the live ones (or show the state as of a seq or time), an entity's history,
//! JSON-lines export and statistics. Long runs report progress through a callback.

mod export;
mod history;
mod progress;
mod replay;
mod stats;
mod verify;

pub use export::export_jsonl;
pub use history::{entity_history, FieldChange, HistoryEntry};
pub use progress::Progress;
pub use replay::{
    compare_rows, replay_and_compare, replay_into_memory, state_at, ReplayComparison, StateSummary,
    TreeComparison, Until,
};
pub use stats::{log_stats, EventStats, LogStats};
pub use verify::{verify_log, verify_records, BadRecord, VerifyOutcome, VerifyReport};

use crate::error::Result;
use crate::log::RawLog;
use std::path::Path;

/// Opens the log of a data directory for reading, refusing anything that is not a Whirl log.
pub fn open_log_of(data_dir: &Path) -> Result<RawLog> {
    crate::data_dir::check_data_dir(data_dir)?;
    RawLog::open_existing(&crate::data_dir::log_dir(data_dir))
}
