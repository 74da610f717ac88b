//! `replay`: rebuilds every projection from zero into a scratch copy in memory, with the very
//! `apply` the live projections use, and compares it row by row (checkpoints included) with the
//! live trees; or stops at a seq or time and summarises the state as it was then.

use super::progress::{self, Progress};
use crate::data_dir::Store;
use crate::error::{Error, Result};
use crate::log::{Committed, EventLog};
use crate::model::EntityRef;
use crate::projection::apply::apply;
use crate::projection::keys::{self, TreeId};
use crate::projection::logical_rows;
use crate::projection::{EntityDoc, MemoryRows, Projections};
use std::collections::BTreeMap;

/// Where a replay stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Replay everything.
    End,
    /// Up to and including this seq.
    Seq(u64),
    /// Every record with a time at or before this (unix ms).
    TimeMs(u64),
}

impl Until {
    fn includes(self, record: &Committed) -> bool {
        match self {
            Until::End => true,
            Until::Seq(seq) => record.seq <= seq,
            Until::TimeMs(time) => record.time_ms <= time,
        }
    }
}

/// Applies `records` from zero into memory, up to `until`; returns the rows, the last seq applied
/// and how many records were applied. Records are read and decoded on a second thread while
/// this one applies them.
pub fn replay_into_memory<I>(
    records: I,
    until: Until,
    total: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<(MemoryRows, u64, u64)>
where
    I: Iterator<Item = Result<Committed>> + Send,
{
    const CHUNK: usize = 2048;
    let mut rows = MemoryRows::with_capacity(usize::try_from(total).unwrap_or(0).min(50_000_000));
    let mut last = 0u64;
    let mut done = 0u64;
    std::thread::scope(|scope| -> Result<()> {
        let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<Result<Committed>>>(8);
        scope.spawn(move || {
            let mut chunk = Vec::with_capacity(CHUNK);
            for record in records {
                chunk.push(record);
                if chunk.len() == CHUNK
                    && chunks
                        .send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))
                        .is_err()
                {
                    return;
                }
            }
            let _ = chunks.send(chunk);
        });
        for chunk in received {
            for record in chunk {
                let record = record?;
                if !until.includes(&record) {
                    return Ok(());
                }
                apply(&mut rows, record.seq, record.time_ms, &record.event)?;
                last = record.seq;
                done += 1;
                progress::report(progress, "replay", done, total);
            }
        }
        Ok(())
    })?;
    if last > 0 {
        rows.set_checkpoints(last);
    }
    Ok((rows, last, done))
}

/// How one tree compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeComparison {
    pub tree: &'static str,
    pub live_rows: u64,
    pub replayed_rows: u64,
    /// The first differing key and how it differs; `None` when the trees are identical.
    pub first_difference: Option<String>,
}

/// Live projections against a replay from zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayComparison {
    pub replayed_records: u64,
    pub head_seq: u64,
    pub trees: Vec<TreeComparison>,
}

impl ReplayComparison {
    /// Whether every tree is identical.
    pub fn identical(&self) -> bool {
        self.trees
            .iter()
            .all(|tree| tree.first_difference.is_none())
    }
}

/// Compares the live trees of `projections` with `replayed`, row by row (logical rows: the live
/// activation indexes are read out of their pages).
pub fn compare_rows(
    projections: &Projections,
    replayed: &MemoryRows,
) -> Result<Vec<TreeComparison>> {
    let shared = projections.shared();
    let mut comparisons = Vec::new();
    for id in TreeId::ALL {
        let live = &shared.trees[id as usize];
        let expected = replayed.sorted_rows(id);
        let mut first_difference = None;
        let mut live_rows = 0u64;
        let mut replayed_iter = expected.iter();
        let mut next_replayed = replayed_iter.next();
        for entry in logical_rows::rows_in_range(projections.path(), live, id, &[], None, false)? {
            let (key, value) = entry?;
            live_rows += 1;
            if first_difference.is_some() {
                continue;
            }
            match next_replayed {
                Some((replayed_key, replayed_value)) if *replayed_key == key.as_slice() => {
                    if *replayed_value != value.as_slice() {
                        first_difference = Some(format!("row {} differs", keys::printable(&key)));
                    }
                    next_replayed = replayed_iter.next();
                }
                Some((replayed_key, _)) if *replayed_key < key.as_slice() => {
                    first_difference = Some(format!(
                        "row {} is missing from the live projection",
                        keys::printable(replayed_key)
                    ));
                }
                _ => {
                    first_difference = Some(format!(
                        "row {} is live but not in the replay",
                        keys::printable(&key)
                    ))
                }
            }
        }
        if first_difference.is_none() {
            if let Some((replayed_key, _)) = next_replayed {
                first_difference = Some(format!(
                    "row {} is missing from the live projection",
                    keys::printable(replayed_key)
                ));
            }
        }
        comparisons.push(TreeComparison {
            tree: id.name(),
            live_rows,
            replayed_rows: expected.len() as u64,
            first_difference,
        });
    }
    Ok(comparisons)
}

