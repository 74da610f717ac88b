//! The invoker core: one invoker's [`ContainerPool`] plus the lifecycle of each activation on it.
//!
//! It turns the pool's container decisions into what a host does with a driver (create, execute =
//! init if needed then run, pause, unpause, remove), collects what happened to each activation, and
//! settles it into an [`ActivationOutcome`] with the lifecycle rules ([`settle`]). A container whose
//! activation ended badly (crash, timeout, out of memory, failed init) is reported failed to the pool,
//! so the next activation of that action gets a fresh one.
//!
//! Host contract:
//! - `Run` for every activation message; `Created`/`CreateFailed` for each `Create`;
//!   `Executed` for each `Execute` with what init (when asked) and run did; `DriverFailed` when a
//!   pause, unpause or remove failed; `Tick` about once a second.
//! - `Complete` carries the outcome: the host builds the record and publishes the completion.
//!   Every `Run` ends with exactly one `Complete`.
//! - After the hosting actor restarts, call [`Invoker::restart`] with the containers the driver still
//!   has: activations that were executing end with a whisk internal error (their container is removed),
//!   activations still waiting run again on the new pool.

mod messages;

pub use messages::{Executed, InvokerEffect, InvokerInput, RunSpec};

use crate::core::ids::{ActivationId, ContainerId};
use crate::core::lifecycle::{
    settle, ActivationFacts, ActivationOutcome, ActivationSpec, InitResult, PhaseFacts,
};
use crate::core::pool::{
    ActivationRequest, AdoptedContainer, ContainerPool, PoolConfig, PoolEffect, PoolInput,
    RejectReason, RemovalReason,
};
use crate::core::time::Millis;
use std::collections::{BTreeMap, BTreeSet};

/// Why activations that were executing when the invoker restarted end as they do.
pub const RESTARTED_WHILE_RUNNING: &str = "The invoker restarted while the activation was running.";

#[derive(Clone, Debug)]
struct Tracked {
    spec: RunSpec,
    /// The container executing it, once the host was told to.
    executing: Option<ContainerId>,
}

/// One invoker's core.
#[derive(Clone, Debug)]
pub struct Invoker {
    pool: ContainerPool,
    activations: BTreeMap<ActivationId, Tracked>,
    /// Inits the pool asked for, waiting for their run (the host does both in one execution).
    init_pending: BTreeSet<(ContainerId, ActivationId)>,
}

impl Invoker {
    /// An invoker with an empty pool.
    pub fn new(config: PoolConfig) -> Self {
        Invoker {
            pool: ContainerPool::new(config),
            activations: BTreeMap::new(),
            init_pending: BTreeSet::new(),
        }
    }

    /// Applies one input at `now` and returns what the host must do, in order.
    pub fn handle(&mut self, input: InvokerInput, now: Millis) -> Vec<InvokerEffect> {
        let mut effects = Vec::new();
        match input {
            InvokerInput::Run(spec) => {
                let request = ActivationRequest {
                    activation: spec.activation.clone(),
                    action: spec.action.clone(),
                    kind: spec.kind.clone(),
                    memory_mb: spec.limits.memory_mb,
                    concurrency: spec.limits.concurrency,
                    scaling: spec.scaling,
                };
                if self.activations.contains_key(&spec.activation) {
                    tracing::warn!(activation_id = %spec.activation, "activation delivered twice; the second is dropped");
                    return effects;
                }
                self.activations.insert(
                    spec.activation.clone(),
                    Tracked {
                        spec,
                        executing: None,
                    },
                );
                self.pool_step(PoolInput::Schedule(request), now, &mut effects);
            }
            InvokerInput::Created { container } => {
                self.pool_step(PoolInput::Created { container }, now, &mut effects)
            }
            InvokerInput::ImageUnavailable { container, error } => self.pool_step(
                PoolInput::ImageUnavailable { container, error },
                now,
                &mut effects,
            ),
            InvokerInput::CreateFailed { container, error } => self.pool_step(
                PoolInput::CreateFailed { container, error },
                now,
                &mut effects,
            ),
            InvokerInput::Executed(executed) => self.on_executed(executed, now, &mut effects),
            InvokerInput::DriverFailed { container, error } => self.pool_step(
                PoolInput::ContainerFailed {
                    container,
                    reason: error,
                },
                now,
                &mut effects,
            ),
            InvokerInput::Tick => self.pool_step(PoolInput::Tick, now, &mut effects),
            InvokerInput::Scale(request) => {
                self.pool_step(PoolInput::Scale(request), now, &mut effects)
            }
        }
        effects
    }

