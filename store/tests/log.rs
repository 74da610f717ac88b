//! The event log: group commit under concurrency, ordering, subscriptions, reopen, the in-memory
//! crash model, and the bad-input cases (not a log, newer format, unknown schema version, corrupt record).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;
use store::envelope::{self, EnvelopeHeader, RecordHash};
use store::event::encode_payload;
use store::*;

fn open(dir: &std::path::Path) -> SledEventLog {
    SledEventLog::open(dir, LogOptions::default()).unwrap()
}

#[test]
fn concurrent_appends_get_contiguous_seqs_and_a_valid_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let threads: Vec<_> = (0..8u64)
        .map(|thread| {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut seqs = Vec::new();
                for n in 0..50u64 {
                    let events = vec![common::activation(
                        "guest",
                        "a",
                        thread * 1000 + n,
                        common::T0,
                        common::T0 + 1,
                    )];
                    let receipts = log.append_blocking(events).unwrap();
                    seqs.push(receipts[0].seq);
                }
                seqs
            })
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (1..=400).collect::<Vec<_>>());
    assert_eq!(log.head().unwrap().seq, 400);
    let records: Vec<Committed> = log.read_from(1).map(Result::unwrap).collect();
    assert_eq!(records.len(), 400);
    let raw = {
        drop(log);
        RawLog::open(dir.path()).unwrap()
    };
    let outcome = store::audit::verify_log(&raw, &mut |_| {}).unwrap();
    assert!(
        matches!(outcome, store::audit::VerifyOutcome::Valid(ref report) if report.records == 400),
        "{outcome:?}"
    );
}

#[test]
fn acknowledgements_leave_in_log_order_with_several_flushes_at_once() {
    for flushes_in_flight in [1, 2, 2, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let log = SledEventLog::open(
            dir.path(),
            LogOptions {
                flushes_in_flight,
                ..LogOptions::default()
            },
        )
        .unwrap();
        // Every acknowledgement, in the order the log threads sent them, with the head it saw.
        let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..4u64)
            .map(|thread| {
                let (log, acked) = (log.clone(), Arc::clone(&acked));
                std::thread::spawn(move || {
                    let (done, wait) = std::sync::mpsc::channel();
                    for n in 0..300u64 {
                        let event =
                            common::activation("guest", "a", thread * 1000 + n, common::T0, 1);
                        let (log_then, acked, done) =
                            (log.clone(), Arc::clone(&acked), done.clone());
                        log.append_then(
                            vec![event],
                            Box::new(move |outcome| {
                                let seq = outcome.unwrap()[0].seq;
                                let head = log_then.head().unwrap().seq;
                                acked.lock().unwrap().push((seq, head));
                                let _ = done.send(());
                            }),
                        );
                        if n % 16 == 15 {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                    }
                    drop(done);
                    wait.iter().count()
                })
            })
            .collect();
        let answered: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(answered, 1200, "flushes_in_flight = {flushes_in_flight}");
        let acked = acked.lock().unwrap().clone();
        let seqs: Vec<u64> = acked.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(
            seqs,
            (1..=1200).collect::<Vec<_>>(),
            "acknowledged out of log order with {flushes_in_flight} flushes at once"
        );
        for (seq, head) in acked {
            assert!(
                head >= seq,
                "record {seq} acknowledged before the head reached it ({head})"
            );
        }
        assert_eq!(log.read_from(1).count(), 1200);
    }
}

#[test]
fn a_multi_event_append_is_contiguous_and_times_never_go_back() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::ManualClock::at(5_000);
    let log = SledEventLog::open(
        dir.path(),
        LogOptions {
            clock: clock.clone(),
            ..LogOptions::default()
        },
    )
    .unwrap();
    let first = log
        .append_blocking(vec![common::namespace("a"), common::namespace("b")])
        .unwrap();
    assert_eq!(first.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(first[1].time_ms, 5_000);
    clock.set(1_000);
    let second = log.append_blocking(vec![common::namespace("c")]).unwrap();
    assert_eq!(
        second[0].time_ms, 5_000,
        "a clock going back must not make the log go back"
    );
    assert!(log.append_blocking(Vec::new()).unwrap().is_empty());
}

