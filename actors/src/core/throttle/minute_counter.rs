//! A counter per calendar minute (`now / 60 000`), reset when the minute changes.

use crate::core::time::Millis;

const MINUTE_MS: u64 = 60_000;

/// Counts events in the current calendar minute.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MinuteCounter {
    minute: u64,
    count: u32,
}

impl MinuteCounter {
    /// Counts one event at `now` and returns the count of `now`'s minute, this event included.
    pub(crate) fn count_one(&mut self, now: Millis) -> u32 {
        let minute = now.0 / MINUTE_MS;
        if minute != self.minute {
            self.minute = minute;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.count
    }

    /// The count of `now`'s minute without counting anything.
    pub(crate) fn count_at(&self, now: Millis) -> u32 {
        if now.0 / MINUTE_MS == self.minute {
            self.count
        } else {
            0
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_a_minute_and_resets_after() {
        let mut c = MinuteCounter::default();
        assert_eq!(c.count_one(Millis(0)), 1);
        assert_eq!(c.count_one(Millis(59_999)), 2);
        assert_eq!(c.count_at(Millis(59_999)), 2);
        assert_eq!(c.count_at(Millis(60_000)), 0);
        assert_eq!(c.count_one(Millis(60_000)), 1);
    }
}
