//! `RawLog`: a log's sled database opened and validated, without a writer: the raw records of the
//! current generation, for the writer's start-up and for audits of a possibly damaged log.

use super::meta;
use super::record::seq_of_key;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The default sled page cache for a log: 256 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// A validated Whirl log database and its current generation tree.
pub struct RawLog {
    pub(crate) path: PathBuf,
    pub(crate) db: sled::Db,
    pub(crate) generation: u64,
    pub(crate) tree: sled::Tree,
}

impl RawLog {
    /// Opens (or creates) the log in `path`; refuses a directory that is not a Whirl log and a
    /// log of a newer format; removes a log generation left behind by an interrupted retention.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Opens an existing log for auditing: a missing or empty directory is an error, not a new log.
    pub fn open_existing(path: &Path) -> Result<Self> {
        let empty = match std::fs::read_dir(path) {
            Ok(mut entries) => entries.next().is_none(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => true,
            Err(error) => return Err(Error::io("list", path)(error)),
        };
        if empty {
            return Err(Error::NotAWhirlLog { path: path.to_path_buf(), reason: "there is no event log there".into() });
        }
        Self::open(path)
    }

    pub(crate) fn open_with_cache(path: &Path, cache_bytes: u64) -> Result<Self> {
        let db = meta::open_db(path, cache_bytes)?;
        let generation = meta::validate_or_init(&db, path)?;
        meta::drop_other_generations(&db, path, generation)?;
        let tree = db
            .open_tree(meta::generation_tree_name(generation))
            .map_err(Error::storage("open the current log generation", path))?;
        Ok(Self { path: path.to_path_buf(), db, generation, tree })
    }

    /// Where the log lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current generation (1 until the first retention).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Every record of the current generation as (seq from its key, bytes), in seq order.
    pub fn records(&self) -> impl Iterator<Item = Result<(u64, sled::IVec)>> + '_ {
        self.tree.iter().map(move |entry| {
            let (key, value) = entry.map_err(Error::storage("read the log", &self.path))?;
            Ok((seq_of_key(&self.path, &key)?, value))
        })
    }

    /// The last record, if any.
    pub fn last_record(&self) -> Result<Option<(u64, sled::IVec)>> {
        match self.tree.last().map_err(Error::storage("read the log's last record", &self.path))? {
            Some((key, value)) => Ok(Some((seq_of_key(&self.path, &key)?, value))),
            None => Ok(None),
        }
    }

    /// The number of records in the current generation.
    pub fn len(&self) -> usize {
        self.tree.len()
    }

    /// Whether the current generation holds no record.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// The names of the generation trees present (more than one only mid-retention).
    pub fn generation_trees(&self) -> Vec<String> {
        meta::generation_trees(&self.db)
    }

    /// Bytes sled uses on disk for the whole database.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.db.size_on_disk().map_err(Error::storage("measure the database", &self.path))
    }
}
