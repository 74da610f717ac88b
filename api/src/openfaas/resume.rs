//! Async calls across a restart. A call answered 202 has its attempt's `InvocationAccepted`
//! (with the request and the callback URL in its parameters) durable in the log, and, when it has
//! a callback, its delivery's (`delivery.rs`). Start-up reads what a stop interrupted
//! ([`interrupted_calls`], before `actors::recovery::end_orphans_except` records the lost attempts
//! and leaves the deliveries pending), and once the platform serves again [`resume`] finishes each
//! call: an attempt that never got its record is run again (its `cause` = the lost one) and its
//! answer delivered; a delivery whose call's last attempt was recorded is sent from that record
//! (`redeliver.rs`). A call whose delivery was recorded is never run or delivered again.

use super::answer::FunctionAnswer;
use super::attempts::{run_to_callback, submit, AsyncCall, AsyncMarker, RetryPolicy, ASYNC_PARAM};
use super::callback::CallbackPolicy;
use super::delivery::{accept, deliver_and_record, CallbackDelivery};
use super::redeliver::redeliver;
use crate::access::{resolve_action, ResolvedAction};
use crate::state::ApiState;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::time::Duration;
use store::{ActivationId, FullyQualifiedName, Store};

/// An attempt of an async call that a previous run accepted and never recorded.
#[derive(Debug, Clone)]
pub struct OrphanedCall {
    pub activation_id: ActivationId,
    pub action: FullyQualifiedName,
    pub marker: AsyncMarker,
    /// The call's parameters without the marker.
    pub params: Map<String, Value>,
}

/// What a stop interrupted: async attempts accepted and never recorded, and callback deliveries
/// accepted and never recorded.
#[derive(Debug, Clone, Default)]
pub struct InterruptedCalls {
    pub orphans: Vec<OrphanedCall>,
    pub deliveries: Vec<CallbackDelivery>,
}

/// The async attempts and callback deliveries among the log's pending invocations (read before
/// `end_orphans_except`).
pub fn interrupted_calls(store: &Store) -> store::Result<InterruptedCalls> {
    let head = store.head_seq();
    store
        .projections()
        .wait_applied(head, Duration::from_secs(30))?;
    let mut interrupted = InterruptedCalls::default();
    for accepted in store.projections().pending_invocations()? {
        if let Some(delivery) = CallbackDelivery::from_accepted(&accepted) {
            interrupted.deliveries.push(delivery);
            continue;
        }
        let Some(marker) = AsyncMarker::from_params(accepted.params.as_str()) else {
            continue;
        };
        let Ok(mut params) = serde_json::from_str::<Map<String, Value>>(accepted.params.as_str())
        else {
            continue;
        };
        params.remove(ASYNC_PARAM);
        interrupted.orphans.push(OrphanedCall {
            activation_id: accepted.activation_id,
            action: accepted.action,
            marker,
            params,
        });
    }
    Ok(interrupted)
}

/// Finishes every interrupted call: runs the next attempt of each orphaned one (with its
/// delivery), and sends every other pending delivery from its call's last record.
pub async fn resume(state: &ApiState, interrupted: InterruptedCalls) {
    let mut deliveries: HashMap<ActivationId, CallbackDelivery> = interrupted
        .deliveries
        .into_iter()
        .map(|delivery| (delivery.activation_id, delivery))
        .collect();
    for orphan in interrupted.orphans {
        let delivery = match orphan.marker.delivery {
            Some(id) => match deliveries.remove(&id) {
                Some(delivery) => Some(delivery),
                None => {
                    // Delivered (or given up) already: the call is over.
                    tracing::info!(call_id = %orphan.marker.call_id, activation_id = %orphan.activation_id, "async call's callback already recorded; not resumed");
                    continue;
                }
            },
            None => None,
        };
        resume_orphan(state, orphan, delivery).await;
    }
    for delivery in deliveries.into_values() {
        tracing::info!(call_id = %delivery.marker.call_id, activation_id = %delivery.activation_id, "callback delivery resumed after a restart");
        actix_rt::spawn(redeliver(state.clone(), delivery));
    }
}

/// Runs the next attempt of an orphaned call and delivers its answer through `delivery`.
async fn resume_orphan(state: &ApiState, orphan: OrphanedCall, delivery: Option<CallbackDelivery>) {
    let call_id = orphan.marker.call_id.clone();
    let action = match resolve_action(state, &orphan.action.namespace, &orphan.action) {
        Ok(action) => action,
        Err(error) => {
            tracing::warn!(call_id, %error, "async call's function is gone; not resumed");
            if let Some(delivery) = delivery {
                let answer = FunctionAnswer {
                    status: 404,
                    headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
                    body: format!("error finding function {}: not found\n", orphan.action.name)
                        .into_bytes(),
                };
                actix_rt::spawn(send(state.clone(), delivery, answer, orphan.activation_id));
            }
            return;
        }
    };
    let delivery = match delivery {
        Some(delivery) => Some(delivery),
        None => legacy_delivery(state, &orphan, &action).await,
    };
    let call = AsyncCall {
        action,
        params: orphan.params,
        call_id: call_id.clone(),
        callback_url: orphan.marker.callback_url.clone(),
        delivery: delivery.as_ref().map(|delivery| delivery.activation_id),
    };
    let attempt = orphan.marker.attempt.saturating_add(1);
    match submit(state, &call, attempt, Some(orphan.activation_id)).await {
        Ok(accepted) => {
            tracing::info!(call_id, attempt, "async call resumed after a restart");
            actix_rt::spawn(run_to_callback(
                state.clone(),
                call,
                accepted.into(),
                attempt,
                RetryPolicy {
                    // A resumed call gets at least one more run.
                    attempts: RetryPolicy::default().attempts.max(attempt),
                    ..RetryPolicy::default()
                },
                delivery,
            ));
        }
        Err(error) => {
            tracing::error!(call_id, %error, "async call not resumed");
            if let Some(delivery) = delivery {
                let answer = super::invoke::refusal_answer(&error);
                actix_rt::spawn(send(state.clone(), delivery, answer, orphan.activation_id));
            }
        }
    }
}

/// A call accepted by an older build (its marker names no delivery) gets its delivery now,
/// durably, before it runs again.
async fn legacy_delivery(
    state: &ApiState,
    orphan: &OrphanedCall,
    action: &ResolvedAction,
) -> Option<CallbackDelivery> {
    let url = orphan.marker.callback_url.as_deref()?;
    let mut delivery =
        CallbackDelivery::new(&action.doc, &orphan.marker.call_id, url, state.now_ms());
    delivery.marker.first_attempt = Some(orphan.activation_id);
    if let Err(error) = accept(state, &delivery).await {
        tracing::error!(call_id = %orphan.marker.call_id, %error, "callback delivery not made durable; delivered in this run only");
    }
    Some(delivery)
}

/// Delivers an answer that no attempt recorded (the call could not run again).
async fn send(
    state: ApiState,
    delivery: CallbackDelivery,
    answer: FunctionAnswer,
    cause: ActivationId,
) {
    let duration = Duration::from_millis(
        state
            .now_ms()
            .saturating_sub(delivery.marker.accepted_at_ms),
    );
    deliver_and_record(
        &state,
        &delivery,
        &answer,
        duration,
        Some(cause),
        CallbackPolicy::default(),
    )
    .await;
}
