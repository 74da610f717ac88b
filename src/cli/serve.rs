//! `whirl serve`: runs Whirl. With the embedded defaults (`--role all`, `--backend process`) one
//! process holds the store, a controller, one invoker on local processes, and the HTTP API; the
//! wiring is `api::Platform`, shared with the API's tests. With `--nats`, controllers and
//! invokers (`--role controller|invoker`, `api::InvokerNode`) talk over NATS.

use super::DataDir;
use actors::core::controller::ControllerConfig;
use actors::core::pool::{HistogramPolicy, KeepAlivePolicy, WindowRule};
use actors::core::retry::RetryPolicy;
use actors::core::throttle::ThrottleConfig;
use anyhow::Context;
use api::queue::DurableAsyncOptions;
use api::{ApiConfig, InvokerNode, Platform, PlatformOptions};
use bridge::{NetworkAccess, RuntimeKind};
use std::net::SocketAddr;

/// Where containers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Local processes (python3, node, commands) in their own process groups: no isolation
    /// between functions beyond the OS user; for a laptop or trusted code.
    Process,
    /// Docker containers through the Docker API (one container per warm function), isolated
    /// by memory, CPU shares, pids, capabilities and network (docs/docker.md).
    Docker,
}

/// What this process does in a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Controller and invoker in one process (the embedded default; with `--nats`, also a
    /// member of a multi-node deployment).
    All,
    /// The API, the log and the controller; invokers join over NATS.
    Controller,
    /// An invoker only: runs what the controllers send over NATS (no log, no API).
    Invoker,
}

