//! The container pool core: which container of one invoker runs an activation, and when containers
//! are created, paused, unpaused and removed (OpenWhisk's `ContainerPool` and `ContainerProxy` timers).
//!
//! Placement of an activation, in order:
//! 1. **warm**: a container dedicated to the same [`ActionKey`](crate::core::ActionKey) (namespace, action, version) with a
//!    free concurrency slot: running (fullest first), then paused (unpaused first), then one still
//!    starting; most recently used first among equals;
//! 2. **prewarm**: a stem cell of the same kind and memory, which becomes dedicated (needs `Init`);
//! 3. **cold**: create a container if the pool's memory allows;
//! 4. **evict**: remove idle containers, least recently used first (action containers, then stem
//!    cells), if that frees enough memory, then create;
//! 5. **queue**: wait in FIFO order. The queue is strict: while it is not empty every new activation
//!    queues behind it, and the head is retried whenever something changes.
//!
//! **Scaling** (actions with a [`Scaling`], OpenFaaS functions): an action at its ceiling
//! (`max` containers, starting ones included) with no free slot waits for one of its own
//! containers, without holding up activations of other actions behind it; its idle containers
//! are never expired below its floor (`min`, or the replica count a [`PoolInput::Scale`] set),
//! and on every `Tick` the pool creates the missing floor containers (dedicated, initialized by
//! their first run) as memory allows, without evicting; above the floor, idle containers go after
//! the action's own `idle_ms` (or the keep-alive policy). A scale request also removes idle
//! containers above the new count at once.
//!
//! Invariants: the memory of all containers (starting, stem cells, running, ready, paused) never
//! exceeds `user_memory_mb`; a container serves one `ActionKey` for its whole life; a container runs
//! at most its action's `concurrency` activations at once; every action container is initialized
//! exactly once, before its first run; every scheduled activation gets exactly one `Run` or one
//! `Reject` (or a `Lost` if its container failed while it ran).
//!
//! Host contract: see [`PoolInput`] and [`PoolEffect`]; call `handle(Tick)` about once a second or at
//! [`ContainerPool::next_deadline`].

mod adoption;
mod cold_target;
mod config;
mod container;
mod counters;
mod idle_tracker;
mod keep_alive;
mod messages;
mod scaling;

pub use adoption::AdoptedContainer;
pub use cold_target::ColdTarget;
pub use config::{KeepAlivePolicy, PoolConfig, PrewarmSpec};
pub use container::{ContainerState, ContainerView};
pub use counters::PoolCounters;
pub use keep_alive::{HistogramPolicy, IdleTimes, KeepAliveWindows, OutOfRange, WindowRule};
pub use messages::{
    ActivationRequest, PoolEffect, PoolInput, RejectReason, RemovalReason, ScaleRequest, Scaling,
};

use crate::core::action::Kind;
use crate::core::ids::{ActivationId, ContainerId};
use crate::core::time::Millis;
use container::{Container, Phase, Queued};
use idle_tracker::{action_name, IdleTracker};
use scaling::ScalingTable;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The container pool of one invoker.
#[derive(Clone, Debug)]
pub struct ContainerPool {
    config: PoolConfig,
    containers: BTreeMap<ContainerId, Container>,
    queue: VecDeque<Queued>,
    next_id: u64,
    counters: PoolCounters,
    replenish_wanted: bool,
    /// Per-action idle history, used by [`KeepAlivePolicy::Histogram`] only.
    idle_tracker: IdleTracker,
    /// Actions with their own scaling (floor, ceiling, idle time).
    scaling: ScalingTable,
}

impl ContainerPool {
    /// An empty pool. Stem cells are created on the first `Tick`.
    pub fn new(config: PoolConfig) -> Self {
        ContainerPool {
            config,
            containers: BTreeMap::new(),
            queue: VecDeque::new(),
            next_id: 0,
            counters: PoolCounters::default(),
            replenish_wanted: false,
            idle_tracker: IdleTracker::default(),
            scaling: ScalingTable::default(),
        }
    }

