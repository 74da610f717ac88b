//! Whirl over NATS against Whirl in one process, in the same run (issue 7's measures):
//! 1. a warm blocking invoke (HTTP, `?blocking=true&result=true`) through the in-process bus
//!    (`whirl serve`) and through NATS (`--role controller` + `--role invoker` processes and a
//!    nats-server): p50/p99 and their ratio;
//! 2. a trigger fired by a NATS publish → the action's record on `whirl.activations.*` (warm);
//! 3. throughput on a CPU-bound action with one invoker process, then two (each invoker offers
//!    one container slot, `--user-memory 256`, so the second invoker is the only added capacity).
//!
//! Run: `cargo bench --bench nats` (needs nats-server; about a minute). WHIRL_BENCH_RUNS sets the
//! latency samples (default 300), WHIRL_BENCH_SECONDS the throughput phases (default 8),
//! WHIRL_BENCH_WHIRL another `whirl` binary to run (for A/B against a copied build),
//! WHIRL_BENCH_CONTROLLER_ARGS more arguments for the NATS controller (space-separated, e.g.
//! `--no-queue-local-start`),
//! WHIRL_BENCH_LOG the Whirl processes' `RUST_LOG` (default `warn`; `debug` shows
//! each step with a timestamp) and WHIRL_BENCH_KEEP a directory that keeps the
//! processes' logs and data after the run (default: a temporary directory, removed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Removes the run's directory at the end unless WHIRL_BENCH_KEEP asked to keep it.
struct RemoveUnlessKept(std::path::PathBuf);

impl Drop for RemoveUnlessKept {
    fn drop(&mut self) {
        if std::env::var_os("WHIRL_BENCH_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            println!("(logs kept in {})", self.0.display());
        }
    }
}

struct Processes(Vec<Child>);

