//! Where projection rows are written while events are applied: `SledRows` (pending writes over
//! the live sled trees, committed with their checkpoints in one batch per tree, paged regions
//! packed into pages) and `MemoryRows` (a scratch copy in memory, for replays). Both hold the
//! same logical rows; only `SledRows` packs them.

use super::keys::{self, TreeId, CHECKPOINT_KEY};
use super::logical_rows;
use super::paged_writes::PagedWrites;
use super::pages::{self, PageWrite, RegionError};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Bound;
use std::path::{Path, PathBuf};

/// The projection format; a tree whose checkpoint holds another format is rebuilt from zero.
pub const PROJECTION_FORMAT: u16 = 2;

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
    /// Pending writes of plain rows.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Pending writes of paged rows, one set per region of `keys::PAGED_REGIONS` (only the
    /// activations tree has any), sorted at commit.
    paged_writes: [PagedWrites; 2],
    /// The pending-invocation keys the activations tree holds, mirrored in memory so that
    /// applying an activation (which removes its pending row) does not read sled to learn that
    /// there is none. `None` for the other trees.
    known_pending: Option<HashSet<Vec<u8>>>,
}

/// Pending writes over the live trees. A write for a tree whose checkpoint already covers the
/// current event is ignored, so trees at different checkpoints catch up from one pass. Rows of
/// paged regions (`keys::PAGED_REGIONS`) are written into pages at commit.
pub(crate) struct SledRows {
    path: PathBuf,
    trees: Vec<PendingTree>,
    current_seq: u64,
}

impl SledRows {
    pub(crate) fn new(path: &Path, trees: &[sled::Tree; 3], checkpoints: [u64; 3]) -> Result<Self> {
        let mut pending = Vec::with_capacity(3);
        for ((tree, checkpoint), id) in trees.iter().zip(checkpoints).zip(TreeId::ALL) {
            let known_pending = match id {
                TreeId::Activations => {
                    let mut known = HashSet::new();
                    for entry in tree.scan_prefix([keys::PENDING_INVOCATION]) {
                        let (key, _) =
                            entry.map_err(Error::storage("list pending invocations", path))?;
                        known.insert(key.to_vec());
                    }
                    Some(known)
                }
                TreeId::Entities | TreeId::ApiKeys => None,
            };
            pending.push(PendingTree {
                tree: tree.clone(),
                checkpoint,
                writes: BTreeMap::new(),
                paged_writes: Default::default(),
                known_pending,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            trees: pending,
            current_seq: 0,
        })
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
            let op = match id {
                TreeId::Entities => "write the entities projection",
                TreeId::Activations => "write the activations projection",
                TreeId::ApiKeys => "write the api_keys projection",
            };
            let writes = std::mem::take(&mut pending.writes);
            let mut regions = std::mem::take(&mut pending.paged_writes);
            let page_writes =
                write_regions(&pending.tree, id, &mut regions).map_err(|error| match error {
                    RegionError::Storage(source) => Error::Storage {
                        op,
                        path: self.path.clone(),
                        source,
                    },
                    RegionError::BadPage(key, bad) => super::logical_rows::bad_page(id, &key, bad),
                })?;
            let mut batch = sled::Batch::default();
            for (key, page) in page_writes.into_iter().flatten() {
                match page {
                    Some(page) => batch.insert(key, page),
                    None => batch.remove(key),
                }
            }
            for (key, value) in &writes {
                match value {
                    Some(value) => batch.insert(key.as_slice(), value.as_slice()),
                    None => batch.remove(key.as_slice()),
                }
            }
            batch.insert(CHECKPOINT_KEY, encode_checkpoint(seq));
            pending
                .tree
                .apply_batch(batch)
                .map_err(|source| Error::Storage {
                    op,
                    path: self.path.clone(),
                    source,
                })?;
            pending.checkpoint = seq;
            if let Some(known) = &mut pending.known_pending {
                for (key, value) in writes {
                    if key.first() == Some(&keys::PENDING_INVOCATION) {
                        match value {
                            Some(_) => known.insert(key),
                            None => known.remove(&key),
                        };
                    }
                }
            }
        }
        Ok(())
    }

    fn writable(&self, tree: TreeId) -> bool {
        self.current_seq > self.trees[tree.index()].checkpoint
    }

