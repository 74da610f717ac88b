//! The OpenFaaS route against the OpenWhisk route for the same function in the same run, and
//! scale from zero:
//!
//! - "OpenWhisk": `POST /api/v1/namespaces/guest/actions/echo?blocking=true` (Basic auth, JSON
//!   body, the whole activation answered);
//! - "OpenFaaS": `POST /function/echo` (no auth, `Content-Type: text/plain` as `faas-cli invoke`
//!   sends by default, the function's bytes answered);
//!
//! both for one `exec` function (`cat`, classic-watchdog semantics: a process forked per request),
//! warm, at concurrency 1 and 8, in turns: short blocks of the two routes alternate
//! (WHIRL_BENCH_ROUNDS pairs, default 6, each block after a quarter-second warm-up, the order
//! swapped every other pair: OW OF, OF OW, ...), so drift of this shared machine and the position
//! in a pair hit both routes alike.
//!
//! Both routes go over the same connections: client thread `i` keeps one keep-alive connection
//! (one `ureq::Agent`) for the whole run and sends both routes' calls on it. An earlier version
//! opened a new connection per block; actix hands connections to its HTTP workers round robin,
//! so with 2 workers, c=1 and strictly alternating blocks every OpenWhisk block landed on one
//! worker and every OpenFaaS block on the other (the comparison measured the workers' placement
//! as much as the routes: docs/benchmarks.md, "OpenFaaS gateway", runs 8-9). At c=8 each block
//! spread over both workers, which is why only c=1 showed a gap.
//!
//! Then scale from zero: `/system/scale-function` to 0, wait until
//! the pool has no replica, and time one call (the pool creates a container, initializes it, runs
//! the call), repeated; on the process backend and, when dockerd answers, on the Docker backend
//! with an OpenFaaS-style image the bench builds.
//!
//! Run: `cargo bench -p api --bench openfaas` (WHIRL_BENCH_SECONDS per route, default 3;
//! WHIRL_BENCH_COLD_RUNS scale-from-zero calls per backend, default 10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actors::core::controller::ControllerConfig;
use actors::core::throttle::ThrottleConfig;
use api::{Backend, Platform, PlatformOptions};
use base64::Engine;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const IMAGE: &str = "whirl-bench-openfaas-cat:1";

mod common;

use common::{run_after, Phase};

/// A platform in its own thread and actix system; stopped by dropping the sender.
struct Server {
    url: String,
    authorization: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let options = PlatformOptions {
                    backend,
                    listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                    handle_signals: false,
                    http_workers: 2,
                    stem_cells: Vec::new(),
                    user_memory_mb: 8192,
                    controller: ControllerConfig {
                        throttles: ThrottleConfig {
                            invocations_per_minute: u32::MAX,
                            concurrent_invocations: 10_000,
                            fires_per_minute: u32::MAX,
                        },
                        ..ControllerConfig::default()
                    },
                    ..PlatformOptions::default()
                };
                let platform = match Platform::start(&data_dir, options).await {
                    Ok(platform) => platform,
                    Err(error) => {
                        ready_tx.send(Err(error.to_string())).unwrap();
                        return;
                    }
                };
                let guest = platform.guest().unwrap().credentials.clone();
                ready_tx.send(Ok((platform.url(), guest))).unwrap();
                let _ = stop_rx.await;
                platform.handle().stop(false).await;
                let _ = platform.wait().await;
            });
        });
        match ready_rx.recv().unwrap() {
            Ok((url, guest)) => Some(Server {
                url,
                authorization: format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(&guest)
                ),
                stop: Some(stop_tx),
                thread: Some(thread),
                _dir: dir,
            }),
            Err(error) => {
                println!("platform not started: {error}");
                let _ = thread.join();
                None
            }
        }
    }

    fn deploy(&self, body: &str) {
        let status = ureq::post(&format!("{}/system/functions", self.url))
            .set("Authorization", &self.authorization)
            .send_string(body)
            .unwrap()
            .status();
        assert!(matches!(status, 200 | 202));
    }

    fn replicas(&self, name: &str) -> u64 {
        let text = ureq::get(&format!("{}/system/function/{name}", self.url))
            .set("Authorization", &self.authorization)
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        let status: serde_json::Value = serde_json::from_str(&text).unwrap();
        status["replicas"].as_u64().unwrap_or(0)
    }

    /// Scales `name` to zero, waits until it has no replica, then times one call.
    fn scale_from_zero(&self, name: &str) -> Duration {
        ureq::post(&format!("{}/system/scale-function/{name}", self.url))
            .set("Authorization", &self.authorization)
            .send_string(r#"{"replicas":0}"#)
            .unwrap();
        while self.replicas(name) > 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        let started = Instant::now();
        let body = ureq::post(&format!("{}/function/{name}", self.url))
            .send_bytes(b"cold")
            .unwrap()
            .into_string()
            .unwrap();
        let elapsed = started.elapsed();
        assert_eq!(body, "cold");
        elapsed
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn cold_runs(server: &Server, name: &str, runs: usize) -> Vec<Duration> {
    let mut samples: Vec<Duration> = (0..runs).map(|_| server.scale_from_zero(name)).collect();
    samples.sort();
    samples
}

fn print_cold(backend: &str, samples: &[Duration]) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "scale from zero, {backend}: {} calls, min {:.1} ms, p50 {:.1} ms, max {:.1} ms",
        samples.len(),
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1])
    );
}