#[test]
fn appends_can_be_awaited_on_a_tokio_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let receipts = runtime.block_on(async {
        let tickets: Vec<_> = (0..20)
            .map(|n| log.append(vec![common::namespace(&format!("ns{n}"))]))
            .collect();
        let mut seqs = Vec::new();
        for ticket in tickets {
            seqs.push(ticket.await.unwrap()[0].seq);
        }
        seqs
    });
    assert_eq!(receipts, (1..=20).collect::<Vec<_>>());
}

#[test]
fn subscribers_see_stored_then_new_records_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.append_blocking(vec![common::namespace("a"), common::namespace("b")])
        .unwrap();
    let mut subscription = log.subscribe(2);
    let writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            for n in 0..30 {
                log.append_blocking(vec![common::namespace(&format!("n{n}"))])
                    .unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    while seen.len() < 31 {
        for record in subscription.next_batch(7, Duration::from_secs(5)).unwrap() {
            seen.push(record.seq);
        }
    }
    writer.join().unwrap();
    assert_eq!(seen, (2..=32).collect::<Vec<_>>());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut async_subscription = log.subscribe(32);
    let batch = runtime
        .block_on(async_subscription.next_batch_async(10))
        .unwrap();
    assert_eq!(batch.iter().map(|r| r.seq).collect::<Vec<_>>(), [32]);
}

#[test]
fn entity_readers_sleep_through_activation_records() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.append_blocking(vec![common::namespace("a")]).unwrap();
    let records = log.committed_records();
    // Opened at seq 1: what is already durable counts as changed for a reader from before it.
    assert!(records.wait_for_entity_change(1, Duration::ZERO));
    log.append_blocking(vec![
        common::invocation("a", "x", 1),
        common::activation("a", "x", 1, 10, 20),
    ])
    .unwrap();
    assert_eq!(log.head().unwrap().seq, 3);
    // Only activation records after seq 1: an entity reader at seq 2 waits out its timeout.
    let started = std::time::Instant::now();
    assert!(!records.wait_for_entity_change(2, Duration::from_millis(50)));
    assert!(started.elapsed() >= Duration::from_millis(50));
    let mut subscription = log.subscribe(2);
    // It then moves past them without being handed any.
    assert!(subscription
        .next_entity_events(10, Duration::from_millis(20))
        .unwrap()
        .is_empty());
    assert_eq!(subscription.next_seq(), 4);
    // An entity change wakes a waiting reader at once, and it reads everything up to it.
    let waiter = {
        let records = log.committed_records();
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let changed = records.wait_for_entity_change(4, Duration::from_secs(30));
            (changed, started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    log.append_blocking(vec![common::activation("a", "x", 2, 30, 40)])
        .unwrap();
    log.append_blocking(vec![common::action_put("a", "x", 1, "code")])
        .unwrap();
    let (changed, waited) = waiter.join().unwrap();
    assert!(changed);
    assert!(waited < Duration::from_secs(10), "woke after {waited:?}");
    let seqs: Vec<u64> = subscription
        .next_entity_events(10, Duration::from_secs(5))
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, [5]);
    assert_eq!(subscription.next_seq(), 6);
    // `max` counts the activation records read past: one at a time, the first read hands nothing.
    log.append_blocking(vec![
        common::activation("a", "x", 3, 50, 60),
        common::action_put("a", "y", 1, "code"),
    ])
    .unwrap();
    assert!(subscription
        .next_entity_events(1, Duration::from_secs(5))
        .unwrap()
        .is_empty());
    assert_eq!(subscription.next_seq(), 7);
    let next = subscription
        .next_entity_events(1, Duration::from_secs(5))
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].seq, 7);
    assert!(matches!(next[0].event, store::Event::ActionPut { .. }));
}

/// The simulator's log, at the common test time.
fn memory_log(mode: CommitMode) -> InMemoryEventLog {
    InMemoryEventLog::new("sim", common::ManualClock::at(common::T0), mode)
}

