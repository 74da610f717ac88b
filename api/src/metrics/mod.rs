//! Prometheus `/metrics`: OpenFaaS's gateway metrics (`gateway_function_invocation_total`,
//! `gateway_functions_seconds`, `gateway_function_invocation_started`, `gateway_service_count`)
//! and Whirl's own (cold and warm starts, init times, the pool's containers by state and its
//! queue, the controller's counters, the event log's append and flush latency, the NATS bus's
//! messages and round trips) and the usual `process_*` families of a Prometheus target, in the
//! text exposition format 0.0.4. Every metric, its labels and buckets: docs/metrics.md.
//!
//! The per-function metrics are counted from the log ([`FunctionMetrics`], fed by a follower
//! thread that reads every second, and caught up to the log's head at each scrape), so no handler
//! has to count and no commit wakes an extra thread; the rest is read at scrape time from the
//! stats the store, the bus and the actors keep.
//!
//! For the OpenFaaS routes (`/function/{name}`, `/async-function/{name}`): report each answer
//! with `state.metrics.record_gateway_request(&metrics::function_name(namespace, None, name),
//! status_code, elapsed)`; it feeds `whirl_gateway_requests_total` and
//! `whirl_gateway_request_seconds` (HTTP codes as answered, refusals included).

mod access;
mod endpoint;
mod exposition;
mod families;
mod function_name;
mod functions;
mod gateway;
mod process;
mod render;

pub use access::{authorize, MetricsToken};
pub use endpoint::metrics;
pub use exposition::{MetricType, TextExposition, CONTENT_TYPE};
pub use function_name::{function_name, function_name_of_path, status_code};
pub use functions::FunctionMetrics;

use crate::follower::{FollowerWake, LogFollower};
use bridge::bus::NatsBusStats;
use gateway::GatewayRequests;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use store::Store;

/// Everything `/metrics` reports, shared by the HTTP workers.
pub struct Metrics {
    functions: Arc<FunctionMetrics>,
    gateway: GatewayRequests,
    store: Store,
    nats: OnceLock<Arc<NatsBusStats>>,
    follower: LogFollower,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Starts counting the functions' metrics from the log's record `from_seq` on.
    pub fn start(store: &Store, from_seq: u64) -> std::io::Result<Self> {
        let functions = Arc::new(FunctionMetrics::default());
        let follower = {
            let functions = Arc::clone(&functions);
            LogFollower::start(
                store,
                from_seq,
                "whirl-metrics-follower",
                FollowerWake::Every(Duration::from_secs(1)),
                move |record| functions.apply(&record.event),
            )?
        };
        Ok(Self {
            functions,
            gateway: GatewayRequests::default(),
            store: store.clone(),
            nats: OnceLock::new(),
            follower,
        })
    }

    /// Reports the NATS bus of this process.
    pub fn attach_nats(&self, stats: Arc<NatsBusStats>) {
        let _ = self.nats.set(stats);
    }

    /// Counts one answer of an OpenFaaS invocation route: `function_name` as
    /// [`function_name`] builds it, `code` the HTTP status answered, `elapsed` from the
    /// request to the answer.
    pub fn record_gateway_request(&self, function_name: &str, code: u16, elapsed: Duration) {
        self.gateway.record(function_name, code, elapsed);
    }

    /// The per-function metrics counted from the log, as of the last catch-up.
    pub fn functions(&self) -> &FunctionMetrics {
        &self.functions
    }

    /// Counts every record durable now into the per-function metrics (reads the log on the
    /// caller's thread: call it from a blocking context).
    pub fn catch_up(&self) -> usize {
        self.follower.catch_up()
    }
}
