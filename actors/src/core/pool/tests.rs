//! Scenario tests of the container pool core, driven by a controllable clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::core::action::ActionKey;

const MB: u64 = 256;

fn key(ns: &str, name: &str, version: &str) -> ActionKey {
    ActionKey::new(ns, format!("{ns}/{name}"), version)
}

fn req(id: &str, action: &ActionKey) -> ActivationRequest {
    ActivationRequest {
        activation: ActivationId::new(id),
        action: action.clone(),
        kind: Kind::new("python:3"),
        memory_mb: MB,
        concurrency: 1,
        scaling: None,
    }
}

fn pool(memory_mb: u64) -> ContainerPool {
    ContainerPool::new(PoolConfig {
        user_memory_mb: memory_mb,
        ..PoolConfig::default()
    })
}

fn act(id: &str) -> ActivationId {
    ActivationId::new(id)
}

fn created_id(effects: &[PoolEffect]) -> ContainerId {
    effects
        .iter()
        .find_map(|e| match e {
            PoolEffect::Create { container, .. } => Some(*container),
            _ => None,
        })
        .expect("a Create effect")
}

/// Schedules, creates if needed, and returns the container the activation runs in.
fn run_to_start(pool: &mut ContainerPool, r: ActivationRequest, now: Millis) -> ContainerId {
    let id = r.activation.clone();
    let mut effects = pool.handle(PoolInput::Schedule(r), now);
    if let Some(PoolEffect::Create { container, .. }) = effects.iter().find(|e| {
        matches!(
            e,
            PoolEffect::Create {
                for_action: Some(_),
                ..
            }
        )
    }) {
        let c = *container;
        effects = pool.handle(PoolInput::Created { container: c }, now);
    }
    effects
        .iter()
        .find_map(|e| match e {
            PoolEffect::Run {
                container,
                activation,
            } if *activation == id => Some(*container),
            _ => None,
        })
        .expect("the activation runs")
}

#[test]
fn cold_start_then_warm_reuse() {
    let mut p = pool(1024);
    let a = key("guest", "hello", "0.0.1");
    let effects = p.handle(PoolInput::Schedule(req("a1", &a)), Millis(0));
    let c = created_id(&effects);
    assert_eq!(
        effects,
        vec![PoolEffect::Create {
            container: c,
            kind: Kind::new("python:3"),
            memory_mb: MB,
            for_action: Some(a.clone())
        }]
    );
    assert_eq!(
        p.containers_by_state().get(&ContainerState::Starting),
        Some(&1)
    );
    let effects = p.handle(PoolInput::Created { container: c }, Millis(400));
    assert_eq!(
        effects,
        vec![
            PoolEffect::Init {
                container: c,
                activation: act("a1")
            },
            PoolEffect::Run {
                container: c,
                activation: act("a1")
            }
        ]
    );
    assert_eq!(p.container(c).unwrap().state, ContainerState::Running);
    assert!(p
        .handle(
            PoolInput::RunFinished {
                container: c,
                activation: act("a1")
            },
            Millis(500)
        )
        .is_empty());
    assert_eq!(p.container(c).unwrap().state, ContainerState::Ready);
    // Warm: no Create, no Init.
    let effects = p.handle(PoolInput::Schedule(req("a2", &a)), Millis(600));
    assert_eq!(
        effects,
        vec![PoolEffect::Run {
            container: c,
            activation: act("a2")
        }]
    );
    p.handle(
        PoolInput::RunFinished {
            container: c,
            activation: act("a2"),
        },
        Millis(700),
    );
    for i in 3..10 {
        let id = format!("a{i}");
        assert_eq!(run_to_start(&mut p, req(&id, &a), Millis(800 + i)), c);
        p.handle(
            PoolInput::RunFinished {
                container: c,
                activation: act(&id),
            },
            Millis(900 + i),
        );
    }
    let counters = p.counters();
    assert_eq!(
        (
            counters.cold_starts,
            counters.warm_starts,
            counters.prewarm_starts
        ),
        (1, 8, 0)
    );
}