    /// Rebuilds the invoker after its hosting actor restarted. `still_there` are the containers the
    /// driver reports; idle containers the old pool knew and the driver still has are adopted,
    /// everything else is removed.
    pub fn restart(
        &mut self,
        still_there: &BTreeSet<ContainerId>,
        now: Millis,
    ) -> Vec<InvokerEffect> {
        let mut effects = Vec::new();
        let old = std::mem::take(&mut self.activations);
        self.init_pending.clear();
        let mut busy = BTreeSet::new();
        let mut waiting = Vec::new();
        for (activation, tracked) in old {
            match tracked.executing {
                Some(container) => {
                    busy.insert(container);
                    let outcome = lost(&tracked.spec, RESTARTED_WHILE_RUNNING, now);
                    effects.push(InvokerEffect::Complete {
                        outcome: Box::new(outcome),
                        system_error: false,
                    });
                    tracing::warn!(activation_id = %activation, %container, "activation lost to an invoker restart");
                }
                None => waiting.push(tracked.spec),
            }
        }
        let adoptable: Vec<AdoptedContainer> = self
            .pool
            .adoptable()
            .into_iter()
            .filter(|c| still_there.contains(&c.container) && !busy.contains(&c.container))
            .collect();
        let adopted: BTreeSet<ContainerId> = adoptable.iter().map(|c| c.container).collect();
        for container in still_there.difference(&adopted) {
            effects.push(InvokerEffect::Remove {
                container: *container,
                reason: RemovalReason::NotAdopted,
            });
        }
        let next_id = self.pool.next_container_id();
        let (mut pool, pool_effects) =
            ContainerPool::from_parts(self.pool.config().clone(), adoptable, now);
        // A new container never takes the id of one being removed.
        pool.reserve_container_ids_below(next_id);
        self.pool = pool;
        self.translate(pool_effects, now, &mut effects);
        for spec in waiting {
            effects.extend(self.handle(InvokerInput::Run(spec), now));
        }
        effects
    }

    fn on_executed(&mut self, executed: Executed, now: Millis, effects: &mut Vec<InvokerEffect>) {
        let Some(tracked) = self.activations.remove(&executed.activation) else {
            tracing::warn!(activation_id = %executed.activation, "execution report for an unknown activation");
            return;
        };
        let spec = activation_spec(&tracked.spec);
        let facts = ActivationFacts {
            accepted_at: tracked.spec.accepted_at,
            init: executed.init,
            run: executed.run,
            platform_error: executed.platform_error,
            logs: executed.logs,
            ended_at: now,
        };
        let system_error = facts.platform_error.is_some();
        let outcome = settle(&spec, facts);
        let input = if outcome.container_reusable && !executed.container_lost {
            PoolInput::RunFinished {
                container: executed.container,
                activation: executed.activation,
            }
        } else {
            PoolInput::ContainerFailed {
                container: executed.container,
                reason: format!("activation ended with {}", outcome.status.as_str()),
            }
        };
        effects.push(InvokerEffect::Complete {
            outcome: Box::new(outcome),
            system_error,
        });
        self.pool_step(input, now, effects);
    }

    fn pool_step(&mut self, input: PoolInput, now: Millis, effects: &mut Vec<InvokerEffect>) {
        let pool_effects = self.pool.handle(input, now);
        self.translate(pool_effects, now, effects);
    }

