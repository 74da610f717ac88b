//! The controller core: the glue between a client's invocation and the invoker that runs it.
//!
//! It admits an invocation through the namespace [`Throttles`], places it with the [`Dispatcher`],
//! and then owns it until exactly one record ends it: the invoker's completion, or a whisk internal
//! error when the invoker went offline or restarted with it, or when no completion arrived within
//! the action's time limit plus a grace. Late or duplicate completions are ignored, so an
//! activation is recorded once even when a bus delivers twice or an activation is re-dispatched.
//!
//! Host contract:
//! - `Invoke` → `Refuse` (answer 429/503, record nothing) or `Dispatch` (append `InvocationAccepted`,
//!   then send the activation to the invoker; a non-blocking caller gets its 202 only once the
//!   append is durable);
//! - `Deliver` (an invocation a durable queue accepted earlier) → `Refuse` (leave it in the queue)
//!   or `Dispatch` (send it; the queue, not the log, holds it as accepted);
//! - feed every completion as `Completed`, every ping as `Ping`, a `Tick` about once a second;
//! - `Record` → append the invoker's record (`ActivationRecorded`) and answer waiters;
//!   `RecordLost` → append a whisk internal error record built from the accepted invocation;
//!   `Redispatch` → send the same activation to the new invoker; `Ignore` → drop the message.
//! - After a restart, build the core with [`Controller::recover`] from the invocations the log
//!   holds as accepted but not recorded.

mod messages;

pub use messages::{
    ControllerEffect, ControllerInput, InvocationRequest, LostReason, PendingInvocation, Refusal,
};

use crate::core::dispatcher::{
    DispatchRequest, Dispatcher, DispatcherConfig, DispatcherEffect, DispatcherInput,
    DispatcherSnapshot, InFlightSnapshot, InvokerSnapshot,
};
use crate::core::ids::{ActivationId, InvokerId};
use crate::core::throttle::{ThrottleConfig, Throttles};
use crate::core::time::Millis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Configuration of the controller core.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerConfig {
    pub dispatcher: DispatcherConfig,
    pub throttles: ThrottleConfig,
    /// How long past an action's time limit the controller waits for its completion before it
    /// records the activation as lost. `None` takes [`ControllerConfig::DEFAULT_GRACE_MS`].
    pub completion_grace_ms: Option<u64>,
}

impl ControllerConfig {
    /// Grace beyond the action's time limit before an activation without completion is lost:
    /// room for a cold start, a queue wait and the record's way back.
    pub const DEFAULT_GRACE_MS: u64 = 120_000;

    fn grace_ms(&self) -> u64 {
        self.completion_grace_ms.unwrap_or(Self::DEFAULT_GRACE_MS)
    }
}

/// One accepted activation the controller waits on.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Flight {
    request: InvocationRequest,
    invoker: InvokerId,
    accepted_at: Millis,
    deadline: Millis,
    /// Whether it holds a concurrent slot of its namespace (not after a recovery).
    holds_slot: bool,
}

/// A read-only view of one activation in flight, for tests and metrics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlightView {
    pub activation: ActivationId,
    pub invoker: InvokerId,
    pub accepted_at: Millis,
    pub deadline: Millis,
}

/// The controller core of one controller.
#[derive(Clone, Debug)]
pub struct Controller {
    config: ControllerConfig,
    dispatcher: Dispatcher,
    throttles: Throttles,
    in_flight: BTreeMap<ActivationId, Flight>,
    incarnations: BTreeMap<InvokerId, u64>,
}

impl Controller {
    /// A controller with nothing in flight.
    pub fn new(config: ControllerConfig) -> Self {
        Controller {
            dispatcher: Dispatcher::new(config.dispatcher.clone()),
            throttles: Throttles::new(config.throttles.clone()),
            config,
            in_flight: BTreeMap::new(),
            incarnations: BTreeMap::new(),
        }
    }

    /// A controller after a restart: it waits again for every invocation the log holds as accepted
    /// but not recorded (deadlines count from `now` at the earliest), so each still ends with
    /// exactly one record. `invokers` is the soft state of invoker health the old core had (pings
    /// refresh it every second; keeping it avoids refusing work until the next ping); the pending
    /// activations are booked on the invokers they were sent to.
    pub fn recover(
        config: ControllerConfig,
        invokers: Vec<InvokerSnapshot>,
        pending: Vec<PendingInvocation>,
        now: Millis,
    ) -> Self {
        let mut controller = Controller::new(config);
        let grace = controller.config.grace_ms();
        let in_flight = pending
            .iter()
            .map(|p| InFlightSnapshot {
                activation: p.request.activation.clone(),
                invoker: p.invoker,
                action: p.request.action.clone(),
                memory_mb: p.request.memory_mb,
                concurrency: p.request.concurrency,
                started: false,
            })
            .collect();
        controller.dispatcher = Dispatcher::restore(
            controller.config.dispatcher.clone(),
            DispatcherSnapshot {
                invokers,
                in_flight,
            },
        );
        for p in pending {
            let deadline =
                Millis(p.accepted_at.0.max(now.0)).plus(p.request.timeout_ms.saturating_add(grace));
            controller.in_flight.insert(
                p.request.activation.clone(),
                Flight {
                    request: p.request,
                    invoker: p.invoker,
                    accepted_at: p.accepted_at,
                    deadline,
                    holds_slot: false,
                },
            );
        }
        controller
    }

