//! `Intake`: the requests waiting for a sled log's writer thread. Appenders push; the writer takes
//! what is waiting as one group once a flusher is free (or the group is full), and sleeps until
//! then: an append or a flusher finishing wakes it, nothing else does (no polling while every
//! flusher is busy).

use super::writer::WriterRequest;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

/// The writer's queue of requests.
#[derive(Default)]
pub(crate) struct Intake {
    state: Mutex<IntakeState>,
    /// Signalled for the writer when it waits and something it waits for happened.
    changed: Condvar,
}

#[derive(Default)]
struct IntakeState {
    requests: Vec<WriterRequest>,
    /// Events in `requests`.
    events: usize,
    /// The log is closing: the writer takes what is left and ends.
    closed: bool,
    /// The writer sleeps on `changed` (so a push or a freed flusher must wake it).
    writer_waiting: bool,
    /// How often the writer woke from `changed` (tests count the wake-ups an idle log makes).
    #[cfg(test)]
    writer_wakes: usize,
}

impl Intake {
    /// Queues a request for the writer; gives it back when the log is closed.
    pub(crate) fn push(&self, request: WriterRequest) -> Result<(), WriterRequest> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.closed {
            return Err(request);
        }
        state.events += request.events();
        state.requests.push(request);
        let wake = state.writer_waiting;
        // Woken after the lock is released, so the writer does not wake only to block on it.
        drop(state);
        if wake {
            self.changed.notify_one();
        }
        Ok(())
    }

    /// A flusher finished (after lowering `busy_flushes`): wakes the writer if it waits for one,
    /// that is, if it sleeps with requests queued. A writer asleep on an empty queue stays asleep
    /// (the next push wakes it), so an idle log does not wake its writer once per flush.
    pub(crate) fn flusher_freed(&self) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let wake = state.writer_waiting && !state.requests.is_empty();
        drop(state);
        if wake {
            self.changed.notify_one();
        }
    }

    /// No more requests: the writer takes what is queued and ends.
    pub(crate) fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.closed = true;
        self.changed.notify_one();
    }

    /// Closes the intake and hands back what nobody will write (the writer is gone).
    pub(crate) fn close_and_take(&self) -> Vec<WriterRequest> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.closed = true;
        state.events = 0;
        std::mem::take(&mut state.requests)
    }

    /// The next group for the writer: waits until requests are queued and either fewer than
    /// `flushes_in_flight` groups are being flushed (`busy_flushes`, read under the intake's
    /// lock so no wake-up is lost), or the queue holds `max_events`, or the log is closing.
    /// Takes requests up to `max_events` events (at least one request). `None` once the log is
    /// closed and nothing is left.
    pub(crate) fn next_group(
        &self,
        busy_flushes: &AtomicUsize,
        flushes_in_flight: usize,
        max_events: usize,
    ) -> Option<Vec<WriterRequest>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if !state.requests.is_empty()
                && (state.closed
                    || state.events >= max_events
                    || busy_flushes.load(Ordering::Acquire) < flushes_in_flight)
            {
                return Some(take_group(&mut state, max_events));
            }
            if state.requests.is_empty() && state.closed {
                return None;
            }
            state.writer_waiting = true;
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.writer_waiting = false;
            #[cfg(test)]
            {
                state.writer_wakes += 1;
            }
        }
    }
}

/// The oldest requests, up to `max_events` events (at least one request).
fn take_group(state: &mut IntakeState, max_events: usize) -> Vec<WriterRequest> {
    if state.events <= max_events {
        state.events = 0;
        return std::mem::take(&mut state.requests);
    }
    let mut events = 0;
    let mut count = 0;
    for request in &state.requests {
        if count > 0 && events + request.events() > max_events {
            break;
        }
        events += request.events();
        count += 1;
    }
    state.events -= events;
    state.requests.drain(..count).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::log::ticket::AppendTicket;
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    fn append(events: usize) -> WriterRequest {
        let (reply, _ticket) = AppendTicket::channel(Arc::new(PathBuf::from("log")));
        WriterRequest::Append {
            events: (0..events)
                .map(|n| crate::event::Event::NamespaceCreated {
                    namespace: crate::NamespaceDoc {
                        name: format!("ns{n}"),
                        limits: crate::NamespaceLimits::default(),
                        created_ms: 0,
                    },
                    by: crate::ChangedBy::Admin,
                })
                .collect(),
            reply,
            enqueued: Instant::now(),
        }
    }

    #[test]
    fn the_writer_waits_for_a_free_flusher_and_is_woken_when_one_is() {
        let intake = Arc::new(Intake::default());
        let busy = Arc::new(AtomicUsize::new(2));
        intake.push(append(1)).map_err(|_| ()).unwrap();
        let writer = {
            let (intake, busy) = (Arc::clone(&intake), Arc::clone(&busy));
            std::thread::spawn(move || intake.next_group(&busy, 2, 100).map(|g| g.len()))
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !writer.is_finished(),
            "took a group while every flusher was busy"
        );
        intake.push(append(1)).map_err(|_| ()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            !writer.is_finished(),
            "an append alone must not start a group"
        );
        busy.fetch_sub(1, Ordering::AcqRel);
        intake.flusher_freed();
        assert_eq!(writer.join().unwrap(), Some(2));
    }

    #[test]
    fn a_freed_flusher_does_not_wake_a_writer_with_nothing_queued() {
        let intake = Arc::new(Intake::default());
        let busy = Arc::new(AtomicUsize::new(0));
        let writer = {
            let (intake, busy) = (Arc::clone(&intake), Arc::clone(&busy));
            std::thread::spawn(move || intake.next_group(&busy, 2, 100).map(|g| g.len()))
        };
        std::thread::sleep(Duration::from_millis(30));
        for _ in 0..20 {
            intake.flusher_freed();
            std::thread::sleep(Duration::from_millis(1));
        }
        intake.push(append(1)).map_err(|_| ()).unwrap();
        assert_eq!(writer.join().unwrap(), Some(1));
        let wakes = intake.state.lock().unwrap().writer_wakes;
        // One wake for the push (a spurious one is allowed); one per freed flusher was the bug.
        assert!(wakes <= 2, "the idle writer woke {wakes} times");
    }

    #[test]
    fn a_full_group_goes_even_while_flushers_are_busy_and_is_cut_at_the_limit() {
        let intake = Intake::default();
        let busy = AtomicUsize::new(2);
        for _ in 0..3 {
            intake.push(append(4)).map_err(|_| ()).unwrap();
        }
        let group = intake.next_group(&busy, 2, 8).unwrap();
        assert_eq!(group.iter().map(WriterRequest::events).sum::<usize>(), 8);
        busy.store(0, Ordering::Release);
        assert_eq!(intake.next_group(&busy, 2, 8).unwrap().len(), 1);
    }

    #[test]
    fn a_closed_intake_refuses_pushes_and_ends_the_writer_once_empty() {
        let intake = Intake::default();
        let busy = AtomicUsize::new(0);
        intake.push(append(1)).map_err(|_| ()).unwrap();
        intake.close();
        assert!(intake.push(append(1)).is_err());
        assert_eq!(intake.next_group(&busy, 2, 8).unwrap().len(), 1);
        assert!(intake.next_group(&busy, 2, 8).is_none());
    }
}
