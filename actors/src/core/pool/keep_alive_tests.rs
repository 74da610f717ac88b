//! Scenario tests of the pool under the histogram keep-alive policies, and of the test-only
//! planted bug.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::core::action::ActionKey;

const MIN: u64 = 60_000;

fn request(id: &str, version: &str) -> ActivationRequest {
    ActivationRequest {
        activation: ActivationId::new(id),
        action: ActionKey::new("ns", "ns/timer", version),
        kind: Kind::new("python:3"),
        memory_mb: 256,
        concurrency: 1,
        scaling: None,
    }
}

fn histogram_pool() -> ContainerPool {
    ContainerPool::new(PoolConfig {
        user_memory_mb: 1024,
        pause_grace_ms: None,
        keep_alive: KeepAlivePolicy::hybrid_histogram(),
        ..PoolConfig::default()
    })
}

/// Runs one activation to its end at `at` (+1 s) and returns the effects of the run and whether
/// it needed a new container.
fn run_once(p: &mut ContainerPool, id: &str, at: Millis) -> bool {
    let mut effects = p.handle(PoolInput::Schedule(request(id, "1")), at);
    let cold = effects
        .iter()
        .any(|e| matches!(e, PoolEffect::Create { .. }));
    if let Some(PoolEffect::Create { container, .. }) = effects.first().cloned() {
        effects = p.handle(PoolInput::Created { container }, at);
    }
    let container = effects
        .iter()
        .find_map(|e| match e {
            PoolEffect::Run { container, .. } => Some(*container),
            _ => None,
        })
        .expect("the activation runs");
    p.handle(
        PoolInput::RunFinished {
            container,
            activation: ActivationId::new(id),
        },
        at.plus(1_000),
    );
    cold
}

/// Ticks every second from `from` to `to` and returns every effect.
fn tick_through(p: &mut ContainerPool, from: Millis, to: Millis) -> Vec<(Millis, PoolEffect)> {
    let mut all = Vec::new();
    let mut t = from;
    while t < to {
        for e in p.handle(PoolInput::Tick, t) {
            if let PoolEffect::Create { container, .. } = &e {
                let created = p.handle(
                    PoolInput::Created {
                        container: *container,
                    },
                    t,
                );
                assert!(created.is_empty());
            }
            all.push((t, e));
        }
        t = t.plus(1_000);
    }
    all
}

#[test]
fn a_periodic_action_is_unloaded_after_each_run_and_prewarmed_before_the_next() {
    let mut p = histogram_pool();
    let period = 30 * MIN;
    // The first run is cold; with no history the standard keep-alive (4 h) keeps it for the second.
    assert!(run_once(&mut p, "a0", Millis(0)));
    tick_through(&mut p, Millis(1_000), Millis(period));
    assert!(!run_once(&mut p, "a1", Millis(period)));
    // From now on the history says "every 30 minutes": the container goes right after the run...
    let effects = tick_through(&mut p, Millis(period + 1_000), Millis(2 * period));
    let removed_at = effects
        .iter()
        .find_map(|(t, e)| {
            matches!(
                e,
                PoolEffect::Remove {
                    reason: RemovalReason::Expired,
                    ..
                }
            )
            .then_some(*t)
        })
        .expect("the container of the last run is unloaded");
    assert!(
        removed_at <= Millis(period + 3_000),
        "removed at {removed_at}"
    );
    // ... and a container for the action is created again shortly before the next arrival.
    let prewarmed_at = effects
        .iter()
        .find_map(|(t, e)| match e {
            PoolEffect::Create {
                for_action: Some(a),
                ..
            } if a.action == "ns/timer" => Some(*t),
            _ => None,
        })
        .expect("a pre-warm create");
    assert!(
        prewarmed_at > Millis(period + 20 * MIN) && prewarmed_at < Millis(2 * period),
        "pre-warmed at {prewarmed_at}"
    );
    let cold_before = p.counters().cold_starts;
    // The next arrival is warm: no Create, the pre-warmed container is initialized and runs it.
    assert!(!run_once(&mut p, "a2", Millis(2 * period)));
    assert_eq!(p.counters().cold_starts, cold_before);
    assert!(p.next_deadline().is_some());
}

