//! Proof that the simulator catches bugs: with the known bug armed in the container pool (a warm
//! container is reused for another version of the same action), a seed finds it, names the broken
//! invariant, and replays it bit for bit; the same seeds pass without the bug.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use simulations::config::{RunLimits, SimConfig};
use simulations::invariants::Invariant;
use simulations::world::run_config;

fn limits() -> RunLimits {
    RunLimits {
        time_ms: 5_000,
        ..RunLimits::default()
    }
}

fn with_bug(seed: u64) -> SimConfig {
    let mut sim = SimConfig::from_seed(seed);
    sim.pool.planted_bug_reuse_across_versions = true;
    sim
}

#[test]
fn a_seed_finds_the_planted_bug_and_replays_it() {
    let found = (0..200u64)
        .map(|seed| (seed, run_config(with_bug(seed), &limits())))
        .find(|(_, outcome)| !outcome.passed());
    let (seed, outcome) = found.expect("no seed in 0..200 found the planted bug");
    let violation = outcome.violation.clone().unwrap();
    assert_eq!(
        violation.invariant,
        Invariant::ContainerIdentity,
        "seed {seed}: {violation}"
    );
    println!("{}", simulations::sweep::failure_report(&outcome));
    assert!(
        !outcome.recent.is_empty(),
        "a failure shows its last events"
    );

    // The failing seed replays bit for bit.
    let again = run_config(with_bug(seed), &limits());
    assert_eq!(again.trace_hash, outcome.trace_hash);
    assert_eq!(again.violation, outcome.violation);

    // And without the bug the same seed passes.
    let clean = run_config(SimConfig::from_seed(seed), &limits());
    assert!(clean.passed(), "{:?}", clean.violation);
}
