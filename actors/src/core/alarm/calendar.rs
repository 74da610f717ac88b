//! The proleptic Gregorian calendar in UTC on whole days since 1970-01-01, without a date library:
//! what the cron matcher needs (year, month, day, weekday) and the way back to a day number.

/// Milliseconds in a minute.
pub const MINUTE_MS: u64 = 60_000;
/// Minutes in a day.
pub const DAY_MINUTES: u64 = 1_440;

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    pub year: i64,
    /// 1..=12.
    pub month: u32,
    /// 1..=31.
    pub day: u32,
}

/// The date of `days` since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub fn date_of(days: u64) -> Date {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date { year, month, day }
}

/// Days since 1970-01-01 of a date (Howard Hinnant's `days_from_civil`); dates before 1970 give 0.
pub fn days_of(date: Date) -> u64 {
    let year = date.year - i64::from(date.month <= 2);
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(date.month);
    let doy =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(date.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    u64::try_from(era * 146_097 + doe - 719_468).unwrap_or(0)
}

/// The weekday of `days` since 1970-01-01: 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday).
pub fn weekday_of(days: u64) -> u32 {
    ((days + 4) % 7) as u32
}

/// The first day of the month after `date`'s.
pub fn first_of_next_month(date: Date) -> Date {
    if date.month == 12 {
        Date {
            year: date.year + 1,
            month: 1,
            day: 1,
        }
    } else {
        Date {
            year: date.year,
            month: date.month + 1,
            day: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_day_of_four_centuries() {
        for days in (0..146_097 * 2).step_by(7) {
            assert_eq!(days_of(date_of(days)), days);
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(
            date_of(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        // 2024-02-29 is day 19782, a Thursday.
        let leap = days_of(Date {
            year: 2024,
            month: 2,
            day: 29,
        });
        assert_eq!(leap, 19_782);
        assert_eq!(weekday_of(leap), 4);
        assert_eq!(weekday_of(0), 4);
        assert_eq!(
            first_of_next_month(Date {
                year: 2023,
                month: 12,
                day: 31
            }),
            Date {
                year: 2024,
                month: 1,
                day: 1
            }
        );
    }
}
