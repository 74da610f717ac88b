//! Running many seeds and reporting: seed ranges, the sweep loop, and the text a failing seed
//! prints (its seed, the violated invariant and the last events that led there).

use crate::config::RunLimits;
use crate::error::{Error, Result};
use crate::world::{run_seed, RunOutcome};
use std::ops::Range;
use std::time::{Duration, Instant};

/// Parses `A..B` (B excluded).
pub fn parse_seed_range(input: &str) -> Result<Range<u64>> {
    let refuse = |reason: &str| Error::SeedRange {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let (a, b) = input
        .split_once("..")
        .ok_or_else(|| refuse("expected A..B"))?;
    let a: u64 = a.trim().parse().map_err(|_| refuse("A is not a number"))?;
    let b: u64 = b.trim().parse().map_err(|_| refuse("B is not a number"))?;
    if a >= b {
        return Err(refuse("A must be below B"));
    }
    Ok(a..b)
}

/// What a sweep found.
#[derive(Debug)]
pub struct SweepReport {
    pub seeds_run: u64,
    pub failures: Vec<RunOutcome>,
    pub elapsed: Duration,
    /// Events processed over all seeds.
    pub events: u64,
}

impl SweepReport {
    /// Seeds per second of wall-clock time.
    pub fn seeds_per_second(&self) -> f64 {
        self.seeds_run as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs every seed of `seeds` (stopping early after `stop_after_failures` failures, or once
/// `budget` of wall-clock time is spent, if given).
pub fn sweep(
    seeds: Range<u64>,
    limits: &RunLimits,
    stop_after_failures: usize,
    budget: Option<Duration>,
) -> SweepReport {
    let started = Instant::now();
    let mut report = SweepReport {
        seeds_run: 0,
        failures: Vec::new(),
        elapsed: Duration::ZERO,
        events: 0,
    };
    for seed in seeds {
        if budget.is_some_and(|b| started.elapsed() >= b) {
            break;
        }
        let outcome = run_seed(seed, limits);
        report.seeds_run += 1;
        report.events += outcome.stats.events;
        if !outcome.passed() {
            report.failures.push(outcome);
            if report.failures.len() >= stop_after_failures {
                break;
            }
        }
    }
    report.elapsed = started.elapsed();
    report
}

/// The one-line summary of a run.
pub fn summary(outcome: &RunOutcome) -> String {
    let s = &outcome.stats;
    format!(
        "seed {}: {} trace {:016x} ({} events, {} ms simulated, {} client ops, {} accepted, {} records, {} acknowledged appends, {} controller and {} invoker crashes)",
        outcome.seed,
        if outcome.passed() { "ok" } else { "FAILED" },
        outcome.trace_hash,
        s.events,
        s.simulated_ms,
        s.client_ops,
        s.invocations_accepted,
        s.records,
        s.acknowledged_appends,
        s.controller_crashes,
        s.invoker_crashes,
    )
}

/// The report of a failed run: seed, invariant, detail and the last events.
pub fn failure_report(outcome: &RunOutcome) -> String {
    let mut text = summary(outcome);
    if let Some(v) = &outcome.violation {
        text.push_str(&format!(
            "\n  violated: {}\n  at: {} ms\n  detail: {}\n  reproduce: cargo run -p simulations -- --seed {}\n  last {} events:",
            v.invariant,
            v.at.0.saturating_sub(crate::config::EPOCH_MS),
            v.detail,
            outcome.seed,
            outcome.recent.len()
        ));
        for line in &outcome.recent {
            text.push_str("\n    ");
            text.push_str(line);
        }
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_parse_or_name_the_problem() {
        assert_eq!(parse_seed_range("3..10").unwrap(), 3..10);
        assert!(parse_seed_range("10..3").is_err());
        assert!(parse_seed_range("x..3").is_err());
        let err = parse_seed_range("5").unwrap_err();
        assert!(err.to_string().contains("expected A..B"));
    }
}