#[test]
fn updated_action_never_reuses_an_old_container() {
    let mut p = pool(512);
    let v1 = key("guest", "hello", "0.0.1");
    let v2 = key("guest", "hello", "0.0.2");
    let old = run_to_start(&mut p, req("a1", &v1), Millis(0));
    p.handle(
        PoolInput::RunFinished {
            container: old,
            activation: act("a1"),
        },
        Millis(10),
    );
    // The idle v1 container is right there, but v2 gets its own.
    let effects = p.handle(PoolInput::Schedule(req("a2", &v2)), Millis(20));
    let new = created_id(&effects);
    assert_ne!(new, old);
    assert!(matches!(&effects[0], PoolEffect::Create { for_action: Some(k), .. } if *k == v2));
    p.handle(PoolInput::Created { container: new }, Millis(30));
    p.handle(
        PoolInput::RunFinished {
            container: new,
            activation: act("a2"),
        },
        Millis(40),
    );
    // Even when the pool is full, v2 never runs in the v1 container: it is evicted instead.
    let mut full = pool(256);
    let old = run_to_start(&mut full, req("b1", &v1), Millis(0));
    full.handle(
        PoolInput::RunFinished {
            container: old,
            activation: act("b1"),
        },
        Millis(10),
    );
    let effects = full.handle(PoolInput::Schedule(req("b2", &v2)), Millis(20));
    assert_eq!(
        effects[0],
        PoolEffect::Remove {
            container: old,
            reason: RemovalReason::Evicted
        }
    );
    let new = created_id(&effects);
    assert_ne!(new, old);
    let effects = full.handle(PoolInput::Created { container: new }, Millis(30));
    assert!(effects
        .iter()
        .all(|e| !matches!(e, PoolEffect::Run { container, .. } if *container == old)));
    assert_eq!(full.counters().cold_starts, 2);
    assert_eq!(full.counters().warm_starts, 0);
}

#[test]
fn a_container_never_serves_two_namespaces() {
    let mut p = pool(1024);
    let mine = key("alice", "shared", "0.0.1");
    let theirs = ActionKey::new("bob", "alice/shared", "0.0.1");
    let c1 = run_to_start(&mut p, req("a1", &mine), Millis(0));
    p.handle(
        PoolInput::RunFinished {
            container: c1,
            activation: act("a1"),
        },
        Millis(1),
    );
    let c2 = run_to_start(&mut p, req("b1", &theirs), Millis(2));
    assert_ne!(c1, c2);
    assert_eq!(p.counters().cold_starts, 2);
}

#[test]
fn idle_container_pauses_after_grace_and_unpauses_before_a_run() {
    let mut p = pool(1024);
    let a = key("guest", "a", "1");
    let c = run_to_start(&mut p, req("a1", &a), Millis(0));
    p.handle(
        PoolInput::RunFinished {
            container: c,
            activation: act("a1"),
        },
        Millis(1_000),
    );
    assert_eq!(p.next_deadline(), Some(Millis(11_000)));
    assert!(p.handle(PoolInput::Tick, Millis(10_999)).is_empty());
    assert_eq!(
        p.handle(PoolInput::Tick, Millis(11_000)),
        vec![PoolEffect::Pause { container: c }]
    );
    assert_eq!(p.container(c).unwrap().state, ContainerState::Paused);
    assert!(
        p.handle(PoolInput::Tick, Millis(12_000)).is_empty(),
        "paused once"
    );
    assert_eq!(
        p.handle(PoolInput::Schedule(req("a2", &a)), Millis(20_000)),
        vec![
            PoolEffect::Unpause { container: c },
            PoolEffect::Run {
                container: c,
                activation: act("a2")
            }
        ]
    );
    assert_eq!(p.counters().pauses, 1);
}

#[test]
fn busy_containers_are_never_paused_or_expired() {
    let mut p = pool(1024);
    let a = key("guest", "slow", "1");
    let c = run_to_start(&mut p, req("a1", &a), Millis(0));
    assert!(p.handle(PoolInput::Tick, Millis(3_600_000)).is_empty());
    assert_eq!(p.container(c).unwrap().state, ContainerState::Running);
    assert_eq!(p.next_deadline(), None);
}

