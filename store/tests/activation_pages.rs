//! The activation indexes packed in pages: every query agrees with a plain model of the events
//! through a catch-up in several commits, the follower's small batches, retention and a reopen;
//! a crash in the middle of a catch-up leaves rows that are exactly a replay up to the
//! checkpoint and resumes from there; projections of another log say so instead of serving
//! another record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::T0;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use store::audit::{compare_rows, replay_and_compare, replay_into_memory, Until};
use store::*;

/// A small xorshift generator (deterministic: the model and the log see the same events).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// A random activation id (as the platform makes them), not ordered by time.
fn random_id(rng: &mut Rng) -> ActivationId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next().to_be_bytes());
    bytes[8..].copy_from_slice(&rng.next().to_be_bytes());
    ActivationId(bytes)
}

const NAMESPACES: [&str; 3] = ["a", "a1", "guest"];
const NAMES: [&str; 5] = ["x", "y", "hello", "hello2", "pkg/z"];

/// Events of a busy log: namespaces, action updates, activations with start times out of order,
/// invocations accepted before their record (a few never recorded).
fn events(rng: &mut Rng, activations: usize) -> Vec<Event> {
    let mut events: Vec<Event> = NAMESPACES.iter().map(|ns| common::namespace(ns)).collect();
    let mut waiting: Vec<ActivationDoc> = Vec::new();
    for n in 0..activations {
        let namespace = NAMESPACES[rng.below(3) as usize];
        let name = NAMES[rng.below(5) as usize];
        // Mostly increasing, sometimes far in the past, some starting at the same ms.
        let start = T0 + (n as u64) * 3 - rng.below(4) * 50 * u64::from(rng.below(10) == 0);
        let end = start + rng.below(40);
        let mut doc = common::activation_doc(namespace, name, 0, start, end);
        doc.activation_id = random_id(rng);
        if rng.below(5) == 0 {
            events.push(Event::InvocationAccepted(InvocationAccepted {
                activation_id: doc.activation_id,
                action: FullyQualifiedName::new(namespace, name),
                version: SemVer::INITIAL,
                params: JsonText::empty_array(),
                blocking: false,
                cause: None,
                by: common::by_key(),
            }));
            if rng.below(50) != 0 {
                waiting.push(doc);
            }
        } else {
            events.push(Event::ActivationRecorded(doc));
        }
        if waiting.len() > 3 || (n % 97 == 0 && !waiting.is_empty()) {
            events.push(Event::ActivationRecorded(waiting.remove(0)));
        }
        if n % 50 == 0 {
            events.push(common::action_put(namespace, name, n as u32 + 1, "code"));
        }
    }
    events
}

/// What the activation queries must answer, from the log's records.
#[derive(Default)]
struct Model {
    /// seq -> activation
    activations: BTreeMap<u64, ActivationDoc>,
    pending: BTreeMap<ActivationId, u64>,
}

impl Model {
    fn apply(&mut self, seq: u64, event: &Event) {
        match event {
            Event::ActivationRecorded(doc) => {
                self.pending.remove(&doc.activation_id);
                self.activations.insert(seq, doc.clone());
            }
            Event::InvocationAccepted(accepted) => {
                self.pending.insert(accepted.activation_id, seq);
            }
            _ => {}
        }
    }

    fn retain(&mut self, cutoff_ms: u64) {
        self.activations.retain(|_, doc| doc.end_ms >= cutoff_ms);
    }

    /// Newest first by start time, then by seq.
    fn list(&self, namespace: &str, query: &ActivationQuery) -> Vec<ActivationDoc> {
        let mut matching: Vec<(u64, &ActivationDoc)> = self
            .activations
            .iter()
            .filter(|(_, doc)| {
                doc.namespace == namespace
                    && query.name.as_ref().is_none_or(|name| &doc.name == name)
                    && query.since_ms.is_none_or(|since| doc.start_ms >= since)
                    && query.upto_ms.is_none_or(|upto| doc.start_ms <= upto)
            })
            .map(|(seq, doc)| (*seq, doc))
            .collect();
        matching.sort_by_key(|(seq, doc)| std::cmp::Reverse((doc.start_ms, *seq)));
        let limit = if query.limit == 0 {
            usize::MAX
        } else {
            query.limit
        };
        matching
            .into_iter()
            .skip(query.skip)
            .take(limit)
            .map(|(_, doc)| doc.clone())
            .collect()
    }
}

