//! Labelled metric families: counters and histograms keyed by their label values, updated from
//! the log follower thread and from request handlers, read by the scrape.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use store::{HistogramSnapshot, LatencyHistogram};

/// The label values of one series, in the family's label order.
pub type LabelValues = Vec<String>;

/// Counters, one per combination of label values.
#[derive(Debug, Default)]
pub struct CounterFamily {
    series: Mutex<BTreeMap<LabelValues, u64>>,
}

impl CounterFamily {
    /// Adds `by` to the series of `labels`.
    pub fn add(&self, labels: &[&str], by: u64) {
        let key: LabelValues = labels.iter().map(|value| (*value).to_owned()).collect();
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        *series.entry(key).or_insert(0) += by;
    }

    /// Every series, ordered by label values.
    pub fn snapshot(&self) -> Vec<(LabelValues, u64)> {
        self.series
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(labels, value)| (labels.clone(), *value))
            .collect()
    }
}

/// Histograms over the same buckets, one per combination of label values.
#[derive(Debug)]
pub struct HistogramFamily {
    bounds_micros: &'static [u64],
    series: Mutex<BTreeMap<LabelValues, LatencyHistogram>>,
}

impl HistogramFamily {
    /// An empty family whose histograms use `bounds_micros`.
    pub fn new(bounds_micros: &'static [u64]) -> Self {
        Self {
            bounds_micros,
            series: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records one duration (in microseconds) in the series of `labels`.
    pub fn observe_micros(&self, labels: &[&str], micros: u64) {
        let key: LabelValues = labels.iter().map(|value| (*value).to_owned()).collect();
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        series
            .entry(key)
            .or_insert_with(|| LatencyHistogram::new(self.bounds_micros))
            .observe_micros(micros);
    }

    /// Every series, ordered by label values.
    pub fn snapshot(&self) -> Vec<(LabelValues, HistogramSnapshot)> {
        self.series
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(labels, histogram)| (labels.clone(), histogram.snapshot()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_kept_apart_by_their_label_values() {
        let counters = CounterFamily::default();
        counters.add(&["b", "200"], 1);
        counters.add(&["a", "200"], 2);
        counters.add(&["b", "200"], 3);
        assert_eq!(
            counters.snapshot(),
            vec![
                (vec!["a".to_owned(), "200".to_owned()], 2),
                (vec!["b".to_owned(), "200".to_owned()], 4)
            ]
        );
        let histograms = HistogramFamily::new(&[10, 100]);
        histograms.observe_micros(&["a"], 5);
        histograms.observe_micros(&["a"], 50);
        histograms.observe_micros(&["b"], 500);
        let snapshot = histograms.snapshot();
        assert_eq!(snapshot.len(), 2);
        assert_eq!(snapshot[0].1.cumulative, vec![1, 2]);
        assert_eq!(snapshot[1].1.cumulative, vec![0, 0]);
        assert_eq!(snapshot[1].1.count, 1);
    }
}