#[test]
fn keep_alive_removes_idle_containers() {
    let mut p = pool(1024);
    let a = key("guest", "a", "1");
    let c = run_to_start(&mut p, req("a1", &a), Millis(0));
    p.handle(
        PoolInput::RunFinished {
            container: c,
            activation: act("a1"),
        },
        Millis(0),
    );
    p.handle(PoolInput::Tick, Millis(10_000));
    assert_eq!(p.next_deadline(), Some(Millis(600_000)));
    assert!(p.handle(PoolInput::Tick, Millis(599_999)).is_empty());
    assert_eq!(
        p.handle(PoolInput::Tick, Millis(600_000)),
        vec![PoolEffect::Remove {
            container: c,
            reason: RemovalReason::Expired
        }]
    );
    assert!(p.containers().is_empty());
    assert_eq!(p.used_memory_mb(), 0);
    // The next activation is cold again.
    let again = run_to_start(&mut p, req("a2", &a), Millis(700_000));
    assert_ne!(again, c);
    assert_eq!(p.counters().expirations, 1);
    assert_eq!(p.counters().cold_starts, 2);
}

#[test]
fn keep_alive_policy_is_configurable() {
    let mut p = ContainerPool::new(PoolConfig {
        user_memory_mb: 1024,
        pause_grace_ms: None,
        keep_alive: KeepAlivePolicy::IdleFor { idle_ms: 5_000 },
        ..PoolConfig::default()
    });
    let a = key("guest", "a", "1");
    let c = run_to_start(&mut p, req("a1", &a), Millis(0));
    p.handle(
        PoolInput::RunFinished {
            container: c,
            activation: act("a1"),
        },
        Millis(100),
    );
    assert!(
        p.handle(PoolInput::Tick, Millis(5_099)).is_empty(),
        "pausing is off"
    );
    assert_eq!(
        p.handle(PoolInput::Tick, Millis(5_100)),
        vec![PoolEffect::Remove {
            container: c,
            reason: RemovalReason::Expired
        }]
    );
}

#[test]
fn least_recently_used_idle_container_is_evicted() {
    let mut p = pool(512);
    let a = key("guest", "a", "1");
    let b = key("guest", "b", "1");
    let c = key("guest", "c", "1");
    let ca = run_to_start(&mut p, req("a1", &a), Millis(0));
    let cb = run_to_start(&mut p, req("b1", &b), Millis(10));
    p.handle(
        PoolInput::RunFinished {
            container: cb,
            activation: act("b1"),
        },
        Millis(20),
    );
    p.handle(
        PoolInput::RunFinished {
            container: ca,
            activation: act("a1"),
        },
        Millis(30),
    );
    // a was used last; b is the least recently used.
    let effects = p.handle(PoolInput::Schedule(req("c1", &c)), Millis(40));
    assert_eq!(
        effects[0],
        PoolEffect::Remove {
            container: cb,
            reason: RemovalReason::Evicted
        }
    );
    assert!(matches!(&effects[1], PoolEffect::Create { for_action: Some(k), .. } if *k == c));
    assert_eq!(p.counters().evictions, 1);
    assert!(p.container(ca).is_some());
    assert!(p.used_memory_mb() <= 512);
}

#[test]
fn eviction_takes_several_small_containers_for_a_big_one() {
    let mut p = pool(512);
    let small: Vec<ActionKey> = (0..4)
        .map(|i| key("guest", &format!("s{i}"), "1"))
        .collect();
    for (i, k) in small.iter().enumerate() {
        let mut r = req(&format!("s{i}"), k);
        r.memory_mb = 128;
        let c = run_to_start(&mut p, r, Millis(i as u64));
        p.handle(
            PoolInput::RunFinished {
                container: c,
                activation: act(&format!("s{i}")),
            },
            Millis(10 + i as u64),
        );
    }
    let big = key("guest", "big", "1");
    let mut r = req("big", &big);
    r.memory_mb = 384;
    let effects = p.handle(PoolInput::Schedule(r), Millis(100));
    let removed: Vec<ContainerId> = effects
        .iter()
        .filter_map(|e| match e {
            PoolEffect::Remove {
                container,
                reason: RemovalReason::Evicted,
            } => Some(*container),
            _ => None,
        })
        .collect();
    assert_eq!(
        removed,
        vec![ContainerId(0), ContainerId(1), ContainerId(2)]
    );
    assert_eq!(p.used_memory_mb(), 128 + 384);
}

