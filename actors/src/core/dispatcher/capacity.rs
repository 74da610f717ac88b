//! Memory capacity of one invoker as the dispatcher books it, aware of per-container concurrency.
//!
//! An action with concurrency `c` runs up to `c` activations in one container, so the dispatcher books
//! the action's memory once per `c` activations in flight (OpenWhisk's `NestedSemaphore`): the
//! memory booked for an action is `ceil(in_flight / c) * memory`.

use crate::core::action::ActionKey;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ActionSlots {
    in_flight: u32,
    containers: u32,
}

/// The booked memory of one invoker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InvokerCapacity {
    user_memory_mb: u64,
    reserved_mb: u64,
    per_action: BTreeMap<ActionKey, ActionSlots>,
}

fn containers_for(in_flight: u32, concurrency: u32) -> u32 {
    in_flight.div_ceil(concurrency.max(1))
}

impl InvokerCapacity {
    pub(crate) fn new(user_memory_mb: u64) -> Self {
        InvokerCapacity {
            user_memory_mb,
            reserved_mb: 0,
            per_action: BTreeMap::new(),
        }
    }

    pub(crate) fn user_memory_mb(&self) -> u64 {
        self.user_memory_mb
    }

    pub(crate) fn set_user_memory_mb(&mut self, mb: u64) {
        self.user_memory_mb = mb;
    }

    pub(crate) fn reserved_mb(&self) -> u64 {
        self.reserved_mb
    }

    /// Books one activation if it fits: free when a booked container of the action has a spare
    /// concurrency slot, otherwise it needs `memory_mb` more. Returns whether it was booked.
    pub(crate) fn try_acquire(
        &mut self,
        key: &ActionKey,
        memory_mb: u64,
        concurrency: u32,
    ) -> bool {
        let slots = self.per_action.get(key).cloned().unwrap_or_default();
        let needs_container = containers_for(slots.in_flight + 1, concurrency) > slots.containers;
        if needs_container && self.reserved_mb.saturating_add(memory_mb) > self.user_memory_mb {
            return false;
        }
        self.force_acquire(key, memory_mb, concurrency);
        true
    }

    /// Books one activation even if the invoker is full (the overload path).
    pub(crate) fn force_acquire(&mut self, key: &ActionKey, memory_mb: u64, concurrency: u32) {
        let slots = self.per_action.entry(key.clone()).or_default();
        slots.in_flight += 1;
        let wanted = containers_for(slots.in_flight, concurrency);
        while slots.containers < wanted {
            slots.containers += 1;
            self.reserved_mb = self.reserved_mb.saturating_add(memory_mb);
        }
    }

    /// Returns the booking of one activation of `key`.
    pub(crate) fn release(&mut self, key: &ActionKey, memory_mb: u64, concurrency: u32) {
        let Some(slots) = self.per_action.get_mut(key) else {
            return;
        };
        slots.in_flight = slots.in_flight.saturating_sub(1);
        let wanted = containers_for(slots.in_flight, concurrency);
        while slots.containers > wanted {
            slots.containers -= 1;
            self.reserved_mb = self.reserved_mb.saturating_sub(memory_mb);
        }
        if slots.in_flight == 0 {
            self.per_action.remove(key);
        }
    }

    /// Drops every booking (the invoker went offline).
    pub(crate) fn clear(&mut self) {
        self.reserved_mb = 0;
        self.per_action.clear();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn key(name: &str) -> ActionKey {
        ActionKey::new("ns", name, "0.0.1")
    }

    #[test]
    fn single_concurrency_books_memory_per_activation() {
        let mut c = InvokerCapacity::new(512);
        assert!(c.try_acquire(&key("a"), 256, 1));
        assert!(c.try_acquire(&key("a"), 256, 1));
        assert!(!c.try_acquire(&key("b"), 256, 1));
        assert_eq!(c.reserved_mb(), 512);
        c.release(&key("a"), 256, 1);
        assert_eq!(c.reserved_mb(), 256);
        assert!(c.try_acquire(&key("b"), 256, 1));
    }

    #[test]
    fn concurrent_actions_share_one_booking_per_container() {
        let mut c = InvokerCapacity::new(256);
        for _ in 0..4 {
            assert!(c.try_acquire(&key("a"), 256, 4));
        }
        assert_eq!(c.reserved_mb(), 256);
        assert!(
            !c.try_acquire(&key("a"), 256, 4),
            "a fifth needs a second container"
        );
        for _ in 0..3 {
            c.release(&key("a"), 256, 4);
            assert_eq!(c.reserved_mb(), 256);
        }
        c.release(&key("a"), 256, 4);
        assert_eq!(c.reserved_mb(), 0);
    }

    #[test]
    fn forced_booking_may_exceed_and_is_returned() {
        let mut c = InvokerCapacity::new(128);
        c.force_acquire(&key("a"), 256, 1);
        assert_eq!(c.reserved_mb(), 256);
        c.release(&key("a"), 256, 1);
        assert_eq!(c.reserved_mb(), 0);
        c.release(&key("ghost"), 256, 1);
        assert_eq!(c.reserved_mb(), 0);
    }
}
