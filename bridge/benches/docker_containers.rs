//! The Docker driver's container paths (issue 6), each against a baseline measured in the same
//! run:
//! - cold start (create + start + init + first run through the driver) against a bare
//!   container of the same image: create + start through the same Docker API, then the
//!   launcher's start acknowledgement, init and first run over its socket, with nothing of
//!   Whirl's in between; the bare container runs once on Docker's default bridge network (what
//!   `docker run` does) and once on the network the driver's container is on (`whirl-egress`,
//!   a user-defined network, which costs more to join);
//! - the first call on a prewarmed stem cell (init + run);
//! - a call on a paused container (unpause + run);
//! - warm runs, against warm runs through the process driver.
//!
//! Run: `cargo bench -p bridge --bench docker_containers` (needs dockerd and the runtime images:
//! `whirl images build`). WHIRL_BENCH_RUNS overrides the warm run count (default 300); cold
//! paths run WHIRL_BENCH_COLD times (default 10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder, StartContainerOptions,
};
use bridge::docker::{DockerDriver, DockerDriverConfig, RuntimeImages};
use bridge::{
    ActionLimits, ContainerDriver, ContainerSpec, InitRequest, ProcessDriver, ProcessDriverConfig,
    RunRequest, RuntimeKind,
};
use support::Summary;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;

const CODE: &str =
    "def main(args):\n    return {\"greeting\": \"Hello \" + args.get(\"name\", \"\")}\n";
const PARAMS: &str = r#"{"name":"bench"}"#;
const TIMEOUT: Duration = Duration::from_secs(30);

fn init_request() -> InitRequest {
    InitRequest {
        name: "/guest/bench".into(),
        main: "main".into(),
        code: CODE.into(),
        binary: false,
        env: BTreeMap::new(),
        limits: ActionLimits::default(),
    }
}

fn run_request(n: usize) -> RunRequest {
    RunRequest {
        params: PARAMS.into(),
        activation_id: format!("bench{n}"),
        transaction_id: "t".into(),
        namespace: "guest".into(),
        action_name: "/guest/bench".into(),
        action_version: "0.0.1".into(),
        deadline_ms: 0,
        api_key: None,
        extra: BTreeMap::new(),
        http: None,
    }
}

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A bare container of the python image, as `docker run` would make it (no limits; Docker's
/// default bridge network, or `network`): create + start, then ack, init and one run over the
/// launcher's socket.
async fn bare_cold_start(
    docker: &bollard::Docker,
    image: &str,
    network: Option<&str>,
    dir: &Path,
    n: usize,
) -> Duration {
    let host_dir = dir.join(format!("bare{n}-{}", network.unwrap_or("default")));
    std::fs::create_dir_all(&host_dir).unwrap();
    let socket = host_dir.join("actionloop.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let name = format!(
        "whirl-bench-bare-{}-{}-{n}",
        std::process::id(),
        network.unwrap_or("default")
    );
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        env: Some(vec![
            "WHIRL_ACTIONLOOP_SOCKET=/.whirl/actionloop.sock".into(),
            "__OW_WAIT_FOR_ACK=true".into(),
        ]),
        host_config: Some(HostConfig {
            // Docker's defaults otherwise (no limits), on `network` (None: the default bridge).
            binds: Some(vec![format!("{}:/.whirl", host_dir.display())]),
            network_mode: network.map(str::to_owned),
            ..Default::default()
        }),
        ..Default::default()
    };
    let clock = Instant::now();
    docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(&name).build()),
            body,
        )
        .await
        .unwrap();
    docker
        .start_container(&name, None::<StartContainerOptions>)
        .await
        .unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let ack = lines.next_line().await.unwrap().unwrap();
    assert!(ack.contains("ok"));
    let init = serde_json::json!({"value": {"name": "bench", "main": "main", "code": CODE, "binary": false, "env": {}}});
    write
        .write_all(format!("{init}\n").as_bytes())
        .await
        .unwrap();
    let answer = lines.next_line().await.unwrap().unwrap();
    assert!(answer.contains("ok"), "{answer}");
    write
        .write_all(format!("{{\"value\":{PARAMS},\"activation_id\":\"b\"}}\n").as_bytes())
        .await
        .unwrap();
    let answer = lines.next_line().await.unwrap().unwrap();
    let elapsed = clock.elapsed();
    assert!(answer.contains("Hello bench"), "{answer}");
    docker
        .remove_container(
            &name,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await
        .unwrap();
    elapsed
}