#[test]
fn full_pool_queues_fifo_and_serves_in_order() {
    let mut p = pool(512);
    let a = key("guest", "a", "1");
    let b = key("guest", "b", "1");
    let c = key("guest", "c", "1");
    let ca = run_to_start(&mut p, req("a1", &a), Millis(0));
    let cb = run_to_start(&mut p, req("b1", &b), Millis(0));
    // Both containers are busy: nothing to evict, so c1 and then a2 queue.
    assert!(p
        .handle(PoolInput::Schedule(req("c1", &c)), Millis(1))
        .is_empty());
    // a2 could join nobody (concurrency 1) and must not overtake c1 anyway.
    assert!(p
        .handle(PoolInput::Schedule(req("a2", &a)), Millis(2))
        .is_empty());
    assert_eq!(p.queued(), vec![act("c1"), act("a2")]);
    assert_eq!(p.queue_depth(), 2);
    // b1 ends: the head (c1) evicts b's idle container and gets a cold one; a2 still waits.
    let effects = p.handle(
        PoolInput::RunFinished {
            container: cb,
            activation: act("b1"),
        },
        Millis(3),
    );
    assert_eq!(
        effects[0],
        PoolEffect::Remove {
            container: cb,
            reason: RemovalReason::Evicted
        }
    );
    assert!(matches!(&effects[1], PoolEffect::Create { for_action: Some(k), .. } if *k == c));
    assert_eq!(effects.len(), 2);
    assert_eq!(p.queued(), vec![act("a2")]);
    // a1 ends: a2 runs warm in a's container.
    let effects = p.handle(
        PoolInput::RunFinished {
            container: ca,
            activation: act("a1"),
        },
        Millis(4),
    );
    assert_eq!(
        effects,
        vec![PoolEffect::Run {
            container: ca,
            activation: act("a2")
        }]
    );
    assert_eq!(p.queue_depth(), 0);
}

#[test]
fn the_queue_head_blocks_later_activations() {
    let mut p = pool(512);
    let a = key("guest", "a", "1");
    let b = key("guest", "b", "1");
    let big = key("guest", "big", "1");
    let ca = run_to_start(&mut p, req("a1", &a), Millis(0));
    let cb = run_to_start(&mut p, req("b1", &b), Millis(0));
    p.handle(
        PoolInput::RunFinished {
            container: cb,
            activation: act("b1"),
        },
        Millis(1),
    );
    // big needs the whole pool; a is busy, so it waits at the head.
    let mut r = req("big1", &big);
    r.memory_mb = 512;
    assert!(p.handle(PoolInput::Schedule(r), Millis(2)).is_empty());
    // b2 could run warm in the idle b container, but it queues behind big1 (strict FIFO).
    assert!(p
        .handle(PoolInput::Schedule(req("b2", &b)), Millis(3))
        .is_empty());
    assert_eq!(p.queued(), vec![act("big1"), act("b2")]);
    let effects = p.handle(
        PoolInput::RunFinished {
            container: ca,
            activation: act("a1"),
        },
        Millis(4),
    );
    assert_eq!(
        &effects[..2],
        &[
            PoolEffect::Remove {
                container: cb,
                reason: RemovalReason::Evicted
            },
            PoolEffect::Remove {
                container: ca,
                reason: RemovalReason::Evicted
            },
        ]
    );
    assert!(matches!(
        &effects[2],
        PoolEffect::Create { memory_mb: 512, .. }
    ));
    assert_eq!(p.queued(), vec![act("b2")]);
}

#[test]
fn too_big_for_the_pool_is_rejected() {
    let mut p = pool(512);
    let mut r = req("huge", &key("guest", "huge", "1"));
    r.memory_mb = 1024;
    let effects = p.handle(PoolInput::Schedule(r), Millis(0));
    assert_eq!(
        effects,
        vec![PoolEffect::Reject {
            activation: act("huge"),
            reason: RejectReason::MemoryExceedsPool {
                requested_mb: 1024,
                pool_mb: 512
            },
        }]
    );
    assert_eq!(p.queue_depth(), 0);
    assert_eq!(p.counters().rejections, 1);
}

fn prewarm_pool() -> ContainerPool {
    ContainerPool::new(PoolConfig {
        user_memory_mb: 1024,
        prewarm: vec![PrewarmSpec {
            kind: Kind::new("python:3"),
            memory_mb: MB,
            count: 2,
        }],
        ..PoolConfig::default()
    })
}

