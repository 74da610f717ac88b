//! The Docker driver against the real dockerd the test command starts: runtime kinds over the
//! launcher socket, the `exec` kind and `fprocess` images with `docker exec`, blackbox images
//! over OpenWhisk's HTTP protocol, isolation as Docker reports it, pause and unpause, and the
//! failures of issue 6 (unknown image, out of memory, death mid-run and while idle).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use bollard::query_parameters::{InspectContainerOptions, KillContainerOptions};
use bridge::docker::images::{self, build_image_from_files, ContextFile};
use bridge::docker::{DockerDriver, DockerDriverConfig, RuntimeImages};
use bridge::{
    ActionLimits, ContainerDriver, ContainerImage, ContainerSpec, DriverError, InitRequest,
    Isolation, NetworkAccess, RunFailure, RunRequest, RuntimeKind,
};
use tokio::sync::OnceCell;

const TIMEOUT: Duration = Duration::from_secs(30);

static IMAGES: OnceCell<RuntimeImages> = OnceCell::const_new();

async fn runtime_images() -> RuntimeImages {
    IMAGES
        .get_or_init(|| async {
            let docker = bridge::docker::connect().await.expect("dockerd must run");
            images::build_runtime_images(&docker, false, &|_| {})
                .await
                .expect("runtime images")
        })
        .await
        .clone()
}

struct Harness {
    driver: DockerDriver,
    images: RuntimeImages,
    _dir: tempfile::TempDir,
}

async fn driver(invoker: &str) -> Harness {
    let images = runtime_images().await;
    let docker = bridge::docker::connect().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = DockerDriverConfig::new(dir.path().to_path_buf(), "whirl-test", invoker);
    let driver = DockerDriver::start(docker, config, images.clone())
        .await
        .unwrap();
    Harness {
        driver,
        images,
        _dir: dir,
    }
}

fn init_request(code: &str) -> InitRequest {
    InitRequest {
        name: "/guest/test".into(),
        main: "main".into(),
        code: code.into(),
        binary: false,
        env: BTreeMap::new(),
        limits: ActionLimits::default(),
    }
}

