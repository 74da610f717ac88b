//! The attempts of one async call: each is an ordinary activation (readable through the
//! OpenWhisk activations API) whose parameters carry the call's marker (`__whirl_async`: call id,
//! attempt number, callback URL, the call's delivery), so its record is annotated `openfaas.callId`
//! and `openfaas.attempt`, and each retry's `cause` is the attempt before it. A function answering
//! 408, 429 or 5xx is run again with exponential backoff, a bounded number of times; the last
//! answer goes to the callback through the call's durable delivery (`delivery.rs`).

use super::answer::{answer_of, FunctionAnswer};
use super::callback::CallbackPolicy;
use super::delivery::{deliver_and_record, CallbackDelivery};
use crate::access::ResolvedAction;
use crate::error::{Error, Result};
use crate::state::ApiState;
use actors::controller_actor::{Accepted, Invoke};
use bridge::bus::ActivationMessage;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::{Duration, Instant};
use store::{ActivationDoc, ActivationId, ChangedBy, JsonText};

/// The parameter key of the async marker.
pub const ASYNC_PARAM: &str = "__whirl_async";

/// What every attempt of an async call carries in its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncMarker {
    pub call_id: String,
    pub attempt: u32,
    #[serde(default)]
    pub callback_url: Option<String>,
    /// The call's callback delivery (`delivery.rs`); absent in calls accepted by older builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<ActivationId>,
}

impl AsyncMarker {
    /// The marker in an invocation's parameters, if it is an async call's attempt.
    pub fn from_params(params: &str) -> Option<Self> {
        if !params.contains(ASYNC_PARAM) {
            return None;
        }
        let mut object: Map<String, Value> = serde_json::from_str(params).ok()?;
        serde_json::from_value(object.remove(ASYNC_PARAM)?).ok()
    }
}

/// How a call's function runs are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Runs of the function in all (at least 1).
    pub attempts: u32,
    /// The wait before the second run; it doubles after each.
    pub first_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(100),
        }
    }
}

/// Whether an answer is worth another run (OpenFaaS Pro's retry codes).
pub fn retryable(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// One async call: the function, its parameters without the marker, and where its result goes.
#[derive(Debug, Clone)]
pub struct AsyncCall {
    pub action: ResolvedAction,
    pub params: Map<String, Value>,
    pub call_id: String,
    pub callback_url: Option<String>,
    /// The activation id of the call's callback delivery, when it has a callback.
    pub delivery: Option<ActivationId>,
}

impl AsyncCall {
    fn params_for(&self, attempt: u32) -> Map<String, Value> {
        let mut params = self.params.clone();
        let marker = AsyncMarker {
            call_id: self.call_id.clone(),
            attempt,
            callback_url: self.callback_url.clone(),
            delivery: self.delivery,
        };
        params.insert(
            ASYNC_PARAM.to_owned(),
            serde_json::to_value(marker).unwrap_or(Value::Null),
        );
        params
    }
}

/// Submits attempt `attempt` to the controller; the acceptance's `durable` resolves once the
/// `InvocationAccepted` is in the log, and its `result` carries the record.
pub async fn submit(
    state: &ApiState,
    call: &AsyncCall,
    attempt: u32,
    cause: Option<ActivationId>,
) -> Result<Accepted> {
    let doc = &call.action.doc;
    let message = ActivationMessage {
        activation_id: ActivationId::generate(),
        transaction_id: call.call_id.clone(),
        invoker: String::new(),
        action: (**doc).clone(),
        params: JsonText::from_value(&Value::Object(call.params_for(attempt))),
        subject: doc.namespace.clone(),
        by: ChangedBy::System,
        api_key: None,
        blocking: false,
        cause,
        accepted_at_ms: 0,
        caused_by: None,
    };
    Ok(state
        .controller
        .send(Invoke {
            message,
            wait_for_record: true,
        })
        .await
        .map_err(|error| Error::internal("reach the controller", error))??)
}

/// An accepted attempt whose record is awaited.
pub struct PendingAttempt {
    pub activation_id: ActivationId,
    pub record: Option<tokio::sync::oneshot::Receiver<ActivationDoc>>,
}

impl From<Accepted> for PendingAttempt {
    fn from(accepted: Accepted) -> Self {
        PendingAttempt {
            activation_id: accepted.activation_id,
            record: accepted.result,
        }
    }
}

/// Waits for an attempt's record (the controller ends every accepted invocation with one).
async fn record_of(pending: PendingAttempt, limit: Duration) -> Option<ActivationDoc> {
    let record = pending.record?;
    match tokio::time::timeout(limit, record).await {
        Ok(Ok(doc)) => Some(doc),
        _ => None,
    }
}

/// Runs the call from attempt `first` (already accepted) to its last answer, then delivers it
/// through `delivery` (durably accepted before; `None` for a call without a callback).
pub async fn run_to_callback(
    state: ApiState,
    call: AsyncCall,
    first: PendingAttempt,
    first_attempt: u32,
    policy: RetryPolicy,
    delivery: Option<CallbackDelivery>,
) {
    let started = Instant::now();
    let wait = Duration::from_millis(call.action.doc.limits.timeout_ms)
        .saturating_add(Duration::from_secs(60));
    let mut pending = first;
    let mut attempt = first_attempt;
    let mut backoff = policy.first_backoff;
    let (answer, last) = loop {
        let activation = pending.activation_id;
        let answer = match record_of(pending, wait).await {
            Some(doc) => answer_of(&doc),
            None => FunctionAnswer {
                status: 500,
                headers: Vec::new(),
                body: format!("no record of activation {activation} in time\n").into_bytes(),
            },
        };
        tracing::info!(call_id = %call.call_id, activation_id = %activation, attempt, status = answer.status, "async attempt ended");
        if !retryable(answer.status) || attempt >= policy.attempts.max(1) {
            break (answer, activation);
        }
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2);
        attempt += 1;
        match submit(&state, &call, attempt, Some(activation)).await {
            Ok(next) => pending = next.into(),
            Err(error) => {
                tracing::warn!(call_id = %call.call_id, attempt, %error, "async retry not accepted");
                break (super::invoke::refusal_answer(&error), activation);
            }
        }
    };
    if let Some(delivery) = delivery {
        deliver_and_record(
            &state,
            &delivery,
            &answer,
            started.elapsed(),
            Some(last),
            CallbackPolicy::default(),
        )
        .await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_travels_in_the_parameters_and_only_failures_retry() {
        let marker = AsyncMarker {
            call_id: "c1".into(),
            attempt: 2,
            callback_url: Some("http://127.0.0.1:9/cb".into()),
            delivery: Some(ActivationId::generate()),
        };
        let params = serde_json::json!({ ASYNC_PARAM: marker, "x": 1 }).to_string();
        assert_eq!(AsyncMarker::from_params(&params), Some(marker));
        assert_eq!(AsyncMarker::from_params("{\"x\":1}"), None);
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(retryable(status));
        }
        for status in [200, 202, 400, 404, 413] {
            assert!(!retryable(status));
        }
    }
}
