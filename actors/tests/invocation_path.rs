//! The four cores composed the way the hosting actors will compose them: throttle → dispatcher →
//! container pool → activation lifecycle, with a fake driver and a controllable clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actors::core::dispatcher::{DispatchRequest, Dispatcher, DispatcherConfig, DispatcherInput};
use actors::core::lifecycle::{
    ActivationLifecycle, ActivationOutcome, ActivationSpec, ActivationStatus, InitResult,
    LifecycleEffect, LifecycleInput, RunResult,
};
use actors::core::pool::{
    ActivationRequest, ContainerPool, ContainerState, PoolConfig, PoolEffect, PoolInput,
};
use actors::core::throttle::{NamespaceLimits, ThrottleConfig, Throttles};
use actors::core::{
    ActionKey, ActionLimits, ActivationId, ContainerId, Error, InvokerId, Kind, Millis, SplitMix64,
};
use std::collections::BTreeMap;

const INIT_MS: u64 = 300;

struct Running {
    invoker: InvokerId,
    container: ContainerId,
    namespace: String,
}

/// A miniature platform: one controller (throttles, dispatcher) and invokers (pools), a driver that
/// creates containers instantly and inits in `INIT_MS`, and runs that end when the test says so.
struct Platform {
    rng: SplitMix64,
    throttles: Throttles,
    dispatcher: Dispatcher,
    pools: BTreeMap<InvokerId, ContainerPool>,
    lifecycles: BTreeMap<ActivationId, ActivationLifecycle>,
    requests: BTreeMap<ActivationId, ActivationRequest>,
    running: BTreeMap<ActivationId, Running>,
    paused: BTreeMap<(InvokerId, ContainerId), bool>,
    removed: Vec<(InvokerId, ContainerId)>,
    records: BTreeMap<ActivationId, ActivationOutcome>,
    next: u64,
    /// Whether the invokers keep pinging (each one pings before every invocation and tick).
    pinging: bool,
}

impl Platform {
    fn new(invokers: u32, pool_mb: u64, throttles: ThrottleConfig) -> Self {
        let mut p = Platform {
            rng: SplitMix64::new(7),
            throttles: Throttles::new(throttles),
            dispatcher: Dispatcher::new(DispatcherConfig::default()),
            pools: BTreeMap::new(),
            lifecycles: BTreeMap::new(),
            requests: BTreeMap::new(),
            running: BTreeMap::new(),
            paused: BTreeMap::new(),
            removed: Vec::new(),
            records: BTreeMap::new(),
            next: 0,
            pinging: true,
        };
        for i in 0..invokers {
            p.pools.insert(
                InvokerId(i),
                ContainerPool::new(PoolConfig {
                    user_memory_mb: pool_mb,
                    ..PoolConfig::default()
                }),
            );
        }
        p.ping_all(Millis(0));
        p
    }

    fn ping_all(&mut self, now: Millis) {
        if !self.pinging {
            return;
        }
        let ids: Vec<(InvokerId, u64)> = self
            .pools
            .iter()
            .map(|(id, pool)| (*id, pool.config().user_memory_mb))
            .collect();
        for (invoker, user_memory_mb) in ids {
            self.dispatcher.handle(
                DispatcherInput::Ping {
                    invoker,
                    user_memory_mb,
                },
                now,
            );
        }
    }

