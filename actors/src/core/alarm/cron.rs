//! Five-field UTC cron expressions (`minute hour day-of-month month day-of-week`), as Vixie cron
//! reads them: `*`, values, lists `1,5`, ranges `1-5`, steps `*/15`, `1-30/2` and `5/10` (from 5 to
//! the field's maximum), month names `JAN`..`DEC` and weekday names `SUN`..`SAT`; weekday 7 is
//! Sunday. When both day fields are restricted (neither starts with `*`), a day matches if either
//! does; otherwise both must. [`CronExpr::next_after`] finds the next matching minute.

use super::calendar::{
    date_of, days_of, first_of_next_month, weekday_of, Date, DAY_MINUTES, MINUTE_MS,
};
use std::fmt;
use std::str::FromStr;

/// Why a cron expression was refused; the message names the field and the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error(
        "a cron expression has 5 fields (minute hour day-of-month month day-of-week), not {0}"
    )]
    FieldCount(usize),
    #[error("cron field {field} {text:?}: {reason}")]
    Field {
        field: &'static str,
        text: String,
        reason: String,
    },
}

/// One field's definition.
struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// The value of the first name.
    first_name_value: u32,
}

const MINUTE: FieldSpec = FieldSpec {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
    first_name_value: 0,
};
const HOUR: FieldSpec = FieldSpec {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
    first_name_value: 0,
};
const DAY_OF_MONTH: FieldSpec = FieldSpec {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
    first_name_value: 0,
};
const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
    first_name_value: 1,
};
const DAY_OF_WEEK: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    first_name_value: 0,
};

/// How far ahead [`CronExpr::next_after`] looks before it says "never" (`0 0 30 2 *`): eight years
/// covers the longest gap between two February 29ths.
const HORIZON_DAYS: u64 = 366 * 8 + 1;

/// A parsed cron expression: one bit per allowed value of each field.
#[derive(Clone, PartialEq, Eq)]
pub struct CronExpr {
    text: String,
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    /// Bit 0 = Sunday .. bit 6 = Saturday (7 folded onto 0).
    days_of_week: u64,
    /// The day-of-month field starts with `*`.
    any_day_of_month: bool,
    /// The day-of-week field starts with `*`.
    any_day_of_week: bool,
}

fn field_error(spec: &FieldSpec, text: &str, reason: impl Into<String>) -> CronError {
    CronError::Field {
        field: spec.name,
        text: text.to_owned(),
        reason: reason.into(),
    }
}

fn parse_value(spec: &FieldSpec, item: &str, text: &str) -> Result<u32, CronError> {
    let value = match item.parse::<u32>() {
        Ok(value) => value,
        Err(_) => match spec
            .names
            .iter()
            .position(|name| name.eq_ignore_ascii_case(item))
        {
            Some(index) => index as u32 + spec.first_name_value,
            None => return Err(field_error(spec, text, format!("{item:?} is not a value"))),
        },
    };
    if value < spec.min || value > spec.max {
        return Err(field_error(
            spec,
            text,
            format!("{value} is outside {}..={}", spec.min, spec.max),
        ));
    }
    Ok(value)
}

/// The bits a field allows, and whether it starts with `*`.
fn parse_field(spec: &FieldSpec, text: &str) -> Result<(u64, bool), CronError> {
    let mut bits = 0u64;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(field_error(spec, text, "empty list item"));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step = step
                    .parse::<u32>()
                    .ok()
                    .filter(|step| *step > 0)
                    .ok_or_else(|| {
                        field_error(
                            spec,
                            text,
                            format!("step {step:?} is not a positive number"),
                        )
                    })?;
                (range, Some(step))
            }
            None => (item, None),
        };
        let (low, high) = if range == "*" {
            (spec.min, spec.max)
        } else if let Some((low, high)) = range.split_once('-') {
            let (low, high) = (
                parse_value(spec, low, text)?,
                parse_value(spec, high, text)?,
            );
            if low > high {
                return Err(field_error(
                    spec,
                    text,
                    format!("range {low}-{high} is backwards"),
                ));
            }
            (low, high)
        } else {
            let value = parse_value(spec, range, text)?;
            // `5/10` runs from 5 to the maximum; a bare value is itself.
            (value, if step.is_some() { spec.max } else { value })
        };
        let step = step.unwrap_or(1);
        let mut value = low;
        while value <= high {
            bits |= 1 << value;
            value += step;
        }
    }
    Ok((bits, text.starts_with('*')))
}

