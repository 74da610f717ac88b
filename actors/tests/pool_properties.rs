//! Property tests of the container pool: a model host carries out the pool's effects against
//! random inputs (seeded SplitMix64) and checks the pool's invariants after every step.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actors::core::pool::{
    ActivationRequest, ContainerPool, PoolConfig, PoolCounters, PoolEffect, PoolInput, PrewarmSpec,
    RemovalReason,
};
use actors::core::{ActionKey, ActivationId, ContainerId, Kind, Millis, SplitMix64};
use std::collections::{BTreeMap, BTreeSet};

/// What the host knows about the containers, built only from the pool's effects.
struct ModelHost {
    pool: ContainerPool,
    pool_mb: u64,
    requests: BTreeMap<ActivationId, (u64, ActivationRequest)>,
    next_seq: u64,
    alive: BTreeMap<ContainerId, (u64, Option<ActionKey>)>,
    starting: BTreeSet<ContainerId>,
    initialized: BTreeSet<ContainerId>,
    paused: BTreeSet<ContainerId>,
    running: BTreeMap<ContainerId, BTreeSet<ActivationId>>,
    ran: BTreeSet<ActivationId>,
    rejected: BTreeSet<ActivationId>,
    lost: BTreeSet<ActivationId>,
    action_creates: u64,
    stem_inits: u64,
    max_queue: usize,
    trace: Vec<String>,
}

impl ModelHost {
    fn new(config: PoolConfig) -> Self {
        ModelHost {
            pool_mb: config.user_memory_mb,
            pool: ContainerPool::new(config),
            requests: BTreeMap::new(),
            next_seq: 0,
            alive: BTreeMap::new(),
            starting: BTreeSet::new(),
            initialized: BTreeSet::new(),
            paused: BTreeSet::new(),
            running: BTreeMap::new(),
            ran: BTreeSet::new(),
            rejected: BTreeSet::new(),
            lost: BTreeSet::new(),
            action_creates: 0,
            stem_inits: 0,
            max_queue: 0,
            trace: Vec::new(),
        }
    }

    fn input(&mut self, input: PoolInput, now: Millis) {
        if let PoolInput::Schedule(r) = &input {
            self.requests
                .insert(r.activation.clone(), (self.next_seq, r.clone()));
            self.next_seq += 1;
        }
        self.trace.push(format!("{now} {input:?}"));
        let effects = self.pool.handle(input, now);
        for effect in effects {
            self.trace.push(format!("  {effect:?}"));
            self.apply(effect);
        }
        self.check();
        self.max_queue = self.max_queue.max(self.pool.queue_depth());
    }

    fn key_of(&self, activation: &ActivationId) -> &ActionKey {
        &self.requests[activation].1.action
    }

