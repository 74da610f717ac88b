//! Conversions between the persisted and wire types (`store`, `bridge`) and the cores' value types,
//! and the activation record built from a settled outcome.

use crate::core::action::{ActionKey, ActionLimits, Kind};
use crate::core::ids::ActivationId as CoreActivationId;
use crate::core::lifecycle::{ActivationOutcome, ActivationStatus as CoreStatus};
use crate::core::time::Millis;
use bridge::bus::ActivationMessage;
use store::{
    ActionDoc, ActivationDoc, ActivationId, ActivationStatus, Exec, FullyQualifiedName, JsonText,
};

/// The pool key of an action: namespace, fully qualified name, version.
pub fn action_key(doc: &ActionDoc) -> ActionKey {
    ActionKey::new(
        doc.namespace.clone(),
        fully_qualified(doc),
        doc.version.to_string(),
    )
}

/// `/namespace[/package]/name`.
pub fn fully_qualified(doc: &ActionDoc) -> String {
    FullyQualifiedName {
        namespace: doc.namespace.clone(),
        package: doc.package.clone(),
        name: doc.name.clone(),
    }
    .to_string()
}

/// `namespace[/package]/name`, OpenWhisk's `path` annotation.
pub fn path(doc: &ActionDoc) -> String {
    format!("{}/{}", doc.namespace, doc.name_in_namespace())
}

/// The kind stem cells are matched on: the runtime kind, `exec`, or `blackbox:<image>`.
pub fn kind(doc: &ActionDoc) -> Kind {
    match &doc.exec {
        Exec::Blackbox { image, .. } => Kind::new(format!("blackbox:{image}")),
        exec => Kind::new(exec.kind()),
    }
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
    let annotations: Vec<serde_json::Value> = outcome
        .annotations
        .to_key_values()
        .into_iter()
        .map(|(key, value)| serde_json::json!({ "key": key, "value": value }))
        .collect();
    ActivationDoc {
        activation_id: msg.activation_id,
        namespace: msg.action.namespace.clone(),
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
        annotations: JsonText::from_value(&serde_json::Value::Array(annotations)),
    }
}

/// A whisk internal error record for an accepted activation that will not get another one.
pub fn lost_record(msg: &ActivationMessage, message: &str, now: Millis) -> ActivationDoc {
    let annotations = serde_json::json!([
        { "key": "path", "value": path(&msg.action) },
        { "key": "kind", "value": kind(&msg.action).as_str() },
        { "key": "limits", "value": limits(&msg.action).to_json() },
        { "key": "waitTime", "value": now.as_u64().saturating_sub(msg.accepted_at_ms) },
    ]);
    ActivationDoc {
        activation_id: msg.activation_id,
        namespace: msg.action.namespace.clone(),
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
        annotations: JsonText::from_value(&annotations),
    }
}
