//! The parameters of a feed action (`lifecycleEvent`, `triggerName`, `authKey`, and the alarm's
//! `cron` / `minutes` / `seconds` / `date`, `startDate`, `stopDate`, `trigger_payload`), checked as
//! OpenWhisk's alarm provider checks them, into a `FeedSource::Alarm`. `seconds` is a Whirl
//! extension of the `interval` feed (the provider has minutes only).

use super::convert::{AlarmKind, ONCE_INTERVAL_MS};
use super::error::{FeedError, Result};
use actors::core::alarm::{AlarmSchedule, AlarmTiming, CronExpr};
use serde_json::{json, Map, Value};
use store::time_format::parse_ms;
use store::{AlarmSchedule as StoredSchedule, FeedSource, JsonText};

/// What the feed action is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleEvent {
    Create,
    Read,
    Update,
    Delete,
}

/// `lifecycleEvent` (CREATE when absent, as the provider assumes).
pub fn lifecycle_event(params: &Map<String, Value>) -> Result<LifecycleEvent> {
    match params.get("lifecycleEvent") {
        None | Some(Value::Null) => Ok(LifecycleEvent::Create),
        Some(Value::String(text)) => match text.to_ascii_uppercase().as_str() {
            "CREATE" => Ok(LifecycleEvent::Create),
            "READ" => Ok(LifecycleEvent::Read),
            "UPDATE" => Ok(LifecycleEvent::Update),
            "DELETE" => Ok(LifecycleEvent::Delete),
            other => Err(FeedError::invalid(
                "lifecycleEvent",
                format!("unsupported lifecycleEvent {other:?} (CREATE, READ, UPDATE or DELETE)"),
            )),
        },
        Some(other) => Err(FeedError::invalid(
            "lifecycleEvent",
            format!("must be a string, not {other}"),
        )),
    }
}

/// A required string parameter.
pub fn required_string<'a>(params: &'a Map<String, Value>, field: &'static str) -> Result<&'a str> {
    match params.get(field) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text),
        None | Some(Value::Null) => Err(FeedError::invalid(field, "no value was provided")),
        Some(other) => Err(FeedError::invalid(
            field,
            format!("must be a non-empty string, not {other}"),
        )),
    }
}

fn present<'a>(params: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    params.get(field).filter(|value| !value.is_null())
}

/// A date: unix milliseconds (a number or digits) or `YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z]` in UTC.
fn date(params: &Map<String, Value>, field: &'static str) -> Result<Option<u64>> {
    let Some(value) = present(params, field) else {
        return Ok(None);
    };
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) if text.chars().all(|c| c.is_ascii_digit()) => text.parse().ok(),
        Value::String(text) => parse_ms(text),
        _ => None,
    };
    parsed.map(Some).ok_or_else(|| {
        FeedError::invalid(
            field,
            format!("{value} is not a valid date (unix ms or YYYY-MM-DDTHH:MM:SS.mmmZ, UTC)"),
        )
    })
}

fn future_date(
    params: &Map<String, Value>,
    field: &'static str,
    now_ms: u64,
) -> Result<Option<u64>> {
    let parsed = date(params, field)?;
    if let Some(at) = parsed {
        if at <= now_ms {
            return Err(FeedError::invalid(
                field,
                format!("{} must be in the future", params[field]),
            ));
        }
    }
    Ok(parsed)
}

/// A positive whole number (a number or digits).
fn positive(params: &Map<String, Value>, field: &'static str) -> Result<Option<u64>> {
    let Some(value) = present(params, field) else {
        return Ok(None);
    };
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    match parsed {
        Some(number) if number > 0 => Ok(Some(number)),
        _ => Err(FeedError::invalid(
            field,
            format!("must be an integer greater than zero, not {value}"),
        )),
    }
}

fn cron(params: &Map<String, Value>) -> Result<Option<String>> {
    let Some(value) = present(params, "cron") else {
        return Ok(None);
    };
    let Value::String(text) = value else {
        return Err(FeedError::invalid(
            "cron",
            format!("must be a string, not {value}"),
        ));
    };
    let parsed: CronExpr = text.parse().map_err(|error| {
        FeedError::invalid(
            "cron",
            format!("cron pattern '{text}' is not valid: {error}"),
        )
    })?;
    Ok(Some(parsed.to_string()))
}

