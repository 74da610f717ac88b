//! What one activation is (its spec), what happened to it (its facts) and how it ended (its
//! outcome), and the pure function [`settle`] from facts to outcome.

use crate::core::action::{ActionLimits, Kind};
use crate::core::ids::ActivationId;
use crate::core::lifecycle::logs::limit_logs;
use crate::core::lifecycle::response::{
    error_object, process_init, process_run, InitResult, ProcessedResponse, RunResult,
};
use crate::core::lifecycle::status::ActivationStatus;
use crate::core::time::Millis;
use serde::{Deserialize, Serialize};

/// How the action's timeout applies to init and run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeoutScope {
    /// Init and run each get the whole timeout (what OpenWhisk's invoker does).
    #[default]
    PerPhase,
    /// Init and run share one budget counted from the start of init.
    Shared,
}

/// The fixed facts of one activation, known when it is accepted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActivationSpec {
    /// The activation.
    pub activation: ActivationId,
    /// The fully qualified action name for the `path` annotation (e.g. `guest/pkg/hello`).
    pub path: String,
    /// The runtime kind for the `kind` annotation.
    pub kind: Kind,
    /// The action's limits (timeout, log limit; echoed in the `limits` annotation).
    pub limits: ActionLimits,
    /// Largest accepted result in bytes (OpenWhisk: 1 MB = 1 048 576).
    pub max_result_bytes: u64,
    /// How the timeout covers init and run.
    pub timeout_scope: TimeoutScope,
}

impl ActivationSpec {
    /// A spec with OpenWhisk's result limit (1 MB) and per-phase timeouts.
    pub fn new(
        activation: ActivationId,
        path: impl Into<String>,
        kind: Kind,
        limits: ActionLimits,
    ) -> Self {
        ActivationSpec {
            activation,
            path: path.into(),
            kind,
            limits,
            max_result_bytes: 1024 * 1024,
            timeout_scope: TimeoutScope::PerPhase,
        }
    }
}

/// When one phase (init or run) started and ended, and how.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PhaseFacts<R> {
    /// When the phase started.
    pub started: Millis,
    /// When it ended.
    pub finished: Millis,
    /// How it ended.
    pub result: R,
}

/// Everything that happened to one activation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActivationFacts {
    /// When the controller accepted the invocation.
    pub accepted_at: Millis,
    /// The init, when this activation initialized its container (a cold or prewarm start).
    pub init: Option<PhaseFacts<InitResult>>,
    /// The run, when it got that far.
    pub run: Option<PhaseFacts<RunResult>>,
    /// A platform failure, which overrides everything else.
    pub platform_error: Option<String>,
    /// The log lines of init and run, in order.
    pub logs: Vec<String>,
    /// When the activation ended (used when no phase ran).
    pub ended_at: Millis,
}

/// The annotations OpenWhisk puts on an activation record.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActivationAnnotations {
    /// `path`: the fully qualified action name.
    pub path: String,
    /// `kind`: the runtime kind.
    pub kind: Kind,
    /// `limits`: the action's limits.
    pub limits: ActionLimits,
    /// `timeout`: whether init or run hit the time limit.
    pub timeout: bool,
    /// `waitTime`: milliseconds from acceptance to the start of init (cold) or run (warm).
    pub wait_time_ms: u64,
    /// `initTime`: milliseconds the init took; only when this activation initialized its container.
    pub init_time_ms: Option<u64>,
}

/// One annotation's value, typed, so a record can be written without building JSON values
/// (`actors::annotation_list` writes them; `limits` as OpenWhisk renders it,
/// `{"concurrency":1,"logs":10,"memory":256,"timeout":60000}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnotationValue<'a> {
    Text(&'a str),
    Number(u64),
    Flag(bool),
    Limits(&'a ActionLimits),
}

impl ActivationAnnotations {
    /// The annotations as OpenWhisk's key/value pairs, in OpenWhisk's order (`limits`, `path`,
    /// `kind`, `timeout`, then `initTime` when present, then `waitTime`).
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, AnnotationValue<'_>)> {
        [
            Some(("limits", AnnotationValue::Limits(&self.limits))),
            Some(("path", AnnotationValue::Text(&self.path))),
            Some(("kind", AnnotationValue::Text(&self.kind.0))),
            Some(("timeout", AnnotationValue::Flag(self.timeout))),
            self.init_time_ms
                .map(|init| ("initTime", AnnotationValue::Number(init))),
            Some(("waitTime", AnnotationValue::Number(self.wait_time_ms))),
        ]
        .into_iter()
        .flatten()
    }
}

