//! Sequences: the acceptance is made durable first (so a crash still ends it with one record),
//! then each component runs as its own activation (`causedBy: sequence`, caused by the sequence's
//! activation), each result feeding the next; the decisions are `actors::core::sequence`'s. The
//! sequence's record lists the component ids in `logs` and carries the last result.

use super::{invoke, InvocationContext, InvokeOutcome};
use crate::access::resolve_action;
use crate::error::{Error, Result};
use crate::state::ApiState;
use crate::wire::to_object;
use actors::core::lifecycle::ActivationStatus as CoreStatus;
use actors::core::sequence::{ComponentOutcome, SequenceRun, SequenceStep};
use serde_json::{json, Map, Value};
use std::time::Duration;
use store::{
    ActionDoc, ActivationDoc, ActivationId, ActivationStatus, Event, EventLog, FullyQualifiedName,
    InvocationAccepted, JsonText,
};

/// How long the orchestrator waits for one component beyond its own time limit.
const COMPONENT_GRACE: Duration = Duration::from_secs(60);

pub(super) async fn invoke_sequence(
    state: &ApiState,
    context: &InvocationContext,
    sequence: &ActionDoc,
    components: &[String],
    params: Map<String, Value>,
    wait: Option<Duration>,
) -> Result<InvokeOutcome> {
    let activation_id = ActivationId::generate();
    let accepted = InvocationAccepted {
        activation_id,
        action: FullyQualifiedName {
            namespace: sequence.namespace.clone(),
            package: sequence.package.clone(),
            name: sequence.name.clone(),
        },
        version: sequence.version,
        params: JsonText::from_value(&Value::Object(params.clone())),
        blocking: wait.is_some(),
        cause: context.cause,
        by: context.by,
    };
    state
        .store
        .log()
        .append(vec![Event::InvocationAccepted(accepted)])
        .await
        .map_err(Error::store("accept the sequence invocation"))?;
    let start_ms = state.now_ms();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let run = {
        let state = state.clone();
        let context = context.clone();
        let sequence = sequence.clone();
        let components = components.to_vec();
        async move {
            let record = run_sequence(
                &state,
                &context,
                &sequence,
                &components,
                activation_id,
                params,
                start_ms,
            )
            .await;
            match state
                .store
                .log()
                .append(vec![Event::ActivationRecorded(record.clone())])
                .await
            {
                Ok(_) => {
                    let _ = sender.send(record);
                }
                Err(error) => {
                    tracing::error!(activation_id = %activation_id, %error, "sequence record not durable")
                }
            }
        }
    };
    actix_rt::spawn(run);
    if let Some(wait) = wait {
        if let Ok(Ok(record)) = tokio::time::timeout(wait, receiver).await {
            return Ok(InvokeOutcome::Recorded(Box::new(record)));
        }
    }
    Ok(InvokeOutcome::Accepted(activation_id))
}

fn store_status(status: CoreStatus) -> ActivationStatus {
    match status {
        CoreStatus::Success => ActivationStatus::Success,
        CoreStatus::ApplicationError => ActivationStatus::ApplicationError,
        CoreStatus::DeveloperError => ActivationStatus::ActionDeveloperError,
        CoreStatus::WhiskError => ActivationStatus::WhiskInternalError,
    }
}

fn core_status(status: ActivationStatus) -> CoreStatus {
    match status {
        ActivationStatus::Success => CoreStatus::Success,
        ActivationStatus::ApplicationError => CoreStatus::ApplicationError,
        ActivationStatus::ActionDeveloperError => CoreStatus::DeveloperError,
        ActivationStatus::WhiskInternalError => CoreStatus::WhiskError,
    }
}

/// Runs one component to its end (or to why it could not run).
async fn run_component(
    state: &ApiState,
    context: &InvocationContext,
    component: &str,
    params: Map<String, Value>,
) -> ComponentOutcome {
    let resolved = component
        .parse::<FullyQualifiedName>()
        .map_err(|error| Error::bad(error.to_string()))
        .and_then(|name| resolve_action(state, &context.subject, &name));
    let resolved = match resolved {
        Ok(resolved) => resolved,
        Err(Error::NotFound | Error::NotFoundNamed(_)) => {
            return ComponentOutcome::Missing {
                component: component.to_owned(),
            }
        }
        Err(error) => {
            return ComponentOutcome::NotInvoked {
                error: format!("Sequence component '{component}' cannot be invoked: {error}"),
            }
        }
    };
    let mut merged = to_object(&resolved.parameters);
    merged.extend(params);
    let wait = Duration::from_millis(resolved.doc.limits.timeout_ms) + COMPONENT_GRACE;
    match invoke(state, context, &resolved, merged, Some(wait)).await {
        Ok(InvokeOutcome::Recorded(record)) => ComponentOutcome::Recorded {
            activation_id: record.activation_id.to_string(),
            status: core_status(record.status),
            result: record.result.to_value().unwrap_or(Value::Null),
            duration_ms: record.duration_ms,
        },
        Ok(InvokeOutcome::Accepted(id)) => ComponentOutcome::NotInvoked {
            error: format!(
                "Sequence component '{component}' (activation {id}) did not finish in time."
            ),
        },
        Err(error) => ComponentOutcome::NotInvoked {
            error: format!("Sequence component '{component}' cannot be invoked: {error}"),
        },
    }
}

async fn run_sequence(
    state: &ApiState,
    context: &InvocationContext,
    sequence: &ActionDoc,
    components: &[String],
    activation_id: ActivationId,
    params: Map<String, Value>,
    start_ms: u64,
) -> ActivationDoc {
    let component_context = context.caused_by(activation_id, Some("sequence"));
    let (mut run, mut step) = SequenceRun::start(components.len(), Value::Object(params));
    let (status, result) = loop {
        match step {
            SequenceStep::Finish { status, result } => break (status, result),
            SequenceStep::Invoke { index, params } => {
                let params = match params {
                    Value::Object(map) => map,
                    other => Map::from_iter([("value".to_owned(), other)]),
                };
                let component = components.get(index).map(String::as_str).unwrap_or("");
                let outcome = run_component(state, &component_context, component, params).await;
                step = run.component_ended(outcome);
            }
        }
    };
    let end_ms = state.now_ms();
    let path = format!("{}/{}", sequence.namespace, sequence.name_in_namespace());
    let mut annotations = vec![
        json!({"key": "path", "value": path}),
        json!({"key": "kind", "value": "sequence"}),
        json!({"key": "limits", "value": {
            "timeout": sequence.limits.timeout_ms,
            "memory": sequence.limits.memory_mb,
            "logs": sequence.limits.logs_mb,
            "concurrency": sequence.limits.concurrency,
        }}),
    ];
    match context.caused_by {
        Some(caused_by) => annotations.push(json!({"key": "causedBy", "value": caused_by})),
        None => annotations.push(json!({"key": "topmost", "value": true})),
    }
    let result = match result {
        Value::Object(_) => result,
        other => json!({ "value": other }),
    };
    ActivationDoc {
        activation_id,
        namespace: context.subject.clone(),
        name: sequence.name.clone(),
        package: sequence.package.clone(),
        subject: context.subject.clone(),
        version: sequence.version,
        start_ms,
        end_ms,
        duration_ms: run.duration_ms(),
        cause: context.cause,
        status: store_status(status),
        result: JsonText::from_value(&result),
        logs: run.activation_ids().to_vec(),
        annotations: JsonText::from_value(&Value::Array(annotations)),
    }
}
