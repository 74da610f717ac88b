//! Durable appends per second with group commit, side by side with raw sled batch inserts
//! flushed the same way, and the acknowledgement latency under that load.
//!
//! Run: `cargo bench -p store --bench group_commit` (about 35 s). Appenders are plain threads
//! that block on each append ("x 1 in flight"), or threads that keep many appends outstanding
//! through their tickets, as async request handlers do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "bench_events.rs"]
mod bench_events;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{EventLog, LogOptions, SledEventLog};

const RECORD_BYTES: usize = 200;
const RUN: Duration = Duration::from_secs(4);

/// Raw sled: one thread, `batch` inserts of 200-byte values, then flush; repeated for `RUN`.
/// Returns events per second and the p50/p99 time of one batch (insert + flush) in microseconds.
fn raw_sled(batch: usize) -> (f64, u128, u128) {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::Config::new()
        .path(dir.path())
        .flush_every_ms(None)
        .open()
        .unwrap();
    let tree = db.open_tree("log").unwrap();
    let value = vec![7u8; RECORD_BYTES];
    let started = Instant::now();
    let mut seq = 0u64;
    let mut rounds = Vec::new();
    while started.elapsed() < RUN {
        let round = Instant::now();
        let mut b = sled::Batch::default();
        for _ in 0..batch {
            seq += 1;
            b.insert(&seq.to_be_bytes(), value.clone());
        }
        tree.apply_batch(b).unwrap();
        db.flush().unwrap();
        rounds.push(round.elapsed().as_micros());
    }
    rounds.sort_unstable();
    let at = |q: f64| rounds[((rounds.len() as f64 * q) as usize).min(rounds.len() - 1)];
    (
        seq as f64 / started.elapsed().as_secs_f64(),
        at(0.5),
        at(0.99),
    )
}

struct GroupCommitRun {
    per_second: f64,
    p50_us: u128,
    p99_us: u128,
    max_us: u128,
    appends: usize,
}

/// `appenders` threads each keeping `in_flight` appends of one 200-byte event outstanding (as
/// async request handlers would), for `RUN`, on a log running `flushes` flushes at once.
fn group_commit(appenders: usize, in_flight: usize, flushes: usize) -> GroupCommitRun {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions {
        flushes_in_flight: flushes,
        ..LogOptions::default()
    };
    let log = SledEventLog::open(dir.path(), options).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..appenders)
        .map(|thread| {
            let log = log.clone();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut n = thread as u64 * 10_000_000;
                let mut outstanding = std::collections::VecDeque::new();
                while !stop.load(Ordering::Relaxed) {
                    while outstanding.len() < in_flight {
                        let event = bench_events::activation(n, RECORD_BYTES);
                        n += 1;
                        outstanding.push_back((Instant::now(), log.append(vec![event])));
                    }
                    let (sent, ticket) = outstanding.pop_front().unwrap();
                    ticket.wait().unwrap();
                    latencies.push(sent.elapsed().as_micros());
                }
                for (sent, ticket) in outstanding {
                    ticket.wait().unwrap();
                    latencies.push(sent.elapsed().as_micros());
                }
                latencies
            })
        })
        .collect();
    std::thread::sleep(RUN);
    stop.store(true, Ordering::Relaxed);
    let mut latencies: Vec<u128> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    GroupCommitRun {
        per_second: latencies.len() as f64 / elapsed,
        p50_us: at(0.50),
        p99_us: at(0.99),
        max_us: *latencies.last().unwrap(),
        appends: latencies.len(),
    }
}

fn main() {
    let size = 54 + bincode::serialized_size(&bench_events::activation(1, RECORD_BYTES)).unwrap();
    println!(
        "record size: {size} bytes (envelope + payload); each phase runs {} s",
        RUN.as_secs()
    );
    let mut best_raw: f64 = 0.0;
    for batch in [64, 256, 1024] {
        eprintln!("raw sled, batch {batch} ...");
        let (rate, p50, p99) = raw_sled(batch);
        best_raw = best_raw.max(rate);
        println!("raw sled batch {batch:>5} + flush: {rate:>9.0} events/s; one batch+flush p50 {p50} us, p99 {p99} us");
    }
    for (appenders, in_flight, flushes) in phases() {
        eprintln!("group commit, {appenders} appender threads x {in_flight} in flight, {flushes} flushes at once ...");
        let run = group_commit(appenders, in_flight, flushes);
        println!(
            "group commit {appenders:>3} threads x {in_flight:>3} in flight, {flushes} flushes: {:>9.0} events/s = {:.2} x best raw; ack latency p50 {} us, p99 {} us, max {} us ({} appends)",
            run.per_second,
            run.per_second / best_raw,
            run.p50_us,
            run.p99_us,
            run.max_us,
            run.appends
        );
    }
}

/// The group-commit phases: `WHIRL_BENCH_PHASES` ("THREADSxIN_FLIGHT[:FLUSHES],...", e.g.
/// "4x16,4x24:1,4x24:2"; FLUSHES is the log's `flushes_in_flight`, its default when left out),
/// or the default set.
fn phases() -> Vec<(usize, usize, usize)> {
    let flushes = LogOptions::default().flushes_in_flight;
    let default = [
        (8, 1),
        (64, 1),
        (256, 1),
        (4, 16),
        (4, 24),
        (4, 64),
        (4, 256),
    ]
    .map(|(threads, in_flight)| (threads, in_flight, flushes))
    .to_vec();
    let Ok(spec) = std::env::var("WHIRL_BENCH_PHASES") else {
        return default;
    };
    spec.split(',')
        .filter_map(|phase| {
            let (shape, at_once) = match phase.trim().split_once(':') {
                Some((shape, at_once)) => (shape, at_once.parse().ok()?),
                None => (phase.trim(), flushes),
            };
            let (threads, in_flight) = shape.split_once('x')?;
            Some((threads.parse().ok()?, in_flight.parse().ok()?, at_once))
        })
        .collect()
}