#[test]
fn stem_cells_are_created_used_and_replenished() {
    let mut p = prewarm_pool();
    let effects = p.handle(PoolInput::Tick, Millis(0));
    assert_eq!(effects.len(), 2);
    for e in &effects {
        assert!(matches!(
            e,
            PoolEffect::Create {
                for_action: None,
                memory_mb: MB,
                ..
            }
        ));
    }
    assert!(
        p.handle(PoolInput::Tick, Millis(1)).is_empty(),
        "already two starting"
    );
    p.handle(
        PoolInput::Created {
            container: ContainerId(0),
        },
        Millis(300),
    );
    p.handle(
        PoolInput::Created {
            container: ContainerId(1),
        },
        Millis(300),
    );
    assert_eq!(
        p.containers_by_state().get(&ContainerState::Prewarmed),
        Some(&2)
    );
    // A python action of the same memory takes the oldest stem cell: Init + Run, then a new stem cell.
    let a = key("guest", "py", "1");
    let effects = p.handle(PoolInput::Schedule(req("a1", &a)), Millis(1000));
    assert_eq!(
        effects,
        vec![
            PoolEffect::Init {
                container: ContainerId(0),
                activation: act("a1")
            },
            PoolEffect::Run {
                container: ContainerId(0),
                activation: act("a1")
            },
            PoolEffect::Create {
                container: ContainerId(2),
                kind: Kind::new("python:3"),
                memory_mb: MB,
                for_action: None
            },
        ]
    );
    assert_eq!(p.counters().prewarm_starts, 1);
    assert_eq!(p.container(ContainerId(0)).unwrap().action, Some(a.clone()));
    // The dedicated stem cell is now a warm container of that action.
    p.handle(
        PoolInput::RunFinished {
            container: ContainerId(0),
            activation: act("a1"),
        },
        Millis(1100),
    );
    assert_eq!(
        p.handle(PoolInput::Schedule(req("a2", &a)), Millis(1200)),
        vec![PoolEffect::Run {
            container: ContainerId(0),
            activation: act("a2")
        }]
    );
}

#[test]
fn stem_cells_only_serve_their_kind_and_memory() {
    let mut p = prewarm_pool();
    p.handle(PoolInput::Tick, Millis(0));
    p.handle(
        PoolInput::Created {
            container: ContainerId(0),
        },
        Millis(1),
    );
    p.handle(
        PoolInput::Created {
            container: ContainerId(1),
        },
        Millis(1),
    );
    let mut node = req("n1", &key("guest", "node", "1"));
    node.kind = Kind::new("nodejs:20");
    assert!(matches!(
        &p.handle(PoolInput::Schedule(node), Millis(2))[0],
        PoolEffect::Create {
            for_action: Some(_),
            ..
        }
    ));
    let mut big = req("p1", &key("guest", "py", "1"));
    big.memory_mb = 512;
    let effects = p.handle(PoolInput::Schedule(big), Millis(3));
    // 256 (stems) * 2 + 256 (node) + 512 > 1024: the stem cells are evicted for it as a last resort.
    assert_eq!(
        effects[0],
        PoolEffect::Remove {
            container: ContainerId(0),
            reason: RemovalReason::Evicted
        }
    );
    assert!(matches!(
        effects.last(),
        Some(PoolEffect::Create {
            memory_mb: 512,
            for_action: Some(_),
            ..
        })
    ));
    assert_eq!(p.counters().prewarm_starts, 0);
    assert!(p.used_memory_mb() <= 1024);
}

#[test]
fn concurrent_actions_share_a_container_up_to_their_limit() {
    let mut p = pool(1024);
    let a = key("guest", "conc", "1");
    let with_concurrency = |id: &str| ActivationRequest {
        concurrency: 3,
        ..req(id, &a)
    };
    // Two arrive before the container is up: one Create, both run after it.
    let effects = p.handle(PoolInput::Schedule(with_concurrency("c1")), Millis(0));
    let c = created_id(&effects);
    assert!(p
        .handle(PoolInput::Schedule(with_concurrency("c2")), Millis(1))
        .is_empty());
    assert_eq!(p.container(c).unwrap().waiting, 2);
    assert_eq!(
        p.handle(PoolInput::Created { container: c }, Millis(2)),
        vec![
            PoolEffect::Init {
                container: c,
                activation: act("c1")
            },
            PoolEffect::Run {
                container: c,
                activation: act("c1")
            },
            PoolEffect::Run {
                container: c,
                activation: act("c2")
            },
        ]
    );
    assert_eq!(
        p.handle(PoolInput::Schedule(with_concurrency("c3")), Millis(3)),
        vec![PoolEffect::Run {
            container: c,
            activation: act("c3")
        }]
    );
    // The fourth exceeds the container's slots: a second container.
    let effects = p.handle(PoolInput::Schedule(with_concurrency("c4")), Millis(4));
    assert_ne!(created_id(&effects), c);
    assert_eq!(p.container(c).unwrap().running, 3);
}