    /// A blocking-style invoke up to the start of the run; returns the activation id.
    fn invoke(
        &mut self,
        ns: &str,
        name: &str,
        version: &str,
        now: Millis,
    ) -> Result<ActivationId, Error> {
        self.throttles.admit(ns, now).map(|_admission| ())?;
        self.ping_all(now);
        self.next += 1;
        let activation = ActivationId::new(format!("{:032x}", self.next));
        let action = ActionKey::new(ns, format!("{ns}/{name}"), version);
        let limits = ActionLimits {
            timeout_ms: 1_000,
            ..ActionLimits::default()
        };
        let placement = self
            .dispatcher
            .schedule(
                DispatchRequest {
                    activation: activation.clone(),
                    action: action.clone(),
                    memory_mb: limits.memory_mb,
                    concurrency: limits.concurrency,
                },
                self.rng.next_u64(),
                now,
            )
            .inspect_err(|_| self.throttles.release(ns))?;
        let spec = ActivationSpec::new(
            activation.clone(),
            action.action.clone(),
            Kind::new("python:3"),
            limits.clone(),
        );
        self.lifecycles
            .insert(activation.clone(), ActivationLifecycle::accepted(spec, now));
        let request = ActivationRequest {
            activation: activation.clone(),
            action,
            kind: Kind::new("python:3"),
            memory_mb: limits.memory_mb,
            concurrency: limits.concurrency,
            scaling: None,
        };
        self.requests.insert(activation.clone(), request.clone());
        self.pool_input(placement.invoker, PoolInput::Schedule(request), now);
        Ok(activation)
    }

    fn pool_input(&mut self, invoker: InvokerId, input: PoolInput, now: Millis) {
        let effects = self.pools.get_mut(&invoker).unwrap().handle(input, now);
        for effect in effects {
            match effect {
                PoolEffect::Create { container, .. } => {
                    self.pool_input(invoker, PoolInput::Created { container }, now);
                }
                PoolEffect::Init { activation, .. } => {
                    let l = self.lifecycles.get_mut(&activation).unwrap();
                    l.handle(LifecycleInput::InitStarted, now).unwrap();
                    l.handle(
                        LifecycleInput::InitFinished {
                            result: InitResult::Succeeded,
                            logs: vec!["init".into()],
                        },
                        now.plus(INIT_MS),
                    )
                    .unwrap();
                }
                PoolEffect::Run {
                    container,
                    activation,
                } => {
                    assert_ne!(
                        self.paused.get(&(invoker, container)),
                        Some(&true),
                        "run on paused"
                    );
                    let l = self.lifecycles.get_mut(&activation).unwrap();
                    let start = if l.phase() == actors::core::lifecycle::LifecyclePhase::Initialized
                    {
                        now.plus(INIT_MS)
                    } else {
                        now
                    };
                    l.handle(LifecycleInput::RunStarted, start).unwrap();
                    self.dispatcher.handle(
                        DispatcherInput::ActivationStarted {
                            activation: activation.clone(),
                        },
                        now,
                    );
                    let namespace = self.requests[&activation].action.namespace.clone();
                    self.running.insert(
                        activation,
                        Running {
                            invoker,
                            container,
                            namespace,
                        },
                    );
                }
                PoolEffect::Pause { container } => {
                    self.paused.insert((invoker, container), true);
                }
                PoolEffect::Unpause { container } => {
                    self.paused.insert((invoker, container), false);
                }
                PoolEffect::Remove { container, .. } => self.removed.push((invoker, container)),
                PoolEffect::Reject { activation, reason } => {
                    let effects = self
                        .lifecycles
                        .get_mut(&activation)
                        .unwrap()
                        .handle(
                            LifecycleInput::PlatformFailed {
                                message: reason.to_string(),
                            },
                            now,
                        )
                        .unwrap();
                    self.settled(activation, effects, now);
                }
                PoolEffect::Lost { .. } => {}
            }
        }
    }

    /// Ends a running activation with `result` at `now`.
    fn finish(
        &mut self,
        activation: &ActivationId,
        result: RunResult,
        now: Millis,
    ) -> ActivationOutcome {
        let effects = self
            .lifecycles
            .get_mut(activation)
            .unwrap()
            .handle(
                LifecycleInput::RunFinished {
                    result,
                    logs: vec!["run".into()],
                },
                now,
            )
            .unwrap();
        self.settled(activation.clone(), effects, now);
        self.records[activation].clone()
    }