    fn translate(
        &mut self,
        pool_effects: Vec<PoolEffect>,
        now: Millis,
        effects: &mut Vec<InvokerEffect>,
    ) {
        for effect in pool_effects {
            match effect {
                PoolEffect::Create {
                    container,
                    kind,
                    memory_mb,
                    for_action,
                } => effects.push(InvokerEffect::Create {
                    container,
                    kind,
                    memory_mb,
                    for_action,
                }),
                PoolEffect::Init {
                    container,
                    activation,
                } => {
                    self.init_pending.insert((container, activation));
                }
                PoolEffect::Run {
                    container,
                    activation,
                } => {
                    let init = self.init_pending.remove(&(container, activation.clone()));
                    match self.activations.get_mut(&activation) {
                        Some(tracked) => {
                            tracked.executing = Some(container);
                            effects.push(InvokerEffect::Execute {
                                container,
                                activation,
                                init,
                            });
                        }
                        None => {
                            tracing::warn!(activation_id = %activation, "pool ran an unknown activation")
                        }
                    }
                }
                PoolEffect::Pause { container } => effects.push(InvokerEffect::Pause { container }),
                PoolEffect::Unpause { container } => {
                    effects.push(InvokerEffect::Unpause { container })
                }
                PoolEffect::Remove { container, reason } => {
                    effects.push(InvokerEffect::Remove { container, reason })
                }
                PoolEffect::Reject { activation, reason } => {
                    if let Some(tracked) = self.activations.remove(&activation) {
                        let outcome = if reason.is_developer_error() {
                            refused_init(&tracked.spec, &reason.to_string(), now)
                        } else {
                            lost(&tracked.spec, &reason.to_string(), now)
                        };
                        let system_error =
                            matches!(reason, RejectReason::ContainerCreateFailed { .. });
                        effects.push(InvokerEffect::Complete {
                            outcome: Box::new(outcome),
                            system_error,
                        });
                    }
                }
                PoolEffect::Lost {
                    activation,
                    container,
                } => {
                    // Its run already reported (or will report) through `Executed`; only an
                    // activation nobody will report on is ended here.
                    let executing_there = self
                        .activations
                        .get(&activation)
                        .is_some_and(|t| t.executing == Some(container));
                    if !executing_there {
                        if let Some(tracked) = self.activations.remove(&activation) {
                            let outcome = lost(
                                &tracked.spec,
                                "The container running the activation failed.",
                                now,
                            );
                            effects.push(InvokerEffect::Complete {
                                outcome: Box::new(outcome),
                                system_error: true,
                            });
                        }
                    }
                }
            }
        }
    }

    /// The pool, for metrics and tests.
    pub fn pool(&self) -> &ContainerPool {
        &self.pool
    }

    /// Activations accepted by this invoker and not yet complete.
    pub fn in_flight(&self) -> usize {
        self.activations.len()
    }
}

fn activation_spec(spec: &RunSpec) -> ActivationSpec {
    let mut activation = ActivationSpec::new(
        spec.activation.clone(),
        spec.path.clone(),
        spec.kind.clone(),
        spec.limits.clone(),
    );
    activation.max_result_bytes = spec.max_result_bytes;
    activation
}

/// The outcome of an activation that ended by a platform failure.
/// The outcome of an activation whose container could not be made for the action's own fault
/// (its image is missing): a developer error, as a failed init is.
fn refused_init(spec: &RunSpec, message: &str, now: Millis) -> ActivationOutcome {
    let facts = ActivationFacts {
        accepted_at: spec.accepted_at,
        init: Some(PhaseFacts {
            started: now,
            finished: now,
            result: InitResult::Failed {
                body: message.to_owned(),
            },
        }),
        run: None,
        platform_error: None,
        logs: Vec::new(),
        ended_at: now,
    };
    settle(&activation_spec(spec), facts)
}

fn lost(spec: &RunSpec, message: &str, now: Millis) -> ActivationOutcome {
    let facts = ActivationFacts {
        accepted_at: spec.accepted_at,
        init: None,
        run: None,
        platform_error: Some(message.to_owned()),
        logs: Vec::new(),
        ended_at: now,
    };
    settle(&activation_spec(spec), facts)
}

#[cfg(test)]
mod tests;