fn queries(rng: &mut Rng, last_start: u64) -> Vec<ActivationQuery> {
    let mut queries = vec![
        ActivationQuery::default(),
        ActivationQuery {
            limit: 30,
            ..Default::default()
        },
        ActivationQuery {
            name: Some("hello".into()),
            skip: 3,
            limit: 50,
            ..Default::default()
        },
    ];
    for _ in 0..6 {
        let since = T0 + rng.below(last_start - T0);
        queries.push(ActivationQuery {
            name: (rng.below(2) == 0).then(|| NAMES[rng.below(5) as usize].to_owned()),
            since_ms: Some(since),
            upto_ms: (rng.below(2) == 0).then(|| since + rng.below(3000)),
            skip: rng.below(20) as usize,
            limit: rng.below(100) as usize,
        });
    }
    queries
}

fn check_against_model(store: &Store, model: &Model, rng: &mut Rng, when: &str) {
    let projections = store.projections();
    for doc in model.activations.values() {
        assert_eq!(
            projections.activation(&doc.activation_id).unwrap().as_ref(),
            Some(doc),
            "{when}: activation {} by id",
            doc.activation_id
        );
    }
    let last_start = model
        .activations
        .values()
        .map(|doc| doc.start_ms)
        .max()
        .unwrap_or(T0 + 1);
    for namespace in NAMESPACES {
        for query in queries(rng, last_start) {
            let expected = model.list(namespace, &query);
            let found = projections.list_activations(namespace, &query).unwrap();
            assert_eq!(found, expected, "{when}: list {namespace} {query:?}");
            let all = ActivationQuery {
                skip: 0,
                limit: 0,
                ..query.clone()
            };
            assert_eq!(
                projections.count_activations(namespace, &query).unwrap(),
                model.list(namespace, &all).len(),
                "{when}: count {namespace} {query:?}"
            );
        }
    }
    let pending: Vec<ActivationId> = projections
        .pending_invocations()
        .unwrap()
        .into_iter()
        .map(|accepted| accepted.activation_id)
        .collect();
    let mut expected: Vec<ActivationId> = model.pending.keys().copied().collect();
    expected.sort();
    assert_eq!(pending, expected, "{when}: pending invocations");
    let comparison = replay_and_compare(store, &mut |_| {}).unwrap();
    assert!(comparison.identical(), "{when}: {comparison:?}");
}

fn options(batch_events: usize, follow_batch_events: usize) -> StoreOptions {
    StoreOptions {
        projections: ProjectionOptions {
            batch_events,
            follow_batch_events,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn activation_queries_match_a_model_through_catch_up_follow_retention_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let events = events(&mut rng, 2500);
    let (first, rest) = events.split_at(events.len() * 2 / 3);
    let mut model = Model::default();
    let mut seq = 0;
    // The first two thirds are in the log before the projections exist: a catch-up in several
    // commits, each inserting into pages the previous ones wrote.
    {
        let log = SledEventLog::open(log_dir(dir.path()), LogOptions::default()).unwrap();
        for chunk in first.chunks(500) {
            log.append_blocking(chunk.to_vec()).unwrap();
        }
    }
    for event in first {
        seq += 1;
        model.apply(seq, event);
    }
    let store = Store::open(dir.path(), options(900, 40)).unwrap();
    check_against_model(&store, &model, &mut rng, "after the catch-up");

    // The rest through the follower, in appends of 1 to 60 events.
    let mut at = 0;
    while at < rest.len() {
        let size = (1 + rng.below(60) as usize).min(rest.len() - at);
        store
            .append_and_project_blocking(rest[at..at + size].to_vec(), Duration::from_secs(10))
            .unwrap();
        for event in &rest[at..at + size] {
            seq += 1;
            model.apply(seq, event);
        }
        at += size;
    }
    check_against_model(&store, &model, &mut rng, "after following");

    // Retention drops about half of them; the snapshot record prunes the indexes.
    let mut ends: Vec<u64> = model.activations.values().map(|doc| doc.end_ms).collect();
    ends.sort_unstable();
    let cutoff = ends[ends.len() / 2];
    let now = T0 + 10_000_000;
    let report = store
        .retain(Duration::from_millis(now - cutoff), now)
        .unwrap();
    assert!(report.snapshot_seq.is_some());
    model.retain(cutoff);
    check_against_model(&store, &model, &mut rng, "after retention");

    drop(store);
    let store = Store::open(dir.path(), options(900, 40)).unwrap();
    check_against_model(&store, &model, &mut rng, "after a reopen");
}

const CHILD_DIR: &str = "WHIRL_PAGES_CHILD_DIR";

#[test]
#[ignore = "the child process of a_crash_in_the_middle_of_a_catch_up_keeps_rows_and_checkpoint_together; it runs only when spawned by it"]
fn catch_up_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let dir = Path::new(&dir);
    let log = SledEventLog::open(log_dir(dir), LogOptions::default()).unwrap();
    println!("OPENING");
    let _projections =
        Projections::open(projections_dir(dir), &log, options(500, 100).projections).unwrap();
    println!("CAUGHT UP");
    std::thread::sleep(Duration::from_secs(60));
}

/// Opens the projections in a child process and SIGKILLs it after `delay`.
fn kill_child_catching_up(dir: &Path, delay: Duration) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "catch_up_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let opening = lines.by_ref().find_map(|line| {
        let line = line.ok()?;
        line.ends_with("OPENING").then_some(())
    });
    assert!(opening.is_some(), "the child did not start");
    let started = Instant::now();
    let reader =
        std::thread::spawn(move || lines.any(|line| line.is_ok_and(|l| l.ends_with("CAUGHT UP"))));
    std::thread::sleep(delay);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let caught_up = reader.join().unwrap();
    println!(
        "killed after {:?}: {}",
        started.elapsed(),
        if caught_up {
            "caught up"
        } else {
            "mid catch-up"
        }
    );
}

