//! Scenario tests of per-action scaling in the pool core: ceilings that hold only their own
//! action's activations, floors kept warm (and created), idle times, scale requests, scale to
//! zero and from zero.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::core::action::ActionKey;

const MB: u64 = 128;

fn key(name: &str) -> ActionKey {
    ActionKey::new("guest", format!("/guest/{name}"), "0.0.1")
}

fn req(id: &str, action: &ActionKey, scaling: Option<Scaling>) -> ActivationRequest {
    ActivationRequest {
        activation: ActivationId::new(id),
        action: action.clone(),
        kind: Kind::new("exec"),
        memory_mb: MB,
        concurrency: 1,
        scaling,
    }
}

fn pool() -> ContainerPool {
    ContainerPool::new(PoolConfig {
        user_memory_mb: 4096,
        pause_grace_ms: Some(10_000),
        keep_alive: KeepAlivePolicy::IdleFor { idle_ms: 60_000 },
        ..PoolConfig::default()
    })
}

fn creates(effects: &[PoolEffect]) -> Vec<ContainerId> {
    effects
        .iter()
        .filter_map(|e| match e {
            PoolEffect::Create { container, .. } => Some(*container),
            _ => None,
        })
        .collect()
}

fn removed(effects: &[PoolEffect]) -> Vec<(ContainerId, RemovalReason)> {
    effects
        .iter()
        .filter_map(|e| match e {
            PoolEffect::Remove { container, reason } => Some((*container, *reason)),
            _ => None,
        })
        .collect()
}

fn runs(effects: &[PoolEffect]) -> Vec<(ContainerId, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            PoolEffect::Run {
                container,
                activation,
            } => Some((*container, activation.to_string())),
            _ => None,
        })
        .collect()
}

fn finish(p: &mut ContainerPool, container: ContainerId, id: &str, now: Millis) -> Vec<PoolEffect> {
    p.handle(
        PoolInput::RunFinished {
            container,
            activation: ActivationId::new(id),
        },
        now,
    )
}

const CEILING_TWO: Scaling = Scaling {
    min: 1,
    max: 2,
    idle_ms: None,
};

#[test]
fn busy_replicas_grow_to_the_ceiling_and_only_that_action_waits() {
    let mut p = pool();
    let f = key("f");
    let mut started = Vec::new();
    for n in 0..3 {
        let effects = p.handle(
            PoolInput::Schedule(req(&format!("f{n}"), &f, Some(CEILING_TWO))),
            Millis(0),
        );
        started.extend(creates(&effects));
    }
    assert_eq!(started.len(), 2, "two replicas, the third call waits");
    assert_eq!(p.queue_depth(), 1);
    // Another action is not held up behind the waiting one.
    let g = key("g");
    let effects = p.handle(PoolInput::Schedule(req("g0", &g, None)), Millis(1));
    assert_eq!(creates(&effects).len(), 1);
    assert_eq!(p.queue_depth(), 1);
    // Both replicas come up and run; the one that finishes first takes the waiting call.
    for c in &started {
        p.handle(PoolInput::Created { container: *c }, Millis(10));
    }
    assert_eq!(p.replicas_of("guest", "/guest/f"), (2, 2));
    let effects = finish(&mut p, started[0], "f0", Millis(20));
    assert_eq!(runs(&effects), vec![(started[0], "f2".to_owned())]);
    assert_eq!(p.queue_depth(), 0);
    assert!(creates(&effects).is_empty(), "never above the ceiling");
}

#[test]
fn the_floor_stays_warm_and_the_rest_expires() {
    let mut p = pool();
    let f = key("f");
    let scaling = Scaling {
        min: 1,
        max: 5,
        idle_ms: Some(5_000),
    };
    let mut containers = Vec::new();
    for n in 0..3 {
        let effects = p.handle(
            PoolInput::Schedule(req(&format!("f{n}"), &f, Some(scaling))),
            Millis(0),
        );
        containers.extend(creates(&effects));
    }
    for c in &containers {
        p.handle(PoolInput::Created { container: *c }, Millis(1));
    }
    for (n, c) in containers.iter().enumerate() {
        finish(&mut p, *c, &format!("f{n}"), Millis(100 + n as u64));
    }
    // Past the function's own idle time: all but the floor go, the most recently used stays.
    let effects = p.handle(PoolInput::Tick, Millis(6_000));
    let gone: Vec<ContainerId> = removed(&effects).iter().map(|(c, _)| *c).collect();
    assert_eq!(gone, vec![containers[0], containers[1]]);
    assert!(removed(&effects)
        .iter()
        .all(|(_, r)| *r == RemovalReason::Expired));
    // The floor container is paused, never removed, and no deadline says otherwise.
    let effects = p.handle(PoolInput::Tick, Millis(20_000));
    assert_eq!(
        effects,
        vec![PoolEffect::Pause {
            container: containers[2]
        }]
    );
    assert!(removed(&p.handle(PoolInput::Tick, Millis(10_000_000))).is_empty());
    assert_eq!(p.next_deadline(), None);
    assert_eq!(p.replicas_of("guest", "/guest/f"), (1, 1));
}