    /// Whether the committed tree holds `key` (a removal of a key it does not hold needs no
    /// tombstone: sled pays per written key).
    fn committed_holds(&self, tree: TreeId, key: &[u8]) -> bool {
        let pending = &self.trees[tree.index()];
        if let Some(known) = &pending.known_pending {
            if key.first() == Some(&keys::PENDING_INVOCATION) {
                return known.contains(key);
            }
        }
        // If the read fails, write the tombstone.
        !matches!(pending.tree.contains_key(key), Ok(false))
    }
}

/// Below this many pending rows a commit sorts and pages its regions on this thread; above, one
/// thread per region (a rebuild's commit of a million activations is mostly this work).
const PARALLEL_REGION_WRITES: usize = 20_000;

/// Sorts each paged region's pending writes of tree `id` and merges them into its pages.
fn write_regions(
    tree: &sled::Tree,
    id: TreeId,
    regions: &mut [PagedWrites; 2],
) -> Result<Vec<Vec<PageWrite>>, RegionError> {
    let write = |region: &[u8], writes: &mut PagedWrites| {
        let mut out = Vec::new();
        pages::write_region(tree, region, &writes.sorted_last_wins(), &mut out)?;
        Ok(out)
    };
    let jobs: Vec<(&[u8], &mut PagedWrites)> = keys::PAGED_REGIONS
        .iter()
        .zip(regions.iter_mut())
        .filter(|((region_tree, _), writes)| *region_tree == id && !writes.is_empty())
        .map(|((_, region), writes)| (*region, writes))
        .collect();
    if jobs.iter().map(|(_, writes)| writes.len()).sum::<usize>() < PARALLEL_REGION_WRITES {
        return jobs
            .into_iter()
            .map(|(region, writes)| write(region, writes))
            .collect();
    }
    std::thread::scope(|scope| {
        let running: Vec<_> = jobs
            .into_iter()
            .map(|(region, writes)| scope.spawn(move || write(region, writes)))
            .collect();
        running
            .into_iter()
            .map(|thread| {
                thread.join().unwrap_or_else(|_| {
                    Err(RegionError::Storage(sled::Error::ReportableBug(
                        "a page-writing thread panicked".into(),
                    )))
                })
            })
            .collect()
    })
}

impl RowStore for SledRows {
    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let pending = &self.trees[tree.index()];
        if let Some(region) = keys::paged_region_index(tree, key) {
            let writes = &pending.paged_writes[region];
            if let Some((_, write)) = writes.iter().rev().find(|(k, _)| *k == key) {
                return Ok(write.map(<[u8]>::to_vec));
            }
        } else if let Some(write) = pending.writes.get(key) {
            return Ok(write.clone());
        }
        logical_rows::get(&self.path, &pending.tree, tree, key)
    }

    fn put(&mut self, tree: TreeId, key: Vec<u8>, value: Vec<u8>) {
        if !self.writable(tree) {
            return;
        }
        let pending = &mut self.trees[tree.index()];
        if let Some(region) = keys::paged_region_index(tree, &key) {
            pending.paged_writes[region].push(&key, Some(&value));
        } else {
            pending.writes.insert(key, Some(value));
        }
    }

    fn remove(&mut self, tree: TreeId, key: Vec<u8>) {
        if !self.writable(tree) {
            return;
        }
        let pending = &mut self.trees[tree.index()];
        if let Some(region) = keys::paged_region_index(tree, &key) {
            // A removal in a page costs no extra key: the page merge drops what is there.
            pending.paged_writes[region].push(&key, None);
            return;
        }
        if !self.committed_holds(tree, &key) {
            self.trees[tree.index()].writes.remove(&key);
            return;
        }
        self.trees[tree.index()].writes.insert(key, None);
    }

    fn scan_prefix(&self, tree: TreeId, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let pending = &self.trees[tree.index()];
        let mut rows: BTreeMap<Vec<u8>, Vec<u8>> =
            logical_rows::rows_with_prefix(&self.path, &pending.tree, tree, prefix)?
                .into_iter()
                .collect();
        let plain = pending
            .writes
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, write)| (key.as_slice(), write.as_deref()));
        let paged = pending
            .paged_writes
            .iter()
            .flat_map(PagedWrites::iter)
            .filter(|(key, _)| key.starts_with(prefix));
        for (key, write) in plain.chain(paged) {
            match write {
                Some(value) => rows.insert(key.to_vec(), value.to_vec()),
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
