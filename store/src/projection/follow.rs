//! The projector thread: applies records to the projection rows as the log commits them, and
//! decides when to write the applied rows to the trees.
//!
//! Every commit is a sled batch, and sled writes and syncs its file for every batch, then the
//! commit rewrites each index page it touches. Under load one commit per group of the log (about
//! one per invocation at concurrency 1) was most of the projection's cost, so records of
//! activations (`InvocationAccepted`, `ActivationRecorded`) are gathered for up to
//! [`ProjectionOptions::follow_gather`](super::ProjectionOptions) (100 ms by default) and
//! committed together. Anything else (an entity change, a feed's progress, a snapshot),
//! [`ProjectionOptions::follow_batch_events`](super::ProjectionOptions) records, or a reader
//! waiting in `wait_applied` for a seq not yet committed, commits at once; readers that must see
//! the newest activations (the API's activation reads) wait for the log's head that way.
//!
//! While it holds gathered rows the projector does not wake for each commit of the log: it sleeps
//! until the gather time is up, an entity changes, or a reader demands a seq
//! (`CommittedRecords::wait_for_entity_change_or_demand`), then reads everything that came.

use super::apply;
use super::rows::SledRows;
use super::ProjectionsShared;
use crate::error::Result;
use crate::log::{CommittedEvent, Subscription};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the projector waits for new records when it holds nothing uncommitted.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// Applied records not committed yet.
struct Gathered {
    last_seq: u64,
    records: usize,
    since: Instant,
    /// A record that must be readable at once (not an activation's).
    urgent: bool,
}

pub(super) fn follow(
    shared: Arc<ProjectionsShared>,
    mut rows: SledRows,
    mut subscription: Subscription,
    batch_events: usize,
    gather: Duration,
    stop: Arc<AtomicBool>,
) {
    let mut gathered: Option<Gathered> = None;
    while !stop.load(Ordering::SeqCst) {
        let batch = match &gathered {
            // Nothing held: the first record of any kind starts a gathering.
            None => subscription.next_events(batch_events, IDLE_POLL),
            Some(pending) => {
                let remaining = gather.saturating_sub(pending.since.elapsed());
                let committed = shared.applied.get().seq;
                if !remaining.is_zero() && !shared.applied.is_wanted_beyond(committed) {
                    shared.records.wait_for_entity_change_or_demand(
                        subscription.next_seq(),
                        committed,
                        // Capped so that a stop is seen soon.
                        remaining.min(IDLE_POLL),
                    );
                }
                subscription.try_next_events(batch_events)
            }
        };
        let outcome = batch.and_then(|batch| {
            apply_batch(&mut rows, &batch, &mut gathered)?;
            commit_if_due(&shared, &mut rows, &mut gathered, batch_events, gather)
        });
        if let Err(error) = outcome {
            tracing::error!(path = %shared.path.display(), %error, "the projector stopped");
            shared.applied.fail(error.to_string());
            return;
        }
    }
    if let Some(pending) = gathered.take() {
        // Not needed for correctness (a restart catches up from the checkpoints), but it saves
        // the next start that work.
        match rows.commit(pending.last_seq) {
            Ok(()) => shared.applied.publish(pending.last_seq),
            Err(error) => {
                tracing::warn!(path = %shared.path.display(), %error, "the projector's last commit failed")
            }
        }
    }
}

/// Applies `batch` to the rows (not committed yet) and notes it in `gathered`.
fn apply_batch(
    rows: &mut SledRows,
    batch: &[CommittedEvent],
    gathered: &mut Option<Gathered>,
) -> Result<()> {
    let Some(last) = batch.last() else {
        return Ok(());
    };
    let mut urgent = false;
    for record in batch {
        rows.set_seq(record.seq);
        apply::apply(rows, record.seq, record.time_ms, &record.event)?;
        urgent |= !record.event.is_activation();
    }
    let pending = gathered.get_or_insert_with(|| Gathered {
        last_seq: last.seq,
        records: 0,
        since: Instant::now(),
        urgent: false,
    });
    pending.last_seq = last.seq;
    pending.records += batch.len();
    pending.urgent |= urgent;
    Ok(())
}

/// Commits the gathered rows when something needs them readable, or they waited long enough.
fn commit_if_due(
    shared: &ProjectionsShared,
    rows: &mut SledRows,
    gathered: &mut Option<Gathered>,
    batch_events: usize,
    gather: Duration,
) -> Result<()> {
    let Some(pending) = gathered else {
        return Ok(());
    };
    let due = pending.urgent
        || pending.records >= batch_events
        || pending.since.elapsed() >= gather
        || shared.applied.is_wanted_beyond(shared.applied.get().seq);
    if due {
        rows.commit(pending.last_seq)?;
        shared.applied.publish(pending.last_seq);
        *gathered = None;
    }
    Ok(())
}
