//! The feed actions of `/whisk.system/alarms` (`alarm`, `interval`, `once`), run by Whirl itself:
//! `lifecycleEvent` CREATE / READ / UPDATE / DELETE on the feed of `triggerName`, authorized by
//! `authKey` (which must own the trigger's namespace), as `wsk trigger create --feed` and
//! `wsk trigger delete` invoke them. CREATE appends `FeedCreated`, UPDATE `FeedDeleted` +
//! `FeedCreated` (the new feed starts from now), DELETE `FeedDeleted`; READ answers the config and
//! status. Each invocation is recorded as an activation like any other.

use super::convert::{read_answer, AlarmKind};
use super::error::{FeedError, Result};
use super::params::{
    create_source, lifecycle_event, required_string, update_source, LifecycleEvent,
};
use crate::catalog::{ALARMS_PACKAGE, SYSTEM_NAMESPACE};
use crate::invoke::{InvocationContext, InvokeOutcome};
use crate::state::ApiState;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::time::Duration;
use store::{
    ActionDoc, ActivationDoc, ActivationId, ActivationStatus, ChangedBy, Event, EventLog, FeedDoc,
    FullyQualifiedName, JsonText,
};

/// The feed action `action` is, if it is one of `/whisk.system/alarms`.
pub fn alarm_feed_action(action: &ActionDoc) -> Option<AlarmKind> {
    if action.namespace != SYSTEM_NAMESPACE || action.package.as_deref() != Some(ALARMS_PACKAGE) {
        return None;
    }
    match action.name.as_str() {
        "alarm" => Some(AlarmKind::Cron),
        "interval" => Some(AlarmKind::Interval),
        "once" => Some(AlarmKind::Once),
        _ => None,
    }
}

/// The trigger named by `triggerName` (`/ns/name`, `ns/name`; `_` is the key's namespace), after
/// checking that `authKey` is a key of its namespace. Returns the trigger and the key's uuid.
pub(super) fn authorize(
    state: &ApiState,
    params: &Map<String, Value>,
) -> Result<(FullyQualifiedName, uuid::Uuid)> {
    let auth_key = required_string(params, "authKey")
        .map_err(|_| FeedError::Unauthenticated("no authKey parameter was provided".into()))?;
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(auth_key)
    );
    let caller = state
        .keys
        .authenticate(Some(header.as_bytes()))
        .map_err(|error| FeedError::Unauthenticated(error.to_string()))?;
    let text = required_string(params, "triggerName")?;
    let mut trigger: FullyQualifiedName = text
        .parse()
        .map_err(|error| FeedError::invalid("triggerName", format!("{text:?}: {error}")))?;
    if trigger.package.is_some() {
        return Err(FeedError::invalid(
            "triggerName",
            format!("{text:?} is not /namespace/trigger"),
        ));
    }
    if trigger.namespace == "_" {
        trigger.namespace = caller.namespace.to_string();
    }
    if *caller.namespace != *trigger.namespace {
        return Err(FeedError::Forbidden {
            key_namespace: caller.namespace.to_string(),
            trigger: trigger.to_string(),
        });
    }
    Ok((trigger, caller.uuid))
}

pub(super) fn store_error(what: &'static str) -> impl FnOnce(store::Error) -> FeedError {
    move |error| FeedError::internal(what)(error.to_string())
}

pub(super) fn require_trigger(state: &ApiState, trigger: &FullyQualifiedName) -> Result<()> {
    state
        .store
        .projections()
        .trigger(&trigger.namespace, &trigger.name)
        .map_err(store_error("read the trigger"))?
        .map(|_| ())
        .ok_or_else(|| FeedError::NotFound(format!("the trigger {trigger} does not exist")))
}

/// The trigger's feed if it is an alarm; a feed of another kind (a NATS subject) is a conflict.
fn read_feed(state: &ApiState, trigger: &FullyQualifiedName) -> Result<Option<store::FeedState>> {
    let feed = state
        .store
        .projections()
        .feed(&trigger.namespace, &trigger.name)
        .map_err(store_error("read the feed"))?;
    match feed {
        Some(feed) if !matches!(feed.feed.source, store::FeedSource::Alarm { .. }) => {
            Err(FeedError::Conflict(format!(
                "the trigger {trigger} has a feed that is not an alarm"
            )))
        }
        other => Ok(other),
    }
}

fn no_feed(trigger: &FullyQualifiedName) -> FeedError {
    FeedError::NotFound(format!("the trigger {trigger} has no alarm feed"))
}

pub(super) async fn commit(state: &ApiState, events: Vec<Event>) -> Result<()> {
    state
        .commit(events)
        .await
        .map(|_| ())
        .map_err(|error| FeedError::internal("append the feed change")(error.to_string()))
}

