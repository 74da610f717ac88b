//! Retries of queued invocations: what happens after a platform failure (no invoker, an invoker
//! lost with the activation, a container that could not start). The invocation goes back to its
//! durable queue with an exponential backoff until it has failed `max_attempts` times; then it ends
//! with a dead-letter activation record that says why.
//!
//! Application and developer errors are not platform failures: they end with their record at once.

use serde::{Deserialize, Serialize};

/// When and how often a queued invocation is retried.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts in all (the first one included) before the dead-letter record.
    pub max_attempts: u32,
    /// The wait before the second attempt; each later wait doubles it.
    pub base_delay_ms: u64,
    /// The longest wait between attempts.
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay_ms: 500,
            max_delay_ms: 30_000,
        }
    }
}

/// What to do after attempt number `attempt` (1 for the first) failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AfterFailure {
    /// Deliver it again after this many milliseconds.
    RetryAfter(u64),
    /// Give up: record it as dead-lettered after this many attempts.
    DeadLetter { attempts: u32 },
}

impl RetryPolicy {
    /// The decision after attempt `attempt` failed.
    pub fn after_failure(&self, attempt: u32) -> AfterFailure {
        let attempt = attempt.max(1);
        if attempt >= self.max_attempts.max(1) {
            return AfterFailure::DeadLetter { attempts: attempt };
        }
        AfterFailure::RetryAfter(self.delay_ms(attempt))
    }

    /// The wait after failed attempt `attempt`: `base · 2^(attempt-1)`, at most `max_delay_ms`.
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let doublings = attempt.saturating_sub(1).min(32);
        self.base_delay_ms
            .saturating_mul(1u64 << doublings)
            .min(self.max_delay_ms)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_exponentially_then_dead_letters() {
        let policy = RetryPolicy {
            max_attempts: 4,
            base_delay_ms: 100,
            max_delay_ms: 250,
        };
        assert_eq!(policy.after_failure(1), AfterFailure::RetryAfter(100));
        assert_eq!(policy.after_failure(2), AfterFailure::RetryAfter(200));
        assert_eq!(policy.after_failure(3), AfterFailure::RetryAfter(250));
        assert_eq!(
            policy.after_failure(4),
            AfterFailure::DeadLetter { attempts: 4 }
        );
        // A redelivery past the limit (a crash between the decision and its ack) still ends.
        assert_eq!(
            policy.after_failure(9),
            AfterFailure::DeadLetter { attempts: 9 }
        );
    }

    #[test]
    fn one_attempt_means_no_retry_and_huge_attempts_do_not_overflow() {
        let once = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        assert_eq!(
            once.after_failure(1),
            AfterFailure::DeadLetter { attempts: 1 }
        );
        let policy = RetryPolicy {
            max_attempts: u32::MAX,
            base_delay_ms: u64::MAX / 2,
            max_delay_ms: 60_000,
        };
        assert_eq!(
            policy.after_failure(1_000),
            AfterFailure::RetryAfter(60_000)
        );
    }
}
