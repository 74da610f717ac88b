//! The durable record of an async call's callback delivery, so that no restart loses a callback.
//! Before a call with an `X-Callback-Url` is answered 202, its delivery is accepted in the log: an
//! `InvocationAccepted` of the pseudo-action `{function}:callback` (a name no action can have, so
//! it never counts as one of the function's invocations) whose parameters carry the
//! `__whirl_callback` marker: call id, URL, function, acceptance time, first attempt. Once the
//! callback was delivered, or given up after its retries, the delivery gets its one
//! `ActivationRecorded` (annotated `openfaas.callId` and `openfaas.callbackUrl`, `cause` = the
//! attempt whose answer it carried; success, or an application error saying why it was given up).
//! A delivery still pending at start-up is one a stop interrupted: start-up leaves it pending and
//! delivers it again (`resume.rs`, `redeliver.rs`).

use super::answer::FunctionAnswer;
use super::callback::{deliver, CallbackMeta, CallbackPolicy, DeliveryOutcome};
use crate::state::ApiState;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::time::Duration;
use store::{
    ActionDoc, ActivationDoc, ActivationId, ActivationStatus, AppendTicket, ChangedBy, Event,
    EventLog, FullyQualifiedName, InvocationAccepted, JsonText, SemVer,
};

/// The parameter key of the delivery marker.
pub const DELIVERY_PARAM: &str = "__whirl_callback";

/// What the delivery's pseudo-action name adds to the function's name (`:` is not allowed in
/// action names).
const NAME_SUFFIX: &str = ":callback";

/// What a delivery's acceptance carries in its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryMarker {
    pub call_id: String,
    pub callback_url: String,
    /// The function's name (in the delivery's namespace).
    pub function: String,
    /// When the call was accepted (unix ms).
    pub accepted_at_ms: u64,
    /// The call's first attempt; each later attempt's `cause` is the one before it.
    #[serde(default)]
    pub first_attempt: Option<ActivationId>,
}

/// One callback delivery, as accepted in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackDelivery {
    pub activation_id: ActivationId,
    pub namespace: String,
    /// The function's version when the call was accepted.
    pub version: SemVer,
    pub marker: DeliveryMarker,
}

impl CallbackDelivery {
    /// A new delivery of a call of `action` (its first attempt is filled in once accepted).
    pub fn new(action: &ActionDoc, call_id: &str, callback_url: &str, accepted_at_ms: u64) -> Self {
        CallbackDelivery {
            activation_id: ActivationId::generate(),
            namespace: action.namespace.clone(),
            version: action.version,
            marker: DeliveryMarker {
                call_id: call_id.to_owned(),
                callback_url: callback_url.to_owned(),
                function: action.name.clone(),
                accepted_at_ms,
                first_attempt: None,
            },
        }
    }

    fn pseudo_action(&self) -> FullyQualifiedName {
        FullyQualifiedName::new(
            &self.namespace,
            format!("{}{NAME_SUFFIX}", self.marker.function),
        )
    }

    /// The delivery's acceptance.
    pub fn accepted(&self) -> InvocationAccepted {
        let mut params = Map::new();
        params.insert(
            DELIVERY_PARAM.to_owned(),
            serde_json::to_value(&self.marker).unwrap_or(Value::Null),
        );
        InvocationAccepted {
            activation_id: self.activation_id,
            action: self.pseudo_action(),
            version: self.version,
            params: JsonText::from_value(&Value::Object(params)),
            blocking: false,
            cause: None,
            by: ChangedBy::System,
        }
    }

    /// The delivery an acceptance stands for, if it is one.
    pub fn from_accepted(accepted: &InvocationAccepted) -> Option<Self> {
        if accepted.action.package.is_some() || !accepted.action.name.ends_with(NAME_SUFFIX) {
            return None;
        }
        let mut params: Map<String, Value> = serde_json::from_str(accepted.params.as_str()).ok()?;
        let marker: DeliveryMarker = serde_json::from_value(params.remove(DELIVERY_PARAM)?).ok()?;
        let delivery = CallbackDelivery {
            activation_id: accepted.activation_id,
            namespace: accepted.action.namespace.clone(),
            version: accepted.version,
            marker,
        };
        (delivery.pseudo_action() == accepted.action).then_some(delivery)
    }

    /// The delivery's one record: how it ended, `cause` = the attempt whose answer it carried.
    pub fn record(
        &self,
        outcome: &DeliveryOutcome,
        cause: Option<ActivationId>,
        start_ms: u64,
        end_ms: u64,
    ) -> ActivationDoc {
        let (status, result) = match &outcome.result {
            Ok(status) => (
                ActivationStatus::Success,
                json!({ "statusCode": status, "deliveries": outcome.tries }),
            ),
            Err(error) => (
                ActivationStatus::ApplicationError,
                json!({ "error": error.to_string(), "deliveries": outcome.tries }),
            ),
        };
        ActivationDoc {
            activation_id: self.activation_id,
            namespace: self.namespace.clone(),
            name: self.pseudo_action().name,
            package: None,
            subject: self.namespace.clone(),
            version: self.version,
            start_ms,
            end_ms: end_ms.max(start_ms),
            duration_ms: end_ms.saturating_sub(start_ms),
            cause,
            status,
            result: JsonText::from_value(&result),
            logs: Vec::new(),
            annotations: JsonText::from_value(&json!([
                { "key": "openfaas.callId", "value": self.marker.call_id },
                { "key": "openfaas.callbackUrl", "value": self.marker.callback_url },
            ])),
        }
    }
}

