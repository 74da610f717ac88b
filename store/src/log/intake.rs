//! `Intake`: the requests waiting for a sled log's threads. Appenders push; a log thread takes
//! what is waiting as one group (up to a size), numbered so that the writer applies groups in the
//! order they were taken, and sleeps while nothing waits: only a push (or closing) wakes it, one
//! thread per push.

use super::writer::WriterRequest;
use std::sync::{Condvar, Mutex, PoisonError};

/// The queue of requests for the log's threads.
#[derive(Default)]
pub(crate) struct Intake {
    state: Mutex<IntakeState>,
    /// Signalled when a request is queued or the intake closes.
    changed: Condvar,
}

#[derive(Default)]
struct IntakeState {
    requests: Vec<WriterRequest>,
    /// Events in `requests`.
    events: usize,
    /// The log is closing: the threads take what is left and end.
    closed: bool,
    /// Log threads sleeping on `changed` (a push wakes one of them).
    waiting: usize,
    /// The number the next group taken gets.
    next_group: u64,
    /// How often a thread woke from `changed` (tests count the wake-ups an idle log makes).
    #[cfg(test)]
    wakes: usize,
}

impl Intake {
    /// Queues a request; gives it back when the log is closed.
    pub(crate) fn push(&self, request: WriterRequest) -> Result<(), WriterRequest> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.closed {
            return Err(request);
        }
        state.events += request.events();
        state.requests.push(request);
        let wake = state.waiting > 0;
        // Woken after the lock is released, so the thread does not wake only to block on it.
        drop(state);
        if wake {
            self.changed.notify_one();
        }
        Ok(())
    }

    /// No more requests: the threads take what is queued and end.
    pub(crate) fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.closed = true;
        drop(state);
        self.changed.notify_all();
    }

    /// Closes the intake and hands back what nobody will write (the log failed).
    pub(crate) fn close_and_take(&self) -> Vec<WriterRequest> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.closed = true;
        state.events = 0;
        let requests = std::mem::take(&mut state.requests);
        drop(state);
        self.changed.notify_all();
        requests
    }

    /// The next group and its number (0, 1, 2... in the order groups are taken): waits until
    /// requests are queued, then takes them up to `max_events` events (at least one request).
    /// `None` once the log is closed and nothing is left.
    pub(crate) fn next_group(&self, max_events: usize) -> Option<(u64, Vec<WriterRequest>)> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if !state.requests.is_empty() {
                let number = state.next_group;
                state.next_group += 1;
                return Some((number, take_group(&mut state, max_events)));
            }
            if state.closed {
                return None;
            }
            state.waiting += 1;
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.waiting -= 1;
            #[cfg(test)]
            {
                state.wakes += 1;
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
    fn a_waiting_thread_is_woken_by_a_push_and_takes_everything_queued() {
        let intake = Arc::new(Intake::default());
        let taker = {
            let intake = Arc::clone(&intake);
            std::thread::spawn(move || intake.next_group(100).map(|(_, g)| g.len()))
        };
        std::thread::sleep(Duration::from_millis(30));
        assert!(!taker.is_finished(), "took a group from an empty intake");
        intake.push(append(1)).map_err(|_| ()).unwrap();
        assert_eq!(taker.join().unwrap(), Some(1));
        let wakes = intake.state.lock().unwrap().wakes;
        // One wake for the push (a spurious one is allowed).
        assert!(wakes <= 2, "the idle thread woke {wakes} times");
    }

    #[test]
    fn a_group_is_cut_at_the_limit() {
        let intake = Intake::default();
        for _ in 0..3 {
            intake.push(append(4)).map_err(|_| ()).unwrap();
        }
        let (first, group) = intake.next_group(8).unwrap();
        assert_eq!(group.iter().map(WriterRequest::events).sum::<usize>(), 8);
        let (second, rest) = intake.next_group(8).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(
            (first, second),
            (0, 1),
            "groups are numbered in the order taken"
        );
    }

    #[test]
    fn a_closed_intake_refuses_pushes_and_ends_the_threads_once_empty() {
        let intake = Intake::default();
        intake.push(append(1)).map_err(|_| ()).unwrap();
        intake.close();
        assert!(intake.push(append(1)).is_err());
        assert_eq!(intake.next_group(8).unwrap().1.len(), 1);
        assert!(intake.next_group(8).is_none());
    }

    #[test]
    fn closing_wakes_a_waiting_thread() {
        let intake = Arc::new(Intake::default());
        let taker = {
            let intake = Arc::clone(&intake);
            std::thread::spawn(move || intake.next_group(8).is_none())
        };
        std::thread::sleep(Duration::from_millis(20));
        assert!(intake.close_and_take().is_empty());
        assert!(taker.join().unwrap());
    }
}
