//! The Docker driver (`whirl serve --backend docker`): every container is a Docker container,
//! created through bollard with the isolation of [`host_config`], labelled with the Whirl
//! instance and invoker, and reached three ways (see [`host_config::Protocol`]):
//! - runtime kinds run the same ActionLoop launchers as the process driver, connected over a
//!   unix socket in a bind-mounted directory (so they work with no network at all), with their
//!   stdout/stderr from `docker attach`;
//! - blackbox images speak OpenWhisk's `/init` and `/run` on port 8080;
//! - the `exec` kind and OpenFaaS-style images (an `fprocess` variable in the image) run the
//!   command per request with `docker exec`.
//!
//! Pause and unpause write the container's cgroup freezer directly (as OpenWhisk uses `runc`),
//! falling back to the Docker API. Creation is bounded (`max_parallel_creates`). A container that died while idle (dockerd
//! restarted, someone removed it) is replaced and initialized again before its next run, so
//! the invoker recovers without a restart; one that dies during a run ends that run with an
//! error (out of memory when Docker says so) and is removed.

mod attach;
mod config;
mod container;
mod exec;
mod freezer;
mod host_config;
mod http;
pub mod images;
mod lifecycle;
mod networks;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bollard::Docker;
use tokio::sync::Semaphore;

pub use config::DockerDriverConfig;
pub use images::RuntimeImages;
pub use lifecycle::ContainerUsage;

use crate::driver::{
    ContainerDriver, ContainerId, ContainerInfo, ContainerSpec, InitOutput, InitRequest, RunOutput,
    RunRequest,
};
use crate::error::{DriverError, Result};
use crate::kind::RuntimeKind;
use container::{Phase, Ready, Slot};

const DRIVER: &str = "docker";

/// Drives Docker containers. Cheap to clone; clones share the containers.
#[derive(Clone)]
pub struct DockerDriver {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    docker: Docker,
    config: DockerDriverConfig,
    images: RuntimeImages,
    slots: Mutex<HashMap<ContainerId, Arc<Slot>>>,
    creates: Semaphore,
    serial: AtomicU64,
    /// Distinguishes this driver's container names from an earlier run's.
    run_id: String,
    /// The network of containers with egress (see [`networks`]).
    egress_network: String,
    /// What each blackbox image needs, read once per image.
    image_facts: Mutex<HashMap<String, lifecycle::ImageFacts>>,
}

/// Connects to dockerd the way the `docker` CLI does (`DOCKER_HOST`, else the local socket)
/// and agrees on an API version the daemon speaks.
pub async fn connect() -> Result<Docker> {
    let docker = Docker::connect_with_local_defaults()
        .map_err(|e| DriverError::docker("connecting to dockerd", e))?;
    let docker = docker
        .negotiate_version()
        .await
        .map_err(|e| DriverError::docker("negotiating the API version with dockerd", e))?;
    docker
        .ping()
        .await
        .map_err(|e| DriverError::docker("pinging dockerd", e))?;
    Ok(docker)
}

impl DockerDriver {
    /// Connects, creates Whirl's networks where missing, and removes the containers an earlier
    /// run of the same instance and invoker left behind.
    pub async fn start(
        docker: Docker,
        config: DockerDriverConfig,
        images: RuntimeImages,
    ) -> Result<Self> {
        let egress_network = networks::ensure(&docker).await?;
        let sockets = config.runtime_dir.join("docker");
        std::fs::create_dir_all(&sockets)
            .map_err(|e| DriverError::io(format!("creating {}", sockets.display()), e))?;
        let run_id = format!(
            "{:08x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 ^ u64::from(std::process::id()))
                .unwrap_or(0)
                & 0xffff_ffff
        );
        let driver = DockerDriver {
            inner: Arc::new(Inner {
                creates: Semaphore::new(config.max_parallel_creates.max(1)),
                docker,
                config,
                images,
                slots: Mutex::new(HashMap::new()),
                serial: AtomicU64::new(1),
                run_id,
                egress_network,
                image_facts: Mutex::new(HashMap::new()),
            }),
        };
        let removed = lifecycle::remove_leftovers(&driver.inner).await?;
        tracing::info!(
            egress_network = %driver.inner.egress_network,
            instance = %driver.inner.config.instance,
            invoker = %driver.inner.config.invoker,
            removed,
            "docker driver started"
        );
        Ok(driver)
    }

