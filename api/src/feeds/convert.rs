//! Between the log's feeds (`store::FeedDoc` with `FeedSource::Alarm`) and the alarm core's
//! `AlarmFeed`, and how a feed's configuration reads back (`READ`). A `once` alarm is stored as an
//! interval whose start and stop are both its date.

use actors::core::alarm::{AlarmFeed, AlarmSchedule, AlarmTiming, CronExpr, FeedKey};
use serde_json::{json, Map, Value};
use store::time_format::format_ms;
use store::{AlarmSchedule as StoredSchedule, FeedDoc, FeedSource, JsonText};

/// The interval a `once` alarm is stored with (it never matters: start = stop).
pub const ONCE_INTERVAL_MS: u64 = 60_000;

/// The feed actions of `/whisk.system/alarms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmKind {
    /// `alarm`: a cron expression.
    Cron,
    /// `interval`: every N minutes (or seconds, a Whirl extension).
    Interval,
    /// `once`: one date.
    Once,
}

impl AlarmKind {
    /// The kind of a stored alarm.
    pub fn of(schedule: &StoredSchedule, start_ms: Option<u64>, stop_ms: Option<u64>) -> Self {
        match schedule {
            StoredSchedule::Cron(_) => AlarmKind::Cron,
            StoredSchedule::IntervalMs(_) if start_ms.is_some() && start_ms == stop_ms => {
                AlarmKind::Once
            }
            StoredSchedule::IntervalMs(_) => AlarmKind::Interval,
        }
    }

    /// The feed action's name.
    pub fn action_name(self) -> &'static str {
        match self {
            AlarmKind::Cron => "alarm",
            AlarmKind::Interval => "interval",
            AlarmKind::Once => "once",
        }
    }
}

fn object(text: &JsonText) -> Map<String, Value> {
    match text.to_value() {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The core's view of a stored alarm feed; `None` for a subject feed. A cron expression the
/// parser refuses (it was checked on creation) is an error naming the feed.
pub fn alarm_feed(doc: &FeedDoc) -> Option<Result<AlarmFeed, String>> {
    let FeedSource::Alarm {
        schedule,
        start_ms,
        stop_ms,
        payload,
    } = &doc.source
    else {
        return None;
    };
    let timing = match schedule {
        StoredSchedule::Cron(text) => match text.parse::<CronExpr>() {
            Ok(cron) => AlarmTiming::Cron(cron),
            Err(error) => {
                return Some(Err(format!("feed {}/{}: {error}", doc.namespace, doc.name)))
            }
        },
        StoredSchedule::IntervalMs(every_ms) => AlarmTiming::Interval {
            every_ms: *every_ms,
        },
    };
    Some(Ok(AlarmFeed {
        key: FeedKey::new(&doc.namespace, &doc.name),
        trigger: doc.trigger.to_string(),
        schedule: AlarmSchedule {
            timing,
            start_ms: *start_ms,
            stop_ms: *stop_ms,
        },
        payload: object(payload),
        created_ms: doc.created_ms,
    }))
}

/// `READ`'s answer: `{config, status}` as OpenWhisk's alarm provider gives it, plus Whirl's
/// `firedUpTo` and `nextFire`.
pub fn read_answer(doc: &FeedDoc, fired_up_to_ms: Option<u64>) -> Value {
    let mut config = Map::new();
    config.insert("name".into(), json!(doc.name));
    config.insert("namespace".into(), json!(doc.namespace));
    let mut next_fire = None;
    if let FeedSource::Alarm {
        schedule,
        start_ms,
        stop_ms,
        payload,
    } = &doc.source
    {
        config.insert("payload".into(), Value::Object(object(payload)));
        match AlarmKind::of(schedule, *start_ms, *stop_ms) {
            AlarmKind::Cron => {
                if let StoredSchedule::Cron(text) = schedule {
                    config.insert("cron".into(), json!(text));
                }
            }
            AlarmKind::Interval => {
                if let StoredSchedule::IntervalMs(every) = schedule {
                    if every.is_multiple_of(60_000) {
                        config.insert("minutes".into(), json!(every / 60_000));
                    } else {
                        config.insert("seconds".into(), json!(every.div_ceil(1_000)));
                    }
                }
            }
            AlarmKind::Once => {
                if let Some(date) = start_ms {
                    config.insert("date".into(), json!(format_ms(*date)));
                }
            }
        }
        if AlarmKind::of(schedule, *start_ms, *stop_ms) != AlarmKind::Once {
            if let Some(start) = start_ms {
                config.insert("startDate".into(), json!(format_ms(*start)));
            }
            if let Some(stop) = stop_ms {
                config.insert("stopDate".into(), json!(format_ms(*stop)));
            }
        }
        if let Some(Ok(feed)) = alarm_feed(doc) {
            let done = fired_up_to_ms.unwrap_or(0).max(doc.created_ms);
            next_fire = feed.schedule.next_after(done);
        }
    }
    let mut status = Map::new();
    status.insert("active".into(), json!(next_fire.is_some()));
    status.insert("dateChanged".into(), json!(doc.created_ms));
    status.insert("dateChangedISO".into(), json!(format_ms(doc.created_ms)));
    if let Some(up_to) = fired_up_to_ms {
        status.insert("firedUpTo".into(), json!(format_ms(up_to)));
    }
    if let Some(next) = next_fire {
        status.insert("nextFire".into(), json!(format_ms(next)));
    }
    json!({"config": config, "status": status})
}