async fn driver_cold_start(driver: &DockerDriver, n: usize) -> Duration {
    let clock = Instant::now();
    let id = driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    driver.init(&id, init_request(), TIMEOUT).await.unwrap();
    let out = driver.run(&id, run_request(n), TIMEOUT).await.unwrap();
    let elapsed = clock.elapsed();
    assert!(out.result.unwrap().contains("Hello bench"));
    driver.remove(&id).await.unwrap();
    elapsed
}

async fn prewarmed_first_call(driver: &DockerDriver, n: usize) -> Duration {
    let id = driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    let clock = Instant::now();
    driver.init(&id, init_request(), TIMEOUT).await.unwrap();
    let out = driver.run(&id, run_request(n), TIMEOUT).await.unwrap();
    let elapsed = clock.elapsed();
    assert!(out.result.unwrap().contains("Hello bench"));
    driver.remove(&id).await.unwrap();
    elapsed
}

async fn paused_call(driver: &DockerDriver, n: usize) -> Duration {
    let id = driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    driver.init(&id, init_request(), TIMEOUT).await.unwrap();
    driver.run(&id, run_request(n), TIMEOUT).await.unwrap();
    driver.pause(&id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let clock = Instant::now();
    driver.unpause(&id).await.unwrap();
    let out = driver.run(&id, run_request(n), TIMEOUT).await.unwrap();
    let elapsed = clock.elapsed();
    assert!(out.result.unwrap().contains("Hello bench"));
    driver.remove(&id).await.unwrap();
    elapsed
}

async fn warm_runs(driver: &dyn ContainerDriver, runs: usize) -> Vec<Duration> {
    let id = driver
        .create(ContainerSpec::runtime(RuntimeKind::Python3, 256))
        .await
        .unwrap();
    driver.init(&id, init_request(), TIMEOUT).await.unwrap();
    for n in 0..50 {
        driver.run(&id, run_request(n), TIMEOUT).await.unwrap();
    }
    let mut samples = Vec::with_capacity(runs);
    for n in 0..runs {
        let clock = Instant::now();
        let out = driver.run(&id, run_request(n), TIMEOUT).await.unwrap();
        samples.push(clock.elapsed());
        assert!(out.result.is_ok());
    }
    driver.remove(&id).await.unwrap();
    samples
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let cold = env_count("WHIRL_BENCH_COLD", 10);
        let runs = env_count("WHIRL_BENCH_RUNS", 300);
        let dir = tempfile::tempdir().unwrap();
        let docker = bridge::docker::connect().await.unwrap();
        let images: RuntimeImages = bridge::docker::images::runtime_images_if_built(&docker)
            .await
            .unwrap()
            .expect("build the runtime images first: whirl images build");
        let config = DockerDriverConfig::new(dir.path().join("driver"), "whirl-bench", "bench");
        let driver = DockerDriver::start(docker.clone(), config, images.clone())
            .await
            .unwrap();
        println!("docker containers: {cold} cold starts each, {runs} warm runs each");

        // Interleaved, so drift on a shared machine hits both alike.
        let (mut bare, mut bare_egress, mut whirl) = (Vec::new(), Vec::new(), Vec::new());
        for n in 0..cold {
            bare.push(bare_cold_start(&docker, &images.python3, None, dir.path(), n).await);
            let egress = Some("whirl-egress");
            bare_egress
                .push(bare_cold_start(&docker, &images.python3, egress, dir.path(), n).await);
            whirl.push(driver_cold_start(&driver, n).await);
        }
        let bare = Summary::of("bare container, default bridge network", &mut bare);
        let bare_egress = Summary::of("bare container, network whirl-egress", &mut bare_egress);
        let cold_whirl = Summary::of("cold start through the driver", &mut whirl);
        bare.print();
        bare_egress.print();
        cold_whirl.print();
        cold_whirl.print_ratio(&bare);
        cold_whirl.print_ratio(&bare_egress);

        let mut prewarmed = Vec::new();
        let mut paused = Vec::new();
        for n in 0..cold {
            prewarmed.push(prewarmed_first_call(&driver, n).await);
            paused.push(paused_call(&driver, n).await);
        }
        Summary::of("first call on a prewarmed stem cell", &mut prewarmed).print();
        Summary::of("call on a paused container", &mut paused).print();

        let mut process_config = ProcessDriverConfig::new(dir.path().join("process"));
        process_config.stem_cells.clear();
        let process = ProcessDriver::start(process_config).await.unwrap();
        let mut process_warm = warm_runs(&process, runs).await;
        let mut docker_warm = warm_runs(&driver, runs).await;
        let process_warm = Summary::of("warm run, process driver (baseline)", &mut process_warm);
        let docker_warm = Summary::of("warm run, docker driver", &mut docker_warm);
        process_warm.print();
        docker_warm.print();
        docker_warm.print_ratio(&process_warm);
    });
}
