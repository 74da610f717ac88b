//! Triggers fired by NATS publish: a JSON object published on `whirl.triggers.<namespace>.<trigger>`
//! fires the trigger exactly as `POST /namespaces/{ns}/triggers/{name}` does (the same record,
//! the same rules). With a reply subject (NATS request), the answer is `{"activationId": ...}`,
//! `{}` when no rule is active, or `{"error": ..., "code": ...}`.

use futures::StreamExt;
use serde_json::{json, Map, Value};

use crate::invoke::{fire_trigger, FireOutcome, InvocationContext};
use crate::state::ApiState;

/// The subjects the controller listens on.
pub const TRIGGER_SUBJECTS: &str = "whirl.triggers.>";

/// `whirl.triggers.<namespace>.<trigger>` → (namespace, trigger); a trigger name may hold dots.
pub fn parse_trigger_subject(subject: &str) -> Option<(&str, &str)> {
    let rest = subject.strip_prefix("whirl.triggers.")?;
    let (namespace, trigger) = rest.split_once('.')?;
    if namespace.is_empty() || trigger.is_empty() {
        return None;
    }
    Some((namespace, trigger))
}

/// Fires triggers for the messages on [`TRIGGER_SUBJECTS`]; stops when the connection closes.
pub struct TriggerSubscriber;

impl TriggerSubscriber {
    /// Subscribes and serves in a task of the current runtime (an actix system's, so the
    /// controller's address can be reached).
    pub async fn start(
        state: ApiState,
        client: async_nats::Client,
    ) -> Result<(), async_nats::SubscribeError> {
        let mut subscription = client
            .queue_subscribe(TRIGGER_SUBJECTS, "whirl-controllers".to_owned())
            .await?;
        actix_rt::spawn(async move {
            while let Some(message) = subscription.next().await {
                let state = state.clone();
                let client = client.clone();
                actix_rt::spawn(async move {
                    let acknowledged = message.reply.is_some();
                    let answer =
                        fire(&state, &message.subject, &message.payload, acknowledged).await;
                    if let Some(reply) = message.reply {
                        if let Err(error) = client.publish(reply, answer.to_string().into()).await {
                            tracing::warn!(%error, "cannot answer a trigger fire request");
                        }
                    }
                });
            }
            tracing::warn!("the trigger subscription ended");
        });
        Ok(())
    }
}

/// Fires the trigger a message names; the answer for a requester. Without one (`acknowledged`
/// false: a plain publish), the rules' invocations may start before the queue stored them.
async fn fire(state: &ApiState, subject: &str, payload: &[u8], acknowledged: bool) -> Value {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let error = |message: String| json!({"error": message, "code": request_id});
    let Some((namespace, name)) = parse_trigger_subject(subject) else {
        return error(format!(
            "subject {subject} is not whirl.triggers.<namespace>.<trigger>"
        ));
    };
    let payload: Map<String, Value> = if payload.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice(payload) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return error("the message must be a JSON object".to_owned()),
            Err(e) => return error(format!("the message is not valid JSON: {e}")),
        }
    };
    if payload.len() > state.config.max_payload_bytes {
        return error("the message is too large".to_owned());
    }
    let trigger = match state.store.projections().trigger(namespace, name) {
        Ok(Some(trigger)) => trigger,
        Ok(None) => return error(format!("trigger /{namespace}/{name} does not exist")),
        Err(e) => return error(format!("cannot read trigger /{namespace}/{name}: {e}")),
    };
    let mut context = InvocationContext::system(namespace, request_id.clone());
    if !acknowledged {
        context = context.unacknowledged();
    }
    match fire_trigger(state, &context, &trigger, payload).await {
        Ok(FireOutcome::Fired(id)) => {
            tracing::debug!(%subject, activation_id = %id, "trigger fired by NATS publish");
            json!({"activationId": id.to_string()})
        }
        Ok(FireOutcome::NoActiveRule) => json!({}),
        Err(e) => {
            tracing::info!(%subject, error = %e, "trigger fire by NATS publish refused");
            error(e.to_string())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_a_namespace_and_a_trigger() {
        assert_eq!(
            parse_trigger_subject("whirl.triggers.guest.door"),
            Some(("guest", "door"))
        );
        assert_eq!(
            parse_trigger_subject("whirl.triggers.guest.door.opened"),
            Some(("guest", "door.opened"))
        );
        assert_eq!(parse_trigger_subject("whirl.triggers.guest"), None);
        assert_eq!(parse_trigger_subject("whirl.other.guest.door"), None);
    }
}
