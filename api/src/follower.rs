//! `LogFollower`: a named thread that reads every record committed to the log from a seq on and
//! hands each one to its owner's function, whoever wrote it. The API keeps its in-memory tables
//! (the key table, the action and package caches) in step with it, and `/metrics` counts
//! activations with it. Stops and joins when dropped.
//!
//! A follower does not wake for every commit: activation records are the bulk of a busy log and
//! waking several threads per commit costs the invocation path. [`FollowerWake`] says when it
//! reads: as soon as an entity changes (then it is handed only entity records, and moves past the
//! activation records in between without decoding them), or on a period, with
//! [`LogFollower::catch_up`] for readers that must see everything durable at the moment they ask.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use store::{CommittedEvent, CommittedRecords, EventLog, Store, Subscription};

/// Records read per pass.
const BATCH: usize = 1024;

/// When a follower reads the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowerWake {
    /// As soon as a record that is not an activation's is durable, and at least every `period`.
    /// Such a follower is handed only those records: it moves past activation records without
    /// decoding them.
    EntityChanges { period: Duration },
    /// Every `period`; [`LogFollower::catch_up`] reads up to the head on demand.
    Every(Duration),
}

/// What the thread and [`LogFollower::catch_up`] share: the position and the owner's function.
struct Position {
    subscription: Subscription,
    apply: Box<dyn FnMut(&CommittedEvent) + Send>,
    /// Hands over only records that are not activations' ([`FollowerWake::EntityChanges`]).
    entities_only: bool,
    failed: bool,
}

impl Position {
    /// Applies `batch`; false once the log failed (the follower stops moving).
    fn apply_batch(&mut self, name: &str, batch: store::Result<Vec<CommittedEvent>>) -> bool {
        match batch {
            Ok(batch) => {
                batch.iter().for_each(&mut self.apply);
                true
            }
            Err(error) => {
                tracing::error!(follower = name, %error, "log follower stopped; what it keeps no longer moves");
                self.failed = true;
                false
            }
        }
    }

    /// Reads everything durable now; returns how many records it read past (handed over or not).
    fn catch_up(&mut self, name: &str) -> usize {
        let mut read = 0;
        while !self.failed {
            let from = self.subscription.next_seq();
            let batch = if self.entities_only {
                self.subscription.try_next_entity_events(BATCH)
            } else {
                self.subscription.try_next_events(BATCH)
            };
            let moved = self.subscription.next_seq().saturating_sub(from);
            if !self.apply_batch(name, batch) || moved == 0 {
                break;
            }
            read += usize::try_from(moved).unwrap_or(usize::MAX);
        }
        read
    }
}