impl FromStr for CronExpr {
    type Err = CronError;

    fn from_str(text: &str) -> Result<Self, CronError> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day_of_month, month, day_of_week] = fields[..] else {
            return Err(CronError::FieldCount(fields.len()));
        };
        let (minutes, _) = parse_field(&MINUTE, minute)?;
        let (hours, _) = parse_field(&HOUR, hour)?;
        let (days_of_month, any_day_of_month) = parse_field(&DAY_OF_MONTH, day_of_month)?;
        let (months, _) = parse_field(&MONTH, month)?;
        let (mut days_of_week, any_day_of_week) = parse_field(&DAY_OF_WEEK, day_of_week)?;
        if days_of_week & (1 << 7) != 0 {
            days_of_week = (days_of_week & !(1 << 7)) | 1;
        }
        Ok(CronExpr {
            text: fields.join(" "),
            minutes,
            hours,
            days_of_month,
            months,
            days_of_week,
            any_day_of_month,
            any_day_of_week,
        })
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronExpr({:?})", self.text)
    }
}

fn has(bits: u64, value: u32) -> bool {
    bits & (1 << value) != 0
}

impl CronExpr {
    /// Whether the day `days` since 1970-01-01 (with its date) matches the day fields.
    fn day_matches(&self, days: u64, date: Date) -> bool {
        let by_month = has(self.days_of_month, date.day);
        let by_week = has(self.days_of_week, weekday_of(days));
        if self.any_day_of_month || self.any_day_of_week {
            by_month && by_week
        } else {
            by_month || by_week
        }
    }

    /// Whether the minute starting at `unix_ms` (rounded down to the minute) matches.
    pub fn matches(&self, unix_ms: u64) -> bool {
        let minute = unix_ms / MINUTE_MS;
        let days = minute / DAY_MINUTES;
        let minute_of_day = minute % DAY_MINUTES;
        let date = date_of(days);
        has(self.months, date.month)
            && self.day_matches(days, date)
            && has(self.hours, (minute_of_day / 60) as u32)
            && has(self.minutes, (minute_of_day % 60) as u32)
    }

    /// The first matching minute strictly after `unix_ms` (unix ms, a whole minute), or `None`
    /// when nothing matches within eight years (`0 0 31 2 *` never does).
    pub fn next_after(&self, unix_ms: u64) -> Option<u64> {
        let mut minute = unix_ms / MINUTE_MS + 1;
        let horizon = minute / DAY_MINUTES + HORIZON_DAYS;
        loop {
            let days = minute / DAY_MINUTES;
            if days > horizon {
                return None;
            }
            let date = date_of(days);
            if !has(self.months, date.month) {
                minute = days_of(first_of_next_month(date)) * DAY_MINUTES;
                continue;
            }
            if !self.day_matches(days, date) {
                minute = (days + 1) * DAY_MINUTES;
                continue;
            }
            let minute_of_day = minute % DAY_MINUTES;
            let hour = (minute_of_day / 60) as u32;
            if !has(self.hours, hour) {
                minute = match next_bit(self.hours, hour + 1, 23) {
                    Some(next) => days * DAY_MINUTES + u64::from(next) * 60,
                    None => (days + 1) * DAY_MINUTES,
                };
                continue;
            }
            let minute_of_hour = (minute_of_day % 60) as u32;
            match next_bit(self.minutes, minute_of_hour, 59) {
                Some(next) => {
                    return Some(
                        (days * DAY_MINUTES + u64::from(hour) * 60 + u64::from(next)) * MINUTE_MS,
                    )
                }
                None => minute = days * DAY_MINUTES + (u64::from(hour) + 1) * 60,
            }
        }
    }
}

/// The smallest set bit of `bits` in `from..=max`.
fn next_bit(bits: u64, from: u32, max: u32) -> Option<u32> {
    (from..=max).find(|value| has(bits, *value))
}