    /// Rebuilds a pool after a restart from the containers the driver still has. Adopted containers
    /// are idle since `now`. Removed instead (with a [`PoolEffect::Remove`] in the returned effects):
    /// action containers that were never initialized, stem cells that were, and containers beyond the
    /// pool's memory (taken in container-id order). New containers get ids above every adopted one.
    pub fn from_parts(
        config: PoolConfig,
        adopted: Vec<AdoptedContainer>,
        now: Millis,
    ) -> (Self, Vec<PoolEffect>) {
        let mut pool = ContainerPool::new(config);
        let mut effects = Vec::new();
        let mut adopted = adopted;
        adopted.sort_by_key(|a| a.container);
        for a in adopted {
            pool.next_id = pool.next_id.max(a.container.0.saturating_add(1));
            let usable = a.initialized == a.action.is_some();
            let fits = pool.used_memory_mb() + a.memory_mb <= pool.config.user_memory_mb;
            if !usable || !fits || pool.containers.contains_key(&a.container) {
                tracing::info!(container = %a.container, usable, fits, "container not adopted");
                effects.push(PoolEffect::Remove {
                    container: a.container,
                    reason: RemovalReason::NotAdopted,
                });
                continue;
            }
            let phase = if a.paused && a.action.is_some() {
                Phase::Paused
            } else {
                Phase::Up
            };
            if a.paused && a.action.is_none() {
                effects.push(PoolEffect::Unpause {
                    container: a.container,
                });
            }
            pool.containers.insert(
                a.container,
                Container {
                    id: a.container,
                    kind: a.kind,
                    memory_mb: a.memory_mb,
                    action: a.action,
                    max_concurrent: a.max_concurrent.max(1),
                    initialized: a.initialized,
                    phase,
                    pending: Vec::new(),
                    active: BTreeSet::new(),
                    last_used: now,
                },
            );
        }
        (pool, effects)
    }

    /// Applies one input at `now` and returns what the host must do, in order.
    pub fn handle(&mut self, input: PoolInput, now: Millis) -> Vec<PoolEffect> {
        let mut effects = Vec::new();
        match input {
            PoolInput::Schedule(request) => {
                if let KeepAlivePolicy::Histogram(policy) = &self.config.keep_alive {
                    self.idle_tracker.arrival(&request, now, policy);
                }
                self.scaling.learn(&request);
                self.on_schedule(request, &mut effects)
            }
            PoolInput::Created { container } => self.on_created(container, now, &mut effects),
            PoolInput::CreateFailed { container, error } => {
                self.on_create_failed(container, &error, &mut effects)
            }
            PoolInput::ImageUnavailable { container, error } => {
                self.on_image_unavailable(container, error, &mut effects)
            }
            PoolInput::RunFinished {
                container,
                activation,
            } => self.on_run_finished(container, &activation, now),
            PoolInput::ContainerFailed { container, reason } => {
                self.on_container_failed(container, &reason, &mut effects)
            }
            PoolInput::Tick => {
                self.on_tick(now, &mut effects);
                self.prewarm(now, &mut effects);
                self.keep_floors(now, &mut effects);
                self.replenish_wanted = true;
            }
            PoolInput::Scale(request) => self.on_scale(request, now, &mut effects),
        }
        self.drain(now, &mut effects);
        if self.replenish_wanted && self.queue.is_empty() {
            self.replenish(now, &mut effects);
            self.replenish_wanted = false;
        }
        self.settle_idle(now);
        effects
    }

    /// Histogram policies: actions with nothing waiting or running become idle now.
    fn settle_idle(&mut self, now: Millis) {
        let KeepAlivePolicy::Histogram(policy) = &self.config.keep_alive else {
            return;
        };
        let mut busy = BTreeSet::new();
        for c in self.containers.values() {
            if let (Some(action), true) = (&c.action, c.load() > 0) {
                busy.insert(action_name(action));
            }
        }
        for queued in &self.queue {
            busy.insert(action_name(&queued.request.action));
        }
        self.idle_tracker.settle(&busy, now, policy);
    }

