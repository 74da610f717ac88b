//! The process driver, Whirl's embedded default: a container is a process group running a
//! launcher that speaks ActionLoop (python:3 forked from a zygote, nodejs:20 from prewarmed
//! stem cells), or for `exec` a command forked per request.

mod config;
mod container;
pub(crate) mod exec;
mod interpreters;
pub(crate) mod runtime_dir;
mod spawn;
mod starter;
mod stem_cells;
mod zygote;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use rustix::process::Signal;

pub use config::{ProcessDriverConfig, StemCellConfig};
pub use exec::KILLED_PROCESS;

use crate::driver::{
    ContainerDriver, ContainerId, ContainerImage, ContainerInfo, ContainerSpec, InitOutput,
    InitRequest, RunOutput, RunRequest,
};
use crate::error::{DriverError, Result};
use crate::kind::RuntimeKind;
use crate::launcher::session;
use crate::logs::LogLine;

use container::{Body, Container, Initialized, Phase};
use exec::ExecCommand;
use runtime_dir::RuntimeFiles;
use starter::{base_env, LauncherStarter};
use stem_cells::StemCells;
use zygote::{Zygote, ZygoteCommand};

const DRIVER: &str = "process";

/// Runs containers as local process groups. Cheap to clone; all clones share the containers.
#[derive(Clone)]
pub struct ProcessDriver {
    inner: Arc<Inner>,
}

struct Inner {
    starter: Arc<LauncherStarter>,
    stem_cells: Arc<StemCells>,
    containers: Mutex<HashMap<ContainerId, Arc<Container>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let containers = self
            .containers
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for container in containers.values() {
            container.destroy();
        }
    }
}

