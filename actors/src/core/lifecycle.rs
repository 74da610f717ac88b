//! The activation lifecycle core: follows one activation through init and run under its time limit
//! and turns what happened into its final status, result, logs and annotations.
//!
//! [`ActivationLifecycle`] is the state machine a host drives with [`LifecycleInput`]s; it validates
//! the order of events, computes deadlines and settles exactly once. [`settle`] is the pure function
//! underneath, usable on its own when all the facts are known.
//!
//! Phases: `Waiting` (accepted, no container yet) → `Initializing` (cold or prewarm start only) →
//! `Initialized` → `Running` → `Settled`; `PlatformFailed` settles from any phase, a failed or late
//! init settles from `Initializing`, and a `Tick` at or after the deadline settles the running phase
//! as timed out. A result that arrives at or after its deadline counts as a timeout too.

mod logs;
pub mod messages;
mod outcome;
mod response;
mod status;

pub use logs::limit_logs;
pub use outcome::{
    settle, ActivationAnnotations, ActivationFacts, ActivationOutcome, ActivationSpec,
    AnnotationValue, PhaseFacts, TimeoutScope, NEVER_RAN,
};
pub use response::{InitResult, RunResult};
pub use status::ActivationStatus;

use crate::core::ids::ActivationId;
use crate::core::time::Millis;
use serde::{Deserialize, Serialize};

/// Where an activation is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LifecyclePhase {
    /// Accepted, waiting for a container.
    Waiting,
    /// Its container is loading the action.
    Initializing,
    /// The action is loaded; the run has not started yet.
    Initialized,
    /// Running.
    Running,
    /// Ended; the outcome is known.
    Settled,
}

/// Which phase a deadline guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimedPhase {
    /// The init.
    Init,
    /// The run.
    Run,
}

/// What the host reports about an activation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LifecycleInput {
    /// The container started loading the action (the pool emitted `Init`).
    InitStarted,
    /// The init ended, with the log lines it wrote.
    InitFinished {
        /// How it ended.
        result: InitResult,
        /// Its log lines.
        logs: Vec<String>,
    },
    /// The run started (the pool emitted `Run` and the host sent it).
    RunStarted,
    /// The run ended, with the log lines it wrote.
    RunFinished {
        /// How it ended.
        result: RunResult,
        /// Its log lines.
        logs: Vec<String>,
    },
    /// The platform failed the activation (no container could be made, the invoker was lost...).
    PlatformFailed {
        /// The message for the result's `error` field.
        message: String,
    },
    /// Time passed: a phase still running at or after its deadline has timed out.
    Tick,
}

/// What the lifecycle asks of its host.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LifecycleEffect {
    /// A phase started: give up on it at `at` (send `Tick` then, or report the phase `TimedOut`).
    ArmDeadline {
        /// The phase.
        phase: TimedPhase,
        /// Its deadline.
        at: Millis,
    },
    /// The deadline passed while the phase ran: destroy the container (report `ContainerFailed` to
    /// the pool). A `Settled` with the timeout outcome follows.
    AbortContainer {
        /// The phase that hung.
        phase: TimedPhase,
    },
    /// The activation ended; record this outcome (exactly once).
    Settled(Box<ActivationOutcome>),
}

/// An input the lifecycle's phase does not allow (a host bug: events out of order).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[error("activation {activation}: {input} is not expected while {phase:?}")]
pub struct LifecycleError {
    /// The activation.
    pub activation: ActivationId,
    /// Its phase when the input came.
    pub phase: LifecyclePhase,
    /// The input's name.
    pub input: String,
}

/// One activation's lifecycle.
#[derive(Clone, Debug)]
pub struct ActivationLifecycle {
    spec: ActivationSpec,
    accepted_at: Millis,
    phase: LifecyclePhase,
    init_started: Option<Millis>,
    init: Option<PhaseFacts<InitResult>>,
    run_started: Option<Millis>,
    deadline: Option<Millis>,
    logs: Vec<String>,
    outcome: Option<ActivationOutcome>,
}

fn input_name(input: &LifecycleInput) -> &'static str {
    match input {
        LifecycleInput::InitStarted => "InitStarted",
        LifecycleInput::InitFinished { .. } => "InitFinished",
        LifecycleInput::RunStarted => "RunStarted",
        LifecycleInput::RunFinished { .. } => "RunFinished",
        LifecycleInput::PlatformFailed { .. } => "PlatformFailed",
        LifecycleInput::Tick => "Tick",
    }
}

impl ActivationLifecycle {
    /// A lifecycle for an activation the controller accepted at `accepted_at`.
    pub fn accepted(spec: ActivationSpec, accepted_at: Millis) -> Self {
        ActivationLifecycle {
            spec,
            accepted_at,
            phase: LifecyclePhase::Waiting,
            init_started: None,
            init: None,
            run_started: None,
            deadline: None,
            logs: Vec::new(),
            outcome: None,
        }
    }

