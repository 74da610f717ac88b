//! A callback delivery that a stop interrupted after its call's last attempt was recorded (or
//! during the backoff before a retry): after the restart the answer comes from the log. The call's
//! attempts form a chain (the first one named in the delivery, each retry's `cause` the attempt
//! before it); the last record of that chain is the answer, POSTed with the same headers as the
//! first time (`X-Call-Id`, `X-Function-Status`, `X-Function-Name`, `X-Duration-Seconds` from the
//! call's acceptance to that record's end, the answer's `Content-Type`) and the same retries, then
//! recorded. A call with no attempt left in the log (retention dropped it) is recorded as not
//! delivered.

use super::answer::answer_of;
use super::callback::{CallbackError, CallbackPolicy, DeliveryOutcome};
use super::delivery::{deliver_and_record, record_outcome, CallbackDelivery};
use crate::state::ApiState;
use std::collections::HashMap;
use std::time::Duration;
use store::{ActivationDoc, ActivationId, ActivationQuery};

/// How much earlier than the first attempt's start a retry's start may be (clocks of invokers).
const CLOCK_SLACK_MS: u64 = 60_000;

/// Sends the delivery from its call's last record, then records it.
pub async fn redeliver(state: ApiState, delivery: CallbackDelivery) {
    let call_id = delivery.marker.call_id.clone();
    let head = state.store.head_seq();
    if let Err(error) = state.store.projections().wait_applied_async(head).await {
        tracing::warn!(call_id, %error, "projections not caught up for a callback delivery");
    }
    match last_record(&state, &delivery) {
        Ok(Some(record)) => {
            let duration =
                Duration::from_millis(record.end_ms.saturating_sub(delivery.marker.accepted_at_ms));
            deliver_and_record(
                &state,
                &delivery,
                &answer_of(&record),
                duration,
                Some(record.activation_id),
                CallbackPolicy::default(),
            )
            .await;
        }
        Ok(None) => {
            tracing::warn!(
                call_id,
                "no attempt of the call is left in the log; callback not sent"
            );
            let outcome = DeliveryOutcome {
                tries: 0,
                result: Err(CallbackError::NoAnswer {
                    call_id: call_id.clone(),
                }),
            };
            record_outcome(&state, &delivery, &outcome, None, state.now_ms()).await;
        }
        // Left pending: the next start tries again.
        Err(error) => tracing::error!(call_id, %error, "cannot read the call's attempts"),
    }
}

/// The last record of the call's chain of attempts.
fn last_record(
    state: &ApiState,
    delivery: &CallbackDelivery,
) -> store::Result<Option<ActivationDoc>> {
    let projections = state.store.projections();
    let Some(first) = delivery.marker.first_attempt else {
        return Ok(None);
    };
    let Some(first) = projections.activation(&first)? else {
        return Ok(None);
    };
    let since = first
        .start_ms
        .min(delivery.marker.accepted_at_ms)
        .saturating_sub(CLOCK_SLACK_MS);
    let later = projections.list_activations(
        &delivery.namespace,
        &ActivationQuery {
            name: Some(delivery.marker.function.clone()),
            since_ms: Some(since),
            ..ActivationQuery::default()
        },
    )?;
    Ok(Some(last_of_chain(first, later)))
}

/// Follows `first` through the records whose `cause` is the one before.
fn last_of_chain(first: ActivationDoc, records: Vec<ActivationDoc>) -> ActivationDoc {
    let mut by_cause: HashMap<ActivationId, ActivationDoc> = records
        .into_iter()
        .filter_map(|doc| Some((doc.cause?, doc)))
        .collect();
    let mut last = first;
    while let Some(next) = by_cause.remove(&last.activation_id) {
        last = next;
    }
    last
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use store::{ActivationStatus, JsonText, SemVer};

    fn record(cause: Option<ActivationId>, start_ms: u64) -> ActivationDoc {
        ActivationDoc {
            activation_id: ActivationId::generate(),
            namespace: "guest".into(),
            name: "f".into(),
            package: None,
            subject: "guest".into(),
            version: SemVer::INITIAL,
            start_ms,
            end_ms: start_ms + 1,
            duration_ms: 1,
            cause,
            status: ActivationStatus::Success,
            result: JsonText::from_value(&serde_json::json!({})),
            logs: vec![],
            annotations: JsonText::from_value(&serde_json::json!([])),
        }
    }

    #[test]
    fn the_answer_is_the_end_of_the_chain_of_attempts() {
        let first = record(None, 10);
        let second = record(Some(first.activation_id), 20);
        let third = record(Some(second.activation_id), 30);
        // Another call of the same function, and an unrelated record caused by something else.
        let other = record(None, 15);
        let stray = record(Some(other.activation_id), 25);
        let all = vec![third.clone(), stray, other, second.clone(), first.clone()];
        assert_eq!(last_of_chain(first.clone(), all), third);
        assert_eq!(last_of_chain(first.clone(), vec![first.clone()]), first);
        assert_eq!(
            last_of_chain(second.clone(), vec![first, second.clone()]),
            second
        );
    }
}