    fn settled(&mut self, activation: ActivationId, effects: Vec<LifecycleEffect>, now: Millis) {
        for effect in effects {
            if let LifecycleEffect::Settled(outcome) = effect {
                if let Some(r) = self.running.remove(&activation) {
                    let input = if outcome.container_reusable {
                        PoolInput::RunFinished {
                            container: r.container,
                            activation: activation.clone(),
                        }
                    } else {
                        PoolInput::ContainerFailed {
                            container: r.container,
                            reason: outcome.result.clone(),
                        }
                    };
                    self.pool_input(r.invoker, input, now);
                    self.throttles.release(&r.namespace);
                } else {
                    self.throttles
                        .release(&self.requests[&activation].action.namespace.clone());
                }
                self.dispatcher.handle(
                    DispatcherInput::ActivationCompleted {
                        activation: activation.clone(),
                        system_error: outcome.status == ActivationStatus::WhiskError,
                    },
                    now,
                );
                self.records.insert(activation.clone(), *outcome);
            }
        }
    }

    /// Time passes: pings, ticks of every core.
    fn tick(&mut self, now: Millis) {
        self.ping_all(now);
        self.dispatcher.handle(DispatcherInput::Tick, now);
        let invokers: Vec<InvokerId> = self.pools.keys().copied().collect();
        for invoker in invokers {
            self.pool_input(invoker, PoolInput::Tick, now);
        }
        let ids: Vec<ActivationId> = self.running.keys().cloned().collect();
        for id in ids {
            let effects = self
                .lifecycles
                .get_mut(&id)
                .unwrap()
                .handle(LifecycleInput::Tick, now)
                .unwrap();
            self.settled(id, effects, now);
        }
    }

    fn counters(&self) -> (u64, u64) {
        self.pools.values().fold((0, 0), |(cold, warm), p| {
            (
                cold + p.counters().cold_starts,
                warm + p.counters().warm_starts,
            )
        })
    }
}

fn ok(body: &str) -> RunResult {
    RunResult::Responded {
        ok: true,
        body: body.into(),
    }
}