/// Stops and joins the follower thread when dropped.
pub struct LogFollower {
    name: &'static str,
    stop: Arc<AtomicBool>,
    position: Arc<Mutex<Position>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl LogFollower {
    /// Follows `store`'s log from `from_seq` on in a thread called `name`, calling `apply` with
    /// each committed record in order, reading when `wake` says.
    pub fn start(
        store: &Store,
        from_seq: u64,
        name: &'static str,
        wake: FollowerWake,
        apply: impl FnMut(&CommittedEvent) + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let position = Arc::new(Mutex::new(Position {
            subscription: store.log().subscribe(from_seq),
            apply: Box::new(apply),
            entities_only: matches!(wake, FollowerWake::EntityChanges { .. }),
            failed: false,
        }));
        let thread = {
            let stop = Arc::clone(&stop);
            let position = Arc::clone(&position);
            let records = store.log().committed_records();
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || follow(name, records.as_ref(), &stop, &position, wake))?
        };
        Ok(Self {
            name,
            stop,
            position,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Reads and applies every record durable now (on the caller's thread), so that what the
    /// follower keeps covers them; returns how many records it read.
    pub fn catch_up(&self) -> usize {
        lock(&self.position).catch_up(self.name)
    }
}

fn lock(position: &Mutex<Position>) -> std::sync::MutexGuard<'_, Position> {
    position.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How long the thread sleeps at most before it looks at its stop flag.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// The follower thread.
fn follow(
    name: &str,
    records: &dyn CommittedRecords,
    stop: &AtomicBool,
    position: &Mutex<Position>,
    wake: FollowerWake,
) {
    let mut since_read = Duration::ZERO;
    while !stop.load(Ordering::Relaxed) {
        let read_now = match wake {
            FollowerWake::EntityChanges { period } => {
                // Waits without the lock (a catch-up may run meanwhile).
                let next_seq = lock(position).subscription.next_seq();
                let slice = STOP_CHECK.min(period.saturating_sub(since_read));
                let started = std::time::Instant::now();
                let changed = records.wait_for_entity_change(next_seq, slice);
                since_read += started.elapsed();
                changed || since_read >= period
            }
            FollowerWake::Every(period) => {
                let slice = STOP_CHECK.min(period.saturating_sub(since_read));
                std::thread::sleep(slice);
                since_read += slice;
                since_read >= period
            }
        };
        if read_now {
            since_read = Duration::ZERO;
            let mut position = lock(position);
            position.catch_up(name);
            if position.failed {
                return;
            }
        }
    }
}

impl Drop for LogFollower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            if thread.join().is_err() {
                tracing::error!(follower = self.name, "log follower panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::time::Instant;
    use store::{
        ActivationDoc, ActivationId, ActivationStatus, ChangedBy, Event, JsonText, NamespaceDoc,
        SemVer, StoreOptions,
    };

    fn namespace(name: &str) -> Event {
        Event::NamespaceCreated {
            namespace: NamespaceDoc {
                name: name.into(),
                limits: Default::default(),
                created_ms: 0,
            },
            by: ChangedBy::System,
        }
    }

    fn activation(n: u8) -> Event {
        Event::ActivationRecorded(ActivationDoc {
            activation_id: ActivationId([n; 16]),
            namespace: "guest".into(),
            name: "hello".into(),
            package: None,
            subject: "guest".into(),
            version: SemVer::default(),
            start_ms: 1,
            end_ms: 2,
            duration_ms: 1,
            cause: None,
            status: ActivationStatus::Success,
            result: JsonText::empty_object(),
            logs: Vec::new(),
            annotations: JsonText::empty_array(),
        })
    }

    /// A follower that counts what it applied, and the last seq.
    fn counting(store: &Store, wake: FollowerWake) -> (LogFollower, Arc<AtomicU64>) {
        let last = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&last);
        let follower = LogFollower::start(store, 1, "test-follower", wake, move |record| {
            seen.store(record.seq, Ordering::SeqCst)
        })
        .unwrap();
        (follower, last)
    }

    fn wait_until(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn an_entity_follower_reads_at_each_entity_change_and_not_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("data"), StoreOptions::default()).unwrap();
        let period = Duration::from_secs(60);
        let (_follower, last) = counting(&store, FollowerWake::EntityChanges { period });
        store
            .log()
            .append_blocking(vec![activation(1), activation(2)])
            .unwrap();
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(
            last.load(Ordering::SeqCst),
            0,
            "woke for activation records"
        );
        store.log().append_blocking(vec![namespace("a")]).unwrap();
        wait_until("the entity change is applied", || {
            last.load(Ordering::SeqCst) == 3
        });
    }

    #[test]
    fn an_entity_follower_is_handed_only_entity_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("data"), StoreOptions::default()).unwrap();
        let handed = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&handed);
        let follower = LogFollower::start(
            &store,
            1,
            "test-follower",
            FollowerWake::EntityChanges {
                period: Duration::from_secs(60),
            },
            move |record| lock_seqs(&seen).push(record.seq),
        )
        .unwrap();
        store
            .log()
            .append_blocking(vec![activation(1), namespace("a"), activation(2)])
            .unwrap();
        // Everything is read past, whether the thread or this catch-up got there first.
        follower.catch_up();
        wait_until("the entity record is applied", || {
            lock_seqs(&handed).as_slice() == [2]
        });
        store
            .log()
            .append_blocking(vec![activation(3), activation(4)])
            .unwrap();
        assert_eq!(
            follower.catch_up(),
            2,
            "read past the two activation records"
        );
        assert_eq!(lock_seqs(&handed).as_slice(), [2]);
    }

    fn lock_seqs(seqs: &Mutex<Vec<u64>>) -> std::sync::MutexGuard<'_, Vec<u64>> {
        seqs.lock().unwrap()
    }

    #[test]
    fn a_periodic_follower_catches_up_on_demand() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("data"), StoreOptions::default()).unwrap();
        let (follower, last) = counting(&store, FollowerWake::Every(Duration::from_secs(60)));
        store
            .log()
            .append_blocking(vec![activation(1), namespace("a"), activation(2)])
            .unwrap();
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(last.load(Ordering::SeqCst), 0, "read before its period");
        assert_eq!(follower.catch_up(), 3);
        assert_eq!(last.load(Ordering::SeqCst), 3);
        assert_eq!(follower.catch_up(), 0);
    }
}
