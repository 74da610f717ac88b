//! The `ContainerDriver` trait: how the invoker creates, initializes, runs, pauses and removes
//! action containers, whatever a container is (a local process group, a Docker container, a
//! simulated one). JSON stays text at this boundary.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::kind::RuntimeKind;
use crate::logs::LogLine;

/// A container's id, unique within its driver.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContainerId(pub String);

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What runs in a container: a runtime kind, or a user's image (blackbox actions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContainerImage {
    Runtime(RuntimeKind),
    Blackbox(String),
}

impl fmt::Display for ContainerImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContainerImage::Runtime(kind) => write!(f, "{kind}"),
            ContainerImage::Blackbox(image) => write!(f, "blackbox:{image}"),
        }
    }
}

/// What a container's network lets it reach (Docker driver; the process driver has no isolation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum NetworkAccess {
    /// Outbound connections through NAT (OpenWhisk's default): the bridge network `whirl-egress`,
    /// where containers cannot reach one another.
    #[default]
    Egress,
    /// No route out: runtime containers get no network at all; blackbox containers sit on the
    /// internal network `whirl-isolated`, where only the host can reach their port 8080.
    None,
}

/// Per-action isolation choices that must be made when the container is created (annotations
/// `network` = `none`|`bridge` and `read-only-root` = true).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Isolation {
    /// The network the action asked for; `None`: the driver's default (`--docker-network`).
    pub network: Option<NetworkAccess>,
    /// Mount the image's root file system read-only (a tmpfs stays writable at `/tmp`).
    pub read_only_root: bool,
}

impl Isolation {
    /// Appends the choices the action made to a kind name, so that containers (and stem cells) are
    /// only shared by actions that asked for the same isolation: `python:3;network=none`.
    pub fn qualify_kind(&self, kind: &str) -> String {
        let mut name = kind.to_owned();
        match self.network {
            Some(NetworkAccess::None) => name.push_str(";network=none"),
            Some(NetworkAccess::Egress) => name.push_str(";network=bridge"),
            None => {}
        }
        if self.read_only_root {
            name.push_str(";read-only-root");
        }
        name
    }

    /// Splits a name made by [`Isolation::qualify_kind`] back into the kind and the isolation.
    pub fn split_kind(qualified: &str) -> (&str, Isolation) {
        let mut parts = qualified.split(';');
        let kind = parts.next().unwrap_or_default();
        let mut isolation = Isolation::default();
        for part in parts {
            match part {
                "network=none" => isolation.network = Some(NetworkAccess::None),
                "network=bridge" => isolation.network = Some(NetworkAccess::Egress),
                "read-only-root" => isolation.read_only_root = true,
                _ => {}
            }
        }
        (kind, isolation)
    }
}

/// What to create. A created but not yet initialized container is a *stem cell*.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    pub image: ContainerImage,
    pub isolation: Isolation,
    /// The action's memory limit in MB.
    pub memory_mb: u32,
    /// Environment of the container's process (before the action's own `env` at init).
    pub env: BTreeMap<String, String>,
    /// Labels kept with the container, e.g. `whirl.instance` and `whirl.invoker`, so that a
    /// restarted invoker can find (and adopt or remove) the containers it owns.
    pub labels: BTreeMap<String, String>,
}

impl ContainerSpec {
    /// A spec for a runtime kind with no extra env or labels.
    pub fn runtime(kind: RuntimeKind, memory_mb: u32) -> Self {
        ContainerSpec {
            image: ContainerImage::Runtime(kind),
            isolation: Isolation::default(),
            memory_mb,
            env: BTreeMap::new(),
            labels: BTreeMap::new(),
        }
    }
}

/// Per-action limits that apply to a container once it is initialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionLimits {
    /// Largest result line accepted (OpenWhisk: 1 MB); for `exec`, the largest output.
    pub result_bytes: usize,
    /// Log bytes kept per activation before the cut (OpenWhisk default: 10 MB).
    pub log_bytes: usize,
    /// Activations the container runs at once (1 unless the kind supports more).
    pub concurrency: u32,
}

impl Default for ActionLimits {
    fn default() -> Self {
        ActionLimits {
            result_bytes: 1024 * 1024,
            log_bytes: 10 * 1024 * 1024,
            concurrency: 1,
        }
    }
}

/// The init of a container (OpenWhisk's `/init` value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitRequest {
    /// The action's fully qualified name (informational).
    pub name: String,
    /// The entry point, `main` by default.
    pub main: String,
    /// The source, or a base64 zip when `binary`; for `exec`, the command line.
    pub code: String,
    pub binary: bool,
    /// Environment the action sees from now on. For `exec`, also the watchdog options
    /// (`combine_output`, `fprocess`).
    pub env: BTreeMap<String, String>,
    pub limits: ActionLimits,
}

/// The HTTP request an `exec` action answers (OpenFaaS classic-watchdog semantics).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpRequestMeta {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    pub host: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The body written on stdin (raw bytes); when `None`, the run's `params` are written
    /// instead. With an HTTP request the run's result is an [`HttpAnswer`](crate::HttpAnswer)
    /// as JSON (status 200, the watchdog's `Content-Type`, stdout as the base64 body).
    pub body: Option<Vec<u8>>,
}