/// The last applied seq of each projection tree, read straight from sled.
fn checkpoints(projections_dir: &Path) -> Vec<u64> {
    let db = sled::open(projections_dir).unwrap();
    ["entities", "activations", "api_keys"]
        .iter()
        .map(|name| {
            let value = db.open_tree(name).unwrap().get([0u8]).unwrap();
            value.map_or(0, |value| {
                u64::from_be_bytes(value[2..10].try_into().unwrap())
            })
        })
        .collect()
}

#[test]
fn a_crash_in_the_middle_of_a_catch_up_keeps_rows_and_checkpoint_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let events = events(&mut rng, 15_000);
    {
        let log = SledEventLog::open(log_dir(dir.path()), LogOptions::default()).unwrap();
        for chunk in events.chunks(2000) {
            log.append_blocking(chunk.to_vec()).unwrap();
        }
    }
    let head = events.len() as u64;
    // How long a whole catch-up takes here, to kill the children somewhere inside one.
    let full = {
        let log = SledEventLog::open(log_dir(dir.path()), LogOptions::default()).unwrap();
        let started = Instant::now();
        drop(
            Projections::open(
                projections_dir(dir.path()),
                &log,
                options(500, 100).projections,
            )
            .unwrap(),
        );
        started.elapsed()
    };
    std::fs::remove_dir_all(projections_dir(dir.path())).unwrap();

    let mut partial_checkpoints = 0;
    for round in 0..2u64 {
        // Two kills in a row: the second child resumes from the first one's checkpoint.
        for kill in 0..2 {
            let delay = full.mul_f64((15 + rng.below(50)) as f64 / 100.0);
            kill_child_catching_up(dir.path(), delay);
            let checkpoints = checkpoints(&projections_dir(dir.path()));
            // The trees commit one after the other: a kill between two leaves them one commit
            // apart; the copy below catches the one behind up.
            let checkpoint = checkpoints.iter().copied().max().unwrap();
            println!("round {round} kill {kill}: checkpoints {checkpoints:?} of {head}");
            if checkpoint > 0 && checkpoint < head {
                partial_checkpoints += 1;
            }
            rows_equal_a_replay_up_to(&dir.path().join("projections"), &events, checkpoint);
        }
        // The original resumes from its checkpoint and ends equal to a replay of everything.
        let store = Store::open(dir.path(), options(500, 100)).unwrap();
        assert_eq!(store.projections().applied_seq(), head);
        let comparison = replay_and_compare(&store, &mut |_| {}).unwrap();
        assert!(comparison.identical(), "round {round}: {comparison:?}");
        drop(store);
        std::fs::remove_dir_all(projections_dir(dir.path())).unwrap();
    }
    assert!(
        partial_checkpoints >= 1,
        "no kill left a checkpoint inside the log: the crash mid catch-up went untested"
    );

    // With the default options the whole log is one commit, large enough that the regions are
    // sorted and paged on a thread each: the same rows.
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.projections().applied_seq(), head);
    let comparison = replay_and_compare(&store, &mut |_| {}).unwrap();
    assert!(comparison.identical(), "one big commit: {comparison:?}");
}

