//! NATS subject feeds: the feed action `/whisk.system/nats/subject` (run by Whirl itself, like the
//! alarm feed actions) ties a trigger to any NATS subject: `lifecycleEvent` CREATE / READ /
//! UPDATE / DELETE with `triggerName`, `authKey` and `subject` append `FeedCreated` /
//! `FeedDeleted` with `FeedSource::Subject`. [`SubjectFeeds`](super::subject_runner) subscribes
//! and fires the trigger for every message.

use super::error::{FeedError, Result};
use super::lifecycle::{authorize, commit, record_feed_action, require_trigger, store_error};
use super::params::{lifecycle_event, required_string, LifecycleEvent};
use crate::catalog::{NATS_PACKAGE, SYSTEM_NAMESPACE};
use crate::invoke::{InvocationContext, InvokeOutcome};
use crate::state::ApiState;
use serde_json::{json, Map, Value};
use std::time::Duration;
use store::{ActionDoc, ChangedBy, Event, FeedDoc, FeedSource, FullyQualifiedName};

/// Whether `action` is `/whisk.system/nats/subject`.
pub fn subject_feed_action(action: &ActionDoc) -> bool {
    action.namespace == SYSTEM_NAMESPACE
        && action.package.as_deref() == Some(NATS_PACKAGE)
        && action.name == "subject"
}

/// Checks a subject to subscribe to: NATS tokens, wildcards allowed, Whirl's own subjects not.
pub fn check_subject(subject: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Err(FeedError::invalid(
            "subject",
            format!("{subject:?} {reason}"),
        ))
    };
    if subject.is_empty() || subject.len() > 256 {
        return invalid("must have 1 to 256 characters");
    }
    if subject.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("must not contain spaces");
    }
    let tokens: Vec<&str> = subject.split('.').collect();
    if tokens.iter().any(|token| token.is_empty()) {
        return invalid("has an empty token");
    }
    if let Some(position) = tokens.iter().position(|token| *token == ">") {
        if position != tokens.len() - 1 {
            return invalid("has '>' before its last token");
        }
    }
    if tokens[0] == "whirl" || tokens[0] == ">" || tokens[0] == "*" || tokens[0] == "_INBOX" {
        return invalid("is reserved (whirl.*, _INBOX.*) or matches Whirl's own subjects");
    }
    Ok(())
}

/// The trigger's subject feed, if any; a feed of another kind (an alarm) is a conflict.
fn read_feed(state: &ApiState, trigger: &FullyQualifiedName) -> Result<Option<FeedDoc>> {
    let feed = state
        .store
        .projections()
        .feed(&trigger.namespace, &trigger.name)
        .map_err(store_error("read the feed"))?;
    match feed {
        Some(feed) if !matches!(feed.feed.source, FeedSource::Subject { .. }) => {
            Err(FeedError::Conflict(format!(
                "the trigger {trigger} has a feed that is not a NATS subject"
            )))
        }
        other => Ok(other.map(|state| state.feed)),
    }
}

/// Runs one lifecycle event of the subject feed; the feed action's result.
pub async fn run_subject_lifecycle(state: &ApiState, params: &Map<String, Value>) -> Result<Value> {
    let event = lifecycle_event(params)?;
    let (trigger, uuid) = authorize(state, params)?;
    let by = ChangedBy::Key(uuid);
    let _writing = state.write_lock().await;
    let now = state.now_ms();
    let deleted = Event::FeedDeleted {
        namespace: trigger.namespace.clone(),
        name: trigger.name.clone(),
        by,
    };
    let no_feed = || FeedError::NotFound(format!("the trigger {trigger} has no NATS subject feed"));
    match event {
        LifecycleEvent::Create | LifecycleEvent::Update => {
            require_trigger(state, &trigger)?;
            let subject = required_string(params, "subject")?;
            check_subject(subject)?;
            let existing = read_feed(state, &trigger)?;
            let mut events = Vec::new();
            match (event, existing) {
                (LifecycleEvent::Create, Some(_)) => {
                    return Err(FeedError::Conflict(format!(
                        "the trigger {trigger} already has a feed"
                    )))
                }
                (LifecycleEvent::Update, None) => return Err(no_feed()),
                (LifecycleEvent::Update, Some(_)) => events.push(deleted),
                _ => {}
            }
            let feed = FeedDoc {
                namespace: trigger.namespace.clone(),
                name: trigger.name.clone(),
                trigger: trigger.clone(),
                source: FeedSource::Subject {
                    subject: subject.to_owned(),
                },
                created_ms: now,
            };
            events.push(Event::FeedCreated { feed, by });
            commit(state, events).await?;
            tracing::info!(trigger = %trigger, subject, "NATS subject feed set");
            Ok(json!({"status": "success"}))
        }
        LifecycleEvent::Read => {
            require_trigger(state, &trigger)?;
            let feed = read_feed(state, &trigger)?.ok_or_else(no_feed)?;
            let FeedSource::Subject { subject } = &feed.source else {
                return Err(no_feed());
            };
            Ok(json!({
                "config": {"triggerName": trigger.to_string(), "subject": subject},
                "status": {"active": true, "dateChanged": feed.created_ms},
            }))
        }
        LifecycleEvent::Delete => {
            read_feed(state, &trigger)?.ok_or_else(no_feed)?;
            commit(state, vec![deleted]).await?;
            tracing::info!(trigger = %trigger, "NATS subject feed deleted");
            Ok(json!({"status": "success"}))
        }
    }
}

/// An invocation of `/whisk.system/nats/subject`: the lifecycle event, recorded as an activation.
pub async fn invoke_subject_feed_action(
    state: &ApiState,
    context: &InvocationContext,
    action: &ActionDoc,
    params: Map<String, Value>,
    wait: Option<Duration>,
) -> crate::Result<InvokeOutcome> {
    let start_ms = state.now_ms();
    let outcome = run_subject_lifecycle(state, &params).await;
    record_feed_action(state, context, action, start_ms, outcome, wait).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_checked() {
        for good in ["sensors.temperature", "orders.*.created", "devices.>", "a"] {
            assert!(check_subject(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a..b",
            "a b",
            "whirl.triggers.guest.t",
            ">",
            "*.x",
            "_INBOX.abc",
            "a.>.b",
        ] {
            let error = check_subject(bad).unwrap_err();
            assert!(error.to_string().starts_with("subject"), "{bad}: {error}");
        }
    }
}