/// How one activation ended: everything the activation record needs from the invocation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ActivationOutcome {
    /// The activation.
    pub activation: ActivationId,
    /// Its status.
    pub status: ActivationStatus,
    /// `response.result` as JSON text (always a JSON object).
    pub result: String,
    /// `response.size`: bytes of the runtime's raw answer, when there was one.
    pub result_size: Option<u64>,
    /// The log lines, limited to the action's log limit (the marker line last when truncated).
    pub logs: Vec<String>,
    /// Whether the logs were truncated.
    pub logs_truncated: bool,
    /// `start`: start of init (cold) or run (warm); the end time when neither ran.
    pub start: Millis,
    /// `end`: when the last phase ended.
    pub end: Millis,
    /// `duration`: `end - start` in milliseconds (includes init on a cold start, like OpenWhisk).
    pub duration_ms: u64,
    /// The record's annotations.
    pub annotations: ActivationAnnotations,
    /// Whether the container may serve another activation: only after a success or an application
    /// error (the host then reports `RunFinished` to the pool, otherwise `ContainerFailed`).
    pub container_reusable: bool,
}

/// The whisk internal error of an activation that ended without a platform error and without running.
pub const NEVER_RAN: &str = "The activation ended before it ran.";

fn whisk_error(message: &str) -> ProcessedResponse {
    ProcessedResponse {
        status: ActivationStatus::WhiskError,
        result: error_object(serde_json::Value::String(message.to_string())),
        size: None,
        timed_out: false,
    }
}

/// Decides how an activation ended from what happened to it. Pure: the same facts always give the
/// same outcome. Precedence: a platform error, then a failed init, then the run; with none of them
/// the activation ended without running, which is a whisk internal error.
pub fn settle(spec: &ActivationSpec, facts: ActivationFacts) -> ActivationOutcome {
    let max = spec.max_result_bytes;
    let timeout_ms = spec.limits.timeout_ms;
    let processed = if let Some(message) = &facts.platform_error {
        whisk_error(message)
    } else if let Some(failed) = facts
        .init
        .as_ref()
        .and_then(|init| process_init(&init.result, max, timeout_ms))
    {
        failed
    } else if let Some(run) = &facts.run {
        process_run(&run.result, max, timeout_ms)
    } else {
        whisk_error(NEVER_RAN)
    };
    let start = facts
        .init
        .as_ref()
        .map(|i| i.started)
        .or(facts.run.as_ref().map(|r| r.started))
        .unwrap_or(facts.ended_at);
    let end = facts
        .run
        .as_ref()
        .map(|r| r.finished)
        .or(facts.init.as_ref().map(|i| i.finished))
        .unwrap_or(facts.ended_at)
        .max(start);
    let end = if facts.platform_error.is_some() {
        facts.ended_at.max(start)
    } else {
        end
    };
    let (logs, logs_truncated) = limit_logs(facts.logs, spec.limits.log_limit_bytes());
    let container_reusable = matches!(
        processed.status,
        ActivationStatus::Success | ActivationStatus::ApplicationError
    );
    ActivationOutcome {
        activation: spec.activation.clone(),
        status: processed.status,
        result: processed.result,
        result_size: processed.size,
        logs,
        logs_truncated,
        start,
        end,
        duration_ms: end.since(start),
        annotations: ActivationAnnotations {
            path: spec.path.clone(),
            kind: spec.kind.clone(),
            limits: spec.limits.clone(),
            timeout: processed.timed_out,
            wait_time_ms: start.since(facts.accepted_at),
            init_time_ms: facts.init.as_ref().map(|i| i.finished.since(i.started)),
        },
        container_reusable,
    }
}