/// What an action's container may reach on the network (Docker backend; see docs/docker.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DockerNetwork {
    /// Outbound connections through NAT, as OpenWhisk gives actions; no traffic between
    /// containers.
    Bridge,
    /// No route out (runtime kinds get no network interface but loopback).
    None,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data_dir: DataDir,
    /// Address the HTTP API listens on.
    #[arg(long, default_value = "127.0.0.1:3233", env = "WHIRL_LISTEN")]
    pub listen: SocketAddr,
    /// Where containers run.
    #[arg(long, value_enum, default_value_t = Backend::Process)]
    pub backend: Backend,
    /// What this process does: `all` (the default), `controller` or `invoker` (needs `--nats`).
    #[arg(long, value_enum, default_value_t = Role::All)]
    pub role: Role,
    /// NATS servers, `nats://HOST:PORT` (comma-separated for a cluster): the bus between
    /// controllers and invokers, and the public trigger and activation subjects (docs/nats.md).
    #[arg(long, env = "WHIRL_NATS")]
    pub nats: Option<String>,
    /// How long past an action's time limit a controller waits for its completion before it
    /// records the activation as lost (whisk internal error). Default 120 000.
    #[arg(long = "completion-grace-ms")]
    pub completion_grace_ms: Option<u64>,
    /// With `--nats`: keep non-blocking invocations in the controller's log only, not in JetStream
    /// (a controller crash then ends the ones in flight with an error record).
    #[arg(long = "no-jetstream")]
    pub no_jetstream: bool,
    /// Copies of the JetStream queue of non-blocking invocations (1 for one nats-server, 3 to
    /// survive the loss of a node of a 3-node cluster).
    #[arg(long = "jetstream-replicas", default_value_t = 1)]
    pub jetstream_replicas: usize,
    /// How long a queued invocation's delivery may go without news before JetStream delivers it
    /// again (how long a crashed controller's invocations wait before another run takes them).
    #[arg(long = "queue-ack-wait-ms", default_value_t = 30_000)]
    pub queue_ack_wait_ms: u64,
    /// Attempts of a queued invocation that keeps failing on the platform (no invoker, invoker
    /// lost) before its dead-letter record.
    #[arg(long = "queue-attempts", default_value_t = 5)]
    pub queue_attempts: u32,
    /// The wait before the second attempt of a queued invocation; each later one doubles (at most
    /// 30 s).
    #[arg(long = "queue-backoff-ms", default_value_t = 500)]
    pub queue_backoff_ms: u64,
    /// Run a queued invocation only when the queue delivers it, not at once on the controller
    /// that queued it (needed when several controllers, each with its own log, share the queue).
    #[arg(long = "no-queue-local-start")]
    pub no_queue_local_start: bool,
    /// This invoker's number (`invoker<N>` on the bus), unique in the deployment.
    #[arg(long = "invoker-id", default_value_t = 0)]
    pub invoker_id: u32,
    /// Pause an idle action container after this many milliseconds (OpenWhisk's pause grace).
    #[arg(long = "pause-grace-ms", default_value_t = 10_000)]
    pub pause_grace_ms: u64,
    /// With `--backend docker`: the network of actions without a `network` annotation.
    #[arg(long = "docker-network", value_enum, default_value_t = DockerNetwork::Bridge)]
    pub docker_network: DockerNetwork,
    /// Memory the invoker offers to actions, in MB (OpenWhisk's `user-memory`).
    #[arg(long, default_value_t = 2048)]
    pub user_memory: u64,
    /// Prewarmed stem cells kept per kind (256 MB each), as KIND=COUNT (repeatable), e.g.
    /// `--stem-cells nodejs:20=4 --stem-cells python:3=1`. Python actions start from the zygote
    /// anyway (unless `--no-zygote`), so stem cells matter most for Node.js.
    #[arg(long = "stem-cells", value_parser = parse_stem_cells, default_values = ["nodejs:20=2"])]
    pub stem_cells: Vec<(RuntimeKind, usize)>,
    /// When idle action containers are removed: `fixed:MINUTES` (OpenWhisk's fixed keep-alive;
    /// the default is `fixed:10`), `hybrid` (the hybrid histogram policy of Shahrad et al., ATC'20)
    /// or `whirl[:PRICE]` (the same histogram read cost-aware; see docs/benchmarks.md, Keep-alive).
    #[arg(long = "keep-alive", value_parser = parse_keep_alive, default_value = "fixed:10")]
    pub keep_alive: KeepAlivePolicy,
    /// Start Python actions as fresh interpreters instead of forking them from the zygote.
    #[arg(long)]
    pub no_zygote: bool,
    /// Do not create the `guest` namespace (and `<data-dir>/guest.auth`) on first start.
    #[arg(long)]
    pub no_guest: bool,
    /// HTTP worker threads: 0 serves HTTP on the platform's own thread, beside the controller
    /// and the invoker (fewest thread hand-offs per invocation); N > 0 uses N actix-web workers
    /// (HTTP parsing spread over N cores, one hand-off each way to the platform thread).
    #[arg(long, default_value_t = 0)]
    pub http_workers: usize,

    /// Default action invocations per minute of a namespace (OpenWhisk: 60).
    #[arg(long, default_value_t = 60)]
    pub invocations_per_minute: u32,
    /// Default concurrent action invocations of a namespace (OpenWhisk: 30).
    #[arg(long, default_value_t = 30)]
    pub concurrent_invocations: u32,
    /// Default trigger fires per minute of a namespace (OpenWhisk: 60).
    #[arg(long, default_value_t = 60)]
    pub fires_per_minute: u32,
    /// The bearer token a scraper outside this host presents to read `/metrics` (loopback
    /// peers need none; without it, only they may read it). Prefer the environment variable.
    #[arg(
        long = "metrics-token",
        env = "WHIRL_METRICS_TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// The namespace of OpenFaaS `/function/{name}` calls without a `.namespace` suffix.
    #[arg(long, default_value = "guest")]
    pub openfaas_namespace: String,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    actix_rt::System::new().block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let data_dir = &args.data_dir.path;
    let idle = bridge::IdlePolicy::read();
    if idle.halts_at_once() {
        tracing::info!(
            idle = %idle,
            "idle vCPUs halt without polling: each wake-up on one costs tens of µs (docs/deploy.md, \"Host tuning\")"
        );
    }
    let controller = ControllerConfig {
        throttles: ThrottleConfig {
            invocations_per_minute: args.invocations_per_minute,
            concurrent_invocations: args.concurrent_invocations,
            fires_per_minute: args.fires_per_minute,
        },
        completion_grace_ms: args.completion_grace_ms,
        ..ControllerConfig::default()
    };
    if args.role != Role::All && args.nats.is_none() {
        anyhow::bail!(
            "--role {} needs --nats (controllers and invokers meet on NATS); \
             without it, run --role all",
            if args.role == Role::Controller {
                "controller"
            } else {
                "invoker"
            }
        );
    }
    let backend = match args.backend {
        Backend::Process => api::Backend::Process,
        Backend::Docker => api::Backend::Docker {
            default_network: match args.docker_network {
                DockerNetwork::Bridge => NetworkAccess::Egress,
                DockerNetwork::None => NetworkAccess::None,
            },
        },
    };
    let options = PlatformOptions {
        backend,
        listen: args.listen,
        http_workers: args.http_workers,
        user_memory_mb: args.user_memory,
        keep_alive: args.keep_alive.clone(),
        pause_grace_ms: args.pause_grace_ms,
        stem_cells: args.stem_cells.clone(),
        python_zygote: !args.no_zygote,
        create_guest: !args.no_guest,
        create_catalog: true,
        start_invoker: args.role != Role::Controller,
        nats: args.nats.clone(),
        invoker_id: args.invoker_id,
        durable_async: DurableAsyncOptions {
            enabled: !args.no_jetstream,
            replicas: args.jetstream_replicas,
            ack_wait: std::time::Duration::from_millis(args.queue_ack_wait_ms),
            retry: RetryPolicy {
                max_attempts: args.queue_attempts,
                base_delay_ms: args.queue_backoff_ms,
                ..RetryPolicy::default()
            },
            local_start: !args.no_queue_local_start,
        },
        handle_signals: true,
        controller,
        api: ApiConfig {
            metrics_token: args
                .metrics_token
                .as_deref()
                .map(api::metrics::MetricsToken::new),
            openfaas_namespace: args.openfaas_namespace.clone(),
            ..ApiConfig::default()
        },
    };
    if args.role == Role::Invoker {
        let node = InvokerNode::start(data_dir, options)
            .await
            .context("cannot start the invoker")?;
        eprintln!(
            "whirl: invoker{} running actions for the controllers on {}",
            args.invoker_id,
            args.nats.as_deref().unwrap_or_default()
        );
        return node.wait().await.context("invoker failed");
    }
    let platform = Platform::start(data_dir, options)
        .await
        .with_context(|| format!("cannot start Whirl on {}", data_dir.display()))?;
    if let Some(guest) = platform.guest() {
        println!("guest key: {}", guest.credentials);
        println!("(written to {})", guest.path.display());
    } else if !args.no_guest {
        let path = data_dir.join("guest.auth");
        if path.exists() {
            eprintln!("whirl: the guest key is in {}", path.display());
        }
    }
    eprintln!("whirl: serving the API on {}", platform.url());
    platform.wait().await.context("HTTP server failed")
}

