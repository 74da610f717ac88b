//! `FunctionMetrics`: the per-function metrics, counted from the log (so every invocation
//! counts, whichever route or trigger caused it and whoever wrote the record): OpenFaaS's
//! gateway metrics, cold and warm starts, init times, activation statuses, trigger fires.

use super::families::{CounterFamily, HistogramFamily};
use super::function_name::{function_name, function_name_of_path, status_code};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use store::latency::FUNCTION_BUCKETS_MICROS;
use store::{ActivationDoc, ActivationId, Event};

/// What the log follower has counted since this process started.
#[derive(Debug)]
pub struct FunctionMetrics {
    /// `gateway_function_invocation_total{function_name,code}`.
    pub invocations: CounterFamily,
    /// `gateway_functions_seconds{function_name,code}`: the activation's duration.
    pub durations: HistogramFamily,
    /// `gateway_function_invocation_started{function_name}`: invocations accepted (counted at
    /// their `InvocationAccepted`, or at their record when it is the first the log holds of them:
    /// blocking invocations are written with their record).
    pub started: CounterFamily,
    /// Invocations counted as started whose record has not come yet.
    started_open: Mutex<HashSet<ActivationId>>,
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
            started_open: Mutex::default(),
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

/// One `{"key","value"}` pair of a record's annotations, its value left as text until needed.
#[derive(serde::Deserialize)]
struct AnnotationPair<'a> {
    #[serde(borrow)]
    key: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    value: &'a serde_json::value::RawValue,
}

/// Reads `kind`, `path` and `initTime` from a record's annotations. The other values are checked
/// and skipped, not built (this runs for every record the log follower sees).
fn annotations(doc: &ActivationDoc) -> RecordAnnotations {
    let mut found = RecordAnnotations {
        kind: None,
        path: None,
        init_time_ms: None,
    };
    let Ok(pairs) = serde_json::from_str::<Vec<AnnotationPair<'_>>>(doc.annotations.as_str())
    else {
        return found;
    };
    let text = |value: &serde_json::value::RawValue| serde_json::from_str(value.get()).ok();
    for pair in &pairs {
        match pair.key.as_ref() {
            "kind" => found.kind = text(pair.value),
            "path" => found.path = text(pair.value),
            "initTime" => found.init_time_ms = serde_json::from_str(pair.value.get()).ok(),
            _ => {}
        }
    }
    found
}

