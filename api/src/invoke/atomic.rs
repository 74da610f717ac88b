//! One invocation of an action: a sequence goes to the orchestrator, anything else to the
//! controller. Non-blocking answers once the acceptance is durable (in multi-node mode: once the
//! durable invocation queue holds it); blocking waits for the record up to the wait, then answers
//! with the activation id.

use super::{sequence, InvocationContext, InvokeOutcome};
use crate::access::ResolvedAction;
use crate::error::{Error, Result};
use crate::state::ApiState;
use actors::controller_actor::{AdmitQueued, Detach, Detached, Invoke, InvokeForRecord};
use bridge::bus::ActivationMessage;
use bridge::bus::InvocationQueue;
use serde_json::{Map, Value};
use std::time::Duration;
use store::{ActionDoc, ActivationId, Exec, JsonText};

/// Invokes `action` with `params` (already merged: package, action, request); `wait` is the most a
/// blocking caller waits for the record (`None`: not blocking).
pub async fn invoke(
    state: &ApiState,
    context: &InvocationContext,
    action: &ResolvedAction,
    params: Map<String, Value>,
    wait: Option<Duration>,
) -> Result<InvokeOutcome> {
    if let Some(kind) = crate::feeds::alarm_feed_action(&action.doc) {
        return crate::feeds::invoke_alarm_feed_action(
            state,
            context,
            &action.doc,
            kind,
            params,
            wait,
        )
        .await;
    }
    if crate::feeds::subject_feed_action(&action.doc) {
        return crate::feeds::invoke_subject_feed_action(state, context, &action.doc, params, wait)
            .await;
    }
    if let Exec::Sequence { components } = &action.doc.exec {
        return Box::pin(sequence::invoke_sequence(
            state,
            context,
            &action.doc,
            components,
            params,
            wait,
        ))
        .await;
    }
    invoke_atomic(state, context, &action.doc, params, wait).await
}

async fn invoke_atomic(
    state: &ApiState,
    context: &InvocationContext,
    action: &ActionDoc,
    params: Map<String, Value>,
    wait: Option<Duration>,
) -> Result<InvokeOutcome> {
    let activation_id = ActivationId::generate();
    let message = ActivationMessage {
        activation_id,
        transaction_id: context.transaction_id.clone(),
        invoker: String::new(),
        action: action.clone(),
        params: JsonText::from_value(&Value::Object(params)),
        subject: context.subject.clone(),
        by: context.by,
        api_key: context.api_key.clone(),
        blocking: wait.is_some(),
        cause: context.cause,
        accepted_at_ms: 0,
        caused_by: context.caused_by.map(str::to_owned),
    };
    if wait.is_none() {
        if let Some(queue) = state.invocation_queue() {
            return enqueue(state, queue.as_ref(), message, context.acknowledged).await;
        }
    }
    let Some(wait) = wait else {
        let accepted = state
            .controller
            .send(Invoke {
                message,
                wait_for_record: false,
            })
            .await
            .map_err(|error| Error::internal("reach the controller", error))??;
        accepted
            .durable
            .await
            .map_err(Error::store("make the invocation durable"))?;
        tracing::debug!(%activation_id, "invocation accepted");
        return Ok(InvokeOutcome::Accepted(activation_id));
    };
    // A blocking invocation reaches the log with its record; only if the wait runs out is its
    // acceptance appended (`Detach`), before the caller gets its id.
    // Nothing answers the acceptance: this worker sleeps until the record (or the refusal).
    let started = std::time::Instant::now();
    let (record, mut result) = tokio::sync::oneshot::channel();
    let (refused, refusal) = tokio::sync::oneshot::channel();
    state.controller.do_send(InvokeForRecord {
        message,
        record,
        refused,
    });
    match tokio::time::timeout(wait, &mut result).await {
        Ok(Ok(record)) => {
            tracing::debug!(
                activation_id = %activation_id,
                record_us = started.elapsed().as_micros() as u64,
                run_ms = record.duration_ms,
                "blocking invocation recorded"
            );
            return Ok(InvokeOutcome::Recorded(Box::new(record)));
        }
        // The controller refused it (it says why), or stopped.
        Ok(Err(_)) => {
            return Err(match refusal.await {
                Ok(refusal) => refusal.into(),
                Err(_) => Error::internal(
                    "reach the controller",
                    "the controller dropped the invocation",
                ),
            })
        }
        Err(_) => {}
    }
    let detached = state
        .controller
        .send(Detach { activation_id })
        .await
        .map_err(|error| Error::internal("reach the controller", error))?;
    match detached {
        Detached::Accepted(ticket) => ticket
            .await
            .map(|_| ())
            .map_err(Error::store("make the invocation durable"))?,
        Detached::AlreadyAccepted => {}
        Detached::AlreadyRecorded => {
            // Recorded between the wait's end and the detach: the record is on its way.
            return match result.await {
                Ok(record) => Ok(InvokeOutcome::Recorded(Box::new(record))),
                Err(_) => Err(Error::internal(
                    "record the invocation",
                    "the record was appended but did not become durable",
                )),
            };
        }
    }
    tracing::debug!(%activation_id, "blocking invocation still running after the wait");
    Ok(InvokeOutcome::Accepted(activation_id))
}

/// A non-blocking invocation in multi-node mode: admitted by the controller's throttles, then
/// accepted once the durable queue holds it; the queue's consumer runs it (and retries it).
/// Unacknowledged (nobody is told it was accepted), it may start before the queue holds it.
async fn enqueue(
    state: &ApiState,
    queue: &dyn InvocationQueue,
    mut message: ActivationMessage,
    acknowledged: bool,
) -> Result<InvokeOutcome> {
    let activation_id = message.activation_id;
    state
        .controller
        .send(AdmitQueued {
            namespace: message.action.namespace.clone(),
        })
        .await
        .map_err(|error| Error::internal("reach the controller", error))??;
    message.accepted_at_ms = state.clock.now_ms();
    let queued = if acknowledged {
        queue.enqueue(&message).await
    } else {
        queue.enqueue_unacknowledged(&message).await
    };
    queued.map_err(|error| Error::Unavailable(format!("cannot queue the invocation: {error}")))?;
    tracing::debug!(%activation_id, "invocation queued");
    Ok(InvokeOutcome::Accepted(activation_id))
}
