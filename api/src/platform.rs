//! `Platform`: the whole single-process Whirl — store, container driver, controller, one invoker,
//! the API state and the HTTP server — started the same way by `whirl serve` and by the tests.
//! Must be started inside an actix `System`.

use crate::bootstrap::{apply_namespace_limits, ensure_catalog, ensure_guest, write_private_file};
use crate::config::ApiConfig;
use crate::error::{Error, Result};
use crate::nats::{ActivationPublisher, TriggerSubscriber};
use crate::serving::{ServerHandle, ServingOptions};
use crate::state::ApiState;
use actix::Addr;
use actors::controller_actor::ControllerActor;
use actors::core::action::Kind;
use actors::core::controller::ControllerConfig;
use actors::core::ids::InvokerId;
use actors::core::pool::{KeepAlivePolicy, PoolConfig, PrewarmSpec};
use actors::invoker_actor::{InvokerActor, InvokerConfig};
use bridge::bus::{Bus, InProcessBus, NatsBus};
use bridge::docker::images::build_runtime_images;
use bridge::docker::{DockerDriver, DockerDriverConfig};
use bridge::{
    ContainerDriver, NetworkAccess, ProcessDriver, ProcessDriverConfig, RuntimeKind, StemCellConfig,
};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use store::{Clock, Store, StoreOptions, SystemClock};

pub use crate::bootstrap::GuestKey;

/// Where the invoker runs containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Local process groups (the embedded default; no isolation between functions).
    #[default]
    Process,
    /// Docker containers (runtime images are built from the host's interpreters when missing).
    Docker {
        /// The network of actions without a `network` annotation.
        default_network: NetworkAccess,
    },
}

/// How to start the platform.
#[derive(Debug, Clone)]
pub struct PlatformOptions {
    /// Where containers run.
    pub backend: Backend,
    /// Where the API listens (port 0: any free port; see [`Platform::address`]).
    pub listen: SocketAddr,
    /// actix-web worker threads for HTTP; 0 (the default): HTTP is served on the platform's own
    /// thread, beside the controller and the invoker (see [`crate::serving`]).
    pub http_workers: usize,
    /// Memory the invoker offers to actions, in MB.
    pub user_memory_mb: u64,
    /// When idle action containers are removed (and, for the histogram policies, pre-warmed).
    pub keep_alive: KeepAlivePolicy,
    /// How long an idle action container stays unpaused (OpenWhisk's pause grace, 10 s).
    pub pause_grace_ms: u64,
    /// Prewarmed stem cells per kind.
    pub stem_cells: Vec<(RuntimeKind, usize)>,
    /// Fork Python actions from the zygote.
    pub python_zygote: bool,
    /// Create the guest namespace (and `guest.auth`) on first start.
    pub create_guest: bool,
    /// Create `/whisk.system/utils` where missing.
    pub create_catalog: bool,
    /// Run an invoker in this process (off: a controller alone, which answers 503 until an
    /// invoker joins over a shared bus).
    pub start_invoker: bool,
    /// NATS servers (`nats://host:port`, comma-separated): the bus between controllers and
    /// invokers, and the public trigger and activation subjects. `None`: the in-process bus.
    pub nats: Option<String>,
    /// This process's invoker number (`invoker<N>` on the bus; unique per deployment).
    pub invoker_id: u32,
    /// Non-blocking invocations through JetStream (with `nats` only).
    pub durable_async: crate::queue::DurableAsyncOptions,
    /// Stop on SIGINT/SIGTERM (off in tests).
    pub handle_signals: bool,
    pub controller: ControllerConfig,
    pub api: ApiConfig,
}

impl Default for PlatformOptions {
    fn default() -> Self {
        Self {
            backend: Backend::Process,
            listen: SocketAddr::from(([127, 0, 0, 1], 3233)),
            http_workers: 0,
            user_memory_mb: 2048,
            keep_alive: KeepAlivePolicy::DEFAULT,
            pause_grace_ms: 10_000,
            stem_cells: vec![(RuntimeKind::Nodejs20, 2)],
            python_zygote: true,
            create_guest: true,
            create_catalog: true,
            start_invoker: true,
            nats: None,
            invoker_id: 0,
            durable_async: crate::queue::DurableAsyncOptions::default(),
            handle_signals: true,
            controller: ControllerConfig::default(),
            api: ApiConfig::default(),
        }
    }
}

/// The `whirl.instance` label of this data directory's containers: two Whirls on one host
/// (different data directories) never take each other's containers for leftovers.
fn instance_name(data_dir: &Path) -> String {
    let path = data_dir
        .canonicalize()
        .unwrap_or_else(|_| data_dir.to_path_buf());
    let hash = blake3::hash(path.display().to_string().as_bytes());
    format!("whirl-{}", &hash.to_hex()[..8])
}

