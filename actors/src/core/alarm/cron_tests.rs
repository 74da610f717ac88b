//! Tests of the cron parser and `next_after`: known dates, refusals, and property-style checks
//! against a brute-force minute-by-minute search over random expressions and times.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::calendar::{days_of, Date, DAY_MINUTES, MINUTE_MS};
use super::cron::{CronError, CronExpr};
use crate::core::random::SplitMix64;

fn at(year: i64, month: u32, day: u32, hour: u64, minute: u64) -> u64 {
    (days_of(Date { year, month, day }) * DAY_MINUTES + hour * 60 + minute) * MINUTE_MS
}

fn cron(text: &str) -> CronExpr {
    text.parse().unwrap()
}

#[test]
fn every_minute_is_the_next_whole_minute() {
    let every = cron("* * * * *");
    let t = at(2024, 5, 1, 12, 0);
    assert_eq!(every.next_after(t), Some(t + MINUTE_MS));
    assert_eq!(every.next_after(t + 1), Some(t + MINUTE_MS));
    assert_eq!(every.next_after(t - 1), Some(t));
}

#[test]
fn steps_ranges_lists_and_names() {
    let t = at(2024, 5, 1, 12, 7);
    assert_eq!(
        cron("*/5 * * * *").next_after(t),
        Some(at(2024, 5, 1, 12, 10))
    );
    assert_eq!(
        cron("1-10/4 * * * *").next_after(t),
        Some(at(2024, 5, 1, 12, 9))
    );
    assert_eq!(
        cron("50/5 * * * *").next_after(t),
        Some(at(2024, 5, 1, 12, 50))
    );
    assert_eq!(
        cron("0,30 9,17 * * *").next_after(t),
        Some(at(2024, 5, 1, 17, 0))
    );
    // 2024-05-01 is a Wednesday; the next Monday is May 6.
    assert_eq!(
        cron("0 8 * * MON").next_after(t),
        Some(at(2024, 5, 6, 8, 0))
    );
    assert_eq!(cron("0 8 * * 1").next_after(t), Some(at(2024, 5, 6, 8, 0)));
    assert_eq!(
        cron("0 0 1 jan *").next_after(t),
        Some(at(2025, 1, 1, 0, 0))
    );
    assert_eq!(cron("0 0 * * 7").next_after(t), Some(at(2024, 5, 5, 0, 0)));
    assert_eq!(
        cron("0 0 * * sun").next_after(t),
        Some(at(2024, 5, 5, 0, 0))
    );
    assert_eq!(
        cron("15 14 1 * *").next_after(t),
        Some(at(2024, 5, 1, 14, 15))
    );
    assert_eq!(
        cron("15 11 1 * *").next_after(t),
        Some(at(2024, 6, 1, 11, 15))
    );
    assert_eq!(
        cron("0 0 * NOV-DEC *").next_after(t),
        Some(at(2024, 11, 1, 0, 0))
    );
}

#[test]
fn restricted_day_fields_match_either() {
    // The 13th or any Friday: after Wed 2024-05-01 comes Fri 2024-05-03.
    let t = at(2024, 5, 1, 12, 0);
    assert_eq!(cron("0 0 13 * 5").next_after(t), Some(at(2024, 5, 3, 0, 0)));
    // With a star in day-of-month, only Fridays.
    assert_eq!(cron("0 0 * * 5").next_after(t), Some(at(2024, 5, 3, 0, 0)));
    // `*/2` in day-of-month starts with a star: both must match (odd days that are Fridays).
    assert_eq!(
        cron("0 0 */2 * 5").next_after(t),
        Some(at(2024, 5, 3, 0, 0))
    );
    assert_eq!(
        cron("0 0 */2 * 5").next_after(at(2024, 5, 3, 0, 0)),
        Some(at(2024, 5, 17, 0, 0))
    );
}

#[test]
fn leap_days_and_impossible_dates() {
    assert_eq!(
        cron("0 0 29 2 *").next_after(at(2024, 3, 1, 0, 0)),
        Some(at(2028, 2, 29, 0, 0))
    );
    // 2100 is not a leap year.
    assert_eq!(
        cron("0 0 29 2 *").next_after(at(2096, 3, 1, 0, 0)),
        Some(at(2104, 2, 29, 0, 0))
    );
    assert_eq!(cron("0 0 30 2 *").next_after(at(2024, 1, 1, 0, 0)), None);
    assert_eq!(
        cron("59 23 31 12 *").next_after(at(2024, 12, 31, 23, 59)),
        Some(at(2025, 12, 31, 23, 59))
    );
}