/// Replays the whole log of an opened store from zero and compares with its live projections
/// (after waiting for them to apply the head).
pub fn replay_and_compare(
    store: &Store,
    progress: &mut dyn FnMut(Progress),
) -> Result<ReplayComparison> {
    let head = store.head_seq();
    store
        .projections()
        .wait_applied(head, std::time::Duration::from_secs(600))?;
    let (rows, _, replayed_records) =
        replay_into_memory(store.log().read_from(1), Until::End, head, progress)?;
    let trees = compare_rows(store.projections(), &rows)?;
    Ok(ReplayComparison {
        replayed_records,
        head_seq: head,
        trees,
    })
}

/// The state as of a point in the log: every entity and how many of each thing there were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateSummary {
    /// The last record applied.
    pub last_seq: u64,
    pub entities: Vec<(EntityRef, String)>,
    pub counts: BTreeMap<String, u64>,
}

/// Replays the log of `log` up to `until` and summarises the state then.
pub fn state_at(
    log: &dyn EventLog,
    until: Until,
    progress: &mut dyn FnMut(Progress),
) -> Result<StateSummary> {
    let total = log.head().map_or(0, |receipt| receipt.seq);
    let (rows, last_seq, _) = replay_into_memory(log.read_from(1), until, total, progress)?;
    let mut summary = StateSummary {
        last_seq,
        ..StateSummary::default()
    };
    for (key, value) in rows.sorted_rows(TreeId::Entities) {
        if key == keys::CHECKPOINT_KEY {
            continue;
        }
        let doc: EntityDoc = bincode::deserialize(value).map_err(|error| Error::CorruptRow {
            tree: TreeId::Entities.name(),
            key: keys::printable(key),
            reason: error.to_string(),
        })?;
        let (entity, detail) = describe(&doc);
        *summary.counts.entry(entity.kind.to_string()).or_default() += 1;
        summary.entities.push((entity, detail));
    }
    let activations = rows.sorted_rows(TreeId::Activations);
    let count_prefix = |prefix: u8| {
        activations
            .iter()
            .filter(|(key, _)| key.first() == Some(&prefix))
            .count() as u64
    };
    summary
        .counts
        .insert("activations".into(), count_prefix(keys::ACTIVATION_BY_ID));
    summary.counts.insert(
        "pending invocations".into(),
        count_prefix(keys::PENDING_INVOCATION),
    );
    let key_rows = rows
        .sorted_rows(TreeId::ApiKeys)
        .iter()
        .filter(|(key, _)| *key != keys::CHECKPOINT_KEY)
        .count();
    summary.counts.insert("keys".into(), key_rows as u64);
    Ok(summary)
}

fn describe(doc: &EntityDoc) -> (EntityRef, String) {
    use crate::model::EntityKind;
    match doc {
        EntityDoc::Namespace(ns) => (
            EntityRef::new(&ns.name, EntityKind::Namespace, &ns.name),
            String::new(),
        ),
        EntityDoc::Action(action) => (
            EntityRef::new(
                &action.namespace,
                EntityKind::Action,
                action.name_in_namespace(),
            ),
            format!("version {} kind {}", action.version, action.exec.kind()),
        ),
        EntityDoc::Package(package) => (
            EntityRef::new(&package.namespace, EntityKind::Package, &package.name),
            match &package.binding {
                Some(binding) => format!(
                    "version {} bound to /{}/{}",
                    package.version, binding.namespace, binding.name
                ),
                None => format!("version {}", package.version),
            },
        ),
        EntityDoc::Trigger(trigger) => (
            EntityRef::new(&trigger.namespace, EntityKind::Trigger, &trigger.name),
            format!("version {}", trigger.version),
        ),
        EntityDoc::Rule(rule) => (
            EntityRef::new(&rule.namespace, EntityKind::Rule, &rule.name),
            format!(
                "{} {} -> {}",
                rule.status.as_str(),
                rule.trigger,
                rule.action
            ),
        ),
        EntityDoc::Feed(state) => (
            EntityRef::new(&state.feed.namespace, EntityKind::Feed, &state.feed.name),
            format!("fires {}", state.feed.trigger),
        ),
    }
}