#[test]
fn scale_to_zero_lets_every_container_go_and_the_next_call_starts_one() {
    let mut p = pool();
    let f = key("f");
    let zero = Scaling {
        min: 0,
        max: 3,
        idle_ms: Some(1_000),
    };
    let effects = p.handle(PoolInput::Schedule(req("f0", &f, Some(zero))), Millis(0));
    let c = creates(&effects)[0];
    p.handle(PoolInput::Created { container: c }, Millis(1));
    finish(&mut p, c, "f0", Millis(2));
    assert_eq!(
        removed(&p.handle(PoolInput::Tick, Millis(1_500))),
        vec![(c, RemovalReason::Expired)]
    );
    assert_eq!(p.replicas_of("guest", "/guest/f"), (0, 0));
    // Scale from zero: the call waits for a new container, then runs (with its init).
    let effects = p.handle(
        PoolInput::Schedule(req("f1", &f, Some(zero))),
        Millis(2_000),
    );
    let fresh = creates(&effects)[0];
    let effects = p.handle(PoolInput::Created { container: fresh }, Millis(2_400));
    assert!(matches!(effects[0], PoolEffect::Init { .. }));
    assert_eq!(runs(&effects), vec![(fresh, "f1".to_owned())]);
}

#[test]
fn floors_are_created_on_tick_and_initialized_by_their_first_run() {
    let mut p = pool();
    let f = key("f");
    let three = Scaling {
        min: 3,
        max: 5,
        idle_ms: None,
    };
    let effects = p.handle(PoolInput::Schedule(req("f0", &f, Some(three))), Millis(0));
    let first = creates(&effects)[0];
    p.handle(PoolInput::Created { container: first }, Millis(1));
    let effects = p.handle(PoolInput::Tick, Millis(2));
    let floor = creates(&effects);
    assert_eq!(floor.len(), 2, "two more to reach the floor of 3");
    assert_eq!(p.replicas_of("guest", "/guest/f"), (3, 1));
    for c in &floor {
        assert!(p
            .handle(PoolInput::Created { container: *c }, Millis(3))
            .is_empty());
    }
    // The first container is busy: the next call goes to a floor container, with its init.
    let effects = p.handle(PoolInput::Schedule(req("f1", &f, Some(three))), Millis(4));
    assert!(matches!(&effects[0], PoolEffect::Init { container, .. } if floor.contains(container)));
    assert!(creates(&effects).is_empty());
    // A second Tick creates nothing more.
    assert!(creates(&p.handle(PoolInput::Tick, Millis(5))).is_empty());
}

#[test]
fn scale_requests_remove_idle_replicas_and_create_missing_ones() {
    let mut p = pool();
    let f = key("f");
    let request = |replicas| ScaleRequest {
        action: f.clone(),
        kind: Kind::new("exec"),
        memory_mb: MB,
        concurrency: 1,
        scaling: CEILING_TWO,
        replicas,
    };
    // From nothing to 4 (above the label's ceiling of 2: the request raises it).
    let effects = p.handle(PoolInput::Scale(request(4)), Millis(0));
    let made = creates(&effects);
    assert_eq!(made.len(), 4);
    for c in &made {
        p.handle(PoolInput::Created { container: *c }, Millis(1));
    }
    assert_eq!(p.replicas_of("guest", "/guest/f"), (4, 4));
    // One busy; scaling to 1 removes three idle ones (never the busy one).
    let effects = p.handle(
        PoolInput::Schedule(req("f0", &f, Some(CEILING_TWO))),
        Millis(2),
    );
    let busy = runs(&effects)[0].0;
    let effects = p.handle(PoolInput::Scale(request(1)), Millis(3));
    let gone = removed(&effects);
    assert_eq!(gone.len(), 3);
    assert!(gone
        .iter()
        .all(|(c, r)| *c != busy && *r == RemovalReason::ScaledDown));
    // Scaling to zero while it runs: nothing idle to remove; once idle it expires.
    assert!(removed(&p.handle(PoolInput::Scale(request(0)), Millis(4))).is_empty());
    finish(&mut p, busy, "f0", Millis(5));
    assert_eq!(
        removed(&p.handle(PoolInput::Tick, Millis(70_000))),
        vec![(busy, RemovalReason::Expired)]
    );
}
