//! The crate's error type: what went wrong with a container, told apart as the action
//! developer's fault (bad code, failed init) or the platform's (cannot spawn, I/O).

use crate::driver::ContainerId;
use crate::logs::LogLine;

/// Errors of the container drivers.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The action's init failed (syntax error, missing main, bad zip...): a developer error.
    /// The container is gone; `logs` holds what the init wrote.
    #[error("init of container {id} failed: {message}")]
    InitFailed {
        id: ContainerId,
        message: String,
        logs: Vec<LogLine>,
    },
    /// The init did not answer within its timeout: a developer error. The container is gone.
    #[error("init of container {id} timed out after {timeout_ms} ms")]
    InitTimedOut {
        id: ContainerId,
        timeout_ms: u64,
        logs: Vec<LogLine>,
    },
    /// The container's process ended during init: a developer error. The container is gone.
    #[error("container {id} exited during init: {detail}")]
    InitCrashed {
        id: ContainerId,
        detail: String,
        logs: Vec<LogLine>,
    },
    /// The request names a container this driver does not own (or that is gone).
    #[error("unknown container {0}")]
    UnknownContainer(ContainerId),
    /// The container is in the wrong state for the request (e.g. run before init, init twice,
    /// run while paused).
    #[error("container {id} cannot {operation}: it is {state}")]
    WrongState {
        id: ContainerId,
        operation: &'static str,
        state: &'static str,
    },
    /// This driver cannot run the requested kind or image.
    #[error("unsupported by the {driver} driver: {what}")]
    Unsupported { driver: &'static str, what: String },
    /// The request itself is invalid (e.g. concurrency above what the kind supports).
    #[error("invalid request for container {id}: {reason}")]
    InvalidRequest { id: ContainerId, reason: String },
    /// A process could not be started: a platform error.
    #[error("cannot spawn {what}: {source}")]
    Spawn {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The Python fork server misbehaved: a platform error.
    #[error("python zygote: {0}")]
    Zygote(String),
    /// The Docker daemon refused or failed a request: a platform error.
    #[error("docker: {context}: {message}")]
    Docker { context: String, message: String },
    /// The action's image does not exist on this host (and no registry is reachable): a
    /// developer error naming the image.
    #[error("the image '{image}' is not available on this host: {reason}")]
    ImageUnavailable { image: String, reason: String },
    /// Any other I/O failure talking to a container or writing runtime files: a platform error.
    #[error("i/o error {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl DriverError {
    /// True when the action's code is to blame ("action developer error"); false for
    /// platform errors ("whisk internal error") and misuse of the driver.
    pub fn is_developer_error(&self) -> bool {
        matches!(
            self,
            DriverError::InitFailed { .. }
                | DriverError::InitTimedOut { .. }
                | DriverError::InitCrashed { .. }
                | DriverError::ImageUnavailable { .. }
        )
    }

    /// The log lines the failed init wrote, if any.
    pub fn logs(&self) -> &[LogLine] {
        match self {
            DriverError::InitFailed { logs, .. }
            | DriverError::InitTimedOut { logs, .. }
            | DriverError::InitCrashed { logs, .. } => logs,
            _ => &[],
        }
    }

    pub(crate) fn docker(context: impl Into<String>, error: bollard::errors::Error) -> Self {
        DriverError::Docker {
            context: context.into(),
            message: error.to_string(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        DriverError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result with [`DriverError`] by default.
pub type Result<T, E = DriverError> = std::result::Result<T, E>;
