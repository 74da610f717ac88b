//! The `meta` tree that marks a sled database as a Whirl event log (magic and format version) and
//! names the current log generation; plus the checks made before sled touches a directory.

use crate::error::{Error, Result};
use std::path::Path;

/// The log format this build reads and writes.
pub const LOG_FORMAT_VERSION: u16 = 1;

const META_TREE: &str = "meta";
const MAGIC_KEY: &[u8] = b"magic";
const MAGIC: &[u8] = b"whirl-event-log";
const FORMAT_KEY: &[u8] = b"format";
const GENERATION_KEY: &[u8] = b"generation";
const GENERATION_PREFIX: &str = "log.";

/// The sled tree holding generation `generation` of the log.
pub(crate) fn generation_tree_name(generation: u64) -> String {
    format!("{GENERATION_PREFIX}{generation:020}")
}

/// Refuses a directory that holds something other than a sled database, before sled would
/// create its files inside it. A missing or empty directory is fine (a new log).
pub(crate) fn check_directory(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(Error::io("inspect", path)(error)),
        Ok(meta) if !meta.is_dir() => {
            return Err(Error::NotAWhirlLog {
                path: path.to_path_buf(),
                reason: "it is not a directory".into(),
            })
        }
        Ok(_) => {}
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(path).map_err(Error::io("list", path))? {
        let entry = entry.map_err(Error::io("list", path))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    if names.is_empty() {
        return Ok(());
    }
    if !names.iter().any(|name| name == "db") || !names.iter().any(|name| name == "conf") {
        names.sort();
        names.truncate(5);
        return Err(Error::NotAWhirlLog {
            path: path.to_path_buf(),
            reason: format!("it holds files ({}) but no sled database", names.join(", ")),
        });
    }
    Ok(())
}

/// How long an open waits for the database lock that a handle of this same process is still
/// releasing (sled's I/O threads drop it shortly after the last handle goes).
const LOCK_RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether sled refused to open because another handle holds the directory's lock.
pub(crate) fn is_lock_held(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// Opens sled in `path`, waiting up to [`LOCK_RELEASE_WAIT`] for a lock being released; a lock
/// still held after that (a running server) is the caller's error.
pub(crate) fn open_sled(config: sled::Config) -> std::result::Result<sled::Db, sled::Error> {
    let deadline = std::time::Instant::now() + LOCK_RELEASE_WAIT;
    loop {
        match config.open() {
            Err(error) if is_lock_held(&error) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            outcome => return outcome,
        }
    }
}

/// Opens sled in `path` for the log, after [`check_directory`].
pub(crate) fn open_db(path: &Path, cache_capacity: u64) -> Result<sled::Db> {
    check_directory(path)?;
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(cache_capacity)
        .flush_every_ms(None);
    open_sled(config).map_err(Error::storage("open the database", path))
}

/// Validates the marker of an existing log, or writes it into a database that holds nothing yet.
/// Returns the current generation.
pub(crate) fn validate_or_init(db: &sled::Db, path: &Path) -> Result<u64> {
    let meta = db
        .open_tree(META_TREE)
        .map_err(Error::storage("open the meta tree", path))?;
    match meta
        .get(MAGIC_KEY)
        .map_err(Error::storage("read the meta tree", path))?
    {
        Some(magic) if magic.as_ref() == MAGIC => {}
        Some(other) => {
            return Err(Error::NotAWhirlLog {
                path: path.to_path_buf(),
                reason: format!(
                    "its marker is {:?}, not {:?}",
                    String::from_utf8_lossy(&other),
                    "whirl-event-log"
                ),
            })
        }
        None => return init(db, &meta, path),
    }
    let format = meta
        .get(FORMAT_KEY)
        .map_err(Error::storage("read the meta tree", path))?
        .and_then(|bytes| <[u8; 2]>::try_from(bytes.as_ref()).ok())
        .map(u16::from_le_bytes)
        .ok_or_else(|| Error::NotAWhirlLog {
            path: path.to_path_buf(),
            reason: "its format version is missing".into(),
        })?;
    if format > LOG_FORMAT_VERSION {
        return Err(Error::NewerFormat {
            path: path.to_path_buf(),
            what: "event log",
            found: format,
            supported: LOG_FORMAT_VERSION,
        });
    }
    current_generation(&meta, path)
}

fn init(db: &sled::Db, meta: &sled::Tree, path: &Path) -> Result<u64> {
    for name in db.tree_names() {
        let tree = db
            .open_tree(&name)
            .map_err(Error::storage("open a tree", path))?;
        if !tree.is_empty() {
            return Err(Error::NotAWhirlLog {
                path: path.to_path_buf(),
                reason: format!(
                    "it is a sled database without Whirl's marker, holding data in tree {:?}",
                    String::from_utf8_lossy(&name)
                ),
            });
        }
    }
    let mut batch = sled::Batch::default();
    batch.insert(FORMAT_KEY, &LOG_FORMAT_VERSION.to_le_bytes());
    batch.insert(GENERATION_KEY, &1u64.to_be_bytes());
    batch.insert(MAGIC_KEY, MAGIC);
    meta.apply_batch(batch)
        .map_err(Error::storage("initialise the meta tree", path))?;
    db.flush()
        .map_err(Error::storage("flush the new log", path))?;
    tracing::info!(path = %path.display(), "created a new event log");
    Ok(1)
}

fn current_generation(meta: &sled::Tree, path: &Path) -> Result<u64> {
    meta.get(GENERATION_KEY)
        .map_err(Error::storage("read the meta tree", path))?
        .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_ref()).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| Error::NotAWhirlLog {
            path: path.to_path_buf(),
            reason: "its current generation is missing".into(),
        })
}

/// Makes `generation` the current one (one atomic key write) and flushes.
pub(crate) fn switch_generation(db: &sled::Db, path: &Path, generation: u64) -> Result<()> {
    let meta = db
        .open_tree(META_TREE)
        .map_err(Error::storage("open the meta tree", path))?;
    meta.insert(GENERATION_KEY, &generation.to_be_bytes())
        .map_err(Error::storage("switch the log generation", path))?;
    db.flush()
        .map_err(Error::storage("flush the generation switch", path))?;
    Ok(())
}

/// Drops every log generation tree except `current` (left over by an interrupted retention).
pub(crate) fn drop_other_generations(db: &sled::Db, path: &Path, current: u64) -> Result<()> {
    let keep = generation_tree_name(current);
    for name in db.tree_names() {
        let name = String::from_utf8_lossy(&name).into_owned();
        if name.starts_with(GENERATION_PREFIX) && name != keep {
            tracing::warn!(path = %path.display(), tree = %name, "removing a log generation that is not current");
            db.drop_tree(name.as_bytes())
                .map_err(Error::storage("drop a stale log generation", path))?;
        }
    }
    Ok(())
}

/// The generation trees present, as (generation, tree name), for stats.
pub(crate) fn generation_trees(db: &sled::Db) -> Vec<String> {
    db.tree_names()
        .into_iter()
        .map(|name| String::from_utf8_lossy(&name).into_owned())
        .filter(|name| name.starts_with(GENERATION_PREFIX))
        .collect()
}
