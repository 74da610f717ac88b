//! Draws from the one seeded generator of a run: uniform integers and floats, coin flips, and the
//! few distributions the simulator and the workload generator need (exponential, normal, Poisson).
//!
//! Everything goes through [`actors::core::SplitMix64`], so one seed fixes every draw. The
//! simulator itself only uses the integer draws (bit-for-bit the same on every platform); the
//! float draws serve the keep-alive workload generator.

use actors::core::SplitMix64;

/// Distributions on top of a [`SplitMix64`].
pub trait Draw {
    /// A number in `lo..=hi` (`lo` when `hi < lo`).
    fn between(&mut self, lo: u64, hi: u64) -> u64;
    /// True with probability `per_mille / 1000`.
    fn per_mille(&mut self, per_mille: u64) -> bool;
    /// A uniform float in `[0, 1)` with 53 random bits.
    fn unit(&mut self) -> f64;
    /// An exponential draw with the given mean.
    fn exponential(&mut self, mean: f64) -> f64;
    /// A standard normal draw (Box-Muller).
    fn normal(&mut self) -> f64;
    /// A Poisson count with mean `lambda` (exact below 30, normal approximation above).
    fn poisson(&mut self, lambda: f64) -> u64;
    /// A geometric count `>= 1` with the given mean (`>= 1`).
    fn geometric(&mut self, mean: f64) -> u64;
    /// An index in `0..weights.len()` drawn in proportion to `weights` (0 when all are 0).
    fn weighted(&mut self, weights: &[u64]) -> usize;
}

impl Draw for SplitMix64 {
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    fn per_mille(&mut self, per_mille: u64) -> bool {
        self.chance(per_mille, 1000)
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn exponential(&mut self, mean: f64) -> f64 {
        // 1 - unit() is in (0, 1], so the logarithm is finite.
        -mean * (1.0 - self.unit()).ln()
    }

    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda < 30.0 {
            let limit = (-lambda).exp();
            let mut product = self.unit();
            let mut count = 0u64;
            while product > limit {
                count += 1;
                product *= self.unit();
            }
            return count;
        }
        let draw = lambda + lambda.sqrt() * self.normal();
        draw.round().max(0.0) as u64
    }

    fn geometric(&mut self, mean: f64) -> u64 {
        if mean <= 1.0 {
            return 1;
        }
        let p = 1.0 / mean;
        let u = 1.0 - self.unit();
        1 + (u.ln() / (1.0 - p).ln()).floor() as u64
    }

    fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        if total == 0 {
            return 0;
        }
        let mut pick = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if pick < w {
                return i;
            }
            pick -= w;
        }
        weights.len() - 1
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn between_is_inclusive_and_bounded() {
        let mut rng = SplitMix64::new(1);
        let mut seen = [false; 4];
        for _ in 0..1000 {
            let v = rng.between(3, 6);
            assert!((3..=6).contains(&v));
            seen[(v - 3) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(rng.between(5, 2), 5);
    }

    #[test]
    fn means_are_close_to_their_parameters() {
        let mut rng = SplitMix64::new(7);
        let n = 20_000;
        let exp: f64 = (0..n).map(|_| rng.exponential(3.0)).sum::<f64>() / n as f64;
        assert!((exp - 3.0).abs() < 0.15, "exponential mean {exp}");
        let small: f64 = (0..n).map(|_| rng.poisson(4.0) as f64).sum::<f64>() / n as f64;
        assert!((small - 4.0).abs() < 0.1, "poisson mean {small}");
        let large: f64 = (0..n).map(|_| rng.poisson(200.0) as f64).sum::<f64>() / n as f64;
        assert!((large - 200.0).abs() < 1.0, "poisson mean {large}");
        let geo: f64 = (0..n).map(|_| rng.geometric(5.0) as f64).sum::<f64>() / n as f64;
        assert!((geo - 5.0).abs() < 0.2, "geometric mean {geo}");
        let normal: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = normal.iter().sum::<f64>() / n as f64;
        let var = normal.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "normal {mean} {var}"
        );
    }

    #[test]
    fn weighted_follows_the_weights() {
        let mut rng = SplitMix64::new(3);
        let mut counts = [0u32; 3];
        for _ in 0..9000 {
            counts[rng.weighted(&[1, 0, 2])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((2700..3300).contains(&counts[0]), "{counts:?}");
        assert_eq!(rng.weighted(&[0, 0]), 0);
    }
}