/// One activation to run (OpenWhisk's `/run` body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    /// The action's parameters: a JSON object, as text.
    pub params: String,
    pub activation_id: String,
    pub transaction_id: String,
    pub namespace: String,
    pub action_name: String,
    pub action_version: String,
    /// Epoch milliseconds after which the activation is over.
    pub deadline_ms: u64,
    pub api_key: Option<String>,
    /// More `__OW_*`-style fields, sent as keys of the run line (the launcher turns each
    /// key into `__OW_<KEY>`).
    pub extra: BTreeMap<String, String>,
    /// For `exec`: the HTTP request being answered.
    pub http: Option<HttpRequestMeta>,
}

/// Why an activation did not produce a usable result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunFailure {
    /// The run exceeded its timeout; the container was killed ("Killed process." for exec).
    Timeout { after: Duration },
    /// The container's process died during the run.
    Crashed { detail: String },
    /// The container ran out of memory and died.
    OutOfMemory,
    /// The answer was not a JSON object (launcher kinds only); the container lives on.
    BadOutput { detail: String },
    /// The answer exceeded `limits.result_bytes`; the container lives on (action kinds) or
    /// the command was killed (exec).
    ResultTooLarge { size: usize, limit: usize },
    /// `exec` only: the command exited with a non-zero status (or a signal); `output` is what
    /// it wrote.
    ExitStatus { code: Option<i32>, output: String },
}

impl RunFailure {
    /// True when the failure destroyed the container (the pool must forget it).
    pub fn container_lost(&self) -> bool {
        matches!(
            self,
            RunFailure::Timeout { .. } | RunFailure::Crashed { .. } | RunFailure::OutOfMemory
        )
    }
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFailure::Timeout { after } => write!(
                f,
                "The action exceeded its time limit of {} milliseconds.",
                after.as_millis()
            ),
            RunFailure::Crashed { detail } => {
                write!(f, "The action did not produce a valid response and exited unexpectedly: {detail}")
            }
            RunFailure::OutOfMemory => f.write_str("The action exhausted its memory and was aborted."),
            RunFailure::BadOutput { detail } => {
                write!(f, "The action did not produce a valid JSON response: {detail}")
            }
            RunFailure::ResultTooLarge { size, limit } => write!(
                f,
                "The action produced a response that exceeded the allowed length: {size} > {limit} bytes."
            ),
            RunFailure::ExitStatus { code: Some(code), .. } => write!(f, "exit status {code}"),
            RunFailure::ExitStatus { code: None, .. } => f.write_str("killed by a signal"),
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    /// The raw result line (a JSON object for launcher kinds; the stdout text for `exec`).
    pub result: std::result::Result<String, RunFailure>,
    /// The log lines of THIS activation (cut at the limit with a marker line).
    pub logs: Vec<LogLine>,
    pub logs_truncated: bool,
    pub started: SystemTime,
    pub duration: Duration,
}

/// What an init produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitOutput {
    pub logs: Vec<LogLine>,
    pub duration: Duration,
}

/// The state of a container a driver owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContainerState {
    /// Created, waiting for its init.
    Stem,
    /// Initialized, able to run.
    Ready,
    Paused,
}

/// A container a driver owns, as `list()` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub id: ContainerId,
    pub image: ContainerImage,
    pub memory_mb: u32,
    pub labels: BTreeMap<String, String>,
    pub state: ContainerState,
    /// The OS process group (process driver) if any.
    pub process_group: Option<i32>,
}

/// Creates and drives action containers. Object safe: used as `Arc<dyn ContainerDriver>`.
#[async_trait]
pub trait ContainerDriver: Send + Sync {
    /// The driver's name, for logs and errors (`process`, `docker`, `simulated`).
    fn name(&self) -> &'static str;

    /// The runtime kinds this driver can create.
    fn kinds(&self) -> Vec<RuntimeKind>;

    /// Creates a container (a stem cell until `init`).
    async fn create(&self, spec: ContainerSpec) -> Result<ContainerId>;

    /// Initializes a stem cell with the action's code. On a developer error the container
    /// is removed and the error carries the init's logs.
    async fn init(
        &self,
        id: &ContainerId,
        request: InitRequest,
        timeout: Duration,
    ) -> Result<InitOutput>;

    /// Runs one activation. Developer failures (timeout, crash, bad output) are in
    /// `RunOutput::result`; when `RunFailure::container_lost`, the container is already gone.
    async fn run(
        &self,
        id: &ContainerId,
        request: RunRequest,
        timeout: Duration,
    ) -> Result<RunOutput>;

    /// Freezes a ready container.
    async fn pause(&self, id: &ContainerId) -> Result<()>;

    /// Thaws a paused container.
    async fn unpause(&self, id: &ContainerId) -> Result<()>;

    /// Destroys a container; removing an unknown (already gone) container succeeds.
    async fn remove(&self, id: &ContainerId) -> Result<()>;

    /// The containers this driver owns (for adoption or cleanup after a restart).
    async fn list(&self) -> Result<Vec<ContainerInfo>>;
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn isolation_survives_the_kind_name() {
        for network in [None, Some(NetworkAccess::None), Some(NetworkAccess::Egress)] {
            for read_only_root in [false, true] {
                let isolation = Isolation {
                    network,
                    read_only_root,
                };
                let name = isolation.qualify_kind("python:3");
                assert_eq!(
                    Isolation::split_kind(&name),
                    ("python:3", isolation),
                    "{name}"
                );
            }
        }
        assert_eq!(Isolation::default().qualify_kind("exec"), "exec");
    }
}