#[test]
fn refusals_name_the_field() {
    assert_eq!(
        "* * * *".parse::<CronExpr>().unwrap_err(),
        CronError::FieldCount(4)
    );
    assert!(matches!(
        "0 * * * * *".parse::<CronExpr>(),
        Err(CronError::FieldCount(6))
    ));
    let cases = [
        ("60 * * * *", "minute"),
        ("* 24 * * *", "hour"),
        ("* * 0 * *", "day-of-month"),
        ("* * * 13 *", "month"),
        ("* * * * 8", "day-of-week"),
        ("*/0 * * * *", "minute"),
        ("5-1 * * * *", "minute"),
        ("* * * FOO *", "month"),
        ("1,,2 * * * *", "minute"),
        ("x * * * *", "minute"),
    ];
    for (text, field) in cases {
        let error = text.parse::<CronExpr>().unwrap_err();
        match &error {
            CronError::Field { field: named, .. } => assert_eq!(*named, field, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
        assert!(error.to_string().contains(field), "{error}");
    }
}

/// A random field: `*`, a value, a range, a step or a list of those.
fn random_field(rng: &mut SplitMix64, min: u64, max: u64) -> String {
    let value = |rng: &mut SplitMix64| min + rng.below(max - min + 1);
    let item = |rng: &mut SplitMix64| match rng.below(5) {
        0 => "*".to_owned(),
        1 => value(rng).to_string(),
        2 => {
            let (a, b) = (value(rng), value(rng));
            format!("{}-{}", a.min(b), a.max(b))
        }
        3 => format!("*/{}", 1 + rng.below(max - min + 1)),
        _ => {
            let (a, b) = (value(rng), value(rng));
            format!("{}-{}/{}", a.min(b), a.max(b), 1 + rng.below(6))
        }
    };
    let count = 1 + rng.below(3);
    (0..count).map(|_| item(rng)).collect::<Vec<_>>().join(",")
}

/// Brute force: the first matching minute in `(after, after + window]`.
fn brute_next(expr: &CronExpr, after: u64, window_minutes: u64) -> Option<u64> {
    let first = after / MINUTE_MS + 1;
    (first..first + window_minutes)
        .map(|minute| minute * MINUTE_MS)
        .find(|t| expr.matches(*t))
}

#[test]
fn next_after_agrees_with_brute_force_on_random_expressions() {
    let mut rng = SplitMix64::new(0x5eed_c0de);
    let window = 45 * DAY_MINUTES;
    let mut compared = 0;
    for case in 0..150 {
        // Dense fields for minute and hour, so the window usually holds a match.
        let text = format!(
            "{} {} {} {} {}",
            random_field(&mut rng, 0, 59),
            random_field(&mut rng, 0, 23),
            if rng.chance(1, 2) {
                "*".to_owned()
            } else {
                random_field(&mut rng, 1, 31)
            },
            if rng.chance(2, 3) {
                "*".to_owned()
            } else {
                random_field(&mut rng, 1, 12)
            },
            if rng.chance(1, 2) {
                "*".to_owned()
            } else {
                random_field(&mut rng, 0, 7)
            },
        );
        let expr = cron(&text);
        // Any time between 2000 and 2100, not on a whole minute.
        let after = at(2000, 1, 1, 0, 0) + rng.below(100 * 365 * 86_400_000);
        let fast = expr.next_after(after);
        let slow = brute_next(&expr, after, window);
        match (fast, slow) {
            (Some(fast), Some(slow)) => {
                assert_eq!(fast, slow, "case {case}: {text} after {after}");
                compared += 1;
            }
            (Some(fast), None) => {
                assert!(
                    fast > after + window * MINUTE_MS - MINUTE_MS,
                    "case {case}: {text}"
                );
                assert!(expr.matches(fast), "case {case}: {text}");
            }
            (None, Some(slow)) => panic!("case {case}: {text} missed {slow}"),
            (None, None) => {}
        }
    }
    // Most random expressions match within the window: the comparison is not vacuous.
    assert!(compared > 100, "only {compared} cases compared");
}

#[test]
fn next_after_is_strictly_later_and_chains() {
    let mut rng = SplitMix64::new(42);
    for _ in 0..200 {
        let text = format!(
            "{} {} * * *",
            random_field(&mut rng, 0, 59),
            random_field(&mut rng, 0, 23)
        );
        let expr = cron(&text);
        let mut t = at(2030, 1, 1, 0, 0) + rng.below(86_400_000);
        for _ in 0..5 {
            let next = expr.next_after(t).unwrap();
            assert!(next > t, "{text}");
            assert_eq!(next % MINUTE_MS, 0, "{text}");
            assert!(expr.matches(next), "{text}");
            // Asking from just before an occurrence finds it again.
            assert_eq!(expr.next_after(next - 1), Some(next), "{text}");
            t = next;
        }
    }
}
