//! Latency samples of one bench phase and what the report says about them: count, throughput,
//! p50/p90/p99, CPU time per request.

use super::cpu::{per_request_micros, CpuUse};
use std::time::Duration;

/// What one phase measured.
#[derive(Debug, Clone, Default)]
pub struct PhaseStats {
    /// Latencies of the successful requests inside the measured window, in microseconds.
    pub micros: Vec<u32>,
    /// Requests that failed inside the window.
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// How long the measured window lasted.
    pub window: Duration,
    /// CPU spent over the window (what the meter could read).
    pub cpu: CpuUse,
}

/// The summary the report prints.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Summary {
    pub requests: u64,
    pub errors: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    /// The server's CPU time per successful request, in microseconds.
    #[serde(rename = "server_cpu_us_per_request")]
    pub server_cpu_us: Option<f64>,
    /// The whole machine's busy time per successful request, in microseconds.
    #[serde(rename = "machine_cpu_us_per_request")]
    pub machine_cpu_us: Option<f64>,
}

impl PhaseStats {
    /// Merges the samples of several workers of the same window.
    pub fn merge(parts: Vec<PhaseStats>, window: Duration, cpu: CpuUse) -> PhaseStats {
        let mut all = PhaseStats {
            window,
            cpu,
            ..PhaseStats::default()
        };
        for part in parts {
            all.micros.extend(part.micros);
            all.errors += part.errors;
            if all.first_error.is_none() {
                all.first_error = part.first_error;
            }
        }
        all
    }

    pub fn summary(&self) -> Summary {
        let mut sorted = self.micros.clone();
        sorted.sort_unstable();
        let seconds = self.window.as_secs_f64();
        Summary {
            requests: sorted.len() as u64,
            errors: self.errors,
            per_second: if seconds > 0.0 {
                sorted.len() as f64 / seconds
            } else {
                0.0
            },
            p50_ms: percentile_ms(&sorted, 0.50),
            p90_ms: percentile_ms(&sorted, 0.90),
            p99_ms: percentile_ms(&sorted, 0.99),
            server_cpu_us: per_request_micros(self.cpu.server_seconds, sorted.len() as u64),
            machine_cpu_us: per_request_micros(self.cpu.machine_seconds, sorted.len() as u64),
        }
    }
}

/// The `q` quantile (nearest rank) of sorted microseconds, in milliseconds; 0 when empty.
pub fn percentile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    f64::from(sorted[index]) / 1000.0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile_ms(&sorted, 0.50), 50.0);
        assert_eq!(percentile_ms(&sorted, 0.90), 90.0);
        assert_eq!(percentile_ms(&sorted, 0.99), 99.0);
        assert_eq!(percentile_ms(&[7000], 0.99), 7.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }

    #[test]
    fn merged_workers_give_throughput_over_the_window() {
        let a = PhaseStats {
            micros: vec![1000, 3000],
            errors: 1,
            first_error: Some("HTTP 429".into()),
            window: Duration::ZERO,
            cpu: CpuUse::default(),
        };
        let b = PhaseStats {
            micros: vec![2000, 4000],
            ..PhaseStats::default()
        };
        let cpu = CpuUse {
            server_seconds: Some(0.002),
            machine_seconds: None,
        };
        let summary = PhaseStats::merge(vec![a, b], Duration::from_secs(2), cpu).summary();
        assert_eq!(summary.requests, 4);
        assert_eq!(summary.errors, 1);
        assert_eq!(summary.per_second, 2.0);
        assert_eq!(summary.p50_ms, 2.0);
        assert_eq!(summary.p99_ms, 4.0);
        assert_eq!(summary.server_cpu_us, Some(500.0));
        assert_eq!(summary.machine_cpu_us, None);
    }
}