/// Starts the backend's driver; returns it and the stem cells the pool keeps (the Docker
/// backend prewarms through the pool; the process driver keeps its own).
async fn start_driver(
    data_dir: &Path,
    options: &PlatformOptions,
    instance: &str,
    invoker: InvokerId,
) -> Result<(Arc<dyn ContainerDriver>, Vec<PrewarmSpec>)> {
    const STEM_CELL_MB: u32 = 256;
    match options.backend {
        Backend::Process => {
            let mut driver_config = ProcessDriverConfig::new(data_dir.join("runtimes"));
            driver_config.python_zygote = options.python_zygote;
            driver_config.stem_cells = options
                .stem_cells
                .iter()
                .map(|&(kind, count)| StemCellConfig {
                    kind,
                    memory_mb: STEM_CELL_MB,
                    count,
                })
                .collect();
            let driver = ProcessDriver::start(driver_config)
                .await
                .map_err(|e| startup("start the process driver")(e.to_string()))?;
            Ok((Arc::new(driver), Vec::new()))
        }
        Backend::Docker { default_network } => {
            let docker = bridge::docker::connect()
                .await
                .map_err(|e| startup("reach dockerd")(e.to_string()))?;
            let images = build_runtime_images(&docker, false, &|progress| {
                tracing::info!(?progress, "runtime images");
            })
            .await
            .map_err(|e| startup("build the runtime images")(e.to_string()))?;
            let mut config =
                DockerDriverConfig::new(data_dir.join("runtimes"), instance, &invoker.to_string());
            config.default_network = default_network;
            let driver = DockerDriver::start(docker, config, images)
                .await
                .map_err(|e| startup("start the docker driver")(e.to_string()))?;
            let prewarm = options
                .stem_cells
                .iter()
                .map(|&(kind, count)| PrewarmSpec {
                    kind: Kind::new(kind.as_str()),
                    memory_mb: u64::from(STEM_CELL_MB),
                    count: u32::try_from(count).unwrap_or(u32::MAX),
                })
                .collect();
            Ok((Arc::new(driver), prewarm))
        }
    }
}

/// The bus of this process: NATS when `options.nats` names servers, else in-process; with NATS,
/// also its client and the bus's stats (for `/metrics`).
pub(crate) async fn connect_bus(
    options: &PlatformOptions,
    name: &str,
) -> Result<(
    Arc<dyn Bus>,
    Option<async_nats::Client>,
    Option<Arc<bridge::bus::NatsBusStats>>,
)> {
    match &options.nats {
        Some(servers) => {
            let bus = NatsBus::connect(servers, name)
                .await
                .map_err(|e| startup("connect to NATS")(e.to_string()))?;
            tracing::info!(%servers, "bus: NATS");
            let client = bus.client().clone();
            let stats = Arc::clone(bus.stats());
            Ok((Arc::new(bus), Some(client), Some(stats)))
        }
        None => Ok((Arc::new(InProcessBus::new()), None, None)),
    }
}

/// Starts the driver and a supervised invoker on `bus`; returns the driver and the invoker.
pub(crate) async fn start_invoker(
    data_dir: &Path,
    options: &PlatformOptions,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
) -> Result<(Arc<dyn ContainerDriver>, Addr<InvokerActor>)> {
    let instance = instance_name(data_dir);
    let invoker_id = InvokerId(options.invoker_id);
    let (driver, prewarm) = start_driver(data_dir, options, &instance, invoker_id).await?;
    let pool = PoolConfig {
        user_memory_mb: options.user_memory_mb,
        keep_alive: options.keep_alive.clone(),
        pause_grace_ms: Some(options.pause_grace_ms),
        prewarm,
        ..PoolConfig::default()
    };
    let mut invoker = InvokerConfig::new(invoker_id, pool);
    invoker.instance = instance;
    let invoker = InvokerActor::new(invoker, driver.clone(), bus, clock)
        .start_supervised()
        .await
        .map_err(|e| startup("start the invoker")(e.to_string()))?;
    tracing::info!(invoker = %invoker_id, "invoker started");
    Ok((driver, invoker))
}

/// Removes every container a driver still has (at shutdown).
pub(crate) async fn remove_containers(driver: &dyn ContainerDriver) {
    match driver.list().await {
        Ok(containers) => {
            for container in containers {
                if let Err(error) = driver.remove(&container.id).await {
                    tracing::warn!(container = %container.id, %error, "cannot remove container at shutdown");
                }
            }
        }
        Err(error) => tracing::warn!(%error, "cannot list containers at shutdown"),
    }
}

/// A running platform.
pub struct Platform {
    address: SocketAddr,
    guest: Option<GuestKey>,
    admin_token_path: PathBuf,
    state: ApiState,
    driver: Option<Arc<dyn ContainerDriver>>,
    _activations: Option<ActivationPublisher>,
    handle: ServerHandle,
    server: actix_rt::task::JoinHandle<std::io::Result<()>>,
}

fn startup(what: &'static str) -> impl FnOnce(String) -> Error {
    move |reason| Error::Internal { what, reason }
}

