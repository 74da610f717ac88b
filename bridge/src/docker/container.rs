//! One container the Docker driver owns: its Docker name, how the driver talks to it, its phase
//! (stem, ready, paused), the permits for concurrent runs, and whether its output stream ended
//! (the container died, or dockerd went away).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::sync::Semaphore;

use crate::docker::attach::CollectedLines;
use crate::docker::freezer::Freezer;
use crate::driver::{ActionLimits, ContainerSpec, ContainerState, InitRequest};
use crate::launcher::connection::LauncherConnection;
use crate::process::exec::ExecCommand;

/// How the driver reaches what runs in the container.
pub(crate) enum Channel {
    /// A launcher over the bind-mounted unix socket (logs split at sentinels).
    Launcher(LauncherConnection),
    /// HTTP on the container's port 8080 (logs collected as they come): OpenWhisk's `/init` and
    /// `/run`, or, for an OpenFaaS of-watchdog image in `http` mode (`watchdog`), no init and each
    /// request forwarded as it came.
    Http {
        addr: SocketAddr,
        logs: CollectedLines,
        watchdog: bool,
    },
    /// `docker exec` per run (the container's own output is kept apart from runs).
    Exec { fprocess: Option<String> },
}

/// The container once initialized: what the init set up, kept so that a container lost while
/// idle (dockerd restarted) can be replaced and initialized again before its next run.
pub(crate) struct Ready {
    pub limits: ActionLimits,
    pub exec: Option<ExecCommand>,
    pub init: InitRequest,
}

pub(crate) enum Phase {
    Stem,
    Initializing,
    Ready(Arc<Ready>),
    Paused(Arc<Ready>),
}

impl Phase {
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Stem => "a stem cell",
            Phase::Initializing => "initializing",
            Phase::Ready(_) => "ready",
            Phase::Paused(_) => "paused",
        }
    }

    pub fn state(&self) -> Option<ContainerState> {
        match self {
            Phase::Stem => Some(ContainerState::Stem),
            Phase::Initializing => None,
            Phase::Ready(_) => Some(ContainerState::Ready),
            Phase::Paused(_) => Some(ContainerState::Paused),
        }
    }
}

/// One Docker container (the body behind a driver `ContainerId`, which can be replaced).
pub(crate) struct DockerContainer {
    /// The Docker container name.
    pub name: String,
    pub spec: ContainerSpec,
    pub image: String,
    pub channel: Channel,
    /// The host directory mounted at `/.whirl`.
    pub host_dir: PathBuf,
    /// Set when the container's output stream ended.
    pub ended: Arc<AtomicBool>,
    /// The container's cgroup freezer, found at its first pause (`None` inside: not found,
    /// so pausing goes through Docker).
    pub freezer: OnceLock<Option<Freezer>>,
    /// Whether the freezer holds the container now (it must be thawed before removal).
    pub frozen: AtomicBool,
}

impl DockerContainer {
    /// Whether the container is known to be gone (its output ended or its launcher hung up).
    pub fn is_dead(&self) -> bool {
        self.ended.load(Ordering::Acquire)
            || matches!(&self.channel, Channel::Launcher(conn) if conn.is_closed())
    }
}

/// What the driver keeps per `ContainerId`.
pub(crate) struct Slot {
    body: Mutex<Arc<DockerContainer>>,
    phase: Mutex<Phase>,
    pub permits: Semaphore,
}

impl Slot {
    pub fn new(body: DockerContainer) -> Self {
        Slot {
            body: Mutex::new(Arc::new(body)),
            phase: Mutex::new(Phase::Stem),
            permits: Semaphore::new(0),
        }
    }

    pub fn body(&self) -> Arc<DockerContainer> {
        self.body.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts a fresh container behind this slot; returns the old one.
    pub fn replace(&self, body: DockerContainer) -> Arc<DockerContainer> {
        let mut current = self.body.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *current, Arc::new(body))
    }

    pub fn phase(&self) -> MutexGuard<'_, Phase> {
        // A poisoned lock only means a panic elsewhere mid-update; the phase is still usable.
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }
}
