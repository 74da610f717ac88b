//! Feeds: event sources that fire a trigger (alarms on a schedule, NATS subjects).

use super::{FullyQualifiedName, JsonText};
use serde::{Deserialize, Serialize};

/// When an alarm fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmSchedule {
    /// A cron expression (5 fields, UTC).
    Cron(String),
    /// Every so many milliseconds.
    IntervalMs(u64),
}

/// Where a feed's events come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedSource {
    /// Fire on a schedule between `start_ms` and `stop_ms`, with `payload` as the fire's parameters.
    Alarm {
        schedule: AlarmSchedule,
        start_ms: Option<u64>,
        stop_ms: Option<u64>,
        payload: JsonText,
    },
    /// Fire on every message published on a NATS subject.
    Subject { subject: String },
}

/// A feed as persisted by `FeedCreated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedDoc {
    pub namespace: String,
    pub name: String,
    /// The trigger the feed fires.
    pub trigger: FullyQualifiedName,
    pub source: FeedSource,
    pub created_ms: u64,
}
