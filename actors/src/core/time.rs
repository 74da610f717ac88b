//! Time as the cores see it: a monotonic count of milliseconds handed in by the host.
//!
//! The cores never read a clock. The host passes `now` with every input; the simulator passes its
//! simulated clock. Durations are plain `u64` milliseconds in fields named `*_ms`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time in milliseconds on the host's clock (monotonic within one core's life).
///
/// The throttles count per calendar minute, so their host should pass wall-clock epoch milliseconds;
/// the other cores only compare and subtract instants and accept any monotonic origin.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Millis(pub u64);

impl Millis {
    /// The instant zero.
    pub const ZERO: Millis = Millis(0);

    /// Milliseconds since the clock's origin.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// This instant moved `ms` milliseconds later (saturating at `u64::MAX`).
    pub fn plus(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }

    /// Milliseconds elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Millis) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Millis(5).plus(7), Millis(12));
        assert_eq!(Millis(u64::MAX).plus(1), Millis(u64::MAX));
        assert_eq!(Millis(10).since(Millis(4)), 6);
        assert_eq!(Millis(4).since(Millis(10)), 0);
        assert!(Millis(3) < Millis(4));
    }
}