    /// Histogram policies: creates a container for each idle action whose pre-warm time has come
    /// and that has none, as memory allows (never evicting for it).
    fn prewarm(&mut self, now: Millis, effects: &mut Vec<PoolEffect>) {
        if !matches!(self.config.keep_alive, KeepAlivePolicy::Histogram(_)) {
            return;
        }
        let containers = &self.containers;
        let due = self.idle_tracker.due_prewarms(now, |key| {
            containers.values().any(|c| c.action.as_ref() == Some(key))
        });
        for request in due {
            if self.used_memory_mb() + request.memory_mb > self.config.user_memory_mb {
                self.idle_tracker.prewarm_failed(&request.action);
                continue;
            }
            let id = self.allocate_id();
            tracing::debug!(container = %id, action = %request.action, "pre-warming a container");
            effects.push(PoolEffect::Create {
                container: id,
                kind: request.kind.clone(),
                memory_mb: request.memory_mb,
                for_action: Some(request.action.clone()),
            });
            self.containers.insert(
                id,
                Container {
                    id,
                    kind: request.kind,
                    memory_mb: request.memory_mb,
                    action: Some(request.action),
                    max_concurrent: request.concurrency.max(1),
                    initialized: false,
                    phase: Phase::Starting,
                    pending: Vec::new(),
                    active: BTreeSet::new(),
                    last_used: now,
                },
            );
        }
    }

    fn on_schedule(&mut self, request: ActivationRequest, effects: &mut Vec<PoolEffect>) {
        if request.memory_mb > self.config.user_memory_mb {
            tracing::warn!(activation_id = %request.activation, memory_mb = request.memory_mb,
                "activation needs more memory than the pool has");
            self.counters.rejections += 1;
            effects.push(PoolEffect::Reject {
                activation: request.activation,
                reason: RejectReason::MemoryExceedsPool {
                    requested_mb: request.memory_mb,
                    pool_mb: self.config.user_memory_mb,
                },
            });
            return;
        }
        self.queue.push_back(Queued {
            request,
            create_failures: 0,
        });
    }

    fn on_created(&mut self, id: ContainerId, now: Millis, effects: &mut Vec<PoolEffect>) {
        let Some(container) = self.containers.get_mut(&id) else {
            tracing::warn!(container = %id, "created container is unknown; removing it");
            effects.push(PoolEffect::Remove {
                container: id,
                reason: RemovalReason::Stray,
            });
            return;
        };
        if container.phase != Phase::Starting {
            tracing::warn!(container = %id, "container reported created twice; ignored");
            return;
        }
        container.phase = Phase::Up;
        container.last_used = now;
        let pending = std::mem::take(&mut container.pending);
        for queued in pending {
            Self::start_run(container, queued.request.activation, now, effects);
        }
    }

    fn on_create_failed(&mut self, id: ContainerId, error: &str, effects: &mut Vec<PoolEffect>) {
        match self.containers.get(&id) {
            Some(c) if c.phase == Phase::Starting => {}
            _ => {
                tracing::warn!(container = %id, "create failure for a container that is not starting; ignored");
                return;
            }
        }
        let Some(container) = self.containers.remove(&id) else {
            return;
        };
        tracing::warn!(container = %id, error, "container creation failed");
        self.counters.create_failures += 1;
        self.requeue_or_reject(container.pending, error, effects);
    }

    /// The action's image is missing: the container is forgotten and every activation that waited
    /// for it is rejected now (another attempt would fail the same way).
    fn on_image_unavailable(
        &mut self,
        id: ContainerId,
        error: String,
        effects: &mut Vec<PoolEffect>,
    ) {
        if !matches!(self.containers.get(&id), Some(c) if c.phase == Phase::Starting) {
            tracing::warn!(container = %id, "image failure for a container that is not starting; ignored");
            return;
        }
        let Some(container) = self.containers.remove(&id) else {
            return;
        };
        tracing::info!(container = %id, error, "the action's image is unavailable");
        self.counters.create_failures += 1;
        for queued in container.pending {
            self.counters.rejections += 1;
            effects.push(PoolEffect::Reject {
                activation: queued.request.activation,
                reason: RejectReason::ImageUnavailable {
                    error: error.clone(),
                },
            });
        }
    }

