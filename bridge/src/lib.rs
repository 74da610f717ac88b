//! Whirl's bridge to the outside world, container side: the [`ContainerDriver`] trait the
//! invoker drives containers through, the process driver (local process groups running the
//! ActionLoop launchers of `deploy/runtimes/`, a Python zygote, prewarmed Node.js stem cells,
//! and the `exec` kind), activation log lines, and the warm round-trip baseline.

pub mod actionloop;
pub mod baseline;
pub mod bus;
pub mod docker;
pub mod driver;
pub mod error;
pub mod http_answer;
pub mod http_call;
pub mod idle_policy;
pub mod kind;
mod launcher;
pub mod logs;
pub mod process;

pub use driver::{
    ActionLimits, ContainerDriver, ContainerId, ContainerImage, ContainerInfo, ContainerSpec,
    ContainerState, HttpRequestMeta, InitOutput, InitRequest, Isolation, NetworkAccess, RunFailure,
    RunOutput, RunRequest,
};
pub use error::{DriverError, Result};
pub use http_answer::HttpAnswer;
pub use http_call::{HttpCall, HTTP_CALL_PARAM};
pub use idle_policy::IdlePolicy;
pub use kind::{RuntimeKind, UnknownKind};
pub use logs::{format_rfc3339_nanos, ActivationLogs, LogLine, LogStream};
pub use process::{ProcessDriver, ProcessDriverConfig, StemCellConfig, KILLED_PROCESS};
