//! The dispatcher core: picks the invoker that runs an activation (OpenWhisk's
//! `ShardingContainerPoolBalancer`).
//!
//! Placement: the action's home invoker is `hash(namespace, action) mod n` over the registered
//! invokers in id order; from there the dispatcher walks with a step coprime to `n` (chosen by the
//! same hash from OpenWhisk's pairwise coprimes) and takes the first *healthy* invoker whose booked
//! memory leaves room for the action. When none has room, it forces the activation onto a healthy
//! invoker chosen with the host's random number (the invoker's pool will queue it). When none is
//! healthy, [`Dispatcher::schedule`] returns [`NoInvoker`] (HTTP 503).
//!
//! Host contract:
//! - feed every invoker ping as [`DispatcherInput::Ping`] and call `handle(Tick)` about once a second;
//! - after a successful `schedule`, send the activation to the invoker; report
//!   [`DispatcherInput::ActivationStarted`] when the invoker says it started, and
//!   [`DispatcherInput::ActivationCompleted`] exactly once when it ended;
//! - carry out [`DispatcherEffect::InvokerOffline`]: reschedule `not_started`, record a whisk internal
//!   error for `started`.

mod capacity;
mod health;
mod messages;
mod snapshot;

pub use health::Health;
pub use messages::{
    DispatchRequest, DispatcherConfig, DispatcherEffect, DispatcherInput, NoInvoker, Placement,
    ReportKind,
};
pub use snapshot::{DispatcherSnapshot, InFlightSnapshot, InvokerSnapshot};

use crate::core::action::ActionKey;
use crate::core::hashing::{home_hash, pairwise_coprimes_until};
use crate::core::ids::{ActivationId, InvokerId};
use crate::core::time::Millis;
use capacity::InvokerCapacity;
use health::InvokerHealth;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
struct InvokerState {
    health: InvokerHealth,
    capacity: InvokerCapacity,
}

#[derive(Clone, Debug)]
struct InFlight {
    invoker: InvokerId,
    action: ActionKey,
    memory_mb: u64,
    concurrency: u32,
    started: bool,
}

/// A read-only view of one invoker, for tests and metrics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokerView {
    /// The invoker.
    pub invoker: InvokerId,
    /// Its health.
    pub health: Health,
    /// Its user memory in MB.
    pub user_memory_mb: u64,
    /// Memory booked by activations in flight, in MB (may exceed the user memory after forced placements).
    pub reserved_mb: u64,
    /// Activations in flight on it.
    pub in_flight: usize,
}

/// The dispatcher of one controller.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    config: DispatcherConfig,
    invokers: BTreeMap<InvokerId, InvokerState>,
    step_sizes: Vec<u64>,
    in_flight: BTreeMap<ActivationId, InFlight>,
}

impl Dispatcher {
    /// A dispatcher that knows no invoker yet (they register by pinging).
    pub fn new(config: DispatcherConfig) -> Self {
        Dispatcher {
            config,
            invokers: BTreeMap::new(),
            step_sizes: Vec::new(),
            in_flight: BTreeMap::new(),
        }
    }

    /// Rebuilds a dispatcher from a snapshot; bookings are recomputed from the activations in flight.
    /// In-flight entries naming an unknown invoker are dropped (and logged).
    pub fn restore(config: DispatcherConfig, snapshot: DispatcherSnapshot) -> Self {
        let mut dispatcher = Dispatcher::new(config);
        for inv in snapshot.invokers {
            dispatcher.invokers.insert(
                inv.invoker,
                InvokerState {
                    health: InvokerHealth {
                        health: inv.health,
                        last_ping: inv.last_ping,
                        unhealthy_until: inv.unhealthy_until,
                        failures: health::FailureWindow::default(),
                    },
                    capacity: InvokerCapacity::new(inv.user_memory_mb),
                },
            );
        }
        dispatcher.recompute_steps();
        for f in snapshot.in_flight {
            let Some(state) = dispatcher.invokers.get_mut(&f.invoker) else {
                tracing::warn!(activation_id = %f.activation, invoker = %f.invoker,
                    "snapshot names an unknown invoker; in-flight activation dropped");
                continue;
            };
            state
                .capacity
                .force_acquire(&f.action, f.memory_mb, f.concurrency);
            dispatcher.in_flight.insert(
                f.activation,
                InFlight {
                    invoker: f.invoker,
                    action: f.action,
                    memory_mb: f.memory_mb,
                    concurrency: f.concurrency,
                    started: f.started,
                },
            );
        }
        dispatcher
    }

    /// The dispatcher's state as plain data (see [`Dispatcher::restore`]).
    pub fn snapshot(&self) -> DispatcherSnapshot {
        DispatcherSnapshot {
            invokers: self
                .invokers
                .iter()
                .map(|(&invoker, s)| InvokerSnapshot {
                    invoker,
                    user_memory_mb: s.capacity.user_memory_mb(),
                    last_ping: s.health.last_ping,
                    health: s.health.health,
                    unhealthy_until: s.health.unhealthy_until,
                })
                .collect(),
            in_flight: self
                .in_flight
                .iter()
                .map(|(activation, f)| InFlightSnapshot {
                    activation: activation.clone(),
                    invoker: f.invoker,
                    action: f.action.clone(),
                    memory_mb: f.memory_mb,
                    concurrency: f.concurrency,
                    started: f.started,
                })
                .collect(),
        }
    }

