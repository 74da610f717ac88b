//! Whirl across processes over a real NATS cluster: a 3-node nats-server cluster with JetStream on
//! loopback ports, one controller and three invokers as separate `whirl serve` processes. Under
//! load an invoker is killed with SIGKILL, then the controller (restarted on its log), then a NATS
//! node; every accepted invocation must end with exactly one activation record (read back from the
//! controller's log), every accepted non-blocking one (carried by JetStream) must have run
//! successfully despite the crashes, and the load must go on succeeding on the survivors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ACTIONS: usize = 6;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Children killed when dropped.
struct Processes(Vec<(String, Child)>);

impl Processes {
    fn kill(&mut self, name: &str) {
        let (_, child) = self.0.iter_mut().find(|(n, _)| n == name).unwrap();
        // SIGKILL: no goodbye on the bus, no clean shutdown.
        child.kill().unwrap();
        child.wait().unwrap();
    }

    fn terminate(&mut self, name: &str) {
        let (_, child) = self.0.iter_mut().find(|(n, _)| n == name).unwrap();
        let pid = child.id();
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "{name} did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The scratch directory, kept (with every process's log) when the test fails.
struct KeptOnFailure(Option<tempfile::TempDir>);

impl KeptOnFailure {
    fn path(&self) -> &Path {
        self.0
            .as_ref()
            .map(|dir| dir.path())
            .unwrap_or(Path::new("/"))
    }
}

impl Drop for KeptOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(dir) = self.0.take() {
                let kept = dir.keep();
                eprintln!("multinode: kept the logs in {}", kept.display());
            }
        }
    }
}

fn spawn(dir: &Path, name: &str, program: &str, args: &[String]) -> (String, Child) {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let child = Command::new(program)
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    (name.to_owned(), child)
}

fn post(url: &str, auth: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    send("POST", url, auth, body)
}

fn put(url: &str, auth: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    send("PUT", url, auth, body)
}

