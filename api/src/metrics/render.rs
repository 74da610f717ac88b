//! One scrape: every family, read now from the log-fed function metrics, the actors' stats
//! (asked with a short timeout; a family whose source does not answer is left out), the log
//! writer's stats and the NATS bus's.

use super::exposition::{MetricType, TextExposition};
use super::families::{CounterFamily, HistogramFamily};
use super::function_name::function_name_of_path;
use super::process::{self, ProcessSample};
use super::Metrics;
use actix::Addr;
use actors::controller_actor::{ControllerActor, ControllerStats};
use actors::invoker_actor::{GetInvokerStats, InvokerActor, InvokerStats};
use bridge::bus::{BusMessageKind, NatsBusStats};
use std::collections::BTreeMap;
use std::time::Duration;
use store::{EventLog, HistogramSnapshot};

/// How long a scrape waits for an actor's stats.
const ACTOR_TIMEOUT: Duration = Duration::from_secs(2);

/// The pool's container states, all reported (0 when none is in it).
const CONTAINER_STATES: [&str; 5] = ["starting", "prewarmed", "running", "ready", "paused"];

/// The whole exposition.
pub async fn render(
    metrics: &Metrics,
    controller: &Addr<ControllerActor>,
    invoker: Option<&Addr<InvokerActor>>,
) -> String {
    let mut text = TextExposition::default();
    let invoker = match invoker {
        Some(invoker) => ask("invoker", invoker.send(GetInvokerStats)).await,
        None => None,
    };
    let controller = ask("controller", controller.send(ControllerStats)).await;

    write_gateway(&mut text, metrics, invoker.as_ref());
    write_functions(&mut text, metrics);
    if let Some(stats) = &invoker {
        write_pool(&mut text, stats);
    }
    if let Some(stats) = &controller {
        counter(&mut text, "whirl_controller_invocations_total", "Invocations the controller accepted, recorded (one record each), and recorded lost with their invoker.", &[
            (&[("outcome", "accepted")], stats.accepted),
            (&[("outcome", "recorded")], stats.recorded),
            (&[("outcome", "lost")], stats.lost),
        ]);
        gauge(
            &mut text,
            "whirl_controller_in_flight",
            "Invocations accepted and not yet recorded.",
            to_u64(stats.in_flight),
        );
        counter(
            &mut text,
            "whirl_controller_restarts_total",
            "Restarts of the controller actor by its supervisor.",
            &[(&[], stats.restarts)],
        );
    }
    write_log(&mut text, metrics);
    if let Some(nats) = metrics.nats.get() {
        write_nats(&mut text, nats);
    }
    if let Some(process) = process::read_own() {
        write_process(&mut text, &process);
    }
    text.finish()
}