/// `trigger_payload`: an object, or a string wrapped as `{"payload": ...}` (as the provider does).
fn payload(params: &Map<String, Value>) -> Result<Option<JsonText>> {
    match present(params, "trigger_payload") {
        None => Ok(None),
        Some(Value::Object(map)) => Ok(Some(JsonText::from_value(&Value::Object(map.clone())))),
        Some(Value::String(text)) => Ok(Some(JsonText::from_value(&json!({"payload": text})))),
        Some(other) => Err(FeedError::invalid(
            "trigger_payload",
            format!("must be an object or a string, not {other}"),
        )),
    }
}

fn check_timezone(params: &Map<String, Value>) -> Result<()> {
    match present(params, "timezone") {
        None => Ok(()),
        Some(Value::String(zone)) if ["UTC", "Etc/UTC", "GMT", "Z"].contains(&zone.as_str()) => {
            Ok(())
        }
        Some(other) => Err(FeedError::invalid(
            "timezone",
            format!("Whirl's alarms run in UTC only, not {other}"),
        )),
    }
}

fn check_delete_after_fire(params: &Map<String, Value>) -> Result<()> {
    match present(params, "deleteAfterFire") {
        None => Ok(()),
        Some(value) if value == &json!(false) || value == &json!("false") => Ok(()),
        Some(other) => Err(FeedError::invalid(
            "deleteAfterFire",
            format!("{other} is not supported by Whirl (a fired once alarm stays until its trigger is deleted)"),
        )),
    }
}

/// The interval of an `interval` feed: `minutes`, or `seconds` (Whirl), exactly one.
fn interval_ms(params: &Map<String, Value>) -> Result<Option<u64>> {
    match (positive(params, "minutes")?, positive(params, "seconds")?) {
        (Some(_), Some(_)) => Err(FeedError::invalid(
            "seconds",
            "give minutes or seconds, not both",
        )),
        (Some(minutes), None) => Ok(Some(minutes.saturating_mul(60_000))),
        (None, Some(seconds)) => Ok(Some(seconds.saturating_mul(1_000))),
        (None, None) => Ok(None),
    }
}

/// Checks the bounds of a repeating alarm and that it fires at least once before its stop.
fn check_bounds(
    timing: &StoredSchedule,
    start_ms: Option<u64>,
    stop_ms: Option<u64>,
    now_ms: u64,
) -> Result<()> {
    if let (Some(start), Some(stop)) = (start_ms, stop_ms) {
        if stop <= start {
            return Err(FeedError::invalid(
                "stopDate",
                "must be later than the startDate",
            ));
        }
    }
    let timing = match timing {
        StoredSchedule::Cron(text) => AlarmTiming::Cron(
            text.parse()
                .map_err(|error| FeedError::invalid("cron", format!("{error}")))?,
        ),
        StoredSchedule::IntervalMs(every_ms) => AlarmTiming::Interval {
            every_ms: *every_ms,
        },
    };
    let schedule = AlarmSchedule {
        timing,
        start_ms,
        stop_ms,
    };
    if schedule.next_after(now_ms).is_none() {
        return Err(FeedError::invalid(
            if stop_ms.is_some() {
                "stopDate"
            } else {
                "cron"
            },
            "the first scheduled trigger fire is not until after the stop date (or never)",
        ));
    }
    Ok(())
}

