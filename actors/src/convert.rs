//! Conversions between the persisted and wire types (`store`, `bridge`) and the cores' value types,
//! and the activation record built from a settled outcome.

use crate::annotation_list::AnnotationList;
use crate::core::action::{ActionKey, ActionLimits, Kind};
use crate::core::ids::ActivationId as CoreActivationId;
use crate::core::lifecycle::{ActivationOutcome, ActivationStatus as CoreStatus, AnnotationValue};
use crate::core::time::Millis;
use bridge::bus::ActivationMessage;
use bridge::{Isolation, NetworkAccess};
use store::{ActionDoc, ActivationDoc, ActivationId, ActivationStatus, Exec, JsonText};

/// The key an activation is throttled and placed under: like OpenWhisk, the namespace is the
/// invoking one (`subject`), so a public action runs in containers of each caller's namespace and
/// counts against the caller's limits.
pub fn invocation_key(msg: &ActivationMessage) -> ActionKey {
    ActionKey::new(
        msg.subject.clone(),
        fully_qualified(&msg.action),
        msg.action.version.to_string(),
    )
}

/// Finishes a record's annotations: `causedBy` when the message has one, then an async call's.
fn record_annotations(msg: &ActivationMessage, mut annotations: AnnotationList) -> JsonText {
    if let Some(caused_by) = &msg.caused_by {
        annotations.push("causedBy", AnnotationValue::Text(caused_by));
    }
    push_async_call_annotations(msg, &mut annotations);
    annotations.finish()
}

/// An OpenFaaS async call's attempt (parameters with the gateway's `__whirl_async` marker) is
/// annotated `openfaas.callId` and `openfaas.attempt`, linking its records.
fn push_async_call_annotations(msg: &ActivationMessage, annotations: &mut AnnotationList) {
    let text = msg.params.as_str();
    if !text.contains("\"__whirl_async\"") {
        return;
    }
    let Ok(serde_json::Value::Object(mut params)) = serde_json::from_str(text) else {
        return;
    };
    let Some(marker) = params.remove("__whirl_async") else {
        return;
    };
    if let Some(call_id) = marker.get("callId") {
        annotations.push_json("openfaas.callId", call_id);
    }
    if let Some(attempt) = marker.get("attempt") {
        annotations.push_json("openfaas.attempt", attempt);
    }
}

/// `/namespace[/package]/name`.
pub fn fully_qualified(doc: &ActionDoc) -> String {
    let mut name = String::with_capacity(1 + path_len(doc));
    name.push('/');
    push_path(&mut name, doc);
    name
}

/// `namespace[/package]/name`, OpenWhisk's `path` annotation.
pub fn path(doc: &ActionDoc) -> String {
    let mut path = String::with_capacity(path_len(doc));
    push_path(&mut path, doc);
    path
}

fn path_len(doc: &ActionDoc) -> usize {
    let package = doc.package.as_ref().map_or(0, |package| package.len() + 1);
    doc.namespace.len() + 1 + package + doc.name.len()
}

fn push_path(text: &mut String, doc: &ActionDoc) {
    text.push_str(&doc.namespace);
    text.push('/');
    if let Some(package) = &doc.package {
        text.push_str(package);
        text.push('/');
    }
    text.push_str(&doc.name);
}

/// The kind stem cells are matched on: the runtime kind, `exec`, or `blackbox:<image>`, qualified
/// by the isolation the action asks for when it is not the default (`python:3;network=none`).
pub fn kind(doc: &ActionDoc) -> Kind {
    let base = match &doc.exec {
        Exec::Blackbox { image, .. } => format!("blackbox:{image}"),
        exec => exec.kind().to_owned(),
    };
    Kind::new(isolation(doc).qualify_kind(&base))
}

