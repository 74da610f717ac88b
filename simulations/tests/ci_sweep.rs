//! The CI sweep: a fixed range of seeds, bounded so it runs in about 20 s in a debug build on two
//! cores, fails the build on any invariant violation and prints the seeds per second.
//!
//! Measured (debug build, 2 cores, `cargo test -p simulations --test ci_sweep -- --nocapture`):
//! see docs/benchmarks.md, section "Simulation".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use simulations::config::RunLimits;
use simulations::sweep::{failure_report, sweep};
use std::time::Instant;

/// Seeds in the sweep; with 5 s of simulated activity each this fits in ~20 s of a debug build.
const SEEDS: u64 = 1_500;

fn limits() -> RunLimits {
    RunLimits {
        time_ms: 5_000,
        ..RunLimits::default()
    }
}

#[test]
fn sweep_finds_no_violation() {
    let started = Instant::now();
    let threads = 2u64;
    let per_thread = SEEDS / threads;
    let reports: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || sweep(t * per_thread..(t + 1) * per_thread, &limits(), 1, None))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let seeds: u64 = reports.iter().map(|r| r.seeds_run).sum();
    let events: u64 = reports.iter().map(|r| r.events).sum();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "ci sweep: {seeds} seeds, {events} events in {elapsed:.1} s: {:.0} seeds/s, {:.0} events/s ({threads} threads)",
        seeds as f64 / elapsed,
        events as f64 / elapsed
    );
    let failures: Vec<String> = reports
        .iter()
        .flat_map(|r| r.failures.iter().map(failure_report))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(seeds, per_thread * threads);
}
