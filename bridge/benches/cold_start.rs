//! Cold start of the process driver: create + init + first run of a trivial action.
//! python:3 with a new interpreter per container (the baseline) against the zygote (and a
//! stem cell forked from it); nodejs:20 with a fresh launcher against a prewarmed stem cell.
//! Stem cells are refilled between samples, then the bench pauses (WHIRL_BENCH_PAUSE_MS,
//! default 20 ms) so each sample starts from a system at rest; neither is timed.
//!
//! Run: `cargo bench -p bridge --bench cold_start` (WHIRL_BENCH_RUNS overrides the count).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bridge::{
    ActionLimits, ContainerDriver, ContainerSpec, InitRequest, ProcessDriver, ProcessDriverConfig,
    RunRequest, RuntimeKind, StemCellConfig,
};
use support::Summary;

const TIMEOUT: Duration = Duration::from_secs(30);

fn init(code: &str) -> InitRequest {
    InitRequest {
        name: "/guest/bench".into(),
        main: "main".into(),
        code: code.into(),
        binary: false,
        env: BTreeMap::new(),
        limits: ActionLimits::default(),
    }
}

fn run_request(n: usize) -> RunRequest {
    RunRequest {
        params: r#"{"name":"bench"}"#.into(),
        activation_id: format!("{n:032x}"),
        transaction_id: format!("tx{n}"),
        namespace: "guest".into(),
        action_name: "/guest/bench".into(),
        action_version: "0.0.1".into(),
        deadline_ms: 4_102_444_800_000,
        api_key: None,
        extra: BTreeMap::new(),
        http: None,
    }
}

/// One cold start: create, init, first run (each phase timed). Removal is not timed.
async fn cold_start(
    driver: &ProcessDriver,
    kind: RuntimeKind,
    code: &str,
    n: usize,
) -> [Duration; 4] {
    let clock = Instant::now();
    let id = driver
        .create(ContainerSpec::runtime(kind, 256))
        .await
        .unwrap();
    let created = clock.elapsed();
    driver.init(&id, init(code), TIMEOUT).await.unwrap();
    let initialized = clock.elapsed();
    let out = driver.run(&id, run_request(n), TIMEOUT).await.unwrap();
    let total = clock.elapsed();
    assert!(out.result.is_ok(), "{:?}", out.result);
    driver.remove(&id).await.unwrap();
    [total, created, initialized - created, total - initialized]
}

async fn measure(
    name: &str,
    config: ProcessDriverConfig,
    kind: RuntimeKind,
    code: &str,
    runs: usize,
    wait_for_stem_cells: bool,
) -> Summary {
    let driver = ProcessDriver::start(config).await.unwrap();
    // Warm-up (not counted): page cache, first fork of the zygote.
    for n in 0..3 {
        cold_start(&driver, kind, code, n).await;
        if wait_for_stem_cells {
            driver.refill_stem_cells().await;
        }
    }
    let pause = Duration::from_millis(
        std::env::var("WHIRL_BENCH_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20),
    );
    let mut phases: [Vec<Duration>; 4] = Default::default();
    for n in 0..runs {
        let sample = cold_start(&driver, kind, code, n).await;
        for (phase, value) in phases.iter_mut().zip(sample) {
            phase.push(value);
        }
        if wait_for_stem_cells {
            driver.refill_stem_cells().await;
        }
        // Each sample starts from a system at rest (the zygote's next spare forked, the last
        // container's exit done); the pause is the same for every variant and not timed.
        tokio::time::sleep(pause).await;
    }
    let [mut total, mut create, mut init, mut first_run] = phases;
    let summary = Summary::of(name, &mut total);
    summary.print();
    for (label, samples) in [
        ("create", &mut create),
        ("init", &mut init),
        ("first run", &mut first_run),
    ] {
        Summary::of(&format!("  {label}"), samples).print();
    }
    summary
}

fn config(
    dir: &std::path::Path,
    zygote: bool,
    stem_cells: Vec<StemCellConfig>,
) -> ProcessDriverConfig {
    let mut config = ProcessDriverConfig::new(dir.join("runtimes"));
    config.python_zygote = zygote;
    config.stem_cells = stem_cells;
    config
}

fn main() {
    let runtime = support::runtime();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let python_runs = support::runs(200);
        let node_runs = support::runs(200).min(60);
        let python =
            "def main(args):\n    return {\"greeting\": \"Hello \" + args.get(\"name\", \"\")}\n";
        let node = "function main(args) { return { greeting: 'Hello ' + args.name }; }";
        println!("cold start = create + init + first run of a trivial action (removal not timed)");
        let new_interpreter = measure(
            "python:3 new interpreter (baseline)",
            config(dir.path(), false, vec![]),
            RuntimeKind::Python3,
            python,
            python_runs,
            false,
        )
        .await;
        let zygote = measure(
            "python:3 zygote fork",
            config(dir.path(), true, vec![]),
            RuntimeKind::Python3,
            python,
            python_runs,
            false,
        )
        .await;
        zygote.print_ratio(&new_interpreter);
        let zygote_cell = measure(
            "python:3 zygote-forked stem cell",
            config(
                dir.path(),
                true,
                vec![StemCellConfig {
                    kind: RuntimeKind::Python3,
                    memory_mb: 256,
                    count: 1,
                }],
            ),
            RuntimeKind::Python3,
            python,
            python_runs,
            true,
        )
        .await;
        zygote_cell.print_ratio(&new_interpreter);
        let fresh_node = measure(
            "nodejs:20 fresh launcher (baseline)",
            config(dir.path(), false, vec![]),
            RuntimeKind::Nodejs20,
            node,
            node_runs,
            false,
        )
        .await;
        let stem_cell = measure(
            "nodejs:20 prewarmed stem cell",
            config(
                dir.path(),
                false,
                vec![StemCellConfig {
                    kind: RuntimeKind::Nodejs20,
                    memory_mb: 256,
                    count: 1,
                }],
            ),
            RuntimeKind::Nodejs20,
            node,
            node_runs,
            true,
        )
        .await;
        stem_cell.print_ratio(&fresh_node);
        let target = Duration::from_millis(5);
        println!(
            "target: zygote cold start p50 <= {} -> {}",
            support::ms(target),
            if zygote.p50 <= target {
                "met"
            } else {
                "NOT met"
            }
        );
    });
}
