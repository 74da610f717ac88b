//! What the pool remembers per action for [`KeepAlivePolicy::Histogram`]: its idle times, whether
//! it is busy or idle (and since when), the windows chosen for the current idle period, and the
//! request to copy when a container is pre-warmed for it.
//!
//! An action (namespace and name; its versions share one history) is *busy* while any activation
//! of it waits or runs, and *idle* otherwise. Each arrival after an idle period of at least one bin
//! records one idle time (shorter gaps, such as back-to-back requests, count as busy time, as in
//! the paper's per-minute histograms); each idle period gets its windows when it starts.
//!
//! [`KeepAlivePolicy::Histogram`]: super::KeepAlivePolicy::Histogram

use crate::core::action::ActionKey;
use crate::core::pool::keep_alive::{HistogramPolicy, IdleTimes, KeepAliveWindows};
use crate::core::pool::messages::ActivationRequest;
use crate::core::time::Millis;
use std::collections::{BTreeMap, BTreeSet};

/// An action's identity for its idle history: namespace and fully qualified name.
pub(crate) type ActionName = (String, String);

/// The action name of a key.
pub(crate) fn action_name(key: &ActionKey) -> ActionName {
    (key.namespace.clone(), key.action.clone())
}

#[derive(Clone, Debug)]
struct ActionIdle {
    idle: IdleTimes,
    /// The latest request of the action (a pre-warmed container is created like it).
    template: ActivationRequest,
    /// When it went idle, while it is idle.
    idle_since: Option<Millis>,
    busy_since: Millis,
    arrivals_while_busy: u64,
    windows: KeepAliveWindows,
    /// Whether a container was pre-warmed in the current idle period.
    prewarmed: bool,
}

/// The idle state of every action the pool has run.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdleTracker {
    actions: BTreeMap<ActionName, ActionIdle>,
}

impl IdleTracker {
    /// An activation of `request`'s action arrived at `now`.
    pub(crate) fn arrival(
        &mut self,
        request: &ActivationRequest,
        now: Millis,
        policy: &HistogramPolicy,
    ) {
        let entry = self
            .actions
            .entry(action_name(&request.action))
            .or_insert_with(|| ActionIdle {
                idle: IdleTimes::default(),
                template: request.clone(),
                idle_since: None,
                busy_since: now,
                arrivals_while_busy: 0,
                windows: KeepAliveWindows {
                    prewarm_ms: 0,
                    keep_alive_ms: policy.standard_keep_alive_ms,
                },
                prewarmed: false,
            });
        if let Some(since) = entry.idle_since.take() {
            let gap = now.since(since);
            if gap < policy.bin_ms {
                // Back within one bin: part of the busy period, not an idle time.
                entry.idle.record_busy(gap, 0);
            } else {
                entry.idle.record(gap, policy);
            }
            entry.busy_since = now;
            entry.arrivals_while_busy = 0;
        }
        entry.arrivals_while_busy += 1;
        entry.template = request.clone();
    }

    /// Actions not in `busy` that were busy go idle at `now` and get their windows.
    pub(crate) fn settle(
        &mut self,
        busy: &BTreeSet<ActionName>,
        now: Millis,
        policy: &HistogramPolicy,
    ) {
        for (name, action) in &mut self.actions {
            if action.idle_since.is_some() || busy.contains(name) {
                continue;
            }
            action
                .idle
                .record_busy(now.since(action.busy_since), action.arrivals_while_busy);
            action.idle_since = Some(now);
            action.windows = policy.windows(&action.idle, action.template.memory_mb);
            action.prewarmed = false;
            tracing::debug!(namespace = %name.0, action = %name.1,
                prewarm_ms = action.windows.prewarm_ms, keep_alive_ms = action.windows.keep_alive_ms,
                "action idle; keep-alive windows chosen");
        }
    }

    /// When an idle container of `action`, last used at `last_used`, is removed; `None` for an
    /// action the tracker has not seen.
    pub(crate) fn expires_at(&self, action: &ActionKey, last_used: Millis) -> Option<Millis> {
        let state = self.actions.get(&action_name(action))?;
        let w = state.windows;
        let end = w.prewarm_ms.saturating_add(w.keep_alive_ms);
        Some(match state.idle_since {
            // Busy: an extra idle container stays as long as the windows reach.
            None => last_used.plus(end),
            Some(_) if w.prewarm_ms == 0 => last_used.plus(w.keep_alive_ms),
            // Pre-warm later: containers of the busy period go at once, the pre-warmed one stays
            // until the end of its window.
            Some(since) if last_used < since.plus(w.prewarm_ms) => since,
            Some(since) => since.plus(end),
        })
    }