    fn recompute_steps(&mut self) {
        self.step_sizes = pairwise_coprimes_until(self.invokers.len() as u64);
    }

    /// Applies one input at `now` and returns what the host must do.
    pub fn handle(&mut self, input: DispatcherInput, now: Millis) -> Vec<DispatcherEffect> {
        match input {
            DispatcherInput::Ping {
                invoker,
                user_memory_mb,
            } => self.on_ping(invoker, user_memory_mb, now),
            DispatcherInput::ActivationStarted { activation } => {
                match self.in_flight.get_mut(&activation) {
                    Some(f) => {
                        f.started = true;
                        Vec::new()
                    }
                    None => {
                        tracing::warn!(activation_id = %activation, "start reported for an activation not in flight");
                        vec![DispatcherEffect::StaleReport {
                            activation,
                            kind: ReportKind::Started,
                        }]
                    }
                }
            }
            DispatcherInput::ActivationCompleted {
                activation,
                system_error,
            } => self.on_completed(activation, system_error, now),
            DispatcherInput::Tick => self.on_tick(now),
        }
    }

    fn on_ping(
        &mut self,
        invoker: InvokerId,
        user_memory_mb: u64,
        now: Millis,
    ) -> Vec<DispatcherEffect> {
        let mut effects = Vec::new();
        match self.invokers.get_mut(&invoker) {
            Some(state) => {
                state.health.last_ping = now;
                state.capacity.set_user_memory_mb(user_memory_mb);
                let from = state.health.health;
                let recovers = match from {
                    Health::Healthy => false,
                    Health::Offline => true,
                    Health::Unhealthy => now >= state.health.unhealthy_until,
                };
                if recovers {
                    state.health.health = Health::Healthy;
                    state.health.failures.clear();
                    tracing::info!(invoker = %invoker, from = %from, "invoker healthy again");
                    effects.push(DispatcherEffect::HealthChanged {
                        invoker,
                        from,
                        to: Health::Healthy,
                    });
                }
            }
            None => {
                tracing::info!(invoker = %invoker, user_memory_mb, "invoker registered");
                self.invokers.insert(
                    invoker,
                    InvokerState {
                        health: InvokerHealth::new(now),
                        capacity: InvokerCapacity::new(user_memory_mb),
                    },
                );
                self.recompute_steps();
            }
        }
        effects
    }

    fn on_completed(
        &mut self,
        activation: ActivationId,
        system_error: bool,
        now: Millis,
    ) -> Vec<DispatcherEffect> {
        let Some(f) = self.in_flight.remove(&activation) else {
            tracing::warn!(activation_id = %activation, "completion reported for an activation not in flight");
            return vec![DispatcherEffect::StaleReport {
                activation,
                kind: ReportKind::Completed,
            }];
        };
        let mut effects = Vec::new();
        let config = &self.config;
        if let Some(state) = self.invokers.get_mut(&f.invoker) {
            state
                .capacity
                .release(&f.action, f.memory_mb, f.concurrency);
            let errors = state
                .health
                .failures
                .record(system_error, config.health_window);
            if state.health.health == Health::Healthy
                && errors >= config.unhealthy_after_system_errors
            {
                state.health.health = Health::Unhealthy;
                state.health.unhealthy_until = now.plus(config.unhealthy_hold_ms);
                tracing::warn!(invoker = %f.invoker, errors, "invoker unhealthy after system errors");
                effects.push(DispatcherEffect::HealthChanged {
                    invoker: f.invoker,
                    from: Health::Healthy,
                    to: Health::Unhealthy,
                });
            }
        }
        effects
    }

    fn on_tick(&mut self, now: Millis) -> Vec<DispatcherEffect> {
        let silent: Vec<InvokerId> = self
            .invokers
            .iter()
            .filter(|(_, s)| {
                s.health.health != Health::Offline
                    && now >= s.health.last_ping.plus(self.config.offline_after_ms)
            })
            .map(|(&id, _)| id)
            .collect();
        let mut effects = Vec::new();
        for invoker in silent {
            let Some(state) = self.invokers.get_mut(&invoker) else {
                continue;
            };
            let from = state.health.health;
            state.health.health = Health::Offline;
            state.capacity.clear();
            let mut not_started = Vec::new();
            let mut started = Vec::new();
            self.in_flight.retain(|activation, f| {
                if f.invoker != invoker {
                    return true;
                }
                if f.started {
                    started.push(activation.clone());
                } else {
                    not_started.push(activation.clone());
                }
                false
            });
            tracing::warn!(invoker = %invoker, not_started = not_started.len(), started = started.len(),
                "invoker offline");
            effects.push(DispatcherEffect::HealthChanged {
                invoker,
                from,
                to: Health::Offline,
            });
            effects.push(DispatcherEffect::InvokerOffline {
                invoker,
                not_started,
                started,
            });
        }
        effects
    }

