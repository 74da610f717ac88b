//! `AlarmFeedHost`: what the alarm feed actor needs from the platform — the alarm feeds in the
//! log, a trigger fire (the very path of `POST /namespaces/{ns}/triggers/{name}`), and the
//! checkpoint append — and its implementation on [`ApiState`].

use super::error::{FeedError, Result};
use crate::invoke::{fire_trigger, FireOutcome, InvocationContext};
use crate::state::ApiState;
use actors::core::alarm::FeedKey;
use futures::future::LocalBoxFuture;
use serde_json::{Map, Value};
use std::time::Duration;
use store::{ActivationId, ChangedBy, EntityDoc, Event, EventLog, FeedSource, FeedState};

/// One fire the actor asks for.
#[derive(Clone, Debug)]
pub struct FeedFire {
    pub key: FeedKey,
    /// `/namespace/name`.
    pub trigger: String,
    pub payload: Map<String, Value>,
    pub occurrence_ms: u64,
    /// The feed's creation time: a feed deleted and created again is another feed.
    pub created_ms: u64,
}

/// What became of a fire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedFireOutcome {
    /// The trigger's activation.
    Fired(ActivationId),
    /// No active rule: nothing recorded, as for an HTTP fire.
    NoActiveRule,
    /// The feed is gone or was replaced since it was scheduled.
    FeedGone,
    /// The trigger is gone: the feed was deleted (as OpenWhisk's provider disables it).
    TriggerGone,
}

/// The platform as the alarm feed actor sees it.
pub trait AlarmFeedHost: 'static {
    /// Now (unix ms).
    fn now_ms(&self) -> u64;
    /// Every alarm feed in the log with its checkpoint, once the projections caught up.
    fn alarm_feeds(&self) -> Result<Vec<FeedState>>;
    /// Fires the feed's trigger for one occurrence.
    fn fire(&self, fire: FeedFire) -> LocalBoxFuture<'_, Result<FeedFireOutcome>>;
    /// Appends `FeedFired { fired_up_to_ms }` and waits until it is durable.
    fn checkpoint(&self, key: FeedKey, fired_up_to_ms: u64) -> LocalBoxFuture<'_, Result<()>>;
}

impl AlarmFeedHost for ApiState {
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn alarm_feeds(&self) -> Result<Vec<FeedState>> {
        let projections = self.store.projections();
        projections
            .wait_applied(self.store.head_seq(), Duration::from_secs(60))
            .map_err(|e| FeedError::internal("catch the projections up")(e.to_string()))?;
        Ok(projections
            .all_entities()
            .map_err(|e| FeedError::internal("list the feeds")(e.to_string()))?
            .into_iter()
            .filter_map(|doc| match doc {
                EntityDoc::Feed(state) if matches!(state.feed.source, FeedSource::Alarm { .. }) => {
                    Some(state)
                }
                _ => None,
            })
            .collect())
    }

    fn fire(&self, fire: FeedFire) -> LocalBoxFuture<'_, Result<FeedFireOutcome>> {
        Box::pin(async move {
            let projections = self.store.projections();
            let current = projections
                .feed(&fire.key.namespace, &fire.key.name)
                .map_err(|e| FeedError::internal("read a feed")(e.to_string()))?;
            if current.is_none_or(|state| state.feed.created_ms != fire.created_ms) {
                return Ok(FeedFireOutcome::FeedGone);
            }
            let name: store::FullyQualifiedName =
                fire.trigger.parse().map_err(|e: store::ParseIdError| {
                    FeedError::internal("parse a feed's trigger")(e.to_string())
                })?;
            let trigger = projections
                .trigger(&name.namespace, &name.name)
                .map_err(|e| FeedError::internal("read a trigger")(e.to_string()))?;
            let Some(trigger) = trigger else {
                let _writing = self.write_lock().await;
                self.commit(vec![Event::FeedDeleted {
                    namespace: fire.key.namespace.clone(),
                    name: fire.key.name.clone(),
                    by: ChangedBy::System,
                }])
                .await
                .map_err(|e| {
                    FeedError::internal("delete a feed whose trigger is gone")(e.to_string())
                })?;
                return Ok(FeedFireOutcome::TriggerGone);
            };
            let context = InvocationContext::system(
                &trigger.namespace,
                format!("alarm:{}@{}", fire.key, fire.occurrence_ms),
            );
            match fire_trigger(self, &context, &trigger, fire.payload).await {
                Ok(FireOutcome::Fired(id)) => Ok(FeedFireOutcome::Fired(id)),
                Ok(FireOutcome::NoActiveRule) => Ok(FeedFireOutcome::NoActiveRule),
                Err(error) => Err(FeedError::internal("fire the trigger")(error.to_string())),
            }
        })
    }

    fn checkpoint(&self, key: FeedKey, fired_up_to_ms: u64) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.store
                .log()
                .append(vec![Event::FeedFired {
                    namespace: key.namespace,
                    name: key.name,
                    fired_up_to_ms,
                    by: ChangedBy::System,
                }])
                .await
                .map(|_| ())
                .map_err(|e| FeedError::internal("append the feed's checkpoint")(e.to_string()))
        })
    }
}
