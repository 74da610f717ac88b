//! `Progress`: how far a long audit run has got, reported through a callback.

/// A progress report: `done` records of `total` in stage `stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: &'static str,
    pub done: u64,
    pub total: u64,
}

/// How often (in records) audits report progress.
pub(crate) const EVERY: u64 = 10_000;

pub(crate) fn report(
    callback: &mut dyn FnMut(Progress),
    stage: &'static str,
    done: u64,
    total: u64,
) {
    if done.checked_rem(EVERY) == Some(0) || done == total {
        callback(Progress { stage, done, total });
    }
}
