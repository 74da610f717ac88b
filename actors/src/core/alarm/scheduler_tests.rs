//! Tests of the alarm scheduler on a fake clock: on-time fires, checkpoints, start and stop bounds,
//! the catch-up rule after downtime, never firing an occurrence twice, feed changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::calendar::MINUTE_MS;
use super::schedule::{AlarmSchedule, AlarmTiming};
use super::scheduler::{AlarmEffect, AlarmFeed, AlarmInput, AlarmScheduler, FeedKey};
use crate::core::random::SplitMix64;
use crate::core::time::Millis;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

const T0: u64 = 1_714_564_800_000; // 2024-05-01T12:00:00Z

fn payload() -> Map<String, Value> {
    let Value::Object(map) = json!({"hello": "alarm"}) else {
        unreachable!()
    };
    map
}

fn interval_feed(name: &str, every_ms: u64, start: Option<u64>, stop: Option<u64>) -> AlarmFeed {
    AlarmFeed {
        key: FeedKey::new("ns", name),
        trigger: format!("/ns/{name}"),
        schedule: AlarmSchedule {
            timing: AlarmTiming::Interval { every_ms },
            start_ms: start,
            stop_ms: stop,
        },
        payload: payload(),
        created_ms: T0,
    }
}

fn cron_feed(name: &str, cron: &str) -> AlarmFeed {
    AlarmFeed {
        key: FeedKey::new("ns", name),
        trigger: format!("/ns/{name}"),
        schedule: AlarmSchedule {
            timing: AlarmTiming::Cron(cron.parse().unwrap()),
            start_ms: None,
            stop_ms: None,
        },
        payload: payload(),
        created_ms: T0,
    }
}

/// `(occurrence, missed)` of each fire, checking that every fire is followed by its checkpoint.
fn fires(effects: &[AlarmEffect]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut iter = effects.iter();
    while let Some(effect) = iter.next() {
        let AlarmEffect::Fire {
            key,
            occurrence_ms,
            missed,
            payload,
            ..
        } = effect
        else {
            panic!("a checkpoint without a fire: {effect:?}");
        };
        assert_eq!(payload.get("hello"), Some(&json!("alarm")));
        assert_eq!(
            payload.get("missed").and_then(Value::as_u64),
            (*missed > 0).then_some(*missed)
        );
        assert_eq!(
            iter.next(),
            Some(&AlarmEffect::Checkpoint {
                key: key.clone(),
                fired_up_to_ms: *occurrence_ms
            })
        );
        out.push((*occurrence_ms, *missed));
    }
    out
}

#[test]
fn an_interval_fires_each_occurrence_once_on_time() {
    let mut core = AlarmScheduler::new();
    core.handle(
        AlarmInput::Added(interval_feed("a", 1_000, Some(T0 + 1_000), None)),
        Millis(T0),
    );
    assert_eq!(core.next_wake(), Some(Millis(T0 + 1_000)));
    assert!(core.handle(AlarmInput::Tick, Millis(T0 + 999)).is_empty());
    assert_eq!(
        fires(&core.handle(AlarmInput::Tick, Millis(T0 + 1_000))),
        vec![(T0 + 1_000, 0)]
    );
    // The same instant again, or a bit later: nothing new.
    assert!(core.handle(AlarmInput::Tick, Millis(T0 + 1_000)).is_empty());
    assert!(core.handle(AlarmInput::Tick, Millis(T0 + 1_500)).is_empty());
    assert_eq!(core.next_wake(), Some(Millis(T0 + 2_000)));
    assert_eq!(
        fires(&core.handle(AlarmInput::Tick, Millis(T0 + 2_040))),
        vec![(T0 + 2_000, 0)]
    );
    assert_eq!(core.fired_up_to(&FeedKey::new("ns", "a")), Some(T0 + 2_000));
}

#[test]
fn a_cron_fires_on_its_minutes() {
    let mut core = AlarmScheduler::new();
    core.handle(AlarmInput::Added(cron_feed("c", "*/5 * * * *")), Millis(T0));
    assert_eq!(core.next_wake(), Some(Millis(T0 + 5 * MINUTE_MS)));
    assert!(core
        .handle(AlarmInput::Tick, Millis(T0 + 4 * MINUTE_MS))
        .is_empty());
    assert_eq!(
        fires(&core.handle(AlarmInput::Tick, Millis(T0 + 5 * MINUTE_MS + 3))),
        vec![(T0 + 5 * MINUTE_MS, 0)]
    );
}

