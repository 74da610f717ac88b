//! The simulated bus between the controller and the invokers: it delays every message by a random
//! latency (which reorders them), sometimes takes a slow path, drops some and delivers some twice.
//! Like NATS core, it promises nothing; the cores must cope.

use crate::config::BusFaults;
use crate::random::Draw;
use actors::core::SplitMix64;

/// The bus's decisions for each message sent.
#[derive(Clone, Debug)]
pub struct SimBus {
    faults: BusFaults,
    /// While healed (the drain at the end of a run), messages are neither dropped nor duplicated.
    healed: bool,
}

impl SimBus {
    /// A bus with the given faults.
    pub fn new(faults: BusFaults) -> Self {
        SimBus {
            faults,
            healed: false,
        }
    }

    /// Stops dropping and duplicating messages and taking the slow path.
    pub fn heal(&mut self) {
        self.healed = true;
    }

    /// The delays after which one message sent now arrives: none when dropped, two when
    /// duplicated.
    pub fn deliveries(&self, rng: &mut SplitMix64) -> Vec<u64> {
        let f = &self.faults;
        let latency = |rng: &mut SplitMix64| {
            if !self.healed && rng.per_mille(f.slow_per_mille) {
                rng.between(f.slow_latency_ms.0, f.slow_latency_ms.1)
            } else {
                rng.between(f.latency_ms.0, f.latency_ms.1)
            }
        };
        if !self.healed && rng.per_mille(f.drop_per_mille) {
            return Vec::new();
        }
        let mut delays = vec![latency(rng)];
        if !self.healed && rng.per_mille(f.duplicate_per_mille) {
            delays.push(latency(rng));
        }
        delays
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn faults(drop: u64, dup: u64) -> BusFaults {
        BusFaults {
            latency_ms: (1, 10),
            slow_per_mille: 0,
            slow_latency_ms: (100, 200),
            drop_per_mille: drop,
            duplicate_per_mille: dup,
        }
    }

    #[test]
    fn drops_and_duplicates_at_their_rates_until_healed() {
        let mut rng = SplitMix64::new(11);
        let mut bus = SimBus::new(faults(100, 100));
        let mut counts = [0u32; 3];
        for _ in 0..10_000 {
            let d = bus.deliveries(&mut rng);
            assert!(d.iter().all(|&ms| (1..=10).contains(&ms)));
            counts[d.len()] += 1;
        }
        assert!((800..1200).contains(&counts[0]), "{counts:?}");
        assert!((700..1100).contains(&counts[2]), "{counts:?}");
        bus.heal();
        for _ in 0..1000 {
            assert_eq!(bus.deliveries(&mut rng).len(), 1);
        }
    }
}
