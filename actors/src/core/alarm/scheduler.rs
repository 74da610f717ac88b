//! `AlarmScheduler`: the alarm feeds of a deployment and how far each has fired; on every tick it
//! says which trigger to fire for which occurrence, then where each feed's checkpoint now stands.
//!
//! The rules:
//! - an occurrence at or before a feed's checkpoint (`fired_up_to_ms`, or the feed's creation time
//!   when it never fired) is never fired again;
//! - a tick fires at most one occurrence per feed: the latest one due. When more than one was due
//!   (Whirl was down, or the host's timer ran very late), the older ones are not replayed: the one
//!   fire carries `"missed": N`, the number of occurrences it stands in for besides its own;
//! - each `Fire` is followed by the `Checkpoint` the host appends once the fire is recorded.
//!
//! Pure: time comes in with each input; no clock, no I/O.

use super::schedule::AlarmSchedule;
use crate::core::time::Millis;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A feed's identity: its namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedKey {
    pub namespace: String,
    pub name: String,
}

impl FeedKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for FeedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// An alarm feed as the scheduler sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmFeed {
    pub key: FeedKey,
    /// The trigger it fires, `/namespace/name`.
    pub trigger: String,
    pub schedule: AlarmSchedule,
    /// The fire's parameters.
    pub payload: Map<String, Value>,
    /// When the feed was created (unix ms): nothing at or before it fires.
    pub created_ms: u64,
}

/// What the scheduler is told.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmInput {
    /// A feed read back from the log on start, with its checkpoint.
    Loaded {
        feed: AlarmFeed,
        fired_up_to_ms: Option<u64>,
    },
    /// A feed was created. The same feed again (a replayed notice) changes nothing; a different
    /// feed under the same key replaces it and starts from its own creation.
    Added(AlarmFeed),
    /// A feed was deleted.
    Removed(FeedKey),
    /// Time passed: fire what is due.
    Tick,
}

/// What the host does, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum AlarmEffect {
    /// Fire `trigger` with `payload` for the occurrence at `occurrence_ms`.
    Fire {
        key: FeedKey,
        trigger: String,
        payload: Map<String, Value>,
        occurrence_ms: u64,
        /// Older due occurrences this fire stands in for (0 on time).
        missed: u64,
        /// The feed's creation time (a feed deleted and created again is another feed).
        created_ms: u64,
    },
    /// Append `FeedFired { fired_up_to_ms }` for the feed, after the fire before it is recorded.
    Checkpoint { key: FeedKey, fired_up_to_ms: u64 },
}

#[derive(Clone, Debug)]
struct Scheduled {
    feed: AlarmFeed,
    fired_up_to_ms: Option<u64>,
}

impl Scheduled {
    /// Occurrences at or before this are done.
    fn done_up_to(&self) -> u64 {
        self.fired_up_to_ms.unwrap_or(0).max(self.feed.created_ms)
    }
}

/// The alarm feeds and their progress.
#[derive(Clone, Debug, Default)]
pub struct AlarmScheduler {
    feeds: BTreeMap<FeedKey, Scheduled>,
}

impl AlarmScheduler {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many feeds are scheduled.
    pub fn len(&self) -> usize {
        self.feeds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.feeds.is_empty()
    }

    /// A feed's checkpoint as the scheduler holds it.
    pub fn fired_up_to(&self, key: &FeedKey) -> Option<u64> {
        self.feeds.get(key).and_then(|feed| feed.fired_up_to_ms)
    }

    /// The earliest next occurrence of any feed (when the host should tick next), if any.
    pub fn next_wake(&self) -> Option<Millis> {
        self.feeds
            .values()
            .filter_map(|scheduled| scheduled.feed.schedule.next_after(scheduled.done_up_to()))
            .min()
            .map(Millis)
    }

    /// Takes one input at `now` (unix ms).
    pub fn handle(&mut self, input: AlarmInput, now: Millis) -> Vec<AlarmEffect> {
        match input {
            AlarmInput::Loaded {
                feed,
                fired_up_to_ms,
            } => {
                self.feeds.insert(
                    feed.key.clone(),
                    Scheduled {
                        feed,
                        fired_up_to_ms,
                    },
                );
                Vec::new()
            }
            AlarmInput::Added(feed) => {
                let unchanged = self
                    .feeds
                    .get(&feed.key)
                    .is_some_and(|scheduled| scheduled.feed == feed);
                if !unchanged {
                    self.feeds.insert(
                        feed.key.clone(),
                        Scheduled {
                            feed,
                            fired_up_to_ms: None,
                        },
                    );
                }
                Vec::new()
            }
            AlarmInput::Removed(key) => {
                self.feeds.remove(&key);
                Vec::new()
            }
            AlarmInput::Tick => self.tick(now),
        }
    }

    fn tick(&mut self, now: Millis) -> Vec<AlarmEffect> {
        let mut effects = Vec::new();
        for (key, scheduled) in &mut self.feeds {
            let Some(due) = scheduled
                .feed
                .schedule
                .due(scheduled.done_up_to(), now.as_u64())
            else {
                continue;
            };
            let missed = due.count - 1;
            let mut payload = scheduled.feed.payload.clone();
            if missed > 0 {
                payload.insert("missed".into(), Value::from(missed));
            }
            effects.push(AlarmEffect::Fire {
                key: key.clone(),
                trigger: scheduled.feed.trigger.clone(),
                payload,
                occurrence_ms: due.latest_ms,
                missed,
                created_ms: scheduled.feed.created_ms,
            });
            effects.push(AlarmEffect::Checkpoint {
                key: key.clone(),
                fired_up_to_ms: due.latest_ms,
            });
            scheduled.fired_up_to_ms = Some(due.latest_ms);
        }
        effects
    }
}
