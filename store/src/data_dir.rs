//! `Store`: a Whirl data directory opened as a whole: the event log in `<dir>/log` and the
//! projections in `<dir>/projections`, kept in step, plus retention by age.

use crate::error::{Error, Result};
use crate::log::{EventLog, LogOptions, RetentionReport, SledEventLog};
use crate::projection::{ProjectionOptions, Projections};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The log's directory inside a data directory.
pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("log")
}

/// The projections' directory inside a data directory.
pub fn projections_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("projections")
}

/// How to open a [`Store`].
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    pub log: LogOptions,
    pub projections: ProjectionOptions,
}

/// A data directory: the log and its projections.
#[derive(Clone)]
pub struct Store {
    data_dir: PathBuf,
    log: SledEventLog,
    projections: Projections,
}

/// Refuses a data directory that holds something but no Whirl log.
pub(crate) fn check_data_dir(data_dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return Ok(());
    };
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io("list", data_dir))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    if !names.is_empty() && !names.iter().any(|name| name == "log") {
        names.sort();
        names.truncate(5);
        return Err(Error::NotAWhirlLog {
            path: data_dir.to_path_buf(),
            reason: format!("it holds {} but no log/ directory", names.join(", ")),
        });
    }
    Ok(())
}

impl Store {
    /// Opens (or creates) the data directory, catches the projections up and starts following.
    pub fn open(data_dir: impl AsRef<Path>, options: StoreOptions) -> Result<Self> {
        let data_dir = data_dir.as_ref();
        check_data_dir(data_dir)?;
        std::fs::create_dir_all(data_dir).map_err(Error::io("create", data_dir))?;
        let log = SledEventLog::open(log_dir(data_dir), options.log)?;
        let projections = Projections::open(projections_dir(data_dir), &log, options.projections)?;
        Ok(Self {
            data_dir: data_dir.to_path_buf(),
            log,
            projections,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn log(&self) -> &SledEventLog {
        &self.log
    }

    pub fn projections(&self) -> &Projections {
        &self.projections
    }

    /// Drops activation records that ended more than `max_age` before `now_ms`, through a
    /// snapshot, and waits until the projections have pruned them too.
    pub fn retain(&self, max_age: Duration, now_ms: u64) -> Result<RetentionReport> {
        let cutoff_ms =
            now_ms.saturating_sub(u64::try_from(max_age.as_millis()).unwrap_or(u64::MAX));
        let report = self.log.retain_before(cutoff_ms)?;
        if let Some(seq) = report.snapshot_seq {
            self.projections
                .wait_applied(seq, Duration::from_secs(600))?;
        }
        Ok(report)
    }

    /// The head of the log.
    pub fn head_seq(&self) -> u64 {
        self.log.head().map_or(0, |receipt| receipt.seq)
    }

    /// Appends `events`, awaits their durability, then awaits the projections applying them, so
    /// a read right after sees them (what an API handler wants after a PUT).
    pub async fn append_and_project(
        &self,
        events: Vec<crate::event::Event>,
    ) -> Result<Vec<crate::log::Receipt>> {
        let receipts = self.log.append(events).await?;
        if let Some(last) = receipts.last() {
            self.projections.wait_applied_async(last.seq).await?;
        }
        Ok(receipts)
    }

    /// [`Store::append_and_project`] for plain threads (not for async runtime threads).
    pub fn append_and_project_blocking(
        &self,
        events: Vec<crate::event::Event>,
        timeout: Duration,
    ) -> Result<Vec<crate::log::Receipt>> {
        let receipts = self.log.append(events).wait()?;
        if let Some(last) = receipts.last() {
            self.projections.wait_applied(last.seq, timeout)?;
        }
        Ok(receipts)
    }
}
