//! Adaptive keep-alive: a per-action histogram of idle times and the pre-warm and keep-alive
//! windows it gives, after the hybrid histogram policy of Shahrad et al., "Serverless in the Wild"
//! (USENIX ATC'20), with Whirl's forecast for idle times beyond the histogram's range.
//!
//! An action's *idle time* is the time from the end of its last activation (nothing of it running
//! or waiting) to the arrival of the next one. After each activation the policy picks two windows:
//! - **pre-warm**: when it is `0`, the containers stay loaded; otherwise they are unloaded at once and
//!   one is loaded again this long after the action went idle;
//! - **keep-alive**: how long a container stays loaded (from the end of the pre-warm window).
//!
//! Windows come from the histogram (1-minute bins over 4 hours by default): pre-warm at the 5th
//! percentile minus a margin, keep-alive until the 99th percentile plus a margin, or with
//! [`WindowRule::CostAware`] the window worth the most memory for its warm share, optionally with a
//! per-action cold-start target ([`ColdTarget`], see `cold_target.rs`). When the histogram
//! says little (no samples yet, or its bin counts are flat: a coefficient of variation below the
//! threshold), a standard keep-alive applies. When most idle times fall beyond the range, the
//! paper uses an ARIMA forecast; [`OutOfRange::Forecast`] instead predicts the next idle time from
//! the recent out-of-range ones when they are regular (a timer), and unloads at once otherwise.

use crate::core::pool::cold_target::{cheapest_covering, ColdTarget};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// What to do for an action whose idle times mostly exceed the histogram's range.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OutOfRange {
    /// Use the standard keep-alive (what the paper does when ARIMA is left out).
    Standard,
    /// Predict the next idle time as the median of the last `history` out-of-range idle times when
    /// at least `min_history` are known and they agree within `max_spread_percent` (max over min);
    /// pre-warm `margin_percent` before it and keep alive until `margin_percent` after. Irregular
    /// ones (and those with less history) are unloaded at once.
    Forecast {
        /// Out-of-range idle times remembered.
        history: u32,
        /// Out-of-range idle times needed before a forecast is made (1: the last one repeats).
        min_history: u32,
        /// Largest spread (max / min - 1, in percent) still called regular.
        max_spread_percent: u32,
        /// Margin around the forecast, in percent of it.
        margin_percent: u32,
    },
}

/// How the windows are read off the histogram.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WindowRule {
    /// The paper's rule: pre-warm at the `prewarm` percentile, keep alive until the `keep_alive`
    /// percentile (5 and 99).
    Percentiles {
        /// Percentile of the pre-warm window.
        prewarm: u32,
        /// Percentile where the keep-alive window ends.
        keep_alive: u32,
    },
    /// Whirl's rule: the window `[a, b]` (in bins) that maximizes the share of idle periods ending
    /// warm minus the memory it costs: `price_milli / 1000` per GB of memory kept loaded for the
    /// whole time. The loaded time is counted as a share of the action's mean idle time, so an
    /// action invoked often pays more for a long tail than one invoked rarely; a window worth
    /// nothing is no window (unload at once).
    CostAware {
        /// The price of keeping 1 GB loaded all the time, in thousandths of the warm share.
        price_milli: u32,
    },
}

/// The parameters of a histogram keep-alive policy. Integers only, so the policy stays a value
/// (`Eq`, `Hash`) inside [`super::PoolConfig`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HistogramPolicy {
    /// Width of one bin in ms (1 minute).
    pub bin_ms: u64,
    /// Number of bins; `bins * bin_ms` is the histogram's range (4 hours).
    pub bins: u32,
    /// How the windows are read off the histogram.
    pub rule: WindowRule,
    /// Margin taken off the pre-warm window and added to the keep-alive end, in percent (10).
    pub margin_percent: u32,
    /// Histograms whose bin counts have a coefficient of variation below this (in percent; 200 for
    /// 2.0) are not representative: the standard keep-alive applies.
    pub min_bin_cv_percent: u32,
    /// Below this many idle times the standard keep-alive applies.
    pub min_samples: u32,
    /// When more than this share (in percent) of the idle times were out of range, the
    /// out-of-range rule applies.
    pub max_out_of_range_percent: u32,
    /// The standard keep-alive in ms (pre-warm 0).
    pub standard_keep_alive_ms: u64,
    /// The rule for actions whose idle times are mostly out of range.
    pub out_of_range: OutOfRange,
    /// With [`WindowRule::CostAware`]: a cold-start target each action's window should meet when
    /// that is worth its memory (see [`ColdTarget`]); `None` for the linear rule alone.
    pub cold_target: Option<ColdTarget>,
}