impl Platform {
    /// Starts everything on `data_dir` and serves the API.
    pub async fn start(data_dir: &Path, mut options: PlatformOptions) -> Result<Self> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| startup("create the data directory")(e.to_string()))?;
        let store = Store::open(data_dir, StoreOptions::default())
            .map_err(|e| startup("open the data directory")(e.to_string()))?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        // OpenFaaS async calls cut short by the stop run again once the platform serves, and
        // their callback deliveries stay pending until they are sent.
        let interrupted_calls = crate::openfaas::interrupted_calls(&store)
            .map_err(|e| startup("read the interrupted async calls")(e.to_string()))?;
        let orphans = actors::recovery::end_orphans_except(
            &store,
            clock.now_ms(),
            crate::openfaas::is_callback_delivery,
        )
        .await
        .map_err(|e| startup("record the orphaned activations")(e.to_string()))?;
        tracing::info!(data_dir = %data_dir.display(), head = store.head_seq(), orphans, "store open");

        let (bus, nats, nats_stats) = connect_bus(&options, "whirl-controller").await?;
        options.api.throttles = options.controller.throttles.clone();
        let controller = ControllerActor::new(
            options.controller.clone(),
            store.clone(),
            bus.clone(),
            clock.clone(),
        )
        .start_supervised()
        .await
        .map_err(|e| startup("start the controller")(e.to_string()))?;
        let (driver, invoker) = if options.start_invoker {
            Some(start_invoker(data_dir, &options, bus, clock.clone()).await?)
        } else {
            None
        }
        .unzip();

        let admin_token = crate::auth::new_secret();
        let admin_token_path = data_dir.join("admin.token");
        write_private_file(&admin_token_path, &format!("{admin_token}\n"))
            .map_err(|e| startup("write admin.token")(e.to_string()))?;
        let state = ApiState::new(store, controller, options.api.clone(), clock)?
            .with_admin_token(&admin_token)
            .with_invoker(invoker);
        let state = match (&nats, options.durable_async.enabled) {
            (Some(client), true) => {
                let queue = crate::queue::start(
                    &options.durable_async,
                    client.clone(),
                    state.controller.clone(),
                    state.store.clone(),
                    state.clock.clone(),
                )
                .await?;
                state.with_invocation_queue(queue)
            }
            _ => state,
        };
        if let Some(stats) = nats_stats {
            state.metrics.attach_nats(stats);
        }
        apply_namespace_limits(&state).await?;
        if options.create_catalog {
            ensure_catalog(&state).await?;
        }
        let guest = if options.create_guest {
            ensure_guest(&state, data_dir).await?
        } else {
            None
        };
        // Alarm feeds fire from the process that owns the log (one per deployment).
        crate::feeds::start_alarm_feeds(&state)
            .map_err(|e| startup("start the alarm feeds")(e.to_string()))?;

        let activations = match &nats {
            Some(client) => {
                TriggerSubscriber::start(state.clone(), client.clone())
                    .await
                    .map_err(|e| startup("subscribe to the trigger subjects")(e.to_string()))?;
                crate::feeds::SubjectFeeds::start(state.clone(), client.clone())
                    .map_err(|e| startup("start the subject feeds")(e.to_string()))?;
                Some(ActivationPublisher::start(&state.store, client.clone()))
            }
            None => None,
        };

        let serving = crate::serving::start(
            state.clone(),
            ServingOptions {
                listen: options.listen,
                http_workers: options.http_workers,
                signals: options.handle_signals,
            },
        )
        .map_err(|e| startup("serve the API")(format!("{}: {e}", options.listen)))?;
        let address = serving.address;
        let url = format!("http://{address}");
        std::fs::write(data_dir.join("api.url"), format!("{url}\n"))
            .map_err(|e| startup("write api.url")(e.to_string()))?;
        // The invoker announced itself on start; give the controller a moment to hear it so the
        // first invocations find it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        tracing::info!(%address, "API listening");
        state
            .gateway
            .set_runs_images(matches!(options.backend, Backend::Docker { .. }));
        crate::openfaas::resume(&state, interrupted_calls).await;
        Ok(Self {
            address,
            guest,
            admin_token_path,
            state,
            driver,
            _activations: activations,
            handle: serving.handle,
            server: serving.served,
        })
    }

    /// Where the API listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The guest key, if this start created it.
    pub fn guest(&self) -> Option<&GuestKey> {
        self.guest.as_ref()
    }

    /// Where the operator's token is (`<data-dir>/admin.token`).
    pub fn admin_token_path(&self) -> &Path {
        &self.admin_token_path
    }

    /// The API state (store, controller, keys).
    pub fn state(&self) -> &ApiState {
        &self.state
    }

    /// A handle that stops the HTTP server.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// Runs until the HTTP server stops (a signal, or [`ServerHandle::stop`]), then removes
    /// the containers the invoker still has.
    pub async fn wait(self) -> Result<()> {
        let served = self.server.await;
        if let Some(driver) = &self.driver {
            remove_containers(driver.as_ref()).await;
        }
        match served {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(Error::internal("serve HTTP", error)),
            Err(error) => Err(Error::internal("serve HTTP", error)),
        }
    }
}