impl FunctionMetrics {
    /// Counts one event of the log (only invocations and activation records count; OpenFaaS
    /// callback deliveries, which are not functions, do not).
    pub fn apply(&self, event: &Event) {
        match event {
            Event::InvocationAccepted(accepted)
                if crate::openfaas::is_delivery_name(&accepted.action.name) => {}
            Event::ActivationRecorded(doc) if crate::openfaas::is_delivery_name(&doc.name) => {}
            Event::InvocationAccepted(accepted) => {
                let action = &accepted.action;
                let name =
                    function_name(&action.namespace, action.package.as_deref(), &action.name);
                self.started.add(&[&name], 1);
                if let Ok(mut open) = self.started_open.lock() {
                    open.insert(accepted.activation_id);
                }
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
        let accepted_before = self
            .started_open
            .lock()
            .map(|mut open| open.remove(&doc.activation_id))
            .unwrap_or(false);
        if !accepted_before {
            self.started.add(&[&name], 1);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use store::{
        ActivationId, ActivationStatus, ChangedBy, FullyQualifiedName, InvocationAccepted,
        JsonText, SemVer,
    };

    fn record(name: &str, status: ActivationStatus, annotations: serde_json::Value) -> Event {
        Event::ActivationRecorded(ActivationDoc {
            activation_id: ActivationId::generate(),
            // The caller's namespace: the label names the action's own (its path).
            namespace: "caller".into(),
            name: name.into(),
            package: None,
            subject: "caller".into(),
            version: SemVer::default(),
            start_ms: 0,
            end_ms: 40,
            duration_ms: 40,
            cause: None,
            status,
            result: JsonText::from_value(&json!({})),
            logs: vec![],
            annotations: JsonText::from_value(&annotations),
        })
    }

    fn action(path: &str, init_ms: Option<u64>) -> serde_json::Value {
        let mut pairs = vec![
            json!({"key": "path", "value": path}),
            json!({"key": "kind", "value": "python:3"}),
        ];
        if let Some(init) = init_ms {
            pairs.push(json!({"key": "initTime", "value": init}));
        }
        serde_json::Value::Array(pairs)
    }

    #[test]
    fn annotations_are_read_by_key_and_other_values_skipped() {
        let annotations = json!([
            {"key": "limits", "value": {"memory": 256, "nested": [{"key": "kind"}]}},
            {"key": "path", "value": "owner/p\u{e4}ck/f \"quoted\""},
            {"key": "kind", "value": 3},
            {"key": "initTime", "value": 12.5},
            {"key": "kind", "value": "nodejs:20"},
        ]);
        let Event::ActivationRecorded(doc) = record("f", ActivationStatus::Success, annotations)
        else {
            unreachable!()
        };
        let found = super::annotations(&doc);
        assert_eq!(found.path.as_deref(), Some("owner/päck/f \"quoted\""));
        assert_eq!(found.kind.as_deref(), Some("nodejs:20"));
        assert_eq!(found.init_time_ms, None);
        let Event::ActivationRecorded(doc) = record("f", ActivationStatus::Success, json!({}))
        else {
            unreachable!()
        };
        assert!(super::annotations(&doc).path.is_none());
    }

    #[test]
    fn records_count_by_function_code_and_start_and_triggers_apart() {
        let metrics = FunctionMetrics::default();
        let ok = ActivationStatus::Success;
        metrics.apply(&record("f", ok, action("owner/pkg/f", Some(120))));
        metrics.apply(&record("f", ok, action("owner/pkg/f", None)));
        metrics.apply(&record(
            "f",
            ActivationStatus::ApplicationError,
            action("owner/pkg/f", None),
        ));
        // Not starts: a sequence, a whisk internal error, an orphan ended without a run (no kind).
        metrics.apply(&record(
            "s",
            ok,
            json!([{"key": "path", "value": "owner/s"}, {"key": "kind", "value": "sequence"}]),
        ));
        metrics.apply(&record(
            "f",
            ActivationStatus::WhiskInternalError,
            action("owner/pkg/f", None),
        ));
        metrics.apply(&record(
            "o",
            ActivationStatus::WhiskInternalError,
            json!([]),
        ));
        // A trigger fire is not a function invocation.
        metrics.apply(&record(
            "t",
            ok,
            json!([{"key": "kind", "value": "trigger"}]),
        ));
        metrics.apply(&Event::InvocationAccepted(InvocationAccepted {
            activation_id: ActivationId::generate(),
            action: FullyQualifiedName {
                namespace: "owner".into(),
                package: Some("pkg".into()),
                name: "f".into(),
            },
            version: SemVer::default(),
            params: JsonText::from_value(&json!({})),
            blocking: true,
            cause: None,
            by: ChangedBy::System,
        }));

        let key = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            metrics.invocations.snapshot(),
            vec![
                (key(&["o.caller", "502"]), 1),
                (key(&["pkg/f.owner", "200"]), 2),
                (key(&["pkg/f.owner", "500"]), 1),
                (key(&["pkg/f.owner", "502"]), 1),
                (key(&["s.owner", "200"]), 1),
            ]
        );
        assert_eq!(
            metrics.starts.snapshot(),
            vec![
                (key(&["pkg/f.owner", "cold"]), 1),
                (key(&["pkg/f.owner", "warm"]), 2),
            ]
        );
        let init = metrics.init_times.snapshot();
        assert_eq!(
            (init.len(), init[0].1.count, init[0].1.sum_micros),
            (1, 1, 120_000)
        );
        let durations = metrics.durations.snapshot();
        assert_eq!(durations[1].0, key(&["pkg/f.owner", "200"]));
        assert_eq!(durations[1].1.sum_micros, 80_000);
        // Records without an acceptance before them started with their record; the acceptance
        // whose record has not come counts once.
        assert_eq!(
            metrics.started.snapshot(),
            vec![
                (key(&["o.caller"]), 1),
                (key(&["pkg/f.owner"]), 5),
                (key(&["s.owner"]), 1),
            ]
        );
        assert_eq!(metrics.trigger_activations(), 1);
        assert_eq!(
            metrics.statuses.snapshot(),
            vec![
                (key(&["application error"]), 1),
                (key(&["success"]), 3),
                (key(&["whisk internal error"]), 2),
            ]
        );
    }

    #[test]
    fn an_invocation_starts_once_whether_accepted_before_its_record_or_not() {
        let metrics = FunctionMetrics::default();
        let Event::ActivationRecorded(mut doc) =
            record("f", ActivationStatus::Success, action("owner/f", None))
        else {
            unreachable!("record() builds a record");
        };
        let id = ActivationId::generate();
        doc.activation_id = id;
        metrics.apply(&Event::InvocationAccepted(InvocationAccepted {
            activation_id: id,
            action: FullyQualifiedName {
                namespace: "owner".into(),
                package: None,
                name: "f".into(),
            },
            version: SemVer::default(),
            params: JsonText::from_value(&json!({})),
            blocking: false,
            cause: None,
            by: ChangedBy::System,
        }));
        metrics.apply(&Event::ActivationRecorded(doc.clone()));
        doc.activation_id = ActivationId::generate();
        metrics.apply(&Event::ActivationRecorded(doc.clone()));
        // An OpenFaaS callback delivery is not a function.
        doc.activation_id = ActivationId::generate();
        doc.name = "f:callback".into();
        doc.annotations = JsonText::empty_array();
        metrics.apply(&Event::ActivationRecorded(doc));
        let started = metrics.started.snapshot();
        assert_eq!(started, vec![(vec!["f.owner".to_owned()], 2)]);
        assert_eq!(metrics.invocations.snapshot().len(), 1);
    }
}
