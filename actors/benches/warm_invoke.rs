//! Warm invoke through the platform's actors (controller → dispatcher core → in-process bus →
//! invoker → pool core → process driver → lifecycle → completion), without HTTP, against the
//! baseline of a direct ActionLoop round trip to a warm Python process, in the same run.
//!
//! Three platform figures: "invoker only" sends the activation straight to the invoker's bus queue
//! (invoker actor, pool and lifecycle cores, container worker, driver); "result" goes through the
//! controller actor too (`InvokeBlocking`: throttle and dispatcher cores; the acceptance is written
//! with the record) and stops when the completion (with its record) is back on the bus, the path
//! the issue's "adds < 100 µs" target is about; "durable" waits further until the activation record
//! is flushed to the log (what a blocking HTTP caller waits for). It also prints the CPU time of
//! the one thread everything here runs on, and how often that thread blocked, per run of each
//! phase. It runs on the `whirl` binary's allocator (mimalloc).
//!
//! Run: `cargo bench -p actors --bench warm_invoke` (WHIRL_BENCH_RUNS overrides the count, 2000;
//! WHIRL_BENCH_ONLY=baseline|invoker|platform runs one phase alone, for a profiler;
//! WHIRL_BENCH_SETTLE_MS pauses that long before each block: on this VM both change the figures,
//! see docs/benchmarks.md, "Scheduler history").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actors::controller_actor::{ControllerActor, Invoke, InvokeBlocking};
use actors::core::controller::ControllerConfig;
use actors::core::ids::InvokerId;
use actors::core::pool::PoolConfig;
use actors::core::throttle::ThrottleConfig;
use actors::invoker_actor::{InvokerActor, InvokerConfig};
use bridge::baseline::WarmPythonProcess;
use bridge::bus::{ActivationMessage, Bus, InProcessBus};
use bridge::{ProcessDriver, ProcessDriverConfig};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{
    ActionDoc, ActionLimits, ActivationId, ChangedBy, Exec, JsonText, SemVer, Store, StoreOptions,
    SystemClock,
};

/// The allocator the `whirl` binary runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CODE: &str =
    "def main(args):\n    return {\"greeting\": \"Hello \" + args.get(\"name\", \"\")}\n";
const PARAMS: &str = r#"{"name":"bench"}"#;

struct Summary {
    name: &'static str,
    p50: Duration,
    p90: Duration,
    p99: Duration,
}