/// The alarm a `CREATE` of feed action `kind` asks for.
pub fn create_source(
    kind: AlarmKind,
    params: &Map<String, Value>,
    now_ms: u64,
) -> Result<FeedSource> {
    check_timezone(params)?;
    let payload = payload(params)?.unwrap_or_else(JsonText::empty_object);
    match kind {
        AlarmKind::Once => {
            check_delete_after_fire(params)?;
            let Some(at) = future_date(params, "date", now_ms)? else {
                return Err(FeedError::invalid(
                    "date",
                    "alarms once trigger feed is missing the date parameter",
                ));
            };
            Ok(FeedSource::Alarm {
                schedule: StoredSchedule::IntervalMs(ONCE_INTERVAL_MS),
                start_ms: Some(at),
                stop_ms: Some(at),
                payload,
            })
        }
        AlarmKind::Cron | AlarmKind::Interval => {
            let schedule = if kind == AlarmKind::Cron {
                let Some(text) = cron(params)? else {
                    return Err(FeedError::invalid(
                        "cron",
                        "alarms trigger feed is missing the cron parameter",
                    ));
                };
                StoredSchedule::Cron(text)
            } else {
                let Some(every) = interval_ms(params)? else {
                    return Err(FeedError::invalid(
                        "minutes",
                        "interval trigger feed is missing the minutes parameter",
                    ));
                };
                StoredSchedule::IntervalMs(every)
            };
            let mut start_ms = future_date(params, "startDate", now_ms)?;
            if let (None, StoredSchedule::IntervalMs(every)) = (start_ms, &schedule) {
                // The first fire one interval from now.
                start_ms = Some(now_ms.saturating_add(*every));
            }
            let stop_ms = future_date(params, "stopDate", now_ms)?;
            check_bounds(&schedule, start_ms, stop_ms, now_ms)?;
            Ok(FeedSource::Alarm {
                schedule,
                start_ms,
                stop_ms,
                payload,
            })
        }
    }
}

