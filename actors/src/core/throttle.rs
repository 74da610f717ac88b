//! Throttles: per-namespace invocations per minute, concurrent invocations and trigger fires per
//! minute (OpenWhisk's `RateThrottler` and `ActivationThrottler`).
//!
//! Contract for the host:
//! - call [`Throttles::admit`] before dispatching an action invocation; on `Ok` the namespace holds
//!   one concurrent slot until the host calls [`Throttles::release`] when that activation ends
//!   (whatever its status), exactly once;
//! - call [`Throttles::admit_fire`] before firing a trigger (no release: fires are not concurrent);
//! - pass `now` as wall-clock epoch milliseconds: the per-minute counts reset when the calendar
//!   minute (`now / 60 000`) changes, like OpenWhisk.
//!
//! Like OpenWhisk, every checked request counts towards the minute, admitted or not, so a client that
//! keeps hammering stays throttled until the minute rolls over, and the error reports how many
//! requests it sent (`count: 75, allowed: 60`).

mod limits;
mod minute_counter;
mod throttled;

pub use limits::{NamespaceLimits, ThrottleConfig};
pub use throttled::{ThrottleKind, Throttled};

use crate::core::time::Millis;
use minute_counter::MinuteCounter;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Proof that an invocation was admitted, with the counts after admitting it (for metrics and
/// rate-limit headers). The host must later call [`Throttles::release`] for this namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[must_use = "an admitted invocation holds a concurrent slot until it is released"]
pub struct Admission {
    /// The namespace that was admitted.
    pub namespace: String,
    /// Invocations counted in the current minute, this one included.
    pub invocations_this_minute: u32,
    /// Concurrent invocations in flight, this one included.
    pub concurrent: u32,
}

#[derive(Clone, Debug, Default)]
struct NamespaceUsage {
    invocations: MinuteCounter,
    fires: MinuteCounter,
    concurrent: u32,
}

/// The throttles of all namespaces of one controller.
#[derive(Clone, Debug)]
pub struct Throttles {
    config: ThrottleConfig,
    overrides: BTreeMap<String, NamespaceLimits>,
    usage: BTreeMap<String, NamespaceUsage>,
}

impl Throttles {
    /// Throttles with the given defaults and no namespace-specific limits.
    pub fn new(config: ThrottleConfig) -> Self {
        Throttles {
            config,
            overrides: BTreeMap::new(),
            usage: BTreeMap::new(),
        }
    }

    /// Rebuilds throttles after a restart: the namespace limits from the entity log and the number of
    /// invocations still in flight per namespace. Per-minute counts start empty (a restart forgives
    /// the current minute).
    pub fn from_parts(
        config: ThrottleConfig,
        overrides: BTreeMap<String, NamespaceLimits>,
        in_flight: BTreeMap<String, u32>,
    ) -> Self {
        let usage = in_flight
            .into_iter()
            .map(|(namespace, concurrent)| {
                (
                    namespace,
                    NamespaceUsage {
                        concurrent,
                        ..NamespaceUsage::default()
                    },
                )
            })
            .collect();
        Throttles {
            config,
            overrides,
            usage,
        }
    }

    /// Sets the limits of one namespace (fields left `None` use the defaults).
    pub fn set_limits(&mut self, namespace: &str, limits: NamespaceLimits) {
        self.overrides.insert(namespace.to_string(), limits);
    }

    /// Drops the namespace-specific limits of `namespace`: it uses the defaults again.
    pub fn clear_limits(&mut self, namespace: &str) {
        self.overrides.remove(namespace);
    }

    /// The limits in force for `namespace` (its overrides on top of the defaults), with every field set.
    pub fn limits_for(&self, namespace: &str) -> NamespaceLimits {
        let own = self.overrides.get(namespace);
        NamespaceLimits {
            invocations_per_minute: Some(
                own.and_then(|l| l.invocations_per_minute)
                    .unwrap_or(self.config.invocations_per_minute),
            ),
            concurrent_invocations: Some(
                own.and_then(|l| l.concurrent_invocations)
                    .unwrap_or(self.config.concurrent_invocations),
            ),
            fires_per_minute: Some(
                own.and_then(|l| l.fires_per_minute)
                    .unwrap_or(self.config.fires_per_minute),
            ),
        }
    }

    fn limit(&self, namespace: &str, kind: ThrottleKind) -> u32 {
        let own = self.overrides.get(namespace);
        match kind {
            ThrottleKind::InvocationsPerMinute => own
                .and_then(|l| l.invocations_per_minute)
                .unwrap_or(self.config.invocations_per_minute),
            ThrottleKind::ConcurrentInvocations => own
                .and_then(|l| l.concurrent_invocations)
                .unwrap_or(self.config.concurrent_invocations),
            ThrottleKind::FiresPerMinute => own
                .and_then(|l| l.fires_per_minute)
                .unwrap_or(self.config.fires_per_minute),
        }
    }

    /// Checks an action invocation of `namespace` at `now`: first the rate (this request counts
    /// towards the minute whatever the outcome; refused when the count exceeds the limit), then the
    /// concurrency (refused when the invocations in flight already reach the limit). On success the
    /// namespace holds one more concurrent slot.
    pub fn admit(&mut self, namespace: &str, now: Millis) -> Result<Admission, Throttled> {
        let count = self.count_rate(namespace, now)?;
        let concurrent = self.acquire_slot(namespace)?;
        Ok(Admission {
            namespace: namespace.to_string(),
            invocations_this_minute: count,
            concurrent,
        })
    }

    /// Checks an invocation that will wait in a durable queue before it runs: the rate counts and
    /// the concurrency is checked exactly as [`Throttles::admit`] does, but no slot is held (the
    /// queue's delivery takes one with [`Throttles::acquire_slot`]). Returns the minute's count.
    pub fn admit_queued(&mut self, namespace: &str, now: Millis) -> Result<u32, Throttled> {
        let count = self.count_rate(namespace, now)?;
        self.check_concurrency(namespace)?;
        Ok(count)
    }

    /// Takes one concurrent slot of `namespace` without counting the rate (a queued invocation,
    /// counted when it was accepted); refused when the namespace is at its concurrency limit.
    /// On success the host must later call [`Throttles::release`]. Returns the slots now held.
    pub fn acquire_slot(&mut self, namespace: &str) -> Result<u32, Throttled> {
        self.check_concurrency(namespace)?;
        let usage = self.usage.entry(namespace.to_string()).or_default();
        usage.concurrent += 1;
        Ok(usage.concurrent)
    }

    /// Refused when the invocations of `namespace` in flight already reach its limit.
    fn check_concurrency(&self, namespace: &str) -> Result<(), Throttled> {
        let allowed = self.limit(namespace, ThrottleKind::ConcurrentInvocations);
        let count = self.concurrent(namespace);
        if count >= allowed {
            tracing::debug!(
                namespace,
                count,
                allowed,
                "concurrent invocations throttled"
            );
            return Err(Throttled {
                namespace: namespace.to_string(),
                kind: ThrottleKind::ConcurrentInvocations,
                count,
                allowed,
            });
        }
        Ok(())
    }

    /// Counts one invocation of `namespace` towards the minute of `now`; refused when the count
    /// exceeds the limit.
    fn count_rate(&mut self, namespace: &str, now: Millis) -> Result<u32, Throttled> {
        let per_minute = self.limit(namespace, ThrottleKind::InvocationsPerMinute);
        let usage = self.usage.entry(namespace.to_string()).or_default();
        let count = usage.invocations.count_one(now);
        if count > per_minute {
            tracing::debug!(
                namespace,
                count,
                allowed = per_minute,
                "invocation rate throttled"
            );
            return Err(Throttled {
                namespace: namespace.to_string(),
                kind: ThrottleKind::InvocationsPerMinute,
                count,
                allowed: per_minute,
            });
        }
        Ok(count)
    }

    /// Returns the concurrent slot of one admitted invocation of `namespace` that has ended.
    /// A release without a matching admission is ignored (and logged), never underflows.
    pub fn release(&mut self, namespace: &str) {
        match self.usage.get_mut(namespace) {
            Some(usage) if usage.concurrent > 0 => usage.concurrent -= 1,
            _ => tracing::warn!(namespace, "throttle release without a matching admission"),
        }
    }

    /// Checks a trigger fire of `namespace` at `now` against the fires-per-minute limit (each check
    /// counts, admitted or not).
    pub fn admit_fire(&mut self, namespace: &str, now: Millis) -> Result<u32, Throttled> {
        let per_minute = self.limit(namespace, ThrottleKind::FiresPerMinute);
        let usage = self.usage.entry(namespace.to_string()).or_default();
        let count = usage.fires.count_one(now);
        if count > per_minute {
            tracing::debug!(
                namespace,
                count,
                allowed = per_minute,
                "trigger fire rate throttled"
            );
            return Err(Throttled {
                namespace: namespace.to_string(),
                kind: ThrottleKind::FiresPerMinute,
                count,
                allowed: per_minute,
            });
        }
        Ok(count)
    }

    /// Invocations of `namespace` in flight (admitted, not yet released).
    pub fn concurrent(&self, namespace: &str) -> u32 {
        self.usage.get(namespace).map_or(0, |u| u.concurrent)
    }

    /// Invocations of `namespace` counted in the minute of `now`.
    pub fn invocations_in_minute(&self, namespace: &str, now: Millis) -> u32 {
        self.usage
            .get(namespace)
            .map_or(0, |u| u.invocations.count_at(now))
    }

    /// Trigger fires of `namespace` counted in the minute of `now`.
    pub fn fires_in_minute(&self, namespace: &str, now: Millis) -> u32 {
        self.usage
            .get(namespace)
            .map_or(0, |u| u.fires.count_at(now))
    }

    /// Forgets namespaces with nothing in flight and no count in the minute of `now`, so the map
    /// does not grow with every namespace ever seen. Returns how many were dropped.
    pub fn prune(&mut self, now: Millis) -> usize {
        let before = self.usage.len();
        self.usage.retain(|_, u| {
            u.concurrent > 0 || u.invocations.count_at(now) > 0 || u.fires.count_at(now) > 0
        });
        before - self.usage.len()
    }

    /// Namespaces currently tracked (for tests and metrics).
    pub fn tracked_namespaces(&self) -> usize {
        self.usage.len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::core::random::SplitMix64;

    const MINUTE: u64 = 60_000;

    fn throttles() -> Throttles {
        Throttles::new(ThrottleConfig::default())
    }

    #[test]
    fn defaults_are_openwhisks() {
        let t = throttles();
        let limits = t.limits_for("ns");
        assert_eq!(limits.invocations_per_minute, Some(60));
        assert_eq!(limits.concurrent_invocations, Some(30));
        assert_eq!(limits.fires_per_minute, Some(60));
    }

    #[test]
    fn rate_limit_refuses_the_61st_invocation_of_a_minute() {
        let mut t = throttles();
        let now = Millis(5 * MINUTE);
        for i in 1..=60 {
            let admission = t.admit("ns", now).unwrap();
            assert_eq!(admission.invocations_this_minute, i);
            t.release("ns");
        }
        let err = t.admit("ns", now.plus(10)).unwrap_err();
        assert_eq!(err.kind, ThrottleKind::InvocationsPerMinute);
        assert_eq!((err.count, err.allowed), (61, 60));
        assert_eq!(
            err.to_string(),
            "Too many requests in the last minute (count: 61, allowed: 60)."
        );
        // Refused requests count too.
        let err = t.admit("ns", now.plus(20)).unwrap_err();
        assert_eq!(err.count, 62);
        // Other namespaces are independent.
        assert!(t.admit("other", now).is_ok());
    }

    #[test]
    fn rate_resets_when_the_calendar_minute_changes() {
        let mut t = throttles();
        let late_in_minute = Millis(7 * MINUTE + 59_000);
        for _ in 0..60 {
            let _ = t.admit("ns", late_in_minute).unwrap();
            t.release("ns");
        }
        assert!(t.admit("ns", late_in_minute.plus(999)).is_err());
        // One second later is a new calendar minute: OpenWhisk buckets, not a sliding window.
        let admission = t.admit("ns", Millis(8 * MINUTE)).unwrap();
        assert_eq!(admission.invocations_this_minute, 1);
        assert_eq!(t.invocations_in_minute("ns", Millis(8 * MINUTE)), 1);
        assert_eq!(t.invocations_in_minute("ns", Millis(9 * MINUTE)), 0);
    }

    #[test]
    fn concurrency_limit_counts_in_flight_and_release_frees_a_slot() {
        let mut t = throttles();
        t.set_limits(
            "ns",
            NamespaceLimits {
                invocations_per_minute: Some(1000),
                concurrent_invocations: Some(3),
                fires_per_minute: None,
            },
        );
        let now = Millis(0);
        for i in 1..=3 {
            assert_eq!(t.admit("ns", now).unwrap().concurrent, i);
        }
        let err = t.admit("ns", now).unwrap_err();
        assert_eq!(err.kind, ThrottleKind::ConcurrentInvocations);
        assert_eq!((err.count, err.allowed), (3, 3));
        assert_eq!(
            err.to_string(),
            "Too many concurrent requests in flight (count: 3, allowed: 3)."
        );
        t.release("ns");
        assert_eq!(t.concurrent("ns"), 2);
        assert!(t.admit("ns", now).is_ok());
        assert_eq!(t.concurrent("ns"), 3);
    }

    #[test]
    fn release_without_admission_does_not_underflow() {
        let mut t = throttles();
        t.release("ghost");
        let _ = t.admit("ns", Millis(0)).unwrap();
        t.release("ns");
        t.release("ns");
        assert_eq!(t.concurrent("ns"), 0);
    }

    #[test]
    fn fires_have_their_own_limit() {
        let mut t = throttles();
        t.set_limits(
            "ns",
            NamespaceLimits {
                fires_per_minute: Some(2),
                ..NamespaceLimits::default()
            },
        );
        assert_eq!(t.admit_fire("ns", Millis(0)), Ok(1));
        assert_eq!(t.admit_fire("ns", Millis(1)), Ok(2));
        let err = t.admit_fire("ns", Millis(2)).unwrap_err();
        assert_eq!(err.kind, ThrottleKind::FiresPerMinute);
        assert_eq!(
            err.to_string(),
            "Too many requests in the last minute (count: 3, allowed: 2)."
        );
        // Fires do not use up invocations.
        assert_eq!(t.invocations_in_minute("ns", Millis(2)), 0);
        assert_eq!(t.fires_in_minute("ns", Millis(2)), 3);
        t.clear_limits("ns");
        assert_eq!(t.limits_for("ns").fires_per_minute, Some(60));
    }

    #[test]
    fn restart_restores_in_flight_counts() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "ns".to_string(),
            NamespaceLimits {
                concurrent_invocations: Some(2),
                ..NamespaceLimits::default()
            },
        );
        let mut in_flight = BTreeMap::new();
        in_flight.insert("ns".to_string(), 2);
        let mut t = Throttles::from_parts(ThrottleConfig::default(), overrides, in_flight);
        assert_eq!(
            t.admit("ns", Millis(0)).unwrap_err().kind,
            ThrottleKind::ConcurrentInvocations
        );
        t.release("ns");
        assert!(t.admit("ns", Millis(0)).is_ok());
    }

    #[test]
    fn prune_forgets_idle_namespaces_only() {
        let mut t = throttles();
        let _ = t.admit("busy", Millis(0)).unwrap();
        let _ = t.admit("idle", Millis(0)).unwrap();
        t.release("idle");
        assert_eq!(t.prune(Millis(10)), 0, "idle still has a count this minute");
        assert_eq!(t.prune(Millis(MINUTE)), 1);
        assert_eq!(t.tracked_namespaces(), 1);
        assert_eq!(t.concurrent("busy"), 1);
    }

    /// Property: over random traffic, no namespace is ever admitted more than its per-minute limit
    /// within one calendar minute, nor holds more than its concurrency limit.
    #[test]
    fn random_traffic_never_exceeds_limits() {
        for seed in 0..20u64 {
            let mut rng = SplitMix64::new(seed);
            let mut t = Throttles::new(ThrottleConfig {
                invocations_per_minute: 1 + rng.below(20) as u32,
                concurrent_invocations: 1 + rng.below(5) as u32,
                fires_per_minute: 60,
            });
            let names = ["a", "b", "c"];
            let mut admitted_in_minute: BTreeMap<(&str, u64), u32> = BTreeMap::new();
            let mut held: BTreeMap<&str, u32> = BTreeMap::new();
            let mut now = Millis(0);
            for _ in 0..3000 {
                now = now.plus(rng.below(400));
                let ns = names[rng.below(3) as usize];
                if rng.chance(1, 2) {
                    if let Ok(adm) = t.admit(ns, now) {
                        let n = admitted_in_minute.entry((ns, now.0 / MINUTE)).or_default();
                        *n += 1;
                        assert!(*n <= t.limit(ns, ThrottleKind::InvocationsPerMinute));
                        let h = held.entry(ns).or_default();
                        *h += 1;
                        assert_eq!(adm.concurrent, *h);
                        assert!(*h <= t.limit(ns, ThrottleKind::ConcurrentInvocations));
                    }
                } else if held.get(ns).copied().unwrap_or(0) > 0 {
                    t.release(ns);
                    *held.entry(ns).or_default() -= 1;
                }
                assert_eq!(t.concurrent(ns), held.get(ns).copied().unwrap_or(0));
            }
        }
    }

    #[test]
    fn a_queued_invocation_counts_at_acceptance_and_takes_its_slot_at_delivery() {
        let mut t = Throttles::new(ThrottleConfig {
            invocations_per_minute: 3,
            concurrent_invocations: 1,
            fires_per_minute: 60,
        });
        let now = Millis(5 * MINUTE);
        // Accepted into the queue: the rate counts, no slot is held.
        assert_eq!(t.admit_queued("ns", now).unwrap(), 1);
        assert_eq!(t.concurrent("ns"), 0);
        // Delivered: it takes the slot without counting again.
        assert_eq!(t.acquire_slot("ns").unwrap(), 1);
        assert_eq!(t.invocations_in_minute("ns", now), 1);
        // A second delivery waits for the slot; a second acceptance sees the namespace full.
        let refused = t.acquire_slot("ns").unwrap_err();
        assert_eq!(refused.kind, ThrottleKind::ConcurrentInvocations);
        let refused = t.admit_queued("ns", now).unwrap_err();
        assert_eq!(refused.kind, ThrottleKind::ConcurrentInvocations);
        t.release("ns");
        assert_eq!(t.admit_queued("ns", now).unwrap(), 3);
        // The rate is over: the fourth acceptance of the minute is refused.
        let refused = t.admit_queued("ns", now).unwrap_err();
        assert_eq!(refused.kind, ThrottleKind::InvocationsPerMinute);
        assert_eq!(t.concurrent("ns"), 0);
    }
}