fn send(method: &str, url: &str, auth: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let (user, password) = auth.split_once(':').unwrap();
    let header = format!(
        "Basic {}",
        base64_encode(format!("{user}:{password}").as_bytes())
    );
    let response = ureq::request(method, url)
        .timeout(Duration::from_secs(30))
        .set("Authorization", &header)
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    let read = |response: ureq::Response| -> serde_json::Value {
        response
            .into_string()
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    };
    match response {
        Ok(response) => (response.status(), read(response)),
        Err(ureq::Error::Status(status, response)) => (status, read(response)),
        Err(error) => (0, serde_json::json!({"transport": error.to_string()})),
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn every_accepted_invocation_ends_with_one_record_when_an_invoker_and_a_nats_node_die() {
    let whirl = env!("CARGO_BIN_EXE_whirl");
    let dir = tempfile::tempdir().unwrap();
    eprintln!("multinode: logs in {}", dir.path().display());
    let dir = KeptOnFailure(Some(dir));
    let mut processes = Processes(Vec::new());

    // A 3-node NATS cluster.
    let client_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let route_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    for node in 0..3 {
        let routes: Vec<String> = (0..3)
            .filter(|other| *other != node)
            .map(|other| format!("nats://127.0.0.1:{}", route_ports[other]))
            .collect();
        let args = vec![
            "-a".into(),
            "127.0.0.1".into(),
            "-p".into(),
            client_ports[node].to_string(),
            "-n".into(),
            format!("nats{node}"),
            "--jetstream".into(),
            "--store_dir".into(),
            dir.path()
                .join(format!("jetstream{node}"))
                .display()
                .to_string(),
            "--cluster_name".into(),
            "whirl".into(),
            "--cluster".into(),
            format!("nats://127.0.0.1:{}", route_ports[node]),
            "--routes".into(),
            routes.join(","),
        ];
        processes.0.push(spawn(
            dir.path(),
            &format!("nats{node}"),
            "nats-server",
            &args,
        ));
    }
    let servers = |first: usize| -> String {
        (0..3)
            .map(|i| format!("nats://127.0.0.1:{}", client_ports[(first + i) % 3]))
            .collect::<Vec<_>>()
            .join(",")
    };

    // One controller, three invokers, each a process of its own.
    let api_port = free_port();
    let data = dir.path().join("controller");
    let controller_args = vec![
        "serve".into(),
        "--role".into(),
        "controller".into(),
        "--nats".into(),
        servers(0),
        "--data-dir".into(),
        data.display().to_string(),
        "--listen".into(),
        format!("127.0.0.1:{api_port}"),
        "--completion-grace-ms".into(),
        "3000".into(),
        // The queue of non-blocking invocations survives the loss of a NATS node; a crashed
        // controller's deliveries come back after 3 s.
        "--jetstream-replicas".into(),
        "3".into(),
        "--queue-ack-wait-ms".into(),
        "3000".into(),
        // OpenWhisk's default limits (60 a minute) would throttle the load.
        "--invocations-per-minute".into(),
        "100000".into(),
        "--concurrent-invocations".into(),
        "1000".into(),
    ];
    processes.0.push(spawn(
        dir.path(),
        "controller",
        whirl,
        &controller_args.clone(),
    ));
    for invoker in 0..3 {
        let args = vec![
            "serve".into(),
            "--role".into(),
            "invoker".into(),
            "--invoker-id".into(),
            invoker.to_string(),
            "--nats".into(),
            servers(invoker),
            "--data-dir".into(),
            dir.path()
                .join(format!("invoker{invoker}"))
                .display()
                .to_string(),
        ];
        processes.0.push(spawn(
            dir.path(),
            &format!("invoker{invoker}"),
            whirl,
            &args,
        ));
    }

    let api = format!("http://127.0.0.1:{api_port}/api/v1/namespaces/_");
    let deadline = Instant::now() + Duration::from_secs(60);
    let auth = loop {
        assert!(Instant::now() < deadline, "the controller did not come up");
        if let Ok(key) = std::fs::read_to_string(data.join("guest.auth")) {
            let key = key.trim().to_owned();
            // Six actions, so that every invoker is some action's home invoker; each run takes
            // long enough for a kill to catch activations in the middle.
            let created = (0..ACTIONS).all(|action| {
                let (status, _) = put(
                    &format!("{api}/actions/echo{action}?overwrite=true"),
                    &key,
                    &serde_json::json!({
                        "exec": {"kind": "python:3", "code": "import time\ndef main(a):\n    time.sleep(0.2)\n    return {'n': a.get('n')}\n"},
                        "limits": {"timeout": 5000}
                    }),
                );
                status == 200
            });
            if created {
                break key;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // Every invoker announced itself and serves.
    let warm_deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = post(
            &format!("{api}/actions/echo0?blocking=true&result=true"),
            &auth,
            &serde_json::json!({"n": -1}),
        );
        if status == 200 {
            break;
        }
        assert!(Instant::now() < warm_deadline, "no invoker served");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));

    // Load: blocking and non-blocking invocations from eight clients.
    // (activation id, blocking)
    let accepted: Arc<Mutex<Vec<(String, bool)>>> = Arc::new(Mutex::new(Vec::new()));
    let succeeded_late = Arc::new(Mutex::new(0u32));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let clients: Vec<_> = (0..8)
        .map(|client| {
            let accepted = accepted.clone();
            let succeeded_late = succeeded_late.clone();
            let stop = stop.clone();
            let api = api.clone();
            let auth = auth.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    // Six blocking clients and two non-blocking ones (paced, so the load stays
                    // within what two cores run).
                    let blocking = client < 6;
                    let action = (client + n as usize) % ACTIONS;
                    let url = if blocking {
                        format!("{api}/actions/echo{action}?blocking=true")
                    } else {
                        format!("{api}/actions/echo{action}")
                    };
                    let (status, body) = post(&url, &auth, &serde_json::json!({"n": n}));
                    if let Some(id) = body["activationId"].as_str() {
                        accepted.lock().unwrap().push((id.to_owned(), blocking));
                    }
                    let late = started.elapsed() > Duration::from_secs(16);
                    if late && status == 200 && body["response"]["status"] == "success" {
                        *succeeded_late.lock().unwrap() += 1;
                    }
                    let pause = if blocking { 10 } else { 100 };
                    std::thread::sleep(Duration::from_millis(pause));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    processes.kill("invoker0");
    std::thread::sleep(Duration::from_secs(3));
    // The controller dies mid-load and comes back on its log; the non-blocking invocations it
    // had taken from JetStream come back to it after the ack wait.
    processes.kill("controller");
    processes.0.retain(|(name, _)| name != "controller");
    std::thread::sleep(Duration::from_millis(500));
    processes.0.push(spawn(
        dir.path(),
        "controller-restarted",
        whirl,
        &controller_args,
    ));
    std::thread::sleep(Duration::from_secs(4));
    // Then a NATS node (JetStream elects new leaders for the queue; publishes it cannot store
    // meanwhile are answered 503, not accepted).
    processes.kill("nats1");
    std::thread::sleep(Duration::from_secs(12));
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(accepted.len() > 50, "too little load: {}", accepted.len());
    assert!(
        *succeeded_late.lock().unwrap() > 0,
        "no invocation succeeded after the invoker, the controller and the NATS node died"
    );

    // Every accepted activation gets its record (lost ones after their time limit and grace).
    let records_deadline = Instant::now() + Duration::from_secs(60);
    for (id, _) in &accepted {
        loop {
            let response = ureq::get(&format!("{api}/activations/{id}"))
                .set(
                    "Authorization",
                    &format!("Basic {}", base64_encode(auth.as_bytes())),
                )
                .call();
            if response.is_ok() {
                break;
            }
            assert!(
                Instant::now() < records_deadline,
                "activation {id} never got a record"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    // Exactly one record each, read from the controller's log.
    processes.terminate("controller-restarted");
    let export = Command::new(whirl)
        .args(["log", "export", "--jsonl", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(export.status.success(), "{export:?}");
    let mut records: BTreeMap<String, u32> = BTreeMap::new();
    let mut statuses: BTreeMap<String, u32> = BTreeMap::new();
    let mut status_of: BTreeMap<String, String> = BTreeMap::new();
    for line in String::from_utf8_lossy(&export.stdout).lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let event = &value["event"];
        if let Some(doc) = event.get("ActivationRecorded") {
            let id = doc["activation_id"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| doc["activation_id"].to_string());
            *records.entry(id.clone()).or_default() += 1;
            *statuses.entry(doc["status"].to_string()).or_default() += 1;
            status_of.insert(id, doc["status"].to_string());
        }
    }
    eprintln!(
        "multinode: {} accepted, {} late successes, records by status {statuses:?}",
        accepted.len(),
        succeeded_late.lock().unwrap()
    );
    for (id, _) in &accepted {
        let count = records.get(id).copied().unwrap_or(0);
        assert_eq!(count, 1, "activation {id} has {count} records");
    }
    // JetStream carried the non-blocking ones through every crash: each ran, none was lost.
    let queued: Vec<&String> = accepted
        .iter()
        .filter(|(_, blocking)| !blocking)
        .map(|(id, _)| id)
        .collect();
    assert!(
        queued.len() > 10,
        "too few non-blocking invocations: {}",
        queued.len()
    );
    for id in queued {
        assert_eq!(
            status_of.get(id).map(String::as_str),
            Some("\"Success\""),
            "non-blocking activation {id} did not run successfully"
        );
    }
    let duplicates: Vec<_> = records.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "recorded twice: {duplicates:?}");
}

#[test]
fn a_controller_or_invoker_role_without_nats_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    for role in ["controller", "invoker"] {
        let out = Command::new(env!("CARGO_BIN_EXE_whirl"))
            .args(["serve", "--role", role, "--data-dir"])
            .arg(dir.path().join(role))
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "--role {role} without --nats started"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("needs --nats"), "{stderr}");
    }
}
