//! Invoker health as the dispatcher sees it: pings keep an invoker alive, silence makes it offline,
//! and a run of platform failures makes it unhealthy for a while.

use crate::core::time::Millis;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;

/// The health of an invoker. Only `Healthy` invokers receive work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Health {
    /// Pinging and not failing: usable.
    Healthy,
    /// Pinging but too many recent activations ended in a whisk internal error: not usable until
    /// the hold time has passed and it pings again.
    Unhealthy,
    /// Silent for longer than the offline timeout: not usable; its in-flight work was handed back.
    Offline,
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
            Health::Offline => "offline",
        })
    }
}

/// The last `window` completions of an invoker, `true` for a whisk internal error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FailureWindow {
    outcomes: VecDeque<bool>,
}

impl FailureWindow {
    /// Records one completion and returns the number of system errors in the window.
    pub(crate) fn record(&mut self, system_error: bool, window: usize) -> usize {
        self.outcomes.push_back(system_error);
        while self.outcomes.len() > window.max(1) {
            self.outcomes.pop_front();
        }
        self.outcomes.iter().filter(|&&e| e).count()
    }

    pub(crate) fn clear(&mut self) {
        self.outcomes.clear();
    }
}

/// What the dispatcher tracks about the liveness of one invoker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InvokerHealth {
    pub(crate) health: Health,
    pub(crate) last_ping: Millis,
    pub(crate) unhealthy_until: Millis,
    pub(crate) failures: FailureWindow,
}

impl InvokerHealth {
    pub(crate) fn new(now: Millis) -> Self {
        InvokerHealth {
            health: Health::Healthy,
            last_ping: now,
            unhealthy_until: Millis::ZERO,
            failures: FailureWindow::default(),
        }
    }

    /// Whether the invoker may receive work at `now`: healthy and not yet silent for too long
    /// (silence counts even before a tick has declared the invoker offline).
    pub(crate) fn usable(&self, now: Millis, offline_after_ms: u64) -> bool {
        self.health == Health::Healthy && now < self.last_ping.plus(offline_after_ms)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_only_the_last_outcomes() {
        let mut w = FailureWindow::default();
        assert_eq!(w.record(true, 3), 1);
        assert_eq!(w.record(true, 3), 2);
        assert_eq!(w.record(false, 3), 2);
        assert_eq!(w.record(false, 3), 1);
        assert_eq!(w.record(false, 3), 0);
    }

    #[test]
    fn silence_makes_an_invoker_unusable_before_the_tick() {
        let h = InvokerHealth::new(Millis(1000));
        assert!(h.usable(Millis(3999), 3000));
        assert!(!h.usable(Millis(4000), 3000));
    }
}
