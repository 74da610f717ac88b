//! The discrete-event scheduler: a priority queue of events ordered by (time, sequence number) and
//! the simulated clock it advances.
//!
//! Events at the same instant run in the order they were scheduled, so a run depends only on the
//! seed, never on hashing or on the machine.

use actors::core::Millis;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    at: Millis,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    /// Reversed, so that the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// Events of type `E` waiting for their time, and the current simulated time.
pub struct Scheduler<E> {
    queue: BinaryHeap<Entry<E>>,
    now: Millis,
    next_seq: u64,
}

impl<E> Scheduler<E> {
    /// An empty scheduler whose clock starts at `start`.
    pub fn new(start: Millis) -> Self {
        Scheduler {
            queue: BinaryHeap::new(),
            now: start,
            next_seq: 0,
        }
    }

    /// The simulated time of the event being processed.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Schedules `event` `delay_ms` after now.
    pub fn after(&mut self, delay_ms: u64, event: E) {
        let at = self.now.plus(delay_ms);
        self.at(at, event);
    }

    /// Schedules `event` at `at` (now, if `at` is in the past).
    pub fn at(&mut self, at: Millis, event: E) {
        let at = at.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Entry { at, seq, event });
    }

    /// Takes the next event and moves the clock to its time.
    pub fn pop(&mut self) -> Option<(Millis, E)> {
        let entry = self.queue.pop()?;
        self.now = entry.at;
        Some((entry.at, entry.event))
    }

    /// The time of the next event, if any.
    pub fn peek_time(&self) -> Option<Millis> {
        self.queue.peek().map(|e| e.at)
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no event waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_insertion_order() {
        let mut s = Scheduler::new(Millis(100));
        s.after(5, "c");
        s.after(0, "a");
        s.after(5, "d");
        s.at(Millis(50), "b"); // in the past: runs now
        let order: Vec<_> = std::iter::from_fn(|| s.pop()).collect();
        assert_eq!(
            order,
            vec![
                (Millis(100), "a"),
                (Millis(100), "b"),
                (Millis(105), "c"),
                (Millis(105), "d")
            ]
        );
        assert_eq!(s.now(), Millis(105));
        assert!(s.is_empty());
    }
}
