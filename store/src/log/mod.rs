//! The event log: the `EventLog` trait and its two implementations, `SledEventLog` (durable, one
//! writer thread with group commit) and `InMemoryEventLog` (for the simulator, with a crash model).

mod clock;
mod committed;
mod frame;
mod head;
mod intake;
mod memory;
pub(crate) mod meta;
mod raw;
pub(crate) mod record;
mod retention;
mod shared;
mod sled_log;
mod stats;
mod subscription;
mod threads;
mod ticket;
mod writer;

pub use clock::{Clock, SystemClock};
pub use committed::{Committed, CommittedEvent, Receipt};
pub use memory::{CommitMode, InMemoryEventLog};
pub use meta::LOG_FORMAT_VERSION;
pub use raw::{RawLog, DEFAULT_CACHE_BYTES};
pub use retention::RetentionReport;
pub use sled_log::{LogOptions, SledEventLog};
pub use stats::{LogWriterCounts, LogWriterStats};
pub use subscription::{CommittedRecords, RecordIter, Subscription};
pub use ticket::{AppendTicket, OnDurable};

use crate::error::Result;
use crate::event::Event;

/// An append-only, hash-chained log of events.
///
/// Appends are acknowledged only once durable; readers and subscribers only ever see durable
/// records, in seq order.
pub trait EventLog: Send + Sync {
    /// Appends `events` (in order, contiguous seqs). The ticket resolves once they are durable:
    /// `.await` it from async code, or call `wait()` from a plain thread.
    fn append(&self, events: Vec<Event>) -> AppendTicket;

    /// Appends `events` and calls `on_durable` once they are durable (or the append failed), on
    /// the log's own thread: for callers that hand the outcome on (keep it short, never block),
    /// so the log wakes the one who waits instead of a task that then wakes it. If the log goes
    /// away with the append still pending (a crash), `on_durable` is dropped without a call.
    fn append_then(&self, events: Vec<Event>, on_durable: OnDurable);

    /// Appends and blocks the calling thread until durable (not for async runtime threads).
    fn append_blocking(&self, events: Vec<Event>) -> Result<Vec<Receipt>> {
        self.append(events).wait()
    }

    /// The last durable record, if any.
    fn head(&self) -> Option<Receipt>;

    /// Durable records with seq >= `seq`, read lazily.
    fn read_from(&self, seq: u64) -> RecordIter;

    /// Durable records from `from_seq` on, including those committed later.
    fn subscribe(&self, from_seq: u64) -> Subscription;

    /// The reader of durable records behind `read_from` and `subscribe`, for readers that keep
    /// it (the projections read activation documents from the log by seq).
    fn committed_records(&self) -> std::sync::Arc<dyn CommittedRecords>;
}