#[test]
fn warm_reuse_versus_cold_starts_end_to_end() {
    let mut p = Platform::new(2, 1024, ThrottleConfig::default());
    let mut now = Millis(1_000);
    for i in 0..5 {
        let id = p.invoke("guest", "hello", "0.0.1", now).unwrap();
        now = now.plus(500);
        let record = p.finish(&id, ok(r#"{"n":1}"#), now);
        assert_eq!(record.status, ActivationStatus::Success);
        if i == 0 {
            assert_eq!(record.annotations.init_time_ms, Some(INIT_MS));
            assert_eq!(record.annotations.wait_time_ms, 0);
        } else {
            assert_eq!(
                record.annotations.init_time_ms, None,
                "warm runs do not init"
            );
        }
        now = now.plus(100);
    }
    assert_eq!(p.counters(), (1, 4));
    assert_eq!(p.dispatcher.in_flight_count(), 0);
    assert_eq!(p.throttles.concurrent("guest"), 0);
}

#[test]
fn an_updated_action_never_reuses_the_old_container_end_to_end() {
    let mut p = Platform::new(1, 1024, ThrottleConfig::default());
    let old = p.invoke("guest", "hello", "0.0.1", Millis(0)).unwrap();
    let old_container = p.running[&old].container;
    p.finish(&old, ok("{}"), Millis(10));
    let new = p.invoke("guest", "hello", "0.0.2", Millis(20)).unwrap();
    assert_ne!(p.running[&new].container, old_container);
    let record = p.finish(&new, ok("{}"), Millis(400));
    assert!(
        record.annotations.init_time_ms.is_some(),
        "v2 is a cold start"
    );
    // The old version still runs warm in its own container.
    let again = p.invoke("guest", "hello", "0.0.1", Millis(500)).unwrap();
    assert_eq!(p.running[&again].container, old_container);
    assert_eq!(p.counters(), (2, 1));
}

#[test]
fn the_clock_drives_pause_keep_alive_and_eviction() {
    let mut p = Platform::new(1, 512, ThrottleConfig::default());
    let a = p.invoke("guest", "a", "1", Millis(0)).unwrap();
    let ca = p.running[&a].container;
    p.finish(&a, ok("{}"), Millis(1_000));
    p.tick(Millis(10_999));
    assert_eq!(p.paused.get(&(InvokerId(0), ca)), None);
    p.tick(Millis(11_000));
    assert!(p.paused[&(InvokerId(0), ca)], "paused after 10 s idle");
    // A new activation unpauses it.
    let a2 = p.invoke("guest", "a", "1", Millis(12_000)).unwrap();
    assert_eq!(p.running[&a2].container, ca);
    assert!(!p.paused[&(InvokerId(0), ca)], "unpaused for the run");
    p.finish(&a2, ok("{}"), Millis(12_100));
    // b fills the rest of the pool; then c needs room: a (least recently used) is evicted.
    let b = p.invoke("guest", "b", "1", Millis(13_000)).unwrap();
    p.finish(&b, ok("{}"), Millis(13_100));
    let c = p.invoke("guest", "c", "1", Millis(14_000)).unwrap();
    assert_eq!(p.removed, vec![(InvokerId(0), ca)]);
    p.finish(&c, ok("{}"), Millis(14_100));
    // Ten minutes of idleness later every container is gone.
    p.tick(Millis(14_100 + 600_000));
    assert_eq!(p.removed.len(), 3);
    assert!(p.pools[&InvokerId(0)].containers().is_empty());
    assert_eq!(p.pools[&InvokerId(0)].counters().evictions, 1);
    assert_eq!(p.pools[&InvokerId(0)].counters().expirations, 2);
}

#[test]
fn a_hung_run_times_out_and_its_container_is_replaced() {
    let mut p = Platform::new(1, 1024, ThrottleConfig::default());
    let id = p.invoke("guest", "slow", "1", Millis(0)).unwrap();
    let container = p.running[&id].container;
    // Cold: init ends at 300, the run's deadline is 300 + 1000.
    p.tick(Millis(1_299));
    assert!(p.records.is_empty());
    p.tick(Millis(1_300));
    let record = &p.records[&id];
    assert!(record.annotations.timeout);
    assert_eq!(
        record.result,
        r#"{"error":"The action exceeded its time limits of 1000 milliseconds."}"#
    );
    assert!(p.removed.contains(&(InvokerId(0), container)));
    let next = p.invoke("guest", "slow", "1", Millis(2_000)).unwrap();
    assert_ne!(p.running[&next].container, container);
    assert_eq!(
        p.pools[&InvokerId(0)]
            .containers_by_state()
            .get(&ContainerState::Running),
        Some(&1)
    );
}

#[test]
fn throttles_refuse_before_anything_is_dispatched() {
    let mut p = Platform::new(1, 4096, ThrottleConfig::default());
    p.throttles.set_limits(
        "guest",
        NamespaceLimits {
            concurrent_invocations: Some(2),
            ..NamespaceLimits::default()
        },
    );
    p.invoke("guest", "a", "1", Millis(0)).unwrap();
    let second = p.invoke("guest", "a", "1", Millis(0)).unwrap();
    let err = p.invoke("guest", "a", "1", Millis(0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Too many concurrent requests in flight (count: 2, allowed: 2)."
    );
    assert!(matches!(err, Error::Throttled(_)));
    assert_eq!(p.dispatcher.in_flight_count(), 2);
    p.finish(&second, ok("{}"), Millis(10));
    assert!(p.invoke("guest", "a", "1", Millis(20)).is_ok());
}

#[test]
fn no_invoker_means_503_and_returns_the_throttle_slot() {
    let mut p = Platform::new(1, 1024, ThrottleConfig::default());
    // The only invoker stops pinging.
    p.pinging = false;
    p.tick(Millis(3_000));
    let err = p.invoke("guest", "a", "1", Millis(3_000)).unwrap_err();
    assert!(matches!(err, Error::NoInvoker(_)));
    assert_eq!(p.throttles.concurrent("guest"), 0);
}