    /// The actions whose pre-warm time has come at `now` (idle, inside their loaded window, not
    /// pre-warmed yet in this idle period) and that `has_container` says have no container: the
    /// requests to create a container like. Marks them pre-warmed.
    pub(crate) fn due_prewarms(
        &mut self,
        now: Millis,
        has_container: impl Fn(&ActionKey) -> bool,
    ) -> Vec<ActivationRequest> {
        let mut due = Vec::new();
        for action in self.actions.values_mut() {
            let Some(since) = action.idle_since else {
                continue;
            };
            let w = action.windows;
            let start = since.plus(w.prewarm_ms);
            let end = start.plus(w.keep_alive_ms);
            if w.prewarm_ms == 0 || action.prewarmed || now < start || now >= end {
                continue;
            }
            if has_container(&action.template.action) {
                action.prewarmed = true;
                continue;
            }
            action.prewarmed = true;
            due.push(action.template.clone());
        }
        due
    }

    /// Marks the pre-warm of `action` as not done (no memory for it): it is tried again.
    pub(crate) fn prewarm_failed(&mut self, action: &ActionKey) {
        if let Some(state) = self.actions.get_mut(&action_name(action)) {
            state.prewarmed = false;
        }
    }

    /// The next time a pre-warm is due.
    pub(crate) fn next_prewarm(&self) -> Option<Millis> {
        self.actions
            .values()
            .filter(|a| a.windows.prewarm_ms > 0 && !a.prewarmed)
            .filter_map(|a| a.idle_since.map(|since| since.plus(a.windows.prewarm_ms)))
            .min()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::core::action::Kind;
    use crate::core::ids::ActivationId;

    const MIN: u64 = 60_000;

    fn request(version: &str) -> ActivationRequest {
        ActivationRequest {
            activation: ActivationId::new("a"),
            action: ActionKey::new("ns", "ns/a", version),
            kind: Kind::new("python:3"),
            memory_mb: 256,
            concurrency: 1,
            scaling: None,
        }
    }

    /// Runs an action every `period` minutes, `times` times, each run taking one second.
    fn periodic(
        tracker: &mut IdleTracker,
        policy: &HistogramPolicy,
        period: u64,
        times: u64,
    ) -> Millis {
        let busy: BTreeSet<ActionName> = [action_name(&request("1").action)].into();
        let mut t = Millis(0);
        let mut idle_since = t;
        for _ in 0..times {
            tracker.arrival(&request("1"), t, policy);
            tracker.settle(&busy, t, policy);
            idle_since = t.plus(1_000);
            tracker.settle(&BTreeSet::new(), idle_since, policy);
            t = t.plus(period * MIN);
        }
        idle_since
    }

    #[test]
    fn a_periodic_action_is_unloaded_then_prewarmed_before_it_comes_back() {
        let policy = HistogramPolicy::paper();
        let mut tracker = IdleTracker::default();
        let idle_since = periodic(&mut tracker, &policy, 30, 5);
        let key = request("1").action;
        // The container of the last run goes at once.
        assert_eq!(tracker.expires_at(&key, idle_since), Some(idle_since));
        // Nothing is due before the pre-warm window opens, one request after.
        assert!(tracker
            .due_prewarms(idle_since.plus(MIN), |_| false)
            .is_empty());
        let at = tracker.next_prewarm().unwrap();
        assert!(at > idle_since.plus(20 * MIN) && at < idle_since.plus(30 * MIN));
        let due = tracker.due_prewarms(at, |_| false);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].action, key);
        assert!(
            tracker.due_prewarms(at, |_| false).is_empty(),
            "once per idle period"
        );
        // The pre-warmed container lives past the expected arrival.
        let expiry = tracker.expires_at(&key, at).unwrap();
        assert!(
            expiry > idle_since.plus(30 * MIN),
            "{expiry} vs {idle_since}"
        );
    }

    #[test]
    fn unknown_actions_have_no_expiry_and_busy_actions_are_not_settled() {
        let policy = HistogramPolicy::whirl();
        let mut tracker = IdleTracker::default();
        assert_eq!(tracker.expires_at(&request("1").action, Millis(0)), None);
        tracker.arrival(&request("1"), Millis(0), &policy);
        let busy: BTreeSet<ActionName> = [action_name(&request("2").action)].into();
        tracker.settle(&busy, Millis(5), &policy);
        assert_eq!(tracker.next_prewarm(), None);
        // Still busy: its idle containers stay for the standard keep-alive.
        assert_eq!(
            tracker.expires_at(&request("1").action, Millis(5)),
            Some(Millis(5).plus(policy.standard_keep_alive_ms))
        );
    }
}
