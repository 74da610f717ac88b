//! Warm invocations: the baseline "direct ActionLoop round trip to a warm Python process"
//! (`bridge::baseline::WarmPythonProcess`) against a warm run through the process driver
//! (run line building, log splitting at the sentinels, result check).
//!
//! Run: `cargo bench -p bridge --bench warm_round_trip` (WHIRL_BENCH_RUNS overrides the count).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bridge::baseline::WarmPythonProcess;
use bridge::{
    ActionLimits, ContainerDriver, ContainerSpec, InitRequest, ProcessDriver, ProcessDriverConfig,
    RunRequest, RuntimeKind,
};
use support::Summary;

const CODE: &str =
    "def main(args):\n    return {\"greeting\": \"Hello \" + args.get(\"name\", \"\")}\n";
const PARAMS: &str = r#"{"name":"bench"}"#;

async fn baseline(dir: &Path, runs: usize) -> Summary {
    let mut process = WarmPythonProcess::start(Path::new("python3"), dir, CODE)
        .await
        .unwrap();
    for _ in 0..100 {
        process.invoke(PARAMS).await.unwrap();
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let clock = Instant::now();
        let answer = process.invoke(PARAMS).await.unwrap();
        samples.push(clock.elapsed());
        assert_eq!(answer, r#"{"greeting":"Hello bench"}"#);
    }
    process.stop().await;
    let summary = Summary::of("direct ActionLoop round trip (baseline)", &mut samples);
    summary.print();
    summary
}

async fn driver_warm_run(dir: &Path, runs: usize) -> Summary {
    let mut config = ProcessDriverConfig::new(dir);
    config.stem_cells.clear();
    let driver = ProcessDriver::start(config).await.unwrap();
    let id = driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    let init = InitRequest {
        name: "/guest/bench".into(),
        main: "main".into(),
        code: CODE.into(),
        binary: false,
        env: BTreeMap::new(),
        limits: ActionLimits::default(),
    };
    driver
        .init(&id, init, Duration::from_secs(10))
        .await
        .unwrap();
    let mut samples = Vec::with_capacity(runs);
    for n in 0..(runs + 100) {
        let request = RunRequest {
            params: PARAMS.into(),
            activation_id: format!("{n:032x}"),
            transaction_id: format!("tx{n}"),
            namespace: "guest".into(),
            action_name: "/guest/bench".into(),
            action_version: "0.0.1".into(),
            deadline_ms: 4_102_444_800_000,
            api_key: None,
            extra: BTreeMap::new(),
            http: None,
        };
        let clock = Instant::now();
        let out = driver
            .run(&id, request, Duration::from_secs(10))
            .await
            .unwrap();
        if n >= 100 {
            samples.push(clock.elapsed());
        }
        assert_eq!(out.result.as_deref(), Ok(r#"{"greeting":"Hello bench"}"#));
    }
    driver.remove(&id).await.unwrap();
    let summary = Summary::of("process driver warm run (python:3)", &mut samples);
    summary.print();
    summary
}

fn main() {
    let runtime = support::runtime();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let runs = support::runs(2000);
        let base = baseline(&dir.path().join("baseline"), runs).await;
        let warm = driver_warm_run(&dir.path().join("driver"), runs).await;
        warm.print_ratio(&base);
    });
}