/// Builds the OpenFaaS-style image (fprocess `cat`); false when dockerd does not answer.
fn build_image() -> bool {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let Ok(docker) = bridge::docker::connect().await else {
            return false;
        };
        let Ok(images) =
            bridge::docker::images::build_runtime_images(&docker, false, &|_| {}).await
        else {
            return false;
        };
        let dockerfile = format!(
            "FROM {}\nENV fprocess=\"cat\"\nCMD [\"sleep\", \"infinity\"]\n",
            images.base
        );
        bridge::docker::images::build_image_from_files(&docker, IMAGE, &dockerfile, &[], &|_| {})
            .await
            .is_ok()
    })
}

fn main() {
    let seconds: f64 = std::env::var("WHIRL_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let cold: usize = std::env::var("WHIRL_BENCH_COLD_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let server = Server::start(Backend::Process).unwrap();
    server.deploy(r#"{"service":"echo","envProcess":"cat"}"#);
    let url = server.url.clone();
    let authorization = server.authorization.clone();

    println!(
        "{:<32} {:>8} {:>9} {:>8} {:>8} {:>8}",
        "phase", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms"
    );
    let rounds: usize = std::env::var("WHIRL_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6)
        .max(1);
    let block = seconds / rounds as f64;
    let warm_up = Duration::from_millis(250);
    // One agent (one keep-alive connection) per client thread, shared by both routes for the
    // whole run: the routes are served by the same HTTP workers (see the module doc).
    let agents: Vec<ureq::Agent> = (0..8).map(|_| ureq::AgentBuilder::new().build()).collect();
    let agent_of = |next: &std::cell::Cell<usize>| {
        let agent = agents[next.get() % agents.len()].clone();
        next.set(next.get() + 1);
        agent
    };
    let openwhisk = |threads: usize| {
        let next = std::cell::Cell::new(0);
        run_after("OpenWhisk (blocking)", threads, warm_up, block, || {
            let agent = agent_of(&next);
            let url = format!("{url}/api/v1/namespaces/guest/actions/echo?blocking=true");
            let authorization = authorization.clone();
            move || {
                let body = agent
                    .post(&url)
                    .set("Authorization", &authorization)
                    .set("Content-Type", "application/json")
                    .send_string(r#"{"name":"bench"}"#)
                    .unwrap()
                    .into_string()
                    .unwrap();
                assert!(body.contains("\"success\":true"), "{body}");
            }
        })
    };
    let openfaas = |threads: usize| {
        let next = std::cell::Cell::new(0);
        run_after("OpenFaaS /function/echo", threads, warm_up, block, || {
            let agent = agent_of(&next);
            let url = format!("{url}/function/echo");
            move || {
                let body = agent
                    .post(&url)
                    .set("Content-Type", "text/plain")
                    .send_string(r#"{"name":"bench"}"#)
                    .unwrap()
                    .into_string()
                    .unwrap();
                assert_eq!(body, r#"{"name":"bench"}"#);
            }
        })
    };
    let mut summary = Vec::new();
    for threads in [1usize, 8] {
        let (mut whisk_blocks, mut faas_blocks) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            if round % 2 == 0 {
                whisk_blocks.push(openwhisk(threads));
                faas_blocks.push(openfaas(threads));
            } else {
                faas_blocks.push(openfaas(threads));
                whisk_blocks.push(openwhisk(threads));
            }
        }
        let whisk = Phase::merge(format!("OpenWhisk (blocking), c={threads}"), whisk_blocks);
        let faas = Phase::merge(format!("OpenFaaS /function/echo, c={threads}"), faas_blocks);
        whisk.print();
        faas.print();
        summary.push((threads, whisk, faas));
    }
    println!();
    for (threads, whisk, faas) in &summary {
        println!(
            "c={threads}: OpenFaaS / OpenWhisk p50 {:.3} ({:.3} vs {:.3} ms), throughput {:.3} ({:.0} vs {:.0}/s)",
            faas.at(0.5) / whisk.at(0.5),
            faas.at(0.5),
            whisk.at(0.5),
            faas.rate() / whisk.rate(),
            faas.rate(),
            whisk.rate()
        );
    }
    println!();
    let samples = cold_runs(&server, "echo", cold);
    print_cold("process backend (exec)", &samples);
    drop(server);

    if !build_image() {
        println!("scale from zero, Docker backend: skipped (dockerd does not answer)");
        return;
    }
    let Some(docker) = Server::start(Backend::Docker {
        default_network: bridge::NetworkAccess::Egress,
    }) else {
        return;
    };
    docker.deploy(&format!(r#"{{"service":"cat","image":"{IMAGE}"}}"#));
    let samples = cold_runs(&docker, "cat", cold);
    print_cold("Docker backend (fprocess image)", &samples);
}
