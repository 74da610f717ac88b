//! An alarm's schedule: a cron expression or a fixed interval, bounded by an optional start and
//! stop (both inclusive), and the questions the scheduler asks of it: the next occurrence after a
//! time, and which occurrences fell due in a span of time.

use super::cron::CronExpr;

/// How often an alarm fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlarmTiming {
    /// On every minute the expression matches (UTC).
    Cron(CronExpr),
    /// At `start + k * every_ms` for k = 0, 1, 2, ... (the start defaults to the unix epoch).
    Interval { every_ms: u64 },
}

/// A timing between bounds: occurrences before `start_ms` or after `stop_ms` do not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmSchedule {
    pub timing: AlarmTiming,
    pub start_ms: Option<u64>,
    pub stop_ms: Option<u64>,
}

/// The occurrences that fell due in a span of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    /// The latest of them.
    pub latest_ms: u64,
    /// How many there were (at least 1). Counting stops at [`MAX_COUNTED`].
    pub count: u64,
}

/// Counting the due occurrences of a cron schedule stops here (a minutely alarm down for 70 days);
/// beyond it, the count is a lower bound and only the last year is searched for the latest.
pub const MAX_COUNTED: u64 = 100_000;

const YEAR_MS: u64 = 366 * 86_400_000;

impl AlarmSchedule {
    /// The first occurrence strictly after `after_ms`, if any.
    pub fn next_after(&self, after_ms: u64) -> Option<u64> {
        let next = match &self.timing {
            AlarmTiming::Cron(cron) => {
                // Occurrences at or after the start: search from just before it.
                let from = match self.start_ms {
                    Some(start) if start > after_ms => start - 1,
                    _ => after_ms,
                };
                cron.next_after(from)?
            }
            AlarmTiming::Interval { every_ms } => {
                let every = (*every_ms).max(1);
                let anchor = self.start_ms.unwrap_or(0);
                if after_ms < anchor {
                    anchor
                } else {
                    let steps = (after_ms - anchor) / every + 1;
                    anchor.checked_add(steps.checked_mul(every)?)?
                }
            }
        };
        match self.stop_ms {
            Some(stop) if next > stop => None,
            _ => Some(next),
        }
    }

    /// The occurrences in `(after_ms, now_ms]`, or `None` when there is none.
    pub fn due(&self, after_ms: u64, now_ms: u64) -> Option<Due> {
        let first = self.next_after(after_ms).filter(|first| *first <= now_ms)?;
        match &self.timing {
            AlarmTiming::Interval { every_ms } => {
                let every = (*every_ms).max(1);
                let last_bound = self.stop_ms.map_or(now_ms, |stop| stop.min(now_ms));
                let extra = (last_bound - first) / every;
                Some(Due {
                    latest_ms: first + extra * every,
                    count: extra + 1,
                })
            }
            AlarmTiming::Cron(_) => {
                let mut due = Due {
                    latest_ms: first,
                    count: 1,
                };
                let mut cursor = first;
                loop {
                    if due.count == MAX_COUNTED {
                        // Far behind: the count is a lower bound; look for the latest in the last year.
                        cursor = cursor.max(now_ms.saturating_sub(YEAR_MS));
                    }
                    match self.next_after(cursor) {
                        Some(next) if next <= now_ms => {
                            due.latest_ms = next;
                            due.count = due.count.saturating_add(1);
                            cursor = next;
                        }
                        _ => return Some(due),
                    }
                }
            }
        }
    }
}