/// The isolation an action's annotations ask for: `network` = `"none"` or `"bridge"` (absent: the
/// backend's default) and `read-only-root` = `true`.
pub fn isolation(doc: &ActionDoc) -> Isolation {
    let text = doc.annotations.as_str();
    let mut isolation = Isolation::default();
    if !text.contains("\"network\"") && !text.contains("\"read-only-root\"") {
        return isolation;
    }
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(text) else {
        return isolation;
    };
    for item in &items {
        match (item.get("key").and_then(|k| k.as_str()), item.get("value")) {
            (Some("network"), Some(serde_json::Value::String(value))) => match value.as_str() {
                "none" => isolation.network = Some(NetworkAccess::None),
                "bridge" => isolation.network = Some(NetworkAccess::Egress),
                _ => {}
            },
            (Some("read-only-root"), Some(serde_json::Value::Bool(true))) => {
                isolation.read_only_root = true;
            }
            _ => {}
        }
    }
    isolation
}

/// The environment an action's containers get at init: the `environment` annotation, an object
/// of strings (OpenFaaS `envVars`, and `fprocess` for a function's command).
pub fn environment(doc: &ActionDoc) -> std::collections::BTreeMap<String, String> {
    let text = doc.annotations.as_str();
    let mut env = std::collections::BTreeMap::new();
    if !text.contains("\"environment\"") {
        return env;
    }
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(text) else {
        return env;
    };
    for item in &items {
        if let (Some("environment"), Some(serde_json::Value::Object(values))) =
            (item.get("key").and_then(|k| k.as_str()), item.get("value"))
        {
            for (key, value) in values {
                let value = match value {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                env.insert(key.clone(), value);
            }
        }
    }
    env
}

/// The action's own scaling, from its `scaling` annotation (`{"min", "max", "idleMs"}`, which the
/// OpenFaaS gateway writes from the `com.openfaas.scale.*` labels); `None` for other actions.
pub fn scaling(doc: &ActionDoc) -> Option<crate::core::pool::Scaling> {
    let text = doc.annotations.as_str();
    if !text.contains("\"scaling\"") {
        return None;
    }
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str(text) else {
        return None;
    };
    let value = items.iter().rev().find_map(|item| {
        (item.get("key").and_then(|k| k.as_str()) == Some("scaling"))
            .then(|| item.get("value"))
            .flatten()
    })?;
    let number = |key: &str| value.get(key).and_then(serde_json::Value::as_u64);
    Some(crate::core::pool::Scaling {
        min: u32::try_from(number("min").unwrap_or(0)).unwrap_or(u32::MAX),
        max: u32::try_from(number("max").unwrap_or(0)).unwrap_or(u32::MAX),
        idle_ms: number("idleMs"),
    })
}

/// The cores' view of the action's limits.
pub fn limits(doc: &ActionDoc) -> ActionLimits {
    ActionLimits {
        timeout_ms: doc.limits.timeout_ms,
        memory_mb: u64::from(doc.limits.memory_mb),
        logs_mb: u64::from(doc.limits.logs_mb),
        concurrency: doc.limits.concurrency.max(1),
    }
}

/// The limits an invoker runs the action with: the action's, with `concurrency` capped at what
/// its runtime interleaves (a Python launcher runs one activation at a time, so the containers
/// of a Python action with `concurrency: 5` take one activation each, as the pool and the
/// dispatcher then count them).
pub fn run_limits(doc: &ActionDoc) -> ActionLimits {
    let mut limits = limits(doc);
    if let Ok(kind) = doc.exec.kind().parse::<bridge::RuntimeKind>() {
        limits.concurrency = limits.concurrency.min(kind.max_concurrency());
    }
    limits
}

pub fn core_id(id: &ActivationId) -> CoreActivationId {
    CoreActivationId::new(id.to_string())
}

fn status(status: CoreStatus) -> ActivationStatus {
    match status {
        CoreStatus::Success => ActivationStatus::Success,
        CoreStatus::ApplicationError => ActivationStatus::ApplicationError,
        CoreStatus::DeveloperError => ActivationStatus::ActionDeveloperError,
        CoreStatus::WhiskError => ActivationStatus::WhiskInternalError,
    }
}

/// The activation record of a settled outcome.
pub fn record(msg: &ActivationMessage, outcome: &ActivationOutcome) -> ActivationDoc {
    let mut annotations = AnnotationList::new();
    for (key, value) in outcome.annotations.pairs() {
        annotations.push(key, value);
    }
    ActivationDoc {
        activation_id: msg.activation_id,
        // The activation belongs to the invoking namespace (OpenWhisk); `path` names the action.
        namespace: msg.subject.clone(),
        name: msg.action.name.clone(),
        package: msg.action.package.clone(),
        subject: msg.subject.clone(),
        version: msg.action.version,
        start_ms: outcome.start.as_u64(),
        end_ms: outcome.end.as_u64(),
        duration_ms: outcome.duration_ms,
        cause: msg.cause,
        status: status(outcome.status),
        result: JsonText::parse(&outcome.result).unwrap_or_else(|_| {
            JsonText::from_value(&serde_json::json!({ "error": outcome.result }))
        }),
        logs: outcome.logs.clone(),
        annotations: record_annotations(msg, annotations),
    }
}

/// A whisk internal error record for an accepted activation that will not get another one.
pub fn lost_record(msg: &ActivationMessage, message: &str, now: Millis) -> ActivationDoc {
    internal_error_record(msg, message, now, &[])
}

fn internal_error_record(
    msg: &ActivationMessage,
    message: &str,
    now: Millis,
    extra: &[(&str, AnnotationValue<'_>)],
) -> ActivationDoc {
    let mut annotations = AnnotationList::new();
    annotations.push("path", AnnotationValue::Text(&path(&msg.action)));
    annotations.push("kind", AnnotationValue::Text(kind(&msg.action).as_str()));
    annotations.push("limits", AnnotationValue::Limits(&limits(&msg.action)));
    annotations.push(
        "waitTime",
        AnnotationValue::Number(now.as_u64().saturating_sub(msg.accepted_at_ms)),
    );
    for (key, value) in extra {
        annotations.push(key, *value);
    }
    ActivationDoc {
        activation_id: msg.activation_id,
        namespace: msg.subject.clone(),
        name: msg.action.name.clone(),
        package: msg.action.package.clone(),
        subject: msg.subject.clone(),
        version: msg.action.version,
        start_ms: now.as_u64(),
        end_ms: now.as_u64(),
        duration_ms: 0,
        cause: msg.cause,
        status: ActivationStatus::WhiskInternalError,
        result: JsonText::from_value(&serde_json::json!({ "error": message })),
        logs: Vec::new(),
        annotations: record_annotations(msg, annotations),
    }
}

/// The record of a queued invocation that failed on the platform `attempts` times: a whisk
/// internal error whose result says why, annotated `deadLetter: true` and `attempts`.
pub fn dead_letter_record(
    msg: &ActivationMessage,
    reason: &str,
    attempts: u32,
    now: Millis,
) -> ActivationDoc {
    let message = format!("The invocation failed {attempts} times and was given up: {reason}");
    internal_error_record(
        msg,
        &message,
        now,
        &[
            ("deadLetter", AnnotationValue::Flag(true)),
            ("attempts", AnnotationValue::Number(u64::from(attempts))),
        ],
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use store::{ActionLimits as StoreLimits, FullyQualifiedName, SemVer};

    fn action(package: Option<&str>) -> ActionDoc {
        ActionDoc {
            namespace: "guest".into(),
            package: package.map(str::to_owned),
            name: "hello".into(),
            version: SemVer {
                major: 0,
                minor: 0,
                patch: 1,
            },
            publish: false,
            exec: Exec::Command {
                command: "cat".into(),
            },
            annotations: JsonText::empty_array(),
            parameters: JsonText::empty_array(),
            limits: StoreLimits::default(),
            updated_ms: 0,
        }
    }

    #[test]
    fn names_are_written_as_the_store_spells_them() {
        for package in [None, Some("utils")] {
            let doc = action(package);
            let store_name = FullyQualifiedName {
                namespace: doc.namespace.clone(),
                package: doc.package.clone(),
                name: doc.name.clone(),
            };
            assert_eq!(fully_qualified(&doc), store_name.to_string());
            assert_eq!(
                path(&doc),
                format!("{}/{}", doc.namespace, doc.name_in_namespace())
            );
        }
        assert_eq!(
            fully_qualified(&action(Some("utils"))),
            "/guest/utils/hello"
        );
    }
}
