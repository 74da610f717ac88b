//! One execution of an activation in a container: init (when the pool asked for it) then run,
//! through the [`ContainerDriver`], turned into the facts the invoker core settles.

use crate::convert;
use crate::core::ids::{ActivationId as CoreActivationId, ContainerId as CoreContainerId};
use crate::core::invoker::Executed;
use crate::core::lifecycle::{InitResult, PhaseFacts, RunResult};
use crate::core::time::Millis;
use bridge::bus::ActivationMessage;
use bridge::{
    ActionLimits as DriverLimits, ContainerDriver, ContainerId, DriverError, InitRequest, LogLine,
    RunFailure, RunRequest,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::{Clock, Exec};

/// The limits the driver enforces for an action: its log limit, and result bytes a little above
/// the platform's so the lifecycle can report the true size of an oversize answer.
pub fn driver_limits(message: &ActivationMessage, max_result_bytes: u64) -> DriverLimits {
    let limits = convert::run_limits(&message.action);
    DriverLimits {
        result_bytes: usize::try_from(max_result_bytes.saturating_mul(2)).unwrap_or(usize::MAX),
        log_bytes: usize::try_from(limits.log_limit_bytes()).unwrap_or(usize::MAX),
        concurrency: limits.concurrency,
    }
}

/// The init request for an action: its code (or command line), entry point and limits.
pub fn init_request(
    message: &ActivationMessage,
    max_result_bytes: u64,
) -> Result<InitRequest, String> {
    let (code, binary, main) = match &message.action.exec {
        Exec::Code {
            code, binary, main, ..
        } => (code.clone(), *binary, main.clone()),
        Exec::Blackbox {
            code, main, binary, ..
        } => (code.clone().unwrap_or_default(), *binary, main.clone()),
        Exec::Command { command } => (command.clone(), false, None),
        Exec::Sequence { .. } => return Err("a sequence is not run in a container".to_owned()),
    };
    Ok(InitRequest {
        name: convert::fully_qualified(&message.action),
        main: main.unwrap_or_else(|| "main".to_owned()),
        code,
        binary,
        env: convert::environment(&message.action),
        limits: driver_limits(message, max_result_bytes),
    })
}

fn millis(time: SystemTime) -> Millis {
    Millis(
        time.duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0),
    )
}

fn lines(logs: &[LogLine]) -> Vec<String> {
    logs.iter().map(ToString::to_string).collect()
}

/// The HTTP request an `exec` or image function answers, when the gateway put one in the
/// parameters (other kinds see the parameters as they are).
fn http_call(message: &ActivationMessage) -> Option<bridge::HttpRequestMeta> {
    match message.action.exec {
        Exec::Command { .. } | Exec::Blackbox { .. } => {
            bridge::HttpCall::from_params(message.params.as_str()).map(|call| call.to_meta())
        }
        _ => None,
    }
}

/// Everything one execution needs.
pub struct Execution {
    pub container: CoreContainerId,
    pub activation: CoreActivationId,
    pub message: Arc<ActivationMessage>,
    pub init: bool,
    pub max_result_bytes: u64,
}

