//! Unit and property tests of the dispatcher core.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::core::random::SplitMix64;
use std::collections::BTreeSet;

fn action(name: &str) -> ActionKey {
    ActionKey::new("guest", format!("guest/{name}"), "0.0.1")
}

fn request(id: &str, name: &str, memory_mb: u64) -> DispatchRequest {
    DispatchRequest {
        activation: ActivationId::new(id),
        action: action(name),
        memory_mb,
        concurrency: 1,
    }
}

fn dispatcher_with(invokers: u32, user_memory_mb: u64) -> Dispatcher {
    let mut d = Dispatcher::new(DispatcherConfig::default());
    for i in 0..invokers {
        d.handle(
            DispatcherInput::Ping {
                invoker: InvokerId(i),
                user_memory_mb,
            },
            Millis(0),
        );
    }
    d
}

#[test]
fn no_invoker_registered_is_refused() {
    let mut d = Dispatcher::new(DispatcherConfig::default());
    let err = d
        .schedule(request("a1", "a", 256), 0, Millis(0))
        .unwrap_err();
    assert_eq!(err.registered, 0);
    assert_eq!(err.activation, ActivationId::new("a1"));
    assert!(err.to_string().contains("no healthy invoker"));
}

#[test]
fn home_invoker_gets_the_work_while_it_has_room() {
    let mut d = dispatcher_with(5, 1024);
    let home = d.home_invoker(&action("a")).unwrap();
    for i in 0..4 {
        let p = d
            .schedule(request(&format!("a{i}"), "a", 256), 0, Millis(10))
            .unwrap();
        assert_eq!(
            p,
            Placement {
                invoker: home,
                forced: false
            }
        );
    }
    // The fifth does not fit on the home invoker: the next invoker of the step walk takes it.
    let walk = d.walk_order(&action("a"));
    assert_eq!(walk.len(), 5);
    assert_eq!(
        walk.iter().collect::<BTreeSet<_>>().len(),
        5,
        "walk visits each invoker once"
    );
    let p = d.schedule(request("a4", "a", 256), 0, Millis(10)).unwrap();
    assert_eq!(p.invoker, walk[1]);
    assert!(!p.forced);
}

#[test]
fn home_depends_on_namespace_and_action_but_not_version() {
    let d = dispatcher_with(7, 1024);
    let v1 = ActionKey::new("guest", "guest/a", "0.0.1");
    let v2 = ActionKey::new("guest", "guest/a", "0.0.2");
    assert_eq!(d.home_invoker(&v1), d.home_invoker(&v2));
    // Spread: many actions land on every invoker.
    let mut per_invoker: BTreeMap<InvokerId, usize> = BTreeMap::new();
    for i in 0..700 {
        let key = ActionKey::new(format!("ns{}", i % 13), format!("act{i}"), "0.0.1");
        *per_invoker
            .entry(d.home_invoker(&key).unwrap())
            .or_default() += 1;
    }
    assert_eq!(per_invoker.len(), 7);
    assert!(
        per_invoker.values().all(|&n| n > 50),
        "uneven homes: {per_invoker:?}"
    );
}

#[test]
fn unusable_invokers_are_skipped() {
    let mut d = dispatcher_with(3, 1024);
    let walk = d.walk_order(&action("a"));
    // Make the home invoker unhealthy through system errors.
    for i in 0..3 {
        let id = format!("x{i}");
        let p = d.schedule(request(&id, "a", 128), 0, Millis(0)).unwrap();
        assert_eq!(p.invoker, walk[0]);
        d.handle(
            DispatcherInput::ActivationCompleted {
                activation: ActivationId::new(id),
                system_error: true,
            },
            Millis(0),
        );
    }
    assert_eq!(d.health(walk[0]), Some(Health::Unhealthy));
    let p = d.schedule(request("a1", "a", 128), 0, Millis(1)).unwrap();
    assert_eq!(p.invoker, walk[1]);
}