/// Runs one lifecycle event; the feed action's result.
pub async fn run_lifecycle(
    state: &ApiState,
    kind: AlarmKind,
    params: &Map<String, Value>,
) -> Result<Value> {
    let event = lifecycle_event(params)?;
    let (trigger, uuid) = authorize(state, params)?;
    let by = ChangedBy::Key(uuid);
    let success = json!({"status": "success"});
    let _writing = state.write_lock().await;
    let now = state.now_ms();
    match event {
        LifecycleEvent::Create => {
            require_trigger(state, &trigger)?;
            if read_feed(state, &trigger)?.is_some() {
                return Err(FeedError::Conflict(format!(
                    "the trigger {trigger} already has a feed"
                )));
            }
            let source = create_source(kind, params, now)?;
            let feed = FeedDoc {
                namespace: trigger.namespace.clone(),
                name: trigger.name.clone(),
                trigger: trigger.clone(),
                source,
                created_ms: now,
            };
            commit(state, vec![Event::FeedCreated { feed, by }]).await?;
            tracing::info!(trigger = %trigger, feed = kind.action_name(), "alarm feed created");
            Ok(success)
        }
        LifecycleEvent::Read => {
            require_trigger(state, &trigger)?;
            let feed = read_feed(state, &trigger)?.ok_or_else(|| no_feed(&trigger))?;
            Ok(read_answer(&feed.feed, feed.fired_up_to_ms))
        }
        LifecycleEvent::Update => {
            require_trigger(state, &trigger)?;
            let existing = read_feed(state, &trigger)?.ok_or_else(|| no_feed(&trigger))?;
            let source = update_source(&existing.feed.source, params, now)?;
            let feed = FeedDoc {
                source,
                created_ms: now,
                ..existing.feed
            };
            commit(
                state,
                vec![
                    Event::FeedDeleted {
                        namespace: trigger.namespace.clone(),
                        name: trigger.name.clone(),
                        by,
                    },
                    Event::FeedCreated { feed, by },
                ],
            )
            .await?;
            tracing::info!(trigger = %trigger, "alarm feed updated");
            Ok(success)
        }
        LifecycleEvent::Delete => {
            read_feed(state, &trigger)?.ok_or_else(|| no_feed(&trigger))?;
            commit(
                state,
                vec![Event::FeedDeleted {
                    namespace: trigger.namespace.clone(),
                    name: trigger.name.clone(),
                    by,
                }],
            )
            .await?;
            tracing::info!(trigger = %trigger, "alarm feed deleted");
            Ok(success)
        }
    }
}

/// An invocation of an alarm feed action: runs the lifecycle event and records the activation
/// (success with the result, or an application error `{"error", "statusCode"}`; a platform
/// failure is a whisk internal error).
pub async fn invoke_alarm_feed_action(
    state: &ApiState,
    context: &InvocationContext,
    action: &ActionDoc,
    kind: AlarmKind,
    params: Map<String, Value>,
    wait: Option<Duration>,
) -> crate::Result<InvokeOutcome> {
    let start_ms = state.now_ms();
    let outcome = run_lifecycle(state, kind, &params).await;
    record_feed_action(state, context, action, start_ms, outcome, wait).await
}

/// Records one invocation of a feed action Whirl runs itself (success with the lifecycle's
/// result, or an application error `{"error", "statusCode"}`; a platform failure is a whisk
/// internal error) and answers the invoker.
pub(super) async fn record_feed_action(
    state: &ApiState,
    context: &InvocationContext,
    action: &ActionDoc,
    start_ms: u64,
    outcome: Result<Value>,
    wait: Option<Duration>,
) -> crate::Result<InvokeOutcome> {
    let (status, result) = match outcome {
        Ok(result) => (ActivationStatus::Success, result),
        Err(error @ FeedError::Internal { .. }) => {
            (ActivationStatus::WhiskInternalError, error.to_result())
        }
        Err(error) => (ActivationStatus::ApplicationError, error.to_result()),
    };
    let end_ms = state.now_ms();
    let record = ActivationDoc {
        activation_id: ActivationId::generate(),
        namespace: context.subject.clone(),
        name: action.name.clone(),
        package: action.package.clone(),
        subject: context.subject.clone(),
        version: action.version,
        start_ms,
        end_ms,
        duration_ms: end_ms.saturating_sub(start_ms),
        cause: context.cause,
        status,
        result: JsonText::from_value(&result),
        logs: Vec::new(),
        annotations: JsonText::from_value(&json!([
            {"key": "path", "value": format!("{}/{}/{}", action.namespace, action.package.as_deref().unwrap_or_default(), action.name)},
            {"key": "kind", "value": "whirl:feed"},
        ])),
    };
    state
        .store
        .log()
        .append(vec![Event::ActivationRecorded(record.clone())])
        .await
        .map_err(crate::Error::store("record the feed action's activation"))?;
    tracing::debug!(activation_id = %record.activation_id, feed = %action.name, "feed action recorded");
    Ok(match wait {
        Some(_) => InvokeOutcome::Recorded(Box::new(record)),
        None => InvokeOutcome::Accepted(record.activation_id),
    })
}