/// Parses `fixed:MINUTES`, `hybrid`, `whirl` or `whirl:PRICE`.
fn parse_keep_alive(text: &str) -> Result<KeepAlivePolicy, String> {
    let (name, argument) = match text.split_once(':') {
        Some((name, argument)) => (name, Some(argument)),
        None => (text, None),
    };
    match (name, argument) {
        ("fixed", Some(minutes)) => {
            let minutes: u64 = minutes
                .parse()
                .map_err(|_| format!("fixed:MINUTES needs whole minutes, got {minutes:?}"))?;
            Ok(KeepAlivePolicy::IdleFor {
                idle_ms: minutes.saturating_mul(60_000),
            })
        }
        ("hybrid", None) => Ok(KeepAlivePolicy::hybrid_histogram()),
        ("whirl", None) => Ok(KeepAlivePolicy::whirl()),
        ("whirl", Some(price)) => {
            let price: f64 = price
                .parse()
                .map_err(|_| format!("whirl:PRICE needs a number such as 1.7, got {price:?}"))?;
            if !(price.is_finite() && price > 0.0) {
                return Err(format!("whirl:PRICE must be above 0, got {price}"));
            }
            let mut policy = HistogramPolicy::whirl();
            policy.rule = WindowRule::CostAware {
                price_milli: (price * 1000.0).round() as u32,
            };
            Ok(KeepAlivePolicy::Histogram(policy))
        }
        _ => Err(format!(
            "unknown keep-alive policy {text:?}: use fixed:MINUTES, hybrid, whirl or whirl:PRICE"
        )),
    }
}

/// Parses `KIND=COUNT` (`nodejs:20=2`; `nodejs:default` works too).
fn parse_stem_cells(text: &str) -> Result<(RuntimeKind, usize), String> {
    let (kind, count) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("expected KIND=COUNT, e.g. nodejs:20=2, got {text:?}"))?;
    let kind: RuntimeKind = kind
        .parse()
        .map_err(|e: bridge::UnknownKind| e.to_string())?;
    let count = count
        .parse()
        .map_err(|_| format!("the count in {text:?} is not a whole number"))?;
    Ok((kind, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stem_cell_flags_parse_kind_and_count() {
        assert_eq!(
            parse_stem_cells("nodejs:20=3"),
            Ok((RuntimeKind::Nodejs20, 3))
        );
        assert_eq!(
            parse_stem_cells("python:default=1"),
            Ok((RuntimeKind::Python3, 1))
        );
        assert!(parse_stem_cells("nodejs:20").is_err());
        assert!(parse_stem_cells("ruby:3=1").is_err());
        assert!(parse_stem_cells("nodejs:20=x").is_err());
    }

    #[test]
    fn keep_alive_flags_select_the_pool_policy() {
        assert_eq!(
            parse_keep_alive("fixed:10"),
            Ok(KeepAlivePolicy::IdleFor { idle_ms: 600_000 })
        );
        assert_eq!(
            parse_keep_alive("hybrid"),
            Ok(KeepAlivePolicy::hybrid_histogram())
        );
        assert_eq!(parse_keep_alive("whirl"), Ok(KeepAlivePolicy::whirl()));
        let Ok(KeepAlivePolicy::Histogram(policy)) = parse_keep_alive("whirl:2.5") else {
            panic!("whirl:2.5 is a histogram policy");
        };
        assert_eq!(policy.rule, WindowRule::CostAware { price_milli: 2_500 });
        for bad in ["fixed", "fixed:x", "whirl:-1", "lru", "hybrid:3"] {
            assert!(parse_keep_alive(bad).is_err(), "{bad}");
        }
    }
}
