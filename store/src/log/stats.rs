//! `LogWriterStats`: what the sled log's threads have done, in atomics the
//! API reads for `/metrics` (the store knows nothing about HTTP or Prometheus).

use crate::latency::{LatencyHistogram, FAST_BUCKETS_MICROS};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters and timings of one sled log.
#[derive(Debug)]
pub struct LogWriterStats {
    /// Appends acknowledged durable.
    appends: AtomicU64,
    /// Records made durable.
    records: AtomicU64,
    /// Groups of appends written in one sled batch.
    groups: AtomicU64,
    /// Appends answered with an error.
    failed_appends: AtomicU64,
    /// From an append handed to the writer to its acknowledgement (durable).
    pub append_latency: LatencyHistogram,
    /// One `flush` of the sled database (covers every group applied since the last one).
    pub flush_latency: LatencyHistogram,
}

/// A copy of the counters of [`LogWriterStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogWriterCounts {
    pub appends: u64,
    pub records: u64,
    pub groups: u64,
    pub failed_appends: u64,
}

impl Default for LogWriterStats {
    fn default() -> Self {
        Self {
            appends: AtomicU64::new(0),
            records: AtomicU64::new(0),
            groups: AtomicU64::new(0),
            failed_appends: AtomicU64::new(0),
            append_latency: LatencyHistogram::new(FAST_BUCKETS_MICROS),
            flush_latency: LatencyHistogram::new(FAST_BUCKETS_MICROS),
        }
    }
}

impl LogWriterStats {
    /// The counters now.
    pub fn counts(&self) -> LogWriterCounts {
        LogWriterCounts {
            appends: self.appends.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
            groups: self.groups.load(Ordering::Relaxed),
            failed_appends: self.failed_appends.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn group_written(&self, records: usize) {
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.records.fetch_add(
            u64::try_from(records).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn append_acknowledged(&self, waited: std::time::Duration) {
        self.appends.fetch_add(1, Ordering::Relaxed);
        self.append_latency.observe(waited);
    }

    pub(crate) fn append_failed(&self) {
        self.failed_appends.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use crate::log::{EventLog, LogOptions, SledEventLog};
    use crate::{ChangedBy, Event, NamespaceDoc, NamespaceLimits};

    fn namespace(name: &str) -> Event {
        Event::NamespaceCreated {
            namespace: NamespaceDoc {
                name: name.into(),
                limits: NamespaceLimits::default(),
                created_ms: 0,
            },
            by: ChangedBy::Admin,
        }
    }

    #[test]
    fn the_writer_counts_durable_appends_records_and_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let log = SledEventLog::open(dir.path(), LogOptions::default()).unwrap();
        assert_eq!(log.stats().counts().appends, 0);
        log.append_blocking(vec![namespace("a")]).unwrap();
        log.append_blocking(vec![namespace("b"), namespace("c")])
            .unwrap();
        let counts = log.stats().counts();
        assert_eq!(counts.appends, 2);
        assert_eq!(counts.records, 3);
        assert_eq!(counts.failed_appends, 0);
        assert!((1..=2).contains(&counts.groups), "{counts:?}");
        let appends = log.stats().append_latency.snapshot();
        assert_eq!(appends.count, 2);
        let flushes = log.stats().flush_latency.snapshot();
        assert!(flushes.count >= 1 && flushes.count <= counts.groups);
        // A flush is part of every append's wait.
        assert!(
            appends.sum_micros >= flushes.sum_micros / 2,
            "{appends:?} {flushes:?}"
        );
    }
}
