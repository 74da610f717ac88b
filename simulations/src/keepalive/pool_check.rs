//! Replays apps of the study's workload through the real [`ContainerPool`] core, to show that the
//! single-app model the study uses counts what the pool does.
//!
//! Each busy minute of an app becomes that many activations run back to back in the minute (the
//! last ends with the minute, so idle times are whole minutes as in the model). The pool ticks at
//! its own [`ContainerPool::next_deadline`] and just before each arrival. An arrival is cold when
//! the pool answers its `Schedule` with a `Create`; memory is wasted while a container exists and
//! runs nothing.

use crate::keepalive::model::AppResult;
use crate::keepalive::workload::AppWorkload;
use actors::core::pool::{
    ActivationRequest, ContainerPool, KeepAlivePolicy, PoolConfig, PoolEffect, PoolInput,
};
use actors::core::{ActionKey, ActivationId, ContainerId, Kind, Millis};
use std::collections::BTreeMap;

const MINUTE_MS: u64 = 60_000;

/// Replays `app` through a pool with `keep_alive` up to `horizon_minutes`.
pub fn replay_app(
    app: &AppWorkload,
    keep_alive: &KeepAlivePolicy,
    horizon_minutes: u32,
) -> AppResult {
    let mut pool = ContainerPool::new(PoolConfig {
        user_memory_mb: 1 << 40,
        pause_grace_ms: None,
        keep_alive: keep_alive.clone(),
        prewarm: Vec::new(),
        max_create_attempts: 3,
        ..PoolConfig::default()
    });
    let action = ActionKey::new("study", format!("study/app{}", app.app), "0.0.1");
    let horizon = Millis(u64::from(horizon_minutes) * MINUTE_MS);
    let mut result = AppResult::default();
    let mut ledger = MemoryLedger::default();
    let mut next_id = 0u64;
    for &(minute, count) in &app.minutes {
        let start = Millis(u64::from(minute) * MINUTE_MS);
        advance(&mut pool, &mut ledger, start.0.saturating_sub(1));
        let slice = MINUTE_MS / u64::from(count.max(1));
        for i in 0..count {
            let at = start.plus(u64::from(i) * slice);
            let end = if i + 1 == count {
                start.plus(MINUTE_MS)
            } else {
                at.plus(slice)
            };
            let id = ActivationId::new(format!("a{next_id}"));
            next_id += 1;
            let request = ActivationRequest {
                activation: id.clone(),
                action: action.clone(),
                kind: Kind::new("python:3"),
                memory_mb: app.memory_mb,
                concurrency: 1,
                scaling: None,
            };
            let effects = pool.handle(PoolInput::Schedule(request), at);
            let cold = effects
                .iter()
                .any(|e| matches!(e, PoolEffect::Create { .. }));
            result.invocations += 1;
            result.cold_starts += u64::from(cold);
            let container = carry_out(&mut pool, &mut ledger, effects, at, &id);
            if let Some(container) = container {
                ledger.busy(end.since(at));
                let effects = pool.handle(
                    PoolInput::RunFinished {
                        container,
                        activation: id,
                    },
                    end,
                );
                carry_out(&mut pool, &mut ledger, effects, end, &ActivationId::new(""));
            }
        }
    }
    advance(&mut pool, &mut ledger, horizon.0);
    result.wasted_ms = ledger.wasted_ms(horizon);
    result.wasted_mb_ms = u128::from(result.wasted_ms) * u128::from(app.memory_mb);
    result
}

/// Ticks the pool at each of its deadlines up to `until` (inclusive).
fn advance(pool: &mut ContainerPool, ledger: &mut MemoryLedger, until: u64) {
    let mut last = None;
    while let Some(deadline) = pool.next_deadline() {
        if deadline.0 > until || last == Some(deadline) {
            break;
        }
        last = Some(deadline);
        let effects = pool.handle(PoolInput::Tick, deadline);
        carry_out(pool, ledger, effects, deadline, &ActivationId::new(""));
    }
}