    /// Puts activations that never started back at the head of the queue (in their order), or rejects
    /// those that used up their creation attempts.
    fn requeue_or_reject(
        &mut self,
        pending: Vec<Queued>,
        error: &str,
        effects: &mut Vec<PoolEffect>,
    ) {
        let mut back = Vec::new();
        for mut queued in pending {
            queued.create_failures += 1;
            if queued.create_failures >= self.config.max_create_attempts.max(1) {
                self.counters.rejections += 1;
                effects.push(PoolEffect::Reject {
                    activation: queued.request.activation,
                    reason: RejectReason::ContainerCreateFailed {
                        attempts: queued.create_failures,
                        error: error.to_string(),
                    },
                });
            } else {
                back.push(queued);
            }
        }
        for queued in back.into_iter().rev() {
            self.queue.push_front(queued);
        }
    }

    fn on_run_finished(&mut self, id: ContainerId, activation: &ActivationId, now: Millis) {
        let finished = self
            .containers
            .get_mut(&id)
            .filter(|c| c.active.contains(activation));
        match finished {
            Some(container) => {
                container.active.remove(activation);
                container.last_used = now;
            }
            None => {
                tracing::warn!(container = %id, activation_id = %activation,
                    "run finished for an activation the pool does not run there; ignored");
            }
        }
    }

    fn on_container_failed(
        &mut self,
        id: ContainerId,
        reason: &str,
        effects: &mut Vec<PoolEffect>,
    ) {
        let Some(container) = self.containers.remove(&id) else {
            tracing::warn!(container = %id, "failure of an unknown container; ignored");
            return;
        };
        tracing::warn!(container = %id, reason, "container failed; removing it");
        self.counters.container_failures += 1;
        effects.push(PoolEffect::Remove {
            container: id,
            reason: RemovalReason::Failed,
        });
        for activation in container.active {
            effects.push(PoolEffect::Lost {
                activation,
                container: id,
            });
        }
        self.requeue_or_reject(container.pending, reason, effects);
    }

    fn on_tick(&mut self, now: Millis, effects: &mut Vec<PoolEffect>) {
        let mut expired = Vec::new();
        // Containers each scaled action may still lose before reaching its floor.
        let mut above_floor: BTreeMap<crate::core::action::ActionKey, u32> = self
            .scaling
            .iter()
            .map(|(key, scaled)| {
                (
                    key.clone(),
                    self.count_of(key).saturating_sub(scaled.floor()),
                )
            })
            .collect();
        // Least recently used first, so the floor keeps the freshest containers.
        let mut order: Vec<(Millis, ContainerId)> = self
            .containers
            .values()
            .map(|c| (c.last_used, c.id))
            .collect();
        order.sort();
        for (_, id) in order {
            let Some(container) = self.containers.get_mut(&id) else {
                continue;
            };
            if !container.is_idle_warm() {
                continue;
            }
            let due = now
                >= expiry(
                    &self.config.keep_alive,
                    &self.idle_tracker,
                    &self.scaling,
                    container,
                );
            let spare = match container
                .action
                .as_ref()
                .and_then(|key| above_floor.get_mut(key))
            {
                Some(spare) if due && *spare > 0 => {
                    *spare -= 1;
                    true
                }
                Some(_) => false,
                None => true,
            };
            if due && spare {
                expired.push(container.id);
            } else if container.phase == Phase::Up {
                if let Some(grace) = self.config.pause_grace_ms {
                    if now >= container.last_used.plus(grace) {
                        container.phase = Phase::Paused;
                        self.counters.pauses += 1;
                        effects.push(PoolEffect::Pause {
                            container: container.id,
                        });
                    }
                }
            }
        }
        for id in expired {
            self.containers.remove(&id);
            self.counters.expirations += 1;
            tracing::debug!(container = %id, "idle container expired");
            effects.push(PoolEffect::Remove {
                container: id,
                reason: RemovalReason::Expired,
            });
        }
    }

