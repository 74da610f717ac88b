//! `FunctionMetrics`: the per-function metrics, counted from the log (so every invocation
//! counts, whichever route or trigger caused it and whoever wrote the record): OpenFaaS's
//! gateway metrics, cold and warm starts, init times, activation statuses, trigger fires.

use super::families::{CounterFamily, HistogramFamily};
use super::function_name::{function_name, function_name_of_path, status_code};
use std::sync::atomic::{AtomicU64, Ordering};
use store::latency::FUNCTION_BUCKETS_MICROS;
use store::{ActivationDoc, Event};

/// What the log follower has counted since this process started.
#[derive(Debug)]
pub struct FunctionMetrics {
    /// `gateway_function_invocation_total{function_name,code}`.
    pub invocations: CounterFamily,
    /// `gateway_functions_seconds{function_name,code}`: the activation's duration.
    pub durations: HistogramFamily,
    /// `gateway_function_invocation_started{function_name}`: invocations accepted.
    pub started: CounterFamily,
    /// `whirl_function_starts_total{function_name,start}`: cold (the activation initialized its
    /// container: its record has `initTime`) or warm.
    pub starts: CounterFamily,
    /// `whirl_function_init_seconds{function_name}`: init time of cold starts.
    pub init_times: HistogramFamily,
    /// `whirl_activations_total{status}`: every activation record but triggers'.
    pub statuses: CounterFamily,
    /// `whirl_trigger_activations_total`: trigger fires recorded.
    trigger_activations: AtomicU64,
}

impl Default for FunctionMetrics {
    fn default() -> Self {
        Self {
            invocations: CounterFamily::default(),
            durations: HistogramFamily::new(FUNCTION_BUCKETS_MICROS),
            started: CounterFamily::default(),
            starts: CounterFamily::default(),
            init_times: HistogramFamily::new(FUNCTION_BUCKETS_MICROS),
            statuses: CounterFamily::default(),
            trigger_activations: AtomicU64::new(0),
        }
    }
}

/// What the metrics read from a record's annotations.
struct RecordAnnotations {
    kind: Option<String>,
    path: Option<String>,
    init_time_ms: Option<u64>,
}

fn annotations(doc: &ActivationDoc) -> RecordAnnotations {
    let mut found = RecordAnnotations {
        kind: None,
        path: None,
        init_time_ms: None,
    };
    let Ok(serde_json::Value::Array(pairs)) = doc.annotations.to_value() else {
        return found;
    };
    for pair in &pairs {
        match (pair.get("key").and_then(|k| k.as_str()), pair.get("value")) {
            (Some("kind"), Some(value)) => found.kind = value.as_str().map(str::to_owned),
            (Some("path"), Some(value)) => found.path = value.as_str().map(str::to_owned),
            (Some("initTime"), Some(value)) => found.init_time_ms = value.as_u64(),
            _ => {}
        }
    }
    found
}

impl FunctionMetrics {
    /// Counts one event of the log (only invocations and activation records count).
    pub fn apply(&self, event: &Event) {
        match event {
            Event::InvocationAccepted(accepted) => {
                let action = &accepted.action;
                let name =
                    function_name(&action.namespace, action.package.as_deref(), &action.name);
                self.started.add(&[&name], 1);
            }
            Event::ActivationRecorded(doc) => self.record(doc),
            _ => {}
        }
    }

    fn record(&self, doc: &ActivationDoc) {
        let annotations = annotations(doc);
        if annotations.kind.as_deref() == Some("trigger") {
            self.trigger_activations.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // The action's own path (the record's namespace is the caller's).
        let name = annotations
            .path
            .as_deref()
            .and_then(function_name_of_path)
            .unwrap_or_else(|| function_name(&doc.namespace, doc.package.as_deref(), &doc.name));
        let code = status_code(doc.status);
        self.invocations.add(&[&name, code], 1);
        self.durations
            .observe_micros(&[&name, code], doc.duration_ms.saturating_mul(1_000));
        self.statuses.add(&[doc.status.as_str()], 1);
        // Starts are counted for activations that ran in a container: not sequences, not records
        // the platform wrote without running anything (no kind: orphans ended at a restart;
        // whisk internal errors: no container could run it).
        let ran_in_container = matches!(annotations.kind.as_deref(), Some(kind) if kind != "sequence")
            && doc.status != store::ActivationStatus::WhiskInternalError;
        if !ran_in_container {
            return;
        }
        match annotations.init_time_ms {
            Some(init_ms) => {
                self.starts.add(&[&name, "cold"], 1);
                self.init_times
                    .observe_micros(&[&name], init_ms.saturating_mul(1_000));
            }
            None => self.starts.add(&[&name, "warm"], 1),
        }
    }

    /// Trigger fires recorded.
    pub fn trigger_activations(&self) -> u64 {
        self.trigger_activations.load(Ordering::Relaxed)
    }
}