    fn apply(&mut self, effect: PoolEffect) {
        match effect {
            PoolEffect::Create {
                container,
                memory_mb,
                for_action,
                ..
            } => {
                assert!(
                    self.alive
                        .insert(container, (memory_mb, for_action))
                        .is_none(),
                    "{container} created twice"
                );
                self.action_creates += u64::from(self.alive[&container].1.is_some());
                self.starting.insert(container);
            }
            PoolEffect::Init {
                container,
                activation,
            } => {
                assert!(!self.starting.contains(&container), "init before created");
                assert!(
                    self.initialized.insert(container),
                    "{container} initialized twice"
                );
                let key = self.key_of(&activation).clone();
                let slot = &mut self
                    .alive
                    .get_mut(&container)
                    .expect("init of a dead container")
                    .1;
                match slot {
                    None => {
                        *slot = Some(key);
                        self.stem_inits += 1;
                    }
                    Some(existing) => assert_eq!(*existing, key, "init with another action"),
                }
            }
            PoolEffect::Run {
                container,
                activation,
            } => {
                assert!(self.initialized.contains(&container), "run before init");
                assert!(
                    !self.paused.contains(&container),
                    "run on a paused container"
                );
                let (_, key) = &self.alive[&container];
                assert_eq!(
                    key.as_ref(),
                    Some(self.key_of(&activation)),
                    "{container} serves two action keys"
                );
                assert!(
                    self.ran.insert(activation.clone()),
                    "{activation} ran twice"
                );
                let concurrency = self.requests[&activation].1.concurrency.max(1) as usize;
                let running = self.running.entry(container).or_default();
                running.insert(activation);
                assert!(
                    running.len() <= concurrency,
                    "{container} over its concurrency"
                );
            }
            PoolEffect::Pause { container } => {
                assert!(self.running_on(container) == 0);
                assert!(self.paused.insert(container), "paused twice");
            }
            PoolEffect::Unpause { container } => {
                assert!(
                    self.paused.remove(&container),
                    "unpause of a running container"
                );
            }
            PoolEffect::Remove { container, reason } => {
                assert!(
                    self.alive.remove(&container).is_some(),
                    "remove of a dead container"
                );
                if reason != RemovalReason::Failed {
                    assert!(self.running_on(container) == 0);
                    assert!(!self.starting.contains(&container));
                }
                self.starting.remove(&container);
                self.paused.remove(&container);
            }
            PoolEffect::Reject { activation, .. } => {
                assert!(!self.ran.contains(&activation));
                assert!(self.rejected.insert(activation), "rejected twice");
            }
            PoolEffect::Lost {
                activation,
                container,
            } => {
                let running = self
                    .running
                    .get_mut(&container)
                    .expect("lost from a known container");
                assert!(
                    running.remove(&activation),
                    "lost an activation that was not running"
                );
                self.lost.insert(activation);
            }
        }
    }

    fn check(&self) {
        let used: u64 = self.alive.values().map(|(mb, _)| mb).sum();
        assert_eq!(used, self.pool.used_memory_mb());
        assert!(used <= self.pool_mb, "memory {used} over {}", self.pool_mb);
        let seqs: Vec<u64> = self
            .pool
            .queued()
            .iter()
            .map(|a| self.requests[a].0)
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "queue out of order: {seqs:?}"
        );
    }

    fn running_on(&self, container: ContainerId) -> usize {
        self.running.get(&container).map(BTreeSet::len).unwrap_or(0)
    }

    fn running_pairs(&self) -> Vec<(ContainerId, ActivationId)> {
        self.running
            .iter()
            .flat_map(|(c, set)| set.iter().map(move |a| (*c, a.clone())))
            .collect()
    }
}

fn action_request(rng: &mut SplitMix64, n: u64) -> ActivationRequest {
    let a = rng.below(8);
    let version = if rng.chance(1, 10) { "0.0.2" } else { "0.0.1" };
    let ns = ["alice", "bob", "bob"][(a % 3) as usize];
    ActivationRequest {
        activation: ActivationId::new(format!("{n:05}")),
        action: ActionKey::new(ns, format!("{ns}/act{a}"), version),
        kind: Kind::new(["python:3", "nodejs:20"][(a % 2) as usize]),
        memory_mb: 128 << (a % 3),
        concurrency: 1 + (a % 4 == 1) as u32 * 2,
        scaling: None,
    }
}