/// The in-memory log reads entities through the trait's default (decode, then filter): the same
/// records as the sled log's tag peek.
#[test]
fn both_logs_hand_entity_readers_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let sled_log = open(dir.path());
    let memory = memory_log(CommitMode::Immediate);
    let events = || {
        vec![
            common::namespace("a"),
            common::invocation("a", "x", 1),
            common::activation("a", "x", 1, 10, 20),
            common::action_put("a", "x", 1, "code"),
            common::activation("a", "x", 2, 30, 40),
        ]
    };
    let logs: [&dyn EventLog; 2] = [&sled_log, &memory];
    for log in logs {
        log.append_blocking(events()).unwrap();
        let mut subscription = log.subscribe(1);
        let read = subscription
            .next_entity_events(100, Duration::from_secs(5))
            .unwrap();
        assert_eq!(read.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 4]);
        assert_eq!(subscription.next_seq(), 6);
    }
}

#[test]
fn append_then_calls_back_once_durable_on_both_logs() {
    let dir = tempfile::tempdir().unwrap();
    let sled_log = open(dir.path());
    let memory = memory_log(CommitMode::Manual);
    let logs: [(&dyn EventLog, bool); 2] = [(&sled_log, false), (&memory, true)];
    for (log, manual) in logs {
        let (sender, outcomes) = std::sync::mpsc::channel();
        let head_when_called = {
            let records = log.committed_records();
            move |outcome: Result<Vec<Receipt>>| {
                let _ = sender.send((outcome.map(|r| r[0].seq), records.head_seq()));
            }
        };
        log.append_then(vec![common::namespace("a")], Box::new(head_when_called));
        if manual {
            assert!(outcomes.try_recv().is_err(), "called back before the flush");
            assert_eq!(memory.flush(), 1);
        }
        let (seq, head) = outcomes.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(seq.unwrap(), 1);
        assert!(head >= 1, "called back before the record was durable");
    }
    // A crashed log fails the appends made to it afterwards through the callback.
    let crashed = memory.crash();
    drop(crashed);
    let (sender, outcomes) = std::sync::mpsc::channel();
    memory.append_then(
        vec![common::namespace("b")],
        Box::new(move |outcome| {
            let _ = sender.send(outcome.is_err());
        }),
    );
    assert!(outcomes.recv_timeout(Duration::from_secs(10)).unwrap());
}

#[test]
fn reopening_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let head = {
        let log = open(dir.path());
        log.append_blocking(vec![
            common::namespace("a"),
            common::action_put("a", "x", 1, "code"),
        ])
        .unwrap();
        log.head().unwrap()
    };
    let log = open(dir.path());
    assert_eq!(log.head(), Some(head));
    let next = log.append_blocking(vec![common::namespace("b")]).unwrap();
    assert_eq!(next[0].seq, 3);
    drop(log);
    let raw = RawLog::open(dir.path()).unwrap();
    assert!(matches!(
        store::audit::verify_log(&raw, &mut |_| {}).unwrap(),
        store::audit::VerifyOutcome::Valid(_)
    ));
}

#[test]
fn in_memory_log_keeps_only_flushed_records_across_a_crash() {
    let clock = common::ManualClock::at(common::T0);
    let log = InMemoryEventLog::new("sim", clock, CommitMode::Manual);
    let first = log.append(vec![common::namespace("a")]);
    assert_eq!(log.flush(), 1);
    assert_eq!(first.wait().unwrap()[0].seq, 1);
    let lost = log.append(vec![common::namespace("b")]);
    assert_eq!(log.pending_appends(), 1);
    let restarted = log.crash();
    assert!(matches!(lost.wait(), Err(Error::Closed { .. })));
    assert_eq!(restarted.head().unwrap().seq, 1);
    let records: Vec<Committed> = restarted.read_from(1).map(Result::unwrap).collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].event, common::namespace("a"));
    let again = restarted.append(vec![common::namespace("c")]);
    restarted.flush();
    assert_eq!(again.wait().unwrap()[0].seq, 2);
    assert!(matches!(
        log.append(vec![common::namespace("d")]).wait(),
        Err(Error::Closed { .. })
    ));
    let immediate = InMemoryEventLog::new("sim", Arc::new(SystemClock), CommitMode::Immediate);
    assert_eq!(
        immediate
            .append_blocking(vec![common::namespace("x")])
            .unwrap()[0]
            .seq,
        1
    );
}

#[test]
fn a_directory_with_other_files_is_not_a_log() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    match SledEventLog::open(dir.path(), LogOptions::default()) {
        Err(Error::NotAWhirlLog { path, reason }) => {
            assert_eq!(path, dir.path());
            assert!(reason.contains("notes.txt"), "{reason}");
        }
        other => panic!("expected NotAWhirlLog, got {:?}", other.map(|_| ())),
    }
    assert!(
        !dir.path().join("db").exists(),
        "sled must not have created files in it"
    );
}