#[test]
fn nothing_at_or_before_creation_fires() {
    // Created exactly on a matching minute: that minute is not fired.
    let mut core = AlarmScheduler::new();
    core.handle(AlarmInput::Added(cron_feed("c", "* * * * *")), Millis(T0));
    assert!(core.handle(AlarmInput::Tick, Millis(T0)).is_empty());
    assert_eq!(core.next_wake(), Some(Millis(T0 + MINUTE_MS)));
}

#[test]
fn start_and_stop_bound_the_occurrences() {
    let mut core = AlarmScheduler::new();
    let start = T0 + 10_000;
    let stop = T0 + 12_500;
    core.handle(
        AlarmInput::Added(interval_feed("b", 1_000, Some(start), Some(stop))),
        Millis(T0),
    );
    let mut all = Vec::new();
    for now in (T0..T0 + 20_000).step_by(100) {
        all.extend(fires(&core.handle(AlarmInput::Tick, Millis(now))));
    }
    assert_eq!(
        all,
        vec![(start, 0), (start + 1_000, 0), (start + 2_000, 0)]
    );
    assert_eq!(core.next_wake(), None);
}

#[test]
fn once_is_an_interval_that_starts_and_stops_on_its_date() {
    let date = T0 + 30_000;
    let mut core = AlarmScheduler::new();
    core.handle(
        AlarmInput::Added(interval_feed("once", 60_000, Some(date), Some(date))),
        Millis(T0),
    );
    assert_eq!(core.next_wake(), Some(Millis(date)));
    assert_eq!(
        fires(&core.handle(AlarmInput::Tick, Millis(date + 5))),
        vec![(date, 0)]
    );
    assert_eq!(core.next_wake(), None);
    assert!(core
        .handle(AlarmInput::Tick, Millis(date + 600_000))
        .is_empty());
}

#[test]
fn after_downtime_one_catch_up_fire_stands_for_the_missed_occurrences() {
    // Fired up to minute 3, then down until minute 10 and a half: minutes 4..=10 were due.
    let mut core = AlarmScheduler::new();
    core.handle(
        AlarmInput::Loaded {
            feed: cron_feed("c", "* * * * *"),
            fired_up_to_ms: Some(T0 + 3 * MINUTE_MS),
        },
        Millis(T0 + 10 * MINUTE_MS + 30_000),
    );
    let effects = core.handle(AlarmInput::Tick, Millis(T0 + 10 * MINUTE_MS + 30_000));
    assert_eq!(fires(&effects), vec![(T0 + 10 * MINUTE_MS, 6)]);
    // Then back on schedule.
    assert_eq!(core.next_wake(), Some(Millis(T0 + 11 * MINUTE_MS)));
    assert_eq!(
        fires(&core.handle(AlarmInput::Tick, Millis(T0 + 11 * MINUTE_MS))),
        vec![(T0 + 11 * MINUTE_MS, 0)]
    );
}

#[test]
fn a_restart_on_the_checkpoint_fires_nothing_twice() {
    let mut core = AlarmScheduler::new();
    core.handle(
        AlarmInput::Loaded {
            feed: interval_feed("a", 1_000, Some(T0 + 1_000), None),
            fired_up_to_ms: Some(T0 + 5_000),
        },
        Millis(T0 + 5_400),
    );
    assert!(core.handle(AlarmInput::Tick, Millis(T0 + 5_400)).is_empty());
    assert_eq!(
        fires(&core.handle(AlarmInput::Tick, Millis(T0 + 6_000))),
        vec![(T0 + 6_000, 0)]
    );
}

#[test]
fn a_once_alarm_missed_while_down_fires_once_on_start() {
    let date = T0 + 30_000;
    let mut core = AlarmScheduler::new();
    core.handle(
        AlarmInput::Loaded {
            feed: interval_feed("once", 60_000, Some(date), Some(date)),
            fired_up_to_ms: None,
        },
        Millis(date + 3_600_000),
    );
    assert_eq!(
        fires(&core.handle(AlarmInput::Tick, Millis(date + 3_600_000))),
        vec![(date, 0)]
    );
    assert!(core
        .handle(AlarmInput::Tick, Millis(date + 7_200_000))
        .is_empty());
}