/// The alarm an `UPDATE` makes of `existing`: the given parameters replace the stored ones.
pub fn update_source(
    existing: &FeedSource,
    params: &Map<String, Value>,
    now_ms: u64,
) -> Result<FeedSource> {
    let FeedSource::Alarm {
        schedule,
        start_ms,
        stop_ms,
        payload: old_payload,
    } = existing
    else {
        return Err(FeedError::NotFound(
            "the trigger's feed is not an alarm".into(),
        ));
    };
    check_timezone(params)?;
    let kind = AlarmKind::of(schedule, *start_ms, *stop_ms);
    let new_payload = payload(params)?;
    let mut changed = new_payload.is_some();
    let payload = new_payload.unwrap_or_else(|| old_payload.clone());
    if kind == AlarmKind::Once {
        check_delete_after_fire(params)?;
        let at = future_date(params, "date", now_ms)?;
        changed |= at.is_some();
        if !changed {
            return Err(FeedError::invalid(
                "trigger_payload",
                "no updatable parameters were specified",
            ));
        }
        let at = at.or(*start_ms);
        return Ok(FeedSource::Alarm {
            schedule: schedule.clone(),
            start_ms: at,
            stop_ms: at,
            payload,
        });
    }
    let schedule = match kind {
        AlarmKind::Cron => cron(params)?.map(StoredSchedule::Cron),
        _ => interval_ms(params)?.map(StoredSchedule::IntervalMs),
    };
    changed |= schedule.is_some();
    let schedule = schedule.unwrap_or_else(|| match existing {
        FeedSource::Alarm { schedule, .. } => schedule.clone(),
        FeedSource::Subject { .. } => StoredSchedule::IntervalMs(ONCE_INTERVAL_MS),
    });
    let new_start = future_date(params, "startDate", now_ms)?;
    let new_stop = future_date(params, "stopDate", now_ms)?;
    changed |= new_start.is_some() || new_stop.is_some();
    if !changed {
        return Err(FeedError::invalid(
            "trigger_payload",
            "no updatable parameters were specified",
        ));
    }
    let start_ms = new_start.or(*start_ms);
    let stop_ms = new_stop.or(*stop_ms);
    check_bounds(&schedule, start_ms, stop_ms, now_ms)?;
    Ok(FeedSource::Alarm {
        schedule,
        start_ms,
        stop_ms,
        payload,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const NOW: u64 = 1_714_564_800_000; // 2024-05-01T12:00:00Z

    fn params(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_bad_cron_names_the_field() {
        let error = create_source(AlarmKind::Cron, &params(json!({"cron": "61 * * * *"})), NOW)
            .unwrap_err();
        assert_eq!(error.status_code(), 400);
        assert!(
            error
                .to_string()
                .starts_with("cron: cron pattern '61 * * * *' is not valid"),
            "{error}"
        );
        let missing = create_source(AlarmKind::Cron, &params(json!({})), NOW).unwrap_err();
        assert!(missing.to_string().starts_with("cron:"), "{missing}");
    }

    #[test]
    fn intervals_start_one_period_from_now_and_take_seconds_or_minutes() {
        let source =
            create_source(AlarmKind::Interval, &params(json!({"seconds": 2})), NOW).unwrap();
        assert_eq!(
            source,
            FeedSource::Alarm {
                schedule: StoredSchedule::IntervalMs(2_000),
                start_ms: Some(NOW + 2_000),
                stop_ms: None,
                payload: JsonText::empty_object(),
            }
        );
        let minutes = create_source(
            AlarmKind::Interval,
            &params(json!({"minutes": "5", "trigger_payload": "hi"})),
            NOW,
        )
        .unwrap();
        let FeedSource::Alarm {
            schedule, payload, ..
        } = minutes
        else {
            unreachable!()
        };
        assert_eq!(schedule, StoredSchedule::IntervalMs(300_000));
        assert_eq!(payload.to_value().unwrap(), json!({"payload": "hi"}));
        for bad in [
            json!({"minutes": 0}),
            json!({"minutes": "x"}),
            json!({"minutes": 1, "seconds": 1}),
        ] {
            assert_eq!(
                create_source(AlarmKind::Interval, &params(bad), NOW)
                    .unwrap_err()
                    .status_code(),
                400
            );
        }
    }

    #[test]
    fn dates_must_be_future_and_ordered() {
        let past = create_source(
            AlarmKind::Once,
            &params(json!({"date": "2020-01-01T00:00:00Z"})),
            NOW,
        )
        .unwrap_err();
        assert!(past.to_string().starts_with("date:"), "{past}");
        let once = create_source(
            AlarmKind::Once,
            &params(json!({"date": "2024-05-02T00:00:00.000Z"})),
            NOW,
        )
        .unwrap();
        let FeedSource::Alarm {
            start_ms, stop_ms, ..
        } = once
        else {
            unreachable!()
        };
        assert_eq!(start_ms, stop_ms);
        let backwards = create_source(
            AlarmKind::Cron,
            &params(
                json!({"cron": "* * * * *", "startDate": "2024-06-01", "stopDate": "2024-05-20"}),
            ),
            NOW,
        )
        .unwrap_err();
        assert!(
            backwards.to_string().starts_with("stopDate:"),
            "{backwards}"
        );
        let too_soon = create_source(
            AlarmKind::Cron,
            &params(json!({"cron": "0 0 1 1 *", "stopDate": "2024-05-20"})),
            NOW,
        )
        .unwrap_err();
        assert!(too_soon.to_string().contains("stop date"), "{too_soon}");
        let zone = create_source(
            AlarmKind::Cron,
            &params(json!({"cron": "* * * * *", "timezone": "CET"})),
            NOW,
        )
        .unwrap_err();
        assert!(zone.to_string().starts_with("timezone:"), "{zone}");
    }

    #[test]
    fn update_replaces_only_what_is_given() {
        let created = create_source(
            AlarmKind::Cron,
            &params(json!({"cron": "*/5 * * * *", "trigger_payload": {"a": 1}})),
            NOW,
        )
        .unwrap();
        let updated = update_source(&created, &params(json!({"cron": "0 * * * *"})), NOW).unwrap();
        let FeedSource::Alarm {
            schedule, payload, ..
        } = updated
        else {
            unreachable!()
        };
        assert_eq!(schedule, StoredSchedule::Cron("0 * * * *".into()));
        assert_eq!(payload.to_value().unwrap(), json!({"a": 1}));
        let nothing = update_source(&created, &params(json!({})), NOW).unwrap_err();
        assert!(
            nothing.to_string().contains("no updatable parameters"),
            "{nothing}"
        );
        assert_eq!(
            lifecycle_event(&params(json!({"lifecycleEvent": "read"}))).unwrap(),
            LifecycleEvent::Read
        );
        assert_eq!(
            lifecycle_event(&params(json!({}))).unwrap(),
            LifecycleEvent::Create
        );
        assert!(lifecycle_event(&params(json!({"lifecycleEvent": "PAUSE"}))).is_err());
    }
}
