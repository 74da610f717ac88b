//! Alarm feeds: the pure core that decides when an alarm fires its trigger.
//!
//! - [`cron`]: five-field UTC cron expressions and the next matching minute;
//! - [`schedule`]: cron or interval between a start and a stop; next occurrence, due occurrences;
//! - [`scheduler`]: the feeds of a deployment, their checkpoints, and the catch-up rule (one fire
//!   for the latest missed occurrence, with `"missed": N`; see `docs/feeds.md`);
//! - [`calendar`]: UTC dates from day numbers, for the cron matcher.
//!
//! No clock and no I/O: the host passes the time with every input and carries out the effects.

pub mod calendar;
pub mod cron;
pub mod schedule;
pub mod scheduler;

#[cfg(test)]
mod cron_tests;
#[cfg(test)]
mod scheduler_tests;

pub use cron::{CronError, CronExpr};
pub use schedule::{AlarmSchedule, AlarmTiming, Due};
pub use scheduler::{AlarmEffect, AlarmFeed, AlarmInput, AlarmScheduler, FeedKey};