    /// Places queued activations in order until the head cannot be placed. Activations of an
    /// action at its ceiling are set aside (in order) instead of blocking the queue.
    fn drain(&mut self, now: Millis, effects: &mut Vec<PoolEffect>) {
        let mut at_ceiling = Vec::new();
        while let Some(head) = self.queue.pop_front() {
            if let Err(head) = self.place(head, now, effects) {
                if self.at_ceiling(&head.request.action) {
                    at_ceiling.push(*head);
                    continue;
                }
                self.queue.push_front(*head);
                break;
            }
        }
        for queued in at_ceiling.into_iter().rev() {
            self.queue.push_front(queued);
        }
    }

    /// Whether `container` belongs to a scaled action that has no more containers than its
    /// floor (so it does not expire).
    fn held_by_floor(&self, container: &Container) -> bool {
        container
            .action
            .as_ref()
            .and_then(|key| self.scaling.get(key).map(|scaled| (key, scaled.floor())))
            .is_some_and(|(key, floor)| self.count_of(key) <= floor)
    }

    /// Containers dedicated to `action` (starting ones included).
    fn count_of(&self, action: &crate::core::action::ActionKey) -> u32 {
        self.containers
            .values()
            .filter(|c| c.action.as_ref() == Some(action))
            .count() as u32
    }

    /// Whether `action` has as many containers as its ceiling allows.
    fn at_ceiling(&self, action: &crate::core::action::ActionKey) -> bool {
        self.scaling
            .get(action)
            .and_then(|scaled| scaled.ceiling())
            .is_some_and(|ceiling| self.count_of(action) >= ceiling)
    }

    /// Creates a dedicated, not yet initialized container for a scaled action (its first run
    /// initializes it) if memory allows without evicting; false when it does not.
    fn create_for_scaled(
        &mut self,
        action: &crate::core::action::ActionKey,
        now: Millis,
        effects: &mut Vec<PoolEffect>,
    ) -> bool {
        let Some(scaled) = self.scaling.get(action).cloned() else {
            return false;
        };
        if self.used_memory_mb() + scaled.memory_mb > self.config.user_memory_mb {
            return false;
        }
        let id = self.allocate_id();
        tracing::debug!(container = %id, action = %action, "creating a floor container");
        effects.push(PoolEffect::Create {
            container: id,
            kind: scaled.kind.clone(),
            memory_mb: scaled.memory_mb,
            for_action: Some(action.clone()),
        });
        self.containers.insert(
            id,
            Container {
                id,
                kind: scaled.kind,
                memory_mb: scaled.memory_mb,
                action: Some(action.clone()),
                max_concurrent: scaled.concurrency.max(1),
                initialized: false,
                phase: Phase::Starting,
                pending: Vec::new(),
                active: BTreeSet::new(),
                last_used: now,
            },
        );
        true
    }

    /// Creates the containers scaled actions miss below their floor, as memory allows.
    fn keep_floors(&mut self, now: Millis, effects: &mut Vec<PoolEffect>) {
        let wanted: Vec<(crate::core::action::ActionKey, u32)> = self
            .scaling
            .iter()
            .map(|(key, scaled)| (key.clone(), scaled.floor()))
            .collect();
        for (action, floor) in wanted {
            while self.count_of(&action) < floor {
                if !self.create_for_scaled(&action, now, effects) {
                    return;
                }
            }
        }
    }