/// Runs the init half; `Err` carries the finished `Executed` when the init failed.
pub async fn init(
    driver: &Arc<dyn ContainerDriver>,
    clock: &Arc<dyn Clock>,
    id: &ContainerId,
    execution: &Execution,
) -> Result<(Option<PhaseFacts<InitResult>>, Vec<String>), Box<Executed>> {
    let failed = |platform_error: Option<String>,
                  init: Option<PhaseFacts<InitResult>>,
                  logs: Vec<String>| {
        Box::new(Executed {
            container: execution.container,
            activation: execution.activation.clone(),
            init,
            run: None,
            platform_error,
            logs,
            container_lost: true,
        })
    };
    if !execution.init {
        return Ok((None, Vec::new()));
    }
    let request = init_request(&execution.message, execution.max_result_bytes)
        .map_err(|e| failed(Some(e), None, vec![]))?;
    let timeout = Duration::from_millis(execution.message.action.limits.timeout_ms);
    let started = Millis(clock.now_ms());
    let outcome = driver.init(id, request, timeout).await;
    let finished = Millis(clock.now_ms());
    let phase = |result| {
        Some(PhaseFacts {
            started,
            finished,
            result,
        })
    };
    match outcome {
        Ok(output) => Ok((phase(InitResult::Succeeded), lines(&output.logs))),
        Err(DriverError::InitFailed { message, logs, .. }) => Err(failed(
            None,
            phase(InitResult::Failed { body: message }),
            lines(&logs),
        )),
        Err(DriverError::InitTimedOut { logs, .. }) => {
            Err(failed(None, phase(InitResult::TimedOut), lines(&logs)))
        }
        Err(DriverError::InitCrashed { detail, logs, .. }) => Err(failed(
            None,
            phase(InitResult::Crashed { detail }),
            lines(&logs),
        )),
        Err(other) => Err(failed(
            Some(format!("init failed: {other}")),
            None,
            Vec::new(),
        )),
    }
}

/// Runs the run half and assembles the whole execution's facts.
pub async fn run(
    driver: &Arc<dyn ContainerDriver>,
    clock: &Arc<dyn Clock>,
    id: &ContainerId,
    execution: Execution,
    init: Option<PhaseFacts<InitResult>>,
    mut logs: Vec<String>,
) -> Executed {
    let message = &execution.message;
    let timeout_ms = message.action.limits.timeout_ms;
    let request = RunRequest {
        params: message.params.as_str().to_owned(),
        activation_id: message.activation_id.to_string(),
        transaction_id: message.transaction_id.clone(),
        namespace: message.action.namespace.clone(),
        action_name: convert::fully_qualified(&message.action),
        action_version: message.action.version.to_string(),
        deadline_ms: clock.now_ms().saturating_add(timeout_ms),
        api_key: message.api_key.clone(),
        extra: BTreeMap::new(),
        http: http_call(message),
    };
    let started = Millis(clock.now_ms());
    let outcome = driver
        .run(id, request, Duration::from_millis(timeout_ms))
        .await;
    let mut executed = Executed {
        container: execution.container,
        activation: execution.activation,
        init,
        run: None,
        platform_error: None,
        logs: Vec::new(),
        container_lost: false,
    };
    match outcome {
        Ok(output) => {
            let started = millis(output.started).max(started);
            let finished =
                started.plus(u64::try_from(output.duration.as_millis()).unwrap_or(u64::MAX));
            let result = match output.result {
                Ok(body) => RunResult::Responded { ok: true, body },
                Err(failure) => {
                    executed.container_lost = failure.container_lost();
                    match failure {
                        RunFailure::Timeout { .. } => RunResult::TimedOut,
                        RunFailure::OutOfMemory => RunResult::MemoryExhausted,
                        RunFailure::Crashed { detail } => RunResult::Crashed { detail },
                        RunFailure::BadOutput { detail } => RunResult::Responded {
                            ok: false,
                            body: detail,
                        },
                        RunFailure::ResultTooLarge { size, .. } => RunResult::TooLarge {
                            size: u64::try_from(size).unwrap_or(u64::MAX),
                            trunk: String::new(),
                        },
                        RunFailure::ExitStatus { code, output } => RunResult::Responded {
                            ok: true,
                            body: serde_json::json!({ "error": output, "exitCode": code })
                                .to_string(),
                        },
                    }
                }
            };
            logs.extend(lines(&output.logs));
            executed.run = Some(PhaseFacts {
                started,
                finished,
                result,
            });
        }
        Err(error) => {
            executed.container_lost = true;
            executed.platform_error = Some(format!("run failed: {error}"));
        }
    }
    executed.logs = logs;
    executed
}