#[test]
fn overload_forces_a_random_healthy_invoker() {
    let mut d = dispatcher_with(3, 256);
    for i in 0..3 {
        let p = d
            .schedule(
                request(&format!("f{i}"), &format!("f{i}"), 256),
                0,
                Millis(0),
            )
            .unwrap();
        assert!(!p.forced);
    }
    // Everything is full: the random number picks among healthy invokers in id order.
    for r in 0..6u64 {
        let id = format!("o{r}");
        let p = d.schedule(request(&id, "o", 256), r, Millis(0)).unwrap();
        assert!(p.forced);
        assert_eq!(p.invoker, InvokerId((r % 3) as u32));
    }
    let total: u64 = d.invokers().iter().map(|v| v.reserved_mb).sum();
    assert_eq!(total, 9 * 256, "forced placements are booked too");
}

#[test]
fn silent_invoker_goes_offline_and_hands_back_its_work() {
    let mut d = dispatcher_with(2, 2048);
    let walk = d.walk_order(&action("a"));
    let victim = walk[0];
    for i in 0..3 {
        d.schedule(request(&format!("a{i}"), "a", 256), 0, Millis(0))
            .unwrap();
    }
    d.handle(
        DispatcherInput::ActivationStarted {
            activation: ActivationId::new("a1"),
        },
        Millis(5),
    );
    // The other invoker keeps pinging; the victim stays silent.
    let survivor = walk[1];
    d.handle(
        DispatcherInput::Ping {
            invoker: survivor,
            user_memory_mb: 2048,
        },
        Millis(2000),
    );
    assert!(d.handle(DispatcherInput::Tick, Millis(2999)).is_empty());
    // Silence already blocks new work before the tick declares the invoker offline.
    let p = d
        .schedule(request("b0", "a", 256), 0, Millis(3000))
        .unwrap();
    assert_eq!(p.invoker, survivor);
    let effects = d.handle(DispatcherInput::Tick, Millis(3000));
    assert_eq!(
        effects,
        vec![
            DispatcherEffect::HealthChanged {
                invoker: victim,
                from: Health::Healthy,
                to: Health::Offline
            },
            DispatcherEffect::InvokerOffline {
                invoker: victim,
                not_started: vec![ActivationId::new("a0"), ActivationId::new("a2")],
                started: vec![ActivationId::new("a1")],
            },
        ]
    );
    assert_eq!(
        d.invokers()
            .iter()
            .find(|v| v.invoker == victim)
            .unwrap()
            .reserved_mb,
        0
    );
    // A second tick does not repeat the hand-back.
    assert!(d.handle(DispatcherInput::Tick, Millis(3500)).is_empty());
    // A late completion from the dead invoker is stale.
    assert_eq!(
        d.handle(
            DispatcherInput::ActivationCompleted {
                activation: ActivationId::new("a1"),
                system_error: false
            },
            Millis(3600)
        ),
        vec![DispatcherEffect::StaleReport {
            activation: ActivationId::new("a1"),
            kind: ReportKind::Completed
        }]
    );
    // It comes back with a ping.
    let effects = d.handle(
        DispatcherInput::Ping {
            invoker: victim,
            user_memory_mb: 2048,
        },
        Millis(4000),
    );
    assert_eq!(
        effects,
        vec![DispatcherEffect::HealthChanged {
            invoker: victim,
            from: Health::Offline,
            to: Health::Healthy
        }]
    );
    assert_eq!(
        d.schedule(request("c0", "a", 256), 0, Millis(4001))
            .unwrap()
            .invoker,
        victim
    );
}

#[test]
fn nothing_healthy_means_no_invoker() {
    let mut d = dispatcher_with(2, 1024);
    d.handle(DispatcherInput::Tick, Millis(10_000));
    let err = d
        .schedule(request("a", "a", 128), 0, Millis(10_000))
        .unwrap_err();
    assert_eq!(err.registered, 2);
}

