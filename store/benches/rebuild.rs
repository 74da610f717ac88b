//! Projection rebuild from 1,000,000 events: the replay into memory (what `whirl log replay`
//! compares with the live projections), reading + decoding the log alone, and a full rebuild of
//! the sled projection trees (`Projections::open` on an empty directory), then a few reads of
//! the rebuilt projections.
//!
//! Run: `cargo bench -p store --bench rebuild` (writes a 1M-event log first; about 30 s).
//! `WHIRL_BENCH_SKIP_REPLAY=1` skips the in-memory replay and the read-only pass;
//! `WHIRL_BENCH_SKIP_SLED_REBUILD=1` stops before the sled rebuild;
//! `WHIRL_BENCH_SLED_REBUILD_EVENTS=100000` rebuilds from the first 100,000 events only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "bench_events.rs"]
mod bench_events;

use std::time::Instant;
use store::audit::{replay_into_memory, Until};
use store::{
    ActivationId, ActivationQuery, EventLog, LogOptions, ProjectionOptions, Projections,
    SledEventLog,
};

const EVENTS: u64 = 1_000_000;
const CHUNK: u64 = 10_000;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let log = SledEventLog::open(dir.path().join("log"), LogOptions::default()).unwrap();
    let started = Instant::now();
    for chunk in 0..EVENTS / CHUNK {
        let events = (chunk * CHUNK..(chunk + 1) * CHUNK)
            .map(|n| {
                if n % 100 == 0 {
                    bench_events::action_put(n)
                } else {
                    bench_events::activation(n, 200)
                }
            })
            .collect();
        log.append_blocking(events).unwrap();
        if chunk % 10 == 9 {
            eprintln!(
                "writing the log: {} events ({:.0} s)",
                (chunk + 1) * CHUNK,
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "wrote {EVENTS} events (99% activations of ~200 bytes, 1% action updates) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    if std::env::var_os("WHIRL_BENCH_SKIP_REPLAY").is_none() {
        replay(&log);
    }
    if std::env::var_os("WHIRL_BENCH_SKIP_SLED_REBUILD").is_some() {
        return;
    }
    let events = std::env::var("WHIRL_BENCH_SLED_REBUILD_EVENTS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    let log = match events {
        // Rebuild from the first `events` records only (a shorter run for profiling).
        Some(events) => {
            let short =
                SledEventLog::open(dir.path().join("short-log"), LogOptions::default()).unwrap();
            let records: Vec<store::Event> = log
                .read_from(1)
                .take(events as usize)
                .map(|r| r.unwrap().event)
                .collect();
            for chunk in records.chunks(10_000) {
                short.append_blocking(chunk.to_vec()).unwrap();
            }
            short
        }
        None => log,
    };
    let started = Instant::now();
    let cpu = cpu_seconds();
    let projections = Projections::open(
        dir.path().join("projections"),
        &log,
        ProjectionOptions::default(),
    )
    .unwrap();
    let rebuild_s = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "rebuild of the sled projections from zero: {} events in {rebuild_s:.2} s ({:.0} events/s), {cpu:.2} s of CPU (all threads)",
        projections.applied_seq(),
        projections.applied_seq() as f64 / rebuild_s
    );
    reads(&projections, projections.applied_seq());
    follow(&log, &projections);
}

/// The follower on top of the rebuilt projections: 50,000 more activations appended in appends
/// of 1,000 (as a busy server's group commits), timed until all are applied.
fn follow(log: &SledEventLog, projections: &Projections) {
    let first = log.head().unwrap().seq;
    let started = Instant::now();
    let tickets: Vec<_> = (0..50u64)
        .map(|chunk| {
            let events = (0..1000u64)
                .map(|n| bench_events::activation(10_000_000 + chunk * 1000 + n, 200))
                .collect();
            log.append(events)
        })
        .collect();
    for ticket in tickets {
        ticket.wait().unwrap();
    }
    let head = first + 50_000;
    projections
        .wait_applied(head, std::time::Duration::from_secs(600))
        .unwrap();
    let follow_s = started.elapsed().as_secs_f64();
    println!(
        "follower: 50000 more activations (appends of 1000) applied in {follow_s:.2} s ({:.0} events/s)",
        50_000.0 / follow_s
    );
}

/// CPU time (user + system) of this process so far, from /proc (0 where there is none).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses): utime and stime are 14 and 15.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// The in-memory replay, then reading + decoding the log alone.
fn replay(log: &SledEventLog) {
    let started = Instant::now();
    let (rows, last, applied) =
        replay_into_memory(log.read_from(1), Until::End, EVENTS, &mut |p| {
            if p.done % 200_000 == 0 {
                eprintln!("replay: {}", p.done)
            }
        })
        .unwrap();
    let replay_s = started.elapsed().as_secs_f64();
    println!(
        "replay into memory: {applied} events to seq {last} in {replay_s:.2} s ({:.0} events/s)",
        applied as f64 / replay_s
    );
    drop(rows);

    let started = Instant::now();
    let read = log.read_from(1).map(Result::unwrap).count();
    println!(
        "(reading + decoding the log alone: {read} records in {:.2} s)",
        started.elapsed().as_secs_f64()
    );
}

/// Reads of the rebuilt projections: activations by id and a namespace's newest page.
fn reads(projections: &Projections, events: u64) {
    let ids: Vec<ActivationId> = (1..=1000u64)
        .map(|i| (i * 7919) % events)
        .filter(|n| n % 100 != 0)
        .map(|n| match bench_events::activation(n, 200) {
            store::Event::ActivationRecorded(doc) => doc.activation_id,
            _ => unreachable!(),
        })
        .collect();
    let started = Instant::now();
    for id in &ids {
        assert!(projections.activation(id).unwrap().is_some());
    }
    println!(
        "activation by id: {:.1} µs per read ({} reads)",
        started.elapsed().as_secs_f64() * 1e6 / ids.len() as f64,
        ids.len()
    );
    let query = ActivationQuery {
        limit: 30,
        ..Default::default()
    };
    let started = Instant::now();
    for _ in 0..100 {
        assert_eq!(
            projections.list_activations("ns3", &query).unwrap().len(),
            30
        );
    }
    println!(
        "list of a namespace's newest 30 activations: {:.2} ms per list",
        started.elapsed().as_secs_f64() * 1e3 / 100.0
    );
    let started = Instant::now();
    let count = projections
        .count_activations("ns3", &ActivationQuery::default())
        .unwrap();
    println!(
        "count of a namespace's activations: {count} in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
}
