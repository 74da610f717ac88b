//! Projections: queries, read-your-writes, catch-up from checkpoints on reopen (never re-applying,
//! never skipping), retention through a snapshot, and replay-equals-live.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::T0;
use std::time::Duration;
use store::audit::{replay_and_compare, state_at, Until};
use store::*;

const WAIT: Duration = Duration::from_secs(10);

fn open(dir: &std::path::Path, clock: std::sync::Arc<common::ManualClock>) -> Store {
    let options = StoreOptions {
        log: LogOptions {
            clock,
            ..LogOptions::default()
        },
        ..StoreOptions::default()
    };
    Store::open(dir, options).unwrap()
}

fn append(store: &Store, events: Vec<Event>) -> u64 {
    let receipts = store.log().append_blocking(events).unwrap();
    let seq = receipts.last().unwrap().seq;
    store.projections().wait_applied(seq, WAIT).unwrap();
    seq
}

#[test]
fn entities_keys_and_rule_status_are_queryable() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), common::ManualClock::at(T0));
    let samples = common::samples();
    append(&store, samples[..2].to_vec());
    append(
        &store,
        vec![
            common::action_put("guest", "hello", 1, "v1"),
            common::action_put("guest", "hello", 2, "v2"),
        ],
    );
    append(
        &store,
        vec![
            samples[3].clone(),
            samples[7].clone(),
            samples[9].clone(),
            samples[10].clone(),
            samples[12].clone(),
            samples[13].clone(),
        ],
    );
    let p = store.projections();
    assert_eq!(
        p.namespace("guest")
            .unwrap()
            .unwrap()
            .limits
            .invocations_per_minute,
        Some(120)
    );
    assert_eq!(
        p.api_key(&common::key_uuid()).unwrap().unwrap().namespace,
        "guest"
    );
    assert!(p
        .api_key(&common::key_uuid())
        .unwrap()
        .unwrap()
        .key_hash
        .matches(&"k".repeat(64)));
    assert_eq!(
        p.action("guest", "hello")
            .unwrap()
            .unwrap()
            .version
            .to_string(),
        "0.0.2"
    );
    assert_eq!(
        p.action("guest", "utils/echo")
            .unwrap()
            .unwrap()
            .exec
            .kind(),
        "blackbox"
    );
    let actions = p.list_entities("guest", EntityKind::Action, 0, 0).unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(
        p.list_entities("guest", EntityKind::Action, 1, 1)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(p.count_entities("guest", EntityKind::Action), 2);
    assert_eq!(
        p.list_package_actions("guest", "utils", 0, 30).unwrap()[0].name,
        "echo"
    );
    let rule = p.rule("guest", "on-tick").unwrap().unwrap();
    assert_eq!(rule.status, RuleStatus::Inactive);
    assert_eq!(
        p.feed("guest", "every-minute")
            .unwrap()
            .unwrap()
            .fired_up_to_ms,
        Some(T0 + 60_000)
    );
    assert!(p.trigger("guest", "tick").unwrap().is_some());
    append(
        &store,
        vec![samples[2].clone(), samples[4].clone(), samples[11].clone()],
    );
    assert!(p.api_key(&common::key_uuid()).unwrap().is_none());
    assert!(p.action("guest", "utils/echo").unwrap().is_none());
    assert!(p.rule("guest", "on-tick").unwrap().is_none());
    assert!(replay_and_compare(&store, &mut |_| {}).unwrap().identical());
}