    /// The home index and step of `action` for the current number of invokers.
    fn home_and_step(&self, action: &ActionKey) -> Option<(usize, usize)> {
        let n = self.invokers.len() as u64;
        if n == 0 || self.step_sizes.is_empty() {
            return None;
        }
        let hash = home_hash(&action.namespace, &action.action);
        let home = (hash % n) as usize;
        let step = self.step_sizes[(hash % self.step_sizes.len() as u64) as usize] as usize;
        Some((home, step))
    }

    /// The invokers in the order the dispatcher tries them for `action`: home first, then the step walk.
    pub fn walk_order(&self, action: &ActionKey) -> Vec<InvokerId> {
        let ids: Vec<InvokerId> = self.invokers.keys().copied().collect();
        let Some((home, step)) = self.home_and_step(action) else {
            return Vec::new();
        };
        (0..ids.len())
            .map(|i| ids[(home + i * step) % ids.len()])
            .collect()
    }

    /// The home invoker of `action`, if any invoker is registered.
    pub fn home_invoker(&self, action: &ActionKey) -> Option<InvokerId> {
        self.walk_order(action).first().copied()
    }

    /// Places one activation and books its memory on the chosen invoker.
    ///
    /// `random` is any random `u64` from the host; it is used only when no healthy invoker has room.
    /// Scheduling an activation that is already in flight moves it: its old booking is returned first.
    pub fn schedule(
        &mut self,
        request: DispatchRequest,
        random: u64,
        now: Millis,
    ) -> Result<Placement, NoInvoker> {
        if let Some(old) = self.in_flight.remove(&request.activation) {
            tracing::warn!(activation_id = %request.activation, invoker = %old.invoker,
                "activation scheduled again while in flight; moving it");
            if let Some(state) = self.invokers.get_mut(&old.invoker) {
                state
                    .capacity
                    .release(&old.action, old.memory_mb, old.concurrency);
            }
        }
        let concurrency = request.concurrency.max(1);
        let offline_after = self.config.offline_after_ms;
        let walk = self.walk_order(&request.action);
        let mut chosen = None;
        for invoker in &walk {
            let Some(state) = self.invokers.get_mut(invoker) else {
                continue;
            };
            if state.health.usable(now, offline_after)
                && state
                    .capacity
                    .try_acquire(&request.action, request.memory_mb, concurrency)
            {
                chosen = Some(Placement {
                    invoker: *invoker,
                    forced: false,
                });
                break;
            }
        }
        if chosen.is_none() {
            let healthy: Vec<InvokerId> = self
                .invokers
                .iter()
                .filter(|(_, s)| s.health.usable(now, offline_after))
                .map(|(&id, _)| id)
                .collect();
            if !healthy.is_empty() {
                let invoker = healthy[(random % healthy.len() as u64) as usize];
                if let Some(state) = self.invokers.get_mut(&invoker) {
                    state
                        .capacity
                        .force_acquire(&request.action, request.memory_mb, concurrency);
                }
                tracing::warn!(activation_id = %request.activation, invoker = %invoker,
                    "system is overloaded; invoker chosen by random assignment");
                chosen = Some(Placement {
                    invoker,
                    forced: true,
                });
            }
        }
        let Some(placement) = chosen else {
            tracing::warn!(activation_id = %request.activation, action = %request.action,
                "no healthy invoker");
            return Err(NoInvoker {
                activation: request.activation,
                action: request.action.action,
                registered: self.invokers.len(),
            });
        };
        tracing::debug!(activation_id = %request.activation, invoker = %placement.invoker,
            forced = placement.forced, "activation placed");
        self.in_flight.insert(
            request.activation,
            InFlight {
                invoker: placement.invoker,
                action: request.action,
                memory_mb: request.memory_mb,
                concurrency,
                started: false,
            },
        );
        Ok(placement)
    }

    /// The health of `invoker`, if registered.
    pub fn health(&self, invoker: InvokerId) -> Option<Health> {
        self.invokers.get(&invoker).map(|s| s.health.health)
    }

    /// All registered invokers in id order.
    pub fn invokers(&self) -> Vec<InvokerView> {
        self.invokers
            .iter()
            .map(|(&invoker, s)| InvokerView {
                invoker,
                health: s.health.health,
                user_memory_mb: s.capacity.user_memory_mb(),
                reserved_mb: s.capacity.reserved_mb(),
                in_flight: self
                    .in_flight
                    .values()
                    .filter(|f| f.invoker == invoker)
                    .count(),
            })
            .collect()
    }

    /// Where `activation` is in flight, if it is.
    pub fn placement_of(&self, activation: &ActivationId) -> Option<InvokerId> {
        self.in_flight.get(activation).map(|f| f.invoker)
    }

    /// Activations in flight on all invokers.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }

    /// The step sizes of the current invoker count (OpenWhisk's pairwise coprimes).
    pub fn step_sizes(&self) -> &[u64] {
        &self.step_sizes
    }
}

#[cfg(test)]
mod tests;
