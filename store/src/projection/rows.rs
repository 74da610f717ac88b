//! Where projection rows are written while events are applied: `SledRows` (pending writes over
//! the live sled trees, committed with their checkpoints in one batch per tree) and `MemoryRows`
//! (a scratch copy in memory, for replays).

use super::keys::{TreeId, CHECKPOINT_KEY};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Bound;
use std::path::{Path, PathBuf};

/// The projection format; a tree whose checkpoint holds another format is rebuilt from zero.
pub const PROJECTION_FORMAT: u16 = 1;

/// Reading and writing rows while applying events.
pub(crate) trait RowStore {
    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>>;
    fn put(&mut self, tree: TreeId, key: Vec<u8>, value: Vec<u8>);
    fn remove(&mut self, tree: TreeId, key: Vec<u8>);
    fn scan_prefix(&self, tree: TreeId, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
}

/// The checkpoint value: projection format (u16 LE) then the last applied seq (u64 BE).
pub(crate) fn encode_checkpoint(seq: u64) -> Vec<u8> {
    let mut value = PROJECTION_FORMAT.to_le_bytes().to_vec();
    value.extend_from_slice(&seq.to_be_bytes());
    value
}

/// The seq of a checkpoint of the current format, `None` if it is of another format or malformed.
pub(crate) fn decode_checkpoint(value: &[u8]) -> Option<u64> {
    if value.len() != 10 || value[..2] != PROJECTION_FORMAT.to_le_bytes() {
        return None;
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&value[2..]);
    Some(u64::from_be_bytes(seq))
}

struct PendingTree {
    tree: sled::Tree,
    checkpoint: u64,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

/// Pending writes over the live trees. A write for a tree whose checkpoint already covers the
/// current event is ignored, so trees at different checkpoints catch up from one pass.
pub(crate) struct SledRows {
    path: PathBuf,
    trees: Vec<PendingTree>,
    current_seq: u64,
}

impl SledRows {
    pub(crate) fn new(path: &Path, trees: &[sled::Tree; 3], checkpoints: [u64; 3]) -> Self {
        Self {
            path: path.to_path_buf(),
            trees: trees
                .iter()
                .zip(checkpoints)
                .map(|(tree, checkpoint)| PendingTree {
                    tree: tree.clone(),
                    checkpoint,
                    writes: BTreeMap::new(),
                })
                .collect(),
            current_seq: 0,
        }
    }

    /// The event about to be applied.
    pub(crate) fn set_seq(&mut self, seq: u64) {
        self.current_seq = seq;
    }

    pub(crate) fn checkpoints(&self) -> [u64; 3] {
        [
            self.trees[0].checkpoint,
            self.trees[1].checkpoint,
            self.trees[2].checkpoint,
        ]
    }

    /// Writes every tree's pending rows with its checkpoint `seq`, one atomic batch per tree.
    pub(crate) fn commit(&mut self, seq: u64) -> Result<()> {
        for (pending, id) in self.trees.iter_mut().zip(TreeId::ALL) {
            if pending.checkpoint >= seq {
                continue;
            }
            let mut batch = sled::Batch::default();
            for (key, value) in std::mem::take(&mut pending.writes) {
                match value {
                    Some(value) => batch.insert(key, value),
                    None => batch.remove(key),
                }
            }
            batch.insert(CHECKPOINT_KEY, encode_checkpoint(seq));
            pending
                .tree
                .apply_batch(batch)
                .map_err(|source| Error::Storage {
                    op: match id {
                        TreeId::Entities => "write the entities projection",
                        TreeId::Activations => "write the activations projection",
                        TreeId::ApiKeys => "write the api_keys projection",
                    },
                    path: self.path.clone(),
                    source,
                })?;
            pending.checkpoint = seq;
        }
        Ok(())
    }

    fn writable(&self, tree: TreeId) -> bool {
        self.current_seq > self.trees[tree.index()].checkpoint
    }
}

impl RowStore for SledRows {
    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let pending = &self.trees[tree.index()];
        if let Some(write) = pending.writes.get(key) {
            return Ok(write.clone());
        }
        Ok(pending
            .tree
            .get(key)
            .map_err(Error::storage("read a projection row", &self.path))?
            .map(|value| value.to_vec()))
    }

