//! Catching the projections up on open: one thread reads and decodes the log from the oldest
//! checkpoint while this one applies; rows are committed (with their checkpoints, atomically)
//! every `batch_events` records and at the end, so a crash midway resumes from the last commit.

use super::apply::apply;
use super::rows::SledRows;
use crate::error::{Error, Result};
use crate::log::{CommittedEvent, Subscription};
use std::path::Path;
use std::time::{Duration, Instant};

/// Records read per message from the reading thread.
const READ_CHUNK: usize = 4096;

/// Messages the reading thread may run ahead by (it keeps reading while a commit runs).
const READ_AHEAD: usize = 16;

/// Where the applying thread's time went.
#[derive(Debug, Default)]
struct CatchUpTiming {
    waiting: Duration,
    committing: Duration,
}

/// Applies every durable record `subscription` has to `rows`; returns how many it applied.
pub(crate) fn catch_up(
    path: &Path,
    rows: &mut SledRows,
    subscription: &mut Subscription,
    batch_events: usize,
) -> Result<usize> {
    let batch_events = batch_events.max(1);
    std::thread::scope(|scope| {
        let (chunks, received) =
            std::sync::mpsc::sync_channel::<Result<Vec<CommittedEvent>>>(READ_AHEAD);
        let (returned, to_free) = std::sync::mpsc::channel::<Vec<CommittedEvent>>();
        let reader = move || loop {
            while let Ok(applied) = to_free.try_recv() {
                drop(applied);
            }
            let batch = subscription.try_next_events(READ_CHUNK);
            let done = matches!(&batch, Ok(records) if records.is_empty()) || batch.is_err();
            if chunks.send(batch).is_err() || done {
                return;
            }
        };
        std::thread::Builder::new()
            .name("whirl-catch-up-reader".into())
            .spawn_scoped(scope, reader)
            .map_err(Error::io("start the catch-up reader thread for", path))?;
        let mut applied = 0usize;
        let mut uncommitted: Option<u64> = None;
        let mut since_commit = 0usize;
        let mut timing = CatchUpTiming::default();
        let mut waiting = Instant::now();
        for chunk in received.iter() {
            timing.waiting += waiting.elapsed();
            let chunk = chunk?;
            for record in &chunk {
                rows.set_seq(record.seq);
                apply(rows, record.seq, record.time_ms, &record.event)?;
                uncommitted = Some(record.seq);
                since_commit += 1;
                if since_commit >= batch_events {
                    let committing = Instant::now();
                    rows.commit(record.seq)?;
                    timing.committing += committing.elapsed();
                    uncommitted = None;
                    since_commit = 0;
                }
            }
            applied += chunk.len();
            // The reader frees what it decoded: that is work this thread need not do.
            let _ = returned.send(chunk);
            waiting = Instant::now();
        }
        let committing = Instant::now();
        if let Some(seq) = uncommitted {
            rows.commit(seq)?;
        }
        timing.committing += committing.elapsed();
        tracing::debug!(
            path = %path.display(),
            records = applied,
            waiting_for_reader_ms = timing.waiting.as_millis() as u64,
            committing_ms = timing.committing.as_millis() as u64,
            "catch-up timing"
        );
        Ok(applied)
    })
}
