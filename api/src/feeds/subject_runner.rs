//! `SubjectFeeds`: the controller's side of NATS subject feeds. One subscription per feed: every
//! message on the feed's subject fires its trigger through the same path as an HTTP fire (a JSON
//! object is the fire's payload; anything else arrives as `{"message": <text>}`). Feeds are loaded
//! from the projections at start and followed in the log afterwards (created, updated, deleted by
//! whoever wrote them). Messages published while no controller runs are not replayed (core NATS).

use crate::invoke::{fire_trigger, FireOutcome, InvocationContext};
use crate::state::ApiState;
use futures::StreamExt;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::time::Duration;
use store::{EntityDoc, Event, EventLog, FeedDoc, FeedSource};
use tokio::sync::mpsc;

/// What the log says about one feed.
enum Notice {
    Created(FeedDoc),
    Deleted { namespace: String, name: String },
}

/// Starts the subject feeds of this controller; runs until the NATS client closes.
pub struct SubjectFeeds;

impl SubjectFeeds {
    /// Loads the existing subject feeds, starts following the log, and subscribes. Call inside
    /// an actix system (the fires reach the controller actor).
    pub fn start(state: ApiState, client: async_nats::Client) -> std::io::Result<()> {
        let (sender, mut notices) = mpsc::unbounded_channel();
        let from_seq = state.store.head_seq() + 1;
        let existing: Vec<FeedDoc> = state
            .store
            .projections()
            .all_entities()
            .map_err(std::io::Error::other)?
            .into_iter()
            .filter_map(|doc| match doc {
                EntityDoc::Feed(feed) if matches!(feed.feed.source, FeedSource::Subject { .. }) => {
                    Some(feed.feed)
                }
                _ => None,
            })
            .collect();
        for feed in existing {
            let _ = sender.send(Notice::Created(feed));
        }
        let mut subscription = state.store.log().subscribe(from_seq);
        std::thread::Builder::new()
            .name("whirl-subject-feeds".into())
            .spawn(move || loop {
                let batch = match subscription.next_entity_events(256, Duration::from_millis(200)) {
                    Ok(batch) => batch,
                    Err(error) => {
                        tracing::error!(%error, "subject feed follower stopped");
                        return;
                    }
                };
                for record in batch {
                    let notice = match record.event {
                        Event::FeedCreated { feed, .. } => Notice::Created(feed),
                        Event::FeedDeleted {
                            namespace, name, ..
                        } => Notice::Deleted { namespace, name },
                        _ => continue,
                    };
                    if sender.send(notice).is_err() {
                        return;
                    }
                }
            })?;
        actix_rt::spawn(async move {
            let mut running: HashMap<(String, String), actix_rt::task::JoinHandle<()>> =
                HashMap::new();
            while let Some(notice) = notices.recv().await {
                match notice {
                    Notice::Created(feed) => {
                        let key = (feed.namespace.clone(), feed.name.clone());
                        if let Some(previous) = running.remove(&key) {
                            previous.abort();
                        }
                        let FeedSource::Subject { subject } = feed.source.clone() else {
                            continue;
                        };
                        let task = serve_feed(state.clone(), client.clone(), feed, subject).await;
                        if let Some(task) = task {
                            running.insert(key, task);
                        }
                    }
                    Notice::Deleted { namespace, name } => {
                        if let Some(task) = running.remove(&(namespace, name)) {
                            task.abort();
                        }
                    }
                }
            }
        });
        Ok(())
    }
}

/// Subscribes to `subject` and fires the feed's trigger for every message.
async fn serve_feed(
    state: ApiState,
    client: async_nats::Client,
    feed: FeedDoc,
    subject: String,
) -> Option<actix_rt::task::JoinHandle<()>> {
    let mut messages = match client.subscribe(subject.clone()).await {
        Ok(messages) => messages,
        Err(error) => {
            tracing::error!(%subject, trigger = %feed.trigger, %error, "cannot subscribe a subject feed");
            return None;
        }
    };
    tracing::info!(%subject, trigger = %feed.trigger, "subject feed listening");
    Some(actix_rt::spawn(async move {
        while let Some(message) = messages.next().await {
            let payload = match serde_json::from_slice::<Value>(&message.payload) {
                Ok(Value::Object(map)) => map,
                _ => {
                    let mut map = Map::new();
                    let text = String::from_utf8_lossy(&message.payload).into_owned();
                    map.insert("message".into(), Value::String(text));
                    map
                }
            };
            fire(&state, &feed, payload).await;
        }
    }))
}

async fn fire(state: &ApiState, feed: &FeedDoc, payload: Map<String, Value>) {
    let trigger = match state
        .store
        .projections()
        .trigger(&feed.trigger.namespace, &feed.trigger.name)
    {
        Ok(Some(trigger)) => trigger,
        Ok(None) => {
            tracing::info!(trigger = %feed.trigger, "subject feed of a deleted trigger; message dropped");
            return;
        }
        Err(error) => {
            tracing::warn!(trigger = %feed.trigger, %error, "cannot read a feed's trigger");
            return;
        }
    };
    let transaction = uuid::Uuid::new_v4().simple().to_string();
    let context = InvocationContext::system(&feed.trigger.namespace, transaction);
    match fire_trigger(state, &context, &trigger, payload).await {
        Ok(FireOutcome::Fired(id)) => {
            tracing::debug!(trigger = %feed.trigger, activation_id = %id, "subject feed fired")
        }
        Ok(FireOutcome::NoActiveRule) => {}
        Err(error) => tracing::info!(trigger = %feed.trigger, %error, "subject feed fire refused"),
    }
}
