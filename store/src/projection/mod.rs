//! Projections: the read models kept in step with the log, in their own sled database. Three
//! trees (entities, activations, API keys), each holding its rows and its checkpoint, written
//! together in one atomic batch. The activation indexes are packed in pages and point at the
//! records in the log. On open they catch up from their checkpoints; then a follower thread
//! applies new records as they commit (`follow`: activations are committed in groups gathered
//! for up to `follow_gather`, anything else and any reader in `wait_applied` at once).

mod applied;
pub(crate) mod apply;
mod catch_up;
mod entity_doc;
mod follow;
pub mod keys;
pub(crate) mod logical_rows;
mod paged_writes;
mod pages;
mod queries;
pub(crate) mod rows;
mod varint;

pub use entity_doc::{EntityDoc, FeedState};
pub use keys::TreeId;
pub use queries::ActivationQuery;
pub use rows::{MemoryRows, PROJECTION_FORMAT};

use crate::error::{Error, Result};
use crate::log::{meta, CommittedRecords, EventLog};
use applied::AppliedSignal;
use rows::{decode_checkpoint, SledRows};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How to open [`Projections`].
#[derive(Debug, Clone)]
pub struct ProjectionOptions {
    /// The most records applied (and committed) in one batch while catching up on open. Large,
    /// because every commit rewrites each page of the by-id index that it touches (activation
    /// ids are random, so a large batch touches them all); the rows of one batch are held in
    /// memory until it commits (about 200 bytes per activation).
    pub batch_events: usize,
    /// The most records applied in one batch while following the log: small, so that an entity
    /// change waits behind at most this many activations before it is readable.
    pub follow_batch_events: usize,
    /// The longest records of activations wait, applied, before the follower commits them
    /// (entity changes and readers in `wait_applied` never wait): one commit per group instead
    /// of one per record. 100 ms by default: under `whirl bench invoke -c 8` the server's CPU per
    /// invocation fell by about a tenth from 10 to 50 ms and flattened out past 100 ms
    /// (docs/benchmarks.md). See `follow.rs`.
    pub follow_gather: Duration,
    /// sled's page cache, in bytes.
    pub cache_bytes: u64,
}

impl Default for ProjectionOptions {
    fn default() -> Self {
        Self {
            batch_events: 1_000_000,
            follow_batch_events: 1_000,
            follow_gather: Duration::from_millis(100),
            cache_bytes: 256 * 1024 * 1024,
        }
    }
}

/// The read models. Cheap to clone; the follower stops when the last clone is dropped.
#[derive(Clone)]
pub struct Projections {
    shared: Arc<ProjectionsShared>,
    _follower: Arc<Follower>,
}

pub(crate) struct ProjectionsShared {
    pub(crate) path: PathBuf,
    pub(crate) db: sled::Db,
    pub(crate) trees: [sled::Tree; 3],
    /// The log the projections follow: activation documents are read from it by seq.
    pub(crate) records: Arc<dyn CommittedRecords>,
    applied: AppliedSignal,
}

struct Follower {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            if thread.join().is_err() {
                tracing::error!("the projection follower thread panicked");
            }
        }
    }
}

/// Opens the projection database and its trees, resetting any tree of another projection format.
/// Returns the database, the trees and their checkpoints.
pub(crate) fn open_trees(
    dir: &Path,
    cache_bytes: u64,
) -> Result<(sled::Db, [sled::Tree; 3], [u64; 3])> {
    meta::check_directory(dir)?;
    let db = meta::open_sled(sled::Config::new().path(dir).cache_capacity(cache_bytes))
        .map_err(Error::storage("open the projections database", dir))?;
    let open = |id: TreeId| {
        db.open_tree(id.name())
            .map_err(Error::storage("open a projection tree", dir))
    };
    let trees = [
        open(TreeId::Entities)?,
        open(TreeId::Activations)?,
        open(TreeId::ApiKeys)?,
    ];
    let mut checkpoints = [0u64; 3];
    for (index, tree) in trees.iter().enumerate() {
        let stored = tree
            .get(keys::CHECKPOINT_KEY)
            .map_err(Error::storage("read a projection checkpoint", dir))?;
        checkpoints[index] = match stored {
            Some(value) => match decode_checkpoint(&value) {
                Some(seq) => seq,
                None => {
                    tracing::warn!(path = %dir.display(), tree = TreeId::ALL[index].name(), "projection of another format: rebuilding it from zero");
                    tree.clear()
                        .map_err(Error::storage("clear a projection tree", dir))?;
                    0
                }
            },
            None if !tree.is_empty() => {
                return Err(Error::NotAWhirlLog {
                    path: dir.to_path_buf(),
                    reason: format!(
                        "tree {} holds rows but no checkpoint",
                        TreeId::ALL[index].name()
                    ),
                })
            }
            None => 0,
        };
    }
    Ok((db, trees, checkpoints))
}

