//! The single-app model the study runs each policy through, at the trace's resolution of one
//! minute (the paper's own simulation model): an app is either loaded in memory or not; an
//! invocation finding it unloaded is a cold start; memory spent while loaded and idle is wasted.
//!
//! Consecutive busy minutes form one busy period; between two busy periods the app is idle for
//! `gap - 1` whole minutes. With windows (pre-warm `p`, keep-alive `k`) chosen when the idle period
//! starts, the app is loaded during `[p, p + k]` of it; the next invocation is warm when the idle
//! time falls in that interval, and the loaded part of the idle period is wasted memory-time.
//! Further invocations in a busy period are warm. The first invocation of an app is cold.

use crate::keepalive::policy::StudyPolicy;
use crate::keepalive::workload::AppWorkload;

const MINUTE_MS: u64 = 60_000;

/// What one policy did for one app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppResult {
    pub invocations: u64,
    pub cold_starts: u64,
    /// Loaded but idle, in MB x ms.
    pub wasted_mb_ms: u128,
    /// Loaded but idle, in ms.
    pub wasted_ms: u64,
}

impl AppResult {
    /// Cold starts as a percentage of invocations.
    pub fn cold_percent(&self) -> f64 {
        if self.invocations == 0 {
            return 0.0;
        }
        100.0 * self.cold_starts as f64 / self.invocations as f64
    }
}

/// Runs `policy` over `app`'s invocations up to `horizon_minutes`.
pub fn simulate_app(app: &AppWorkload, policy: &StudyPolicy, horizon_minutes: u32) -> AppResult {
    let mut decider = policy.for_app(app.memory_mb);
    let mut result = AppResult::default();
    let mut previous: Option<u32> = None;
    for &(minute, count) in &app.minutes {
        match previous {
            None => result.cold_starts += 1,
            // Consecutive busy minutes are one busy period.
            Some(prev) if minute == prev + 1 => {}
            Some(prev) => {
                let idle_ms = u64::from(minute - prev - 1) * MINUTE_MS;
                // The windows chosen when the idle period started (nothing changed since).
                let windows = decider.windows();
                if !windows.warm_after(idle_ms) {
                    result.cold_starts += 1;
                }
                result.wasted_ms += windows.loaded_during(idle_ms);
                decider.record(idle_ms);
            }
        }
        result.invocations += u64::from(count);
        decider.record_busy(MINUTE_MS, u64::from(count));
        previous = Some(minute);
    }
    if let Some(last) = previous {
        let idle_ms = u64::from(horizon_minutes.saturating_sub(last + 1)) * MINUTE_MS;
        result.wasted_ms += decider.windows().loaded_during(idle_ms);
    }
    result.wasted_mb_ms = u128::from(result.wasted_ms) * u128::from(app.memory_mb);
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::keepalive::workload::TriggerMix;

    fn app(minutes: Vec<(u32, u32)>) -> AppWorkload {
        AppWorkload {
            app: 0,
            mix: TriggerMix::Timer,
            memory_mb: 100,
            daily_rate: 0.0,
            triggers: Vec::new(),
            minutes,
        }
    }

    #[test]
    fn fixed_keep_alive_counts_gaps_longer_than_it_as_cold() {
        // Gaps of 5, 11 and 12 minutes: idle 4, 10 and 11 minutes.
        let a = app(vec![(0, 3), (5, 1), (16, 1), (28, 1)]);
        let r = simulate_app(&a, &StudyPolicy::fixed_minutes(10), 30);
        assert_eq!(r.invocations, 6);
        assert_eq!(r.cold_starts, 2, "first and the 11-minute idle");
        // Loaded 4 + 10 + 10 idle minutes, then 1 minute left in the horizon.
        assert_eq!(r.wasted_ms, 25 * MINUTE_MS);
        assert_eq!(r.wasted_mb_ms, 25 * u128::from(MINUTE_MS) * 100);
    }

    #[test]
    fn hybrid_prewarms_a_periodic_app_and_saves_memory() {
        // A 30-minute timer for a week.
        let minutes: Vec<(u32, u32)> = (0..336).map(|i| (i * 30, 1)).collect();
        let a = app(minutes);
        let fixed = simulate_app(&a, &StudyPolicy::fixed_minutes(10), 336 * 30);
        let hybrid = simulate_app(&a, &StudyPolicy::hybrid(), 336 * 30);
        assert_eq!(
            fixed.cold_starts, 336,
            "a 30-minute timer is always cold under 10 minutes"
        );
        assert!(hybrid.cold_starts <= 2, "{hybrid:?}");
        assert!(
            hybrid.wasted_ms < fixed.wasted_ms,
            "{hybrid:?} vs {fixed:?}"
        );
    }
}