#[test]
fn unhealthy_invoker_recovers_only_after_the_hold() {
    let mut d = dispatcher_with(1, 1024);
    for i in 0..10 {
        let id = format!("e{i}");
        d.schedule(request(&id, "a", 64), 0, Millis(0)).unwrap();
        let effects = d.handle(
            DispatcherInput::ActivationCompleted {
                activation: ActivationId::new(id),
                system_error: i % 4 == 0,
            },
            Millis(100),
        );
        // The 3rd system error within the window (i = 8) flips it.
        assert_eq!(!effects.is_empty(), i == 8, "at {i}: {effects:?}");
        if i == 8 {
            break;
        }
    }
    assert_eq!(d.health(InvokerId(0)), Some(Health::Unhealthy));
    assert!(d
        .handle(
            DispatcherInput::Ping {
                invoker: InvokerId(0),
                user_memory_mb: 1024
            },
            Millis(5_000)
        )
        .is_empty());
    assert!(d.schedule(request("z", "a", 64), 0, Millis(5_000)).is_err());
    let effects = d.handle(
        DispatcherInput::Ping {
            invoker: InvokerId(0),
            user_memory_mb: 1024,
        },
        Millis(10_100),
    );
    assert_eq!(effects.len(), 1);
    assert_eq!(d.health(InvokerId(0)), Some(Health::Healthy));
    assert!(d.schedule(request("z", "a", 64), 0, Millis(10_100)).is_ok());
}

#[test]
fn concurrent_actions_book_one_container_per_concurrency_slots() {
    let mut d = dispatcher_with(1, 256);
    for i in 0..4 {
        let mut r = request(&format!("c{i}"), "c", 256);
        r.concurrency = 4;
        assert!(!d.schedule(r, 0, Millis(0)).unwrap().forced);
    }
    let mut r = request("c4", "c", 256);
    r.concurrency = 4;
    assert!(d.schedule(r, 0, Millis(0)).unwrap().forced);
}

#[test]
fn rescheduling_an_in_flight_activation_moves_its_booking() {
    let mut d = dispatcher_with(2, 256);
    let first = d.schedule(request("a", "a", 256), 0, Millis(0)).unwrap();
    let again = d.schedule(request("a", "a", 256), 0, Millis(1)).unwrap();
    assert_eq!(
        first, again,
        "the old booking was returned so home has room again"
    );
    assert_eq!(d.in_flight_count(), 1);
    let total: u64 = d.invokers().iter().map(|v| v.reserved_mb).sum();
    assert_eq!(total, 256);
}

#[test]
fn snapshot_restore_keeps_placements_and_bookings() {
    let mut d = dispatcher_with(4, 512);
    for i in 0..6 {
        d.schedule(
            request(&format!("s{i}"), &format!("act{}", i % 2), 256),
            7,
            Millis(0),
        )
        .unwrap();
    }
    d.handle(
        DispatcherInput::ActivationStarted {
            activation: ActivationId::new("s3"),
        },
        Millis(1),
    );
    let snapshot = d.snapshot();
    let json = serde_json::to_string(&snapshot).unwrap();
    let back: DispatcherSnapshot = serde_json::from_str(&json).unwrap();
    let mut restored = Dispatcher::restore(DispatcherConfig::default(), back);
    assert_eq!(restored.invokers(), d.invokers());
    assert_eq!(restored.snapshot(), snapshot);
    for i in 0..4 {
        let r = request(&format!("n{i}"), "act1", 256);
        assert_eq!(
            restored.schedule(r.clone(), 3, Millis(2)).unwrap(),
            d.schedule(r, 3, Millis(2)).unwrap()
        );
    }
}