#[test]
fn failed_creation_retries_then_rejects() {
    let mut p = pool(1024);
    let a = key("guest", "a", "1");
    let c0 = created_id(&p.handle(PoolInput::Schedule(req("a1", &a)), Millis(0)));
    let effects = p.handle(
        PoolInput::CreateFailed {
            container: c0,
            error: "no image".into(),
        },
        Millis(1),
    );
    let c1 = created_id(&effects);
    assert_ne!(c0, c1, "retried with a new container");
    let effects = p.handle(
        PoolInput::CreateFailed {
            container: c1,
            error: "no image".into(),
        },
        Millis(2),
    );
    let c2 = created_id(&effects);
    let effects = p.handle(
        PoolInput::CreateFailed {
            container: c2,
            error: "no image".into(),
        },
        Millis(3),
    );
    assert_eq!(
        effects,
        vec![PoolEffect::Reject {
            activation: act("a1"),
            reason: RejectReason::ContainerCreateFailed {
                attempts: 3,
                error: "no image".into()
            },
        }]
    );
    assert_eq!(p.counters().create_failures, 3);
    assert_eq!(p.used_memory_mb(), 0);
    assert_eq!(
        RejectReason::ContainerCreateFailed {
            attempts: 3,
            error: "no image".into()
        }
        .to_string(),
        "failed to provision a container after 3 attempts: no image"
    );
}

#[test]
fn a_missing_image_rejects_waiting_activations_at_once_as_the_actions_fault() {
    let mut p = pool(1024);
    let a = key("guest", "a", "1");
    let c0 = created_id(&p.handle(PoolInput::Schedule(req("a1", &a)), Millis(0)));
    let effects = p.handle(
        PoolInput::ImageUnavailable {
            container: c0,
            error: "the image 'x:1' is not available".into(),
        },
        Millis(1),
    );
    let reason = RejectReason::ImageUnavailable {
        error: "the image 'x:1' is not available".into(),
    };
    assert!(reason.is_developer_error());
    assert_eq!(
        effects,
        vec![PoolEffect::Reject {
            activation: act("a1"),
            reason,
        }],
        "no retry"
    );
    assert_eq!(p.used_memory_mb(), 0);
    assert!(p.container(c0).is_none());
}

#[test]
fn failed_container_is_removed_and_replaced_next_time() {
    let mut p = pool(1024);
    let a = key("guest", "a", "1");
    let c = run_to_start(&mut p, req("a1", &a), Millis(0));
    let effects = p.handle(
        PoolInput::ContainerFailed {
            container: c,
            reason: "OOM".into(),
        },
        Millis(5),
    );
    assert_eq!(
        effects,
        vec![
            PoolEffect::Remove {
                container: c,
                reason: RemovalReason::Failed
            },
            PoolEffect::Lost {
                activation: act("a1"),
                container: c
            },
        ]
    );
    let fresh = run_to_start(&mut p, req("a2", &a), Millis(6));
    assert_ne!(fresh, c);
    // Reports about the dead container are ignored.
    assert!(p
        .handle(
            PoolInput::RunFinished {
                container: c,
                activation: act("a1")
            },
            Millis(7)
        )
        .is_empty());
    assert!(p
        .handle(
            PoolInput::ContainerFailed {
                container: c,
                reason: "again".into()
            },
            Millis(7)
        )
        .is_empty());
    assert_eq!(p.counters().container_failures, 1);
}

#[test]
fn unknown_created_container_is_removed() {
    let mut p = pool(1024);
    assert_eq!(
        p.handle(
            PoolInput::Created {
                container: ContainerId(99)
            },
            Millis(0)
        ),
        vec![PoolEffect::Remove {
            container: ContainerId(99),
            reason: RemovalReason::Stray
        }]
    );
}