fn summarize(name: &'static str, samples: &mut [Duration]) -> Summary {
    if samples.is_empty() {
        return Summary {
            name,
            p50: Duration::ZERO,
            p90: Duration::ZERO,
            p99: Duration::ZERO,
        };
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let summary = Summary {
        name,
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
    };
    println!(
        "{:<48} p50 {:>8.1} µs  p90 {:>8.1} µs  p99 {:>8.1} µs  (n = {})",
        summary.name,
        micros(summary.p50),
        micros(summary.p90),
        micros(summary.p99),
        samples.len()
    );
    summary
}

/// CPU time of the calling thread so far, in ns (the first field of its schedstat). The bench,
/// the controller, the invoker and the driver's tasks all run on this one thread.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Times the calling thread blocked so far (its voluntary context switches): each one is a
/// wake-up to pay for on the way back.
fn thread_blocks() -> u64 {
    std::fs::read_to_string("/proc/thread-self/status")
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn message(action: &ActionDoc) -> ActivationMessage {
    ActivationMessage {
        activation_id: ActivationId::generate(),
        transaction_id: "bench".into(),
        invoker: String::new(),
        action: action.clone(),
        params: JsonText::parse(PARAMS).unwrap(),
        subject: "guest".into(),
        by: ChangedBy::System,
        api_key: None,
        blocking: true,
        cause: None,
        accepted_at_ms: 0,
        caused_by: None,
    }
}

fn main() {
    let runs: usize = std::env::var("WHIRL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    actix_rt::System::new().block_on(async move {
        let dir = tempfile::tempdir().unwrap();

        eprintln!("baseline: starting a warm Python process");
        let mut direct =
            WarmPythonProcess::start(Path::new("python3"), &dir.path().join("baseline"), CODE)
                .await
                .unwrap();

        eprintln!("platform: starting store, controller, invoker and process driver");
        let store = Store::open(dir.path().join("data"), StoreOptions::default()).unwrap();
        let bus = Arc::new(InProcessBus::new());
        let clock = Arc::new(SystemClock);
        let config = ControllerConfig {
            throttles: ThrottleConfig {
                invocations_per_minute: u32::MAX,
                concurrent_invocations: u32::MAX,
                fires_per_minute: u32::MAX,
            },
            ..ControllerConfig::default()
        };
        let controller = ControllerActor::new(config, store.clone(), bus.clone(), clock.clone())
            .start_supervised()
            .await
            .unwrap();
        let mut driver_config = ProcessDriverConfig::new(dir.path().join("runtimes"));
        driver_config.stem_cells.clear();
        let driver = Arc::new(ProcessDriver::start(driver_config).await.unwrap());
        let _invoker = InvokerActor::new(
            InvokerConfig::new(InvokerId(0), PoolConfig::default()),
            driver,
            bus.clone(),
            clock,
        )
        .start_supervised()
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut completions = bus.subscribe_completions().await.unwrap();
        let action = ActionDoc {
            namespace: "guest".into(),
            package: None,
            name: "hello".into(),
            version: SemVer {
                major: 0,
                minor: 0,
                patch: 1,
            },
            publish: false,
            exec: Exec::Code {
                kind: "python:3".into(),
                code: CODE.into(),
                binary: false,
                main: None,
            },
            annotations: JsonText::empty_array(),
            parameters: JsonText::empty_array(),
            limits: ActionLimits::default(),
            updated_ms: 0,
        };

        // Warm both up.
        for _ in 0..200 {
            direct.invoke(PARAMS).await.unwrap();
            let accepted = controller
                .send(Invoke {
                    message: message(&action),
                    wait_for_record: true,
                })
                .await
                .unwrap()
                .unwrap();
            accepted.result.unwrap().await.unwrap();
            completions.recv().await.unwrap();
        }

        let mut baseline = Vec::with_capacity(runs);
        let mut invoker_only = Vec::with_capacity(runs);
        let mut result = Vec::with_capacity(runs);
        let mut durable = Vec::with_capacity(runs);
        // Interleave blocks so drift on a shared machine hits all three alike.
        let block = 100;
        // A pause before each block (outside the timing), so a block does not start on the
        // scheduler's history of the one before (docs/benchmarks.md, "Scheduler history").
        let settle_for = Duration::from_millis(
            std::env::var("WHIRL_BENCH_SETTLE_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        );
        let settle = || async move {
            if !settle_for.is_zero() {
                tokio::time::sleep(settle_for).await;
            }
        };
        let only = std::env::var("WHIRL_BENCH_ONLY").unwrap_or_default();
        assert!(
            ["", "baseline", "invoker", "platform"].contains(&only.as_str()),
            "WHIRL_BENCH_ONLY is baseline, invoker or platform, not {only:?}"
        );
        // Runs per block of a phase: none when another phase runs alone.
        let runs_of = |phase: &str| {
            if only.is_empty() || only == phase {
                block
            } else {
                0
            }
        };
        let mut cpu = [0u64; 3];
        let mut blocks = [0u64; 3];
        for round in 0..runs.div_ceil(block) {
            eprintln!("round {}/{}", round + 1, runs.div_ceil(block));
            settle().await;
            let (c0, b0) = (thread_cpu_ns(), thread_blocks());
            for _ in 0..runs_of("baseline") {
                let t = Instant::now();
                direct.invoke(PARAMS).await.unwrap();
                baseline.push(t.elapsed());
            }
            cpu[0] += thread_cpu_ns() - c0;
            blocks[0] += thread_blocks() - b0;
            settle().await;
            let (c0, b0) = (thread_cpu_ns(), thread_blocks());
            for _ in 0..runs_of("invoker") {
                let mut direct_to_invoker = message(&action);
                direct_to_invoker.invoker = "invoker0".into();
                let t = Instant::now();
                bus.send_activation(direct_to_invoker).await.unwrap();
                completions.recv().await.unwrap();
                invoker_only.push(t.elapsed());
            }
            cpu[1] += thread_cpu_ns() - c0;
            blocks[1] += thread_blocks() - b0;
            settle().await;
            let (c0, b0) = (thread_cpu_ns(), thread_blocks());
            for _ in 0..runs_of("platform") {
                let t = Instant::now();
                let accepted = controller
                    .send(InvokeBlocking {
                        message: message(&action),
                    })
                    .await
                    .unwrap()
                    .unwrap();
                let done = completions.recv().await.unwrap();
                result.push(t.elapsed());
                assert_eq!(done.record.activation_id, accepted.activation_id);
                assert_eq!(done.record.status, store::ActivationStatus::Success);
                accepted.result.await.unwrap();
                durable.push(t.elapsed());
            }
            cpu[2] += thread_cpu_ns() - c0;
            blocks[2] += thread_blocks() - b0;
        }
        let per_run = |ns: u64| ns as f64 / runs as f64 / 1e3;
        println!();
        println!("this machine: {}", bridge::IdlePolicy::read());
        println!(
            "blocks of {block} runs{}{}",
            if only.is_empty() {
                ", phases interleaved".to_owned()
            } else {
                format!(", only the {only} phase")
            },
            if settle_for.is_zero() {
                String::new()
            } else {
                format!(", {} ms of pause before each block", settle_for.as_millis())
            }
        );
        let base = summarize("direct ActionLoop round trip (baseline)", &mut baseline);
        let invoker = summarize("invoker only: bus in, completion out", &mut invoker_only);
        let through = summarize("platform, until the result is back", &mut result);
        let recorded = summarize("platform, until the record is durable", &mut durable);
        println!();
        println!(
            "CPU of the thread per run: baseline {:.1} µs, invoker only {:.1} µs, platform until durable {:.1} µs (the log's threads are other threads)",
            per_run(cpu[0]),
            per_run(cpu[1]),
            per_run(cpu[2]),
        );
        let blocks_per_run = |n: u64| n as f64 / runs as f64;
        println!(
            "Times the thread blocked per run: baseline {:.2}, invoker only {:.2}, platform until durable {:.2}",
            blocks_per_run(blocks[0]),
            blocks_per_run(blocks[1]),
            blocks_per_run(blocks[2]),
        );
        for s in [&invoker, &through, &recorded] {
            if base.p50.is_zero() || s.p50.is_zero() {
                continue; // a phase left out with WHIRL_BENCH_ONLY
            }
            println!(
                "{:<48} adds {:>7.1} µs at p50 ({:.2}x the baseline), {:>7.1} µs at p99",
                s.name,
                micros(s.p50) - micros(base.p50),
                s.p50.as_secs_f64() / base.p50.as_secs_f64(),
                micros(s.p99) - micros(base.p99),
            );
        }
        direct.stop().await;
        System::current().stop();
    });
}

use actix::System;