impl HistogramPolicy {
    /// The hybrid histogram policy as the paper describes it (without its ARIMA forecast): 4 hours
    /// of 1-minute bins, 5th and 99th percentiles, 10 % margins, a CV threshold of 2, and the
    /// standard keep-alive (the histogram's range) when the histogram is not representative.
    pub fn paper() -> Self {
        HistogramPolicy {
            bin_ms: 60_000,
            bins: 240,
            rule: WindowRule::Percentiles {
                prewarm: 5,
                keep_alive: 99,
            },
            margin_percent: 10,
            min_bin_cv_percent: 200,
            min_samples: 1,
            max_out_of_range_percent: 50,
            standard_keep_alive_ms: 240 * 60_000,
            out_of_range: OutOfRange::Standard,
            cold_target: None,
        }
    }

    /// Whirl's policy: a histogram of 1-minute bins over 8 hours read with
    /// [`WindowRule::CostAware`] at a price of 2.2 per GB, with a [`ColdTarget`] of 25 % worth 1.0
    /// (an action the linear rule would leave mostly cold gets the least loaded time that keeps
    /// three of its invocations in four warm, when that is worth its memory), 5 % margins, a
    /// 10-minute standard keep-alive until the first idle time is known, and a forecast for actions
    /// whose idle times lie beyond the range: from the first such idle time on, a regular one (a
    /// daily timer) is pre-warmed just before it recurs, irregular ones are unloaded at once.
    /// Chosen on the keep-alive study (docs/benchmarks.md, "Keep-alive policies"), where it spends
    /// less memory-time than a fixed 10 minutes on every workload seed.
    pub fn whirl() -> Self {
        HistogramPolicy {
            bins: 480,
            rule: WindowRule::CostAware { price_milli: 2_200 },
            margin_percent: 5,
            min_bin_cv_percent: 0,
            standard_keep_alive_ms: 10 * 60_000,
            out_of_range: OutOfRange::Forecast {
                history: 4,
                min_history: 1,
                max_spread_percent: 5,
                margin_percent: 2,
            },
            cold_target: Some(ColdTarget {
                cold_percent: 25,
                bonus_milli: 1_000,
            }),
            ..HistogramPolicy::paper()
        }
    }

    /// The histogram's range in ms.
    pub fn range_ms(&self) -> u64 {
        self.bin_ms.saturating_mul(u64::from(self.bins))
    }

    fn standard(&self) -> KeepAliveWindows {
        KeepAliveWindows {
            prewarm_ms: 0,
            keep_alive_ms: self.standard_keep_alive_ms,
        }
    }

