//! Catching the projections up on open: one thread reads and decodes the log from the oldest
//! checkpoint while this one applies; rows are committed (with their checkpoints, atomically)
//! every `batch_events` records and at the end, so a crash midway resumes from the last commit.

use super::apply::apply;
use super::rows::SledRows;
use crate::error::Result;
use crate::log::{CommittedEvent, Subscription};

/// Records read per message from the reading thread.
const READ_CHUNK: usize = 4096;

/// Messages the reading thread may run ahead by (it keeps reading while a commit runs).
const READ_AHEAD: usize = 16;

/// Applies every durable record `subscription` has to `rows`; returns how many it applied.
pub(crate) fn catch_up(
    rows: &mut SledRows,
    subscription: &mut Subscription,
    batch_events: usize,
) -> Result<usize> {
    let batch_events = batch_events.max(1);
    std::thread::scope(|scope| {
        let (chunks, received) =
            std::sync::mpsc::sync_channel::<Result<Vec<CommittedEvent>>>(READ_AHEAD);
        scope.spawn(move || loop {
            let batch = subscription.try_next_events(READ_CHUNK);
            let done = matches!(&batch, Ok(records) if records.is_empty()) || batch.is_err();
            if chunks.send(batch).is_err() || done {
                return;
            }
        });
        let mut applied = 0usize;
        let mut uncommitted: Option<u64> = None;
        let mut since_commit = 0usize;
        for chunk in received {
            let chunk = chunk?;
            for record in &chunk {
                rows.set_seq(record.seq);
                apply(rows, record.seq, record.time_ms, &record.event)?;
                uncommitted = Some(record.seq);
                since_commit += 1;
                if since_commit >= batch_events {
                    rows.commit(record.seq)?;
                    uncommitted = None;
                    since_commit = 0;
                }
            }
            applied += chunk.len();
        }
        if let Some(seq) = uncommitted {
            rows.commit(seq)?;
        }
        Ok(applied)
    })
}
