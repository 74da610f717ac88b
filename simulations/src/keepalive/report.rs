//! The study's figures per policy: the distribution of per-app cold-start percentages (the paper's
//! headline is its 75th percentile), the share of apps within half of the baseline's 75th
//! percentile (how far a policy is from losing a halved 75th percentile), and the wasted
//! memory-time, normalized to fixed 10 minutes.

use crate::keepalive::model::AppResult;

/// The figures of one policy.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyRow {
    pub policy: String,
    pub apps: usize,
    pub invocations: u64,
    pub cold_starts: u64,
    /// Percentiles of the per-app cold-start percentage.
    pub p50_cold: f64,
    pub p75_cold: f64,
    pub p90_cold: f64,
    /// Share of apps (in percent) whose cold-start percentage is at most half of the baseline's
    /// 75th percentile.
    pub within_half_baseline_p75: f64,
    /// Wasted memory-time in GB x hours.
    pub wasted_gb_hours: f64,
    /// Wasted memory-time relative to the baseline row (fixed 10 minutes).
    pub wasted_normalized: f64,
}

/// The `percentile` (nearest rank) of `values`, which must be sorted.
pub fn percentile(sorted: &[f64], percentile: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((percentile / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What the rows are compared with: the baseline policy's (fixed 10 minutes) figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Baseline {
    pub wasted_mb_ms: u128,
    pub p75_cold: f64,
}

impl Baseline {
    /// The baseline of these per-app results.
    pub fn of(results: &[AppResult]) -> Self {
        Baseline {
            wasted_mb_ms: results.iter().map(|r| r.wasted_mb_ms).sum(),
            p75_cold: percentile(&sorted_cold(results), 75.0),
        }
    }
}

/// The cold-start percentages of the apps that were invoked, sorted.
fn sorted_cold(results: &[AppResult]) -> Vec<f64> {
    let mut cold: Vec<f64> = results
        .iter()
        .filter(|r| r.invocations > 0)
        .map(AppResult::cold_percent)
        .collect();
    cold.sort_by(f64::total_cmp);
    cold
}

/// Summarises one policy's per-app results against the `baseline`.
pub fn row(policy: String, results: &[AppResult], baseline: &Baseline) -> PolicyRow {
    let cold = sorted_cold(results);
    let baseline_wasted_mb_ms = baseline.wasted_mb_ms;
    let half = baseline.p75_cold / 2.0;
    let within = cold.iter().filter(|&&c| c <= half).count();
    let wasted: u128 = results.iter().map(|r| r.wasted_mb_ms).sum();
    PolicyRow {
        policy,
        apps: cold.len(),
        invocations: results.iter().map(|r| r.invocations).sum(),
        cold_starts: results.iter().map(|r| r.cold_starts).sum(),
        p50_cold: percentile(&cold, 50.0),
        p75_cold: percentile(&cold, 75.0),
        p90_cold: percentile(&cold, 90.0),
        within_half_baseline_p75: 100.0 * within as f64 / cold.len().max(1) as f64,
        wasted_gb_hours: wasted as f64 / 1024.0 / 3_600_000.0,
        wasted_normalized: if baseline_wasted_mb_ms == 0 {
            0.0
        } else {
            wasted as f64 / baseline_wasted_mb_ms as f64
        },
    }
}

/// The rows as a Markdown table.
pub fn markdown(rows: &[PolicyRow]) -> String {
    let mut text = String::from(
        "| policy | p50 app cold % | **p75 app cold %** | p90 app cold % | apps ≤ ½ fixed-10 p75 | all cold starts % | wasted memory-time (GB·h) | **normalized to fixed 10 min** |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        text.push_str(&format!(
            "| {} | {:.1} | **{:.1}** | {:.1} | {:.1} % | {:.2} | {:.0} | **{:.2}** |\n",
            r.policy,
            r.p50_cold,
            r.p75_cold,
            r.p90_cold,
            r.within_half_baseline_p75,
            100.0 * r.cold_starts as f64 / r.invocations.max(1) as f64,
            r.wasted_gb_hours,
            r.wasted_normalized
        ));
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 75.0), 75.0);
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&[3.0], 90.0), 3.0);
        assert_eq!(percentile(&[], 90.0), 0.0);
    }

    #[test]
    fn rows_normalize_memory_and_skip_idle_apps() {
        let results = vec![
            AppResult {
                invocations: 4,
                cold_starts: 1,
                wasted_mb_ms: 100,
                wasted_ms: 1,
            },
            AppResult::default(),
        ];
        let baseline = Baseline {
            wasted_mb_ms: 50,
            p75_cold: 60.0,
        };
        let r = row("p".into(), &results, &baseline);
        assert_eq!(r.apps, 1);
        assert_eq!(r.p75_cold, 25.0);
        assert_eq!(r.within_half_baseline_p75, 100.0);
        assert_eq!(r.wasted_normalized, 2.0);
        let strict = Baseline {
            p75_cold: 40.0,
            ..baseline
        };
        assert_eq!(
            row("p".into(), &results, &strict).within_half_baseline_p75,
            0.0
        );
        assert_eq!(Baseline::of(&results).p75_cold, 25.0);
    }
}