/// Property: under random pings, ticks, schedules, starts and completions, bookings always equal
/// what the activations in flight need, placements only go to usable invokers, an unforced placement
/// never overbooks, offline hand-backs list exactly that invoker's activations, and the same seed
/// gives the same trace.
#[test]
fn random_operations_keep_bookings_consistent() {
    fn run(seed: u64) -> Vec<String> {
        let mut rng = SplitMix64::new(seed);
        let n = 1 + rng.below(6) as u32;
        let mut d = Dispatcher::new(DispatcherConfig::default());
        let mut now = Millis(0);
        let mut model: BTreeMap<ActivationId, (InvokerId, u64)> = BTreeMap::new();
        let mut trace = Vec::new();
        let mut next = 0u64;
        let mut last_ping: BTreeMap<InvokerId, Millis> = BTreeMap::new();
        for _ in 0..600 {
            now = now.plus(rng.below(300));
            match rng.below(10) {
                0..=2 => {
                    let inv = InvokerId(rng.below(u64::from(n)) as u32);
                    // Invoker n-1 sometimes stays silent long enough to go offline.
                    if inv.0 + 1 < n || rng.chance(1, 4) {
                        last_ping.insert(inv, now);
                        trace.extend(
                            d.handle(
                                DispatcherInput::Ping {
                                    invoker: inv,
                                    user_memory_mb: 1024,
                                },
                                now,
                            )
                            .iter()
                            .map(|e| format!("{e:?}")),
                        );
                    }
                }
                3 => {
                    for e in d.handle(DispatcherInput::Tick, now) {
                        if let DispatcherEffect::InvokerOffline {
                            invoker,
                            not_started,
                            started,
                        } = &e
                        {
                            let mut listed: Vec<ActivationId> =
                                not_started.iter().chain(started.iter()).cloned().collect();
                            listed.sort();
                            let expected: Vec<ActivationId> = model
                                .iter()
                                .filter(|(_, (i, _))| i == invoker)
                                .map(|(a, _)| a.clone())
                                .collect();
                            assert_eq!(listed, expected);
                            model.retain(|_, (i, _)| i != invoker);
                        }
                        trace.push(format!("{e:?}"));
                    }
                }
                4..=7 => {
                    next += 1;
                    let memory = 128 * (1 + rng.below(4));
                    let r = DispatchRequest {
                        activation: ActivationId::new(format!("{next:04}")),
                        action: action(&format!("a{}", rng.below(5))),
                        memory_mb: memory,
                        concurrency: 1,
                    };
                    let before = d.invokers();
                    match d.schedule(r.clone(), rng.next_u64(), now) {
                        Ok(p) => {
                            let view = before.iter().find(|v| v.invoker == p.invoker).unwrap();
                            assert_eq!(view.health, Health::Healthy);
                            if !p.forced {
                                assert!(view.reserved_mb + memory <= view.user_memory_mb);
                            }
                            model.insert(r.activation.clone(), (p.invoker, memory));
                            trace.push(format!("{} -> {:?}", r.activation, p));
                        }
                        Err(e) => {
                            // Refused only when every invoker is unhealthy, offline or silent.
                            for v in &before {
                                let silent = now >= last_ping[&v.invoker].plus(3_000);
                                assert!(
                                    v.health != Health::Healthy || silent,
                                    "seed {seed}: {v:?} was usable"
                                );
                            }
                            trace.push(e.to_string());
                        }
                    }
                }
                8 => {
                    if let Some(a) = model
                        .keys()
                        .nth(rng.below(model.len() as u64 + 1) as usize)
                        .cloned()
                    {
                        d.handle(DispatcherInput::ActivationStarted { activation: a }, now);
                    }
                }
                _ => {
                    if let Some(a) = model
                        .keys()
                        .nth(rng.below(model.len() as u64 + 1) as usize)
                        .cloned()
                    {
                        model.remove(&a);
                        let effects = d.handle(
                            DispatcherInput::ActivationCompleted {
                                activation: a,
                                system_error: rng.chance(1, 8),
                            },
                            now,
                        );
                        trace.extend(effects.iter().map(|e| format!("{e:?}")));
                    }
                }
            }
            for view in d.invokers() {
                let expected: u64 = model
                    .values()
                    .filter(|(i, _)| *i == view.invoker)
                    .map(|(_, m)| m)
                    .sum();
                assert_eq!(
                    view.reserved_mb, expected,
                    "seed {seed}: bookings of {}",
                    view.invoker
                );
            }
            assert_eq!(d.in_flight_count(), model.len());
        }
        trace
    }
    for seed in 0..40 {
        assert_eq!(run(seed), run(seed), "seed {seed} is not deterministic");
    }
}
