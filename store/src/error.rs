//! The store's error type: every failure names what failed and where (path, tree, seq).

use std::path::PathBuf;

/// Errors of the store crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sled failed to {op} in {path}: {source}")]
    Storage {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("I/O failed to {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a Whirl data directory or event log: {reason}")]
    NotAWhirlLog { path: PathBuf, reason: String },
    #[error("{path} holds a Whirl {what} of format {found}, newer than this Whirl reads (up to {supported}): upgrade Whirl")]
    NewerFormat {
        path: PathBuf,
        what: &'static str,
        found: u16,
        supported: u16,
    },
    #[error("record {seq} in {path}: schema version {version} is unknown (this Whirl reads versions 1 to {supported}); it was written by a newer Whirl")]
    UnknownSchemaVersion {
        path: PathBuf,
        seq: u64,
        version: u16,
        supported: u16,
    },
    #[error("record {seq} in {path} is corrupt: {reason}")]
    CorruptRecord {
        path: PathBuf,
        seq: u64,
        reason: String,
    },
    #[error("could not encode {what}: {source}")]
    Encode {
        what: String,
        #[source]
        source: bincode::Error,
    },
    #[error("projection row {key} in tree {tree} is corrupt: {reason}")]
    CorruptRow {
        tree: &'static str,
        key: String,
        reason: String,
    },
    #[error("timed out after {waited_ms} ms waiting for {what}")]
    Timeout { what: String, waited_ms: u64 },
    #[error("projection {tree} in {path} is at seq {checkpoint}, past the log's head {head}: the projections do not belong to this log")]
    ProjectionAhead {
        path: PathBuf,
        tree: &'static str,
        checkpoint: u64,
        head: u64,
    },
    #[error("the event log writer for {path} failed earlier and takes no more appends: {reason}")]
    WriterFailed { path: PathBuf, reason: String },
    #[error("the event log {path} is closed")]
    Closed { path: PathBuf },
    #[error("invalid argument {what}: {reason}")]
    InvalidArgument { what: String, reason: String },
}

/// `Result` with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn storage(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(sled::Error) -> Error {
        let path = path.into();
        move |source| Error::Storage { op, path, source }
    }

    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }
}
