//! Retention: drops activation records that ended before a cutoff (and the invocations they
//! answered) by writing a new log generation, re-chained, that ends with a `SnapshotTaken` record
//! attesting the old chain's head; then switches the current generation atomically in `meta`.
//!
//! Entity events are all kept. A crash before the switch leaves the old generation current and
//! the half-built one is removed on the next open; a crash after it leaves the new one current.

use super::meta;
use super::raw::frame_records;
use super::record::decode_record;
use super::shared::{CurrentGeneration, SledLogShared};
use super::writer::{ChainEnd, FrameBatch};
use crate::envelope::{self, EnvelopeHeader, RecordHash};
use crate::error::{Error, Result};
use crate::event::{encode_payload, Event, SnapshotTaken, CURRENT_SCHEMA_VERSION};
use crate::model::ActivationId;
use std::collections::HashSet;
use std::sync::PoisonError;

/// What a retention run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    /// The current generation afterwards.
    pub generation: u64,
    pub cutoff_ms: u64,
    pub dropped_activations: u64,
    pub dropped_invocations: u64,
    /// Records copied into the new generation.
    pub kept_records: u64,
    /// The seq of the `SnapshotTaken` record; `None` when nothing was old enough to drop.
    pub snapshot_seq: Option<u64>,
}

const BATCH: usize = 40_000;

pub(crate) fn rewrite_generation(
    shared: &SledLogShared,
    chain: ChainEnd,
    cutoff_ms: u64,
    now_ms: u64,
) -> Result<(RetentionReport, ChainEnd)> {
    let path = &shared.path;
    let (old_generation, old_tree) = {
        let current = shared
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        (current.generation, current.tree.clone())
    };
    let dropped = activations_ended_before(shared, &old_tree, cutoff_ms)?;
    if dropped.is_empty() {
        tracing::info!(path = %path.display(), cutoff_ms, "retention: no activation old enough to drop");
        let report = RetentionReport {
            generation: old_generation,
            cutoff_ms,
            dropped_activations: 0,
            dropped_invocations: 0,
            kept_records: frame_records(path, &old_tree).count() as u64,
            snapshot_seq: None,
        };
        return Ok((report, chain));
    }

    let generation = old_generation + 1;
    let name = meta::generation_tree_name(generation);
    shared
        .db
        .drop_tree(name.as_bytes())
        .map_err(Error::storage("clear the new log generation", path))?;
    let tree = shared
        .db
        .open_tree(name.as_bytes())
        .map_err(Error::storage("create a log generation", path))?;

    let mut new_chain = ChainEnd {
        seq: 0,
        hash: RecordHash::GENESIS,
        time_ms: 0,
    };
    let (mut kept, mut dropped_activations, mut dropped_invocations) = (0u64, 0u64, 0u64);
    let mut frames = FrameBatch::default();
    let mut in_batch = 0usize;
    for entry in frame_records(path, &old_tree) {
        let (seq, value) = entry?;
        let committed = decode_record(path, seq, &value)?;
        match &committed.event {
            Event::ActivationRecorded(doc) if dropped.contains(&doc.activation_id) => {
                dropped_activations += 1;
                continue;
            }
            Event::InvocationAccepted(accepted) if dropped.contains(&accepted.activation_id) => {
                dropped_invocations += 1;
                continue;
            }
            _ => {}
        }
        let (_, payload) = envelope::decode(&value).map_err(|fault| Error::CorruptRecord {
            path: path.clone(),
            seq,
            reason: fault.to_string(),
        })?;
        let header = EnvelopeHeader {
            seq,
            time_ms: committed.time_ms,
            schema_version: committed.schema_version,
            prev_hash: new_chain.hash,
        };
        let record = envelope::encode(&header, payload);
        new_chain = ChainEnd {
            seq,
            hash: RecordHash::of(&record),
            time_ms: committed.time_ms,
        };
        frames.push(seq, &record);
        kept += 1;
        in_batch += 1;
        if in_batch == BATCH {
            tree.apply_batch(std::mem::take(&mut frames).into_batch())
                .map_err(Error::storage("write the new log generation", path))?;
            in_batch = 0;
        }
    }
    tree.apply_batch(frames.into_batch())
        .map_err(Error::storage("write the new log generation", path))?;

    let snapshot = Event::SnapshotTaken(SnapshotTaken {
        generation,
        previous_head_seq: chain.seq,
        previous_head_hash: chain.hash.0,
        cutoff_ms,
        dropped_activations,
        dropped_invocations,
        kept_records: kept,
    });
    let payload = encode_payload(&snapshot).map_err(|source| Error::Encode {
        what: "event SnapshotTaken".into(),
        source,
    })?;
    new_chain.seq = chain.seq;
    new_chain.time_ms = new_chain.time_ms.max(chain.time_ms);
    let (record, receipt) = new_chain.next_record(now_ms, CURRENT_SCHEMA_VERSION, &payload);
    let mut snapshot_frame = FrameBatch::default();
    snapshot_frame.push(receipt.seq, &record);
    tree.apply_batch(snapshot_frame.into_batch())
        .map_err(Error::storage("write the snapshot record", path))?;
    shared
        .db
        .flush()
        .map_err(Error::storage("flush the new log generation", path))?;

    meta::switch_generation(&shared.db, path, generation)?;
    {
        let mut current = shared
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *current = CurrentGeneration { generation, tree };
    }
    drop(old_tree);
    shared
        .db
        .drop_tree(meta::generation_tree_name(old_generation).as_bytes())
        .map_err(Error::storage("drop the old log generation", path))?;
    shared.db.flush().map_err(Error::storage(
        "flush after dropping the old generation",
        path,
    ))?;
    tracing::info!(
        path = %path.display(),
        generation,
        cutoff_ms,
        dropped_activations,
        dropped_invocations,
        kept_records = kept,
        snapshot_seq = receipt.seq,
        "retention wrote a new log generation"
    );
    let report = RetentionReport {
        generation,
        cutoff_ms,
        dropped_activations,
        dropped_invocations,
        kept_records: kept,
        snapshot_seq: Some(receipt.seq),
    };
    Ok((report, new_chain))
}

/// The ids of activations recorded with an end time before `cutoff_ms`.
fn activations_ended_before(
    shared: &SledLogShared,
    tree: &sled::Tree,
    cutoff_ms: u64,
) -> Result<HashSet<ActivationId>> {
    let path = &shared.path;
    let mut ids = HashSet::new();
    for entry in frame_records(path, tree) {
        let (seq, value) = entry?;
        if let Event::ActivationRecorded(doc) = decode_record(path, seq, &value)?.event {
            if doc.end_ms < cutoff_ms {
                ids.insert(doc.activation_id);
            }
        }
    }
    Ok(ids)
}