    /// Applies one input at `now`. `random` is any random number (used only when every healthy
    /// invoker is full and one is picked at random).
    pub fn handle(
        &mut self,
        input: ControllerInput,
        now: Millis,
        random: u64,
    ) -> Vec<ControllerEffect> {
        let mut effects = Vec::new();
        match input {
            ControllerInput::Invoke(request) => {
                self.on_invoke(request, Admit::Count, now, random, &mut effects)
            }
            ControllerInput::Deliver(request) => {
                self.on_invoke(request, Admit::SlotOnly, now, random, &mut effects)
            }
            ControllerInput::Completed {
                activation,
                invoker,
                system_error,
            } => self.on_completed(activation, invoker, system_error, now, &mut effects),
            ControllerInput::Ping {
                invoker,
                user_memory_mb,
                incarnation,
            } => self.on_ping(invoker, user_memory_mb, incarnation, now, &mut effects),
            ControllerInput::Tick => self.on_tick(now, random, &mut effects),
        }
        effects
    }

    /// Reports that an invoker started an activation (it will not be re-dispatched when that
    /// invoker goes offline, but recorded as lost).
    pub fn started(&mut self, activation: &ActivationId, now: Millis) {
        if self.in_flight.contains_key(activation) {
            self.dispatcher.handle(
                DispatcherInput::ActivationStarted {
                    activation: activation.clone(),
                },
                now,
            );
        }
    }

    fn on_invoke(
        &mut self,
        request: InvocationRequest,
        admit: Admit,
        now: Millis,
        random: u64,
        effects: &mut Vec<ControllerEffect>,
    ) {
        let activation = request.activation.clone();
        if self.in_flight.contains_key(&activation) {
            // The same activation id twice is a host bug; never run it twice.
            tracing::warn!(activation_id = %activation, "invocation already in flight; ignored");
            effects.push(ControllerEffect::Ignore { activation });
            return;
        }
        let namespace = request.action.namespace.clone();
        let admitted = match admit {
            Admit::Count => self.throttles.admit(&namespace, now).map(|_| ()),
            Admit::SlotOnly => self.throttles.acquire_slot(&namespace).map(|_| ()),
        };
        if let Err(throttled) = admitted {
            effects.push(ControllerEffect::Refuse {
                activation,
                refusal: Refusal::Throttled(throttled),
            });
            return;
        }
        match self
            .dispatcher
            .schedule(dispatch_request(&request), random, now)
        {
            Err(no_invoker) => {
                self.throttles.release(&namespace);
                effects.push(ControllerEffect::Refuse {
                    activation,
                    refusal: Refusal::NoInvoker(no_invoker),
                });
            }
            Ok(placement) => {
                let deadline = now.plus(request.timeout_ms.saturating_add(self.config.grace_ms()));
                self.in_flight.insert(
                    activation.clone(),
                    Flight {
                        request,
                        invoker: placement.invoker,
                        accepted_at: now,
                        deadline,
                        holds_slot: true,
                    },
                );
                effects.push(ControllerEffect::Dispatch {
                    activation,
                    invoker: placement.invoker,
                });
            }
        }
    }

    fn on_completed(
        &mut self,
        activation: ActivationId,
        invoker: InvokerId,
        system_error: bool,
        now: Millis,
        effects: &mut Vec<ControllerEffect>,
    ) {
        if !self.in_flight.contains_key(&activation) {
            tracing::debug!(activation_id = %activation, %invoker, "completion not expected; ignored");
            effects.push(ControllerEffect::Ignore { activation });
            return;
        }
        self.end(&activation, system_error, now);
        effects.push(ControllerEffect::Record { activation });
    }