#[test]
fn a_sled_database_of_something_else_is_not_a_log() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        db.insert("user-data", "x").unwrap();
        db.flush().unwrap();
    }
    let error = SledEventLog::open(dir.path(), LogOptions::default())
        .err()
        .expect("must refuse");
    assert!(matches!(error, Error::NotAWhirlLog { .. }), "{error}");
    assert!(
        error.to_string().contains("without Whirl's marker"),
        "{error}"
    );
}

#[test]
fn a_log_of_a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    {
        let db = sled::open(dir.path()).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert("format", &9u16.to_le_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    match SledEventLog::open(dir.path(), LogOptions::default()) {
        Err(Error::NewerFormat {
            found: 9,
            supported: 1,
            path,
            ..
        }) => assert_eq!(path, dir.path()),
        other => panic!("expected NewerFormat, got {:?}", other.map(|_| ())),
    }
}

/// Writes `bytes` as record `seq` of the current generation, behind the log's back.
/// Writes `bytes` as a new one-record frame at `seq` (a frame is `u32 LE length` + record).
fn plant_record(dir: &std::path::Path, seq: u64, bytes: Vec<u8>) {
    let db = sled::open(dir).unwrap();
    let tree = db.open_tree("log.00000000000000000001").unwrap();
    let mut frame = (bytes.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(&bytes);
    tree.insert(seq.to_be_bytes(), frame).unwrap();
    db.flush().unwrap();
}

#[test]
fn a_record_of_an_unknown_schema_version_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let head = {
        let log = open(dir.path());
        log.append_blocking(vec![common::namespace("a")]).unwrap()[0]
    };
    let payload = encode_payload(&common::namespace("b")).unwrap();
    let header = EnvelopeHeader {
        seq: 2,
        time_ms: head.time_ms,
        schema_version: 7,
        prev_hash: head.hash,
    };
    plant_record(dir.path(), 2, envelope::encode(&header, &payload));
    match SledEventLog::open(dir.path(), LogOptions::default()) {
        Err(Error::UnknownSchemaVersion {
            seq: 2,
            version: 7,
            supported: 1,
            ..
        }) => {}
        other => panic!("expected UnknownSchemaVersion, got {:?}", other.map(|_| ())),
    }
    let raw = RawLog::open(dir.path()).unwrap();
    match store::audit::verify_log(&raw, &mut |_| {}).unwrap() {
        store::audit::VerifyOutcome::Invalid { bad, .. } => {
            assert_eq!(bad.seq, 2);
            assert!(bad.problem.contains("schema version 7"), "{}", bad.problem);
        }
        valid => panic!("verify passed a record of an unknown version: {valid:?}"),
    }
}

#[test]
fn a_corrupt_record_is_a_clear_error_when_read() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path());
        log.append_blocking(vec![
            common::namespace("a"),
            common::namespace("b"),
            common::namespace("c"),
        ])
        .unwrap();
    }
    {
        let raw = RawLog::open(dir.path()).unwrap();
        let (seq, mut bytes) = raw.records().nth(1).unwrap().unwrap();
        assert_eq!(seq, 2);
        bytes[60] ^= 0xff;
        raw.replace_record(2, &bytes).unwrap();
    }
    let log = open(dir.path());
    let results: Vec<Result<Committed>> = log.read_from(1).collect();
    assert!(results[0].is_ok());
    match &results[1] {
        Err(Error::CorruptRecord { seq: 2, reason, .. }) => {
            assert!(reason.contains("CRC"), "{reason}")
        }
        other => panic!("expected CorruptRecord at seq 2, got {other:?}"),
    }
    assert_eq!(
        results.len(),
        2,
        "reading stops at the corrupt record, it does not skip it"
    );
    let _ = RecordHash::GENESIS;
}

#[test]
fn a_log_held_open_by_a_running_process_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let _running = open(dir.path());
    let error = RawLog::open(dir.path())
        .err()
        .expect("sled locks the database");
    let message = error.to_string();
    assert!(matches!(error, Error::Storage { .. }), "{message}");
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
}
