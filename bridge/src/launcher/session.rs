//! The init and run exchanges with a launcher, and how their answers become init errors or run
//! failures. Shared by every driver whose containers run the ActionLoop launchers.

use std::time::{Duration, Instant, SystemTime};

use crate::actionloop::{check_json_object, init_answer_error, init_line, run_line, INIT_KEY};
use crate::driver::{ActionLimits, ContainerId, InitRequest, RunFailure, RunOutput, RunRequest};
use crate::error::{DriverError, Result};
use crate::launcher::connection::{Answer, LauncherConnection};
use crate::logs::{LogLine, LogStream};

/// Sends the init line and waits for `{"ok":true}`; a developer error carries the init's logs.
/// On success the connection is set up for the action's limits and concurrency.
pub(crate) async fn init(
    conn: &LauncherConnection,
    id: &ContainerId,
    request: &InitRequest,
    timeout: Duration,
    log_grace: Duration,
) -> Result<Vec<LogLine>> {
    let limits = request.limits;
    conn.configure(limits.result_bytes, limits.log_bytes, false);
    let exchange = conn
        .exchange(
            INIT_KEY,
            Some(&init_line(request)),
            timeout,
            limits.log_bytes,
            log_grace,
        )
        .await;
    let logs = exchange.logs.into_lines();
    let failure = match exchange.answer {
        Some(Answer::Line(line)) => match init_answer_error(&line) {
            None => {
                conn.configure(
                    limits.result_bytes,
                    limits.log_bytes,
                    limits.concurrency > 1,
                );
                return Ok(logs);
            }
            Some(message) => DriverError::InitFailed {
                id: id.clone(),
                message,
                logs,
            },
        },
        Some(Answer::TooLarge { size }) => DriverError::InitFailed {
            id: id.clone(),
            message: format!("the init answer is too large ({size} bytes)"),
            logs,
        },
        Some(Answer::Closed) => DriverError::InitCrashed {
            id: id.clone(),
            detail: crash_detail(&logs),
            logs,
        },
        None => DriverError::InitTimedOut {
            id: id.clone(),
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            logs,
        },
    };
    Err(failure)
}

/// Sends one run line and waits for its answer and logs. When the result is a failure that
/// `RunFailure::container_lost`, the caller must destroy the container.
pub(crate) async fn run(
    conn: &LauncherConnection,
    id: &ContainerId,
    limits: &ActionLimits,
    request: &RunRequest,
    timeout: Duration,
    log_grace: Duration,
) -> Result<RunOutput> {
    let line = run_line(request).map_err(|e| DriverError::InvalidRequest {
        id: id.clone(),
        reason: e.to_string(),
    })?;
    let started = SystemTime::now();
    let clock = Instant::now();
    let exchange = conn
        .exchange(
            &request.activation_id,
            Some(&line),
            timeout,
            limits.log_bytes,
            log_grace,
        )
        .await;
    let duration = clock.elapsed();
    let logs_truncated = exchange.logs.truncated();
    let logs = exchange.logs.into_lines();
    let result = match exchange.answer {
        Some(Answer::Line(text)) => match check_json_object(&text) {
            Ok(()) => Ok(text),
            Err(detail) => Err(RunFailure::BadOutput { detail }),
        },
        Some(Answer::TooLarge { size }) => Err(RunFailure::ResultTooLarge {
            size,
            limit: limits.result_bytes,
        }),
        Some(Answer::Closed) if ran_out_of_memory(&logs) => Err(RunFailure::OutOfMemory),
        Some(Answer::Closed) => Err(RunFailure::Crashed {
            detail: crash_detail(&logs),
        }),
        None => Err(RunFailure::Timeout { after: timeout }),
    };
    Ok(RunOutput {
        result,
        logs,
        logs_truncated,
        started,
        duration,
    })
}

/// The last stderr line (where a dying interpreter says why), or a generic reason.
pub(crate) fn crash_detail(logs: &[LogLine]) -> String {
    logs.iter()
        .rev()
        .find(|line| line.stream == LogStream::Stderr && !line.message.trim().is_empty())
        .map(|line| line.message.clone())
        .unwrap_or_else(|| "the launcher exited".to_string())
}

/// Whether the interpreter said it ran out of memory before dying.
pub(crate) fn ran_out_of_memory(logs: &[LogLine]) -> bool {
    logs.iter().any(|line| {
        line.stream == LogStream::Stderr
            && (line.message.contains("JavaScript heap out of memory")
                || line.message.contains("the action ran out of memory"))
    })
}