    /// The windows for the next idle period of an action of `memory_mb` with these idle times.
    pub fn windows(&self, idle: &IdleTimes, memory_mb: u64) -> KeepAliveWindows {
        let total = idle.in_range + idle.out_of_range;
        if total < u64::from(self.min_samples.max(1)) {
            return self.standard();
        }
        if idle.out_of_range * 100 > total * u64::from(self.max_out_of_range_percent) {
            return match &self.out_of_range {
                OutOfRange::Standard => self.standard(),
                OutOfRange::Forecast {
                    max_spread_percent,
                    margin_percent,
                    min_history,
                    ..
                } => idle
                    .forecast(*max_spread_percent, *min_history)
                    .map(|next| {
                        let margin = next.saturating_mul(u64::from(*margin_percent)) / 100;
                        KeepAliveWindows {
                            prewarm_ms: next.saturating_sub(margin),
                            keep_alive_ms: margin.saturating_mul(2),
                        }
                    })
                    .unwrap_or(KeepAliveWindows {
                        prewarm_ms: 0,
                        keep_alive_ms: 0,
                    }),
            };
        }
        if idle.in_range == 0 || idle.bin_cv_percent(self.bins) < u64::from(self.min_bin_cv_percent)
        {
            return self.standard();
        }
        let (head, tail) = match self.rule {
            WindowRule::Percentiles {
                prewarm,
                keep_alive,
            } => (
                idle.percentile_bin(prewarm),
                idle.percentile_bin(keep_alive),
            ),
            WindowRule::CostAware { price_milli } => {
                match idle.chosen_window(self, memory_mb, price_milli) {
                    Some(window) => window,
                    None => {
                        return KeepAliveWindows {
                            prewarm_ms: 0,
                            keep_alive_ms: 0,
                        }
                    }
                }
            }
        };
        let head_ms = u64::from(head).saturating_mul(self.bin_ms);
        let tail_ms = u64::from(tail + 1).saturating_mul(self.bin_ms);
        let margin = u64::from(self.margin_percent.min(100));
        let prewarm_ms = head_ms.saturating_mul(100 - margin) / 100;
        let end_ms = tail_ms.saturating_mul(100 + margin).div_ceil(100);
        KeepAliveWindows {
            prewarm_ms,
            keep_alive_ms: end_ms.saturating_sub(prewarm_ms),
        }
    }
}

/// The two windows chosen for one idle period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeepAliveWindows {
    /// `0`: stay loaded; otherwise unload at once and load again this long after going idle.
    pub prewarm_ms: u64,
    /// How long to stay loaded (from the end of the pre-warm window).
    pub keep_alive_ms: u64,
}

impl KeepAliveWindows {
    /// Whether an action idle for `idle_ms` finds a loaded container under these windows.
    pub fn warm_after(&self, idle_ms: u64) -> bool {
        idle_ms >= self.prewarm_ms && idle_ms <= self.prewarm_ms.saturating_add(self.keep_alive_ms)
    }

    /// How long a container is loaded while the action is idle for `idle_ms` (the wasted time).
    pub fn loaded_during(&self, idle_ms: u64) -> u64 {
        idle_ms
            .min(self.prewarm_ms.saturating_add(self.keep_alive_ms))
            .saturating_sub(self.prewarm_ms)
    }
}

/// The idle times of one action: a sparse histogram of those within range, a count of those
/// beyond, and the most recent ones beyond (for the forecast).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdleTimes {
    bins: BTreeMap<u32, u64>,
    in_range: u64,
    out_of_range: u64,
    total_idle_ms: u128,
    total_busy_ms: u128,
    invocations: u64,
    recent_out_of_range: VecDeque<u64>,
}

impl IdleTimes {
    /// Records one idle time.
    pub fn record(&mut self, idle_ms: u64, policy: &HistogramPolicy) {
        self.total_idle_ms += u128::from(idle_ms);
        let bin = idle_ms / policy.bin_ms.max(1);
        if bin < u64::from(policy.bins) {
            *self.bins.entry(bin as u32).or_default() += 1;
            self.in_range += 1;
        } else {
            self.out_of_range += 1;
            if let OutOfRange::Forecast { history, .. } = policy.out_of_range {
                self.recent_out_of_range.push_back(idle_ms);
                while self.recent_out_of_range.len() > history.max(1) as usize {
                    self.recent_out_of_range.pop_front();
                }
            }
        }
    }

    /// Records a busy period: it lasted `busy_ms` and held `invocations`.
    pub fn record_busy(&mut self, busy_ms: u64, invocations: u64) {
        self.total_busy_ms += u128::from(busy_ms);
        self.invocations += invocations;
    }

    /// The mean time between invocations seen so far (idle and busy time over invocations), or the
    /// mean idle time when no busy period was recorded.
    fn mean_gap_ms(&self) -> f64 {
        let samples = self.samples().max(1);
        if self.invocations == 0 {
            return (self.total_idle_ms as f64 / samples as f64).max(1.0);
        }
        ((self.total_idle_ms + self.total_busy_ms) as f64 / self.invocations as f64).max(1.0)
    }