#[test]
fn a_replayed_notice_keeps_progress_and_a_new_feed_starts_over() {
    let mut core = AlarmScheduler::new();
    let feed = interval_feed("a", 1_000, Some(T0 + 1_000), None);
    core.handle(AlarmInput::Added(feed.clone()), Millis(T0));
    fires(&core.handle(AlarmInput::Tick, Millis(T0 + 3_000)));
    assert_eq!(core.fired_up_to(&feed.key), Some(T0 + 3_000));
    core.handle(AlarmInput::Added(feed.clone()), Millis(T0 + 3_100));
    assert_eq!(core.fired_up_to(&feed.key), Some(T0 + 3_000));
    assert!(core.handle(AlarmInput::Tick, Millis(T0 + 3_100)).is_empty());
    // Updated (deleted and created again later): starts from its own creation.
    let mut updated = interval_feed("a", 500, Some(T0 + 4_000), None);
    updated.created_ms = T0 + 3_200;
    core.handle(AlarmInput::Added(updated), Millis(T0 + 3_200));
    assert_eq!(core.fired_up_to(&feed.key), None);
    assert_eq!(
        fires(&core.handle(AlarmInput::Tick, Millis(T0 + 4_600))),
        vec![(T0 + 4_500, 1)]
    );
    core.handle(AlarmInput::Removed(feed.key.clone()), Millis(T0 + 4_700));
    assert!(core.is_empty());
    assert!(core
        .handle(AlarmInput::Tick, Millis(T0 + 60_000))
        .is_empty());
    assert_eq!(core.next_wake(), None);
}

#[test]
fn random_ticks_and_restarts_never_fire_an_occurrence_twice_nor_skip_one_on_time() {
    // Ticks at random gaps (sometimes long, as downtime), restarts from the last checkpoint:
    // occurrences fired are strictly increasing, and every occurrence is either fired or counted
    // in the `missed` of the next fire.
    let mut rng = SplitMix64::new(7);
    for round in 0..50 {
        let feeds = [
            interval_feed(
                "i",
                700 + rng.below(3_000),
                Some(T0 + rng.below(5_000)),
                None,
            ),
            cron_feed("c", "*/2 * * * *"),
        ];
        let mut core = AlarmScheduler::new();
        for feed in &feeds {
            core.handle(AlarmInput::Added(feed.clone()), Millis(T0));
        }
        let mut checkpoints = std::collections::BTreeMap::new();
        let mut fired: BTreeSet<(String, u64)> = BTreeSet::new();
        let mut accounted = std::collections::BTreeMap::<String, u64>::new();
        let mut now = T0;
        for _ in 0..200 {
            now += if rng.chance(1, 20) {
                rng.below(600_000)
            } else {
                rng.below(2_000)
            };
            if rng.chance(1, 15) {
                core = AlarmScheduler::new();
                for feed in &feeds {
                    core.handle(
                        AlarmInput::Loaded {
                            feed: feed.clone(),
                            fired_up_to_ms: checkpoints.get(&feed.key).copied(),
                        },
                        Millis(now),
                    );
                }
            }
            let effects = core.handle(AlarmInput::Tick, Millis(now));
            for effect in &effects {
                match effect {
                    AlarmEffect::Fire {
                        key,
                        occurrence_ms,
                        missed,
                        ..
                    } => {
                        assert!(occurrence_ms <= &now);
                        assert!(
                            fired.insert((key.name.clone(), *occurrence_ms)),
                            "round {round}: {key} fired {occurrence_ms} twice"
                        );
                        *accounted.entry(key.name.clone()).or_default() += 1 + missed;
                    }
                    AlarmEffect::Checkpoint {
                        key,
                        fired_up_to_ms,
                    } => {
                        let previous = checkpoints.insert(key.clone(), *fired_up_to_ms);
                        assert!(previous < Some(*fired_up_to_ms));
                    }
                }
            }
        }
        for feed in &feeds {
            let up_to = checkpoints[&feed.key];
            let mut expected = 0;
            let mut t = feed.created_ms;
            while let Some(next) = feed.schedule.next_after(t).filter(|next| *next <= up_to) {
                expected += 1;
                t = next;
            }
            assert_eq!(
                accounted[&feed.key.name], expected,
                "round {round}: {}",
                feed.key
            );
        }
    }
}