    /// Sets an action's replica count: removes idle containers above it (least recently used
    /// first) and creates the missing ones.
    fn on_scale(&mut self, request: ScaleRequest, now: Millis, effects: &mut Vec<PoolEffect>) {
        self.scaling.scale(&request);
        let mut idle: Vec<(Millis, ContainerId)> = self
            .containers
            .values()
            .filter(|c| c.action.as_ref() == Some(&request.action) && c.is_idle_warm())
            .map(|c| (c.last_used, c.id))
            .collect();
        idle.sort();
        let mut surplus = self
            .count_of(&request.action)
            .saturating_sub(request.replicas);
        for (_, id) in idle {
            if surplus == 0 {
                break;
            }
            self.containers.remove(&id);
            surplus -= 1;
            tracing::debug!(container = %id, action = %request.action, "scaled down");
            effects.push(PoolEffect::Remove {
                container: id,
                reason: RemovalReason::ScaledDown,
            });
        }
        while self.count_of(&request.action) < request.replicas {
            if !self.create_for_scaled(&request.action, now, effects) {
                break;
            }
        }
    }

    /// Places one activation, or gives it back when it has to wait.
    fn place(
        &mut self,
        queued: Queued,
        now: Millis,
        effects: &mut Vec<PoolEffect>,
    ) -> Result<(), Box<Queued>> {
        let request = &queued.request;
        // 1. Warm.
        let warm = self
            .containers
            .values()
            .filter(|c| self.serves(c, &request.action) && c.load() < c.max_concurrent)
            .min_by_key(|c| {
                let class = match c.phase {
                    Phase::Up => 0,
                    Phase::Paused => 1,
                    Phase::Starting => 2,
                };
                (class, Reverse(c.load()), Reverse(c.last_used), c.id)
            })
            .map(|c| c.id);
        if let Some(id) = warm {
            if let Some(container) = self.containers.get_mut(&id) {
                self.counters.warm_starts += 1;
                match container.phase {
                    Phase::Starting => container.pending.push(queued),
                    Phase::Paused => {
                        container.phase = Phase::Up;
                        effects.push(PoolEffect::Unpause { container: id });
                        Self::start_run(container, queued.request.activation, now, effects);
                    }
                    Phase::Up => {
                        Self::start_run(container, queued.request.activation, now, effects)
                    }
                }
                return Ok(());
            }
        }
        // At its ceiling, an action waits for one of its own containers.
        if self.at_ceiling(&request.action) {
            return Err(Box::new(queued));
        }
        // 2. Prewarmed stem cell of the same kind and memory.
        let stem = self
            .containers
            .values()
            .find(|c| {
                c.action.is_none()
                    && c.phase == Phase::Up
                    && c.kind == request.kind
                    && c.memory_mb == request.memory_mb
            })
            .map(|c| c.id);
        if let Some(id) = stem {
            if let Some(container) = self.containers.get_mut(&id) {
                self.counters.prewarm_starts += 1;
                self.replenish_wanted = true;
                container.action = Some(queued.request.action.clone());
                container.max_concurrent = queued.request.concurrency.max(1);
                tracing::debug!(container = %id, activation_id = %queued.request.activation,
                    "stem cell dedicated to action");
                Self::start_run(container, queued.request.activation, now, effects);
                return Ok(());
            }
        }
        // 3. Cold, 4. after evicting idle containers.
        let needed = request.memory_mb;
        let free = self
            .config
            .user_memory_mb
            .saturating_sub(self.used_memory_mb());
        if free < needed {
            let victims = self.eviction_victims(needed - free);
            if victims.is_empty() {
                return Err(Box::new(queued));
            }
            for id in victims {
                self.containers.remove(&id);
                self.counters.evictions += 1;
                tracing::debug!(container = %id, "idle container evicted");
                effects.push(PoolEffect::Remove {
                    container: id,
                    reason: RemovalReason::Evicted,
                });
            }
        }
        self.counters.cold_starts += 1;
        let id = self.allocate_id();
        effects.push(PoolEffect::Create {
            container: id,
            kind: queued.request.kind.clone(),
            memory_mb: needed,
            for_action: Some(queued.request.action.clone()),
        });
        self.containers.insert(
            id,
            Container {
                id,
                kind: queued.request.kind.clone(),
                memory_mb: needed,
                action: Some(queued.request.action.clone()),
                max_concurrent: queued.request.concurrency.max(1),
                initialized: false,
                phase: Phase::Starting,
                pending: vec![queued],
                active: BTreeSet::new(),
                last_used: now,
            },
        );
        Ok(())
    }