    /// Idle times recorded.
    pub fn samples(&self) -> u64 {
        self.in_range + self.out_of_range
    }

    /// The window of bins `[a, b]` maximizing `warm share - k * loaded bins`, where the loaded
    /// bins of an idle time in bin `u` are `clamp(u - a, 0, b + 1 - a)` and `k` prices one bin of
    /// loaded time (as a share of the mean idle time) for an action of `memory_mb`. `None` when no
    /// window is worth its memory.
    fn best_window(
        &self,
        policy: &HistogramPolicy,
        memory_mb: u64,
        price_milli: u32,
    ) -> Option<(f64, u32, u32)> {
        let samples = self.samples();
        if samples == 0 || self.in_range == 0 {
            return None;
        }
        let n = samples as f64;
        let k = self.bin_price(policy, memory_mb, price_milli);
        // V(t) = share of idle times in bins <= t - k * sum over bins <= t of P(idle bin > t').
        // The best window is the maximum of V(b) - V(a - 1) (a maximum-sum subarray).
        let mut counts = self.bins.iter().peekable();
        let mut at_or_below = 0u64;
        let mut best: Option<(f64, u32, u32)> = None;
        let mut run_start = 0u32;
        let mut run_value = 0.0f64;
        for t in 0..policy.bins {
            let here = match counts.peek() {
                Some(&(&bin, &count)) if bin == t => {
                    counts.next();
                    count
                }
                _ => 0,
            };
            at_or_below += here;
            let above = samples - at_or_below;
            let gain = here as f64 / n - k * (above as f64 / n);
            if run_value <= 0.0 {
                run_start = t;
                run_value = gain;
            } else {
                run_value += gain;
            }
            if here > 0 && best.is_none_or(|(value, _, _)| run_value > value) {
                best = Some((run_value, run_start, t));
            }
            if at_or_below == self.in_range {
                // No later bin holds an idle time, so no later window can be better.
                break;
            }
        }
        best.filter(|&(value, _, _)| value > 0.0)
    }

    /// The cost-aware window: the linear rule's best window, or with a [`ColdTarget`] whichever of
    /// it, no window and the cheapest window meeting the target is worth the most once meeting the
    /// target earns its bonus. Values are in warm idle periods per idle period (the linear rule's
    /// unit); the bonus, in cold-start share, is converted with the invocations per idle period.
    fn chosen_window(
        &self,
        policy: &HistogramPolicy,
        memory_mb: u64,
        price_milli: u32,
    ) -> Option<(u32, u32)> {
        let linear = self.best_window(policy, memory_mb, price_milli);
        let Some(target) = &policy.cold_target else {
            return linear.map(|(_, a, b)| (a, b));
        };
        let samples = self.samples();
        if samples == 0 {
            return linear.map(|(_, a, b)| (a, b));
        }
        let n = samples as f64;
        let need = target.warm_periods_needed(samples, self.invocations);
        let bonus =
            f64::from(target.bonus_milli) / 1000.0 * self.invocations.max(samples) as f64 / n;
        let bonus_if = |met: bool| if met { bonus } else { 0.0 };
        let mut best: (f64, Option<(u32, u32)>) = (bonus_if(need == 0), None);
        if let Some((value, a, b)) = linear {
            let covered: u64 = self.bins.range(a..=b).map(|(_, &c)| c).sum();
            let v = value + bonus_if(covered >= need);
            if v > best.0 {
                best = (v, Some((a, b)));
            }
        }
        if let Some(w) = cheapest_covering(&self.bins, samples, need) {
            let k = self.bin_price(policy, memory_mb, price_milli);
            let v = (w.covered as f64 - k * w.loaded_bins as f64) / n + bonus;
            if v > best.0 {
                best = (v, Some((w.first, w.last)));
            }
        }
        best.1
    }

    /// The price of one bin of loaded time, in warm idle periods per idle period.
    fn bin_price(&self, policy: &HistogramPolicy, memory_mb: u64, price_milli: u32) -> f64 {
        f64::from(price_milli) / 1000.0 * (memory_mb as f64 / 1024.0) * policy.bin_ms as f64
            / self.mean_gap_ms()
    }