/// The rows in `projections` are exactly a replay of `events` up to `checkpoint`: copied next
/// to a log that ends there, opened (nothing to catch up, unless a tree is one commit behind)
/// and compared row by row.
fn rows_equal_a_replay_up_to(projections: &Path, events: &[Event], checkpoint: u64) {
    let copy = tempfile::tempdir().unwrap();
    copy_dir_all(projections, &projections_dir(copy.path()));
    {
        let log = SledEventLog::open(log_dir(copy.path()), LogOptions::default()).unwrap();
        for chunk in events[..checkpoint as usize].chunks(2000) {
            log.append_blocking(chunk.to_vec()).unwrap();
        }
    }
    let partial = Store::open(copy.path(), options(500, 100)).unwrap();
    assert_eq!(partial.projections().applied_seq(), checkpoint);
    let (replayed, _, _) = replay_into_memory(
        partial.log().read_from(1),
        Until::Seq(checkpoint),
        checkpoint,
        &mut |_| {},
    )
    .unwrap();
    let trees = compare_rows(partial.projections(), &replayed).unwrap();
    assert!(
        trees.iter().all(|tree| tree.first_difference.is_none()),
        "rows at checkpoint {checkpoint} differ from a replay: {trees:?}"
    );
}

/// A store in `dir` holding the namespace `guest` and `doc`, both applied to the projections.
fn store_with_one_activation(dir: &Path, doc: &ActivationDoc) -> Store {
    let store = Store::open(dir, StoreOptions::default()).unwrap();
    store
        .append_and_project_blocking(
            vec![
                common::namespace("guest"),
                Event::ActivationRecorded(doc.clone()),
            ],
            Duration::from_secs(5),
        )
        .unwrap();
    store
}

#[test]
fn projections_of_another_log_name_the_mismatch_instead_of_serving_another_record() {
    let dir = tempfile::tempdir().unwrap();
    let doc = common::activation_doc("guest", "x", 1, T0, T0 + 5);
    {
        let store = store_with_one_activation(dir.path(), &doc);
        assert_eq!(
            store.projections().activation(&doc.activation_id).unwrap(),
            Some(doc.clone())
        );
    }
    // Another log, as long, where seq 2 is something else.
    std::fs::remove_dir_all(log_dir(dir.path())).unwrap();
    {
        let log = SledEventLog::open(log_dir(dir.path()), LogOptions::default()).unwrap();
        log.append_blocking(vec![
            common::namespace("other"),
            common::action_put("other", "y", 1, "code"),
        ])
        .unwrap();
    }
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    match store.projections().activation(&doc.activation_id) {
        Err(Error::CorruptRow { reason, .. }) => {
            assert!(reason.contains("do not belong to this log"), "{reason}")
        }
        other => panic!("expected CorruptRow, got {other:?}"),
    }
}

#[test]
fn projections_of_the_previous_format_are_rebuilt_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let doc = common::activation_doc("guest", "x", 7, T0, T0 + 5);
    drop(store_with_one_activation(dir.path(), &doc));
    // Make the projections look like format 1 (one sled key per row, documents copied).
    {
        let db = sled::open(projections_dir(dir.path())).unwrap();
        let mut format_1 = 1u16.to_le_bytes().to_vec();
        format_1.extend_from_slice(&2u64.to_be_bytes());
        for name in ["entities", "activations", "api_keys"] {
            let tree = db.open_tree(name).unwrap();
            tree.clear().unwrap();
            tree.insert([0u8], format_1.clone()).unwrap();
        }
        let activations = db.open_tree("activations").unwrap();
        let mut by_id = b"i".to_vec();
        by_id.extend_from_slice(doc.activation_id.as_bytes());
        activations
            .insert(by_id, bincode::serialize(&doc).unwrap())
            .unwrap();
        let mut by_time = b"tguest\0".to_vec();
        by_time.extend_from_slice(&doc.start_ms.to_be_bytes());
        by_time.extend_from_slice(doc.activation_id.as_bytes());
        activations.insert(by_time, b"x".as_slice()).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.projections().applied_seq(), 2);
    assert_eq!(
        store.projections().activation(&doc.activation_id).unwrap(),
        Some(doc.clone())
    );
    assert_eq!(
        store
            .projections()
            .list_activations("guest", &ActivationQuery::default())
            .unwrap(),
        vec![doc]
    );
    assert!(store.projections().namespace("guest").unwrap().is_some());
    assert!(replay_and_compare(&store, &mut |_| {}).unwrap().identical());
}

fn copy_dir_all(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir_all(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