#[test]
fn restart_adopts_warm_containers_and_removes_the_rest() {
    let mut p = prewarm_pool();
    let a = key("guest", "a", "1");
    let b = key("guest", "b", "1");
    p.handle(PoolInput::Tick, Millis(0));
    p.handle(
        PoolInput::Created {
            container: ContainerId(0),
        },
        Millis(1),
    );
    let ca = run_to_start(&mut p, req("a1", &a), Millis(2));
    let mut r = req("b1", &b);
    r.kind = Kind::new("nodejs:20");
    let cb = run_to_start(&mut p, r, Millis(3));
    p.handle(
        PoolInput::RunFinished {
            container: cb,
            activation: act("b1"),
        },
        Millis(4),
    );
    p.handle(PoolInput::Tick, Millis(20_000));
    assert_eq!(p.container(cb).unwrap().state, ContainerState::Paused);
    let mut adopted = p.adoptable();
    // The driver also reports a container whose init never happened.
    adopted.push(AdoptedContainer {
        container: ContainerId(40),
        kind: Kind::new("python:3"),
        memory_mb: MB,
        action: Some(a.clone()),
        max_concurrent: 1,
        initialized: false,
        paused: false,
    });
    let (mut restored, effects) =
        ContainerPool::from_parts(p.config().clone(), adopted, Millis(30_000));
    assert_eq!(
        effects,
        vec![PoolEffect::Remove {
            container: ContainerId(40),
            reason: RemovalReason::NotAdopted
        }]
    );
    assert_eq!(
        restored.container(cb).unwrap().state,
        ContainerState::Paused
    );
    // The container of a (busy at restart) is adopted idle; a runs warm in it.
    assert_eq!(
        restored.handle(PoolInput::Schedule(req("a2", &a)), Millis(30_001)),
        vec![PoolEffect::Run {
            container: ca,
            activation: act("a2")
        }]
    );
    // New containers get ids above every adopted one.
    let effects = restored.handle(
        PoolInput::Schedule(req("x1", &key("guest", "x", "1"))),
        Millis(30_002),
    );
    assert!(created_id(&effects).0 > 40);
}

#[test]
fn restart_with_less_memory_drops_what_does_not_fit() {
    let adopted: Vec<AdoptedContainer> = (0..3)
        .map(|i| AdoptedContainer {
            container: ContainerId(i),
            kind: Kind::new("python:3"),
            memory_mb: MB,
            action: Some(key("guest", &format!("a{i}"), "1")),
            max_concurrent: 1,
            initialized: true,
            paused: false,
        })
        .collect();
    let (p, effects) = ContainerPool::from_parts(
        PoolConfig {
            user_memory_mb: 512,
            ..PoolConfig::default()
        },
        adopted,
        Millis(0),
    );
    assert_eq!(
        effects,
        vec![PoolEffect::Remove {
            container: ContainerId(2),
            reason: RemovalReason::NotAdopted
        }]
    );
    assert_eq!(p.used_memory_mb(), 512);
}

#[test]
fn reserved_ids_are_never_reused_after_a_restart() {
    let mut p = pool(1024);
    let a = key("guest", "a", "1");
    let b = key("guest", "b", "1");
    let ca = run_to_start(&mut p, req("a1", &a), Millis(0));
    p.handle(
        PoolInput::RunFinished {
            container: ca,
            activation: act("a1"),
        },
        Millis(1),
    );
    let cb = run_to_start(&mut p, req("b1", &b), Millis(2));
    assert!(cb > ca);
    // The host drops the busy container itself and adopts only the idle one.
    let adopted: Vec<AdoptedContainer> = p
        .adoptable()
        .into_iter()
        .filter(|c| c.container == ca)
        .collect();
    let (mut restored, _) = ContainerPool::from_parts(p.config().clone(), adopted, Millis(3));
    assert_eq!(
        restored.next_container_id(),
        ContainerId(ca.0 + 1),
        "cb's id would be reused"
    );
    restored.reserve_container_ids_below(p.next_container_id());
    let effects = restored.handle(
        PoolInput::Schedule(req("c1", &key("guest", "c", "1"))),
        Millis(4),
    );
    assert!(created_id(&effects) > cb);
    restored.reserve_container_ids_below(ContainerId(0));
    assert!(
        restored.next_container_id() > cb,
        "reserving never lowers the next id"
    );
}