    /// Applies one input at `now`. Inputs after the activation settled are ignored (a late report
    /// racing a timeout); inputs out of order are refused with [`LifecycleError`].
    pub fn handle(
        &mut self,
        input: LifecycleInput,
        now: Millis,
    ) -> Result<Vec<LifecycleEffect>, LifecycleError> {
        if self.phase == LifecyclePhase::Settled {
            tracing::debug!(activation_id = %self.spec.activation, input = input_name(&input),
                "input after the activation settled; ignored");
            return Ok(Vec::new());
        }
        let name = input_name(&input);
        match (self.phase, input) {
            (phase, LifecycleInput::PlatformFailed { message }) => {
                // Keep the phase that was under way so `start` and `waitTime` stay true; the
                // platform error decides the status.
                let interrupted = || InitResult::Crashed {
                    detail: message.clone(),
                };
                if let (LifecyclePhase::Initializing, Some(started)) = (phase, self.init_started) {
                    self.init = Some(PhaseFacts {
                        started,
                        finished: now,
                        result: interrupted(),
                    });
                }
                let run = match (phase, self.run_started) {
                    (LifecyclePhase::Running, Some(started)) => Some(PhaseFacts {
                        started,
                        finished: now,
                        result: RunResult::Crashed {
                            detail: message.clone(),
                        },
                    }),
                    _ => None,
                };
                let facts = self.facts(run, Some(message), now);
                Ok(vec![self.settle_with(facts)])
            }
            (LifecyclePhase::Waiting, LifecycleInput::InitStarted) => {
                self.phase = LifecyclePhase::Initializing;
                self.init_started = Some(now);
                let at = now.plus(self.spec.limits.timeout_ms);
                self.deadline = Some(at);
                Ok(vec![LifecycleEffect::ArmDeadline {
                    phase: TimedPhase::Init,
                    at,
                }])
            }
            (LifecyclePhase::Initializing, LifecycleInput::InitFinished { result, logs }) => {
                self.logs.extend(logs);
                let late = self.deadline.is_some_and(|d| now >= d);
                let result = if late { InitResult::TimedOut } else { result };
                let started = self.init_started.unwrap_or(now);
                let succeeded = result == InitResult::Succeeded;
                self.init = Some(PhaseFacts {
                    started,
                    finished: now,
                    result,
                });
                if succeeded {
                    self.phase = LifecyclePhase::Initialized;
                    self.deadline = None;
                    Ok(Vec::new())
                } else {
                    let facts = self.facts(None, None, now);
                    Ok(vec![self.settle_with(facts)])
                }
            }
            (LifecyclePhase::Waiting | LifecyclePhase::Initialized, LifecycleInput::RunStarted) => {
                self.phase = LifecyclePhase::Running;
                self.run_started = Some(now);
                let at = match (self.spec.timeout_scope, self.init_started) {
                    (TimeoutScope::Shared, Some(init_started)) => {
                        init_started.plus(self.spec.limits.timeout_ms)
                    }
                    _ => now.plus(self.spec.limits.timeout_ms),
                };
                self.deadline = Some(at);
                Ok(vec![LifecycleEffect::ArmDeadline {
                    phase: TimedPhase::Run,
                    at,
                }])
            }
            (LifecyclePhase::Running, LifecycleInput::RunFinished { result, logs }) => {
                self.logs.extend(logs);
                let late = self.deadline.is_some_and(|d| now >= d);
                let result = if late { RunResult::TimedOut } else { result };
                let run = PhaseFacts {
                    started: self.run_started.unwrap_or(now),
                    finished: now,
                    result,
                };
                let facts = self.facts(Some(run), None, now);
                Ok(vec![self.settle_with(facts)])
            }
            (
                phase @ (LifecyclePhase::Initializing | LifecyclePhase::Running),
                LifecycleInput::Tick,
            ) => match self.deadline {
                Some(deadline) if now >= deadline => {
                    tracing::info!(activation_id = %self.spec.activation, ?phase, "activation timed out");
                    let (timed, facts) = if phase == LifecyclePhase::Initializing {
                        self.init = Some(PhaseFacts {
                            started: self.init_started.unwrap_or(now),
                            finished: now,
                            result: InitResult::TimedOut,
                        });
                        (TimedPhase::Init, self.facts(None, None, now))
                    } else {
                        let run = PhaseFacts {
                            started: self.run_started.unwrap_or(now),
                            finished: now,
                            result: RunResult::TimedOut,
                        };
                        (TimedPhase::Run, self.facts(Some(run), None, now))
                    };
                    Ok(vec![
                        LifecycleEffect::AbortContainer { phase: timed },
                        self.settle_with(facts),
                    ])
                }
                _ => Ok(Vec::new()),
            },
            (_, LifecycleInput::Tick) => Ok(Vec::new()),
            (phase, _) => Err(LifecycleError {
                activation: self.spec.activation.clone(),
                phase,
                input: name.to_string(),
            }),
        }
    }

    fn facts(
        &mut self,
        run: Option<PhaseFacts<RunResult>>,
        platform_error: Option<String>,
        now: Millis,
    ) -> ActivationFacts {
        ActivationFacts {
            accepted_at: self.accepted_at,
            init: self.init.clone(),
            run,
            platform_error,
            logs: std::mem::take(&mut self.logs),
            ended_at: now,
        }
    }

    fn settle_with(&mut self, facts: ActivationFacts) -> LifecycleEffect {
        let outcome = settle(&self.spec, facts);
        tracing::debug!(activation_id = %self.spec.activation, status = %outcome.status, "activation settled");
        self.phase = LifecyclePhase::Settled;
        self.deadline = None;
        self.outcome = Some(outcome.clone());
        LifecycleEffect::Settled(Box::new(outcome))
    }

    /// The current phase.
    pub fn phase(&self) -> LifecyclePhase {
        self.phase
    }

    /// The deadline of the running phase, if one runs.
    pub fn deadline(&self) -> Option<Millis> {
        self.deadline
    }

    /// The outcome, once settled.
    pub fn outcome(&self) -> Option<&ActivationOutcome> {
        self.outcome.as_ref()
    }

    /// The activation's spec.
    pub fn spec(&self) -> &ActivationSpec {
        &self.spec
    }
}

#[cfg(test)]
mod tests;