#[test]
fn activations_list_newest_first_with_filters_and_pending_invocations_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), common::ManualClock::at(T0));
    let mut events = vec![common::invocation("guest", "a", 99)];
    for n in 0..10 {
        let name = if n % 2 == 0 { "a" } else { "b" };
        events.push(common::invocation("guest", name, n));
        events.push(common::activation(
            "guest",
            name,
            n,
            T0 + n * 1000,
            T0 + n * 1000 + 5,
        ));
    }
    events.push(common::activation("other", "a", 50, T0, T0 + 1));
    append(&store, events);
    let p = store.projections();
    let all = p
        .list_activations("guest", &ActivationQuery::default())
        .unwrap();
    assert_eq!(
        all.iter().map(|d| d.activation_id).collect::<Vec<_>>(),
        (0..10).rev().map(common::id).collect::<Vec<_>>()
    );
    let query = ActivationQuery {
        name: Some("a".into()),
        since_ms: Some(T0 + 2000),
        upto_ms: Some(T0 + 8000),
        skip: 1,
        limit: 2,
    };
    let page = p.list_activations("guest", &query).unwrap();
    assert_eq!(
        page.iter().map(|d| d.start_ms).collect::<Vec<_>>(),
        [T0 + 6000, T0 + 4000]
    );
    assert_eq!(
        p.count_activations(
            "guest",
            &ActivationQuery {
                skip: 0,
                limit: 0,
                ..query
            }
        )
        .unwrap(),
        4
    );
    assert_eq!(p.activation(&common::id(3)).unwrap().unwrap().name, "b");
    let pending = p.pending_invocations().unwrap();
    assert_eq!(
        pending.len(),
        1,
        "only the invocation without a record is pending"
    );
    assert_eq!(pending[0].activation_id, common::id(99));
}

#[test]
fn reopening_catches_up_from_the_checkpoint_without_reapplying() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::ManualClock::at(T0);
    {
        let store = open(dir.path(), clock.clone());
        append(
            &store,
            vec![
                common::namespace("guest"),
                common::action_put("guest", "x", 1, "one"),
            ],
        );
    }
    // Records appended while the projections are not running (only the log is open).
    {
        let log = SledEventLog::open(log_dir(dir.path()), LogOptions::default()).unwrap();
        log.append_blocking(vec![
            common::action_put("guest", "x", 2, "two"),
            common::activation("guest", "x", 1, T0, T0 + 1),
        ])
        .unwrap();
    }
    let store = open(dir.path(), clock);
    assert_eq!(store.projections().applied_seq(), 4);
    assert_eq!(
        store
            .projections()
            .action("guest", "x")
            .unwrap()
            .unwrap()
            .version
            .patch,
        2
    );
    assert!(store
        .projections()
        .activation(&common::id(1))
        .unwrap()
        .is_some());
    assert!(replay_and_compare(&store, &mut |_| {}).unwrap().identical());
}

