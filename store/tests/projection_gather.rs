//! The projector gathers activation records before committing them, and never makes anyone
//! wait for that: an entity change commits at once (with the activations gathered before it),
//! and a reader in `wait_applied` gets the gathered records committed at once. The gather time
//! is set to a minute here, so anything committed within the test was committed for one of
//! those reasons, not because the time ran out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::T0;
use std::time::{Duration, Instant};
use store::*;

const GATHER: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(10);

fn open(dir: &std::path::Path) -> Store {
    let options = StoreOptions {
        projections: ProjectionOptions {
            follow_gather: GATHER,
            ..ProjectionOptions::default()
        },
        ..StoreOptions::default()
    };
    Store::open(dir, options).unwrap()
}

/// Appends `events` (durable on return) and gives the seq of the last one.
fn append(store: &Store, events: Vec<Event>) -> u64 {
    store
        .log()
        .append_blocking(events)
        .unwrap()
        .last()
        .unwrap()
        .seq
}

/// Polls, without waiting in `wait_applied` (which would ask for a commit), until the
/// projections have applied `seq`; false if they have not within `within`.
fn applied_without_asking(store: &Store, seq: u64, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if store.projections().applied_seq() >= seq {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    store.projections().applied_seq() >= seq
}

#[test]
fn activations_wait_to_be_committed_until_a_reader_asks() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let namespace = append(&store, vec![common::namespace("guest")]);
    assert!(
        applied_without_asking(&store, namespace, WAIT),
        "an entity change is committed at once"
    );

    let mut last = 0;
    for n in 1..=5 {
        last = append(
            &store,
            vec![common::activation("guest", "hello", n, T0 + n, T0 + n + 1)],
        );
    }
    assert!(
        !applied_without_asking(&store, last, Duration::from_millis(300)),
        "activations are gathered, not committed one by one"
    );
    assert_eq!(
        store.projections().activation(&common::id(5)).unwrap(),
        None,
        "gathered rows are not in the trees yet"
    );

    let asked = Instant::now();
    store.projections().wait_applied(last, WAIT).unwrap();
    assert!(
        asked.elapsed() < GATHER / 2,
        "a reader's wait commits the gathered rows at once"
    );
    for n in 1..=5 {
        let doc = store.projections().activation(&common::id(n)).unwrap();
        assert_eq!(doc.map(|doc| doc.activation_id), Some(common::id(n)));
    }
}

#[test]
fn an_entity_change_commits_the_activations_gathered_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    append(&store, vec![common::namespace("guest")]);
    let activation = append(
        &store,
        vec![common::activation("guest", "hello", 1, T0, T0 + 3)],
    );
    assert!(!applied_without_asking(
        &store,
        activation,
        Duration::from_millis(300)
    ));
    let action = append(&store, vec![common::action_put("guest", "hello", 1, "v1")]);
    assert!(
        applied_without_asking(&store, action, WAIT),
        "an entity change is readable without anyone asking"
    );
    assert!(store
        .projections()
        .activation(&common::id(1))
        .unwrap()
        .is_some());
}

#[test]
fn gathered_rows_survive_a_close_and_reopen_and_equal_a_replay() {
    let dir = tempfile::tempdir().unwrap();
    let last = {
        let store = open(dir.path());
        append(&store, vec![common::namespace("guest")]);
        let mut last = 0;
        for n in 1..=3 {
            last = append(
                &store,
                vec![common::activation("guest", "hello", n, T0 + n, T0 + n + 1)],
            );
        }
        last
    };
    let store = open(dir.path());
    store.projections().wait_applied(last, WAIT).unwrap();
    for n in 1..=3 {
        assert!(store
            .projections()
            .activation(&common::id(n))
            .unwrap()
            .is_some());
    }
    assert!(store::audit::replay_and_compare(&store, &mut |_| {})
        .unwrap()
        .identical());
}
