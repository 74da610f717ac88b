//! The keep-alive study: fixed keep-alive (10 minutes, OpenWhisk's and Lambda's choice) against the
//! hybrid histogram policy of Shahrad et al. (ATC'20) and Whirl's own cost-aware policy, on a
//! seeded synthetic workload shaped like the Azure Functions trace.
//!
//! Each policy runs over every app of the same workload through the paper's single-app model
//! ([`model`]): a week of thousands of apps at up to 10^7 invocations a day is more than the
//! per-container pool core can replay in reasonable time, so [`pool_check`] replays a sample of
//! the apps through the real `ContainerPool` and the report shows how closely the two agree.

pub mod model;
pub mod policy;
pub mod pool_check;
pub mod report;
pub mod workload;

use crate::error::{Error, Result};
use model::{simulate_app, AppResult};
use policy::StudyPolicy;
use pool_check::{compare, replay_app, Agreement};
use report::{row, Baseline, PolicyRow};
use workload::{generate_app, WorkloadConfig};

/// Popularity bands by mean invocations a day, for the breakdown.
pub const BANDS: [(&str, f64); 5] = [
    ("at most 1/day", 1.0),
    ("at most 1/hour", 24.0),
    ("at most 1/10 min", 144.0),
    ("at most 1/min", 1_440.0),
    ("more than 1/min", f64::MAX),
];

/// Apps replayed through the real pool, at most (those with few busy minutes come first).
pub const POOL_CHECK_APPS: usize = 300;

/// Apps with more busy minutes than this are not replayed through the pool.
pub const POOL_CHECK_MAX_MINUTES: usize = 2_000;

/// What the study found.
#[derive(Clone, Debug)]
pub struct StudyReport {
    pub workload: WorkloadConfig,
    pub rows: Vec<PolicyRow>,
    /// The same figures per popularity band: (band, rows); memory normalized to all apps.
    pub bands: Vec<(&'static str, Vec<PolicyRow>)>,
    /// Pool replay against the model, per policy checked: (policy name, agreement).
    pub pool_checks: Vec<(String, Agreement)>,
}

fn band_of(daily_rate: f64) -> usize {
    BANDS
        .iter()
        .position(|&(_, limit)| daily_rate <= limit)
        .unwrap_or(BANDS.len() - 1)
}

/// The policies of the study; the first is the baseline the memory is normalized to.
pub fn study_policies() -> Vec<StudyPolicy> {
    vec![
        StudyPolicy::fixed_minutes(10),
        StudyPolicy::fixed_minutes(20),
        StudyPolicy::fixed_minutes(60),
        StudyPolicy::fixed_minutes(240),
        StudyPolicy::hybrid_hours(1),
        StudyPolicy::hybrid_hours(2),
        StudyPolicy::hybrid(),
        StudyPolicy::whirl_linear(1_500, 2),
        StudyPolicy::whirl_linear(1_700, 2),
        StudyPolicy::whirl_linear(1_500, 1),
        StudyPolicy::whirl_at_price(1_800),
        StudyPolicy::whirl(),
        StudyPolicy::whirl_at_price(2_600),
        StudyPolicy::whirl_at_price(3_000),
    ]
}

/// The policies replayed through the real pool as a cross-check.
pub fn pool_checked_policies() -> Vec<StudyPolicy> {
    vec![
        StudyPolicy::fixed_minutes(10),
        StudyPolicy::hybrid(),
        StudyPolicy::whirl(),
    ]
}

/// Runs `policies` over the workload of `config`, and replays a sample of apps through the pool
/// for `checked`.
pub fn run_study(
    config: &WorkloadConfig,
    policies: &[StudyPolicy],
    checked: &[StudyPolicy],
) -> Result<StudyReport> {
    if config.apps == 0 || config.days == 0 {
        return Err(Error::StudyParameter {
            name: "apps/days",
            reason: "the workload needs at least one app and one day".to_string(),
        });
    }
    if policies.is_empty() {
        return Err(Error::StudyParameter {
            name: "policies",
            reason: "no policy to compare".to_string(),
        });
    }
    let horizon = config.days * 1_440;
    let mut results: Vec<Vec<AppResult>> =
        vec![Vec::with_capacity(config.apps as usize); policies.len()];
    let mut banded: Vec<Vec<Vec<AppResult>>> = vec![vec![Vec::new(); policies.len()]; BANDS.len()];
    let mut checks: Vec<(Vec<AppResult>, Vec<AppResult>)> =
        vec![(Vec::new(), Vec::new()); checked.len()];
    let mut checked_apps = 0;
    for app in 0..config.apps {
        let workload = generate_app(config, app);
        if workload.minutes.is_empty() {
            continue;
        }
        let band = band_of(workload.daily_rate);
        for (i, policy) in policies.iter().enumerate() {
            let result = simulate_app(&workload, policy, horizon);
            results[i].push(result);
            banded[band][i].push(result);
        }
        if checked_apps < POOL_CHECK_APPS && workload.minutes.len() <= POOL_CHECK_MAX_MINUTES {
            checked_apps += 1;
            for (policy, (model, pool)) in checked.iter().zip(checks.iter_mut()) {
                model.push(simulate_app(&workload, policy, horizon));
                pool.push(replay_app(&workload, &policy.pool_policy(), horizon));
            }
        }
    }
    let baseline = Baseline::of(&results[0]);
    let rows = policies
        .iter()
        .zip(&results)
        .map(|(policy, res)| row(policy.name(), res, &baseline))
        .collect();
    let bands = BANDS
        .iter()
        .zip(&banded)
        .map(|(&(name, _), per_policy)| {
            let band_rows = policies
                .iter()
                .zip(per_policy)
                .map(|(policy, res)| row(policy.name(), res, &baseline))
                .collect();
            (name, band_rows)
        })
        .collect();
    let pool_checks = checked
        .iter()
        .zip(&checks)
        .map(|(policy, (model, pool))| (policy.name(), compare(model, pool)))
        .collect();
    Ok(StudyReport {
        workload: config.clone(),
        rows,
        bands,
        pool_checks,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_small_study_ranks_the_policies_and_the_pool_agrees_with_the_model() {
        let config = WorkloadConfig {
            seed: 9,
            apps: 150,
            days: 2,
        };
        let policies = vec![
            StudyPolicy::fixed_minutes(10),
            StudyPolicy::fixed_minutes(60),
            StudyPolicy::whirl(),
        ];
        let report = run_study(&config, &policies, &pool_checked_policies()).unwrap();
        assert_eq!(report.rows.len(), 3);
        assert_eq!(report.rows[0].wasted_normalized, 1.0);
        // A longer fixed keep-alive buys fewer cold starts with more memory.
        assert!(report.rows[1].p75_cold <= report.rows[0].p75_cold);
        assert!(report.rows[1].wasted_normalized > 1.0);
        for (name, a) in &report.pool_checks {
            assert!(a.apps > 50, "{name}: {a:?}");
            assert!(
                a.apps_identical * 100 >= a.apps * 95,
                "{name}: pool and model disagree on too many apps: {a:?}"
            );
        }
        assert!(run_study(&WorkloadConfig { apps: 0, ..config }, &policies, &[]).is_err());
    }
}
