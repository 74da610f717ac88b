//! `LatencyHistogram`: a fixed-bucket histogram of durations made of atomics, cheap enough for a
//! hot path (one relaxed add per bucket hit, sum and count). The store's log writer and the
//! bridge's NATS bus keep their timings in it; the API turns a [`HistogramSnapshot`] into
//! Prometheus text. No metrics crate and no I/O here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (inclusive, in microseconds) for fast internal operations: 50 µs to 1 s.
pub const FAST_BUCKETS_MICROS: &[u64] = &[
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];

/// Upper bounds (inclusive, in microseconds) for function durations, Prometheus's default buckets:
/// 5 ms to 10 s.
pub const FUNCTION_BUCKETS_MICROS: &[u64] = &[
    5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
    10_000_000,
];

/// Counts of observations per bucket, their sum and count.
#[derive(Debug)]
pub struct LatencyHistogram {
    bounds_micros: &'static [u64],
    /// One per bound, then one for observations above the last bound.
    buckets: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    count: AtomicU64,
}

/// A consistent-enough copy of a histogram (each field read once; observations that land while
/// it is taken may be in some fields and not others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramSnapshot {
    /// Upper bounds in microseconds.
    pub bounds_micros: &'static [u64],
    /// Cumulative counts: `cumulative[i]` observations were <= `bounds_micros[i]`.
    pub cumulative: Vec<u64>,
    pub sum_micros: u64,
    pub count: u64,
}

impl LatencyHistogram {
    /// An empty histogram over `bounds_micros` (ascending).
    pub fn new(bounds_micros: &'static [u64]) -> Self {
        Self {
            bounds_micros,
            buckets: (0..=bounds_micros.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Records one duration.
    pub fn observe(&self, elapsed: Duration) {
        self.observe_micros(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    /// Records one duration given in microseconds.
    pub fn observe_micros(&self, micros: u64) {
        let index = self.bounds_micros.partition_point(|&bound| bound < micros);
        if let Some(bucket) = self.buckets.get(index) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The observations so far.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0u64;
        let cumulative = self
            .buckets
            .iter()
            .take(self.bounds_micros.len())
            .map(|bucket| {
                running += bucket.load(Ordering::Relaxed);
                running
            })
            .collect();
        HistogramSnapshot {
            bounds_micros: self.bounds_micros,
            cumulative,
            sum_micros: self.sum_micros.load(Ordering::Relaxed),
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let histogram = LatencyHistogram::new(&[10, 100, 1_000]);
        for micros in [0, 10, 11, 100, 999, 5_000] {
            histogram.observe_micros(micros);
        }
        histogram.observe(Duration::from_millis(1));
        let snapshot = histogram.snapshot();
        // <=10: 0, 10; <=100: + 11, 100; <=1000: + 999, 1000; above: 5000.
        assert_eq!(snapshot.cumulative, vec![2, 4, 6]);
        assert_eq!(snapshot.count, 7);
        assert_eq!(snapshot.sum_micros, 10 + 11 + 100 + 999 + 5_000 + 1_000);
    }
}