#[test]
fn whirl_policy_keeps_a_busy_action_loaded_between_close_arrivals() {
    let mut p = ContainerPool::new(PoolConfig {
        user_memory_mb: 1024,
        keep_alive: KeepAlivePolicy::whirl(),
        ..PoolConfig::default()
    });
    // Arrivals every 2 minutes: after the first, every run is warm.
    let mut t = Millis(0);
    for i in 0..20 {
        let cold = run_once(&mut p, &format!("b{i}"), t);
        assert_eq!(cold, i == 0, "run {i}");
        tick_through(&mut p, t.plus(1_000), t.plus(2 * MIN));
        t = t.plus(2 * MIN);
    }
}

/// Ticks the pool at each of its deadlines up to `until`, creating what it asks for; returns the
/// times it created a container with no activation (pre-warms).
fn advance(p: &mut ContainerPool, until: Millis) -> Vec<Millis> {
    let mut prewarms = Vec::new();
    while let Some(at) = p.next_deadline().filter(|&at| at <= until) {
        for e in p.handle(PoolInput::Tick, at) {
            if let PoolEffect::Create { container, .. } = e {
                prewarms.push(at);
                p.handle(PoolInput::Created { container }, at);
            }
        }
    }
    prewarms
}

#[test]
fn whirl_policy_prewarms_a_daily_action_from_its_first_idle_day() {
    let mut p = ContainerPool::new(PoolConfig {
        user_memory_mb: 1024,
        keep_alive: KeepAlivePolicy::whirl(),
        ..PoolConfig::default()
    });
    let day = 24 * 60 * MIN;
    let mut cold = Vec::new();
    for i in 0..4u64 {
        let at = Millis(i * day);
        let prewarms = advance(&mut p, Millis(at.0.saturating_sub(1)));
        if i >= 2 {
            // From the second idle day on, a container is created shortly before the arrival
            // (within the forecast's 2 % margin), and none is kept for the rest of the day.
            assert_eq!(prewarms.len(), 1, "day {i}: {prewarms:?}");
            assert!(
                prewarms[0] >= Millis(at.0 - day * 3 / 100),
                "day {i}: {prewarms:?}"
            );
        }
        cold.push(run_once(&mut p, &format!("d{i}"), at));
        advance(&mut p, at.plus(MIN));
        if i >= 1 {
            assert_eq!(p.used_memory_mb(), 0, "unloaded right after run {i}");
        }
    }
    // The first run is cold, the second too (the first idle day is not known yet, and the
    // standard keep-alive is 10 minutes), every later one is warm.
    assert_eq!(cold, [true, true, false, false]);
}

#[test]
fn the_planted_bug_is_off_by_default_and_reuses_across_versions_when_on() {
    let a1 = request("v1", "1");
    let a2 = request("v2", "2");
    for planted in [false, true] {
        let mut p = ContainerPool::new(PoolConfig {
            planted_bug_reuse_across_versions: planted,
            ..PoolConfig::default()
        });
        let effects = p.handle(PoolInput::Schedule(a1.clone()), Millis(0));
        let c = match effects[0] {
            PoolEffect::Create { container, .. } => container,
            _ => panic!("expected a create"),
        };
        p.handle(PoolInput::Created { container: c }, Millis(1));
        p.handle(
            PoolInput::RunFinished {
                container: c,
                activation: a1.activation.clone(),
            },
            Millis(2),
        );
        let effects = p.handle(PoolInput::Schedule(a2.clone()), Millis(3));
        let reused = effects.contains(&PoolEffect::Run {
            container: c,
            activation: a2.activation.clone(),
        });
        assert_eq!(reused, planted, "planted = {planted}: {effects:?}");
    }
    assert!(!PoolConfig::default().planted_bug_reuse_across_versions);
}
