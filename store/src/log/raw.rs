//! `RawLog`: a log's sled database opened and validated, without a writer: the raw records of the
//! current generation, for the writer's start-up and for audits of a possibly damaged log.

use super::frame;
use super::meta;
use super::record::{key_of_seq, seq_of_key};
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
            return Err(Error::NotAWhirlLog {
                path: path.to_path_buf(),
                reason: "there is no event log there".into(),
            });
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
        Ok(Self {
            path: path.to_path_buf(),
            db,
            generation,
            tree,
        })
    }

    /// Where the log lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current generation (1 until the first retention).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Every record of the current generation as (seq, bytes), in seq order. A damaged frame
    /// yields `Error::CorruptRecord` naming the seq of the first record it cannot read.
    pub fn records(&self) -> impl Iterator<Item = Result<(u64, Vec<u8>)>> + '_ {
        frame_records(&self.path, &self.tree)
    }

    /// The last record, if any.
    pub fn last_record(&self) -> Result<Option<(u64, Vec<u8>)>> {
        let last = self
            .tree
            .last()
            .map_err(Error::storage("read the log's last frame", &self.path))?;
        let Some((key, frame_bytes)) = last else {
            return Ok(None);
        };
        let first_seq = seq_of_key(&self.path, &key)?;
        match frame::records(first_seq, &frame_bytes).pop() {
            Some(Ok((seq, bytes))) => Ok(Some((seq, bytes.to_vec()))),
            Some(Err((seq, reason))) => Err(Error::CorruptRecord {
                path: self.path.clone(),
                seq,
                reason,
            }),
            None => Err(Error::CorruptRecord {
                path: self.path.clone(),
                seq: first_seq,
                reason: "empty frame".into(),
            }),
        }
    }

    /// The seq of the last record (0 when empty or unreadable), for progress totals.
    pub fn head_seq_hint(&self) -> u64 {
        self.last_record().ok().flatten().map_or(0, |(seq, _)| seq)
    }

    /// Replaces the bytes of record `seq` inside its frame, for fault-injection tests and
    /// forensics (nothing in Whirl rewrites a record: the log is append-only).
    pub fn replace_record(&self, seq: u64, bytes: &[u8]) -> Result<()> {
        let no_such_record = || Error::InvalidArgument {
            what: format!("seq {seq}"),
            reason: "no such record".into(),
        };
        let entry = self
            .tree
            .range(..=key_of_seq(seq))
            .next_back()
            .ok_or_else(no_such_record)?;
        let (key, frame_bytes) = entry.map_err(Error::storage("read the log", &self.path))?;
        let first_seq = seq_of_key(&self.path, &key)?;
        let mut rebuilt = Vec::with_capacity(frame_bytes.len());
        let mut found = false;
        for record in frame::records(first_seq, &frame_bytes) {
            let (record_seq, record_bytes) =
                record.map_err(|(seq, reason)| Error::CorruptRecord {
                    path: self.path.clone(),
                    seq,
                    reason,
                })?;
            found |= record_seq == seq;
            frame::push_record(
                &mut rebuilt,
                if record_seq == seq {
                    bytes
                } else {
                    record_bytes
                },
            );
        }
        if !found {
            return Err(no_such_record());
        }
        self.tree
            .insert(key, rebuilt)
            .map_err(Error::storage("rewrite a frame", &self.path))?;
        self.db
            .flush()
            .map_err(Error::storage("flush", &self.path))?;
        Ok(())
    }

    /// The number of frames in the current generation (one per group commit, or per 4096 records).
    pub fn frames(&self) -> usize {
        self.tree.len()
    }

    /// The names of the generation trees present (more than one only mid-retention).
    pub fn generation_trees(&self) -> Vec<String> {
        meta::generation_trees(&self.db)
    }

    /// Bytes sled uses on disk for the whole database.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.db
            .size_on_disk()
            .map_err(Error::storage("measure the database", &self.path))
    }
}

/// Every record of `tree` as (seq, bytes), frame by frame; stops after the first damaged frame.
pub(crate) fn frame_records<'a>(
    path: &'a Path,
    tree: &sled::Tree,
) -> impl Iterator<Item = Result<(u64, Vec<u8>)>> + 'a {
    let mut failed = false;
    tree.iter().flat_map(move |entry| {
        if failed {
            return Vec::new();
        }
        let found: Vec<Result<(u64, Vec<u8>)>> =
            match entry.map_err(Error::storage("read the log", path)) {
                Err(error) => vec![Err(error)],
                Ok((key, frame_bytes)) => match seq_of_key(path, &key) {
                    Err(error) => vec![Err(error)],
                    Ok(first_seq) => frame::records(first_seq, &frame_bytes)
                        .into_iter()
                        .map(|record| match record {
                            Ok((seq, bytes)) => Ok((seq, bytes.to_vec())),
                            Err((seq, reason)) => Err(Error::CorruptRecord {
                                path: path.to_path_buf(),
                                seq,
                                reason,
                            }),
                        })
                        .collect(),
                },
            };
        failed = found.iter().any(Result::is_err);
        found
    })
}
