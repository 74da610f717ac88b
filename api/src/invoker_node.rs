//! `InvokerNode`: `whirl serve --role invoker`: a container driver and one supervised invoker on
//! the NATS bus, with no store and no API (the controllers own both). It announces itself with
//! pings and runs what the controllers send it until it is told to stop.

use crate::error::{Error, Result};
use crate::platform::{connect_bus, remove_containers, start_invoker, PlatformOptions};
use bridge::ContainerDriver;
use std::path::Path;
use std::sync::Arc;
use store::{Clock, SystemClock};

/// A running invoker process.
pub struct InvokerNode {
    driver: Arc<dyn ContainerDriver>,
}

impl InvokerNode {
    /// Connects to NATS (`options.nats` is required) and starts the driver and the invoker;
    /// `data_dir` holds only runtime files (no log).
    pub async fn start(data_dir: &Path, options: PlatformOptions) -> Result<Self> {
        if options.nats.is_none() {
            return Err(Error::Internal {
                what: "start an invoker",
                reason: "--role invoker needs --nats (an invoker alone has no controller)".into(),
            });
        }
        std::fs::create_dir_all(data_dir).map_err(|e| Error::Internal {
            what: "create the data directory",
            reason: e.to_string(),
        })?;
        let name = format!("whirl-invoker{}", options.invoker_id);
        let (bus, _, _) = connect_bus(&options, &name).await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let (driver, _invoker) = start_invoker(data_dir, &options, bus, clock).await?;
        Ok(InvokerNode { driver })
    }

    /// Runs until SIGINT or SIGTERM, then removes the containers it has.
    pub async fn wait(self) -> Result<()> {
        let mut terminate = tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        )
        .map_err(|e| Error::Internal {
            what: "listen for SIGTERM",
            reason: e.to_string(),
        })?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("invoker stopping");
        remove_containers(self.driver.as_ref()).await;
        Ok(())
    }
}