/// Whether an action name is a callback delivery's pseudo-action (not a function: `/metrics`
/// leaves these out).
pub fn is_delivery_name(name: &str) -> bool {
    name.ends_with(NAME_SUFFIX)
}

/// Whether a pending invocation is a callback delivery (start-up must not end it as lost).
pub fn is_callback_delivery(accepted: &InvocationAccepted) -> bool {
    CallbackDelivery::from_accepted(accepted).is_some()
}

/// Appends the delivery's acceptance; the ticket resolves once it is durable.
pub fn accept(state: &ApiState, delivery: &CallbackDelivery) -> AppendTicket {
    state
        .store
        .log()
        .append(vec![Event::InvocationAccepted(delivery.accepted())])
}

/// POSTs `answer` to the callback (with the callback retries), then records how the delivery
/// ended. A record that cannot be made durable leaves the delivery pending: the next start
/// delivers it again (at least once).
pub async fn deliver_and_record(
    state: &ApiState,
    delivery: &CallbackDelivery,
    answer: &FunctionAnswer,
    duration: Duration,
    cause: Option<ActivationId>,
    policy: CallbackPolicy,
) {
    let meta = CallbackMeta {
        call_id: delivery.marker.call_id.clone(),
        function: delivery.marker.function.clone(),
        duration,
    };
    let start_ms = state.now_ms();
    let outcome = deliver(&delivery.marker.callback_url, answer, &meta, policy).await;
    record_outcome(state, delivery, &outcome, cause, start_ms).await;
}

/// Records how the delivery ended.
pub async fn record_outcome(
    state: &ApiState,
    delivery: &CallbackDelivery,
    outcome: &DeliveryOutcome,
    cause: Option<ActivationId>,
    start_ms: u64,
) {
    let record = delivery.record(outcome, cause, start_ms, state.now_ms());
    let call_id = &delivery.marker.call_id;
    match state
        .store
        .log()
        .append(vec![Event::ActivationRecorded(record)])
        .await
    {
        Ok(_) => {
            tracing::info!(call_id, activation_id = %delivery.activation_id, delivered = outcome.result.is_ok(), "callback delivery recorded")
        }
        Err(error) => {
            tracing::error!(call_id, activation_id = %delivery.activation_id, %error, "callback delivery not recorded; it is sent again after a restart")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::callback::CallbackError;
    use super::*;

    fn delivery() -> CallbackDelivery {
        let mut delivery = CallbackDelivery {
            activation_id: ActivationId::generate(),
            namespace: "guest".into(),
            version: SemVer::INITIAL,
            marker: DeliveryMarker {
                call_id: "c1".into(),
                callback_url: "http://127.0.0.1:9/cb".into(),
                function: "echo".into(),
                accepted_at_ms: 1_000,
                first_attempt: None,
            },
        };
        delivery.marker.first_attempt = Some(ActivationId::generate());
        delivery
    }

    #[test]
    fn a_delivery_round_trips_through_its_acceptance_under_a_name_no_action_has() {
        let delivery = delivery();
        let accepted = delivery.accepted();
        assert_eq!(
            accepted.action,
            FullyQualifiedName::new("guest", "echo:callback")
        );
        assert!(crate::names::check_name("action", &accepted.action.name).is_err());
        assert_eq!(
            CallbackDelivery::from_accepted(&accepted),
            Some(delivery.clone())
        );
        assert!(is_callback_delivery(&accepted));

        // An ordinary invocation, or one merely named like a delivery, is not one.
        let mut other = accepted.clone();
        other.action = FullyQualifiedName::new("guest", "echo");
        assert!(!is_callback_delivery(&other));
        let mut renamed = accepted.clone();
        renamed.action = FullyQualifiedName::new("guest", "other:callback");
        assert!(!is_callback_delivery(&renamed));
        let mut no_marker = accepted;
        no_marker.params = JsonText::from_value(&json!({"x": 1}));
        assert!(!is_callback_delivery(&no_marker));
    }

    #[test]
    fn the_record_says_how_the_delivery_ended() {
        let delivery = delivery();
        let attempt = ActivationId::generate();
        let delivered = delivery.record(
            &DeliveryOutcome {
                tries: 2,
                result: Ok(204),
            },
            Some(attempt),
            10,
            25,
        );
        assert_eq!(delivered.activation_id, delivery.activation_id);
        assert_eq!(delivered.name, "echo:callback");
        assert_eq!(delivered.status, ActivationStatus::Success);
        assert_eq!(delivered.cause, Some(attempt));
        assert_eq!(delivered.duration_ms, 15);
        assert_eq!(
            delivered.result.to_value().unwrap(),
            json!({"statusCode": 204, "deliveries": 2})
        );
        let annotations = delivered.annotations.to_value().unwrap();
        assert_eq!(
            annotations[0],
            json!({"key": "openfaas.callId", "value": "c1"})
        );

        let failed = delivery.record(
            &DeliveryOutcome {
                tries: 5,
                result: Err(CallbackError::Refused {
                    url: "http://127.0.0.1:9/cb".into(),
                    status: 500,
                }),
            },
            None,
            10,
            5,
        );
        assert_eq!(failed.status, ActivationStatus::ApplicationError);
        assert_eq!((failed.end_ms, failed.duration_ms), (10, 0));
        let result = failed.result.to_value().unwrap();
        assert_eq!(result["deliveries"], 5);
        assert!(result["error"].as_str().unwrap().contains("answered 500"));
    }
}
