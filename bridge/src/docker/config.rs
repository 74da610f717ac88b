//! Configuration of the Docker driver: where it keeps per-container sockets, how it labels and
//! limits containers, and how many it creates at once.

use std::path::PathBuf;
use std::time::Duration;

use crate::driver::{ContainerSpec, NetworkAccess};

/// How the Docker driver runs containers.
#[derive(Debug, Clone)]
pub struct DockerDriverConfig {
    /// A directory on the host for per-container directories (bind-mounted at `/.whirl`, holding
    /// the launcher's unix socket). Must be on the same host as dockerd.
    pub runtime_dir: PathBuf,
    /// The `whirl.instance` label of every container this driver creates; containers of an
    /// earlier run with the same instance and invoker are removed at start.
    pub instance: String,
    /// The `whirl.invoker` label (one driver per invoker).
    pub invoker: String,
    /// Network of actions that do not choose one (annotation `network`).
    pub default_network: NetworkAccess,
    /// Containers created (and started) at once; the rest wait. Docker churn is where
    /// throughput collapses when every cold start hits dockerd at the same time.
    pub max_parallel_creates: usize,
    /// How long a new container has to start its launcher (or open port 8080).
    pub start_timeout: Duration,
    /// How long to wait for a run's log sentinels after its answer.
    pub log_grace: Duration,
    /// Processes (and threads) one container may have.
    pub pids_limit: i64,
    /// Open files one process may have (soft and hard `nofile`).
    pub nofile: i64,
    /// Size of the writable `/tmp` tmpfs of read-only containers, in MB.
    pub tmpfs_mb: u64,
}

impl DockerDriverConfig {
    /// The network a container of `spec` joins: the action's choice, else the default.
    pub fn network_of(&self, spec: &ContainerSpec) -> NetworkAccess {
        spec.isolation.network.unwrap_or(self.default_network)
    }

    /// Defaults for an invoker named `invoker` of instance `instance`.
    pub fn new(runtime_dir: PathBuf, instance: &str, invoker: &str) -> Self {
        DockerDriverConfig {
            runtime_dir,
            instance: instance.to_owned(),
            invoker: invoker.to_owned(),
            default_network: NetworkAccess::Egress,
            max_parallel_creates: 4,
            start_timeout: Duration::from_secs(20),
            log_grace: Duration::from_millis(500),
            pids_limit: 1024,
            nofile: 1024,
            tmpfs_mb: 64,
        }
    }
}
