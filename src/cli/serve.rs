//! `whirl serve`: runs Whirl. With the embedded defaults (`--role all`, `--backend process`) one
//! process holds the store, a controller, one invoker on local processes, and the HTTP API.

use super::DataDir;
use actors::controller_actor::ControllerActor;
use actors::core::controller::ControllerConfig;
use actors::core::ids::InvokerId;
use actors::core::pool::PoolConfig;
use actors::invoker_actor::{InvokerActor, InvokerConfig};
use anyhow::Context;
use bridge::bus::{Bus, InProcessBus};
use bridge::{ProcessDriver, ProcessDriverConfig, RuntimeKind, StemCellConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use store::{Clock, Store, StoreOptions, SystemClock};

/// Where containers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Local processes (python3, node, commands) in their own process groups: no isolation
    /// between functions beyond the OS user; for a laptop or trusted code.
    Process,
    /// Docker containers through the Docker API (one container per warm function).
    Docker,
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
    /// Memory the invoker offers to actions, in MB (OpenWhisk's `user-memory`).
    #[arg(long, default_value_t = 2048)]
    pub user_memory: u64,
    /// Prewarmed stem cells the process driver keeps per kind, as KIND=COUNT (repeatable), e.g.
    /// `--stem-cells nodejs:20=4 --stem-cells python:3=1`. Python actions start from the zygote
    /// anyway (unless `--no-zygote`), so stem cells matter most for Node.js.
    #[arg(long = "stem-cells", value_parser = parse_stem_cells, default_values = ["nodejs:20=2"])]
    pub stem_cells: Vec<(RuntimeKind, usize)>,
    /// Start Python actions as fresh interpreters instead of forking them from the zygote.
    #[arg(long)]
    pub no_zygote: bool,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    actix_rt::System::new().block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.backend == Backend::Docker {
        anyhow::bail!(
            "the Docker backend is not part of this build yet; run with --backend process (the default)"
        );
    }
    let data_dir = &args.data_dir.path;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let store = Store::open(data_dir, StoreOptions::default()).with_context(|| {
        format!(
            "cannot open the Whirl data directory {}",
            data_dir.display()
        )
    })?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let orphans = actors::recovery::end_orphans(&store, clock.now_ms())?;
    tracing::info!(data_dir = %data_dir.display(), head = store.head_seq(), orphans, "store open");

    let mut driver_config = ProcessDriverConfig::new(data_dir.join("runtimes"));
    driver_config.python_zygote = !args.no_zygote;
    driver_config.stem_cells = args
        .stem_cells
        .iter()
        .map(|&(kind, count)| StemCellConfig {
            kind,
            memory_mb: 256,
            count,
        })
        .collect();
    let driver = Arc::new(
        ProcessDriver::start(driver_config)
            .await
            .context("cannot start the process driver")?,
    );

    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let controller = ControllerActor::new(
        ControllerConfig::default(),
        store.clone(),
        bus.clone(),
        clock.clone(),
    )
    .start_supervised()
    .await?;
    let pool = PoolConfig {
        user_memory_mb: args.user_memory,
        ..PoolConfig::default()
    };
    let _invoker = InvokerActor::new(InvokerConfig::new(InvokerId(0), pool), driver, bus, clock)
        .start_supervised()
        .await?;

    let state = api::ApiState { store, controller };
    eprintln!("whirl: serving the API on http://{}", args.listen);
    api::serve(state, args.listen)
        .await
        .context("HTTP server failed")
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
}