    fn put(&mut self, tree: TreeId, key: Vec<u8>, value: Vec<u8>) {
        if self.writable(tree) {
            self.trees[tree.index()].writes.insert(key, Some(value));
        }
    }

    fn remove(&mut self, tree: TreeId, key: Vec<u8>) {
        if !self.writable(tree) {
            return;
        }
        let pending = &mut self.trees[tree.index()];
        // A key the tree does not hold needs no tombstone (sled pays per written key): drop a
        // write made earlier in this batch, or do nothing. If the read fails, write the tombstone.
        if let Ok(false) = pending.tree.contains_key(&key) {
            pending.writes.remove(&key);
            return;
        }
        pending.writes.insert(key, None);
    }

    fn scan_prefix(&self, tree: TreeId, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let pending = &self.trees[tree.index()];
        let mut rows = BTreeMap::new();
        for entry in pending.tree.scan_prefix(prefix) {
            let (key, value) = entry.map_err(Error::storage("scan a projection", &self.path))?;
            rows.insert(key.to_vec(), value.to_vec());
        }
        for (key, write) in pending
            .writes
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
        {
            if !key.starts_with(prefix) {
                break;
            }
            match write {
                Some(value) => rows.insert(key.clone(), value.clone()),
                None => rows.remove(key),
            };
        }
        Ok(rows.into_iter().collect())
    }
}

/// Projection rows in memory: the scratch place of a replay. Hash maps while applying (a
/// replay is write-heavy); sorted only when read in key order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemoryRows {
    pub(crate) trees: [HashMap<Vec<u8>, Vec<u8>, BuildHasherDefault<RowHasher>>; 3],
}

/// A fast non-cryptographic hasher (the Fx hash of rustc) for the replay's row maps: the keys
/// come from Whirl's own log, so there is no hash-flooding adversary to defend against.
#[derive(Debug, Default, Clone, Copy)]
pub struct RowHasher(u64);

impl Hasher for RowHasher {
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(SEED);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(SEED);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl MemoryRows {
    /// Empty rows with room for about `records` records' rows.
    pub fn with_capacity(records: usize) -> Self {
        let mut rows = Self::default();
        rows.trees[TreeId::Activations.index()].reserve(records.saturating_mul(2));
        rows
    }

    /// The rows of one tree, in key order (as sled stores them).
    pub fn sorted_rows(&self, tree: TreeId) -> Vec<(&[u8], &[u8])> {
        let mut rows: Vec<(&[u8], &[u8])> = self.trees[tree.index()]
            .iter()
            .map(|(key, value)| (key.as_slice(), value.as_slice()))
            .collect();
        rows.sort_unstable_by(|a, b| a.0.cmp(b.0));
        rows
    }

    /// How many rows one tree holds.
    pub fn row_count(&self, tree: TreeId) -> usize {
        self.trees[tree.index()].len()
    }

    /// Writes every tree's checkpoint, as a live projection at `seq` holds it.
    pub(crate) fn set_checkpoints(&mut self, seq: u64) {
        for tree in &mut self.trees {
            tree.insert(CHECKPOINT_KEY.to_vec(), encode_checkpoint(seq));
        }
    }
}

impl RowStore for MemoryRows {
    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.trees[tree.index()].get(key).cloned())
    }

    fn put(&mut self, tree: TreeId, key: Vec<u8>, value: Vec<u8>) {
        self.trees[tree.index()].insert(key, value);
    }

    fn remove(&mut self, tree: TreeId, key: Vec<u8>) {
        self.trees[tree.index()].remove(&key);
    }

    fn scan_prefix(&self, tree: TreeId, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut rows: Vec<(Vec<u8>, Vec<u8>)> = self.trees[tree.index()]
            .iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        rows.sort_unstable();
        Ok(rows)
    }
}
