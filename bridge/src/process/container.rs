//! A process "container": a launcher process group (or, for `exec`, just the command to
//! fork per request), its lifecycle phase, and the signals that pause, thaw and kill it. The
//! launcher can be swapped for a fresh one (initialized the same way) when it died between
//! runs, so the container id outlives the process.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rustix::process::{kill_process_group, Pid, Signal};
use tokio::sync::Semaphore;

use crate::driver::{
    ActionLimits, ContainerId, ContainerInfo, ContainerSpec, ContainerState, InitRequest,
};
use crate::kind::RuntimeKind;
use crate::launcher::connection::LauncherConnection;
use crate::process::exec::ExecCommand;

/// A started launcher: its connection and its process group. Dropping it kills the group
/// and deletes its work directory.
pub(crate) struct LauncherProcess {
    pub id: ContainerId,
    pub conn: LauncherConnection,
    pub pgid: Option<Pid>,
    pub work_dir: PathBuf,
}

impl LauncherProcess {
    pub fn signal(&self, signal: Signal) -> std::io::Result<()> {
        match self.pgid {
            Some(pgid) => kill_process_group(pgid, signal).map_err(std::io::Error::from),
            None => Ok(()),
        }
    }

    /// Kills the whole process group (the launcher and anything the action started).
    pub fn kill(&self) {
        // Thaw first so a paused group dies at once; errors mean the group is already gone.
        let _ = self.signal(Signal::CONT);
        if let Err(err) = self.signal(Signal::KILL) {
            tracing::trace!(container = %self.id, error = %err, "process group already gone");
        }
    }
}

impl Drop for LauncherProcess {
    fn drop(&mut self) {
        self.kill();
        if let Err(err) = std::fs::remove_dir_all(&self.work_dir) {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(container = %self.id, error = %err, "cannot remove the work directory");
            }
        }
    }
}

/// What a container runs.
pub(crate) enum Body {
    Launcher(Mutex<Arc<LauncherProcess>>),
    Exec,
}

impl Body {
    pub fn launcher(process: LauncherProcess) -> Self {
        Body::Launcher(Mutex::new(Arc::new(process)))
    }
}

/// Where a container is in its life.
#[derive(Clone)]
pub(crate) enum Phase {
    Stem,
    Initializing,
    Ready(Arc<Initialized>),
    Paused(Arc<Initialized>),
    Gone,
}

impl Phase {
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Stem => "a stem cell",
            Phase::Initializing => "initializing",
            Phase::Ready(_) => "ready",
            Phase::Paused(_) => "paused",
            Phase::Gone => "gone",
        }
    }
}

/// What an init fixed for the rest of the container's life.
pub(crate) struct Initialized {
    pub limits: ActionLimits,
    pub exec: Option<ExecCommand>,
    /// A launcher's init, kept to initialize a replacement the same way.
    pub init: Option<(InitRequest, Duration)>,
}

/// One container the process driver owns.
pub(crate) struct Container {
    pub id: ContainerId,
    pub kind: RuntimeKind,
    pub spec: ContainerSpec,
    pub body: Body,
    phase: Mutex<Phase>,
    /// One permit per activation allowed in flight (granted at init).
    pub permits: Semaphore,
    /// Held while a dead launcher is replaced, so concurrent runs replace it once.
    pub replacing: tokio::sync::Mutex<()>,
}

impl Container {
    pub fn new(id: ContainerId, kind: RuntimeKind, spec: ContainerSpec, body: Body) -> Self {
        Container {
            id,
            kind,
            spec,
            body,
            phase: Mutex::new(Phase::Stem),
            permits: Semaphore::new(0),
            replacing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn phase(&self) -> MutexGuard<'_, Phase> {
        // A poisoned lock only means a panic elsewhere mid-update; the phase is still readable.
        self.phase
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The launcher running now (`None` for `exec`).
    pub fn launcher(&self) -> Option<Arc<LauncherProcess>> {
        match &self.body {
            Body::Launcher(current) => Some(Arc::clone(
                &current
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            )),
            Body::Exec => None,
        }
    }

    /// Puts `fresh` in place of the launcher and kills what is left of the old one's process
    /// group (its work directory goes once nothing holds it).
    pub fn replace_launcher(&self, fresh: LauncherProcess) {
        if let Body::Launcher(current) = &self.body {
            let old = std::mem::replace(
                &mut *current
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
                Arc::new(fresh),
            );
            old.kill();
        }
    }

    /// Marks the container gone and kills its processes.
    pub fn destroy(&self) {
        *self.phase() = Phase::Gone;
        self.permits.close();
        if let Some(process) = self.launcher() {
            process.kill();
        }
    }

    pub fn info(&self) -> Option<ContainerInfo> {
        let state = match &*self.phase() {
            Phase::Stem | Phase::Initializing => ContainerState::Stem,
            Phase::Ready(_) => ContainerState::Ready,
            Phase::Paused(_) => ContainerState::Paused,
            Phase::Gone => return None,
        };
        Some(ContainerInfo {
            id: self.id.clone(),
            image: self.spec.image.clone(),
            memory_mb: self.spec.memory_mb,
            labels: self.spec.labels.clone(),
            state,
            process_group: self
                .launcher()
                .and_then(|p| p.pgid)
                .map(|pid| pid.as_raw_nonzero().get()),
        })
    }
}