    /// The Docker client (for tests and benchmarks that compare with bare containers).
    pub fn docker(&self) -> &Docker {
        &self.inner.docker
    }

    /// The Docker container behind a driver id (it changes when a dead container is replaced).
    pub fn docker_name(&self, id: &ContainerId) -> Option<String> {
        self.slot(id).ok().map(|slot| slot.body().name.clone())
    }

    /// Memory and CPU use of a container, from Docker's stats.
    pub async fn stats(&self, id: &ContainerId) -> Result<ContainerUsage> {
        let name = self.slot(id)?.body().name.clone();
        lifecycle::stats(&self.inner.docker, &name).await
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<ContainerId, Arc<Slot>>> {
        self.inner.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn slot(&self, id: &ContainerId) -> Result<Arc<Slot>> {
        self.slots()
            .get(id)
            .cloned()
            .ok_or_else(|| DriverError::UnknownContainer(id.clone()))
    }

    /// Forgets a container and removes it from Docker in the background.
    fn discard(&self, id: &ContainerId) {
        if let Some(slot) = self.slots().remove(id) {
            let inner = self.inner.clone();
            let body = slot.body();
            tokio::spawn(async move { lifecycle::destroy(&inner, &body).await });
        }
    }

    /// The slot's container, replaced (and initialized again, if it was) when it died idle.
    async fn live_body(
        &self,
        id: &ContainerId,
        slot: &Slot,
        ready: Option<&Ready>,
    ) -> Result<Arc<container::DockerContainer>> {
        let body = slot.body();
        if !body.is_dead() {
            return Ok(body);
        }
        tracing::warn!(container = %id, docker = %body.name, "container died while idle; replacing it");
        let fresh = lifecycle::create(&self.inner, &body.spec).await?;
        let old = slot.replace(fresh);
        let inner = self.inner.clone();
        tokio::spawn(async move { lifecycle::destroy(&inner, &old).await });
        let body = slot.body();
        if let Some(ready) = ready {
            lifecycle::init(
                &self.inner,
                id,
                &body,
                &ready.init,
                self.inner.config.start_timeout,
            )
            .await?;
        }
        Ok(body)
    }
}

#[async_trait]
impl ContainerDriver for DockerDriver {
    fn name(&self) -> &'static str {
        DRIVER
    }

    fn kinds(&self) -> Vec<RuntimeKind> {
        RuntimeKind::ALL.to_vec()
    }

    async fn create(&self, spec: ContainerSpec) -> Result<ContainerId> {
        let body = lifecycle::create(&self.inner, &spec).await?;
        let serial = self.inner.serial.fetch_add(1, Ordering::Relaxed);
        let id = ContainerId(format!("{}-{serial}", self.inner.run_id));
        tracing::debug!(container = %id, docker = %body.name, image = %body.image, "container created");
        self.slots().insert(id.clone(), Arc::new(Slot::new(body)));
        Ok(id)
    }

    async fn init(
        &self,
        id: &ContainerId,
        request: InitRequest,
        timeout: Duration,
    ) -> Result<InitOutput> {
        let slot = self.slot(id)?;
        {
            let mut phase = slot.phase();
            if !matches!(*phase, Phase::Stem) {
                return Err(DriverError::WrongState {
                    id: id.clone(),
                    operation: "init",
                    state: phase.name(),
                });
            }
            *phase = Phase::Initializing;
        }
        let clock = Instant::now();
        let outcome = match self.live_body(id, &slot, None).await {
            Ok(body) => lifecycle::init(&self.inner, id, &body, &request, timeout).await,
            Err(error) => Err(error),
        };
        match outcome {
            Ok((exec, logs)) => {
                let concurrency = usize::try_from(request.limits.concurrency.max(1)).unwrap_or(1);
                *slot.phase() = Phase::Ready(Arc::new(Ready {
                    limits: request.limits,
                    exec,
                    init: request,
                }));
                slot.permits.add_permits(concurrency);
                Ok(InitOutput {
                    logs,
                    duration: clock.elapsed(),
                })
            }
            Err(error) => {
                tracing::info!(container = %id, %error, "init failed; removing the container");
                self.discard(id);
                Err(error)
            }
        }
    }

    async fn run(
        &self,
        id: &ContainerId,
        request: RunRequest,
        timeout: Duration,
    ) -> Result<RunOutput> {
        let slot = self.slot(id)?;
        let ready = |slot: &Slot| match &*slot.phase() {
            Phase::Ready(ready) => Ok(ready.clone()),
            other => Err(DriverError::WrongState {
                id: id.clone(),
                operation: "run",
                state: other.name(),
            }),
        };
        ready(&slot)?;
        let _permit = slot
            .permits
            .acquire()
            .await
            .map_err(|_| DriverError::UnknownContainer(id.clone()))?;
        let state = ready(&slot)?;
        let body = self.live_body(id, &slot, Some(&state)).await?;
        let output = lifecycle::run(&self.inner, id, &body, &state, &request, timeout).await?;
        if let Err(failure) = &output.result {
            if failure.container_lost() {
                tracing::info!(
                    container = %id,
                    activation_id = %request.activation_id,
                    %failure,
                    "container lost during a run; removing it"
                );
                self.discard(id);
            }
        }
        Ok(output)
    }

    async fn pause(&self, id: &ContainerId) -> Result<()> {
        let slot = self.slot(id)?;
        let ready = match &*slot.phase() {
            Phase::Ready(ready) => ready.clone(),
            other => {
                return Err(DriverError::WrongState {
                    id: id.clone(),
                    operation: "pause",
                    state: other.name(),
                })
            }
        };
        let body = slot.body();
        if !body.is_dead() {
            lifecycle::pause(&self.inner, &body).await?;
        }
        *slot.phase() = Phase::Paused(ready);
        Ok(())
    }

    async fn unpause(&self, id: &ContainerId) -> Result<()> {
        let slot = self.slot(id)?;
        let ready = match &*slot.phase() {
            Phase::Paused(ready) => ready.clone(),
            other => {
                return Err(DriverError::WrongState {
                    id: id.clone(),
                    operation: "unpause",
                    state: other.name(),
                })
            }
        };
        let body = slot.body();
        // A container that died while paused is replaced by the next run.
        if !body.is_dead() {
            if let Err(error) = lifecycle::unpause(&self.inner, &body).await {
                tracing::warn!(container = %id, docker = %body.name, %error, "cannot unpause; the next run replaces the container");
                body.ended.store(true, Ordering::Release);
            }
        }
        *slot.phase() = Phase::Ready(ready);
        Ok(())
    }

    async fn remove(&self, id: &ContainerId) -> Result<()> {
        let removed = self.slots().remove(id);
        if let Some(slot) = removed {
            lifecycle::destroy(&self.inner, &slot.body()).await;
            tracing::debug!(container = %id, "container removed");
        }
        Ok(())
    }

    async fn list(&self) -> Result<Vec<ContainerInfo>> {
        let alive = lifecycle::labelled_names(&self.inner).await?;
        let mut gone = Vec::new();
        let mut infos = Vec::new();
        for (id, slot) in self.slots().iter() {
            let body = slot.body();
            if !alive.contains(&body.name) || body.is_dead() {
                gone.push(id.clone());
                continue;
            }
            let Some(state) = slot.phase().state() else {
                continue;
            };
            infos.push(ContainerInfo {
                id: id.clone(),
                image: body.spec.image.clone(),
                memory_mb: body.spec.memory_mb,
                labels: body.spec.labels.clone(),
                state,
                process_group: None,
            });
        }
        for id in gone {
            self.discard(&id);
        }
        infos.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(infos)
    }
}
