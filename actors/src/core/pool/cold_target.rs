//! The per-action cold-start target of Whirl's keep-alive policy: a share of an action's
//! invocations allowed to be cold, worth paying extra memory for, and the search for the cheapest
//! window of an idle-time histogram that meets it.
//!
//! The cost-aware rule alone trades warm idle periods against loaded time linearly, so for an
//! action whose idle times look memoryless (HTTP sessions, events) it either keeps the action
//! loaded for the whole range or not at all. The target makes the value of warmth concave: below
//! the target each cold start still counts as before, but reaching the target is worth a bonus, so
//! an action the linear rule gives up on gets the *least* loaded time that brings it within the
//! target when that is worth its memory, rather than all or nothing.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A cold-start target for every action: keeping an action's cold starts within `cold_percent` of
/// its invocations is worth `bonus_milli / 1000` (in units of the action's cold-start share, the
/// unit of the cost-aware rule's value) on top of that value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColdTarget {
    /// The share of an action's invocations allowed to be cold, in percent.
    pub cold_percent: u32,
    /// What meeting the target is worth, in thousandths of the cold-start share.
    pub bonus_milli: u32,
}

impl ColdTarget {
    /// How many of `samples` idle periods must end warm for an action with `invocations` to stay
    /// within the target (each cold start is one cold invocation).
    pub(crate) fn warm_periods_needed(&self, samples: u64, invocations: u64) -> u64 {
        let allowed_cold = u128::from(invocations) * u128::from(self.cold_percent) / 100;
        let allowed_cold = u64::try_from(allowed_cold).unwrap_or(u64::MAX);
        samples.saturating_sub(allowed_cold)
    }
}

/// A window of bins and what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Covering {
    /// First bin of the window.
    pub first: u32,
    /// Last bin of the window (inclusive).
    pub last: u32,
    /// Idle times that fall in the window (they end warm).
    pub covered: u64,
    /// Loaded bins summed over all idle times: an idle time in bin `u` is loaded for
    /// `clamp(u - first, 0, last + 1 - first)` bins.
    pub loaded_bins: u64,
}