    /// The smallest bin at or below which `percentile` % of the in-range idle times fall.
    fn percentile_bin(&self, percentile: u32) -> u32 {
        let wanted = (self.in_range * u64::from(percentile.clamp(1, 100))).div_ceil(100);
        let mut seen = 0;
        for (&bin, &count) in &self.bins {
            seen += count;
            if seen >= wanted {
                return bin;
            }
        }
        self.bins.keys().next_back().copied().unwrap_or(0)
    }

    /// The coefficient of variation of the counts of all `bins` bins, in percent.
    fn bin_cv_percent(&self, bins: u32) -> u64 {
        let n = f64::from(bins.max(1));
        let mean = self.in_range as f64 / n;
        if mean == 0.0 {
            return 0;
        }
        let filled: f64 = self.bins.values().map(|&c| (c as f64 - mean).powi(2)).sum();
        let empty = (n - self.bins.len() as f64) * mean * mean;
        let cv = ((filled + empty) / n).sqrt() / mean;
        (cv * 100.0) as u64
    }

    /// The median of the recent out-of-range idle times if there are at least `min_history` of them
    /// and they agree within `max_spread_percent`.
    fn forecast(&self, max_spread_percent: u32, min_history: u32) -> Option<u64> {
        if self.recent_out_of_range.len() < min_history.max(1) as usize {
            return None;
        }
        let mut sorted: Vec<u64> = self.recent_out_of_range.iter().copied().collect();
        sorted.sort_unstable();
        let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
        if max.saturating_sub(min).saturating_mul(100)
            > min.saturating_mul(u64::from(max_spread_percent))
        {
            return None;
        }
        Some(sorted[sorted.len() / 2])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;

    fn record_all(policy: &HistogramPolicy, idle_minutes: &[u64]) -> IdleTimes {
        let mut idle = IdleTimes::default();
        for &m in idle_minutes {
            idle.record(m * MIN, policy);
        }
        idle
    }

    #[test]
    fn a_periodic_action_is_unloaded_and_prewarmed_before_its_next_arrival() {
        let policy = HistogramPolicy::paper();
        let idle = record_all(&policy, &[30; 20]);
        let w = policy.windows(&idle, 256);
        // Head and tail both in bin 30: pre-warm at 30 min - 10 %, keep until 31 min + 10 %.
        assert_eq!(w.prewarm_ms, 27 * MIN);
        assert_eq!(w.prewarm_ms + w.keep_alive_ms, 34 * MIN + MIN / 10);
        assert!(w.warm_after(30 * MIN));
        assert!(!w.warm_after(20 * MIN));
        assert_eq!(w.loaded_during(30 * MIN), 3 * MIN);
    }

    #[test]
    fn a_busy_action_stays_loaded_until_its_tail() {
        let policy = HistogramPolicy::paper();
        let mut minutes = vec![0; 90];
        minutes.extend([1; 9]);
        minutes.push(12);
        let w = policy.windows(&record_all(&policy, &minutes), 256);
        assert_eq!(w.prewarm_ms, 0);
        // 99th percentile is bin 1 (its end is 2 minutes), plus 10 %.
        assert_eq!(w.keep_alive_ms, 2 * MIN + 2 * MIN / 10);
    }

    #[test]
    fn no_samples_or_a_flat_histogram_use_the_standard_keep_alive() {
        let policy = HistogramPolicy::paper();
        assert_eq!(
            policy.windows(&IdleTimes::default(), 256),
            policy.standard()
        );
        // Two samples in every bin: perfectly flat, CV 0.
        let flat: Vec<u64> = (0..240).flat_map(|m| [m, m]).collect();
        let idle = record_all(&policy, &flat);
        assert_eq!(idle.bin_cv_percent(240), 0);
        assert_eq!(policy.windows(&idle, 256), policy.standard());
        // One sample: a single spike, CV = sqrt(239).
        let one = record_all(&policy, &[10]);
        assert_eq!(one.bin_cv_percent(240), 1545);
    }

    #[test]
    fn out_of_range_actions_use_the_standard_or_the_forecast() {
        let paper = HistogramPolicy::paper();
        let daily = [24 * 60, 24 * 60 + 1, 24 * 60 - 1, 24 * 60];
        assert_eq!(
            paper.windows(&record_all(&paper, &daily), 256),
            paper.standard()
        );
        let forecast = HistogramPolicy {
            out_of_range: OutOfRange::Forecast {
                history: 4,
                min_history: 2,
                max_spread_percent: 5,
                margin_percent: 2,
            },
            ..HistogramPolicy::paper()
        };
        let w = forecast.windows(&record_all(&forecast, &daily), 256);
        let next = 24 * 60 * MIN;
        assert_eq!(w.prewarm_ms, next - next * 2 / 100);
        assert!(w.warm_after(next + MIN) && w.warm_after(next - MIN));
        // One out-of-range idle time is not enough history for this policy, and is for Whirl's.
        assert_eq!(
            forecast.windows(&record_all(&forecast, &[24 * 60]), 256),
            KeepAliveWindows {
                prewarm_ms: 0,
                keep_alive_ms: 0
            }
        );
        let whirl = HistogramPolicy::whirl();
        let w = whirl.windows(&record_all(&whirl, &[24 * 60]), 256);
        assert_eq!(w.prewarm_ms, next - next * 2 / 100);
        assert!(w.warm_after(next) && !w.warm_after(next / 2));
        // Irregular out-of-range idle times: unload at once.
        let irregular = record_all(&forecast, &[300, 900, 2000]);
        assert_eq!(
            forecast.windows(&irregular, 256),
            KeepAliveWindows {
                prewarm_ms: 0,
                keep_alive_ms: 0
            }
        );
    }

    /// Idle minutes spread like a memoryless process's, from 1 minute to 7 hours.
    const SPREAD: [u64; 20] = [
        1, 2, 3, 4, 6, 8, 11, 15, 20, 27, 36, 48, 64, 85, 113, 150, 200, 266, 354, 420,
    ];

    /// The idle times of [`SPREAD`], one invocation after each.
    fn spread_out(policy: &HistogramPolicy) -> IdleTimes {
        let mut idle = record_all(policy, &SPREAD);
        idle.record_busy(MIN * 20, 20);
        idle
    }

    #[test]
    fn the_cold_target_buys_the_least_loaded_time_that_meets_it() {
        let whirl = HistogramPolicy::whirl();
        let linear = HistogramPolicy {
            cold_target: None,
            ..HistogramPolicy::whirl()
        };
        let idle = spread_out(&whirl);
        let minutes = SPREAD;
        let warm = |w: KeepAliveWindows| minutes.iter().filter(|&&m| w.warm_after(m * MIN)).count();
        let loaded = |w: KeepAliveWindows| -> u64 {
            minutes.iter().map(|&m| w.loaded_during(m * MIN)).sum()
        };
        // 512 MB: the linear rule keeps the action loaded for its short idle times only, half of
        // them; with the target it keeps 15 of the 20 warm (at most 5 cold of 20 invocations) ...
        let (plain, targeted) = (linear.windows(&idle, 512), whirl.windows(&idle, 512));
        assert_eq!(warm(plain), 10, "{plain:?}");
        assert_eq!(warm(targeted), 15, "{targeted:?}");
        // ... for more loaded time than the linear rule but under 60 % of keeping all warm.
        let everything = whirl.windows(&idle, 16);
        assert_eq!(warm(everything), 20);
        assert!(loaded(plain) < loaded(targeted));
        assert!(loaded(targeted) * 10 < loaded(everything) * 6);
        // Without a bonus the target changes nothing; for a large action it is not worth it; a
        // small one the linear rule keeps all warm already.
        let free = HistogramPolicy {
            cold_target: Some(ColdTarget {
                cold_percent: 25,
                bonus_milli: 0,
            }),
            ..HistogramPolicy::whirl()
        };
        assert_eq!(free.windows(&idle, 512), plain);
        assert_eq!(whirl.windows(&idle, 4096), linear.windows(&idle, 4096));
        assert!(warm(whirl.windows(&idle, 4096)) < 15);
        assert_eq!(everything, linear.windows(&idle, 16));
    }
}