impl Projections {
    /// Opens the projections in `dir`, catches them up with `log` (from each tree's checkpoint,
    /// never re-applying what is applied) and starts following the log.
    pub fn open(
        dir: impl AsRef<Path>,
        log: &dyn EventLog,
        options: ProjectionOptions,
    ) -> Result<Self> {
        let dir = dir.as_ref();
        let (db, trees, checkpoints) = open_trees(dir, options.cache_bytes)?;
        let head = log.head().map_or(0, |receipt| receipt.seq);
        for (index, checkpoint) in checkpoints.iter().enumerate() {
            if *checkpoint > head {
                return Err(Error::ProjectionAhead {
                    path: dir.to_path_buf(),
                    tree: TreeId::ALL[index].name(),
                    checkpoint: *checkpoint,
                    head,
                });
            }
        }
        let start = checkpoints.iter().copied().min().unwrap_or(0);
        let mut rows = SledRows::new(dir, &trees, checkpoints)?;
        let mut subscription = log.subscribe(start + 1);
        let started = Instant::now();
        let caught_up =
            catch_up::catch_up(dir, &mut rows, &mut subscription, options.batch_events)?;
        let applied = rows
            .checkpoints()
            .into_iter()
            .min()
            .unwrap_or(0)
            .max(subscription.next_seq() - 1);
        tracing::info!(
            path = %dir.display(),
            from_seq = start + 1,
            records = caught_up,
            applied_seq = applied,
            millis = started.elapsed().as_millis() as u64,
            "projections caught up"
        );
        let shared = Arc::new(ProjectionsShared {
            path: dir.to_path_buf(),
            db,
            trees,
            records: log.committed_records(),
            applied: AppliedSignal::new(applied),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            let batch_events = options.follow_batch_events.max(1);
            let gather = options.follow_gather;
            std::thread::Builder::new()
                .name("whirl-projector".into())
                .spawn(move || {
                    follow::follow(shared, rows, subscription, batch_events, gather, stop)
                })
                .map_err(Error::io("start the projector thread for", dir))?
        };
        Ok(Self {
            shared,
            _follower: Arc::new(Follower {
                stop,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Where the projections live.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The last seq applied to every tree.
    pub fn applied_seq(&self) -> u64 {
        self.shared.applied.get().seq
    }

    /// Blocks until the record at `seq` is applied (read your own writes).
    pub fn wait_applied(&self, seq: u64, timeout: Duration) -> Result<()> {
        self.shared.applied.want(seq);
        self.shared.records.demand(seq);
        let state = self.shared.applied.wait_for(seq, timeout);
        self.check_applied(seq, state.seq, state.failure, timeout)
    }

    /// Awaits until the record at `seq` is applied.
    pub async fn wait_applied_async(&self, seq: u64) -> Result<()> {
        self.shared.applied.want(seq);
        self.shared.records.demand(seq);
        let mut watch = self.shared.applied.watch();
        loop {
            let state = self.shared.applied.get();
            if state.seq >= seq || state.failure.is_some() {
                return self.check_applied(seq, state.seq, state.failure, Duration::ZERO);
            }
            if watch.changed().await.is_err() {
                return Err(Error::Closed {
                    path: self.shared.path.clone(),
                });
            }
        }
    }

    fn check_applied(
        &self,
        seq: u64,
        applied: u64,
        failure: Option<String>,
        waited: Duration,
    ) -> Result<()> {
        if applied >= seq {
            return Ok(());
        }
        if let Some(reason) = failure {
            return Err(Error::WriterFailed {
                path: self.shared.path.clone(),
                reason,
            });
        }
        Err(Error::Timeout {
            what: format!(
                "projections in {} to apply seq {seq} (applied {applied})",
                self.shared.path.display()
            ),
            waited_ms: waited.as_millis() as u64,
        })
    }

    /// Makes every applied row durable now (they are otherwise flushed by sled in the background;
    /// after a crash the projections catch up from their checkpoints anyway).
    pub fn flush(&self) -> Result<()> {
        self.shared
            .db
            .flush()
            .map(|_| ())
            .map_err(Error::storage("flush the projections", &self.shared.path))
    }

    pub(crate) fn shared(&self) -> &ProjectionsShared {
        &self.shared
    }
}