/// The window of `bins` (bin → idle times in it) holding at least `need` idle times with the least
/// loaded time, when `samples` idle times were recorded in all (those beyond the histogram's range
/// count as above every bin). `None` when the bins hold fewer than `need`.
pub(crate) fn cheapest_covering(
    bins: &BTreeMap<u32, u64>,
    samples: u64,
    need: u64,
) -> Option<Covering> {
    let in_range: u64 = bins.values().sum();
    if need == 0 || need > in_range || samples < in_range {
        return None;
    }
    let last = *bins.keys().next_back()?;
    let len = last as usize + 1;
    let mut counts = vec![0u64; len];
    for (&bin, &count) in bins {
        counts[bin as usize] = count;
    }
    // loaded_before[t]: the loaded bins of a window starting at bin 0 and ending before bin t,
    // that is the sum over bins s < t of the idle times above s.
    let mut loaded_before = vec![0u64; len + 1];
    let mut at_or_below = 0u64;
    for t in 0..len {
        at_or_below += counts[t];
        loaded_before[t + 1] = loaded_before[t] + (samples - at_or_below);
    }
    // Two pointers: for each first bin (holding idle times), the smallest end reaching `need`;
    // that end never moves back as the first bin moves on.
    let mut best: Option<Covering> = None;
    let mut end = 0usize; // the window is [first, end)
    let mut covered = 0u64;
    for first in 0..len {
        if counts[first] == 0 {
            continue;
        }
        if end < first {
            end = first;
            covered = 0;
        }
        while covered < need && end < len {
            covered += counts[end];
            end += 1;
        }
        if covered < need {
            break;
        }
        let loaded_bins = loaded_before[end] - loaded_before[first];
        if best.is_none_or(|b| loaded_bins < b.loaded_bins) {
            best = Some(Covering {
                first: first as u32,
                last: (end - 1) as u32,
                covered,
                loaded_bins,
            });
        }
        covered -= counts[first];
    }
    best
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn histogram(pairs: &[(u32, u64)]) -> BTreeMap<u32, u64> {
        pairs.iter().copied().collect()
    }

    /// The loaded bins of `[first, last]` computed directly from the idle times.
    fn loaded_directly(bins: &BTreeMap<u32, u64>, beyond: u64, first: u32, last: u32) -> u64 {
        let width = u64::from(last + 1 - first);
        let in_range: u64 = bins
            .iter()
            .map(|(&u, &c)| c * u64::from(u.saturating_sub(first)).min(width))
            .sum();
        in_range + beyond * width
    }

    #[test]
    fn the_cheapest_window_is_found_and_its_loaded_time_is_exact() {
        // Idle times: 3 at 0, 1 at 5, 4 at 20, 2 at 21, and 2 beyond the range.
        let bins = histogram(&[(0, 3), (5, 1), (20, 4), (21, 2)]);
        let samples = 12;
        // Six warm: the cluster at 20-21 is cheaper than keeping loaded from 0 to 20.
        let w = cheapest_covering(&bins, samples, 6).unwrap();
        assert_eq!((w.first, w.last, w.covered), (20, 21, 6));
        assert_eq!(w.loaded_bins, loaded_directly(&bins, 2, 20, 21));
        // Three warm: bin 20 alone (loaded one bin for each of the 4 idle times above it) is
        // cheaper than bin 0 alone (one bin for each of the 9 above it).
        let w = cheapest_covering(&bins, samples, 3).unwrap();
        assert_eq!((w.first, w.last, w.covered), (20, 20, 4));
        assert_eq!(w.loaded_bins, 4);
        // With the cluster moved out of range, bin 0 is the cheapest.
        let w = cheapest_covering(&histogram(&[(0, 3), (5, 1)]), samples, 3).unwrap();
        assert_eq!((w.first, w.last, w.covered, w.loaded_bins), (0, 0, 3, 9));
        // Nine warm needs the whole range: from 0 to 20 covers 8, to 21 covers 10.
        let w = cheapest_covering(&bins, samples, 9).unwrap();
        assert_eq!((w.first, w.last, w.covered), (0, 21, 10));
        assert_eq!(w.loaded_bins, loaded_directly(&bins, 2, 0, 21));
        // More than the bins hold (two idle times are beyond the range), or nothing: no window.
        assert_eq!(cheapest_covering(&bins, samples, 11), None);
        assert_eq!(cheapest_covering(&bins, samples, 0), None);
        assert_eq!(cheapest_covering(&BTreeMap::new(), 3, 1), None);
    }

    #[test]
    fn every_window_is_checked_against_brute_force() {
        let bins = histogram(&[(1, 2), (2, 1), (7, 3), (9, 1), (15, 2), (16, 1)]);
        let samples = 13; // 3 beyond the range
        for need in 1..=10 {
            let mut brute: Option<u64> = None;
            for first in 0..=16 {
                for last in first..=16 {
                    let covered: u64 = bins.range(first..=last).map(|(_, &c)| c).sum();
                    if covered >= need {
                        let loaded = loaded_directly(&bins, 3, first, last);
                        brute = Some(brute.map_or(loaded, |b: u64| b.min(loaded)));
                    }
                }
            }
            let found = cheapest_covering(&bins, samples, need).unwrap();
            assert!(found.covered >= need, "need {need}: {found:?}");
            assert_eq!(
                found.loaded_bins,
                loaded_directly(&bins, 3, found.first, found.last)
            );
            assert_eq!(Some(found.loaded_bins), brute, "need {need}");
        }
    }

    #[test]
    fn the_target_counts_cold_invocations_not_cold_periods() {
        let target = ColdTarget {
            cold_percent: 25,
            bonus_milli: 1_000,
        };
        // 10 idle periods, 40 invocations: 10 may be cold, so no period needs to be warm.
        assert_eq!(target.warm_periods_needed(10, 40), 0);
        // 10 idle periods, 12 invocations: 3 may be cold, 7 periods must end warm.
        assert_eq!(target.warm_periods_needed(10, 12), 7);
    }
}