    /// Whether `container` may run an activation of `action`: only a container dedicated to the
    /// very same namespace, action and version.
    fn serves(&self, container: &Container, action: &crate::core::action::ActionKey) -> bool {
        match &container.action {
            Some(own) if own == action => true,
            #[cfg(any(test, feature = "planted-bug"))]
            Some(own) if self.config.planted_bug_reuse_across_versions => {
                own.namespace == action.namespace && own.action == action.action
            }
            _ => false,
        }
    }

    /// Idle containers to remove so that `missing_mb` more memory is free: least recently used action
    /// containers first, then stem cells (oldest first). Empty if even all of them are not enough.
    fn eviction_victims(&self, missing_mb: u64) -> Vec<ContainerId> {
        let mut candidates: Vec<&Container> = self
            .containers
            .values()
            .filter(|c| c.is_idle_warm())
            .collect();
        candidates.sort_by_key(|c| (c.last_used, c.id));
        let stems = self
            .containers
            .values()
            .filter(|c| c.action.is_none() && c.phase == Phase::Up);
        let mut victims = Vec::new();
        let mut freed = 0u64;
        for c in candidates.into_iter().chain(stems) {
            if freed >= missing_mb {
                break;
            }
            freed += c.memory_mb;
            victims.push(c.id);
        }
        if freed >= missing_mb {
            victims
        } else {
            Vec::new()
        }
    }

    fn start_run(
        container: &mut Container,
        activation: ActivationId,
        now: Millis,
        effects: &mut Vec<PoolEffect>,
    ) {
        if !container.initialized {
            container.initialized = true;
            effects.push(PoolEffect::Init {
                container: container.id,
                activation: activation.clone(),
            });
        }
        container.last_used = now;
        container.active.insert(activation.clone());
        effects.push(PoolEffect::Run {
            container: container.id,
            activation,
        });
    }

    /// Creates stem cells up to the configured count of each kind and memory, as memory allows
    /// (never evicting for them).
    fn replenish(&mut self, now: Millis, effects: &mut Vec<PoolEffect>) {
        let specs = self.config.prewarm.clone();
        for spec in specs {
            let have = self
                .containers
                .values()
                .filter(|c| {
                    c.action.is_none() && c.kind == spec.kind && c.memory_mb == spec.memory_mb
                })
                .count() as u32;
            for _ in have..spec.count {
                if self.used_memory_mb() + spec.memory_mb > self.config.user_memory_mb {
                    return;
                }
                self.create_stem_cell(&spec.kind, spec.memory_mb, now, effects);
            }
        }
    }

    fn create_stem_cell(
        &mut self,
        kind: &Kind,
        memory_mb: u64,
        now: Millis,
        effects: &mut Vec<PoolEffect>,
    ) {
        let id = self.allocate_id();
        effects.push(PoolEffect::Create {
            container: id,
            kind: kind.clone(),
            memory_mb,
            for_action: None,
        });
        self.containers.insert(
            id,
            Container {
                id,
                kind: kind.clone(),
                memory_mb,
                action: None,
                max_concurrent: 1,
                initialized: false,
                phase: Phase::Starting,
                pending: Vec::new(),
                active: BTreeSet::new(),
                last_used: now,
            },
        );
    }

    /// The id the next created container will get.
    pub fn next_container_id(&self) -> ContainerId {
        ContainerId(self.next_id)
    }

    /// Makes every container created from now on get an id at or above `next`. A host that rebuilds
    /// a pool with [`ContainerPool::from_parts`] but removes some of the driver's containers itself
    /// (or knows the old pool's [`ContainerPool::next_container_id`]) calls this so that a new
    /// container never reuses the id of one being removed.
    pub fn reserve_container_ids_below(&mut self, next: ContainerId) {
        self.next_id = self.next_id.max(next.0);
    }