async fn ask<T>(
    what: &'static str,
    reply: impl std::future::Future<Output = Result<T, actix::MailboxError>>,
) -> Option<T> {
    match tokio::time::timeout(ACTOR_TIMEOUT, reply).await {
        Ok(Ok(stats)) => Some(stats),
        Ok(Err(error)) => {
            tracing::warn!(what, %error, "no stats for /metrics");
            None
        }
        Err(_) => {
            tracing::warn!(what, "no stats for /metrics within the timeout");
            None
        }
    }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The families of Prometheus's process collector, under their usual names.
fn write_process(text: &mut TextExposition, process: &ProcessSample) {
    text.family(
        "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        MetricType::Counter,
    );
    text.sample_f64("process_cpu_seconds_total", &[], process.cpu_seconds);
    gauge(
        text,
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        process.resident_bytes,
    );
    gauge(
        text,
        "process_virtual_memory_bytes",
        "Virtual memory size in bytes.",
        process.virtual_bytes,
    );
    gauge(
        text,
        "process_threads",
        "Number of OS threads in the process.",
        process.threads,
    );
    text.family(
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        MetricType::Gauge,
    );
    text.sample_f64(
        "process_start_time_seconds",
        &[],
        process.start_time_seconds,
    );
    if let Some(open) = process.open_fds {
        gauge(
            text,
            "process_open_fds",
            "Number of open file descriptors.",
            open,
        );
    }
    if let Some(max) = process.max_fds {
        gauge(
            text,
            "process_max_fds",
            "Maximum number of open file descriptors.",
            max,
        );
    }
}

fn counter(text: &mut TextExposition, name: &str, help: &str, samples: &[(&[(&str, &str)], u64)]) {
    text.family(name, help, MetricType::Counter);
    for (labels, value) in samples {
        text.sample(name, labels, *value);
    }
}

fn gauge(text: &mut TextExposition, name: &str, help: &str, value: u64) {
    text.family(name, help, MetricType::Gauge);
    text.sample(name, &[], value);
}

fn histogram(text: &mut TextExposition, name: &str, help: &str, snapshot: &HistogramSnapshot) {
    text.family(name, help, MetricType::Histogram);
    text.histogram(name, &[], snapshot);
}

fn counter_family(
    text: &mut TextExposition,
    name: &str,
    help: &str,
    label_names: &[&str],
    family: &CounterFamily,
) {
    text.family(name, help, MetricType::Counter);
    for (values, count) in family.snapshot() {
        let labels: Vec<(&str, &str)> = label_names
            .iter()
            .copied()
            .zip(values.iter().map(String::as_str))
            .collect();
        text.sample(name, &labels, count);
    }
}

fn histogram_family(
    text: &mut TextExposition,
    name: &str,
    help: &str,
    label_names: &[&str],
    family: &HistogramFamily,
) {
    text.family(name, help, MetricType::Histogram);
    for (values, snapshot) in family.snapshot() {
        let labels: Vec<(&str, &str)> = label_names
            .iter()
            .copied()
            .zip(values.iter().map(String::as_str))
            .collect();
        text.histogram(name, &labels, &snapshot);
    }
}

/// OpenFaaS's gateway metrics, and what the OpenFaaS routes answered.
fn write_gateway(text: &mut TextExposition, metrics: &Metrics, invoker: Option<&InvokerStats>) {
    let functions = &metrics.functions;
    counter_family(text, "gateway_function_invocation_total", "Activations recorded, by function and code (200 success, 500 application or developer error, 502 whisk internal error).", &["function_name", "code"], &functions.invocations);
    histogram_family(
        text,
        "gateway_functions_seconds",
        "Duration of recorded activations, by function and code.",
        &["function_name", "code"],
        &functions.durations,
    );
    counter_family(
        text,
        "gateway_function_invocation_started",
        "Invocations accepted, by function.",
        &["function_name"],
        &functions.started,
    );
    if let Some(stats) = invoker {
        text.family(
            "gateway_service_count",
            "Containers dedicated to each function in this process's pool (its replicas).",
            MetricType::Gauge,
        );
        let mut replicas: BTreeMap<String, usize> = BTreeMap::new();
        for (action, count) in &stats.containers_by_action {
            let name = function_name_of_path(action).unwrap_or_else(|| action.clone());
            *replicas.entry(name).or_insert(0) += count;
        }
        for (name, count) in &replicas {
            text.sample(
                "gateway_service_count",
                &[("function_name", name)],
                to_u64(*count),
            );
        }
    }
    counter_family(
        text,
        "whirl_gateway_requests_total",
        "Answers of the OpenFaaS invocation routes, by function and HTTP status.",
        &["function_name", "code"],
        &metrics.gateway.requests,
    );
    histogram_family(text, "whirl_gateway_request_seconds", "Time from request to answer on the OpenFaaS invocation routes, by function and HTTP status.", &["function_name", "code"], &metrics.gateway.seconds);
}

/// Whirl's per-function metrics from the log.
fn write_functions(text: &mut TextExposition, metrics: &Metrics) {
    let functions = &metrics.functions;
    counter_family(text, "whirl_function_starts_total", "Activations that ran in a container, by function and start: cold (it initialized the container) or warm.", &["function_name", "start"], &functions.starts);
    histogram_family(
        text,
        "whirl_function_init_seconds",
        "Init time of cold starts, by function.",
        &["function_name"],
        &functions.init_times,
    );
    counter_family(
        text,
        "whirl_activations_total",
        "Activation records of actions and sequences, by OpenWhisk status.",
        &["status"],
        &functions.statuses,
    );
    counter(
        text,
        "whirl_trigger_activations_total",
        "Trigger fires recorded.",
        &[(&[], functions.trigger_activations())],
    );
}

/// The pool of this process's invoker.
fn write_pool(text: &mut TextExposition, stats: &InvokerStats) {
    let mut by_state: BTreeMap<String, usize> = CONTAINER_STATES
        .iter()
        .map(|state| ((*state).to_owned(), 0))
        .collect();
    for (state, count) in &stats.containers {
        *by_state
            .entry(format!("{state:?}").to_lowercase())
            .or_insert(0) += count;
    }
    text.family(
        "whirl_pool_containers",
        "Containers of the invoker's pool, by state.",
        MetricType::Gauge,
    );
    for (state, count) in &by_state {
        text.sample("whirl_pool_containers", &[("state", state)], to_u64(*count));
    }
    gauge(
        text,
        "whirl_pool_queue_depth",
        "Activations waiting in the invoker for a container.",
        to_u64(stats.queue_depth),
    );
    gauge(
        text,
        "whirl_pool_in_flight",
        "Activations the invoker has and has not finished (running or queued).",
        to_u64(stats.in_flight),
    );
    let counters = &stats.counters;
    counter(text, "whirl_pool_events_total", "What the invoker's pool did, by event (cold_start, warm_start and prewarm_start count placements).", &[
        (&[("event", "cold_start")], counters.cold_starts),
        (&[("event", "warm_start")], counters.warm_starts),
        (&[("event", "prewarm_start")], counters.prewarm_starts),
        (&[("event", "eviction")], counters.evictions),
        (&[("event", "expiration")], counters.expirations),
        (&[("event", "pause")], counters.pauses),
        (&[("event", "create_failure")], counters.create_failures),
        (&[("event", "container_failure")], counters.container_failures),
        (&[("event", "rejection")], counters.rejections),
    ]);
    counter(
        text,
        "whirl_invoker_restarts_total",
        "Restarts of the invoker actor by its supervisor.",
        &[(&[], stats.restarts)],
    );
}

/// The event log's writer.
fn write_log(text: &mut TextExposition, metrics: &Metrics) {
    let log = metrics.store.log();
    let stats = log.stats();
    let counts = stats.counts();
    counter(
        text,
        "whirl_log_appends_total",
        "Appends to the event log acknowledged durable.",
        &[(&[], counts.appends)],
    );
    counter(
        text,
        "whirl_log_records_total",
        "Records made durable in the event log.",
        &[(&[], counts.records)],
    );
    counter(
        text,
        "whirl_log_groups_total",
        "Group commits: batches of appends written together.",
        &[(&[], counts.groups)],
    );
    counter(
        text,
        "whirl_log_append_failures_total",
        "Appends answered with an error.",
        &[(&[], counts.failed_appends)],
    );
    histogram(
        text,
        "whirl_log_append_seconds",
        "From an append handed to the log writer to its acknowledgement (durable).",
        &stats.append_latency.snapshot(),
    );
    histogram(
        text,
        "whirl_log_flush_seconds",
        "One flush of the log to disk (covers every group written since the last).",
        &stats.flush_latency.snapshot(),
    );
    gauge(
        text,
        "whirl_log_head_seq",
        "The seq of the last durable record.",
        log.head().map_or(0, |head| head.seq),
    );
}

/// The NATS bus.
fn write_nats(text: &mut TextExposition, nats: &NatsBusStats) {
    let label = |kind: BusMessageKind| kind.as_str().replace(' ', "_");
    text.family(
        "whirl_nats_messages_published_total",
        "Bus messages handed to NATS, by kind.",
        MetricType::Counter,
    );
    for kind in BusMessageKind::ALL {
        text.sample(
            "whirl_nats_messages_published_total",
            &[("kind", &label(kind))],
            nats.published(kind),
        );
    }
    text.family(
        "whirl_nats_messages_received_total",
        "Bus messages received from NATS and decoded, by kind.",
        MetricType::Counter,
    );
    for kind in BusMessageKind::ALL {
        text.sample(
            "whirl_nats_messages_received_total",
            &[("kind", &label(kind))],
            nats.received(kind),
        );
    }
    counter(
        text,
        "whirl_nats_publish_failures_total",
        "Bus publishes the NATS connection refused.",
        &[(&[], nats.publish_failures())],
    );
    counter(
        text,
        "whirl_nats_decode_failures_total",
        "Bus messages dropped because they did not decode.",
        &[(&[], nats.decode_failures())],
    );
    counter(
        text,
        "whirl_nats_probe_failures_total",
        "Round-trip probes that did not come back within 2 s.",
        &[(&[], nats.probe_failures())],
    );
    histogram(text, "whirl_nats_round_trip_seconds", "Round trip to the NATS server: a probe every 5 s published on a subject this connection subscribes to.", &nats.round_trip.snapshot());
}