/// Carries out the pool's effects (containers are created at once) and returns the container
/// that runs `activation`, if it runs.
fn carry_out(
    pool: &mut ContainerPool,
    ledger: &mut MemoryLedger,
    effects: Vec<PoolEffect>,
    now: Millis,
    activation: &ActivationId,
) -> Option<ContainerId> {
    let mut runs_in = None;
    let mut pending = effects;
    while !pending.is_empty() {
        let mut next = Vec::new();
        for effect in pending {
            match effect {
                PoolEffect::Create { container, .. } => {
                    ledger.created(container, now);
                    next.extend(pool.handle(PoolInput::Created { container }, now));
                }
                PoolEffect::Remove { container, .. } => ledger.removed(container, now),
                PoolEffect::Run {
                    container,
                    activation: a,
                } if &a == activation => runs_in = Some(container),
                _ => {}
            }
        }
        pending = next;
    }
    runs_in
}

/// How long each container existed and how long it ran.
#[derive(Debug, Default)]
struct MemoryLedger {
    alive: BTreeMap<ContainerId, Millis>,
    existed_ms: u64,
    busy_ms: u64,
}

impl MemoryLedger {
    fn created(&mut self, container: ContainerId, now: Millis) {
        self.alive.insert(container, now);
    }

    fn removed(&mut self, container: ContainerId, now: Millis) {
        if let Some(since) = self.alive.remove(&container) {
            self.existed_ms += now.since(since);
        }
    }

    fn busy(&mut self, ms: u64) {
        self.busy_ms += ms;
    }

    fn wasted_ms(&self, horizon: Millis) -> u64 {
        let still: u64 = self.alive.values().map(|since| horizon.since(*since)).sum();
        (self.existed_ms + still).saturating_sub(self.busy_ms)
    }
}

/// How the pool replay compares with the model over a set of apps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Agreement {
    pub apps: usize,
    /// Apps whose cold starts are identical in the pool and the model.
    pub apps_identical: usize,
    pub model_cold: u64,
    pub pool_cold: u64,
    pub model_wasted_ms: u64,
    pub pool_wasted_ms: u64,
}

/// Compares the model's results with the pool replay for each app.
pub fn compare(model: &[AppResult], pool: &[AppResult]) -> Agreement {
    let mut agreement = Agreement::default();
    for (m, p) in model.iter().zip(pool) {
        agreement.apps += 1;
        agreement.apps_identical += usize::from(m.cold_starts == p.cold_starts);
        agreement.model_cold += m.cold_starts;
        agreement.pool_cold += p.cold_starts;
        agreement.model_wasted_ms += m.wasted_ms;
        agreement.pool_wasted_ms += p.wasted_ms;
    }
    agreement
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::keepalive::model::simulate_app;
    use crate::keepalive::policy::StudyPolicy;
    use crate::keepalive::workload::TriggerMix;

    fn app(minutes: Vec<(u32, u32)>) -> AppWorkload {
        AppWorkload {
            app: 1,
            mix: TriggerMix::Http,
            memory_mb: 128,
            daily_rate: 0.0,
            triggers: Vec::new(),
            minutes,
        }
    }

    #[test]
    fn the_pool_and_the_model_agree_on_fixed_keep_alive() {
        let a = app(vec![(0, 2), (5, 1), (16, 3), (40, 1), (41, 1)]);
        let model = simulate_app(&a, &StudyPolicy::fixed_minutes(10), 60);
        let pool = replay_app(
            &a,
            &KeepAlivePolicy::IdleFor {
                idle_ms: 10 * MINUTE_MS,
            },
            60,
        );
        assert_eq!(pool.invocations, model.invocations);
        assert_eq!(pool.cold_starts, model.cold_starts);
        assert_eq!(pool.wasted_ms, model.wasted_ms);
    }

    #[test]
    fn the_pool_and_the_model_agree_on_a_periodic_app_under_whirl() {
        let minutes: Vec<(u32, u32)> = (0..48).map(|i| (i * 30, 1)).collect();
        let a = app(minutes);
        let model = simulate_app(&a, &StudyPolicy::whirl(), 48 * 30);
        let pool = replay_app(&a, &KeepAlivePolicy::whirl(), 48 * 30);
        assert_eq!(pool.cold_starts, model.cold_starts, "{pool:?} vs {model:?}");
        assert!(pool.cold_starts <= 2);
    }
}