fn run_request(params: &str) -> RunRequest {
    RunRequest {
        params: params.into(),
        activation_id: format!("a{}", rand_suffix()),
        transaction_id: "t".into(),
        namespace: "guest".into(),
        action_name: "/guest/test".into(),
        action_version: "0.0.1".into(),
        deadline_ms: 0,
        api_key: None,
        extra: BTreeMap::new(),
        http: None,
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

async fn ready(h: &Harness, spec: ContainerSpec, code: &str) -> bridge::ContainerId {
    let id = h.driver.create(spec).await.unwrap();
    h.driver
        .init(&id, init_request(code), TIMEOUT)
        .await
        .unwrap();
    id
}

async fn run_ok(h: &Harness, id: &bridge::ContainerId, params: &str) -> (String, Vec<String>) {
    let out = h
        .driver
        .run(id, run_request(params), TIMEOUT)
        .await
        .unwrap();
    let logs = out.logs.iter().map(|l| l.to_string()).collect();
    (out.result.unwrap(), logs)
}

const PY_HELLO: &str = "import os\ndef main(args):\n    print('hello from python')\n    return {'greeting': 'Hello ' + args.get('name', 'stranger'), 'uid': os.getuid(), 'ns': os.environ.get('__OW_NAMESPACE')}\n";

#[tokio::test]
async fn python_runs_in_a_labelled_isolated_container_as_nobody() {
    let h = driver("py").await;
    let id = ready(
        &h,
        ContainerSpec::runtime(RuntimeKind::Python3, 128),
        PY_HELLO,
    )
    .await;
    let (result, logs) = run_ok(&h, &id, r#"{"name":"Ada"}"#).await;
    let value: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert_eq!(value["greeting"], "Hello Ada");
    assert_eq!(value["uid"], 65534);
    assert_eq!(value["ns"], "guest");
    assert!(
        logs.iter().any(|l| l.contains("stdout: hello from python")),
        "{logs:?}"
    );
    // A second run reuses the container.
    let (again, _) = run_ok(&h, &id, "{}").await;
    assert!(again.contains("Hello stranger"));

    let name = h.driver.docker_name(&id).unwrap();
    let inspected = h
        .driver
        .docker()
        .inspect_container(&name, None::<InspectContainerOptions>)
        .await
        .unwrap();
    let labels = inspected.config.unwrap().labels.unwrap();
    assert_eq!(labels["whirl.instance"], "whirl-test");
    assert_eq!(labels["whirl.invoker"], "py");
    let host = inspected.host_config.unwrap();
    assert_eq!(host.memory, Some(128 * 1024 * 1024));
    assert_eq!(host.memory_swap, Some(128 * 1024 * 1024));
    assert_eq!(host.cpu_shares, Some(512));
    assert_eq!(host.pids_limit, Some(1024));
    assert_eq!(host.cap_drop, Some(vec!["ALL".to_owned()]));
    assert_eq!(
        host.security_opt,
        Some(vec!["no-new-privileges".to_owned()])
    );
    let usage = h.driver.stats(&id).await.unwrap();
    assert_eq!(usage.memory_limit_bytes, 128 * 1024 * 1024);
    assert!(usage.memory_bytes > 0 && usage.pids >= 1, "{usage:?}");
    h.driver.remove(&id).await.unwrap();
    assert!(h.driver.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn nodejs_runs_concurrent_activations_in_one_container() {
    let h = driver("node").await;
    let id = h
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Nodejs20, 256))
        .await
        .unwrap();
    let mut init = init_request(
        "function main(args) { console.log('in ' + args.n); return new Promise(r => setTimeout(() => r({n: args.n}), 200)); }",
    );
    init.limits.concurrency = 4;
    h.driver.init(&id, init, TIMEOUT).await.unwrap();
    let started = std::time::Instant::now();
    let runs = (0..4).map(|n| {
        let driver = h.driver.clone();
        let id = id.clone();
        async move {
            driver
                .run(&id, run_request(&format!("{{\"n\":{n}}}")), TIMEOUT)
                .await
                .unwrap()
        }
    });
    let outputs = futures::future::join_all(runs).await;
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "ran one after another"
    );
    for (n, out) in outputs.iter().enumerate() {
        assert_eq!(out.result.as_deref().unwrap(), format!("{{\"n\":{n}}}"));
        assert!(
            out.logs.iter().any(|l| l.message == format!("in {n}")),
            "{:?}",
            out.logs
        );
    }
}

#[tokio::test]
async fn exec_kind_runs_the_command_per_request_with_watchdog_semantics() {
    let h = driver("exec").await;
    let id = ready(&h, ContainerSpec::runtime(RuntimeKind::Exec, 128), "wc -c").await;
    let (result, _) = run_ok(&h, &id, r#"{"abc":1}"#).await;
    assert_eq!(result.trim(), "9");

    let failing = ready(
        &h,
        ContainerSpec::runtime(RuntimeKind::Exec, 128),
        "ls /nonexistent",
    )
    .await;
    let out = h
        .driver
        .run(&failing, run_request("{}"), TIMEOUT)
        .await
        .unwrap();
    match out.result {
        Err(RunFailure::ExitStatus { code, output }) => {
            assert_eq!(code, Some(2));
            assert!(output.contains("nonexistent"), "{output}");
        }
        other => panic!("expected an exit status, got {other:?}"),
    }

    let slow = ready(
        &h,
        ContainerSpec::runtime(RuntimeKind::Exec, 128),
        "sleep 30",
    )
    .await;
    let started = std::time::Instant::now();
    let out = h
        .driver
        .run(&slow, run_request("{}"), Duration::from_millis(500))
        .await
        .unwrap();
    assert!(
        matches!(out.result, Err(RunFailure::Timeout { .. })),
        "{:?}",
        out.result
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

const OPENWHISK_SERVER: &str = r#"
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])) or b'{}')
        if self.path == '/init':
            answer = {'ok': True}
        else:
            print('blackbox ran', flush=True)
            answer = {'echo': body.get('value'), 'activation': body.get('activation_id')}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
HTTPServer(('0.0.0.0', 8080), Handler).serve_forever()
"#;

async fn test_image(
    images: &RuntimeImages,
    tag: &str,
    dockerfile_tail: &str,
    files: &[ContextFile],
) {
    let docker = bridge::docker::connect().await.unwrap();
    let dockerfile = format!("FROM {}\n{dockerfile_tail}", images.base);
    build_image_from_files(&docker, tag, &dockerfile, files, &|_| {})
        .await
        .unwrap();
}

/// Builds `whirl-test-openwhisk-server:1`, a blackbox image serving OpenWhisk's protocol.
async fn openwhisk_server_image(images: &RuntimeImages) {
    test_image(
        images,
        "whirl-test-openwhisk-server:1",
        "COPY server.py /server.py\nCMD [\"python3\", \"/server.py\"]\n",
        &[ContextFile {
            path: "server.py".into(),
            mode: 0o644,
            contents: OPENWHISK_SERVER.as_bytes().to_vec(),
        }],
    )
    .await;
}

#[tokio::test]
async fn blackbox_images_speak_openwhisk_http_and_fprocess_images_run_their_command() {
    let h = driver("blackbox").await;
    openwhisk_server_image(&h.images).await;
    let spec = ContainerSpec {
        image: ContainerImage::Blackbox("whirl-test-openwhisk-server:1".into()),
        ..ContainerSpec::runtime(RuntimeKind::Python3, 128)
    };
    let id = ready(&h, spec.clone(), "").await;
    let out = h
        .driver
        .run(&id, run_request(r#"{"x":42}"#), TIMEOUT)
        .await
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(out.result.as_ref().unwrap()).unwrap();
    assert_eq!(value["echo"]["x"], 42);
    // A blackbox image writes no sentinels: the run keeps the lines that arrived up to a short
    // grace after the answer. A line docker delivers later (a loaded machine) is not lost: it
    // goes with the container's next activation.
    let mut logs = out.logs;
    if !logs.iter().any(|l| l.message == "blackbox ran") {
        let next = h
            .driver
            .run(&id, run_request(r#"{"x":43}"#), TIMEOUT)
            .await
            .unwrap();
        logs.extend(next.logs);
    }
    assert!(logs.iter().any(|l| l.message == "blackbox ran"), "{logs:?}");

    // Without a network, the invoker still reaches port 8080 over the internal network.
    let isolated = ContainerSpec {
        isolation: Isolation {
            network: Some(NetworkAccess::None),
            read_only_root: true,
        },
        ..spec
    };
    let id = ready(&h, isolated, "").await;
    let out = h
        .driver
        .run(&id, run_request(r#"{"x":1}"#), TIMEOUT)
        .await
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&out.result.unwrap()).unwrap();
    assert_eq!(value["echo"]["x"], 1);

    test_image(
        &h.images,
        "whirl-test-fprocess:1",
        "ENV fprocess=\"wc -c\"\nCMD [\"sleep\", \"infinity\"]\n",
        &[],
    )
    .await;
    let spec = ContainerSpec {
        image: ContainerImage::Blackbox("whirl-test-fprocess:1".into()),
        ..ContainerSpec::runtime(RuntimeKind::Python3, 128)
    };
    let id = ready(&h, spec, "").await;
    let (result, _) = run_ok(&h, &id, "12345").await;
    assert_eq!(result.trim(), "5");
}

#[tokio::test]
async fn containers_with_egress_cannot_reach_one_another() {
    let h = driver("icc").await;
    openwhisk_server_image(&h.images).await;
    let server = ready(
        &h,
        ContainerSpec {
            image: ContainerImage::Blackbox("whirl-test-openwhisk-server:1".into()),
            ..ContainerSpec::runtime(RuntimeKind::Python3, 128)
        },
        "",
    )
    .await;
    let name = h.driver.docker_name(&server).unwrap();
    let networks = h
        .driver
        .docker()
        .inspect_container(&name, None::<InspectContainerOptions>)
        .await
        .unwrap()
        .network_settings
        .unwrap()
        .networks
        .unwrap();
    let ip = networks
        .values()
        .find_map(|e| e.ip_address.clone())
        .unwrap();
    // The invoker (the host) reaches the server ...
    run_ok(&h, &server, "{}").await;
    // ... another action's container does not.
    let probe = "import socket\ndef main(args):\n    try:\n        socket.create_connection((args['ip'], 8080), timeout=1).close()\n        return {'reached': True}\n    except OSError as e:\n        return {'reached': False, 'why': str(e)}\n";
    let id = ready(&h, ContainerSpec::runtime(RuntimeKind::Python3, 128), probe).await;
    let (result, _) = run_ok(&h, &id, &format!("{{\"ip\":\"{ip}\"}}")).await;
    let value: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert_eq!(value["reached"], false, "{value}");
}

#[tokio::test]
async fn container_creation_is_bounded() {
    let images = runtime_images().await;
    let docker = bridge::docker::connect().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = DockerDriverConfig::new(dir.path().to_path_buf(), "whirl-test", "bounded");
    config.max_parallel_creates = 1;
    let driver = DockerDriver::start(docker, config, images.clone())
        .await
        .unwrap();
    // A server that takes a second to open its port: a creation holds its slot that long.
    let slow_server = format!("import time\ntime.sleep(1)\n{OPENWHISK_SERVER}");
    test_image(
        &images,
        "whirl-test-slow-server:1",
        "COPY server.py /server.py\nCMD [\"python3\", \"/server.py\"]\n",
        &[ContextFile {
            path: "server.py".into(),
            mode: 0o644,
            contents: slow_server.into_bytes(),
        }],
    )
    .await;
    let spec = ContainerSpec {
        image: ContainerImage::Blackbox("whirl-test-slow-server:1".into()),
        ..ContainerSpec::runtime(RuntimeKind::Python3, 128)
    };
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(driver.create(spec.clone()), driver.create(spec));
    let both = started.elapsed();
    assert!(
        both >= Duration::from_millis(1_900),
        "two creations overlapped ({both:?}) with one slot"
    );
    driver.remove(&a.unwrap()).await.unwrap();
    driver.remove(&b.unwrap()).await.unwrap();
}

#[tokio::test]
async fn an_unknown_image_is_a_developer_error_naming_it() {
    let h = driver("unknown").await;
    let spec = ContainerSpec {
        image: ContainerImage::Blackbox("no-such-image-anywhere:7".into()),
        ..ContainerSpec::runtime(RuntimeKind::Python3, 128)
    };
    let err = h.driver.create(spec).await.unwrap_err();
    assert!(err.is_developer_error(), "{err:?}");
    assert!(
        err.to_string().contains("no-such-image-anywhere:7"),
        "{err}"
    );
}

#[tokio::test]
async fn out_of_memory_and_death_mid_run_end_the_run_and_the_container() {
    let h = driver("failures").await;
    let hog = "def main(args):\n    blocks = []\n    while True:\n        blocks.append(bytearray(16 * 1024 * 1024))\n";
    let id = ready(&h, ContainerSpec::runtime(RuntimeKind::Python3, 64), hog).await;
    let out = h.driver.run(&id, run_request("{}"), TIMEOUT).await.unwrap();
    assert_eq!(out.result, Err(RunFailure::OutOfMemory));

    let dies = "import os\ndef main(args):\n    os._exit(3)\n";
    let id = ready(&h, ContainerSpec::runtime(RuntimeKind::Python3, 128), dies).await;
    let out = h.driver.run(&id, run_request("{}"), TIMEOUT).await.unwrap();
    assert!(
        matches!(out.result, Err(RunFailure::Crashed { .. })),
        "{:?}",
        out.result
    );
    assert!(matches!(
        h.driver.run(&id, run_request("{}"), TIMEOUT).await,
        Err(DriverError::UnknownContainer(_))
    ));

    let slow = "import time\ndef main(args):\n    time.sleep(30)\n";
    let id = ready(&h, ContainerSpec::runtime(RuntimeKind::Python3, 128), slow).await;
    let out = h
        .driver
        .run(&id, run_request("{}"), Duration::from_millis(300))
        .await
        .unwrap();
    assert!(matches!(out.result, Err(RunFailure::Timeout { .. })));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(h.driver.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn pause_unpause_and_a_container_killed_while_idle_is_replaced() {
    let h = driver("pause").await;
    let id = ready(
        &h,
        ContainerSpec::runtime(RuntimeKind::Python3, 128),
        PY_HELLO,
    )
    .await;
    h.driver.pause(&id).await.unwrap();
    let name = h.driver.docker_name(&id).unwrap();
    let state = h
        .driver
        .docker()
        .inspect_container(&name, None::<InspectContainerOptions>)
        .await
        .unwrap()
        .state
        .unwrap();
    assert!(
        state.paused == Some(true) || frozen(state.pid.unwrap()),
        "neither Docker nor the cgroup freezer holds the container"
    );
    h.driver.unpause(&id).await.unwrap();
    let (result, _) = run_ok(&h, &id, r#"{"name":"again"}"#).await;
    assert!(result.contains("Hello again"));

    // Killed behind the driver's back (as when dockerd restarts): the next run still works.
    h.driver
        .docker()
        .kill_container(&name, None::<KillContainerOptions>)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (result, _) = run_ok(&h, &id, r#"{"name":"replaced"}"#).await;
    assert!(result.contains("Hello replaced"));
    assert_ne!(h.driver.docker_name(&id).unwrap(), name);
}

/// Whether the cgroup freezer of process `pid` is frozen (cgroup v1 or v2).
fn frozen(pid: i64) -> bool {
    let table = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    table.lines().any(|line| {
        let parts: Vec<&str> = line.splitn(3, ':').collect();
        let path = parts[2].trim_start_matches('/');
        if parts[1].split(',').any(|c| c == "freezer") {
            std::fs::read_to_string(format!("/sys/fs/cgroup/freezer/{path}/freezer.state"))
                .is_ok_and(|state| state.trim() == "FROZEN")
        } else if parts[1].is_empty() {
            std::fs::read_to_string(format!("/sys/fs/cgroup/{path}/cgroup.freeze"))
                .is_ok_and(|state| state.trim() == "1")
        } else {
            false
        }
    })
}

#[tokio::test]
async fn network_none_has_only_loopback_and_read_only_root_keeps_tmp_writable() {
    let h = driver("isolation").await;
    let probe = "import socket, os\ndef main(args):\n    names = sorted(n for _, n in socket.if_nameindex())\n    try:\n        open('/opt/x', 'w').write('x')\n        root = 'writable'\n    except OSError:\n        root = 'read-only'\n    open('/tmp/x', 'w').write('x')\n    return {'interfaces': names, 'root': root}\n";
    let isolated = ContainerSpec {
        isolation: Isolation {
            network: Some(NetworkAccess::None),
            read_only_root: true,
        },
        ..ContainerSpec::runtime(RuntimeKind::Python3, 128)
    };
    let id = ready(&h, isolated, probe).await;
    let (result, _) = run_ok(&h, &id, "{}").await;
    let value: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert_eq!(value["interfaces"], serde_json::json!(["lo"]));
    assert_eq!(value["root"], "read-only");

    let id = ready(&h, ContainerSpec::runtime(RuntimeKind::Python3, 128), probe).await;
    let (result, _) = run_ok(&h, &id, "{}").await;
    let value: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert_eq!(value["interfaces"], serde_json::json!(["eth0", "lo"]));
}

#[tokio::test]
async fn a_restarted_driver_removes_what_its_predecessor_left() {
    let first = driver("leftovers").await;
    let id = first
        .driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 128))
        .await
        .unwrap();
    let name = first.driver.docker_name(&id).unwrap();
    let second = driver("leftovers").await;
    let gone = second
        .driver
        .docker()
        .inspect_container(&name, None::<InspectContainerOptions>)
        .await;
    assert!(gone.is_err(), "the leftover container still exists");
    assert!(first.driver.list().await.unwrap().is_empty());
}