    fn on_ping(
        &mut self,
        invoker: InvokerId,
        user_memory_mb: u64,
        incarnation: u64,
        now: Millis,
        effects: &mut Vec<ControllerEffect>,
    ) {
        let previous = self.incarnations.insert(invoker, incarnation);
        if previous.is_some_and(|previous| previous != incarnation) {
            let lost: Vec<ActivationId> = self
                .in_flight
                .iter()
                .filter(|(_, flight)| flight.invoker == invoker)
                .map(|(activation, _)| activation.clone())
                .collect();
            for activation in lost {
                self.end(&activation, true, now);
                effects.push(ControllerEffect::RecordLost {
                    activation,
                    reason: LostReason::InvokerRestarted(invoker),
                });
            }
        }
        self.dispatcher.handle(
            DispatcherInput::Ping {
                invoker,
                user_memory_mb,
            },
            now,
        );
    }

    fn on_tick(&mut self, now: Millis, random: u64, effects: &mut Vec<ControllerEffect>) {
        for effect in self.dispatcher.handle(DispatcherInput::Tick, now) {
            let DispatcherEffect::InvokerOffline {
                invoker,
                not_started,
                started,
            } = effect
            else {
                continue;
            };
            for activation in started {
                if self.in_flight.contains_key(&activation) {
                    self.release_slot(&activation);
                    self.in_flight.remove(&activation);
                    effects.push(ControllerEffect::RecordLost {
                        activation,
                        reason: LostReason::InvokerOffline(invoker),
                    });
                }
            }
            for activation in not_started {
                let Some(flight) = self.in_flight.get(&activation) else {
                    continue;
                };
                match self
                    .dispatcher
                    .schedule(dispatch_request(&flight.request), random, now)
                {
                    Ok(placement) => {
                        if let Some(flight) = self.in_flight.get_mut(&activation) {
                            flight.invoker = placement.invoker;
                        }
                        effects.push(ControllerEffect::Redispatch {
                            activation,
                            invoker: placement.invoker,
                        });
                    }
                    Err(_) => {
                        self.release_slot(&activation);
                        self.in_flight.remove(&activation);
                        effects.push(ControllerEffect::RecordLost {
                            activation,
                            reason: LostReason::InvokerOffline(invoker),
                        });
                    }
                }
            }
        }
        let expired: Vec<(ActivationId, u64)> = self
            .in_flight
            .iter()
            .filter(|(_, flight)| flight.deadline <= now)
            .map(|(activation, flight)| (activation.clone(), now.since(flight.accepted_at)))
            .collect();
        for (activation, waited_ms) in expired {
            self.end(&activation, true, now);
            effects.push(ControllerEffect::RecordLost {
                activation,
                reason: LostReason::NoCompletion { waited_ms },
            });
        }
        self.throttles.prune(now);
    }

    /// Forgets an activation that ended, returning its booking and its throttle slot.
    fn end(&mut self, activation: &ActivationId, system_error: bool, now: Millis) {
        self.release_slot(activation);
        if self.in_flight.remove(activation).is_some() {
            self.dispatcher.handle(
                DispatcherInput::ActivationCompleted {
                    activation: activation.clone(),
                    system_error,
                },
                now,
            );
        }
    }

    fn release_slot(&mut self, activation: &ActivationId) {
        if let Some(flight) = self.in_flight.get_mut(activation) {
            if flight.holds_slot {
                flight.holds_slot = false;
                self.throttles.release(&flight.request.action.namespace);
            }
        }
    }

    /// Activations accepted and not yet ended.
    pub fn in_flight(&self) -> Vec<FlightView> {
        self.in_flight
            .iter()
            .map(|(activation, flight)| FlightView {
                activation: activation.clone(),
                invoker: flight.invoker,
                accepted_at: flight.accepted_at,
                deadline: flight.deadline,
            })
            .collect()
    }

    /// The request an in-flight activation was accepted with.
    pub fn request(&self, activation: &ActivationId) -> Option<&InvocationRequest> {
        self.in_flight.get(activation).map(|flight| &flight.request)
    }

    /// The dispatcher, for health views and metrics.
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    /// The throttles, for limits and metrics.
    pub fn throttles(&self) -> &Throttles {
        &self.throttles
    }

    /// The throttles, to set per-namespace limits.
    pub fn throttles_mut(&mut self) -> &mut Throttles {
        &mut self.throttles
    }
}

/// How an invocation passes the throttles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admit {
    /// Count the rate and take a concurrent slot (a client's invocation).
    Count,
    /// Take a concurrent slot only (a queued invocation, counted when it was accepted).
    SlotOnly,
}

fn dispatch_request(request: &InvocationRequest) -> DispatchRequest {
    DispatchRequest {
        activation: request.activation.clone(),
        action: request.action.clone(),
        memory_mb: request.memory_mb,
        concurrency: request.concurrency,
    }
}

#[cfg(test)]
mod tests;
