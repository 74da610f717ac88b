//! `Gateway`: what the OpenFaaS routes share across requests and workers: calls in flight per
//! function (for `max_inflight`) and whether the backend runs images.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The gateway's shared state (one per platform).
#[derive(Default)]
pub struct Gateway {
    in_flight: Mutex<HashMap<String, usize>>,
    runs_images: std::sync::atomic::AtomicBool,
}

/// One call counted in flight for a function; uncounted when dropped.
pub struct InFlight {
    gateway: Arc<Gateway>,
    key: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut map = self
            .gateway
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = map.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                map.remove(&self.key);
            }
        }
    }
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

impl Gateway {
    /// Counts one more call of `function` (`namespace/name`) unless `limit` run already.
    pub fn enter(self: &Arc<Self>, function: &str, limit: Option<usize>) -> Option<InFlight> {
        let mut map = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = map.entry(function.to_owned()).or_insert(0);
        if limit.is_some_and(|limit| *count >= limit) {
            return None;
        }
        *count += 1;
        Some(InFlight {
            gateway: Arc::clone(self),
            key: function.to_owned(),
        })
    }

    /// Calls of `function` running now.
    pub fn in_flight(&self, function: &str) -> usize {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(function)
            .copied()
            .unwrap_or(0)
    }

    /// Whether the backend runs functions' images (Docker) rather than processes.
    pub fn set_runs_images(&self, runs_images: bool) {
        self.runs_images
            .store(runs_images, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn runs_images(&self) -> bool {
        self.runs_images.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_calls_are_bounded_and_released() {
        let gateway = Arc::new(Gateway::default());
        let first = gateway.enter("guest/f", Some(2)).unwrap();
        let second = gateway.enter("guest/f", Some(2)).unwrap();
        assert!(gateway.enter("guest/f", Some(2)).is_none());
        assert!(gateway.enter("guest/g", Some(2)).is_some());
        drop(first);
        assert_eq!(gateway.in_flight("guest/f"), 1);
        assert!(gateway.enter("guest/f", Some(2)).is_some());
        drop(second);
        assert!(gateway.enter("guest/f", None).is_some());
    }
}