impl ProcessDriver {
    /// Writes the launchers, starts the Python zygote (if enabled) and the stem cells, and
    /// waits until they are all up. Must be called inside a tokio runtime.
    pub async fn start(mut config: ProcessDriverConfig) -> Result<Self> {
        let files = RuntimeFiles::write(&config.runtime_dir)?;
        (config.python, config.node) = tokio::join!(
            interpreters::real_python(&config.python),
            interpreters::real_node(&config.node)
        );
        tracing::info!(
            python = %config.python.display(),
            node = %config.node.display(),
            zygote = config.python_zygote,
            "process driver starting"
        );
        let zygote = if config.python_zygote {
            let zygote = Zygote::new(ZygoteCommand {
                python: config.python.clone(),
                script: files.python_zygote.clone(),
                env: base_env(),
                answer_timeout: config.start_timeout,
            });
            zygote.ensure_ready().await?;
            Some(zygote)
        } else {
            None
        };
        let stem_cells = Arc::new(StemCells::new(&config.stem_cells));
        let starter = Arc::new(LauncherStarter::new(config, files, zygote));
        stem_cells.clone().refill(starter.clone()).await;
        Ok(ProcessDriver {
            inner: Arc::new(Inner {
                starter,
                stem_cells,
                containers: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// How many prewarmed stem cells of this kind and size are waiting.
    pub fn stem_cells_available(&self, kind: RuntimeKind, memory_mb: u32) -> usize {
        self.inner.stem_cells.available(kind, memory_mb)
    }

    /// Refills the stem cells now and waits until they are up.
    pub async fn refill_stem_cells(&self) {
        self.inner
            .stem_cells
            .clone()
            .refill(self.inner.starter.clone())
            .await;
    }

    /// The pid of the Python zygote, if one runs.
    pub async fn zygote_pid(&self) -> Option<u32> {
        match &self.inner.starter.zygote {
            Some(zygote) => zygote.pid().await,
            None => None,
        }
    }

    fn containers(&self) -> MutexGuard<'_, HashMap<ContainerId, Arc<Container>>> {
        // A poisoned lock only means a panic elsewhere mid-update; the map is still usable.
        self.inner
            .containers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, id: &ContainerId) -> Result<Arc<Container>> {
        self.containers()
            .get(id)
            .cloned()
            .ok_or_else(|| DriverError::UnknownContainer(id.clone()))
    }

    /// Kills a container and forgets it.
    fn discard(&self, container: &Container) {
        container.destroy();
        self.containers().remove(&container.id);
    }

    async fn create_launcher(
        &self,
        kind: RuntimeKind,
        spec: &ContainerSpec,
    ) -> Result<container::LauncherProcess> {
        if spec.env.is_empty() {
            if let Some(cell) = self.inner.stem_cells.take(kind, spec.memory_mb) {
                let cells = self.inner.stem_cells.clone();
                let starter = self.inner.starter.clone();
                let delay = starter.config.stem_cell_refill_delay;
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    cells.refill(starter).await;
                });
                return Ok(cell);
            }
        }
        self.inner
            .starter
            .start(kind, spec.memory_mb, &spec.env)
            .await
    }

    /// The container's launcher, alive: one that died since its last run (the action ended its
    /// own process after answering, say) is replaced by a fresh one initialized the same way, so
    /// the next activation does not pay for the previous one's exit. If that fails, the dead
    /// launcher is returned and the run fails as it would have.
    async fn live_launcher(
        &self,
        container: &Container,
        state: &Initialized,
    ) -> Option<Arc<container::LauncherProcess>> {
        let current = container.launcher()?;
        if !current.conn.is_closed() {
            return Some(current);
        }
        let Some((init, init_timeout)) = &state.init else {
            return Some(current);
        };
        let _replacing = container.replacing.lock().await;
        let current = container.launcher()?;
        if !current.conn.is_closed() {
            return Some(current); // another run replaced it meanwhile
        }
        tracing::warn!(container = %container.id, "the launcher died between runs; replacing it");
        let fresh = match self.create_launcher(container.kind, &container.spec).await {
            Ok(fresh) => fresh,
            Err(error) => {
                tracing::warn!(container = %container.id, %error, "cannot start a replacement launcher");
                return Some(current);
            }
        };
        let grace = self.inner.starter.config.log_grace;
        match session::init(&fresh.conn, &container.id, init, *init_timeout, grace).await {
            Ok(_) => {
                container.replace_launcher(fresh);
                container.launcher()
            }
            Err(error) => {
                tracing::warn!(container = %container.id, %error, "the replacement launcher's init failed");
                Some(current)
            }
        }
    }

    async fn init_launcher(
        &self,
        container: &Arc<Container>,
        request: &InitRequest,
        timeout: Duration,
    ) -> Result<Vec<LogLine>> {
        let Some(process) = container.launcher() else {
            return Ok(Vec::new());
        };
        let grace = self.inner.starter.config.log_grace;
        session::init(&process.conn, &container.id, request, timeout, grace).await
    }

    async fn run_launcher(
        &self,
        container: &Arc<Container>,
        state: &Initialized,
        request: &RunRequest,
        timeout: Duration,
    ) -> Result<RunOutput> {
        let Some(process) = self.live_launcher(container, state).await else {
            return Err(DriverError::WrongState {
                id: container.id.clone(),
                operation: "run",
                state: "without a launcher",
            });
        };
        let grace = self.inner.starter.config.log_grace;
        let output = session::run(
            &process.conn,
            &container.id,
            &state.limits,
            request,
            timeout,
            grace,
        )
        .await?;
        if let Err(failure) = &output.result {
            if failure.container_lost() {
                tracing::info!(
                    container = %container.id,
                    activation_id = %request.activation_id,
                    failure = %failure,
                    "container lost during a run; removing it"
                );
                self.discard(container);
            }
        }
        Ok(output)
    }

    fn signal(&self, id: &ContainerId, signal: Signal, operation: &'static str) -> Result<()> {
        let container = self.get(id)?;
        let mut phase = container.phase();
        let next = match (&*phase, operation) {
            (Phase::Ready(state), "pause") => Phase::Paused(state.clone()),
            (Phase::Paused(state), "unpause") => Phase::Ready(state.clone()),
            (other, _) => {
                return Err(DriverError::WrongState {
                    id: id.clone(),
                    operation,
                    state: other.name(),
                })
            }
        };
        if let Some(process) = container.launcher() {
            process.signal(signal).map_err(|e| {
                DriverError::io(format!("signalling container {id} to {operation}"), e)
            })?;
        }
        *phase = next;
        Ok(())
    }
}

#[async_trait]
impl ContainerDriver for ProcessDriver {
    fn name(&self) -> &'static str {
        DRIVER
    }

    fn kinds(&self) -> Vec<RuntimeKind> {
        RuntimeKind::ALL.to_vec()
    }

    async fn create(&self, spec: ContainerSpec) -> Result<ContainerId> {
        let kind = match &spec.image {
            ContainerImage::Runtime(kind) => *kind,
            // The action asks for what this backend cannot give: its fault, as a missing image is
            // on Docker (rejected without retries, and no mark against the invoker's health).
            ContainerImage::Blackbox(image) => {
                return Err(DriverError::ImageUnavailable {
                    image: image.clone(),
                    reason: "this server runs actions as processes; blackbox images need `whirl serve --backend docker`".into(),
                })
            }
        };
        let (id, body) = match kind {
            RuntimeKind::Exec => (self.inner.starter.next_id(), Body::Exec),
            _ => {
                let process = self.create_launcher(kind, &spec).await?;
                (process.id.clone(), Body::launcher(process))
            }
        };
        tracing::debug!(container = %id, kind = %kind, memory_mb = spec.memory_mb, "container created");
        let container = Arc::new(Container::new(id.clone(), kind, spec, body));
        self.containers().insert(id.clone(), container);
        Ok(id)
    }

    async fn init(
        &self,
        id: &ContainerId,
        request: InitRequest,
        timeout: Duration,
    ) -> Result<InitOutput> {
        let container = self.get(id)?;
        {
            let mut phase = container.phase();
            if !matches!(*phase, Phase::Stem) {
                return Err(DriverError::WrongState {
                    id: id.clone(),
                    operation: "init",
                    state: phase.name(),
                });
            }
            let concurrency = request.limits.concurrency;
            if concurrency == 0 || concurrency > container.kind.max_concurrency() {
                return Err(DriverError::InvalidRequest {
                    id: id.clone(),
                    reason: format!(
                        "concurrency {concurrency} is outside 1..={} for {}",
                        container.kind.max_concurrency(),
                        container.kind
                    ),
                });
            }
            *phase = Phase::Initializing;
        }
        let clock = Instant::now();
        let outcome = match container.kind {
            RuntimeKind::Exec => ExecCommand::from_init(&request)
                .map(|command| (Some(command), Vec::new()))
                .map_err(|message| DriverError::InitFailed {
                    id: id.clone(),
                    message,
                    logs: Vec::new(),
                }),
            _ => self
                .init_launcher(&container, &request, timeout)
                .await
                .map(|logs| (None, logs)),
        };
        match outcome {
            Ok((exec, logs)) => {
                let concurrency = usize::try_from(request.limits.concurrency).unwrap_or(1);
                let init = container.launcher().map(|_| (request.clone(), timeout));
                *container.phase() = Phase::Ready(Arc::new(Initialized {
                    limits: request.limits,
                    exec,
                    init,
                }));
                container.permits.add_permits(concurrency);
                Ok(InitOutput {
                    logs,
                    duration: clock.elapsed(),
                })
            }
            Err(err) => {
                tracing::info!(container = %id, error = %err, "init failed; removing the container");
                self.discard(&container);
                Err(err)
            }
        }
    }

    async fn run(
        &self,
        id: &ContainerId,
        request: RunRequest,
        timeout: Duration,
    ) -> Result<RunOutput> {
        let container = self.get(id)?;
        let ready = |container: &Container| match &*container.phase() {
            Phase::Ready(state) => Ok(state.clone()),
            other => Err(DriverError::WrongState {
                id: id.clone(),
                operation: "run",
                state: other.name(),
            }),
        };
        // Checked before waiting for a permit (a stem cell has none), and again after.
        ready(&container)?;
        let _permit = container
            .permits
            .acquire()
            .await
            .map_err(|_| DriverError::UnknownContainer(id.clone()))?;
        let state = ready(&container)?;
        match &state.exec {
            Some(command) => {
                let started = SystemTime::now();
                let clock = Instant::now();
                let mut env = base_env();
                env.extend(
                    container
                        .spec
                        .env
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
                let run = command.run(&env, &request, timeout).await?;
                Ok(RunOutput {
                    result: run.result,
                    logs_truncated: run.logs.truncated(),
                    logs: run.logs.into_lines(),
                    started,
                    duration: clock.elapsed(),
                })
            }
            None => {
                self.run_launcher(&container, &state, &request, timeout)
                    .await
            }
        }
    }

    async fn pause(&self, id: &ContainerId) -> Result<()> {
        self.signal(id, Signal::STOP, "pause")
    }

    async fn unpause(&self, id: &ContainerId) -> Result<()> {
        self.signal(id, Signal::CONT, "unpause")
    }

    async fn remove(&self, id: &ContainerId) -> Result<()> {
        let removed = self.containers().remove(id);
        if let Some(container) = removed {
            container.destroy();
            tracing::debug!(container = %id, "container removed");
        }
        Ok(())
    }

    async fn list(&self) -> Result<Vec<ContainerInfo>> {
        let mut infos: Vec<ContainerInfo> = self
            .containers()
            .values()
            .filter_map(|c| c.info())
            .collect();
        infos.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(infos)
    }
}

/// The parts of a directly started Python launcher, for [`crate::baseline`].
pub(crate) struct BaselineIo {
    pub requests: Box<dyn tokio::io::AsyncWrite + Send + Unpin>,
    pub answers: Box<dyn tokio::io::AsyncRead + Send + Unpin>,
    pub stdout: Box<dyn tokio::io::AsyncRead + Send + Unpin>,
    pub stderr: Box<dyn tokio::io::AsyncRead + Send + Unpin>,
    pub child: tokio::process::Child,
}

/// Writes the launchers under `runtime_dir` and starts `python launcher.py` directly.
pub(crate) async fn spawn_python_for_baseline(
    python: &std::path::Path,
    runtime_dir: &std::path::Path,
) -> Result<BaselineIo> {
    let files = RuntimeFiles::write(runtime_dir)?;
    let python = interpreters::real_python(python).await;
    let (io, ends) = spawn::launcher_pipes()?;
    let launcher = files.python_launcher.display().to_string();
    let child = spawn::spawn_direct(&python, &[&launcher], &base_env(), ends)?;
    Ok(BaselineIo {
        requests: io.requests,
        answers: io.answers,
        stdout: io.stdout,
        stderr: io.stderr,
        child,
    })
}