#[test]
fn projections_of_another_log_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path(), common::ManualClock::at(T0));
        append(&store, vec![common::namespace("a"), common::namespace("b")]);
    }
    std::fs::remove_dir_all(log_dir(dir.path())).unwrap();
    let other_log = SledEventLog::open(log_dir(dir.path()), LogOptions::default()).unwrap();
    other_log
        .append_blocking(vec![common::namespace("x")])
        .unwrap();
    drop(other_log);
    match Store::open(dir.path(), StoreOptions::default()) {
        Err(Error::ProjectionAhead {
            checkpoint: 2,
            head: 1,
            tree,
            ..
        }) => assert_eq!(tree, "entities"),
        other => panic!("expected ProjectionAhead, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn retention_drops_old_activations_keeps_entities_and_stays_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::ManualClock::at(T0);
    let store = open(dir.path(), clock.clone());
    append(
        &store,
        vec![
            common::namespace("guest"),
            common::action_put("guest", "a", 1, "one"),
        ],
    );
    let mut events = Vec::new();
    for n in 0..20 {
        events.push(common::invocation("guest", "a", n));
        events.push(common::activation(
            "guest",
            "a",
            n,
            T0 + n * 100,
            T0 + n * 100 + 10,
        ));
    }
    events.push(common::invocation("guest", "a", 500));
    append(&store, events);
    append(&store, vec![common::action_put("guest", "a", 2, "two")]);
    clock.set(T0 + 10_000);
    let report = store
        .retain(Duration::from_millis(10_000 - 1000), T0 + 10_000)
        .unwrap();
    assert_eq!(report.cutoff_ms, T0 + 1000);
    assert_eq!(
        (report.dropped_activations, report.dropped_invocations),
        (10, 10),
        "{report:?}"
    );
    assert_eq!(report.generation, 2);
    let snapshot_seq = report.snapshot_seq.unwrap();
    assert_eq!(snapshot_seq, 45);
    let p = store.projections();
    assert!(p.activation(&common::id(0)).unwrap().is_none());
    assert!(p.activation(&common::id(15)).unwrap().is_some());
    assert_eq!(
        p.list_activations("guest", &ActivationQuery::default())
            .unwrap()
            .len(),
        10
    );
    assert_eq!(
        p.pending_invocations().unwrap().len(),
        1,
        "an invocation without its record is kept"
    );
    assert_eq!(p.action("guest", "a").unwrap().unwrap().version.patch, 2);
    let after = store
        .log()
        .append_blocking(vec![common::namespace("later")])
        .unwrap();
    assert_eq!(after[0].seq, snapshot_seq + 1);
    store
        .projections()
        .wait_applied(after[0].seq, WAIT)
        .unwrap();
    assert!(replay_and_compare(&store, &mut |_| {}).unwrap().identical());
    let history: Vec<Committed> = store.log().read_from(1).map(Result::unwrap).collect();
    assert_eq!(
        history
            .iter()
            .filter(|r| r.event.name() == "ActionPut")
            .count(),
        2,
        "entity history is kept whole"
    );
    drop(store);
    let raw = RawLog::open(&log_dir(dir.path())).unwrap();
    match store::audit::verify_log(&raw, &mut |_| {}).unwrap() {
        store::audit::VerifyOutcome::Valid(report) => {
            assert_eq!(report.snapshots, 1);
            assert_eq!(report.generation, 2);
        }
        invalid => panic!("{invalid:?}"),
    }
    assert_eq!(
        raw.generation_trees().len(),
        1,
        "the old generation is gone"
    );
}

#[test]
fn a_half_built_generation_is_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path(), common::ManualClock::at(T0));
        append(&store, vec![common::namespace("guest")]);
    }
    {
        let db = sled::open(log_dir(dir.path())).unwrap();
        db.open_tree("log.00000000000000000002")
            .unwrap()
            .insert(1u64.to_be_bytes(), b"half".to_vec())
            .unwrap();
        db.flush().unwrap();
    }
    let raw = RawLog::open(&log_dir(dir.path())).unwrap();
    assert_eq!(raw.generation(), 1);
    assert_eq!(raw.generation_trees(), ["log.00000000000000000001"]);
}

#[test]
fn state_at_a_seq_or_time_shows_the_past() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::ManualClock::at(T0);
    let store = open(dir.path(), clock.clone());
    append(
        &store,
        vec![
            common::namespace("guest"),
            common::action_put("guest", "a", 1, "one"),
        ],
    );
    clock.set(T0 + 5_000);
    append(
        &store,
        vec![
            common::action_put("guest", "b", 1, "one"),
            common::activation("guest", "b", 1, T0, T0 + 1),
        ],
    );
    let at_two = state_at(store.log(), Until::Seq(2), &mut |_| {}).unwrap();
    assert_eq!(at_two.last_seq, 2);
    assert_eq!(at_two.counts.get("actions"), Some(&1));
    assert_eq!(at_two.counts.get("activations"), Some(&0));
    let by_time = state_at(store.log(), Until::TimeMs(T0 + 4_999), &mut |_| {}).unwrap();
    assert_eq!(by_time, at_two);
    let now = state_at(store.log(), Until::End, &mut |_| {}).unwrap();
    assert_eq!(now.counts.get("actions"), Some(&2));
    assert_eq!(now.counts.get("activations"), Some(&1));
}

#[test]
fn append_and_project_reads_its_own_writes_from_async_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), common::ManualClock::at(T0));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        store
            .append_and_project(vec![common::namespace("guest")])
            .await
            .unwrap();
        assert!(store.projections().namespace("guest").unwrap().is_some());
    });
    store
        .append_and_project_blocking(vec![common::action_put("guest", "a", 1, "x")], WAIT)
        .unwrap();
    assert!(store.projections().action("guest", "a").unwrap().is_some());
}