impl Drop for Processes {
    /// SIGTERM first, so a Whirl process removes its containers and runtime processes (a
    /// SIGKILL left the single server's stopped Python zygote behind), then SIGKILL after 5 s.
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for child in &mut self.0 {
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(program: &str, args: &[String], log: &Path) -> Child {
    let filter = std::env::var("WHIRL_BENCH_LOG").unwrap_or_else(|_| "warn".to_owned());
    Command::new(program)
        .args(args)
        .env("RUST_LOG", filter)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"))
}

fn wait_for_port(port: u16) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {port}");
}

/// A Whirl API: its URL and the guest key.
struct Api {
    base: String,
    auth: String,
}

impl Api {
    fn wait(data: &Path, port: u16) -> Api {
        for _ in 0..600 {
            if let Ok(key) = std::fs::read_to_string(data.join("guest.auth")) {
                let api = Api {
                    base: format!("http://127.0.0.1:{port}/api/v1/namespaces/_"),
                    auth: key.trim().to_owned(),
                };
                if ureq::get(&format!("http://127.0.0.1:{port}/api/v1"))
                    .call()
                    .is_ok()
                {
                    return api;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the API did not come up");
    }

    fn header(&self) -> String {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(&self.auth)
        )
    }

    fn send(&self, method: &str, path: &str, body: &serde_json::Value) -> (u16, String) {
        let response = ureq::request(method, &format!("{}{path}", self.base))
            .set("Authorization", &self.header())
            .set("Content-Type", "application/json")
            .send_string(&body.to_string());
        match response {
            Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        }
    }

    fn put_python(&self, name: &str, code: &str) {
        let (status, text) = self.send(
            "PUT",
            &format!("/actions/{name}?overwrite=true"),
            &serde_json::json!({"exec": {"kind": "python:3", "code": code}}),
        );
        assert_eq!(status, 200, "{text}");
    }

    /// Blocking invokes until one succeeds (an invoker has joined).
    fn until_served(&self, name: &str) {
        for _ in 0..300 {
            let (status, _) = self.send(
                "POST",
                &format!("/actions/{name}?blocking=true&result=true"),
                &serde_json::json!({}),
            );
            if status == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{name} was never served");
    }

    fn latencies(&self, name: &str, runs: u64) -> Vec<Duration> {
        let path = format!("/actions/{name}?blocking=true&result=true");
        for _ in 0..50 {
            self.send("POST", &path, &serde_json::json!({}));
        }
        (0..runs)
            .map(|_| {
                let clock = Instant::now();
                let (status, text) = self.send("POST", &path, &serde_json::json!({}));
                let elapsed = clock.elapsed();
                assert_eq!(status, 200, "{text}");
                elapsed
            })
            .collect()
    }

    /// Completed invocations per second with `clients` blocking clients.
    fn throughput(&self, name: &str, clients: usize, seconds: u64) -> f64 {
        let done = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = (0..clients)
            .map(|_| {
                let (done, stop) = (done.clone(), stop.clone());
                let api = Api {
                    base: self.base.clone(),
                    auth: self.auth.clone(),
                };
                let path = format!("/actions/{name}?blocking=true&result=true");
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let (status, _) = api.send("POST", &path, &serde_json::json!({}));
                        if status == 200 {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
        for thread in threads {
            thread.join().unwrap();
        }
        done.load(Ordering::Relaxed) as f64 / seconds as f64
    }
}

fn percentile(samples: &mut [Duration], q: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[index].as_secs_f64() * 1e3
}

fn report(name: &str, samples: &mut [Duration]) -> f64 {
    let p50 = percentile(samples, 0.5);
    let p99 = percentile(samples, 0.99);
    println!(
        "{name:<52} n={:<5} p50={p50:>7.3}ms p90={:>7.3}ms p99={p99:>7.3}ms",
        samples.len(),
        percentile(samples, 0.9)
    );
    p50
}

const NOOP: &str = "def main(args):\n    return {'ok': True}\n";
const CPU: &str = "def main(args):\n    total = 0\n    for i in range(400000):\n        total += i * i\n    return {'total': total}\n";

fn main() {
    let whirl = std::env::var("WHIRL_BENCH_WHIRL")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_whirl").to_owned());
    let whirl = whirl.as_str();
    let runs = env_count("WHIRL_BENCH_RUNS", 300);
    let seconds = env_count("WHIRL_BENCH_SECONDS", 8);
    let dir = match std::env::var("WHIRL_BENCH_KEEP") {
        Ok(keep) => {
            std::fs::create_dir_all(&keep).unwrap();
            tempfile::Builder::new()
                .prefix("nats-bench-")
                .tempdir_in(keep)
                .unwrap()
                .keep()
        }
        Err(_) => tempfile::tempdir().unwrap().keep(),
    };
    let _cleanup = RemoveUnlessKept(dir.clone());
    println!("whirl: {whirl}");
    println!("this machine: {}", bridge::IdlePolicy::read());
    println!("(process logs in {} while the bench runs)", dir.display());
    let mut processes = Processes(Vec::new());
    let limits = [
        "--invocations-per-minute".to_owned(),
        "1000000".to_owned(),
        "--concurrent-invocations".to_owned(),
        "1000".to_owned(),
        "--fires-per-minute".to_owned(),
        "1000000".to_owned(),
    ];

    // The in-process baseline.
    let single_port = free_port();
    let single_data = dir.join("single");
    let mut args = vec![
        "serve".to_owned(),
        "--data-dir".to_owned(),
        single_data.display().to_string(),
        "--listen".to_owned(),
        format!("127.0.0.1:{single_port}"),
    ];
    args.extend(limits.iter().cloned());
    processes
        .0
        .push(spawn(whirl, &args, &dir.join("single.log")));
    let single = Api::wait(&single_data, single_port);
    single.put_python("noop", NOOP);
    single.until_served("noop");

    // The NATS deployment: one nats-server, a controller and an invoker.
    let nats_port = free_port();
    processes.0.push(spawn(
        "nats-server",
        &[
            "-a".into(),
            "127.0.0.1".into(),
            "-p".into(),
            nats_port.to_string(),
            "--jetstream".into(),
            "--store_dir".into(),
            dir.join("jetstream").display().to_string(),
        ],
        &dir.join("nats.log"),
    ));
    wait_for_port(nats_port);
    let nats_url = format!("nats://127.0.0.1:{nats_port}");
    let controller_port = free_port();
    let controller_data = dir.join("controller");
    let mut args = vec![
        "serve".to_owned(),
        "--role".to_owned(),
        "controller".to_owned(),
        "--nats".to_owned(),
        nats_url.clone(),
        "--data-dir".to_owned(),
        controller_data.display().to_string(),
        "--listen".to_owned(),
        format!("127.0.0.1:{controller_port}"),
    ];
    args.extend(limits.iter().cloned());
    if let Ok(extra) = std::env::var("WHIRL_BENCH_CONTROLLER_ARGS") {
        args.extend(extra.split_whitespace().map(str::to_owned));
    }
    processes
        .0
        .push(spawn(whirl, &args, &dir.join("controller.log")));
    let invoker = |id: u32, memory: u32| -> Vec<String> {
        vec![
            "serve".to_owned(),
            "--role".to_owned(),
            "invoker".to_owned(),
            "--invoker-id".to_owned(),
            id.to_string(),
            "--nats".to_owned(),
            nats_url.clone(),
            "--user-memory".to_owned(),
            memory.to_string(),
            "--data-dir".to_owned(),
            dir.join(format!("invoker{id}")).display().to_string(),
        ]
    };
    processes
        .0
        .push(spawn(whirl, &invoker(0, 2048), &dir.join("invoker0.log")));
    let multi = Api::wait(&controller_data, controller_port);
    multi.put_python("noop", NOOP);
    multi.until_served("noop");

    println!("whirl over NATS vs in one process: {runs} warm blocking invokes each, concurrency 1");
    let mut in_process = Vec::new();
    let mut over_nats = Vec::new();
    // Interleaved in blocks, so drift hits both alike.
    for _ in 0..5 {
        in_process.extend(single.latencies("noop", runs / 5));
        over_nats.extend(multi.latencies("noop", runs / 5));
    }
    let base = report(
        "blocking invoke, in-process bus (baseline)",
        &mut in_process,
    );
    let nats = report(
        "blocking invoke over NATS (separate invoker)",
        &mut over_nats,
    );
    println!(
        "  ratio NATS / in-process: p50 {:.3}x, p99 {:.3}x",
        nats / base,
        percentile(&mut over_nats, 0.99) / percentile(&mut in_process, 0.99)
    );

    // Trigger fired by a NATS publish → the action's record.
    let (status, text) = multi.send("PUT", "/triggers/tick", &serde_json::json!({}));
    assert_eq!(status, 200, "{text}");
    let (status, text) = multi.send(
        "PUT",
        "/rules/tick-noop",
        &serde_json::json!({"trigger": "/_/tick", "action": "/_/noop"}),
    );
    assert_eq!(status, 200, "{text}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut fired = runtime.block_on(async {
        let client = async_nats::connect(&nats_url).await.unwrap();
        let mut records = client
            .subscribe("whirl.activations.guest.noop")
            .await
            .unwrap();
        client.flush().await.unwrap();
        // The first fire as a request, so a refusal shows.
        let answer = client
            .request("whirl.triggers.guest.tick", "{}".into())
            .await
            .unwrap();
        let answer = String::from_utf8_lossy(&answer.payload).into_owned();
        assert!(
            answer.contains("activationId"),
            "the fire was refused: {answer}"
        );
        tokio::time::timeout(Duration::from_secs(30), records.next())
            .await
            .expect("no record for the first fire")
            .unwrap();
        let mut samples = Vec::new();
        for n in 0..(runs + 50) {
            let clock = Instant::now();
            client
                .publish("whirl.triggers.guest.tick", "{}".into())
                .await
                .unwrap();
            client.flush().await.unwrap();
            tokio::time::timeout(Duration::from_secs(30), records.next())
                .await
                .unwrap_or_else(|_| panic!("no record for fire {n}"))
                .unwrap();
            if n >= 50 {
                samples.push(clock.elapsed());
            }
        }
        samples
    });
    report(
        "NATS publish on a trigger → action record (warm)",
        &mut fired,
    );

    // Throughput on a CPU-bound action: one invoker slot, then two.
    println!("throughput, CPU-bound action, 4 blocking clients, {seconds} s each");
    processes
        .0
        .push(spawn(whirl, &invoker(1, 256), &dir.join("invoker1.log")));
    // Invoker 0 leaves (its containers too); the deployment has one 256 MB slot, on invoker 1.
    if let Some(first) = processes.0.get_mut(3) {
        let _ = Command::new("kill")
            .args(["-TERM", &first.id().to_string()])
            .status();
        let _ = first.wait();
    }
    std::thread::sleep(Duration::from_secs(4));
    multi.put_python("cpu", CPU);
    multi.until_served("cpu");
    let one = multi.throughput("cpu", 4, seconds);
    processes
        .0
        .push(spawn(whirl, &invoker(2, 256), &dir.join("invoker2.log")));
    std::thread::sleep(Duration::from_secs(3));
    multi.throughput("cpu", 4, 2);
    let two = multi.throughput("cpu", 4, seconds);
    println!(
        "{:<52} {one:>8.1} invocations/s",
        "one invoker (one 256 MB slot)"
    );
    println!(
        "{:<52} {two:>8.1} invocations/s",
        "two invokers (one slot each)"
    );
    println!("  ratio two / one: {:.3}x", two / one);
}
