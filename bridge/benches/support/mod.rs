//! Shared by the bridge benches: percentiles of timed samples and a printed summary line.
#![allow(dead_code)]

use std::time::Duration;

/// p50/p90/p99/min/max of a set of samples.
pub struct Summary {
    pub name: String,
    pub count: usize,
    pub min: Duration,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    pub fn of(name: &str, samples: &mut [Duration]) -> Summary {
        samples.sort();
        let at = |q: f64| {
            let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples[index.min(samples.len() - 1)]
        };
        Summary {
            name: name.to_string(),
            count: samples.len(),
            min: samples[0],
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: samples[samples.len() - 1],
        }
    }

    pub fn print(&self) {
        println!(
            "{:<44} n={:<5} p50={:>9} p90={:>9} p99={:>9} min={:>9} max={:>9}",
            self.name,
            self.count,
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.min),
            ms(self.max)
        );
    }

    /// `self` against `baseline`, as p50 and p99 ratios.
    pub fn print_ratio(&self, baseline: &Summary) {
        println!(
            "{:<44} p50 ratio {:.3}x, p99 ratio {:.3}x (vs {})",
            format!("  {}", self.name),
            self.p50.as_secs_f64() / baseline.p50.as_secs_f64(),
            self.p99.as_secs_f64() / baseline.p99.as_secs_f64(),
            baseline.name
        );
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.3}ms", d.as_secs_f64() * 1000.0)
}

/// The sample count from `WHIRL_BENCH_RUNS` or the default.
pub fn runs(default: usize) -> usize {
    std::env::var("WHIRL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The tokio runtime of a bench: multi-threaded with 2 workers (as `whirl serve` runs), or
/// single-threaded with `WHIRL_BENCH_RUNTIME=current`.
pub fn runtime() -> tokio::runtime::Runtime {
    let current = std::env::var("WHIRL_BENCH_RUNTIME").is_ok_and(|v| v == "current");
    let mut builder = if current {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(2);
        builder
    };
    println!(
        "tokio runtime: {}",
        if current {
            "current thread"
        } else {
            "multi-thread, 2 workers"
        }
    );
    builder.enable_all().build().expect("a tokio runtime")
}