fn run(seed: u64) -> (Vec<String>, PoolCounters, usize) {
    let mut rng = SplitMix64::new(seed);
    let config = PoolConfig {
        user_memory_mb: [512, 1024, 2048][rng.below(3) as usize],
        prewarm: vec![PrewarmSpec {
            kind: Kind::new("python:3"),
            memory_mb: 128,
            count: rng.below(3) as u32,
        }],
        ..PoolConfig::default()
    };
    let mut host = ModelHost::new(config);
    let mut now = Millis(0);
    let mut n = 0;
    for _ in 0..400 {
        now = now.plus(rng.below(500));
        match rng.below(20) {
            0..=6 => {
                n += 1;
                let r = action_request(&mut rng, n);
                host.input(PoolInput::Schedule(r), now);
            }
            7..=10 => {
                let starting: Vec<ContainerId> = host.starting.iter().copied().collect();
                if !starting.is_empty() {
                    let c = starting[rng.below(starting.len() as u64) as usize];
                    host.starting.remove(&c);
                    if rng.chance(1, 10) {
                        // The host cleans up a failed creation itself.
                        host.alive.remove(&c);
                        host.input(
                            PoolInput::CreateFailed {
                                container: c,
                                error: "driver".into(),
                            },
                            now,
                        );
                    } else {
                        host.input(PoolInput::Created { container: c }, now);
                    }
                }
            }
            11..=17 => {
                let pairs = host.running_pairs();
                if !pairs.is_empty() {
                    let (c, a) = pairs[rng.below(pairs.len() as u64) as usize].clone();
                    if rng.chance(1, 12) {
                        host.input(
                            PoolInput::ContainerFailed {
                                container: c,
                                reason: "crash".into(),
                            },
                            now,
                        );
                    } else {
                        host.running.get_mut(&c).unwrap().remove(&a);
                        host.input(
                            PoolInput::RunFinished {
                                container: c,
                                activation: a,
                            },
                            now,
                        );
                    }
                }
            }
            18 => {
                now = now.plus(rng.below(20_000));
                host.input(PoolInput::Tick, now);
            }
            _ => {
                now = now.plus(600_000);
                host.input(PoolInput::Tick, now);
            }
        }
    }
    // Quiesce: everything started finishes, every creation succeeds; the queue must empty.
    for _ in 0..10_000 {
        now = now.plus(100);
        if let Some(&c) = host.starting.iter().next() {
            host.starting.remove(&c);
            host.input(PoolInput::Created { container: c }, now);
        } else if let Some((c, a)) = host.running_pairs().first().cloned() {
            host.running.get_mut(&c).unwrap().remove(&a);
            host.input(
                PoolInput::RunFinished {
                    container: c,
                    activation: a,
                },
                now,
            );
        } else if host.pool.queue_depth() > 0 {
            host.input(PoolInput::Tick, now);
        } else {
            break;
        }
    }
    assert_eq!(host.pool.queue_depth(), 0, "seed {seed}: queue stuck");
    for id in host.requests.keys() {
        assert!(
            host.ran.contains(id) ^ host.rejected.contains(id),
            "seed {seed}: {id} neither ran nor was rejected exactly once"
        );
    }
    assert!(host.lost.is_subset(&host.ran));
    // Everything idle expires eventually.
    host.input(PoolInput::Tick, now.plus(3_600_000));
    let idle_action_containers = host.alive.values().filter(|(_, k)| k.is_some()).count();
    assert_eq!(
        idle_action_containers, 0,
        "seed {seed}: idle containers survived keep-alive"
    );
    let counters = host.pool.counters();
    assert_eq!(
        counters.cold_starts, host.action_creates,
        "seed {seed}: cold starts"
    );
    assert_eq!(
        counters.prewarm_starts, host.stem_inits,
        "seed {seed}: prewarm starts"
    );
    let counters = host.pool.counters().clone();
    (host.trace, counters, host.max_queue)
}

#[test]
fn random_workloads_keep_the_pool_invariants() {
    let mut total = PoolCounters::default();
    let mut max_queue = 0;
    for seed in 0..60 {
        let (_, c, q) = run(seed);
        total.cold_starts += c.cold_starts;
        total.warm_starts += c.warm_starts;
        total.prewarm_starts += c.prewarm_starts;
        total.evictions += c.evictions;
        total.expirations += c.expirations;
        total.pauses += c.pauses;
        total.create_failures += c.create_failures;
        total.container_failures += c.container_failures;
        max_queue = max_queue.max(q);
    }
    // The random workloads reach every path the invariants are about.
    assert!(
        total.cold_starts > 0 && total.warm_starts > 0 && total.prewarm_starts > 0,
        "{total:?}"
    );
    assert!(
        total.evictions > 0 && total.expirations > 0 && total.pauses > 0,
        "{total:?}"
    );
    assert!(
        total.create_failures > 0 && total.container_failures > 0,
        "{total:?}"
    );
    assert!(max_queue > 2, "queue never built up: {max_queue}");
}

#[test]
fn the_same_seed_gives_the_same_effects() {
    for seed in [1, 7, 42] {
        assert_eq!(run(seed).0, run(seed).0);
    }
}
