//! One seed determines everything: the same seed gives the same trace hash, run after run, and
//! different seeds give different runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use simulations::config::RunLimits;
use simulations::world::run_seed;
use std::collections::BTreeSet;

#[test]
fn a_seed_replays_bit_for_bit() {
    let limits = RunLimits::default();
    for seed in [0u64, 7, 42, 1234] {
        let first = run_seed(seed, &limits);
        let second = run_seed(seed, &limits);
        assert!(first.passed(), "seed {seed}: {:?}", first.violation);
        assert_eq!(first.trace_hash, second.trace_hash, "seed {seed}");
        assert_eq!(first.stats, second.stats, "seed {seed}");
        assert!(
            first.stats.invocations_accepted > 0,
            "seed {seed} did nothing"
        );
    }
}

#[test]
fn seeds_differ() {
    let limits = RunLimits {
        time_ms: 2_000,
        ..RunLimits::default()
    };
    let hashes: BTreeSet<u64> = (0..20).map(|s| run_seed(s, &limits).trace_hash).collect();
    assert_eq!(hashes.len(), 20);
}