    fn allocate_id(&mut self) -> ContainerId {
        let id = ContainerId(self.next_id);
        self.next_id += 1;
        id
    }

    /// The earliest time at which a `Tick` would pause or remove a container, if any.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.containers
            .values()
            .filter(|c| c.is_idle_warm())
            .filter_map(|c| {
                let pause = match (c.phase, self.config.pause_grace_ms) {
                    (Phase::Up, Some(grace)) => Some(c.last_used.plus(grace)),
                    _ => None,
                };
                if self.held_by_floor(c) {
                    return pause;
                }
                let expiry = expiry(
                    &self.config.keep_alive,
                    &self.idle_tracker,
                    &self.scaling,
                    c,
                );
                Some(pause.map_or(expiry, |pause| expiry.min(pause)))
            })
            .chain(self.idle_tracker.next_prewarm())
            .min()
    }

    /// Memory of all containers in MB.
    pub fn used_memory_mb(&self) -> u64 {
        self.containers.values().map(|c| c.memory_mb).sum()
    }

    /// The pool's configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// The cumulative counters.
    pub fn counters(&self) -> &PoolCounters {
        &self.counters
    }

    /// Activations waiting in the queue.
    pub fn queue_depth(&self) -> usize {
        self.queue.len()
    }

    /// The queued activations, head first.
    pub fn queued(&self) -> Vec<ActivationId> {
        self.queue
            .iter()
            .map(|q| q.request.activation.clone())
            .collect()
    }

    /// Number of containers in each state (states with none are absent).
    pub fn containers_by_state(&self) -> BTreeMap<ContainerState, usize> {
        let mut counts = BTreeMap::new();
        for c in self.containers.values() {
            *counts.entry(c.state()).or_insert(0) += 1;
        }
        counts
    }

    /// The containers dedicated to `action` (its fully qualified name, any version) in
    /// `namespace`: all of them, and those up (ready, running or paused), for replica counts.
    pub fn replicas_of(&self, namespace: &str, action: &str) -> (usize, usize) {
        let mine = self.containers.values().filter(|c| {
            c.action
                .as_ref()
                .is_some_and(|key| key.namespace == namespace && key.action == action)
        });
        mine.fold((0, 0), |(all, up), c| {
            (all + 1, up + usize::from(c.phase != Phase::Starting))
        })
    }

    /// All containers in id order.
    pub fn containers(&self) -> Vec<ContainerView> {
        self.containers.values().map(Container::view).collect()
    }

    /// One container.
    pub fn container(&self, id: ContainerId) -> Option<ContainerView> {
        self.containers.get(&id).map(Container::view)
    }

    /// The containers to hand to [`ContainerPool::from_parts`] if this pool restarted now (containers
    /// that are up; starting ones are left out: the driver reports them if they finished).
    pub fn adoptable(&self) -> Vec<AdoptedContainer> {
        self.containers
            .values()
            .filter(|c| c.phase != Phase::Starting)
            .map(|c| AdoptedContainer::from(&c.view()))
            .collect()
    }
}

/// When the idle `container` is removed under `policy` (or its scaled action's own idle time).
fn expiry(
    policy: &KeepAlivePolicy,
    tracker: &IdleTracker,
    scaling: &ScalingTable,
    container: &Container,
) -> Millis {
    let own = container
        .action
        .as_ref()
        .and_then(|key| scaling.get(key))
        .and_then(|scaled| scaled.scaling.idle_ms);
    if let Some(idle_ms) = own {
        return container.last_used.plus(idle_ms);
    }
    match (policy, &container.action) {
        (KeepAlivePolicy::Histogram(_), Some(action)) => tracker
            .expires_at(action, container.last_used)
            .unwrap_or_else(|| policy.expires_at(container.last_used)),
        _ => policy.expires_at(container.last_used),
    }
}

#[cfg(test)]
mod keep_alive_tests;
#[cfg(test)]
mod scaling_tests;
#[cfg(test)]
mod tests;
